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
from dataclasses import dataclass
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

__all__ = ["Arrival", "Binding", "SSDPServer", "Sender", "announcers"]

_LINK_LOCAL_GROUP = ipaddress.IPv6Address(ssdp.LINK_LOCAL_GROUP)
_SITE_LOCAL_GROUP = ipaddress.IPv6Address(ssdp.SITE_LOCAL_GROUP)


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

    def sendUnicast(
        self, data: bytes, destination: tuple[str, int], binding: Binding | None
    ) -> None:
        """
        Send C{data} to C{destination}, from C{binding}'s address and out of
        its interface where it is given.
        """

    def sendMulticast(self, data: bytes, binding: Binding, group: str) -> None:
        """
        Send C{data} to the SSDP C{group} out of C{binding}'s interface.
        """


@dataclass(frozen=True)
class Arrival:
    """
    Where a datagram came in: the interface index and the address it was
    sent to (a group, or one of ours for a unicast search), as IP_PKTINFO
    tells.
    """

    ifindex: int
    destination: str


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None


def _group_of(binding: Binding) -> str:
    """
    The group a binding announces on: IPv4's, or for IPv6 the link-local
    group with a link-local address and the site-local group with a unique
    local or global one (UDA 2.0 Annex A).
    """
    interface = binding.interface
    if interface.family == 4:
        return ssdp.MULTICAST_ADDRESS
    # (::1 has no site: the link-local group serves the loopback interface.)
    link = interface.isLinkLocal or interface.isLoopback
    return ssdp.LINK_LOCAL_GROUP if link else ssdp.SITE_LOCAL_GROUP


def announcers(bindings: Sequence[Binding]) -> tuple[tuple[Binding, str], ...]:
    """
    The (binding, group) pairs NOTIFYs go out on: every IPv4 address, and
    per IPv6 interface its first link-local address on ff02::c and its first
    unique local or global one on ff05::c.
    """
    found: dict[tuple[object, ...], tuple[Binding, str]] = {}
    for binding in bindings:
        interface = binding.interface
        group = _group_of(binding)
        key: tuple[object, ...] = (
            (interface.address,) if interface.family == 4 else (interface.name, group)
        )
        found.setdefault(key, (binding, group))
    return tuple(found.values())


