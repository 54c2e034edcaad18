"""Tests for upnp_announce.wire.description and wire.scpd: rendering
descriptions, parsing SCPD files."""

from __future__ import annotations

import dataclasses
import string
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from upnp_announce import config
from upnp_announce.device.presentation import presentation_page
from upnp_announce.model import (
    Action,
    AllowedValueRange,
    Argument,
    Device,
    Icon,
    ModelError,
    Service,
    ServiceDescription,
    StateVariable,
)
from upnp_announce.wire.description import DESCRIPTION_PATH, DEVICE_NS, Descriptions, layout, render
from upnp_announce.wire.scpd import SERVICE_NS, DescriptionError, parse_scpd

import support
from support import ROOT_UDN, device

EXAMPLES = Path(support.EXAMPLES)

# No example database: the tests leave nothing behind in the tree.
quick = settings(database=None, deadline=None)

CHILD_UDN = "uuid:6788EC8C-DC78-54A8-B763-94685B418523"
GRANDCHILD_UDN = "uuid:0a0b0c0d-0000-4000-8000-000000000003"
PNG = b"\x89PNG\r\n\x1a\n(only its length matters here)"


# --- helpers -----------------------------------------------------------------


Normal = tuple[str, tuple[tuple[str, str], ...], str, tuple["Normal", ...]]


def normalise(element: etree._Element) -> Normal:
    """
    Tag (with namespace), attributes, stripped text and children in order:
    what two XML documents must share to be the same description.
    """
    children = tuple(normalise(c) for c in element if isinstance(c.tag, str))
    return (
        element.tag,
        tuple(sorted((str(k), str(v)) for k, v in element.attrib.items())),
        (element.text or "").strip(),
        children,
    )


def same_xml(actual: bytes, expected: bytes) -> bool:
    return normalise(etree.fromstring(actual)) == normalise(etree.fromstring(expected))


def test_normalise_sees_what_matters() -> None:
    a = b'<a xmlns="urn:x" k="1"><b> t </b><c/></a>'
    pretty = b'<?xml version="1.0"?>\n<a k="1" xmlns="urn:x">\n <b>t</b>\n <c></c>\n</a>'
    assert same_xml(a, pretty)
    assert not same_xml(a, b'<a xmlns="urn:y" k="1"><b>t</b><c/></a>')
    assert not same_xml(a, b'<a xmlns="urn:x" k="2"><b>t</b><c/></a>')
    assert not same_xml(a, b'<a xmlns="urn:x" k="1"><b>u</b><c/></a>')
    assert not same_xml(a, b'<a xmlns="urn:x" k="1"><c/><b>t</b></a>')
    assert not same_xml(a, b'<a xmlns="urn:x" k="1"><b>t</b><c/><c/></a>')


def D(tag: str) -> str:
    return f"{{{DEVICE_NS}}}{tag}"


def S(tag: str) -> str:
    return f"{{{SERVICE_NS}}}{tag}"


def thermometer() -> ServiceDescription:
    return ServiceDescription(
        (Action("GetTemperature", (Argument("CurrentTemperature", "out", "Temperature"),)),),
        (
            StateVariable(
                "Temperature",
                "r4",
                sendEvents=True,
                defaultValue="4.0",
                allowedValueRange=AllowedValueRange("-30", "15"),
            ),
        ),
    )


def jambon() -> ServiceDescription:
    return ServiceDescription(
        (
            Action("SetSliceThickness", (Argument("NewThickness", "in", "SliceThickness"),)),
            Action(
                "GetSliceThickness",
                (Argument("CurrentThickness", "out", "SliceThickness", retval=True),),
            ),
        ),
        (
            StateVariable(
                "SliceThickness",
                "ui2",
                sendEvents=True,
                defaultValue="3",
                allowedValueRange=AllowedValueRange("1", "50", "1"),
            ),
            StateVariable(
                "Cut",
                "string",
                sendEvents=False,
                defaultValue="Paris",
                allowedValues=("Paris", "Bayonne", "Serrano"),
            ),
        ),
    )


def service(
    name: str = "Clock", domain: str = "example-com", sd: ServiceDescription | None = None
) -> Service:
    return Service(
        f"urn:{domain}:service:{name}:1",
        f"urn:{domain}:serviceId:{name}",
        sd or thermometer(),
    )


def tree() -> Device:
    """A root with an icon and a service, a child with an icon, a grandchild."""
    grandchild = device(
        UDN=GRANDCHILD_UDN, friendlyName="Probe", deviceType="urn:example-com:device:Probe:2",
        services=(service("Probe"),),
    )
    child = device(
        UDN=CHILD_UDN,
        friendlyName="Jambon fridge",
        deviceType="urn:boucherie.example.com:device:Fridge:1",
        icons=(Icon("image/png", 16, 16, 8, PNG),),
        services=(service("Thermometer"),),
        devices=(grandchild,),
    )
    return device(
        modelNumber="3000F",
        icons=(Icon("image/png", 48, 48, 32, PNG),),
        services=(service("Jambon", "boucherie.example.com", jambon()),),
        devices=(child,),
    )


def sub(element: etree._Element | None, tag: str) -> etree._Element:
    assert element is not None
    found = element.find(tag)
    assert found is not None, f"no {tag} in {element.tag}"
    return found


def root_of(descriptions: Descriptions, path: str = DESCRIPTION_PATH) -> etree._Element:
    return etree.fromstring(descriptions.documents[path])


# --- golden description of examples/jambon.ini ------------------------------

