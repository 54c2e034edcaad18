"""
The device's NOTIFY senders, LeanNotifier (the default) and HTTPNotifier
(twisted.web's Agent), against real HTTP servers on loopback: what they
send, the address they send from, their kept-alive connections, and how
they give up on refused and silent subscribers.
"""

from __future__ import annotations

from typing import Any

import pytest
import pytest_twisted
from twisted.internet import defer, error, protocol
from twisted.python.failure import Failure
from twisted.web import resource, server
from twisted.web.client import ResponseNeverReceived

from upnp_announce.device.eventing import (
    HTTPNotifier,
    LeanNotifier,
)
from upnp_announce.settings import EventingSettings
from upnp_announce.wire import gena
from upnp_announce.wire.description import CONTENT_TYPE


class Recorder(resource.Resource):
    """
    Records each request and answers with the next status of C{statuses}.
    """

    isLeaf = True

    def __init__(self, statuses: list[int]) -> None:
        super().__init__()
        self.statuses = statuses
        self.requests: list[dict[str, Any]] = []

    def render(self, request: server.Request) -> bytes:  # type: ignore[override]
        self.requests.append(
            {
                "method": request.method,
                "uri": request.uri,
                "headers": {k.lower(): v for k, v in request.requestHeaders.getAllRawHeaders()},
                "body": request.content.read(),
                "client": request.getClientAddress().host,
            }
        )
        request.setResponseCode(self.statuses.pop(0) if self.statuses else 200)
        return b"ok"


class Silent(protocol.Protocol):
    """
    Reads a request and never answers.
    """

    def connectionMade(self) -> None:
        self.factory.connections.append(self)  # type: ignore[attr-defined]

    def connectionLost(self, reason: Failure = protocol.connectionDone) -> None:
        self.factory.lost.callback(None)  # type: ignore[attr-defined]


HEADERS = {
    b"nt": b"upnp:event",
    b"nts": b"upnp:propchange",
    b"sid": b"uuid:01234567-89ab-cdef-0123-456789abcdef",
    b"seq": b"7",
    b"content-type": CONTENT_TYPE,
}


BODY = gena.propertyset([("Level", "5")])


FAST = EventingSettings(connectTimeout=0.5, responseTimeout=0.5)


@pytest.fixture(params=[LeanNotifier, HTTPNotifier])
def Notifier(request: Any) -> Any:
    return request.param


@pytest_twisted.async_yield_fixture
async def recorder() -> Any:
    from twisted.internet import reactor

    recorder = Recorder([])
    site = server.Site(recorder, timeout=None)
    site.noisy = False
    port = reactor.listenTCP(0, site, interface="127.0.0.1")  # type: ignore[attr-defined]
    yield recorder, port.getHost().port
    await port.stopListening()


@pytest_twisted.ensureDeferred
async def test_http_notifier_sends_a_notify(recorder: tuple[Recorder, int], Notifier: Any) -> None:
    from twisted.internet import reactor

    server_, port = recorder
    server_.statuses[:] = [200, 412]
    notifier = Notifier(reactor, FAST)
    try:
        url = f"http://127.0.0.1:{port}/cb/path?x=1"
        status = await notifier.notify(url, HEADERS, BODY, None)
        assert status == 200
        [got] = server_.requests
        assert got["method"] == b"NOTIFY"
        assert got["uri"] == b"/cb/path?x=1"
        for name, value in HEADERS.items():
            assert got["headers"][name] == [value]
        assert got["headers"][b"host"] == [f"127.0.0.1:{port}".encode()]
        assert got["headers"][b"content-length"] == [str(len(BODY)).encode()]
        assert got["body"] == BODY
        # The status, whatever it is, comes back (over the kept-alive
        # connection), and from the address asked for.
        assert await notifier.notify(url, HEADERS, BODY, "127.0.0.1") == 412
        assert server_.requests[1]["client"] == "127.0.0.1"
        assert server_.requests[1]["body"] == BODY
    finally:
        await notifier.close()


