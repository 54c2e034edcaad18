"""
PacketInfoPort on loopback, for real (127.0.0.1 and ::1 unicast only):
round trips with the arrival interface and destination, the bound host,
bounded reads, errors logged and raised as they should be.
"""

from __future__ import annotations

import errno
import select
import socket
import time
from collections.abc import Callable, Coroutine, Iterator, Sequence
from typing import Any, cast

import pytest
import pytest_twisted
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.defer import DeferredQueue
from twisted.internet.error import CannotListenError, InvalidAddressError
from twisted.internet.interfaces import IReactorFDSet, IReadDescriptor, IWriteDescriptor
from twisted.logger import LogEvent, capturedLogs
from unit.test_pktinfo import GROUP4, IPV6, LO
from zope.interface import implementer
from zope.interface.verify import verifyObject

from upnp_announce.pktinfo import (
    IPacketInfoProtocol,
    PacketInfoPort,
    PacketInfoProtocol,
    SocketAddress,
    listen_packet_info,
)

Datagram = tuple[bytes, SocketAddress, int, str]



@pytest.fixture
def ports() -> Iterator[list[PacketInfoPort]]:
    """
    Ports to stop after the test.
    """
    made: list[PacketInfoPort] = []
    try:
        yield made
    finally:
        for port in made:
            port.stopListening()


def loopback(
    reactor: IReactorFDSet, family: int, made: list[PacketInfoPort], **kw: Any
) -> tuple[PacketInfoPort, Collect]:
    protocol = Collect()
    port = listen_packet_info(
        reactor, protocol, family, 0, "127.0.0.1" if family == socket.AF_INET else "::1", **kw
    )
    made.append(port)
    return port, protocol


def address(port: PacketInfoPort) -> tuple[str, int]:
    host = port.getHost()
    return (host.host, host.port)


def drain(port: PacketInfoPort, protocol: Collect, count: int, timeout: float = 3) -> None:
    """
    Call doRead until C{count} datagrams came, at most C{timeout} seconds.
    """
    deadline = time.monotonic() + timeout
    while len(protocol.datagrams) < count and time.monotonic() < deadline:
        select.select([port], [], [], 0.1)
        port.doRead()


def inReactor(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., Any]:
    """
    pytest_twisted.ensureDeferred, typed.
    """
    return cast(Callable[..., Any], pytest_twisted.ensureDeferred(test))


@pytest.mark.parametrize("family", [socket.AF_INET, socket.AF_INET6])
@inReactor
async def test_loopback_round_trip(family: int, ports: list[PacketInfoPort]) -> None:
    """
    With the real reactor: a datagram sent out of lo from a chosen source
    arrives with lo's index and our address as destination; the reply sent
    by that index comes back.
    """
    from twisted.internet import reactor

    a, aProtocol = loopback(reactor, family, ports)
    b, bProtocol = loopback(reactor, family, ports)
    local = "127.0.0.1" if family == socket.AF_INET else "::1"
    assert a.sendTo(b"ping", address(b), ifindex=LO, source=local) == 4
    data, sender, ifindex, destination = await bProtocol.queue.get().addTimeout(5, reactor)
    assert (data, ifindex, destination) == (b"ping", LO, local)
    assert sender[:2] == address(a)
    if family == socket.AF_INET6:
        assert len(sender) == 4 and sender[3] == 0
    b.sendTo(b"pong", sender, ifindex=ifindex)
    data, sender, ifindex, destination = await aProtocol.queue.get().addTimeout(5, reactor)
    assert (data, sender[:2], ifindex, destination) == (b"pong", address(b), LO, local)


def test_interfaces_and_host(ports: list[PacketInfoPort]) -> None:
    reactor = FakeReactor()
    v4, protocol = loopback(reactor, socket.AF_INET, ports)
    v6, _ = loopback(reactor, socket.AF_INET6, ports)
    assert verifyObject(IPacketInfoProtocol, protocol)
    assert protocol.transport is v4
    assert reactor.readers == [v4, v6]
    assert isinstance(v4.getHost(), IPv4Address) and isinstance(v6.getHost(), IPv6Address)
    assert v4.multicastAllDisabled and v6.multicastAllDisabled
    sock = socket.socket(fileno=v6.fileno())
    try:
        assert sock.getsockopt(IPV6, socket.IPV6_V6ONLY) == 1
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1
        assert sock.getsockopt(IPV6, socket.IPV6_MULTICAST_HOPS) == 2
        assert sock.getsockopt(IPV6, socket.IPV6_MULTICAST_LOOP) == 1
    finally:
        sock.detach()
    v4.stopListening()
    v4.stopListening()
    assert reactor.readers == [v6] and v4.fileno() == -1


def test_bounded_reads(ports: list[PacketInfoPort]) -> None:
    """
    doRead reads at most maxReads datagrams, then returns; the next one
    reads the rest, then stops at EAGAIN.
    """
    port, protocol = loopback(FakeReactor(), socket.AF_INET, ports)
    port.maxReads = 64
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        for n in range(100):
            sender.sendto(b"%d" % n, address(port))
    time.sleep(0.2)
    port.doRead()
    assert len(protocol.datagrams) == 64
    drain(port, protocol, 100)
    assert [d[0] for d in protocol.datagrams] == [b"%d" % n for n in range(100)]
    port.doRead()
    assert len(protocol.datagrams) == 100


