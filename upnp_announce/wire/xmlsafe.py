"""
Parse XML that comes from outside (LAN peers, user files) without the known
traps: no DTD, no entities, no network, bounded size, depth and node count.

SOAP forbids a Document Type Declaration, and a UPnP description has no use
for one, so any DOCTYPE is refused outright; that closes XXE and entity
expansion whatever the parser would have done with it.
"""

from __future__ import annotations

from lxml import etree

__all__ = ["CONTENT_TYPE", "UnsafeXML", "local_name", "parse"]

# How every UPnP XML document goes over HTTP: descriptions, SOAP, GENA.
CONTENT_TYPE = b'text/xml; charset="utf-8"'


class UnsafeXML(ValueError):
    """
    The bytes are not well-formed XML, or break one of the limits.
    """


_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
)


def parse(
    data: bytes,
    *,
    maxBytes: int = 1 << 20,
    maxDepth: int = 32,
    maxElements: int = 20_000,
) -> etree._Element:
    """
    Parse C{data} to its root element.

    @raise UnsafeXML: on malformed XML, a DOCTYPE, or a broken limit.
    """
    if len(data) > maxBytes:
        raise UnsafeXML(f"the document is {len(data)} bytes; at most {maxBytes} allowed")
    # Without NULs, UTF-16 and UTF-32 spell it as UTF-8 does.
    if b"<!DOCTYPE" in (data.replace(b"\0", b"") if b"\0" in data else data):
        raise UnsafeXML("a document type declaration (DOCTYPE) is not allowed")
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as e:
        raise UnsafeXML(f"not well-formed XML: {e.msg}") from None
    if root is None:
        raise UnsafeXML("the document is empty")
    # (lxml-stubs do not know DocInfo.doctype.)
    if root.getroottree().docinfo.doctype:  # type: ignore[union-attr]
        raise UnsafeXML("a document type declaration (DOCTYPE) is not allowed")
    count = 0
    for _ in root.iter():
        count += 1
        if count > maxElements:
            raise UnsafeXML(f"more than {maxElements} elements")
    # (n nodes nest at most n deep: small documents need no walk.)
    if count > maxDepth and _depth(root) > maxDepth:
        raise UnsafeXML(f"elements are nested more than {maxDepth} deep")
    return root


def local_name(element: etree._Element) -> str:
    """
    An element's name without its namespace; C{""} for what is not an
    element (a comment, a processing instruction).
    """
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _depth(root: etree._Element) -> int:
    deepest = 0
    stack = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        if depth > deepest:
            deepest = depth
        if len(element):
            stack.extend((child, depth + 1) for child in element)
    return deepest
