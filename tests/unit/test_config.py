"""Tests for upnp_announce.config: INI text in, a Config or every mistake out."""

from __future__ import annotations

import shutil
import struct
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from upnp_announce import config
from upnp_announce.config import (
    MAX_FILE_BYTES,
    Config,
    ConfigError,
    ConfigProblem,
    derive_udn,
    load,
)
from upnp_announce.model import UDN as UDN_PATTERN
from upnp_announce.settings import NetworkSettings
from upnp_announce.wire.scpd import parse_scpd

import support

EXAMPLES = Path(support.EXAMPLES)
PATH = "jambon.ini"

# No example database: the tests leave nothing behind in the tree.
quick = settings(database=None, deadline=None)

# Lines 1-5.
ROOT = """\
[device]
deviceType = urn:schemas-upnp-org:device:Basic:1
friendlyName = Jambon 3000
manufacturer = Boucherie numerique SAS
modelName = Jambon
"""

# Four lines.
JAMBON_SERVICE = """\
[service:jambon]
serviceType = urn:boucherie.example.com:service:Jambon:1
serviceId = urn:boucherie.example.com:serviceId:Jambon
scpd = jambon-scpd.xml
"""


def device_section(name: str, *extra: str) -> str:
    """Five lines, then one per extra line."""
    lines = [
        f"[device:{name}]",
        "deviceType = urn:boucherie.example.com:device:Fridge:1",
        f"friendlyName = {name}",
        "manufacturer = Boucherie numerique SAS",
        "modelName = Frigo",
        *extra,
    ]
    return "\n".join(lines) + "\n"


