"""
UPnPService: listening, bindings, start errors; and one loopback test that
fetches every URL of the description from the real server.
"""

from __future__ import annotations

import socket
from typing import Any
from urllib.parse import urljoin

import pytest
import pytest_twisted
from lxml import etree
from twisted.internet import reactor
from twisted.internet.testing import MemoryReactorClock
from twisted.web.client import Agent, readBody
from twisted.web.http_headers import Headers

from upnp_announce import UPnPService, config
from upnp_announce.device import site as web
from upnp_announce.device import ssdpsocket
from upnp_announce.device.runner import StartError
from upnp_announce.netif import Adapter

from support import MemoryHTTP, example, light, request

NS = {"d": "urn:schemas-upnp-org:device-1-0", "s": "urn:schemas-upnp-org:service-1-0"}


ETH0 = [Adapter("eth0", 0x1001, (("192.0.2.7", 24),))]


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
        [binding] = await service.whenListening()
        assert binding.interface.name == "lo"
        assert binding.port > 0
        location = binding.location
        assert location == f"http://127.0.0.1:{binding.port}/description.xml"
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
    finally:
        await service.stopService()
    assert service.bindings == ()


@pytest_twisted.ensureDeferred
async def test_stop_closes_the_port() -> None:
    service = UPnPService.fromConfig(example("jambon.ini"), interfaces=["lo"])
    service.startService()
    [binding] = await service.whenListening()
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


def test_a_missing_interface_is_a_start_error() -> None:
    loaded = config.load(example("jambon.ini"))
    service = UPnPService(loaded.device, interfaces=["nosuch0"])
    with pytest.raises(StartError, match="there is no interface 'nosuch0'"):
        service.startService()
    assert not service.running


def test_one_binding_per_address_with_its_own_location(monkeypatch: pytest.MonkeyPatch) -> None:
    from twisted.internet.testing import MemoryReactorClock

    from upnp_announce.device import ssdpsocket as ssdpserver

    joined = []

    def fakeListen(reactor, protocol, interfaces, *, ttl, port):  # type: ignore[no-untyped-def]
        joined.append(([i.address for i in interfaces], ttl, port))
        return None

    monkeypatch.setattr(ssdpserver, "listen", fakeListen)
    memory = MemoryReactorClock()
    adapters = [
        Adapter("eth0", 0x1001, (("192.0.2.7", 24),)),
        Adapter("eth1", 0x1001, (("198.51.100.9", 24),)),
    ]
    loaded = config.load(example("jambon.ini"))
    service = UPnPService(
        loaded.device, loaded.network, reactor=memory, httpPort=8080, adapters=lambda: adapters
    )
    bindings = []
    service.whenListening().addCallback(bindings.extend)
    service.startService()
    assert [(p, iface) for p, _, _, iface in memory.tcpServers] == [
        (8080, "192.0.2.7"),
        (8080, "198.51.100.9"),
    ]
    assert [b.interface.name for b in bindings] == ["eth0", "eth1"]
    assert sorted(service.site._hosts) == [b"192.0.2.7:8080", b"198.51.100.9:8080"]
    assert joined == [(["192.0.2.7", "198.51.100.9"], 2, 1900)]
    assert service.ssdp is not None and service.ssdp.bindings == service.bindings


def test_overrides_replace_the_configured_network() -> None:
    loaded = config.load(example("jambon.ini"))
    service = UPnPService(loaded.device, loaded.network, interfaces=["lo"], httpPort=1234)
    assert service.network.interfaces == ("lo",)
    assert service.network.httpPort == 1234
    assert service.network.maxAge == loaded.network.maxAge


def test_eventing_works_again_after_a_restart(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ssdpsocket, "listen", lambda *a, **kw: None)
    reactor = MemoryReactorClock()
    service = UPnPService(light(), reactor=reactor, httpPort=8000, adapters=lambda: ETH0)
    service.startService()
    assert subscribe(service.site) == 200
    service.stopService()
    reactor.advance(1)
    service.startService()
    assert subscribe(service.site) == 200
    # A change reaches the new eventing (it watches the provider again).
    [eventing] = service.site.eventing.values()
    assert len(eventing.subscriptions) == 1
    assert eventing._stopWatching is not None


def test_when_listening_fails_when_the_start_fails() -> None:
    service = UPnPService(light(), interfaces=["nosuch0"], adapters=lambda: ETH0)
    waiting = service.whenListening()
    failures: list[Any] = []
    waiting.addErrback(failures.append)
    with pytest.raises(StartError):
        service.startService()
    [failure] = failures
    assert failure.check(StartError)


def subscribe(site: web.DeviceSite, host: bytes = b"192.0.2.7:8000") -> int:
    [response] = MemoryHTTP(site, peer="192.0.2.50").send(request(
        b"SUBSCRIBE", b"/svc/SwitchPower/event", host=host,
        headers={b"CALLBACK": b"<http://192.0.2.50:9000/cb>", b"NT": b"upnp:event"},
    ))
    return response.status
