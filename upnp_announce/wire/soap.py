"""
SOAP envelopes of UPnP control: requests read into frozen values, responses
and faults written to bytes. Pure: no I/O, no logging.

What we write is shaped for the strictest control points: the envelope
declares the SOAP namespace first, and the fault's C{UPnPError} element is
unprefixed in the control namespace (upnpclient reads it by its qualified
name).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

from lxml import etree

from upnp_announce.datatypes import xml_escape
from upnp_announce.wire import xmlsafe

__all__ = [
    "CONTROL_NS",
    "ENVELOPE_NS",
    "SOAPError",
    "SOAPRequest",
    "UPnPError",
    "SOAPAnswer",
    "fault",
    "parse_answer",
    "parse_request",
    "request",
    "response",
]

ENVELOPE_NS = "http://schemas.xmlsoap.org/soap/envelope/"
ENCODING = "http://schemas.xmlsoap.org/soap/encoding/"
CONTROL_NS = "urn:schemas-upnp-org:control-1-0"

# UDA 1.1 3.2.2, and UDA 1.0's 404 for QueryStateVariable.
ERROR_DESCRIPTIONS = {
    401: "Invalid Action",
    402: "Invalid Args",
    404: "Invalid Var",
    501: "Action Failed",
    600: "Argument Value Invalid",
    601: "Argument Value Out of Range",
    602: "Optional Action Not Implemented",
    603: "Out of Memory",
    604: "Human Intervention Required",
    605: "String Argument Too Long",
}


class UPnPError(Exception):
    """
    A UPnP fault: raise it from an action to answer with C{code}; the
    control-point side raises it for a fault a device sent.

    @ivar code: the errorCode (401, 402, 501, 600..., 7xx, 8xx).
    @ivar description: the errorDescription.
    """

    def __init__(self, code: int, description: str | None = None) -> None:
        self.code = code
        self.description = (
            description if description is not None else ERROR_DESCRIPTIONS.get(code, "Error")
        )
        super().__init__(code, self.description)

    def __str__(self) -> str:
        return f"UPnP error {self.code}: {self.description}"


class SOAPError(ValueError):
    """
    The body is not a SOAP envelope holding one action call.
    """


@dataclass(frozen=True)
class SOAPRequest:
    """
    An action call: the action element's namespace (the serviceType) and
    local name, and its children as (local name, text) pairs, in order.
    """

    namespace: str | None
    action: str
    arguments: tuple[tuple[str, str], ...]


def parse_request(body: bytes, *, maxBytes: int = 65536) -> SOAPRequest:
    """
    Read an action call from a SOAP envelope.

    @raise SOAPError: for anything else, including a DOCTYPE or a body over
        the limits.
    """
    try:
        root = xmlsafe.parse(body, maxBytes=maxBytes, maxDepth=16, maxElements=2000)
    except xmlsafe.UnsafeXML as e:
        raise SOAPError(str(e)) from None
    if root.tag != _ENVELOPE:
        raise SOAPError("the root element is not a SOAP Envelope")
    bodies = [c for c in root if c.tag == _BODY]
    if len(bodies) != 1:
        raise SOAPError("the Envelope has no Body, or more than one")
    calls = [c for c in bodies[0] if isinstance(c.tag, str)]
    if len(calls) != 1:
        raise SOAPError("the Body does not hold exactly one action element")
    call = calls[0]
    namespace, action = _name(call.tag)
    arguments = []
    for child in call:
        tag = child.tag
        if not isinstance(tag, str):
            continue
        if len(child):
            raise SOAPError(f"argument {_name(tag)[1]!r} has child elements")
        arguments.append((_name(tag)[1], child.text or ""))
    return SOAPRequest(namespace, action, tuple(arguments))


_ENVELOPE = f"{{{ENVELOPE_NS}}}Envelope"
_BODY = f"{{{ENVELOPE_NS}}}Body"


def _name(tag: str) -> tuple[str | None, str]:
    """
    An element's namespace and local name, from lxml's C{{ns}local} tag
    (as etree.QName reads it, without building one).
    """
    if tag[:1] == "{":
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return None, tag


_HEAD = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    f'<s:Envelope xmlns:s="{ENVELOPE_NS}" s:encodingStyle="{ENCODING}">'
    "<s:Body>"
)
_TAIL = "</s:Body></s:Envelope>\n"


def _envelope(namespace: str, element: str, arguments: Sequence[tuple[str, str]]) -> bytes:
    key = tuple(arguments)
    if sum(len(value) for _, value in key) <= _KEEP_VALUES:
        # The same answer comes again and again (GetStatus while nothing
        # changes): serialised once.
        return _kept_envelope(namespace, element, key)
    return _serialise_envelope(namespace, element, key)


# Envelopes are kept only when their values are this short at most.
_KEEP_VALUES = 1024


@functools.lru_cache(maxsize=256)
def _kept_envelope(namespace: str, element: str, arguments: tuple[tuple[str, str], ...]) -> bytes:
    return _serialise_envelope(namespace, element, arguments)


def _serialise_envelope(
    namespace: str, element: str, arguments: Sequence[tuple[str, str]]
) -> bytes:
    parts = [_HEAD, f"<u:{element} xmlns:u={quoteattr(namespace)}>"]
    parts.extend(f"<{name}>{xml_escape(value)}</{name}>" for name, value in arguments)
    parts.append(f"</u:{element}>")
    parts.append(_TAIL)
    return "".join(parts).encode("utf-8")


def response(namespace: str, action: str, arguments: Sequence[tuple[str, str]]) -> bytes:
    """
    The C{u:ActionResponse} envelope with the out-arguments, in order.
    """
    return _envelope(namespace, action + "Response", arguments)


def fault(code: int, description: str) -> bytes:
    """
    The UPnP fault envelope (sent with HTTP status 500).
    """
    return "".join(
        [
            _HEAD,
            "<s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring>",
            f'<detail><UPnPError xmlns="{CONTROL_NS}">',
            f"<errorCode>{code}</errorCode>",
            f"<errorDescription>{xml_escape(description)}</errorDescription>",
            "</UPnPError></detail></s:Fault>",
            _TAIL,
        ]
    ).encode("utf-8")


# -- the control point's side -------------------------------------------------------


def request(namespace: str, action: str, arguments: Sequence[tuple[str, str]]) -> bytes:
    """
    The envelope that calls C{action} of the service type C{namespace}.
    """
    return _envelope(namespace, action, arguments)


@dataclass(frozen=True)
class SOAPAnswer:
    """
    A device's answer to an action: C{ActionResponse}'s children as
    (local name, text) pairs, in order.
    """

    action: str
    arguments: tuple[tuple[str, str], ...]


def parse_answer(body: bytes, *, maxBytes: int = 1 << 20) -> SOAPAnswer:
    """
    Read a device's answer: a response, or a fault.

    Liberal in the prefixes and namespaces it takes.

    @raise UPnPError: for a UPnP fault.
    @raise SOAPError: for anything that is neither.
    """
    try:
        root = xmlsafe.parse(body, maxBytes=maxBytes, maxDepth=16, maxElements=20000)
    except xmlsafe.UnsafeXML as e:
        raise SOAPError(str(e)) from None
    if etree.QName(root).localname != "Envelope":
        raise SOAPError("the answer is not a SOAP Envelope")
    bodies = [c for c in root if isinstance(c.tag, str) and etree.QName(c).localname == "Body"]
    if len(bodies) != 1:
        raise SOAPError("the Envelope has no Body, or more than one")
    calls = [c for c in bodies[0] if isinstance(c.tag, str)]
    if len(calls) != 1:
        raise SOAPError("the Body does not hold exactly one element")
    answer = calls[0]
    name = etree.QName(answer).localname
    if name == "Fault":
        raise _fault(answer)
    if not name.endswith("Response"):
        raise SOAPError(f"the Body holds {name}, not a response")
    arguments = tuple(
        (etree.QName(child).localname, child.text or "")
        for child in answer
        if isinstance(child.tag, str)
    )
    return SOAPAnswer(name[: -len("Response")], arguments)


def _fault(element: etree._Element) -> Exception:
    for child in element.iter():
        if isinstance(child.tag, str) and etree.QName(child).localname == "UPnPError":
            texts = {
                etree.QName(c).localname: (c.text or "").strip()
                for c in child
                if isinstance(c.tag, str)
            }
            code = texts.get("errorCode", "")
            if code.isdigit():
                return UPnPError(int(code), texts.get("errorDescription") or None)
    return SOAPError("a SOAP fault without a UPnPError detail")