JAMBON_DESCRIPTION = """\
<?xml version="1.0" encoding="utf-8"?>
<root xmlns="urn:schemas-upnp-org:device-1-0" configId="{configId}">
  <specVersion><major>1</major><minor>1</minor></specVersion>
  <device>
    <deviceType>urn:schemas-upnp-org:device:Basic:1</deviceType>
    <friendlyName>Jambon 3000</friendlyName>
    <manufacturer>Boucherie numerique SAS</manufacturer>
    <manufacturerURL>http://www.boucherie.example.com/</manufacturerURL>
    <modelDescription>Jambon Appliance 3000</modelDescription>
    <modelName>Jambon</modelName>
    <modelNumber>3000</modelNumber>
    <modelURL>http://www.boucherie.example.com/en/products/jambon-3000/</modelURL>
    <serialNumber>JBN425133</serialNumber>
    <UDN>uuid:e427ce1a-3e80-43d0-ad6f-89ec42e46363</UDN>
    <iconList>
      <icon>
        <mimetype>image/png</mimetype>
        <width>48</width>
        <height>48</height>
        <depth>32</depth>
        <url>/icon/0-48x48.png</url>
      </icon>
      <icon>
        <mimetype>image/png</mimetype>
        <width>120</width>
        <height>120</height>
        <depth>32</depth>
        <url>/icon/1-120x120.png</url>
      </icon>
    </iconList>
    <serviceList>
      <service>
        <serviceType>urn:boucherie.example.com:service:Jambon:1</serviceType>
        <serviceId>urn:boucherie.example.com:serviceId:Jambon</serviceId>
        <SCPDURL>/svc/Jambon/scpd.xml</SCPDURL>
        <controlURL>/svc/Jambon/control</controlURL>
        <eventSubURL>/svc/Jambon/event</eventSubURL>
      </service>
    </serviceList>
    <presentationURL>/</presentationURL>
  </device>
</root>
"""

JAMBON_SCPD = """\
<?xml version="1.0" encoding="utf-8"?>
<scpd xmlns="urn:schemas-upnp-org:service-1-0" configId="{configId}">
  <specVersion><major>1</major><minor>1</minor></specVersion>
  <actionList>
    <action>
      <name>SetSliceThickness</name>
      <argumentList>
        <argument>
          <name>NewThickness</name>
          <direction>in</direction>
          <relatedStateVariable>SliceThickness</relatedStateVariable>
        </argument>
      </argumentList>
    </action>
    <action>
      <name>GetSliceThickness</name>
      <argumentList>
        <argument>
          <name>CurrentThickness</name>
          <direction>out</direction>
          <retval/>
          <relatedStateVariable>SliceThickness</relatedStateVariable>
        </argument>
      </argumentList>
    </action>
  </actionList>
  <serviceStateTable>
    <stateVariable sendEvents="yes" multicast="no">
      <name>SliceThickness</name>
      <dataType>ui2</dataType>
      <defaultValue>3</defaultValue>
      <allowedValueRange>
        <minimum>1</minimum>
        <maximum>50</maximum>
        <step>1</step>
      </allowedValueRange>
    </stateVariable>
    <stateVariable sendEvents="no" multicast="no">
      <name>Cut</name>
      <dataType>string</dataType>
      <defaultValue>Paris</defaultValue>
      <allowedValueList>
        <allowedValue>Paris</allowedValue>
        <allowedValue>Bayonne</allowedValue>
        <allowedValue>Serrano</allowedValue>
      </allowedValueList>
    </stateVariable>
  </serviceStateTable>
</scpd>
"""


def jambon_ini() -> Descriptions:
    return render(config.load(EXAMPLES / "jambon.ini", machineId="m1").device)


def test_golden_jambon_device_description() -> None:
    d = jambon_ini()
    expected = JAMBON_DESCRIPTION.format(configId=d.configId).encode()
    assert normalise(root_of(d)) == normalise(etree.fromstring(expected))


def test_golden_jambon_scpd() -> None:
    d = jambon_ini()
    expected = JAMBON_SCPD.format(configId=d.configId).encode()
    assert set(d.documents) == {DESCRIPTION_PATH, "/svc/Jambon/scpd.xml"}
    assert normalise(root_of(d, "/svc/Jambon/scpd.xml")) == normalise(etree.fromstring(expected))


def test_golden_does_not_depend_on_the_machine_id() -> None:
    # jambon.ini sets its udn, so the machine id must not show.
    other = render(config.load(EXAMPLES / "jambon.ini", machineId="m2").device)
    assert other.documents == jambon_ini().documents


def test_documents_are_utf8_xml_with_a_declaration() -> None:
    for data in jambon_ini().documents.values():
        assert data.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
        etree.fromstring(data)


# --- device description ------------------------------------------------------


def test_root_element() -> None:
    d = render(tree())
    root = root_of(d)
    assert root.tag == D("root")
    assert list(root.attrib.items()) == [("configId", str(d.configId))]
    assert [c.tag for c in root] == [D("specVersion"), D("device")]
    spec = sub(root, D("specVersion"))
    assert [(c.tag, c.text) for c in spec] == [(D("major"), "1"), (D("minor"), "1")]


def test_no_url_base() -> None:
    root = root_of(render(tree()))
    assert not [e for e in root.iter() if etree.QName(e).localname == "URLBase"]


def test_every_field_in_uda_schema_order() -> None:
    full = device(
        manufacturerURL="http://m.example.com/",
        modelDescription="desc",
        modelNumber="3000",
        modelURL="http://m.example.com/model",
        serialNumber="SN1",
        UPC="012345678905",
        presentationURL="http://m.example.com/admin",
        icons=(Icon("image/png", 48, 48, 32, PNG),),
        services=(service(),),
        devices=(device(UDN=CHILD_UDN, friendlyName="child"),),
    )
    element = sub(root_of(render(full)), D("device"))
    assert [etree.QName(c).localname for c in element] == [
        "deviceType",
        "friendlyName",
        "manufacturer",
        "manufacturerURL",
        "modelDescription",
        "modelName",
        "modelNumber",
        "modelURL",
        "serialNumber",
        "UDN",
        "UPC",
        "iconList",
        "serviceList",
        "deviceList",
        "presentationURL",
    ]
    values = {etree.QName(c).localname: c.text for c in element}
    for name in ("deviceType", "friendlyName", "manufacturer", "manufacturerURL",
                 "modelDescription", "modelName", "modelNumber", "modelURL",
                 "serialNumber", "UDN", "UPC", "presentationURL"):
        assert values[name] == getattr(full, name)


