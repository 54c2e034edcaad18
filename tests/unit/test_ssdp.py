"""
Tests for upnp_announce.wire.ssdp's messages: datagrams to values and back.

Liberal in what it reads, strict in what it writes, and a malformed datagram
raises SSDPParseError and nothing else.
"""

from __future__ import annotations

import email.utils
from typing import TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from upnp_announce.wire import ssdp
from upnp_announce.wire.ssdp import (
    MSearch,
    Notify,
    SearchResponse,
    SSDPParseError,
    alive,
    byebye,
    http_date,
    msearch,
    parse,
    search_response,
)

# No example database: the tests leave nothing behind in the tree.
quick = settings(database=None, deadline=None)

UDN = "uuid:e427ce1a-3e80-43d0-ad6f-89ec42e46363"
BASIC = "urn:schemas-upnp-org:device:Basic:1"
LOCATION = "http://192.168.1.20:49152/description.xml"
SERVER = "Linux/6.8 UPnP/1.1 upnp-announce/1.0"
DATE = "Thu, 01 Jan 1970 00:00:00 GMT"

MSEARCH = (
    b"M-SEARCH * HTTP/1.1\r\n"
    b"HOST: 239.255.255.250:1900\r\n"
    b'MAN: "ssdp:discover"\r\n'
    b"MX: 3\r\n"
    b"ST: ssdp:all\r\n"
    b"\r\n"
)
ALIVE = (
    b"NOTIFY * HTTP/1.1\r\n"
    b"HOST: 239.255.255.250:1900\r\n"
    b"CACHE-CONTROL: max-age=1800\r\n"
    b"LOCATION: http://192.168.1.20:49152/description.xml\r\n"
    b"NT: upnp:rootdevice\r\n"
    b"NTS: ssdp:alive\r\n"
    b"SERVER: Linux/6.8 UPnP/1.1 upnp-announce/1.0\r\n"
    b"USN: uuid:e427ce1a-3e80-43d0-ad6f-89ec42e46363::upnp:rootdevice\r\n"
    b"BOOTID.UPNP.ORG: 7\r\n"
    b"CONFIGID.UPNP.ORG: 42\r\n"
    b"\r\n"
)
BYEBYE = (
    b"NOTIFY * HTTP/1.1\r\n"
    b"HOST: 239.255.255.250:1900\r\n"
    b"NT: upnp:rootdevice\r\n"
    b"NTS: ssdp:byebye\r\n"
    b"USN: uuid:e427ce1a-3e80-43d0-ad6f-89ec42e46363::upnp:rootdevice\r\n"
    b"BOOTID.UPNP.ORG: 7\r\n"
    b"CONFIGID.UPNP.ORG: 42\r\n"
    b"\r\n"
)
RESPONSE = (
    b"HTTP/1.1 200 OK\r\n"
    b"CACHE-CONTROL: max-age=1800\r\n"
    b"DATE: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
    b"EXT:\r\n"
    b"LOCATION: http://192.168.1.20:49152/description.xml\r\n"
    b"SERVER: Linux/6.8 UPnP/1.1 upnp-announce/1.0\r\n"
    b"ST: urn:schemas-upnp-org:device:Basic:1\r\n"
    b"USN: uuid:e427ce1a-3e80-43d0-ad6f-89ec42e46363::urn:schemas-upnp-org:device:Basic:1\r\n"
    b"BOOTID.UPNP.ORG: 7\r\n"
    b"CONFIGID.UPNP.ORG: 42\r\n"
    b"\r\n"
)
VALID = [MSEARCH, ALIVE, BYEBYE, RESPONSE]


def names(message: MSearch | Notify | SearchResponse) -> list[str]:
    return list(message.headers)


Message = TypeVar("Message", MSearch, Notify, SearchResponse)


def parsed(kind: type[Message], data: bytes) -> Message:
    """
    Parse C{data}, which must give a value of exactly this kind.
    """
    message = parse(data)
    assert isinstance(message, kind)
    assert type(message) is kind
    return message


def parsedOrRefused(data: bytes) -> None:
    """
    The only two outcomes allowed for any datagram: a value, or
    SSDPParseError.  Anything else propagates and fails the test.
    """
    try:
        result = parse(data)
    except SSDPParseError:
        return
    assert type(result) in (MSearch, Notify, SearchResponse)


