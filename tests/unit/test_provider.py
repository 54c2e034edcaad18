"""
Tests for upnp_announce.provider: a service from declarations (state
variables and actions), its generated description, callAction's calling and
return conventions, state that validates and tells its watchers; and the
built-in binarylight provider.
"""

from __future__ import annotations

from typing import Any

import pytest
import pytest_twisted
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet import defer, task
from twisted.plugin import IPlugin
from twisted.python.failure import Failure
from zope.interface import implementer
from zope.interface.verify import verifyClass, verifyObject

from upnp_announce import UPnPError, datatypes, model
from upnp_announce.plugins.binarylight import BinaryLight, SwitchPower, binarylight
from upnp_announce.provider import (
    DeviceProvider,
    IDeviceProvider,
    IProviderFactory,
    IServiceProvider,
    OptionError,
    ProviderFactory,
    ServiceProvider,
    StateVariable,
    action,
    service_model,
)

from support import ROOT_UDN

quick = settings(database=None, deadline=None)

SWITCH_POWER = "urn:schemas-upnp-org:service:SwitchPower:1"
BINARY_LIGHT = "urn:schemas-upnp-org:device:BinaryLight:1"


# -- helpers ------------------------------------------------------------------


def succeeded(d: defer.Deferred[Any]) -> Any:
    """
    The result of a Deferred that has already fired with a success.
    """
    assert isinstance(d, defer.Deferred)
    results: list[object] = []
    d.addBoth(results.append)
    assert len(results) == 1, "the Deferred has not fired"
    assert not isinstance(results[0], Failure), results[0]
    return results[0]


def failed(d: defer.Deferred[Any]) -> Failure:
    """
    The Failure of a Deferred that has already fired with one (handled here).
    """
    assert isinstance(d, defer.Deferred)
    results: list[object] = []
    d.addBoth(results.append)
    assert len(results) == 1, "the Deferred has not fired"
    assert isinstance(results[0], Failure), results[0]
    return results[0]


class Recorder:
    """
    A watcher that records its calls.
    """

    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    def __call__(self, name: str, value: object) -> None:
        self.calls.append((name, value))


# -- test services --------------------------------------------------------------


class Thermostat(ServiceProvider):
    """
    A thermostat for the tests: one of each kind of declaration.
    """

    serviceType = "urn:example-com:service:Thermostat:1"
    serviceId = "urn:example-com:serviceId:Thermostat1"

    Mode = StateVariable("string", default="auto", evented=True, allowed=("auto", "heat", "off"))
    Temperature = StateVariable("i4", default=20, evented=True, range=(5, 30, 1))
    Label = StateVariable("string", maxLength=16)
    Enabled = StateVariable("boolean", default=True)
    step = StateVariable("i4", name="A_ARG_TYPE_Step", range=(-5, 5))

    def __init__(self) -> None:
        super().__init__()
        self.configured: list[tuple[object, object]] = []

    @action(NewMode=Mode)
    def SetMode(self, NewMode: str) -> None:
        self.Mode = NewMode

    @action(returns={"CurrentTemperature": Temperature})
    def GetTemperature(self) -> int:
        return int(self.Temperature)

    @action(name="Adjust", Step=step, returns={"NewTemperature": Temperature, "CurrentMode": Mode})
    def adjust(self, Step: int) -> dict[str, object]:
        self.step = Step
        self.Temperature = self.Temperature + Step
        return {"NewTemperature": self.Temperature, "CurrentMode": self.Mode}

    @action(NewLabel=Label, NewEnabled=Enabled)
    def Configure(self, NewLabel: str, NewEnabled: bool) -> None:
        self.configured.append((NewLabel, NewEnabled))
        self.Label = NewLabel
        self.Enabled = NewEnabled


