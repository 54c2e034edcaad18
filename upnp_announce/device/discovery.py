"""
Discovery, the device's side: answering searches and announcing itself.

L{SSDPServer} holds the logic (which searches to answer, on which interface,
how soon, how often; when to announce) on an injected clock and random
source; L{upnp_announce.device.ssdpsocket} decodes datagrams for it and
sends what it asks.
"""

from __future__ import annotations

import functools
import ipaddress
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from twisted.internet import defer
from twisted.internet.interfaces import IDelayedCall, IReactorTime

from upnp_announce.device.limits import Pacer, SearchBudget
from upnp_announce.logs import Sparse, logger
from upnp_announce.model import Device
from upnp_announce.netif import InterfaceAddress
from upnp_announce.wire import ssdp
from upnp_announce.wire.product import SERVER
from upnp_announce.wire.ssdp import MAX_MX, Announcement, announcements, matches

__all__ = ["Advertised", "Arrival", "Binding", "SSDPServer", "Sender", "announcers"]

_LINK_LOCAL_GROUP = ipaddress.IPv6Address(ssdp.LINK_LOCAL_GROUP)
_SITE_LOCAL_GROUP = ipaddress.IPv6Address(ssdp.SITE_LOCAL_GROUP)


class Binding(Protocol):
    """
    An interface address and our HTTP server there.
    """

    @property
    def interface(self) -> InterfaceAddress: ...

    @property
    def urlBase(self) -> str:
        """
        C{http://ADDRESS:PORT}: a device's LOCATION is this and its
        description's path.
        """


@dataclass(frozen=True)
class Advertised:
    """
    One root device as SSDP tells of it.

    @ivar path: the path of its description on our HTTP server.
    @ivar configId: CONFIGID.UPNP.ORG, its descriptions' configId.
    @ivar announcements: its 3+2d+k (NT, USN) pairs.
    """

    udn: str
    path: str
    configId: int
    announcements: tuple[Announcement, ...]

    @classmethod
    def of(cls, device: Device, configId: int, path: str = "/description.xml") -> Advertised:
        return cls(device.UDN, path, configId, announcements(device))


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