def test_optional_fields_are_left_out() -> None:
    element = sub(root_of(render(device())), D("device"))
    assert [etree.QName(c).localname for c in element] == [
        "deviceType", "friendlyName", "manufacturer", "modelName", "UDN", "presentationURL",
    ]


def test_text_is_escaped() -> None:
    d = device(friendlyName="Ham & <Eggs> \"'", modelDescription="]]> &amp;")
    element = sub(root_of(render(d)), D("device"))
    assert element.findtext(D("friendlyName")) == "Ham & <Eggs> \"'"
    assert element.findtext(D("modelDescription")) == "]]> &amp;"


def test_icon_list() -> None:
    icons = (Icon("image/jpeg", 120, 90, 24, b"\xff\xd8"), Icon("image/png", 48, 32, 8, PNG))
    d = render(device(icons=icons))
    entries = sub(sub(root_of(d), D("device")), D("iconList"))
    assert [
        tuple(c.text for c in entry) for entry in entries
    ] == [
        ("image/jpeg", "120", "90", "24", "/icon/0-120x90.jpeg"),
        ("image/png", "48", "32", "8", "/icon/1-48x32.png"),
    ]
    assert [etree.QName(c).localname for c in entries[0]] == [
        "mimetype", "width", "height", "depth", "url",
    ]
    assert d.layout.icons == {
        (ROOT_UDN, 0): "/icon/0-120x90.jpeg",
        (ROOT_UDN, 1): "/icon/1-48x32.png",
    }


def test_service_list_and_nested_device_list() -> None:
    d = render(tree())
    child = CHILD_UDN[5:].lower()
    grandchild = GRANDCHILD_UDN[5:].lower()
    top = sub(root_of(d), D("device"))

    def services(element: etree._Element) -> list[tuple[str | None, ...]]:
        return [tuple(c.text for c in s) for s in sub(element, D("serviceList"))]

    assert services(top) == [
        (
            "urn:boucherie.example.com:service:Jambon:1",
            "urn:boucherie.example.com:serviceId:Jambon",
            "/svc/Jambon/scpd.xml",
            "/svc/Jambon/control",
            "/svc/Jambon/event",
        )
    ]
    [fridge] = sub(top, D("deviceList"))
    assert fridge.findtext(D("UDN")) == CHILD_UDN
    assert services(fridge) == [
        (
            "urn:example-com:service:Thermometer:1",
            "urn:example-com:serviceId:Thermometer",
            f"/dev/{child}/svc/Thermometer/scpd.xml",
            f"/dev/{child}/svc/Thermometer/control",
            f"/dev/{child}/svc/Thermometer/event",
        )
    ]
    assert sub(fridge, D("iconList")).findtext(f"{D('icon')}/{D('url')}") == (
        f"/dev/{child}/icon/0-16x16.png"
    )
    assert fridge.findtext(D("presentationURL")) == f"/dev/{child}/"
    [probe] = sub(fridge, D("deviceList"))
    assert probe.findtext(D("UDN")) == GRANDCHILD_UDN
    assert probe.find(D("deviceList")) is None
    assert services(probe)[0][2] == f"/dev/{grandchild}/svc/Probe/scpd.xml"
    assert probe.findtext(D("presentationURL")) == f"/dev/{grandchild}/"
    assert set(d.documents) == {
        DESCRIPTION_PATH,
        "/svc/Jambon/scpd.xml",
        f"/dev/{child}/svc/Thermometer/scpd.xml",
        f"/dev/{grandchild}/svc/Probe/scpd.xml",
    }


def test_presentation_url_ours_when_none_configured() -> None:
    root = tree()
    d = render(root)
    assert sub(root_of(d), D("device")).findtext(D("presentationURL")) == "/"
    child = f"/dev/{CHILD_UDN[5:].lower()}/"
    assert d.layout.presentation == {
        ROOT_UDN: "/",
        CHILD_UDN: child,
        GRANDCHILD_UDN: f"/dev/{GRANDCHILD_UDN[5:].lower()}/",
    }
    pages = {
        d.layout.presentation[dev.UDN]: presentation_page(dev, d.layout)
        for dev in root.allDevices()
    }
    assert set(pages) == set(d.layout.presentation.values())
    page = pages[child].decode()
    assert "<title>Jambon fridge</title>" in page
    assert CHILD_UDN in page
    assert "urn:example-com:service:Thermometer:1" in page


@pytest.mark.parametrize("url", ["http://192.0.2.1/admin", "setup.html", "/"])
def test_presentation_url_configured(url: str) -> None:
    d = render(device(presentationURL=url))
    assert sub(root_of(d), D("device")).findtext(D("presentationURL")) == url
    # A relative one that names nothing else of ours: the page is served there.
    expected = {} if url.startswith("http") else {ROOT_UDN: "/" + url.lstrip("/")}
    assert d.layout.presentation == expected


@pytest.mark.parametrize("url", ["description.xml", "/svc/Jambon/control", "/svc/Jambon/scpd.xml/x"])
def test_a_presentation_url_that_names_another_resource_is_not_our_page(url: str) -> None:
    jambon = service("Jambon")
    d = render(device(presentationURL=url, services=(jambon,)))
    assert d.layout.presentation == {}


def test_presentation_off_serves_no_page_and_says_none() -> None:
    d = render(device(presentation="off"))
    assert d.layout.presentation == {}
    assert sub(root_of(d), D("device")).find(D("presentationURL")) is None


