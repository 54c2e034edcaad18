"""Tests for upnp_announce.datatypes."""

from __future__ import annotations

import datetime
import sys
import uuid
from collections.abc import Callable
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from upnp_announce.datatypes import (
    DATA_TYPES,
    InvalidValue,
    OutOfRange,
    UnknownDataType,
    format_value,
    is_numeric,
    parse_value,
)

R4_MAX = 3.40282347e38
UTC = datetime.timezone.utc


def _is_xml_char(char: str) -> bool:
    code = ord(char)
    return (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or code >= 0x10000
    )


xml_chars = st.characters(codec="utf-8").filter(_is_xml_char)
zones = st.integers(-(23 * 60 + 59), 23 * 60 + 59).map(
    lambda minutes: datetime.timezone(datetime.timedelta(minutes=minutes))
)
maybe_zones = st.one_of(st.none(), zones)

STRATEGIES: dict[str, st.SearchStrategy[object]] = {
    "ui1": st.integers(0, 2**8 - 1),
    "ui2": st.integers(0, 2**16 - 1),
    "ui4": st.integers(0, 2**32 - 1),
    "ui8": st.integers(0, 2**64 - 1),
    "i1": st.integers(-(2**7), 2**7 - 1),
    "i2": st.integers(-(2**15), 2**15 - 1),
    "i4": st.integers(-(2**31), 2**31 - 1),
    "i8": st.integers(-(2**63), 2**63 - 1),
    "int": st.integers(),
    "r4": st.floats(-R4_MAX, R4_MAX, allow_nan=False, allow_infinity=False),
    "r8": st.floats(allow_nan=False, allow_infinity=False),
    "number": st.floats(allow_nan=False, allow_infinity=False),
    "float": st.floats(allow_nan=False, allow_infinity=False),
    "fixed.14.4": st.decimals(
        Decimal("-99999999999999.9999"),
        Decimal("99999999999999.9999"),
        allow_nan=False,
        allow_infinity=False,
        places=4,
    ),
    "char": xml_chars,
    "string": st.text(xml_chars),
    "date": st.dates(),
    "dateTime": st.datetimes(),
    "dateTime.tz": st.datetimes(timezones=maybe_zones),
    "time": st.times(),
    "time.tz": st.times(timezones=maybe_zones),
    "boolean": st.booleans(),
    "bin.base64": st.binary(),
    "bin.hex": st.binary(),
    "uri": st.from_regex(r"[A-Za-z][A-Za-z0-9+.-]*:[!-~\u00e9\u4e2d]*", fullmatch=True),
    "uuid": st.uuids().map(str),
}


def _utcoffset(value: object) -> object:
    return value.utcoffset() if isinstance(value, (datetime.datetime, datetime.time)) else None


def test_strategies_cover_every_data_type() -> None:
    assert set(STRATEGIES) == DATA_TYPES
    assert len(DATA_TYPES) == 26


def _round_trip_test(data_type: str) -> Callable[..., None]:
    # One function per type, not pytest.mark.parametrize: pytest-twisted
    # re-wraps a shared @given function once per parameter.
    @given(STRATEGIES[data_type])
    def test(value: object) -> None:
        text = format_value(data_type, value)
        parsed = parse_value(data_type, text)
        assert parsed == value
        assert type(parsed) is type(value)
        assert _utcoffset(parsed) == _utcoffset(value)
        assert format_value(data_type, parsed) == text

    return test


for _data_type in STRATEGIES:
    globals()["test_round_trip_" + _data_type.replace(".", "_")] = _round_trip_test(_data_type)


@given(st.integers(-(2**24), 2**24))
def test_float_types_accept_ints(number: int) -> None:
    for data_type in ("r4", "r8", "number", "float"):
        assert parse_value(data_type, format_value(data_type, number)) == number


@pytest.mark.parametrize(
    ("data_type", "text", "expected"),
    [
        ("ui1", "255", 255),
        ("ui1", "0", 0),
        ("ui1", "-0", 0),
        ("ui1", "+7", 7),
        ("ui1", " \t\r\n42 \n", 42),
        ("ui1", "000000000000000000000000000255", 255),
        ("ui2", "65535", 65535),
        ("ui4", "4294967295", 2**32 - 1),
        ("ui8", "18446744073709551615", 2**64 - 1),
        ("i1", "-128", -128),
        ("i1", "127", 127),
        ("i2", "-32768", -(2**15)),
        ("i4", "2147483647", 2**31 - 1),
        ("i8", "-9223372036854775808", -(2**63)),
        ("int", "-123456789012345678901234567890", -123456789012345678901234567890),
    ],
)
def test_parse_integer(data_type: str, text: str, expected: int) -> None:
    assert parse_value(data_type, text) == expected


