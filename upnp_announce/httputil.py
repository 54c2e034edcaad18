"""
Small pieces for twisted.web's HTTP client, shared by the control point and
the event notifier.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import defer, protocol
from twisted.python.failure import Failure
from twisted.web import client as webclient
from twisted.web import http
from twisted.web.iweb import IBodyProducer
from zope.interface import implementer

__all__ = ["BodyTooLarge", "BytesProducer", "read_capped"]


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