THERMOSTAT_DESCRIPTION = model.ServiceDescription(
    actions=(
        model.Action("SetMode", (model.Argument("NewMode", "in", "Mode"),)),
        model.Action("GetTemperature", (model.Argument("CurrentTemperature", "out", "Temperature"),)),
        model.Action(
            "Adjust",
            (
                model.Argument("Step", "in", "A_ARG_TYPE_Step"),
                model.Argument("NewTemperature", "out", "Temperature"),
                model.Argument("CurrentMode", "out", "Mode"),
            ),
        ),
        model.Action(
            "Configure",
            (
                model.Argument("NewLabel", "in", "Label"),
                model.Argument("NewEnabled", "in", "Enabled"),
            ),
        ),
    ),
    stateVariables=(
        model.StateVariable(
            "Mode", "string", sendEvents=True, defaultValue="auto",
            allowedValues=("auto", "heat", "off"),
        ),
        model.StateVariable(
            "Temperature", "i4", sendEvents=True, defaultValue="20",
            allowedValueRange=model.AllowedValueRange("5", "30", "1"),
        ),
        model.StateVariable("Label", "string", maxLength=16),
        model.StateVariable("Enabled", "boolean", defaultValue="1"),
        model.StateVariable(
            "A_ARG_TYPE_Step", "i4", allowedValueRange=model.AllowedValueRange("-5", "5")
        ),
    ),
)


class Meter(ServiceProvider):
    """
    Evented variables without actions, of a few data types.
    """

    serviceType = "urn:example-com:service:Meter:1"
    serviceId = "urn:example-com:serviceId:Meter1"

    Reading = StateVariable("r8", default=0.5, evented=True)
    Level = StateVariable("ui1", default=0, evented=True)
    On = StateVariable("boolean", default=False, evented=True)
    Note = StateVariable("string")


class Dimmer(ServiceProvider):
    """
    A whole service in about twenty lines: sync, Deferred and async actions.
    """

    serviceType = "urn:schemas-upnp-org:service:Dimming:1"
    serviceId = "urn:upnp-org:serviceId:Dimming"

    LoadLevelTarget = StateVariable("ui1", default=0, range=(0, 100))
    LoadLevelStatus = StateVariable("ui1", default=0, evented=True, range=(0, 100))

    def __init__(self, hardware: defer.Deferred[None]) -> None:
        super().__init__()
        self.hardware = hardware  # fires when the lamp has settled

    @action(newLoadlevelTarget=LoadLevelTarget)
    def SetLoadLevelTarget(self, newLoadlevelTarget: int) -> None:
        self.LoadLevelTarget = newLoadlevelTarget

    @action(returns={"retLoadlevelTarget": LoadLevelTarget})
    def GetLoadLevelTarget(self) -> defer.Deferred[object]:
        return defer.succeed(self.LoadLevelTarget)

    @action(returns={"retLoadlevelStatus": LoadLevelStatus})
    async def GetLoadLevelStatus(self) -> object:
        await self.hardware
        self.LoadLevelStatus = self.LoadLevelTarget
        return self.LoadLevelStatus

    @action()
    def StepDown(self) -> None:
        if self.LoadLevelTarget == 0:
            raise UPnPError(701, "Already off")
        self.LoadLevelTarget -= 1


class Sloppy(ServiceProvider):
    """
    Actions that return whatever the test puts in C{answer}, plainly, in a
    Deferred, or from a coroutine.
    """

    serviceType = "urn:example-com:service:Sloppy:1"
    serviceId = "urn:example-com:serviceId:Sloppy1"

    Value = StateVariable("ui4", default=0)

    answer: object = None

    @action()
    def Quiet(self) -> object:
        return self.answer

    @action(returns={"Out": Value})
    def One(self) -> object:
        return self.answer

    @action(returns={"First": Value, "Second": Value})
    def Two(self) -> object:
        return self.answer

    @action(returns={"First": Value, "Second": Value})
    def TwoLater(self) -> object:
        return defer.succeed(self.answer)

    @action(returns={"First": Value, "Second": Value})
    async def TwoAsync(self) -> object:
        return self.answer


@implementer(IServiceProvider)
class HandMade:
    """
    An IServiceProvider written without the base class.
    """

    serviceType = "urn:example-com:service:HandMade:1"
    serviceId = "urn:example-com:serviceId:HandMade1"
    description = model.ServiceDescription((), (model.StateVariable("X", "ui1"),))

    def callAction(self, name: str, arguments: object) -> object:
        return {}

    def stateValue(self, name: str) -> object:
        return 0

    def watch(self, callback: object) -> object:
        return lambda: None


# -- interfaces -----------------------------------------------------------------


def test_switchpower_provides_IServiceProvider() -> None:
    assert verifyClass(IServiceProvider, SwitchPower)
    assert verifyObject(IServiceProvider, SwitchPower())