@pytest.mark.parametrize(
    ("data_type", "text"),
    [
        ("ui1", "256"),
        ("ui1", "-1"),
        ("ui2", "65536"),
        ("ui4", "4294967296"),
        ("ui8", "18446744073709551616"),
        ("i1", "-129"),
        ("i1", "128"),
        ("i2", "32768"),
        ("i4", "-2147483649"),
        ("i8", "9223372036854775808"),
        ("ui8", "9" * 5000),
    ],
)
def test_parse_integer_out_of_range(data_type: str, text: str) -> None:
    with pytest.raises(OutOfRange, match=data_type):
        parse_value(data_type, text)


@pytest.mark.parametrize(
    "text",
    ["", " ", "1.0", "0x10", "1e3", "\u0661\u0662", "1_000", "--1", "+-1", "1 2", "one"],
)
@pytest.mark.parametrize("data_type", ["ui1", "i4", "int"])
def test_parse_integer_malformed(data_type: str, text: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_value(data_type, text)
    assert not isinstance(caught.value, OutOfRange)


def test_out_of_range_message() -> None:
    with pytest.raises(OutOfRange) as caught:
        parse_value("ui1", "300")
    assert str(caught.value) == "'300' is out of range for ui1 (0 to 255)"


def test_long_value_is_truncated_in_message() -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_value("ui4", "x" * 1000)
    message = str(caught.value)
    assert "..." in message
    assert "ui4" in message
    assert len(message) < 120


@pytest.mark.skipif(
    not hasattr(sys, "get_int_max_str_digits"), reason="no int digit limit before 3.10.7"
)
def test_int_out_of_range_message() -> None:
    with pytest.raises(OutOfRange) as caught:
        parse_value("int", "1" * 10_000)
    assert str(caught.value).endswith(" is out of range for int (too many digits)")


def test_huge_int_is_out_of_range_with_short_message() -> None:
    with pytest.raises(OutOfRange) as caught:
        format_value("ui1", 10**5000)
    assert len(str(caught.value)) < 120


@pytest.mark.parametrize(
    ("data_type", "number", "text"),
    [("ui1", 255, "255"), ("i1", -128, "-128"), ("ui8", 2**64 - 1, "18446744073709551615")],
)
def test_format_integer(data_type: str, number: int, text: str) -> None:
    assert format_value(data_type, number) == text


@pytest.mark.parametrize(
    ("data_type", "number"),
    [("ui1", 256), ("ui1", 300), ("ui1", -1), ("i1", -129), ("ui8", 2**64)],
)
def test_format_integer_out_of_range(data_type: str, number: int) -> None:
    with pytest.raises(OutOfRange):
        format_value(data_type, number)


@pytest.mark.parametrize(
    "data_type", ["ui1", "i4", "int", "r4", "r8", "number", "float", "fixed.14.4"]
)
@pytest.mark.parametrize("value", [True, False])
def test_bool_is_not_a_number(data_type: str, value: bool) -> None:
    with pytest.raises(InvalidValue):
        format_value(data_type, value)


@pytest.mark.parametrize(
    ("data_type", "value"),
    [
        ("ui1", "3"),
        ("ui1", 3.0),
        ("int", Decimal(3)),
        ("r8", "1.5"),
        ("r8", Decimal("1.5")),
        ("fixed.14.4", 1.5),
        ("string", 5),
        ("char", 5),
        ("uri", b"http://x/"),
        ("uuid", uuid.UUID(int=0)),
        ("boolean", 1),
        ("boolean", "1"),
        ("bin.base64", "AAAA"),
        ("bin.hex", "00"),
        ("date", "2020-01-01"),
        ("date", datetime.datetime(2020, 1, 1)),
        ("dateTime", datetime.date(2020, 1, 1)),
        ("time", datetime.datetime(2020, 1, 1)),
    ],
)
def test_format_rejects_wrong_python_type(data_type: str, value: object) -> None:
    with pytest.raises(InvalidValue, match=data_type) as caught:
        format_value(data_type, value)
    assert not isinstance(caught.value, OutOfRange)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.5", 1.5),
        ("-.5", -0.5),
        ("5.", 5.0),
        ("+1E3", 1000.0),
        ("1e-400", 0.0),
        ("  2.25e+2\n", 225.0),
    ],
)
def test_parse_real(text: str, expected: float) -> None:
    assert parse_value("r8", text) == expected