# --- Reading -----------------------------------------------------------------


def test_parse_msearch() -> None:
    m = parsed(MSearch, MSEARCH)
    assert type(m) is MSearch
    assert (m.host, m.man, m.mx, m.st) == (
        "239.255.255.250:1900",
        '"ssdp:discover"',
        3,
        "ssdp:all",
    )
    assert m.isDiscover is True
    assert m.headers == {
        "host": "239.255.255.250:1900",
        "man": '"ssdp:discover"',
        "mx": "3",
        "st": "ssdp:all",
    }


def test_parse_notify_alive() -> None:
    n = parsed(Notify, ALIVE)
    assert n == Notify(
        {},
        nt="upnp:rootdevice",
        nts="ssdp:alive",
        usn=f"{UDN}::upnp:rootdevice",
        location=LOCATION,
        maxAge=1800,
    )
    assert n.header("SERVER") == SERVER
    assert n.header("bootid.upnp.org") == "7"
    assert n.header("ConfigId.UPnP.org") == "42"
    assert n.header("NEXTBOOTID.UPNP.ORG") is None


def test_parse_notify_byebye() -> None:
    n = parsed(Notify, BYEBYE)
    assert n == Notify(
        {},
        nt="upnp:rootdevice",
        nts="ssdp:byebye",
        usn=f"{UDN}::upnp:rootdevice",
        location=None,
        maxAge=None,
    )


def test_parse_search_response() -> None:
    r = parsed(SearchResponse, RESPONSE)
    assert r == SearchResponse(
        {},
        st=BASIC,
        usn=f"{UDN}::{BASIC}",
        location=LOCATION,
        maxAge=1800,
    )
    assert r.header("EXT") == ""
    assert r.header("DATE") == DATE


def test_parse_search_response_http_1_0_and_no_reason() -> None:
    for start in (b"HTTP/1.0 200 OK", b"HTTP/1.1 200", b"http/1.1 200 ok"):
        r = parsed(SearchResponse, RESPONSE.replace(b"HTTP/1.1 200 OK", start))
        assert type(r) is SearchResponse
        assert r.st == BASIC


def test_bare_lf_reads_like_crlf() -> None:
    for data in VALID:
        assert parse(data.replace(b"\r\n", b"\n")) == parse(data)
        assert parse(data.replace(b"\r\n", b"\n")).headers == parse(data).headers


def test_header_names_in_any_case() -> None:
    data = (
        b"M-SEARCH * HTTP/1.1\r\n"
        b"host: 239.255.255.250:1900\r\n"
        b'Man: "ssdp:discover"\r\n'
        b"mX: 2\r\n"
        b"sT: upnp:rootdevice\r\n"
        b"\r\n"
    )
    m = parsed(MSearch, data)
    assert (m.host, m.man, m.mx, m.st) == (
        "239.255.255.250:1900",
        '"ssdp:discover"',
        2,
        "upnp:rootdevice",
    )
    assert m.header("HOST") == m.header("host") == "239.255.255.250:1900"


def test_no_space_after_colon_and_whitespace_around_values() -> None:
    data = (
        b"NOTIFY * HTTP/1.1\r\n"
        b"HOST:239.255.255.250:1900\r\n"
        b"CACHE-CONTROL:   max-age = 1800  \r\n"
        b"LOCATION:\thttp://192.168.1.20:49152/description.xml \t\r\n"
        b"NT:upnp:rootdevice\r\n"
        b"NTS :  ssdp:alive\r\n"
        b"USN:uuid:e427ce1a-3e80-43d0-ad6f-89ec42e46363::upnp:rootdevice   \r\n"
        b"\r\n"
    )
    n = parsed(Notify, data)
    assert (n.nt, n.nts, n.usn, n.location, n.maxAge) == (
        "upnp:rootdevice",
        "ssdp:alive",
        f"{UDN}::upnp:rootdevice",
        LOCATION,
        1800,
    )
    assert n.header("host") == "239.255.255.250:1900"


