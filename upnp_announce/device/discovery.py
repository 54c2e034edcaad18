"""
Discovery, the device's side: answering searches and announcing itself.

L{SSDPServer} holds the logic (which searches to answer, on which interface,
how soon, how often; when to announce) on an injected clock and random
source; L{upnp_announce.device.ssdpsocket} decodes datagrams for it and
sends what it asks.
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from twisted.internet import defer
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger

from upnp_announce.device.limits import RateLimit
from upnp_announce.model import Device
from upnp_announce.netif import InterfaceAddress
from upnp_announce.wire import ssdp
from upnp_announce.wire.product import SERVER
from upnp_announce.wire.ssdp import MAX_MX, Announcement, announcements, matches

__all__ = ["Binding", "SSDPServer", "Sender"]


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
