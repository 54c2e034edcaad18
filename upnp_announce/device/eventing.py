"""
GENA eventing: subscriptions at each service's eventSubURL, and the NOTIFYs
that tell subscribers of every change.

L{ServiceEventing} holds the logic on an injected clock: subscriptions, their
expiry, SEQ, coalescing of the changes made in one reactor turn, moderation
(maximumRate, minimumDelta), one NOTIFY in flight per subscription, retries
over the callback URLs, dropping subscribers that answer 412 or keep failing.
L{CallbackPolicy}, also pure, decides whom the device may call back (it
stops CallStranger, CVE-2020-12695). L{EventResource} adapts HTTP to both:
SUBSCRIBE and UNSUBSCRIBE with UDA 1.1's status codes. L{LeanNotifier}
sends NOTIFYs (the device's default): each one request written as bytes
over kept-alive connections of its own; L{HTTPNotifier} does the same with
twisted.web's Agent.
"""

from __future__ import annotations

import functools
import ipaddress
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from twisted.internet import defer, endpoints, protocol, task
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.python.failure import Failure
from twisted.web.client import URI
from twisted.web.iweb import IAgentEndpointFactory
from twisted.web.server import Request
from zope.interface import implementer

from upnp_announce import datatypes
from upnp_announce.logs import Sparse, logger
from upnp_announce.model import Service
from upnp_announce.settings import EventingSettings
from upnp_announce.wire import gena
from upnp_announce.wire.http import BodyTooLarge, BytesProducer, Leaf, quiet_pool, read_capped
from upnp_announce.wire.xmlsafe import CONTENT_TYPE

__all__ = [
    "CallbackPolicy",
    "EventResource",
    "EventingSettings",
    "HTTPNotifier",
    "LeanNotifier",
    "Refused",
    "ServiceEventing",
    "Subscription",
]

MAX_CALLBACK_LENGTH = 256
MAX_CALLBACKS = 4
# The initial event waits this long after the SUBSCRIBE answer, so that the
# control point has read the SID before the first NOTIFY names it (GUPnP
# drops a NOTIFY it cannot match yet, then resubscribes on the SEQ gap).
INITIAL_EVENT_DELAY = 0.05
SWEEP_INTERVAL = 60.0


# Subscribers in step get the same body: build it once per change.
_propertyset = functools.lru_cache(maxsize=64)(gena.propertyset)


class Refused(Exception):
    """
    A SUBSCRIBE or UNSUBSCRIBE that is answered with C{status}.
    """

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(status, reason)
        self.status = status
        self.reason = reason


class Notifier(Protocol):
    """
    Sends NOTIFYs.
    """

    def notify(
        self, url: str, headers: dict[bytes, bytes], body: bytes, bindAddress: str | None
    ) -> defer.Deferred[int]:
        """
        Send one NOTIFY.

        @return: the HTTP status of the answer.
        """

    def close(self) -> defer.Deferred[None]:
        """
        Close kept-alive connections.
        """


@dataclass(eq=False)
class Subscription:
    """
    One subscriber of one service.

    @ivar seq: the SEQ of the next event.
    @ivar pending: changes not sent yet, by variable; merged while a NOTIFY
        is in flight, so the next one carries the latest values.
    @ivar ready: whether the initial event may go (SEQ 0 comes first).
    """

    sid: str
    callbacks: tuple[str, ...]
    source: str
    local: str | None
    timeout: int
    expires: float
    seq: int = 0
    pending: dict[str, str] = field(default_factory=dict)
    inFlight: bool = False
    ready: bool = False
    failures: int = 0
    active: bool = True


