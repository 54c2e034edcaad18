"""
GENA values: CALLBACK and TIMEOUT headers, event bodies, SEQ. Pure: plain
asserts and hypothesis.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from upnp_announce.datatypes import is_xml_text
from upnp_announce.wire import gena

EVENT = "{urn:schemas-upnp-org:event-1-0}"
PROPERTYSET = (
    b'<?xml version="1.0" encoding="utf-8"?>\n'
    b'<e:propertyset xmlns:e="urn:schemas-upnp-org:event-1-0">'
)


# -- parse_callbacks -----------------------------------------------------------


def test_one_callback() -> None:
    assert gena.parse_callbacks("<http://10.0.0.2:5000/notify>") == (
        "http://10.0.0.2:5000/notify",
    )


def test_several_callbacks_keep_their_order() -> None:
    assert gena.parse_callbacks("<http://a/1><http://b/2><http://c/3>") == (
        "http://a/1",
        "http://b/2",
        "http://c/3",
    )


def test_whitespace_around_and_between_callbacks_is_allowed() -> None:
    assert gena.parse_callbacks("  <http://a/1> \t <http://b/2>  ") == ("http://a/1", "http://b/2")
    # Whitespace inside the brackets is not part of the URL.
    assert gena.parse_callbacks("< http://a/1 >") == ("http://a/1",)


@pytest.mark.parametrize(
    "header",
    [
        "http://10.0.0.2/notify",
        "<http://10.0.0.2/notify> trailing",
        "leading <http://10.0.0.2/notify>",
        "<http://a/1>, <http://b/2>",
        "<http://a/1",
        "http://a/1>",
        "<http://a/<1>>",
        "",
        "   ",
    ],
)
def test_anything_outside_brackets_is_refused(header: str) -> None:
    with pytest.raises(gena.GENAError):
        gena.parse_callbacks(header)


@pytest.mark.parametrize("header", ["<>", "< >", "<http://a/1><>", "<>  <http://a/1>"])
def test_empty_brackets_are_refused(header: str) -> None:
    with pytest.raises(gena.GENAError):
        gena.parse_callbacks(header)


def test_the_error_quotes_the_start_of_the_header_only() -> None:
    with pytest.raises(gena.GENAError) as caught:
        gena.parse_callbacks("x" * 500)
    assert len(str(caught.value)) < 150


# -- parse_timeout -------------------------------------------------------------


@pytest.mark.parametrize(
    "header, seconds",
    [
        ("Second-1800", 1800),
        ("second-60", 60),
        ("SECOND-0", 0),
        ("SeCoNd-4294967295", 4294967295),
        ("  Second-300  ", 300),
        ("Second-9999999999", 9999999999),
    ],
)
def test_timeout_second_n_in_any_case(header: str, seconds: int) -> None:
    assert gena.parse_timeout(header) == seconds


@pytest.mark.parametrize("header", [None, "Second-infinite", "second-INFINITE", "infinite"])
def test_no_timeout_or_infinite_is_no_wish(header: str | None) -> None:
    assert gena.parse_timeout(header) is None


@pytest.mark.parametrize(
    "header",
    [
        "300",
        "Second-",
        "Second--1",
        "Second-+5",
        "Second-1.5",
        "Second-12abc",
        "Second- 5",
        "Seconds-5",
        "Second-99999999999",
        "Second-\u0665",
        "",
        "forever",
    ],
)
def test_timeout_garbage_is_refused(header: str) -> None:
    with pytest.raises(gena.GENAError):
        gena.parse_timeout(header)


# -- next_seq --------------------------------------------------------------------


def test_seq_counts_up_and_wraps_to_one_never_zero() -> None:
    assert gena.next_seq(0) == 1
    assert gena.next_seq(1) == 2
    assert gena.next_seq(4294967294) == 4294967295
    assert gena.MAX_SEQ == 4294967295
    assert gena.next_seq(4294967295) == 1


# -- propertyset ------------------------------------------------------------------


def test_propertyset_is_exactly_the_uda_body() -> None:
    body = gena.propertyset([("Status", "1"), ("Level", "50")])
    assert body == (
        PROPERTYSET
        + b"<e:property><Status>1</Status></e:property>"
        + b"<e:property><Level>50</Level></e:property>"
        + b"</e:propertyset>\n"
    )
    root = etree.fromstring(body)
    assert root.tag == EVENT + "propertyset"
    assert [p.tag for p in root] == [EVENT + "property"] * 2
    assert [p[0].tag for p in root] == ["Status", "Level"]


def test_empty_propertyset() -> None:
    body = gena.propertyset([])
    assert body == PROPERTYSET + b"</e:propertyset>\n"
    assert gena.parse_propertyset(body) == {}


def test_propertyset_escapes_markup_and_carriage_returns() -> None:
    body = gena.propertyset([("Text", "a<b & c>d\r\ne")])
    assert b"<Text>a&lt;b &amp; c&gt;d&#13;\ne</Text>" in body
    # An XML parser would turn a bare CR into LF; the reference keeps it.
    assert gena.parse_propertyset(body) == {"Text": "a<b & c>d\r\ne"}


def test_propertyset_replaces_characters_xml_cannot_carry() -> None:
    body = gena.propertyset([("Text", "a\x00b\x1bc\ud800d\uffffe")])
    assert gena.parse_propertyset(body) == {"Text": "a\ufffdb\ufffdc\ufffdd\ufffde"}


def test_propertyset_is_utf8() -> None:
    body = gena.propertyset([("Name", "Jambon \u00e0 l'\u00e9t\u00e9 \U0001f356")])
    assert "Jambon \u00e0 l'\u00e9t\u00e9 \U0001f356".encode() in body
    assert gena.parse_propertyset(body) == {"Name": "Jambon \u00e0 l'\u00e9t\u00e9 \U0001f356"}


# -- parse_propertyset --------------------------------------------------------------


def test_parse_propertyset_reads_every_property_and_empty_values() -> None:
    body = (
        PROPERTYSET
        + b"<e:property><A>1</A></e:property>"
        + b"<e:property><B/></e:property>"
        + b"<e:property><C>x</C><D>y</D></e:property>"
        + b"<other>ignored</other>"
        + b"</e:propertyset>"
    )
    assert gena.parse_propertyset(body) == {"A": "1", "B": "", "C": "x", "D": "y"}


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not xml",
        b"<propertyset/>",
        b'<e:propertyset xmlns:e="urn:schemas-upnp-org:event-2-0"/>',
        b"<e:propertyset xmlns:e='urn:schemas-upnp-org:event-1-0'>",
        b'<!DOCTYPE x [<!ENTITY a "b">]>'
        b'<e:propertyset xmlns:e="urn:schemas-upnp-org:event-1-0"/>',
        b'<e:propertyset xmlns:e="urn:schemas-upnp-org:event-1-0"><e:property><A>&a;</A>'
        b"</e:property></e:propertyset>",
        b'<e:propertyset xmlns:e="urn:schemas-upnp-org:event-1-0">' + b"<a>" * 20
        + b"</a>" * 20 + b"</e:propertyset>",
        b'<e:propertyset xmlns:e="urn:schemas-upnp-org:event-1-0">' + b" " * (1 << 20)
        + b"</e:propertyset>",
    ],
)
def test_parse_propertyset_refuses_what_is_not_one(body: bytes) -> None:
    with pytest.raises(gena.GENAError):
        gena.parse_propertyset(body)


def test_gena_error_is_a_value_error() -> None:
    assert issubclass(gena.GENAError, ValueError)


# -- properties --------------------------------------------------------------------

NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.\-]{0,24}", fullmatch=True)
TEXT = st.text(st.characters(blacklist_categories=("Cs",)).filter(is_xml_text), max_size=60)


@settings(database=None, deadline=None)
@given(st.dictionaries(NAMES, TEXT, max_size=8))
def test_propertyset_round_trips(values: dict[str, str]) -> None:
    body = gena.propertyset(list(values.items()))
    assert gena.parse_propertyset(body) == values


@settings(database=None, deadline=None)
@given(st.lists(st.tuples(NAMES, st.text(max_size=30)), max_size=6))
def test_propertyset_is_always_well_formed(values: list[tuple[str, str]]) -> None:
    # Any text at all, even with characters XML cannot carry.
    body = gena.propertyset(values)
    parsed = gena.parse_propertyset(body)
    assert set(parsed) == {name for name, _ in values}


@settings(database=None, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_raise_only_gena_error(body: bytes) -> None:
    try:
        result = gena.parse_propertyset(body)
    except gena.GENAError:
        return
    assert isinstance(result, dict)


FRAGMENTS = st.sampled_from(
    [
        b'<?xml version="1.0" encoding="utf-8"?>',
        b'<?xml version="1.0" encoding="bogus"?>',
        b'<e:propertyset xmlns:e="urn:schemas-upnp-org:event-1-0">',
        b"</e:propertyset>",
        b"<e:property>",
        b"</e:property>",
        b"<A>",
        b"</A>",
        b"<x:A>",
        b"<!DOCTYPE a>",
        b"<!-- c -->",
        b"<?pi x?>",
        b"&amp;",
        b"&#0;",
        b"&#13;",
        b"&undefined;",
        b"<![CDATA[<x>]]>",
        b"\x00",
        b"\xff\xfe",
        b"\xef\xbb\xbf",
        b"text",
    ]
)


@settings(database=None, deadline=None)
@given(st.lists(st.one_of(FRAGMENTS, st.binary(max_size=4)), max_size=14))
def test_xml_like_bytes_raise_only_gena_error(parts: list[bytes]) -> None:
    try:
        result = gena.parse_propertyset(b"".join(parts))
    except gena.GENAError:
        return
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in result.items())
