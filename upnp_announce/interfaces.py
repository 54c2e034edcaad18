"""
The small interfaces that providers implement.

A provider supplies a service (L{IServiceProvider}) or a whole device
(L{IDeviceProvider}); an L{IProviderFactory} plugin builds one from the
keys of an INI section. L{upnp_announce.provider} has base classes that
implement these from a few declarations.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from zope.interface import Attribute, Interface

__all__ = ["IDeviceProvider", "IProviderFactory", "IServiceProvider"]


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
        @raise upnp_announce.soap.UPnPError: to answer with that fault.
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
