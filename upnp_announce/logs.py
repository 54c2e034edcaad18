"""
Logging: one Logger per topic, with a short stable namespace
(C{upnp_announce.ssdp}, C{upnp_announce.http}...), whose debug lines are
emitted only for the topics turned on (C{twistd upnp --debug ssdp,http},
or C{UPNP_ANNOUNCE_DEBUG=ssdp,http}, or L{enable} from Python): a log shows
what matters, one readable line per event, and the chatter only on demand.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from twisted.logger import Logger

__all__ = ["TOPICS", "enable", "enabled", "logger"]

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


enable(t for t in os.environ.get("UPNP_ANNOUNCE_DEBUG", "").split(",")
       if t.strip() in (*TOPICS, "all"))