@pytest.mark.parametrize(
    "text",
    ["nan", "NaN", "-nan", "inf", "-Inf", "INFINITY", "infinity", "", ".", "e5", "1e"]
    + ["0x1p3", "1_0", "\u0661"],
)
@pytest.mark.parametrize("data_type", ["r4", "r8", "number", "float"])
def test_parse_real_malformed(data_type: str, text: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_value(data_type, text)
    assert not isinstance(caught.value, OutOfRange)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
@pytest.mark.parametrize("data_type", ["r4", "r8", "number", "float"])
def test_format_real_rejects_non_finite(data_type: str, value: float) -> None:
    with pytest.raises(InvalidValue) as caught:
        format_value(data_type, value)
    assert not isinstance(caught.value, OutOfRange)


def test_r4_limits() -> None:
    assert parse_value("r4", "3.40282347E+38") == R4_MAX
    assert parse_value("r4", "-3.40282347E+38") == -R4_MAX
    assert format_value("r4", 0.1) == "0.1"  # not a float32, but in range
    with pytest.raises(OutOfRange):
        parse_value("r4", "3.5e38")
    with pytest.raises(OutOfRange):
        format_value("r4", -1e39)


def test_r8_limits() -> None:
    assert parse_value("r8", "1e300") == 1e300
    with pytest.raises(OutOfRange):
        parse_value("r8", "1e400")
    with pytest.raises(OutOfRange):
        format_value("r8", 10**400)


@pytest.mark.parametrize(
    ("value", "text"), [(3, "3.0"), (0.1, "0.1"), (-2.5e-300, "-2.5e-300"), (1e16, "1e+16")]
)
def test_format_real(value: float, text: str) -> None:
    assert format_value("float", value) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12345678901234.1234", Decimal("12345678901234.1234")),
        ("-12345678901234.1234", Decimal("-12345678901234.1234")),
        ("00012345678901234", Decimal("12345678901234")),
        ("1.50000000", Decimal("1.5")),
        (".5", Decimal("0.5")),
        (" 7 ", Decimal(7)),
    ],
)
def test_parse_fixed(text: str, expected: Decimal) -> None:
    value = parse_value("fixed.14.4", text)
    assert isinstance(value, Decimal)
    assert value == expected


@pytest.mark.parametrize(
    "text", ["123456789012345", "1.00001", "-0.00001", "100000000000000.0"]
)
def test_parse_fixed_out_of_range(text: str) -> None:
    with pytest.raises(OutOfRange):
        parse_value("fixed.14.4", text)


@pytest.mark.parametrize("text", ["", "1e3", "NaN", "Infinity", "1.2.3", "1_0", "0x1"])
def test_parse_fixed_malformed(text: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_value("fixed.14.4", text)
    assert not isinstance(caught.value, OutOfRange)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("1E+5"), "100000"),
        (Decimal("1.230000"), "1.23"),
        (Decimal("99999999999999.9999"), "99999999999999.9999"),
        (Decimal("-0.0001"), "-0.0001"),
        (42, "42"),
    ],
)
def test_format_fixed(value: Decimal | int, text: str) -> None:
    assert format_value("fixed.14.4", value) == text


@pytest.mark.parametrize(
    "value",
    [
        Decimal("1E+14"),
        Decimal("0.00001"),
        Decimal("1E-999999999999999"),  # would not fit in memory as plain text
        Decimal("1E+999999999999999"),
        Decimal("1.00001"),
        10**14,
    ],
)
def test_format_fixed_out_of_range(value: Decimal | int) -> None:
    with pytest.raises(OutOfRange):
        format_value("fixed.14.4", value)


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("sNaN"), Decimal("-Infinity")])
def test_format_fixed_rejects_non_finite(value: Decimal) -> None:
    with pytest.raises(InvalidValue) as caught:
        format_value("fixed.14.4", value)
    assert not isinstance(caught.value, OutOfRange)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", True),
        ("0", False),
        ("true", True),
        ("false", False),
        ("yes", True),
        ("no", False),
        ("TRUE", True),
        ("False", False),
        ("YES", True),
        ("No", False),
        (" 1\n", True),
    ],
)
def test_parse_boolean(text: str, expected: bool) -> None:
    assert parse_value("boolean", text) is expected


