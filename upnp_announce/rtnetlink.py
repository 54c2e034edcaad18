"""
Watch the kernel's network interfaces and addresses on Linux, through an
C{AF_NETLINK}/C{NETLINK_ROUTE} socket.

Two layers, kept apart:

  - L{parse_messages} turns a buffer of netlink messages into values
    (L{AddressEvent}, L{LinkEvent}, L{DoneMessage}, L{ErrorMessage}). It
    does no I/O, and the only exception it raises is L{ParseError}.

  - L{NetlinkWatcher} owns the socket: it subscribes to the link and address
    multicast groups, registers itself with a reactor as an
    L{IReadDescriptor}, and reports each batch of events (or the loss of
    some, after a kernel buffer overrun) to a callable. It does not debounce;
    that is the caller's job.

Layouts (all in host byte order, C{<linux/netlink.h>},
C{<linux/rtnetlink.h>}, C{<linux/if_addr.h>}, C{<linux/if_link.h>})::

    struct nlmsghdr  { u32 len; u16 type; u16 flags; u32 seq; u32 pid; }
    struct ifaddrmsg { u8 family; u8 prefixlen; u8 flags; u8 scope; u32 index; }
    struct ifinfomsg { u8 family; u8 pad; u16 type; s32 index; u32 flags;
                       u32 change; }
    struct rtattr    { u16 len; u16 type; }   /* then the value, padded to 4 */
"""

from __future__ import annotations

import errno
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from twisted.internet.interfaces import IReactorFDSet, IReadDescriptor
from twisted.python.failure import Failure
from zope.interface import implementer

from upnp_announce.logs import logger

__all__ = [
    "AddressEvent",
    "LinkEvent",
    "DoneMessage",
    "ErrorMessage",
    "NetlinkMessage",
    "RouteEvent",
    "NetlinkChange",
    "ParseError",
    "parse_messages",
    "dump_request",
    "NetlinkWatcher",
    "NetlinkSocket",
    "DEFAULT_GROUPS",
]

# <linux/netlink.h>
NLMSG_NOOP = 1
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLMSG_OVERRUN = 4
NLM_F_REQUEST = 0x01
NLM_F_MULTI = 0x02
NLM_F_ROOT = 0x100
NLM_F_MATCH = 0x200
NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH
NLA_TYPE_MASK = 0x3FFF  # ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER)

# <linux/rtnetlink.h>
RTM_NEWLINK = 16
RTM_DELLINK = 17
RTM_GETLINK = 18
RTM_NEWADDR = 20
RTM_DELADDR = 21
RTM_GETADDR = 22
RTMGRP_LINK = 0x1
RTMGRP_IPV4_IFADDR = 0x10
RTMGRP_IPV6_IFADDR = 0x100

#: The multicast groups L{NetlinkWatcher} subscribes to by default.
DEFAULT_GROUPS = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR

# <linux/if_addr.h>
IFA_ADDRESS = 1
IFA_LOCAL = 2
IFA_LABEL = 3
IFA_BROADCAST = 4
IFA_CACHEINFO = 6
IFA_FLAGS = 8

IFA_F_SECONDARY = 0x01
IFA_F_NODAD = 0x02
IFA_F_OPTIMISTIC = 0x04
IFA_F_DADFAILED = 0x08
IFA_F_HOMEADDRESS = 0x10
IFA_F_DEPRECATED = 0x20
IFA_F_TENTATIVE = 0x40
IFA_F_PERMANENT = 0x80

# <linux/if_link.h>
IFLA_IFNAME = 3

# <linux/if.h>
IFF_UP = 0x1
IFF_LOOPBACK = 0x8
IFF_RUNNING = 0x40
IFF_MULTICAST = 0x1000
IFF_LOWER_UP = 0x10000

_AF_INET = 2
_AF_INET6 = 10

_HEADER = struct.Struct("=IHHII")
_IFADDRMSG = struct.Struct("=BBBBI")
_IFINFOMSG = struct.Struct("=BxHiII")
_RTATTR = struct.Struct("=HH")
_ERROR = struct.Struct("=i")
_U32 = struct.Struct("=I")

_ADDRESS_SIZES = {_AF_INET: 4, _AF_INET6: 16}


