"""Convert UPnP (UDA 1.1) state variable and argument values.

parse_value() turns wire text into a Python value and format_value() turns a
Python value into wire text, so that parse_value(t, format_value(t, v)) == v.
Both raise InvalidValue for text or values that are not of the data type
(UPnP error 600) and OutOfRange, a subclass, for well-formed ones outside
its range (UPnP error 601).

Python values by data type:

- ui1 ui2 ui4 ui8 i1 i2 i4 i8 int: int (int is unbounded)
- r4 r8 number float: float (format_value also takes an int)
- fixed.14.4: decimal.Decimal (format_value also takes an int)
- char string uri: str
- uuid: str, lowercase 8-4-4-4-12 hex
- date: datetime.date; time, time.tz: datetime.time;
  dateTime, dateTime.tz: datetime.datetime (only the .tz types may be aware)
- boolean: bool
- bin.base64 bin.hex: bytes (format_value also takes a bytearray)
"""

from __future__ import annotations

import abc
import binascii
import datetime
import decimal
import math
import re
import string
import sys
import types
from collections.abc import Mapping
from typing import ClassVar, Final
from xml.sax.saxutils import escape as _escape

__all__ = [
    "DATA_TYPES",
    "InvalidValue",
    "OutOfRange",
    "TooLong",
    "UnknownDataType",
    "format_value",
    "is_numeric",
    "is_xml_text",
    "shown",
    "xml_escape",
    "xml_text",
    "parse_value",
    "sent_value_problem",
]


class InvalidValue(ValueError):
    """The text or value is not of the data type (UPnP error 600 territory)."""


class OutOfRange(InvalidValue):
    """Well-formed but outside the type's range (UPnP error 601 territory)."""


class TooLong(InvalidValue):
    """A string longer than its state variable's maxLength (UPnP error 605)."""


class UnknownDataType(ValueError):
    """The name is not a UPnP data type."""


_SHOWN_LENGTH: Final = 40
_WHITESPACE: Final = string.whitespace
_DELETE_WHITESPACE: Final = str.maketrans("", "", string.whitespace)
# Characters XML 1.0 cannot carry, even escaped.
_XML_ILLEGAL_RE: Final = re.compile(r"[\x00-\x08\x0B\x0C\x0E-\x1F\uD800-\uDFFF\uFFFE\uFFFF]")
_INTEGER_RE: Final = re.compile(r"[+-]?[0-9]+")
_REAL_RE: Final = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_FIXED_RE: Final = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_DATE: Final = r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
_TIME: Final = r"([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?"
_ZONE: Final = r"(Z|[+-][0-9]{2}:[0-9]{2})?"
_DATE_RE: Final = re.compile(_DATE)
_DATETIME_RE: Final = re.compile(f"{_DATE}(?:T{_TIME}{_ZONE})?")
_TIME_RE: Final = re.compile(_TIME + _ZONE)
_BASE64_RE: Final = re.compile(
    r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?"
)
_HEX_RE: Final = re.compile(r"[0-9A-Fa-f]*")
_URI_RE: Final = re.compile(
    r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s\x00-\x1F\x7F-\x9F\uD800-\uDFFF\uFFFE\uFFFF]*"
)
_UUID_RE: Final = re.compile(
    r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
)
_BOOLEANS: Final[Mapping[str, bool]] = types.MappingProxyType(
    {"0": False, "1": True, "false": False, "true": True, "no": False, "yes": True}
)
_R4_MAX: Final = 3.40282347e38
_FIXED_INTEGER_LIMIT: Final = decimal.Decimal(10**14)
_FIXED_QUANTUM: Final = decimal.Decimal("0.0001")
_MINUTE: Final = datetime.timedelta(minutes=1)
_ZONE_FORMAT: Final = "[Z|+HH:MM|-HH:MM]"


