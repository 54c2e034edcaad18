"""
The control point without sockets: device descriptions parsed back, the
device table on a Clock, TIMEOUT and value conversions, SOAP answers from
other stacks, and the event listener's NOTIFY resource over in-memory HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet import defer
from twisted.internet.interfaces import ILoggingContext
from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactor
from twisted.python.failure import Failure
from twisted.web.http_headers import Headers
from twisted.web.iweb import IBodyProducer
from twisted.web.resource import IResource
from zope.interface.verify import verifyObject

from upnp_announce import client, config
from upnp_announce.client import (
    ClientError,
    DeviceTable,
    EventListener,
    EventSubscription,
    Found,
    RemoteDevice,
    RemoteService,
    TableEntry,
    TableProtocol,
    controlpoint,
    parse_device_description,
)
from upnp_announce.client import eventing as client_eventing
from upnp_announce.client.common import convert
from upnp_announce.model import (
    DESCRIPTION_FIELDS,
    Device,
    Service,
    ServiceDescription,
    StateVariable,
)
from upnp_announce.wire import gena, http, soap, ssdp
from upnp_announce.wire.description import MAX_DOCUMENT, DescriptionError, render
from upnp_announce.wire.scpd import parse_scpd

from support import MemoryHTTP, example, request

LOCATION = "http://127.0.0.1:4242/description.xml"
DEVICE_NS = "urn:schemas-upnp-org:device-1-0"
ROOT_UDN = "uuid:e427ce1a-3e80-43d0-ad6f-89ec42e46363"
CHILD_UDN = "uuid:9a5b8f6e-5d0c-4d7e-8f3a-2b1c0d9e8f7a"
GRANDCHILD_UDN = "uuid:1f2e3d4c-5b6a-4978-8a6b-5c4d3e2f1a0b"

with open(example("jambon-scpd.xml"), "rb") as f:
    JAMBON_SCPD = f.read()
JAMBON = parse_scpd(JAMBON_SCPD)
QUIET = ServiceDescription((), (StateVariable("Label", "string"),))


def service(name: str, description: ServiceDescription = JAMBON, version: int = 1) -> Service:
    return Service(
        f"urn:boucherie.example.com:service:{name}:{version}",
        f"urn:boucherie.example.com:serviceId:{name}",
        description,
    )


def tree() -> Device:
    """
    A root device with a child that has a grandchild: three levels, one
    service without events.
    """
    grandchild = Device(
        deviceType="urn:boucherie.example.com:device:Drawer:1",
        friendlyName="Drawer",
        manufacturer="Boucherie numerique SAS",
        modelName="Tiroir",
        UDN=GRANDCHILD_UDN,
        services=(service("Lock"), service("Light", QUIET)),
    )
    child = Device(
        deviceType="urn:boucherie.example.com:device:Fridge:1",
        friendlyName="Fridge",
        manufacturer="Boucherie numerique SAS",
        modelName="Frigo",
        modelNumber="12",
        UDN=CHILD_UDN,
        services=(service("Thermometer"),),
        devices=(grandchild,),
    )
    return Device(
        deviceType="urn:schemas-upnp-org:device:Basic:1",
        friendlyName="Jambon 3000",
        manufacturer="Boucherie numerique SAS",
        manufacturerURL="http://www.boucherie.example.com/",
        modelName="Jambon",
        serialNumber="JBN425134",
        UDN=ROOT_UDN,
        services=(service("Jambon", version=2),),
        devices=(child,),
    )


def expected(device: Device, location: str) -> RemoteDevice:
    """
    What parsing C{device}'s rendered description fetched from C{location}
    should give, from the model and the layout alone.
    """
    plan = render(device).layout

    def convert(d: Device) -> RemoteDevice:
        fields = {
            name: getattr(d, name)
            for name in DESCRIPTION_FIELDS
            if name != "presentationURL" and getattr(d, name) is not None
        }
        fields["presentationURL"] = urljoin(location, d.presentationURL or plan.presentation[d.UDN])
        services = tuple(
            RemoteService(
                p.service.serviceType,
                p.service.serviceId,
                urljoin(location, p.scpd),
                urljoin(location, p.control),
                urljoin(location, p.event) if any(
                    v.sendEvents for v in p.service.description.stateVariables
                ) else "",
            )
            for p in plan.services
            if p.device is d
        )
        return RemoteDevice(
            location, d.deviceType, d.UDN, fields, services, tuple(convert(c) for c in d.devices)
        )

    return convert(device)


# -- parse_device_description -------------------------------------------------------


def test_our_own_description_parses_back_to_the_same_tree() -> None:
    device = tree()
    data = render(device).documents["/description.xml"]
    parsed = parse_device_description(data, LOCATION)
    assert parsed == expected(device, LOCATION)
    assert [d.UDN for d in parsed.allDevices()] == [ROOT_UDN, CHILD_UDN, GRANDCHILD_UDN]
    drawer = parsed.devices[0].devices[0]
    assert drawer.friendlyName == "Drawer"
    assert drawer.services[0].SCPDURL.startswith("http://127.0.0.1:4242/dev/")
    assert [s.serviceId.rsplit(":", 1)[1] for s in parsed.allServices()] == [
        "Jambon", "Thermometer", "Lock", "Light",
    ]


def test_a_service_without_events_keeps_an_empty_eventSubURL() -> None:
    data = render(tree()).documents["/description.xml"]
    parsed = parse_device_description(data, LOCATION)
    light = parsed.findService("Light")
    assert light.eventSubURL == ""
    assert parsed.findService("Lock").eventSubURL.endswith("/svc/Lock/event")


def test_the_example_config_parses_back_with_its_embedded_device() -> None:
    loaded = config.load(example("jambon-fridge.ini"), machineId="client-tests")
    data = render(loaded.device).documents["/description.xml"]
    location = "http://127.0.0.1:1234/description.xml"
    parsed = parse_device_description(data, location)
    assert parsed == expected(loaded.device, location)
    assert parsed.devices[0].deviceType == "urn:boucherie.example.com:device:Fridge:1"


@settings(database=None, deadline=None, max_examples=40)
@given(
    name=st.text(
        st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp")), min_size=1, max_size=40
    ),
    port=st.integers(1, 65535),
    path=st.sampled_from(["/description.xml", "/a/b/desc.xml", "/"]),
)
def test_rendered_names_and_any_location_round_trip(name: str, port: int, path: str) -> None:
    device = Device(
        deviceType="urn:schemas-upnp-org:device:Basic:1",
        friendlyName=name,
        manufacturer="M & <co>",
        modelName="Jambon",
        UDN=ROOT_UDN,
        services=(service("Jambon"),),
    )
    location = f"http://127.0.0.1:{port}{path}"
    parsed = parse_device_description(render(device).documents["/description.xml"], location)
    assert parsed == expected(device, location)
    assert parsed.friendlyName == name


HAND = """<?xml version="1.0"?>
<root xmlns="urn:schemas-upnp-org:device-1-0">
  <specVersion><major>1</major><minor>0</minor></specVersion>
  {urlbase}
  <device>
    <deviceType>urn:schemas-upnp-org:device:MediaServer:1</deviceType>
    <friendlyName>NAS</friendlyName>
    <UDN>uuid:0a0b0c0d-0000-4000-8000-000000000001</UDN>
    <iconList><icon><url>icon.png</url></icon></iconList>
    <serviceList>
      <service>
        <serviceType>urn:schemas-upnp-org:service:ContentDirectory:1</serviceType>
        <serviceId>urn:upnp-org:serviceId:ContentDirectory</serviceId>
        <SCPDURL>cd/scpd.xml</SCPDURL>
        <controlURL>/ctl/cd</controlURL>
        <eventSubURL>http://127.0.0.9:6000/evt/cd</eventSubURL>
      </service>
    </serviceList>
    <deviceList>
      <device>
        <deviceType>urn:schemas-upnp-org:device:Child:1</deviceType>
        <UDN>uuid:0a0b0c0d-0000-4000-8000-000000000002</UDN>
        <serviceList><service>
          <serviceType>urn:schemas-upnp-org:service:X:1</serviceType>
          <serviceId>urn:upnp-org:serviceId:X</serviceId>
          <SCPDURL>x.xml</SCPDURL><controlURL>x/ctl</controlURL><eventSubURL></eventSubURL>
        </service></serviceList>
      </device>
    </deviceList>
    <presentationURL>index.html</presentationURL>
  </device>
