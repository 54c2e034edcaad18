"""
L{ControlPoint}: read a device's descriptions, call its actions and
subscribe to its events, over an injected twisted.web L{IAgent}.
"""

from __future__ import annotations

import ipaddress
import socket
import uuid
import weakref
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

from twisted.internet import defer, endpoints, error
from twisted.python.failure import Failure
from twisted.web import client as webclient
from twisted.web.http_headers import Headers
from twisted.web.iweb import IAgent, IAgentEndpointFactory
from zope.interface import implementer

from upnp_announce import datatypes
from upnp_announce.client.common import (
    USER_AGENT,
    ClientError,
    NoAnswer,
    Unreachable,
    convert,
    first_header,
)
from upnp_announce.client.eventing import EventListener, EventSubscription
from upnp_announce.model import ServiceDescription
from upnp_announce.wire import soap
from upnp_announce.wire.description import (
    CONTENT_TYPE,
    MAX_DOCUMENT,
    DescriptionError,
    RemoteDevice,
    RemoteService,
    parse_device_description,
)
from upnp_announce.wire.http import MAX_HEAD, BodyTooLarge, BytesProducer, quiet_pool, read_capped
from upnp_announce.wire.scpd import parse_scpd

__all__ = ["ControlPoint", "local_address_for"]

# Types whose values are text already: a str given for them is the value.
_TEXT_TYPES = frozenset({"string", "char", "uri", "uuid"})


def _explain(failure: Failure, url: str, timeout: float) -> Failure:
    """
    A network failure as one sentence.
    """
    if failure.check(ClientError, soap.UPnPError):
        return failure
    where = urlsplit(url).netloc or url
    value = failure.value
    if failure.check(defer.CancelledError, defer.TimeoutError, error.TimeoutError):
        message = f"no answer from {where} within {timeout:g} s"
    elif isinstance(value, (webclient.ResponseNeverReceived, webclient.ResponseFailed)) and any(
        f.check(defer.CancelledError) for f in value.reasons
    ):
        message = f"no answer from {where} within {timeout:g} s"
    elif isinstance(value, (webclient.ResponseNeverReceived, webclient.ResponseFailed)) and any(
        f.check(error.ConnectionAborted) for f in value.reasons
    ):
        # (What the pool's bounded head does.)
        message = f"{where} sent an answer whose head is over {MAX_HEAD // 1024} KiB: cut off"
    elif failure.check(error.ConnectionRefusedError):
        return Failure(Unreachable(f"cannot connect to {where}: connection refused"))
    elif failure.check(error.DNSLookupError):
        return Failure(Unreachable(f"cannot find the host of {url}"))
    elif failure.check(error.ConnectError):
        return Failure(Unreachable(f"cannot connect to {where}: {value}"))
    else:
        return Failure(ClientError(f"{url}: {value.__class__.__name__}: {value}"))
    return Failure(NoAnswer(message))


