"""
GENA messages: SUBSCRIBE headers read into values, event bodies written and
read. Pure: no I/O, no logging.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from upnp_announce.datatypes import xml_escape
from upnp_announce.wire import xmlsafe

__all__ = [
    "EVENT_NS",
    "MAX_SEQ",
    "GENAError",
    "next_seq",
    "parse_callbacks",
    "parse_propertyset",
    "parse_timeout",
    "propertyset",
    "timeout_header",
]

EVENT_NS = "urn:schemas-upnp-org:event-1-0"
# SEQ is a 32-bit counter that wraps to 1, never to 0 (UDA 1.1 4.2.1).
MAX_SEQ = 4294967295

_CALLBACKS = re.compile(r"\s*<([^<>]*)>\s*")
_TIMEOUT = re.compile(r"second-([0-9]{1,10})\Z", re.IGNORECASE)


class GENAError(ValueError):
    """
    A GENA header or body that cannot be read.
    """


def next_seq(seq: int) -> int:
    """
    The SEQ after C{seq}.
    """
    return 1 if seq >= MAX_SEQ else seq + 1


def parse_callbacks(header: str) -> tuple[str, ...]:
    """
    C{"<url1><url2>"} as C{("url1", "url2")}.

    @raise GENAError: for anything but one or more bracketed URLs.
    """
    urls = []
    position = 0
    while position < len(header):
        match = _CALLBACKS.match(header, position)
        if match is None:
            if header[position:].strip():
                raise GENAError(f"CALLBACK {header[:60]!r} is not a list of <URL>s")
            break
        urls.append(match.group(1).strip())
        position = match.end()
    if not urls or not all(urls):
        raise GENAError(f"CALLBACK {header[:60]!r} holds no URL")
    return tuple(urls)


def timeout_header(seconds: int) -> bytes:
    """
    The TIMEOUT header value for C{seconds}: C{Second-N} (never a bare
    number, which real control points refuse).
    """
    return f"Second-{seconds}".encode("ascii")


def parse_timeout(header: str | None) -> int | None:
    """
    C{"Second-N"} as N; C{None} for no header or C{"Second-infinite"}.

    @raise GENAError: for anything else.
    """
    if header is None:
        return None
    text = header.strip()
    if text.lower() in ("second-infinite", "infinite"):
        return None
    match = _TIMEOUT.match(text)
    if match is None:
        raise GENAError(f"TIMEOUT {text[:40]!r} is not Second-N")
    return int(match.group(1))


def propertyset(values: Sequence[tuple[str, str]]) -> bytes:
    """
    An event body: C{e:propertyset} with one C{e:property} per variable.
    """
    parts = ['<?xml version="1.0" encoding="utf-8"?>\n', f'<e:propertyset xmlns:e="{EVENT_NS}">']
    for name, value in values:
        parts.append(f"<e:property><{name}>{xml_escape(value)}</{name}></e:property>")
    parts.append("</e:propertyset>\n")
    return "".join(parts).encode("utf-8")


def parse_propertyset(body: bytes) -> dict[str, str]:
    """
    The variables of an event body, by name, as text.

    @raise GENAError: for a body that is not a propertyset.
    """
    try:
        root = xmlsafe.parse(body, maxBytes=1 << 20, maxDepth=8)
    except xmlsafe.UnsafeXML as e:
        raise GENAError(str(e)) from None
    if root.tag != f"{{{EVENT_NS}}}propertyset":
        raise GENAError("the body is not an e:propertyset")
    values = {}
    for prop in root:
        if prop.tag != f"{{{EVENT_NS}}}property":
            continue
        for variable in prop:
            if isinstance(variable.tag, str):
                values[variable.tag.rpartition("}")[2]] = variable.text or ""
    return values