@pytest.fixture
def base(tmp_path: Path) -> Path:
    """A folder with the example icons and SCPD files."""
    for name in ("jambon-48.png", "jambon-120.png", "jambon-scpd.xml", "fridge-scpd.xml"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    return tmp_path


def parse(text: str, base: Path, machineId: str = "m1") -> Config:
    return config.parse(text, path=PATH, baseDir=str(base), machineId=machineId)


def problems(text: str, base: Path) -> tuple[ConfigProblem, ...]:
    with pytest.raises(ConfigError) as excinfo:
        parse(text, base)
    return excinfo.value.problems


def only_problem(text: str, base: Path) -> ConfigProblem:
    [problem] = problems(text, base)
    return problem


def png(width: int, height: int, bit_depth: int, colour_type: int) -> bytes:
    body = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    chunk = struct.pack(">I", 13) + b"IHDR" + body + struct.pack(">I", zlib.crc32(b"IHDR" + body))
    return b"\x89PNG\r\n\x1a\n" + chunk


def jpeg(width: int, height: int, components: int = 3) -> bytes:
    specs = b"".join(bytes([i + 1, 0x11, 0]) for i in range(components))
    payload = struct.pack(">BHHB", 8, height, width, components) + specs
    return b"\xff\xd8\xff\xc0" + struct.pack(">H", len(payload) + 2) + payload + b"\xff\xd9"


# --- the examples ------------------------------------------------------------


def test_example_jambon() -> None:
    c = load(EXAMPLES / "jambon.ini", machineId="m1")
    assert c.path == str(EXAMPLES / "jambon.ini")
    d = c.device
    assert (d.deviceType, d.friendlyName, d.manufacturer, d.modelName, d.modelNumber) == (
        "urn:schemas-upnp-org:device:Basic:1", "Jambon 3000", "Boucherie numerique SAS",
        "Jambon", "3000",
    )
    assert d.manufacturerURL == "http://www.boucherie.example.com/"
    assert d.modelURL == "http://www.boucherie.example.com/en/products/jambon-3000/"
    assert (d.modelDescription, d.serialNumber) == ("Jambon Appliance 3000", "JBN425133")
    assert d.UDN == "uuid:e427ce1a-3e80-43d0-ad6f-89ec42e46363"
    assert (d.UPC, d.presentationURL, d.devices) == (None, None, ())
    assert [(i.mimetype, i.width, i.height, i.depth) for i in d.icons] == [
        ("image/png", 48, 48, 32),
        ("image/png", 120, 120, 32),
    ]
    assert d.icons[1].data == (EXAMPLES / "jambon-120.png").read_bytes()
    [service] = d.services
    assert service.serviceType == "urn:boucherie.example.com:service:Jambon:1"
    assert service.serviceId == "urn:boucherie.example.com:serviceId:Jambon"
    assert service.description == parse_scpd((EXAMPLES / "jambon-scpd.xml").read_bytes())
    assert c.network == NetworkSettings(None, 0, 1800, 2)


def test_example_jambon_fridge() -> None:
    c = load(EXAMPLES / "jambon-fridge.ini", machineId="m1")
    [fridge] = c.device.devices
    assert (fridge.friendlyName, fridge.modelName, fridge.modelNumber) == (
        "Jambon fridge", "Frigo", "12",
    )
    assert fridge.deviceType == "urn:boucherie.example.com:device:Fridge:1"
    assert [s.serviceId for s in fridge.services] == [
        "urn:boucherie.example.com:serviceId:Thermometer"
    ]
    assert fridge.services[0].description == parse_scpd(
        (EXAMPLES / "fridge-scpd.xml").read_bytes()
    )
    assert UDN_PATTERN.match(c.device.UDN) and UDN_PATTERN.match(fridge.UDN)
    assert c.device.UDN != fridge.UDN
    assert c.network == NetworkSettings()


# --- the happy path ----------------------------------------------------------


def test_minimal(base: Path) -> None:
    c = parse(ROOT, base)
    assert c.path == PATH
    assert c.device.friendlyName == "Jambon 3000"
    assert (c.device.icons, c.device.services, c.device.devices) == ((), (), ())
    assert c.network == NetworkSettings(interfaces=None, httpPort=0, maxAge=1800, ttl=2)


def test_every_device_key(base: Path) -> None:
    text = ROOT + (
        "manufacturerURL = http://www.boucherie.example.com/\n"
        "modelDescription = Jambon Appliance 3000\n"
        "modelNumber = 3000\n"
        "modelURL = http://www.boucherie.example.com/jambon\n"
        "serialNumber = JBN425133\n"
        "udn = uuid:E427CE1A-3E80-43D0-AD6F-89EC42E46363\n"
        "UPC = 012345678905\n"
        "presentationURL = /admin.html\n"
        "icons = jambon-48.png\n"
        "services = jambon\n"
        "devices = fridge\n"
    ) + JAMBON_SERVICE + device_section("fridge")
    d = parse(text, base).device
    assert d.modelDescription == "Jambon Appliance 3000"
    assert d.UDN == "uuid:E427CE1A-3E80-43D0-AD6F-89EC42E46363"
    assert (d.UPC, d.presentationURL, d.serialNumber) == (
        "012345678905", "/admin.html", "JBN425133",
    )
    assert [i.width for i in d.icons] == [48]
    assert [s.serviceType for s in d.services] == ["urn:boucherie.example.com:service:Jambon:1"]
    assert [c.friendlyName for c in d.devices] == ["fridge"]


def test_embedded_devices_at_depth(base: Path) -> None:
    text = (
        ROOT
        + "devices = a, b\n"
        + device_section("a", "devices = a1")
        + device_section("b")
        + device_section("a1", "devices = a2", "services = jambon")
        + device_section("a2")
        + JAMBON_SERVICE
    )
    root = parse(text, base).device
    assert [d.friendlyName for d in root.allDevices()] == [
        "Jambon 3000", "a", "a1", "a2", "b",
    ]
    assert root.devices[0].devices[0].services[0].serviceId.endswith(":Jambon")
    assert len({d.UDN for d in root.allDevices()}) == 5


def test_a_service_shared_by_two_devices(base: Path) -> None:
    text = ROOT + "services = jambon\ndevices = a\n"
    text += device_section("a", "services = jambon") + JAMBON_SERVICE
    root = parse(text, base).device
    assert root.services == root.devices[0].services


def test_values_are_stripped_and_inline_comments_dropped(base: Path) -> None:
    text = (
        "; The Jambon 3000\n"
        "# another comment\n"
        "[device] ; the root\n"
        "deviceType = urn:schemas-upnp-org:device:Basic:1 ; the type\n"
        "friendlyName =    Jambon 3000    ; the name\n"
        "; between keys\n"
        "manufacturer = Boucherie numerique SAS ; a comment\n"
        "modelName = Jambon\n"
        "modelNumber = 3000;nospace\n"
        "serialNumber = Jambon #3\n"
        "icons = jambon-48.png ; jambon-120.png\n"
    )
    d = parse(text, base).device
    assert d.deviceType == "urn:schemas-upnp-org:device:Basic:1"
    assert d.friendlyName == "Jambon 3000"
    assert d.manufacturer == "Boucherie numerique SAS"
    assert d.modelNumber == "3000;nospace"  # no space before ";": not a comment
    assert d.serialNumber == "Jambon #3"  # "#" only starts whole-line comments
    assert len(d.icons) == 1


def test_keys_ignore_case(base: Path) -> None:
    text = (
        "[device]\n"
        "DEVICETYPE = urn:schemas-upnp-org:device:Basic:1\n"
        "friendlyname = Jambon 3000\n"
        "Manufacturer = Boucherie numerique SAS\n"
        "MODELname = Jambon\n"
        "UDN = uuid:e427ce1a-3e80-43d0-ad6f-89ec42e46363\n"
        "upc = 012345678905\n"
        "Services = jambon\n"
        "[service:jambon]\n"
        "SERVICETYPE = urn:boucherie.example.com:service:Jambon:1\n"
        "ServiceID = urn:boucherie.example.com:serviceId:Jambon\n"
        "SCPD = jambon-scpd.xml\n"
        "[network]\n"
        "HTTPPORT = 8080\n"
        "MaxAge = 3600\n"
        "TTL = 4\n"
        "Interfaces = eth0\n"
    )
    c = parse(text, base)
    assert c.device.friendlyName == "Jambon 3000"
    assert c.device.UDN == "uuid:e427ce1a-3e80-43d0-ad6f-89ec42e46363"
    assert c.device.UPC == "012345678905"
    assert c.device.services[0].serviceId == "urn:boucherie.example.com:serviceId:Jambon"
    assert c.network == NetworkSettings(("eth0",), 8080, 3600, 4)


def test_list_values_split_on_commas_and_spaces_and_keep_quotes(base: Path) -> None:
    shutil.copy(base / "jambon-48.png", base / "my icon.png")
    text = ROOT + 'icons = jambon-48.png,jambon-120.png  "my icon.png"\n'
    assert [i.width for i in parse(text, base).device.icons] == [48, 120, 48]


# --- UDNs --------------------------------------------------------------------


def test_derive_udn() -> None:
    udn = derive_udn("m1", "[device]", "x")
    assert UDN_PATTERN.match(udn)
    assert udn == derive_udn("m1", "[device]", "x")
    assert udn != derive_udn("m2", "[device]", "x")
    assert udn != derive_udn("m1", "[device]", "y")


def test_derived_udn_stable_across_loads(base: Path) -> None:
    first = parse(ROOT, base).device.UDN
    assert UDN_PATTERN.match(first)
    assert parse(ROOT, base).device.UDN == first
    assert parse(ROOT.replace("Jambon 3000", "Renamed"), base).device.UDN == first
    assert parse(ROOT, base, machineId="m2").device.UDN != first


@pytest.mark.parametrize(
    "change",
    [
        ("Basic:1", "Basic:2"),
        ("Boucherie numerique SAS", "Other SAS"),
        ("modelName = Jambon", "modelName = Jambon2"),
        ("modelName = Jambon", "modelName = Jambon\nserialNumber = 2"),
    ],
)
def test_derived_udn_depends_on_device_identity(base: Path, change: tuple[str, str]) -> None:
    assert parse(ROOT.replace(*change), base).device.UDN != parse(ROOT, base).device.UDN


@quick
@given(machineIds=st.lists(st.text(min_size=1, max_size=20), min_size=2, max_size=2, unique=True))
def test_derived_udn_differs_per_machine(machineIds: list[str]) -> None:
    text = ROOT + "devices = fridge\n" + device_section("fridge")
    a, b = (config.parse(text, path=PATH, baseDir=".", machineId=m).device for m in machineIds)
    assert a.UDN != b.UDN
    assert a.devices[0].UDN != b.devices[0].UDN


def test_embedded_udn_derives_from_root_udn_and_section(base: Path) -> None:
    text = ROOT + "udn = uuid:e427ce1a-3e80-43d0-ad6f-89ec42e46363\ndevices = fridge, cellar\n"
    text += device_section("fridge") + device_section("cellar")
    c = parse(text, base)
    fridge, cellar = c.device.devices
    # The root's UDN is given, so the machine id plays no part.
    again = parse(text, base, machineId="m2").device.devices
    assert (again[0].UDN, again[1].UDN) == (fridge.UDN, cellar.UDN)
    assert UDN_PATTERN.match(fridge.UDN)
    # Same type and content, different section: different UDNs.
    assert fridge.UDN != cellar.UDN
    # Another root UDN: another embedded UDN.
    other = parse(text.replace("e427ce1a", "0427ce1a"), base).device.devices[0]
    assert other.UDN != fridge.UDN
    # Renaming the embedded device's friendlyName keeps it.
    renamed = parse(text.replace("friendlyName = fridge", "friendlyName = Frigo"), base)
    assert renamed.device.devices[0].UDN == fridge.UDN


def test_embedded_udn_follows_derived_root(base: Path) -> None:
    text = ROOT + "devices = fridge\n" + device_section("fridge", "devices = probe")
    text += device_section("probe")
    m1, m2 = parse(text, base).device, parse(text, base, machineId="m2").device
    again = parse(text, base).device
    assert [d.UDN for d in m1.allDevices()] == [d.UDN for d in again.allDevices()]
    assert {d.UDN for d in m1.allDevices()}.isdisjoint(d.UDN for d in m2.allDevices())


def test_explicit_udn_is_kept(base: Path) -> None:
    text = ROOT + "devices = fridge\n" + device_section(
        "fridge", "udn = uuid:6788ec8c-dc78-54a8-b763-94685b418523"
    )
    assert parse(text, base).device.devices[0].UDN == "uuid:6788ec8c-dc78-54a8-b763-94685b418523"


# --- icons -------------------------------------------------------------------


def test_icon_facts_come_from_the_image(base: Path) -> None:
    (base / "grey.png").write_bytes(png(7, 5, 8, 0))
    (base / "photo.jpg").write_bytes(jpeg(32, 16))
    (base / "palette.png").write_bytes(png(300, 2, 4, 3))
    icons = parse(ROOT + "icons = grey.png photo.jpg palette.png\n", base).device.icons
    assert [(i.mimetype, i.width, i.height, i.depth) for i in icons] == [
        ("image/png", 7, 5, 8),
        ("image/jpeg", 32, 16, 24),
        ("image/png", 300, 2, 4),
    ]
    assert icons[1].data == jpeg(32, 16)


def test_icon_file_missing(base: Path) -> None:
    assert only_problem(ROOT + "icons = jambon-48.png nothere.png\n", base) == ConfigProblem(
        PATH, "cannot read 'nothere.png': No such file or directory", 6, "device", "icons"
    )


def test_icon_not_an_image(base: Path) -> None:
    (base / "icon.png").write_bytes(b"GIF89a...")
    problem = only_problem(ROOT + "icons = icon.png\n", base)
    assert (problem.path, problem.line, problem.section, problem.key) == (
        PATH, 6, "device", "icons",
    )
    assert problem.message.startswith("'icon.png': not a PNG or JPEG image")


def test_icons_need_a_png(base: Path) -> None:
    (base / "photo.jpg").write_bytes(jpeg(32, 16))
    assert only_problem(ROOT + "icons = photo.jpg\n", base) == ConfigProblem(
        PATH, "at least one icon must be a PNG", 6, "device", "icons"
    )


def test_icon_too_large(base: Path) -> None:
    with pytest.raises(ConfigError) as excinfo:
        config.parse(
            ROOT + "icons = big.png\n", path=PATH, baseDir=str(base), machineId="m1",
            readFile=lambda path: b"\x89PNG" + b"\0" * MAX_FILE_BYTES,
        )
    assert excinfo.value.problems == (
        ConfigProblem(PATH, "'big.png' is larger than 1 MiB", 6, "device", "icons"),
    )


def test_referred_files_are_read_relative_to_base_dir(base: Path) -> None:
    read = []

    def readFile(path: str) -> bytes:
        read.append(path)
        return (EXAMPLES / Path(path).name).read_bytes()

    config.parse(ROOT + "icons = jambon-48.png\nservices = jambon\n" + JAMBON_SERVICE,
                 path=PATH, baseDir="/some/where", machineId="m1", readFile=readFile)
    assert sorted(read) == ["/some/where/jambon-48.png", "/some/where/jambon-scpd.xml"]


# --- SCPD files --------------------------------------------------------------

SERVICE_AT = ROOT + "services = jambon\n" + JAMBON_SERVICE  # [service:jambon] is line 7


def test_scpd_file_missing(base: Path) -> None:
    (base / "jambon-scpd.xml").unlink()
    assert only_problem(SERVICE_AT, base) == ConfigProblem(
        PATH, "cannot read 'jambon-scpd.xml': No such file or directory", 10,
        "service:jambon", "scpd",
    )


def test_scpd_file_with_doctype_is_refused(base: Path) -> None:
    (base / "secret.txt").write_text("TopSecret")
    data = (base / "jambon-scpd.xml").read_text().replace(
        "<scpd ", f'<!DOCTYPE scpd [<!ENTITY x SYSTEM "file://{base}/secret.txt">]>\n<scpd ', 1
    ).replace("<name>Cut</name>", "<name>&x;</name>")
    (base / "jambon-scpd.xml").write_text(data)
    problem = only_problem(SERVICE_AT, base)
    assert problem == ConfigProblem(
        PATH, "'jambon-scpd.xml': a document type declaration (DOCTYPE) is not allowed", 10,
        "service:jambon", "scpd",
    )
    assert "TopSecret" not in str(problem)


def test_scpd_file_is_validated(base: Path) -> None:
    data = (base / "jambon-scpd.xml").read_text().replace(
        "<relatedStateVariable>SliceThickness</relatedStateVariable>\n        </argument>\n"
        "      </argumentList>\n    </action>\n    <action>",
        "<relatedStateVariable>Thickness</relatedStateVariable>\n        </argument>\n"
        "      </argumentList>\n    </action>\n    <action>",
    )
    assert "<relatedStateVariable>Thickness<" in data
    (base / "jambon-scpd.xml").write_text(data)
    problem = only_problem(SERVICE_AT, base)
    assert (problem.path, problem.line, problem.section, problem.key) == (
        PATH, 10, "service:jambon", "scpd",
    )
    assert problem.message.startswith("'jambon-scpd.xml': ")
    assert "undeclared state variable 'Thickness'" in problem.message


def test_scpd_file_typo_is_refused(base: Path) -> None:
    data = (base / "jambon-scpd.xml").read_text().replace("<stateVariable ", "<stateVarable ", 1)
    (base / "jambon-scpd.xml").write_text(data.replace("</stateVariable>", "</stateVarable>", 1))
    assert only_problem(SERVICE_AT, base) == ConfigProblem(
        PATH, "'jambon-scpd.xml': unexpected <stateVarable> inside <serviceStateTable>", 10,
        "service:jambon", "scpd",
    )


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("serviceType", "urn:boucherie.example.com:service:Jambon",
         "'urn:boucherie.example.com:service:Jambon' is not of the form "
         "urn:domain-name:service:Name:version"),
        ("serviceId", "Jambon", "'Jambon' is not of the form urn:domain-name:serviceId:Name"),
    ],
)
def test_service_model_problems_point_at_their_key(
    base: Path, key: str, value: str, message: str
) -> None:
    line = {"serviceType": 8, "serviceId": 9}[key]
    lines = SERVICE_AT.splitlines()
    lines[line - 1] = f"{key} = {value}"
    text = "\n".join(lines) + "\n"
    assert only_problem(text, base) == ConfigProblem(PATH, message, line, "service:jambon", key)