def test_presentation_page_is_escaped() -> None:
    d = device(friendlyName="<script>x</script>")
    page = presentation_page(d, render(d).layout).decode()
    assert "<script>x" not in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page


# --- configId ----------------------------------------------------------------


def test_config_id_on_every_root() -> None:
    d = render(tree())
    assert 0 <= d.configId <= 16777215
    assert len(d.documents) == 4
    for data in d.documents.values():
        assert etree.fromstring(data).get("configId") == str(d.configId)


def test_config_id_stable_across_renders() -> None:
    model = tree()
    first, second = render(model), render(model)
    assert first.configId == second.configId
    assert first.documents == second.documents


def test_config_id_equal_for_equal_models() -> None:
    a, b = tree(), tree()
    assert a is not b and a == b
    assert render(a).configId == render(b).configId
    assert render(a).documents == render(b).documents


@quick
@given(st.text(min_size=1, max_size=63).filter(lambda s: s.strip() and s.isprintable()))
def test_config_id_in_range(name: str) -> None:
    d = render(device(friendlyName=name))
    assert 0 <= d.configId <= 16777215
    assert etree.fromstring(d.documents[DESCRIPTION_PATH]).get("configId") == str(d.configId)


def _child(root: Device, **changes: object) -> Device:
    [child] = root.devices
    return dataclasses.replace(
        root, devices=(dataclasses.replace(child, **changes),)  # type: ignore[arg-type]
    )


def _grandchild(root: Device, **changes: object) -> Device:
    [child] = root.devices
    [grandchild] = child.devices
    new = dataclasses.replace(grandchild, **changes)  # type: ignore[arg-type]
    return dataclasses.replace(root, devices=(dataclasses.replace(child, devices=(new,)),))


def _scpd(root: Device, variable: StateVariable) -> Device:
    [svc] = root.services
    sd = svc.description
    new = dataclasses.replace(sd, stateVariables=sd.stateVariables[:1] + (variable,))
    return dataclasses.replace(root, services=(dataclasses.replace(svc, description=new),))


# Each change gives a model whose descriptions differ from tree()'s.
CHANGES: dict[str, Callable[[Device, str], Device]] = {
    "friendlyName": lambda r, t: dataclasses.replace(r, friendlyName="X" + t),
    "manufacturer": lambda r, t: dataclasses.replace(r, manufacturer="X" + t),
    "modelNumber": lambda r, t: dataclasses.replace(r, modelNumber="X" + t),
    "serialNumber": lambda r, t: dataclasses.replace(r, serialNumber=t),
    "manufacturerURL": lambda r, t: dataclasses.replace(r, manufacturerURL="http://" + t),
    "presentationURL": lambda r, t: dataclasses.replace(r, presentationURL="/" + t),
    "child friendlyName": lambda r, t: _child(r, friendlyName="X" + t),
    "child modelDescription": lambda r, t: _child(r, modelDescription=t),
    "grandchild serialNumber": lambda r, t: _grandchild(r, serialNumber=t),
    "SCPD defaultValue": lambda r, t: _scpd(
        r, StateVariable("Cut", "string", defaultValue=t, allowedValues=(t, "Paris"))
        if t != "Paris" else StateVariable("Cut", "string", defaultValue="Bayonne")
    ),
    "SCPD sendEvents": lambda r, t: _scpd(
        r, StateVariable("Cut", "string", sendEvents=True, allowedValues=("X" + t,))
    ),
    "icon width": lambda r, t: dataclasses.replace(
        r, icons=(Icon("image/png", 48 + len(t), 48, 32, PNG),)
    ),
    "child serviceType": lambda r, t: _child(
        r, services=(Service(f"urn:example-com:service:Thermometer:{len(t) + 1}",
                             "urn:example-com:serviceId:Thermometer", thermometer()),)
    ),
}


@quick
@given(
    change=st.sampled_from(sorted(CHANGES)),
    text=st.text(string.ascii_letters + string.digits, min_size=1, max_size=12),
)
def test_config_id_changes_when_any_description_changes(change: str, text: str) -> None:
    before = render(tree())
    changed = CHANGES[change](tree(), text)
    assert changed != tree()
    after = render(changed)
    assert after.documents != before.documents
    assert after.configId != before.configId
    assert render(changed).configId == after.configId


def test_config_id_does_not_depend_on_icon_bytes() -> None:
    # Icon bytes are not part of any description.
    other = dataclasses.replace(tree(), icons=(Icon("image/png", 48, 48, 32, PNG + b"!"),))
    assert render(other).configId == render(tree()).configId


# --- layout ------------------------------------------------------------------


def test_layout_of_two_service_ids_with_the_same_last_part() -> None:
    d = device(
        services=(
            service("Clock", "a-example-com"),
            service("Clock", "b-example-com"),
            Service("urn:c-example-com:service:Clock:1", "urn:c-example-com:serviceId:Clock-2",
                    thermometer()),
            Service("urn:d-example-com:service:Clock:1", "urn:d-example-com:serviceId:clock",
                    thermometer()),
        )
    )
    paths = layout(d).services
    scpds = [p.scpd for p in paths]
    assert len({s.lower() for s in scpds}) == 4
    assert scpds[0] == "/svc/Clock/scpd.xml"
    assert [p.service.serviceId for p in paths] == [s.serviceId for s in d.services]
    for p in paths:
        base = p.scpd[: -len("/scpd.xml")]
        assert (p.control, p.event) == (base + "/control", base + "/event")
    rendered = render(d)
    assert set(rendered.documents) == {DESCRIPTION_PATH, *scpds}