def _align(length: int) -> int:
    return (length + 3) & ~3


class ParseError(ValueError):
    """
    A buffer is not a well-formed sequence of netlink messages: a header,
    payload or attribute is truncated or runs past its container, or an
    address attribute has the wrong size for its family.

    This is the only exception L{parse_messages} raises.
    """


@dataclass(frozen=True)
class AddressEvent:
    """
    An address was added to (or changed on) an interface, or removed.

    @ivar kind: C{"new"} (C{RTM_NEWADDR}, also sent when the flags of an
        existing address change, e.g. when IPv6 duplicate address detection
        ends) or C{"del"} (C{RTM_DELADDR}).
    @ivar index: The interface index.
    @ivar family: C{socket.AF_INET} or C{socket.AF_INET6}, as an L{int}.
    @ivar address: This host's own address on the interface, in its
        canonical text form: C{IFA_LOCAL} when present (IPv4), else
        C{IFA_ADDRESS} (IPv6 sends only that).
    @ivar prefixlen: The prefix length.
    @ivar scope: The C{RT_SCOPE_*} value (0 universe, 253 link, 254 host).
    @ivar flags: The C{IFA_F_*} flags: the 32-bit C{IFA_FLAGS} attribute when
        present, otherwise the 8-bit C{ifa_flags} of the header.
    @ivar peer: The other end of a point-to-point IPv4 link (C{IFA_ADDRESS}
        when it differs from C{IFA_LOCAL}), else L{None}.
    @ivar label: The C{IFA_LABEL} (IPv4 only, e.g. C{"eth0:1"}), or L{None}.
    """

    kind: Literal["new", "del"]
    index: int
    family: int
    address: str
    prefixlen: int
    scope: int
    flags: int
    peer: str | None = None
    label: str | None = None

    @property
    def tentative(self) -> bool:
        """
        Duplicate address detection has not finished (or has failed): the
        address cannot be bound yet, unless it is also optimistic.
        """
        return bool(self.flags & IFA_F_TENTATIVE)

    @property
    def dadFailed(self) -> bool:
        """
        Duplicate address detection found another host with this address.
        """
        return bool(self.flags & IFA_F_DADFAILED)

    @property
    def deprecated(self) -> bool:
        """
        The preferred lifetime ran out: usable, but not for new traffic.
        """
        return bool(self.flags & IFA_F_DEPRECATED)

    @property
    def bindable(self) -> bool:
        """
        A socket can bind to this address now: it is not tentative (or is
        optimistic, RFC 4429) and duplicate address detection did not fail.
        """
        if self.dadFailed:
            return False
        return not self.tentative or bool(self.flags & IFA_F_OPTIMISTIC)


@dataclass(frozen=True)
class LinkEvent:
    """
    An interface appeared or changed (C{"new"}, C{RTM_NEWLINK}), or went away
    (C{"del"}, C{RTM_DELLINK}).

    @ivar index: The interface index.
    @ivar name: C{IFLA_IFNAME}, or L{None} when the message had none.
    @ivar flags: The C{IFF_*} flags of the interface.
    """

    kind: Literal["new", "del"]
    index: int
    name: str | None
    flags: int

    @property
    def up(self) -> bool:
        """
        The interface is administratively up (C{IFF_UP}).
        """
        return bool(self.flags & IFF_UP)

    @property
    def running(self) -> bool:
        """
        The interface is up and has carrier (C{IFF_RUNNING}).
        """
        return bool(self.flags & IFF_RUNNING)


@dataclass(frozen=True)
class DoneMessage:
    """
    C{NLMSG_DONE}: the end of a multi-part (dump) reply.

    @ivar sequence: The sequence number of the request it answers.
    """

    sequence: int


@dataclass(frozen=True)
class ErrorMessage:
    """
    C{NLMSG_ERROR}: the answer to a request; an acknowledgement when
    C{errno} is 0.

    @ivar sequence: The sequence number of the request it answers.
    @ivar errno: The positive error number (the kernel sends it negated).
    """

    sequence: int
    errno: int


#: What a change notification carries.
RouteEvent = AddressEvent | LinkEvent

#: Everything L{parse_messages} returns.
NetlinkMessage = AddressEvent | LinkEvent | DoneMessage | ErrorMessage