def test_repeated_headers_first_wins() -> None:
    data = (
        b"M-SEARCH * HTTP/1.1\r\n"
        b"HOST: 239.255.255.250:1900\r\n"
        b'MAN: "ssdp:discover"\r\n'
        b"MX: 1\r\n"
        b"ST: upnp:rootdevice\r\n"
        b"mx: abc\r\n"
        b"St: ssdp:all\r\n"
        b"\r\n"
    )
    m = parsed(MSearch, data)
    assert (m.mx, m.st) == (1, "upnp:rootdevice")
    assert m.headers["st"] == "upnp:rootdevice"


def test_mx_absent_is_none_and_mx_values() -> None:
    unicast = parsed(MSearch, MSEARCH.replace(b"MX: 3\r\n", b""))
    assert unicast.mx is None
    assert "mx" not in unicast.headers
    for text, value in [(b"0", 0), (b"5", 5), (b" 120 ", 120), (b"0003", 3), (b"9999999999", 9999999999)]:
        assert parsed(MSearch, MSEARCH.replace(b"MX: 3", b"MX:" + text)).mx == value


def test_cache_control_forms() -> None:
    for text, value in [
        (b"max-age=1800", 1800),
        (b"MAX-AGE=100", 100),
        (b"no-cache, max-age=60", 60),
        (b"max-age=abc, max-age=5", 5),
        (b"max-age = 0", 0),
    ]:
        data = ALIVE.replace(b"max-age=1800", text)
        assert parsed(Notify, data).maxAge == value
        assert parsed(SearchResponse, RESPONSE.replace(b"max-age=1800", text)).maxAge == value


def test_body_after_blank_line_ignored() -> None:
    m = parsed(MSearch, MSEARCH + b"ST: other\r\n\xff\xfe binary body")
    assert m.st == "ssdp:all"
    m = parsed(MSearch, MSEARCH.replace(b"\r\n", b"\n") + b"garbage without colon\n")
    assert m.st == "ssdp:all"


def test_msearch_is_discover() -> None:
    for man, expected in [
        (b'"ssdp:discover"', True),
        (b"ssdp:discover", True),
        (b'"SSDP:Discover"', True),
        (b"SSDP:DISCOVER", True),
        (b'  "ssdp:discover"  ', True),
        (b'"ssdp:discovery"', False),
        (b"ssdp:alive", False),
        (b'"ssdp:all"', False),
        (b"discover", False),
        (b'""', False),
        (b"", False),
    ]:
        m = parsed(MSearch, MSEARCH.replace(b'"ssdp:discover"', man))
        assert type(m) is MSearch
        assert m.isDiscover is expected, man
    absent = parsed(MSearch, MSEARCH.replace(b'MAN: "ssdp:discover"\r\n', b""))
    assert absent.man is None
    assert absent.isDiscover is False


def test_msearch_value_is_discover_without_parse() -> None:
    assert MSearch({}, man='"ssdp:discover"', st="ssdp:all").isDiscover is True
    assert MSearch({}, st="ssdp:all").isDiscover is False


def test_header_lookup_is_case_insensitive_and_values_are_frozen() -> None:
    m = parsed(MSearch, MSEARCH)
    assert m.header("St") == "ssdp:all"
    assert m.header("missing") is None
    with pytest.raises(AttributeError):
        m.st = "other"  # type: ignore[misc]


# --- Refusing ----------------------------------------------------------------


def without(data: bytes, name: bytes) -> bytes:
    lines = data.split(b"\r\n")
    kept = [line for line in lines if not line.upper().startswith(name + b":")]
    assert len(kept) == len(lines) - 1, name
    return b"\r\n".join(kept)