@functools.lru_cache(maxsize=256)
def _is_unicast(destination: str) -> bool:
    """
    Whether a datagram's destination address is a unicast one (one of ours)
    rather than a group. (A socket sees a handful: each is read once.)
    """
    target = _ip(destination)
    return target is not None and not target.is_multicast


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
    Answers M-SEARCHes and sends NOTIFYs for the root devices it advertises,
    on bindings that may change while it runs (L{changeBindings}); devices
    come, go and change while it runs too (L{addDevice}, L{removeDevice},
    L{changeDevice}), each with exactly the messages UDA asks for.

    Multicast is paced: at most C{burst} datagrams per interface in any
    10 ms, the rest queued in order. Each source address has a reply budget
    (L{SearchBudget}).

    @ivar bootId: BOOTID.UPNP.ORG; it grows at every network change.
    """

    log = logger("ssdp")

    def __init__(
        self,
        *,
        bindings: Sequence[Binding],
        sender: Sender,
        clock: IReactorTime,
        rng: random.Random,
        bootId: int,
        devices: Sequence[Advertised] = (),
        device: Device | None = None,
        configId: int = 0,
        maxAge: int = 1800,
        server: str = SERVER,
        repliesPerSecond: float = 50,
        quietSeconds: float = 10,
        maxPending: int | None = None,
        searchPort: int = ssdp.SSDP_PORT,
        burst: int = 20,
    ) -> None:
        """
        @param devices: the root devices to advertise.
        @param device: (for one device at /description.xml) a root device,
            with its C{configId}.
        @param repliesPerSecond: the rate a source's reply budget refills at:
            a flood from one source gets no more; one search from a source
            quiet for C{quietSeconds} is answered in full.
        @param maxPending: the most replies waiting for their MX delay (by
            default 2000, or four whole answers if that is more).
        @param searchPort: the port we take searches on (SEARCHPORT in
            ssdp:update when it is not 1900).
        @param burst: the most multicast datagrams per interface per 10 ms.
        """
        self.sender = sender
        self.clock = clock
        self.random = rng
        self.bootId = bootId
        self.maxAge = maxAge
        self.server = server
        self._maxPending = maxPending
        self.searchPort = searchPort
        self._devices: dict[str, Advertised] = {}
        for advertised in devices:
            self._devices[advertised.udn.lower()] = advertised
        if device is not None:
            advertised = Advertised.of(device, configId)
            self._devices[advertised.udn.lower()] = advertised
        self._size = sum(len(d.announcements) for d in self._devices.values())
        # The replies to each ST searched for lately, and the reply
        # datagrams of the current second (see _reply).
        self._answers: dict[str, list[tuple[Advertised, Announcement]]] = {}
        self._replies: dict[tuple[int, str, int, str, str], bytes] = {}
        self._repliesStamp: tuple[str, int, int, str] = ("", 0, 0, "")
        self._budget = SearchBudget(
            clock, lambda: self._size, rate=repliesPerSecond, quiet=quietSeconds
        )
        # 20 per 11 ms: "at most 20 in any 10 ms" with a margin for the
        # jitter between our clock and the wire.
        self._pacer = Pacer(clock, self.sender.sendMulticast, burst=burst, window=0.011)
        self._pending: set[IDelayedCall] = set()
        self._held = Sparse(self.log, clock)
        self._timers: set[IDelayedCall] = set()
        self._locations: dict[tuple[Binding, str], str] = {}
        self.running = False
        self._announced = False
        self._whenAnnounced: list[defer.Deferred[None]] = []
        self._setBindings(bindings)

    # -- what is advertised ----------------------------------------------------

    @property
    def devices(self) -> tuple[Advertised, ...]:
        return tuple(self._devices.values())

    @property
    def maxPending(self) -> int:
        if self._maxPending is not None:
            return self._maxPending
        return max(2000, 4 * self._size)

    @property
    def configId(self) -> int:
        """
        The CONFIGID of the first device (for one device).
        """
        first = next(iter(self._devices.values()), None)
        return first.configId if first is not None else 0

    def _changedDevices(self) -> None:
        self._size = sum(len(d.announcements) for d in self._devices.values())
        self._answers.clear()
        self._replies.clear()

    def _answersTo(self, st: str) -> list[tuple[Advertised, Announcement]]:
        """
        Every device's replies to a search for C{st} (worked out once per
        ST until the devices change).
        """
        found = self._answers.get(st)
        if found is None:
            found = [
                (advertised, reply)
                for advertised in self._devices.values()
                for reply in matches(st, advertised.announcements)
            ]
            if len(self._answers) >= 256:
                # Made-up STs cannot grow the table.
                self._answers.clear()
            self._answers[st] = found
        return found

    def addDevice(self, advertised: Advertised) -> None:
        """
        Advertise one more root device: its alive set on every interface,
        twice, a few hundred ms apart.
        """
        self._devices[advertised.udn.lower()] = advertised
        self._changedDevices()
        if self.running:
            self._aliveTwice([advertised])

    def removeDevice(self, udn: str) -> defer.Deferred[None]:
        """
        Stop advertising a root device: it is answered no more, and its
        byebye set goes out twice, 100 ms apart.

        @return: fires once both byebye sets are sent.
        """
        advertised = self._devices.pop(udn.lower(), None)
        self._changedDevices()
        if advertised is None or not self.running:
            return defer.succeed(None)
        return self._byebyeTwice([advertised])

    def changeDevice(self, advertised: Advertised) -> None:
        """
        A root device changed (a new CONFIGID): byebye for what it no longer
        announces, then its whole alive set with the new CONFIGID, twice.
        """
        old = self._devices.get(advertised.udn.lower())
        self._devices[advertised.udn.lower()] = advertised
        self._changedDevices()
        if not self.running:
            return
        if old is not None:
            gone = [a for a in old.announcements if a not in advertised.announcements]
            self._sendByebye([old], only=gone)
        self._aliveTwice([advertised])

    # -- searches ------------------------------------------------------------

    def _setBindings(self, bindings: Sequence[Binding]) -> None:
        self.bindings = tuple(bindings)
        # Most specific subnet first.
        self._byPrefix = sorted(self.bindings, key=lambda b: -b.interface.prefix)
        self._ours = {b.interface.address for b in self.bindings}
        self._bindingOf: dict[tuple[str, int, str], Binding | None] = {}
        self._locations.clear()
        self._replies.clear()

    def location(self, binding: Binding, advertised: Advertised) -> str:
        """
        The LOCATION of C{advertised} on C{binding} (built once).
        """
        key = (binding, advertised.path)
        found = self._locations.get(key)
        if found is None:
            found = self._locations[key] = binding.urlBase + advertised.path
        return found

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
            return _is_unicast(arrival.destination)
        host = (search.host or "").strip()
        if host.startswith("["):
            address = host[1:].partition("]")[0]
        else:
            address = host.partition(":")[0]
        return address.split("%", 1)[0] in self._ours

    def searchReceived(
        self,
        search: ssdp.MSearch,
        source: tuple[str, int],
        arrival: Arrival | None = None,
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
        replies = self._answersTo(search.st)
        if not replies:
            return
        if not unicast and len(self._pending) + len(replies) > self.maxPending:
            self.log.debug("Ignored a search from {source}: too many replies pending",
                           source=source)
            return
        window = 0.0 if unicast else min(search.mx or 0, MAX_MX)
        granted = self._budget.take(source[0], len(replies), search.st, window)
        if granted < len(replies):
            self._held.info(
                "budget", "Searches from {source} held to their budget: {granted} of "
                "{wanted} replies", source=source[0], granted=granted, wanted=len(replies),
            )
            replies = replies[:granted]
        if unicast:
            # Answered now: the devices and bindings are as matched.
            date = self._replyDate()
            send = self.sender.sendUnicast
            for advertised, reply in replies:
                send(self._replyData(binding, advertised, reply, date), source, binding)
            return
        for advertised, reply in replies:
            self._later(
                self._pending, self.random.uniform(0, window),
                self._reply, advertised, reply, binding, source, arrival,
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

    def _reply(
        self, advertised: Advertised, reply: Announcement, binding: Binding,
        source: tuple[str, int], arrival: Arrival | None = None,
    ) -> None:
        current = self._devices.get(advertised.udn.lower())
        if current is None:
            # The device went away while the reply waited.
            return
        if binding not in self.bindings:
            # Its address went away meanwhile: the searcher's address now.
            found = self.bindingFor(source[0], arrival)
            if found is None:
                return
            binding = found
        self.sender.sendUnicast(
            self._replyData(binding, current, reply, self._replyDate()), source, binding
        )

    def _replyDate(self) -> str:
        """
        The DATE of replies sent now; the replies built for another second
        (or another BOOTID, max-age or SERVER) are dropped.
        """
        date = ssdp.http_date(self.clock.seconds())
        stamp = (date, self.bootId, self.maxAge, self.server)
        if stamp != self._repliesStamp:
            self._repliesStamp = stamp
            self._replies.clear()
        return date

    def _replyData(
        self, binding: Binding, advertised: Advertised, reply: Announcement, date: str
    ) -> bytes:
        """
        The datagram that answers a search with C{reply}, sent with C{date}
        (from L{_replyDate}): built once a second per (binding, device,
        reply), as only DATE changes (the cache goes when bindings, devices
        or BOOTID change).
        """
        key = (id(binding), advertised.udn, advertised.configId, reply.nt, reply.usn)
        data = self._replies.get(key)
        if data is None:
            data = ssdp.search_response(
                st=reply.nt,
                usn=reply.usn,
                location=self.location(binding, advertised),
                maxAge=self.maxAge,
                date=date,
                server=self.server,
                bootId=self.bootId,
                configId=advertised.configId,
            )
            if len(self._replies) >= 4096:
                self._replies.clear()
            self._replies[key] = data
        return data

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
        self._aliveTwice(None)

    def _aliveTwice(self, devices: Sequence[Advertised] | None) -> None:
        self.sendAlive(devices=devices)
        self._later(self._timers, self.random.uniform(0.2, 0.4), self._aliveAgain, devices)

    def _aliveAgain(self, devices: Sequence[Advertised] | None) -> None:
        # Only those still advertised, as they are now.
        if devices is not None:
            devices = [self._devices[d.udn.lower()] for d in devices
                       if d.udn.lower() in self._devices]
        self.sendAlive(devices=devices)

    def whenAnnounced(self) -> defer.Deferred[None]:
        """
        Fires once a first alive set is out (on some address).
        """
        if self._announced:
            return defer.succeed(None)

        def cancel(d: defer.Deferred[None]) -> None:
            # No longer waited for: not fired later.
            if d in self._whenAnnounced:
                self._whenAnnounced.remove(d)

        d: defer.Deferred[None] = defer.Deferred(cancel)
        self._whenAnnounced.append(d)
        return d

    def _wentOut(self, _: object = None) -> None:
        if not self._announced:
            self._announced = True
            waiting, self._whenAnnounced = self._whenAnnounced, []
            for d in waiting:
                d.callback(None)

    def sendAlive(
        self,
        bindings: Sequence[Binding] | None = None,
        devices: Sequence[Advertised] | None = None,
    ) -> None:
        """
        The ssdp:alive sets (of C{devices}, by default every device) with
        each binding's LOCATION, on every interface (or on C{bindings}' only).
        """
        chosen = self.bindings if bindings is None else bindings
        for binding, group in announcers(chosen):
            host = ssdp.group_host(group)
            for advertised in self._devices.values() if devices is None else devices:
                location = self.location(binding, advertised)
                for a in advertised.announcements:
                    self._pacer(
                        binding.interface.name,
                        ssdp.alive(
                            nt=a.nt,
                            usn=a.usn,
                            location=location,
                            maxAge=self.maxAge,
                            server=self.server,
                            bootId=self.bootId,
                            configId=advertised.configId,
                            host=host,
                        ),
                        binding,
                        group,
                    )
        if chosen and self._devices and not self._announced:
            # Out once the pacer has sent it all.
            self._pacer.whenIdle().addCallback(self._wentOut)

    def sendByebye(self) -> None:
        """
        The ssdp:byebye set of every device, on every interface.
        """
        self._sendByebye(list(self._devices.values()))

    def _sendByebye(
        self, devices: Sequence[Advertised], only: Sequence[Announcement] | None = None
    ) -> None:
        for binding, group in announcers(self.bindings):
            host = ssdp.group_host(group)
            for advertised in devices:
                for a in advertised.announcements if only is None else only:
                    self._pacer(
                        binding.interface.name,
                        ssdp.byebye(
                            nt=a.nt, usn=a.usn, bootId=self.bootId,
                            configId=advertised.configId, host=host,
                        ),
                        binding,
                        group,
                    )

    def _byebyeTwice(self, devices: Sequence[Advertised]) -> defer.Deferred[None]:
        """
        Byebye for C{devices} now and again 100 ms later.

        @return: fires once the second set is out.
        """
        self._sendByebye(devices)
        done: defer.Deferred[None] = defer.Deferred()

        def again() -> None:
            self._sendByebye(devices)
            self._pacer.whenIdle().chainDeferred(done)

        self.clock.callLater(0.1, again)
        return done

    def changeBindings(self, bindings: Sequence[Binding], nextBootId: int) -> None:
        """
        The network changed: serve C{bindings} from now on (searches get
        their LOCATIONs at once) under a new BOOTID, as UDA 1.1 1.2.4 asks:
        first ssdp:update, with the current and next BOOTID, on the
        bindings that stay; then the alive set with the new BOOTID on every
        binding, twice, a few hundred ms apart.
        """
        # The interfaces that stay (whatever their address now): their
        # updates carry the new LOCATION.
        before = {(b.interface.name, b.interface.family) for b in self.bindings}
        staying = [b for b in bindings if (b.interface.name, b.interface.family) in before]
        if self.running:
            for binding, group in announcers(staying):
                host = ssdp.group_host(group)
                for advertised in self._devices.values():
                    location = self.location(binding, advertised)
                    for a in advertised.announcements:
                        self._pacer(
                            binding.interface.name,
                            ssdp.update(
                                nt=a.nt,
                                usn=a.usn,
                                location=location,
                                bootId=self.bootId,
                                configId=advertised.configId,
                                nextBootId=nextBootId,
                                host=host,
                                searchPort=self.searchPort,
                            ),
                            binding,
                            group,
                        )
        self.bootId = nextBootId
        self._setBindings(bindings)  # (and the replies built with the old BOOTID go)
        if self.running:
            self._aliveTwice(None)

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
        # What waited to go out (alive sets) is dropped: byebye comes next.
        self._pacer.clear()
        return self._byebyeTwice(list(self._devices.values()))
