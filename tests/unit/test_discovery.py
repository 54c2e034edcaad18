"""
SSDPServer (on task.Clock, with a recording sender) and SSDPProtocol (with a
fake transport): every SSDP rule of the server, without sockets.
"""

from __future__ import annotations

import random
import socket
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet.task import Clock

from upnp_announce import config
from upnp_announce.device.discovery import Arrival, SSDPServer, announcers
from upnp_announce.device.runner import HTTPBinding
from upnp_announce.device.ssdpsocket import SSDPProtocol, SSDPSockets, memberships
from upnp_announce.netif import InterfaceAddress
from upnp_announce.wire import ssdp
from upnp_announce.wire.ssdp import announcements

from support import FakePort, example

ETH0 = HTTPBinding(InterfaceAddress("eth0", "192.0.2.7", 24), 8000)
ETH1 = HTTPBinding(InterfaceAddress("eth1", "198.51.100.9", 24), 8000)
SEARCHER = ("192.0.2.50", 50000)
quick = settings(database=None, deadline=None)


@dataclass
class Recorder:
    sent: list[tuple[str, bytes, object]] = field(default_factory=list)

    groups: list[str] = field(default_factory=list)

    def sendUnicast(self, data: bytes, destination: tuple[str, int], binding: Any) -> None:
        self.sent.append(("unicast", data, destination))

    def sendMulticast(self, data: bytes, binding: Any, group: str) -> None:
        self.sent.append(("multicast", data, binding.interface))
        self.groups.append(group)

    def take(self) -> list[tuple[str, bytes, object]]:
        sent, self.sent = self.sent, []
        return sent


DEVICE = config.load(example("jambon-fridge.ini"), machineId="test").device
SET = announcements(DEVICE)


def server(
    clock: Clock, bindings=(ETH0,), seed: int = 1, **kw: object  # type: ignore[no-untyped-def]
) -> tuple[SSDPServer, Recorder]:
    recorder = Recorder()
    s = SSDPServer(
        device=DEVICE, configId=77, bindings=bindings, sender=recorder, clock=clock,
        rng=random.Random(seed), bootId=1234, **kw,  # type: ignore[arg-type]
    )
    return s, recorder


def running(clock: Clock, **kw: object) -> tuple[SSDPServer, Recorder]:
    s, recorder = server(clock, **kw)  # type: ignore[arg-type]
    s.running = True
    return s, recorder


def search(st: str = "ssdp:all", mx: int | None = 3, host: str = ssdp.MULTICAST_HOST,
           man: str | None = '"ssdp:discover"') -> ssdp.MSearch:
    headers = {"host": host, "st": st}
    if man is not None:
        headers["man"] = man
    if mx is not None:
        headers["mx"] = str(mx)
    return ssdp.MSearch(headers, host=host, man=man, mx=mx, st=st)


def parsed(sent: list[tuple[str, bytes, object]]) -> list[ssdp.MSearch | ssdp.Notify | ssdp.SearchResponse]:
    return [ssdp.parse(data) for _, data, _ in sent]


def header_names(data: bytes) -> list[str]:
    lines = data.decode().split("\r\n")[1:]
    return [line.split(":", 1)[0] for line in lines if line]


# -- announcing ------------------------------------------------------------------


def test_start_waits_up_to_100ms_then_sends_the_alive_set_twice_a_few_hundred_ms_apart() -> None:
    clock = Clock()
    s, recorder = server(clock, bindings=(ETH0, ETH1))
    s.start()
    assert recorder.take() == []
    clock.advance(0.1)
    first = recorder.take()
    assert len(first) == 2 * len(SET)
    clock.advance(0.19)
    assert recorder.take() == []
    clock.advance(0.21)
    second = recorder.take()
    assert [d for _, d, _ in second] == [d for _, d, _ in first]