@pytest.mark.parametrize("key", ["serviceType", "serviceId", "scpd"])
def test_service_keys_required(base: Path, key: str) -> None:
    lines = [line for line in SERVICE_AT.splitlines() if not line.startswith(key + " ")]
    assert only_problem("\n".join(lines) + "\n", base) == ConfigProblem(
        PATH, "is required", 7, "service:jambon", key
    )


def test_service_key_empty(base: Path) -> None:
    text = SERVICE_AT.replace("scpd = jambon-scpd.xml", "scpd =")
    assert only_problem(text, base) == ConfigProblem(
        PATH, "is empty; give it a value or leave the key out", 10, "service:jambon", "scpd"
    )


# --- device problems ---------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "line"),
    [("deviceType", 2), ("friendlyName", 3), ("manufacturer", 4), ("modelName", 5)],
)
def test_device_keys_required(base: Path, key: str, line: int) -> None:
    text = "".join(ln for ln in ROOT.splitlines(keepends=True) if not ln.startswith(key + " "))
    assert only_problem(text, base) == ConfigProblem(PATH, "is required", 1, "device", key)
    empty = "".join(
        f"{key} =\n" if ln.startswith(key + " ") else ln for ln in ROOT.splitlines(keepends=True)
    )
    assert only_problem(empty, base) == ConfigProblem(
        PATH, "is empty; give it a value or leave the key out", line, "device", key
    )


