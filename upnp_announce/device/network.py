"""
Watching the network under a running device: the set of usable
(interface, address) pairs, rescanned when the kernel says something changed
(rtnetlink on Linux) and polled where it cannot (elsewhere, and as a safety
net), with the changes handed on as added and removed addresses.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from twisted.internet.interfaces import IDelayedCall, IReactorTime

from upnp_announce.logs import logger
from upnp_announce.netif import InterfaceAddress

__all__ = ["ChangeSource", "InterfaceWatcher"]

# After the kernel reports a change, wait this long for the rest of it (an
# address comes with a route and a link change) before rescanning.
SETTLE = 0.3
# Without kernel notifications: rescan this often (a change is seen within
# this plus SETTLE, well under 3 s).
POLL = 2.0
# With them: rescan now and then all the same (a lost notification).
SAFETY_POLL = 30.0


class ChangeSource(Protocol):
    """
    Tells that the kernel's interfaces or addresses changed (rtnetlink).
    """

    def start(self) -> bool:
        """
        Start watching; C{False} when this system cannot tell (then the
        watcher polls).
        """

    def stop(self) -> None:
        """
        Stop watching.
        """


class InterfaceWatcher:
    """
    Keeps L{current} equal to what C{select} gives, on an injected clock.

    @ivar current: the usable addresses, as of the last scan.
    """

    log = logger("network")

    def __init__(
        self,
        clock: IReactorTime,
        select: Callable[[], Sequence[InterfaceAddress]],
        changed: Callable[[tuple[InterfaceAddress, ...], tuple[InterfaceAddress, ...]], None],
        *,
        source: Callable[[Callable[[], None]], ChangeSource] | None = None,
        settle: float = SETTLE,
        poll: float = POLL,
        safetyPoll: float = SAFETY_POLL,
    ) -> None:
        """
        @param select: the usable addresses now (reads the system).
        @param changed: called with (added, removed) after a scan that found
            a difference.
        @param source: builds the kernel's change source from the callback
            it should call; C{None} to poll only.
        """
        self.clock = clock
        self.select = select
        self.changed = changed
        self.settle = settle
        self.poll = poll
        self.safetyPoll = safetyPoll
        self.current: tuple[InterfaceAddress, ...] = ()
        self._source = source(self.kernelChanged) if source is not None else None
        self._notified = False
        self._scan: IDelayedCall | None = None
        self._poll: IDelayedCall | None = None
        self.running = False

    def start(self) -> tuple[InterfaceAddress, ...]:
        """
        Scan once and start watching.

        @return: the usable addresses now.
        """
        self.running = True
        self._notified = self._source is not None and self._source.start()
        if not self._notified:
            self.log.debug("No kernel notifications here: polling every {poll} s",
                           poll=self.poll)
        self.current = self._read()
        self._schedulePoll()
        return self.current

    def stop(self) -> None:
        self.running = False
        if self._source is not None:
            self._source.stop()
        for call in (self._scan, self._poll):
            if call is not None and call.active():
                call.cancel()
        self._scan = self._poll = None

    def kernelChanged(self) -> None:
        """
        Something changed: rescan once it has settled.
        """
        if self.running and (self._scan is None or not self._scan.active()):
            self._scan = self.clock.callLater(self.settle, self.rescan)

    def rescanSoon(self, delay: float = 1.0) -> None:
        """
        Rescan after C{delay} seconds whatever the kernel says (an address
        that could not be used yet, such as a tentative IPv6 one).
        """
        if not self.running:
            return
        if self._scan is not None and self._scan.active():
            if self._scan.getTime() <= self.clock.seconds() + delay:
                return
            self._scan.cancel()
        self._scan = self.clock.callLater(delay, self.rescan)

    def rescan(self) -> None:
        """
        Read the addresses; report what was added and removed.
        """
        self._scan = None
        if not self.running:
            return
        now = self._read()
        before = set(self.current)
        after = set(now)
        added = tuple(a for a in now if a not in before)
        removed = tuple(a for a in self.current if a not in after)
        self.current = now
        if added or removed:
            self.changed(added, removed)

    def _read(self) -> tuple[InterfaceAddress, ...]:
        try:
            return tuple(self.select())
        except Exception:
            # A failing read of the system changes nothing; the next scan
            # tries again.
            self.log.failure("Cannot read the network interfaces")
            return self.current

    def _schedulePoll(self) -> None:
        def poll() -> None:
            self._schedulePoll()
            self.rescan()

        if self.running:
            # A source that stopped by itself (a netlink error) is polled for.
            notified = self._notified and getattr(self._source, "running", True)
            self._poll = self.clock.callLater(self.safetyPoll if notified else self.poll, poll)
