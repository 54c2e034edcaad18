"""
A control point: find UPnP devices, read their descriptions, call their
actions and subscribe to their events, with Twisted.

It shares the device side's parsers and data types: one implementation of
SSDP, SCPD, SOAP and GENA serves both. It is liberal in what devices send
(URLBase or not, relative URLs, SIDs without C{uuid:}, bare TIMEOUT numbers,
C{True} for a boolean) and careful with it (no DTDs or entities, size limits,
timeouts).
"""

from __future__ import annotations

import ipaddress
import socket
import uuid
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml import etree
from twisted.internet import defer, error, protocol
from twisted.internet.protocol import DatagramProtocol
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web import client as webclient
from twisted.web import http, server
from twisted.web.http_headers import Headers
from twisted.web.iweb import IBodyProducer
from zope.interface import implementer

from upnp_announce import control, datatypes, gena, netif, soap, ssdp, xmlsafe
from upnp_announce.description import CONTENT_TYPE, DEVICE_NS, DescriptionError, parse_scpd
from upnp_announce.httputil import BodyTooLarge, BytesProducer, read_capped
from upnp_announce.model import ServiceDescription, serves
from upnp_announce.product import SERVER
from upnp_announce.resources import Leaf
from upnp_announce.ssdpserver import MAX_MX

__all__ = [
    "ClientError",
    "ControlPoint",
    "DeviceTable",
    "EventSubscription",
    "Found",
    "RemoteDevice",
    "RemoteService",
    "discover",
    "parse_device_description",
]

MAX_DOCUMENT = 1 << 20
USER_AGENT = SERVER.encode("ascii")


class ClientError(Exception):
    """
    Something a device did (or did not do), in one sentence.
    """


