"""
The layers a newcomer can see, pinned: the shared layer (model, data types,
settings, the machine's interfaces, wire formats) imports neither side; the device side
(upnp_announce/device) and the client side (upnp_announce/client) never
import each other; README's code map names every module there is; and the
documented import paths keep working.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

from support import ROOT

PACKAGE = Path(ROOT) / "upnp_announce"

# The shared layer: what both sides stand on.
SHARED = {
    "upnp_announce.model",
    "upnp_announce.datatypes",
    "upnp_announce.settings",
    "upnp_announce.netif",
    "upnp_announce.pktinfo",
    "upnp_announce.rtnetlink",
    "upnp_announce._version",
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> set[str]:
    """
    Every upnp_announce module C{path} imports, at any depth of its code
    (a lazy import inside a function counts too).
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                # A relative import, resolved against this module's package.
                package = module_name(path).split(".")
                if path.name != "__init__.py":
                    package = package[:-1]
                base = ".".join(package[: len(package) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            elif node.module:
                module = node.module
            else:
                continue
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.startswith("upnp_announce")}


def modules() -> dict[str, set[str]]:
    return {module_name(p): imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def in_package(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def crossings(graph: dict[str, set[str]], source: str, forbidden: list[str]) -> list[str]:
    return sorted(
        f"{module} imports {target}"
        for module, targets in graph.items()
        if in_package(module, source)
        for target in targets
        if any(in_package(target, f) for f in forbidden)
    )


def test_the_device_side_never_imports_the_client_side() -> None:
    assert crossings(modules(), "upnp_announce.device", ["upnp_announce.client"]) == []


def test_the_client_side_never_imports_the_device_side() -> None:
    assert crossings(modules(), "upnp_announce.client", ["upnp_announce.device"]) == []


APPLICATION = ["upnp_announce.config", "upnp_announce.registry", "upnp_announce.provider",
               "upnp_announce.interfaces", "upnp_announce.cli", "upnp_announce.tap",
               "upnp_announce.plugins", "upnp_announce.ini", "upnp_announce.binarylight"]
# The one place a side reaches up: UPnPService.fromConfig, README's entry
# point from an INI file, imports the INI loader when it is called.
ALLOWED = {"upnp_announce.device.runner imports upnp_announce.config"}


def test_neither_side_imports_the_application_but_from_config() -> None:
    graph = modules()
    wrong = crossings(graph, "upnp_announce.device", APPLICATION)
    wrong += crossings(graph, "upnp_announce.client", APPLICATION)
    assert [w for w in wrong if w not in ALLOWED] == []


def test_the_shared_layer_imports_neither_side_nor_the_application() -> None:
    graph = modules()
    above = ["upnp_announce.device", "upnp_announce.client", *APPLICATION]
    wrong = crossings(graph, "upnp_announce.wire", above)
    for shared in SHARED:
        wrong += crossings(graph, shared, above)
    assert wrong == []


def test_wire_formats_do_no_io() -> None:
    """
    The wire modules are pure: no reactor, no logging, no sockets (only
    wire.http, the twisted.web pieces, touches twisted.web).
    """
    wrong = []
    for path in sorted((PACKAGE / "wire").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        for word in ("twisted.internet import reactor", "twisted.logger", "import socket"):
            if word in text:
                wrong.append(f"{path.name}: {word}")
        if path.name != "http.py" and re.search(r"^from twisted|^import twisted", text, re.M):
            wrong.append(f"{path.name}: imports twisted")
    assert wrong == []


def test_relative_imports_count(tmp_path: Path) -> None:
    folder = tmp_path / "upnp_announce" / "device"
    folder.mkdir(parents=True)
    sample = folder / "x.py"
    sample.write_text("from ..client import eventing\nfrom . import site\n")
    import support

    original = support.ROOT
    try:
        globals()["ROOT"] = str(tmp_path)
        found = imports(sample)
    finally:
        globals()["ROOT"] = original
    assert "upnp_announce.client.eventing" in found
    assert "upnp_announce.device.site" in found


def test_the_check_finds_a_crossing() -> None:
    graph = {"upnp_announce.device.x": {"upnp_announce.client.eventing"},
             "upnp_announce.client.y": {"upnp_announce.wire.ssdp"}}
    assert crossings(graph, "upnp_announce.device", ["upnp_announce.client"]) == [
        "upnp_announce.device.x imports upnp_announce.client.eventing"
    ]
    assert crossings(graph, "upnp_announce.client", ["upnp_announce.device"]) == []


def code_map() -> set[str]:
    """
    The modules README's code map names (``upnp_announce/...py`` and
    ``upnp_announce/.../``), as paths.
    """
    text = (Path(ROOT) / "README.rst").read_text(encoding="utf-8")
    start = text.index("Code map\n")
    section = text[start:text.index("\nTests\n-----\n", start)]
    return set(re.findall(r"``(upnp_announce/[A-Za-z0-9_/]+(?:\.py|/))``", section))


def test_readme_code_map_matches_the_tree() -> None:
    named = code_map()
    actual = {
        str(p.relative_to(ROOT))
        for p in PACKAGE.rglob("*.py")
        if p.name != "__init__.py"
    } | {str(p.parent.relative_to(ROOT)) + "/" for p in PACKAGE.rglob("__init__.py")
         if p.parent != PACKAGE}
    assert sorted(named - actual) == [], "the code map names what is not there"
    assert sorted(actual - named) == [], "the code map leaves these out"


# What README documents users import: each path keeps working.
DOCUMENTED = {
    "upnp_announce": [
        "Action", "AllowedValueRange", "Argument", "Config", "ConfigError", "Device",
        "EventingSettings", "HTTPBinding", "Icon", "ModelError", "NetworkSettings", "Service",
        "ServiceDescription", "StartError", "StateVariable", "UPnPError", "UPnPService",
        "__version__",
    ],
    "upnp_announce.provider": [
        "DeviceProvider", "IDeviceProvider", "IProviderFactory", "IServiceProvider",
        "OptionError", "ProviderFactory", "ServiceProvider", "StateVariable", "action",
    ],
    "upnp_announce.interfaces": ["IDeviceProvider", "IProviderFactory", "IServiceProvider"],
    "upnp_announce.binarylight": ["BinaryLight", "SwitchPower", "binarylight"],
    "upnp_announce.client": [
        "ClientError", "ControlPoint", "DeviceTable", "EventSubscription", "Found",
        "RemoteDevice", "RemoteService", "TableProtocol", "discover",
    ],
}


@pytest.mark.parametrize("module", sorted(DOCUMENTED))
def test_documented_imports_keep_working(module: str) -> None:
    imported = importlib.import_module(module)
    missing = [name for name in DOCUMENTED[module] if not hasattr(imported, name)]
    assert missing == []
    exported = set(getattr(imported, "__all__", DOCUMENTED[module]))
    assert set(DOCUMENTED[module]) <= exported | {"__version__"}
