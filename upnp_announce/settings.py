"""
The device's settings ([network] and [eventing] of the INI file) as frozen
values, each bound written once, here: the INI loader reports a value out of
these bounds with its file and line, and a value built in Python is checked
against the same ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from upnp_announce.netif import DEFAULT_EXCLUDE

__all__ = ["BOUNDS", "EventingSettings", "NetworkSettings", "bounds_problem"]

# Whole-number settings: their bounds, and why where it is not obvious.
BOUNDS: dict[str, tuple[int, int, str]] = {
    "httpPort": (0, 65535, ""),
    # UDA 1.1: max-age should be at least 1800; a day is plenty.
    "maxAge": (1800, 86400, " (UDA 1.1 asks for at least 1800 seconds)"),
    "ttl": (1, 255, ""),
    "minTimeout": (1, 604800, ""),
    "maxTimeout": (1, 604800, ""),
    "maxSubscriptions": (1, 100000, ""),
    "maxSubscriptionsPerSource": (1, 100000, ""),
    "repliesPerSecond": (1, 100000, ""),
    "quietSeconds": (1, 3600, ""),
}

CALLBACK_POLICIES = ("requester", "subnet")


def bounds_problem(name: str, value: object) -> str | None:
    """
    What is wrong with C{value} for the whole-number setting C{name}, or
    C{None} when it is within its bounds.
    """
    low, high, why = BOUNDS[name]
    if type(value) is not int or not low <= value <= high:
        return f"{value!r} is not a whole number from {low} to {high}{why}"
    return None


def _check(names: tuple[str, ...], value: object, extra: list[str]) -> None:
    problems = [
        f"{name}: {message}"
        for name in names
        if (message := bounds_problem(name, getattr(value, name))) is not None
    ]
    problems += extra
    if problems:
        raise ValueError("; ".join(problems))


@dataclass(frozen=True)
class NetworkSettings:
    """
    The [network] section.

    @ivar interfaces: interface names or glob patterns (C{"eth*"}), or
        C{None} for every up, multicast-capable, non-loopback interface.
    @ivar exclude: glob patterns of interfaces never chosen by default or by
        a pattern (container and VM bridges); an interface named exactly in
        C{interfaces} is chosen all the same.
    @ivar ipv6: serve on IPv6 addresses too.
    @ivar httpPort: the HTTP port; 0 picks a free one.
    @ivar maxAge: seconds an announcement stays valid (CACHE-CONTROL).
    @ivar ttl: the multicast TTL of SSDP messages.
    @ivar repliesPerSecond: the most search replies a source gets in any
        second, beyond the whole answer a quiet source gets.
    @ivar quietSeconds: how long a source must not search to get a whole
        answer again.
    """

    interfaces: tuple[str, ...] | None = None
    httpPort: int = 0
    maxAge: int = 1800
    ttl: int = 2
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    ipv6: bool = True
    repliesPerSecond: int = 50
    quietSeconds: int = 10

    def __post_init__(self) -> None:
        extra = []
        if self.interfaces is not None and not self.interfaces:
            extra.append("interfaces: lists no interface")
        _check(("httpPort", "maxAge", "ttl", "repliesPerSecond", "quietSeconds"), self, extra)


@dataclass(frozen=True)
class EventingSettings:
    """
    The [eventing] section.

    @ivar callbacks: C{"requester"}: a callback URL's host must be the
        subscriber's own address; C{"subnet"}: any address on the subnet of
        the interface the SUBSCRIBE came in on.
    @ivar minTimeout: the shortest subscription granted, in seconds.
    @ivar maxTimeout: the longest.
    @ivar maxSubscriptions: per service.
    @ivar maxSubscriptionsPerSource: per service and subscriber address.
    @ivar connectTimeout: seconds to connect to a callback URL.
    @ivar responseTimeout: seconds for its answer.
    @ivar maxFailures: NOTIFYs in a row that may fail before the
        subscription is dropped.
    """

    callbacks: str = "requester"
    minTimeout: int = 60
    maxTimeout: int = 86400
    maxSubscriptions: int = 100
    maxSubscriptionsPerSource: int = 10
    connectTimeout: float = 5.0
    responseTimeout: float = 10.0
    maxFailures: int = 3

    def __post_init__(self) -> None:
        extra = []
        if self.callbacks not in CALLBACK_POLICIES:
            extra.append(f"callbacks: must be 'requester' or 'subnet', not {self.callbacks!r}")
        if self.minTimeout > self.maxTimeout:
            extra.append("minTimeout: must be at most maxTimeout")
        _check(
            ("minTimeout", "maxTimeout", "maxSubscriptions", "maxSubscriptionsPerSource"),
            self,
            extra,
        )

    def grant(self, asked: int | None) -> int:
        """
        The timeout granted for C{asked} seconds (C{None}: no wish, or
        infinite): 1800, clamped to the bounds.
        """
        wanted = 1800 if asked is None else asked
        return max(self.minTimeout, min(self.maxTimeout, wanted))