def test_alive_set_per_interface_with_its_own_location_and_exact_headers() -> None:
    clock = Clock()
    s, recorder = server(clock, bindings=(ETH0, ETH1))
    s.sendAlive()
    sent = recorder.take()
    for binding in (ETH0, ETH1):
        mine = [(data, iface) for kind, data, iface in sent if iface == binding.interface]
        assert all(kind == "multicast" for kind, _, _ in sent)
        notifies = [ssdp.parse(data) for data, _ in mine]
        assert [(n.nt, n.usn) for n in notifies] == [(a.nt, a.usn) for a in SET]
        for (data, _), n in zip(mine, notifies):
            assert isinstance(n, ssdp.Notify)
            assert n.nts == "ssdp:alive"
            assert n.location == binding.location
            assert n.maxAge == 1800
            assert header_names(data) == [
                "HOST", "CACHE-CONTROL", "LOCATION", "NT", "NTS", "SERVER", "USN",
                "BOOTID.UPNP.ORG", "CONFIGID.UPNP.ORG",
            ]
            assert n.header("host") == "239.255.255.250:1900"
            assert n.header("bootid.upnp.org") == "1234"
            assert n.header("configid.upnp.org") == "77"
            assert " UPnP/1.1 upnp_announce/" in (n.header("server") or "")
            assert len(data) < 1400


@given(st.integers(0, 2**32), st.sampled_from([1800, 3600, 86400]))
@quick
def test_re_advertisement_comes_before_max_age_over_2(seed: int, maxAge: int) -> None:
    clock = Clock()
    s, recorder = server(clock, seed=seed, maxAge=maxAge)
    s.start()
    times = []
    # Sets go out in pairs: record when each pair starts, over several periods.
    while len(times) < 6:
        clock.advance(min(c.getTime() for c in clock.getDelayedCalls()) - clock.seconds())
        if recorder.take():
            times.append(clock.seconds())
    starts = times[::2]
    assert starts[0] <= 0.1
    for a, b in zip(starts, starts[1:]):
        assert maxAge / 4 <= b - a < maxAge / 2


def test_stop_says_byebye_twice_100ms_apart_and_then_fires() -> None:
    clock = Clock()
    s, recorder = server(clock, bindings=(ETH0, ETH1))
    s.start()
    clock.advance(1)
    recorder.take()
    done = s.stop()
    fired: list[None] = []
    done.addCallback(fired.append)
    first = recorder.take()
    assert len(first) == 2 * len(SET) and not fired
    clock.advance(0.1)
    second = recorder.take()
    assert fired == [None]
    assert [d for _, d, _ in second] == [d for _, d, _ in first]
    for data in (d for _, d, _ in first):
        n = ssdp.parse(data)
        assert isinstance(n, ssdp.Notify) and n.nts == "ssdp:byebye"
        assert header_names(data) == [
            "HOST", "NT", "NTS", "USN", "BOOTID.UPNP.ORG", "CONFIGID.UPNP.ORG",
        ]
    # Nothing more, ever: timers and pending replies are gone.
    assert clock.getDelayedCalls() == []
    clock.advance(10_000)
    assert recorder.take() == []


def test_stop_cancels_pending_replies_and_ignores_later_searches() -> None:
    clock = Clock()
    s, recorder = running(clock)
    s.searchReceived(search(mx=5), SEARCHER)
    s.stop()
    clock.advance(0.1)
    recorder.take()
    clock.advance(10)
    assert recorder.take() == []
    s.searchReceived(search(mx=1), SEARCHER)
    clock.advance(2)
    assert recorder.take() == []


def test_stop_when_not_running_fires_at_once() -> None:
    s, recorder = server(Clock())
    fired: list[None] = []
    s.stop().addCallback(fired.append)
    assert fired == [None] and recorder.sent == []


# -- answering searches ------------------------------------------------------------


def test_ssdp_all_gets_the_whole_set_within_mx_with_exact_headers() -> None:
    clock = Clock()
    s, recorder = running(clock)
    clock.advance(1_000_000_000)
    s.searchReceived(search(mx=3), SEARCHER)
    clock.advance(3)
    sent = recorder.take()
    assert len(sent) == len(SET)
    assert {dest for _, _, dest in sent} == {SEARCHER}
    assert all(kind == "unicast" for kind, _, _ in sent)
    responses = parsed(sent)
    assert sorted((r.st, r.usn) for r in responses) == sorted((a.nt, a.usn) for a in SET)  # type: ignore[union-attr]
    for (_, data, _), r in zip(sent, responses):
        assert isinstance(r, ssdp.SearchResponse)
        assert data.startswith(b"HTTP/1.1 200 OK\r\n")
        assert header_names(data) == [
            "CACHE-CONTROL", "DATE", "EXT", "LOCATION", "SERVER", "ST", "USN",
            "BOOTID.UPNP.ORG", "CONFIGID.UPNP.ORG",
        ]
        assert r.header("cache-control") == "max-age=1800"
        assert r.header("ext") == ""
        assert r.location == ETH0.location
        # Sent between the search (at 1e9 s) and 3 s later: a date of then.
        assert r.header("date") in {ssdp.http_date(1_000_000_000 + n) for n in range(4)}


