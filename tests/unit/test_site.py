"""
The resource tree, through in-memory HTTP: no sockets.
"""

from __future__ import annotations

import dataclasses

import pytest
from lxml import etree
from twisted.internet.task import Clock

from upnp_announce import config
from upnp_announce.device import site as web
from upnp_announce.wire import description
from upnp_announce.wire.product import SERVER

from support import MemoryHTTP, example, light, request

HOST = b"127.0.0.1:8000"


@pytest.fixture
def loaded() -> config.Config:
    return config.load(example("jambon-fridge.ini"), machineId="test-machine")


@pytest.fixture
def site(loaded: config.Config) -> web.DeviceSite:
    site = web.DeviceSite(loaded.device, reactor=Clock())
    site.addAddress("127.0.0.1", 8000)
    return site


def get(site: web.DeviceSite, path: bytes, **kw: object):  # type: ignore[no-untyped-def]
    [response] = MemoryHTTP(site).send(request(path=path, **kw))  # type: ignore[arg-type]
    return response


def test_every_document_is_served_with_exact_headers(site: web.DeviceSite) -> None:
    rendered = site.descriptions
    assert len(rendered.documents) == 3
    for path, body in rendered.documents.items():
        response = get(site, path.encode())
        assert response.status == 200, path
        assert response.header(b"content-type") == b'text/xml; charset="utf-8"'
        assert response.header(b"content-length") == str(len(body)).encode()
        assert response.body == body
        assert response.header(b"server") == SERVER.encode()
        assert response.header(b"date") is not None
        etree.fromstring(response.body)


def test_icons_are_served_with_their_mimetype(site: web.DeviceSite, loaded: config.Config) -> None:
    icon = loaded.device.icons[0]
    path = site.descriptions.layout.icons[(loaded.device.UDN, 0)]
    response = get(site, path.encode())
    assert response.status == 200
    assert response.header(b"content-type") == b"image/png"
    assert response.body == icon.data


def test_presentation_pages(site: web.DeviceSite, loaded: config.Config) -> None:
    root = get(site, b"/")
    assert root.status == 200
    assert root.header(b"content-type") == b"text/html; charset=utf-8"
    assert b"<h1>Jambon 3000 with fridge</h1>" in root.body
    fridge = loaded.device.devices[0]
    page = get(site, f"/dev/{fridge.UDN[5:]}/".encode())
    assert b"<h1>Jambon fridge</h1>" in page.body


def test_head_has_headers_and_no_body(site: web.DeviceSite) -> None:
    body = site.descriptions.documents["/description.xml"]
    http = MemoryHTTP(site)
    [response] = http.send(request(method=b"HEAD"), head=True)
    assert response.status == 200
    assert response.header(b"content-length") == str(len(body)).encode()
    assert http.transport.value().endswith(b"\r\n\r\n")


def test_keep_alive_serves_several_requests_on_one_connection(site: web.DeviceSite) -> None:
    http = MemoryHTTP(site)
    responses = http.send(request() + request(path=b"/") + request())
    assert [r.status for r in responses] == [200, 200, 200]
    assert responses[0].body == responses[2].body
    assert not http.transport.disconnecting


@pytest.mark.parametrize(
    "path",
    [b"/nope", b"/description.xml/more", b"/svc/", b"/svc/Jambon/", b"/dev/", b"/icon/9-1x1.png"],
)
def test_unknown_paths_get_404(site: web.DeviceSite, path: bytes) -> None:
    assert get(site, path).status == 404


@pytest.mark.parametrize("method", [b"POST", b"PUT", b"DELETE", b"SUBSCRIBE", b"OPTIONS"])
def test_other_methods_get_405(site: web.DeviceSite, method: bytes) -> None:
    response = get(site, b"/description.xml", method=method)
    assert response.status == 405
    assert response.header(b"allow") == b"GET, HEAD"


@pytest.mark.parametrize(
    "host",
    [b"evil.example:8000", b"evil.example", b"127.0.0.1", b"127.0.0.1:8001", b"localhost:8000",
     b"127.0.0.2:8000"],
)
def test_a_host_that_is_not_our_address_is_refused(site: web.DeviceSite, host: bytes) -> None:
    response = get(site, b"/description.xml", host=host)
    assert response.status == 403
    assert b"<root" not in response.body


def test_our_address_in_any_case_and_no_host_at_all_are_served(site: web.DeviceSite) -> None:
    site.addAddress("10.0.0.7", 8000)
    assert get(site, b"/", host=b"10.0.0.7:8000").status == 200
    # HTTP/1.0 has no Host; nothing can be rebound then.
    assert get(site, b"/", host=None, version=b"HTTP/1.0").status == 200
    site.removeAddress("10.0.0.7", 8000)
    assert get(site, b"/", host=b"10.0.0.7:8000").status == 403


def test_ipv6_hosts_are_bracketed(site: web.DeviceSite) -> None:
    site.addAddress("::1", 8000)
    assert get(site, b"/", host=b"[::1]:8000").status == 200


def test_descriptions_render_once_and_again_only_when_the_device_changes(
    site: web.DeviceSite, loaded: config.Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    real = description.render

    def counting(device, base=""):  # type: ignore[no-untyped-def]
        calls.append(device)
        return real(device, base)

    monkeypatch.setattr(description, "render", counting)
    fresh = web.DeviceSite(loaded.device, reactor=Clock())
    fresh.addAddress("127.0.0.1", 8000)
    for _ in range(5):
        assert get(fresh, b"/description.xml").status == 200
    assert len(calls) == 1
    renamed = dataclasses.replace(loaded.device, friendlyName="Jambon 4000")
    fresh.setDevice(renamed)
    assert len(calls) == 2
    body = get(fresh, b"/description.xml").body
    assert b"<friendlyName>Jambon 4000</friendlyName>" in body
    assert fresh.descriptions.configId != site.descriptions.configId


def test_idle_connections_are_closed(loaded: config.Config) -> None:
    clock = Clock()
    site = web.DeviceSite(loaded.device, reactor=clock, timeout=30)
    http = MemoryHTTP(site)
    clock.advance(29)
    assert not http.transport.disconnecting
    clock.advance(2)
    assert http.transport.disconnecting


def test_post_bodies_are_not_parsed_as_forms(site: web.DeviceSite) -> None:
    assert site._parsePOSTFormSubmission is False


def test_a_host_without_the_default_port_is_ours() -> None:
    site = web.DeviceSite(light(), reactor=Clock())
    site.addAddress("192.0.2.7", 80)
    [response] = MemoryHTTP(site).send(request(host=b"192.0.2.7"))
    assert response.status == 200
    site.addAddress("192.0.2.8", 8080)
    [response] = MemoryHTTP(site).send(request(host=b"192.0.2.8"))
    assert response.status == 403
