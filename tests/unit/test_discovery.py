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
from twisted.internet.testing import MemoryReactorClock

from upnp_announce import UPnPService, config
from upnp_announce.device.discovery import SSDPServer
from upnp_announce.device.runner import HTTPBinding
from upnp_announce.device.ssdpsocket import SSDPProtocol
from upnp_announce.netif import Adapter, InterfaceAddress
from upnp_announce.wire import ssdp
from upnp_announce.wire.ssdp import announcements

from support import example, light

ETH0 = HTTPBinding(InterfaceAddress("eth0", "192.0.2.7", 24), 8000)
ETH1 = HTTPBinding(InterfaceAddress("eth1", "198.51.100.9", 24), 8000)
SEARCHER = ("192.0.2.50", 50000)
quick = settings(database=None, deadline=None)


@dataclass
class Recorder:
    sent: list[tuple[str, bytes, object]] = field(default_factory=list)

    def sendUnicast(self, data: bytes, destination: tuple[str, int]) -> None:
        self.sent.append(("unicast", data, destination))

    def sendMulticast(self, data: bytes, interface: InterfaceAddress) -> None:
        self.sent.append(("multicast", data, interface))

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
    for _ in range(10):
        s.searchReceived(search(mx=0), SEARCHER)
    s.searchReceived(search(mx=0), ("192.0.2.51", 50000))
    clock.advance(0)
    sent = recorder.take()
    assert len([1 for _, _, d in sent if d == SEARCHER]) == 2 * len(SET)
    assert len([1 for _, _, d in sent if d != SEARCHER]) == len(SET)
    clock.advance(1)
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


# -- the protocol adapter ------------------------------------------------------------


class FakeSocket:
    def __init__(self) -> None:
        self.options: list[tuple[int, int, bytes]] = []

    def setsockopt(self, level: int, name: int, value: bytes) -> None:
        self.options.append((level, name, value))


class FakeTransport:
    def __init__(self, fail: bool = False) -> None:
        self.socket = FakeSocket()
        self.written: list[tuple[bytes, tuple[str, int]]] = []
        self.fail = fail

    def write(self, data: bytes, addr: tuple[str, int]) -> None:
        if self.fail:
            raise OSError(101, "Network is unreachable")
        self.written.append((data, addr))


def protocol(clock: Clock) -> tuple[SSDPProtocol, SSDPServer, FakeTransport]:
    p = SSDPProtocol(clock)
    transport = FakeTransport()
    p.transport = transport  # type: ignore[assignment]
    s = SSDPServer(device=DEVICE, configId=77, bindings=(ETH0, ETH1), sender=p, clock=clock,
                   rng=random.Random(3), bootId=1)
    s.running = True
    p.server = s
    return p, s, transport


def test_datagrams_reach_the_server_and_replies_the_searcher() -> None:
    clock = Clock()
    p, _, transport = protocol(clock)
    p.datagramReceived(ssdp.msearch(st="upnp:rootdevice", mx=1), SEARCHER)
    clock.advance(1)
    [(data, addr)] = transport.written
    assert addr == SEARCHER and data.startswith(b"HTTP/1.1 200 OK")


def test_multicast_goes_out_of_the_chosen_interface() -> None:
    clock = Clock()
    p, s, transport = protocol(clock)
    s.sendAlive()
    assert {addr for _, addr in transport.written} == {("239.255.255.250", 1900)}
    # IP_MULTICAST_IF is set once per change of interface, before its sends.
    assert transport.socket.options == [
        (socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("192.0.2.7")),
        (socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("198.51.100.9")),
    ]


def test_send_errors_are_logged_not_raised() -> None:
    clock = Clock()
    p, s, _ = protocol(clock)
    p.transport = FakeTransport(fail=True)  # type: ignore[assignment]
    s.sendAlive()
    p.sendUnicast(b"x", SEARCHER)


def test_notifies_and_responses_from_others_are_ignored() -> None:
    clock = Clock()
    p, _, transport = protocol(clock)
    p.datagramReceived(ssdp.alive(nt="upnp:rootdevice", usn="uuid:x::upnp:rootdevice",
                                  location="http://192.0.2.9/", maxAge=1800, server="x",
                                  bootId=1, configId=1), SEARCHER)
    clock.advance(10)
    assert transport.written == []


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
    p, _, transport = protocol(clock)
    for data in HOSTILE:
        p.datagramReceived(data, SEARCHER)
    clock.advance(10)
    assert transport.written == []


@given(st.binary(max_size=2048) | st.builds(
    lambda st_, mx, junk: ssdp.msearch(st=st_, mx=mx) + junk,
    st.text(max_size=80), st.integers(0, 10**6) | st.none(), st.binary(max_size=64),
))
@quick
def test_no_datagram_raises_out_of_the_protocol(data: bytes) -> None:
    clock = Clock()
    p, _, _ = protocol(clock)
    p.datagramReceived(data, SEARCHER)
    p.datagramReceived(data, ("198.51.100.77", 1900))
    clock.advance(6)