@pytest.mark.parametrize("last", [".", "..", ".hidden", "-x"])
def test_service_ids_that_would_make_dot_segments_are_refused(last: str) -> None:
    # The last part of a serviceId becomes a path segment of the layout.
    with pytest.raises(ModelError, match="is not of the form urn:domain-name:serviceId:Name"):
        Service("urn:example-com:service:Clock:1", f"urn:example-com:serviceId:{last}",
                thermometer())


LAST_PARTS = st.sampled_from(["Clock", "clock", "Clock-2", "Clock-3", "Jambon", "J.1"])


@st.composite
def service_lists(draw: st.DrawFn) -> tuple[Service, ...]:
    lasts = draw(st.lists(LAST_PARTS, max_size=6))
    return tuple(
        Service(f"urn:d{i}-example-com:service:S:1", f"urn:d{i}-example-com:serviceId:{last}",
                thermometer())
        for i, last in enumerate(lasts)
    )


@quick
@given(root=service_lists(), child=service_lists())
def test_layout_paths_unique_and_embedded_devices_under_dev(
    root: tuple[Service, ...], child: tuple[Service, ...]
) -> None:
    model = device(services=root, devices=(device(UDN=CHILD_UDN, services=child),))
    plan = layout(model)
    prefix = f"/dev/{CHILD_UDN[5:].lower()}/"
    assert [p.service for p in plan.services] == [*root, *child]
    everything = [plan.description, *plan.icons.values(), *plan.presentation.values()]
    for p in plan.services:
        everything += [p.scpd, p.control, p.event]
        if p.device.UDN == CHILD_UDN:
            assert p.scpd.startswith(prefix + "svc/")
        else:
            assert p.scpd.startswith("/svc/")
    assert len({path.lower() for path in everything}) == len(everything)


# --- SCPD round trip ---------------------------------------------------------


def _stable(text: str) -> bool:
    return text == text.strip()


NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.-]{0,15}", fullmatch=True)
STRINGS = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Cn")), max_size=12
).filter(_stable)
INTEGERS = {
    "ui1": (0, 255),
    "ui2": (0, 65535),
    "ui4": (0, 2**32 - 1),
    "ui8": (0, 2**64 - 1),
    "i1": (-128, 127),
    "i2": (-(2**15), 2**15 - 1),
    "i4": (-(2**31), 2**31 - 1),
    "i8": (-(2**63), 2**63 - 1),
    "int": (-(10**30), 10**30),
}
OTHER_VALUES = {
    "boolean": ["0", "1", "yes", "false"],
    "char": ["x", "é", "0"],
    "date": ["2024-02-29"],
    "dateTime": ["2024-02-29T23:59:59"],
    "dateTime.tz": ["2024-02-29T23:59:59+01:00", "2024-02-29T00:00:00Z"],
    "time": ["12:00:00"],
    "time.tz": ["12:00:00.5-05:30"],
    "bin.base64": ["AAEC", ""],
    "bin.hex": ["00ff"],
    "uri": ["http://example.com/a?b=c&d"],
    "uuid": ["e427ce1a-3e80-43d0-ad6f-89ec42e46363"],
}


@st.composite
def state_variables(draw: st.DrawFn, name: str) -> StateVariable:
    kind = draw(st.sampled_from(["string", "integer", "real", "other"]))
    sendEvents, multicast = draw(st.booleans()), draw(st.booleans())
    if kind == "string":
        allowed = draw(st.none() | st.lists(STRINGS, min_size=1, max_size=4, unique=True))
        if allowed is None:
            return StateVariable(name, "string", sendEvents, multicast,
                                 defaultValue=draw(st.none() | STRINGS))
        return StateVariable(
            name, "string", sendEvents, multicast,
            defaultValue=draw(st.none() | st.sampled_from(allowed)),
            allowedValues=tuple(allowed),
        )
    if kind == "other":
        dataType = draw(st.sampled_from(sorted(OTHER_VALUES)))
        default = draw(st.none() | st.sampled_from(OTHER_VALUES[dataType]))
        return StateVariable(name, dataType, sendEvents, multicast, defaultValue=default)
    if kind == "integer":
        dataType = draw(st.sampled_from(sorted(INTEGERS)))
        numbers = st.integers(*INTEGERS[dataType])
        text: Callable[[int], str] = str
    else:
        # Hundredths, written as decimals: "-12.5", "0.07"...
        dataType = draw(st.sampled_from(["r4", "r8", "number", "float", "fixed.14.4"]))
        numbers = st.integers(-100000, 100000)
        text = lambda n: str(n / 100)  # noqa: E731
    valueRange = None
    if draw(st.booleans()):
        low, high = sorted((draw(numbers), draw(numbers)))
        step = draw(st.none() | st.integers(1, 100).map(str))
        valueRange = AllowedValueRange(text(low), text(high), step)
        # A default must lie in the range.
        numbers = st.integers(low, high)
    default = draw(st.none() | numbers.map(text))
    return StateVariable(name, dataType, sendEvents, multicast, defaultValue=default,
                         allowedValueRange=valueRange)


@st.composite
def service_descriptions(draw: st.DrawFn) -> ServiceDescription:
    names = draw(st.lists(NAMES, min_size=1, max_size=5, unique=True))
    variables = tuple(draw(state_variables(name)) for name in names)
    actions = []
    for actionName in draw(st.lists(NAMES, max_size=4, unique=True)):
        argumentNames = draw(st.lists(NAMES, max_size=4, unique=True))
        ins = draw(st.integers(0, len(argumentNames)))
        retval = draw(st.booleans())
        actions.append(
            Action(
                actionName,
                tuple(
                    Argument(
                        argumentName,
                        "in" if i < ins else "out",
                        draw(st.sampled_from(names)),
                        retval=retval and i == ins,
                    )
                    for i, argumentName in enumerate(argumentNames)
                ),
            )
        )
    return ServiceDescription(tuple(actions), variables)