@pytest.mark.parametrize(
    ("line", "key", "message"),
    [
        ("friendlyName = " + "x" * 64, "friendlyName",
         "is 64 characters long; UPnP allows at most 63"),
        ("modelName = " + "x" * 32, "modelName", "is 32 characters long; UPnP allows at most 31"),
        ("modelNumber = " + "x" * 32, "modelNumber",
         "is 32 characters long; UPnP allows at most 31"),
        ("serialNumber = " + "x" * 64, "serialNumber",
         "is 64 characters long; UPnP allows at most 63"),
        ("modelDescription = " + "x" * 128, "modelDescription",
         "is 128 characters long; UPnP allows at most 127"),
        ("manufacturer = " + "x" * 64, "manufacturer",
         "is 64 characters long; UPnP allows at most 63"),
        ("UPC = 1234", "UPC", "'1234' is not of the form 12 digits"),
        ("udn = uuid:1234", "udn",
         "'uuid:1234' is not of the form uuid: followed by an RFC 4122 UUID"),
        ("deviceType = Basic", "deviceType",
         "'Basic' is not of the form urn:domain-name:device:Name:version"),
        ("presentationURL = a b", "presentationURL", "'a b' is not a URL"),
    ],
)
def test_device_model_problems_point_at_their_key(
    base: Path, line: str, key: str, message: str
) -> None:
    # The new line replaces the key where ROOT sets it, or comes as line 6.
    lines = ROOT.splitlines()
    where = next((i for i, ln in enumerate(lines) if ln.split(" ")[0] == line.split(" ")[0]), None)
    if where is None:
        lines.append(line)
        where = len(lines) - 1
    else:
        lines[where] = line
    assert only_problem("\n".join(lines) + "\n", base) == ConfigProblem(
        PATH, message, where + 1, "device", key
    )