def test_declared_test_services_provide_IServiceProvider() -> None:
    assert verifyClass(IServiceProvider, ServiceProvider)
    assert verifyObject(IServiceProvider, Thermostat())
    assert verifyObject(IServiceProvider, Meter())
    assert verifyObject(IServiceProvider, Dimmer(defer.Deferred()))
    assert verifyObject(IServiceProvider, Sloppy())
    assert verifyObject(IServiceProvider, HandMade())


def test_binarylight_provides_IDeviceProvider() -> None:
    assert verifyClass(IDeviceProvider, DeviceProvider)
    assert verifyClass(IDeviceProvider, BinaryLight)
    light = BinaryLight()
    assert verifyObject(IDeviceProvider, light)
    for service in light.services:
        assert verifyObject(IServiceProvider, service)


def test_binarylight_factory_provides_IProviderFactory_and_IPlugin() -> None:
    assert verifyClass(IProviderFactory, ProviderFactory)
    assert verifyClass(IPlugin, ProviderFactory)
    assert verifyObject(IProviderFactory, binarylight)
    assert verifyObject(IPlugin, binarylight)
    assert binarylight.name == "binarylight"
    assert binarylight.kind == "device"
    assert binarylight.summary == "UPnP BinaryLight:1 with SwitchPower:1: a light that is on or off"
    assert binarylight.keys == {"on": "whether the light is on at start: 0 or 1 (default 0)"}


# -- declarations ---------------------------------------------------------------


def test_declarations_generate_the_exact_description() -> None:
    assert Thermostat.description == THERMOSTAT_DESCRIPTION
    # Spot checks that name what the whole-value comparison covers.
    assert [a.name for a in Thermostat.description.actions] == [
        "SetMode", "GetTemperature", "Adjust", "Configure",
    ]
    assert Thermostat.description.stateVariable("Label").maxLength == 16
    assert Thermostat.description.stateVariable("Label").defaultValue is None
    assert Thermostat().description is Thermostat.description


def test_switchpower_description_is_the_standard_one() -> None:
    assert SwitchPower.description == model.ServiceDescription(
        (
            model.Action("SetTarget", (model.Argument("newTargetValue", "in", "Target"),)),
            model.Action("GetTarget", (model.Argument("RetTargetValue", "out", "Target"),)),
            model.Action("GetStatus", (model.Argument("ResultStatus", "out", "Status"),)),
        ),
        (
            model.StateVariable("Target", "boolean", defaultValue="0"),
            model.StateVariable("Status", "boolean", sendEvents=True, defaultValue="0"),
        ),
    )
    assert SwitchPower.serviceType == SWITCH_POWER
    assert SwitchPower.serviceId == "urn:upnp-org:serviceId:SwitchPower"


def test_state_variable_declaration_as_model() -> None:
    declared = StateVariable("ui2", default=7, evented=True, multicast=True, range=(1, 9, 2))
    declared.__set_name__(Thermostat, "Speed")
    assert declared.model() == model.StateVariable(
        "Speed", "ui2", sendEvents=True, multicast=True, defaultValue="7",
        allowedValueRange=model.AllowedValueRange("1", "9", "2"),
    )
    # An explicit name survives being assigned to an attribute.
    named = StateVariable("string", name="X_Vendor")
    named.__set_name__(Thermostat, "vendor")
    assert named.model().name == "X_Vendor"


def test_a_default_of_the_wrong_type_is_refused_when_the_class_is_made() -> None:
    with pytest.raises(datatypes.InvalidValue) as raised:

        class Broken(ServiceProvider):
            serviceType = "urn:example-com:service:Broken:1"
            serviceId = "urn:example-com:serviceId:Broken1"
            Flag = StateVariable("boolean", default=1)

    assert str(raised.value) == "1 is not a valid boolean value (expected a bool, not int)"


def test_name_overrides_action_and_variable_names() -> None:
    assert Thermostat.description.action("Adjust") is not None
    assert Thermostat.description.action("adjust") is None
    assert Thermostat.description.stateVariable("A_ARG_TYPE_Step") is not None
    assert Thermostat.description.stateVariable("step") is None
    # On the class the attribute is the declaration; on an instance, the value.
    assert isinstance(Thermostat.step, StateVariable)
    assert Thermostat.step.name == "A_ARG_TYPE_Step"
    thermostat = Thermostat()
    assert thermostat.step is None
    thermostat.step = 3
    assert thermostat.stateValue("A_ARG_TYPE_Step") == 3
    assert thermostat.callAction("Adjust", {"Step": -2}) == {
        "NewTemperature": 18, "CurrentMode": "auto",
    }
    assert thermostat.step == -2


