"""
The SSDP sockets of a device: port 1900, one socket per address family,
joined to the SSDP groups per interface (239.255.255.250; ff02::c on every
IPv6 interface, ff05::c where it has a unique local or global address), and
the protocol that decodes datagrams for the
L{upnp_announce.device.discovery.SSDPServer} with the interface each came in
on (IP_PKTINFO), and sends what it asks out of the right interface from the
right address.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable
from typing import Any

from twisted.internet.interfaces import IReactorTime

from upnp_announce.device.discovery import Arrival, Binding, SSDPServer
from upnp_announce.device.limits import RateLimit
from upnp_announce.logs import logger
from upnp_announce.netif import InterfaceAddress
from upnp_announce.pktinfo import PacketInfoPort, PacketInfoProtocol, SocketAddress
from upnp_announce.wire import ssdp

__all__ = ["SSDPProtocol", "SSDPSockets", "memberships"]

_FAMILIES = {4: socket.AF_INET, 6: socket.AF_INET6}


def memberships(addresses: Iterable[InterfaceAddress]) -> set[tuple[int, str, int]]:
    """
    The (family, group, interface index) memberships that serve
    C{addresses}: the IPv4 group on every interface with an IPv4 address;
    ff02::c on every interface with an IPv6 address, and ff05::c where one
    of them is a unique local or global address.
    """
    wanted = set()
    for a in addresses:
        if a.family == 4:
            wanted.add((4, ssdp.MULTICAST_ADDRESS, a.index))
        else:
            wanted.add((6, ssdp.LINK_LOCAL_GROUP, a.index))
            if not a.isLinkLocal and not a.isLoopback:
                wanted.add((6, ssdp.SITE_LOCAL_GROUP, a.index))
    return wanted


class SSDPProtocol(PacketInfoProtocol):
    """
    Decodes datagrams for an L{SSDPServer}.

    Nothing a peer sends can raise out of L{datagramReceived}: bad datagrams
    are dropped with a debug line (at most a few per second).

    Control points send the same search again and again (and every peer of
    a LAN the same few): the searches seen lately are kept parsed, by their
    bytes (the parsed values are frozen).
    """

    log = logger("ssdp")
    # Searches kept parsed, at most.
    KEEP = 256

    def __init__(self, clock: IReactorTime, server: Callable[[], SSDPServer | None]) -> None:
        self.server = server
        self._complaints = RateLimit(clock, 5)
        self._searches: dict[bytes, ssdp.MSearch] = {}
        self._arrivals: dict[tuple[int, str], Arrival] = {}

    def datagramReceived(
        self, data: bytes, address: SocketAddress, ifindex: int = 0, destination: str = ""
    ) -> None:
        message: ssdp.MSearch | ssdp.Notify | ssdp.SearchResponse | None
        message = self._searches.get(data)
        if message is None:
            try:
                message = ssdp.parse(data)
            except ssdp.SSDPParseError as e:
                if self._complaints.allow("", 1):
                    self.log.debug("Dropped a datagram from {addr}: {why}", addr=address, why=e)
                return
            if isinstance(message, ssdp.MSearch):
                if len(self._searches) >= self.KEEP:
                    self._searches.clear()
                self._searches[data] = message
        server = self.server()
        if isinstance(message, ssdp.MSearch) and server is not None:
            arrival = self._arrival(ifindex, destination) if ifindex or destination else None
            try:
                server.searchReceived(message, (address[0], address[1]), arrival)
            except Exception:
                self.log.failure("Failed to handle a search from {addr}", addr=address)

    def _arrival(self, ifindex: int, destination: str) -> Arrival:
        found = self._arrivals.get((ifindex, destination))
        if found is None:
            if len(self._arrivals) >= self.KEEP:
                self._arrivals.clear()
            found = self._arrivals[ifindex, destination] = Arrival(ifindex, destination)
        return found


class SSDPSockets:
    """
    The device's SSDP sockets (an L{upnp_announce.device.discovery.Sender}):
    one per address family, sharing port 1900 with other SSDP stacks,
    joined per interface to what L{memberships} says.

    @ivar server: the SSDP server searches go to.
    """

    log = logger("ssdp")

    def __init__(
        self,
        reactor: Any,
        *,
        port: int = ssdp.SSDP_PORT,
        ttl: int = 2,
        ipv6: bool = True,
        makePort: Callable[..., Any] = PacketInfoPort,
    ) -> None:
        """
        @param reactor: an L{IReactorFDSet} and L{IReactorTime}.
        @param makePort: makes a port as L{PacketInfoPort} does (for tests).
        """
        self.reactor = reactor
        self.portNumber = port
        self.ttl = ttl
        self.ipv6 = ipv6
        self.makePort = makePort
        self.server: SSDPServer | None = None
        self.protocol = SSDPProtocol(reactor, lambda: self.server)
        self.ports: dict[int, Any] = {}
        self.joined: set[tuple[int, str, int]] = set()

    def start(self) -> None:
        """
        Open the IPv4 socket and, with IPv6 on, the IPv6 one.

        @raise OSError: when the IPv4 socket cannot be opened (an IPv6
            socket that cannot be opened is logged: the kernel may have no
            IPv6 at all).
        """
        for family in (4, 6) if self.ipv6 else (4,):
            port = self.makePort(
                self.reactor, self.protocol, _FAMILIES[family], self.portNumber,
                multicastTTL=self.ttl,
            )
            try:
                port.startListening()
            except Exception as e:
                if family == 4:
                    self.stop()
                    raise OSError(f"cannot open the SSDP socket on port {self.portNumber}: "
                                  f"{getattr(e, 'socketError', e)}") from None
                self.log.warn("No IPv6 SSDP: {error}", error=getattr(e, "socketError", e))
                continue
            self.ports[family] = port

    def serve(self, addresses: Iterable[InterfaceAddress]) -> None:
        """
        Join the groups that serve C{addresses} and leave the others.
        """
        wanted = {m for m in memberships(addresses) if m[0] in self.ports}
        for family, group, index in sorted(self.joined - wanted):
            try:
                self.ports[family].leaveGroup(group, index)
            except OSError as e:
                # The interface is gone, and its memberships with it.
                self.log.debug("Left {group} on {index}: {error}", group=group, index=index,
                               error=e)
            self.joined.discard((family, group, index))
        for family, group, index in sorted(wanted - self.joined):
            try:
                self.ports[family].joinGroup(group, index)
            except OSError as e:
                self.log.warn("Cannot join {group} on interface {index}: {error}",
                              group=group, index=index, error=e)
                continue
            self.joined.add((family, group, index))

    def stop(self) -> None:
        ports, self.ports = self.ports, {}
        self.joined.clear()
        for port in ports.values():
            port.stopListening()

    # -- Sender --------------------------------------------------------------

    def sendUnicast(
        self, data: bytes, destination: tuple[str, int], binding: Binding | None
    ) -> None:
        interface = binding.interface if binding is not None else None
        family = 6 if ":" in destination[0] else 4
        self._send(family, data, destination, interface)

    def sendMulticast(self, data: bytes, binding: Binding, group: str) -> None:
        interface = binding.interface
        self._send(interface.family, data, (group, ssdp.SSDP_PORT), interface)

    def _send(
        self,
        family: int,
        data: bytes,
        destination: tuple[str, int],
        interface: InterfaceAddress | None,
    ) -> None:
        port = self.ports.get(family)
        if port is None:
            return
        try:
            if interface is None:
                port.sendTo(data, destination)
            else:
                port.sendTo(data, destination, interface.index or None, interface.address)
        except OSError as e:
            # The address went away (DHCP, a removed interface): skip it, the
            # other interfaces still hear from us.
            self.log.debug("Cannot send to {destination}: {error}",
                           destination=destination, error=e)
