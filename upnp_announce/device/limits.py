"""
Budgets: how much one peer may make the device do (per source address), and
how fast the device itself may send (per interface).
"""

from __future__ import annotations

from bisect import bisect_right, insort
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from twisted.internet import defer
from twisted.internet.interfaces import IDelayedCall, IReactorTime

__all__ = ["Pacer", "RateLimit", "SearchBudget"]

_MAX = 1 << 62


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


class SearchBudget:
    """
    How many search replies each source address may get: one whole answer
    to each search target (C{ssdp:all}, however many devices; a type; a
    UUID) that the source has not searched for C{quiet} seconds; beyond
    that, no more than C{rate} replies in any one second (so a flood's
    replies grow with the seconds it lasts, not with the searches it
    sends).

    At most C{sources} sources (and 64 targets a source) are remembered;
    beyond that, new sources share one entry, so a flood of made-up sources
    cannot grow the table.
    """

    TARGETS = 64

    def __init__(
        self,
        clock: IReactorTime,
        capacity: Callable[[], int],
        *,
        rate: float = 50.0,
        quiet: float = 10.0,
        sources: int = 4096,
    ) -> None:
        """
        @param capacity: the size of a whole answer to C{ssdp:all} now (it
            grows with the devices served).
        """
        self.clock = clock
        self.capacity = capacity
        self.rate = rate
        self.quiet = quiet
        self.sources = sources
        self._sources: dict[str, _Source] = {}
        self._seconds = clock.seconds

    # How late a granted reply may leave after its search (its MX delay
    # aside): the pacing of a burst. A grant counts until its last reply
    # can have left, so no two seconds' grants meet in one second on the
    # wire.
    SLACK = 0.05

    def take(self, source: str, wanted: int, target: str = "", spread: float = 0.0) -> int:
        """
        How many of C{wanted} replies C{source} gets now (0 to C{wanted}).

        @param target: what was searched for (its ST).
        @param spread: the replies go out over this many seconds (the
            search's MX window).
        """
        now = self._seconds()
        entry = self._sources.get(source)
        if entry is None:
            if len(self._sources) >= self.sources:
                self._forget(now)
                if len(self._sources) >= self.sources:
                    # Too many sources at once: the unknown ones share one entry.
                    source = ""
            entry = self._sources.get(source)
            if entry is None:
                entry = self._sources[source] = _Source()
        entry.seen = now
        target = target.lower()[:128]
        targets = entry.targets
        last = targets.pop(target, None)
        targets[target] = now
        if last is None and len(targets) > self.TARGETS:
            del targets[next(iter(targets))]
        if last is None or now - last >= self.quiet:
            # Not asked lately: a whole answer.
            return min(wanted, max(self.capacity(), int(self.rate)))
        grants = entry.grants
        # Grants are kept in the order they stop counting (each counts until
        # its last reply may have left), with their running sum.
        horizon = now - 1.0
        if grants and grants[0][0] <= horizon:
            cut = bisect_right(grants, (horizon, _MAX))
            entry.granted -= sum(n for _, n in grants[:cut])
            del grants[:cut]
        granted = max(0, min(wanted, int(self.rate) - entry.granted))
        if granted:
            insort(grants, (now + spread + self.SLACK, granted))
            entry.granted += granted
        return granted

    def _forget(self, now: float) -> None:
        """
        Drop the sources quiet long enough to get whole answers anyway.
        """
        for source in [s for s, entry in self._sources.items() if now - entry.seen >= self.quiet]:
            del self._sources[source]


@dataclass(slots=True)
class _Source:
    """
    What a L{SearchBudget} remembers of one source: when it last searched,
    when it last searched for each target, and its grants of the last second
    as (when it stops counting, count) in that order, with their sum.
    """

    seen: float = 0.0
    targets: dict[str, float] = field(default_factory=dict)
    grants: list[tuple[float, int]] = field(default_factory=list)
    granted: int = 0


class Pacer:
    """
    Sends datagrams at most C{burst} per interface in any C{window} seconds
    (a sliding window), queueing the rest in order (a hundred devices
    announcing at once must neither flood a link nor overflow the kernel's
    buffers).
    """

    def __init__(
        self, clock: IReactorTime, send: Callable[..., None], *, burst: int = 20,
        window: float = 0.01,
    ) -> None:
        self.clock = clock
        self.send = send
        self.burst = burst
        self.window = window
        # Interface to the times of its last sends (at most burst) and its
        # queue.
        self._times: dict[str, deque[float]] = {}
        self._queues: dict[str, deque[tuple[Any, ...]]] = {}
        self._drain: IDelayedCall | None = None
        self._idle: list[defer.Deferred[None]] = []

    def _wait(self, interface: str) -> float:
        """
        How long until C{interface} may send again (0: now).
        """
        times = self._times.get(interface)
        if times is None or len(times) < self.burst:
            return 0.0
        return max(0.0, times[0] + self.window - self.clock.seconds())

    def _sent(self, interface: str) -> None:
        times = self._times.setdefault(interface, deque(maxlen=self.burst))
        times.append(self.clock.seconds())

    def __call__(self, interface: str, *args: Any) -> None:
        """
        Send C{args} on C{interface} now if it may, else later, in order.
        """
        if not self._queues.get(interface) and self._wait(interface) <= 0:
            self._sent(interface)
            self.send(*args)
            return
        self._queues.setdefault(interface, deque()).append(args)
        self._schedule()

    def _schedule(self) -> None:
        if self._drain is not None and self._drain.active():
            return
        delay = min(self._wait(i) for i in self._queues)
        # (A hair later than due, so that float rounding never sends early.)
        self._drain = self.clock.callLater(delay + 1e-6 if delay else 0, self._run)

    def _run(self) -> None:
        self._drain = None
        for interface, queue in list(self._queues.items()):
            while queue and self._wait(interface) <= 0:
                self._sent(interface)
                self.send(*queue.popleft())
            if not queue:
                del self._queues[interface]
        if self._queues:
            self._schedule()
        else:
            idle, self._idle = self._idle, []
            for d in idle:
                d.callback(None)

    @property
    def pending(self) -> int:
        return sum(len(q) for q in self._queues.values())

    def whenIdle(self) -> defer.Deferred[None]:
        """
        Fires once every queued datagram is sent.
        """
        if not self._queues:
            return defer.succeed(None)
        d: defer.Deferred[None] = defer.Deferred()
        self._idle.append(d)
        return d

    def clear(self) -> None:
        """
        Drop what waits (the device stops announcing).
        """
        self._queues.clear()
        if self._drain is not None and self._drain.active():
            self._drain.cancel()
        self._drain = None
        idle, self._idle = self._idle, []
        for d in idle:
            d.callback(None)
