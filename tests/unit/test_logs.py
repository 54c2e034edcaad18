"""
The log: topic loggers, debug lines on demand, and lines a peer can provoke
held to one a kind every ten seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from twisted.internet.task import Clock
from twisted.logger import formatEvent, globalLogPublisher

from tests.support import MemoryHTTP, example, request
from upnp_announce import config, logs
from upnp_announce.device import site as web


@pytest.fixture
def topics() -> Iterator[None]:
    # Whatever a test turns on is off again after it.
    before = set(logs._enabled)
    yield
    logs._enabled.clear()
    logs._enabled.update(before)


def lines(events: list[dict[str, Any]], namespace: str) -> list[str]:
    return [formatEvent(e) for e in events if e.get("log_namespace") == namespace]


def test_a_topic_logger_keeps_its_namespace_as_a_class_attribute(
    logged: list[dict[str, Any]],
) -> None:
    class Thing:
        log = logs.logger("ssdp")

        def say(self) -> None:
            self.log.info("said")

    Thing().say()
    [event] = [e for e in logged if e.get("log_format") == "said"]
    assert event["log_namespace"] == "upnp_announce.ssdp"
    assert isinstance(event["log_source"], Thing)


def test_debug_lines_only_for_the_topics_turned_on(
    logged: list[dict[str, Any]], topics: None
) -> None:
    logs._enabled.discard("ssdp")
    log = logs.logger("ssdp")
    log.debug("quiet")
    log.info("said")
    assert lines(logged, "upnp_announce.ssdp") == ["said"]
    logs.enable(["ssdp"])
    log.debug("loud")
    assert lines(logged, "upnp_announce.ssdp") == ["said", "loud"]
    logs.enable(["all"])
    assert all(logs.enabled(topic) for topic in logs.TOPICS)


def test_an_unknown_topic_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="there is no log topic 'sdp'; the topics are all, "):
        logs.enable(["sdp"])
    with pytest.raises(ValueError, match="no log topic"):
        logs.logger("nope")


def test_sparse_lines_are_one_a_kind_every_ten_seconds_and_count_the_rest(
    logged: list[dict[str, Any]],
) -> None:
    clock = Clock()
    sparse = logs.Sparse(logs.logger("http"), clock, every=10)
    assert sparse.info("host", "Refused {n}", n=1)
    for n in range(2, 6):
        clock.advance(1)
        assert not sparse.info("host", "Refused {n}", n=n)
    assert sparse.info("origin", "Other kind")  # another kind has its own turn
    clock.advance(6)
    assert sparse.info("host", "Refused {n}", n=6)
    assert lines(logged, "upnp_announce.http") == [
        "Refused 1", "Other kind", "Refused 6 (4 more like it in the last 10 s)",
    ]


def test_sparse_remembers_a_bounded_number_of_kinds(logged: list[dict[str, Any]]) -> None:
    clock = Clock()
    sparse = logs.Sparse(logs.logger("http"), clock, every=10, keys=3)
    went = [sparse.info(f"k{n}", "line {n}", n=n) for n in range(10)]
    assert went == [True] * 3 + [False] * 7
    assert len(sparse._kinds) == 3
    clock.advance(10)
    assert sparse.info("k9", "line {n}", n=9)  # the old kinds are forgotten


@pytest.fixture
def site() -> web.DeviceSite:
    loaded = config.load(example("light.ini"))
    site = web.DeviceSite(loaded.device, reactor=Clock())
    site.addAddress("127.0.0.1", 8000)
    return site


def test_a_refused_host_is_one_readable_line_at_most_every_ten_seconds(
    site: web.DeviceSite, logged: list[dict[str, Any]],
) -> None:
    for _ in range(5):
        [response] = MemoryHTTP(site, peer="10.0.0.9").send(
            request(host=b"evil.example\x1b[2J:8000")
        )
        assert response.status == 403
    assert lines(logged, "upnp_announce.http") == [
        "Refused a request from 10.0.0.9 for Host evil.example\\x1b[2J:8000: "
        "not one of our addresses"
    ]


def test_a_foreign_origin_is_logged_with_the_reason(
    site: web.DeviceSite, logged: list[dict[str, Any]],
) -> None:
    [response] = MemoryHTTP(site, peer="10.0.0.9").send(request(
        b"POST", b"/svc/SwitchPower/control", headers={b"Origin": b"http://evil.example"},
        body=b"x",
    ))
    assert response.status == 403
    assert lines(logged, "upnp_announce.http") == [
        "Refused a POST from 10.0.0.9: sent by a page of another origin, http://evil.example"
    ]


def test_the_access_log_is_a_debug_line_of_the_http_topic(
    site: web.DeviceSite, logged: list[dict[str, Any]], topics: None,
) -> None:
    logs._enabled.discard("http")
    MemoryHTTP(site).send(request())
    assert lines(logged, "upnp_announce.http") == []
    logs.enable(["http"])
    MemoryHTTP(site).send(request())
    [line] = lines(logged, "upnp_announce.http")
    assert '"GET /description.xml HTTP/1.1" 200 ' in line


def test_a_refused_soap_request_is_one_line_with_its_reason(
    site: web.DeviceSite, logged: list[dict[str, Any]],
) -> None:
    for _ in range(3):
        [response] = MemoryHTTP(site, peer="10.0.0.9").send(request(
            b"POST", b"/svc/SwitchPower/control", headers={b"Content-Type": b"text/plain"},
            body=b"x",
        ))
        assert response.status == 415
    assert lines(logged, "upnp_announce.control") == [
        "Refused a POST from 10.0.0.9 (415): SOAP control takes text/xml"
    ]


def test_the_journal_observer_prefixes_each_line_with_its_priority() -> None:
    import io

    from twisted.logger import Logger

    out = io.StringIO()
    observer = logs.journal_observer(out)
    globalLogPublisher.addObserver(observer)
    try:
        log = Logger(namespace="upnp_announce.device")
        log.info("Serving {name}", name="Kitchen light")
        log.warn("Waiting for {what}", what="eth0")
        log.error("Reload: {problem}", problem="a.ini:3: bad")
        try:
            1 / 0
        except ZeroDivisionError:
            log.failure("A provider failed")
    finally:
        globalLogPublisher.removeObserver(observer)
    lines = out.getvalue().splitlines()
    assert lines[:4] == [
        "<6>[upnp_announce.device#info] Serving Kitchen light",
        "<4>[upnp_announce.device#warn] Waiting for eth0",
        "<3>[upnp_announce.device#error] Reload: a.ini:3: bad",
        "<2>[upnp_announce.device#critical] A provider failed",
    ]
    # The traceback too, each of its lines at the same priority.
    assert len(lines) > 5 and all(line.startswith("<2>") for line in lines[4:])
    assert "ZeroDivisionError" in lines[-1]


def test_the_environment_turns_topics_on_and_names_the_unknown_ones(topics: None) -> None:
    logs._enabled.discard("page")
    assert logs._from_environment(" page, sdp ,,") == ["sdp"]
    assert logs.enabled("page")


class Named:
    log = logs.logger("ssdp")


def test_a_topic_logger_is_named_by_its_topic_and_its_source() -> None:
    thing = Named()
    assert thing.log.namespace == "upnp_announce.ssdp"
    assert thing.log.source is thing
    assert Named.log.source is Named


def test_an_instance_builds_its_logger_once() -> None:
    # Hot paths reach for their logger often: it is built once an instance.
    thing, other = Named(), Named()
    assert thing.log is thing.log
    assert other.log is not thing.log and other.log.source is other