def test_embedded_device_problems_name_their_section(base: Path) -> None:
    text = ROOT + "devices = fridge\n" + device_section("fridge", "UPC = 12")
    assert only_problem(text, base) == ConfigProblem(
        PATH, "'12' is not of the form 12 digits", 12, "device:fridge", "UPC"
    )


def test_duplicate_udn(base: Path) -> None:
    udn = "uuid:e427ce1a-3e80-43d0-ad6f-89ec42e46363"
    text = ROOT + f"udn = {udn}\ndevices = fridge\n" + device_section("fridge", f"udn = {udn}")
    problem = only_problem(text, base)
    assert (problem.path, problem.line, problem.section, problem.key) == (
        PATH, 7, "device", "devices",
    )
    assert problem.message == f"UDN {udn!r} is used by two devices"


def test_duplicate_service_id(base: Path) -> None:
    text = ROOT + "services = jambon, jambon\n" + JAMBON_SERVICE
    assert only_problem(text, base) == ConfigProblem(
        PATH, "serviceId 'urn:boucherie.example.com:serviceId:Jambon' is used twice", 6,
        "device", "services",
    )


# --- unknown keys and sections -----------------------------------------------


def test_unknown_key_with_suggestion(base: Path) -> None:
    assert only_problem(ROOT + "modelNumbr = 3000\n", base) == ConfigProblem(
        PATH, "unknown key; did you mean 'modelNumber'?", 6, "device", "modelNumbr"
    )


def test_unknown_key_lists_the_keys(base: Path) -> None:
    problem = only_problem(ROOT + "colour = red\n", base)
    assert (problem.path, problem.line, problem.section, problem.key) == (
        PATH, 6, "device", "colour",
    )
    assert problem.message == "unknown key; the keys are " + ", ".join(config.DEVICE_KEYS)


def test_unknown_key_in_service_section(base: Path) -> None:
    text = SERVICE_AT + "serviceTyp = x\n"
    assert only_problem(text, base) == ConfigProblem(
        PATH, "unknown key; did you mean 'serviceType'?", 11, "service:jambon", "serviceTyp"
    )


def test_key_of_another_section_is_unknown(base: Path) -> None:
    problem = only_problem(ROOT + "httpPort = 80\n", base)
    assert (problem.line, problem.section, problem.key) == (6, "device", "httpPort")
    assert problem.message.startswith("unknown key")


def test_unknown_key_in_network_section(base: Path) -> None:
    assert only_problem(ROOT + "[network]\nport = 8080\n", base) == ConfigProblem(
        PATH, "unknown key; did you mean 'httpPort'?", 7, "network", "port"
    )


SECTIONS = (
    "unknown section; the sections are [device], [device:NAME], [service:NAME], "
    "[network] and [eventing]"
)


@pytest.mark.parametrize(
    ("header", "suggestion"),
    [
        ("sevice:jambon", "; did you mean 'service'?"),
        ("netwrk", "; did you mean 'network'?"),
        ("Device", "; did you mean 'device'?"),
        ("DEFAULT", ""),
        ("icons", ""),
    ],
)
def test_unknown_section(base: Path, header: str, suggestion: str) -> None:
    text = ROOT + f"[{header}]\nkey = value\n"
    assert only_problem(text, base) == ConfigProblem(PATH, SECTIONS + suggestion, 6, header)


def test_spaces_inside_a_section_header_do_not_count(base: Path) -> None:
    assert parse(ROOT.replace("[device]", "[ device ]"), base).device.friendlyName == "Jambon 3000"
    found = problems(ROOT + "[ colour ]\n", base)
    assert [(p.section, p.line) for p in found] == [("colour", 6)]


def test_no_device_section(base: Path) -> None:
    assert problems("[network]\nttl = 2\n", base) == (
        ConfigProblem(PATH, "has no [device] section (the root device)"),
    )


# --- references between sections --------------------------------------------


def test_missing_service_section_with_suggestion(base: Path) -> None:
    text = ROOT + "services = jambn\n" + JAMBON_SERVICE
    found = problems(text, base)
    assert found[0] == ConfigProblem(
        PATH, "there is no section [service:jambn]; did you mean 'jambon'?", 6, "device",
        "services",
    )