def test_each_reply_waits_its_own_random_delay_spread_over_mx() -> None:
    clock = Clock()
    s, recorder = running(clock)
    s.searchReceived(search(mx=2), SEARCHER)
    delays = sorted(c.getTime() for c in clock.getDelayedCalls())
    assert len(delays) == len(SET)
    assert len(set(delays)) == len(SET)
    assert all(0 <= d <= 2 for d in delays)
    assert delays[-1] - delays[0] > 0.5
    assert recorder.sent == []


def test_mx_over_5_counts_as_5() -> None:
    clock = Clock()
    s, recorder = running(clock)
    s.searchReceived(search(mx=120), SEARCHER)
    assert max(c.getTime() for c in clock.getDelayedCalls()) <= 5
    clock.advance(5)
    assert len(recorder.take()) == len(SET)


def test_mx_0_is_answered_at_once() -> None:
    clock = Clock()
    s, recorder = running(clock)
    s.searchReceived(search(mx=0), SEARCHER)
    clock.advance(0)
    assert len(recorder.take()) == len(SET)


@pytest.mark.parametrize(
    "bad",
    [search(mx=None), search(man=None), search(man='"ssdp:alive"'), search(man="discover")],
    ids=["no-MX", "no-MAN", "wrong-MAN", "bad-MAN"],
)
def test_a_multicast_search_without_man_discover_or_mx_is_dropped(bad: ssdp.MSearch) -> None:
    clock = Clock()
    s, recorder = running(clock)
    s.searchReceived(bad, SEARCHER)
    clock.advance(10)
    assert recorder.sent == [] and clock.getDelayedCalls() == []


@pytest.mark.parametrize("man", ['"ssdp:discover"', "ssdp:discover", '"SSDP:Discover"'])
def test_man_is_read_liberally(man: str) -> None:
    clock = Clock()
    s, recorder = running(clock)
    s.searchReceived(search(st="upnp:rootdevice", man=man, mx=1), SEARCHER)
    clock.advance(1)
    assert len(recorder.take()) == 1


def test_a_unicast_search_is_answered_at_once_without_mx() -> None:
    clock = Clock()
    s, recorder = running(clock)
    s.searchReceived(search(st="upnp:rootdevice", mx=None, host="192.0.2.7:1900"), SEARCHER)
    [(kind, data, dest)] = recorder.take()
    assert (kind, dest) == ("unicast", SEARCHER)
    r = ssdp.parse(data)
    assert isinstance(r, ssdp.SearchResponse) and r.st == "upnp:rootdevice"
    assert clock.getDelayedCalls() == []


def test_a_search_from_outside_our_subnets_is_ignored() -> None:
    clock = Clock()
    s, recorder = running(clock, bindings=(ETH0, ETH1))
    for source in [("203.0.113.5", 1900), ("192.0.3.1", 1900), ("10.0.0.1", 1900),
                   ("not an address", 1)]:
        s.searchReceived(search(mx=1), source)
    s.searchReceived(search(mx=None, host="192.0.2.7:1900"), ("8.8.8.8", 1900))
    clock.advance(2)
    assert recorder.sent == []


def test_location_is_the_address_of_the_interface_the_search_came_from() -> None:
    clock = Clock()
    s, recorder = running(clock, bindings=(ETH0, ETH1))
    s.searchReceived(search(st="upnp:rootdevice", mx=1), ("198.51.100.20", 1900))
    s.searchReceived(search(st="upnp:rootdevice", mx=1), ("192.0.2.20", 1900))
    clock.advance(1)
    replies = {dest: ssdp.parse(data).location for _, data, dest in recorder.take()}  # type: ignore[union-attr]
    assert replies == {
        ("198.51.100.20", 1900): ETH1.location,
        ("192.0.2.20", 1900): ETH0.location,
    }


def test_the_most_specific_subnet_wins() -> None:
    wide = HTTPBinding(InterfaceAddress("br0", "10.0.0.1", 8), 8000)
    narrow = HTTPBinding(InterfaceAddress("vlan7", "10.7.0.1", 16), 8000)
    s, _ = running(Clock(), bindings=(wide, narrow))
    assert s.bindingFor("10.7.3.4") is narrow
    assert s.bindingFor("10.8.3.4") is wide
    assert s.bindingFor("11.0.0.1") is None