class ServiceEventing:
    """
    The subscriptions of one service and the events they are sent.
    """

    log = logger("eventing")

    def __init__(
        self,
        service: Service,
        settings: EventingSettings,
        clock: IReactorTime,
        notifier: Notifier,
        newSID: Callable[[], str] = lambda: f"uuid:{uuid.uuid4()}",
    ) -> None:
        self.service = service
        self.settings = settings
        self.clock = clock
        self.notifier = notifier
        self.newSID = newSID
        self.subscriptions: dict[str, Subscription] = {}
        self.variables = {
            v.name: v for v in service.description.stateVariables if v.sendEvents
        }
        # Changes made this reactor turn, as wire text, and the call that
        # sends them at its end.
        self._changes: dict[str, str] = {}
        self._flushCall: IDelayedCall | None = None
        # Moderation: when each variable was last evented and with what value;
        # values held back by maximumRate and their release calls.
        self._lastTime: dict[str, float] = {}
        self._lastValue: dict[str, object] = {}
        self._held: dict[str, IDelayedCall] = {}
        self._sweeper = task.LoopingCall(self.sweep)
        self._sweeper.clock = clock
        self._stopWatching: Callable[[], None] | None = None
        self.stopped = False
        # Subscribers coming and going: every one shown, up to 20 a kind in
        # ten seconds (a peer subscribing in a loop cannot flood the log).
        self._comings = Sparse(self.log, clock, burst=20)
        provider = service.provider
        if provider is not None and self.variables:
            self._stopWatching = provider.watch(self.changed)
        for name in self.variables:
            value = self._current(name)
            if value is not None:
                self._lastValue[name] = value

    # -- subscriptions ---------------------------------------------------------

    def subscribe(
        self, callbacks: tuple[str, ...], asked: int | None, source: str, local: str | None
    ) -> Subscription:
        """
        A new subscription (its initial event goes once L{ready} is called).

        @raise Refused: 503 when a bound is reached.
        """
        if self.stopped:
            raise Refused(503, "the device is stopping")
        self.sweep()
        if len(self.subscriptions) >= self.settings.maxSubscriptions:
            raise Refused(503, f"{self.settings.maxSubscriptions} subscriptions already")
        mine = sum(1 for s in self.subscriptions.values() if s.source == source)
        if mine >= self.settings.maxSubscriptionsPerSource:
            raise Refused(
                503, f"{source} has {self.settings.maxSubscriptionsPerSource} subscriptions already"
            )
        timeout = self.settings.grant(asked)
        subscription = Subscription(
            self.newSID(), callbacks, source, local, timeout, self.clock.seconds() + timeout
        )
        self.subscriptions[subscription.sid] = subscription
        self._comings.info(
            "new", "New subscriber {sid} to {service} from {source} for {timeout} s",
            sid=subscription.sid, service=self.service.serviceId, source=source, timeout=timeout,
        )
        if not self._sweeper.running:
            self._sweeper.start(SWEEP_INTERVAL, now=False)
        return subscription

    def renew(self, sid: str, asked: int | None) -> Subscription:
        """
        @raise Refused: 412 for an unknown or expired SID.
        """
        subscription = self._find(sid)
        subscription.timeout = self.settings.grant(asked)
        subscription.expires = self.clock.seconds() + subscription.timeout
        return subscription

    def unsubscribe(self, sid: str) -> None:
        """
        @raise Refused: 412 for an unknown or expired SID.
        """
        subscription = self._find(sid)
        self._comings.info("gone", "Subscriber {sid} unsubscribed", sid=subscription.sid)
        self._drop(subscription)

    def discard(self, subscription: Subscription) -> None:
        """
        Forget C{subscription} (its SUBSCRIBE answer did not get through).
        """
        self._drop(subscription)

    def _find(self, sid: str) -> Subscription:
        subscription = self.subscriptions.get(sid)
        if subscription is None or subscription.expires <= self.clock.seconds():
            if subscription is not None:
                self._drop(subscription)
            raise Refused(412, f"no subscription {sid[:60]!r}")
        return subscription

    def _drop(self, subscription: Subscription) -> None:
        subscription.active = False
        subscription.pending.clear()
        self.subscriptions.pop(subscription.sid, None)
        if not self.subscriptions and self._sweeper.running:
            self._sweeper.stop()

    def sweep(self) -> None:
        """
        Remove the expired subscriptions.
        """
        now = self.clock.seconds()
        for subscription in [s for s in self.subscriptions.values() if s.expires <= now]:
            self._comings.info("expired", "Subscriber {sid} expired: not renewed",
                               sid=subscription.sid)
            self._drop(subscription)

    def ready(self, subscription: Subscription) -> None:
        """
        Send the initial event (SEQ 0, every evented variable) now that the
        SUBSCRIBE answer is out.
        """
        if not subscription.active:
            return
        subscription.ready = True
        for name in self.variables:
            value = self._current(name)
            if value is not None:
                subscription.pending[name] = datatypes.format_value(
                    self.variables[name].dataType, value
                )
        self._pump(subscription)

    def adopt(self, old: ServiceEventing) -> None:
        """
        Take over C{old}'s subscriptions (the service was replaced by a new
        one at the same eventSubURL): same SIDs, callbacks, expiry and SEQ;
        each is sent an event with every evented variable's current value
        (the provider behind it may be new). C{old} keeps none of them.
        """
        for previous in list(old.subscriptions.values()):
            old.subscriptions.pop(previous.sid, None)
            # The old one sends nothing more (a NOTIFY in flight ends there).
            previous.active = False
            if previous.expires <= self.clock.seconds():
                continue
            taken = Subscription(
                previous.sid, previous.callbacks, previous.source, previous.local,
                previous.timeout, previous.expires, seq=previous.seq,
            )
            self.subscriptions[taken.sid] = taken
            self.ready(taken)
        if self.subscriptions and not self._sweeper.running:
            self._sweeper.start(SWEEP_INTERVAL, now=False)

    def stop(self) -> None:
        """
        Stop watching the provider and drop every subscription.
        """
        self.stopped = True
        if self._stopWatching is not None:
            self._stopWatching()
            self._stopWatching = None
        for call in [self._flushCall, *self._held.values()]:
            if call is not None and call.active():
                call.cancel()
        self._flushCall = None
        self._held.clear()
        for subscription in list(self.subscriptions.values()):
            self._drop(subscription)

    # -- changes -----------------------------------------------------------------

    def _current(self, name: str) -> object:
        provider = self.service.provider
        if provider is not None:
            return provider.stateValue(name)
        variable = self.variables[name]
        if variable.defaultValue is None:
            return None
        return datatypes.parse_value(variable.dataType, variable.defaultValue)

    def changed(self, name: str, value: object) -> None:
        """
        The provider's watcher: an evented variable has a new value.
        """
        variable = self.variables.get(name)
        if variable is None:
            return
        if variable.minimumDelta is not None and name in self._lastValue:
            if abs(value - self._lastValue[name]) < variable.minimumDelta:  # type: ignore[operator]
                return
        if variable.maximumRate is not None and name in self._lastTime:
            due = self._lastTime[name] + variable.maximumRate
            if due > self.clock.seconds():
                # Held back: the latest value goes when the interval is over.
                if name not in self._held:
                    self._held[name] = self.clock.callLater(
                        due - self.clock.seconds(), self._release, name
                    )
                return
        self._record(name, value)

    def _release(self, name: str) -> None:
        del self._held[name]
        value = self._current(name)
        if value != self._lastValue.get(name):
            self._record(name, value)

    def _record(self, name: str, value: object) -> None:
        self._lastTime[name] = self.clock.seconds()
        self._lastValue[name] = value
        self._changes[name] = datatypes.format_value(self.variables[name].dataType, value)
        if self._flushCall is None:
            self._flushCall = self.clock.callLater(0, self._flush)

    def _flush(self) -> None:
        """
        At the end of the turn: the changes made in it, as one event to each
        subscriber.
        """
        self._flushCall = None
        changes, self._changes = self._changes, {}
        for subscription in list(self.subscriptions.values()):
            subscription.pending.update(changes)
            if subscription.ready:
                self._pump(subscription)

    # -- delivery ----------------------------------------------------------------

    def _pump(self, subscription: Subscription) -> None:
        if subscription.inFlight or not subscription.pending or not subscription.active:
            return
        if subscription.expires <= self.clock.seconds():
            # Expired, not swept yet: it gets nothing more.
            self._drop(subscription)
            return
        values = [
            (name, subscription.pending[name])
            for name in self.variables
            if name in subscription.pending
        ]
        subscription.pending = {}
        seq, subscription.seq = subscription.seq, gena.next_seq(subscription.seq)
        subscription.inFlight = True
        sending = self._deliver(subscription, seq, _propertyset(tuple(values)))
        sending.addBoth(self._delivered, subscription)

    def _deliver(self, subscription: Subscription, seq: int, body: bytes) -> defer.Deferred[int]:
        """
        Try each callback URL in order until one takes the event.

        @return: the last HTTP status, or 0 when no URL answered.
        """
        headers = {
            b"nt": b"upnp:event",
            b"nts": b"upnp:propchange",
            b"sid": subscription.sid.encode("ascii"),
            b"seq": str(seq).encode("ascii"),
            b"content-type": CONTENT_TYPE,
        }

        if len(subscription.callbacks) == 1:
            # (Nearly every subscriber has one URL: no generator for it.)
            [url] = subscription.callbacks
            sending = self.notifier.notify(url, headers, body, subscription.local)

            def failed(failure: Failure) -> int:
                self.log.debug("NOTIFY to {url} failed: {error}", url=url, error=failure.value)
                return 0

            return sending.addErrback(failed)

        @defer.inlineCallbacks
        def attempt() -> Any:
            status = 0
            for url in subscription.callbacks:
                if not subscription.active:
                    break
                try:
                    status = yield self.notifier.notify(url, headers, body, subscription.local)
                except Exception as e:
                    self.log.debug("NOTIFY to {url} failed: {error}", url=url, error=e)
                    status = 0
                    continue
                if 200 <= status < 300 or status == 412:
                    break
            return status

        return attempt()

    def _delivered(self, status: object, subscription: Subscription) -> None:
        subscription.inFlight = False
        if not isinstance(status, int):
            status = 0
        if status == 412:
            self.log.info("Subscriber {sid} answered 412: dropped", sid=subscription.sid)
            self._drop(subscription)
            return
        if 200 <= status < 300:
            subscription.failures = 0
        else:
            subscription.failures += 1
            if subscription.failures >= self.settings.maxFailures:
                self.log.info(
                    "Subscriber {sid} failed {n} NOTIFYs in a row: dropped",
                    sid=subscription.sid, n=subscription.failures,
                )
                self._drop(subscription)
                return
        self._pump(subscription)


