"""
A UDP port that knows, for every datagram, the interface it arrived on and
the address it was sent to (C{IP_PKTINFO} / C{IPV6_RECVPKTINFO}), and that
can choose, for every datagram it sends, the interface and source address
(C{IP_PKTINFO} / C{IPV6_PKTINFO} ancillary data).

That is what a multicast responder such as SSDP (port 1900, groups
C{239.255.255.250}, C{ff02::c}, C{ff05::c}) needs on a multi-homed host:
one socket for all interfaces, group membership per interface index, and
replies that leave by the interface the request came in on, even when two
interfaces have the same (overlapping) subnet or only link-local addresses.

Twisted's own UDP port reads with C{recvfrom}, which drops ancillary data
(and C{reactor.adoptDatagramPort} wraps the descriptor in that same port),
so L{PacketInfoPort} is a small L{IReadDescriptor} of its own reading with
C{recvmsg}.

The pure helpers (L{decode_packet_info}, L{encode_packet_info}, L{ip_mreqn},
L{ipv6_mreq}, L{split_scope}) do no I/O.
"""

from __future__ import annotations

import errno
import functools
import ipaddress
import socket
import struct
import sys
from collections.abc import Iterable
from dataclasses import dataclass

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.error import CannotListenError, InvalidAddressError
from twisted.internet.interfaces import IListeningPort, IReactorFDSet, IReadDescriptor
from twisted.python.failure import Failure
from zope.interface import Interface, implementer

from upnp_announce.logs import logger

__all__ = [
    "PacketInfo",
    "SocketAddress",
    "IPacketInfoProtocol",
    "PacketInfoProtocol",
    "PacketInfoPort",
    "listen_packet_info",
    "decode_packet_info",
    "encode_packet_info",
    "ancillary_space",
    "ip_mreqn",
    "ipv6_mreq",
    "split_scope",
    "IP_PKTINFO",
    "IPV6_RECVPKTINFO",
    "IPV6_PKTINFO",
    "IP_MULTICAST_ALL",
    "IPV6_MULTICAST_ALL",
]

# Linux values; Python's socket module lacks some of them.
IP_PKTINFO: int = getattr(socket, "IP_PKTINFO", 8)
IPV6_RECVPKTINFO: int = getattr(socket, "IPV6_RECVPKTINFO", 49)
IPV6_PKTINFO: int = getattr(socket, "IPV6_PKTINFO", 50)
IP_MULTICAST_ALL: int = getattr(socket, "IP_MULTICAST_ALL", 49)
IPV6_MULTICAST_ALL: int = getattr(socket, "IPV6_MULTICAST_ALL", 29)

#: C{struct in_pktinfo { int ipi_ifindex; struct in_addr ipi_spec_dst;
#: struct in_addr ipi_addr; }}
_IN_PKTINFO = struct.Struct("=i4s4s")
#: C{struct in6_pktinfo { struct in6_addr ipi6_addr; unsigned ipi6_ifindex; }}
_IN6_PKTINFO = struct.Struct("=16sI")
#: C{struct ip_mreqn { struct in_addr imr_multiaddr; struct in_addr
#: imr_address; int imr_ifindex; }}
_IP_MREQN = struct.Struct("=4s4si")
#: C{struct ipv6_mreq { struct in6_addr ipv6mr_multiaddr; unsigned
#: ipv6mr_interface; }}
_IPV6_MREQ = struct.Struct("=16sI")

#: A peer's address as C{recvmsg} gives it: C{(host, port)} for IPv4,
#: C{(host, port, flowinfo, scope_id)} for IPv6 (the scope id is the
#: interface index for link-local peers, 0 otherwise).
SocketAddress = tuple[str, int] | tuple[str, int, int, int]

# (A plain int: an IntFlag's & costs more than the rest of a read.)
_MSG_TRUNC = int(socket.MSG_TRUNC)