MALFORMED = [
    pytest.param(MSEARCH.replace(b"MX: 3", b"MX: -1"), id="mx-negative"),
    pytest.param(MSEARCH.replace(b"MX: 3", b"MX: abc"), id="mx-letters"),
    pytest.param(MSEARCH.replace(b"MX: 3", b"MX: 1.5"), id="mx-fraction"),
    pytest.param(MSEARCH.replace(b"MX: 3", b"MX: +3"), id="mx-plus"),
    pytest.param(MSEARCH.replace(b"MX: 3", b"MX:"), id="mx-empty"),
    pytest.param(MSEARCH.replace(b"MX: 3", b"MX: 3 3"), id="mx-two-numbers"),
    pytest.param(MSEARCH.replace(b"MX: 3", b"MX: 0x3"), id="mx-hex"),
    pytest.param(MSEARCH.replace(b"MX: 3", b"MX: 99999999999"), id="mx-eleven-digits"),
    pytest.param(MSEARCH.replace(b"MX: 3", "MX: \uff13".encode()), id="mx-fullwidth-digit"),
    pytest.param(MSEARCH.replace(b"MX: 3", "MX: \u0663".encode()), id="mx-arabic-digit"),
    pytest.param(MSEARCH.replace(b"MX: 3", b"MX 3"), id="no-colon"),
    pytest.param(MSEARCH.replace(b"MX: 3", b": 3"), id="empty-header-name"),
    pytest.param(MSEARCH.replace(b"MX: 3", b"M X: 3"), id="space-in-header-name"),
    pytest.param(MSEARCH.replace(b"MX: 3", "MÄ: 3".encode()), id="non-ascii-header-name"),
    pytest.param(
        MSEARCH.replace(b"ST: ssdp:all", b"ST: " + b"a" * 65536), id="64-kb"
    ),
    pytest.param(b"M-SEARCH * HTTP/1.1\r\n" + b"X: y\r\n" * 70 + b"ST: ssdp:all\r\n\r\n", id="70-headers"),
    pytest.param(bytes(range(256)), id="binary"),
    pytest.param(MSEARCH.replace(b"ssdp:all", b"ssdp:\xff\xfeall"), id="non-utf-8-value"),
    pytest.param(b"\xff\xfe" + MSEARCH, id="non-utf-8-start"),
    pytest.param(b"", id="empty"),
    pytest.param(b"\r\n\r\n", id="blank"),
    pytest.param(b"M-SEARCH * HTTP/1.1\r\n\r\n", id="only-msearch-start-line"),
    pytest.param(b"NOTIFY * HTTP/1.1\r\n\r\n", id="only-notify-start-line"),
    pytest.param(b"HTTP/1.1 200 OK\r\n\r\n", id="only-response-start-line"),
    pytest.param(b"M-SEARCH * HTTP/1.1", id="start-line-no-crlf"),
    pytest.param(without(MSEARCH, b"ST"), id="msearch-no-st"),
    pytest.param(MSEARCH.replace(b"ST: ssdp:all", b"ST:"), id="msearch-empty-st"),
    pytest.param(MSEARCH.replace(b"ST: ssdp:all", b"ST:    "), id="msearch-blank-st"),
    pytest.param(without(ALIVE, b"NT"), id="notify-no-nt"),
    pytest.param(without(ALIVE, b"NTS"), id="notify-no-nts"),
    pytest.param(without(ALIVE, b"USN"), id="notify-no-usn"),
    pytest.param(without(BYEBYE, b"USN"), id="byebye-no-usn"),
    pytest.param(without(RESPONSE, b"ST"), id="response-no-st"),
    pytest.param(without(RESPONSE, b"USN"), id="response-no-usn"),
    pytest.param(without(RESPONSE, b"LOCATION"), id="response-no-location"),
    pytest.param(ALIVE.replace(b"max-age=1800", b"no-cache"), id="notify-no-max-age"),
    pytest.param(ALIVE.replace(b"max-age=1800", b""), id="notify-empty-cache-control"),
    pytest.param(ALIVE.replace(b"max-age=1800", b"max-age=-1"), id="notify-negative-max-age"),
    pytest.param(ALIVE.replace(b"max-age=1800", b"max-age="), id="notify-max-age-no-value"),
    pytest.param(ALIVE.replace(b"max-age=1800", b"max-age=18.5"), id="notify-max-age-fraction"),
    pytest.param(RESPONSE.replace(b"max-age=1800", b"public"), id="response-no-max-age"),
    pytest.param(RESPONSE.replace(b"max-age=1800", b"max-age=1800x"), id="response-max-age-junk"),
    pytest.param(MSEARCH.replace(b"M-SEARCH * HTTP/1.1", b"M-SEARCH / HTTP/1.1"), id="msearch-slash"),
    pytest.param(MSEARCH.replace(b"M-SEARCH * HTTP/1.1", b"M-SEARCH *"), id="msearch-no-version"),
    pytest.param(MSEARCH.replace(b"M-SEARCH * HTTP/1.1", b"M-SEARCH * HTTP/2.0"), id="msearch-http2"),
    pytest.param(MSEARCH.replace(b"M-SEARCH * HTTP/1.1", b"M-SEARCH * HTTP/1.1 x"), id="msearch-4-parts"),
    pytest.param(MSEARCH.replace(b"M-SEARCH * HTTP/1.1", b"M-SEARCH"), id="msearch-method-only"),
    pytest.param(ALIVE.replace(b"NOTIFY * HTTP/1.1", b"NOTIFY / HTTP/1.1"), id="notify-slash"),
    pytest.param(MSEARCH.replace(b"M-SEARCH * HTTP/1.1", b"GET / HTTP/1.1"), id="get"),
    pytest.param(MSEARCH.replace(b"M-SEARCH * HTTP/1.1", b"SEARCH * HTTP/1.1"), id="search"),
    pytest.param(RESPONSE.replace(b"HTTP/1.1 200 OK", b"HTTP/1.1 404 Not Found"), id="404"),
    pytest.param(RESPONSE.replace(b"HTTP/1.1 200 OK", b"HTTP/1.1 2000 OK"), id="2000"),
    pytest.param(RESPONSE.replace(b"HTTP/1.1 200 OK", b"HTTP/2 200 OK"), id="http2-200"),
    pytest.param(RESPONSE.replace(b"HTTP/1.1 200 OK", b""), id="response-no-start-line"),
]


