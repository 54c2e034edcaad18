"""
The device's HTTP site: a twisted.web resource tree built from the model,
behind a Host check.

Descriptions, icons and presentation pages are rendered once to bytes
(L{description.render}) and served as they are; the tree is rebuilt only when
the device changes (L{DeviceSite.setDevice}).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.web import resource, server
from twisted.web.iweb import IRequest

from upnp_announce.device.control import ControlResource
from upnp_announce.device.eventing import (
    EventResource,
    HTTPNotifier,
    Notifier,
    ServiceEventing,
)
from upnp_announce.device.presentation import presentation_page
from upnp_announce.device.resources import NOT_FOUND, REFUSED, StaticBytes
from upnp_announce.model import Device
from upnp_announce.settings import EventingSettings
from upnp_announce.wire import description
from upnp_announce.wire.http import MAX_BODY, CappedBody
from upnp_announce.wire.product import SERVER

__all__ = ["DeviceSite", "build_tree", "put_resource"]

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
    entries: list[tuple[str, resource.Resource]] = [
        (path, StaticBytes(body, XML)) for path, body in rendered.documents.items()
    ]
    entries += [
        (path, StaticBytes(presentation_page(device, rendered.layout), HTML))
        for device in root.allDevices()
        if (path := rendered.layout.presentation.get(device.UDN)) is not None
    ]
    for device in root.allDevices():
        for index, icon in enumerate(device.icons):
            path = rendered.layout.icons[(device.UDN, index)]
            entries.append((path, StaticBytes(icon.data, icon.mimetype.encode("ascii"))))
    for paths in rendered.layout.services:
        entries.append((paths.control, ControlResource(paths.service, clock)))
    entries += events.items()
    for path, leaf in entries:
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


class DeviceSite(server.Site):
    """
    The HTTP site of one root device.

    It refuses a request whose Host header is not one of our own
    C{address:port} pairs (DNS rebinding: a browser on the LAN must not be
    turned against the device by a name that resolves to it), and names
    itself in the Server header as SSDP does.
    """

    _log = Logger()

    def __init__(
        self,
        device: Device,
        *,
        reactor: Any = None,
        timeout: float = IDLE_TIMEOUT,
        eventing: EventingSettings = EventingSettings(),
        notifier: Notifier | None = None,
    ) -> None:
        """
        @param timeout: seconds an idle connection is kept open.
        @param reactor: an L{IReactorTime} for the connection timeouts and
            the actions' and events' timers (and an L{IReactorTCP} for
            NOTIFYs, unless C{notifier} is given).
        @param eventing: the GENA settings.
        @param notifier: sends NOTIFYs; by default an L{HTTPNotifier}.
        """
        if reactor is None:
            from twisted.internet import reactor
        self._clock: IReactorTime = reactor
        self._hosts: set[bytes] = set()
        self._networks: dict[str, ipaddress.IPv4Network | ipaddress.IPv6Network] = {}
        self.eventingSettings = eventing
        self.notifier = notifier if notifier is not None else HTTPNotifier(reactor, eventing)
        self.eventing: dict[str, ServiceEventing] = {}
        self.setDevice(device)
        super().__init__(
            self.resource, parsePOSTFormSubmission=False, timeout=timeout, reactor=reactor
        )
        self.noisy = False

    def setDevice(self, device: Device) -> None:
        """
        Serve C{device}: render its descriptions and rebuild the tree.
        """
        self.stopEventing()
        self.device = device
        self.descriptions = description.render(device)
        self.startEventing()

    def startEventing(self) -> None:
        """
        Watch the providers and take subscriptions (again, after
        L{stopEventing}): the tree is rebuilt with fresh eventing; the
        descriptions are not rendered again.
        """
        if self.eventing:
            return
        self.eventing = {
            paths.event: ServiceEventing(
                paths.service, self.eventingSettings, self._clock, self.notifier
            )
            for paths in self.descriptions.layout.services
            if description.evented(paths.service)
        }
        events = {
            path: EventResource(eventing, self._networks)
            for path, eventing in self.eventing.items()
        }
        self.resource = build_tree(self.descriptions, self.device, self._clock, events)

    def stopEventing(self) -> None:
        """
        Drop every subscription and stop watching the providers.
        """
        for eventing in self.eventing.values():
            eventing.stop()
        self.eventing = {}

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
            self._hosts.add(name)
        if network is not None:
            self._networks[host] = network

    def removeAddress(self, host: str, port: int) -> None:
        for name in _host_names(host, port):
            self._hosts.discard(name)
        self._networks.pop(host, None)

    def getResourceFor(self, request: IRequest) -> resource.Resource:
        request.setHeader(b"server", SERVER_BYTES)
        host = request.getHeader(b"host")
        if host is not None and host.lower() not in self._hosts and not (
            host[:1] == b"[" and _canonical_ipv6(host) in self._hosts
        ):
            self._log.debug(
                "Refused a request for {host!r}: not one of our addresses", host=host
            )
            return REFUSED
        return super().getResourceFor(request)  # type: ignore[no-any-return]


SERVER_BYTES = SERVER.encode("ascii")


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
