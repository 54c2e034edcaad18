"""
The UPnP device model: immutable values, validated when they are built.

Field names are the UPnP Device Architecture's own (deviceType, friendlyName,
UDN, serviceId, relatedStateVariable...), so that the model reads like the
descriptions it renders to.  A value that breaks a rule raises L{ModelError},
which lists every problem found, each naming the field it concerns, so that a
caller (the INI loader) can point at the line a user has to fix.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from upnp_announce import datatypes

__all__ = [
    "Action",
    "AllowedValueRange",
    "Argument",
    "Device",
    "Icon",
    "ModelError",
    "Problem",
    "Service",
    "ServiceDescription",
    "StateVariable",
    "serves",
    "split_type",
]

_DOMAIN = r"[A-Za-z0-9][A-Za-z0-9.-]*"
_NAME = r"[A-Za-z0-9_-]{1,64}"
DEVICE_TYPE = re.compile(rf"urn:{_DOMAIN}:device:{_NAME}:[1-9][0-9]{{0,8}}\Z")
SERVICE_TYPE = re.compile(rf"urn:{_DOMAIN}:service:{_NAME}:[1-9][0-9]{{0,8}}\Z")
# The last part becomes a path segment: it must not be "." or "..".
SERVICE_ID = re.compile(rf"urn:{_DOMAIN}:serviceId:[A-Za-z0-9_][A-Za-z0-9_.-]{{0,63}}\Z")
UDN = re.compile(
    r"uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z"
)
UPC = re.compile(r"[0-9]{12}\Z")
# Action, argument and state variable names (UDA 1.1 2.5: at most 31
# characters; letters, digits, underscore, hyphen, dot; not starting with
# "X_" or "A_" unless vendor-defined, which we do not police).
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,31}\Z")
_MIMETYPE = re.compile(r"image/[a-z0-9][a-z0-9.+-]*\Z")

# The text fields of a device description, in the order of UDA 1.1's schema
# (iconList, serviceList and deviceList come between UPC and
# presentationURL).
DESCRIPTION_FIELDS = (
    "deviceType",
    "friendlyName",
    "manufacturer",
    "manufacturerURL",
    "modelDescription",
    "modelName",
    "modelNumber",
    "modelURL",
    "serialNumber",
    "UDN",
    "UPC",
    "presentationURL",
)

# What a device's own page offers.
PRESENTATIONS = ("full", "view", "off")

# UDA 1.1 2.3: "Should be < N characters" for these fields.
LENGTH_LIMITS = {
    "friendlyName": 64,
    "manufacturer": 64,
    "modelDescription": 128,
    "modelName": 32,
    "modelNumber": 32,
    "serialNumber": 64,
}


_TYPE = re.compile(r"(urn:[^:]+:(?:device|service):[^:]+):([1-9][0-9]{0,8})\Z")


@functools.lru_cache(maxsize=1024)
def split_type(urn: str) -> tuple[str, int] | None:
    """
    A device or service type split into its name and version:
    C{"urn:schemas-upnp-org:service:SwitchPower:1"} gives
    C{("urn:schemas-upnp-org:service:SwitchPower", 1)}; C{None} if it is not
    a type with a positive version.
    """
    match = _TYPE.match(urn)
    return (match.group(1), int(match.group(2))) if match else None


def serves(ours: str, asked: str) -> bool:
    """
    Whether our type C{ours} answers for C{asked}: the same type at the same
    or a lower version (UDA 1.1: a device is backwards compatible).
    """
    mine, theirs = split_type(ours), split_type(asked)
    return mine is not None and theirs is not None and mine[0] == theirs[0] and mine[1] >= theirs[1]


@dataclass(frozen=True)
class Problem:
    """
    One broken rule.

    @ivar field: the model field (C{"friendlyName"}, C{"services"}...).
    @ivar message: what is wrong, as a sentence fragment without the field.
    """

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class ModelError(ValueError):
    """
    A model value broke one or more rules; C{problems} lists them all.
    """

    def __init__(self, what: str, problems: Iterable[Problem]) -> None:
        self.what = what
        self.problems = tuple(problems)
        super().__init__(
            f"invalid {what}: " + "; ".join(str(p) for p in self.problems)
        )


def _check(what: str, problems: list[Problem]) -> None:
    if problems:
        raise ModelError(what, problems)


def _text(
    problems: list[Problem], name: str, value: str | None, required: bool
) -> None:
    """
    Check a plain text field: present if required, one line, within its limit.
    """
    if value is None or value == "":
        if required:
            problems.append(Problem(name, "is required"))
        return
    if any(ch in value for ch in "\r\n"):
        problems.append(Problem(name, "must be a single line of text"))
    elif not datatypes.is_xml_text(value):
        problems.append(Problem(name, "contains a control character XML cannot carry"))
    limit = LENGTH_LIMITS.get(name)
    if limit is not None and len(value) >= limit:
        problems.append(
            Problem(
                name,
                f"is {len(value)} characters long; UPnP allows at most {limit - 1}",
            )
        )


def _pattern(
    problems: list[Problem], name: str, value: str, pattern: re.Pattern[str], form: str
) -> None:
    if not pattern.match(value):
        problems.append(Problem(name, f"{value!r} is not of the form {form}"))


def _url(problems: list[Problem], name: str, value: str | None) -> None:
    if value is None:
        return
    if value == "" or any(ch.isspace() for ch in value) or not datatypes.is_xml_text(value):
        problems.append(Problem(name, f"{value!r} is not a URL"))


def _duplicates(values: Iterable[str]) -> list[str]:
    return sorted(v for v, n in Counter(values).items() if n > 1)


def _tuples(value: object, *names: str) -> None:
    """
    Store the sequences in fields C{names} of a frozen dataclass as tuples,
    so that a list given by a caller neither aliases nor breaks hashing.
    """
    for name in names:
        current = getattr(value, name)
        if current is not None and not isinstance(current, tuple):
            object.__setattr__(value, name, tuple(current))


@dataclass(frozen=True)
class Icon:
    """
    An icon of a device, with its bytes.

    @ivar depth: bits per pixel.
    """

    mimetype: str
    width: int
    height: int
    depth: int
    data: bytes = field(repr=False)

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        if not _MIMETYPE.match(self.mimetype):
            problems.append(
                Problem("mimetype", f"{self.mimetype!r} is not an image MIME type")
            )
        for name in ("width", "height", "depth"):
            value = getattr(self, name)
            if type(value) is not int or value < 1:
                problems.append(Problem(name, f"{value!r} is not a positive integer"))
        if not self.data:
            problems.append(Problem("data", "is empty"))
        _check("icon", problems)

    @property
    def extension(self) -> str:
        """
        The file name extension for the MIME type (C{"png"}, C{"jpeg"}...).
        """
        return self.mimetype.split("/", 1)[1].split("+", 1)[0]


@dataclass(frozen=True)
class Argument:
    """
    An argument of an action.

    @ivar direction: C{"in"} or C{"out"}.
    @ivar retval: this out-argument is the return value (only the first out).
    """

    name: str
    direction: str
    relatedStateVariable: str
    retval: bool = False

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        _pattern(problems, "name", self.name, _IDENTIFIER, "a UPnP name")
        if self.direction not in ("in", "out"):
            problems.append(
                Problem("direction", f"{self.direction!r} is neither 'in' nor 'out'")
            )
        if self.retval and self.direction != "out":
            problems.append(Problem("retval", "is only allowed on an out-argument"))
        if not self.relatedStateVariable:
            problems.append(Problem("relatedStateVariable", "is required"))
        _check(f"argument {self.name!r}", problems)


@dataclass(frozen=True)
class Action:
    """
    An action: its name and its arguments, all in-arguments first.
    """

    name: str
    arguments: tuple[Argument, ...] = ()

    def __post_init__(self) -> None:
        _tuples(self, "arguments")
        problems: list[Problem] = []
        _pattern(problems, "name", self.name, _IDENTIFIER, "a UPnP name")
        for name in _duplicates(a.name for a in self.arguments):
            problems.append(Problem("arguments", f"{name!r} is declared twice"))
        directions = [a.direction for a in self.arguments]
        if "out" in directions and "in" in directions[directions.index("out") :]:
            problems.append(
                Problem("arguments", "in-arguments must all come before out-arguments")
            )
        for position, argument in enumerate(self.outArguments):
            if argument.retval and position != 0:
                problems.append(
                    Problem(
                        "arguments",
                        f"retval is only allowed on the first out-argument, "
                        f"not on {argument.name!r}",
                    )
                )
        _check(f"action {self.name!r}", problems)

    @functools.cached_property
    def inArguments(self) -> tuple[Argument, ...]:
        return tuple(a for a in self.arguments if a.direction == "in")

    @functools.cached_property
    def _inNames(self) -> frozenset[str]:
        return frozenset(a.name for a in self.inArguments)

    def argumentProblems(self, given: Iterable[str]) -> list[str]:
        """
        What is wrong with the in-argument names of a call, each as a phrase
        (C{"missing A, B"}, C{"unexpected C"}, C{"repeated D"}); empty when
        they are exactly the declared ones.
        """
        names = list(given)
        unique = set(names)
        if len(unique) == len(names) and unique == self._inNames:
            return []
        counts = Counter(names)
        declared = [a.name for a in self.inArguments]
        missing = [n for n in declared if n not in counts]
        extra = sorted(n for n in counts if n not in declared)
        repeated = sorted(n for n, count in counts.items() if count > 1)
        problems = []
        if missing:
            problems.append("missing " + ", ".join(missing))
        if extra:
            problems.append("unexpected " + ", ".join(extra))
        if repeated:
            problems.append("repeated " + ", ".join(repeated))
        return problems

    @functools.cached_property
    def outArguments(self) -> tuple[Argument, ...]:
        return tuple(a for a in self.arguments if a.direction == "out")


@dataclass(frozen=True)
class AllowedValueRange:
    """
    The range of a numeric state variable, as wire text.
    """

    minimum: str
    maximum: str
    step: str | None = None


def _off_step(value: Any, low: Any, step: Any) -> bool:
    """
    Whether C{value} is not C{low} plus a whole number of C{step}s: exactly
    for integers and fixed-point values, within rounding for floating-point
    types (0.1 + 0.2 is on a step of 0.1).
    """
    if isinstance(low, float) or isinstance(value, float):
        steps = (float(value) - float(low)) / float(step)
        return abs(steps - round(steps)) > 1e-9 * max(1.0, abs(steps))
    return bool((value - low) % step)


@dataclass(frozen=True)
class StateVariable:
    """
    A state variable.  Values (default, allowed values, range) are wire text
    of the variable's C{dataType}; they are checked against it here.
    """

    name: str
    dataType: str
    sendEvents: bool = False
    multicast: bool = False
    defaultValue: str | None = None
    allowedValues: tuple[str, ...] | None = None
    allowedValueRange: AllowedValueRange | None = None
    # Not part of the SCPD: the longest string an action accepts (UPnP error
    # 605 beyond it), and event moderation (UDA 1.1 4.3.2): at most one event
    # per maximumRate seconds, and only changes of at least minimumDelta.
    maxLength: int | None = None
    maximumRate: float | None = None
    minimumDelta: float | None = None

    def __post_init__(self) -> None:
        _tuples(self, "allowedValues")
        problems: list[Problem] = []
        _pattern(problems, "name", self.name, _IDENTIFIER, "a UPnP name")
        if self.dataType not in datatypes.DATA_TYPES:
            problems.append(
                Problem("dataType", f"{self.dataType!r} is not a UPnP data type")
            )
            _check(f"state variable {self.name!r}", problems)
        if self.allowedValues is not None and self.allowedValueRange is not None:
            problems.append(
                Problem(
                    "allowedValueList",
                    "cannot be combined with allowedValueRange",
                )
            )
        if self.allowedValues is not None:
            if self.dataType != "string":
                problems.append(
                    Problem(
                        "allowedValueList",
                        f"is only allowed for string variables, not {self.dataType}",
                    )
                )
            if not self.allowedValues:
                problems.append(Problem("allowedValueList", "is empty"))
            for value in self.allowedValues:
                if not datatypes.is_xml_text(value):
                    problems.append(
                        Problem(
                            "allowedValueList",
                            f"{value!r} contains a control character XML cannot carry",
                        )
                    )
            for value in _duplicates(self.allowedValues):
                problems.append(
                    Problem("allowedValueList", f"{value!r} is listed twice")
                )
        if self.maxLength is not None and (type(self.maxLength) is not int or self.maxLength < 1):
            problems.append(Problem("maxLength", f"{self.maxLength!r} is not a positive integer"))
        for name in ("maximumRate", "minimumDelta"):
            value = getattr(self, name)
            if value is None:
                continue
            if not self.sendEvents:
                problems.append(Problem(name, "is only for evented variables"))
            elif isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                problems.append(Problem(name, f"{value!r} is not a positive number"))
        if self.minimumDelta is not None and not datatypes.is_numeric(self.dataType):
            problems.append(Problem("minimumDelta", f"is only for numeric variables, not {self.dataType}"))
        bounds = None
        if self.allowedValueRange is not None:
            bounds = self._checkRange(self.allowedValueRange, problems)
        if self.defaultValue is not None:
            default = self._checkValue("defaultValue", self.defaultValue, problems)
            if bounds is not None and default is not None and not (
                bounds[0] <= default <= bounds[1]  # type: ignore[operator]
            ):
                problems.append(
                    Problem(
                        "defaultValue",
                        f"{self.defaultValue!r} is outside the allowedValueRange",
                    )
                )
        _check(f"state variable {self.name!r}", problems)

    # -- values: the one place a value is checked against its declaration ------------

    @functools.cached_property
    def _limits(self) -> tuple[Any, Any, Any] | None:
        """
        The allowedValueRange as Python values (minimum, maximum, step or
        C{None}), parsed once; C{None} without a range.
        """
        r = self.allowedValueRange
        if r is None:
            return None
        parse = functools.partial(datatypes.parse_value, self.dataType)
        return parse(r.minimum), parse(r.maximum), parse(r.step) if r.step is not None else None

    def _checkLength(self, text: str) -> None:
        if self.maxLength is not None and len(text) > self.maxLength:
            raise datatypes.TooLong(
                f"{datatypes.shown(text)} is {len(text)} characters long; "
                f"{self.name} takes at most {self.maxLength}"
            )

    def _checkLimits(self, value: Any) -> None:
        """
        Check a value of the right type against the allowed list and the
        range with its step.
        """
        if self.allowedValues is not None and value not in self.allowedValues:
            raise datatypes.OutOfRange(
                f"{datatypes.shown(value)} is not an allowed value of {self.name}"
            )
        limits = self._limits
        if limits is None:
            return
        low, high, step = limits
        if not low <= value <= high:
            raise datatypes.OutOfRange(
                f"{datatypes.shown(value)} is outside {low}..{high} for {self.name}"
            )
        if step is not None and _off_step(value, low, step):
            raise datatypes.OutOfRange(
                f"{datatypes.shown(value)} is not on a step of {step} from {low} for {self.name}"
            )

    def parse(self, text: str) -> Any:
        """
        The Python value of wire text, checked against this declaration:
        the data type, maxLength, the allowed list and the range and step.

        @raise datatypes.TooLong: beyond maxLength (UPnP error 605).
        @raise datatypes.OutOfRange: outside the type's or the declared range,
            off the step, or not an allowed value (601).
        @raise datatypes.InvalidValue: not of the data type (600).
        """
        self._checkLength(text)
        value = datatypes.parse_value(self.dataType, text)
        self._checkLimits(value)
        return value

    def format(self, value: object) -> str:
        """
        The wire text of a Python value, checked against this declaration
        as L{parse} checks text.

        @raise datatypes.InvalidValue: (or its subclasses) as L{parse}.
        """
        text = datatypes.format_value(self.dataType, value)
        self._checkLength(text)
        self._checkLimits(value)
        return text

    def check(self, value: object) -> None:
        """
        Whether a Python value may be this variable's: as L{format}, without
        the text.
        """
        self.format(value)

    def _checkValue(self, name: str, text: str, problems: list[Problem]) -> object:
        try:
            value = datatypes.parse_value(self.dataType, text)
        except datatypes.InvalidValue as e:
            problems.append(Problem(name, str(e)))
            return None
        if self.allowedValues is not None and text not in self.allowedValues:
            problems.append(
                Problem(name, f"{text!r} is not in the allowedValueList")
            )
        return value

    def _checkRange(
        self, r: AllowedValueRange, problems: list[Problem]
    ) -> tuple[object, object] | None:
        """
        Check the range; give its parsed minimum and maximum when sound.
        """
        if not datatypes.is_numeric(self.dataType):
            problems.append(
                Problem(
                    "allowedValueRange",
                    f"is only allowed for numeric variables, not {self.dataType}",
                )
            )
            return None
        low = self._checkValue("minimum", r.minimum, problems)
        high = self._checkValue("maximum", r.maximum, problems)
        if r.step is not None:
            step = self._checkValue("step", r.step, problems)
            if step is not None and step <= 0:  # type: ignore[operator]
                problems.append(Problem("step", f"{r.step!r} is not positive"))
        if low is None or high is None:
            return None
        if low > high:  # type: ignore[operator]
            problems.append(
                Problem(
                    "allowedValueRange",
                    f"minimum {r.minimum} is greater than maximum {r.maximum}",
                )
            )
            return None
        return low, high


@dataclass(frozen=True)
class ServiceDescription:
    """
    What a service description (SCPD) says: its actions and state variables.
    """

    actions: tuple[Action, ...]
    stateVariables: tuple[StateVariable, ...]

    def __post_init__(self) -> None:
        _tuples(self, "actions", "stateVariables")
        problems: list[Problem] = []
        if not self.stateVariables:
            problems.append(
                Problem("serviceStateTable", "must declare at least one state variable")
            )
        for name in _duplicates(a.name for a in self.actions):
            problems.append(Problem("actionList", f"action {name!r} is declared twice"))
        variables = {v.name for v in self.stateVariables}
        for name in _duplicates(v.name for v in self.stateVariables):
            problems.append(
                Problem("serviceStateTable", f"state variable {name!r} is declared twice")
            )
        for action in self.actions:
            for argument in action.arguments:
                if argument.relatedStateVariable not in variables:
                    problems.append(
                        Problem(
                            "actionList",
                            f"argument {argument.name!r} of action {action.name!r} "
                            f"refers to the undeclared state variable "
                            f"{argument.relatedStateVariable!r}",
                        )
                    )
        _check("service description", problems)

    def action(self, name: str) -> Action | None:
        for action in self.actions:
            if action.name == name:
                return action
        return None

    def stateVariable(self, name: str) -> StateVariable | None:
        for variable in self.stateVariables:
            if variable.name == name:
                return variable
        return None


@dataclass(frozen=True)
class Service:
    """
    A service of a device: what it is, its description, and (optionally)
    the provider that implements it.
    """

    serviceType: str
    serviceId: str
    description: ServiceDescription
    # What implements the actions (an IServiceProvider), or None for a
    # service that is only announced and described.
    provider: Any = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        _pattern(
            problems,
            "serviceType",
            self.serviceType,
            SERVICE_TYPE,
            "urn:domain-name:service:Name:version",
        )
        _pattern(
            problems,
            "serviceId",
            self.serviceId,
            SERVICE_ID,
            "urn:domain-name:serviceId:Name",
        )
        _check(f"service {self.serviceId!r}", problems)


@dataclass(frozen=True)
class Device:
    """
    A device: the root device, or one embedded in another at any depth.

    UDA 1.1 2.3 requires deviceType, friendlyName, manufacturer, modelName and
    UDN; the other fields are optional (C{None}).  C{presentationURL} is
    relative to the description URL or absolute.
    """

    deviceType: str
    friendlyName: str
    manufacturer: str
    modelName: str
    UDN: str
    manufacturerURL: str | None = None
    modelDescription: str | None = None
    modelNumber: str | None = None
    modelURL: str | None = None
    serialNumber: str | None = None
    UPC: str | None = None
    presentationURL: str | None = None
    icons: tuple[Icon, ...] = ()
    services: tuple[Service, ...] = ()
    devices: tuple[Device, ...] = ()
    # Not part of the description: the device's own page (served at its
    # presentationURL when it has none, or a relative one that names no
    # other resource): "full" (state and actions), "view" (state only) or
    # "off".
    presentation: str = "full"

    def __post_init__(self) -> None:
        _tuples(self, "icons", "services", "devices")
        problems: list[Problem] = []
        _pattern(
            problems,
            "deviceType",
            self.deviceType,
            DEVICE_TYPE,
            "urn:domain-name:device:Name:version",
        )
        _pattern(problems, "UDN", self.UDN, UDN, "uuid: followed by an RFC 4122 UUID")
        for name in ("friendlyName", "manufacturer", "modelName"):
            _text(problems, name, getattr(self, name), required=True)
        for name in ("modelDescription", "modelNumber", "serialNumber"):
            _text(problems, name, getattr(self, name), required=False)
        for name in ("manufacturerURL", "modelURL", "presentationURL"):
            _url(problems, name, getattr(self, name))
        if self.UPC is not None:
            _pattern(problems, "UPC", self.UPC, UPC, "12 digits")
        if self.presentation not in PRESENTATIONS:
            problems.append(
                Problem("presentation", f"{self.presentation!r} is not full, view or off")
            )
        if self.icons and not any(i.mimetype == "image/png" for i in self.icons):
            problems.append(Problem("icons", "at least one icon must be a PNG"))
        for serviceId in _duplicates(s.serviceId for s in self.services):
            problems.append(
                Problem("services", f"serviceId {serviceId!r} is used twice")
            )
        # UDNs compare case-insensitively: they are UUIDs.
        spelled = {d.UDN.lower(): d.UDN for d in self.allDevices()}
        for udn in _duplicates(d.UDN.lower() for d in self.allDevices()):
            problems.append(
                Problem("devices", f"UDN {spelled[udn]!r} is used by two devices")
            )
        _check(f"device {self.friendlyName!r}", problems)

    def allDevices(self) -> Iterator[Device]:
        """
        This device, then every embedded device, depth first.
        """
        yield self
        for device in self.devices:
            yield from device.allDevices()

    def find(self, udn: str) -> Device | None:
        """
        The device of this tree with this UDN (compared case-insensitively).
        """
        udn = udn.lower()
        for device in self.allDevices():
            if device.UDN.lower() == udn:
                return device
        return None