class CallbackPolicy:
    """
    Whom the device may call back (CallStranger, CVE-2020-12695): only
    C{http://} URLs of at most 256 characters, at most 4 of them, whose host
    is an IP literal that is the subscriber's own address (C{"requester"})
    or on the subnet of the interface the SUBSCRIBE came in on
    (C{"subnet"}; not the subnet's network or broadcast address, nor one of
    ours).

    @ivar networks: the subnets of our interfaces by our address on them
        (live: addresses come and go).
    """

    def __init__(
        self,
        mode: str,
        networks: Mapping[str, ipaddress.IPv4Network | ipaddress.IPv6Network],
    ) -> None:
        self.mode = mode
        self.networks = networks

    def check(self, header: str, source: str, local: str) -> tuple[str, ...]:
        """
        The callback URLs of a CALLBACK header, each rebuilt from its checked
        parts, if each is one we may send to.

        @param source: the subscriber's address.
        @param local: our address the SUBSCRIBE came in on.

        @raise Refused: 412, saying why.
        """
        try:
            urls = gena.parse_callbacks(header)
        except gena.GENAError as e:
            raise Refused(412, str(e)) from None
        if len(urls) > MAX_CALLBACKS:
            raise Refused(412, f"{len(urls)} callback URLs; at most {MAX_CALLBACKS}")
        policy = self.mode
        # IPv6 link-local addresses come with their zone (fe80::1%eth0).
        source = source.split("%", 1)[0]
        local = local.split("%", 1)[0]
        network = self.networks.get(local) if policy == "subnet" else None
        checked = []
        for url in urls:
            if len(url) > MAX_CALLBACK_LENGTH:
                raise Refused(412, f"a callback URL is longer than {MAX_CALLBACK_LENGTH} characters")
            if not url.isascii() or any(c.isspace() or ord(c) < 0x21 or c == "\x7f" for c in url):
                raise Refused(412, f"callback {url[:80]!r} has characters a URL cannot have")
            try:
                parts = urlsplit(url)
                host = parts.hostname or ""
                port = parts.port if parts.port is not None else 80
                ip = ipaddress.ip_address(host)
            except ValueError:
                raise Refused(412, f"callback {url!r} is not http://IP-address[:port]/...") from None
            if parts.scheme != "http":
                raise Refused(412, f"callback {url!r} is not http://")
            if "@" in parts.netloc or "%" in parts.netloc or port == 0:
                raise Refused(412, f"callback {url!r} is not http://IP-address[:port]/...")
            if policy == "requester":
                if str(ip) != str(_address(source)):
                    raise Refused(
                        412, f"callback {url!r} is not the subscriber's own address {source}"
                    )
            elif (
                network is None
                or ip.version != network.version
                or ip not in network
                or (ip.version == 4 and ip in (network.network_address, network.broadcast_address))
                or str(ip) in self.networks
            ):
                raise Refused(412, f"callback {url!r} is not on the subnet of {local}")
            # What is sent to is rebuilt from the parts checked, nothing else.
            literal = f"[{ip}]" if ip.version == 6 else str(ip)
            query = f"?{parts.query}" if parts.query else ""
            checked.append(f"http://{literal}:{port}{parts.path or '/'}{query}")
        return tuple(checked)