def shown(value: object) -> str:
    """Return repr(value), cut to about 40 characters, for messages."""
    try:
        text = repr(value)
    except ValueError:  # an int over the int-to-str digit limit
        return f"<{type(value).__name__} too long to show>"
    if len(text) > _SHOWN_LENGTH:
        return text[: _SHOWN_LENGTH - 3] + "..."
    return text


class _Converter(abc.ABC):
    """Both directions for one data type."""

    __slots__ = ("name",)
    numeric: ClassVar[bool] = False
    strip: ClassVar[bool] = True

    def __init__(self, name: str) -> None:
        self.name = name

    @abc.abstractmethod
    def parse(self, text: str) -> object:
        """Return the value of text, already stripped if self.strip."""

    @abc.abstractmethod
    def format(self, value: object) -> str:
        """Return the wire text of value."""

    def _invalid(self, value: object, reason: str) -> InvalidValue:
        return InvalidValue(f"{shown(value)} is not a valid {self.name} value ({reason})")

    def _out_of_range(self, value: object, bounds: str) -> OutOfRange:
        return OutOfRange(f"{shown(value)} is out of range for {self.name} ({bounds})")

    def _wrong_type(self, value: object, expected: str) -> InvalidValue:
        return self._invalid(value, f"expected {expected}, not {type(value).__name__}")


class _Integer(_Converter):
    __slots__ = ("low", "high", "bounds")
    numeric = True

    def __init__(self, name: str, low: int | None, high: int | None) -> None:
        super().__init__(name)
        self.low = low
        self.high = high
        self.bounds = "too many digits" if low is None else f"{low} to {high}"

    def parse(self, text: str) -> int:
        if _INTEGER_RE.fullmatch(text) is None:
            raise self._invalid(text, "expected an integer")
        sign = text[0] if text[0] in "+-" else ""
        # Leading zeros would count against the int() digit limit.
        digits = text.lstrip("+-").lstrip("0") or "0"
        try:
            number = int(sign + digits)
        except ValueError:
            raise self._out_of_range(text, self.bounds) from None
        return self._check(number, text)

    def format(self, value: object) -> str:
        if not isinstance(value, int) or isinstance(value, bool):
            raise self._wrong_type(value, "an int")
        self._check(value, value)
        try:
            return int.__repr__(value)
        except ValueError:
            raise self._out_of_range(value, self.bounds) from None

    def _check(self, number: int, shown: object) -> int:
        if (self.low is not None and number < self.low) or (
            self.high is not None and number > self.high
        ):
            raise self._out_of_range(shown, self.bounds)
        return number


class _Real(_Converter):
    __slots__ = ("limit", "bounds")
    numeric = True

    def __init__(self, name: str, limit: float) -> None:
        super().__init__(name)
        self.limit = limit
        self.bounds = f"magnitude at most {limit!r}"

    def parse(self, text: str) -> float:
        if _REAL_RE.fullmatch(text) is None:
            raise self._invalid(text, "expected a finite decimal number")
        return self._check(float(text), text)

    def format(self, value: object) -> str:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise self._wrong_type(value, "a float or int")
        try:
            number = float(value)
        except OverflowError:
            raise self._out_of_range(value, self.bounds) from None
        if not math.isfinite(number):
            raise self._invalid(value, "not a finite number")
        return float.__repr__(self._check(number, value))

    def _check(self, number: float, shown: object) -> float:
        if abs(number) > self.limit:
            raise self._out_of_range(shown, self.bounds)
        return number