def test_missing_device_section_with_suggestion(base: Path) -> None:
    text = ROOT + "devices = frige\n" + device_section("fridge")
    assert problems(text, base)[0] == ConfigProblem(
        PATH, "there is no section [device:frige]; did you mean 'fridge'?", 6, "device", "devices"
    )


def test_missing_section_without_suggestion(base: Path) -> None:
    assert only_problem(ROOT + "services = thermometer\n", base) == ConfigProblem(
        PATH, "there is no section [service:thermometer]", 6, "device", "services"
    )


def test_sections_nobody_refers_to(base: Path) -> None:
    text = ROOT + JAMBON_SERVICE + device_section("fridge")
    assert problems(text, base) == (
        ConfigProblem(PATH, "is not listed in any device's services key", 6, "service:jambon"),
        ConfigProblem(PATH, "is not listed in any device's devices key", 10, "device:fridge"),
    )


def test_sections_nobody_refers_to_are_checked_too(base: Path) -> None:
    text = ROOT + JAMBON_SERVICE + "colour = red\n" + device_section("fridge", "modlName = x")
    found = problems(text, base)
    assert [(p.line, p.section, p.key) for p in found] == [
        (6, "service:jambon", None),
        (10, "service:jambon", "colour"),
        (11, "device:fridge", None),
        (16, "device:fridge", "modlName"),
    ]
    assert found[3].message == "unknown key; did you mean 'modelName'?"


def test_device_embedded_twice(base: Path) -> None:
    text = ROOT + "devices = a b\n" + device_section("a", "devices = c") + device_section(
        "b", "devices = c"
    ) + device_section("c")
    assert only_problem(text, base) == ConfigProblem(
        PATH, "[device:c] is already embedded in [device:a]", 18, "device:b", "devices"
    )


def test_device_listed_twice_in_one_key(base: Path) -> None:
    text = ROOT + "devices = a a\n" + device_section("a")
    assert only_problem(text, base) == ConfigProblem(
        PATH, "[device:a] is already embedded in [device]", 6, "device", "devices"
    )


def test_device_containing_itself(base: Path) -> None:
    text = ROOT + "devices = a\n" + device_section("a", "devices = a")
    assert only_problem(text, base) == ConfigProblem(
        PATH, "[device:a] contains itself", 12, "device:a", "devices"
    )


def test_device_cycle(base: Path) -> None:
    text = ROOT + "devices = a\n" + device_section("a", "devices = b") + device_section(
        "b", "devices = a"
    )
    assert only_problem(text, base) == ConfigProblem(
        PATH, "[device:a] contains itself", 18, "device:b", "devices"
    )


def test_root_cannot_be_embedded(base: Path) -> None:
    # [device:device] would be another section; "device" names no [device:NAME].
    text = ROOT + "devices = a\n" + device_section("a", "devices = device")
    assert only_problem(text, base) == ConfigProblem(
        PATH, "there is no section [device:device]", 12, "device:a", "devices"
    )


# --- [network] ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ("httpPort = 0\nmaxAge = 1800\nttl = 1", NetworkSettings(None, 0, 1800, 1)),
        ("httpPort = 65535\nmaxAge = 86400\nttl = 255", NetworkSettings(None, 65535, 86400, 255)),
        ("interfaces = eth0", NetworkSettings(("eth0",), 0, 1800, 2)),
        ("interfaces = eth0, wlan0 br-lan", NetworkSettings(("eth0", "wlan0", "br-lan"))),
        ("interfaces = 'Local Area Connection' eth0",
         NetworkSettings(("Local Area Connection", "eth0"))),
        ("httpPort = 08080", NetworkSettings(httpPort=8080)),
        ("interfaces = eth* wlan0", NetworkSettings(("eth*", "wlan0"))),
        ("exclude = docker* tun?", NetworkSettings(exclude=("docker*", "tun?"))),
        ("exclude =", NetworkSettings(exclude=())),
        ("ipv6 = no", NetworkSettings(ipv6=False)),
        ("ipv6 = Yes", NetworkSettings(ipv6=True)),
        ("repliesPerSecond = 200\nquietSeconds = 30",
         NetworkSettings(repliesPerSecond=200, quietSeconds=30)),
    ],
)
def test_network(base: Path, lines: str, expected: NetworkSettings) -> None:
    assert parse(ROOT + "[network]\n" + lines + "\n", base).network == expected


def test_empty_network_section(base: Path) -> None:
    assert parse(ROOT + "[network]\n", base).network == NetworkSettings()
    assert NetworkSettings().exclude == (
        "docker*", "br-*", "veth*", "virbr*", "vmnet*", "vboxnet*", "cni*", "podman*",
        "lxcbr*", "lxdbr*",
    )
    assert NetworkSettings().ipv6 is True
    assert (NetworkSettings().repliesPerSecond, NetworkSettings().quietSeconds) == (50, 10)