# -- the HTTP side ----------------------------------------------------------------


class EventResource(Leaf):
    """
    The eventSubURL of one service: SUBSCRIBE and UNSUBSCRIBE, with
    UDA 1.1's status codes; callbacks are checked by a L{CallbackPolicy}.
    """

    allowedMethods = (b"SUBSCRIBE", b"UNSUBSCRIBE")
    log = logger("eventing")

    def __init__(
        self,
        eventing: ServiceEventing,
        networks: Mapping[str, ipaddress.IPv4Network | ipaddress.IPv6Network],
        policy: CallbackPolicy | None = None,
    ) -> None:
        """
        @param networks: our subnets by our address on them (live).
        @param policy: whom callbacks may reach; by default the settings'.
        """
        super().__init__()
        self.eventing = eventing
        self.policy = policy or CallbackPolicy(eventing.settings.callbacks, networks)
        self._complaints = Sparse(self.log, eventing.clock)

    def _answer(self, request: Request, status: int, reason: str) -> bytes:
        request.setResponseCode(status)
        # One line of a kind every ten seconds: a hostile peer cannot flood
        # the log.
        self._complaints.info(
            f"{request.method[:16]!r} {status}",
            "{method} from {source} refused ({status}): {reason}",
            method=request.method.decode("ascii"),
            source=request.getClientAddress().host,
            status=status,
            reason=reason[:200],
        )
        return b""

    def render_SUBSCRIBE(self, request: Request) -> bytes:
        sid = request.getHeader(b"sid")
        nt = request.getHeader(b"nt")
        callback = request.getHeader(b"callback")
        try:
            asked = gena.parse_timeout(_text(request.getHeader(b"timeout")))
        except gena.GENAError:
            asked = None
        try:
            if sid is not None:
                if nt is not None or callback is not None:
                    return self._answer(request, 400, "SID together with NT or CALLBACK")
                subscription = self.eventing.renew(sid.decode("latin-1"), asked)
            else:
                if nt is None or nt.strip() != b"upnp:event":
                    raise Refused(412, "no NT" if nt is None
                                  else f"NT is {nt[:60].decode('latin-1')!r}, not upnp:event")
                if callback is None:
                    raise Refused(412, "no CALLBACK")
                source = request.getClientAddress().host
                local = request.getHost().host
                callbacks = self.policy.check(_text(callback) or "", source, local)
                subscription = self.eventing.subscribe(callbacks, asked, source, local)
                request.notifyFinish().addCallbacks(
                    lambda _: self.eventing.clock.callLater(
                        INITIAL_EVENT_DELAY, self.eventing.ready, subscription
                    ),
                    # The subscriber never heard its SID: forget it.
                    lambda _: self.eventing.discard(subscription),
                )
        except Refused as e:
            return self._answer(request, e.status, e.reason)
        request.setHeader(b"sid", subscription.sid.encode("ascii"))
        request.setHeader(b"timeout", gena.timeout_header(subscription.timeout))
        return b""

    def render_UNSUBSCRIBE(self, request: Request) -> bytes:
        sid = request.getHeader(b"sid")
        if sid is None:
            return self._answer(request, 412, "no SID")
        if request.getHeader(b"nt") is not None or request.getHeader(b"callback") is not None:
            return self._answer(request, 400, "SID together with NT or CALLBACK")
        try:
            self.eventing.unsubscribe(sid.decode("latin-1"))
        except Refused as e:
            return self._answer(request, e.status, e.reason)
        return b""


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | str:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return text


