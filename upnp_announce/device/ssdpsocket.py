"""
The SSDP socket of a device: port 1900 joined to the group on each
interface, and the protocol that decodes datagrams for the
L{upnp_announce.device.discovery.SSDPServer} and sends what it asks.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Sequence
from typing import Any

from twisted.internet.interfaces import IReactorTime
from twisted.internet.protocol import DatagramProtocol
from twisted.logger import Logger

from upnp_announce.device.discovery import SSDPServer
from upnp_announce.device.limits import RateLimit
from upnp_announce.netif import InterfaceAddress
from upnp_announce.wire import ssdp

__all__ = ["SSDPProtocol", "listen"]

# Linux: deliver to a socket only the groups it joined itself.
IP_MULTICAST_ALL = 49


class SSDPProtocol(DatagramProtocol):
    """
    Decodes datagrams for an L{SSDPServer} and sends what it asks.

    Nothing a peer sends can raise out of L{datagramReceived}: bad datagrams
    are dropped with a debug line (at most a few per second).
    """

    log = Logger()

    def __init__(self, clock: IReactorTime) -> None:
        self.server: SSDPServer | None = None
        self._complaints = RateLimit(clock, 5)
        self._outgoing: str | None = None

    def datagramReceived(self, datagram: bytes, addr: Any) -> None:
        try:
            message = ssdp.parse(datagram)
        except ssdp.SSDPParseError as e:
            if self._complaints.allow("", 1):
                self.log.debug("Dropped a datagram from {addr}: {why}", addr=addr, why=e)
            return
        if isinstance(message, ssdp.MSearch) and self.server is not None:
            try:
                self.server.searchReceived(message, (addr[0], addr[1]))
            except Exception:
                self.log.failure("Failed to handle a search from {addr}", addr=addr)

    def sendUnicast(self, data: bytes, destination: tuple[str, int]) -> None:
        self._write(data, destination)

    def sendMulticast(self, data: bytes, interface: InterfaceAddress) -> None:
        if self.transport is None:
            return
        if interface.address != self._outgoing:
            try:
                self.transport.socket.setsockopt(  # type: ignore[attr-defined]
                    socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(interface.address)
                )
            except OSError as e:
                # The address went away (DHCP, a removed interface): skip it,
                # the other interfaces still hear from us.
                self._outgoing = None
                self.log.warn("Cannot send on {address}: {error}",
                              address=interface.address, error=e)
                return
            self._outgoing = interface.address
        self._write(data, (ssdp.MULTICAST_ADDRESS, ssdp.SSDP_PORT))

    def _write(self, data: bytes, destination: tuple[str, int]) -> None:
        if self.transport is None:
            return
        try:
            self.transport.write(data, destination)
        except OSError as e:
            self.log.warn("Cannot send to {destination}: {error}", destination=destination, error=e)


def listen(
    reactor: Any,
    protocol: SSDPProtocol,
    interfaces: Sequence[InterfaceAddress],
    *,
    ttl: int = 2,
    port: int = ssdp.SSDP_PORT,
) -> Any:
    """
    Open the SSDP socket: port 1900 shared with other SSDP stacks, joined to
    239.255.255.250 on each interface, sending with TTL C{ttl}.

    @return: the listening port.
    @raise OSError: when the socket or a group join fails.
    """
    listening = reactor.listenMulticast(port, protocol, listenMultiple=True)
    try:
        listening.setTTL(ttl)
        listening.setLoopbackMode(1)
        if sys.platform.startswith("linux"):
            listening.socket.setsockopt(socket.IPPROTO_IP, IP_MULTICAST_ALL, 0)
        # One join per interface: a second address of the same interface
        # names the same membership.
        first: dict[str, str] = {}
        for interface in interfaces:
            first.setdefault(interface.name, interface.address)
        for address in first.values():
            membership = socket.inet_aton(ssdp.MULTICAST_ADDRESS) + socket.inet_aton(address)
            listening.socket.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
    except OSError:
        listening.stopListening()
        raise
    return listening
