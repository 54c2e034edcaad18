"""
Tests for providers in INI files: C{provider = NAME} on [device],
[device:NAME] and [service:NAME], the provider's own keys, section keys that
override the provider, and the problems each mistake gives.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from zope.interface.verify import verifyObject

from upnp_announce import config, model
from upnp_announce.config import Config, ConfigError, ConfigProblem, derive_udn
from upnp_announce.plugins.binarylight import SwitchPower
from upnp_announce.provider import IServiceProvider
from upnp_announce.wire.scpd import parse_scpd

from support import example

PATH = "light.ini"
BINARY_LIGHT = "urn:schemas-upnp-org:device:BinaryLight:1"
SWITCH_POWER = "urn:schemas-upnp-org:service:SwitchPower:1"
SWITCH_POWER_ID = "urn:upnp-org:serviceId:SwitchPower"
GAUGE = "urn:example-com:service:Gauge:1"
GAUGE_ID = "urn:example-com:serviceId:Gauge1"
BINARYLIGHT_LISTED = "binarylight (UPnP BinaryLight:1 with SwitchPower:1: a light that is on or off)"
MODULE = "upnp_test_cfg_gauges"

GAUGES = '''\
from upnp_announce.provider import (
    OptionError, ProviderFactory, ServiceProvider, StateVariable, action,
)


class Gauge(ServiceProvider):
    """
    A gauge that shows a level.
    """

    serviceType = "urn:example-com:service:Gauge:1"
    serviceId = "urn:example-com:serviceId:Gauge1"

    Level = StateVariable("ui1", default=0, evented=True)

    @action(returns={"CurrentLevel": Level})
    def GetLevel(self):
        return self.Level


def _gauge(options):
    level = options.get("level", "0")
    if not level.isdigit() or int(level) > 255:
        raise OptionError("level", f"{level!r} is not a whole number from 0 to 255")
    gauge = Gauge()
    gauge.Level = int(level)
    return gauge


def _broken(options):
    raise RuntimeError("the sensor is unplugged")


gauge = ProviderFactory("gauge", "service", "A gauge", _gauge, keys={"level": "the level"})
broken = ProviderFactory("broken", "service", "Never works", _broken)
brokenDevice = ProviderFactory("brokenDevice", "device", "Never works", _broken)
'''

# A root device that lists one service: [service:gauge] is line 8, so the
# lines added after it are 9, 10...
PANEL = """\
[device]
deviceType = urn:example-com:device:Panel:1
friendlyName = Panel
manufacturer = Example
modelName = P1
services = gauge