def test_protocol_errors_logged(ports: list[PacketInfoPort]) -> None:
    """
    An exception from the protocol is logged; the next datagrams are still
    read. Datagrams longer than maxPacketSize are dropped.
    """
    port, protocol = loopback(FakeReactor(), socket.AF_INET, ports)
    port.maxPacketSize = 10
    calls: list[bytes] = []

    def explode(data: bytes, address: SocketAddress, ifindex: int, destination: str) -> None:
        calls.append(data)
        raise RuntimeError("boom")

    protocol.datagramReceived = explode  # type: ignore[method-assign]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        for data in (b"one", b"much too long", b"three"):
            sender.sendto(data, address(port))
    time.sleep(0.2)
    logged: Sequence[LogEvent]
    with capturedLogs() as logged:
        port.doRead()
    assert calls == [b"one", b"three"]
    assert (
        sum(isinstance(getattr(e.get("log_failure"), "value", None), RuntimeError) for e in logged)
        == 2
    )


def test_errors(ports: list[PacketInfoPort]) -> None:
    """
    Bad addresses, bad groups and kernel refusals are exceptions for the
    caller (OSError from the kernel), never for the reactor.
    """
    reactor = FakeReactor()
    v4, _ = loopback(reactor, socket.AF_INET, ports)
    v6, _ = loopback(reactor, socket.AF_INET6, ports)
    with pytest.raises(InvalidAddressError):
        v4.sendTo(b"x", ("localhost", 9))
    with pytest.raises(InvalidAddressError):
        v4.sendTo(b"x", ("::1", 9))
    with pytest.raises(InvalidAddressError):
        v6.sendTo(b"x", ("127.0.0.1", 9))
    for port, destination in ((v4, ("127.0.0.1", 9)), (v6, ("::1", 9))):
        with pytest.raises(OSError) as raised:
            port.sendTo(b"x", destination, ifindex=999999)
        assert raised.value.errno == errno.ENODEV
    # Not a group: refused before anything is sent.
    with pytest.raises(OSError) as raised:
        v4.joinGroup("127.0.0.1", LO)
    assert raised.value.errno == errno.EINVAL
    with pytest.raises(OSError) as raised:
        v6.joinGroup("::1", LO)
    assert raised.value.errno == errno.EINVAL
    with pytest.raises(OSError):
        v4.joinGroup("ff02::c", LO)
    with pytest.raises(OSError):
        v6.joinGroup("no-address", LO)
    assert v4.memberships == frozenset() and v6.memberships == frozenset()
    v4.stopListening()
    for call in (
        lambda: v4.sendTo(b"x", ("127.0.0.1", 9)),
        lambda: v4.joinGroup(GROUP4, LO),
        lambda: v4.setOutgoingInterface(LO),
        lambda: v4.setMulticastTTL(4),
        lambda: v4.getHost(),
    ):
        with pytest.raises(OSError) as raised:
            call()
        assert raised.value.errno == errno.EBADF


def test_cannot_listen(ports: list[PacketInfoPort]) -> None:
    with pytest.raises(ValueError):
        PacketInfoPort(FakeReactor(), Collect(), socket.AF_UNIX, 0)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = PacketInfoPort(
            FakeReactor(), Collect(), socket.AF_INET, taken.getsockname()[1], "127.0.0.1"
        )
        with pytest.raises(CannotListenError) as raised:
            port.startListening()
        assert isinstance(raised.value.socketError, OSError)
        assert raised.value.socketError.errno == errno.EADDRINUSE
        assert port.fileno() == -1


@implementer(IReactorFDSet)
class FakeReactor:
    def __init__(self) -> None:
        self.readers: list[IReadDescriptor] = []

    def addReader(self, reader: IReadDescriptor) -> None:
        self.readers.append(reader)

    def removeReader(self, reader: IReadDescriptor) -> None:
        self.readers.remove(reader)

    def addWriter(self, writer: IWriteDescriptor) -> None:
        raise NotImplementedError()

    def removeWriter(self, writer: IWriteDescriptor) -> None:
        raise NotImplementedError()

    def removeAll(self) -> list[IReadDescriptor | IWriteDescriptor]:
        return []

    def getReaders(self) -> list[IReadDescriptor]:
        return list(self.readers)

    def getWriters(self) -> list[IWriteDescriptor]:
        return []


class Collect(PacketInfoProtocol):
    def __init__(self) -> None:
        self.datagrams: list[Datagram] = []
        self.queue: DeferredQueue[Datagram] = DeferredQueue()

    def datagramReceived(
        self, data: bytes, address: SocketAddress, ifindex: int, destination: str
    ) -> None:
        self.datagrams.append((data, address, ifindex, destination))
        self.queue.put((data, address, ifindex, destination))
