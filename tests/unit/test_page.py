"""
The device's live page without sockets: rendering (escaping, the facts,
forms from the SCPD's types, view and off), where it is served, its event
stream over in-memory HTTP on a Clock (everything at once, changes at once,
the others within a second, bounded streams), its action calls (the same
checks and faults as SOAP), and the Origin rule on every request that
changes something.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from lxml import html
from twisted.internet.task import Clock

from upnp_announce.device.presentation import presentation_page
from upnp_announce.device.site import DeviceSite
from upnp_announce.model import Icon
from upnp_announce.plugins.binarylight import BinaryLight
from upnp_announce.provider import ServiceProvider, StateVariable, action
from upnp_announce.wire.description import render

from support import ROOT_UDN, MemoryHTTP, device, request

PNG = (b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00\x00\x00\x10" * 2
       + b"\x08\x06\x00\x00\x00" + b"\x00" * 20)


class Thermostat(ServiceProvider):
    serviceType = "urn:example-com:service:Thermostat:1"
    serviceId = "urn:example-com:serviceId:Thermostat"

    Mode = StateVariable("string", default="auto", allowed=["auto", "heat", "cool"],
                         evented=True)
    Target = StateVariable("ui1", default=20, range=(10, 30, 2))
    Gain = StateVariable("r8", default=0.5)
    Label = StateVariable("string", default="", maxLength=8)
    Away = StateVariable("boolean", default=False, evented=True)
    Reading = StateVariable("i4", default=0)

    @action(NewMode=Mode)
    def SetMode(self, NewMode: str) -> None:
        self.Mode = NewMode

    @action(NewTarget=Target, NewGain=Gain, NewLabel=Label, NewAway=Away,
            returns={"Accepted": Away})
    def Configure(self, NewTarget: int, NewGain: float, NewLabel: str, NewAway: bool) -> bool:
        self.Target, self.Gain, self.Label, self.Away = NewTarget, NewGain, NewLabel, NewAway
        return True


def thermostat_device(**fields: Any) -> tuple[Any, Thermostat]:
    provider = Thermostat()
    return device(services=(provider.service(),), **fields), provider


def page_of(root: Any) -> str:
    return presentation_page(root, render(root).layout).decode()


# -- rendering ---------------------------------------------------------------------------


def test_every_text_from_the_model_is_escaped() -> None:
    evil = '<script>alert(1)</script>"&'
    root = device(friendlyName=evil[:60], manufacturer=evil, modelName="<b>x</b>",
                  modelDescription=evil, serialNumber=evil,
                  manufacturerURL="javascript:alert(1)", modelURL='http://e/"><script>')
    page = page_of(root)
    assert "<script>alert" not in page and "<b>x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    # A javascript: URL is no link; a quote cannot leave the attribute.
    assert 'href="javascript' not in page
    assert 'href="http://e/&quot;&gt;&lt;script&gt;"' in page
    tree = html.fromstring(page)
    assert [s.text for s in tree.iter("script") if s.text and "alert" in s.text] == []


def test_the_facts_and_the_icon() -> None:
    root = device(manufacturerURL="http://boucherie.example.com/", modelNumber="3000",
                  modelURL="http://boucherie.example.com/jambon", serialNumber="JBN1",
                  icons=(Icon("image/png", 16, 16, 32, PNG),))
    tree = html.fromstring(page_of(root))
    facts = dict(zip([d.text_content() for d in tree.iter("dt")],
                     [d.text_content() for d in tree.iter("dd")]))
    assert facts["Manufacturer"] == "Boucherie numerique SAS"
    assert facts["Model"] == "Jambon 3000"
    assert facts["Serial number"] == "JBN1"
    assert facts["UDN"] == ROOT_UDN
    assert tree.xpath("//dd/a/@href")[:2] == [
        "http://boucherie.example.com/", "http://boucherie.example.com/jambon"
    ]
    assert tree.xpath("//header/img/@src") == ["/icon/0-16x16.png"]
    assert tree.xpath("//h1/text()") == ["Jambon 3000"]


def test_forms_follow_the_scpd_types() -> None:
    root, _ = thermostat_device()
    tree = html.fromstring(page_of(root))
    [mode] = tree.xpath('//form[@data-action="SetMode"]//select')
    assert [o.text for o in mode.iter("option")] == ["auto", "heat", "cool"]
    configure = tree.xpath('//form[@data-action="Configure"]')[0]
    fields = {e.get("name"): e for e in configure.iter("input", "select")}
    assert (fields["NewTarget"].get("type"), fields["NewTarget"].get("min"),
            fields["NewTarget"].get("max"), fields["NewTarget"].get("step")) == (
        "number", "10", "30", "2")
    assert (fields["NewGain"].get("type"), fields["NewGain"].get("step")) == ("number", "any")
    assert fields["NewLabel"].get("maxlength") == "8"
    assert fields["NewAway"].get("type") == "checkbox"
    # Every field has a label, and every form a result announced politely.
    for element in configure.iter("input", "select"):
        ident = element.get("id")
        assert ident is None or tree.xpath(f'//label[@for="{ident}"]') or (
            element.getparent().tag == "label"
        )
    assert configure.xpath('.//output[@aria-live="polite"]')
    # Every variable has a live value cell.
    cells = tree.xpath('//output[@data-service="urn:example-com:serviceId:Thermostat"]')
    assert sorted(c.get("data-variable") for c in cells) == sorted(
        ["Mode", "Target", "Gain", "Label", "Away", "Reading"]
    )


def test_view_has_no_forms_and_off_has_no_page() -> None:
    root, _ = thermostat_device(presentation="view")
    tree = html.fromstring(page_of(root))
    assert tree.xpath("//form") == [] and tree.xpath("//output[@data-variable]")
    off, _ = thermostat_device(presentation="off")
    site = DeviceSite(off, reactor=Clock())
    site.addAddress("127.0.0.1", 8000)
    assert get(site, b"/").status == 404


def test_the_page_is_small_self_contained_and_for_phones() -> None:
    root, _ = thermostat_device()
    page = page_of(root)
    assert len(page.encode()) <= 50 * 1024
    assert 'name="viewport"' in page
    # Nothing from anywhere else: no external script, style, font or image.
    assert not re.search(r'(src|href)="(https?:)?//', page.replace(
        'href="http://boucherie', ""))
    assert "@import" not in page and "url(" not in page


# -- where it is served -------------------------------------------------------------------


def get(site: DeviceSite, path: bytes, **kw: Any) -> Any:
    [response] = MemoryHTTP(site).send(request(b"GET", path, host=b"127.0.0.1:8000", **kw))
    return response


def site_of(root: Any, clock: Clock | None = None) -> DeviceSite:
    site = DeviceSite(root, reactor=clock or Clock())
    site.addAddress("127.0.0.1", 8000)
    return site


def test_the_page_is_at_the_presentation_url_or_at_slash() -> None:
    root, _ = thermostat_device()
    assert get(site_of(root), b"/").status == 200
    # presentationURL = / (the classic Jambon 3000 example): served there, not a 404.
    slash, _ = thermostat_device(presentationURL="/")
    response = get(site_of(slash), b"/")
    assert response.status == 200 and b"<h1>Jambon 3000</h1>" in response.body
    page, _ = thermostat_device(presentationURL="status/page.html")
    assert get(site_of(page), b"/status/page.html").status == 200
    elsewhere, _ = thermostat_device(presentationURL="http://192.0.2.9/")
    assert get(site_of(elsewhere), b"/").status == 404


def test_the_host_check_covers_the_page_and_its_stream() -> None:
    root, _ = thermostat_device()
    site = site_of(root)
    assert get(site, b"/").status == 200
    for path in (b"/", b"/_page/events"):
        [response] = MemoryHTTP(site).send(request(b"GET", path, host=b"evil.example:8000"))
        assert response.status == 403


# -- the event stream --------------------------------------------------------------------------


def events(raw: bytes) -> list[dict[str, dict[str, str | None]]]:
    return [json.loads(m) for m in re.findall(rb"event: state\ndata: (.*)\n\n", raw)]


def test_the_stream_sends_everything_then_changes_at_once_and_the_rest_within_a_second() -> None:
    clock = Clock()
    root, provider = thermostat_device()
    site = site_of(root, clock)
    connection = MemoryHTTP(site, clock=clock)
    connection.protocol.dataReceived(request(b"GET", b"/_page/events", host=b"127.0.0.1:8000"))
    raw = connection.transport.value()
    assert b"content-type: text/event-stream" in raw.lower()
    [first] = events(raw)
    assert first == {"urn:example-com:serviceId:Thermostat": {
        "Mode": "auto", "Target": "20", "Gain": "0.5", "Label": "", "Away": "0", "Reading": "0",
    }}
    connection.transport.clear()
    provider.Mode = "heat"  # evented: at once
    assert events(connection.transport.value()) == [
        {"urn:example-com:serviceId:Thermostat": {"Mode": "heat"}}
    ]
    connection.transport.clear()
    provider.Reading = 7  # not evented: the poll finds it within a second
    assert events(connection.transport.value()) == []
    clock.advance(1)
    assert events(connection.transport.value()) == [
        {"urn:example-com:serviceId:Thermostat": {"Reading": "7"}}
    ]
    connection.close()
    [feed] = next(iter(site.served.values())).feeds
    assert feed.streams == []


def test_streams_per_source_are_bounded() -> None:
    clock = Clock()
    root, _ = thermostat_device()
    site = site_of(root, clock)
    opened = []
    for _ in range(4):
        connection = MemoryHTTP(site, clock=clock)
        connection.protocol.dataReceived(
            request(b"GET", b"/_page/events", host=b"127.0.0.1:8000"))
        opened.append(connection)
    fifth = MemoryHTTP(site, clock=clock).send(
        request(b"GET", b"/_page/events", host=b"127.0.0.1:8000"))
    assert fifth[0].status == 503
    other = MemoryHTTP(site, peer="127.0.0.2", clock=clock)
    other.protocol.dataReceived(request(b"GET", b"/_page/events", host=b"127.0.0.1:8000"))
    assert events(other.transport.value())
    opened[0].close()
    again = MemoryHTTP(site, clock=clock)
    again.protocol.dataReceived(request(b"GET", b"/_page/events", host=b"127.0.0.1:8000"))
    assert events(again.transport.value())  # a closed stream frees its place


# -- calling actions ----------------------------------------------------------------------------


def call(site: DeviceSite, body: Any, origin: bytes | None = None,
         kind: bytes = b"application/json") -> Any:
    headers = {b"Content-Type": kind}
    if origin is not None:
        headers[b"Origin"] = origin
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    [response] = MemoryHTTP(site).send(request(b"POST", b"/_page/call", host=b"127.0.0.1:8000",
                                               headers=headers, body=data))
    return response


def test_a_form_call_goes_through_soaps_checks() -> None:
    root, provider = thermostat_device()
    site = site_of(root)
    sid = "urn:example-com:serviceId:Thermostat"
    ok = call(site, {"service": sid, "action": "Configure", "arguments": {
        "NewTarget": "24", "NewGain": "1.5", "NewLabel": "kitchen", "NewAway": "1"}},
        origin=b"http://127.0.0.1:8000")
    assert ok.status == 200 and json.loads(ok.body) == {"out": {"Accepted": "1"}}
    assert (provider.Target, provider.Label, provider.Away) == (24, "kitchen", True)
    for arguments, code in (
        ({"NewTarget": "25", "NewGain": "1", "NewLabel": "", "NewAway": "0"}, 601),
        ({"NewTarget": "x", "NewGain": "1", "NewLabel": "", "NewAway": "0"}, 600),
        ({"NewTarget": "24", "NewGain": "1", "NewLabel": "123456789", "NewAway": "0"}, 605),
        ({"NewTarget": "24"}, 402),
    ):
        fault = json.loads(call(site, {"service": sid, "action": "Configure",
                                       "arguments": arguments}).body)
        assert fault["fault"]["code"] == code, arguments
    unknown = json.loads(call(site, {"service": sid, "action": "Explode", "arguments": {}}).body)
    assert unknown["fault"]["code"] == 401


def test_what_is_not_a_page_call_is_refused() -> None:
    root, _ = thermostat_device()
    site = site_of(root)
    assert call(site, b"service=x", kind=b"application/x-www-form-urlencoded").status == 415
    assert call(site, b"{not json").status == 400
    assert call(site, {"service": "nope", "action": "x", "arguments": {}}).status == 400
    view, _ = thermostat_device(presentation="view")
    assert call(site_of(view), {"service": "x", "action": "y", "arguments": {}}).status == 404


# -- the Origin rule ------------------------------------------------------------------------------


SOAP = (b'<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">'
        b'<s:Body><u:GetStatus xmlns:u="urn:schemas-upnp-org:service:SwitchPower:1"/>'
        b"</s:Body></s:Envelope>")


@pytest.mark.parametrize("origin, status", [
    (None, 200), (b"http://127.0.0.1:8000", 200), (b"http://evil.example", 403),
    (b"null", 403), (b"http://127.0.0.1:8001", 403), (b"https://127.0.0.1:8000", 403),
])
def test_a_foreign_origin_may_not_change_the_device(origin: bytes | None, status: int) -> None:
    site = site_of(BinaryLight().device(UDN=ROOT_UDN))
    headers = {b"Content-Type": b'text/xml; charset="utf-8"',
               b"SOAPACTION": b'"urn:schemas-upnp-org:service:SwitchPower:1#GetStatus"'}
    if origin is not None:
        headers[b"Origin"] = origin
    [soap] = MemoryHTTP(site).send(request(b"POST", b"/svc/SwitchPower/control",
                                           host=b"127.0.0.1:8000", headers=headers, body=SOAP))
    assert soap.status == status
    subscribe = {b"CALLBACK": b"<http://127.0.0.1:9000/>", b"NT": b"upnp:event"}
    if origin is not None:
        subscribe[b"Origin"] = origin
    [answer] = MemoryHTTP(site).send(request(b"SUBSCRIBE", b"/svc/SwitchPower/event",
                                             host=b"127.0.0.1:8000", headers=subscribe))
    assert answer.status == status
    page = call(site, {"service": "urn:upnp-org:serviceId:SwitchPower", "action": "GetStatus",
                       "arguments": {}}, origin=origin)
    assert page.status == status
    # Reading is no change: a GET from anywhere is answered (the Host check
    # is what keeps other names out).
    got = get(site, b"/description.xml", headers={b"Origin": b"http://evil.example"})
    assert got.status == 200