def test_lower_versions_are_answered_as_asked_and_higher_ones_not_at_all() -> None:
    clock = Clock()
    s, recorder = running(clock)
    s.searchReceived(search(st="urn:boucherie.example.com:service:Jambon:1", mx=1), SEARCHER)
    s.searchReceived(search(st="urn:boucherie.example.com:service:Jambon:2", mx=1), SEARCHER)
    s.searchReceived(search(st="urn:schemas-upnp-org:device:Basic:1", mx=1), SEARCHER)
    clock.advance(1)
    sts = sorted(ssdp.parse(d).st for _, d, _ in recorder.take())  # type: ignore[union-attr]
    assert sts == ["urn:boucherie.example.com:service:Jambon:1", "urn:schemas-upnp-org:device:Basic:1"]


def test_replies_per_source_per_second_are_bounded() -> None:
    clock = Clock()
    s, recorder = running(clock, repliesPerSecond=2 * len(SET))
    # The first search of a quiet source: a whole answer; then at most the
    # rate in any second.
    for _ in range(10):
        s.searchReceived(search(mx=0), SEARCHER)
    s.searchReceived(search(mx=0), ("192.0.2.51", 50000))
    clock.advance(0)
    sent = recorder.take()
    assert len([1 for _, _, d in sent if d == SEARCHER]) == len(SET) + 2 * len(SET)
    assert len([1 for _, _, d in sent if d != SEARCHER]) == len(SET)
    clock.advance(0.5)
    s.searchReceived(search(mx=0), SEARCHER)
    clock.advance(0)
    assert recorder.take() == []
    clock.advance(0.6)
    s.searchReceived(search(mx=0), SEARCHER)
    clock.advance(0)
    assert len(recorder.take()) == len(SET)


def test_pending_replies_are_bounded() -> None:
    clock = Clock()
    s, recorder = running(clock, maxPending=len(SET) * 3, repliesPerSecond=10_000)
    for n in range(10):
        s.searchReceived(search(mx=5), (f"192.0.2.{100 + n}", 1900))
    assert len(clock.getDelayedCalls()) == len(SET) * 3
    clock.advance(5)
    assert len(recorder.take()) == len(SET) * 3
    assert clock.getDelayedCalls() == []


def test_unknown_targets_get_nothing() -> None:
    clock = Clock()
    s, recorder = running(clock)
    for target in ["urn:example-com:device:Nothing:1", "uuid:00000000-0000-0000-0000-000000000000",
                   "garbage", ""]:
        s.searchReceived(search(st=target, mx=1), SEARCHER)
    clock.advance(2)
    assert recorder.sent == []


# -- where a searcher is: arrival interface, IPv6 scopes ------------------------------

LAN_A = HTTPBinding(InterfaceAddress("eth0", "10.9.0.1", 24, 2), 8000)
LAN_B = HTTPBinding(InterfaceAddress("eth1", "10.9.0.1", 24, 3), 8001)
LL = HTTPBinding(InterfaceAddress("eth0", "fe80::1", 64, 2), 8000)
ULA = HTTPBinding(InterfaceAddress("eth0", "fd00:ab::1", 64, 2), 8000)
LL1 = HTTPBinding(InterfaceAddress("eth1", "fe80::2", 64, 3), 8000)


def test_overlapping_subnets_are_told_apart_by_the_arrival_interface() -> None:
    s, _ = running(Clock(), bindings=(LAN_A, LAN_B))
    assert s.bindingFor("10.9.0.50", Arrival(3, "239.255.255.250")) is LAN_B
    assert s.bindingFor("10.9.0.50", Arrival(2, "239.255.255.250")) is LAN_A
    # An interface we do not serve: nothing.
    assert s.bindingFor("10.9.0.50", Arrival(9, "239.255.255.250")) is None


def test_ipv6_scope_of_the_location_fits_the_group_searched() -> None:
    s, _ = running(Clock(), bindings=(LL, ULA, LL1))
    assert s.bindingFor("fe80::99", Arrival(2, "ff02::c")) is LL
    assert s.bindingFor("fe80::99", Arrival(3, "ff02::c")) is LL1
    assert s.bindingFor("fd00:ab::99", Arrival(2, "ff05::c")) is ULA
    # A link-local searcher on ff05::c gets the routable address of its link.
    assert s.bindingFor("fe80::99", Arrival(2, "ff05::c")) is ULA
    # A unicast search gets the address it was sent to.
    assert s.bindingFor("fd00:ab::99", Arrival(2, "fe80::1")) is LL
    assert s.bindingFor("fe80::99", Arrival(2, "fd00:ab::1")) is ULA