@pytest.mark.parametrize("data", MALFORMED)
def test_malformed_raises_parse_error(data: bytes) -> None:
    with pytest.raises(SSDPParseError) as excinfo:
        parse(data)
    assert type(excinfo.value) is SSDPParseError
    assert str(excinfo.value)


def test_parse_error_is_a_value_error() -> None:
    assert issubclass(SSDPParseError, ValueError)
    assert "SSDPParseError" in ssdp.__all__


def test_truncation_at_every_position() -> None:
    outcomes: set[str] = set()
    for data in VALID:
        for end in range(len(data) + 1):
            try:
                outcomes.add(type(parse(data[:end])).__name__)
            except SSDPParseError:
                outcomes.add("error")
        # Losing the final blank line changes nothing.
        assert parse(data[:-4]) == parse(data)
        assert parse(data[:-2]) == parse(data)
    assert outcomes == {"error", "MSearch", "Notify", "SearchResponse"}


def test_truncation_at_every_position_bare_lf() -> None:
    for data in VALID:
        data = data.replace(b"\r\n", b"\n")
        for end in range(len(data) + 1):
            parsedOrRefused(data[:end])


@quick
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_value_or_parse_error(data: bytes) -> None:
    parsedOrRefused(data)


@quick
@given(st.binary(max_size=400))
def test_valid_start_line_then_arbitrary_bytes(tail: bytes) -> None:
    for start in (b"M-SEARCH * HTTP/1.1\r\n", b"NOTIFY * HTTP/1.1\r\n", b"HTTP/1.1 200 OK\r\n"):
        parsedOrRefused(start + tail)


INTERESTING = [
    b":", b"\r", b"\n", b"\r\n", b"\r\n\r\n", b"\n\n", b" ", b"\t", b"\x00", b"\xff",
    b"\xc3", b"-", b"=", b",", b"0", b"9", b'"', b"*", b"MX: -1\r\n", b"max-age=",
    "\u00e9".encode(), "\uff13".encode(), b"\x0b", b"\x0c", b"\x1c", "\x85".encode(),
]


@st.composite
def mutated_datagrams(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(VALID)))
    chunks = st.sampled_from(INTERESTING) | st.binary(min_size=1, max_size=6)
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["insert", "delete", "replace", "truncate"]))
        pos = draw(st.integers(0, len(data)))
        if op == "insert":
            data[pos:pos] = draw(chunks)
        elif op == "delete":
            data[pos : pos + draw(st.integers(1, 8))] = b""
        elif op == "replace":
            chunk = draw(chunks)
            data[pos : pos + len(chunk)] = chunk
        else:
            del data[pos:]
    return bytes(data)


@quick
@given(mutated_datagrams())
def test_mutated_datagram_value_or_parse_error(data: bytes) -> None:
    parsedOrRefused(data)


