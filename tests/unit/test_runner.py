"""
UPnPService following the network, without sockets: a memory reactor with
a clock, interfaces the test changes, and fake SSDP ports that record what
is sent. Every transition: start without a network, an address that
appears, one that vanishes, a renumbering, a flap within a second, an
address that cannot be listened on yet, a named interface that does not
exist yet, container bridges, IPv6; and BOOTID across starts.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
from twisted.internet.error import CannotListenError
from twisted.internet.testing import MemoryReactorClock
from twisted.logger import LogLevel, globalLogPublisher

from upnp_announce import UPnPService, config
from upnp_announce.device.runner import StartError
from upnp_announce.netif import Adapter
from upnp_announce.settings import NetworkSettings
from upnp_announce.wire import ssdp

from support import FakePort, MemoryHTTP, example, request

UP = 0x1 | 0x1000
LIGHT = config.load(example("light.ini"), machineId="test").device
START = 1_700_000_000


class Reactor(MemoryReactorClock):
    """
    A memory reactor whose TCP listening can be refused for some addresses
    (a tentative IPv6 address, a port taken).
    """

    def __init__(self) -> None:
        super().__init__()
        self.refuse: set[str] = set()
        self.stopped: list[str] = []

    def listenTCP(self, port: int, factory: Any, backlog: int = 50, interface: str = "") -> Any:
        if interface in self.refuse:
            raise CannotListenError(interface, port, OSError(99, "Cannot assign requested address"))
        listening = super().listenTCP(port, factory, backlog, interface)
        listening.stopListening = lambda: self.stopped.append(interface)
        return listening


class FakeSource:
    """
    A kernel change source: the test says when something changed.
    """

    def __init__(self, changed: Callable[[], None]) -> None:
        self.changed = changed
        self.running = False

    def start(self) -> bool:
        self.running = True
        return True

    def stop(self) -> None:
        self.running = False


class Rig:
    def __init__(self, *adapters: Adapter, kernel: bool = False, **network: Any) -> None:
        self.adapters = list(adapters)
        self.reactor = Reactor()
        self.reactor.advance(START)
        self.sources: list[FakeSource] = []

        def source(changed: Callable[[], None]) -> FakeSource:
            made = FakeSource(changed)
            self.sources.append(made)
            return made

        self.service = UPnPService(
            LIGHT,
            NetworkSettings(**{"httpPort": 8000, **network}),
            reactor=self.reactor,
            adapters=lambda: self.adapters,
            rng=random.Random(1),
            changes=source if kernel else None,
            makeSSDPPort=FakePort,
        )
        self.logged: list[dict[str, Any]] = []
        globalLogPublisher.addObserver(self.logged.append)

    def close(self) -> None:
        globalLogPublisher.removeObserver(self.logged.append)

    def start(self) -> UPnPService:
        self.service.startService()
        return self.service

    def run(self, seconds: float) -> None:
        self.reactor.pump([0.05] * int(seconds / 0.05))

    def sent(self, family: int = 4) -> list[ssdp.Notify | ssdp.SearchResponse]:
        assert self.service.sockets is not None
        port = self.service.sockets.ports[family]
        sent, port.sent = port.sent, []
        return [ssdp.parse(data) for data, *_ in sent]  # type: ignore[misc]

    def locations(self) -> list[str]:
        return [b.location for b in self.service.bindings]

    def messages(self, text: str) -> list[str]:
        from twisted.logger import formatEvent

        return [formatEvent(e) for e in self.logged if text in formatEvent(e)]


@pytest.fixture
def rigs() -> Any:
    made: list[Rig] = []

    def rig(*adapters: Adapter, **kw: Any) -> Rig:
        r = Rig(*adapters, **kw)
        made.append(r)
        return r

    yield rig
    for r in made:
        if r.service.running:
            r.service.stopService()
        r.close()


def eth0(*addresses: tuple[str, int], index: int = 2, flags: int = UP) -> Adapter:
    return Adapter("eth0", flags, tuple(addresses), index)


def test_start_without_a_network_waits_and_announces_once_an_address_comes(rigs: Any) -> None:
    rig = rigs(Adapter("eth0", UP, (), 2))
    waiting: list[Any] = []
    rig.service.whenListening().addCallback(waiting.append)
    service = rig.start()
    assert service.running and service.bindings == () and waiting == []
    assert rig.messages("waits for a usable address on any up, multicast-capable interface")
    rig.run(3)
    assert rig.sent() == []
    rig.adapters = [eth0(("192.0.2.7", 24))]
    rig.run(3)  # polled every 2 s: seen within 3
    assert rig.locations() == ["http://192.0.2.7:8000/description.xml"]
    assert [w[0].location for w in waiting] == rig.locations()
    assert ("192.0.2.7" in [iface for _, _, _, iface in rig.reactor.tcpServers])
    alive = rig.sent()
    assert alive and {m.nts for m in alive} == {"ssdp:alive"}  # type: ignore[union-attr]
    assert {m.location for m in alive} == set(rig.locations())  # type: ignore[union-attr]
    assert {m.header("bootid.upnp.org") for m in alive} == {str(START + 1)}


def test_kernel_notifications_are_followed_well_within_3_seconds(rigs: Any) -> None:
    rig = rigs(Adapter("eth0", UP, (), 2), kernel=True)
    rig.start()
    [source] = rig.sources
    assert source.running
    rig.adapters = [eth0(("192.0.2.7", 24))]
    source.changed()
    rig.run(0.5)
    assert rig.locations() == ["http://192.0.2.7:8000/description.xml"]
    rig.service.stopService()
    assert not source.running


def test_an_address_that_vanishes_is_no_longer_served_and_the_others_get_an_update(rigs: Any) -> None:
    rig = rigs(eth0(("192.0.2.7", 24)), Adapter("eth1", UP, (("198.51.100.9", 24),), 3))
    service = rig.start()
    rig.run(1)
    rig.sent()
    rig.adapters = rig.adapters[1:]
    rig.run(2.5)
    assert rig.locations() == ["http://198.51.100.9:8000/description.xml"]
    assert rig.reactor.stopped == ["192.0.2.7"]
    assert b"192.0.2.7:8000" not in service.site._hosts
    messages = rig.sent()
    updates = [m for m in messages if m.nts == "ssdp:update"]  # type: ignore[union-attr]
    alive = [m for m in messages if m.nts == "ssdp:alive"]  # type: ignore[union-attr]
    assert updates and alive
    assert messages.index(alive[0]) > messages.index(updates[-1])
    assert {m.location for m in updates + alive} == {  # type: ignore[union-attr]
        "http://198.51.100.9:8000/description.xml"
    }
    assert {m.header("nextbootid.upnp.org") for m in updates} == {str(START + 1)}
    assert {m.header("bootid.upnp.org") for m in alive} == {str(START + 1)}
    # Never again in a LOCATION: a search on eth1's subnet gets eth1's.
    assert service.ssdp is not None
    assert service.ssdp.bindingFor("192.0.2.50") is None


def test_a_renumbering_gives_a_new_location_and_a_new_bootid(rigs: Any) -> None:
    rig = rigs(eth0(("192.0.2.7", 24)), Adapter("eth1", UP, (("198.51.100.9", 24),), 3))
    service = rig.start()
    rig.run(1)
    rig.sent()
    rig.adapters[0] = eth0(("192.0.2.77", 24))
    rig.run(2.5)
    assert rig.locations() == [
        "http://198.51.100.9:8000/description.xml", "http://192.0.2.77:8000/description.xml",
    ]
    messages = rig.sent()
    # ssdp:update on the links that stayed (eth0 with its new address),
    # then alive everywhere.
    updates = [m for m in messages if m.nts == "ssdp:update"]  # type: ignore[union-attr]
    assert {m.location for m in updates} == set(rig.locations())  # type: ignore[union-attr]
    assert messages.index(updates[-1]) < min(
        messages.index(m) for m in messages if m.nts == "ssdp:alive"  # type: ignore[union-attr]
    )
    alive = [m for m in messages if m.nts == "ssdp:alive"]  # type: ignore[union-attr]
    assert {m.location for m in alive} == set(rig.locations())  # type: ignore[union-attr]
    assert "http://192.0.2.7:8000/description.xml" not in {m.location for m in messages}  # type: ignore[union-attr]
    assert service.ssdp is not None and service.ssdp.bootId == START + 1
    assert rig.messages("The network changed: Kitchen light is now on eth1 198.51.100.9, "
                        "eth0 192.0.2.77 (BOOTID 1700000001)")


def test_a_flap_within_a_second_changes_nothing(rigs: Any) -> None:
    rig = rigs(eth0(("192.0.2.7", 24)), kernel=True)
    service = rig.start()
    rig.run(1)
    rig.sent()
    [source] = rig.sources
    original = list(rig.adapters)
    rig.adapters = [Adapter("eth0", UP, (), 2)]
    source.changed()
    rig.run(0.1)
    rig.adapters = original
    source.changed()
    rig.run(3)
    assert rig.sent() == []
    assert service.ssdp is not None and service.ssdp.bootId == START
    assert rig.reactor.stopped == []


def test_a_flap_seen_by_two_scans_is_two_changes(rigs: Any) -> None:
    rig = rigs(eth0(("192.0.2.7", 24)), kernel=True)
    service = rig.start()
    rig.run(1)
    [source] = rig.sources
    original = list(rig.adapters)
    rig.adapters = [Adapter("eth0", UP, (), 2)]
    source.changed()
    rig.run(0.5)
    assert service.bindings == ()
    rig.adapters = original
    source.changed()
    rig.run(0.5)
    assert rig.locations() == ["http://192.0.2.7:8000/description.xml"]
    assert service.ssdp is not None and service.ssdp.bootId == START + 2


def test_an_address_that_cannot_be_listened_on_yet_is_tried_again(rigs: Any) -> None:
    rig = rigs(eth0(("192.0.2.7", 24), ("fd00:1::7", 64)))
    rig.reactor.refuse = {"fd00:1::7"}  # tentative: duplicate address detection runs
    rig.start()
    assert rig.locations() == ["http://192.0.2.7:8000/description.xml"]
    assert rig.messages("Cannot listen on fd00:1::7 (eth0) yet")
    rig.reactor.refuse = set()
    rig.run(1.5)
    assert rig.locations() == [
        "http://192.0.2.7:8000/description.xml", "http://[fd00:1::7]:8000/description.xml",
    ]


def test_retries_back_off_and_stop_when_the_address_goes(rigs: Any) -> None:
    rig = rigs(eth0(("192.0.2.7", 24), ("fd00:1::7", 64)))
    rig.reactor.refuse = {"fd00:1::7"}
    service = rig.start()
    rig.run(8)  # tries at 1, 3 and 7 s
    assert len(rig.messages("Cannot listen on fd00:1::7")) == 1
    assert service._retries
    rig.adapters = [eth0(("192.0.2.7", 24))]
    rig.run(2.5)
    assert service._retries == {}


def test_a_named_interface_that_does_not_exist_yet_is_waited_for(rigs: Any) -> None:
    rig = rigs(eth0(("192.0.2.7", 24)), interfaces=("wlan0",))
    service = rig.start()
    [warning] = rig.messages("waits for interface wlan0, which does not exist (yet)")
    assert "this machine has: eth0" in warning
    assert rig.messages("waits for a usable address") == []  # one line, not two
    assert service.bindings == ()
    rig.adapters.append(Adapter("wlan0", UP, (("198.51.100.9", 24),), 3))
    rig.run(2.5)
    assert rig.locations() == ["http://198.51.100.9:8000/description.xml"]


def test_container_bridges_are_never_served_by_default(rigs: Any) -> None:
    docker = Adapter("docker0", UP, (("172.17.0.1", 16),), 5)
    rig = rigs(eth0(("192.0.2.7", 24)), docker)
    rig.start()
    rig.run(1)
    assert rig.locations() == ["http://192.0.2.7:8000/description.xml"]
    assert "172.17.0.1" not in str(rig.sent())


def test_ipv6_addresses_are_served_and_announced_by_scope(rigs: Any) -> None:
    rig = rigs(eth0(("192.0.2.7", 24), ("fe80::1", 64), ("fd00:1::7", 64)))
    service = rig.start()
    rig.run(1)
    assert rig.locations() == [
        "http://192.0.2.7:8000/description.xml",
        "http://[fe80::1]:8000/description.xml",
        "http://[fd00:1::7]:8000/description.xml",
    ]
    # HTTP listens on the link-local address with its zone.
    assert "fe80::1%eth0" in [iface for _, _, _, iface in rig.reactor.tcpServers]
    assert service.sockets is not None
    assert service.sockets.joined == {
        (4, "239.255.255.250", 2), (6, "ff02::c", 2), (6, "ff05::c", 2),
    }
    hosts = {m.header("host") for m in rig.sent(6)}
    assert hosts == {"[FF02::C]:1900", "[FF05::C]:1900"}
    assert b"[fd00:1::7]:8000" in service.site._hosts


def test_ipv6_off_serves_ipv4_only(rigs: Any) -> None:
    rig = rigs(eth0(("192.0.2.7", 24), ("fd00:1::7", 64)), ipv6=False)
    service = rig.start()
    assert rig.locations() == ["http://192.0.2.7:8000/description.xml"]
    assert service.sockets is not None and list(service.sockets.ports) == [4]


def test_subscriptions_survive_a_change_on_addresses_that_stay(rigs: Any) -> None:
    rig = rigs(eth0(("192.0.2.7", 24)))
    service = rig.start()
    [response] = MemoryHTTP(service.site, peer="192.0.2.50").send(request(
        b"SUBSCRIBE", b"/svc/SwitchPower/event", host=b"192.0.2.7:8000",
        headers={b"CALLBACK": b"<http://192.0.2.50:9000/cb>", b"NT": b"upnp:event"},
    ))
    assert response.status == 200
    rig.adapters.append(Adapter("eth1", UP, (("198.51.100.9", 24),), 3))
    rig.run(2.5)
    assert len(service.bindings) == 2
    [eventing] = service.site.eventing.values()
    assert len(eventing.subscriptions) == 1


def test_stop_stops_watching_and_retrying(rigs: Any) -> None:
    rig = rigs(eth0(("192.0.2.7", 24), ("fd00:1::7", 64)))
    rig.reactor.refuse = {"fd00:1::7"}
    service = rig.start()
    service.stopService()
    rig.run(0.2)
    assert rig.reactor.getDelayedCalls() == []
    assert service.bindings == () and service.watcher is None


def test_a_failing_interface_read_changes_nothing(rigs: Any) -> None:
    rig = rigs(eth0(("192.0.2.7", 24)))
    service = rig.start()

    def broken() -> list[Adapter]:
        raise OSError(24, "Too many open files")

    service._adapters = broken
    rig.run(2.5)
    assert rig.locations() == ["http://192.0.2.7:8000/description.xml"]
    assert [e for e in rig.logged if e.get("log_level") == LogLevel.critical] != []


def test_bootid_grows_with_every_start_and_configid_is_the_descriptions(rigs: Any) -> None:
    rig = rigs(eth0(("192.0.2.7", 24)))
    service = rig.service
    boots = []
    for _ in range(3):
        service.startService()
        assert service.ssdp is not None
        assert service.ssdp.configId == service.site.descriptions.configId
        boots.append(service.ssdp.bootId)
        service.stopService()
        rig.run(0.2)
    assert boots == [START, START + 1, START + 2]
    rig.reactor.advance(100)
    service.startService()
    # The clock again, once it is ahead of the last BOOTID.
    assert service.ssdp.bootId == START + 100 + 0
    assert service.ssdp.bootId < 2**31


def test_no_ssdp_socket_is_a_start_error_and_nothing_stays_open(
    rigs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    monkeypatch.setattr(FakePort, "refuse", {socket.AF_INET})
    rig = rigs(eth0(("192.0.2.7", 24)))
    failures: list[Any] = []
    rig.service.whenListening().addErrback(failures.append)
    with pytest.raises(StartError, match="cannot open the SSDP socket on port 1900"):
        rig.start()
    assert not rig.service.running
    assert rig.reactor.tcpServers == []
    [failure] = failures
    assert failure.check(StartError)


def test_eventing_works_again_after_a_restart(rigs: Any) -> None:
    rig = rigs(eth0(("192.0.2.7", 24)))
    service = rig.service

    def subscribe() -> int:
        [response] = MemoryHTTP(service.site, peer="192.0.2.50").send(request(
            b"SUBSCRIBE", b"/svc/SwitchPower/event", host=b"192.0.2.7:8000",
            headers={b"CALLBACK": b"<http://192.0.2.50:9000/cb>", b"NT": b"upnp:event"},
        ))
        return response.status

    service.startService()
    assert subscribe() == 200
    service.stopService()
    rig.run(1)
    service.startService()
    assert subscribe() == 200
    [eventing] = service.site.eventing.values()
    assert len(eventing.subscriptions) == 1
    assert eventing._stopWatching is not None


def test_an_address_whose_prefix_changes_keeps_its_socket(rigs: Any) -> None:
    rig = rigs(eth0(("192.0.2.7", 24)))
    service = rig.start()
    rig.adapters = [eth0(("192.0.2.7", 16))]
    rig.run(2.5)
    assert rig.reactor.stopped == []
    [binding] = service.bindings
    assert binding.interface.prefix == 16
    assert b"192.0.2.7:8000" in service.site._hosts
    assert str(service.site._networks["192.0.2.7"]) == "192.0.0.0/16"


def test_a_watcher_whose_kernel_source_stops_polls_every_2_seconds(rigs: Any) -> None:
    rig = rigs(Adapter("eth0", UP, (), 2), kernel=True)
    rig.start()
    [source] = rig.sources
    source.running = False  # a netlink error stopped it
    rig.run(31)  # the safety poll comes, finds the source stopped
    rig.adapters = [eth0(("192.0.2.7", 24))]
    rig.run(2.5)
    assert rig.locations() == ["http://192.0.2.7:8000/description.xml"]


def test_the_same_link_local_address_on_two_interfaces_is_counted_twice() -> None:
    from upnp_announce.device.site import DeviceSite

    site = DeviceSite(LIGHT, reactor=Reactor())
    site.addAddress("fe80::1", 8000)
    site.addAddress("fe80::1", 8000)
    site.removeAddress("fe80::1", 8000)
    [response] = MemoryHTTP(site).send(request(host=b"[fe80::1]:8000"))
    assert response.status == 200
    site.removeAddress("fe80::1", 8000)
    [response] = MemoryHTTP(site).send(request(host=b"[fe80::1]:8000"))
    assert response.status == 403


def test_temporary_deprecated_tentative_and_failed_ipv6_addresses_are_not_served() -> None:
    from upnp_announce.netif import unusable_ipv6

    text = (
        "fe80000000000000022233fffe445566 02 40 20 80     eth0\n"  # permanent
        "fd000000000000000000000000000001 02 40 00 01     eth0\n"  # temporary
        "fd000000000000000000000000000002 02 40 00 20     eth0\n"  # deprecated
        "fd000000000000000000000000000003 02 40 00 40     eth0\n"  # tentative
        "fd000000000000000000000000000004 02 40 00 08     eth0\n"  # DAD failed
        "fd000000000000000000000000000005 02 40 00 82     eth0\n"  # nodad, permanent
        "garbage\n"
    )
    assert unusable_ipv6(text) == {("eth0", f"fd00::{n}") for n in (1, 2, 3, 4)}