class ControlPoint:
    """
    Reads descriptions, calls actions and subscribes to events.
    """

    def __init__(
        self,
        reactor: Any = None,
        *,
        timeout: float = 10.0,
        agent: IAgent | None = None,
        newToken: Callable[[], str] = lambda: uuid.uuid4().hex,
        localAddress: Callable[[str], str] | None = None,
    ) -> None:
        """
        @param reactor: an L{IReactorTime} and L{IReactorTCP}; by default
            the global reactor.
        @param timeout: seconds for each HTTP exchange.
        @param agent: makes the HTTP requests; by default an L{Agent} with a
            pool of kept-alive connections (tests give one over memory).
        @param newToken: makes the path token of each subscription's
            callback URL.
        @param localAddress: our address on the route to a device's address
            (where the callback server listens); by default
            L{local_address_for}.
        """
        if reactor is None:
            from twisted.internet import reactor
        self.reactor = reactor
        self.timeout = timeout
        self.pool: webclient.HTTPConnectionPool | None = None
        if agent is None:
            self.pool = quiet_pool(reactor)
            agent = webclient.Agent.usingEndpointFactory(
                reactor, _Endpoints(reactor, timeout), pool=self.pool
            )
        self.agent = agent
        self.newToken = newToken
        self.localAddress = localAddress or local_address_for
        self._listeners: dict[str, EventListener] = {}
        # The live subscriptions, for close(); forgotten once dropped.
        self.subscriptions: weakref.WeakSet[EventSubscription] = weakref.WeakSet()

    def exchange(
        self,
        method: bytes,
        url: str,
        headers: Mapping[bytes, bytes] | None = None,
        body: bytes | None = None,
        *,
        limit: int = MAX_DOCUMENT,
        timeout: float | None = None,
    ) -> defer.Deferred[tuple[int, Headers, bytes]]:
        """
        One HTTP exchange, whatever its status code: the status, headers
        and body of the answer.

        @param headers: sent as they are (a C{host} one replaces the URL's).
        @param limit: the most bytes of body read.
        @param timeout: seconds for the whole exchange; by default the
            control point's.
        @raise ClientError: (in the Deferred) when there is no answer within
            the time, the body is longer than C{limit}, or the connection
            fails; one sentence.
        """
        seconds = self.timeout if timeout is None else timeout
        all_headers = {b"user-agent": USER_AGENT, **(headers or {})}
        try:
            target = url.encode("ascii")
        except UnicodeEncodeError:
            return defer.fail(ClientError(f"{url!r} is not a URL"))
        if urlsplit(url).scheme not in ("http",):
            return defer.fail(ClientError(f"{url!r} is not an http:// URL"))
        sending: defer.Deferred[Any] = self.agent.request(
            method,
            target,
            Headers({k: [v] for k, v in all_headers.items()}),
            BytesProducer(body) if body is not None else None,
        )

        def read(response: Any) -> defer.Deferred[tuple[int, Headers, bytes]]:
            def tooLarge(failure: Failure) -> Failure:
                failure.trap(BodyTooLarge)
                return Failure(ClientError(f"{url} sent {failure.getErrorMessage()}"))

            reading: defer.Deferred[Any] = read_capped(response, limit)
            reading.addCallbacks(lambda data: (int(response.code), response.headers, data), tooLarge)
            return reading

        sending.addCallback(read)
        sending.addTimeout(seconds, self.reactor)
        sending.addErrback(_explain, url, seconds)
        return sending

    async def _get(self, url: str) -> bytes:
        code, headers, data = await self.exchange(b"GET", url)
        if code != 200:
            raise ClientError(f"{url} answered HTTP {code}")
        if first_header(headers, b"content-type").lower().startswith("text/html"):
            raise ClientError(f"{url} is a web page, not a UPnP description")
        return data

    async def describe(self, location: str) -> RemoteDevice:
        """
        The device described at C{location} (and its embedded devices).
        """
        data = await self._get(location)
        try:
            return parse_device_description(data, location)
        except DescriptionError as e:
            raise ClientError(str(e)) from None

    async def scpd(self, service: RemoteService) -> ServiceDescription:
        """
        The description of C{service}.
        """
        data = await self._get(service.SCPDURL)
        try:
            return parse_scpd(data, strict=False)
        except DescriptionError as e:
            raise ClientError(f"{service.SCPDURL} is not a usable service description: {e}") from None

    async def call(
        self,
        service: RemoteService,
        description: ServiceDescription,
        action: str,
        arguments: Mapping[str, object],
    ) -> dict[str, object]:
        """
        Call C{action} with C{arguments} (Python values, or text to convert),
        checked against the SCPD first; give the out-arguments as Python
        values.

        @raise soap.UPnPError: for the device's fault.
        @raise ClientError: for a mistake in the call, or a broken answer.
        """
        declared = description.action(action)
        if declared is None:
            names = ", ".join(a.name for a in description.actions) or "none"
            raise ClientError(f"{service.serviceId} has no action {action!r}; its actions are: {names}")
        problems = declared.argumentProblems(arguments)
        if problems:
            expected = ", ".join(a.name for a in declared.inArguments) or "no arguments"
            raise ClientError(f"{action} takes {expected}: " + "; ".join(problems))
        texts = []
        for argument in declared.inArguments:
            variable = description.stateVariable(argument.relatedStateVariable)
            assert variable is not None  # the model guarantees it
            value = arguments[argument.name]
            try:
                if isinstance(value, str) and variable.dataType not in _TEXT_TYPES:
                    value = variable.parse(value)
                # The model's check, as the device applies it: type, range,
                # step, allowed list, length.
                text = variable.format(value)
            except datatypes.InvalidValue as e:
                raise ClientError(f"{argument.name}: {e}") from None
            texts.append((argument.name, text))
        body = soap.request(service.serviceType, action, texts)
        code, _, answer = await self.exchange(
            b"POST",
            service.controlURL,
            {
                b"content-type": CONTENT_TYPE,
                b"soapaction": f'"{service.serviceType}#{action}"'.encode("utf-8"),
            },
            body,
        )
        try:
            result = soap.parse_answer(answer)
        except soap.SOAPError as e:
            raise ClientError(
                f"{service.controlURL} answered HTTP {code} with no usable SOAP ({e})"
            ) from None
        values: dict[str, object] = {}
        outputs = {a.name: a.relatedStateVariable for a in declared.outArguments}
        for name, text in result.arguments:
            variable = description.stateVariable(outputs.get(name, ""))
            values[name] = convert(variable.dataType if variable else None, text)
        return values

    async def subscribe(
        self,
        service: RemoteService,
        description: ServiceDescription | None,
        callback: Callable[[int, dict[str, object]], None],
        *,
        timeout: int = 1800,
    ) -> EventSubscription:
        """
        Subscribe to C{service}'s events: C{callback(seq, values)} for each,
        renewed before it expires until L{EventSubscription.unsubscribe}.

        The callback server listens on the address that reaches the device.
        """
        if not service.eventSubURL:
            raise ClientError(f"{service.serviceId} has no events")
        host = unquote(urlsplit(service.eventSubURL).hostname or "")
        local = self.localAddress(host)
        listener = self._listeners.get(local)
        if listener is None:
            listener = EventListener(self.reactor, local)
            listener.start()
            self._listeners[local] = listener
        subscription = EventSubscription(
            self, service, description, callback, listener, self.newToken()
        )
        await subscription.start(timeout)
        self.subscriptions.add(subscription)
        return subscription

    async def close(self) -> None:
        """
        Stop renewing subscriptions; close kept-alive connections and the
        event listeners. (Unsubscribe first to tell the devices.)
        """
        for subscription in list(self.subscriptions):
            subscription.active = False
            subscription.stopRenewing()
        self.subscriptions.clear()
        for listener in self._listeners.values():
            await listener.close()
        self._listeners.clear()
        if self.pool is not None:
            await self.pool.closeCachedConnections()


