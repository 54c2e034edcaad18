"""
UPnPService on loopback, for real: every URL of the description fetched over
IPv4 and over IPv6 (::1), the port closed at stop, a taken port.
"""

from __future__ import annotations

import socket
from urllib.parse import urljoin

import pytest
import pytest_twisted
from lxml import etree
from twisted.internet import reactor
from twisted.web.client import Agent, readBody
from twisted.web.http_headers import Headers

from upnp_announce import UPnPService, config
from upnp_announce.device.runner import StartError

from support import example, ipv4

NS = {"d": "urn:schemas-upnp-org:device-1-0", "s": "urn:schemas-upnp-org:service-1-0"}


async def fetch(url: str) -> tuple[int, Headers, bytes, int]:
    """
    GET C{url}: the status, headers, body and announced Content-Length.
    """
    response = await Agent(reactor).request(b"GET", url.encode())
    return response.code, response.headers, await readBody(response), response.length


@pytest_twisted.ensureDeferred
async def test_every_url_in_the_description_is_served_on_loopback() -> None:
    service = UPnPService.fromConfig(
        example("jambon-fridge.ini"), interfaces=["lo"], httpPort=0
    )
    service.startService()
    try:
        bindings = await service.whenListening()
        binding = ipv4(bindings)
        assert binding.interface.name == "lo"
        assert binding.port > 0
        assert [b.location for b in bindings] == [
            f"http://127.0.0.1:{binding.port}/description.xml",
            f"http://[::1]:{binding.port}/description.xml",
        ]
        for binding in bindings:
            await fetch_everything(binding.location)
    finally:
        await service.stopService()
    assert service.bindings == ()


async def fetch_everything(location: str) -> None:
    """
    GET the description at C{location}, then every URL it names.
    """
    code, headers, body, _ = await fetch(location)
    assert code == 200
    assert headers.getRawHeaders(b"content-type") == [b'text/xml; charset="utf-8"']
    root = etree.fromstring(body)
    urls = [
        e.text
        for e in root.iter()
        if isinstance(e.tag, str) and e.tag.split("}")[1] in ("url", "SCPDURL", "presentationURL")
    ]
    # 1 icon, 2 SCPDs, 2 presentation pages.
    assert len(urls) == 5
    for url in urls:
        code, headers, body, length = await fetch(urljoin(location, url))
        assert code == 200, url
        assert length == len(body)
        if url.endswith("scpd.xml"):
            scpd = etree.fromstring(body)
            assert scpd.tag == "{urn:schemas-upnp-org:service-1-0}scpd"
            assert scpd.get("configId") == root.get("configId")


@pytest_twisted.ensureDeferred
async def test_stop_closes_the_port() -> None:
    service = UPnPService.fromConfig(example("jambon.ini"), interfaces=["lo"])
    service.startService()
    binding = ipv4(await service.whenListening())
    await service.stopService()
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", binding.port)) != 0


def test_a_taken_port_is_a_start_error_and_nothing_stays_open() -> None:
    loaded = config.load(example("jambon.ini"))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        service = UPnPService(loaded.device, loaded.network, interfaces=["lo"], httpPort=port)
        with pytest.raises(StartError, match=f"cannot listen for HTTP on port {port}: "):
            service.startService()
    assert not service.running
    assert service.bindings == ()






def test_overrides_replace_the_configured_network() -> None:
    loaded = config.load(example("jambon.ini"))
    service = UPnPService(loaded.device, loaded.network, interfaces=["lo"], httpPort=1234)
    assert service.network.interfaces == ("lo",)
    assert service.network.httpPort == 1234
    assert service.network.maxAge == loaded.network.maxAge