@quick
@given(data=st.sampled_from(VALID), pos=st.integers(0, 500), byte=st.integers(0, 255))
def test_one_byte_replaced_value_or_parse_error(data: bytes, pos: int, byte: int) -> None:
    pos %= len(data)
    parsedOrRefused(data[:pos] + bytes([byte]) + data[pos + 1 :])


@quick
@given(
    data=st.sampled_from(VALID),
    line=st.integers(0, 20),
    value=st.text(max_size=40).map(lambda t: t.replace("\r", "").replace("\n", "")),
)
def test_any_header_value_value_or_parse_error(data: bytes, line: int, value: str) -> None:
    # Replace the value of one header line (or the start line) by anything.
    lines = data.split(b"\r\n")[:-2]
    line %= len(lines)
    name = lines[line].partition(b":")[0] if line else b""
    lines[line] = (name + b":" if line else b"") + value.encode("utf-8", "surrogatepass")
    parsedOrRefused(b"\r\n".join(lines) + b"\r\n\r\n")


@quick
@given(st.text(max_size=20).map(lambda t: t.replace("\r", "").replace("\n", "")))
def test_mx_is_a_whole_number_or_refused(text: str) -> None:
    data = MSEARCH.replace(b"MX: 3", b"MX:" + text.encode("utf-8", "surrogatepass"))
    stripped = text.strip()
    if stripped and len(stripped) <= 10 and all(c in "0123456789" for c in stripped):
        assert parsed(MSearch, data).mx == int(stripped)
    else:
        with pytest.raises(SSDPParseError):
            parse(data)


# Header values as a control point or a device could send them: printable,
# no CR/LF, no surrounding whitespace (which the reader strips).
values = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0x2FF, exclude_characters="\x7f\x85\xa0"),
    min_size=1,
    max_size=60,
).filter(lambda s: s == s.strip())


@quick
@given(
    stValue=values,
    mx=st.integers(0, 9_999_999_999),
    names=st.lists(st.booleans(), min_size=4, max_size=4),
    colon=st.sampled_from([":", ": ", ":\t", " : ", ":   "]),
    eol=st.sampled_from(["\r\n", "\n"]),
)
def test_liberal_reading_any_case_spacing_line_end(
    stValue: str, mx: int, names: list[bool], colon: str, eol: str
) -> None:
    spelled = [n.lower() if lower else n for n, lower in zip(["HOST", "MAN", "MX", "ST"], names)]
    values_ = ["239.255.255.250:1900", '"ssdp:discover"', str(mx), stValue]
    text = eol.join(
        ["M-SEARCH * HTTP/1.1"] + [f"{n}{colon}{v}" for n, v in zip(spelled, values_)]
    )
    m = parsed(MSearch, (text + eol + eol).encode("utf-8"))
    assert type(m) is MSearch
    assert (m.host, m.man, m.mx, m.st, m.isDiscover) == (
        "239.255.255.250:1900",
        '"ssdp:discover"',
        mx,
        stValue,
        True,
    )


# --- Writing -----------------------------------------------------------------


def test_http_date() -> None:
    assert http_date(0) == "Thu, 01 Jan 1970 00:00:00 GMT"
    assert http_date(1_000_000_000) == "Sun, 09 Sep 2001 01:46:40 GMT"
    assert http_date(1_700_000_000.75) == "Tue, 14 Nov 2023 22:13:20 GMT"


@quick
@given(st.integers(0, 2**33))
def test_http_date_is_rfc_1123(seconds: int) -> None:
    text = http_date(seconds)
    assert text.endswith(" GMT")
    assert len(text) == 29
    assert email.utils.parsedate_to_datetime(text).timestamp() == seconds


def response(**changes: object) -> bytes:
    fields: dict[str, object] = {
        "st": BASIC,
        "usn": f"{UDN}::{BASIC}",
        "location": LOCATION,
        "maxAge": 1800,
        "date": DATE,
        "server": SERVER,
        "bootId": 7,
        "configId": 42,
    }
    fields.update(changes)
    return search_response(**fields)  # type: ignore[arg-type]


def test_search_response_exact_bytes() -> None:
    assert response() == RESPONSE