@pytest.mark.parametrize("text", ["", "2", "y", "n", "on", "off", "t", "-1", "01"])
def test_parse_boolean_malformed(text: str) -> None:
    with pytest.raises(InvalidValue):
        parse_value("boolean", text)


def test_format_boolean() -> None:
    assert format_value("boolean", True) == "1"
    assert format_value("boolean", False) == "0"


@pytest.mark.parametrize("text", [" ", "\n", "\U0001f600"])
def test_char_keeps_whitespace(text: str) -> None:
    assert parse_value("char", text) == text


@pytest.mark.parametrize("text", ["", "ab", " a", "\x00"])
def test_char_rejects(text: str) -> None:
    with pytest.raises(InvalidValue):
        parse_value("char", text)
    with pytest.raises(InvalidValue):
        format_value("char", text)


def test_string_keeps_whitespace() -> None:
    assert parse_value("string", "  a b\n") == "  a b\n"
    assert parse_value("string", "") == ""
    assert format_value("string", " x ") == " x "


@pytest.mark.parametrize(
    "char", ["\x00", "\x08", "\x0b", "\x0c", "\x1f", "\ud800", "\udfff", "\ufffe", "\uffff"]
)
def test_string_rejects_characters_xml_cannot_carry(char: str) -> None:
    with pytest.raises(InvalidValue):
        parse_value("string", f"a{char}b")
    with pytest.raises(InvalidValue):
        format_value("string", f"a{char}b")


def test_date() -> None:
    assert parse_value("date", "2024-02-29") == datetime.date(2024, 2, 29)
    assert parse_value("date", " 0001-01-01 ") == datetime.date(1, 1, 1)
    assert format_value("date", datetime.date(5, 6, 7)) == "0005-06-07"


@pytest.mark.parametrize(
    "text",
    ["2023-02-29", "2023-13-01", "0000-01-01", "20230101", "2023-1-01", "23-01-01"]
    + ["2023-01-01T00:00:00", "2023-01-01Z"],
)
def test_date_malformed(text: str) -> None:
    with pytest.raises(InvalidValue):
        parse_value("date", text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020-05-06T07:08:09", datetime.datetime(2020, 5, 6, 7, 8, 9)),
        ("2020-05-06", datetime.datetime(2020, 5, 6)),
        ("2020-05-06T07:08:09.5", datetime.datetime(2020, 5, 6, 7, 8, 9, 500000)),
        ("2020-05-06T07:08:09.123456789", datetime.datetime(2020, 5, 6, 7, 8, 9, 123456)),
    ],
)
@pytest.mark.parametrize("data_type", ["dateTime", "dateTime.tz"])
def test_parse_datetime_naive(data_type: str, text: str, expected: datetime.datetime) -> None:
    parsed = parse_value(data_type, text)
    assert isinstance(parsed, datetime.datetime)
    assert parsed.tzinfo is None
    assert parsed == expected


@pytest.mark.parametrize(
    "text",
    ["2020-05-06T07:08", "2020-05-06 07:08:09", "2020-05-06T24:00:00", "2020-05-06T07:08:09."]
    + ["2020-05-06Z", "2020-02-30T00:00:00", "2020-05-06t07:08:09"],
)
@pytest.mark.parametrize("data_type", ["dateTime", "dateTime.tz"])
def test_parse_datetime_malformed(data_type: str, text: str) -> None:
    with pytest.raises(InvalidValue):
        parse_value(data_type, text)


@pytest.mark.parametrize("text", ["2020-05-06T07:08:09Z", "2020-05-06T07:08:09+01:00"])
def test_datetime_rejects_zone(text: str) -> None:
    with pytest.raises(InvalidValue):
        parse_value("dateTime", text)


