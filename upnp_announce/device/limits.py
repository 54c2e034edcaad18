"""
Budgets per source address: how much one peer may make the device do.
"""

from __future__ import annotations

from twisted.internet.interfaces import IReactorTime

__all__ = ["RateLimit"]


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