def test_off_link_ipv6_sources_are_ignored_like_ipv4_ones() -> None:
    clock = Clock()
    s, recorder = running(clock, bindings=(LL, ULA))
    assert s.bindingFor("2001:db8::7", Arrival(2, "ff05::c")) is None
    assert s.bindingFor("fd00:cd::7", Arrival(2, "ff02::c")) is None
    s.searchReceived(search(mx=1), ("2001:db8::7", 1900, 0, 0), Arrival(2, "ff05::c"))
    clock.advance(2)
    assert recorder.sent == []


def test_an_ipv6_search_is_answered_with_a_bracketed_location() -> None:
    clock = Clock()
    s, recorder = running(clock, bindings=(LL, ULA))
    s.searchReceived(search("upnp:rootdevice", mx=1), ("fd00:ab::99", 50000), Arrival(2, "ff05::c"))
    s.searchReceived(search("upnp:rootdevice", mx=1), ("fe80::99", 50001), Arrival(2, "ff02::c"))
    clock.advance(1.1)
    locations = {dest: reply.location for (_, _, dest), reply in zip(recorder.sent,
                                                                      parsed(recorder.sent))}
    assert locations == {
        ("fd00:ab::99", 50000): "http://[fd00:ab::1]:8000/description.xml",
        ("fe80::99", 50001): "http://[fe80::1]:8000/description.xml",
    }


def test_ipv6_announcements_go_to_the_group_of_their_scope() -> None:
    clock = Clock()
    s, recorder = server(clock, bindings=(ETH0, LL, ULA))
    s.sendAlive()
    clock.advance(0.02)  # 21 datagrams on eth0: paced, 20 per 10 ms
    sent = list(zip(recorder.groups, parsed(recorder.sent)))
    assert {(g, m.location, m.header("host")) for g, m in sent} == {  # type: ignore[union-attr]
        ("239.255.255.250", "http://192.0.2.7:8000/description.xml", "239.255.255.250:1900"),
        ("ff02::c", "http://[fe80::1]:8000/description.xml", "[FF02::C]:1900"),
        ("ff05::c", "http://[fd00:ab::1]:8000/description.xml", "[FF05::C]:1900"),
    }
    assert len(sent) == 3 * len(SET)


def test_an_interface_announces_once_per_group_whatever_its_addresses() -> None:
    second = HTTPBinding(InterfaceAddress("eth0", "fd00:ab::2", 64, 2), 8000)
    assert [(b, g) for b, g in announcers((LL, ULA, second))] == [
        (LL, "ff02::c"), (ULA, "ff05::c"),
    ]


# -- the network changes: ssdp:update, then alive with the new BOOTID ----------------


def test_a_change_sends_updates_on_what_stays_then_alive_everywhere_with_the_new_bootid() -> None:
    clock = Clock()
    s, recorder = server(clock, bindings=(ETH0, ETH1))
    s.start()
    clock.pump([0.1] * 10)
    recorder.take()
    moved = HTTPBinding(InterfaceAddress("eth1", "198.51.100.10", 24), 8000)
    s.changeBindings((ETH0, moved), 1235)
    sent = recorder.take()
    messages = parsed(sent)
    kinds = [m.nts for m in messages]  # type: ignore[union-attr]
    # Every update (both interfaces stay; eth1 with its new address) before
    # any alive.
    assert kinds == ["ssdp:update"] * (2 * len(SET)) + ["ssdp:alive"] * (2 * len(SET))
    updates = [(m, i) for (_, _, i), m in zip(sent, messages) if m.nts == "ssdp:update"]  # type: ignore[union-attr]
    assert {i for _, i in updates} == {ETH0.interface, moved.interface}
    for m, _ in updates:
        assert m.header("bootid.upnp.org") == "1234"  # type: ignore[union-attr]
        assert m.header("nextbootid.upnp.org") == "1235"  # type: ignore[union-attr]
    assert {m.location for m, _ in updates} == {ETH0.location, moved.location}  # type: ignore[union-attr]
    assert header_names(sent[0][1]) == [
        "HOST", "LOCATION", "NT", "NTS", "USN", "BOOTID.UPNP.ORG", "CONFIGID.UPNP.ORG",
        "NEXTBOOTID.UPNP.ORG",
    ]
    alive = [m for m in messages if m.nts == "ssdp:alive"]  # type: ignore[union-attr]
    assert {m.header("bootid.upnp.org") for m in alive} == {"1235"}  # type: ignore[union-attr]
    assert {m.location for m in alive} == {ETH0.location, moved.location}  # type: ignore[union-attr]
    assert s.bootId == 1235
    # Again a few hundred ms later, with the new BOOTID; the old address never.
    clock.advance(0.5)
    again = parsed(recorder.take())
    assert len(again) == 2 * len(SET)
    assert ETH1.location not in {m.location for m in again}  # type: ignore[union-attr]