class _Fixed(_Converter):
    __slots__ = ()
    numeric = True
    bounds: ClassVar[str] = "at most 14 digits before the point and 4 after"

    def parse(self, text: str) -> decimal.Decimal:
        if _FIXED_RE.fullmatch(text) is None:
            raise self._invalid(text, "expected a decimal number without exponent")
        self._canonical(text, text)
        return decimal.Decimal(text)

    def format(self, value: object) -> str:
        if not isinstance(value, (int, decimal.Decimal)) or isinstance(value, bool):
            raise self._wrong_type(value, "a Decimal or int")
        number = decimal.Decimal(value)
        if not number.is_finite():
            raise self._invalid(value, "not a finite number")
        # Refuse huge and tiny exponents before format() spells them out.
        magnitude = number.copy_abs()
        if magnitude >= _FIXED_INTEGER_LIMIT or (number and magnitude < _FIXED_QUANTUM):
            raise self._out_of_range(value, self.bounds)
        return self._canonical(format(number, "f"), value)

    def _canonical(self, text: str, shown: object) -> str:
        """Check digit counts of plain decimal text; drop trailing fraction zeros."""
        whole, _, fraction = text.partition(".")
        fraction = fraction.rstrip("0")
        if len(whole.lstrip("+-").lstrip("0")) > 14 or len(fraction) > 4:
            raise self._out_of_range(shown, self.bounds)
        return f"{whole}.{fraction}" if fraction else whole


class _String(_Converter):
    __slots__ = ()
    strip = False

    def parse(self, text: str) -> str:
        return self._check(text)

    def format(self, value: object) -> str:
        if not isinstance(value, str):
            raise self._wrong_type(value, "a str")
        return self._check(value)

    def _check(self, text: str) -> str:
        if not is_xml_text(text):
            raise self._invalid(text, "contains a character XML 1.0 cannot carry")
        return text


class _Char(_String):
    __slots__ = ()

    def _check(self, text: str) -> str:
        if len(text) != 1:
            raise self._invalid(text, "expected exactly one character")
        return super()._check(text)


class _Date(_Converter):
    __slots__ = ()

    def parse(self, text: str) -> datetime.date:
        match = _DATE_RE.fullmatch(text)
        if match is None:
            raise self._invalid(text, "expected YYYY-MM-DD")
        year, month, day = match.groups()
        try:
            return datetime.date(int(year), int(month), int(day))
        except ValueError:
            raise self._invalid(text, "no such date") from None

    def format(self, value: object) -> str:
        if not isinstance(value, datetime.date) or isinstance(value, datetime.datetime):
            raise self._wrong_type(value, "a datetime.date")
        return datetime.date.isoformat(value)


class _Zoned(_Converter):
    """Base of the date-time and time types; zoned ones allow a UTC offset."""

    __slots__ = ("zoned", "expected")

    def __init__(self, name: str, zoned: bool, expected: str) -> None:
        super().__init__(name)
        self.zoned = zoned
        self.expected = expected

    def _parse_zone(self, zone: str | None, text: str) -> datetime.timezone | None:
        if zone is None:
            return None
        if not self.zoned:
            raise self._invalid(text, "has a time zone")
        if zone == "Z":
            return datetime.timezone.utc
        hours, minutes = int(zone[1:3]), int(zone[4:6])
        if hours > 23 or minutes > 59:
            raise self._invalid(text, "no such time zone offset")
        offset = datetime.timedelta(hours=hours, minutes=minutes)
        return datetime.timezone(-offset if zone[0] == "-" else offset)

    def _format_zone(self, value: datetime.datetime | datetime.time) -> str:
        offset = value.utcoffset()
        if offset is None:
            return ""
        if not self.zoned:
            raise self._invalid(value, "has a time zone")
        minutes, rest = divmod(offset, _MINUTE)
        if rest:
            raise self._invalid(value, "time zone offset is not whole minutes")
        sign = "-" if minutes < 0 else "+"
        hours, minutes = divmod(abs(minutes), 60)
        return f"{sign}{hours:02d}:{minutes:02d}"


def _microseconds(fraction: str | None) -> int:
    """Return the microseconds of a fraction of a second; extra digits are cut."""
    return int((fraction or "0").ljust(6, "0")[:6])