def test_format_datetime_rejects_aware_value() -> None:
    with pytest.raises(InvalidValue):
        format_value("dateTime", datetime.datetime(2020, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize(
    ("text", "offset"),
    [
        ("2020-05-06T07:08:09Z", datetime.timedelta(0)),
        ("2020-05-06T07:08:09+00:00", datetime.timedelta(0)),
        ("2020-05-06T07:08:09-05:30", -datetime.timedelta(hours=5, minutes=30)),
        ("2020-05-06T07:08:09.5+23:59", datetime.timedelta(hours=23, minutes=59)),
    ],
)
def test_parse_datetime_tz(text: str, offset: datetime.timedelta) -> None:
    parsed = parse_value("dateTime.tz", text)
    assert isinstance(parsed, datetime.datetime)
    assert parsed.utcoffset() == offset
    assert parsed.replace(tzinfo=None, microsecond=0) == datetime.datetime(2020, 5, 6, 7, 8, 9)


@pytest.mark.parametrize(
    "text",
    ["2020-05-06T07:08:09+24:00", "2020-05-06T07:08:09+01:60", "2020-05-06T07:08:09+0100"]
    + ["2020-05-06T07:08:09z", "2020-05-06T07:08:09+01"],
)
def test_parse_datetime_tz_malformed(text: str) -> None:
    with pytest.raises(InvalidValue):
        parse_value("dateTime.tz", text)


WEST = datetime.timezone(-datetime.timedelta(hours=9, minutes=15))


@pytest.mark.parametrize(
    ("data_type", "value", "text"),
    [
        ("dateTime", datetime.datetime(2020, 1, 2, 3, 4, 5), "2020-01-02T03:04:05"),
        ("dateTime", datetime.datetime(2020, 1, 2, 3, 4, 5, 60), "2020-01-02T03:04:05.000060"),
        ("dateTime.tz", datetime.datetime(2020, 1, 2), "2020-01-02T00:00:00"),
        ("dateTime.tz", datetime.datetime(2020, 1, 2, tzinfo=UTC), "2020-01-02T00:00:00+00:00"),
        ("dateTime.tz", datetime.datetime(2020, 1, 2, tzinfo=WEST), "2020-01-02T00:00:00-09:15"),
    ],
)
def test_format_datetime(data_type: str, value: datetime.datetime, text: str) -> None:
    assert format_value(data_type, value) == text


@pytest.mark.parametrize("data_type", ["dateTime.tz", "time.tz"])
def test_format_rejects_offset_with_seconds(data_type: str) -> None:
    zone = datetime.timezone(datetime.timedelta(seconds=30))
    value = datetime.datetime(2020, 1, 2, tzinfo=zone)
    with pytest.raises(InvalidValue):
        format_value(data_type, value if data_type == "dateTime.tz" else value.timetz())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("23:59:59", datetime.time(23, 59, 59)),
        ("00:00:00.25", datetime.time(0, 0, 0, 250000)),
        (" 01:02:03\n", datetime.time(1, 2, 3)),
    ],
)
@pytest.mark.parametrize("data_type", ["time", "time.tz"])
def test_parse_time_naive(data_type: str, text: str, expected: datetime.time) -> None:
    parsed = parse_value(data_type, text)
    assert isinstance(parsed, datetime.time)
    assert parsed.tzinfo is None
    assert parsed == expected


@pytest.mark.parametrize(
    "text", ["24:00:00", "12:60:00", "12:00:60", "1:00:00", "12:00", "12:00:00Z", "12:00:00+01:00"]
)
def test_parse_time_malformed(text: str) -> None:
    with pytest.raises(InvalidValue):
        parse_value("time", text)


def test_format_time() -> None:
    assert format_value("time", datetime.time(1, 2, 3)) == "01:02:03"
    with pytest.raises(InvalidValue):
        format_value("time", datetime.time(1, tzinfo=UTC))


@pytest.mark.parametrize(
    ("text", "offset"),
    [("12:00:00+02:00", datetime.timedelta(hours=2)), ("12:00:00Z", datetime.timedelta(0))],
)
def test_parse_time_tz(text: str, offset: datetime.timedelta) -> None:
    parsed = parse_value("time.tz", text)
    assert isinstance(parsed, datetime.time)
    assert parsed.utcoffset() == offset
    assert parsed.replace(tzinfo=None) == datetime.time(12)


def test_format_time_tz() -> None:
    assert format_value("time.tz", datetime.time(12, tzinfo=UTC)) == "12:00:00+00:00"
    assert format_value("time.tz", datetime.time(12, tzinfo=WEST)) == "12:00:00-09:15"
    assert format_value("time.tz", datetime.time(12)) == "12:00:00"