def rendered_scpd(sd: ServiceDescription) -> bytes:
    d = render(device(services=(service("Clock", sd=sd),)))
    return d.documents["/svc/Clock/scpd.xml"]


@settings(database=None, deadline=None, max_examples=100)
@given(service_descriptions())
def test_scpd_round_trip(sd: ServiceDescription) -> None:
    data = rendered_scpd(sd)
    assert etree.fromstring(data).tag == S("scpd")
    assert parse_scpd(data) == sd


@pytest.mark.parametrize("sd", [jambon(), thermometer()], ids=["jambon", "thermometer"])
def test_scpd_round_trip_examples(sd: ServiceDescription) -> None:
    assert parse_scpd(rendered_scpd(sd)) == sd


def test_scpd_round_trip_edge_cases() -> None:
    sd = ServiceDescription(
        (Action("NoArguments"), Action("OnlyIn", (Argument("A", "in", "Empty"),))),
        (
            StateVariable("Empty", "string", defaultValue="", allowedValues=("", "a")),
            StateVariable("Markup", "string", sendEvents=True, multicast=True,
                          defaultValue="<a> & ]]> \"q\" 'x'\ttab\rcr\nnl"),
        ),
    )
    assert parse_scpd(rendered_scpd(sd)) == sd


@pytest.mark.parametrize(
    "variable",
    [
        StateVariable("V", "string", defaultValue=" Paris "),
        StateVariable("V", "string", allowedValues=("a ", "a")),
        StateVariable("V", "char", defaultValue=" "),
    ],
    ids=["string-default", "allowed-values", "char-space"],
)
def test_scpd_round_trip_keeps_surrounding_white_space(variable: StateVariable) -> None:
    sd = ServiceDescription((), (variable,))
    assert parse_scpd(rendered_scpd(sd)) == sd


def test_scpd_has_no_action_list_without_actions() -> None:
    root = etree.fromstring(rendered_scpd(ServiceDescription((), (StateVariable("V", "ui4"),))))
    assert [c.tag for c in root] == [S("specVersion"), S("serviceStateTable")]
    [variable] = sub(root, S("serviceStateTable"))
    assert list(variable.attrib.items()) == [("sendEvents", "no"), ("multicast", "no")]


# --- parse_scpd --------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [("jambon-scpd.xml", jambon()), ("fridge-scpd.xml", thermometer())],
)
def test_parse_example_scpd(name: str, expected: ServiceDescription) -> None:
    assert parse_scpd((EXAMPLES / name).read_bytes()) == expected


VARIABLE = (
    '<stateVariable sendEvents="no"><name>V</name><dataType>string</dataType>'
    "</stateVariable>"
)


def scpd(actions: str = "", variables: str = VARIABLE, *, open: str | None = None,
         prolog: str = "", close: str = "</scpd>") -> bytes:
    if open is None:
        open = f'<scpd xmlns="{SERVICE_NS}">'
    body = "<specVersion><major>1</major><minor>0</minor></specVersion>"
    if actions:
        body += f"<actionList>{actions}</actionList>"
    if variables is not None:
        body += f"<serviceStateTable>{variables}</serviceStateTable>"
    return f'<?xml version="1.0" encoding="utf-8"?>\n{prolog}{open}{body}{close}'.encode()


def action(arguments: str, name: str = "Get") -> str:
    return f"<action><name>{name}</name><argumentList>{arguments}</argumentList></action>"


def argument(name: str = "A", direction: str = "<direction>out</direction>",
             related: str = "<relatedStateVariable>V</relatedStateVariable>",
             extra: str = "") -> str:
    return f"<argument><name>{name}</name>{direction}{extra}{related}</argument>"


def refused(data: bytes) -> str:
    with pytest.raises(DescriptionError) as excinfo:
        parse_scpd(data)
    return str(excinfo.value)


def test_description_error_is_a_value_error() -> None:
    assert issubclass(DescriptionError, ValueError)


def test_minimal_scpd() -> None:
    assert parse_scpd(scpd()) == ServiceDescription((), (StateVariable("V", "string"),))


def test_scpd_defaults_send_events_yes_multicast_no() -> None:
    data = scpd(variables="<stateVariable><name>V</name><dataType>i4</dataType></stateVariable>")
    [variable] = parse_scpd(data).stateVariables
    assert (variable.sendEvents, variable.multicast) == (True, False)


@pytest.mark.parametrize(("attribute", "value"), [("YES", True), (" no ", False)])
def test_scpd_yes_no_case_and_space(attribute: str, value: bool) -> None:
    data = scpd(variables=VARIABLE.replace('sendEvents="no"',
                                           f'sendEvents="{attribute}" multicast="{attribute}"'))
    [variable] = parse_scpd(data).stateVariables
    assert (variable.sendEvents, variable.multicast) == (value, value)


def test_scpd_tolerates_white_space_around_text() -> None:
    data = scpd(
        action(argument(name="\n  A\n", direction="<direction> out </direction>",
                        related="<relatedStateVariable>\tV </relatedStateVariable>")),
        "<stateVariable sendEvents='no'><name> V </name><dataType>\n ui1\n</dataType>"
        "<defaultValue> 7 </defaultValue><allowedValueRange><minimum> 1</minimum>"
        "<maximum>9 </maximum></allowedValueRange></stateVariable>",
    )
    assert parse_scpd(data) == ServiceDescription(
        (Action("Get", (Argument("A", "out", "V"),)),),
        (StateVariable("V", "ui1", defaultValue="7",
                       allowedValueRange=AllowedValueRange("1", "9")),),
    )


def test_scpd_drops_its_own_config_id() -> None:
    data = scpd(open=f'<scpd xmlns="{SERVICE_NS}" configId="42">')
    assert parse_scpd(data) == parse_scpd(scpd())


