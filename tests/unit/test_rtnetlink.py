"""
Tests for L{rtnetlink}: the parser on hand-built messages and fuzzed bytes,
the watcher with a fake reactor and socket, and the real thing in a network
namespace.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
import struct
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.interfaces import IReactorFDSet, IReadDescriptor, IWriteDescriptor
from twisted.logger import LogEvent, capturedLogs
from zope.interface import implementer

from upnp_announce import rtnetlink
from upnp_announce.rtnetlink import (
    DEFAULT_GROUPS,
    IFA_F_DADFAILED,
    IFA_F_DEPRECATED,
    IFA_F_NODAD,
    IFA_F_OPTIMISTIC,
    IFA_F_PERMANENT,
    IFA_F_TENTATIVE,
    IFF_LOWER_UP,
    IFF_RUNNING,
    IFF_UP,
    AddressEvent,
    DoneMessage,
    ErrorMessage,
    LinkEvent,
    NetlinkChange,
    NetlinkWatcher,
    ParseError,
    dump_request,
    parse_messages,
)

AF_INET, AF_INET6 = 2, 10


# Message builders (struct.pack, as the kernel lays them out)


def nlmsg(kind: int, payload: bytes, sequence: int = 0, flags: int = 0, pid: int = 0) -> bytes:
    """
    A netlink message, padded to 4 bytes.
    """
    length = 16 + len(payload)
    message = struct.pack("=IHHII", length, kind, flags, sequence, pid) + payload
    return message + bytes(-len(message) % 4)


def rtattr(kind: int, value: bytes) -> bytes:
    """
    A route attribute, padded to 4 bytes (its length field excludes the
    padding).
    """
    attribute = struct.pack("=HH", 4 + len(value), kind) + value
    return attribute + bytes(-len(attribute) % 4)


def ifaddrmsg(
    family: int, prefixlen: int, flags: int, scope: int, index: int, *attributes: bytes
) -> bytes:
    return struct.pack("=BBBBI", family, prefixlen, flags, scope, index) + b"".join(attributes)


def ifinfomsg(
    index: int, flags: int, *attributes: bytes, family: int = 0, change: int = 0
) -> bytes:
    return struct.pack("=BxHiII", family, 1, index, flags, change) + b"".join(attributes)


def v4(text: str) -> bytes:
    return socket.inet_pton(socket.AF_INET, text)


def v6(text: str) -> bytes:
    return socket.inet_pton(socket.AF_INET6, text)


def u32(value: int) -> bytes:
    return struct.pack("=I", value)


# Parsing


def test_ipv4_address() -> None:
    """
    An IPv4 RTM_NEWADDR has IFA_LOCAL and IFA_ADDRESS equal, a label, and
    IFA_FLAGS: they become one AddressEvent with no peer.
    """
    data = nlmsg(
        rtnetlink.RTM_NEWADDR,
        ifaddrmsg(
            AF_INET,
            24,
            0,
            0,
            7,
            rtattr(rtnetlink.IFA_ADDRESS, v4("192.168.5.9")),
            rtattr(rtnetlink.IFA_LOCAL, v4("192.168.5.9")),
            rtattr(rtnetlink.IFA_BROADCAST, v4("192.168.5.255")),
            rtattr(rtnetlink.IFA_LABEL, b"eth0:1\0"),
            rtattr(rtnetlink.IFA_FLAGS, u32(IFA_F_PERMANENT)),
        ),
    )
    assert parse_messages(data) == [
        AddressEvent("new", 7, AF_INET, "192.168.5.9", 24, 0, IFA_F_PERMANENT, None, "eth0:1")
    ]


def test_ipv4_point_to_point() -> None:
    """
    On a point-to-point IPv4 link IFA_LOCAL is our address and IFA_ADDRESS
    the peer's.
    """
    data = nlmsg(
        rtnetlink.RTM_NEWADDR,
        ifaddrmsg(
            AF_INET,
            32,
            IFA_F_PERMANENT,
            0,
            3,
            rtattr(rtnetlink.IFA_ADDRESS, v4("10.64.0.2")),
            rtattr(rtnetlink.IFA_LOCAL, v4("10.64.0.1")),
        ),
    )
    (event,) = parse_messages(data)
    assert isinstance(event, AddressEvent)
    assert (event.address, event.peer) == ("10.64.0.1", "10.64.0.2")


def test_ipv6_address_tentative() -> None:
    """
    IPv6 sends only IFA_ADDRESS; the 32-bit IFA_FLAGS wins over the 8-bit
    header flags; a tentative address is not bindable.
    """
    flags = IFA_F_TENTATIVE | 0x100  # IFA_F_MANAGETEMPADDR: beyond 8 bits
    data = nlmsg(
        rtnetlink.RTM_NEWADDR,
        ifaddrmsg(
            AF_INET6,
            64,
            IFA_F_PERMANENT,
            0,
            2,
            rtattr(rtnetlink.IFA_ADDRESS, v6("fd00:ab::1")),
            rtattr(rtnetlink.IFA_CACHEINFO, bytes(16)),
            rtattr(rtnetlink.IFA_FLAGS, u32(flags)),
        ),
    )
    (event,) = parse_messages(data)
    assert event == AddressEvent("new", 2, AF_INET6, "fd00:ab::1", 64, 0, flags)
    assert isinstance(event, AddressEvent)
    assert event.tentative and not event.bindable and not event.dadFailed


def test_header_flags_without_ifa_flags() -> None:
    """
    Without IFA_FLAGS (old kernels), the header's flags are used.
    """
    data = nlmsg(
        rtnetlink.RTM_DELADDR,
        ifaddrmsg(
            AF_INET6, 64, IFA_F_DEPRECATED, 253, 2, rtattr(rtnetlink.IFA_ADDRESS, v6("fe80::1"))
        ),
    )
    assert parse_messages(data) == [
        AddressEvent("del", 2, AF_INET6, "fe80::1", 64, 253, IFA_F_DEPRECATED)
    ]


@pytest.mark.parametrize(
    "flags, bindable",
    [
        (0, True),
        (IFA_F_PERMANENT | IFA_F_NODAD, True),
        (IFA_F_DEPRECATED, True),
        (IFA_F_TENTATIVE, False),
        (IFA_F_TENTATIVE | IFA_F_OPTIMISTIC, True),
        (IFA_F_TENTATIVE | IFA_F_DADFAILED, False),
        (IFA_F_TENTATIVE | IFA_F_OPTIMISTIC | IFA_F_DADFAILED, False),
    ],
)
def test_bindable(flags: int, bindable: bool) -> None:
    event = AddressEvent("new", 1, AF_INET6, "fd00::1", 64, 0, flags)
    assert event.bindable is bindable
    assert event.deprecated is bool(flags & IFA_F_DEPRECATED)


def test_links() -> None:
    """
    RTM_NEWLINK and RTM_DELLINK become LinkEvents with the name and flags;
    a missing IFLA_IFNAME is None.
    """
    flags = IFF_UP | IFF_RUNNING | IFF_LOWER_UP
    data = (
        nlmsg(
            rtnetlink.RTM_NEWLINK,
            ifinfomsg(4, flags, rtattr(4, u32(1500)), rtattr(rtnetlink.IFLA_IFNAME, b"veth0\0")),
        )
        + nlmsg(
            rtnetlink.RTM_DELLINK, ifinfomsg(5, 0, rtattr(rtnetlink.IFLA_IFNAME, b"wlan\xff\0"))
        )
        + nlmsg(rtnetlink.RTM_NEWLINK, ifinfomsg(6, IFF_UP))
    )
    up, gone, nameless = parse_messages(data)
    assert up == LinkEvent("new", 4, "veth0", flags)
    assert isinstance(up, LinkEvent) and up.up and up.running
    assert gone == LinkEvent("del", 5, "wlan\udcff", 0)
    assert isinstance(gone, LinkEvent) and not gone.up and not gone.running
    assert nameless == LinkEvent("new", 6, None, IFF_UP)


def test_done_error_and_skipped() -> None:
    """
    NLMSG_DONE and NLMSG_ERROR are reported; NOOP, routes (RTM_NEWROUTE)
    and addresses of other families are skipped; nested-flagged attribute
    types are masked.
    """
    request = struct.pack("=IHHII", 16, rtnetlink.RTM_GETADDR, 0x301, 9, 0)
    data = b"".join(
        [
            nlmsg(rtnetlink.NLMSG_NOOP, b""),
            nlmsg(24, bytes(12) + rtattr(1, v4("10.0.0.0"))),
            nlmsg(rtnetlink.RTM_NEWADDR, ifaddrmsg(17, 0, 0, 0, 1, rtattr(1, b"\1\2\3"))),
            nlmsg(
                rtnetlink.RTM_NEWADDR,
                ifaddrmsg(
                    AF_INET, 8, 0, 254, 1, rtattr(0x8000 | rtnetlink.IFA_LOCAL, v4("127.0.0.1"))
                ),
            ),
            nlmsg(rtnetlink.NLMSG_DONE, struct.pack("=i", 0), sequence=9),
            nlmsg(rtnetlink.NLMSG_ERROR, struct.pack("=i", -errno.EPERM) + request, sequence=10),
            nlmsg(rtnetlink.NLMSG_ERROR, struct.pack("=i", 0) + request, sequence=11),
        ]
    )
    assert parse_messages(data) == [
        AddressEvent("new", 1, AF_INET, "127.0.0.1", 8, 254, 0),
        DoneMessage(9),
        ErrorMessage(10, errno.EPERM),
        ErrorMessage(11, 0),
    ]


def test_empty() -> None:
    assert parse_messages(b"") == []


def test_last_message_unpadded() -> None:
    """
    The last message may end without padding.
    """
    message = nlmsg(rtnetlink.RTM_NEWLINK, ifinfomsg(1, 0, rtattr(rtnetlink.IFLA_IFNAME, b"lo\0")))
    assert message.endswith(b"\0")
    unpadded = struct.pack("=I", len(message) - 1) + message[4:-1]
    assert parse_messages(unpadded) == [LinkEvent("new", 1, "lo", 0)]


address = nlmsg(
    rtnetlink.RTM_NEWADDR,
    ifaddrmsg(AF_INET, 8, 0, 0, 1, rtattr(rtnetlink.IFA_LOCAL, v4("127.0.0.1"))),
)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(address[:15], id="truncated-header"),
        pytest.param(address + b"\0" * 4, id="trailing-bytes"),
        pytest.param(struct.pack("=I", 8) + address[4:], id="length-below-header"),
        pytest.param(struct.pack("=I", len(address) + 4) + address[4:], id="length-beyond-buffer"),
        pytest.param(nlmsg(rtnetlink.RTM_NEWADDR, bytes(7)), id="truncated-ifaddrmsg"),
        pytest.param(nlmsg(rtnetlink.RTM_DELLINK, bytes(15)), id="truncated-ifinfomsg"),
        pytest.param(nlmsg(rtnetlink.NLMSG_ERROR, bytes(3)), id="truncated-nlmsgerr"),
        pytest.param(
            nlmsg(rtnetlink.RTM_NEWADDR, ifaddrmsg(AF_INET, 8, 0, 0, 1, b"\x08\0")),
            id="truncated-rtattr",
        ),
        pytest.param(
            nlmsg(rtnetlink.RTM_NEWADDR, ifaddrmsg(AF_INET, 8, 0, 0, 1, struct.pack("=HH", 3, 1))),
            id="rtattr-below-header",
        ),
        pytest.param(
            nlmsg(
                rtnetlink.RTM_NEWADDR,
                ifaddrmsg(AF_INET, 8, 0, 0, 1, struct.pack("=HH", 12, 1) + v4("1.2.3.4")),
            ),
            id="rtattr-beyond-payload",
        ),
        pytest.param(
            nlmsg(rtnetlink.RTM_NEWADDR, ifaddrmsg(AF_INET, 8, 0, 0, 1, rtattr(1, v6("::1")))),
            id="ipv6-sized-ipv4-address",
        ),
        pytest.param(
            nlmsg(rtnetlink.RTM_NEWADDR, ifaddrmsg(AF_INET6, 8, 0, 0, 1, rtattr(2, v4("1.2.3.4")))),
            id="ipv4-sized-ipv6-local",
        ),
        pytest.param(nlmsg(rtnetlink.RTM_NEWADDR, ifaddrmsg(AF_INET, 8, 0, 0, 1)), id="no-address"),
        pytest.param(
            nlmsg(
                rtnetlink.RTM_NEWADDR,
                ifaddrmsg(
                    AF_INET,
                    8,
                    0,
                    0,
                    1,
                    rtattr(2, v4("1.2.3.4")),
                    rtattr(rtnetlink.IFA_FLAGS, b"\1\0"),
                ),
            ),
            id="truncated-ifa-flags",
        ),
    ],
)
def test_malformed(data: bytes) -> None:
    with pytest.raises(ParseError):
        parse_messages(data)


@given(st.binary(max_size=512))
def test_fuzz_bytes(data: bytes) -> None:
    """
    Arbitrary bytes parse, or raise ParseError; nothing else.
    """
    try:
        result = parse_messages(data)
    except ParseError:
        return
    assert isinstance(result, list)


_types = st.sampled_from(
    [
        rtnetlink.NLMSG_NOOP,
        rtnetlink.NLMSG_ERROR,
        rtnetlink.NLMSG_DONE,
        rtnetlink.RTM_NEWLINK,
        rtnetlink.RTM_DELLINK,
        rtnetlink.RTM_NEWADDR,
        rtnetlink.RTM_DELADDR,
        24,
    ]
)
_attributes = st.lists(st.tuples(st.integers(0, 0xFFFF), st.binary(max_size=20)), max_size=6)
_families = st.sampled_from([AF_INET, AF_INET6, 0, 7])


@st.composite
def framed(draw: st.DrawFn) -> bytes:
    """
    Well-framed messages of the interesting types, with headers of random
    (possibly wrong) sizes and random attributes: to reach past the framing.
    """
    messages = []
    for kind in draw(st.lists(_types, max_size=5)):
        head = draw(st.one_of(st.binary(min_size=16, max_size=16), st.binary(max_size=20)))
        if (
            kind in (rtnetlink.RTM_NEWADDR, rtnetlink.RTM_DELADDR)
            and len(head) >= 8
            and draw(st.booleans())
        ):
            head = bytes([draw(_families)]) + head[1:8]
        attributes = b"".join(rtattr(kind, value) for kind, value in draw(_attributes))
        messages.append(nlmsg(kind, head + attributes))
    return b"".join(messages)


@given(framed())
def test_fuzz_framed(data: bytes) -> None:
    try:
        result = parse_messages(data)
    except ParseError:
        return
    assert all(isinstance(m, (AddressEvent, LinkEvent, DoneMessage, ErrorMessage)) for m in result)


@given(
    st.sampled_from(["new", "del"]),
    st.ip_addresses(),
    st.integers(0, 128),
    st.integers(0, 255),
    st.integers(0, 2**32 - 1),
    st.integers(0, 2**32 - 1),
)
def test_roundtrip(kind: str, ip: Any, prefixlen: int, scope: int, index: int, flags: int) -> None:
    """
    A well-formed address message parses back to what it was made of.
    """
    family = AF_INET if ip.version == 4 else AF_INET6
    attribute = rtnetlink.IFA_LOCAL if family == AF_INET else rtnetlink.IFA_ADDRESS
    message = nlmsg(
        rtnetlink.RTM_NEWADDR if kind == "new" else rtnetlink.RTM_DELADDR,
        ifaddrmsg(
            family,
            prefixlen % 256,
            0,
            scope,
            index,
            rtattr(attribute, ip.packed),
            rtattr(8, u32(flags)),
        ),
    )
    (event,) = parse_messages(message)
    assert isinstance(event, AddressEvent)
    assert (event.kind, event.index, event.family, event.prefixlen, event.scope, event.flags) == (
        kind,
        index,
        family,
        prefixlen % 256,
        scope,
        flags,
    )
    assert ipaddress.ip_address(event.address) == ip and event.peer is None


def test_dump_request() -> None:
    """
    dump_request makes a NLM_F_REQUEST|NLM_F_DUMP message with a zeroed
    family header.
    """
    request = dump_request(rtnetlink.RTM_GETADDR, 42, AF_INET6)
    assert struct.unpack("=IHHII", request[:16]) == (24, rtnetlink.RTM_GETADDR, 0x301, 42, 0)
    assert request[16:] == struct.pack("=BBBBI", AF_INET6, 0, 0, 0, 0)
    assert len(dump_request(rtnetlink.RTM_GETLINK, 1)) == 32
    with pytest.raises(ValueError):
        dump_request(rtnetlink.RTM_NEWLINK, 1)


# The watcher, with a fake reactor and socket


@implementer(IReactorFDSet)
class FakeReactor:
    def __init__(self) -> None:
        self.readers: list[IReadDescriptor] = []

    def addReader(self, reader: IReadDescriptor) -> None:
        assert reader not in self.readers
        self.readers.append(reader)

    def removeReader(self, reader: IReadDescriptor) -> None:
        self.readers.remove(reader)

    def addWriter(self, writer: IWriteDescriptor) -> None:
        raise NotImplementedError()

    def removeWriter(self, writer: IWriteDescriptor) -> None:
        raise NotImplementedError()

    def removeAll(self) -> list[IReadDescriptor | IWriteDescriptor]:
        removed: list[IReadDescriptor | IWriteDescriptor] = list(self.readers)
        self.readers.clear()
        return removed

    def getReaders(self) -> list[IReadDescriptor]:
        return list(self.readers)

    def getWriters(self) -> list[IWriteDescriptor]:
        return []


Received = tuple[bytes, list[tuple[int, int, bytes]], int, object]


class FakeSocket:
    """
    A netlink socket whose recvmsg returns (or raises) what it is given,
    then raises BlockingIOError; or repeats forever.
    """

    def __init__(self, *script: Received | OSError, forever: Received | None = None) -> None:
        self.script = list(script)
        self.forever = forever
        self.bound: tuple[int, int] | None = None
        self.options: list[tuple[int, int, int]] = []
        self.closed = False
        self.reads = 0

    def bind(self, address: tuple[int, int], /) -> None:
        self.bound = address

    def setsockopt(self, level: int, option: int, value: int, /) -> None:
        self.options.append((level, option, value))

    def recvmsg(self, bufsize: int, /) -> Received:
        self.reads += 1
        if self.script:
            step = self.script.pop(0)
            if isinstance(step, OSError):
                raise step
            return step
        if self.forever is not None:
            return self.forever
        raise BlockingIOError(errno.EAGAIN, "empty")

    def fileno(self) -> int:
        return -1 if self.closed else 99

    def close(self) -> None:
        self.closed = True


def kernel(data: bytes, flags: int = 0) -> Received:
    return (data, [], flags, (0, 0))


LINK = nlmsg(rtnetlink.RTM_NEWLINK, ifinfomsg(3, IFF_UP, rtattr(rtnetlink.IFLA_IFNAME, b"eth1\0")))
ADDR = nlmsg(
    rtnetlink.RTM_NEWADDR,
    ifaddrmsg(AF_INET, 24, 0, 0, 3, rtattr(rtnetlink.IFA_LOCAL, v4("10.1.2.3"))),
)
LINK_EVENT = LinkEvent("new", 3, "eth1", IFF_UP)
ADDR_EVENT = AddressEvent("new", 3, AF_INET, "10.1.2.3", 24, 0, 0)


def watcherWith(
    sock: FakeSocket, **kw: int
) -> tuple[NetlinkWatcher, FakeReactor, list[NetlinkChange]]:
    reactor = FakeReactor()
    changes: list[NetlinkChange] = []
    watcher = NetlinkWatcher(reactor, changes.append, socketFactory=lambda: sock, **kw)
    return watcher, reactor, changes


def test_start_and_stop() -> None:
    """
    Nothing is opened until start(), which binds to the groups and adds the
    watcher as a reader; stop() undoes it; both are idempotent.
    """
    made: list[FakeSocket] = []

    def factory() -> FakeSocket:
        made.append(FakeSocket())
        return made[-1]

    reactor = FakeReactor()
    watcher = NetlinkWatcher(reactor, lambda change: None, socketFactory=factory)
    assert made == [] and not watcher.running and watcher.fileno() == -1
    assert watcher.start() is True
    assert watcher.start() is True
    (sock,) = made
    assert sock.bound == (0, DEFAULT_GROUPS)
    assert (socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20) in sock.options
    assert reactor.readers == [watcher] and watcher.running and watcher.fileno() == 99
    watcher.stop()
    watcher.stop()
    assert reactor.readers == [] and sock.closed and not watcher.running and watcher.fileno() == -1


@pytest.mark.parametrize("code", [errno.EPERM, errno.EAFNOSUPPORT, errno.EPROTONOSUPPORT])
def test_unavailable(code: int) -> None:
    """
    When the socket cannot be made, start() says so and registers nothing.
    """

    def factory() -> FakeSocket:
        raise OSError(code, "no")

    reactor = FakeReactor()
    watcher = NetlinkWatcher(reactor, lambda change: None, socketFactory=factory)
    assert watcher.start() is False
    assert reactor.readers == [] and not watcher.running


def test_bind_refused() -> None:
    sock = FakeSocket()

    def refuse(address: tuple[int, int], /) -> None:
        raise OSError(errno.EPERM, "no")

    sock.bind = refuse  # type: ignore[method-assign]
    watcher, reactor, _ = watcherWith(sock)
    assert watcher.start() is False
    assert sock.closed and reactor.readers == []


def test_not_linux(monkeypatch: pytest.MonkeyPatch) -> None:
    """
    Without AF_NETLINK (not Linux) the default socket factory fails and
    start() returns False.
    """
    monkeypatch.delattr(socket, "AF_NETLINK", raising=False)
    watcher = NetlinkWatcher(FakeReactor(), lambda change: None)
    assert watcher.start() is False


def test_reads_all_pending() -> None:
    """
    One doRead reads every pending datagram and reports their events in one
    change; DONE messages are not events.
    """
    sock = FakeSocket(kernel(LINK), kernel(ADDR + nlmsg(rtnetlink.NLMSG_DONE, bytes(4))))
    watcher, _, changes = watcherWith(sock)
    watcher.start()
    watcher.doRead()
    assert changes == [NetlinkChange((LINK_EVENT, ADDR_EVENT), lost=False)]
    watcher.doRead()
    assert len(changes) == 1


def test_enobufs() -> None:
    """
    ENOBUFS (notifications dropped) is reported as a lost change, and
    reading goes on.
    """
    sock = FakeSocket(OSError(errno.ENOBUFS, "overrun"), kernel(ADDR))
    watcher, _, changes = watcherWith(sock)
    watcher.start()
    watcher.doRead()
    assert changes == [NetlinkChange((ADDR_EVENT,), lost=True)]
    assert watcher.running


def test_enobufs_alone() -> None:
    sock = FakeSocket(OSError(errno.ENOBUFS, "overrun"))
    watcher, _, changes = watcherWith(sock)
    watcher.start()
    watcher.doRead()
    assert changes == [NetlinkChange((), lost=True)]


def test_truncated_and_malformed() -> None:
    """
    A truncated datagram or a malformed one means a lost change; the events
    of good datagrams are kept.
    """
    sock = FakeSocket(kernel(LINK, socket.MSG_TRUNC), kernel(b"\1\2\3"), kernel(ADDR))
    watcher, _, changes = watcherWith(sock)
    watcher.start()
    watcher.doRead()
    assert changes == [NetlinkChange((LINK_EVENT, ADDR_EVENT), lost=True)]


def test_not_from_kernel() -> None:
    """
    Datagrams from another process (port id not 0) are ignored.
    """
    sock = FakeSocket((ADDR, [], 0, (4242, 0)))
    watcher, _, changes = watcherWith(sock)
    watcher.start()
    watcher.doRead()
    assert changes == []


def test_bounded_read() -> None:
    """
    A socket that never runs dry is read maxDatagrams times per doRead.
    """
    sock = FakeSocket(forever=kernel(LINK))
    watcher, _, changes = watcherWith(sock, maxDatagrams=5)
    watcher.start()
    watcher.doRead()
    assert sock.reads == 5
    assert changes == [NetlinkChange((LINK_EVENT,) * 5)]


@pytest.fixture
def logged() -> Iterator[Sequence[LogEvent]]:
    with capturedLogs() as events:
        yield events


def test_socket_error_stops(logged: Sequence[LogEvent]) -> None:
    """
    An unexpected socket error stops the watcher and reports a lost change,
    so the caller falls back to polling.
    """
    sock = FakeSocket(OSError(errno.EBADF, "bad"))
    watcher, reactor, changes = watcherWith(sock)
    watcher.start()
    watcher.doRead()
    assert changes == [NetlinkChange((), lost=True)]
    assert not watcher.running and reactor.readers == [] and sock.closed
    assert any("log_failure" in event for event in logged)


def test_callback_error_logged(logged: Sequence[LogEvent]) -> None:
    """
    An exception from onChange is logged, not raised into the reactor.
    """
    sock = FakeSocket(kernel(LINK))

    def explode(change: NetlinkChange) -> None:
        raise RuntimeError("boom")

    watcher = NetlinkWatcher(FakeReactor(), explode, socketFactory=lambda: sock)
    watcher.start()
    watcher.doRead()
    assert watcher.running
    assert any(
        isinstance(getattr(event.get("log_failure"), "value", None), RuntimeError)
        for event in logged
    )


def test_connection_lost_closes() -> None:
    sock = FakeSocket()
    watcher, _, _ = watcherWith(sock)
    watcher.start()
    watcher.connectionLost(None)  # type: ignore[arg-type]
    assert sock.closed and not watcher.running




# The real thing, in a network namespace




