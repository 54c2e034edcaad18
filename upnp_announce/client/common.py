"""
What the client's modules share: the one exception they raise, and the
liberal reading of what devices send.
"""

from __future__ import annotations

from twisted.web.http_headers import Headers

from upnp_announce import datatypes
from upnp_announce.wire.product import SERVER

__all__ = ["USER_AGENT", "ClientError", "NoAnswer", "Unreachable", "convert", "first_header"]

USER_AGENT = SERVER.encode("ascii")


class ClientError(Exception):
    """
    Something a device did (or did not do), in one sentence.
    """


class Unreachable(ClientError):
    """
    No connection to the device could be made at all (refused, no route,
    no such host): nothing was asked of it.
    """


class NoAnswer(ClientError):
    """
    The device took the request and gave no (whole) answer within the
    time.
    """


def convert(dataType: str | None, text: str) -> object:
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


def first_header(headers: Headers, name: bytes) -> str:
    values = headers.getRawHeaders(name)
    return values[0].decode("latin-1").strip() if values else ""