def test_scpd_ignores_vendor_elements_and_attributes() -> None:
    v = 'xmlns:v="urn:vendor-example-com:x"'
    data = scpd(
        f'<action {v}><v:icon>x</v:icon><name>Get</name><argumentList>'
        f'<argument v:hint="1"><name>A</name><v:x/><direction>out</direction>'
        f"<relatedStateVariable>V</relatedStateVariable></argument><v:more/></argumentList>"
        f"</action><v:action {v}><name>Hidden</name></v:action>",
        f'<stateVariable sendEvents="no" {v} v:unit="C"><name>V</name>'
        f"<v:dataType>nonsense</v:dataType><dataType>string</dataType></stateVariable>",
        open=f'<scpd xmlns="{SERVICE_NS}" {v}><v:vendor><deep/></v:vendor>',
    )
    assert parse_scpd(data) == ServiceDescription(
        (Action("Get", (Argument("A", "out", "V"),)),), (StateVariable("V", "string"),)
    )


def test_scpd_retval_and_direction() -> None:
    data = scpd(action(argument(extra="<retval/>")))
    [a] = parse_scpd(data).actions[0].arguments
    assert (a.direction, a.retval) == ("out", True)


DOCTYPE = "a document type declaration (DOCTYPE) is not allowed"


def test_scpd_refuses_doctype() -> None:
    assert refused(scpd(prolog="<!DOCTYPE scpd>\n")) == DOCTYPE


def test_scpd_refuses_entity_declarations() -> None:
    data = scpd(
        variables="<stateVariable><name>&e;</name><dataType>string</dataType></stateVariable>",
        prolog='<!DOCTYPE scpd [<!ENTITY e "V">]>\n',
    )
    assert refused(data) == DOCTYPE


def test_scpd_never_expands_external_entities(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TopSecretValue")
    data = scpd(
        variables="<stateVariable><name>V</name><dataType>string</dataType>"
        "<defaultValue>&xxe;</defaultValue></stateVariable>",
        prolog=f'<!DOCTYPE scpd [<!ENTITY xxe SYSTEM "file://{secret}">]>\n',
    )
    message = refused(data)
    assert message == DOCTYPE
    assert "TopSecretValue" not in message


def test_scpd_refuses_billion_laughs() -> None:
    entities = '<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8)
    )
    data = scpd(
        variables="<stateVariable><name>V</name><dataType>string</dataType>"
        "<defaultValue>&i;</defaultValue></stateVariable>",
        prolog=f"<!DOCTYPE scpd [{entities}]>\n",
    )
    assert refused(data) == DOCTYPE


def test_scpd_refuses_doctype_in_utf16() -> None:
    text = scpd(prolog="<!DOCTYPE scpd>\n").decode().replace("utf-8", "utf-16")
    assert refused(text.encode("utf-16")) == DOCTYPE


def test_scpd_undeclared_entity_is_not_well_formed() -> None:
    data = scpd(variables="<stateVariable><name>&e;</name><dataType>string</dataType>"
                "</stateVariable>")
    assert refused(data).startswith("not well-formed XML")


@pytest.mark.parametrize("data", [b"", b"<scpd", b"not xml", b"<a></b>"])
def test_scpd_not_well_formed(data: bytes) -> None:
    assert refused(data).startswith("not well-formed XML")


def test_scpd_too_deep() -> None:
    deep = "<v:x>" * 20 + "</v:x>" * 20
    data = scpd(open=f'<scpd xmlns="{SERVICE_NS}" xmlns:v="urn:v"><v:top>{deep}</v:top>')
    assert refused(data) == "elements are nested more than 16 deep"


WRONG_ROOT = f'not <scpd xmlns="{SERVICE_NS}">'


@pytest.mark.parametrize(
    ("open", "close", "expected"),
    [
        (f'<root xmlns="{DEVICE_NS}">', "</root>", f"the root element is <root>, {WRONG_ROOT}"),
        (f'<scpd xmlns="{DEVICE_NS}">', "</scpd>", f"the root element is <scpd>, {WRONG_ROOT}"),
        ('<scpd xmlns="urn:schemas-upnp-org:service-2-0">', "</scpd>",
         f"the root element is <scpd>, {WRONG_ROOT}"),
        ("<scpd>", "</scpd>", f"the root element is <scpd>, {WRONG_ROOT}"),
    ],
)
def test_scpd_root_and_namespace(open: str, close: str, expected: str) -> None:
    assert refused(scpd(open=open, close=close)) == expected


def test_scpd_children_in_another_namespace_are_vendor_elements() -> None:
    # The root is in the UPnP namespace through a prefix; its unprefixed
    # children are in urn:other, so they are ignored and the table is missing.
    data = scpd(open=f'<u:scpd xmlns:u="{SERVICE_NS}" xmlns="urn:other">', close="</u:scpd>")
    assert refused(data) == "must declare at least one state variable"


def test_scpd_with_a_prefix_is_fine() -> None:
    data = scpd().decode().replace("<", "<u:").replace("<u:/", "</u:").replace("<u:?", "<?")
    data = data.replace(f'<u:scpd xmlns="{SERVICE_NS}"', f'<u:scpd xmlns:u="{SERVICE_NS}"')
    assert parse_scpd(data.encode()) == parse_scpd(scpd())


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (scpd(variables=VARIABLE.replace("stateVariable", "stateVarable")),
         "unexpected <stateVarable> inside <serviceStateTable>"),
        (scpd(variables=VARIABLE.replace("dataType", "datatype")),
         "unexpected <datatype> inside <stateVariable>"),
        (scpd(action(argument(extra="<retVal/>"))), "unexpected <retVal> inside <argument>"),
        (scpd(open=f'<scpd xmlns="{SERVICE_NS}"><actionLst/>'),
         "unexpected <actionLst> inside <scpd>"),
        (scpd("<acton><name>A</name></acton>"), "unexpected <acton> inside <actionList>"),
        (scpd(variables=VARIABLE.replace("</dataType>", "</dataType><allowedValues/>")),
         "unexpected <allowedValues> inside <stateVariable>"),
    ],
    ids=["stateVarable", "datatype", "retVal", "actionLst", "acton", "allowedValues"],
)
def test_scpd_refuses_unknown_upnp_elements(data: bytes, expected: str) -> None:
    assert refused(data) == expected


