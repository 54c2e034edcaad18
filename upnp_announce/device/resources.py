"""
The fixed leaves of the device's HTTP tree: bytes rendered once, and fixed
answers (404, 403).
"""

from __future__ import annotations

from twisted.web import resource
from twisted.web.iweb import IRequest

from upnp_announce.wire.http import Leaf

__all__ = ["FOREIGN_ORIGIN", "NOT_FOUND", "REFUSED", "Fixed", "StaticBytes"]


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
FOREIGN_ORIGIN = Fixed(403, b"A request from another origin may not change this device.\n")