[service:gauge]
"""


@pytest.fixture
def gauges(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """
    The module of test providers, importable by name while the test runs.
    """
    (tmp_path / f"{MODULE}.py").write_text(GAUGES)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield MODULE
    sys.modules.pop(MODULE, None)


def parse(text: str, tmp_path: Path) -> Config:
    return config.parse(text, path=PATH, baseDir=str(tmp_path), machineId="m1")


def problems(text: str, tmp_path: Path) -> tuple[ConfigProblem, ...]:
    with pytest.raises(ConfigError) as raised:
        parse(text, tmp_path)
    return raised.value.problems


def on_key(found: tuple[ConfigProblem, ...], key: str) -> list[ConfigProblem]:
    return [p for p in found if p.key == key]


# -- a device provider on [device] ------------------------------------------------


def test_a_provider_alone_is_a_whole_config(tmp_path: Path) -> None:
    loaded = parse("[device]\nprovider = binarylight\n", tmp_path)
    assert loaded.network == config.NetworkSettings()
    assert loaded.device == model.Device(
        deviceType=BINARY_LIGHT,
        friendlyName="Binary light",
        manufacturer="upnp_announce",
        modelName="BinaryLight",
        UDN=derive_udn("m1", "[device]", BINARY_LIGHT, "upnp_announce", "BinaryLight", ""),
        modelDescription="A light that is on or off (UPnP BinaryLight:1)",
        modelNumber="1",
        services=(model.Service(SWITCH_POWER, SWITCH_POWER_ID, SwitchPower.description),),
    )
    [service] = loaded.device.services
    assert isinstance(service.provider, SwitchPower)
    assert verifyObject(IServiceProvider, service.provider)
    assert service.provider.Status is False


def test_the_service_model_carries_the_provider_instance(tmp_path: Path) -> None:
    switch = parse("[device]\nprovider = binarylight\n", tmp_path).device.services[0].provider
    assert switch.callAction("SetTarget", {"newTargetValue": True}) == {}
    assert switch.stateValue("Status") is True
    # Each load builds its own provider.
    again = parse("[device]\nprovider = binarylight\n", tmp_path).device.services[0].provider
    assert again is not switch
    assert again.stateValue("Status") is False


def test_section_keys_override_the_providers_fields(tmp_path: Path) -> None:
    device = parse(
        "[device]\n"
        "provider = binarylight\n"
        "friendlyName = Kitchen light\n"
        "deviceType = urn:example-com:device:Lamp:2\n"
        "modelNumber = 2B\n"
        "serialNumber = KL-0002\n",
        tmp_path,
    ).device
    assert (
        device.deviceType, device.friendlyName, device.manufacturer, device.modelName,
        device.modelNumber, device.serialNumber,
    ) == (
        "urn:example-com:device:Lamp:2", "Kitchen light", "upnp_announce", "BinaryLight",
        "2B", "KL-0002",
    )
    assert [s.serviceType for s in device.services] == [SWITCH_POWER]


@pytest.mark.parametrize(
    "line, on", [("on = 1", True), ("on = 0", False), ("ON = yes", True), ("On: false", False)]
)
def test_the_providers_own_key_is_passed(tmp_path: Path, line: str, on: bool) -> None:
    text = f"[device]\nprovider = binarylight\n{line}\n"
    switch = parse(text, tmp_path).device.services[0].provider
    assert (switch.Target, switch.Status) == (on, on)


def test_a_bad_value_of_the_providers_own_key_is_a_problem_on_that_key(tmp_path: Path) -> None:
    found = problems("[device]\nprovider = binarylight\non = maybe\n", tmp_path)
    assert on_key(found, "on") == [
        ConfigProblem(PATH, "'maybe' is not 0, 1, true, false, yes or no", 3, "device", "on")
    ]
    assert str(on_key(found, "on")[0]) == (
        "light.ini:3: [device] on: 'maybe' is not 0, 1, true, false, yes or no"
    )


def test_an_unknown_key_is_still_a_problem(tmp_path: Path) -> None:
    found = problems("[device]\nprovider = binarylight\nonn = 1\n", tmp_path)
    assert found == (
        ConfigProblem(PATH, "unknown key; did you mean 'on'?", 3, "device", "onn"),
    )


def test_the_providers_keys_are_unknown_without_the_provider(tmp_path: Path) -> None:
    text = (
        "[device]\n"
        "deviceType = urn:schemas-upnp-org:device:BinaryLight:1\n"
        "friendlyName = Light\n"
        "manufacturer = Example\n"
        "modelName = L1\n"
        "on = 1\n"
    )
    assert problems(text, tmp_path) == (
        ConfigProblem(
            PATH,
            "unknown key; the keys are deviceType, friendlyName, manufacturer, "
            "manufacturerURL, modelDescription, modelName, modelNumber, modelURL, "
            "serialNumber, udn, UPC, presentationURL, icons, services, devices, provider, presentation",
            6,
            "device",
            "on",
        ),
    )


def test_an_unknown_provider_is_a_problem_listing_the_providers(tmp_path: Path) -> None:
    found = problems("[device]\nprovider = nope\n", tmp_path)
    [problem] = on_key(found, "provider")
    assert (problem.path, problem.line, problem.section) == (PATH, 2, "device")
    assert problem.message.startswith("there is no provider 'nope'; the device providers are: ")
    assert BINARYLIGHT_LISTED in problem.message


@pytest.mark.parametrize(
    "lines, key",
    [
        ("provider = nope", "provider"),
        ("provider = binarylight\non = maybe", "on"),
        (f"provider = {MODULE}:brokenDevice", "provider"),
    ],
)
def test_a_failed_device_provider_is_one_problem(
    tmp_path: Path, gauges: str, lines: str, key: str
) -> None:
    found = problems(f"[device]\n{lines}\n", tmp_path)
    assert [p.key for p in found] == [key]


def test_a_device_provider_that_raises_is_a_problem_not_a_traceback(
    tmp_path: Path, gauges: str
) -> None:
    found = problems(f"[device]\nprovider = {gauges}:brokenDevice\n", tmp_path)
    assert on_key(found, "provider") == [
        ConfigProblem(
            PATH,
            f"provider '{gauges}:brokenDevice' failed: the sensor is unplugged",
            2,
            "device",
            "provider",
        )
    ]


def test_a_service_provider_on_a_device_is_a_problem(tmp_path: Path, gauges: str) -> None:
    found = problems(f"[device]\nprovider = {gauges}:gauge\n", tmp_path)
    [problem] = on_key(found, "provider")
    assert problem.line == 2
    assert problem.message.startswith(
        f"'{gauges}:gauge' provides a service, not a device; the device providers are: "
    )
    assert BINARYLIGHT_LISTED in problem.message


def test_an_empty_provider_key_is_a_problem(tmp_path: Path) -> None:
    found = problems("[device]\nprovider =\n", tmp_path)
    assert on_key(found, "provider") == [
        ConfigProblem(
            PATH, "is empty; give it a value or leave the key out", 2, "device", "provider"
        )
    ]


def test_embedded_devices_get_providers_of_their_own(tmp_path: Path) -> None:
    device = parse(
        "[device]\n"
        "provider = binarylight\n"
        "devices = hall\n"
        "\n"
        "[device:hall]\n"
        "provider = binarylight\n"
        "friendlyName = Hall light\n"
        "on = 1\n",
        tmp_path,
    ).device
    [hall] = device.devices
    assert (device.friendlyName, hall.friendlyName) == ("Binary light", "Hall light")
    assert hall.UDN == derive_udn(device.UDN, "[device:hall]", BINARY_LIGHT)
    root, embedded = device.services[0].provider, hall.services[0].provider
    assert root is not embedded
    assert (root.Status, embedded.Status) == (False, True)


def test_an_ini_service_is_added_after_the_providers(tmp_path: Path) -> None:
    shutil.copy(example("fridge-scpd.xml"), tmp_path / "fridge-scpd.xml")
    device = parse(
        "[device]\n"
        "provider = binarylight\n"
        "services = thermometer\n"
        "\n"
        "[service:thermometer]\n"
        "serviceType = urn:boucherie.example.com:service:Thermometer:1\n"
        "serviceId = urn:boucherie.example.com:serviceId:Thermometer\n"
        "scpd = fridge-scpd.xml\n",
        tmp_path,
    ).device
    assert device.services == (
        model.Service(SWITCH_POWER, SWITCH_POWER_ID, SwitchPower.description),
        model.Service(
            "urn:boucherie.example.com:service:Thermometer:1",
            "urn:boucherie.example.com:serviceId:Thermometer",
            parse_scpd((tmp_path / "fridge-scpd.xml").read_bytes()),
        ),
    )
    assert isinstance(device.services[0].provider, SwitchPower)
    assert device.services[1].provider is None


def test_examples_light_ini_loads(tmp_path: Path) -> None:
    loaded = config.load(example("light.ini"), machineId="m1")
    device = loaded.device
    assert (device.deviceType, device.friendlyName, device.serialNumber) == (
        BINARY_LIGHT, "Kitchen light", "KL-0001",
    )
    assert device.UDN == derive_udn(
        "m1", "[device]", BINARY_LIGHT, "upnp_announce", "BinaryLight", "KL-0001"
    )
    [service] = device.services
    assert (service.serviceType, service.serviceId) == (SWITCH_POWER, SWITCH_POWER_ID)
    assert isinstance(service.provider, SwitchPower)
    assert service.provider.Status is False


def test_load_reads_a_provider_config_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "porch.ini"
    path.write_text("[device]\nprovider = binarylight\nfriendlyName = Porch\non = yes\n")
    device = config.load(path, machineId="m1").device
    assert device.friendlyName == "Porch"
    assert device.services[0].provider.Status is True


# -- a service provider on [service:NAME] -------------------------------------------


def test_a_service_provider_by_module_and_attribute(tmp_path: Path, gauges: str) -> None:
    device = parse(
        PANEL
        + f"provider = {gauges}:gauge\n"
        + "serviceId = urn:example-com:serviceId:Upstairs\n"
        + "level = 9\n",
        tmp_path,
    ).device
    [service] = device.services
    provider = service.provider
    assert type(provider).__module__ == gauges
    assert verifyObject(IServiceProvider, provider)
    assert service == model.Service(
        GAUGE, "urn:example-com:serviceId:Upstairs", type(provider).description
    )
    assert provider.Level == 9


def test_a_service_class_by_module_and_attribute(tmp_path: Path, gauges: str) -> None:
    [service] = parse(PANEL + f"provider = {gauges}:Gauge\n", tmp_path).device.services
    assert (service.serviceType, service.serviceId) == (GAUGE, GAUGE_ID)
    assert type(service.provider).__name__ == "Gauge"
    assert service.provider.Level == 0


def test_a_bad_value_of_a_service_providers_own_key(tmp_path: Path, gauges: str) -> None:
    found = problems(PANEL + f"provider = {gauges}:gauge\nlevel = lots\n", tmp_path)
    assert found == (
        ConfigProblem(
            PATH, "'lots' is not a whole number from 0 to 255", 10, "service:gauge", "level"
        ),
    )


def test_a_service_provider_that_raises_is_one_problem(tmp_path: Path, gauges: str) -> None:
    found = problems(PANEL + f"provider = {gauges}:broken\n", tmp_path)
    assert found == (
        ConfigProblem(
            PATH,
            f"provider '{gauges}:broken' failed: the sensor is unplugged",
            9,
            "service:gauge",
            "provider",
        ),
    )


def test_scpd_with_a_provider_is_a_problem_on_scpd(tmp_path: Path, gauges: str) -> None:
    found = problems(PANEL + f"provider = {gauges}:gauge\nscpd = gauge-scpd.xml\n", tmp_path)
    assert found == (
        ConfigProblem(
            PATH,
            "cannot be combined with provider: the provider describes the service",
            10,
            "service:gauge",
            "scpd",
        ),
    )


def test_another_service_type_with_a_provider_is_a_problem(tmp_path: Path, gauges: str) -> None:
    found = problems(
        PANEL
        + f"provider = {gauges}:gauge\n"
        + "serviceType = urn:example-com:service:Thermometer:1\n",
        tmp_path,
    )
    assert found == (
        ConfigProblem(
            PATH,
            f"the provider implements {GAUGE}; leave serviceType out",
            10,
            "service:gauge",
            "serviceType",
        ),
    )


def test_the_providers_own_service_type_may_be_repeated(tmp_path: Path, gauges: str) -> None:
    text = PANEL + f"provider = {gauges}:gauge\nserviceType = {GAUGE}\n"
    [service] = parse(text, tmp_path).device.services
    assert (service.serviceType, service.serviceId) == (GAUGE, GAUGE_ID)


def test_a_device_provider_on_a_service_is_one_problem(tmp_path: Path) -> None:
    [problem] = problems(PANEL + "provider = binarylight\n", tmp_path)
    assert (problem.line, problem.section, problem.key) == (9, "service:gauge", "provider")
    assert problem.message.startswith(
        "'binarylight' provides a device, not a service; the service providers are: "
    )
    assert BINARYLIGHT_LISTED not in problem.message


def test_a_missing_provider_module_is_one_problem(tmp_path: Path) -> None:
    assert problems(PANEL + "provider = upnp_test_cfg_missing:gauge\n", tmp_path) == (
        ConfigProblem(
            PATH,
            "cannot import 'upnp_test_cfg_missing': No module named 'upnp_test_cfg_missing'",
            9,
            "service:gauge",
            "provider",
        ),
    )


def test_a_device_provider_and_a_service_provider_together(tmp_path: Path, gauges: str) -> None:
    device = parse(
        "[device]\n"
        "provider = binarylight\n"
        "services = gauge\n"
        "\n"
        "[service:gauge]\n"
        f"provider = {gauges}:gauge\n"
        "level = 4\n",
        tmp_path,
    ).device
    assert [(s.serviceType, s.serviceId) for s in device.services] == [
        (SWITCH_POWER, SWITCH_POWER_ID), (GAUGE, GAUGE_ID),
    ]
    assert [s.provider.stateValue(v) for s, v in zip(device.services, ("Status", "Level"))] == [
        False, 4,
    ]
