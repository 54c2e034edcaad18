"""
Small twisted.web resources the device's HTTP tree is made of.
"""

from __future__ import annotations

from collections.abc import Sequence

from twisted.web import resource
from twisted.web.iweb import IRequest

__all__ = ["Fixed", "Leaf", "NOT_FOUND", "StaticBytes", "methodNotAllowed"]


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
            return NOT_FOUND.render(request)
        request.setHeader(b"content-type", self.contentType)
        # For HEAD, twisted.web sends the Content-Length and drops the body.
        return self.body


class Fixed(resource.Resource):
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


NOT_FOUND = Fixed(404, b"Not Found\n")
REFUSED = Fixed(403, b"The Host header must be one of this device's own addresses.\n")
