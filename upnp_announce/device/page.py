"""
The live side of a device's page: L{PageFeed} follows the values of a
device's state variables (the providers' watchers for evented ones, a poll
every second for the others, while anyone looks), L{EventStream} sends them
to open pages as Server-Sent Events, and L{PageCall} runs an action from a
page's form through the same checks as SOAP.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

from twisted.internet import task
from twisted.internet.interfaces import IReactorTime
from twisted.web.server import NOT_DONE_YET, Request

from upnp_announce import datatypes
from upnp_announce.device.control import ActionInvoker
from upnp_announce.device.presentation import state_json
from upnp_announce.logs import logger
from upnp_announce.model import Device, Service
from upnp_announce.wire import soap
from upnp_announce.wire.http import Leaf

__all__ = ["EventStream", "PageCall", "PageFeed"]

# Open pages: at most this many event streams per source address, and in all.
MAX_STREAMS_PER_SOURCE = 4
MAX_STREAMS = 64
# Seconds between polls of the variables no watcher tells of.
POLL = 1.0
# Seconds between comments that keep a quiet stream alive.
HEARTBEAT = 15.0
MAX_CALL_BODY = 16384


class PageFeed:
    """
    The values of one device's state variables, for its open pages.
    """

    log = logger("page")

    def __init__(self, device: Device, clock: IReactorTime) -> None:
        self.device = device
        self.clock = clock
        self.streams: list[Request] = []
        self.sources: Counter[str] = Counter()
        self._last: dict[str, dict[str, str | None]] = {}
        self._unwatch: list[Callable[[], None]] = []
        self._poll = task.LoopingCall(self._tick)
        self._poll.clock = clock
        self._beats = 0
        for service in device.services:
            # (Watchers hear of evented variables only; the poll does the rest.)
            evented = any(v.sendEvents for v in service.description.stateVariables)
            if service.provider is not None and evented:
                self._unwatch.append(
                    service.provider.watch(lambda name, value, s=service: self.changed(s))
                )

    def values(self) -> dict[str, dict[str, str | None]]:
        """
        Every state variable's value as text, by serviceId.
        """
        return {service.serviceId: _values(service) for service in self.device.services}

    def changed(self, service: Service) -> None:
        """
        A watcher told of a change: send what changed at once.
        """
        if self.streams:
            self._send_changes({service.serviceId: _values(service)})

    def _tick(self) -> None:
        self._send_changes(self.values())
        self._beats += 1
        if self._beats * POLL >= HEARTBEAT:
            self._beats = 0
            for request in list(self.streams):
                request.write(b": still here\n\n")

    def _send_changes(self, values: dict[str, dict[str, str | None]]) -> None:
        changes: dict[str, dict[str, str | None]] = {}
        for service, current in values.items():
            before = self._last.get(service, {})
            diff = {k: v for k, v in current.items() if before.get(k, "\0") != v}
            if diff:
                changes[service] = diff
                self._last.setdefault(service, {}).update(diff)
        if changes:
            message = _event(changes)
            for request in list(self.streams):
                request.write(message)

    def open(self, request: Request, source: str) -> bool:
        """
        A page opened its stream: send it everything. C{False} when a
        bound is reached.
        """
        if len(self.streams) >= MAX_STREAMS or self.sources[source] >= MAX_STREAMS_PER_SOURCE:
            return False
        self.streams.append(request)
        self.sources[source] += 1
        values = self.values()
        self._last = {s: dict(v) for s, v in values.items()}
        request.write(b"retry: 2000\n\n" + _event(values))
        if not self._poll.running:
            self._poll.start(POLL, now=False)

        def closed(_: object) -> None:
            if request in self.streams:
                self.streams.remove(request)
                self.sources[source] -= 1
                if self.sources[source] <= 0:
                    del self.sources[source]
            if not self.streams and self._poll.running:
                self._poll.stop()

        request.notifyFinish().addBoth(closed)
        return True

    def stop(self) -> None:
        """
        Stop watching and end every open stream.
        """
        for unwatch in self._unwatch:
            unwatch()
        self._unwatch = []
        if self._poll.running:
            self._poll.stop()
        for request in list(self.streams):
            request.finish()
        self.streams = []
        self.sources.clear()


def _values(service: Service) -> dict[str, str | None]:
    provider = service.provider
    values: dict[str, str | None] = {}
    for variable in service.description.stateVariables:
        if provider is None:
            values[variable.name] = variable.defaultValue
            continue
        try:
            value = provider.stateValue(variable.name)
            values[variable.name] = (
                None if value is None else datatypes.format_value(variable.dataType, value)
            )
        except Exception:
            values[variable.name] = None
    return values


def _event(values: dict[str, dict[str, str | None]]) -> bytes:
    return b"event: state\ndata: " + state_json(values).encode("utf-8") + b"\n\n"


class EventStream(Leaf):
    """
    A page's stream of values: C{text/event-stream}, everything at once,
    then what changes.
    """

    allowedMethods = (b"GET", b"HEAD")

    def __init__(self, feed: PageFeed) -> None:
        super().__init__()
        self.feed = feed

    def render_GET(self, request: Request) -> bytes | int:
        if request.method == b"HEAD":
            request.setHeader(b"content-type", b"text/event-stream")
            return b""
        source = request.getClientAddress().host.split("%", 1)[0]
        request.setHeader(b"content-type", b"text/event-stream; charset=utf-8")
        request.setHeader(b"cache-control", b"no-store")
        if len(self.feed.streams) >= MAX_STREAMS or (
            self.feed.sources[source] >= MAX_STREAMS_PER_SOURCE
        ):
            request.setResponseCode(503)
            request.setHeader(b"content-type", b"text/plain; charset=utf-8")
            return b"Too many open pages\n"
        # A stream is quiet by nature: the idle timeout is not for it.
        channel: Any = request.channel
        if channel is not None:
            channel.setTimeout(None)
        self.feed.open(request, source)
        return NOT_DONE_YET


class PageCall(Leaf):
    """
    A page's action call: C{POST} of JSON C{{"service": serviceId,
    "action": name, "arguments": {name: text}}}, answered with JSON
    C{{"out": {...}}} or C{{"fault": {"code": N, "description": "..."}}}.
    The arguments go through the service's action invoker: the checks and
    faults are SOAP's.
    """

    allowedMethods = (b"POST",)
    log = logger("page")

    def __init__(self, invokers: dict[str, tuple[Service, ActionInvoker]]) -> None:
        """
        @param invokers: serviceId to the service and its invoker.
        """
        super().__init__()
        self.invokers = invokers

    def render_POST(self, request: Request) -> bytes | int:
        kind = (request.getHeader(b"content-type") or b"").split(b";")[0].strip().lower()
        if kind != b"application/json":
            # (A page elsewhere cannot send JSON without asking first.)
            return _plain(request, 415, b"A page call is application/json\n")
        content = request.content
        if content is None or getattr(content, "overflowed", False):
            return _plain(request, 413, b"The request body is too large\n")
        content.seek(0)
        body = content.read(MAX_CALL_BODY + 1)
        if len(body) > MAX_CALL_BODY:
            return _plain(request, 413, b"The request body is too large\n")
        try:
            asked = json.loads(body)
            service, invoker = self.invokers[asked["service"]]
            action = str(asked["action"])
            arguments = tuple((str(k), str(v)) for k, v in dict(asked["arguments"]).items())
        except (ValueError, KeyError, TypeError, AttributeError):
            return _plain(request, 400, b"Not a page call\n")
        call = soap.SOAPRequest(service.serviceType, action, arguments)
        answer = invoker.invoke((service.serviceType, action), call)
        if isinstance(answer, tuple):
            return _json(request, answer)
        answer.addCallback(lambda result: _finish(request, result))
        return NOT_DONE_YET


def _plain(request: Request, code: int, text: bytes) -> bytes:
    request.setResponseCode(code)
    request.setHeader(b"content-type", b"text/plain; charset=utf-8")
    return text


def _json(request: Request, answer: tuple[int, bytes]) -> bytes:
    """
    The invoker's SOAP answer as the page's JSON.
    """
    _, body = answer
    result: dict[str, object]
    try:
        result = {"out": dict(soap.parse_answer(body).arguments)}
    except soap.UPnPError as e:
        result = {"fault": {"code": e.code, "description": e.description}}
    except soap.SOAPError:
        result = {"fault": {"code": 501, "description": "Action Failed"}}
    request.setHeader(b"content-type", b"application/json")
    request.setHeader(b"cache-control", b"no-store")
    return json.dumps(result).encode("utf-8")


def _finish(request: Request, answer: tuple[int, bytes]) -> None:
    if request.finished or getattr(request, "_disconnected", False):
        return
    body = _json(request, answer)
    request.setHeader(b"content-length", str(len(body)).encode())
    request.write(body)
    request.finish()
