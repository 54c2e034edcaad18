"""
Tests for upnp_announce.registry: finding provider plugins (built-in, in
another distribution's twisted/plugins or upnp_announce/plugins) and
providers named as package.module:attribute, and the one-sentence errors.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from twisted.plugin import pluginPackagePaths
from zope.interface import implementer
from zope.interface.verify import verifyObject

import twisted.plugins
import upnp_announce.plugins
from upnp_announce import registry as providers
from upnp_announce.plugins.binarylight import BinaryLight, binarylight
from upnp_announce.provider import IDeviceProvider, IProviderFactory, IServiceProvider
from upnp_announce.registry import ProviderError, available, resolve

BINARYLIGHT_LISTED = "binarylight (UPnP BinaryLight:1 with SwitchPower:1: a light that is on or off)"

# A module of providers, written into a temporary folder for each test.
PROVIDERS_MODULE = '''\
from zope.interface import implementer

from upnp_announce.provider import IServiceProvider
from upnp_announce.provider import (
    DeviceProvider, ProviderFactory, ServiceProvider, StateVariable, action,
)


class Gauge(ServiceProvider):
    """
    A gauge that shows a level.

    More words that are not the summary.
    """

    serviceType = "urn:example-com:service:Gauge:1"
    serviceId = "urn:example-com:serviceId:Gauge1"

    Level = StateVariable("ui1", default=0, evented=True)

    @action(returns={"CurrentLevel": Level})
    def GetLevel(self):
        return self.Level


class Undocumented(Gauge):
    pass


class Blank(Gauge):
    """   """


class Panel(DeviceProvider):
    """A panel with one gauge."""

    deviceType = "urn:example-com:device:Panel:1"
    fields = {"friendlyName": "Panel", "manufacturer": "Example", "modelName": "P1"}

    def __init__(self):
        super().__init__([Gauge()])


def _gauge(options):
    gauge = Gauge()
    gauge.Level = int(options.get("level", "0"))
    return gauge


gauge = ProviderFactory(
    "@NAME@", "service", "A gauge from a plugin", _gauge, keys={"level": "the level at start"}
)
value = 42


class Plain:
    """Implements nothing."""
'''


def providers_module(name: str = "gauge") -> str:
    return PROVIDERS_MODULE.replace("@NAME@", name)


@implementer(IProviderFactory)
class FakeFactory:
    """
    A provider factory that builds nothing, for controlled listings.
    """

    def __init__(self, name: str, kind: str, summary: str) -> None:
        self.name = name
        self.kind = kind
        self.summary = summary
        self.keys: dict[str, str] = {}

    def build(self, options: object) -> None:
        return None


@pytest.fixture
def write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str, str], Path]]:
    """
    Write files under tmp_path, which is put first on sys.path; the modules
    they define are forgotten after the test.
    """
    monkeypatch.syspath_prepend(str(tmp_path))
    written: list[str] = []

    def write(relative: str, text: str) -> Path:
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        module = relative[: -len(".py")].replace("/", ".")
        written.append(module.removesuffix(".__init__"))
        return path

    yield write
    for module in written:
        sys.modules.pop(module, None)
        parent, _, child = module.rpartition(".")
        if parent in sys.modules and hasattr(sys.modules[parent], child):
            delattr(sys.modules[parent], child)


def controlled(monkeypatch: pytest.MonkeyPatch, *factories: FakeFactory) -> None:
    for factory in factories:
        assert verifyObject(IProviderFactory, factory)
    monkeypatch.setattr(providers, "available", lambda: {f.name: f for f in factories})


def message(kind: str, name: str) -> str:
    with pytest.raises(ProviderError) as raised:
        resolve(name, kind)
    return str(raised.value)


# -- the built-in plugins --------------------------------------------------------


def test_available_has_binarylight() -> None:
    found = available()
    assert found["binarylight"] is binarylight
    for name, factory in found.items():
        assert verifyObject(IProviderFactory, factory)
        assert factory.name == name
        assert factory.kind in ("device", "service")


def test_resolve_binarylight_for_a_device() -> None:
    factory = resolve("binarylight", "device")
    assert factory is binarylight
    light = factory.build({"on": "1"})
    assert isinstance(light, BinaryLight)
    assert verifyObject(IDeviceProvider, light)
    assert light.switch.Status is True


def test_binarylight_for_a_service_is_one_sentence_listing_service_providers() -> None:
    text = message("service", "binarylight")
    assert text.startswith(
        "'binarylight' provides a device, not a service; the service providers are: "
    )
    assert "\n" not in text
    assert "binarylight (" not in text
    assert isinstance(ProviderError(text), ValueError)


def test_an_unknown_name_is_one_sentence_listing_the_providers_of_its_kind() -> None:
    text = message("device", "nope")
    assert text.startswith("there is no provider 'nope'; the device providers are: ")
    assert BINARYLIGHT_LISTED in text
    assert "\n" not in text
    assert BINARYLIGHT_LISTED not in message("service", "nope")


def test_the_listing_is_sorted_and_of_one_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    controlled(
        monkeypatch,
        FakeFactory("lamp", "device", "A lamp"),
        FakeFactory("gauge", "service", "A gauge"),
        FakeFactory("heater", "device", "A heater"),
    )
    assert message("device", "nope") == (
        "there is no provider 'nope'; the device providers are: "
        "heater (A heater), lamp (A lamp)"
    )
    assert message("service", "lamp") == (
        "'lamp' provides a device, not a service; the service providers are: gauge (A gauge)"
    )
    assert message("device", "gauge") == (
        "'gauge' provides a service, not a device; the device providers are: "
        "heater (A heater), lamp (A lamp)"
    )


def test_the_listing_says_none_when_there_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    controlled(monkeypatch, FakeFactory("lamp", "device", "A lamp"))
    assert message("service", "gauge") == (
        "there is no provider 'gauge'; the service providers are: none"
    )


# -- package.module:attribute ----------------------------------------------------


def test_a_factory_named_by_module_and_attribute(write: Callable[[str, str], Path]) -> None:
    write("upnp_test_pkg/__init__.py", "")
    write("upnp_test_pkg/gauges.py", providers_module())
    factory = resolve("upnp_test_pkg.gauges:gauge", "service")
    assert verifyObject(IProviderFactory, factory)
    assert factory is sys.modules["upnp_test_pkg.gauges"].gauge
    assert factory.name == "gauge"
    gauge = factory.build({"level": "7"})
    assert verifyObject(IServiceProvider, gauge)
    assert gauge.Level == 7


def test_a_service_class_named_by_module_and_attribute(write: Callable[[str, str], Path]) -> None:
    write("upnp_test_gauges.py", providers_module())
    factory = resolve("upnp_test_gauges:Gauge", "service")
    assert verifyObject(IProviderFactory, factory)
    assert (factory.name, factory.kind, factory.summary, factory.keys) == (
        "upnp_test_gauges:Gauge", "service", "A gauge that shows a level.", {},
    )
    first, second = factory.build({}), factory.build({})
    assert type(first) is sys.modules["upnp_test_gauges"].Gauge
    assert verifyObject(IServiceProvider, first)
    assert first is not second


def test_an_undocumented_class_is_summed_up_by_its_name(
    write: Callable[[str, str], Path],
) -> None:
    write("upnp_test_gauges.py", providers_module())
    assert resolve("upnp_test_gauges:Undocumented", "service").summary == (
        "upnp_test_gauges:Undocumented"
    )


def test_a_class_with_a_blank_docstring_is_summed_up_by_its_name(
    write: Callable[[str, str], Path],
) -> None:
    write("upnp_test_gauges.py", providers_module())
    assert resolve("upnp_test_gauges:Blank", "service").summary == "upnp_test_gauges:Blank"


def test_a_device_class_named_by_module_and_attribute(write: Callable[[str, str], Path]) -> None:
    write("upnp_test_gauges.py", providers_module())
    factory = resolve("upnp_test_gauges:Panel", "device")
    assert verifyObject(IProviderFactory, factory)
    assert (factory.name, factory.kind, factory.summary) == (
        "upnp_test_gauges:Panel", "device", "A panel with one gauge.",
    )
    panel = factory.build({})
    assert verifyObject(IDeviceProvider, panel)
    assert [s.serviceType for s in panel.services] == ["urn:example-com:service:Gauge:1"]


def test_a_class_of_the_other_kind_is_refused(write: Callable[[str, str], Path]) -> None:
    write("upnp_test_gauges.py", providers_module())
    assert message("device", "upnp_test_gauges:Gauge") == (
        "'upnp_test_gauges:Gauge' is neither a provider factory nor a class "
        "implementing IDeviceProvider"
    )
    assert message("service", "upnp_test_gauges:Panel") == (
        "'upnp_test_gauges:Panel' is neither a provider factory nor a class "
        "implementing IServiceProvider"
    )


def test_a_factory_of_the_other_kind_is_refused(
    write: Callable[[str, str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    write("upnp_test_gauges.py", providers_module())
    controlled(monkeypatch, FakeFactory("lamp", "device", "A lamp"))
    assert message("device", "upnp_test_gauges:gauge") == (
        "'upnp_test_gauges:gauge' provides a service, not a device; "
        "the device providers are: lamp (A lamp)"
    )


def test_a_missing_module(write: Callable[[str, str], Path]) -> None:
    assert message("service", "upnp_test_no_such_module:gauge") == (
        "cannot import 'upnp_test_no_such_module': "
        "No module named 'upnp_test_no_such_module'"
    )


def test_a_module_that_cannot_import_its_own_imports(write: Callable[[str, str], Path]) -> None:
    write("upnp_test_needy.py", "import upnp_test_missing_dependency\n")
    assert message("service", "upnp_test_needy:gauge") == (
        "cannot import 'upnp_test_needy': No module named 'upnp_test_missing_dependency'"
    )


def test_a_missing_attribute(write: Callable[[str, str], Path]) -> None:
    write("upnp_test_gauges.py", providers_module())
    assert message("service", "upnp_test_gauges:Thermometer") == (
        "'upnp_test_gauges' has no 'Thermometer'"
    )
    assert message("service", "upnp_test_gauges:") == "'upnp_test_gauges' has no ''"


def test_an_attribute_that_is_neither(write: Callable[[str, str], Path]) -> None:
    write("upnp_test_gauges.py", providers_module())
    assert message("service", "upnp_test_gauges:value") == (
        "'upnp_test_gauges:value' is neither a provider factory nor a class "
        "implementing IServiceProvider"
    )
    assert message("device", "upnp_test_gauges:Plain") == (
        "'upnp_test_gauges:Plain' is neither a provider factory nor a class "
        "implementing IDeviceProvider"
    )


def test_a_module_that_fails_on_import_is_not_said_to_lack_the_attribute(
    write: Callable[[str, str], Path],
) -> None:
    write("upnp_test_broken.py", "import os\nos.no_such_function()\ngauge = None\n")
    text = message("service", "upnp_test_broken:gauge")
    assert text != "'upnp_test_broken' has no 'gauge'"
    assert text.startswith("cannot import 'upnp_test_broken': ")


@pytest.mark.parametrize("spec", [":gauge", ".relative:gauge"])
def test_a_name_that_is_no_module_name_is_a_provider_error(spec: str) -> None:
    with pytest.raises(ProviderError):
        resolve(spec, "service")


# -- third-party plugins ----------------------------------------------------------


def test_a_plugin_in_another_entrys_twisted_plugins_is_found(
    tmp_path: Path, write: Callable[[str, str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # No __init__.py in twisted/ or twisted/plugins/: Twisted's layout.
    write("twisted/plugins/upnp_test_thirdparty.py", providers_module("thirdgauge"))
    folder = str(tmp_path / "twisted" / "plugins")
    assert not (tmp_path / "twisted" / "__init__.py").exists()
    # twisted.plugins computed its __path__ when it was imported, before
    # tmp_path was on sys.path; a process started now would have it.
    assert folder in pluginPackagePaths("twisted.plugins")
    assert folder not in twisted.plugins.__path__
    monkeypatch.setattr(twisted.plugins, "__path__", [*twisted.plugins.__path__, folder])

    found = available()
    assert found["binarylight"] is binarylight
    factory = found["thirdgauge"]
    assert verifyObject(IProviderFactory, factory)
    assert (factory.kind, factory.summary, factory.keys) == (
        "service", "A gauge from a plugin", {"level": "the level at start"},
    )
    assert resolve("thirdgauge", "service") is factory
    gauge = factory.build({"level": "3"})
    assert type(gauge).__module__ == "twisted.plugins.upnp_test_thirdparty"
    assert verifyObject(IServiceProvider, gauge)
    assert gauge.Level == 3
    assert "thirdgauge (A gauge from a plugin)" in message("service", "nope")
    assert "thirdgauge" not in message("device", "nope")


def test_a_plugin_in_another_entrys_upnp_announce_plugins_is_found(
    tmp_path: Path, write: Callable[[str, str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    write("upnp_announce/plugins/upnp_test_extra.py", providers_module("extragauge"))
    folder = str(tmp_path / "upnp_announce" / "plugins")
    assert folder in pluginPackagePaths("upnp_announce.plugins")
    assert folder not in upnp_announce.plugins.__path__
    monkeypatch.setattr(
        upnp_announce.plugins, "__path__", [*upnp_announce.plugins.__path__, folder]
    )
    factory = resolve("extragauge", "service")
    assert verifyObject(IProviderFactory, factory)
    assert factory is available()["extragauge"]
    assert type(factory.build({})).__module__ == "upnp_announce.plugins.upnp_test_extra"


def test_a_built_in_plugin_wins_over_a_third_party_one_of_the_same_name(
    tmp_path: Path, write: Callable[[str, str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    write("twisted/plugins/upnp_test_impostor.py", providers_module("binarylight"))
    folder = str(tmp_path / "twisted" / "plugins")
    monkeypatch.setattr(twisted.plugins, "__path__", [*twisted.plugins.__path__, folder])
    assert available()["binarylight"] is binarylight
    assert resolve("binarylight", "device") is binarylight


FIND_IN_A_NEW_PROCESS = """\
import json
from upnp_announce.registry import available, resolve
found = available()
print(json.dumps({
    name: [f.kind, type(resolve(name, f.kind).build({})).__module__]
    for name, f in found.items()
    if name in ("binarylight", "thirdgauge", "extragauge")
}))
"""


@pytest.mark.slow
def test_plugins_on_the_python_path_are_found_by_a_new_process(tmp_path: Path) -> None:
    for relative, name in (
        ("twisted/plugins/upnp_test_thirdparty.py", "thirdgauge"),
        ("upnp_announce/plugins/upnp_test_extra.py", "extragauge"),
    ):
        path = tmp_path / "site" / relative
        path.parent.mkdir(parents=True)
        path.write_text(providers_module(name))
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    result = subprocess.run(
        [sys.executable, "-c", FIND_IN_A_NEW_PROCESS],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "binarylight": ["device", "upnp_announce.plugins.binarylight"],
        "thirdgauge": ["service", "twisted.plugins.upnp_test_thirdparty"],
        "extragauge": ["service", "upnp_announce.plugins.upnp_test_extra"],
    }