@pytest.mark.parametrize(
    ("line", "key", "message"),
    [
        ("httpPort = 65536", "httpPort", "65536 is not a whole number from 0 to 65535"),
        ("maxAge = 1799", "maxAge",
         "1799 is not a whole number from 1800 to 86400 "
         "(UDA 1.1 asks for at least 1800 seconds)"),
        ("maxAge = 86401", "maxAge",
         "86401 is not a whole number from 1800 to 86400 "
         "(UDA 1.1 asks for at least 1800 seconds)"),
        ("ttl = 0", "ttl", "0 is not a whole number from 1 to 255"),
        ("ttl = 256", "ttl", "256 is not a whole number from 1 to 255"),
        ("httpPort = -1", "httpPort", "'-1' is not a whole number"),
        ("httpPort = http", "httpPort", "'http' is not a whole number"),
        ("ttl = 2.5", "ttl", "'2.5' is not a whole number"),
        ("ttl = 0x10", "ttl", "'0x10' is not a whole number"),
        ("maxAge =", "maxAge", "is empty; give it a value or leave the key out"),
        ("maxAge = 1 800", "maxAge", "'1 800' is not a whole number"),
        ("ttl = ٣", "ttl", "'٣' is not a whole number"),
        ("interfaces =", "interfaces", "lists no interface; leave the key out for all of them"),
        ("interfaces = , ,", "interfaces",
         "lists no interface; leave the key out for all of them"),
        ("ipv6 = maybe", "ipv6", "'maybe' is neither yes nor no"),
        ("repliesPerSecond = 0", "repliesPerSecond", "0 is not a whole number from 1 to 100000"),
        ("quietSeconds = 3601", "quietSeconds", "3601 is not a whole number from 1 to 3600"),
        ("exclude = 'docker*", "exclude", "cannot be read as a list: No closing quotation"),
    ],
)
def test_network_problems(base: Path, line: str, key: str, message: str) -> None:
    assert only_problem(ROOT + "[network]\n" + line + "\n", base) == ConfigProblem(
        PATH, message, 7, "network", key
    )


def test_network_settings_check_themselves() -> None:
    with pytest.raises(ValueError, match="ttl: 0 is not a whole number from 1 to 255"):
        NetworkSettings(ttl=0)
    with pytest.raises(ValueError, match="httpPort: True is not"):
        NetworkSettings(httpPort=True)
    with pytest.raises(ValueError, match="interfaces: lists no interface"):
        NetworkSettings(interfaces=())


@quick
@given(st.integers(0, 999_999_999))
def test_http_port_range(port: int) -> None:
    text = ROOT + f"[network]\nhttpPort = {port}\n"
    if port <= 65535:
        assert config.parse(text, path=PATH, baseDir=".", machineId="m1").network.httpPort == port
    else:
        with pytest.raises(ConfigError) as excinfo:
            config.parse(text, path=PATH, baseDir=".", machineId="m1")
        assert excinfo.value.problems == (
            ConfigProblem(PATH, f"{port} is not a whole number from 0 to 65535", 7, "network",
                          "httpPort"),
        )


# --- syntax ------------------------------------------------------------------


def test_duplicate_key(base: Path) -> None:
    assert problems(ROOT + "friendlyName = again\n", base) == (
        ConfigProblem(
            PATH, "is set twice in this section (first on line 3)", 6, "device", "friendlyName"
        ),
    )


def test_duplicate_key_in_another_case(base: Path) -> None:
    problem = only_problem(ROOT + "FriendlyName = again\n", base)
    assert (problem.path, problem.section, problem.key) == (PATH, "device", "FriendlyName")
    assert problem.message.startswith("is set twice in this section")


def test_duplicate_key_in_another_case_names_its_own_line(base: Path) -> None:
    assert only_problem(ROOT + "FriendlyName = again\n", base).line == 6


def test_duplicate_section(base: Path) -> None:
    assert problems(ROOT + "[network]\n[device]\n", base) == (
        ConfigProblem(PATH, "appears twice (first on line 1)", 7, "device"),
    )


def test_text_before_any_section(base: Path) -> None:
    assert problems("friendlyName = Jambon\n" + ROOT, base) == (
        ConfigProblem(
            PATH, "'friendlyName = Jambon' comes before any [section]; start with [device]", 1
        ),
    )


def test_line_that_is_not_key_value(base: Path) -> None:
    [problem] = problems(ROOT + "modelNumber 3000\n", base)
    assert (problem.path, problem.line) == (PATH, 6)
    assert "modelNumber 3000" in problem.message
    assert "is not 'key = value' or '[section]'" in problem.message


def test_line_that_is_not_key_value_is_quoted_once(base: Path) -> None:
    problem = only_problem(ROOT + "modelNumber 3000\n", base)
    assert problem.message == "'modelNumber 3000' is not 'key = value' or '[section]'"


def test_every_line_that_is_not_key_value_is_listed(base: Path) -> None:
    found = problems(ROOT + "modelNumber 3000\nserialNumber JBN\n", base)
    assert [p.line for p in found] == [6, 7]


@pytest.mark.parametrize(
    ("text", "section", "key", "line"),
    [
        (ROOT + 'icons = "my icon.png\n', "device", "icons", 6),
        (ROOT + "services = 'jambon\n", "device", "services", 6),
        (ROOT + '[network]\ninterfaces = "eth0\n', "network", "interfaces", 7),
    ],
)
def test_unmatched_quote_is_a_config_problem(
    base: Path, text: str, section: str, key: str, line: int
) -> None:
    problem = only_problem(text, base)
    assert (problem.path, problem.line, problem.section, problem.key) == (PATH, line, section, key)


def test_continuation_lines(base: Path) -> None:
    # A continuation makes a two-line value, which no device field allows; the
    # key after it still gets its own line.
    text = ROOT + "modelDescription = Jambon\n  Appliance 3000\ncolour = red\n"
    assert [(p.line, p.key, p.message[:20]) for p in problems(text, base)] == [
        (6, "modelDescription", "must be a single lin"),
        (8, "colour", "unknown key; the key"),
    ]


def test_indented_keys_get_their_own_line(base: Path) -> None:
    text = "[device]\n" + "".join("  " + ln for ln in ROOT.splitlines(keepends=True)[1:])
    text += "  colour = red\n"
    assert only_problem(text, base) == ConfigProblem(
        PATH,
        "unknown key; the keys are " + ", ".join(config.DEVICE_KEYS),
        6,
        "device",
        "colour",
    )