def test_searches_get_the_new_location_at_once_and_waiting_replies_too() -> None:
    clock = Clock()
    s, recorder = running(clock, bindings=(ETH0,))
    s.searchReceived(search("upnp:rootdevice", mx=5), SEARCHER)
    moved = HTTPBinding(InterfaceAddress("eth0", "192.0.2.77", 24), 8000)
    s.changeBindings((moved,), 1235)
    recorder.take()
    clock.advance(6)
    # The reply that waited for the old address goes with the new one.
    waited = [ssdp.parse(data) for kind, data, _ in recorder.take() if kind == "unicast"]
    assert [r.location for r in waited] == [moved.location]  # type: ignore[union-attr]
    s.searchReceived(search("upnp:rootdevice", mx=1), SEARCHER)
    clock.advance(1.1)
    [reply] = parsed(recorder.take())
    assert reply.location == moved.location  # type: ignore[union-attr]
    assert reply.header("bootid.upnp.org") == "1235"


def test_a_change_before_start_sends_nothing() -> None:
    clock = Clock()
    s, recorder = server(clock, bindings=())
    s.changeBindings((ETH0,), 1234)
    assert recorder.sent == []
    s.start()
    clock.advance(0.1)
    assert len(recorder.take()) == len(SET)


# -- the protocol adapter ------------------------------------------------------------


def sockets(clock: Clock, ipv6: bool = True) -> SSDPSockets:
    made = SSDPSockets(clock, ttl=4, ipv6=ipv6, makePort=FakePort)
    made.start()
    return made


def protocol(clock: Clock) -> tuple[SSDPProtocol, SSDPServer, FakePort]:
    made = sockets(clock)
    s = SSDPServer(device=DEVICE, configId=77, bindings=(ETH0, ETH1), sender=made, clock=clock,
                   rng=random.Random(3), bootId=1)
    s.running = True
    made.server = s
    return made.protocol, s, made.ports[4]


def test_datagrams_reach_the_server_and_replies_the_searcher_from_the_right_address() -> None:
    clock = Clock()
    p, _, port = protocol(clock)
    p.datagramReceived(ssdp.msearch(st="upnp:rootdevice", mx=1), SEARCHER, 5, "239.255.255.250")
    clock.advance(1)
    [(data, addr, ifindex, source)] = port.sent
    assert addr == SEARCHER and data.startswith(b"HTTP/1.1 200 OK")
    assert source == "192.0.2.7"


def test_multicast_goes_out_of_each_interface_from_its_address() -> None:
    clock = Clock()
    _, s, port = protocol(clock)
    s.sendAlive()
    assert {(addr, source) for _, addr, _, source in port.sent} == {
        (("239.255.255.250", 1900), "192.0.2.7"), (("239.255.255.250", 1900), "198.51.100.9"),
    }


def test_send_errors_are_logged_not_raised() -> None:
    clock = Clock()
    _, s, port = protocol(clock)
    port.failSends = True
    s.sendAlive()
    s.sender.sendUnicast(b"x", SEARCHER, ETH0)


def test_notifies_and_responses_from_others_are_ignored() -> None:
    clock = Clock()
    p, _, port = protocol(clock)
    p.datagramReceived(ssdp.alive(nt="upnp:rootdevice", usn="uuid:x::upnp:rootdevice",
                                  location="http://192.0.2.9/", maxAge=1800, server="x",
                                  bootId=1, configId=1), SEARCHER)
    clock.advance(10)
    assert port.sent == []