class _DateTime(_Zoned):
    __slots__ = ()

    def __init__(self, name: str, zoned: bool) -> None:
        zone = _ZONE_FORMAT if zoned else ""
        super().__init__(name, zoned, f"YYYY-MM-DD[THH:MM:SS[.ffffff]{zone}]")

    def parse(self, text: str) -> datetime.datetime:
        match = _DATETIME_RE.fullmatch(text)
        if match is None:
            raise self._invalid(text, f"expected {self.expected}")
        year, month, day, hour, minute, second, fraction, zone = match.groups()
        tzinfo = self._parse_zone(zone, text)
        try:
            return datetime.datetime(
                int(year),
                int(month),
                int(day),
                int(hour or 0),
                int(minute or 0),
                int(second or 0),
                _microseconds(fraction),
                tzinfo,
            )
        except ValueError:
            raise self._invalid(text, "no such date and time") from None

    def format(self, value: object) -> str:
        if not isinstance(value, datetime.datetime):
            raise self._wrong_type(value, "a datetime.datetime")
        zone = self._format_zone(value)
        return datetime.datetime.isoformat(value.replace(tzinfo=None)) + zone


class _Time(_Zoned):
    __slots__ = ()

    def __init__(self, name: str, zoned: bool) -> None:
        zone = _ZONE_FORMAT if zoned else ""
        super().__init__(name, zoned, f"HH:MM:SS[.ffffff]{zone}")

    def parse(self, text: str) -> datetime.time:
        match = _TIME_RE.fullmatch(text)
        if match is None:
            raise self._invalid(text, f"expected {self.expected}")
        hour, minute, second, fraction, zone = match.groups()
        tzinfo = self._parse_zone(zone, text)
        try:
            return datetime.time(
                int(hour), int(minute), int(second), _microseconds(fraction), tzinfo
            )
        except ValueError:
            raise self._invalid(text, "no such time") from None

    def format(self, value: object) -> str:
        if not isinstance(value, datetime.time):
            raise self._wrong_type(value, "a datetime.time")
        zone = self._format_zone(value)
        return datetime.time.isoformat(value.replace(tzinfo=None)) + zone


class _Boolean(_Converter):
    __slots__ = ()

    def parse(self, text: str) -> bool:
        value = _BOOLEANS.get(text.lower())
        if value is None:
            raise self._invalid(text, "expected 0, 1, true, false, yes or no")
        return value

    def format(self, value: object) -> str:
        if not isinstance(value, bool):
            raise self._wrong_type(value, "a bool")
        return "1" if value else "0"


class _Base64(_Converter):
    __slots__ = ()

    def parse(self, text: str) -> bytes:
        packed = text.translate(_DELETE_WHITESPACE)
        if _BASE64_RE.fullmatch(packed) is None:
            raise self._invalid(text, "expected padded base64")
        return binascii.a2b_base64(packed)

    def format(self, value: object) -> str:
        if not isinstance(value, (bytes, bytearray)):
            raise self._wrong_type(value, "bytes")
        return binascii.b2a_base64(value, newline=False).decode("ascii")


class _Hex(_Converter):
    __slots__ = ()

    def parse(self, text: str) -> bytes:
        packed = text.translate(_DELETE_WHITESPACE)
        if _HEX_RE.fullmatch(packed) is None:
            raise self._invalid(text, "expected hex digits")
        if len(packed) % 2:
            raise self._invalid(text, "odd number of hex digits")
        return bytes.fromhex(packed)

    def format(self, value: object) -> str:
        if not isinstance(value, (bytes, bytearray)):
            raise self._wrong_type(value, "bytes")
        return value.hex()


class _Uri(_Converter):
    __slots__ = ()

    def parse(self, text: str) -> str:
        if _URI_RE.fullmatch(text) is None:
            raise self._invalid(text, "expected an absolute URI without spaces")
        return text

    def format(self, value: object) -> str:
        if not isinstance(value, str):
            raise self._wrong_type(value, "a str")
        return self.parse(value)