class ResettableThermostat(Thermostat):
    """
    A subclass that adds a variable and an action, and changes one.
    """

    Resets = StateVariable("ui4", default=0, evented=True)

    @action(returns={"ResetCount": Resets})
    def Reset(self) -> int:
        self.Temperature = 20
        self.Resets += 1
        return int(self.Resets)

    def GetTemperature(self) -> int:  # no @action: the parent's declaration stays
        return -1


def test_a_subclass_keeps_the_parents_actions_and_variables() -> None:
    description = ResettableThermostat.description
    assert description.actions == THERMOSTAT_DESCRIPTION.actions + (
        model.Action("Reset", (model.Argument("ResetCount", "out", "Resets"),)),
    )
    assert description.stateVariables == THERMOSTAT_DESCRIPTION.stateVariables + (
        model.StateVariable("Resets", "ui4", sendEvents=True, defaultValue="0"),
    )
    # The parent is left as it was.
    assert Thermostat.description == THERMOSTAT_DESCRIPTION
    thermostat = ResettableThermostat()
    assert verifyObject(IServiceProvider, thermostat)
    thermostat.callAction("SetMode", {"NewMode": "heat"})
    assert thermostat.Mode == "heat"
    assert thermostat.callAction("Reset", {}) == {"ResetCount": 1}
    # The override runs under the parent's declaration.
    assert thermostat.callAction("GetTemperature", {}) == {"CurrentTemperature": -1}
    with pytest.raises(KeyError):
        Thermostat().callAction("Reset", {})


def test_service_model_wraps_any_service_provider() -> None:
    thermostat = Thermostat()
    service = thermostat.service()
    assert service == model.Service(
        "urn:example-com:service:Thermostat:1",
        "urn:example-com:serviceId:Thermostat1",
        THERMOSTAT_DESCRIPTION,
    )
    assert service.provider is thermostat
    assert thermostat.service("urn:example-com:serviceId:Upstairs").serviceId == (
        "urn:example-com:serviceId:Upstairs"
    )
    handMade = HandMade()
    other = service_model(handMade, None)
    assert (other.serviceType, other.serviceId) == (
        "urn:example-com:service:HandMade:1", "urn:example-com:serviceId:HandMade1",
    )
    assert other.description is HandMade.description
    assert other.provider is handMade


# -- calling actions ------------------------------------------------------------


def test_in_arguments_are_passed_in_declaration_order() -> None:
    thermostat = Thermostat()
    assert thermostat.callAction("Configure", {"NewEnabled": False, "NewLabel": "hall"}) == {}
    assert thermostat.configured == [("hall", False)]
    assert (thermostat.Label, thermostat.Enabled) == ("hall", False)


def test_switchpower_end_to_end() -> None:
    switch = SwitchPower()
    events = Recorder()
    switch.watch(events)
    assert switch.callAction("GetStatus", {}) == {"ResultStatus": False}
    assert switch.callAction("SetTarget", {"newTargetValue": True}) == {}
    assert switch.callAction("GetTarget", {}) == {"RetTargetValue": True}
    assert switch.callAction("GetStatus", {}) == {"ResultStatus": True}
    # Target is not evented: only Status is told.
    assert events.calls == [("Status", True)]


def test_a_sync_action_answers_at_once() -> None:
    dimmer = Dimmer(defer.Deferred())
    events = Recorder()
    dimmer.watch(events)
    assert dimmer.callAction("SetLoadLevelTarget", {"newLoadlevelTarget": 40}) == {}
    assert dimmer.LoadLevelTarget == 40
    assert events.calls == []  # LoadLevelTarget is not evented


def test_an_action_returning_a_deferred_answers_through_it() -> None:
    dimmer = Dimmer(defer.Deferred())
    dimmer.LoadLevelTarget = 25
    answer = dimmer.callAction("GetLoadLevelTarget", {})
    assert succeeded(answer) == {"retLoadlevelTarget": 25}