def test_scpd_refuses_elements_in_no_namespace() -> None:
    data = scpd(variables=VARIABLE.replace("<name>V</name>", '<name xmlns="">V</name>'))
    assert refused(data) == f"<name> inside <stateVariable> is not in the namespace {SERVICE_NS}"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (scpd(variables=VARIABLE.replace("<name>V</name>", "<name>V</name><name>W</name>")),
         "<name> appears twice inside <stateVariable>"),
        (scpd(variables=VARIABLE.replace("</dataType>", "</dataType><dataType>i4</dataType>")),
         "<dataType> appears twice inside <stateVariable>"),
        (scpd(close=f"<serviceStateTable>{VARIABLE}</serviceStateTable></scpd>"),
         "<serviceStateTable> appears twice inside <scpd>"),
        (scpd(action(argument(direction="<direction>out</direction>" * 2))),
         "<direction> appears twice inside <argument>"),
        (scpd(action(argument(extra="<retval/><retval/>"))),
         "<retval> appears twice inside <argument>"),
        (scpd("<action><name>A</name><name>B</name></action>"),
         "<name> appears twice inside <action>"),
        (scpd(variables=VARIABLE.replace(
            "</dataType>",
            "</dataType><allowedValueList><allowedValue>a</allowedValue></allowedValueList>"
            "<allowedValueList><allowedValue>b</allowedValue></allowedValueList>")),
         "<allowedValueList> appears twice inside <stateVariable>"),
        (scpd(variables=VARIABLE.replace("string", "i4").replace(
            "</dataType>",
            "</dataType><allowedValueRange><minimum>1</minimum><minimum>2</minimum>"
            "<maximum>3</maximum></allowedValueRange>")),
         "<minimum> appears twice inside <allowedValueRange>"),
    ],
    ids=["name", "dataType", "serviceStateTable", "direction", "retval", "action-name",
         "allowedValueList", "minimum"],
)
def test_scpd_refuses_repeated_single_elements(data: bytes, expected: str) -> None:
    assert refused(data) == expected


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (scpd("<action><argumentList/></action>"), "<action> has no <name>"),
        (scpd(variables='<stateVariable><dataType>i4</dataType></stateVariable>'),
         "<stateVariable> has no <name>"),
        (scpd(variables="<stateVariable><name>V</name></stateVariable>"),
         "<stateVariable> has no <dataType>"),
        (scpd(action(argument(direction=""))), "<argument> has no <direction>"),
        (scpd(action("<argument><direction>in</direction><relatedStateVariable>V"
                      "</relatedStateVariable></argument>")),
         "<argument> has no <name>"),
        (scpd(action(argument(related=""))), "<argument> has no <relatedStateVariable>"),
        (scpd(variables=VARIABLE.replace("string", "i4").replace(
            "</dataType>",
            "</dataType><allowedValueRange><minimum>1</minimum></allowedValueRange>")),
         "<allowedValueRange> has no <maximum>"),
    ],
    ids=["action-name", "variable-name", "dataType", "direction", "argument-name",
         "relatedStateVariable", "maximum"],
)
def test_scpd_refuses_missing_elements(data: bytes, expected: str) -> None:
    assert refused(data) == expected


@pytest.mark.parametrize(
    ("attribute", "value"),
    [("sendEvents", "maybe"), ("sendEvents", "1"), ("sendEvents", "true"), ("multicast", "")],
)
def test_scpd_refuses_bad_yes_no(attribute: str, value: str) -> None:
    data = scpd(variables=VARIABLE.replace('sendEvents="no"', f'{attribute}="{value}"'))
    assert refused(data) == f"{attribute}={value!r} on a state variable is neither 'yes' nor 'no'"


@pytest.mark.parametrize(
    ("data", "fragments"),
    [
        (scpd(action(argument(direction="<direction>both</direction>"))),
         ["action 'Get'", "argument 'A'", "direction: 'both' is neither 'in' nor 'out'"]),
        (scpd(action(argument(related="<relatedStateVariable>W</relatedStateVariable>"))),
         ["argument 'A' of action 'Get' refers to the undeclared state variable 'W'"]),
        (scpd(action(argument("A", "<direction>out</direction>")
                     + argument("B", "<direction>in</direction>"))),
         ["action 'Get'", "in-arguments must all come before out-arguments"]),
        (scpd(variables=""), ["must declare at least one state variable"]),
        (scpd(variables=None),  # type: ignore[arg-type]
         ["must declare at least one state variable"]),
        (scpd(variables=VARIABLE.replace("string", "integer")),
         ["state variable 'V'", "dataType: 'integer' is not a UPnP data type"]),
        (scpd(variables=VARIABLE.replace("</dataType>", "</dataType><defaultValue/>")
              .replace("string", "ui1")),
         ["state variable 'V'", "defaultValue:", "ui1"]),
        (scpd(variables=VARIABLE + VARIABLE),
         ["state variable 'V' is declared twice"]),
        (scpd(action(argument()) + action(argument())),
         ["action 'Get' is declared twice"]),
    ],
    ids=["direction", "related", "order", "empty-table", "no-table", "dataType", "default",
         "duplicate-variable", "duplicate-action"],
)
def test_scpd_refuses_what_the_model_refuses(data: bytes, fragments: list[str]) -> None:
    message = refused(data)
    for fragment in fragments:
        assert fragment in message
