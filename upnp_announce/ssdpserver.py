"""
The SSDP side of a device: answering searches and announcing itself.

L{SSDPServer} holds the logic (which searches to answer, on which interface,
how soon, how often; when to announce) on an injected clock and random
source. L{SSDPProtocol} only decodes datagrams for it and sends what it asks.
L{listen} opens the one socket on port 1900.
"""

from __future__ import annotations

import ipaddress
import random
import socket
import sys
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from twisted.internet import defer
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.internet.protocol import DatagramProtocol
from twisted.logger import Logger

from upnp_announce import ssdp
from upnp_announce.announce import Announcement, announcements, matches
from upnp_announce.model import Device
from upnp_announce.netif import InterfaceAddress
from upnp_announce.product import SERVER

__all__ = ["Binding", "RateLimit", "SSDPProtocol", "SSDPServer", "listen"]

# Linux: deliver to a socket only the groups it joined itself.
IP_MULTICAST_ALL = 49

# UDA 1.1: MX above 5 counts as 5.
MAX_MX = 5


class Binding(Protocol):
    """
    An interface address and the description URL served there.
    """

    @property
    def interface(self) -> InterfaceAddress: ...

    @property
    def location(self) -> str: ...


class Sender(Protocol):
    """
    Where the server's datagrams go.
    """

    def sendUnicast(self, data: bytes, destination: tuple[str, int]) -> None: ...

    def sendMulticast(self, data: bytes, interface: InterfaceAddress) -> None: ...


class RateLimit:
    """
    At most C{limit} units per source address per one-second window, for at
    most C{sources} distinct addresses per window.
    """

    def __init__(self, clock: IReactorTime, limit: int, sources: int = 4096) -> None:
        self.clock = clock
        self.limit = limit
        self.sources = sources
        self.window = -1.0
        self.spent: dict[str, int] = {}

    def allow(self, source: str, units: int) -> bool:
        now = int(self.clock.seconds())
        if now != self.window:
            self.window = now
            self.spent.clear()
        spent = self.spent.get(source)
        if spent is None and len(self.spent) >= self.sources:
            return False
        if (spent or 0) + units > self.limit:
            return False
        self.spent[source] = (spent or 0) + units
        return True


