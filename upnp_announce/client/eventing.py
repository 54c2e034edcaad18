"""
Eventing, the control point's side: an HTTP server for NOTIFYs on the
address that reaches the device, and subscriptions renewed before they
expire.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from twisted.internet import defer
from twisted.python.failure import Failure
from twisted.web import server

from upnp_announce.client.common import ClientError, convert, first_header
from upnp_announce.logs import logger
from upnp_announce.model import ServiceDescription
from upnp_announce.wire import gena
from upnp_announce.wire.description import RemoteService
from upnp_announce.wire.http import MAX_BODY, CappedBody, Leaf

if TYPE_CHECKING:
    from upnp_announce.client.controlpoint import ControlPoint

__all__ = ["CappedSite", "EventListener", "EventSubscription"]


class EventListener:
    """
    An HTTP server for NOTIFYs, on one local address.
    """

    def __init__(self, reactor: Any, address: str) -> None:
        self.reactor = reactor
        self.address = address
        self.subscriptions: dict[str, EventSubscription] = {}
        self.early: dict[str, list[tuple[int, dict[str, str]]]] = {}
        self.site = CappedSite(_NotifyResource(self), timeout=60)
        self.site.noisy = False
        self.port: Any = None

    def start(self) -> None:
        """
        Listen, on a free port of our address.

        @raise twisted.internet.error.CannotListenError: when that fails.
        """
        self.port = self.reactor.listenTCP(0, self.site, interface=self.address)

    def url(self, token: str) -> str:
        host = self.address.split("%", 1)[0]
        literal = f"[{host}]" if ":" in host else host
        return f"http://{literal}:{self.port.getHost().port}/{token}"

    def register(self, subscription: EventSubscription) -> None:
        self.subscriptions[subscription.sid] = subscription
        # A NOTIFY may come before the SUBSCRIBE answer: play it now.
        for seq, values in self.early.pop(subscription.sid, []):
            subscription.received(seq, values)

    def close(self) -> defer.Deferred[None]:
        port, self.port = self.port, None
        if port is None:
            return defer.succeed(None)
        return defer.maybeDeferred(port.stopListening)


class CappedSite(server.Site):
    """
    A site for NOTIFYs: bodies are kept in memory up to 64 KB and no
    further.
    """

    def getContentFile(self, length: int | None) -> CappedBody:
        return CappedBody(MAX_BODY, length)


class _NotifyResource(Leaf):
    allowedMethods = (b"NOTIFY",)

    def __init__(self, listener: EventListener) -> None:
        super().__init__()
        self.listener = listener

    def render_NOTIFY(self, request: server.Request) -> bytes:
        sid = (request.getHeader(b"sid") or b"").decode("latin-1").strip()
        if request.getHeader(b"nt") != b"upnp:event" or request.getHeader(b"nts") != b"upnp:propchange":
            request.setResponseCode(400)
            return b""
        seqText = (request.getHeader(b"seq") or b"").strip()
        if not sid or not seqText.isdigit():
            request.setResponseCode(412)
            return b""
        if request.content is None or getattr(request.content, "overflowed", False):
            request.setResponseCode(413)
            return b""
        request.content.seek(0)
        try:
            values = gena.parse_propertyset(request.content.read())
        except gena.GENAError:
            request.setResponseCode(400)
            return b""
        subscription = self.listener.subscriptions.get(sid)
        if subscription is None:
            # Keep the first few early NOTIFYs of the latest few SIDs: made-up
            # SIDs push out only older made-up ones, and a real NOTIFY is
            # never refused (the device would drop us).
            early = self.listener.early
            if sid not in early and len(early) >= 16:
                del early[next(iter(early))]
            kept = early.setdefault(sid, [])
            if len(kept) < 4:
                kept.append((int(seqText), values))
            return b""
        subscription.received(int(seqText), values)
        return b""


class EventSubscription:
    """
    A subscription to one service's events.
    """

    log = logger("client")

    def __init__(
        self,
        point: ControlPoint,
        service: RemoteService,
        description: ServiceDescription | None,
        callback: Callable[[int, dict[str, object]], None],
        listener: EventListener,
        token: str,
    ) -> None:
        self.point = point
        self.service = service
        self.description = description
        self.callback = callback
        self.listener = listener
        self.token = token
        self.sid = ""
        self.timeout = 0
        self._renewal: Any = None
        self.active = False
        # Fires with a ClientError when a renewal fails for good.
        self.lost: defer.Deferred[ClientError] = defer.Deferred()

    async def start(self, timeout: int) -> None:
        code, headers, _ = await self.point.exchange(
            b"SUBSCRIBE",
            self.service.eventSubURL,
            {
                b"callback": f"<{self.listener.url(self.token)}>".encode("ascii"),
                b"nt": b"upnp:event",
                b"timeout": gena.timeout_header(timeout),
            },
        )
        if code != 200:
            raise ClientError(f"{self.service.eventSubURL} refused the subscription: HTTP {code}")
        sid = first_header(headers, b"sid")
        if not sid:
            raise ClientError(f"{self.service.eventSubURL} answered without a SID")
        self.sid = sid
        self.timeout = _granted(first_header(headers, b"timeout"), timeout)
        self.active = True
        self.listener.register(self)
        self._schedule()

    def _schedule(self) -> None:
        # Renew when half the time is gone (a minute before the end at most).
        delay = max(1.0, min(self.timeout / 2, self.timeout - 60))
        self._renewal = self.point.reactor.callLater(delay, self._renew)

    def _renew(self) -> None:
        async def renew() -> None:
            code, headers, _ = await self.point.exchange(
                b"SUBSCRIBE",
                self.service.eventSubURL,
                {b"sid": self.sid.encode("latin-1"), b"timeout": gena.timeout_header(self.timeout)},
            )
            if not self.active:
                return  # unsubscribed meanwhile
            if code == 412:
                # The device forgot us (it restarted, or dropped us): subscribe
                # afresh, under a new SID.
                self.listener.subscriptions.pop(self.sid, None)
                await self.start(self.timeout)
                return
            if code != 200:
                raise ClientError(f"renewal refused: HTTP {code}")
            self.timeout = _granted(first_header(headers, b"timeout"), self.timeout)
            if self.active:
                self._schedule()

        def failed(failure: Failure) -> None:
            self.log.warn("Cannot renew {sid}: {why}", sid=self.sid, why=failure.getErrorMessage())
            self.active = False
            if not self.lost.called:
                self.lost.callback(
                    ClientError(f"lost the subscription {self.sid}: {failure.getErrorMessage()}")
                )

        defer.Deferred.fromCoroutine(renew()).addErrback(failed)

    def received(self, seq: int, texts: dict[str, str]) -> None:
        values = {}
        for name, text in texts.items():
            variable = self.description.stateVariable(name) if self.description else None
            values[name] = convert(variable.dataType if variable else None, text)
        self.callback(seq, values)

    def stopRenewing(self) -> None:
        if self._renewal is not None and self._renewal.active():
            self._renewal.cancel()

    async def unsubscribe(self) -> None:
        """
        End the subscription (and its renewals).
        """
        self.stopRenewing()
        self.listener.subscriptions.pop(self.sid, None)
        if not self.active:
            return
        self.active = False
        code, _, _ = await self.point.exchange(
            b"UNSUBSCRIBE", self.service.eventSubURL, {b"sid": self.sid.encode("latin-1")}
        )
        if code != 200:
            raise ClientError(f"{self.service.eventSubURL} refused to unsubscribe: HTTP {code}")


def _granted(header: str, asked: int) -> int:
    """
    The TIMEOUT a device granted: C{Second-N}, or (liberally) a bare N.
    """
    text = header.strip()
    if text.isascii() and text.isdigit():
        return int(text)
    try:
        granted = gena.parse_timeout(text or None)
    except gena.GENAError:
        return asked
    return granted if granted is not None else asked
