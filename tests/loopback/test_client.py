"""
The control point against real devices on 127.0.0.1: unicast discovery,
descriptions, actions, events with renewal, and what goes wrong on the way
(refused connections, silence, web pages, 404s, oversized answers).

Nothing leaves the machine: devices listen on C{lo} only, searches are
unicast to 127.0.0.1 (on a private SSDP port, so that no other SSDP socket
on the machine shares the replies), and every helper server binds 127.0.0.1.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import protocol, reactor, task
from twisted.internet.interfaces import IListeningPort
from twisted.web import resource, server
from zope.interface.verify import verifyObject

from upnp_announce import client, config
from upnp_announce.client import (
    ClientError,
    ControlPoint,
    Found,
    RemoteService,
)
from upnp_announce.device.runner import UPnPService
from upnp_announce.model import Device
from upnp_announce.settings import EventingSettings
from upnp_announce.wire import soap
from upnp_announce.wire.description import MAX_DOCUMENT

from support import example, free_udp_port, ipv4

SWITCH = "urn:upnp-org:serviceId:SwitchPower"


async def wait(seconds: float) -> None:
    await task.deferLater(reactor, seconds, lambda: None)


async def until(condition: Callable[[], bool], timeout: float = 3.0) -> None:
    """
    Poll C{condition} until it holds; fail after C{timeout} seconds.
    """
    deadline = reactor.seconds() + timeout
    while not condition():
        assert reactor.seconds() < deadline, "timed out"
        await wait(0.02)


@dataclass
class Running:
    service: UPnPService
    device: Device
    location: str
    ssdpPort: int
    requests: list[tuple[bytes, bytes]]


@asynccontextmanager
async def running(
    name: str, *, eventing: EventingSettings | None = None
) -> AsyncIterator[Running]:
    """
    The device of example C{name} on loopback, counting the HTTP requests it
    gets, stopped afterwards.
    """
    loaded = config.load(example(name), machineId="client-loopback")
    ssdpPort = free_udp_port()
    service = UPnPService(
        loaded.device,
        loaded.network,
        interfaces=["lo"],
        httpPort=0,
        ssdpPort=ssdpPort,
        eventing=eventing or loaded.eventing,
    )
    requests: list[tuple[bytes, bytes]] = []
    original = service.site.getResourceFor

    def counting(request: Any) -> Any:
        requests.append((request.method, request.path))
        return original(request)

    service.site.getResourceFor = counting  # type: ignore[method-assign]
    service.startService()
    try:
        binding = ipv4(await service.whenListening())
        assert binding.interface.address == "127.0.0.1"
        yield Running(service, loaded.device, binding.location, ssdpPort, requests)
    finally:
        await service.stopService()


@asynccontextmanager
async def controlPoint(timeout: float = 5.0) -> AsyncIterator[ControlPoint]:
    point = ControlPoint(reactor, timeout=timeout)
    try:
        yield point
    finally:
        await point.close()


@asynccontextmanager
async def serving(site: protocol.Factory) -> AsyncIterator[int]:
    """
    Listen with C{site} on 127.0.0.1; give the port.
    """
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    try:
        assert verifyObject(IListeningPort, port)
        yield port.getHost().port
    finally:
        await port.stopListening()


def usns(device: Device) -> set[str]:
    """
    Every USN a device tree answers ssdp:all with.
    """
    found = {f"{device.UDN}::upnp:rootdevice"}
    for d in device.allDevices():
        found |= {d.UDN, f"{d.UDN}::{d.deviceType}"}
        found |= {f"{d.UDN}::{s.serviceType}" for s in d.services}
    return found


# -- discovery -----------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_ssdp_all_finds_every_USN_once() -> None:
    async with running("jambon-fridge.ini") as device:
        searches: list[tuple[str, int | None, str | None]] = []
        assert device.service.ssdp is not None
        original = device.service.ssdp.searchReceived

        def counting(search: Any, source: tuple[str, int], *rest: Any) -> None:
            searches.append((search.st, search.mx, search.host))
            original(search, source, *rest)

        device.service.ssdp.searchReceived = counting  # type: ignore[method-assign]
        heard: list[Found] = []
        found = await client.discover(
            reactor, unicast=("127.0.0.1", device.ssdpPort), timeout=0.6, onFound=heard.append
        )
    # Searched twice (UDP loses datagrams), unicast (no MX), each USN kept once.
    assert searches == [("ssdp:all", None, f"127.0.0.1:{device.ssdpPort}")] * 2
    assert len(found) == len(usns(device.device)) == 7
    assert {f.usn for f in found} == usns(device.device)
    assert heard == found
    for f in found:
        assert f.location == device.location
        assert f.source == ("127.0.0.1", device.ssdpPort)
        assert f.maxAge == 1800
        assert "UPnP/1.1" in f.server
        assert f.usn == f.st or f.usn.endswith("::" + f.st)


@pytest_twisted.ensureDeferred
async def test_rootdevice_gives_one() -> None:
    async with running("jambon-fridge.ini") as device:
        found = await client.discover(
            reactor, unicast=("127.0.0.1", device.ssdpPort), target="upnp:rootdevice",
            timeout=0.6,
        )
    assert found == [
        Found(
            f"{device.device.UDN}::upnp:rootdevice", "upnp:rootdevice", device.location,
            found[0].server, ("127.0.0.1", device.ssdpPort), 1800,
        )
    ]


@pytest_twisted.ensureDeferred
async def test_an_embedded_device_type_and_a_missing_type() -> None:
    async with running("jambon-fridge.ini") as device:
        fridge = device.device.devices[0]
        found = await client.discover(
            reactor, unicast=("127.0.0.1", device.ssdpPort), target=fridge.deviceType,
            timeout=0.6,
        )
        nothing: list[Found] = []
        none = await client.discover(
            reactor, unicast=("127.0.0.1", device.ssdpPort),
            target="urn:boucherie.example.com:device:Oven:1", timeout=0.6, onFound=nothing.append,
        )
    assert [f.usn for f in found] == [f"{fridge.UDN}::{fridge.deviceType}"]
    assert none == [] and nothing == []


@pytest_twisted.ensureDeferred
async def test_onFound_is_called_as_replies_arrive() -> None:
    async with running("light.ini") as device:
        start = reactor.seconds()
        heard: list[tuple[float, bool, str]] = []
        searching = client.discover(
            reactor, unicast=("127.0.0.1", device.ssdpPort), target="ssdp:all", timeout=0.6,
            onFound=lambda f: heard.append((reactor.seconds() - start, searching.called, f.usn)),
        )
        found = await searching
    assert len(heard) == len(found) == 4
    # Each as it came: long before the search ended.
    assert all(when < 0.5 and not done for when, done, _ in heard)


# -- descriptions -------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_describe_and_every_scpd_of_an_embedded_device() -> None:
    async with running("jambon-fridge.ini") as device, controlPoint() as point:
        remote = await point.describe(device.location)
        descriptions = {s.serviceId: await point.scpd(s) for s in remote.allServices()}
    assert [d.UDN for d in remote.allDevices()] == [d.UDN for d in device.device.allDevices()]
    assert remote.friendlyName == "Jambon 3000 with fridge"
    assert remote.devices[0].fields["modelNumber"] == "12"
    served = {s.serviceId: s.description for d in device.device.allDevices() for s in d.services}
    assert descriptions == served
    jambon = descriptions["urn:boucherie.example.com:serviceId:Jambon"]
    thickness = jambon.stateVariable("SliceThickness")
    assert thickness is not None and thickness.dataType == "ui2"
    assert thickness.allowedValueRange is not None
    assert (thickness.allowedValueRange.minimum, thickness.allowedValueRange.maximum) == ("1", "50")
    cut = jambon.stateVariable("Cut")
    assert cut is not None and cut.allowedValues == ("Paris", "Bayonne", "Serrano")
    thermometer = remote.findService("Thermometer")
    assert thermometer.SCPDURL.startswith(device.location.rsplit("/", 1)[0] + "/dev/")
    temperature = descriptions[thermometer.serviceId].stateVariable("Temperature")
    assert temperature is not None and temperature.dataType == "r4"


# -- actions --------------------------------------------------------------------------


def posts(device: Running) -> list[bytes]:
    return [path for method, path in device.requests if method == b"POST"]


@pytest_twisted.ensureDeferred
async def test_call_converts_arguments_and_results() -> None:
    async with running("light.ini") as device, controlPoint() as point:
        remote = await point.describe(device.location)
        switch = remote.findService(SWITCH)
        description = await point.scpd(switch)
        assert await point.call(switch, description, "SetTarget", {"newTargetValue": True}) == {}
        status = await point.call(switch, description, "GetStatus", {})
        assert status == {"ResultStatus": True}
        assert type(status["ResultStatus"]) is bool
        await point.call(switch, description, "SetTarget", {"newTargetValue": "0"})
        assert await point.call(switch, description, "GetTarget", {}) == {"RetTargetValue": False}
        await point.call(switch, description, "SetTarget", {"newTargetValue": "1"})
        assert await point.call(switch, description, "GetStatus", {}) == {"ResultStatus": True}
        assert len(posts(device)) == 6


@pytest.mark.parametrize(
    ("action", "arguments", "message"),
    [
        (
            "Explode", {},
            "urn:upnp-org:serviceId:SwitchPower has no action 'Explode'; "
            "its actions are: SetTarget, GetTarget, GetStatus",
        ),
        ("SetTarget", {}, "SetTarget takes newTargetValue: missing newTargetValue"),
        (
            "SetTarget", {"newTargetValue": True, "Colour": "red"},
            "SetTarget takes newTargetValue: unexpected Colour",
        ),
        ("GetStatus", {"x": 1}, "GetStatus takes no arguments: unexpected x"),
        ("SetTarget", {"newTargetValue": "maybe"}, "newTargetValue: "),
        ("SetTarget", {"newTargetValue": 1}, "newTargetValue: "),
        ("SetTarget", {"newTargetValue": None}, "newTargetValue: "),
    ],
)
@pytest_twisted.ensureDeferred
async def test_a_wrong_call_is_refused_before_anything_is_sent(
    action: str, arguments: dict[str, object], message: str
) -> None:
    async with running("light.ini") as device, controlPoint() as point:
        remote = await point.describe(device.location)
        switch = remote.findService(SWITCH)
        description = await point.scpd(switch)
        before = len(device.requests)
        with pytest.raises(ClientError) as raised:
            await point.call(switch, description, action, arguments)
        await wait(0.05)
        assert len(device.requests) == before
        assert posts(device) == []
    assert str(raised.value).startswith(message)
    # The light was not switched either.
    light = device.device.services[0].provider
    assert light.Status is False and light.Target is False


@pytest.fixture
def counter(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.syspath_prepend(example(""))
    yield
    sys.modules.pop("counter", None)


@pytest_twisted.ensureDeferred
async def test_a_provider_fault_is_a_UPnPError(counter: None) -> None:
    async with running("counter.ini") as device, controlPoint() as point:
        remote = await point.describe(device.location)
        service = remote.findService("Counter")
        description = await point.scpd(service)
        with pytest.raises(soap.UPnPError) as raised:
            await point.call(service, description, "Reset", {})
        assert (raised.value.code, raised.value.description) == (701, "Already at zero")
        assert await point.call(service, description, "Increment", {"Step": "5"}) == {"NewCount": 5}
        assert await point.call(service, description, "GetCount", {}) == {"CurrentCount": 5}


@pytest_twisted.ensureDeferred
async def test_a_value_out_of_the_allowed_range_is_refused_before_sending(counter: None) -> None:
    async with running("counter.ini") as device, controlPoint() as point:
        remote = await point.describe(device.location)
        service = remote.findService("Counter")
        description = await point.scpd(service)
        with pytest.raises(ClientError, match="Step"):
            await point.call(service, description, "Increment", {"Step": 101})
        assert posts(device) == []


class Answers(resource.Resource):
    """
    A web server that is not a UPnP device: a page for POST, and a document
    of C{size} bytes for GET.
    """

    isLeaf = True

    def __init__(self, size: int = 0) -> None:
        super().__init__()
        self.size = size

    def render_POST(self, request: server.Request) -> bytes:
        request.setHeader(b"content-type", b"text/html")
        return b"<html><body>Hello</body></html>"

    def render_GET(self, request: server.Request) -> bytes:
        request.setHeader(b"content-type", b"text/xml")
        return b"<root>" + b"x" * self.size + b"</root>"


def site(answers: resource.Resource) -> server.Site:
    made = server.Site(answers)
    made.noisy = False
    return made


@pytest_twisted.ensureDeferred
async def test_an_answer_that_is_not_SOAP_is_a_ClientError() -> None:
    async with running("light.ini") as device, controlPoint() as point, serving(
        site(Answers())
    ) as port:
        remote = await point.describe(device.location)
        switch = remote.findService(SWITCH)
        description = await point.scpd(switch)
        elsewhere = RemoteService(
            switch.serviceType, switch.serviceId, switch.SCPDURL,
            f"http://127.0.0.1:{port}/control", "",
        )
        with pytest.raises(ClientError) as raised:
            await point.call(elsewhere, description, "GetStatus", {})
        assert str(raised.value).startswith(
            f"http://127.0.0.1:{port}/control answered HTTP 200 with no usable SOAP ("
        )
        # The device's own description is no control URL either (405).
        wrong = RemoteService(switch.serviceType, switch.serviceId, "", device.location, "")
        with pytest.raises(ClientError, match="answered HTTP 405 with no usable SOAP"):
            await point.call(wrong, description, "GetStatus", {})


# -- events ------------------------------------------------------------------------


class Events:
    def __init__(self) -> None:
        self.heard: list[tuple[int, dict[str, object]]] = []

    def __call__(self, seq: int, values: dict[str, object]) -> None:
        self.heard.append((seq, values))


@pytest_twisted.ensureDeferred
async def test_subscribe_hears_the_initial_state_then_changes() -> None:
    async with running("light.ini") as device, controlPoint() as point:
        remote = await point.describe(device.location)
        switch = remote.findService(SWITCH)
        description = await point.scpd(switch)
        events = Events()
        subscription = await point.subscribe(switch, description, events)
        try:
            assert subscription.sid.startswith("uuid:")
            assert subscription.timeout == 1800
            [eventing] = device.service.site.eventing.values()
            [held] = eventing.subscriptions.values()
            assert held.sid == subscription.sid
            # The callback server is on loopback, where the device is.
            assert client.local_address_for("127.0.0.1") == "127.0.0.1"
            assert list(point._listeners) == ["127.0.0.1"]
            assert subscription.listener.port.getHost().host == "127.0.0.1"
            assert held.callbacks == (subscription.listener.url(subscription.token),)
            await until(lambda: len(events.heard) == 1)
            assert events.heard == [(0, {"Status": False})]
            await point.call(switch, description, "SetTarget", {"newTargetValue": True})
            await until(lambda: len(events.heard) == 2)
            assert events.heard[1] == (1, {"Status": True})
            assert type(events.heard[1][1]["Status"]) is bool
        finally:
            await subscription.unsubscribe()


@pytest_twisted.ensureDeferred
async def test_unsubscribe_ends_it_on_the_device() -> None:
    async with running("light.ini") as device, controlPoint() as point:
        remote = await point.describe(device.location)
        switch = remote.findService(SWITCH)
        description = await point.scpd(switch)
        events = Events()
        subscription = await point.subscribe(switch, description, events)
        await until(lambda: len(events.heard) == 1)
        [eventing] = device.service.site.eventing.values()
        assert len(eventing.subscriptions) == 1
        await subscription.unsubscribe()
        assert eventing.subscriptions == {}
        assert subscription.active is False
        assert subscription.sid not in subscription.listener.subscriptions
        assert subscription._renewal is not None and not subscription._renewal.active()
        await point.call(switch, description, "SetTarget", {"newTargetValue": True})
        await wait(0.3)
        assert events.heard == [(0, {"Status": False})]
        # A second unsubscribe sends nothing.
        before = len(device.requests)
        await subscription.unsubscribe()
        assert len(device.requests) == before


@pytest_twisted.ensureDeferred
async def test_a_short_subscription_is_renewed_before_it_expires() -> None:
    async with running("light.ini", eventing=EventingSettings(minTimeout=2)) as device, \
            controlPoint() as point:
        remote = await point.describe(device.location)
        switch = remote.findService(SWITCH)
        description = await point.scpd(switch)
        events = Events()
        subscription = await point.subscribe(switch, description, events, timeout=2)
        try:
            assert subscription.timeout == 2
            [eventing] = device.service.site.eventing.values()
            [held] = eventing.subscriptions.values()
            await until(lambda: len(events.heard) == 1)
            await wait(2.5)
            # Without renewal it would have expired at +2 s.
            assert subscription.active
            assert eventing.subscriptions == {subscription.sid: held}
            assert held.expires > reactor.seconds()
            renewals = [
                (m, p) for m, p in device.requests if m == b"SUBSCRIBE"
            ]
            assert len(renewals) >= 3
            await point.call(switch, description, "SetTarget", {"newTargetValue": True})
            await until(lambda: len(events.heard) == 2)
            assert events.heard[1] == (1, {"Status": True})
            # The device forgets it: the next renewal (412) subscribes afresh.
            first = subscription.sid
            eventing.discard(held)
            await until(lambda: subscription.sid != first, timeout=2.5)
            assert list(eventing.subscriptions) == [subscription.sid]
            assert subscription.active
            await until(lambda: len(events.heard) == 3)
            assert events.heard[2] == (0, {"Status": True})
        finally:
            await subscription.unsubscribe()


@pytest_twisted.ensureDeferred
async def test_close_stops_the_renewals() -> None:
    async with running("light.ini", eventing=EventingSettings(minTimeout=2)) as device:
        point = ControlPoint(reactor, timeout=5)
        subscription = None
        try:
            remote = await point.describe(device.location)
            switch = remote.findService(SWITCH)
            subscription = await point.subscribe(switch, None, Events(), timeout=2)
            await point.close()
            assert not subscription._renewal.active()
        finally:
            if subscription is not None and subscription._renewal.active():
                subscription._renewal.cancel()
            await point.close()


@pytest_twisted.ensureDeferred
async def test_a_service_without_events_cannot_be_subscribed() -> None:
    async with controlPoint() as point:
        quiet = RemoteService("urn:x:service:Y:1", "urn:x:serviceId:Y", "", "", "")
        with pytest.raises(ClientError, match="urn:x:serviceId:Y has no events"):
            await point.subscribe(quiet, None, Events())
        assert point._listeners == {}


# -- what goes wrong ---------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_a_closed_port_is_connection_refused() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with controlPoint() as point:
        with pytest.raises(ClientError) as raised:
            await point.describe(f"http://127.0.0.1:{port}/description.xml")
    assert str(raised.value) == f"cannot connect to 127.0.0.1:{port}: connection refused"


@pytest_twisted.ensureDeferred
async def test_a_web_page_is_not_a_description() -> None:
    service = UPnPService.fromConfig(example("light.ini"), interfaces=["lo"], httpPort=0)
    service.startService()
    try:
        binding = ipv4(await service.whenListening())
        page = binding.location.replace("description.xml", "")
        async with controlPoint() as point:
            with pytest.raises(ClientError) as raised:
                await point.describe(page)
            # The same device's description is fine.
            light = await point.describe(binding.location)
    finally:
        await service.stopService()
    assert str(raised.value) == f"{page} is a web page, not a UPnP description"
    assert light.friendlyName == "Kitchen light"
    assert light.fields["serialNumber"] == "KL-0001"


@pytest_twisted.ensureDeferred
async def test_a_404_says_so() -> None:
    async with running("light.ini") as device, controlPoint() as point:
        missing = device.location.replace("description.xml", "nothing.xml")
        with pytest.raises(ClientError) as raised:
            await point.describe(missing)
    assert str(raised.value) == f"{missing} answered HTTP 404"


@pytest_twisted.ensureDeferred
async def test_an_SCPD_that_is_no_description_and_the_reverse() -> None:
    async with running("light.ini") as device, controlPoint() as point:
        remote = await point.describe(device.location)
        switch = remote.findService(SWITCH)
        with pytest.raises(
            ClientError, match=r"is not a UPnP device description \(its root is <scpd>\)"
        ):
            await point.describe(switch.SCPDURL)
        wrong = RemoteService(switch.serviceType, switch.serviceId, device.location, "", "")
        with pytest.raises(ClientError, match="is not a usable service description"):
            await point.scpd(wrong)


@pytest_twisted.ensureDeferred
async def test_a_server_that_never_answers_times_out() -> None:
    connections: list[protocol.Protocol] = []

    class Silent(protocol.Protocol):
        def connectionMade(self) -> None:
            connections.append(self)

    async with serving(protocol.Factory.forProtocol(Silent)) as port, \
            controlPoint(timeout=1) as point:
        start = reactor.seconds()
        with pytest.raises(ClientError) as raised:
            await point.describe(f"http://127.0.0.1:{port}/description.xml")
        took = reactor.seconds() - start
        for connection in connections:
            assert connection.transport is not None
            connection.transport.loseConnection()
    assert str(raised.value) == f"no answer from 127.0.0.1:{port} within 1 s"
    assert len(connections) == 1
    assert 0.9 <= took < 2


@pytest_twisted.ensureDeferred
async def test_an_answer_over_the_limit_is_refused() -> None:
    async with serving(site(Answers(size=2 << 20))) as port, controlPoint() as point:
        url = f"http://127.0.0.1:{port}/description.xml"
        with pytest.raises(ClientError) as raised:
            await point.describe(url)
    assert str(raised.value) == f"{url} sent more than {MAX_DOCUMENT} bytes"


@pytest_twisted.ensureDeferred
async def test_only_http_urls_are_fetched() -> None:
    async with controlPoint() as point:
        with pytest.raises(ClientError, match="is not an http:// URL"):
            await point.describe("file:///etc/passwd")
        with pytest.raises(ClientError, match="is not a URL"):
            await point.describe("http://127.0.0.1:1/caf\u00e9.xml")


def test_local_address_for_loopback_and_a_name() -> None:
    assert client.local_address_for("127.0.0.1") == "127.0.0.1"
    assert client.local_address_for("::1") == "::1"
    with pytest.raises(ClientError, match="'fridge.example' is not an IP address"):
        client.local_address_for("fridge.example")


class _EndlessHead(protocol.Protocol):
    """
    A peer that answers with headers for ever (a line at a time).
    """

    def dataReceived(self, data: bytes) -> None:
        if not hasattr(self, "_call"):
            self.transport.write(b"HTTP/1.1 200 OK\r\n")
            self._call = task.LoopingCall(self.transport.write, b"X-Pad: " + b"x" * 1000 + b"\r\n")
            self._call.start(0.0001)

    def connectionLost(self, reason: object = None) -> None:
        if hasattr(self, "_call") and self._call.running:
            self._call.stop()


@pytest_twisted.ensureDeferred
async def test_an_answer_whose_head_never_ends_is_cut_off() -> None:
    factory = protocol.Factory.forProtocol(_EndlessHead)
    port = reactor.listenTCP(0, factory, interface="127.0.0.1")  # type: ignore[attr-defined]
    point = ControlPoint(reactor, timeout=10)
    try:
        url = f"http://127.0.0.1:{port.getHost().port}/description.xml"
        with pytest.raises(ClientError, match="head is over 64 KiB: cut off"):
            await point.exchange(b"GET", url)
    finally:
        await point.close()
        await port.stopListening()