class SSDPServer:
    """
    Answers M-SEARCHes and sends NOTIFYs for one root device.

    @ivar bootId: BOOTID.UPNP.ORG, constant while the server runs.
    """

    log = Logger()

    def __init__(
        self,
        *,
        device: Device,
        configId: int,
        bindings: Sequence[Binding],
        sender: Sender,
        clock: IReactorTime,
        rng: random.Random,
        bootId: int,
        maxAge: int = 1800,
        server: str = SERVER,
        repliesPerSecond: int = 100,
        maxPending: int = 2000,
    ) -> None:
        """
        @param repliesPerSecond: the most reply datagrams one source address
            gets in a second; SSDP reflection cannot amplify beyond it.
        @param maxPending: the most replies waiting for their MX delay.
        """
        self.device = device
        self.configId = configId
        self.bindings = tuple(bindings)
        self.sender = sender
        self.clock = clock
        self.random = rng
        self.bootId = bootId
        self.maxAge = maxAge
        self.server = server
        self.maxPending = maxPending
        self._limit = RateLimit(clock, repliesPerSecond)
        self._set = announcements(device)
        self._networks = sorted(
            ((b.interface.network, b) for b in self.bindings),
            key=lambda pair: -pair[0].prefixlen,
        )
        self._ours = {b.interface.address for b in self.bindings}
        self._bindingOf: dict[str, Binding | None] = {}
        self._pending: set[IDelayedCall] = set()
        self._timers: set[IDelayedCall] = set()
        self.running = False

    # -- searches ------------------------------------------------------------

    def bindingFor(self, address: str) -> Binding | None:
        """
        The binding whose subnet holds C{address} (the most specific one),
        or C{None} when the address is on none of our subnets.
        """
        if address in self._bindingOf:
            return self._bindingOf[address]
        try:
            ip = ipaddress.IPv4Address(address)
        except ValueError:
            return None
        found = next((b for network, b in self._networks if ip in network), None)
        # Searchers search again: remember (a bounded number of) them.
        if len(self._bindingOf) >= 4096:
            self._bindingOf.clear()
        self._bindingOf[address] = found
        return found

    def _isUnicast(self, search: ssdp.MSearch) -> bool:
        host = (search.host or "").strip()
        address, _, _ = host.rpartition(":") if ":" in host else (host, "", "")
        return address in self._ours

    def searchReceived(self, search: ssdp.MSearch, source: tuple[str, int]) -> None:
        """
        Answer C{search} from C{source} if it deserves an answer.
        """
        if not self.running:
            return
        binding = self.bindingFor(source[0])
        if binding is None:
            self.log.debug("Ignored a search from {source}: not on our subnets", source=source)
            return
        if not search.isDiscover:
            self.log.debug("Ignored a search from {source}: MAN is {man!r}",
                           source=source, man=search.man)
            return
        unicast = self._isUnicast(search)
        if not unicast and search.mx is None:
            self.log.debug("Ignored a multicast search from {source}: no MX", source=source)
            return
        replies = matches(search.st, self._set)
        if not replies:
            return
        if not unicast and len(self._pending) + len(replies) > self.maxPending:
            self.log.debug("Ignored a search from {source}: too many replies pending",
                           source=source)
            return
        if not self._limit.allow(source[0], len(replies)):
            self.log.debug("Ignored a search from {source}: too many replies this second",
                           source=source)
            return
        if unicast:
            for reply in replies:
                self._reply(reply, binding, source)
            return
        window = min(search.mx or 0, MAX_MX)
        for reply in replies:
            self._later(
                self._pending, self.random.uniform(0, window), self._reply, reply, binding, source
            )

    def _later(
        self, calls: set[IDelayedCall], delay: float, f: Callable[..., None], *args: Any
    ) -> None:
        """
        Call C{f(*args)} after C{delay}, keeping the call in C{calls} until
        then so that L{stop} can cancel it.
        """
        call: IDelayedCall

        def fire() -> None:
            calls.discard(call)
            f(*args)

        call = self.clock.callLater(delay, fire)
        calls.add(call)

    def _reply(self, reply: Announcement, binding: Binding, source: tuple[str, int]) -> None:
        self.sender.sendUnicast(
            ssdp.search_response(
                st=reply.nt,
                usn=reply.usn,
                location=binding.location,
                maxAge=self.maxAge,
                date=ssdp.http_date(self.clock.seconds()),
                server=self.server,
                bootId=self.bootId,
                configId=self.configId,
            ),
            source,
        )

    # -- announcements -------------------------------------------------------

    def start(self) -> None:
        """
        Announce: after a random 0-100 ms, the alive set on every interface,
        again a few hundred ms later, then again before maxAge/2 has passed.
        """
        self.running = True
        self._later(self._timers, self.random.uniform(0, 0.1), self._advertise)

    def _advertise(self) -> None:
        # The next round is scheduled first: nothing in this one can stop it.
        self._later(
            self._timers,
            self.random.uniform(self.maxAge / 4, self.maxAge / 2 - 1),
            self._advertise,
        )
        self._later(self._timers, self.random.uniform(0.2, 0.4), self.sendAlive)
        self.sendAlive()

    def sendAlive(self) -> None:
        """
        The ssdp:alive set, on every interface, with that interface's LOCATION.
        """
        for binding in self.bindings:
            for a in self._set:
                self.sender.sendMulticast(
                    ssdp.alive(
                        nt=a.nt,
                        usn=a.usn,
                        location=binding.location,
                        maxAge=self.maxAge,
                        server=self.server,
                        bootId=self.bootId,
                        configId=self.configId,
                    ),
                    binding.interface,
                )

    def sendByebye(self) -> None:
        """
        The ssdp:byebye set, on every interface.
        """
        for binding in self.bindings:
            for a in self._set:
                self.sender.sendMulticast(
                    ssdp.byebye(nt=a.nt, usn=a.usn, bootId=self.bootId, configId=self.configId),
                    binding.interface,
                )

    def stop(self) -> defer.Deferred[None]:
        """
        Stop answering and announcing; say byebye twice, 100 ms apart.

        @return: fires once both byebye sets are sent.
        """
        if not self.running:
            return defer.succeed(None)
        self.running = False
        for call in self._timers | self._pending:
            if call.active():
                call.cancel()
        self._timers.clear()
        self._pending.clear()
        self.sendByebye()
        done: defer.Deferred[None] = defer.Deferred()

        def again() -> None:
            self.sendByebye()
            done.callback(None)

        self.clock.callLater(0.1, again)
        return done


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