def _attributes(payload: bytes, start: int) -> dict[int, bytes]:
    """
    The C{rtattr}s of a message payload, by type (the last one wins).

    @param payload: The message, less its C{nlmsghdr}.
    @param start: Where the attributes start (the aligned family header size).
    @raise ParseError: When an attribute is truncated or overruns.
    """
    found: dict[int, bytes] = {}
    offset = start
    while offset < len(payload):
        if len(payload) - offset < _RTATTR.size:
            raise ParseError(f"truncated attribute header at {offset}")
        length, kind = _RTATTR.unpack_from(payload, offset)
        if length < _RTATTR.size or length > len(payload) - offset:
            raise ParseError(f"attribute length {length} at {offset} is out of bounds")
        found[kind & NLA_TYPE_MASK] = payload[offset + _RTATTR.size : offset + length]
        offset += _align(length)
    return found


def _string(value: bytes) -> str:
    """
    A NUL-terminated C string attribute as text; undecodable bytes are kept
    as surrogates, like L{os.fsdecode}.
    """
    return value.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _address(family: int, value: bytes) -> str:
    if len(value) != _ADDRESS_SIZES[family]:
        raise ParseError(f"address of {len(value)} bytes for family {family}")
    return socket.inet_ntop(family, value)


def _parse_address(kind: Literal["new", "del"], payload: bytes) -> AddressEvent | None:
    if len(payload) < _IFADDRMSG.size:
        raise ParseError("truncated ifaddrmsg")
    family, prefixlen, flags, scope, index = _IFADDRMSG.unpack_from(payload)
    attributes = _attributes(payload, _align(_IFADDRMSG.size))
    if family not in _ADDRESS_SIZES:
        return None
    if IFA_FLAGS in attributes:
        if len(attributes[IFA_FLAGS]) < _U32.size:
            raise ParseError("truncated IFA_FLAGS")
        (flags,) = _U32.unpack_from(attributes[IFA_FLAGS])
    address = local = None
    if IFA_ADDRESS in attributes:
        address = _address(family, attributes[IFA_ADDRESS])
    if IFA_LOCAL in attributes:
        local = _address(family, attributes[IFA_LOCAL])
    if local is None and address is None:
        raise ParseError("address message without IFA_LOCAL or IFA_ADDRESS")
    peer = None
    if local is not None:
        if address is not None and address != local:
            peer = address
        address = local
    assert address is not None
    label = _string(attributes[IFA_LABEL]) if IFA_LABEL in attributes else None
    return AddressEvent(kind, index, family, address, prefixlen, scope, flags, peer, label)


def _parse_link(kind: Literal["new", "del"], payload: bytes) -> LinkEvent:
    if len(payload) < _IFINFOMSG.size:
        raise ParseError("truncated ifinfomsg")
    _family, _type, index, flags, _change = _IFINFOMSG.unpack_from(payload)
    attributes = _attributes(payload, _align(_IFINFOMSG.size))
    name = _string(attributes[IFLA_IFNAME]) if IFLA_IFNAME in attributes else None
    return LinkEvent(kind, index, name, flags)


def parse_messages(data: bytes) -> list[NetlinkMessage]:
    """
    Parse a buffer of netlink route messages, as one C{recv} on a
    C{NETLINK_ROUTE} socket returns it.

    Address and link messages become L{AddressEvent} and L{LinkEvent};
    C{NLMSG_DONE} and C{NLMSG_ERROR} become L{DoneMessage} and
    L{ErrorMessage}. Other message types (C{NLMSG_NOOP}, routes, neighbours,
    ...) and addresses of families other than IPv4 and IPv6 are skipped.

    @param data: The buffer.
    @return: The messages, in order.
    @raise ParseError: When the buffer is malformed (and for nothing else).
    """
    messages: list[NetlinkMessage] = []
    offset = 0
    while offset < len(data):
        if len(data) - offset < _HEADER.size:
            raise ParseError(f"truncated nlmsghdr at {offset}")
        length, kind, _flags, sequence, _pid = _HEADER.unpack_from(data, offset)
        if length < _HEADER.size or length > len(data) - offset:
            raise ParseError(f"nlmsg_len {length} at {offset} is out of bounds")
        payload = data[offset + _HEADER.size : offset + length]
        offset += _align(length)
        if kind == NLMSG_DONE:
            messages.append(DoneMessage(sequence))
        elif kind == NLMSG_ERROR:
            if len(payload) < _ERROR.size:
                raise ParseError("truncated nlmsgerr")
            (code,) = _ERROR.unpack_from(payload)
            messages.append(ErrorMessage(sequence, -code))
        elif kind in (RTM_NEWADDR, RTM_DELADDR):
            event = _parse_address("new" if kind == RTM_NEWADDR else "del", payload)
            if event is not None:
                messages.append(event)
        elif kind in (RTM_NEWLINK, RTM_DELLINK):
            messages.append(_parse_link("new" if kind == RTM_NEWLINK else "del", payload))
    return messages