def test_search_response_header_set_and_round_trip() -> None:
    data = response()
    assert data.endswith(b"\r\n\r\n")
    assert data.count(b"\r\n\r\n") == 1
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert b"\r" not in data.replace(b"\r\n", b"")
    r = parsed(SearchResponse, data)
    assert type(r) is SearchResponse
    assert (r.st, r.usn, r.location, r.maxAge) == (BASIC, f"{UDN}::{BASIC}", LOCATION, 1800)
    assert names(r) == [
        "cache-control",
        "date",
        "ext",
        "location",
        "server",
        "st",
        "usn",
        "bootid.upnp.org",
        "configid.upnp.org",
    ]
    assert r.headers == {
        "cache-control": "max-age=1800",
        "date": DATE,
        "ext": "",
        "location": LOCATION,
        "server": SERVER,
        "st": BASIC,
        "usn": f"{UDN}::{BASIC}",
        "bootid.upnp.org": "7",
        "configid.upnp.org": "42",
    }
    assert b"\r\nEXT:\r\n" in data


def test_alive_exact_bytes_and_round_trip() -> None:
    data = alive(
        nt="upnp:rootdevice",
        usn=f"{UDN}::upnp:rootdevice",
        location=LOCATION,
        maxAge=1800,
        server=SERVER,
        bootId=7,
        configId=42,
    )
    assert data == ALIVE
    n = parsed(Notify, data)
    assert (n.nt, n.nts, n.usn, n.location, n.maxAge) == (
        "upnp:rootdevice",
        "ssdp:alive",
        f"{UDN}::upnp:rootdevice",
        LOCATION,
        1800,
    )
    assert names(n) == [
        "host",
        "cache-control",
        "location",
        "nt",
        "nts",
        "server",
        "usn",
        "bootid.upnp.org",
        "configid.upnp.org",
    ]


def test_byebye_exact_bytes_and_header_set() -> None:
    data = byebye(nt="upnp:rootdevice", usn=f"{UDN}::upnp:rootdevice", bootId=7, configId=42)
    assert data == BYEBYE
    n = parsed(Notify, data)
    assert type(n) is Notify
    assert (n.nt, n.nts, n.usn, n.location, n.maxAge) == (
        "upnp:rootdevice",
        "ssdp:byebye",
        f"{UDN}::upnp:rootdevice",
        None,
        None,
    )
    # HOST, NT, NTS, USN, BOOTID, CONFIGID, and nothing else.
    assert n.headers == {
        "host": "239.255.255.250:1900",
        "nt": "upnp:rootdevice",
        "nts": "ssdp:byebye",
        "usn": f"{UDN}::upnp:rootdevice",
        "bootid.upnp.org": "7",
        "configid.upnp.org": "42",
    }


def test_msearch_multicast_exact_bytes() -> None:
    data = msearch(st="ssdp:all", mx=3)
    assert data == MSEARCH
    m = parsed(MSearch, data)
    assert (m.host, m.man, m.mx, m.st, m.isDiscover) == (
        "239.255.255.250:1900",
        '"ssdp:discover"',
        3,
        "ssdp:all",
        True,
    )
    assert names(m) == ["host", "man", "mx", "st"]


def test_msearch_unicast_has_no_mx() -> None:
    data = msearch(st=UDN, mx=None, host="192.168.1.20:1900")
    assert data == (
        b"M-SEARCH * HTTP/1.1\r\n"
        b"HOST: 192.168.1.20:1900\r\n"
        b'MAN: "ssdp:discover"\r\n'
        b"ST: uuid:e427ce1a-3e80-43d0-ad6f-89ec42e46363\r\n"
        b"\r\n"
    )
    m = parsed(MSearch, data)
    assert m.mx is None
    assert m.headers == {
        "host": "192.168.1.20:1900",
        "man": '"ssdp:discover"',
        "st": UDN,
    }


def test_msearch_mx_zero_is_sent() -> None:
    assert b"\r\nMX: 0\r\n" in msearch(st="ssdp:all", mx=0)
    assert parsed(MSearch, msearch(st="ssdp:all", mx=0)).mx == 0


def test_constants() -> None:
    assert ssdp.MULTICAST_HOST == "239.255.255.250:1900"
    assert ssdp.SSDP_PORT == 1900


