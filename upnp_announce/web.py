"""
The HTTP side of a device: a twisted.web resource tree built from the model.

Descriptions, icons and presentation pages are rendered once to bytes
(L{description.render}) and served as they are; the tree is rebuilt only when
the device changes (L{DeviceSite.setDevice}).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from twisted.logger import Logger
from twisted.web import resource, server
from twisted.web.iweb import IRequest

from upnp_announce import description
from upnp_announce.model import Device
from upnp_announce.product import SERVER

__all__ = ["DeviceSite", "Leaf", "StaticBytes", "methodNotAllowed"]

XML = description.CONTENT_TYPE
HTML = b"text/html; charset=utf-8"
# Twisted's default keeps an idle connection for 12 hours; a LAN device
# should not let anyone hold its sockets that long.
IDLE_TIMEOUT = 60.0


def methodNotAllowed(request: IRequest, allowed: Sequence[bytes]) -> bytes:
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
            return methodNotAllowed(request, self.allowedMethods)
        handler = getattr(self, "render_" + method.decode("ascii").replace("-", "_"))
        return handler(request)  # type: ignore[no-any-return]


class StaticBytes(Leaf):
    """
    Fixed bytes, for GET and HEAD.
    """

    allowedMethods = (b"GET", b"HEAD")

    def __init__(self, body: bytes, contentType: bytes) -> None:
        super().__init__()
        self.body = body
        self.contentType = contentType

    def render_GET(self, request: IRequest) -> bytes:
        if request.postpath not in ([], [b""]):
            return _NOT_FOUND.render(request)
        request.setHeader(b"content-type", self.contentType)
        # For HEAD, twisted.web sends the Content-Length and drops the body.
        return self.body


class _Directory(resource.Resource):
    """
    An inner node of the tree: only its children exist.
    """

    def getChild(self, path: bytes, request: IRequest) -> resource.IResource:
        return _NOT_FOUND

    def render(self, request: IRequest) -> bytes:
        return _NOT_FOUND.render(request)


class _Fixed(resource.Resource):
    """
    A fixed plain-text answer with a status code, for any method and path.
    """

    isLeaf = True

    def __init__(self, code: int, text: bytes) -> None:
        super().__init__()
        self.code = code
        self.text = text

    def render(self, request: IRequest) -> bytes:
        request.setResponseCode(self.code)
        request.setHeader(b"content-type", b"text/plain; charset=utf-8")
        return self.text


_NOT_FOUND = _Fixed(404, b"Not Found\n")
_REFUSED = _Fixed(403, b"The Host header must be one of this device's own addresses.\n")


def buildTree(rendered: description.Descriptions, root: Device) -> resource.Resource:
    """
    The resource tree that serves C{rendered}.
    """
    tree = _Directory()
    entries: list[tuple[str, resource.Resource]] = [
        (path, StaticBytes(body, XML)) for path, body in rendered.documents.items()
    ]
    entries += [
        (path, StaticBytes(body, HTML)) for path, body in rendered.presentation.items()
    ]
    for device in root.allDevices():
        for index, icon in enumerate(device.icons):
            path = rendered.layout.icons[(device.UDN, index)]
            entries.append((path, StaticBytes(icon.data, icon.mimetype.encode("ascii"))))
    for path, leaf in entries:
        putResource(tree, path, leaf)
    return tree


def putResource(tree: resource.Resource, path: str, leaf: resource.Resource) -> None:
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
        self, device: Device, *, reactor: Any = None, timeout: float = IDLE_TIMEOUT
    ) -> None:
        """
        @param timeout: seconds an idle connection is kept open.
        @param reactor: an L{IReactorTime} for the connection timeouts.
        """
        self._hosts: set[bytes] = set()
        self.setDevice(device)
        super().__init__(
            self._tree, parsePOSTFormSubmission=False, timeout=timeout, reactor=reactor
        )
        self.noisy = False

    def setDevice(self, device: Device) -> None:
        """
        Serve C{device}: render its descriptions and rebuild the tree.
        """
        self.device = device
        self.descriptions = description.render(device)
        self._tree = buildTree(self.descriptions, device)
        self.resource = self._tree

    def putResource(self, path: str, leaf: resource.Resource) -> None:
        """
        Serve C{leaf} at C{path} as well (control and event URLs).
        """
        putResource(self._tree, path, leaf)

    def addAddress(self, host: str, port: int) -> None:
        """
        Accept requests whose Host is C{host:port}.
        """
        literal = f"[{host}]" if ":" in host else host
        self._hosts.add(f"{literal}:{port}".encode("ascii"))

    def removeAddress(self, host: str, port: int) -> None:
        literal = f"[{host}]" if ":" in host else host
        self._hosts.discard(f"{literal}:{port}".encode("ascii"))

    def getResourceFor(self, request: IRequest) -> resource.Resource:
        request.setHeader(b"server", SERVER_BYTES)
        host = request.getHeader(b"host")
        if host is not None and host.lower() not in self._hosts:
            self._log.debug(
                "Refused a request for {host!r}: not one of our addresses", host=host
            )
            return _REFUSED
        return super().getResourceFor(request)  # type: ignore[no-any-return]


SERVER_BYTES = SERVER.encode("ascii")