class SSDPServer:
    """
    Answers M-SEARCHes and sends NOTIFYs for one root device, on a set of
    bindings that may change while it runs (L{changeBindings}).

    @ivar bootId: BOOTID.UPNP.ORG; it grows at every network change.
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
        searchPort: int = ssdp.SSDP_PORT,
    ) -> None:
        """
        @param repliesPerSecond: the most reply datagrams one source address
            gets in a second; SSDP reflection cannot amplify beyond it.
        @param maxPending: the most replies waiting for their MX delay.
        @param searchPort: the port we take searches on (SEARCHPORT in
            ssdp:update when it is not 1900).
        """
        self.device = device
        self.configId = configId
        self.sender = sender
        self.clock = clock
        self.random = rng
        self.bootId = bootId
        self.maxAge = maxAge
        self.server = server
        self.maxPending = maxPending
        self.searchPort = searchPort
        self._limit = RateLimit(clock, repliesPerSecond)
        self._set = announcements(device)
        self._pending: set[IDelayedCall] = set()
        self._timers: set[IDelayedCall] = set()
        self.running = False
        self._setBindings(bindings)

    def _setBindings(self, bindings: Sequence[Binding]) -> None:
        self.bindings = tuple(bindings)
        # Most specific subnet first.
        self._byPrefix = sorted(self.bindings, key=lambda b: -b.interface.prefix)
        self._ours = {b.interface.address for b in self.bindings}
        self._bindingOf: dict[tuple[str, int, str], Binding | None] = {}

    # -- searches ------------------------------------------------------------

    def bindingFor(self, address: str, arrival: Arrival | None = None) -> Binding | None:
        """
        The binding whose address a searcher at C{address} gets in LOCATION,
        or C{None} when the searcher is on none of our links.

        With the C{arrival} interface known, only that interface's bindings
        count (overlapping subnets on two interfaces are told apart). IPv4:
        the most specific subnet that holds the searcher. IPv6: a link-local
        searcher is on the link; any other must be in one of the
        interface's prefixes. A search sent to one of our addresses gets
        that address; one sent to ff02::c prefers a link-local address and
        one sent to ff05::c a unique local or global one (UDA 2.0 Annex A).
        """
        ifindex = arrival.ifindex if arrival is not None else 0
        destination = arrival.destination if arrival is not None else ""
        key = (address, ifindex, destination)
        if key in self._bindingOf:
            return self._bindingOf[key]
        found = self._choose(address, ifindex, destination)
        # Searchers search again: remember (a bounded number of) them.
        if len(self._bindingOf) >= 4096:
            self._bindingOf.clear()
        self._bindingOf[key] = found
        return found

    def _choose(self, address: str, ifindex: int, destination: str) -> Binding | None:
        ip = _ip(address)
        if ip is None:
            return None
        candidates = [
            b for b in self._byPrefix
            if b.interface.family == ip.version
            and (not ifindex or not b.interface.index or b.interface.index == ifindex)
        ]
        on_link = [b for b in candidates if ip in b.interface.network]
        if ip.version == 6 and ip.is_link_local and (ifindex or len(
            {b.interface.name for b in candidates}
        ) == 1):
            # A link-local searcher is on the link it came in by.
            on_link = candidates
        if not on_link:
            return None
        target = _ip(destination)
        if target is not None and not target.is_multicast:
            exact = [b for b in candidates if b.interface.address == str(target)]
            if exact:
                return exact[0]
        if ip.version == 4:
            return on_link[0]
        wants_link = target is None or target == _LINK_LOCAL_GROUP or ip.is_link_local
        if destination and target == _SITE_LOCAL_GROUP:
            wants_link = False
        by_scope = [b for b in on_link if b.interface.isLinkLocal == wants_link]
        if not by_scope and not wants_link:
            # A site-local search from a link-local searcher: the routable
            # addresses of the interface it came in by.
            by_scope = [b for b in candidates if not b.interface.isLinkLocal]
        return (by_scope or on_link)[0]

    def _isUnicast(self, search: ssdp.MSearch, arrival: Arrival | None) -> bool:
        if arrival is not None and arrival.destination:
            target = _ip(arrival.destination)
            return target is not None and not target.is_multicast
        host = (search.host or "").strip()
        if host.startswith("["):
            address = host[1:].partition("]")[0]
        else:
            address = host.partition(":")[0]
        return address.split("%", 1)[0] in self._ours

    def searchReceived(
        self, search: ssdp.MSearch, source: tuple[str, int], arrival: Arrival | None = None
    ) -> None:
        """
        Answer C{search} from C{source} if it deserves an answer.

        @param arrival: where it came in, when the socket can tell.
        """
        if not self.running:
            return
        binding = self.bindingFor(source[0], arrival)
        if binding is None:
            self.log.debug("Ignored a search from {source}: not on our links", source=source)
            return
        if not search.isDiscover:
            self.log.debug("Ignored a search from {source}: MAN is {man!r}",
                           source=source, man=search.man)
            return
        unicast = self._isUnicast(search, arrival)
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
        if binding not in self.bindings:
            # Its address went away while the reply waited.
            return
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
            binding,
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

    def sendAlive(self, bindings: Sequence[Binding] | None = None) -> None:
        """
        The ssdp:alive set with each binding's LOCATION, on every interface
        (or on C{bindings}' only).
        """
        for binding, group in announcers(self.bindings if bindings is None else bindings):
            host = ssdp.group_host(group)
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
                        host=host,
                    ),
                    binding,
                    group,
                )

    def sendByebye(self) -> None:
        """
        The ssdp:byebye set, on every interface.
        """
        for binding, group in announcers(self.bindings):
            host = ssdp.group_host(group)
            for a in self._set:
                self.sender.sendMulticast(
                    ssdp.byebye(
                        nt=a.nt, usn=a.usn, bootId=self.bootId, configId=self.configId, host=host
                    ),
                    binding,
                    group,
                )

    def changeBindings(self, bindings: Sequence[Binding], nextBootId: int) -> None:
        """
        The network changed: serve C{bindings} from now on (searches get
        their LOCATIONs at once) under a new BOOTID, as UDA 1.1 1.2.4 asks:
        first ssdp:update, with the current and next BOOTID, on the
        bindings that stay; then the alive set with the new BOOTID on every
        binding, twice, a few hundred ms apart.
        """
        staying = [b for b in bindings if b in self.bindings]
        if self.running:
            for binding, group in announcers(staying):
                host = ssdp.group_host(group)
                for a in self._set:
                    self.sender.sendMulticast(
                        ssdp.update(
                            nt=a.nt,
                            usn=a.usn,
                            location=binding.location,
                            bootId=self.bootId,
                            configId=self.configId,
                            nextBootId=nextBootId,
                            host=host,
                            searchPort=self.searchPort,
                        ),
                        binding,
                        group,
                    )
        self.bootId = nextBootId
        self._setBindings(bindings)
        if self.running:
            self.sendAlive()
            self._later(self._timers, self.random.uniform(0.2, 0.4), self.sendAlive)

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