def dump_request(messageType: int, sequence: int, family: int = 0) -> bytes:
    """
    A request for the kernel to dump all links (C{RTM_GETLINK}) or all
    addresses (C{RTM_GETADDR}).

    @param messageType: C{RTM_GETLINK} or C{RTM_GETADDR}.
    @param sequence: The sequence number the answer will carry.
    @param family: An address family to limit the dump to; 0 for all.
    @return: The request, ready to C{send} on a C{NETLINK_ROUTE} socket.
    """
    if messageType == RTM_GETLINK:
        body = _IFINFOMSG.pack(family, 0, 0, 0, 0)
    elif messageType == RTM_GETADDR:
        body = _IFADDRMSG.pack(family, 0, 0, 0, 0)
    else:
        raise ValueError(f"not a dump request type: {messageType}")
    header = _HEADER.pack(
        _HEADER.size + len(body), messageType, NLM_F_REQUEST | NLM_F_DUMP, sequence, 0
    )
    return header + body


@dataclass(frozen=True)
class NetlinkChange:
    """
    What one L{NetlinkWatcher.doRead} saw.

    @ivar events: The address and link events, in the kernel's order.
    @ivar lost: Some notifications were lost (the kernel's buffer overran,
        a datagram was truncated, or could not be parsed, or the socket
        failed): the caller must rescan all interfaces rather than rely on
        C{events}.
    """

    events: tuple[RouteEvent, ...]
    lost: bool = False


class NetlinkSocket(Protocol):
    """
    The part of L{socket.socket} that L{NetlinkWatcher} uses.
    """

    def bind(self, address: tuple[int, int], /) -> None: ...

    def setsockopt(self, level: int, option: int, value: int, /) -> None: ...

    def recvmsg(
        self, bufsize: int, /
    ) -> tuple[bytes, list[tuple[int, int, bytes]], int, object]: ...

    def fileno(self) -> int: ...

    def close(self) -> None: ...


def _netlink_socket() -> NetlinkSocket:
    """
    A non-blocking, close-on-exec C{NETLINK_ROUTE} socket.

    @raise OSError: When the platform has no netlink, or it is refused.
    """
    family = getattr(socket, "AF_NETLINK", None)
    if family is None:
        raise OSError(errno.EAFNOSUPPORT, "no AF_NETLINK on this platform")
    kind = (
        socket.SOCK_RAW | getattr(socket, "SOCK_NONBLOCK", 0) | getattr(socket, "SOCK_CLOEXEC", 0)
    )
    sock = socket.socket(family, kind, getattr(socket, "NETLINK_ROUTE", 0))
    sock.setblocking(False)
    return sock


