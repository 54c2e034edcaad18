"""
What the control, eventing and security groups send and read: the values
used in calls (good ones, and ones of the wrong type or out of range,
each confirmed by the model's own check), the actions safe to call, and the
reading of UPnP faults.
"""

from __future__ import annotations

import decimal
from collections.abc import Sequence

from twisted.web.http_headers import Headers

from upnp_announce import datatypes
from upnp_announce.client.conform.probe import Probe, ServiceUnderTest
from upnp_announce.model import Action, StateVariable
from upnp_announce.wire import soap, xmlsafe
from upnp_announce.wire.xmlsafe import CONTENT_TYPE

__all__ = [
    "NO_SUCH_ACTION",
    "call",
    "invalid_value",
    "out_of_range_value",
    "queries",
    "read_fault",
    "sample_value",
    "takers",
]

# The action name no device has: calls that must fail name it.
NO_SUCH_ACTION = "XConformNoSuchAction"

_SAMPLES = {
    "boolean": "0",
    "char": "a",
    "date": "2000-01-01",
    "dateTime": "2000-01-01T00:00:00",
    "dateTime.tz": "2000-01-01T00:00:00Z",
    "time": "00:00:00",
    "time.tz": "00:00:00Z",
    "uri": "http://example.invalid/",
    "uuid": "00000000-0000-0000-0000-000000000000",
    "bin.hex": "00",
    "bin.base64": "AA==",
}
# Text no value of these types is (tried in order).
_INVALID = ("conform?", "@@", "ab")
# Just past the end of the bounded integer types.
_TYPE_LIMITS = {"ui1": "256", "ui2": "65536", "ui4": "4294967296", "ui8": "18446744073709551616",
                "i1": "128", "i2": "32768", "i4": "2147483648", "i8": "9223372036854775808",
                "r4": "1e39"}


def _is(variable: StateVariable, text: str, error: type[Exception] | None) -> bool:
    """
    Whether the model's check of C{text} raises exactly C{error} (C{None}:
    nothing).
    """
    try:
        variable.parse(text)
    except datatypes.OutOfRange:
        return error is datatypes.OutOfRange
    except datatypes.InvalidValue:
        return error is datatypes.InvalidValue
    return error is None


def sample_value(variable: StateVariable) -> str:
    """
    A valid value of C{variable}: its default, its first allowed value, its
    minimum, or one of its type.
    """
    candidates = [variable.defaultValue]
    candidates += list(variable.allowedValues or ())
    if variable.allowedValueRange is not None:
        candidates.append(variable.allowedValueRange.minimum)
    candidates += [_SAMPLES.get(variable.dataType, "0"), ""]
    for text in candidates:
        if text is not None and _is(variable, text, None):
            return text
    return ""


def invalid_value(variable: StateVariable) -> str | None:
    """
    Text that is not a value of C{variable}'s type (UPnP error 600), or
    C{None} when every text is (a string).
    """
    for text in _INVALID:
        if _is(variable, text, datatypes.InvalidValue):
            return text
    return None


def out_of_range_value(variable: StateVariable) -> str | None:
    """
    A value of C{variable}'s type outside its range, its allowed list or
    the type's own range (UPnP error 601), or C{None} when there is none.
    """
    candidates = ["XConformNotAllowed"]
    if variable.allowedValueRange is not None:
        r = variable.allowedValueRange
        try:
            high = decimal.Decimal(r.maximum)
            low = decimal.Decimal(r.minimum)
            step = decimal.Decimal(r.step) if r.step is not None else decimal.Decimal(1)
        except decimal.InvalidOperation:
            pass
        else:
            for value in (high + step, low - step):
                text = format(value, "f")
                candidates += [text.rstrip("0").rstrip(".") if "." in text else text]
    limit = _TYPE_LIMITS.get(variable.dataType)
    if limit is not None:
        candidates.append(limit)
    for text in candidates:
        if _is(variable, text, datatypes.OutOfRange):
            return text
    return None


