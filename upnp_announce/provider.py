"""
The provider API, in one place: the interfaces a provider implements
(L{IServiceProvider}, L{IDeviceProvider}, and L{IProviderFactory} for a
plugin), and base classes that implement them from a few declarations.
Finding providers by name is L{upnp_announce.registry}'s work.

Write a provider in a few lines: declare state variables and actions on a
L{ServiceProvider} subclass, and its service description (SCPD) is generated
from them.

    class SwitchPower(ServiceProvider):
        serviceType = "urn:schemas-upnp-org:service:SwitchPower:1"
        serviceId = "urn:upnp-org:serviceId:SwitchPower"

        Target = StateVariable("boolean", default=False)
        Status = StateVariable("boolean", default=False, evented=True)

        @action(newTargetValue=Target)
        def SetTarget(self, newTargetValue):
            self.Target = self.Status = newTargetValue

        @action(returns={"ResultStatus": Status})
        def GetStatus(self):
            return self.Status

Assigning a state variable checks the value against its declaration and, for
an evented one, tells the watchers (GENA eventing) when the value changes,
whatever the assignment comes from.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from twisted.internet import defer
from twisted.plugin import IPlugin
from zope.interface import Attribute, Interface, implementer

from upnp_announce import datatypes, model
from upnp_announce.logs import logger

__all__ = [
    "DeviceProvider",
    "IDeviceProvider",
    "IProviderFactory",
    "IServiceProvider",
    "OptionError",
    "ProviderFactory",
    "ServiceProvider",
    "StateVariable",
    "action",
]

F = TypeVar("F", bound=Callable[..., Any])
_log = logger("provider")


# -- the interfaces ---------------------------------------------------------------


class IServiceProvider(Interface):
    """
    Implements one service: its description, its actions and its state.
    """

    serviceType = Attribute("The service type URN, C{urn:DOMAIN:service:NAME:VERSION}.")
    serviceId = Attribute("The serviceId URN, C{urn:DOMAIN:serviceId:NAME}.")
    description = Attribute(
        "The L{upnp_announce.model.ServiceDescription}: actions, arguments and "
        "state variables (with data types, defaults, allowed values or ranges, "
        "and whether they are evented)."
    )

    def callAction(name: str, arguments: Mapping[str, object]) -> Any:
        """
        Run the action C{name}.

        @param name: an action of C{description}.
        @param arguments: every in-argument, by name, already converted to its
            Python value and checked against its state variable.
        @return: the out-arguments by name (Python values), or a Deferred or
            coroutine that gives them.
        @raise upnp_announce.wire.soap.UPnPError: to answer with that fault.
        """

    def stateValue(name: str) -> object:
        """
        The current Python value of the state variable C{name}.
        """

    def watch(callback: Callable[[str, object], None]) -> Callable[[], None]:
        """
        Call C{callback(name, value)} whenever an evented state variable
        changes, from any cause (an action, a timer, the hardware).

        @return: a callable that stops the calls.
        """


class IDeviceProvider(Interface):
    """
    Supplies a device: its type, its description fields and its services.
    """

    deviceType = Attribute("The device type URN, C{urn:DOMAIN:device:NAME:VERSION}.")
    fields = Attribute(
        "Description fields by UDA name (C{friendlyName}, C{manufacturer}, "
        "C{modelName}...); the INI section's keys override them."
    )
    services = Attribute("The device's L{IServiceProvider}s, in order.")


class IProviderFactory(Interface):
    """
    A provider plugin: what C{provider = NAME} in an INI section names.
    """

    name = Attribute("The name used in C{provider = NAME}.")
    kind = Attribute('C{"device"} (for [device] sections) or C{"service"} ([service:NAME]).')
    summary = Attribute("One line on what it provides.")
    keys = Attribute("The provider's own INI keys: a mapping of key to a line of help.")

    def build(options: Mapping[str, str]) -> Any:
        """
        Build the provider.

        @param options: the provider's own keys from the section, by name as
            declared in C{keys}.
        @return: an L{IDeviceProvider} or an L{IServiceProvider}, as C{kind}
            says.
        @raise upnp_announce.provider.OptionError: naming a bad key.
        """


# -- implementing them from declarations --------------------------------------------


class OptionError(ValueError):
    """
    A provider's own INI key has a value it cannot use.
    """

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        self.message = message
        super().__init__(f"{key}: {message}")


class StateVariable:
    """
    Declares a state variable on a L{ServiceProvider} class; on an instance,
    reading it gives the current value and assigning it sets it.

    @param dataType: a UPnP data type (C{"boolean"}, C{"ui4"}, C{"string"}...).
    @param default: the initial Python value, also the SCPD's defaultValue.
    @param evented: C{sendEvents="yes"}: changes are sent to subscribers.
    @param allowed: the allowed values of a string variable.
    @param range: C{(minimum, maximum)} or C{(minimum, maximum, step)} of a
        numeric variable, as Python values.
    @param maxLength: the longest string an action may be given (fault 605
        beyond it).
    @param maximumRate: event moderation: at most one event for this
        variable per this many seconds (the latest value is sent).
    @param minimumDelta: event moderation: a numeric variable is evented only
        when it moved at least this much since its last event.
    @param name: the UPnP name, when it cannot be the attribute's.
    """

    def __init__(
        self,
        dataType: str,
        *,
        default: object = None,
        evented: bool = False,
        multicast: bool = False,
        allowed: Sequence[str] | None = None,
        range: tuple[object, object] | tuple[object, object, object] | None = None,
        maxLength: int | None = None,
        maximumRate: float | None = None,
        minimumDelta: float | None = None,
        name: str | None = None,
    ) -> None:
        self.dataType = dataType
        self.default = default
        self.evented = evented
        self.multicast = multicast
        self.allowed = tuple(allowed) if allowed is not None else None
        self.range = range
        self.maxLength = maxLength
        self.maximumRate = maximumRate
        self.minimumDelta = minimumDelta
        self.name = name or ""

    def __set_name__(self, owner: type, name: str) -> None:
        if not self.name:
            self.name = name

    def model(self) -> model.StateVariable:
        """
        The declaration as a model value (checked there).
        """
        valueRange = None
        if self.range is not None:
            low, high, *step = self.range
            valueRange = model.AllowedValueRange(
                datatypes.format_value(self.dataType, low),
                datatypes.format_value(self.dataType, high),
                datatypes.format_value(self.dataType, step[0]) if step else None,
            )
        return model.StateVariable(
            self.name,
            self.dataType,
            sendEvents=self.evented,
            multicast=self.multicast,
            defaultValue=(
                datatypes.format_value(self.dataType, self.default)
                if self.default is not None
                else None
            ),
            allowedValues=self.allowed,
            allowedValueRange=valueRange,
            maxLength=self.maxLength,
            maximumRate=self.maximumRate,
            minimumDelta=self.minimumDelta,
        )

    def __get__(self, instance: ServiceProvider | None, owner: type) -> Any:
        if instance is None:
            return self
        return instance.stateValue(self.name)

    def __set__(self, instance: ServiceProvider, value: object) -> None:
        instance.setStateValue(self.name, value)


@dataclass(frozen=True)
class _ActionSpec:
    name: str
    inputs: tuple[tuple[str, StateVariable], ...]
    outputs: tuple[tuple[str, StateVariable], ...]


def action(
    *, name: str | None = None, returns: Mapping[str, StateVariable] | None = None,
    **inputs: StateVariable,
) -> Callable[[F], F]:
    """
    Declare a method as a UPnP action.

    @param inputs: the in-arguments, in order, each naming its related state
        variable. The method takes them positionally, in this order, as
        Python values already checked against their variables.
    @param returns: the out-arguments, in order, each naming its related
        state variable. The method returns a dict of them, or the single
        value where there is one, or C{None} where there is none; or a
        Deferred or coroutine of that.
    @param name: the action's name, when it cannot be the method's.
    """

    def decorate(f: F) -> F:
        f.__upnp_action__ = _ActionSpec(  # type: ignore[attr-defined]
            name or f.__name__, tuple(inputs.items()), tuple((returns or {}).items())
        )
        return f

    return decorate


@implementer(IServiceProvider)
class ServiceProvider:
    """
    A service from declarations: set C{serviceType} and C{serviceId}, declare
    L{StateVariable}s and L{action}s; C{description} is built from them.
    """

    serviceType: ClassVar[str]
    serviceId: str
    description: ClassVar[model.ServiceDescription]
    _variables: ClassVar[dict[str, StateVariable]]
    _declared: ClassVar[dict[str, model.StateVariable]]
    _actions: ClassVar[dict[str, tuple[str, _ActionSpec]]]

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        variables: dict[str, StateVariable] = {}
        actions: dict[str, tuple[str, _ActionSpec]] = {}
        for klass in reversed(cls.__mro__):
            for attribute, value in vars(klass).items():
                if isinstance(value, StateVariable):
                    variables[value.name] = value
                spec = getattr(value, "__upnp_action__", None)
                if isinstance(spec, _ActionSpec):
                    actions[spec.name] = (attribute, spec)
        cls._variables = variables
        cls._actions = actions
        cls._declared = {name: v.model() for name, v in variables.items()}
        if variables:
            cls.description = model.ServiceDescription(
                tuple(_action_model(spec) for _, spec in actions.values()),
                tuple(cls._declared.values()),
            )

    def __init__(self) -> None:
        self._values: dict[str, object] = {
            name: variable.default for name, variable in self._variables.items()
        }
        self._watchers: list[Callable[[str, object], None]] = []

    def service(self, serviceId: str | None = None) -> model.Service:
        """
        This provider as a model service, for a L{model.Device}.
        """
        return service_model(self, serviceId)

    def stateValue(self, name: str) -> object:
        return self._values[name]

    def setStateValue(self, name: str, value: object) -> None:
        """
        Set a state variable; tell the watchers if it is evented and changed.

        @raise upnp_announce.datatypes.InvalidValue: for a value its
            declaration does not allow, checked by the model exactly as SOAP
            checks an argument: L{datatypes.OutOfRange} outside the range, off
            the step or not an allowed value, L{datatypes.TooLong} beyond
            maxLength.
        """
        variable = self._variables[name]
        self._declared[name].check(value)
        if self._values[name] == value and type(self._values[name]) is type(value):
            return
        self._values[name] = value
        if variable.evented:
            for watcher in list(self._watchers):
                # One failing watcher neither stops the others nor the change.
                try:
                    watcher(name, value)
                except Exception:
                    _log.failure("A watcher of {name} failed", name=name)

    def watch(self, callback: Callable[[str, object], None]) -> Callable[[], None]:
        self._watchers.append(callback)

        def stop() -> None:
            if callback in self._watchers:
                self._watchers.remove(callback)

        return stop

    def callAction(self, name: str, arguments: Mapping[str, object]) -> Any:
        attribute, spec = self._actions[name]
        method = getattr(self, attribute)
        result = method(*(arguments[argument] for argument, _ in spec.inputs))
        if inspect.iscoroutine(result):
            result = defer.Deferred.fromCoroutine(result)
        if isinstance(result, defer.Deferred):
            return result.addCallback(_outputs, spec)
        return _outputs(result, spec)


def _outputs(result: object, spec: _ActionSpec) -> dict[str, object]:
    names = [name for name, _ in spec.outputs]
    if isinstance(result, dict):
        return result
    if result is None and not names:
        return {}
    if len(names) == 1:
        return {names[0]: result}
    raise TypeError(
        f"action {spec.name} returned {type(result).__name__}; it must return a dict of "
        + (", ".join(names) or "nothing")
    )


def _action_model(spec: _ActionSpec) -> model.Action:
    arguments = [model.Argument(name, "in", v.name) for name, v in spec.inputs]
    arguments += [model.Argument(name, "out", v.name) for name, v in spec.outputs]
    return model.Action(spec.name, tuple(arguments))


@implementer(IDeviceProvider)
class DeviceProvider:
    """
    A device from declarations: set C{deviceType} and C{fields}, and give
    the instance its C{services}.
    """

    deviceType: ClassVar[str]
    fields: ClassVar[Mapping[str, str]] = {}

    def __init__(self, services: Sequence[IServiceProvider] = ()) -> None:
        self.services = list(services)

    def device(self, **fields: Any) -> model.Device:
        """
        This provider as a model device; C{fields} (a UDN at least) override
        the declared ones.
        """
        values: dict[str, Any] = {"deviceType": self.deviceType, **self.fields, **fields}
        values.setdefault("services", tuple(service_model(s) for s in self.services))
        return model.Device(**values)


def service_model(provider: IServiceProvider, serviceId: str | None = None) -> model.Service:
    """
    Any L{IServiceProvider} as a model service.
    """
    return model.Service(
        provider.serviceType,
        serviceId or provider.serviceId,
        provider.description,
        provider=provider,
    )


@implementer(IPlugin, IProviderFactory)
class ProviderFactory:
    """
    A provider plugin, for a plugin module of C{upnp_announce.plugins} or of
    any package's C{twisted/plugins}.
    """

    def __init__(
        self,
        name: str,
        kind: str,
        summary: str,
        builder: Callable[[Mapping[str, str]], object],
        keys: Mapping[str, str] | None = None,
    ) -> None:
        if kind not in ("device", "service"):
            raise ValueError(f"kind must be 'device' or 'service', not {kind!r}")
        self.name = name
        self.kind = kind
        self.summary = summary
        self.keys = dict(keys or {})
        self._builder = builder

    def build(self, options: Mapping[str, str]) -> object:
        return self._builder(options)

    def __repr__(self) -> str:
        return f"<ProviderFactory {self.name!r} ({self.kind})>"
