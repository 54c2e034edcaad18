"""
The device's HTTP site: a twisted.web resource tree built from the model,
behind a Host check.

Descriptions, icons and presentation pages are rendered once to bytes
(L{description.render}) and served as they are; the tree is rebuilt only when
the device changes (L{DeviceSite.setDevice}).
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from twisted.internet.interfaces import IReactorTime
from twisted.web import resource, server
from twisted.web.iweb import IRequest

from upnp_announce.device.channel import DateLine, LeanChannel
from upnp_announce.device.control import ControlResource
from upnp_announce.device.eventing import (
    EventResource,
    LeanNotifier,
    Notifier,
    ServiceEventing,
)
from upnp_announce.device.page import EventStream, PageCall, PageFeed
from upnp_announce.device.presentation import page_paths, presentation_page
from upnp_announce.device.resources import FOREIGN_ORIGIN, NOT_FOUND, REFUSED, StaticBytes
from upnp_announce.logs import Sparse, enabled, logger
from upnp_announce.model import Device
from upnp_announce.settings import EventingSettings
from upnp_announce.wire import description
from upnp_announce.wire.http import MAX_BODY, CappedBody
from upnp_announce.wire.product import SERVER

__all__ = ["DeviceSite", "Served", "build_tree", "device_resources", "put_resource"]

XML = description.CONTENT_TYPE
HTML = b"text/html; charset=utf-8"
# Twisted's default keeps an idle connection for 12 hours; a LAN device
# should not let anyone hold its sockets that long.
IDLE_TIMEOUT = 60.0


class _Directory(resource.Resource):
    """
    An inner node of the tree: only its children exist.
    """

    def getChild(self, path: bytes, request: IRequest) -> resource.IResource:
        return NOT_FOUND

    def render(self, request: IRequest) -> bytes:
        return NOT_FOUND.render(request)


def device_resources(
    rendered: description.Descriptions, root: Device, clock: IReactorTime
) -> list[tuple[str, resource.Resource]]:
    """
    The fixed resources of one root device's tree, by absolute path: its
    descriptions, pages, icons and controlURLs (eventSubURLs come with its
    eventing).
    """
    entries: list[tuple[str, resource.Resource]] = [
        (path, StaticBytes(body, XML)) for path, body in rendered.documents.items()
    ]
    for device in root.allDevices():
        for index, icon in enumerate(device.icons):
            path = rendered.layout.icons[(device.UDN, index)]
            entries.append((path, StaticBytes(icon.data, icon.mimetype.encode("ascii"))))
    controls = {}
    for paths in rendered.layout.services:
        controls[paths.service.serviceId, paths.device.UDN] = control = ControlResource(
            paths.service, clock
        )
        entries.append((paths.control, control))
    for device in root.allDevices():
        pages = page_paths(rendered.layout, device)
        if pages is None:
            continue
        page, _, call = pages
        entries.append((page, StaticBytes(presentation_page(device, rendered.layout), HTML)))
        if device.presentation == "full":
            invokers = {
                s.serviceId: (s, controls[s.serviceId, device.UDN].invoker)
                for s in device.services
            }
            entries.append((call, PageCall(invokers)))
    return entries


def build_tree(
    rendered: description.Descriptions,
    root: Device,
    clock: IReactorTime,
    events: dict[str, EventResource],
) -> resource.Resource:
    """
    The resource tree that serves C{rendered}, the controlURL of each
    service, and C{events} (eventSubURL path to its resource).
    """
    tree = _Directory()
    for path, leaf in [*device_resources(rendered, root, clock), *events.items()]:
        put_resource(tree, path, leaf)
    return tree


def put_resource(tree: resource.Resource, path: str, leaf: resource.Resource) -> None:
    """
    Put C{leaf} at the absolute C{path} of C{tree}, making inner nodes.
    """
    segments = path.split("/")[1:]
    node = tree
    for segment in segments[:-1]:
        name = segment.encode("utf-8")
        child = node.children.get(name)
        if child is None:
            child = _Directory()
            node.putChild(name, child)
        node = child
    node.putChild(segments[-1].encode("utf-8"), leaf)


@dataclass
class Served:
    """
    One root device on the site: its model, where its paths start, its
    descriptions rendered once, its fixed resources, and its eventing.
    """

    device: Device
    base: str
    descriptions: description.Descriptions
    resources: list[tuple[str, resource.Resource]]
    eventing: dict[str, ServiceEventing] = field(default_factory=dict)
    events: dict[str, resource.Resource] = field(default_factory=dict)
    feeds: list[PageFeed] = field(default_factory=list)


class DeviceSite(server.Site):
    """
    The HTTP site of the root devices a service runs: one at C{/} (its
    description at C{/description.xml}), others each under a base path of
    their own (C{/UUID/description.xml}).

    It refuses a request whose Host header is not one of our own
    C{address:port} pairs (DNS rebinding: a browser on the LAN must not be
    turned against the device by a name that resolves to it), and names
    itself in the Server header as SSDP does.
    """

    _log = logger("http")

    def __init__(
        self,
        device: Device | None = None,
        *,
        base: str = "",
        reactor: Any = None,
        timeout: float = IDLE_TIMEOUT,
        eventing: EventingSettings = EventingSettings(),
        notifier: Notifier | None = None,
    ) -> None:
        """
        @param device: a root device to serve at once, under C{base}.
        @param timeout: seconds an idle connection is kept open.
        @param reactor: an L{IReactorTime} for the connection timeouts and
            the actions' and events' timers (and an L{IReactorTCP} for
            NOTIFYs, unless C{notifier} is given).
        @param eventing: the GENA settings.
        @param notifier: sends NOTIFYs; by default a L{LeanNotifier}.
        """
        if reactor is None:
            from twisted.internet import reactor
        self._clock: IReactorTime = reactor
        self._hosts: set[bytes] = set()
        # How many bindings name each Host (two interfaces can have the same
        # IPv6 link-local address), and each address's subnet.
        self._hostCount: Counter[bytes] = Counter()
        self._networks: dict[str, ipaddress.IPv4Network | ipaddress.IPv6Network] = {}
        self._networkCount: Counter[str] = Counter()
        self.eventingSettings = eventing
        self.notifier = notifier if notifier is not None else LeanNotifier(reactor, eventing)
        self.served: dict[str, Served] = {}
        self._routes: dict[bytes, StaticBytes | ControlResource] = {}
        self._date = DateLine(reactor)
        self.serverHeader = SERVER_BYTES
        self._eventingOn = True
        self.resource = _Directory()
        if device is not None:
            self.addDevice(device, base)
        super().__init__(
            self.resource, parsePOSTFormSubmission=False, timeout=timeout, reactor=reactor
        )
        self.noisy = False
        self._refusals = Sparse(self._log, self._clock)

    # -- one device (as before several) -----------------------------------------

    @property
    def device(self) -> Device:
        return next(iter(self.served.values())).device

    @property
    def descriptions(self) -> description.Descriptions:
        return next(iter(self.served.values())).descriptions

    @property
    def eventing(self) -> dict[str, ServiceEventing]:
        """
        Every device's eventing, by eventSubURL path.
        """
        return {path: e for served in self.served.values() for path, e in served.eventing.items()}

    def setDevice(self, device: Device) -> None:
        """
        Serve C{device} instead of the first device (or as the first).
        """
        if self.served:
            first = next(iter(self.served.values()))
            self.removeDevice(first.device.UDN)
            self.addDevice(device, first.base)
        else:
            self.addDevice(device)

    # -- several devices ----------------------------------------------------------------

    def addDevice(self, device: Device, base: str = "") -> Served:
        """
        Serve C{device} under C{base}: render its descriptions, start its
        eventing (when the site's is on) and put it in the tree.

        @raise ValueError: for a UDN or base already served.
        """
        key = device.UDN.lower()
        if key in self.served:
            raise ValueError(f"{device.UDN} is served already")
        if any(s.base == base for s in self.served.values()):
            raise ValueError(f"another device is served under {base or '/'!r}")
        rendered = description.render(device, base)
        served = Served(device, base, rendered, device_resources(rendered, device, self._clock))
        if self._eventingOn:
            self._startEventing(served)
        self.served[key] = served
        self._rebuild()
        return served

    def removeDevice(self, udn: str) -> Served:
        """
        Stop serving a device: its paths are gone and its subscriptions end.

        @raise KeyError: for a device not served.
        """
        served = self.served.pop(udn.lower())
        self._stopEventing(served)
        self._rebuild()
        return served

    def replaceDevice(self, device: Device) -> tuple[Served, Served]:
        """
        Serve C{device} in place of the device of the same UDN, under the
        same base. Subscriptions to each service whose eventSubURL stays
        carry over (same SID and SEQ), each with an event of the new
        values; the others end.

        @return: the old and the new.
        @raise KeyError: for a device not served.
        """
        key = device.UDN.lower()
        old = self.served[key]
        rendered = description.render(device, old.base)
        new = Served(device, old.base, rendered, device_resources(rendered, device, self._clock))
        if self._eventingOn:
            self._startEventing(new)
            for path, eventing in new.eventing.items():
                previous = old.eventing.get(path)
                if previous is not None:
                    eventing.adopt(previous)
        self._stopEventing(old)
        self.served[key] = new
        self._rebuild()
        return old, new

    def _rebuild(self) -> None:
        tree = _Directory()
        routes: dict[bytes, StaticBytes | ControlResource] = {}
        for served in self.served.values():
            for path, leaf in [*served.resources, *served.events.items()]:
                put_resource(tree, path, leaf)
                if isinstance(leaf, (StaticBytes, ControlResource)):
                    routes[path.encode("utf-8")] = leaf
        self.resource = tree
        self._routes = routes

    # -- the lean channel (upnp_announce.device.channel.Routes) ---------------------------

    def buildProtocol(self, addr: Any) -> LeanChannel:  # type: ignore[override]
        """
        A connection starts on the lean channel, which answers the fixed
        routes and hands anything else to L{twistedChannel}; when
        C{getResourceFor} or C{log} is replaced (by a subclass, or on the
        site), every request goes through the replacement on twisted.web's
        channel. (Not an HTTPChannel, hence the ignore: no caller here needs
        one.) While the access log is on, the lean channel hands each
        request over itself.
        """
        if self._replaced():
            return self.twistedChannel(addr)  # type: ignore[no-any-return]
        channel = LeanChannel(self, addr, self._clock, self.timeOut or 0, self._date)
        channel.factory = self
        return channel

    def _replaced(self) -> bool:
        return any(
            name in vars(self) or getattr(type(self), name) is not getattr(DeviceSite, name)
            for name in ("getResourceFor", "log")
        )

    def twistedChannel(self, address: Any) -> Any:
        """
        twisted.web's own channel, serving the resource tree.
        """
        return super().buildProtocol(address)

    def fixedRoute(self, path: bytes) -> StaticBytes | ControlResource | None:
        return self._routes.get(path)

    def hostAllowed(self, host: bytes) -> bool:
        return host.lower() in self._hosts or (
            host[:1] == b"[" and _canonical_ipv6(host) in self._hosts
        )

    def originAllowed(self, origin: bytes) -> bool:
        return self._ours(origin)

    # -- eventing ------------------------------------------------------------------------

    def _startEventing(self, served: Served) -> None:
        served.eventing = {
            paths.event: ServiceEventing(
                paths.service, self.eventingSettings, self._clock, self.notifier
            )
            for paths in served.descriptions.layout.services
            if description.evented(paths.service)
        }
        served.events = {
            path: EventResource(eventing, self._networks)
            for path, eventing in served.eventing.items()
        }
        served.feeds = []
        for device in served.device.allDevices():
            pages = page_paths(served.descriptions.layout, device)
            if pages is not None:
                feed = PageFeed(device, self._clock)
                served.feeds.append(feed)
                served.events[pages[1]] = EventStream(feed)

    def _stopEventing(self, served: Served) -> None:
        for eventing in served.eventing.values():
            eventing.stop()
        for feed in served.feeds:
            feed.stop()
        served.feeds = []

    def startEventing(self) -> None:
        """
        Watch the providers and take subscriptions (again, after
        L{stopEventing}): the tree is rebuilt with fresh eventing; the
        descriptions are not rendered again.
        """
        if self._eventingOn:
            return
        self._eventingOn = True
        for served in self.served.values():
            self._startEventing(served)
        self._rebuild()

    def stopEventing(self) -> None:
        """
        Drop every subscription and stop watching the providers.
        """
        self._eventingOn = False
        for served in self.served.values():
            self._stopEventing(served)
            served.eventing = {}

    def getContentFile(self, length: int | None) -> CappedBody:
        """
        Request bodies are kept in memory up to the SOAP limit and no further.
        """
        return CappedBody(MAX_BODY, length)

    def addAddress(
        self,
        host: str,
        port: int,
        network: ipaddress.IPv4Network | ipaddress.IPv6Network | None = None,
    ) -> None:
        """
        Accept requests whose Host is C{host:port}; C{network} is the subnet
        of that address's interface (for the eventing callback policy).
        """
        for name in _host_names(host, port):
            self._hostCount[name] += 1
            self._hosts.add(name)
        if network is not None:
            self._networks[host] = network
            self._networkCount[host] += 1

    def removeAddress(self, host: str, port: int) -> None:
        for name in _host_names(host, port):
            self._hostCount[name] -= 1
            if self._hostCount[name] <= 0:
                del self._hostCount[name]
                self._hosts.discard(name)
        if host in self._networkCount:
            self._networkCount[host] -= 1
            if self._networkCount[host] <= 0:
                del self._networkCount[host]
                self._networks.pop(host, None)

    def getResourceFor(self, request: IRequest) -> resource.Resource:
        request.setHeader(b"server", SERVER_BYTES)
        host = request.getHeader(b"host")
        if host is not None and not self.hostAllowed(host):
            self._refusals.info(
                "host", "Refused a request from {source} for Host {host}: not one of our "
                "addresses", source=_source(request), host=_printable(host),
            )
            return REFUSED
        if request.method not in _SAFE:
            origin = request.getHeader(b"origin")
            if origin is not None and not self._ours(origin):
                # A page elsewhere drives the device through a visitor's
                # browser (CSRF): control points send no Origin.
                self._refusals.info(
                    "origin", "Refused a {method} from {source}: sent by a page of "
                    "another origin, {origin}", method=_printable(request.method),
                    source=_source(request), origin=_printable(origin),
                )
                return FOREIGN_ORIGIN
        return super().getResourceFor(request)  # type: ignore[no-any-return]

    def logPrefix(self) -> str:
        # Twisted's port says "<this> starting on PORT" and "(TCP Port PORT
        # Closed)": a name, not the class's.
        return "UPnP HTTP server"

    def log(self, request: Any) -> None:
        """
        The access log: one debug line a request, only while the C{http}
        topic is on (C{--debug http}); off the hot path otherwise.
        """
        if enabled("http"):
            self._log.debug("{line}", line=self._logFormatter(self._logDateTime, request))

    def _ours(self, origin: bytes) -> bool:
        """
        Whether an Origin header is one of the device's own origins.
        """
        origin = origin.lower()
        if not origin.startswith(b"http://"):
            return False
        host = origin[len(b"http://"):]
        return host in self._hosts or (host[:1] == b"[" and _canonical_ipv6(host) in self._hosts)


def _source(request: IRequest) -> str:
    address = request.getClientAddress()
    return str(getattr(address, "host", address))


def _printable(value: bytes, limit: int = 80) -> str:
    """
    A peer's bytes fit for one log line: decoded, control characters
    escaped, cut at C{limit}.
    """
    text = value[:limit].decode("latin-1")
    text = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)
    return text + ("..." if len(value) > limit else "")


SERVER_BYTES = SERVER.encode("ascii")
# Methods that change nothing: no Origin check.
_SAFE = frozenset({b"GET", b"HEAD", b"OPTIONS"})


def _canonical_ipv6(host: bytes) -> bytes:
    """
    A Host header's bracketed IPv6 address in its canonical spelling, zone
    (C{%25eth0}) dropped: C{[FD00:0::1]:80} is C{[fd00::1]:80}.
    """
    inside, _, rest = host[1:].partition(b"]")
    try:
        text = inside.decode("ascii").split("%", 1)[0]
        canonical = ipaddress.IPv6Address(text).compressed
    except (UnicodeDecodeError, ValueError):
        return b""
    return b"[" + canonical.encode("ascii") + b"]" + rest


def _host_names(host: str, port: int) -> list[bytes]:
    """
    The Host header values that name C{host:port}: with the port, and
    without it where it is HTTP's default (RFC 7230 lets clients leave it out).
    """
    literal = f"[{host}]" if ":" in host else host
    names = [f"{literal}:{port}".encode("ascii")]
    if port == 80:
        names.append(literal.encode("ascii"))
    return names