# --- every problem, not just the first ---------------------------------------


def test_every_problem_is_listed_in_line_order(base: Path) -> None:
    text = (
        "[device]\n"                                           # 1
        "deviceType = urn:schemas-upnp-org:device:Basic:1\n"   # 2
        "friendlyName = " + "x" * 70 + "\n"                    # 3
        "manufacturer = Boucherie numerique SAS\n"             # 4
        "services = jambn\n"                                   # 5
        "frendlyName = x\n"                                    # 6
        "[network]\n"                                          # 7
        "ttl = 0\n"                                            # 8
        "httpPort = x\n"                                       # 9
        "[extra]\n"                                            # 10
    )
    found = problems(text, base)
    assert [(p.line, p.section, p.key) for p in found] == [
        (1, "device", "modelName"),
        (5, "device", "services"),
        (6, "device", "frendlyName"),
        (8, "network", "ttl"),
        (9, "network", "httpPort"),
        (10, "extra", None),
    ]
    assert all(p.path == PATH for p in found)
    assert str(found[0]) == f"{PATH}:1: [device] modelName: is required"
    assert str(found[5]).startswith(f"{PATH}:10: [extra]: unknown section")


def test_model_problems_are_all_listed(base: Path) -> None:
    text = ROOT.replace("Jambon 3000", "x" * 64) + "UPC = 1\nudn = uuid:x\n"
    found = problems(text, base)
    assert sorted((p.line, p.key) for p in found) == [(3, "friendlyName"), (6, "UPC"), (7, "udn")]


def test_config_error_lists_problems_one_a_line(base: Path) -> None:
    with pytest.raises(ConfigError) as excinfo:
        parse(ROOT + "colour = red\n[network]\nttl = 0\n", base)
    lines = str(excinfo.value).splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{PATH}:6: [device] colour: unknown key")
    assert lines[1] == f"{PATH}:8: [network] ttl: 0 is not a whole number from 1 to 255"
    assert isinstance(excinfo.value, ValueError)


def test_config_problem_str() -> None:
    assert str(ConfigProblem("a.ini", "is wrong")) == "a.ini: is wrong"
    assert str(ConfigProblem("a.ini", "is wrong", 3)) == "a.ini:3: is wrong"
    assert str(ConfigProblem("a.ini", "is wrong", 3, "device")) == "a.ini:3: [device]: is wrong"
    assert str(ConfigProblem("a.ini", "is wrong", None, "device", "udn")) == (
        "a.ini: [device] udn: is wrong"
    )


# --- load() ------------------------------------------------------------------


def test_load_reads_relative_to_the_file(base: Path) -> None:
    (base / "jambon.ini").write_text(ROOT + "icons = jambon-48.png\n", encoding="utf-8")
    c = load(str(base / "jambon.ini"), machineId="m1")
    assert c.path == str(base / "jambon.ini")
    assert c.device.icons[0].width == 48
    assert c.device.UDN == parse(ROOT, base).device.UDN


def test_load_accepts_a_byte_order_mark(base: Path) -> None:
    (base / "bom.ini").write_bytes(b"\xef\xbb\xbf" + ROOT.replace("3000", "3000 é").encode())
    assert load(base / "bom.ini", machineId="m1").device.friendlyName == "Jambon 3000 é"


def test_load_file_not_found(tmp_path: Path) -> None:
    name = str(tmp_path / "nothere.ini")
    with pytest.raises(ConfigError) as excinfo:
        load(name, machineId="m1")
    assert excinfo.value.problems == (
        ConfigProblem(name, "cannot read it: No such file or directory"),
    )


def test_load_a_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as excinfo:
        load(tmp_path, machineId="m1")
    [problem] = excinfo.value.problems
    assert problem.path == str(tmp_path)
    assert problem.message.startswith("cannot read it: ")


def test_load_not_utf8(tmp_path: Path) -> None:
    name = tmp_path / "latin1.ini"
    name.write_bytes(ROOT.replace("numerique", "numérique").encode("latin-1"))
    with pytest.raises(ConfigError) as excinfo:
        load(name, machineId="m1")
    offset = ROOT.index("numerique") + 3
    assert excinfo.value.problems == (
        ConfigProblem(str(name), f"is not UTF-8 text (byte {offset} is 0xe9)"),
    )


def test_load_too_large(tmp_path: Path) -> None:
    name = tmp_path / "huge.ini"
    name.write_bytes(ROOT.encode() + b";" * MAX_FILE_BYTES)
    with pytest.raises(ConfigError) as excinfo:
        load(name, machineId="m1")
    assert excinfo.value.problems == (
        ConfigProblem(str(name), "is larger than 1 MiB; is it the right file?"),
    )


def test_load_just_under_the_limit(tmp_path: Path) -> None:
    name = tmp_path / "big.ini"
    data = ROOT.encode()
    name.write_bytes(data + b";" * (MAX_FILE_BYTES - len(data)))
    assert load(name, machineId="m1").device.friendlyName == "Jambon 3000"


def test_load_problems_name_the_file(tmp_path: Path) -> None:
    name = tmp_path / "bad.ini"
    name.write_text(ROOT + "colour = red\n")
    with pytest.raises(ConfigError) as excinfo:
        load(name, machineId="m1")
    [problem] = excinfo.value.problems
    assert (problem.path, problem.line, problem.section, problem.key) == (
        str(name), 6, "device", "colour",
    )