def test_a_failing_server_does_not_raise_out_of_the_protocol() -> None:
    clock = Clock()
    p, s, _ = protocol(clock)

    def boom(*a: object) -> None:
        raise RuntimeError("bug")

    s.searchReceived = boom  # type: ignore[method-assign]
    p.datagramReceived(ssdp.msearch(st="ssdp:all", mx=1), SEARCHER)


HOSTILE = [
    b"", b"\x00" * 10, b"M-SEARCH * HTTP/1.1\r\nMX: -1\r\nST: ssdp:all\r\nMAN: \"ssdp:discover\"\r\n\r\n",
    b"M-SEARCH * HTTP/1.1\r\nMX: abc\r\nST: ssdp:all\r\n\r\n", b"M-SEARCH * HTTP/1.1\r\nnocolon\r\n\r\n",
    b"M-SEARCH * HTTP/1.1\r\n" + b"X: " + b"a" * 65000 + b"\r\n\r\n", bytes(range(256)),
    b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 99999999999\r\nST: ssdp:all\r\n\r\n",
    b"M-SEARCH * HTTP/1.1\r\nST: " + b"urn:a:device:b:" + b"9" * 5000 + b"\r\nMX: 1\r\nMAN: \"ssdp:discover\"\r\n\r\n",
]


def test_hostile_datagrams_are_dropped_quietly() -> None:
    clock = Clock()
    p, _, port = protocol(clock)
    for data in HOSTILE:
        p.datagramReceived(data, SEARCHER, 2, "239.255.255.250")
    clock.advance(10)
    assert port.sent == []


@given(st.binary(max_size=2048) | st.builds(
    lambda st_, mx, junk: ssdp.msearch(st=st_, mx=mx) + junk,
    st.text(max_size=80), st.integers(0, 10**6) | st.none(), st.binary(max_size=64),
), st.integers(0, 5), st.sampled_from(["", "239.255.255.250", "192.0.2.7", "ff02::c"]))
@quick
def test_no_datagram_raises_out_of_the_protocol(data: bytes, ifindex: int, to: str) -> None:
    clock = Clock()
    p, _, _ = protocol(clock)
    p.datagramReceived(data, SEARCHER, ifindex, to)
    p.datagramReceived(data, ("198.51.100.77", 1900), ifindex, to)
    p.datagramReceived(data, ("fe80::7", 1900, 0, 2), ifindex, to)
    clock.advance(6)


# -- the sockets -----------------------------------------------------------------------


def test_one_socket_per_family_on_port_1900_with_the_ttl() -> None:
    made = sockets(Clock())
    assert {(f, p.port, p.kw["multicastTTL"]) for f, p in made.ports.items()} == {
        (4, 1900, 4), (6, 1900, 4),
    }
    assert all(p.listening for p in made.ports.values())
    assert list(sockets(Clock(), ipv6=False).ports) == [4]


def test_groups_are_joined_per_interface_by_scope_and_left_when_it_goes() -> None:
    made = sockets(Clock())
    v4, v6 = made.ports[4], made.ports[6]
    made.serve([ETH0.interface, InterfaceAddress("eth0", "192.0.2.8", 24),
                LL.interface, ULA.interface, LL1.interface])
    assert sorted(v4.groups) == [("join", "239.255.255.250", 0)]
    assert sorted(v6.groups) == [("join", "ff02::c", 2), ("join", "ff02::c", 3),
                                 ("join", "ff05::c", 2)]
    v4.groups.clear()
    v6.groups.clear()
    made.serve([LL1.interface])
    assert v4.groups == [("leave", "239.255.255.250", 0)]
    assert sorted(v6.groups) == [("leave", "ff02::c", 2), ("leave", "ff05::c", 2)]


def test_a_join_that_fails_is_logged_and_tried_again_at_the_next_change() -> None:
    made = sockets(Clock())
    made.ports[6].failJoins = {3}
    made.serve([LL.interface, LL1.interface])
    assert (6, "ff02::c", 3) not in made.joined
    made.ports[6].failJoins = set()
    made.serve([LL.interface, LL1.interface])
    assert (6, "ff02::c", 3) in made.joined


def test_no_ipv6_in_the_kernel_leaves_ipv4_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(FakePort, "refuse", {socket.AF_INET6})
    made = sockets(Clock())
    assert list(made.ports) == [4]
    made.serve([ETH0.interface, LL.interface])
    made.sendMulticast(b"x", LL, "ff02::c")  # nowhere to send: nothing happens


