"""
The built-in C{binarylight} provider: UPnP's BinaryLight:1 device with its
SwitchPower:1 service, a light that is on or off.
"""

from __future__ import annotations

from collections.abc import Mapping

from upnp_announce import datatypes
from upnp_announce.provider import (
    DeviceProvider,
    OptionError,
    ProviderFactory,
    ServiceProvider,
    StateVariable,
    action,
)

__all__ = ["BinaryLight", "SwitchPower", "binarylight"]


class SwitchPower(ServiceProvider):
    """
    SwitchPower:1: Target is what was asked for, Status what the light does.
    """

    serviceType = "urn:schemas-upnp-org:service:SwitchPower:1"
    serviceId = "urn:upnp-org:serviceId:SwitchPower"

    Target = StateVariable("boolean", default=False)
    Status = StateVariable("boolean", default=False, evented=True)

    @action(newTargetValue=Target)
    def SetTarget(self, newTargetValue: bool) -> None:
        self.Target = newTargetValue
        self.Status = newTargetValue

    @action(returns={"RetTargetValue": Target})
    def GetTarget(self) -> bool:
        return bool(self.Target)

    @action(returns={"ResultStatus": Status})
    def GetStatus(self) -> bool:
        return bool(self.Status)


class BinaryLight(DeviceProvider):
    """
    BinaryLight:1 with one SwitchPower:1.
    """

    deviceType = "urn:schemas-upnp-org:device:BinaryLight:1"
    fields = {
        "friendlyName": "Binary light",
        "manufacturer": "upnp_announce",
        "modelName": "BinaryLight",
        "modelDescription": "A light that is on or off (UPnP BinaryLight:1)",
        "modelNumber": "1",
    }

    def __init__(self, on: bool = False) -> None:
        self.switch = SwitchPower()
        self.switch.Target = self.switch.Status = on
        super().__init__([self.switch])


def _build(options: Mapping[str, str]) -> BinaryLight:
    on = options.get("on", "0")
    try:
        value = datatypes.parse_value("boolean", on)
    except datatypes.InvalidValue:
        raise OptionError("on", f"{on!r} is not 0, 1, true, false, yes or no") from None
    return BinaryLight(on=bool(value))


binarylight = ProviderFactory(
    "binarylight",
    "device",
    "UPnP BinaryLight:1 with SwitchPower:1: a light that is on or off",
    _build,
    keys={"on": "whether the light is on at start: 0 or 1 (default 0)"},
)