def _text(value: bytes | None) -> str | None:
    return value.decode("latin-1") if value is not None else None


# -- sending NOTIFYs ----------------------------------------------------------------


class HTTPNotifier:
    """
    Sends NOTIFYs with twisted.web's Agent, from the address the
    subscription came in on, over kept-alive connections.
    """

    def __init__(self, reactor: Any, settings: EventingSettings) -> None:
        self.reactor = reactor
        self.settings = settings
        # One agent, and one pool of kept-alive connections, per address we
        # send from: a pool knows connections by destination only.
        self._agents: dict[str | None, tuple[Any, Any]] = {}

    def _agent(self, bindAddress: str | None) -> Any:
        from twisted.web.client import Agent

        if bindAddress not in self._agents:
            pool = quiet_pool(self.reactor, maxPersistentPerHost=2, cachedConnectionTimeout=30)
            agent = Agent.usingEndpointFactory(
                self.reactor,
                _CallbackEndpoints(self.reactor, bindAddress, self.settings.connectTimeout),
                pool=pool,
            )
            self._agents[bindAddress] = (agent, pool)
        return self._agents[bindAddress][0]

    def notify(
        self, url: str, headers: dict[bytes, bytes], body: bytes, bindAddress: str | None
    ) -> defer.Deferred[int]:
        from twisted.web.http_headers import Headers

        sending: defer.Deferred[Any] = self._agent(bindAddress).request(
            b"NOTIFY",
            url.encode("ascii"),
            Headers({name: [value] for name, value in headers.items()}),
            BytesProducer(body),
        )

        def answered(response: Any) -> defer.Deferred[int]:
            # Read (and drop) the body so that the connection can be reused;
            # a subscriber that sends more than a little is cut off.
            reading = read_capped(response, MAX_ANSWER_BODY)
            reading.addErrback(lambda failure: failure.trap(BodyTooLarge))
            return reading.addCallback(lambda _: int(response.code))

        sending.addCallback(answered)
        sending.addTimeout(self.settings.connectTimeout + self.settings.responseTimeout, self.reactor)
        return sending

    def close(self) -> defer.Deferred[None]:
        pools = [pool for _, pool in self._agents.values()]
        self._agents.clear()
        closing = defer.gatherResults([pool.closeCachedConnections() for pool in pools])
        return closing.addCallback(lambda _: None)