class _Uuid(_Converter):
    __slots__ = ()

    def parse(self, text: str) -> str:
        if _UUID_RE.fullmatch(text) is None:
            raise self._invalid(text, "expected 8-4-4-4-12 hex digits")
        return text.lower()

    def format(self, value: object) -> str:
        if not isinstance(value, str):
            raise self._wrong_type(value, "a str")
        return self.parse(value)


_CONVERTERS: Final[Mapping[str, _Converter]] = types.MappingProxyType(
    {
        converter.name: converter
        for converter in (
            _Integer("ui1", 0, 2**8 - 1),
            _Integer("ui2", 0, 2**16 - 1),
            _Integer("ui4", 0, 2**32 - 1),
            _Integer("ui8", 0, 2**64 - 1),
            _Integer("i1", -(2**7), 2**7 - 1),
            _Integer("i2", -(2**15), 2**15 - 1),
            _Integer("i4", -(2**31), 2**31 - 1),
            _Integer("i8", -(2**63), 2**63 - 1),
            _Integer("int", None, None),
            _Real("r4", _R4_MAX),
            _Real("r8", sys.float_info.max),
            _Real("number", sys.float_info.max),
            _Real("float", sys.float_info.max),
            _Fixed("fixed.14.4"),
            _Char("char"),
            _String("string"),
            _Date("date"),
            _DateTime("dateTime", zoned=False),
            _DateTime("dateTime.tz", zoned=True),
            _Time("time", zoned=False),
            _Time("time.tz", zoned=True),
            _Boolean("boolean"),
            _Base64("bin.base64"),
            _Hex("bin.hex"),
            _Uri("uri"),
            _Uuid("uuid"),
        )
    }
)

DATA_TYPES: Final[frozenset[str]] = frozenset(_CONVERTERS)


def _converter(dataType: str) -> _Converter:
    try:
        return _CONVERTERS[dataType]
    except KeyError:
        raise UnknownDataType(f"{shown(dataType)} is not a UPnP data type") from None


def parse_value(dataType: str, text: str) -> object:
    """Return the Python value of wire text of the data type.

    Surrounding ASCII whitespace is ignored except for char and string.
    Raises UnknownDataType, InvalidValue or OutOfRange.
    """
    converter = _converter(dataType)
    return converter.parse(text.strip(_WHITESPACE) if converter.strip else text)


def format_value(dataType: str, value: object) -> str:
    """Return the wire text of a Python value of the data type.

    Raises UnknownDataType, InvalidValue (including a wrong Python type) or
    OutOfRange.
    """
    return _converter(dataType).format(value)


def sent_value_problem(dataType: str, text: str) -> str | None:
    """Return what is wrong with text as a value a device or control point
    sends, or None: it must parse as the data type, and a boolean must be
    sent as 0 or 1 (UDA 1.1 2.5: true, yes... are only to be accepted).

    Raises UnknownDataType.
    """
    try:
        parse_value(dataType, text)
    except InvalidValue as e:
        return str(e)
    if dataType == "boolean" and text.strip(_WHITESPACE) not in ("0", "1"):
        return f"{shown(text)} is not sent as 0 or 1"
    return None


def is_numeric(dataType: str) -> bool:
    """Return whether the data type may have an allowedValueRange."""
    return _converter(dataType).numeric


def is_xml_text(text: str) -> bool:
    """
    Whether XML 1.0 can carry C{text} (escaped where it must be).
    """
    return _XML_ILLEGAL_RE.search(text) is None


def xml_text(text: str) -> str:
    """
    C{text} with each character XML 1.0 cannot carry replaced by U+FFFD.
    """
    return _XML_ILLEGAL_RE.sub("\ufffd", text)


def xml_escape(text: str) -> str:
    """
    C{text} as XML character data: escaped, with characters XML cannot carry
    replaced, and a CR kept as a reference (a bare one arrives as a LF).
    """
    return _escape(xml_text(text), {"\r": "&#13;"})