@dataclass(frozen=True)
class PacketInfo:
    """
    Where a datagram arrived.

    @ivar ifindex: The index of the interface it arrived on.
    @ivar destination: The destination address of its IP header: a group
        address for multicast, one of ours for unicast.
    @ivar local: IPv4 only (C{ipi_spec_dst}): the local address the kernel
        would use as source to answer it; L{None} for IPv6.
    """

    ifindex: int
    destination: str
    local: str | None = None


def _is_multicast(packed: bytes) -> bool:
    """
    Whether a packed IPv4 (224.0.0.0/4) or IPv6 (ff00::/8) address is a
    multicast group.
    """
    if len(packed) == 4:
        return packed[0] & 0xF0 == 0xE0
    return packed[:1] == b"\xff"


def ancillary_space(family: int) -> int:
    """
    @param family: C{AF_INET} or C{AF_INET6}.
    @return: The ancillary buffer size C{recvmsg} needs for the family's
        packet info.
    """
    size = _IN_PKTINFO.size if family == socket.AF_INET else _IN6_PKTINFO.size
    return socket.CMSG_SPACE(size)


def decode_packet_info(ancillary: Iterable[tuple[int, int, bytes]]) -> PacketInfo | None:
    """
    Find the packet info among the ancillary data of C{recvmsg}.

    @param ancillary: C{(level, type, data)} triples. Other messages, and
        packet info messages too short to decode, are ignored.
    @return: The first packet info found, or L{None}.
    """
    for level, kind, data in ancillary:
        info = _decode_one(level, kind, data)
        if info is not None:
            return info
    return None


@functools.lru_cache(maxsize=256)
def _decode_one(level: int, kind: int, data: bytes) -> PacketInfo | None:
    # A socket sees few (interface, destination) pairs: each is decoded once.
    if level == socket.IPPROTO_IP and kind == IP_PKTINFO and len(data) >= _IN_PKTINFO.size:
        ifindex, local, destination = _IN_PKTINFO.unpack_from(data)
        return PacketInfo(
            ifindex,
            socket.inet_ntop(socket.AF_INET, destination),
            socket.inet_ntop(socket.AF_INET, local),
        )
    if level == socket.IPPROTO_IPV6 and kind == IPV6_PKTINFO and len(data) >= _IN6_PKTINFO.size:
        destination, ifindex = _IN6_PKTINFO.unpack_from(data)
        return PacketInfo(ifindex, socket.inet_ntop(socket.AF_INET6, destination))
    return None


@functools.lru_cache(maxsize=256)
def encode_packet_info(
    family: int, ifindex: int = 0, source: str | None = None
) -> tuple[int, int, bytes]:
    """
    The ancillary message for C{sendmsg} that sends a datagram out of
    interface C{ifindex} from address C{source}.

    @param family: C{AF_INET} or C{AF_INET6}.
    @param ifindex: The outgoing interface; 0 lets routing choose.
    @param source: The source address (one of this host's); L{None} lets the
        kernel choose one of the outgoing interface.
    @return: A C{(level, type, data)} triple.
    @raise OSError: When C{source} is not an address of C{family}.
    """
    if family == socket.AF_INET:
        spec = socket.inet_pton(socket.AF_INET, source or "0.0.0.0")
        return (socket.IPPROTO_IP, IP_PKTINFO, _IN_PKTINFO.pack(ifindex, spec, bytes(4)))
    if family == socket.AF_INET6:
        packed = socket.inet_pton(socket.AF_INET6, source or "::")
        return (socket.IPPROTO_IPV6, IPV6_PKTINFO, _IN6_PKTINFO.pack(packed, ifindex))
    raise OSError(errno.EAFNOSUPPORT, f"not an IP family: {family}")


@functools.lru_cache(maxsize=1024)
def _packed(family: int, address: str) -> bytes:
    return socket.inet_pton(family, address)


