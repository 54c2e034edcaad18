"""
Logging: one Logger per topic, with a short stable namespace
(C{upnp_announce.ssdp}, C{upnp_announce.http}...), whose debug lines are
emitted only for the topics turned on (C{twistd upnp --debug ssdp,http},
or C{UPNP_ANNOUNCE_DEBUG=ssdp,http}, or L{enable} from Python): a log shows
what matters, one readable line per event, and the chatter only on demand.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import Any, cast

from twisted.internet.interfaces import IReactorTime
from twisted.logger import ILogObserver, Logger, LogLevel, eventAsText
from zope.interface import provider

__all__ = ["TOPICS", "Sparse", "enable", "enabled", "journal_observer", "logger"]

# The topics, each a namespace upnp_announce.TOPIC.
TOPICS = (
    "device", "network", "ssdp", "http", "control", "eventing", "page", "reload",
    "provider", "client", "systemd",
)

_enabled: set[str] = set()


def enable(topics: Iterable[str]) -> None:
    """
    Turn on the debug lines of C{topics} (C{"all"} for every topic).

    @raise ValueError: for a topic there is not.
    """
    wanted: set[str] = set()
    for topic in topics:
        topic = topic.strip()
        if not topic:
            continue
        if topic == "all":
            wanted.update(TOPICS)
        elif topic in TOPICS:
            wanted.add(topic)
        else:
            raise ValueError(
                f"there is no log topic {topic!r}; the topics are all, " + ", ".join(TOPICS)
            )
    _enabled.update(wanted)


def enabled(topic: str) -> bool:
    return topic in _enabled


class _TopicLogger(Logger):
    """
    A Logger whose namespace is its topic's, wherever it is used (as a class
    attribute too, where Twisted's own would take the class's name), and
    whose debug lines are emitted only while its topic is on.
    """

    def __init__(self, topic: str, source: object = None) -> None:
        super().__init__(namespace=f"upnp_announce.{topic}", source=source)
        self.topic = topic
        self._attribute: str | None = None

    def __set_name__(self, owner: type, name: str) -> None:
        self._attribute = name

    def __get__(self, instance: object, owner: type | None = None) -> _TopicLogger:
        found = _TopicLogger(self.topic, instance if instance is not None else owner)
        if instance is not None and self._attribute is not None:
            # Built once per instance, not at every use (a hot path logs
            # rarely but reaches for its logger often): the instance's own
            # attribute hides this descriptor from now on.
            try:
                vars(instance)[self._attribute] = found
            except TypeError:
                pass  # (no __dict__: __slots__)
        return found

    def debug(self, format: str | None = None, **kwargs: Any) -> None:
        if self.topic in _enabled:
            super().debug(format, **kwargs)


def logger(topic: str) -> Logger:
    """
    The Logger of C{topic}: namespace C{upnp_announce.TOPIC}.
    """
    if topic not in TOPICS:
        raise ValueError(f"there is no log topic {topic!r}")
    return _TopicLogger(topic)


def _from_environment(value: str) -> list[str]:
    """
    Turn on the topics C{$UPNP_ANNOUNCE_DEBUG} names; the unknown ones it
    names (a typo must not pass unseen, nor stop the program).
    """
    wanted = [t.strip() for t in value.split(",") if t.strip()]
    enable(t for t in wanted if t in (*TOPICS, "all"))
    return [t for t in wanted if t not in (*TOPICS, "all")]


_unknown = _from_environment(os.environ.get("UPNP_ANNOUNCE_DEBUG", ""))
if _unknown:
    logger("device").warn(
        "UPNP_ANNOUNCE_DEBUG names no log topic {unknown}; the topics are all, {topics}",
        unknown=", ".join(_unknown), topics=", ".join(TOPICS),
    )


class Sparse:
    """
    Info lines that a peer can provoke (a refused request, a flood held to
    its budget, subscribers coming and going), each kind (C{key}) at most
    C{burst} times every C{every} seconds; the next line of a kind says how
    many were held back. At most C{keys} kinds are remembered, so made-up
    ones cannot grow the table.
    """

    def __init__(
        self, log: Logger, clock: IReactorTime, every: float = 10.0, keys: int = 256,
        burst: int = 1,
    ) -> None:
        self.log = log
        self.clock = clock
        self.every = every
        self.keys = keys
        self.burst = burst
        # Per kind: when its window began, lines out in it, lines held.
        self._kinds: dict[str, tuple[float, int, int]] = {}

    def info(self, key: str, format: str, **kwargs: Any) -> bool:
        """
        Log C{format} at info level unless C{burst} lines of kind C{key}
        went out in the last C{every} seconds.

        @return: whether the line went out.
        """
        now = self.clock.seconds()
        kind = self._kinds.get(key)
        if kind is not None and now - kind[0] < self.every:
            began, out, held = kind
            if out >= self.burst:
                self._kinds[key] = (began, out, held + 1)
                return False
            self._kinds[key] = (began, out + 1, held)
            self.log.info(format, **kwargs)
            return True
        if kind is None and len(self._kinds) >= self.keys:
            self._kinds = {k: v for k, v in self._kinds.items() if now - v[0] < self.every}
            if len(self._kinds) >= self.keys:
                return False
        if kind is not None and kind[2]:
            format += " ({held} more like it in the last {since:.0f} s)"
            kwargs.update(held=kind[2], since=now - kind[0])
        self._kinds[key] = (now, 1, 0)
        self.log.info(format, **kwargs)
        return True


# syslog priorities (RFC 5424) for the journal's "<N>" line prefixes.
_PRIORITIES = {
    LogLevel.debug: 7, LogLevel.info: 6, LogLevel.warn: 4, LogLevel.error: 3,
    LogLevel.critical: 2,
}


def journal_observer(stream: Any = None) -> ILogObserver:
    """
    A log observer for systemd's journal (C{twistd --logger
    upnp_announce.logs.journal_observer}): each line on standard output
    with its syslog priority as a C{<N>} prefix, which journald reads
    (C{journalctl -p warning} then shows warnings and errors), and no
    timestamp (the journal has its own).

    @param stream: where to write; by default the process's standard
        output as it was before twistd redirected it into the log.
    """
    out: Any = stream if stream is not None else sys.__stdout__

    @provider(ILogObserver)
    def observe(event: dict[str, Any]) -> None:
        priority = _PRIORITIES.get(event.get("log_level", LogLevel.info), 6)
        if event.get("isError") or event.get("log_failure") is not None:
            priority = min(priority, 3)
        text = eventAsText(event, includeTraceback=True, includeTimestamp=False,
                           includeSystem=True)
        prefix = f"<{priority}>"
        out.write("".join(f"{prefix}{line}\n" for line in text.splitlines()))
        out.flush()

    return cast(ILogObserver, observe)

