"""
Many root devices in one process, changed while running, without sockets:
the SSDP server's per-device messages (add, remove, change), its pacing and
its per-source budget at 100 devices; UPnPService's add, remove, replace
and setDevices, serialised; and the Reloader's re-reading of files (added,
removed, changed, unchanged, broken, and a reload during a pending change).
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path
from typing import Any

import pytest
from twisted.internet.task import Clock
from twisted.logger import formatEvent, globalLogPublisher

from upnp_announce import UPnPService
from upnp_announce.device.discovery import Advertised, SSDPServer
from upnp_announce.device.runner import HTTPBinding, base_for
from upnp_announce.netif import Adapter, InterfaceAddress
from upnp_announce.plugins.binarylight import BinaryLight
from upnp_announce.reload import ConfigSources, Reloader, clashes
from upnp_announce.settings import NetworkSettings
from upnp_announce.wire import ssdp
from upnp_announce.wire.ssdp import announcements

from support import FakePort, MemoryHTTP, example, request

UP = 0x1 | 0x1000
ETH0 = HTTPBinding(InterfaceAddress("eth0", "192.0.2.7", 24, 2), 8000)
SEARCHER = ("192.0.2.50", 50000)


def lights(n: int) -> list[Any]:
    return [BinaryLight().device(UDN=f"uuid:00000000-0000-4000-8000-{i:012d}",
                                 friendlyName=f"Light {i}") for i in range(n)]


def adv(device: Any, configId: int = 1) -> Advertised:
    return Advertised.of(device, configId, base_for(device) + "/description.xml")


class Recorder:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.sent: list[tuple[float, str, bytes, Any]] = []

    def sendUnicast(self, data: bytes, destination: Any, binding: Any) -> None:
        self.sent.append((self.clock.seconds(), "unicast", data, destination))

    def sendMulticast(self, data: bytes, binding: Any, group: str) -> None:
        self.sent.append((self.clock.seconds(), "multicast", data, binding.interface.name))

    def take(self) -> list[Any]:
        sent, self.sent = self.sent, []
        return sent


def server(clock: Clock, devices: list[Any], **kw: Any) -> tuple[SSDPServer, Recorder]:
    recorder = Recorder(clock)
    made = SSDPServer(devices=[adv(d) for d in devices], bindings=(ETH0,), sender=recorder,
                      clock=clock, rng=random.Random(1), bootId=7, **kw)
    return made, recorder


def search(st: str = "ssdp:all", mx: int = 3) -> ssdp.MSearch:
    return ssdp.MSearch({}, host=ssdp.MULTICAST_HOST, man='"ssdp:discover"', mx=mx, st=st)


def notices(sent: list[Any]) -> list[ssdp.Notify]:
    return [ssdp.parse(data) for _, kind, data, _ in sent if kind == "multicast"]  # type: ignore[misc]


# -- per-device messages ---------------------------------------------------------------


def test_an_added_device_sends_its_own_alive_set_twice_and_nothing_for_the_others() -> None:
    clock = Clock()
    first, second = lights(2)
    s, recorder = server(clock, [first])
    s.running = True
    s.addDevice(adv(second))
    clock.advance(0.5)
    messages = notices(recorder.take())
    assert {m.nts for m in messages} == {"ssdp:alive"}
    assert {m.usn.split("::")[0] for m in messages} == {second.UDN}
    assert len(messages) == 2 * len(announcements(second))
    assert {m.location for m in messages} == {
        f"http://192.0.2.7:8000/{second.UDN[5:]}/description.xml"
    }


def test_a_removed_device_says_byebye_twice_and_is_answered_no_more() -> None:
    clock = Clock()
    first, second = lights(2)
    s, recorder = server(clock, [first, second])
    s.running = True
    done: list[None] = []
    s.removeDevice(second.UDN).addCallback(done.append)
    assert done == []
    clock.advance(0.1)
    assert done == [None]
    messages = notices(recorder.take())
    assert [m.nts for m in messages] == ["ssdp:byebye"] * (2 * len(announcements(second)))
    assert {m.usn.split("::")[0] for m in messages} == {second.UDN}
    s.searchReceived(search(mx=1), SEARCHER)
    clock.advance(1.1)
    replies = [ssdp.parse(d) for _, kind, d, _ in recorder.take() if kind == "unicast"]
    assert {r.usn.split("::")[0] for r in replies} == {first.UDN}  # type: ignore[union-attr]


def test_a_changed_device_says_byebye_for_what_went_then_alive_with_its_new_configid() -> None:
    clock = Clock()
    [light] = lights(1)
    s, recorder = server(clock, [light])
    s.running = True
    # The new model announces a second service type and drops nothing else.
    old = adv(light, 1)
    new = Advertised(old.udn, old.path, 2, old.announcements[1:])
    s.changeDevice(new)
    clock.advance(0.5)
    messages = notices(recorder.take())
    byebye = [m for m in messages if m.nts == "ssdp:byebye"]
    alive = [m for m in messages if m.nts == "ssdp:alive"]
    assert [m.nt for m in byebye] == [old.announcements[0].nt]
    assert messages.index(byebye[-1]) < messages.index(alive[0])
    assert {m.header("configid.upnp.org") for m in alive} == {"2"}
    assert len(alive) == 2 * len(new.announcements)


def test_every_device_has_its_own_location_and_configid_in_replies() -> None:
    clock = Clock()
    devices = lights(3)
    s, recorder = server(clock, devices)
    s.running = True
    s.searchReceived(search("urn:schemas-upnp-org:device:BinaryLight:1", mx=1), SEARCHER)
    clock.advance(1.1)
    replies = [ssdp.parse(d) for _, _, d, _ in recorder.take()]
    assert sorted(r.location for r in replies) == sorted(  # type: ignore[union-attr]
        f"http://192.0.2.7:8000/{d.UDN[5:]}/description.xml" for d in devices
    )


# -- 100 devices: pacing and the budget ---------------------------------------------------


def test_a_hundred_devices_start_paced_20_per_10_ms_and_all_out_within_10_s() -> None:
    clock = Clock()
    devices = lights(100)
    s, recorder = server(clock, devices)
    s.start()
    clock.pump([0.001] * 10_000)
    sent = recorder.take()
    total = 2 * sum(len(announcements(d)) for d in devices)
    assert len(sent) == total
    assert max(t for t, *_ in sent) < 10
    times = sorted(t for t, *_ in sent)
    worst = max(
        sum(1 for u in times[i:i + 40] if u < t + 0.01 - 1e-9) for i, t in enumerate(times)
    )
    assert worst <= 20


def test_one_ssdp_all_from_a_quiet_source_is_answered_in_full_within_mx_spread_over_it() -> None:
    clock = Clock()
    devices = lights(100)
    s, recorder = server(clock, devices)
    s.running = True
    s.searchReceived(search("ssdp:all", mx=3), SEARCHER)
    clock.pump([0.01] * 310)
    times = [t for t, *_ in recorder.take()]
    assert len(times) == sum(len(announcements(d)) for d in devices)
    assert max(times) <= 3.01 and min(times) < 0.5 and sum(t > 2 for t in times) > 50
    # Quiet for 10 s: a whole answer again.
    clock.advance(10)
    s.searchReceived(search("ssdp:all", mx=1), SEARCHER)
    clock.pump([0.01] * 110)
    assert len(recorder.take()) == len(times)


def test_a_flood_from_one_source_gets_50_replies_a_second_and_is_not_amplified() -> None:
    clock = Clock()
    devices = lights(100)
    s, recorder = server(clock, devices)
    s.running = True
    # 1000 searches a second for 5 s (MX 0: each reply goes when granted).
    datagram = ssdp.msearch(st="ssdp:all", mx=0)
    for _ in range(5000):
        clock.advance(0.001)
        s.searchReceived(search("ssdp:all", mx=0), SEARCHER)
    clock.advance(0.1)
    sent = recorder.take()
    assert sum(len(data) for _, _, data, _ in sent) < 5000 * len(datagram)
    times = sorted(t for t, *_ in sent)
    first = times[0]
    # A whole answer at first, then never more than 50 in any 1 s window.
    assert sum(t == first for t in times) == sum(len(announcements(d)) for d in devices)
    later = [t for t in times if t >= first + 1]
    for i, t in enumerate(later):
        assert sum(1 for u in later[i:i + 60] if u < t + 1) <= 50

def test_the_budget_grants_at_most_50_a_second_after_a_whole_answer() -> None:
    from upnp_announce.device.limits import SearchBudget

    clock = Clock()
    budget = SearchBudget(clock, lambda: 400, rate=50, quiet=10)
    assert budget.take("a", 400) == 400
    granted = []
    for _ in range(40):
        clock.advance(0.1)
        granted.append(budget.take("a", 400))
    per_second = [sum(granted[i:i + 10]) for i in range(0, 40, 10)]
    assert all(n == 50 for n in per_second), per_second
    clock.advance(10)
    assert budget.take("a", 400) == 400
    assert budget.take("b", 400) == 400  # another source has its own


def test_a_grant_counts_until_its_last_reply_can_have_left() -> None:
    from upnp_announce.device.limits import SearchBudget

    clock = Clock()
    budget = SearchBudget(clock, lambda: 400, rate=50, quiet=10)
    assert budget.take("a", 400, "ssdp:all") == 400
    # Replies spread over an MX of 3: the next 50 only once they are out
    # and a second has passed (and the pacing's slack).
    assert budget.take("a", 400, "ssdp:all", spread=3.0) == 50
    clock.advance(4.0)
    assert budget.take("a", 400, "ssdp:all") == 0
    clock.advance(SearchBudget.SLACK + 0.01)
    assert budget.take("a", 400, "ssdp:all") == 50
    # Grants of different spreads expire each in its turn.
    clock.advance(1.1)
    assert budget.take("a", 20, "ssdp:all", spread=2.0) == 20
    assert budget.take("a", 400, "ssdp:all") == 30
    clock.advance(1.1)
    assert budget.take("a", 400, "ssdp:all") == 30  # the 20 still count
    clock.advance(0.1)
    assert budget.take("a", 400, "ssdp:all") == 0
    clock.advance(1.0)
    assert budget.take("a", 400, "ssdp:all") == 30  # the 30 are done; the 20 still count


def test_the_budget_table_is_bounded() -> None:
    from upnp_announce.device.limits import SearchBudget

    clock = Clock()
    budget = SearchBudget(clock, lambda: 10, rate=5, quiet=10, sources=3)
    for n in range(10):
        budget.take(f"192.0.2.{n}", 10)
    assert len(budget._sources) <= 4  # three sources and the shared bucket


# -- UPnPService: add, remove, replace, set -----------------------------------------------


class Rig:
    def __init__(self, *devices: Any, single: Any = None) -> None:
        from twisted.internet.testing import MemoryReactorClock

        self.reactor = MemoryReactorClock()
        self.reactor.advance(1_700_000_000)
        self.service = UPnPService(
            single, NetworkSettings(httpPort=8000), devices=list(devices),
            reactor=self.reactor,
            adapters=lambda: [Adapter("eth0", UP, (("192.0.2.7", 24),), 2)],
            rng=random.Random(1), changes=None, makeSSDPPort=FakePort,
        )
        self.logged: list[str] = []
        globalLogPublisher.addObserver(self._log)

    def _log(self, event: dict[str, Any]) -> None:
        self.logged.append(formatEvent(event))

    def close(self) -> None:
        globalLogPublisher.removeObserver(self._log)
        if self.service.running:
            self.service.stopService()

    def run(self, seconds: float) -> None:
        self.reactor.pump([0.01] * int(seconds / 0.01))

    def sent(self) -> list[ssdp.Notify]:
        assert self.service.sockets is not None
        port = self.service.sockets.ports[4]
        sent, port.sent = port.sent, []
        return [ssdp.parse(data) for data, *_ in sent]  # type: ignore[misc]

    def get(self, path: bytes) -> int:
        [response] = MemoryHTTP(self.service.site).send(
            request(b"GET", path, host=b"192.0.2.7:8000"))
        return response.status

    def subscribe(self, path: bytes) -> tuple[int, bytes | None]:
        [response] = MemoryHTTP(self.service.site, peer="192.0.2.50").send(request(
            b"SUBSCRIBE", path, host=b"192.0.2.7:8000",
            headers={b"CALLBACK": b"<http://192.0.2.50:9000/cb>", b"NT": b"upnp:event"},
        ))
        return response.status, response.header(b"sid")

    def renew(self, path: bytes, sid: bytes) -> int:
        [response] = MemoryHTTP(self.service.site, peer="192.0.2.50").send(request(
            b"SUBSCRIBE", path, host=b"192.0.2.7:8000",
            headers={b"SID": sid, b"TIMEOUT": b"Second-300"},
        ))
        return response.status


@pytest.fixture
def rigs() -> Any:
    made: list[Rig] = []

    def rig(*devices: Any, **kw: Any) -> Rig:
        r = Rig(*devices, **kw)
        made.append(r)
        return r

    yield rig
    for r in made:
        r.close()


def path(device: Any, rest: str = "/description.xml") -> bytes:
    return (base_for(device) + rest).encode()


def test_several_devices_each_under_its_own_path_one_http_port(rigs: Any) -> None:
    a, b = lights(2)
    rig = rigs(a, b)
    rig.service.startService()
    assert rig.get(path(a)) == 200 and rig.get(path(b)) == 200
    assert rig.get(b"/description.xml") == 404
    assert len(rig.reactor.tcpServers) == 1
    assert rig.service.locations(b.UDN) == [
        f"http://192.0.2.7:8000/{b.UDN[5:]}/description.xml"
    ]


def test_add_remove_and_replace_while_running(rigs: Any) -> None:
    a, b = lights(2)
    rig = rigs(a)
    rig.service.startService()
    rig.run(1)
    rig.sent()
    rig.service.addDevice(b)
    rig.run(1)
    assert rig.get(path(b)) == 200
    assert {m.usn.split("::")[0] for m in rig.sent()} == {b.UDN}
    renamed = BinaryLight().device(UDN=b.UDN, friendlyName="Renamed")
    rig.service.replaceDevice(renamed)
    rig.run(1)
    changed = rig.sent()
    assert changed and {m.usn.split("::")[0] for m in changed} == {b.UDN}
    configIds = {m.header("configid.upnp.org") for m in changed}
    assert configIds == {str(rig.service.site.served[b.UDN.lower()].descriptions.configId)}
    removed: list[None] = []
    rig.service.removeDevice(a.UDN).addCallback(removed.append)
    rig.run(1)
    assert removed == [None]
    assert rig.get(path(a)) == 404
    assert {(m.nts, m.usn.split("::")[0]) for m in rig.sent()} == {("ssdp:byebye", a.UDN)}


def test_an_unchanged_device_sends_nothing_and_keeps_its_configid(rigs: Any) -> None:
    a, b = lights(2)
    rig = rigs(a, b)
    rig.service.startService()
    rig.run(1)
    rig.sent()
    before = rig.service.site.served[a.UDN.lower()].descriptions.configId
    done: list[Any] = []
    rig.service.setDevices([a, b]).addCallback(done.append)
    rig.run(0.5)
    assert done == [{"added": [], "removed": [], "changed": [], "unchanged": [a.UDN, b.UDN]}]
    assert rig.sent() == []
    assert rig.service.site.served[a.UDN.lower()].descriptions.configId == before


def test_changes_are_serialised_and_none_is_half_applied(rigs: Any) -> None:
    a, b, c = lights(3)
    rig = rigs(a, b)
    rig.service.startService()
    rig.run(1)
    done: list[str] = []
    rig.service.removeDevice(a.UDN).addCallback(lambda _: done.append("removed a"))
    rig.service.addDevice(c).addCallback(lambda _: done.append("added c"))
    # The removal waits for its byebye: the addition waits for the removal.
    assert done == [] and c.UDN.lower() not in rig.service.site.served
    rig.run(0.5)
    assert sorted(done) == ["added c", "removed a"]
    applied = [line for line in rig.logged if line.startswith(("Serving Light", "No longer"))]
    assert applied[-2:] == [
        f"No longer serving Light 0 ({a.UDN})",
        f"Serving Light 2 ({c.UDN}) at http://192.0.2.7:8000/{c.UDN[5:]}/description.xml",
    ]
    failures: list[Any] = []
    rig.service.addDevice(b).addErrback(failures.append)
    rig.run(0.1)
    [failure] = failures
    assert failure.check(ValueError)
    assert [d.UDN for d in rig.service.devices] == [b.UDN, c.UDN]


def test_subscriptions_carry_over_a_change_and_end_with_a_removal(rigs: Any) -> None:
    a, b = lights(2)
    rig = rigs(a, b)
    rig.service.startService()
    event = path(a, "/svc/SwitchPower/event")
    status, sid = rig.subscribe(event)
    assert status == 200 and sid
    rig.service.replaceDevice(BinaryLight(on=True).device(UDN=a.UDN, friendlyName="A2"))
    rig.run(0.5)
    assert rig.renew(event, sid) == 200
    [eventing] = [e for p, e in rig.service.site.eventing.items() if p.startswith(base_for(a))]
    [taken] = eventing.subscriptions.values()
    assert taken.sid == sid.decode()
    other = path(b, "/svc/SwitchPower/event")
    status, sid_b = rig.subscribe(other)
    rig.service.removeDevice(b.UDN)
    rig.run(0.5)
    assert rig.renew(other, sid_b or b"") == 404  # the path is gone, and its subscription


def test_a_service_of_one_device_keeps_it_at_the_root(rigs: Any) -> None:
    [a] = lights(1)
    rig = rigs(single=a)
    rig.service.startService()
    assert rig.get(b"/description.xml") == 200
    [b] = [BinaryLight().device(UDN="uuid:11111111-0000-4000-8000-000000000000",
                                friendlyName="B")]
    rig.service.setDevices([b])
    rig.run(0.5)
    assert rig.get(b"/description.xml") == 200
    assert rig.service.devices == (b,)


# -- reloading files -----------------------------------------------------------------------


def write(folder: Path, name: str, friendly: str, serial: str, on: str = "0") -> Path:
    target = folder / name
    target.write_text(
        "[device]\nprovider = binarylight\n"
        f"friendlyName = {friendly}\nserialNumber = {serial}\non = {on}\n"
    )
    return target


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "lights").mkdir()
    return tmp_path / "lights"


def reloading(rigs: Any, folder: Path) -> tuple[Rig, Reloader]:
    sources = ConfigSources(folders=[str(folder)], machineId="test")
    first = sources.load()
    rig = rigs(*[c.device for c in first.configs.values()])
    reloader = Reloader(rig.service, sources, first, reactor=rig.reactor)
    reloader.setServiceParent(rig.service)
    rig.service.startService()
    rig.run(1)
    rig.sent()
    return rig, reloader


def test_reload_adds_removes_changes_and_keeps(rigs: Any, folder: Path) -> None:
    write(folder, "a.ini", "Light A", "A")
    write(folder, "b.ini", "Light B", "B")
    write(folder, "c.ini", "Light C", "C")
    rig, reloader = reloading(rigs, folder)
    udn = {d.friendlyName: d.UDN for d in rig.service.devices}
    kept = rig.service.site.served[udn["Light A"].lower()]
    (folder / "b.ini").unlink()
    write(folder, "c.ini", "Light C, renamed", "C")
    write(folder, "d.ini", "Light D", "D")
    reports: list[Any] = []
    reloader.reload().addCallback(reports.append)
    rig.run(1)
    [report] = reports
    assert report["removed"] == [udn["Light B"]]
    assert report["changed"] == [udn["Light C"]]
    assert report["unchanged"] == [udn["Light A"]]
    assert len(report["added"]) == 1
    # The unchanged device is the very same, untouched.
    assert rig.service.site.served[udn["Light A"].lower()] is kept
    messages = rig.sent()
    assert udn["Light A"] not in {m.usn.split("::")[0] for m in messages}
    assert ("ssdp:byebye", udn["Light B"]) in {(m.nts, m.usn.split("::")[0]) for m in messages}
    assert any("Reloaded: 1 added, 1 removed, 1 changed, 1 unchanged" in line
               for line in rig.logged)


def test_a_file_that_no_longer_loads_keeps_its_device_running(rigs: Any, folder: Path) -> None:
    write(folder, "a.ini", "Light A", "A")
    rig, reloader = reloading(rigs, folder)
    [before] = rig.service.devices
    (folder / "a.ini").write_text("[device]\nprovider = binarylight\nfriendlyName = \n")
    reloader.reload()
    rig.run(1)
    assert rig.service.devices == (before,)
    assert any("a.ini:3: [device] friendlyName: is empty" in line for line in rig.logged)
    assert any("a.ini keeps running as it was" in line for line in rig.logged)
    assert rig.sent() == []


def test_a_reload_during_a_pending_change_waits_its_turn(rigs: Any, folder: Path) -> None:
    write(folder, "a.ini", "Light A", "A")
    write(folder, "b.ini", "Light B", "B")
    rig, reloader = reloading(rigs, folder)
    udn_b = next(d.UDN for d in rig.service.devices if d.friendlyName == "Light B")
    reports: list[Any] = []
    rig.service.removeDevice(udn_b)
    reloader.reload().addCallback(reports.append)
    assert reports == []  # it waits for the removal's byebye
    rig.run(1)
    # The reload came after the removal, and the file brought it back.
    assert reports[0]["added"] == [udn_b]
    assert udn_b in [d.UDN for d in rig.service.devices]


def test_sighup_reloads(rigs: Any, folder: Path) -> None:
    import os
    import signal

    write(folder, "a.ini", "Light A", "A")
    rig, reloader = reloading(rigs, folder)
    write(folder, "b.ini", "Light B", "B")
    handed: list[Any] = []
    rig.reactor.callFromThread = lambda f, *a, **kw: handed.append((f, a, kw))  # type: ignore[attr-defined]
    os.kill(os.getpid(), signal.SIGHUP)
    # The handler hands over to the reactor (callFromThread).
    [(f, a, kw)] = handed
    f(*a, **kw)
    rig.run(1)
    assert len(rig.service.devices) == 2
    rig.service.stopService()
    assert signal.getsignal(signal.SIGHUP) is not reloader._hangup


class Told:
    """
    What a Reloader tells systemd.
    """

    def __init__(self) -> None:
        self.said: list[str] = []

    def reloading(self) -> None:
        self.said.append("reloading")

    def reloaded(self, summary: str) -> None:
        self.said.append(summary)


def test_systemd_hears_a_reload_end_even_when_it_fails(
    rigs: Any, folder: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    write(folder, "a.ini", "Light A", "A")
    rig, reloader = reloading(rigs, folder)
    told = reloader.systemd = Told()
    reloader.reload()
    rig.run(1)
    assert told.said == [
        "reloading", "reloaded: 0 added, 0 removed, 0 changed, 1 unchanged, 0 not loaded",
    ]

    def broken() -> None:
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(reloader.sources, "load", broken)
    failures: list[Any] = []
    reloader.reload().addErrback(failures.append)
    assert told.said[-2:] == ["reloading", "reload failed: the disk is on fire"]
    assert len(failures) == 1
    assert [d.friendlyName for d in rig.service.devices] == ["Light A"]


def test_a_udn_clash_on_reload_counts_as_not_loaded(rigs: Any, folder: Path) -> None:
    write(folder, "a.ini", "Light A", "A")
    rig, reloader = reloading(rigs, folder)
    told = reloader.systemd = Told()
    (folder / "b.ini").write_text((folder / "a.ini").read_text().replace("Light A", "Light B")
                                  + f"udn = {rig.service.devices[0].UDN}\n")
    reloader.reload()
    rig.run(1)
    assert told.said[-1].endswith("1 unchanged, 1 not loaded")


def test_clashes_between_files(tmp_path: Path) -> None:
    shutil.copy(example("light.ini"), tmp_path / "a.ini")
    shutil.copy(example("light.ini"), tmp_path / "b.ini")
    write(tmp_path, "c.ini", "Kitchen light", "other")
    loaded = ConfigSources(folders=[str(tmp_path)], machineId="test").load()
    errors, warnings = clashes(loaded.configs)
    assert len(errors) == 1 and "b.ini: UDN uuid:" in errors[0] and "a.ini" in errors[0]
    assert len(warnings) == 2 and all("friendlyName 'Kitchen light'" in w for w in warnings)


def test_each_target_a_source_has_not_asked_lately_gets_its_whole_answer() -> None:
    from upnp_announce.device.limits import SearchBudget

    clock = Clock()
    budget = SearchBudget(clock, lambda: 400, rate=50, quiet=10)
    assert budget.take("a", 400, "ssdp:all") == 400
    # A control point's next searches, for other targets: whole answers.
    assert budget.take("a", 100, "urn:schemas-upnp-org:device:BinaryLight:1") == 100
    assert budget.take("a", 1, "upnp:rootdevice") == 1
    # The same target again at once: the flood rules (50 in any second).
    assert budget.take("a", 400, "SSDP:ALL") == 50
    assert budget.take("a", 400, "ssdp:all") == 0