@pytest_twisted.ensureDeferred
async def test_http_notifier_binds_to_the_address_asked_for(recorder: tuple[Recorder, int], Notifier: Any) -> None:
    from twisted.internet import reactor

    server_, port = recorder
    notifier = Notifier(reactor, FAST)
    try:
        url = f"http://127.0.0.1:{port}/"
        assert await notifier.notify(url, HEADERS, BODY, "127.0.0.1") == 200
        assert server_.requests[0]["client"] == "127.0.0.1"
    finally:
        await notifier.close()


@pytest_twisted.ensureDeferred
async def test_http_notifier_does_not_reuse_a_connection_from_another_address(recorder: tuple[Recorder, int], Notifier: Any) -> None:
    from twisted.internet import reactor

    server_, port = recorder
    notifier = Notifier(reactor, FAST)
    try:
        url = f"http://127.0.0.1:{port}/"
        assert await notifier.notify(url, HEADERS, BODY, "127.0.0.1") == 200
        assert await notifier.notify(url, HEADERS, BODY, "127.0.0.2") == 200
        assert [r["client"] for r in server_.requests] == ["127.0.0.1", "127.0.0.2"]
    finally:
        await notifier.close()


@pytest_twisted.ensureDeferred
async def test_http_notifier_fails_on_a_refused_connection(Notifier: Any) -> None:
    from twisted.internet import reactor

    # A port that was free a moment ago.
    port = reactor.listenTCP(  # type: ignore[attr-defined]
        0, protocol.Factory(), interface="127.0.0.1"
    )
    number = port.getHost().port
    await port.stopListening()
    settings = EventingSettings(connectTimeout=1.0, responseTimeout=1.0)
    notifier = Notifier(reactor, settings)
    try:
        started = reactor.seconds()  # type: ignore[attr-defined]
        with pytest.raises(error.ConnectionRefusedError):
            await notifier.notify(f"http://127.0.0.1:{number}/", HEADERS, BODY, None)
        # (HostnameEndpoint waits its 0.3 s attempt delay before giving up.)
        elapsed = reactor.seconds() - started  # type: ignore[attr-defined]
        assert elapsed < settings.connectTimeout + settings.responseTimeout, elapsed
    finally:
        await notifier.close()


@pytest_twisted.ensureDeferred
async def test_http_notifier_gives_up_on_a_server_that_never_answers(Notifier: Any) -> None:
    from twisted.internet import reactor

    factory = protocol.Factory.forProtocol(Silent)
    factory.connections = []  # type: ignore[attr-defined]
    factory.lost = defer.Deferred()  # type: ignore[attr-defined]
    port = reactor.listenTCP(0, factory, interface="127.0.0.1")  # type: ignore[attr-defined]
    notifier = Notifier(reactor, EventingSettings(connectTimeout=0.2, responseTimeout=0.3))
    try:
        started = reactor.seconds()  # type: ignore[attr-defined]
        with pytest.raises(Exception) as caught:
            await notifier.notify(
                f"http://127.0.0.1:{port.getHost().port}/", HEADERS, BODY, None
            )
        elapsed = reactor.seconds() - started  # type: ignore[attr-defined]
        assert 0.4 <= elapsed < 3, elapsed
        # Cancelled by the notifier's own timeout; twisted.web's Agent wraps
        # the cancellation of a request already sent.
        failure = caught.value
        if isinstance(failure, ResponseNeverReceived):
            [reason] = failure.reasons
            assert reason.check(defer.CancelledError)
        else:
            assert isinstance(failure, defer.TimeoutError), failure
        assert len(factory.connections) == 1  # type: ignore[attr-defined]
        # The connection was given up, not left open.
        await factory.lost  # type: ignore[attr-defined]
    finally:
        await notifier.close()
        await port.stopListening()