def _host_of(host: str) -> tuple[str, int, int]:
    """
    A destination host as (address, zone index, IP version); version 0 for
    what is not an IP address.
    """
    if "%" in host:
        # (A zone's name may name another index tomorrow: not cached.)
        bare, scope = split_scope(host)
        return bare, scope, _version(bare)
    return host, 0, _version(host)


@functools.lru_cache(maxsize=4096)
def _version(address: str) -> int:
    # Peers search again and again: each address is read once.
    try:
        return ipaddress.ip_address(address).version
    except ValueError:
        return 0


def ip_mreqn(group: str, ifindex: int = 0, address: str = "0.0.0.0") -> bytes:
    """
    A C{struct ip_mreqn}, for C{IP_ADD_MEMBERSHIP}, C{IP_DROP_MEMBERSHIP}
    (by interface index, so it works for interfaces sharing an address) and
    C{IP_MULTICAST_IF} (where C{group} is ignored).

    @raise OSError: When an address is not IPv4 text.
    """
    return _IP_MREQN.pack(
        socket.inet_pton(socket.AF_INET, group), socket.inet_pton(socket.AF_INET, address), ifindex
    )


def ipv6_mreq(group: str, ifindex: int) -> bytes:
    """
    A C{struct ipv6_mreq}, for C{IPV6_JOIN_GROUP} and C{IPV6_LEAVE_GROUP}.

    @raise OSError: When C{group} is not IPv6 text.
    """
    return _IPV6_MREQ.pack(socket.inet_pton(socket.AF_INET6, group), ifindex)


def split_scope(host: str) -> tuple[str, int]:
    """
    Split an IPv6 zone off an address: C{"fe80::1%3"} or C{"fe80::1%eth0"}
    (the name is looked up with C{if_nametoindex}).

    @return: The bare address and the scope id (0 when there is no zone).
    @raise OSError: When the zone names no interface.
    """
    bare, percent, zone = host.partition("%")
    if not percent:
        return host, 0
    if zone.isdigit():
        return bare, int(zone)
    return bare, socket.if_nametoindex(zone)


class IPacketInfoProtocol(Interface):
    """
    Receives datagrams from a L{PacketInfoPort}, with where they arrived.
    """

    def makeConnection(transport: PacketInfoPort) -> None:
        """
        The port started listening.

        @param transport: The port, for replies and group membership.
        """

    def datagramReceived(
        data: bytes, address: SocketAddress, ifindex: int, destination: str
    ) -> None:
        """
        A datagram arrived.

        @param data: Its payload.
        @param address: The sender: C{(host, port)}, or for IPv6
            C{(host, port, flowinfo, scope_id)}.
        @param ifindex: The index of the interface it arrived on (0 if the
            kernel gave no packet info).
        @param destination: The destination address of its IP header: the
            group for multicast (C{""} if unknown).
        """


@implementer(IPacketInfoProtocol)
class PacketInfoProtocol:
    """
    A base for L{IPacketInfoProtocol}s: keeps the port as C{transport} and
    ignores datagrams.
    """

    transport: PacketInfoPort | None = None

    def makeConnection(self, transport: PacketInfoPort) -> None:
        self.transport = transport

    def datagramReceived(
        self, data: bytes, address: SocketAddress, ifindex: int, destination: str
    ) -> None:
        pass


# Errors a read can report for an earlier send (ICMP), that do not make the
# socket unusable.
_READ_IGNORE = frozenset(
    {
        errno.ECONNREFUSED,
        errno.ECONNRESET,
        errno.ENETRESET,
        errno.ETIMEDOUT,
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.EINTR,
    }
)