def test_an_async_action_answers_when_its_coroutine_ends() -> None:
    hardware: defer.Deferred[None] = defer.Deferred()
    dimmer = Dimmer(hardware)
    events = Recorder()
    dimmer.watch(events)
    dimmer.LoadLevelTarget = 60
    answer = dimmer.callAction("GetLoadLevelStatus", {})
    assert isinstance(answer, defer.Deferred)
    results: list[object] = []
    answer.addBoth(results.append)
    assert results == []
    assert events.calls == []
    hardware.callback(None)
    assert results == [{"retLoadlevelStatus": 60}]
    assert events.calls == [("LoadLevelStatus", 60)]


@pytest_twisted.ensureDeferred
async def test_an_async_action_can_be_awaited() -> None:
    dimmer = Dimmer(defer.succeed(None))
    dimmer.LoadLevelTarget = 7
    assert await dimmer.callAction("GetLoadLevelStatus", {}) == {"retLoadlevelStatus": 7}


def test_an_action_raises_a_upnp_error() -> None:
    dimmer = Dimmer(defer.Deferred())
    with pytest.raises(UPnPError) as raised:
        dimmer.callAction("StepDown", {})
    assert (raised.value.code, raised.value.description) == (701, "Already off")
    dimmer.LoadLevelTarget = 3
    assert dimmer.callAction("StepDown", {}) == {}
    assert dimmer.LoadLevelTarget == 2


def test_return_conventions() -> None:
    sloppy = Sloppy()
    sloppy.answer = None
    assert sloppy.callAction("Quiet", {}) == {}
    sloppy.answer = 5
    assert sloppy.callAction("One", {}) == {"Out": 5}
    sloppy.answer = {"Out": 6}
    assert sloppy.callAction("One", {}) == {"Out": 6}
    sloppy.answer = {"First": 1, "Second": 2}
    assert sloppy.callAction("Two", {}) == {"First": 1, "Second": 2}
    assert succeeded(sloppy.callAction("TwoLater", {})) == {"First": 1, "Second": 2}
    assert succeeded(sloppy.callAction("TwoAsync", {})) == {"First": 1, "Second": 2}


def test_a_single_value_for_several_outs_is_a_type_error_naming_the_action() -> None:
    sloppy = Sloppy()
    sloppy.answer = 3
    with pytest.raises(TypeError) as raised:
        sloppy.callAction("Two", {})
    assert str(raised.value) == "action Two returned int; it must return a dict of First, Second"


def test_a_value_from_an_action_without_outs_is_a_type_error() -> None:
    sloppy = Sloppy()
    sloppy.answer = "done"
    with pytest.raises(TypeError) as raised:
        sloppy.callAction("Quiet", {})
    assert str(raised.value) == "action Quiet returned str; it must return a dict of nothing"


def test_a_wrong_return_through_a_deferred_or_coroutine_fails_it() -> None:
    sloppy = Sloppy()
    sloppy.answer = [1, 2]
    for name in ("TwoLater", "TwoAsync"):
        failure = failed(sloppy.callAction(name, {}))
        assert failure.type is TypeError
        assert str(failure.value) == (
            f"action {name} returned list; it must return a dict of First, Second"
        )


def test_a_dict_is_passed_on_as_it_is_for_control_to_check() -> None:
    # control.py checks the out-arguments of every IServiceProvider (and
    # answers 501 with a log line); the declarations do not check twice.
    sloppy = Sloppy()
    sloppy.answer = {"First": 1, "Secnod": 2}
    assert sloppy.callAction("Two", {}) == {"First": 1, "Secnod": 2}


# -- state ----------------------------------------------------------------------


def test_initial_values_are_the_defaults() -> None:
    thermostat = Thermostat()
    assert (thermostat.Mode, thermostat.Temperature, thermostat.Label, thermostat.Enabled) == (
        "auto", 20, None, True,
    )
    assert thermostat.stateValue("Temperature") == 20
    with pytest.raises(KeyError):
        thermostat.stateValue("Humidity")


def test_a_value_of_the_wrong_type_is_refused() -> None:
    thermostat = Thermostat()
    events = Recorder()
    thermostat.watch(events)
    with pytest.raises(datatypes.InvalidValue) as raised:
        thermostat.Temperature = "21"
    assert type(raised.value) is datatypes.InvalidValue
    assert str(raised.value) == "'21' is not a valid i4 value (expected an int, not str)"
    with pytest.raises(datatypes.InvalidValue) as raised:
        thermostat.Enabled = 1
    assert str(raised.value) == "1 is not a valid boolean value (expected a bool, not int)"
    with pytest.raises(datatypes.OutOfRange):
        thermostat.Temperature = 2**31
    assert (thermostat.Temperature, thermostat.Enabled) == (20, True)
    assert events.calls == []