def test_base64() -> None:
    assert parse_value("bin.base64", "AAEC\n/w==\n") == b"\x00\x01\x02\xff"
    assert parse_value("bin.base64", "") == b""
    assert "\n" not in format_value("bin.base64", bytes(range(256)))
    assert format_value("bin.base64", bytearray(b"A")) == "QQ=="


@pytest.mark.parametrize(
    "text",
    ["QQ", "QQ=", "Q===", "QQ==QQ==", "Q!==", "####", "QQ==\x00", "A", "-_8="]
    + ["\u0661\u0662\u0663\u0664"],
)
def test_base64_garbage(text: str) -> None:
    with pytest.raises(InvalidValue):
        parse_value("bin.base64", text)


def test_hex() -> None:
    assert parse_value("bin.hex", "00aB FF\n10") == b"\x00\xab\xff\x10"
    assert parse_value("bin.hex", "") == b""
    assert format_value("bin.hex", b"\xab\xcd") == "abcd"


@pytest.mark.parametrize("text", ["abc", "0", "zz", "0x00", "\u0661\u0662"])
def test_hex_garbage(text: str) -> None:
    with pytest.raises(InvalidValue):
        parse_value("bin.hex", text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (" http://example.com/a?b=c \n", "http://example.com/a?b=c"),
        ("urn:schemas-upnp-org:device:Basic:1", "urn:schemas-upnp-org:device:Basic:1"),
        ("mailto:x@example.com", "mailto:x@example.com"),
    ],
)
def test_uri(text: str, expected: str) -> None:
    assert parse_value("uri", text) == expected
    assert format_value("uri", expected) == expected


@pytest.mark.parametrize(
    "text",
    ["", "   ", "example.com/path", "/relative", "1http://x", "://x", "http://a b"]
    + ["http://a\x00", "http://a\x85", "http://a\u00a0b"],
)
def test_uri_rejects(text: str) -> None:
    with pytest.raises(InvalidValue):
        parse_value("uri", text)


@pytest.mark.parametrize("value", [" http://x", "no-scheme", "http://a\tb"])
def test_format_uri_rejects(value: str) -> None:
    with pytest.raises(InvalidValue):
        format_value("uri", value)


def test_uuid_is_lowercased() -> None:
    mixed = "ABCDEF01-2345-6789-abCD-ef0123456789"
    assert parse_value("uuid", f" {mixed}\n") == mixed.lower()
    assert format_value("uuid", mixed) == mixed.lower()


@pytest.mark.parametrize(
    "text",
    [
        "uuid:abcdef01-2345-6789-abcd-ef0123456789",
        "abcdef0123456789abcdef0123456789",
        "abcdef01-2345-6789-abcd-ef012345678g",
        "{abcdef01-2345-6789-abcd-ef0123456789}",
        "",
    ],
)
def test_uuid_rejects(text: str) -> None:
    with pytest.raises(InvalidValue):
        parse_value("uuid", text)


def _call_parse() -> object:
    return parse_value("ui16", "1")


def _call_format() -> object:
    return format_value("ui16", 1)


def _call_is_numeric() -> object:
    return is_numeric("ui16")


@pytest.mark.parametrize("call", [_call_parse, _call_format, _call_is_numeric])
def test_unknown_data_type(call: Callable[[], object]) -> None:
    with pytest.raises(UnknownDataType) as caught:
        call()
    assert isinstance(caught.value, ValueError)
    assert not isinstance(caught.value, InvalidValue)
    assert str(caught.value) == "'ui16' is not a UPnP data type"


def test_data_type_names_are_case_sensitive() -> None:
    with pytest.raises(UnknownDataType):
        parse_value("UI1", "1")


def test_is_numeric() -> None:
    assert {t for t in DATA_TYPES if is_numeric(t)} == {
        "ui1",
        "ui2",
        "ui4",
        "ui8",
        "i1",
        "i2",
        "i4",
        "i8",
        "int",
        "r4",
        "r8",
        "number",
        "float",
        "fixed.14.4",
    }


def test_exception_hierarchy() -> None:
    assert issubclass(OutOfRange, InvalidValue)
    assert issubclass(InvalidValue, ValueError)
    assert issubclass(UnknownDataType, ValueError)
    assert not issubclass(InvalidValue, OutOfRange)