def test_no_ipv4_ssdp_socket_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(FakePort, "refuse", {socket.AF_INET})
    made = SSDPSockets(Clock(), makePort=FakePort)
    with pytest.raises(OSError, match="cannot open the SSDP socket on port 1900"):
        made.start()
    assert made.ports == {}


def test_memberships_follow_the_addresses() -> None:
    assert memberships([ETH0.interface, LL.interface]) == {
        (4, "239.255.255.250", 0), (6, "ff02::c", 2),
    }
    assert memberships([ULA.interface]) == {(6, "ff02::c", 2), (6, "ff05::c", 2)}


# -- replies built once a second, searches kept parsed -------------------------------


def expected_reply(s: SSDPServer, st: str, usn: str, binding: Any, when: float) -> bytes:
    """
    The reply as ssdp.search_response builds it (the path before replies
    were kept).
    """
    return ssdp.search_response(
        st=st, usn=usn, location=binding.urlBase + "/description.xml", maxAge=s.maxAge,
        date=ssdp.http_date(when), server=s.server, bootId=s.bootId, configId=s.configId,
    )


def test_kept_replies_are_the_bytes_search_response_builds() -> None:
    clock = Clock()
    clock.advance(1_700_000_000.25)
    s, recorder = running(clock, bindings=(ETH0, ETH1))
    for _ in range(3):
        s.searchReceived(search(mx=None, host="192.0.2.7:1900"), SEARCHER)
    sent = [data for _, data, _ in recorder.take()]
    assert len(sent) == 3 * len(SET)
    wanted = [expected_reply(s, a.nt, a.usn, ETH0, clock.seconds()) for a in SET]
    assert sent == wanted * 3
    # The next second: a new DATE, and nothing else changes.
    clock.advance(1)
    s.searchReceived(search(st="upnp:rootdevice", mx=None, host="192.0.2.7:1900"), SEARCHER)
    [(_, data, _)] = recorder.take()
    assert data == expected_reply(s, SET[0].nt, SET[0].usn, ETH0, clock.seconds())
    assert data != wanted[0]


def test_kept_replies_follow_bootid_bindings_and_configid() -> None:
    from upnp_announce.device.discovery import Advertised

    clock = Clock()
    s, recorder = running(clock, bindings=(ETH0, ETH1))
    unicast = search(st="upnp:rootdevice", mx=None, host="192.0.2.7:1900")
    s.searchReceived(unicast, SEARCHER)
    recorder.take()
    moved = HTTPBinding(InterfaceAddress("eth0", "192.0.2.8", 24), 8000)
    s.changeBindings((moved, ETH1), 1235)
    recorder.take()
    s.searchReceived(search(st="upnp:rootdevice", mx=None, host="192.0.2.8:1900"), SEARCHER)
    [(_, data, _)] = recorder.take()
    assert data == expected_reply(s, SET[0].nt, SET[0].usn, moved, clock.seconds())
    assert b"BOOTID.UPNP.ORG: 1235\r\n" in data and b"192.0.2.8" in data
    s.changeDevice(Advertised.of(DEVICE, 78))
    recorder.take()
    s.searchReceived(search(st="upnp:rootdevice", mx=None, host="192.0.2.8:1900"), SEARCHER)
    [(_, data, _)] = recorder.take()
    assert b"CONFIGID.UPNP.ORG: 78\r\n" in data


def test_a_search_seen_before_is_not_parsed_again(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    p, _, port = protocol(clock)
    calls = []
    real = ssdp.parse

    def counting(data: bytes) -> Any:
        calls.append(data)
        return real(data)

    monkeypatch.setattr(ssdp, "parse", counting)
    datagram = ssdp.msearch(st="upnp:rootdevice", mx=None, host="192.0.2.7:1900")
    for n in range(3):
        p.datagramReceived(datagram, (f"192.0.2.{50 + n}", 50000), 5, "192.0.2.7")
    assert calls == [datagram]
    assert [addr for _, addr, _, _ in port.sent] == [(f"192.0.2.{50 + n}", 50000)
                                                      for n in range(3)]
    # Bad datagrams are parsed (and dropped) every time; the kept searches
    # are bounded.
    for n in range(SSDPProtocol.KEEP + 10):
        p.datagramReceived(ssdp.msearch(st=f"urn:x:device:D{n}:1", mx=1), SEARCHER)
    assert len(p._searches) <= SSDPProtocol.KEEP
