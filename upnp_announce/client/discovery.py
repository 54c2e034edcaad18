"""
Discovery, the control point's side: searching (L{discover}) and keeping a
table of the devices on the LAN from their NOTIFYs (L{DeviceTable}).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from twisted.internet import defer
from twisted.internet.protocol import DatagramProtocol

from upnp_announce import netif
from upnp_announce.logs import logger
from upnp_announce.wire import ssdp
from upnp_announce.wire.ssdp import MAX_MX

__all__ = ["DeviceTable", "Found", "TableEntry", "TableProtocol", "discover"]

_log = logger("client")


@dataclass(frozen=True)
class Found:
    """
    A search reply.
    """

    usn: str
    st: str
    location: str
    server: str
    source: tuple[str, int]
    maxAge: int | None
    interface: str = ""

    @classmethod
    def fromResponse(cls, message: ssdp.SearchResponse, source: Any, interface: str = "") -> Found:
        """
        The search reply C{message}, received from C{source} on
        C{interface} (its name; empty where unknown).
        """
        return cls(
            message.usn,
            message.st,
            message.location,
            message.header("server") or "",
            (source[0], source[1]),
            message.maxAge,
            interface,
        )


class _Searcher(DatagramProtocol):
    noisy = False

    def __init__(
        self,
        found: dict[tuple[str, str], Found],
        onFound: Callable[[Found], None] | None,
        interface: str = "",
    ) -> None:
        self.found = found
        self.onFound = onFound
        self.interface = interface

    def datagramReceived(self, datagram: bytes, addr: Any) -> None:
        try:
            message = ssdp.parse(datagram)
        except ssdp.SSDPParseError:
            return
        if not isinstance(message, ssdp.SearchResponse):
            return
        found = Found.fromResponse(message, addr, self.interface)
        if self.interface:
            found = dataclasses.replace(found, location=with_zone(found.location, self.interface))
        # One reply per USN and LOCATION: a dual-stack device is found over
        # IPv4 and over each IPv6 scope, each LOCATION reachable; the same
        # reply again (sent twice, or heard on two sockets) is no news.
        key = (message.usn, found.location)
        if key in self.found:
            return
        self.found[key] = found
        if self.onFound is not None:
            self.onFound(found)


def discover(
    reactor: Any,
    *,
    target: str = "ssdp:all",
    timeout: float = 3.0,
    interfaces: Sequence[str] | None = None,
    unicast: tuple[str, int] | None = None,
    onFound: Callable[[Found], None] | None = None,
    adapters: Callable[[], Iterable[netif.Adapter]] = netif.system_adapters,
    ipv6: bool = True,
) -> defer.Deferred[list[Found]]:
    """
    Search for C{target} and collect the replies for C{timeout} seconds,
    one per USN and LOCATION (a device that answers over IPv4 and IPv6 is
    found once each way, and once per IPv6 scope).

    @param interfaces: search on these interfaces (multicast, TTL 2): on
        239.255.255.250 from each IPv4 address; with C{ipv6}, on ff02::c from
        each link-local address and on ff05::c from each unique local or
        global one. By default on every up, multicast-capable, non-loopback
        interface (container bridges left out). Each L{Found} names the
        interface it came by.
    @param unicast: search this C{(host, port)} only (no MX; UDA 1.1).
    @param onFound: called with each new reply as it arrives.
    @param adapters: lists the machine's interfaces.
    @param ipv6: search over IPv6 too.
    @raise netif.InterfaceError: (synchronously) for an unusable interface.
    """
    found: dict[tuple[str, str], Found] = {}
    ports: list[Any] = []
    mx = min(MAX_MX, max(1, int(timeout) - 1))
    sends: list[tuple[Any, bytes, tuple[Any, ...]]] = []
    if unicast is not None:
        host, port = unicast
        v6 = ":" in host
        listening = reactor.listenUDP(0, _Searcher(found, onFound), interface="::" if v6 else "")
        ports.append(listening)
        where = f"[{host}]:{port}" if v6 else f"{host}:{port}"
        sends.append((listening, ssdp.msearch(st=target, mx=None, host=where), (host, port)))
    else:
        addresses = netif.resolve(interfaces, adapters, ipv6=ipv6)
        for address in addresses:
            for group, destination in _groups(address):
                try:
                    listening = _multicast_socket(
                        reactor, address, _Searcher(found, onFound, address.name)
                    )
                except Exception as e:
                    # (An address that cannot be bound just now: the others
                    # still search.)
                    _log.debug("Cannot search from {address}: {error}",
                               address=address.address, error=e)
                    continue
                ports.append(listening)
                datagram = ssdp.msearch(st=target, mx=mx, host=ssdp.group_host(group))
                sends.append((listening, datagram, destination))
        if not ports:
            raise netif.InterfaceError(
                "cannot search from any address of "
                + ", ".join(dict.fromkeys(a.name for a in addresses))
            )

    def send() -> None:
        for listening, data, destination in sends:
            try:
                listening.write(data, destination)
            except OSError as e:
                _log.debug("Cannot search via {port}: {error}", port=listening, error=e)

    send()
    # UDP loses datagrams: search once more, a little later.
    again = reactor.callLater(min(0.5, timeout / 2), send)
    done: defer.Deferred[list[Found]] = defer.Deferred()

    def finish() -> None:
        if again.active():
            again.cancel()
        for listening in ports:
            listening.stopListening()
        done.callback(list(found.values()))

    reactor.callLater(timeout, finish)
    return done


def with_zone(location: str, interface: str) -> str:
    """
    C{location} with the zone of C{interface} where its host is an IPv6
    link-local address, which is only reachable with one (RFC 6874:
    C{http://[fe80::1%25eth0]:80/...}); other locations as they are.
    """
    parts = urlsplit(location)
    host, bracket, rest = parts.netloc.partition("]")
    if not host.startswith("[") or not bracket or "%" in host:
        return location
    try:
        link_local = ipaddress.IPv6Address(host[1:]).is_link_local
    except ValueError:
        return location
    if not link_local:
        return location
    return urlunsplit(parts._replace(netloc=f"{host}%25{interface}]{rest}"))


def _groups(address: netif.InterfaceAddress) -> list[tuple[str, tuple[Any, ...]]]:
    """
    The groups a search goes to from C{address}, with the destination
    address the socket takes.
    """
    if address.family == 4:
        return [(ssdp.MULTICAST_ADDRESS, (ssdp.MULTICAST_ADDRESS, ssdp.SSDP_PORT))]
    if address.isLinkLocal or address.isLoopback:
        return [(ssdp.LINK_LOCAL_GROUP,
                 (ssdp.LINK_LOCAL_GROUP, ssdp.SSDP_PORT, 0, address.index))]
    return [(ssdp.SITE_LOCAL_GROUP, (ssdp.SITE_LOCAL_GROUP, ssdp.SSDP_PORT, 0, address.index))]


def _multicast_socket(
    reactor: Any, address: netif.InterfaceAddress, searcher: DatagramProtocol
) -> Any:
    """
    A UDP socket on C{address} whose multicast leaves by its interface with
    TTL (hop limit) 2.
    """
    if address.family == 4:
        listening = reactor.listenUDP(0, searcher, interface=address.address)
        sock = listening.socket
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(address.address))
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 2)
        return listening
    # Twisted cannot bind a UDP port to a link-local address (the zone):
    # bind our own socket and adopt it.
    own = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    try:
        own.setblocking(False)
        own.bind(socket.getaddrinfo(address.host, 0, socket.AF_INET6, socket.SOCK_DGRAM)[0][4])
        own.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, address.index)
        own.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 2)
        return reactor.adoptDatagramPort(own.fileno(), socket.AF_INET6, searcher)
    finally:
        # The reactor has its own copy of the descriptor.
        own.close()


@dataclass
class TableEntry:
    """
    A device (USN) a L{DeviceTable} knows of.
    """

    usn: str
    location: str
    server: str
    expires: float
    bootId: str | None = None


class DeviceTable:
    """
    The devices on the LAN, kept current by their NOTIFYs (alive, update,
    byebye) and search replies, each forgotten when its max-age runs out.
    """

    # A LAN is not that big; a flood of made-up USNs stops here.
    MAX_ENTRIES = 4096
    MAX_AGE = 86400

    def __init__(self, clock: Any) -> None:
        self.clock = clock
        self.entries: dict[str, TableEntry] = {}
        self._expiry: dict[str, Any] = {}
        self._watchers: list[Callable[[str, TableEntry], None]] = []

    def watch(self, callback: Callable[[str, TableEntry], None]) -> None:
        """
        Call C{callback(kind, entry)} with kind C{"added"}, C{"updated"} or
        C{"removed"}.
        """
        self._watchers.append(callback)

    def _tell(self, kind: str, entry: TableEntry) -> None:
        for watcher in list(self._watchers):
            watcher(kind, entry)

    def notifyReceived(self, notify: ssdp.Notify) -> None:
        nts = notify.nts.lower()
        if nts == "ssdp:byebye":
            self.remove(notify.usn)
        elif nts == "ssdp:alive" and notify.location:
            self.seen(
                notify.usn, notify.location, notify.header("server") or "",
                notify.maxAge or 1800, notify.header("bootid.upnp.org"),
            )
        elif nts == "ssdp:update" and notify.location:
            entry = self.entries.get(notify.usn)
            if entry is None:
                return
            # An update moves the device (and its next BOOTID); it carries no
            # max-age, so the announcement's own still runs.
            remaining = max(1, int(entry.expires - self.clock.seconds()))
            self.seen(
                notify.usn, notify.location, entry.server, remaining,
                notify.header("nextbootid.upnp.org") or entry.bootId,
            )

    def foundReceived(self, found: Found) -> None:
        self.seen(found.usn, found.location, found.server, found.maxAge or 1800, None)

    def seen(
        self, usn: str, location: str, server: str, maxAge: int, bootId: str | None
    ) -> None:
        entry = self.entries.get(usn)
        maxAge = max(1, min(maxAge, self.MAX_AGE))
        expires = self.clock.seconds() + maxAge
        if entry is None and len(self.entries) >= self.MAX_ENTRIES:
            return
        if entry is None:
            entry = self.entries[usn] = TableEntry(usn, location, server, expires, bootId)
            kind = "added"
        else:
            kind = "updated" if (entry.location, entry.bootId) != (location, bootId) else ""
            entry.location, entry.server, entry.expires, entry.bootId = (
                location, server, expires, bootId
            )
        call = self._expiry.pop(usn, None)
        if call is not None and call.active():
            call.cancel()
        self._expiry[usn] = self.clock.callLater(maxAge, self.remove, usn)
        if kind:
            self._tell(kind, entry)

    def remove(self, usn: str) -> None:
        entry = self.entries.pop(usn, None)
        call = self._expiry.pop(usn, None)
        if call is not None and call.active():
            call.cancel()
        if entry is not None:
            self._tell("removed", entry)

    def stop(self) -> None:
        for call in self._expiry.values():
            if call.active():
                call.cancel()
        self._expiry.clear()


class TableProtocol(DatagramProtocol):
    """
    Feeds a L{DeviceTable} from the SSDP multicast group.
    """

    def __init__(self, table: DeviceTable) -> None:
        self.table = table

    def datagramReceived(self, datagram: bytes, addr: Any) -> None:
        try:
            message = ssdp.parse(datagram)
        except ssdp.SSDPParseError:
            return
        if isinstance(message, ssdp.Notify):
            self.table.notifyReceived(message)
        elif isinstance(message, ssdp.SearchResponse):
            self.table.foundReceived(Found.fromResponse(message, addr))