@quick
@given(
    stValue=values,
    usn=values,
    location=values,
    server=values,
    maxAge=st.integers(0, 2**31),
    bootId=st.integers(0, 2**31 - 1),
    configId=st.integers(0, 16_777_215),
    seconds=st.integers(0, 2**32),
)
def test_serialisers_round_trip(
    stValue: str,
    usn: str,
    location: str,
    server: str,
    maxAge: int,
    bootId: int,
    configId: int,
    seconds: int,
) -> None:
    ids = {"bootid.upnp.org": str(bootId), "configid.upnp.org": str(configId)}
    r = parsed(SearchResponse, 
        search_response(
            st=stValue,
            usn=usn,
            location=location,
            maxAge=maxAge,
            date=http_date(seconds),
            server=server,
            bootId=bootId,
            configId=configId,
        )
    )
    assert (type(r), r.st, r.usn, r.location, r.maxAge) == (
        SearchResponse,
        stValue,
        usn,
        location,
        maxAge,
    )
    assert r.headers == {
        "cache-control": f"max-age={maxAge}",
        "date": http_date(seconds),
        "ext": "",
        "location": location,
        "server": server,
        "st": stValue,
        "usn": usn,
        **ids,
    }

    n = parsed(Notify, 
        alive(
            nt=stValue,
            usn=usn,
            location=location,
            maxAge=maxAge,
            server=server,
            bootId=bootId,
            configId=configId,
        )
    )
    assert (type(n), n.nt, n.nts, n.usn, n.location, n.maxAge) == (
        Notify,
        stValue,
        "ssdp:alive",
        usn,
        location,
        maxAge,
    )
    assert n.header("server") == server
    assert {k: n.headers[k] for k in ids} == ids

    b = parsed(Notify, byebye(nt=stValue, usn=usn, bootId=bootId, configId=configId))
    assert (type(b), b.nt, b.nts, b.usn, b.location, b.maxAge) == (
        Notify,
        stValue,
        "ssdp:byebye",
        usn,
        None,
        None,
    )
    assert set(b.headers) == {"host", "nt", "nts", "usn", *ids}

    m = parsed(MSearch, msearch(st=stValue, mx=maxAge))
    assert (type(m), m.st, m.mx, m.isDiscover) == (MSearch, stValue, maxAge, True)
    u = parsed(MSearch, msearch(st=stValue, mx=None, host=location))
    assert (type(u), u.st, u.mx, u.host) == (MSearch, stValue, None, location)
    assert "mx" not in u.headers


def test_realistic_datagrams_fit_one_packet() -> None:
    # Long but realistic: a 64-character type name, a long location.
    serviceType = "urn:schemas-example-manufacturer-com:service:" + "N" * 64 + ":123456789"
    location = "http://[fe80::1234:5678:9abc:def0%25eth0]:65535/upnp/" + "d" * 100 + "/description.xml"
    server = "Linux/6.8.0-45-generic UPnP/1.1 upnp-announce/10.20.30"
    usn = f"{UDN}::{serviceType}"
    datagrams = [
        search_response(
            st=serviceType,
            usn=usn,
            location=location,
            maxAge=86400,
            date=http_date(4_102_444_800),
            server=server,
            bootId=2**31 - 1,
            configId=16_777_215,
        ),
        alive(
            nt=serviceType,
            usn=usn,
            location=location,
            maxAge=86400,
            server=server,
            bootId=2**31 - 1,
            configId=16_777_215,
        ),
        byebye(nt=serviceType, usn=usn, bootId=2**31 - 1, configId=16_777_215),
        msearch(st=serviceType, mx=5),
        msearch(st=serviceType, mx=None, host="[fe80::1234:5678:9abc:def0]:1900"),
    ]
    for data in datagrams:
        assert 0 < len(data) < 1400
        # One message per datagram.
        assert data.count(b"\r\n\r\n") == 1
        assert data.endswith(b"\r\n\r\n")


def test_control_characters_in_header_values_are_refused() -> None:
    for value in ["a\rb", "a\x00b", "a\x1bb", "a\x7fb"]:
        data = ("M-SEARCH * HTTP/1.1\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\nST: "
                + value + "\r\n\r\n").encode()
        with pytest.raises(ssdp.SSDPParseError, match="the ST header has a control character"):
            ssdp.parse(data)
    # A tab is white space, not a control character.
    assert ssdp.parse(b"M-SEARCH * HTTP/1.1\r\nST:\tssdp:all\r\n\r\n").st == "ssdp:all"  # type: ignore[union-attr]