# -- the socket, and the service around the server -----------------------------------


class FakeMulticastPort:
    def __init__(self, fail: bool = False) -> None:
        self.socket = FakeSocket()
        self.calls: list[tuple[str, object]] = []
        self.fail = fail

    def setTTL(self, ttl: int) -> None:
        self.calls.append(("ttl", ttl))

    def setLoopbackMode(self, mode: int) -> None:
        self.calls.append(("loop", mode))
        if self.fail:
            raise OSError(19, "No such device")

    def stopListening(self) -> None:
        self.calls.append(("stop", None))


class FakeMulticastReactor:
    def __init__(self, port: FakeMulticastPort) -> None:
        self.port = port
        self.listened: list[tuple[int, bool]] = []

    def listenMulticast(self, port: int, protocol: object, listenMultiple: bool = False) -> FakeMulticastPort:
        self.listened.append((port, listenMultiple))
        return self.port


def test_listen_shares_port_1900_joins_once_per_interface_and_sets_ttl() -> None:
    from upnp_announce.device import ssdpsocket as ssdpserver

    port = FakeMulticastPort()
    reactor = FakeMulticastReactor(port)
    interfaces = [
        InterfaceAddress("eth0", "192.0.2.7", 24),
        InterfaceAddress("eth0", "192.0.2.8", 24),
        InterfaceAddress("eth1", "198.51.100.9", 24),
    ]
    assert ssdpserver.listen(reactor, SSDPProtocol(Clock()), interfaces, ttl=4) is port
    assert reactor.listened == [(1900, True)]
    assert port.calls == [("ttl", 4), ("loop", 1)]
    group = socket.inet_aton("239.255.255.250")
    assert port.socket.options == [
        (socket.IPPROTO_IP, ssdpserver.IP_MULTICAST_ALL, 0),
        (socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, group + socket.inet_aton("192.0.2.7")),
        (socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, group + socket.inet_aton("198.51.100.9")),
    ]


def test_listen_closes_the_socket_when_set_up_fails() -> None:
    from upnp_announce.device import ssdpsocket as ssdpserver

    port = FakeMulticastPort(fail=True)
    with pytest.raises(OSError):
        ssdpserver.listen(FakeMulticastReactor(port), SSDPProtocol(Clock()), [ETH0.interface])
    assert port.calls[-1] == ("stop", None)


def test_bootid_grows_with_every_start_and_configid_is_the_descriptions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:

    from upnp_announce.device import ssdpsocket as ssdpserver

    monkeypatch.setattr(ssdpserver, "listen", lambda *a, **kw: None)
    reactor = MemoryReactorClock()
    reactor.advance(1_700_000_000)
    service = UPnPService(DEVICE, reactor=reactor, httpPort=8000,
                          adapters=lambda: [Adapter("eth0", 0x1001, (("192.0.2.7", 24),))])
    boots = []
    for _ in range(3):
        service.startService()
        assert service.ssdp is not None
        assert service.ssdp.configId == service.site.descriptions.configId
        boots.append(service.ssdp.bootId)
        service.stopService()
        reactor.advance(0.2)
    assert boots == [1_700_000_000, 1_700_000_001, 1_700_000_002]
    reactor.advance(100)
    service.startService()
    # The clock again, once it is ahead of the last BOOTID.
    assert service.ssdp.bootId == 1_700_000_100
    assert service.ssdp.bootId < 2**31


def test_a_vanished_address_stops_neither_the_others_nor_the_next_round() -> None:
    clock = Clock()
    protocol = SSDPProtocol(clock)
    transport = Written(gone="192.0.2.7")
    protocol.transport = transport  # type: ignore[assignment]
    gone = HTTPBinding(InterfaceAddress("eth0", "192.0.2.7", 24), 8000)
    alive = HTTPBinding(InterfaceAddress("eth1", "198.51.100.9", 24), 8000)
    server = SSDPServer(device=light(), configId=1, bindings=(gone, alive), sender=protocol,
                        clock=clock, rng=random.Random(1), bootId=1)
    server.start()
    clock.advance(0.1)
    first = len(transport.sent)
    assert first > 0  # eth1 got its set
    clock.advance(900)
    assert len(transport.sent) > first  # and it goes on
    fired: list[None] = []
    server.stop().addCallback(fired.append)
    clock.advance(0.1)
    assert fired == [None]


class VanishingSocket:
    def __init__(self, gone: str) -> None:
        self.gone = gone

    def setsockopt(self, level: int, name: int, value: bytes) -> None:
        if value == socket.inet_aton(self.gone):
            raise OSError(99, "Cannot assign requested address")


class Written:
    def __init__(self, gone: str) -> None:
        self.socket = VanishingSocket(gone)
        self.sent: list[bytes] = []

    def write(self, data: bytes, addr: Any) -> None:
        self.sent.append(data)