MAX_ANSWER_BODY = 16384


@implementer(IAgentEndpointFactory)
class _CallbackEndpoints:
    """
    Connections to callback URLs (IP literals, as the policy made sure),
    from our address the subscription came in on; a link-local IPv6
    callback gets that address's zone, which a URL cannot carry.
    """

    def __init__(self, reactor: Any, bindAddress: str | None, timeout: float) -> None:
        self.reactor = reactor
        self.bindAddress = bindAddress
        self.timeout = timeout
        self.zone = bindAddress.partition("%")[2] if bindAddress else ""

    def endpointForURI(self, uri: Any) -> Any:
        host = uri.host.decode("ascii")
        bind = (self.bindAddress, 0) if self.bindAddress else None
        if ":" not in host:
            return endpoints.TCP4ClientEndpoint(
                self.reactor, host, uri.port, self.timeout, bindAddress=bind
            )
        if self.zone and ipaddress.IPv6Address(host).is_link_local:
            host = f"{host}%{self.zone}"
        return endpoints.TCP6ClientEndpoint(
            self.reactor, host, uri.port, self.timeout, bindAddress=bind
        )


class LeanNotifier:
    """
    Sends NOTIFYs as bytes: the request head (HOST and CONTENT-LENGTH
    besides the GENA headers given) and the body, which the caller
    serialised once for every subscriber, written at once on a kept-alive
    connection to the callback's host and port from the address asked for
    (at most C{maxIdle} kept per such pair, for C{idleTimeout} seconds); the
    answer's status is read (its body too, up to L{MAX_ANSWER_BODY}: a
    subscriber that sends more is cut off). Connecting takes at most
    C{connectTimeout} seconds, and the answer C{responseTimeout} more.
    """

    def __init__(self, reactor: Any, settings: EventingSettings, *, maxIdle: int = 2,
                 idleTimeout: float = 30.0) -> None:
        self.reactor = reactor
        self.settings = settings
        self.maxIdle = maxIdle
        self.idleTimeout = idleTimeout
        self._idle: dict[tuple[str | None, str, int], list[_NotifyConnection]] = {}
        self._open: set[_NotifyConnection] = set()
        self._endpoints: dict[str | None, _CallbackEndpoints] = {}
        # One factory for every connection; quiet, as a log line per NOTIFY
        # connection (with the factory's repr) says nothing to a reader.
        self._factory = protocol.Factory.forProtocol(lambda: _NotifyConnection(self))
        self._factory.noisy = False
        self._targets: dict[str, tuple[bytes, Any]] = {}
        self._sweep: IDelayedCall | None = None

    def _target(self, url: str) -> tuple[bytes, Any]:
        """
        The request line's start and the parsed URI of a callback URL
        (read once: an event goes to the same URLs again and again).
        """
        found = self._targets.get(url)
        if found is None:
            uri = URI.fromBytes(url.encode("ascii"))
            host = uri.host if b":" not in uri.host else b"[" + uri.host + b"]"
            start = b"NOTIFY " + (uri.originForm or b"/") + b" HTTP/1.1\r\nHOST: " + host
            start += b":%d" % uri.port
            if len(self._targets) >= 4096:
                self._targets.clear()
            found = self._targets[url] = (start, uri)
        return found

    def notify(
        self, url: str, headers: dict[bytes, bytes], body: bytes, bindAddress: str | None
    ) -> defer.Deferred[int]:
        start, uri = self._target(url)
        request = b"".join([
            start,
            *[b"\r\n" + name.upper() + b": " + value for name, value in headers.items()],
            b"\r\nCONTENT-LENGTH: %d\r\n\r\n" % len(body),
            body,
        ])
        key = (bindAddress, uri.host.decode("ascii"), uri.port)
        idle = self._idle.get(key)
        connection: _NotifyConnection | None = None
        while idle and connection is None:
            candidate = idle.pop()
            if candidate.usable:
                connection = candidate
        answer: defer.Deferred[int] = defer.Deferred(
            lambda _: connection.abort() if connection is not None else None
        )
        if connection is not None:
            connection.send(request, answer, key)
        else:
            answer = self._connect(key, uri, bindAddress, request)
        answer.addTimeout(self.settings.connectTimeout + self.settings.responseTimeout,
                          self.reactor)
        return answer

    def _connect(self, key: tuple[str | None, str, int], uri: Any, bindAddress: str | None,
                 request: bytes) -> defer.Deferred[int]:
        endpoints_ = self._endpoints.get(bindAddress)
        if endpoints_ is None:
            endpoints_ = self._endpoints[bindAddress] = _CallbackEndpoints(
                self.reactor, bindAddress, self.settings.connectTimeout)
        connecting = endpoints_.endpointForURI(uri).connect(self._factory)

        def connected(connection: _NotifyConnection) -> defer.Deferred[int]:
            answer: defer.Deferred[int] = defer.Deferred(lambda _: connection.abort())
            connection.send(request, answer, key)
            return answer

        answering: defer.Deferred[int] = connecting.addCallback(connected)
        return answering

    def _kept(self, connection: _NotifyConnection, key: tuple[str | None, str, int]) -> None:
        """
        A connection that answered and may carry the next NOTIFY.
        """
        idle = self._idle.setdefault(key, [])
        if len(idle) >= self.maxIdle:
            connection.close()
            return
        connection.idleSince = self.reactor.seconds()
        idle.append(connection)
        if self._sweep is None:
            self._sweep = self.reactor.callLater(self.idleTimeout, self._sweepIdle)

    def _sweepIdle(self) -> None:
        self._sweep = None
        now = self.reactor.seconds()
        for key, idle in list(self._idle.items()):
            for connection in [c for c in idle if now - c.idleSince >= self.idleTimeout]:
                idle.remove(connection)
                connection.close()
            if not idle:
                del self._idle[key]
        if self._idle:
            self._sweep = self.reactor.callLater(self.idleTimeout, self._sweepIdle)

    def close(self) -> defer.Deferred[None]:
        if self._sweep is not None and self._sweep.active():
            self._sweep.cancel()
        self._sweep = None
        self._idle.clear()
        closing = [c.whenClosed() for c in list(self._open)]
        for connection in list(self._open):
            connection.close()
        return defer.gatherResults(closing).addCallback(lambda _: None)


