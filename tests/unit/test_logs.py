"""
The topic loggers: their namespace, their debug switch, and that an
instance's logger is built once (hot paths reach for it often).
"""

from __future__ import annotations

import pytest

from upnp_announce import logs


class Thing:
    log = logs.logger("ssdp")


def test_a_topic_logger_is_named_by_its_topic_and_its_source() -> None:
    thing = Thing()
    assert thing.log.namespace == "upnp_announce.ssdp"
    assert thing.log.source is thing
    assert Thing.log.source is Thing


def test_an_instance_builds_its_logger_once() -> None:
    thing, other = Thing(), Thing()
    assert thing.log is thing.log
    assert other.log is not thing.log and other.log.source is other


def test_debug_lines_only_for_topics_turned_on(monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[dict[str, object]] = []
    thing = Thing()
    thing.log.observer = events.append  # type: ignore[assignment]
    monkeypatch.setattr(logs, "_enabled", set())
    thing.log.debug("quiet")
    thing.log.info("said")
    assert [e["log_format"] for e in events] == ["said"]
    logs.enable(["ssdp"])
    thing.log.debug("now")
    assert [e["log_format"] for e in events] == ["said", "now"]
