"""
What an independent review of the whole device found, each pinned by a test.
"""

from __future__ import annotations

import random
import socket
from typing import Any

import pytest
from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactorClock

from support import MemoryHTTP, example, request
from upnp_announce import UPnPService, client, config
from upnp_announce.client import eventing as client_eventing
from upnp_announce.wire import ssdp
from upnp_announce.device import ssdpsocket
from upnp_announce.device import site as web
from upnp_announce.netif import Adapter, InterfaceAddress
from upnp_announce.device.runner import HTTPBinding, StartError
from upnp_announce.device.ssdpsocket import SSDPProtocol
from upnp_announce.device.discovery import SSDPServer

LIGHT = config.load(example("light.ini"), machineId="test").device
ETH0 = [Adapter("eth0", 0x1001, (("192.0.2.7", 24),))]


def subscribe(site: web.DeviceSite, host: bytes = b"192.0.2.7:8000") -> int:
    [response] = MemoryHTTP(site, peer="192.0.2.50").send(request(
        b"SUBSCRIBE", b"/svc/SwitchPower/event", host=host,
        headers={b"CALLBACK": b"<http://192.0.2.50:9000/cb>", b"NT": b"upnp:event"},
    ))
    return response.status


def test_eventing_works_again_after_a_restart(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ssdpsocket, "listen", lambda *a, **kw: None)
    reactor = MemoryReactorClock()
    service = UPnPService(LIGHT, reactor=reactor, httpPort=8000, adapters=lambda: ETH0)
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


class VanishingSocket:
    def __init__(self, gone: str) -> None:
        self.gone = gone

    def setsockopt(self, level: int, name: int, value: bytes) -> None:
        if value == socket.inet_aton(self.gone):
            raise OSError(99, "Cannot assign requested address")


class Written:
    def __init__(self, gone: str) -> None:
        self.socket = VanishingSocket(gone)
        self.sent: list[bytes] = []

    def write(self, data: bytes, addr: Any) -> None:
        self.sent.append(data)


def test_a_vanished_address_stops_neither_the_others_nor_the_next_round() -> None:
    clock = Clock()
    protocol = SSDPProtocol(clock)
    transport = Written(gone="192.0.2.7")
    protocol.transport = transport  # type: ignore[assignment]
    gone = HTTPBinding(InterfaceAddress("eth0", "192.0.2.7", 24), 8000)
    alive = HTTPBinding(InterfaceAddress("eth1", "198.51.100.9", 24), 8000)
    server = SSDPServer(device=LIGHT, configId=1, bindings=(gone, alive), sender=protocol,
                        clock=clock, rng=random.Random(1), bootId=1)
    server.start()
    clock.advance(0.1)
    first = len(transport.sent)
    assert first > 0  # eth1 got its set
    clock.advance(900)
    assert len(transport.sent) > first  # and it goes on
    fired: list[None] = []
    server.stop().addCallback(fired.append)
    clock.advance(0.1)
    assert fired == [None]


def test_a_host_without_the_default_port_is_ours() -> None:
    site = web.DeviceSite(LIGHT, reactor=Clock())
    site.addAddress("192.0.2.7", 80)
    [response] = MemoryHTTP(site).send(request(host=b"192.0.2.7"))
    assert response.status == 200
    site.addAddress("192.0.2.8", 8080)
    [response] = MemoryHTTP(site).send(request(host=b"192.0.2.8"))
    assert response.status == 403


def test_when_listening_fails_when_the_start_fails() -> None:
    service = UPnPService(LIGHT, interfaces=["nosuch0"], adapters=lambda: ETH0)
    waiting = service.whenListening()
    failures: list[Any] = []
    waiting.addErrback(failures.append)
    with pytest.raises(StartError):
        service.startService()
    [failure] = failures
    assert failure.check(StartError)


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

        def _request(self, method: bytes, url: str, headers: Any = None, body: Any = None) -> Any:
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


def test_multicast_eventing_is_refused_at_load(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    scpd = Path(example("jambon-scpd.xml")).read_text(encoding="utf-8").replace(
        '<stateVariable sendEvents="yes">', '<stateVariable sendEvents="yes" multicast="yes">'
    )
    (tmp_path / "j.xml").write_text(scpd)
    (tmp_path / "j.ini").write_text(
        "[device]\ndeviceType = urn:schemas-upnp-org:device:Basic:1\nfriendlyName = J\n"
        "manufacturer = M\nmodelName = J\nservices = j\n[service:j]\n"
        "serviceType = urn:a-b:service:J:1\nserviceId = urn:a-b:serviceId:J\nscpd = j.xml\n"
    )
    with pytest.raises(config.ConfigError) as e:
        config.load(tmp_path / "j.ini")
    [problem] = e.value.problems
    assert (problem.section, problem.key) == ("service:j", "scpd")
    assert "multicast eventing is not supported" in problem.message


def test_an_action_of_another_service_in_the_body_is_401() -> None:
    site = web.DeviceSite(LIGHT, reactor=Clock())
    site.addAddress("127.0.0.1", 8000)
    body = (
        b'<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">'
        b'<s:Body><u:GetStatus xmlns:u="urn:example-com:service:Other:1"/></s:Body></s:Envelope>'
    )
    [response] = MemoryHTTP(site).send(request(
        b"POST", b"/svc/SwitchPower/control", body=body,
        headers={b"Content-Type": b"text/xml",
                 b"SOAPACTION": b'"urn:schemas-upnp-org:service:SwitchPower:1#GetStatus"'},
    ))
    assert response.status == 500 and b"<errorCode>401</errorCode>" in response.body


def test_the_client_callback_server_caps_bodies() -> None:
    resource = client_eventing._NotifyResource(type("L", (), {"subscriptions": {}, "early": {}})())
    site = client_eventing._ListenerSite(resource, timeout=60)
    [response] = MemoryHTTP(site).send(request(
        b"NOTIFY", b"/x", host=None,
        headers={b"NT": b"upnp:event", b"NTS": b"upnp:propchange", b"SID": b"uuid:1",
                 b"SEQ": b"0"},
        body=b"<x/>" + b" " * 70000,
    ))
    assert response.status == 413


def test_a_capped_read_that_times_out_closes_the_connection() -> None:
    from upnp_announce.wire.http import read_capped

    class Transport:
        stopped = False

        def stopProducing(self) -> None:
            self.stopped = True

    transport = Transport()

    class Response:
        def deliverBody(self, protocol: Any) -> None:
            protocol.makeConnection(transport)

    reading = read_capped(Response(), 100)
    reading.addErrback(lambda f: f.trap(defer.CancelledError))
    reading.cancel()
    assert transport.stopped


def test_ssdp_answers_are_unchanged_by_passing_the_set() -> None:
    # matches() now takes the announcement set, built once per server.
    from upnp_announce.wire.ssdp import announcements, matches

    everything = announcements(LIGHT)
    assert matches("ssdp:all", everything) == everything
    assert [a.nt for a in matches("upnp:rootdevice", everything)] == ["upnp:rootdevice"]
    assert ssdp.msearch(st="ssdp:all", mx=1)