def test_a_value_not_in_the_allowed_list_is_out_of_range() -> None:
    thermostat = Thermostat()
    events = Recorder()
    thermostat.watch(events)
    with pytest.raises(datatypes.OutOfRange) as raised:
        thermostat.Mode = "cool"
    assert str(raised.value) == "'cool' is not an allowed value of Mode"
    assert thermostat.Mode == "auto"
    assert events.calls == []
    thermostat.Mode = "off"
    assert events.calls == [("Mode", "off")]


def test_a_value_outside_the_declared_range_is_out_of_range() -> None:
    thermostat = Thermostat()
    with pytest.raises(datatypes.OutOfRange):
        thermostat.Temperature = 100


def test_watchers_hear_real_changes_of_evented_variables_only() -> None:
    thermostat = Thermostat()
    first, second = Recorder(), Recorder()
    thermostat.watch(first)
    thermostat.watch(second)
    thermostat.Temperature = 22
    thermostat.Temperature = 22  # the same value: no event
    thermostat.Label = "hall"  # not evented
    thermostat.Enabled = False  # not evented
    thermostat.Mode = "heat"
    thermostat.Mode = "heat"
    assert first.calls == [("Temperature", 22), ("Mode", "heat")]
    assert second.calls == first.calls
    assert (thermostat.Label, thermostat.Enabled) == ("hall", False)


def test_an_equal_value_of_another_type_counts_as_a_change() -> None:
    # setStateValue compares value and type: 1 after 1.0 is a change (and
    # is stored as the int); True and 1 never meet, as a boolean takes bools.
    meter = Meter()
    events = Recorder()
    meter.watch(events)
    meter.Reading = 1.0
    meter.Reading = 1
    meter.Reading = 1
    assert events.calls == [("Reading", 1.0), ("Reading", 1)]
    assert type(meter.Reading) is int
    meter.On = True
    with pytest.raises(datatypes.InvalidValue):
        meter.On = 1
    assert meter.On is True
    assert events.calls[2:] == [("On", True)]


def test_stop_stops_one_watcher() -> None:
    meter = Meter()
    kept, stopped = Recorder(), Recorder()
    meter.watch(kept)
    stop = meter.watch(stopped)
    meter.Level = 1
    stop()
    meter.Level = 2
    stop()  # a second stop is harmless
    meter.Level = 3
    assert stopped.calls == [("Level", 1)]
    assert kept.calls == [("Level", 1), ("Level", 2), ("Level", 3)]


def test_a_watcher_may_stop_itself_while_being_told() -> None:
    meter = Meter()
    calls: list[object] = []
    after = Recorder()

    def once(name: str, value: object) -> None:
        calls.append(value)
        stop()

    stop = meter.watch(once)
    meter.watch(after)
    meter.Level = 1
    meter.Level = 2
    assert calls == [1]
    assert after.calls == [("Level", 1), ("Level", 2)]


def test_changes_from_outside_any_action_are_told() -> None:
    clock = task.Clock()
    light = BinaryLight()
    events = Recorder()
    light.switch.watch(events)
    # A timer (the hardware, say) switches the light on.
    clock.callLater(5, setattr, light.switch, "Status", True)
    clock.advance(4)
    assert events.calls == []
    clock.advance(1)
    assert events.calls == [("Status", True)]
    light.switch.setStateValue("Status", False)
    assert events.calls == [("Status", True), ("Status", False)]
    assert light.switch.callAction("GetStatus", {}) == {"ResultStatus": False}


def test_instances_do_not_share_state_or_watchers() -> None:
    a, b = SwitchPower(), SwitchPower()
    heardA, heardB = Recorder(), Recorder()
    a.watch(heardA)
    b.watch(heardB)
    a.callAction("SetTarget", {"newTargetValue": True})
    assert (a.Target, a.Status) == (True, True)
    assert (b.Target, b.Status) == (False, False)
    assert heardA.calls == [("Status", True)]
    assert heardB.calls == []