class _NotifyConnection(protocol.Protocol):
    """
    One connection of a L{LeanNotifier}: one NOTIFY at a time, its answer's
    status read and its body skipped.
    """

    def __init__(self, notifier: LeanNotifier) -> None:
        self.notifier = notifier
        self.answer: defer.Deferred[int] | None = None
        self.key: tuple[str | None, str, int] | None = None
        self.buffer = b""
        self.status = 0
        self.remaining: int | None = None
        self.keep = True
        self.idleSince = 0.0
        self.usable = False
        self._closed: list[defer.Deferred[None]] = []

    def connectionMade(self) -> None:
        self.usable = True
        self.notifier._open.add(self)

    def send(self, request: bytes, answer: defer.Deferred[int],
             key: tuple[str | None, str, int]) -> None:
        self.answer, self.key = answer, key
        self.buffer, self.status, self.remaining, self.keep = b"", 0, None, True
        assert self.transport is not None
        self.transport.write(request)

    def dataReceived(self, data: bytes) -> None:
        if self.answer is None:
            # Nothing was asked: a server that talks out of turn is left.
            self.close()
            return
        self.buffer += data
        if self.remaining is None and not self._head():
            return
        assert self.remaining is not None
        if len(self.buffer) < self.remaining:
            return
        extra = len(self.buffer) > self.remaining
        self._done(keep=self.keep and not extra)

    def _head(self) -> bool:
        """
        Read the answer's head once it is whole (skipping any 1xx).
        """
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > MAX_ANSWER_BODY:
                    self._done(keep=False)
                return False
            lines = self.buffer[:end].split(b"\r\n")
            self.buffer = self.buffer[end + 4:]
            version, _, rest = lines[0].partition(b" ")
            code = rest.partition(b" ")[0]
            if not version.startswith(b"HTTP/1.") or len(code) != 3 or not code.isdigit():
                self._done(keep=False)
                return False
            status = int(code)
            if 100 <= status < 200:
                continue
            break
        self.status = status
        keep = version == b"HTTP/1.1"
        length: int | None = None
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == b"content-length" and value.isdigit():
                length = int(value)
            elif name == b"transfer-encoding":
                keep = False
            elif name == b"connection":
                keep = keep and value != b"close"
        if length is None and status not in (204, 304):
            # A body that ends only when the connection does: the status is
            # all we wanted.
            length, keep = 0, False
        if (length or 0) > MAX_ANSWER_BODY:
            length, keep = 0, False
        self.remaining, self.keep = length or 0, keep
        return True

    def _done(self, keep: bool) -> None:
        answer, key = self.answer, self.key
        self.answer = None
        if keep and key is not None:
            self.notifier._kept(self, key)
        else:
            self.close()
        if answer is None:
            return
        if self.status:
            answer.callback(self.status)
        else:
            answer.errback(Failure(ValueError("not an HTTP answer")))

    def close(self) -> None:
        self.usable = False
        if self.transport is not None:
            self.transport.loseConnection()

    def abort(self) -> None:
        self.usable = False
        self.answer = None
        if self.transport is not None:
            self.transport.abortConnection()  # type: ignore[attr-defined]

    def whenClosed(self) -> defer.Deferred[None]:
        d: defer.Deferred[None] = defer.Deferred()
        self._closed.append(d)
        return d

    def connectionLost(self, reason: Failure = protocol.connectionDone) -> None:
        self.usable = False
        self.notifier._open.discard(self)
        answer, self.answer = self.answer, None
        if answer is not None:
            answer.errback(reason)
        closed, self._closed = self._closed, []
        for d in closed:
            d.callback(None)
