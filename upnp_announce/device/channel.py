"""
A lean HTTP/1.1 channel for the device's fixed routes.

Nearly everything a control point asks of a device is one of a few fixed
routes: a GET of a description, an SCPD or an icon (bytes rendered once),
and a POST of a SOAP call to a controlURL. twisted.web's channel and
Request spend more on each of those than the device spends answering it
(a Headers object per request, a line callback per header, the resource
traversal, the response headers built one by one). L{LeanChannel} answers
the plain, well-formed form of these requests itself, with the very
checks and headers of the resource tree (the Host check, the Origin check,
the body cap, Server, Date, Content-Type, Content-Length, EXT), and hands
the connection, with every byte not yet answered, to the site's
twisted.web channel at the first request that is anything else: another
method or path (SUBSCRIBE, the page, users' own resources), a query
string, HTTP/1.0, a body without Content-Length, C{Expect}, a header
folded or repeated, an error of any kind (the tree answers those, as
before), or any request while the C{http} topic logs access lines. From
then on that channel serves the connection as it always did.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Protocol

from twisted.internet import protocol
from twisted.internet.interfaces import IDelayedCall, IPushProducer, IReactorTime, ITransport
from twisted.python.failure import Failure
from twisted.web.http import RESPONSES, datetimeToString
from zope.interface import implementer

from upnp_announce.device.control import Answer, ControlResource
from upnp_announce.device.resources import StaticBytes
from upnp_announce.logs import enabled, logger

__all__ = ["DateLine", "LeanChannel", "Routes"]

# The most header bytes the lean path reads before it lets twisted.web
# (which answers an oversized head with an error) have the connection.
MAX_HEAD = 16384
MAX_HEADERS = 64
# Header names the lean path understands; any other header is passed by.
# A request with one of these is handed over whatever its value.
_HAND_OVER = frozenset({b"transfer-encoding", b"expect", b"upgrade", b"te", b"trailer"})
_ONCE = frozenset({b"host", b"content-length", b"content-type", b"soapaction", b"origin",
                   b"connection"})
# A head the lean path reads: a request line of HTTP/1.1 and header lines
# of a token, a colon and a value without control line breaks (anything
# else, folded lines too, is left to twisted.web).
_PLAIN_HEAD = re.compile(
    rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+ /[^ \r\n\x00]* HTTP/1\.1"
    rb"(?:\r\n[!#$%&'*+.^_`|~0-9A-Za-z-]+:[^\r\n\x00]*)*"
)
# How long a connection being closed may take to take its last bytes (a
# peer that never reads would hold it, and them, forever): twisted.web's
# abortTimeout.
ABORT_TIMEOUT = 15.0


# A SOAP POST read up to its body: where the body starts, its size, the
# headers, the control leaf, and whether the connection closes after it.
_Pending = tuple[int, int, dict[bytes, bytes], ControlResource, bool]


class Routes(Protocol):
    """
    What the lean channel asks of the site: its fixed routes and its
    checks (L{upnp_announce.device.site.DeviceSite} provides it).
    """

    serverHeader: bytes

    def fixedRoute(self, path: bytes) -> StaticBytes | ControlResource | None:
        """
        The fixed leaf at exactly C{path}, if there is one.
        """

    def hostAllowed(self, host: bytes) -> bool:
        """
        Whether a Host header names one of our addresses.
        """

    def originAllowed(self, origin: bytes) -> bool:
        """
        Whether an Origin header is one of the device's own origins.
        """

    def twistedChannel(self, address: Any) -> protocol.Protocol:
        """
        The site's twisted.web channel for a connection from C{address}.
        """


class DateLine:
    """
    The Date header line, formatted once a second.
    """

    def __init__(self, clock: IReactorTime) -> None:
        self.clock = clock
        self.second = -1
        self.line = b""

    def __call__(self) -> bytes:
        now = int(self.clock.seconds())
        if now != self.second:
            self.second = now
            self.line = b"Date: " + datetimeToString(now) + b"\r\n"
        return self.line


def _head(code: int, headers: list[tuple[bytes, bytes]], length: int, close: bool,
          server: bytes, date: bytes) -> bytes:
    lines = [b"HTTP/1.1 %d %s\r\n" % (code, RESPONSES.get(code, b"Unknown"))]
    if close:
        lines.append(b"Connection: close\r\n")
    lines.append(b"Server: " + server + b"\r\n")
    lines.append(date)
    for name, value in headers:
        lines.append(name + b": " + value + b"\r\n")
    lines.append(b"Content-Length: %d\r\n\r\n" % length)
    return b"".join(lines)


@implementer(IPushProducer)
class LeanChannel(protocol.Protocol):
    """
    One HTTP connection: the fixed routes answered here, anything else by
    the twisted.web channel it hands over to (see the module's docstring).

    It reads no more while its answers wait to be sent (it is the
    transport's producer) or while a provider answers later, closes an
    idle connection after C{timeout} seconds and aborts one that will not
    take its last bytes L{ABORT_TIMEOUT} seconds after.
    """

    log = logger("http")

    def __init__(self, routes: Routes, address: Any, clock: IReactorTime, timeout: float,
                 date: Callable[[], bytes] | None = None) -> None:
        self.routes = routes
        self.address = address
        self.clock = clock
        self.timeout = timeout
        self.date = date or DateLine(clock)
        self.other: protocol.Protocol | None = None
        # Bytes read and not yet answered; where the search for the end of
        # the next head goes on from; the POST whose body is still coming
        # (its head read once, not at every segment of a slow body).
        self._buffer = bytearray()
        self._searched = 0
        self._pending: _Pending | None = None
        # Reading stops while a provider answers later (busy) or the
        # transport's buffer is full (paused).
        self._busy = False
        self._paused = False
        self._closing = False
        self._last = 0.0
        self._idle: IDelayedCall | None = None
        self._abort: IDelayedCall | None = None

    # -- the connection ------------------------------------------------------------------

    @property
    def _transport(self) -> ITransport:
        assert self.transport is not None
        return self.transport

    def connectionMade(self) -> None:
        self._last = self.clock.seconds()
        self._transport.registerProducer(self, True)  # type: ignore[attr-defined]
        if self.timeout:
            self._idle = self.clock.callLater(self.timeout, self._checkIdle)

    def _checkIdle(self) -> None:
        self._idle = None
        quiet = self.clock.seconds() - self._last
        if quiet >= self.timeout and not self._busy:
            self._close()
            return
        self._idle = self.clock.callLater(max(self.timeout - quiet, 0.001), self._checkIdle)

    def _close(self) -> None:
        """
        Close once the answers written are sent, and abort if they are not
        taken within L{ABORT_TIMEOUT} seconds.
        """
        self._closing = True
        self._transport.loseConnection()
        if self._abort is None:
            self._abort = self.clock.callLater(ABORT_TIMEOUT, self._forceAbort)

    def _forceAbort(self) -> None:
        self._abort = None
        self._transport.abortConnection()  # type: ignore[attr-defined]

    def dataReceived(self, data: bytes) -> None:
        if self.other is not None:
            self.other.dataReceived(data)
            return
        self._last = self.clock.seconds()
        self._buffer += data
        if not (self._busy or self._paused):
            self._serve()

    def connectionLost(self, reason: Failure = protocol.connectionDone) -> None:
        self._stopIdle()
        if self._abort is not None and self._abort.active():
            self._abort.cancel()
        self._abort = None
        self._closing = True
        if self.other is not None:
            self.other.connectionLost(reason)

    def _stopIdle(self) -> None:
        if self._idle is not None and self._idle.active():
            self._idle.cancel()
        self._idle = None

    # -- IPushProducer: the transport's buffer full, reading stops ---------------------

    def pauseProducing(self) -> None:
        self._paused = True
        self._transport.pauseProducing()  # type: ignore[attr-defined]

    def resumeProducing(self) -> None:
        self._paused = False
        if self._busy or self._closing or self.other is not None:
            return
        self._serve()
        if not (self._paused or self._busy or self._closing or self.other is not None):
            self._transport.resumeProducing()  # type: ignore[attr-defined]

    def stopProducing(self) -> None:
        self._closing = True

    def handOver(self) -> None:
        """
        Give the connection, and every byte not yet answered, to
        twisted.web's channel.
        """
        self._stopIdle()
        transport = self._transport
        # twisted.web's channel registers itself as the producer, and
        # pauses and resumes reading as it needs.
        transport.unregisterProducer()  # type: ignore[attr-defined]
        if self._paused:
            self._paused = False
            transport.resumeProducing()  # type: ignore[attr-defined]
        other = self.other = self.routes.twistedChannel(self.address)
        other.makeConnection(transport)
        buffered = bytes(self._buffer)
        self._buffer = bytearray()
        self._pending = None
        if buffered:
            other.dataReceived(buffered)

    # -- requests ------------------------------------------------------------------------

    def _serve(self) -> None:
        """
        Answer every whole request in the buffer, in order, until one must
        wait for its answer, the transport's buffer is full or a request
        must be handed over.
        """
        buffer = self._buffer
        while buffer and not (self._closing or self._paused):
            pending = self._pending
            if pending is None:
                read = self._read_head()
                if read is True:
                    continue  # answered
                if read is False:
                    return  # not whole yet, or handed over
                pending = read
            start, size, headers, leaf, close = pending
            if len(buffer) < start + size:
                self._pending = pending  # the rest of the body is on its way
                return
            self._pending = None
            origin = headers.get(b"origin")
            if origin is not None and not self.routes.originAllowed(origin):
                self.handOver()
                return
            call = leaf.lean(headers.get(b"content-type"), bytes(buffer[start:start + size]))
            if call is None:
                # Refused (415, 400): the tree says so, as it always has.
                self.handOver()
                return
            del buffer[:start + size]
            self._searched = 0
            try:
                result = leaf.invoke(headers.get(b"soapaction"), call)
            except Exception:
                # (The invoker answers every failure itself: this is a bug's
                # net, answered as twisted.web answers a resource that raised.)
                self.log.failure("A lean SOAP call failed")
                self._write(500, [(b"Content-Type", b"text/plain; charset=utf-8")],
                            b"Internal Server Error\n", True)
                return
            if isinstance(result, tuple):
                self._answer(result, close)
                continue
            # The provider answers later: read nothing more meanwhile (as
            # twisted.web's channel does), so pipelined bytes cannot pile up.
            self._busy = True
            self._transport.pauseProducing()  # type: ignore[attr-defined]
            result.addCallback(self._answered, close)
            result.addErrback(self._failed)
            return

    def _read_head(self) -> _Pending | bool:
        """
        Read the next request's head and answer it if it is a GET or HEAD
        of a fixed route (C{True}); hand the connection over if the lean
        path does not serve it, or wait for the rest of the head
        (C{False}); the POST of a SOAP call is returned, to be answered
        once its body is whole.
        """
        buffer = self._buffer
        end = buffer.find(b"\r\n\r\n", self._searched)
        if end < 0:
            if len(buffer) > MAX_HEAD:
                self.handOver()
            else:
                # Searched again from where a new end could begin.
                self._searched = max(0, len(buffer) - 3)
            return False
        parsed = _parse_head(bytes(buffer[:end])) if end <= MAX_HEAD else None
        if parsed is None or enabled("http"):
            self.handOver()
            return False
        method, path, headers = parsed
        leaf = self.routes.fixedRoute(path)
        host = headers.get(b"host")
        connection = headers.get(b"connection", b"").strip().lower()
        length = headers.get(b"content-length")
        if length is None:
            size = 0
        elif length.isdigit() and len(length) < 10:
            size = int(length)
        else:
            size = -1
        if (
            leaf is None or host is None or not self.routes.hostAllowed(host)
            or connection not in (b"", b"keep-alive", b"close") or size < 0
        ):
            self.handOver()
            return False
        close = connection == b"close"
        start = end + 4
        if isinstance(leaf, StaticBytes):
            if size or method not in (b"GET", b"HEAD"):
                self.handOver()
                return False
            del buffer[:start]
            self._searched = 0
            self._write(200, [(b"Content-Type", leaf.contentType)], leaf.body,
                        close, head=method == b"HEAD")
            return True
        if method != b"POST" or length is None or size > leaf.maxBody:
            self.handOver()
            return False
        return start, size, headers, leaf, close

    def _answered(self, answer: Answer, close: bool) -> None:
        self._busy = False
        self._last = self.clock.seconds()
        if self._closing:
            return
        self._answer(answer, close)
        if self.other is None and not (self._closing or self._paused):
            self._serve()
            if not (self._busy or self._paused or self._closing or self.other is not None):
                self._transport.resumeProducing()  # type: ignore[attr-defined]

    def _failed(self, failure: Failure) -> None:
        # (The invoker answers every failure itself: this is a bug's net.)
        self.log.failure("A lean SOAP answer failed", failure)
        self._busy = False
        self._close()

    def _answer(self, answer: Answer, close: bool) -> None:
        code, body = answer
        self._write(code, ControlResource.ANSWER_HEADERS, body, close)

    def _write(self, code: int, headers: list[tuple[bytes, bytes]], body: bytes, close: bool,
               head: bool = False) -> None:
        transport = self._transport
        transport.write(_head(code, headers, len(body), close, self.routes.serverHeader,
                              self.date()) + (b"" if head else body))
        if close:
            self._close()


def _parse_head(head: bytes) -> tuple[bytes, bytes, dict[bytes, bytes]] | None:
    """
    The method, path and headers (by lowercased name) of a plain HTTP/1.1
    request head; C{None} for anything the lean path leaves to twisted.web.
    """
    if _PLAIN_HEAD.fullmatch(head) is None:
        return None
    lines = head.split(b"\r\n")
    if len(lines) > MAX_HEADERS + 1:
        return None
    method, path, _ = lines[0].split(b" ")
    if b"?" in path or b"%" in path or b"#" in path:
        return None
    headers: dict[bytes, bytes] = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.lower()
        if name in _HAND_OVER:
            return None
        if name in headers:
            if name in _ONCE:
                return None
            continue
        headers[name] = value.strip(b" \t")
    return method, path, headers