@quick
@given(st.lists(st.integers(min_value=0, max_value=3), max_size=20))
def test_watchers_hear_each_change_once(values: list[int]) -> None:
    meter = Meter()
    events = Recorder()
    meter.watch(events)
    expected = []
    current = 0
    for value in values:
        meter.Level = value
        if value != current:
            expected.append(("Level", value))
            current = value
    assert events.calls == expected
    assert meter.Level == current


# -- the binarylight provider -----------------------------------------------------


def test_binarylight_is_off_by_default_and_can_start_on() -> None:
    off = BinaryLight()
    assert (off.switch.Target, off.switch.Status) == (False, False)
    on = BinaryLight(on=True)
    assert (on.switch.Target, on.switch.Status) == (True, True)
    assert on.services == [on.switch]
    assert on.deviceType == BINARY_LIGHT
    assert on.fields == {
        "friendlyName": "Binary light",
        "manufacturer": "upnp_announce",
        "modelName": "BinaryLight",
        "modelDescription": "A light that is on or off (UPnP BinaryLight:1)",
        "modelNumber": "1",
    }


def test_binarylight_as_a_model_device() -> None:
    light = BinaryLight()
    device = light.device(UDN=ROOT_UDN, friendlyName="Hall light")
    assert device == model.Device(
        deviceType=BINARY_LIGHT,
        friendlyName="Hall light",
        manufacturer="upnp_announce",
        modelName="BinaryLight",
        UDN=ROOT_UDN,
        modelDescription="A light that is on or off (UPnP BinaryLight:1)",
        modelNumber="1",
        services=(
            model.Service(SWITCH_POWER, "urn:upnp-org:serviceId:SwitchPower", SwitchPower.description),
        ),
    )
    assert device.services[0].provider is light.switch
    # The declared fields are left alone.
    assert BinaryLight.fields["friendlyName"] == "Binary light"


def test_binarylight_factory_builds_from_its_own_key() -> None:
    assert binarylight.build({}).switch.Status is False
    for text, on in (("1", True), ("0", False), ("yes", True), ("False", False), (" true ", True)):
        light = binarylight.build({"on": text})
        assert isinstance(light, BinaryLight)
        assert (light.switch.Target, light.switch.Status) == (on, on), text


def test_binarylight_factory_names_a_bad_value() -> None:
    with pytest.raises(OptionError) as raised:
        binarylight.build({"on": "maybe"})
    assert raised.value.key == "on"
    assert raised.value.message == "'maybe' is not 0, 1, true, false, yes or no"
    assert str(raised.value) == "on: 'maybe' is not 0, 1, true, false, yes or no"
    assert isinstance(raised.value, ValueError)


def test_provider_factory_checks_its_kind() -> None:
    with pytest.raises(ValueError) as raised:
        ProviderFactory("gadget", "gadget", "A gadget", lambda options: None)
    assert str(raised.value) == "kind must be 'device' or 'service', not 'gadget'"


def test_provider_factory_passes_the_options_to_its_builder() -> None:
    seen: list[object] = []

    def build(options: object) -> Meter:
        seen.append(options)
        return Meter()

    keys = {"level": "the level at start"}
    factory = ProviderFactory("meter", "service", "A meter", build, keys=keys)
    keys["other"] = "changed later"
    assert verifyObject(IProviderFactory, factory)
    assert factory.keys == {"level": "the level at start"}
    assert ProviderFactory("bare", "service", "Bare", build).keys == {}
    built = factory.build({"level": "3"})
    assert isinstance(built, Meter)
    assert seen == [{"level": "3"}]
    assert repr(factory) == "<ProviderFactory 'meter' (service)>"


def test_a_failing_watcher_neither_stops_the_others_nor_the_change() -> None:
    from twisted.logger import globalLogPublisher

    events: list[dict] = []  # type: ignore[type-arg]
    globalLogPublisher.addObserver(events.append)
    try:
        thermostat = Thermostat()
        seen: list[tuple[str, object]] = []

        def broken(name: str, value: object) -> None:
            raise RuntimeError("watcher bug")

        thermostat.watch(broken)
        thermostat.watch(lambda name, value: seen.append((name, value)))
        thermostat.Temperature = 25
    finally:
        globalLogPublisher.removeObserver(events.append)
    assert thermostat.Temperature == 25
    assert seen == [("Temperature", 25)]
    [failure] = [e["log_failure"] for e in events if "log_failure" in e]
    assert failure.check(RuntimeError)