@implementer(IReadDescriptor)
class NetlinkWatcher:
    """
    Report changes to the host's interfaces and addresses as the kernel
    announces them.

    Each time the socket is readable, all pending datagrams (up to
    C{maxDatagrams}) are read and parsed, and C{onChange} is called once
    with a L{NetlinkChange}. After C{ENOBUFS} (the kernel dropped
    notifications because the receive buffer was full), a truncated
    datagram, a malformed one, or a socket error, the change has
    C{lost=True}: the caller should rescan. After a socket error other than
    C{EAGAIN}/C{ENOBUFS} the watcher also stops itself (L{running} becomes
    false), so the caller should fall back to polling.

    Datagrams not sent by the kernel (port id 0) are ignored: any local
    process may unicast to a netlink socket.

    @ivar running: Whether the socket is open and watched.
    """

    _log = logger("network")

    def __init__(
        self,
        reactor: IReactorFDSet,
        onChange: Callable[[NetlinkChange], object],
        *,
        groups: int = DEFAULT_GROUPS,
        receiveBufferSize: int = 1 << 20,
        datagramSize: int = 1 << 16,
        maxDatagrams: int = 64,
        socketFactory: Callable[[], NetlinkSocket] = _netlink_socket,
    ) -> None:
        """
        @param reactor: The reactor to register the socket with.
        @param onChange: Called with a L{NetlinkChange} after each read that
            got anything; its exceptions are logged, never raised.
        @param groups: The C{RTMGRP_*} multicast groups to subscribe to.
        @param receiveBufferSize: C{SO_RCVBUF} for the socket (a bigger
            buffer makes C{ENOBUFS} rarer); 0 leaves the default.
        @param datagramSize: The largest datagram read at once.
        @param maxDatagrams: The most datagrams read in one C{doRead}.
        @param socketFactory: Makes the (non-blocking) netlink socket; for
            tests.
        """
        self._reactor = reactor
        self._onChange = onChange
        self._groups = groups
        self._receiveBufferSize = receiveBufferSize
        self._datagramSize = datagramSize
        self._maxDatagrams = maxDatagrams
        self._socketFactory = socketFactory
        self._socket: NetlinkSocket | None = None

    @property
    def running(self) -> bool:
        return self._socket is not None

    def start(self) -> bool:
        """
        Open the socket, subscribe, and start watching. Does nothing when
        already running.

        @return: C{True} when watching; C{False} when netlink is unavailable
            (not Linux, or the socket could not be made or bound, e.g.
            C{EPERM}, C{EAFNOSUPPORT}, C{EPROTONOSUPPORT}): the caller
            should poll instead.
        """
        if self._socket is not None:
            return True
        try:
            sock = self._socketFactory()
        except OSError as e:
            self._log.info("netlink unavailable: {error}", error=e)
            return False
        try:
            if self._receiveBufferSize:
                try:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self._receiveBufferSize)
                except OSError:
                    pass
            sock.bind((0, self._groups))
        except OSError as e:
            sock.close()
            self._log.info("netlink unavailable: {error}", error=e)
            return False
        self._socket = sock
        self._reactor.addReader(self)
        return True

    def stop(self) -> None:
        """
        Stop watching and close the socket. Does nothing when not running.
        """
        sock = self._socket
        if sock is None:
            return
        self._reactor.removeReader(self)
        self._socket = None
        sock.close()

    # IReadDescriptor

    def fileno(self) -> int:
        """
        @return: The socket's descriptor, or -1 when not running.
        """
        return -1 if self._socket is None else self._socket.fileno()

    def logPrefix(self) -> str:
        return "NetlinkWatcher"

    def connectionLost(self, reason: Failure) -> None:
        """
        The reactor dropped the descriptor: close the socket.
        """
        sock, self._socket = self._socket, None
        if sock is not None:
            sock.close()

    def doRead(self) -> None:
        """
        Read the pending datagrams, parse them, and report one
        L{NetlinkChange}.
        """
        sock = self._socket
        if sock is None:
            return
        events: list[RouteEvent] = []
        lost = False
        seen = False
        for _ in range(self._maxDatagrams):
            try:
                data, _ancillary, flags, address = sock.recvmsg(self._datagramSize)
            except BlockingIOError:
                break
            except OSError as e:
                if e.errno == errno.ENOBUFS:
                    seen = lost = True
                    continue
                if e.errno in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EINTR):
                    break
                self._log.failure("netlink socket failed; stopping")
                self.stop()
                seen = lost = True
                break
            if not (isinstance(address, tuple) and address and address[0] == 0):
                continue
            seen = True
            if flags & socket.MSG_TRUNC:
                lost = True
            try:
                parsed = parse_messages(data)
            except ParseError as e:
                self._log.warn("unparsable netlink datagram: {error}", error=e)
                lost = True
                continue
            events.extend(m for m in parsed if isinstance(m, (AddressEvent, LinkEvent)))
        if not seen:
            return
        try:
            self._onChange(NetlinkChange(tuple(events), lost))
        except Exception:
            self._log.failure("onChange failed")