# -- discovery ----------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    """
    A search reply.
    """

    usn: str
    st: str
    location: str
    server: str
    source: tuple[str, int]
    maxAge: int | None


class _Searcher(DatagramProtocol):
    def __init__(self, found: dict[str, Found], onFound: Callable[[Found], None] | None) -> None:
        self.found = found
        self.onFound = onFound

    def datagramReceived(self, datagram: bytes, addr: Any) -> None:
        try:
            message = ssdp.parse(datagram)
        except ssdp.SSDPParseError:
            return
        if not isinstance(message, ssdp.SearchResponse) or message.usn in self.found:
            return
        found = Found(
            message.usn, message.st, message.location, message.header("server") or "",
            (addr[0], addr[1]), message.maxAge,
        )
        self.found[message.usn] = found
        if self.onFound is not None:
            self.onFound(found)


def discover(
    reactor: Any,
    *,
    target: str = "ssdp:all",
    timeout: float = 3.0,
    interfaces: Sequence[str] | None = None,
    unicast: tuple[str, int] | None = None,
    onFound: Callable[[Found], None] | None = None,
) -> defer.Deferred[list[Found]]:
    """
    Search for C{target} and collect the replies for C{timeout} seconds,
    one per USN.

    @param interfaces: search on these interfaces (multicast, TTL 2); by
        default on every up, multicast-capable, non-loopback one.
    @param unicast: search this C{(host, port)} only (no MX; UDA 1.1).
    @param onFound: called with each new reply as it arrives.
    @raise netif.InterfaceError: (synchronously) for an unusable interface.
    """
    found: dict[str, Found] = {}
    searcher = _Searcher(found, onFound)
    ports: list[Any] = []
    mx = min(MAX_MX, max(1, int(timeout) - 1))
    if unicast is not None:
        host, port = unicast
        listening = reactor.listenUDP(0, searcher)
        ports.append(listening)
        datagram = ssdp.msearch(st=target, mx=None, host=f"{host}:{port}")
        sends: list[tuple[Any, bytes, tuple[str, int]]] = [(listening, datagram, (host, port))]
    else:
        sends = []
        datagram = ssdp.msearch(st=target, mx=mx)
        for address in netif.resolve(interfaces):
            listening = reactor.listenUDP(0, searcher, interface=address.address)
            listening.socket.setsockopt(
                socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(address.address)
            )
            listening.socket.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 2)
            ports.append(listening)
            sends.append((listening, datagram, (ssdp.MULTICAST_ADDRESS, ssdp.SSDP_PORT)))

    def send() -> None:
        for listening, data, destination in sends:
            try:
                listening.write(data, destination)
            except OSError as e:
                _log.debug("Cannot search via {port}: {error}", port=listening, error=e)

    send()
    # UDP loses datagrams: search once more, a little later.
    again = reactor.callLater(min(0.5, timeout / 2), send)
    done: defer.Deferred[list[Found]] = defer.Deferred()

    def finish() -> None:
        if again.active():
            again.cancel()
        for listening in ports:
            listening.stopListening()
        done.callback(list(found.values()))

    reactor.callLater(timeout, finish)
    return done


_log = Logger()


@dataclass
class TableEntry:
    """
    A device (USN) a L{DeviceTable} knows of.
    """

    usn: str
    location: str
    server: str
    expires: float
    bootId: str | None = None


class DeviceTable:
    """
    The devices on the LAN, kept current by their NOTIFYs (alive, update,
    byebye) and search replies, each forgotten when its max-age runs out.
    """

    # A LAN is not that big; a flood of made-up USNs stops here.
    MAX_ENTRIES = 4096
    MAX_AGE = 86400

    def __init__(self, clock: Any) -> None:
        self.clock = clock
        self.entries: dict[str, TableEntry] = {}
        self._expiry: dict[str, Any] = {}
        self._watchers: list[Callable[[str, TableEntry], None]] = []

    def watch(self, callback: Callable[[str, TableEntry], None]) -> None:
        """
        Call C{callback(kind, entry)} with kind C{"added"}, C{"updated"} or
        C{"removed"}.
        """
        self._watchers.append(callback)

    def _tell(self, kind: str, entry: TableEntry) -> None:
        for watcher in list(self._watchers):
            watcher(kind, entry)

    def notifyReceived(self, notify: ssdp.Notify) -> None:
        nts = notify.nts.lower()
        if nts == "ssdp:byebye":
            self.remove(notify.usn)
        elif nts == "ssdp:alive" and notify.location:
            self.seen(
                notify.usn, notify.location, notify.header("server") or "",
                notify.maxAge or 1800, notify.header("bootid.upnp.org"),
            )
        elif nts == "ssdp:update" and notify.location:
            entry = self.entries.get(notify.usn)
            if entry is None:
                return
            # An update moves the device (and its next BOOTID); it carries no
            # max-age, so the announcement's own still runs.
            remaining = max(1, int(entry.expires - self.clock.seconds()))
            self.seen(
                notify.usn, notify.location, entry.server, remaining,
                notify.header("nextbootid.upnp.org") or entry.bootId,
            )

    def foundReceived(self, found: Found) -> None:
        self.seen(found.usn, found.location, found.server, found.maxAge or 1800, None)

    def seen(
        self, usn: str, location: str, server: str, maxAge: int, bootId: str | None
    ) -> None:
        entry = self.entries.get(usn)
        maxAge = max(1, min(maxAge, self.MAX_AGE))
        expires = self.clock.seconds() + maxAge
        if entry is None and len(self.entries) >= self.MAX_ENTRIES:
            return
        if entry is None:
            entry = self.entries[usn] = TableEntry(usn, location, server, expires, bootId)
            kind = "added"
        else:
            kind = "updated" if (entry.location, entry.bootId) != (location, bootId) else ""
            entry.location, entry.server, entry.expires, entry.bootId = (
                location, server, expires, bootId
            )
        call = self._expiry.pop(usn, None)
        if call is not None and call.active():
            call.cancel()
        self._expiry[usn] = self.clock.callLater(maxAge, self.remove, usn)
        if kind:
            self._tell(kind, entry)

    def remove(self, usn: str) -> None:
        entry = self.entries.pop(usn, None)
        call = self._expiry.pop(usn, None)
        if call is not None and call.active():
            call.cancel()
        if entry is not None:
            self._tell("removed", entry)

    def stop(self) -> None:
        for call in self._expiry.values():
            if call.active():
                call.cancel()
        self._expiry.clear()


class TableProtocol(DatagramProtocol):
    """
    Feeds a L{DeviceTable} from the SSDP multicast group.
    """

    def __init__(self, table: DeviceTable) -> None:
        self.table = table

    def datagramReceived(self, datagram: bytes, addr: Any) -> None:
        try:
            message = ssdp.parse(datagram)
        except ssdp.SSDPParseError:
            return
        if isinstance(message, ssdp.Notify):
            self.table.notifyReceived(message)
        elif isinstance(message, ssdp.SearchResponse):
            self.table.foundReceived(
                Found(message.usn, message.st, message.location,
                      message.header("server") or "", (addr[0], addr[1]), message.maxAge)
            )


# -- descriptions -------------------------------------------------------------------


@dataclass(frozen=True)
class RemoteService:
    """
    A service as a device describes it; URLs are absolute (C{eventSubURL}
    is empty for a service without events).
    """

    serviceType: str
    serviceId: str
    SCPDURL: str
    controlURL: str
    eventSubURL: str


@dataclass(frozen=True)
class RemoteDevice:
    """
    A device as its description says, with its embedded devices.

    @ivar fields: every text field by element name (friendlyName,
        manufacturer, modelName, UDN...).
    """

    location: str
    deviceType: str
    UDN: str
    fields: dict[str, str]
    services: tuple[RemoteService, ...] = ()
    devices: tuple[RemoteDevice, ...] = ()

    @property
    def friendlyName(self) -> str:
        return self.fields.get("friendlyName", "")

    def allDevices(self) -> Iterator[RemoteDevice]:
        yield self
        for device in self.devices:
            yield from device.allDevices()

    def allServices(self) -> Iterator[RemoteService]:
        for device in self.allDevices():
            yield from device.services

    def findService(self, name: str) -> RemoteService:
        """
        A service of this tree by serviceId, the last part of its serviceId,
        or its type (our version or a lower one).

        @raise ClientError: naming the services there are.
        """
        services = list(self.allServices())
        for matches in (
            lambda s: s.serviceId == name,
            lambda s: s.serviceId.rsplit(":", 1)[-1] == name,
            lambda s: s.serviceType == name,
            lambda s: serves(s.serviceType, name),
            # "SwitchPower" for a serviceId ending in SwitchPower.0001.
            lambda s: s.serviceId.rsplit(":", 1)[-1].split(".")[0] == name,
        ):
            chosen = [s for s in services if matches(s)]
            if chosen:
                return chosen[0]
        known = ", ".join(s.serviceId.rsplit(":", 1)[-1] for s in services) or "none"
        raise ClientError(f"the device has no service {name!r}; its services are: {known}")


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def parse_device_description(data: bytes, location: str) -> RemoteDevice:
    """
    Read a device description fetched from C{location}.

    @raise ClientError: when it is not one.
    """
    try:
        root = xmlsafe.parse(data, maxBytes=MAX_DOCUMENT, maxDepth=32)
    except xmlsafe.UnsafeXML as e:
        raise ClientError(f"{location} is not a UPnP device description: {e}") from None
    if _local(root) != "root":
        raise ClientError(f"{location} is not a UPnP device description (its root is <{_local(root)}>)")
    if etree.QName(root).namespace not in (DEVICE_NS, None):
        raise ClientError(f"{location} is not a UPnP device description (namespace {etree.QName(root).namespace})")
    base = location
    devices = []
    for child in root:
        name = _local(child)
        if name == "URLBase" and (child.text or "").strip():
            base = (child.text or "").strip()
        elif name == "device":
            devices.append(child)
    if len(devices) != 1:
        raise ClientError(f"{location} is not a UPnP device description (no <device>)")
    return _device(devices[0], location, base)


def _device(element: etree._Element, location: str, base: str) -> RemoteDevice:
    fields: dict[str, str] = {}
    services = []
    children = []
    for child in element:
        name = _local(child)
        if name == "serviceList":
            for entry in child:
                if _local(entry) == "service":
                    texts = {_local(c): (c.text or "").strip() for c in entry}
                    def absolute(key: str) -> str:
                        # A missing or empty URL stays empty (not LOCATION).
                        value = texts.get(key, "")
                        return urljoin(base, value) if value else ""

                    services.append(
                        RemoteService(
                            texts.get("serviceType", ""),
                            texts.get("serviceId", ""),
                            absolute("SCPDURL"),
                            absolute("controlURL"),
                            absolute("eventSubURL"),
                        )
                    )
        elif name == "deviceList":
            children = [_device(c, location, base) for c in child if _local(c) == "device"]
        elif name and len(child) == 0:
            fields[name] = (child.text or "").strip()
    if not fields.get("deviceType") or not fields.get("UDN"):
        raise ClientError(f"{location} is not a UPnP device description (no deviceType or UDN)")
    if "presentationURL" in fields and fields["presentationURL"]:
        fields["presentationURL"] = urljoin(base, fields["presentationURL"])
    return RemoteDevice(
        location, fields["deviceType"], fields["UDN"], fields, tuple(services), tuple(children)
    )


# -- HTTP ----------------------------------------------------------------------------


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
    elif isinstance(value, webclient.ResponseNeverReceived) and any(
        f.check(defer.CancelledError) for f in value.reasons
    ):
        message = f"no answer from {where} within {timeout:g} s"
    elif failure.check(error.ConnectionRefusedError):
        message = f"cannot connect to {where}: connection refused"
    elif failure.check(error.DNSLookupError):
        message = f"cannot find the host of {url}"
    elif failure.check(error.ConnectError):
        message = f"cannot connect to {where}: {value}"
    else:
        message = f"{url}: {value.__class__.__name__}: {value}"
    return Failure(ClientError(message))


class ControlPoint:
    """
    Reads descriptions, calls actions and subscribes to events.
    """

    def __init__(self, reactor: Any = None, *, timeout: float = 10.0) -> None:
        if reactor is None:
            from twisted.internet import reactor
        self.reactor = reactor
        self.timeout = timeout
        self.pool = webclient.HTTPConnectionPool(reactor, persistent=True)
        self.agent = webclient.Agent(reactor, connectTimeout=timeout, pool=self.pool)
        self._listeners: dict[str, EventListener] = {}
        # The live subscriptions, for close(); forgotten once dropped.
        self.subscriptions: weakref.WeakSet[EventSubscription] = weakref.WeakSet()

    def _request(
        self,
        method: bytes,
        url: str,
        headers: Mapping[bytes, bytes] | None = None,
        body: bytes | None = None,
        limit: int = MAX_DOCUMENT,
    ) -> defer.Deferred[tuple[int, Headers, bytes]]:
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
        sending.addTimeout(self.timeout, self.reactor)
        sending.addErrback(_explain, url, self.timeout)
        return sending

    async def _get(self, url: str) -> bytes:
        code, headers, data = await self._request(b"GET", url)
        if code != 200:
            raise ClientError(f"{url} answered HTTP {code}")
        if _header(headers, b"content-type").lower().startswith("text/html"):
            raise ClientError(f"{url} is a web page, not a UPnP description")
        return data

    async def describe(self, location: str) -> RemoteDevice:
        """
        The device described at C{location} (and its embedded devices).
        """
        return parse_device_description(await self._get(location), location)

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
        expected = [a.name for a in declared.inArguments]
        missing = [n for n in expected if n not in arguments]
        extra = [n for n in arguments if n not in expected]
        if missing or extra:
            problems = []
            if missing:
                problems.append("missing " + ", ".join(missing))
            if extra:
                problems.append("unexpected " + ", ".join(extra))
            raise ClientError(
                f"{action} takes {', '.join(expected) or 'no arguments'}: " + "; ".join(problems)
            )
        texts = []
        variables = {v.name: v for v in description.stateVariables}
        for parameter in control.parameters(declared.inArguments, variables):
            dataType = parameter.variable.dataType
            value = arguments[parameter.name]
            try:
                if isinstance(value, str) and dataType not in ("string", "char", "uri", "uuid"):
                    value = datatypes.parse_value(dataType, value)
                text = datatypes.format_value(dataType, value)
                # The device's own check: range, step, allowed list, length.
                control.check_argument(parameter, text)
            except datatypes.InvalidValue as e:
                raise ClientError(f"{parameter.name}: {e}") from None
            except soap.UPnPError as e:
                raise ClientError(e.description) from None
            texts.append((parameter.name, text))
        body = soap.request(service.serviceType, action, texts)
        code, _, answer = await self._request(
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
            values[name] = _convert(variable.dataType if variable else None, text)
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
        host = urlsplit(service.eventSubURL).hostname or ""
        local = local_address_for(host)
        listener = self._listeners.get(local)
        if listener is None:
            listener = self._listeners[local] = EventListener(self.reactor, local)
        subscription = EventSubscription(self, service, description, callback, listener)
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
        await self.pool.closeCachedConnections()


def _convert(dataType: str | None, text: str) -> object:
    """
    A value from a device: its Python value where the type says how and the
    text allows; the text otherwise (devices are not all strict).
    """
    if dataType is None:
        return text
    try:
        return datatypes.parse_value(dataType, text)
    except (datatypes.InvalidValue, datatypes.UnknownDataType):
        return text


def local_address_for(host: str) -> str:
    """
    Our address on the route to C{host} (a UDP "connect" sends nothing).
    """
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ClientError(f"{host!r} is not an IP address") from None
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect((host, 9))
        address: str = probe.getsockname()[0]
        return address
    except OSError as e:
        raise ClientError(f"no route to {host}: {e.strerror}") from None
    finally:
        probe.close()


# -- events ----------------------------------------------------------------------------


class EventListener:
    """
    An HTTP server for NOTIFYs, on one local address.
    """

    def __init__(self, reactor: Any, address: str) -> None:
        self.address = address
        self.subscriptions: dict[str, EventSubscription] = {}
        self.early: dict[str, list[tuple[int, dict[str, str]]]] = {}
        self.site = _ListenerSite(_NotifyResource(self), timeout=60)
        self.site.noisy = False
        self.port = reactor.listenTCP(0, self.site, interface=address)

    def url(self, token: str) -> str:
        return f"http://{self.address}:{self.port.getHost().port}/{token}"

    def register(self, subscription: EventSubscription) -> None:
        self.subscriptions[subscription.sid] = subscription
        # A NOTIFY may come before the SUBSCRIBE answer: play it now.
        for seq, values in self.early.pop(subscription.sid, []):
            subscription.received(seq, values)

    def close(self) -> defer.Deferred[None]:
        return defer.maybeDeferred(self.port.stopListening)


class _ListenerSite(server.Site):
    """
    NOTIFY bodies are kept in memory up to 64 KB and no further.
    """

    def getContentFile(self, length: int | None) -> control.CappedBody:
        return control.CappedBody(control.MAX_BODY, length)


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

    log = Logger()

    def __init__(
        self,
        point: ControlPoint,
        service: RemoteService,
        description: ServiceDescription | None,
        callback: Callable[[int, dict[str, object]], None],
        listener: EventListener,
    ) -> None:
        self.point = point
        self.service = service
        self.description = description
        self.callback = callback
        self.listener = listener
        self.token = uuid.uuid4().hex
        self.sid = ""
        self.timeout = 0
        self._renewal: Any = None
        self.active = False
        # Fires with a ClientError when a renewal fails for good.
        self.lost: defer.Deferred[ClientError] = defer.Deferred()

    async def start(self, timeout: int) -> None:
        code, headers, _ = await self.point._request(
            b"SUBSCRIBE",
            self.service.eventSubURL,
            {
                b"callback": f"<{self.listener.url(self.token)}>".encode("ascii"),
                b"nt": b"upnp:event",
                b"timeout": f"Second-{timeout}".encode("ascii"),
            },
        )
        if code != 200:
            raise ClientError(f"{self.service.eventSubURL} refused the subscription: HTTP {code}")
        sid = _header(headers, b"sid")
        if not sid:
            raise ClientError(f"{self.service.eventSubURL} answered without a SID")
        self.sid = sid
        self.timeout = _granted(_header(headers, b"timeout"), timeout)
        self.active = True
        self.listener.register(self)
        self._schedule()

    def _schedule(self) -> None:
        # Renew when half the time is gone (a minute before the end at most).
        delay = max(1.0, min(self.timeout / 2, self.timeout - 60))
        self._renewal = self.point.reactor.callLater(delay, self._renew)

    def _renew(self) -> None:
        async def renew() -> None:
            code, headers, _ = await self.point._request(
                b"SUBSCRIBE",
                self.service.eventSubURL,
                {b"sid": self.sid.encode("latin-1"), b"timeout": f"Second-{self.timeout}".encode()},
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
            self.timeout = _granted(_header(headers, b"timeout"), self.timeout)
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
            values[name] = _convert(variable.dataType if variable else None, text)
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
        code, _, _ = await self.point._request(
            b"UNSUBSCRIBE", self.service.eventSubURL, {b"sid": self.sid.encode("latin-1")}
        )
        if code != 200:
            raise ClientError(f"{self.service.eventSubURL} refused to unsubscribe: HTTP {code}")


def _header(headers: Headers, name: bytes) -> str:
    values = headers.getRawHeaders(name)
    return values[0].decode("latin-1").strip() if values else ""


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
