"""
The twisted.web pieces both sides use: request bodies capped in memory,
fixed-bytes request bodies, answers read up to a limit, and leaf resources
that answer UPnP's own methods (SUBSCRIBE, NOTIFY, M-POST).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from twisted.internet import defer, protocol
from twisted.python.failure import Failure
from twisted.web import client as webclient
from twisted.web import http, resource
from twisted.web.iweb import IBodyProducer, IRequest
from zope.interface import implementer

__all__ = [
    "MAX_BODY",
    "BodyTooLarge",
    "BytesProducer",
    "CappedBody",
    "MAX_HEAD",
    "Leaf",
    "method_not_allowed",
    "quiet_pool",
    "read_capped",
]

# The largest request body kept (SOAP calls, NOTIFYs).
MAX_BODY = 65536


class CappedBody(io.BytesIO):
    """
    A request body that keeps at most C{limit} bytes; C{overflowed} says
    whether more came (or was announced).
    """

    def __init__(self, limit: int, announced: int | None) -> None:
        super().__init__()
        self.limit = limit
        self.overflowed = announced is not None and announced > limit

    def write(self, data: bytes) -> int:  # type: ignore[override]
        if self.overflowed or self.tell() + len(data) > self.limit:
            self.overflowed = True
            return len(data)
        return super().write(data)


def method_not_allowed(request: IRequest, allowed: Sequence[bytes]) -> bytes:
    """
    Answer 405 with the Allow header.
    """
    request.setResponseCode(405)
    request.setHeader(b"allow", b", ".join(allowed))
    request.setHeader(b"content-type", b"text/plain; charset=utf-8")
    return b"Method Not Allowed\n"


class Leaf(resource.Resource):
    """
    A leaf that answers the methods in C{allowedMethods}, each with its
    C{render_METHOD} (C{render_M_POST} for M-POST; HEAD is answered by
    C{render_GET}), and any other method with 405.

    twisted.web would answer a method it does not know itself (SUBSCRIBE,
    M-POST...) with 501 before asking the resource.
    """

    isLeaf = True
    allowedMethods: tuple[bytes, ...] = ()

    def render(self, request: IRequest) -> bytes | int:
        method = request.method
        if method == b"HEAD" and b"GET" in self.allowedMethods:
            method = b"GET"
        if method not in self.allowedMethods:
            return method_not_allowed(request, self.allowedMethods)
        handler = getattr(self, "render_" + method.decode("ascii").replace("-", "_"))
        return handler(request)  # type: ignore[no-any-return]


class BodyTooLarge(Exception):
    """
    An answer's body was longer than we read.
    """


@implementer(IBodyProducer)
class BytesProducer:
    """
    A request body of fixed bytes.
    """

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.length = len(data)

    def startProducing(self, consumer: Any) -> defer.Deferred[None]:
        consumer.write(self.data)
        return defer.succeed(None)

    def pauseProducing(self) -> None:
        pass

    def resumeProducing(self) -> None:
        pass

    def stopProducing(self) -> None:
        pass


class _Capped(protocol.Protocol):
    def __init__(self, limit: int, done: defer.Deferred[bytes]) -> None:
        self.limit = limit
        self.done = done
        self.parts: list[bytes] = []
        self.size = 0

    def dataReceived(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.limit:
            # The transport of a response body is an IPushProducer.
            producer: Any = self.transport
            producer.stopProducing()
            if not self.done.called:
                self.done.errback(BodyTooLarge(f"more than {self.limit} bytes"))
            return
        self.parts.append(data)

    def connectionLost(self, reason: Failure = protocol.connectionDone) -> None:
        if self.done.called:
            return
        if reason.check(webclient.ResponseDone, http.PotentialDataLoss):
            self.done.callback(b"".join(self.parts))
        else:
            self.done.errback(reason)


def read_capped(response: Any, limit: int) -> defer.Deferred[bytes]:
    """
    The body of C{response}; L{BodyTooLarge} (and the rest unread) beyond
    C{limit} bytes.
    """
    reader: _Capped

    def cancel(d: defer.Deferred[bytes]) -> None:
        # A timeout while the body streams in closes the connection.
        producer: Any = reader.transport
        if producer is not None:
            producer.stopProducing()

    done: defer.Deferred[bytes] = defer.Deferred(cancel)
    reader = _Capped(limit, done)
    response.deliverBody(reader)
    return done


# The most bytes an answer's status line and headers may take: a peer that
# streams headers for ever is cut off (Twisted bounds each line, not their
# number).
MAX_HEAD = 64 * 1024


def quiet_pool(reactor: Any, **attributes: Any) -> Any:
    """
    A persistent C{HTTPConnectionPool} for talking to peers: its
    connections' factories do not log "Starting factory <...>" lines (one
    per connection, object reprs that tell a reader nothing), and an
    answer's head is bounded (L{MAX_HEAD}; bodies are bounded by their
    readers, L{read_capped}).

    @param attributes: set on the pool (C{maxPersistentPerHost}, ...).
    """
    from twisted.web._newclient import BODY, DONE, HTTP11ClientProtocol
    from twisted.web.client import HTTPConnectionPool, _HTTP11ClientFactory

    class _BoundedHead(HTTP11ClientProtocol):
        _head = 0

        def request(self, request: Any) -> Any:
            self._head = 0
            return super().request(request)

        def dataReceived(self, data: bytes) -> None:
            parser = self._parser
            if parser is not None and parser.state not in (BODY, DONE):
                self._head += len(data)
                if self._head > MAX_HEAD:
                    self.transport.abortConnection()  # type: ignore[union-attr]
                    return
            super().dataReceived(data)

    class _QuietFactory(_HTTP11ClientFactory):
        noisy = False

        def buildProtocol(self, addr: Any) -> Any:
            return _BoundedHead(self._quiescentCallback)

    pool = HTTPConnectionPool(reactor, persistent=True)
    pool._factory = _QuietFactory
    for name, value in attributes.items():
        setattr(pool, name, value)
    return pool
