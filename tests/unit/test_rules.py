"""
One implementation of every value rule: a provider's own assignment is
refused exactly where SOAP refuses the same value from a control point
(range, step, allowed list, maxLength), with the matching UPnP error, and
the client refuses it before sending.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.web.iweb import IAgent
from zope.interface import implementer
from zope.interface.verify import verifyObject

from upnp_announce import datatypes
from upnp_announce.client import ClientError, ControlPoint, RemoteService
from upnp_announce.device.control import ActionInvoker
from upnp_announce.provider import ServiceProvider, StateVariable, action
from upnp_announce.wire import soap
from upnp_announce.wire.description import render
from upnp_announce.wire.scpd import parse_scpd

from support import device


class Probe(ServiceProvider):
    serviceType = "urn:example-com:service:Probe:1"
    serviceId = "urn:example-com:serviceId:Probe"

    Level = StateVariable("ui1", default=0, range=(0, 10, 2))
    Name = StateVariable("string", default="", maxLength=4)
    Mode = StateVariable("string", default="auto", allowed=["auto", "heat", "cool"])
    Offset = StateVariable("i4", default=0, range=(-100, 100, 5))
    Ratio = StateVariable("r8", default=0.0, range=(-1.5, 1.5))
    Gain = StateVariable("r8", default=0.0, range=(0.0, 10.0, 0.5))

    @action(NewLevel=Level)
    def SetLevel(self, NewLevel: int) -> None:
        self.Level = NewLevel

    @action(NewName=Name)
    def SetName(self, NewName: str) -> None:
        self.Name = NewName

    @action(NewMode=Mode)
    def SetMode(self, NewMode: str) -> None:
        self.Mode = NewMode

    @action(NewOffset=Offset)
    def SetOffset(self, NewOffset: int) -> None:
        self.Offset = NewOffset

    @action(NewRatio=Ratio)
    def SetRatio(self, NewRatio: float) -> None:
        self.Ratio = NewRatio

    @action(NewGain=Gain)
    def SetGain(self, NewGain: float) -> None:
        self.Gain = NewGain


# The UPnP error SOAP answers for each refusal of the model's check.
CODES = {datatypes.TooLong: 605, datatypes.OutOfRange: 601, datatypes.InvalidValue: 600}


def assigned(variable: str, value: object) -> int:
    """
    What assigning C{value} does: 200 when taken, else the UPnP error code
    of the refusal.
    """
    probe = Probe()
    try:
        setattr(probe, variable, value)
    except datatypes.InvalidValue as e:
        return next(code for kind, code in CODES.items() if isinstance(e, kind))
    assert getattr(probe, variable) == value
    return 200


def called(variable: str, value: object) -> int:
    """
    What the SOAP call C{Set<variable>(value)} gets: 200, or its fault code.
    """
    probe = Probe()
    invoker = ActionInvoker(probe.service(), Clock())
    text = datatypes.format_value(Probe._declared[variable].dataType, value)
    answer: Any = invoker.invoke(
        (Probe.serviceType, f"Set{variable}"),
        soap.SOAPRequest(Probe.serviceType, f"Set{variable}", ((f"New{variable}", text),)),
    )
    status, body = answer
    if status == 200:
        assert getattr(probe, variable) == value
        return 200
    with pytest.raises(soap.UPnPError) as raised:
        soap.parse_answer(body)
    return raised.value.code


def test_the_issue_example_is_refused_now() -> None:
    probe = Probe()
    with pytest.raises(datatypes.OutOfRange, match="not on a step of 2 from 0"):
        probe.Level = 3
    with pytest.raises(datatypes.TooLong, match="Name takes at most 4"):
        probe.Name = "abcdef"
    assert (probe.Level, probe.Name) == (0, "")


@pytest.mark.parametrize("variable, value, code", [
    ("Level", 4, 200), ("Level", 3, 601), ("Level", 12, 601), ("Level", 255, 601),
    ("Name", "abcd", 200), ("Name", "abcde", 605),
    ("Mode", "heat", 200), ("Mode", "Heat", 601), ("Mode", "", 601),
    ("Offset", -100, 200), ("Offset", -95, 200), ("Offset", 7, 601), ("Offset", 105, 601),
    ("Ratio", 1.5, 200), ("Ratio", -1.6, 601),
    ("Gain", 2.5, 200), ("Gain", 3.0, 200), ("Gain", 0.3, 601), ("Gain", 0.1 + 0.2 + 0.2, 200),
    ("Gain", 10.5, 601),
])
def test_assignment_and_soap_agree_on_each_rule(variable: str, value: object, code: int) -> None:
    assert assigned(variable, value) == called(variable, value) == code


@settings(max_examples=300, deadline=None, database=None)
@given(st.one_of(
    st.tuples(st.just("Level"), st.integers(0, 255)),
    st.tuples(st.just("Offset"), st.integers(-(2**31), 2**31 - 1)),
    st.tuples(st.just("Name"), st.text(alphabet="abcxyz ", max_size=8)),
    st.tuples(st.just("Mode"), st.sampled_from(["auto", "heat", "cool", "off", "AUTO", ""])),
    st.tuples(st.just("Ratio"), st.floats(-3, 3, allow_nan=False)),
    st.tuples(st.just("Gain"), st.floats(-1, 11, allow_nan=False)
              | st.integers(-2, 22).map(lambda n: n / 2)),
))
def test_assignment_is_refused_exactly_where_soap_refuses(case: tuple[str, object]) -> None:
    variable, value = case
    assert assigned(variable, value) == called(variable, value)


@implementer(IAgent)
class RecordingAgent:
    """
    An IAgent that records requests and never answers.
    """

    def __init__(self) -> None:
        self.requests: list[tuple[bytes, bytes]] = []

    def request(self, method: bytes, uri: bytes, headers: Any = None, body: Any = None) -> Any:
        self.requests.append((method, uri))
        return defer.Deferred()


@pytest.mark.parametrize("variable, value, words", [
    ("Level", 3, "not on a step"),
    ("Mode", "off", "not an allowed value"),
    ("Offset", 500, "outside -100..100"),
    ("Ratio", 2.0, "outside -1.5..1.5"),
])
def test_the_client_refuses_what_the_device_would(variable: str, value: object, words: str) -> None:
    """
    The control point checks with the same model rule before it sends,
    reading the rule from the device's own SCPD. (maxLength is not in an
    SCPD, so only the device knows it.)
    """
    rendered = render(device(services=(Probe().service(),)))
    [paths] = rendered.layout.services
    remote = parse_scpd(rendered.documents[paths.scpd], strict=False)
    agent = RecordingAgent()
    verifyObject(IAgent, agent)
    point = ControlPoint(Clock(), agent=agent)
    service = RemoteService(Probe.serviceType, Probe.serviceId, "http://192.0.2.7/s",
                            "http://192.0.2.7/c", "")
    calling = defer.Deferred.fromCoroutine(
        point.call(service, remote, f"Set{variable}", {f"New{variable}": value})
    )
    failure = calling.result
    calling.addErrback(lambda _: None)
    assert failure.check(ClientError)
    assert words in str(failure.value)
    assert agent.requests == []
    # The same value within the rule goes out.
    good = {"Level": 4, "Mode": "heat", "Offset": 5, "Ratio": 1.0}[variable]
    defer.Deferred.fromCoroutine(
        point.call(service, remote, f"Set{variable}", {f"New{variable}": good})
    )
    assert agent.requests == [(b"POST", b"http://192.0.2.7/c")]


def test_out_arguments_are_held_to_their_type_only() -> None:
    """
    What a provider returns is converted by type, as it always was; the
    ranges and lists are rules for what the device is given.
    """

    class Loose(ServiceProvider):
        serviceType = "urn:example-com:service:Loose:1"
        serviceId = "urn:example-com:serviceId:Loose"
        Level = StateVariable("ui1", default=0, range=(0, 10, 2))

        @action(returns={"CurrentLevel": Level})
        def GetLevel(self) -> int:
            return 3

    invoker = ActionInvoker(Loose().service(), Clock())
    status, body = invoker.invoke(  # type: ignore[misc]
        (Loose.serviceType, "GetLevel"), soap.SOAPRequest(Loose.serviceType, "GetLevel", ())
    )
    assert status == 200 and b"<CurrentLevel>3</CurrentLevel>" in body