@implementer(IListeningPort, IReadDescriptor)
class PacketInfoPort:
    """
    A UDP socket (IPv4, or IPv6-only) bound to C{(interface, port)}, that
    delivers each datagram to an L{IPacketInfoProtocol} with its arrival
    interface and destination address.

    The socket has C{SO_REUSEADDR} and C{SO_REUSEPORT} (several SSDP stacks
    share port 1900), receives packet info, and on Linux has
    C{IP_MULTICAST_ALL} / C{IPV6_MULTICAST_ALL} turned off, so it only gets
    multicast for the groups it joined itself, not for every group any
    socket on the host joined. Multicast loopback is on.

    Group membership is per interface index (L{joinGroup}), and so are
    sends (L{sendTo}'s C{ifindex}).

    Unless told otherwise (C{filterMemberships=False}, or
    C{multicastAll=True}), multicast datagrams are only delivered for a
    (group, interface) this port joined: the kernel alone does not ensure
    that. IPv6 checks only the group, not the interface, so a socket that
    joined C{ff02::c} on one interface also gets C{ff02::c} datagrams that
    arrive on another interface where any other socket joined it; and IPv4
    with C{SO_REUSEPORT} and UDP early demux can hand a group datagram to
    any socket of the reuse-port group (see the README).

    @ivar family: C{AF_INET} or C{AF_INET6}.
    @ivar protocol: The L{IPacketInfoProtocol}.
    @ivar multicastAllDisabled: Whether C{IP(V6)_MULTICAST_ALL} could be
        turned off; when not, the socket may also receive datagrams for
        groups joined by other sockets bound to the same port (the
        membership filter still drops them).
    @ivar filtered: How many multicast datagrams the membership filter
        dropped.
    """

    _log = logger("ssdp")

    def __init__(
        self,
        reactor: IReactorFDSet,
        protocol: IPacketInfoProtocol,
        family: int,
        port: int,
        interface: str = "",
        *,
        multicastTTL: int = 2,
        reusePort: bool = True,
        multicastAll: bool = False,
        filterMemberships: bool = True,
        maxPacketSize: int = 65535,
        maxReads: int = 64,
    ) -> None:
        """
        @param reactor: The reactor to register the socket with.
        @param protocol: Receives the datagrams.
        @param family: C{socket.AF_INET} or C{socket.AF_INET6}.
        @param port: The UDP port; 0 for any.
        @param interface: The address to bind; C{""} for all. An IPv6
            link-local one needs its zone: C{"fe80::1%eth0"}.
        @param multicastTTL: The IPv4 multicast TTL / IPv6 multicast hop
            limit (UPnP 2.0 asks for 2).
        @param reusePort: Whether to set C{SO_REUSEPORT} as well as
            C{SO_REUSEADDR}.
        @param multicastAll: Whether to keep Linux's default of delivering
            multicast for any group joined by any socket on the host (bound
            to a matching address and port); the default turns it off.
        @param filterMemberships: Whether to drop multicast datagrams for a
            (group, interface) this port did not join; ignored (no
            filtering) when C{multicastAll} is true.
        @param maxPacketSize: The largest datagram read.
        @param maxReads: The most datagrams read in one C{doRead}.
        """
        if family not in (socket.AF_INET, socket.AF_INET6):
            raise ValueError(f"not an IP family: {family}")
        self._reactor = reactor
        self.protocol = protocol
        self.family = family
        self.port = port
        self.interface = interface
        self.multicastTTL = multicastTTL
        self.reusePort = reusePort
        self.multicastAll = multicastAll
        self.filterMemberships = filterMemberships
        self.filtered = 0
        self._memberships: set[tuple[bytes, int]] = set()
        self.maxPacketSize = maxPacketSize
        self.maxReads = maxReads
        self.multicastAllDisabled = False
        self._socket: socket.socket | None = None
        self._ancillarySpace = ancillary_space(family)
        # Destinations as sendmsg takes them, by address (peers search
        # again and again).
        self._destinations: dict[SocketAddress, tuple[str, int] | tuple[str, int, int, int]] = {}

    def __repr__(self) -> str:
        return f"<PacketInfoPort family={self.family} {self.interface!r}:{self.port}>"

    # Setting up

    def _bindAddress(self) -> tuple[str, int] | tuple[str, int, int, int]:
        if self.family == socket.AF_INET:
            return (self.interface or "0.0.0.0", self.port)
        host, scope = split_scope(self.interface or "::")
        return (host, self.port, 0, scope)

    def _configure(self, sock: socket.socket) -> None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if self.reusePort and hasattr(socket, "SO_REUSEPORT"):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if self.family == socket.AF_INET:
            sock.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, self.multicastTTL)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
            allOption = (socket.IPPROTO_IP, IP_MULTICAST_ALL)
        else:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVPKTINFO, 1)
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, self.multicastTTL)
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_LOOP, 1)
            allOption = (socket.IPPROTO_IPV6, IPV6_MULTICAST_ALL)
        self.multicastAllDisabled = False
        if sys.platform.startswith("linux") and not self.multicastAll:
            try:
                sock.setsockopt(*allOption, 0)
            except OSError as e:
                # ENOPROTOOPT: IPV6_MULTICAST_ALL is Linux 4.20+.
                self._log.info("cannot turn multicast-all off: {error}", error=e)
            else:
                self.multicastAllDisabled = True

    def startListening(self) -> None:
        """
        Make, configure and bind the socket, register it with the reactor,
        and call the protocol's C{makeConnection}.

        @raise CannotListenError: When the socket cannot be made or bound.
        """
        if self._socket is not None:
            return
        try:
            sock = socket.socket(self.family, socket.SOCK_DGRAM)
        except OSError as e:
            raise CannotListenError(self.interface, self.port, e) from e
        try:
            sock.setblocking(False)
            self._configure(sock)
            sock.bind(self._bindAddress())
        except OSError as e:
            sock.close()
            raise CannotListenError(self.interface, self.port, e) from e
        self._socket = sock
        self._reactor.addReader(self)
        self.protocol.makeConnection(self)

    def stopListening(self) -> None:
        """
        Unregister and close the socket (which also leaves its groups).
        """
        self._memberships.clear()
        sock, self._socket = self._socket, None
        if sock is not None:
            self._reactor.removeReader(self)
            sock.close()

    def getHost(self) -> IPv4Address | IPv6Address:
        """
        @return: The bound address; for IPv6 with its flow info and scope id.
        """
        name = self._checked().getsockname()
        if self.family == socket.AF_INET:
            return IPv4Address("UDP", name[0], name[1])
        return IPv6Address("UDP", name[0], name[1], name[2], name[3])

    def _checked(self) -> socket.socket:
        if self._socket is None:
            raise OSError(errno.EBADF, "the port is not listening")
        return self._socket

    # IReadDescriptor

    def fileno(self) -> int:
        """
        @return: The socket's descriptor, or -1 when not listening.
        """
        return -1 if self._socket is None else self._socket.fileno()

    def logPrefix(self) -> str:
        return f"PacketInfoPort({self.port})"

    def connectionLost(self, reason: Failure) -> None:
        """
        The reactor dropped the descriptor: close the socket.
        """
        sock, self._socket = self._socket, None
        if sock is not None:
            sock.close()

    def doRead(self) -> None:
        """
        Read up to C{maxReads} datagrams (until C{EAGAIN}), each with its
        packet info, and hand them to the protocol. Errors from the protocol
        and from earlier sends (ICMP) are logged, not raised.
        """
        sock = self._socket
        if sock is None:
            return
        # (Bound once: this loop runs for every datagram the device gets.)
        recvmsg, size, space = sock.recvmsg, self.maxPacketSize, self._ancillarySpace
        received = self.protocol.datagramReceived
        for _ in range(self.maxReads):
            if self._socket is not sock:
                return
            try:
                data, ancillary, flags, address = recvmsg(size, space)
            except BlockingIOError:
                return
            except OSError as e:
                if e.errno in _READ_IGNORE:
                    continue
                self._log.failure("recvmsg failed")
                return
            if flags & _MSG_TRUNC:
                self._log.warn(
                    "dropped a datagram longer than {size} bytes", size=self.maxPacketSize
                )
                continue
            info = (_decode_one(*ancillary[0]) if len(ancillary) == 1
                    else decode_packet_info(ancillary))
            ifindex, destination = (0, "") if info is None else (info.ifindex, info.destination)
            if not self._member(destination, ifindex):
                self.filtered += 1
                continue
            try:
                received(data, address, ifindex, destination)
            except Exception:
                self._log.failure("datagramReceived failed")

    def _member(self, destination: str, ifindex: int) -> bool:
        """
        Whether a datagram to C{destination} that arrived on C{ifindex} is
        for this port: always for unicast; for multicast, when this port
        joined the group on that interface (or on an unnamed one).
        """
        if self.multicastAll or not self.filterMemberships or not destination:
            return True
        packed = _packed(self.family, destination)
        if not _is_multicast(packed):
            return True
        return (packed, ifindex) in self._memberships or (packed, 0) in self._memberships

    # Sending

    def _destination(self, address: SocketAddress) -> tuple[str, int] | tuple[str, int, int, int]:
        host, port = address[0], address[1]
        bare, scope, version = _host_of(host)
        if version == 0:
            raise InvalidAddressError(host, "not an IP address")
        if self.family == socket.AF_INET:
            if version != 4:
                raise InvalidAddressError(host, "not an IPv4 address")
            return (bare, port)
        if version != 6:
            raise InvalidAddressError(host, "not an IPv6 address")
        flowinfo = address[2] if len(address) == 4 else 0
        if not scope and len(address) == 4:
            scope = address[3]
        return (bare, port, flowinfo, scope)

    def sendTo(
        self,
        data: bytes,
        address: SocketAddress,
        ifindex: int | None = None,
        source: str | None = None,
    ) -> int:
        """
        Send a datagram, optionally out of a given interface and from a
        given source address (C{IP_PKTINFO} / C{IPV6_PKTINFO} ancillary
        data, per datagram: no socket option is changed).

        For multicast, C{ifindex} picks the interface, as
        L{setOutgoingInterface} does for the whole socket. For a unicast
        reply, pass the C{ifindex} the request arrived on: it works even
        when several interfaces share the peer's subnet.

        @param data: The payload.
        @param address: C{(host, port)}, or C{(host, port, flowinfo,
            scope_id)}; C{host} must be an IP address of the port's family
            (with an optional C{%zone} for IPv6).
        @param ifindex: The outgoing interface index; L{None} lets routing
            choose. For IPv6 it must agree with a scope id, if any.
        @param source: The source address, one of this host's; L{None} lets
            the kernel choose.
        @return: The number of bytes sent.
        @raise InvalidAddressError: When C{host} is not an IP address of the
            port's family.
        @raise OSError: When the kernel refuses (e.g. C{EINVAL} for a
            source that is not local, C{ENODEV}/C{ENXIO} for an unknown
            interface, C{EAGAIN} when the send buffer is full).
        """
        sock = self._checked()
        destination = self._destinations.get(address)
        if destination is None:
            destination = self._destination(address)
            if "%" not in address[0]:
                # (A zone's name is looked up again each time: it may move.)
                if len(self._destinations) >= 4096:
                    self._destinations.clear()
                self._destinations[address] = destination
        if ifindex is None and source is None:
            return sock.sendmsg([data], (), 0, destination)
        return sock.sendmsg(
            [data], [encode_packet_info(self.family, ifindex or 0, source)], 0, destination
        )

    def setOutgoingInterface(self, ifindex: int, address: str = "0.0.0.0") -> None:
        """
        Send multicast that names no interface out of C{ifindex}
        (C{IP_MULTICAST_IF} with an C{ip_mreqn}, C{IPV6_MULTICAST_IF}).

        @param ifindex: The interface index; 0 to let routing choose again.
        @param address: IPv4 only: the source address to use, or
            C{"0.0.0.0"} for the interface's primary address.
        @raise OSError: When the kernel refuses.
        """
        sock = self._checked()
        if self.family == socket.AF_INET:
            sock.setsockopt(
                socket.IPPROTO_IP, socket.IP_MULTICAST_IF, ip_mreqn("0.0.0.0", ifindex, address)
            )
        else:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, ifindex)

    def setMulticastTTL(self, ttl: int) -> None:
        """
        Set the IPv4 multicast TTL or IPv6 multicast hop limit.

        @raise OSError: When the kernel refuses (e.g. out of range).
        """
        sock = self._checked()
        if self.family == socket.AF_INET:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, ttl)
        else:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, ttl)
        self.multicastTTL = ttl

    def setLoopbackMode(self, loop: bool) -> None:
        """
        Whether this host's own sockets receive the multicast it sends.
        """
        sock = self._checked()
        if self.family == socket.AF_INET:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, int(loop))
        else:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_LOOP, int(loop))

    def joinGroup(self, group: str, ifindex: int, address: str = "0.0.0.0") -> None:
        """
        Join a multicast group on one interface (C{IP_ADD_MEMBERSHIP} with
        an C{ip_mreqn}, C{IPV6_JOIN_GROUP} with an C{ipv6_mreq}).

        @param group: The group address.
        @param ifindex: The interface index.
        @param address: IPv4 only, and only looked at when C{ifindex} is 0:
            an address of the interface to join on.
        @raise OSError: When the kernel refuses: C{EINVAL} (not a group),
            C{ENODEV} (no such interface), C{EADDRINUSE} (already joined
            there), C{ENOBUFS} (too many memberships), or the group is not
            an address of the port's family.
        """
        self._membership(group, ifindex, address, join=True)

    def leaveGroup(self, group: str, ifindex: int, address: str = "0.0.0.0") -> None:
        """
        Leave a multicast group on one interface; the reverse of
        L{joinGroup}.

        @raise OSError: When the kernel refuses, e.g. C{EADDRNOTAVAIL} when
            the group was not joined there.
        """
        self._membership(group, ifindex, address, join=False)

    def _membership(self, group: str, ifindex: int, address: str, join: bool) -> None:
        sock = self._checked()
        if self.family == socket.AF_INET:
            option = socket.IP_ADD_MEMBERSHIP if join else socket.IP_DROP_MEMBERSHIP
            sock.setsockopt(socket.IPPROTO_IP, option, ip_mreqn(group, ifindex, address))
        else:
            option = socket.IPV6_JOIN_GROUP if join else socket.IPV6_LEAVE_GROUP
            sock.setsockopt(socket.IPPROTO_IPV6, option, ipv6_mreq(group, ifindex))
        key = (socket.inet_pton(self.family, group), ifindex)
        if join:
            self._memberships.add(key)
        else:
            self._memberships.discard(key)

    @property
    def memberships(self) -> frozenset[tuple[str, int]]:
        """
        The (group, interface index) pairs joined; index 0 for an IPv4
        join that named the interface by address.
        """
        return frozenset((socket.inet_ntop(self.family, g), i) for g, i in self._memberships)


def listen_packet_info(
    reactor: IReactorFDSet,
    protocol: IPacketInfoProtocol,
    family: int,
    port: int,
    interface: str = "",
    *,
    multicastTTL: int = 2,
    reusePort: bool = True,
    multicastAll: bool = False,
    filterMemberships: bool = True,
) -> PacketInfoPort:
    """
    Make a L{PacketInfoPort} and start it listening.

    The keyword arguments are those of L{PacketInfoPort.__init__}.

    @return: The listening port.
    @raise CannotListenError: When the socket cannot be made or bound.
    """
    listening = PacketInfoPort(
        reactor,
        protocol,
        family,
        port,
        interface,
        multicastTTL=multicastTTL,
        reusePort=reusePort,
        multicastAll=multicastAll,
        filterMemberships=filterMemberships,
    )
    listening.startListening()
    return listening