def queries(service: ServiceUnderTest) -> list[Action]:
    """
    The actions safe to call anytime: C{Get...} without in-arguments.
    """
    assert service.description is not None
    return [a for a in service.description.actions
            if a.name.startswith("Get") and not a.inArguments]


def takers(probe: Probe, service: ServiceUnderTest) -> list[Action]:
    """
    The actions with in-arguments that calls with wrong arguments may name:
    C{Get...} ones, and with C{--invoke} any (C{Get...}, then C{Set...},
    then the others).
    """
    assert service.description is not None
    chosen = [a for a in service.description.actions
              if a.inArguments and (probe.invoke or a.name.startswith("Get"))]
    return sorted(chosen, key=lambda a: (not a.name.startswith("Get"),
                                         not a.name.startswith("Set")))


def arguments(service: ServiceUnderTest, action: Action) -> list[tuple[str, str]]:
    """
    A valid value for each in-argument of C{action}.
    """
    assert service.description is not None
    texts = []
    for argument in action.inArguments:
        variable = service.description.stateVariable(argument.relatedStateVariable)
        assert variable is not None  # the model guarantees it
        texts.append((argument.name, sample_value(variable)))
    return texts


async def call(
    probe: Probe,
    service: ServiceUnderTest,
    action: str,
    texts: Sequence[tuple[str, str]],
    *,
    soapAction: bytes | None = None,
    contentType: bytes = CONTENT_TYPE,
    body: bytes | None = None,
    undoing: bool = False,
) -> tuple[int, Headers, bytes]:
    """
    POST a call of C{action} to C{service}'s controlURL.

    @param soapAction: the SOAPACTION header; by default the one naming
        C{action}.
    @param body: the body, instead of the call's envelope.
    @param undoing: the call sets back what the tester changed (see
        L{Probe.exchange}).
    """
    serviceType = service.remote.serviceType
    return await probe.exchange(
        b"POST",
        service.remote.controlURL,
        {
            b"content-type": contentType,
            b"soapaction": soapAction or f'"{serviceType}#{action}"'.encode("utf-8"),
        },
        body if body is not None else soap.request(serviceType, action, texts),
        undoing=undoing,
    )


_S = f"{{{soap.ENVELOPE_NS}}}"


def read_fault(status: int, body: bytes) -> tuple[int | None, list[str]]:
    """
    The errorCode of a fault answer (read liberally), and what is wrong
    with its form (read strictly: HTTP 500, s:Fault, faultcode s:Client,
    faultstring UPnPError, detail/UPnPError in the control namespace with
    errorCode and errorDescription).
    """
    code = None
    try:
        soap.parse_answer(body)
    except soap.UPnPError as e:
        code = e.code
    except soap.SOAPError:
        pass
    problems = []
    if status != 500:
        problems.append(f"HTTP {status}, not 500")
    try:
        root = xmlsafe.parse(body, maxDepth=16, maxElements=2000)
    except xmlsafe.UnsafeXML as e:
        return code, problems + [f"the fault is not XML ({e})"]
    faults = root.findall(f"{_S}Body/{_S}Fault")
    if root.tag != f"{_S}Envelope" or len(faults) != 1:
        return code, problems + ["no s:Envelope/s:Body/s:Fault"]
    fault = faults[0]
    faultcode = (fault.findtext("faultcode") or "").strip()
    prefix, _, local = faultcode.rpartition(":")
    if local != "Client" or fault.nsmap.get(prefix or None) != soap.ENVELOPE_NS:
        problems.append(f"faultcode {faultcode[:40]!r}, not s:Client")
    if (fault.findtext("faultstring") or "").strip() != "UPnPError":
        problems.append("faultstring is not UPnPError")
    error = fault.find(f"detail/{{{soap.CONTROL_NS}}}UPnPError")
    if error is None:
        problems.append(f"no detail/UPnPError in {soap.CONTROL_NS}")
    else:
        for name in ("errorCode", "errorDescription"):
            if error.find(f"{{{soap.CONTROL_NS}}}{name}") is None:
                problems.append(f"UPnPError has no {name}")
    return code, problems