</root>
"""


def test_URLBase_is_the_base_of_relative_urls_when_present() -> None:
    data = HAND.format(urlbase="<URLBase>http://127.0.0.7:5000/base/</URLBase>").encode()
    parsed = parse_device_description(data, "http://127.0.0.1:80/other/desc.xml")
    [cd] = parsed.services
    assert cd == RemoteService(
        "urn:schemas-upnp-org:service:ContentDirectory:1",
        "urn:upnp-org:serviceId:ContentDirectory",
        "http://127.0.0.7:5000/base/cd/scpd.xml",
        "http://127.0.0.7:5000/ctl/cd",
        "http://127.0.0.9:6000/evt/cd",
    )
    assert parsed.fields["presentationURL"] == "http://127.0.0.7:5000/base/index.html"
    # The embedded device resolves against the same base.
    [x] = parsed.devices[0].services
    assert (x.SCPDURL, x.controlURL, x.eventSubURL) == (
        "http://127.0.0.7:5000/base/x.xml", "http://127.0.0.7:5000/base/x/ctl", "",
    )
    assert parsed.devices[0].location == "http://127.0.0.1:80/other/desc.xml"


@pytest.mark.parametrize("urlbase", ["", "<URLBase></URLBase>", "<URLBase>  </URLBase>"])
def test_without_URLBase_urls_are_relative_to_the_location(urlbase: str) -> None:
    data = HAND.format(urlbase=urlbase).encode()
    parsed = parse_device_description(data, "http://127.0.0.1:80/other/desc.xml")
    [cd] = parsed.services
    assert cd.SCPDURL == "http://127.0.0.1:80/other/cd/scpd.xml"
    assert cd.controlURL == "http://127.0.0.1:80/ctl/cd"
    assert cd.eventSubURL == "http://127.0.0.9:6000/evt/cd"
    assert parsed.fields["presentationURL"] == "http://127.0.0.1:80/other/index.html"
    # Elements with children are not fields.
    assert "iconList" not in parsed.fields and "serviceList" not in parsed.fields
    assert parsed.friendlyName == "NAS"
    assert parsed.devices[0].friendlyName == ""


def test_a_root_without_namespace_is_accepted() -> None:
    data = HAND.format(urlbase="").replace(f' xmlns="{DEVICE_NS}"', "").encode()
    assert b"xmlns" not in data
    parsed = parse_device_description(data, LOCATION)
    assert parsed.UDN == "uuid:0a0b0c0d-0000-4000-8000-000000000001"
    assert parsed.services[0].controlURL == "http://127.0.0.1:4242/ctl/cd"


def test_prefixed_elements_are_read_by_local_name() -> None:
    data = (
        f'<d:root xmlns:d="{DEVICE_NS}"><d:device>'
        "<d:deviceType>urn:schemas-upnp-org:device:Basic:1</d:deviceType>"
        "<d:UDN>uuid:0a0b0c0d-0000-4000-8000-000000000001</d:UDN>"
        "</d:device></d:root>"
    ).encode()
    parsed = parse_device_description(data, LOCATION)
    assert parsed.deviceType == "urn:schemas-upnp-org:device:Basic:1"
    assert parsed.services == () and parsed.devices == ()


def minimal(inner: str, root: str = f'<root xmlns="{DEVICE_NS}">', end: str = "</root>") -> bytes:
    return f'<?xml version="1.0"?>\n{root}{inner}{end}'.encode()


DEVICE = (
    "<device><deviceType>urn:schemas-upnp-org:device:Basic:1</deviceType>"
    "<UDN>uuid:0a0b0c0d-0000-4000-8000-000000000001</UDN></device>"
)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (minimal(DEVICE, f'<scpd xmlns="{DEVICE_NS}">', "</scpd>"), "its root is <scpd>"),
        (minimal(DEVICE, '<root xmlns="urn:example:other">'), "namespace urn:example:other"),
        (minimal(""), "no <device>"),
        (minimal(DEVICE + DEVICE), "no <device>"),
        (
            minimal(
                "<device><deviceType>urn:schemas-upnp-org:device:Basic:1</deviceType></device>"
            ),
            "no deviceType or UDN",
        ),
        (minimal("<device><UDN>uuid:x</UDN></device>"), "no deviceType or UDN"),
        (
            minimal(
                "<device><deviceType>urn:schemas-upnp-org:device:Basic:1</deviceType>"
                "<UDN>uuid:0a0b0c0d-0000-4000-8000-000000000001</UDN>"
                "<deviceList><device><deviceType>urn:x:device:Y:1</deviceType></device>"
                "</deviceList></device>"
            ),
            "no deviceType or UDN",
        ),
        (
            b'<?xml version="1.0"?>\n<!DOCTYPE root [<!ENTITY x "boom">]>\n' + minimal(DEVICE)[22:],
            "DOCTYPE",
        ),
        (minimal(DEVICE.replace("Basic:1", "Basic:1&ent;")), "not well-formed XML"),
        (b"HTTP/1.1 200 OK\r\n\r\nhello", "not well-formed XML"),
        (b"", "not well-formed XML"),
        (b"<root><device>", "not well-formed XML"),
        (b"<a>" * 40 + b"</a>" * 40, "nested more than 32 deep"),
    ],
)
def test_what_is_not_a_device_description_is_a_one_line_DescriptionError(
    data: bytes, words: str
) -> None:
    with pytest.raises(DescriptionError) as raised:
        parse_device_description(data, LOCATION)
    message = str(raised.value)
    assert message.startswith(f"{LOCATION} is not a UPnP device description")
    assert words in message
    assert "\n" not in message


def test_a_description_over_the_size_limit_is_refused_unparsed() -> None:
    padding = "<!--" + "x" * MAX_DOCUMENT + "-->"
    with pytest.raises(DescriptionError, match="bytes; at most 1048576 allowed"):
        parse_device_description(minimal(padding + DEVICE), LOCATION)


def test_an_entity_is_not_expanded_even_when_declared_in_utf16() -> None:
    data = (
        '<?xml version="1.0" encoding="utf-16"?>\n'
        '<!DOCTYPE root [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        f'<root xmlns="{DEVICE_NS}"><device><deviceType>&x;</deviceType>'
        "<UDN>uuid:0a0b0c0d-0000-4000-8000-000000000001</UDN></device></root>"
    ).encode("utf-16")
    with pytest.raises(DescriptionError, match="DOCTYPE"):
        parse_device_description(data, LOCATION)


@settings(database=None, deadline=None, max_examples=200)
@given(
    st.binary(max_size=300)
    | st.text(alphabet="<>/=\"' rotdevicUDN:&;!-?x", max_size=120).map(str.encode)
)
def test_any_bytes_give_a_device_or_a_DescriptionError(data: bytes) -> None:
    try:
        parsed = parse_device_description(data, LOCATION)
    except DescriptionError as e:
        assert "\n" not in str(e)
    else:
        assert parsed.deviceType and parsed.UDN


# -- findService ---------------------------------------------------------------------


@pytest.fixture
def parsed() -> RemoteDevice:
    return parse_device_description(render(tree()).documents["/description.xml"], LOCATION)


def test_findService_by_full_serviceId(parsed: RemoteDevice) -> None:
    found = parsed.findService("urn:boucherie.example.com:serviceId:Thermometer")
    assert found.serviceType == "urn:boucherie.example.com:service:Thermometer:1"


def test_findService_by_the_last_part_of_the_serviceId_at_depth_two(parsed: RemoteDevice) -> None:
    found = parsed.findService("Lock")
    assert found.serviceId == "urn:boucherie.example.com:serviceId:Lock"
    assert found in parsed.devices[0].devices[0].services


def test_findService_by_type_and_by_a_lower_version(parsed: RemoteDevice) -> None:
    exact = parsed.findService("urn:boucherie.example.com:service:Jambon:2")
    lower = parsed.findService("urn:boucherie.example.com:service:Jambon:1")
    assert exact == lower
    assert exact.serviceId == "urn:boucherie.example.com:serviceId:Jambon"


def test_findService_does_not_take_a_higher_version(parsed: RemoteDevice) -> None:
    with pytest.raises(DescriptionError):
        parsed.findService("urn:boucherie.example.com:service:Jambon:3")


def test_findService_names_the_services_there_are(parsed: RemoteDevice) -> None:
    with pytest.raises(DescriptionError) as raised:
        parsed.findService("SwitchPower")
    assert str(raised.value) == (
        "the device has no service 'SwitchPower'; its services are: "
        "Jambon, Thermometer, Lock, Light"
    )


def test_findService_on_a_device_without_services_says_none() -> None:
    bare = parse_device_description(minimal(DEVICE), LOCATION)
    with pytest.raises(DescriptionError, match="its services are: none$"):
        bare.findService("Jambon")


# -- the device table --------------------------------------------------------------

USN = f"{ROOT_UDN}::upnp:rootdevice"


def alive(
    location: str = LOCATION, maxAge: int = 100, bootId: int = 1, usn: str = USN
) -> ssdp.Notify:
    message = ssdp.parse(
        ssdp.alive(
            nt="upnp:rootdevice", usn=usn, location=location, maxAge=maxAge,
            server="Test/1 UPnP/1.1 x/1", bootId=bootId, configId=7,
        )
    )
    assert isinstance(message, ssdp.Notify)
    return message


def byebye(usn: str = USN) -> bytes:
    return ssdp.byebye(nt="upnp:rootdevice", usn=usn, bootId=1, configId=7)


def update(location: str, usn: str = USN) -> bytes:
    return (
        "NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n"
        f"LOCATION: {location}\r\nNT: upnp:rootdevice\r\nNTS: ssdp:update\r\nUSN: {usn}\r\n"
        "BOOTID.UPNP.ORG: 1\r\nCONFIGID.UPNP.ORG: 7\r\nNEXTBOOTID.UPNP.ORG: 2\r\n\r\n"
    ).encode()


class Table:
    """
    A DeviceTable on a Clock and what its watcher was told.
    """

    def __init__(self) -> None:
        self.clock = Clock()
        self.table = DeviceTable(self.clock)
        self.told: list[tuple[str, str, str]] = []
        self.table.watch(lambda kind, entry: self.told.append((kind, entry.usn, entry.location)))


@pytest.fixture
def t() -> Iterator[Table]:
    table = Table()
    yield table
    table.table.stop()


def test_alive_adds(t: Table) -> None:
    t.clock.advance(5)
    t.table.notifyReceived(alive())
    assert t.told == [("added", USN, LOCATION)]
    assert t.table.entries == {
        USN: TableEntry(USN, LOCATION, "Test/1 UPnP/1.1 x/1", 105.0, "1")
    }


def test_a_repeated_alive_refreshes_the_expiry_without_telling(t: Table) -> None:
    t.table.notifyReceived(alive())
    t.clock.advance(60)
    t.table.notifyReceived(alive())
    assert t.told == [("added", USN, LOCATION)]
    assert t.table.entries[USN].expires == 160
    t.clock.advance(99)
    assert USN in t.table.entries
    t.clock.advance(1)
    assert USN not in t.table.entries
    assert t.told[-1] == ("removed", USN, LOCATION)


def test_a_new_LOCATION_is_an_update(t: Table) -> None:
    t.table.notifyReceived(alive())
    other = "http://127.0.0.1:5555/description.xml"
    t.table.notifyReceived(alive(location=other))
    assert t.told == [("added", USN, LOCATION), ("updated", USN, other)]
    assert t.table.entries[USN].location == other


def test_a_new_BOOTID_is_an_update(t: Table) -> None:
    t.table.notifyReceived(alive(bootId=1))
    t.table.notifyReceived(alive(bootId=2))
    assert [kind for kind, _, _ in t.told] == ["added", "updated"]
    assert t.table.entries[USN].bootId == "2"


def test_byebye_removes(t: Table) -> None:
    t.table.notifyReceived(alive())
    message = ssdp.parse(byebye())
    assert isinstance(message, ssdp.Notify)
    t.table.notifyReceived(message)
    assert t.table.entries == {}
    assert t.told == [("added", USN, LOCATION), ("removed", USN, LOCATION)]
    # Its expiry timer went with it.
    assert t.clock.getDelayedCalls() == []


def test_byebye_of_an_unknown_device_tells_nothing(t: Table) -> None:
    message = ssdp.parse(byebye())
    assert isinstance(message, ssdp.Notify)
    t.table.notifyReceived(message)
    assert t.told == [] and t.table.entries == {}


def test_update_with_a_new_LOCATION_updates(t: Table) -> None:
    t.table.notifyReceived(alive())
    other = "http://127.0.0.1:5555/description.xml"
    message = ssdp.parse(update(other))
    assert isinstance(message, ssdp.Notify)
    t.table.notifyReceived(message)
    assert t.told == [("added", USN, LOCATION), ("updated", USN, other)]
    assert t.table.entries[USN].location == other


def test_update_keeps_the_expiry_of_the_last_alive(t: Table) -> None:
    t.table.notifyReceived(alive(maxAge=100))
    t.clock.advance(10)
    message = ssdp.parse(update("http://127.0.0.1:5555/description.xml"))
    assert isinstance(message, ssdp.Notify)
    t.table.notifyReceived(message)
    # No alive since the one that said max-age=100: gone at t=100.
    t.clock.advance(90)
    assert USN not in t.table.entries


def test_expiry_removes_exactly_at_max_age(t: Table) -> None:
    t.table.notifyReceived(alive(maxAge=30))
    t.clock.advance(29.999)
    assert USN in t.table.entries
    t.clock.advance(0.001)
    assert USN not in t.table.entries
    assert t.told == [("added", USN, LOCATION), ("removed", USN, LOCATION)]


def test_a_search_reply_adds_and_defaults_to_1800_s(t: Table) -> None:
    t.table.foundReceived(Found(USN, "upnp:rootdevice", LOCATION, "S", ("127.0.0.1", 1900), None))
    assert t.told == [("added", USN, LOCATION)]
    assert t.table.entries[USN].expires == 1800
    t.clock.advance(1799)
    assert USN in t.table.entries
    t.clock.advance(1)
    assert USN not in t.table.entries


def test_stop_cancels_every_timer(t: Table) -> None:
    for n in range(3):
        t.table.notifyReceived(alive(usn=f"{ROOT_UDN}::urn:x:service:S{n}:1"))
    assert len(t.clock.getDelayedCalls()) == 3
    t.table.stop()
    assert t.clock.getDelayedCalls() == []
    t.clock.advance(1000)
    assert [kind for kind, _, _ in t.told] == ["added"] * 3


def test_alive_without_LOCATION_is_ignored(t: Table) -> None:
    data = ssdp.byebye(nt="upnp:rootdevice", usn=USN, bootId=1, configId=7).replace(
        b"ssdp:byebye", b"ssdp:alive"
    )
    message = ssdp.parse(data)
    assert isinstance(message, ssdp.Notify) and message.location is None
    t.table.notifyReceived(message)
    assert t.table.entries == {} and t.told == []


def test_TableProtocol_feeds_the_table_from_datagrams(t: Table) -> None:
    protocol = TableProtocol(t.table)
    assert verifyObject(ILoggingContext, protocol)
    raw = ssdp.alive(
        nt="upnp:rootdevice", usn=USN, location=LOCATION, maxAge=100,
        server="S", bootId=1, configId=7,
    )
    protocol.datagramReceived(raw, ("127.0.0.1", 1900))
    assert USN in t.table.entries
    reply = ssdp.search_response(
        st="upnp:rootdevice", usn="uuid:other::upnp:rootdevice", location=LOCATION, maxAge=50,
        date="x", server="S", bootId=1, configId=7,
    )
    protocol.datagramReceived(reply, ("127.0.0.1", 1900))
    assert t.table.entries["uuid:other::upnp:rootdevice"].expires == 50
    protocol.datagramReceived(byebye(), ("127.0.0.1", 1900))
    assert USN not in t.table.entries
    assert [kind for kind, _, _ in t.told] == ["added", "added", "removed"]


def test_TableProtocol_ignores_searches(t: Table) -> None:
    protocol = TableProtocol(t.table)
    protocol.datagramReceived(ssdp.msearch(st="ssdp:all", mx=1), ("127.0.0.1", 1900))
    assert t.table.entries == {} and t.told == []


@pytest.mark.parametrize(
    "garbage",
    [
        b"",
        b"\xff\xfe\x00garbage",
        b"NOTIFY * HTTP/1.1\r\nNTS: ssdp:alive\r\n\r\n",
        b"NOTIFY * HTTP/1.1\r\nNT: a\r\nNTS: ssdp:alive\r\nUSN: u\r\n"
        b"CACHE-CONTROL: no-cache\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nST: a\r\nUSN: u\r\n\r\n",
        b"x" * 9000,
    ],
)
def test_TableProtocol_ignores_garbage(t: Table, garbage: bytes) -> None:
    TableProtocol(t.table).datagramReceived(garbage, ("127.0.0.1", 1900))
    assert t.table.entries == {} and t.told == []


@settings(database=None, deadline=None, max_examples=200)
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_TableProtocol_never_raises(datagram: bytes) -> None:
    table = Table()
    TableProtocol(table.table).datagramReceived(datagram, ("127.0.0.1", 1900))
    table.table.stop()


@settings(database=None, deadline=None, max_examples=100)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["alive", "byebye", "wait"]),
            st.integers(0, 2),
            st.integers(1, 50),
        ),
        max_size=30,
    )
)
def test_the_table_holds_what_was_alive_within_its_max_age(
    steps: list[tuple[str, int, int]],
) -> None:
    table = Table()
    expiry: dict[str, float] = {}
    for kind, n, number in steps:
        usn = f"uuid:{n}::upnp:rootdevice"
        if kind == "alive":
            table.table.notifyReceived(alive(usn=usn, maxAge=number))
            expiry[usn] = table.clock.seconds() + number
        elif kind == "byebye":
            message = ssdp.parse(byebye(usn))
            assert isinstance(message, ssdp.Notify)
            table.table.notifyReceived(message)
            expiry.pop(usn, None)
        else:
            table.clock.advance(number)
            expiry = {u: e for u, e in expiry.items() if e > table.clock.seconds()}
        assert set(table.table.entries) == set(expiry)
    added = sum(1 for kind, _, _ in table.told if kind == "added")
    removed = sum(1 for kind, _, _ in table.told if kind == "removed")
    assert added - removed == len(table.table.entries)
    table.table.stop()
    assert table.clock.getDelayedCalls() == []


# -- TIMEOUT and values ------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "granted"),
    [
        ("Second-300", 300),
        ("second-300", 300),
        ("  Second-7  ", 7),
        ("300", 300),
        ("Second-infinite", 1800),
        ("infinite", 1800),
        ("", 1800),
        ("Second-", 1800),
        ("Minute-5", 1800),
        ("Second--5", 1800),
        ("Second-12345678901", 1800),
    ],
)
def test_granted(header: str, granted: int) -> None:
    assert client_eventing._granted(header, 1800) == granted


@settings(database=None, deadline=None)
@given(st.integers(0, 9_999_999_999), st.integers(1, 86400))
def test_granted_reads_any_number_of_seconds(seconds: int, asked: int) -> None:
    assert client_eventing._granted(f"Second-{seconds}", asked) == seconds
    assert client_eventing._granted(str(seconds), asked) == seconds


@settings(database=None, deadline=None)
@given(st.text(st.characters(max_codepoint=127), max_size=20), st.integers(1, 86400))
def test_granted_gives_the_asked_time_for_what_it_cannot_read(text: str, asked: int) -> None:
    stripped = text.strip()
    digits = stripped[7:] if stripped.lower().startswith("second-") else stripped
    readable = digits.isdigit() and (digits is stripped or len(digits) <= 10)
    granted = client_eventing._granted(text, asked)
    assert granted == (int(digits) if readable else asked)


def test_granted_survives_a_superscript_digit() -> None:
    # b"TIMEOUT: \xb2" reads as "\u00b2" through _header's latin-1.
    assert client_eventing._granted(b"\xb2".decode("latin-1"), 1800) == 1800


@pytest.mark.parametrize(
    ("dataType", "text", "value"),
    [
        ("boolean", "1", True),
        ("boolean", "0", False),
        ("boolean", "True", True),
        ("boolean", "FALSE", False),
        ("boolean", "maybe", "maybe"),
        ("ui2", "42", 42),
        ("ui2", "70000", "70000"),
        ("i4", "-3", -3),
        ("r4", "4.5", 4.5),
        ("string", " spaced ", " spaced "),
        ("bin.hex", "00ff", b"\x00\xff"),
        ("no-such-type", "x", "x"),
        (None, "17", "17"),
    ],
)
def test_convert(dataType: str | None, text: str, value: object) -> None:
    converted = convert(dataType, text)
    assert converted == value
    assert type(converted) is type(value)


@settings(database=None, deadline=None)
@given(st.integers(0, 65535))
def test_convert_reads_every_ui2(number: int) -> None:
    assert convert("ui2", str(number)) == number


# -- SOAP answers from other stacks ---------------------------------------------------

ENV = "http://schemas.xmlsoap.org/soap/envelope/"


def fault(detail: str, prefix: str = "s") -> bytes:
    return (
        f'<?xml version="1.0"?><{prefix}:Envelope xmlns:{prefix}="{ENV}"><{prefix}:Body>'
        f"<{prefix}:Fault><faultcode>{prefix}:Client</faultcode>"
        "<faultstring>UPnPError</faultstring>"
        f"<detail>{detail}</detail></{prefix}:Fault></{prefix}:Body></{prefix}:Envelope>"
    ).encode()


def test_a_prefixed_UPnPError_is_read() -> None:
    body = fault(
        '<u:UPnPError xmlns:u="urn:schemas-upnp-org:control-1-0">'
        "<u:errorCode> 714 </u:errorCode><u:errorDescription>No such entry</u:errorDescription>"
        "</u:UPnPError>",
        prefix="SOAP-ENV",
    )
    with pytest.raises(soap.UPnPError) as raised:
        soap.parse_answer(body)
    assert (raised.value.code, raised.value.description) == (714, "No such entry")


def test_a_fault_without_description_gets_the_standard_one() -> None:
    body = fault("<UPnPError><errorCode>401</errorCode></UPnPError>")
    with pytest.raises(soap.UPnPError) as raised:
        soap.parse_answer(body)
    assert (raised.value.code, raised.value.description) == (401, "Invalid Action")
    body = fault("<UPnPError><errorCode>799</errorCode><errorDescription/></UPnPError>")
    with pytest.raises(soap.UPnPError) as raised:
        soap.parse_answer(body)
    assert (raised.value.code, raised.value.description) == (799, "Error")


def test_our_own_fault_is_read() -> None:
    with pytest.raises(soap.UPnPError) as raised:
        soap.parse_answer(soap.fault(605, "String <too> long"))
    assert (raised.value.code, raised.value.description) == (605, "String <too> long")


def test_a_response_is_read_with_any_prefix() -> None:
    body = soap.response("urn:x:service:Y:1", "GetStatus", [("ResultStatus", "1")])
    assert soap.parse_answer(body) == soap.SOAPAnswer("GetStatus", (("ResultStatus", "1"),))
    other = (
        f'<e:Envelope xmlns:e="{ENV}"><e:Body><m:GetStatusResponse xmlns:m="urn:x:service:Y:1">'
        "<m:ResultStatus>0</m:ResultStatus></m:GetStatusResponse></e:Body></e:Envelope>"
    ).encode()
    assert soap.parse_answer(other) == soap.SOAPAnswer("GetStatus", (("ResultStatus", "0"),))


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<html><body>Internal error</body></html>",
        f'<s:Envelope xmlns:s="{ENV}"></s:Envelope>'.encode(),
        f'<s:Envelope xmlns:s="{ENV}"><s:Body><a/><b/></s:Body></s:Envelope>'.encode(),
        f'<s:Envelope xmlns:s="{ENV}"><s:Body><u:GetStatus xmlns:u="urn:x"/></s:Body>'
        "</s:Envelope>".encode(),
        fault("<UPnPError><errorCode>abc</errorCode></UPnPError>"),
        fault("<Other/>"),
        b'<?xml version="1.0"?><!DOCTYPE s [<!ENTITY a "b">]><s/>',
    ],
)
def test_an_answer_without_usable_SOAP_is_a_SOAPError(body: bytes) -> None:
    with pytest.raises(soap.SOAPError):
        soap.parse_answer(body)


# -- the HTTP plumbing ----------------------------------------------------------------


def test_the_body_producer_gives_its_bytes() -> None:
    producer = http.BytesProducer(b"<x/>")
    assert verifyObject(IBodyProducer, producer)
    assert producer.length == 4
    written: list[bytes] = []

    class Consumer:
        def write(self, data: bytes) -> None:
            written.append(data)

    done = producer.startProducing(Consumer())
    assert done.called and written == [b"<x/>"]


def test_explain_puts_network_failures_in_one_sentence() -> None:
    from twisted.internet import error

    url = "http://127.0.0.1:9/description.xml"

    def explained(exception: BaseException) -> str:
        result = controlpoint._explain(Failure(exception), url, 1.5)
        assert result.check(ClientError)
        return str(result.value)

    assert explained(defer.TimeoutError()) == "no answer from 127.0.0.1:9 within 1.5 s"
    assert explained(error.ConnectionRefusedError()) == (
        "cannot connect to 127.0.0.1:9: connection refused"
    )
    assert explained(error.DNSLookupError("x")) == f"cannot find the host of {url}"
    kept = controlpoint._explain(Failure(soap.UPnPError(501)), url, 1)
    assert kept.check(soap.UPnPError)




# -- the NOTIFY resource -------------------------------------------------------------

SID = "uuid:7c0f2b44-46a4-4f0e-9f36-5e0e1b7a7d01"


class Heard:
    """
    An EventSubscription's callback, remembering what it was called with.
    """

    def __init__(self) -> None:
        self.events: list[tuple[int, dict[str, object]]] = []

    def __call__(self, seq: int, values: dict[str, object]) -> None:
        self.events.append((seq, values))


def subscription(
    listener: EventListener, heard: Heard, description: ServiceDescription | None = JAMBON,
    sid: str = SID,
) -> EventSubscription:
    remote = RemoteService(
        "urn:boucherie.example.com:service:Jambon:1", "urn:boucherie.example.com:serviceId:Jambon",
        "http://127.0.0.1:1/scpd.xml", "http://127.0.0.1:1/control", "http://127.0.0.1:1/event",
    )
    made = EventSubscription(
        Any, remote, description, heard, listener, "token"  # type: ignore[arg-type]
    )
    made.sid = sid
    return made


@pytest.fixture
def listener() -> Iterator[EventListener]:
    memory = MemoryReactor()
    made = EventListener(memory, "127.0.0.1")
    # Built without side effects; it listens once started.
    assert memory.tcpServers == []
    made.start()
    [(port, factory, _, interface)] = memory.tcpServers
    assert (port, factory, interface) == (0, made.site, "127.0.0.1")
    yield made
    made.close()


def notify(
    listener: EventListener,
    values: list[tuple[str, str]] | None = None,
    *,
    sid: str | None = SID,
    seq: str | None = "0",
    nt: bytes = b"upnp:event",
    nts: bytes = b"upnp:propchange",
    body: bytes | None = None,
) -> int:
    headers = {b"NT": nt, b"NTS": nts, b"Content-Type": b'text/xml; charset="utf-8"'}
    if sid is not None:
        headers[b"SID"] = sid.encode()
    if seq is not None:
        headers[b"SEQ"] = seq.encode()
    if body is None:
        body = gena.propertyset(values or [("SliceThickness", "7")])
    http = MemoryHTTP(listener.site)
    try:
        [response] = http.send(
            request(b"NOTIFY", b"/" + b"0" * 32, host=b"127.0.0.1:1", headers=headers, body=body)
        )
    finally:
        http.close()
    return response.status


def test_the_notify_resource_is_a_resource(listener: EventListener) -> None:
    assert verifyObject(IResource, listener.site.resource)
    assert listener.url("abc").startswith("http://127.0.0.1:")
    assert listener.url("abc").endswith("/abc")


def test_a_notify_reaches_its_subscription_with_typed_values(listener: EventListener) -> None:
    heard = Heard()
    listener.register(subscription(listener, heard))
    assert notify(listener, [("SliceThickness", "7"), ("Unknown", "x")], seq="3") == 200
    assert heard.events == [(3, {"SliceThickness": 7, "Unknown": "x"})]


def test_without_a_description_values_stay_text(listener: EventListener) -> None:
    heard = Heard()
    listener.register(subscription(listener, heard, description=None))
    assert notify(listener, [("SliceThickness", "7")]) == 200
    assert heard.events == [(0, {"SliceThickness": "7"})]


@pytest.mark.parametrize(
    ("nt", "nts"),
    [
        (b"upnp:other", b"upnp:propchange"),
        (b"upnp:event", b"upnp:propchanged"),
        (b"", b"upnp:propchange"),
    ],
)
def test_a_wrong_NT_or_NTS_is_400(listener: EventListener, nt: bytes, nts: bytes) -> None:
    heard = Heard()
    listener.register(subscription(listener, heard))
    assert notify(listener, nt=nt, nts=nts) == 400
    assert heard.events == []


@pytest.mark.parametrize(
    ("sid", "seq"), [(None, "0"), ("", "0"), (SID, None), (SID, "-1"), (SID, "one")]
)
def test_a_missing_SID_or_SEQ_is_412(
    listener: EventListener, sid: str | None, seq: str | None
) -> None:
    heard = Heard()
    listener.register(subscription(listener, heard))
    assert notify(listener, sid=sid, seq=seq) == 412
    assert heard.events == [] and listener.early == {}


def test_a_body_that_is_not_a_propertyset_is_400(listener: EventListener) -> None:
    heard = Heard()
    listener.register(subscription(listener, heard))
    assert notify(listener, body=b"<html/>") == 400
    assert notify(listener, body=b"not xml") == 400
    assert heard.events == []


def test_other_methods_are_405(listener: EventListener) -> None:
    http = MemoryHTTP(listener.site)
    try:
        [response] = http.send(request(b"GET", b"/", host=b"127.0.0.1:1"))
    finally:
        http.close()
    assert response.status == 405


def test_an_early_notify_is_kept_and_replayed_on_register(listener: EventListener) -> None:
    assert notify(listener, [("SliceThickness", "4")], seq="0") == 200
    assert notify(listener, [("SliceThickness", "5")], seq="1") == 200
    assert listener.early == {SID: [(0, {"SliceThickness": "4"}), (1, {"SliceThickness": "5"})]}
    heard = Heard()
    listener.register(subscription(listener, heard))
    assert heard.events == [(0, {"SliceThickness": 4}), (1, {"SliceThickness": 5})]
    assert listener.early == {}
    assert notify(listener, [("SliceThickness", "6")], seq="2") == 200
    assert heard.events[-1] == (2, {"SliceThickness": 6})


def test_early_notifies_are_bounded_per_SID(listener: EventListener) -> None:
    # Never refused (the device would drop us): the first four are kept.
    statuses = [notify(listener, seq=str(n)) for n in range(8)]
    assert statuses == [200] * 8
    assert [seq for seq, _ in listener.early[SID]] == [0, 1, 2, 3]


def test_early_notifies_keep_the_latest_SIDs(listener: EventListener) -> None:
    # Made-up SIDs push out older ones, not the NOTIFYs still to come.
    sids = [f"uuid:early-{n}" for n in range(20)]
    statuses = [notify(listener, sid=sid) for sid in sids]
    assert statuses == [200] * 20
    assert list(listener.early) == sids[4:]


def test_refused_early_SIDs_leave_nothing_behind(listener: EventListener) -> None:
    for n in range(200):
        notify(listener, sid=f"uuid:flood-{n}")
    assert len(listener.early) <= 16


# -- a subscription's life, on a Clock -------------------------------------------------


class StubPoint:
    """
    What an EventSubscription uses of its ControlPoint: a clock, and
    C{exchange} answered from a list (an exception fails the request).
    """

    def __init__(self, *answers: tuple[int, dict[bytes, bytes]] | Exception) -> None:
        self.reactor = Clock()
        self.answers = list(answers)
        self.sent: list[tuple[bytes, str, dict[bytes, bytes]]] = []

    def exchange(
        self, method: bytes, url: str, headers: dict[bytes, bytes] | None = None, **kw: Any
    ) -> defer.Deferred[tuple[int, Headers, bytes]]:
        self.sent.append((method, url, dict(headers or {})))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            return defer.fail(answer)
        code, fields = answer
        return defer.succeed((code, Headers({k: [v] for k, v in fields.items()}), b""))


def outcome(coroutine: Any) -> Any:
    """
    The result of a coroutine that must finish at once (or its exception).
    """
    d = defer.ensureDeferred(coroutine)
    results: list[Any] = []
    d.addBoth(results.append)
    [result] = results
    if isinstance(result, Failure):
        result.raiseException()
    return result


def started(
    point: StubPoint, listener: EventListener, asked: int = 300
) -> tuple[EventSubscription, Heard]:
    heard = Heard()
    made = subscription(listener, heard, sid="")
    made.point = point  # type: ignore[assignment]
    outcome(made.start(asked))
    return made, heard


def test_start_subscribes_with_our_callback_and_schedules_the_renewal(
    listener: EventListener,
) -> None:
    point = StubPoint((200, {b"sid": SID.encode(), b"timeout": b"Second-300"}))
    made, _ = started(point, listener, asked=600)
    [(method, url, headers)] = point.sent
    assert (method, url) == (b"SUBSCRIBE", "http://127.0.0.1:1/event")
    assert headers[b"callback"] == f"<{listener.url(made.token)}>".encode()
    assert (headers[b"nt"], headers[b"timeout"]) == (b"upnp:event", b"Second-600")
    assert (made.sid, made.timeout, made.active) == (SID, 300, True)
    assert listener.subscriptions == {SID: made}
    [renewal] = point.reactor.getDelayedCalls()
    assert renewal.getTime() == 150


@pytest.mark.parametrize(
    ("timeout", "granted"), [(b"300", 300), (b"Second-infinite", 600), (None, 600)]
)
def test_start_reads_the_granted_time_liberally(
    listener: EventListener, timeout: bytes | None, granted: int
) -> None:
    headers = {b"sid": SID.encode()}
    if timeout is not None:
        headers[b"timeout"] = timeout
    made, _ = started(StubPoint((200, headers)), listener, asked=600)
    assert made.timeout == granted


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ((412, {}), "http://127.0.0.1:1/event refused the subscription: HTTP 412"),
        ((200, {b"timeout": b"Second-300"}), "http://127.0.0.1:1/event answered without a SID"),
    ],
)
def test_a_refused_or_broken_subscription_is_a_ClientError(
    listener: EventListener, answer: tuple[int, dict[bytes, bytes]], message: str
) -> None:
    point = StubPoint(answer)
    with pytest.raises(ClientError) as raised:
        started(point, listener)
    assert str(raised.value) == message
    assert listener.subscriptions == {}
    assert point.reactor.getDelayedCalls() == []


@pytest.mark.parametrize(
    ("granted", "delay"),
    [
        (0, 1), (1, 1), (2, 1), (3, 1), (61, 1), (62, 2),
        (100, 40), (120, 60), (1800, 900), (86400, 43200),
    ],
)
def test_the_renewal_comes_at_half_time_or_a_minute_before_the_end_if_sooner(
    listener: EventListener, granted: int, delay: float
) -> None:
    point = StubPoint((200, {b"sid": SID.encode(), b"timeout": f"Second-{granted}".encode()}))
    started(point, listener)
    [renewal] = point.reactor.getDelayedCalls()
    assert renewal.getTime() == delay


def test_renewal_sends_the_SID_and_keeps_renewing(listener: EventListener) -> None:
    point = StubPoint(
        (200, {b"sid": SID.encode(), b"timeout": b"Second-300"}),
        (200, {b"timeout": b"Second-100"}),
        (200, {b"timeout": b"Second-100"}),
    )
    made, _ = started(point, listener)
    point.reactor.advance(150)
    assert point.sent[1] == (
        b"SUBSCRIBE", "http://127.0.0.1:1/event",
        {b"sid": SID.encode(), b"timeout": b"Second-300"},
    )
    assert made.timeout == 100
    [renewal] = point.reactor.getDelayedCalls()
    assert renewal.getTime() == 150 + 40
    point.reactor.advance(40)
    assert len(point.sent) == 3 and made.active


def test_a_renewal_answered_412_subscribes_afresh(listener: EventListener) -> None:
    other = "uuid:0e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f60718"
    point = StubPoint(
        (200, {b"sid": SID.encode(), b"timeout": b"Second-300"}),
        (412, {}),
        (200, {b"sid": other.encode(), b"timeout": b"Second-200"}),
    )
    made, heard = started(point, listener)
    point.reactor.advance(150)
    method, url, headers = point.sent[2]
    assert (method, url) == (b"SUBSCRIBE", "http://127.0.0.1:1/event")
    assert headers[b"callback"] == f"<{listener.url(made.token)}>".encode()
    assert b"sid" not in headers
    assert (made.sid, made.timeout, made.active) == (other, 200, True)
    assert listener.subscriptions == {other: made}
    [renewal] = point.reactor.getDelayedCalls()
    assert renewal.getTime() == 150 + 100
    assert notify(listener, sid=other, seq="0") == 200
    assert heard.events == [(0, {"SliceThickness": 7})]


@pytest.mark.parametrize(
    "answer", [(500, {}), ClientError("cannot connect to 127.0.0.1:1: connection refused")]
)
def test_a_failed_renewal_ends_the_subscription(
    listener: EventListener, answer: tuple[int, dict[bytes, bytes]] | Exception
) -> None:
    point = StubPoint((200, {b"sid": SID.encode(), b"timeout": b"Second-300"}), answer)
    made, _ = started(point, listener)
    point.reactor.advance(150)
    assert made.active is False
    assert point.reactor.getDelayedCalls() == []
    assert len(point.sent) == 2


def test_unsubscribe_stops_renewing_and_forgets(listener: EventListener) -> None:
    point = StubPoint((200, {b"sid": SID.encode(), b"timeout": b"Second-300"}), (200, {}))
    made, heard = started(point, listener)
    outcome(made.unsubscribe())
    assert point.sent[-1] == (b"UNSUBSCRIBE", "http://127.0.0.1:1/event", {b"sid": SID.encode()})
    assert point.reactor.getDelayedCalls() == []
    assert listener.subscriptions == {} and made.active is False
    # A NOTIFY after it is an early one for an unknown SID, not an event.
    assert notify(listener) == 200
    assert heard.events == []


def test_a_refused_unsubscribe_is_a_ClientError(listener: EventListener) -> None:
    point = StubPoint((200, {b"sid": SID.encode(), b"timeout": b"Second-300"}), (412, {}))
    made, _ = started(point, listener)
    with pytest.raises(ClientError, match="refused to unsubscribe: HTTP 412"):
        outcome(made.unsubscribe())
    assert listener.subscriptions == {}


def test_the_device_table_is_bounded() -> None:
    clock = Clock()
    table = client.DeviceTable(clock)
    table.MAX_ENTRIES = 10  # type: ignore[misc]
    for n in range(50):
        table.seen(f"uuid:{n}::upnp:rootdevice", f"http://192.0.2.{n}/", "", 1800, None)
    assert len(table.entries) == 10
    table.seen("uuid:0::upnp:rootdevice", "http://192.0.2.0/", "", 9_999_999_999, None)
    assert table.entries["uuid:0::upnp:rootdevice"].expires <= clock.seconds() + 86400


def test_a_renewal_after_unsubscribe_does_not_subscribe_again() -> None:
    clock = Clock()
    answers: list[defer.Deferred[Any]] = []

    class Point:
        reactor = clock
        subscriptions: set[Any] = set()

        def exchange(self, method: bytes, url: str, headers: Any = None, body: Any = None) -> Any:
            d: defer.Deferred[Any] = defer.Deferred()
            answers.append(d)
            return d

    class Listener:
        subscriptions: dict[str, Any] = {}

        def url(self, token: str) -> str:
            return "http://127.0.0.1:1/" + token

        def register(self, subscription: Any) -> None:
            self.subscriptions[subscription.sid] = subscription

    from twisted.web.http_headers import Headers

    service = client.RemoteService("t", "i", "http://x/s", "http://x/c", "http://x/e")
    subscription = client.EventSubscription(
        Point(), service, None, lambda *a: None, Listener(), "token"  # type: ignore[arg-type]
    )
    started = defer.Deferred.fromCoroutine(subscription.start(120))
    answers.pop().callback((200, Headers({b"sid": [b"uuid:1"], b"timeout": [b"Second-120"]}), b""))
    assert started.called
    clock.advance(60)  # the renewal goes out
    renewal = answers.pop()
    defer.Deferred.fromCoroutine(subscription.unsubscribe())
    answers.pop().callback((200, Headers(), b""))
    # The renewal's answer comes after the UNSUBSCRIBE: nothing more is sent.
    renewal.callback((412, Headers(), b""))
    clock.advance(1000)
    assert answers == []


def test_the_client_callback_server_caps_bodies() -> None:
    resource = client_eventing._NotifyResource(type("L", (), {"subscriptions": {}, "early": {}})())
    site = client_eventing.CappedSite(resource, timeout=60)
    [response] = MemoryHTTP(site).send(request(
        b"NOTIFY", b"/x", host=None,
        headers={b"NT": b"upnp:event", b"NTS": b"upnp:propchange", b"SID": b"uuid:1",
                 b"SEQ": b"0"},
        body=b"<x/>" + b" " * 70000,
    ))
    assert response.status == 413


def test_discover_keeps_one_reply_per_usn_and_location() -> None:
    from upnp_announce.client.discovery import _Searcher
    from upnp_announce.wire import ssdp

    def reply(location: str) -> bytes:
        return ssdp.search_response(
            st="upnp:rootdevice", usn="uuid:x::upnp:rootdevice", location=location,
            maxAge=1800, date="Sat, 05 Dec 2026 08:00:00 GMT", server="Linux/6 UPnP/1.1 x/1",
            bootId=1, configId=1,
        )

    found: dict[tuple[str, str], Any] = {}
    heard: list[str] = []
    searcher = _Searcher(found, lambda f: heard.append(f.location), "eth0")
    link_local = "http://[fe80::1]:80/d.xml"
    unique_local = "http://[fd00::1]:80/d.xml"
    searcher.datagramReceived(reply(link_local), ("fe80::1", 1900, 0, 2))
    searcher.datagramReceived(reply(unique_local), ("fd00::1", 1900, 0, 0))
    searcher.datagramReceived(reply(unique_local), ("fd00::1", 1900, 0, 0))  # again
    searcher.datagramReceived(reply("http://10.0.0.1:80/d.xml"), ("10.0.0.1", 1900))
    # Each LOCATION once, the link-local one with its zone.
    assert heard == ["http://[fe80::1%25eth0]:80/d.xml", unique_local, "http://10.0.0.1:80/d.xml"]