@implementer(IAgentEndpointFactory)
class _Endpoints:
    """
    Connections for the control point's requests: an IP literal directly
    (an IPv6 link-local one with the zone its URL carries, RFC 6874:
    C{http://[fe80::1%25eth0]:80/}); a name through the resolver.
    """

    def __init__(self, reactor: Any, timeout: float) -> None:
        self.reactor = reactor
        self.timeout = timeout

    def endpointForURI(self, uri: Any) -> Any:
        host = unquote(uri.host.decode("ascii"))
        try:
            ip = ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            return endpoints.HostnameEndpoint(self.reactor, host, uri.port, self.timeout)
        if ip.version == 4:
            return endpoints.TCP4ClientEndpoint(self.reactor, host, uri.port, self.timeout)
        return endpoints.TCP6ClientEndpoint(self.reactor, host, uri.port, self.timeout)


def local_address_for(host: str) -> str:
    """
    Our address on the route to C{host} (a UDP "connect" sends nothing);
    an IPv6 link-local one with its zone (C{fe80::1%eth0}).
    """
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        raise ClientError(f"{host!r} is not an IP address") from None
    family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    probe = socket.socket(family, socket.SOCK_DGRAM)
    try:
        destination = socket.getaddrinfo(host, 9, family, socket.SOCK_DGRAM)[0][4]
        probe.connect(destination)
        address: str = probe.getsockname()[0]
        return address
    except OSError as e:
        raise ClientError(f"no route to {host}: {e.strerror}") from None
    finally:
        probe.close()
