"""
GENA eventing: SUBSCRIBE and UNSUBSCRIBE at each service's eventSubURL over
in-memory HTTP, the callback policy, the NOTIFYs a fake notifier is asked to
send (all on a Clock: no sockets, no sleeps), bounds, memory, stopping; and
HTTPNotifier against a real Twisted HTTP server on loopback.
"""

from __future__ import annotations

import gc
import ipaddress
import tracemalloc
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from lxml import etree
from twisted.internet import defer, error
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.logger import formatEvent
from twisted.python.failure import Failure
from twisted.web import server
from twisted.web.test.requesthelper import DummyRequest
from zope.interface.verify import verifyObject

from upnp_announce import config
from upnp_announce.device import site as web
from upnp_announce.device.eventing import (
    INITIAL_EVENT_DELAY,
    EventResource,
    ServiceEventing,
)
from upnp_announce.provider import IServiceProvider, ServiceProvider, StateVariable, action
from upnp_announce.settings import EventingSettings
from upnp_announce.wire import gena
from upnp_announce.wire.product import SERVER
from upnp_announce.wire.soap import ENVELOPE_NS

from support import Response, device, example, parse_responses, request

THERMO = "urn:schemas-example-com:service:Thermo:1"
CONTENT_TYPE = b'text/xml; charset="utf-8"'
DEVICE_NS = {"d": "urn:schemas-upnp-org:device-1-0"}


# -- test providers ----------------------------------------------------------------


class Thermo(ServiceProvider):
    """
    Three evented variables and one that is not.
    """

    serviceType = THERMO
    serviceId = "urn:schemas-example-com:serviceId:Thermo"

    Power = StateVariable("boolean", default=False, evented=True)
    Level = StateVariable("i4", default=20, evented=True)
    Label = StateVariable("string", default="kitchen", evented=True)
    Hidden = StateVariable("ui4", default=0)

    @action(newLevel=Level)
    def SetLevel(self, newLevel: int) -> None:
        self.Level = newLevel
        self.Hidden = self.Hidden + 1

    @action(returns={"CurrentLevel": Level})
    def GetLevel(self) -> int:
        return int(self.Level)


class Meter(ServiceProvider):
    """
    Moderated variables.
    """

    serviceType = "urn:schemas-example-com:service:Meter:1"
    serviceId = "urn:schemas-example-com:serviceId:Meter"

    Rate = StateVariable("ui4", default=0, evented=True, maximumRate=10)
    Watts = StateVariable("i4", default=0, evented=True, minimumDelta=5)
    Plain = StateVariable("ui4", default=0, evented=True)


class Quiet(ServiceProvider):
    """
    Nothing evented.
    """

    serviceType = "urn:schemas-example-com:service:Quiet:1"
    serviceId = "urn:schemas-example-com:serviceId:Quiet"

    Volume = StateVariable("ui2", default=1)

    @action(returns={"CurrentVolume": Volume})
    def GetVolume(self) -> int:
        return int(self.Volume)


def test_test_providers_provide_the_interface() -> None:
    for provider in (Thermo(), Meter(), Quiet()):
        assert verifyObject(IServiceProvider, provider)


# -- a fake notifier -------------------------------------------------------------


@dataclass
class Sent:
    """
    One NOTIFY the notifier was asked to send; the test answers it.
    """

    url: str
    headers: dict[bytes, bytes]
    body: bytes
    bindAddress: str | None
    answer: defer.Deferred[int]

    @property
    def seq(self) -> int:
        return int(self.headers[b"seq"])

    @property
    def sid(self) -> str:
        return self.headers[b"sid"].decode("ascii")

    @property
    def values(self) -> dict[str, str]:
        return gena.parse_propertyset(self.body)

    def ok(self, status: int = 200) -> None:
        self.answer.callback(status)

    def fail(self) -> None:
        self.answer.errback(error.ConnectionRefusedError())


class FakeNotifier:
    """
    Records each NOTIFY and hands back a Deferred the test fires (or, with
    C{auto}, one already fired with that status).
    """

    def __init__(self, auto: int | None = None, keep: bool = True) -> None:
        self.auto = auto
        self.keep = keep
        self.sent: list[Sent] = []
        self.count = 0
        self.closed = 0

    def notify(
        self, url: str, headers: dict[bytes, bytes], body: bytes, bindAddress: str | None
    ) -> defer.Deferred[int]:
        self.count += 1
        answer: defer.Deferred[int] = (
            defer.succeed(self.auto) if self.auto is not None else defer.Deferred()
        )
        if self.keep:
            self.sent.append(Sent(url, dict(headers), body, bindAddress, answer))
        return answer

    def close(self) -> defer.Deferred[None]:
        self.closed += 1
        return defer.succeed(None)

    def take(self) -> list[Sent]:
        sent, self.sent = self.sent, []
        return sent


# -- in-memory HTTP with any local and peer address --------------------------------


def address(host: str, port: int) -> IPv4Address | IPv6Address:
    return IPv6Address("TCP", host, port) if ":" in host else IPv4Address("TCP", host, port)


def hostport(host: str, port: int = 8000) -> bytes:
    return (f"[{host}]:{port}" if ":" in host else f"{host}:{port}").encode()


class Connection:
    """
    One HTTP connection to a site, from C{peer} to our address C{local}.
    """

    def __init__(self, site: server.Site, peer: str, local: str, peerPort: int = 40000) -> None:
        self.local = local
        self.transport = StringTransport(
            hostAddress=address(local, 8000), peerAddress=address(peer, peerPort)
        )
        self.protocol = site.buildProtocol(self.transport.getPeer())
        self.protocol.makeConnection(self.transport)

    def send(
        self, method: bytes, path: bytes, headers: dict[bytes, bytes] | None = None,
        body: bytes = b"", host: bytes | None = None,
    ) -> Response:
        self.transport.clear()
        self.protocol.dataReceived(
            request(method=method, path=path, host=host or hostport(self.local),
                    headers=headers, body=body)
        )
        [response] = parse_responses(self.transport.value())
        return response

    def close(self) -> None:
        self.protocol.connectionLost(Failure(error.ConnectionDone()))


def callbackFor(peer: str, port: int = 5000, path: str = "/notify") -> str:
    host = f"[{peer}]" if ":" in peer else peer
    return f"http://{host}:{port}{path}"


class Rig:
    """
    A device with one service (by default a L{Thermo}), its site on a Clock
    with a fake notifier, and connections from any peer.
    """

    def __init__(
        self,
        provider: Any = None,
        *,
        settings: EventingSettings = EventingSettings(),
        root: Any = None,
        local: str = "127.0.0.1",
        network: ipaddress.IPv4Network | None = None,
        notifier: FakeNotifier | None = None,
    ) -> None:
        self.clock = Clock()
        self.notifier = notifier if notifier is not None else FakeNotifier()
        self.provider: Any = None
        if root is None:
            self.provider = provider if provider is not None else Thermo()
            verifyObject(IServiceProvider, self.provider)
            root = device(services=(self.provider.service(),))
        self.site = web.DeviceSite(
            root, reactor=self.clock, eventing=settings, notifier=self.notifier
        )
        self.local = local
        self.site.addAddress(local, 8000, network)
        self.paths = self.site.descriptions.layout.services[0]
        self.path = self.paths.event.encode()
        self.eventing: ServiceEventing = self.site.eventing[self.paths.event]
        self._connections: dict[str, Connection] = {}

    def connection(self, peer: str = "127.0.0.1") -> Connection:
        # (Idle connections are closed by the site's timeout on the Clock.)
        known = self._connections.get(peer)
        if known is None or known.transport.disconnecting:
            if known is not None:
                known.close()
            self._connections[peer] = Connection(self.site, peer, self.local)
        return self._connections[peer]

    def closeAll(self) -> None:
        for connection in self._connections.values():
            connection.close()
        self._connections.clear()

    def send(self, method: bytes, headers: dict[bytes, bytes], peer: str = "127.0.0.1",
             path: bytes | None = None) -> Response:
        return self.connection(peer).send(method, path or self.path, headers)

    def subscribe(
        self,
        callbacks: str | None = None,
        *,
        peer: str = "127.0.0.1",
        timeout: str | None = None,
        nt: str | None = "upnp:event",
        extra: dict[bytes, bytes] | None = None,
        path: bytes | None = None,
    ) -> Response:
        headers: dict[bytes, bytes] = {}
        if callbacks is None:
            callbacks = f"<{callbackFor(peer)}>"
        if callbacks != "":
            headers[b"CALLBACK"] = callbacks.encode("latin-1")
        if nt is not None:
            headers[b"NT"] = nt.encode()
        if timeout is not None:
            headers[b"TIMEOUT"] = timeout.encode()
        headers.update(extra or {})
        return self.send(b"SUBSCRIBE", headers, peer, path)

    def renew(self, sid: bytes, timeout: str | None = None,
              extra: dict[bytes, bytes] | None = None, peer: str = "127.0.0.1") -> Response:
        headers = {b"SID": sid}
        if timeout is not None:
            headers[b"TIMEOUT"] = timeout.encode()
        headers.update(extra or {})
        return self.send(b"SUBSCRIBE", headers, peer)

    def unsubscribe(self, sid: bytes | None, extra: dict[bytes, bytes] | None = None,
                    peer: str = "127.0.0.1") -> Response:
        headers = {b"SID": sid} if sid is not None else {}
        headers.update(extra or {})
        return self.send(b"UNSUBSCRIBE", headers, peer)

    def subscribed(self, peer: str = "127.0.0.1", callbacks: str | None = None,
                   timeout: str | None = None) -> str:
        """
        Subscribe, let the initial event go and answer it: the SID.
        """
        response = self.subscribe(callbacks, peer=peer, timeout=timeout)
        assert response.status == 200, response
        sid = (response.header(b"sid") or b"").decode()
        self.clock.advance(INITIAL_EVENT_DELAY)
        initial = [s for s in self.notifier.sent if s.sid == sid]
        assert [s.seq for s in initial] == [0]
        self.notifier.sent.remove(initial[0])
        initial[0].ok()
        return sid


@pytest.fixture
def rig() -> Rig:
    return Rig()


def eventingLines(events: list[dict[str, Any]]) -> list[str]:
    return [
        formatEvent(e)
        for e in events
        if e.get("log_namespace", "").startswith("upnp_announce.eventing")
    ]


# -- SUBSCRIBE, renewal, UNSUBSCRIBE -------------------------------------------------


def test_subscribe_answers_sid_timeout_date_server_and_no_body(rig: Rig) -> None:
    response = rig.subscribe(timeout="Second-300")
    assert response.status == 200
    sid = response.header(b"sid") or b""
    assert sid.startswith(b"uuid:")
    assert uuid.UUID(sid[5:].decode())
    assert response.headers[b"timeout"] == [b"Second-300"]
    assert response.header(b"date") is not None
    assert response.headers[b"server"] == [SERVER.encode()]
    assert response.headers[b"content-length"] == [b"0"]
    assert response.body == b""
    [subscription] = rig.eventing.subscriptions.values()
    assert subscription.sid == sid.decode()
    assert subscription.callbacks == ("http://127.0.0.1:5000/notify",)
    assert subscription.source == "127.0.0.1"
    assert subscription.expires == rig.clock.seconds() + 300


def test_every_subscription_gets_its_own_sid(rig: Rig) -> None:
    sids = {rig.subscribe().header(b"sid") for _ in range(5)}
    assert len(sids) == 5
    assert len(rig.eventing.subscriptions) == 5


@pytest.mark.parametrize(
    "asked, granted",
    [
        (None, 1800),
        ("Second-1000", 1000),
        ("second-100", 100),
        ("Second-99", 100),
        ("Second-0", 100),
        ("Second-3600", 3600),
        ("Second-3601", 3600),
        ("Second-9999999999", 3600),
        ("Second-infinite", 1800),
        ("infinite", 1800),
        ("300", 1800),
        ("Second-abc", 1800),
        ("Second--5", 1800),
        ("", 1800),
    ],
)
def test_timeout_is_clamped_and_never_infinite(asked: str | None, granted: int) -> None:
    rig = Rig(settings=EventingSettings(minTimeout=100, maxTimeout=3600))
    response = rig.subscribe(timeout=asked)
    assert response.status == 200
    assert response.headers[b"timeout"] == [f"Second-{granted}".encode()]
    # A renewal is granted by the same rule.
    renewed = rig.renew(response.header(b"sid") or b"", asked)
    assert renewed.status == 200
    assert renewed.headers[b"timeout"] == [f"Second-{granted}".encode()]


def test_default_bounds_clamp_too(rig: Rig) -> None:
    assert rig.subscribe(timeout="Second-1").headers[b"timeout"] == [b"Second-60"]
    assert rig.subscribe(timeout="Second-999999").headers[b"timeout"] == [b"Second-86400"]


def test_renewal_extends_the_same_subscription_without_a_new_initial_event(rig: Rig) -> None:
    sid = rig.subscribed(timeout="Second-300").encode()
    rig.clock.advance(200)
    response = rig.renew(sid, "Second-600")
    assert response.status == 200
    assert response.headers[b"sid"] == [sid]
    assert response.headers[b"timeout"] == [b"Second-600"]
    assert response.headers[b"content-length"] == [b"0"]
    assert response.header(b"date") is not None
    assert response.headers[b"server"] == [SERVER.encode()]
    [subscription] = rig.eventing.subscriptions.values()
    assert subscription.expires == rig.clock.seconds() + 600
    rig.clock.advance(1)
    assert rig.notifier.sent == []
    # Alive past its first expiry.
    rig.clock.advance(400)
    assert sid.decode() in rig.eventing.subscriptions


def test_renewal_without_timeout_gets_1800(rig: Rig) -> None:
    sid = rig.subscribe(timeout="Second-300").header(b"sid") or b""
    assert rig.renew(sid).headers[b"timeout"] == [b"Second-1800"]


def test_renewal_of_an_unknown_sid_is_412(rig: Rig) -> None:
    response = rig.renew(b"uuid:00000000-0000-0000-0000-000000000000", "Second-300")
    assert response.status == 412
    assert response.header(b"sid") is None
    assert rig.eventing.subscriptions == {}


def test_renewal_of_an_expired_sid_is_412_even_before_the_sweep(rig: Rig) -> None:
    sid = rig.subscribe(timeout="Second-100").header(b"sid") or b""
    rig.clock.advance(100)
    response = rig.renew(sid, "Second-300")
    assert response.status == 412
    assert rig.eventing.subscriptions == {}


def test_unsubscribe_ends_the_subscription(rig: Rig) -> None:
    sid = rig.subscribed().encode()
    response = rig.unsubscribe(sid)
    assert response.status == 200
    assert response.headers[b"content-length"] == [b"0"]
    assert response.header(b"date") is not None
    assert response.headers[b"server"] == [SERVER.encode()]
    assert rig.eventing.subscriptions == {}
    rig.provider.Level = 30
    rig.clock.advance(1)
    assert rig.notifier.sent == []
    # Twice is once too many; so is a renewal.
    assert rig.unsubscribe(sid).status == 412
    assert rig.renew(sid).status == 412


@pytest.mark.parametrize(
    "sid", [b"uuid:00000000-0000-0000-0000-000000000000", b"", b"garbage"]
)
def test_unsubscribe_of_an_unknown_sid_is_412(rig: Rig, sid: bytes) -> None:
    rig.subscribe()
    assert rig.unsubscribe(sid).status == 412
    assert len(rig.eventing.subscriptions) == 1


def test_unsubscribe_without_sid_is_412(rig: Rig) -> None:
    rig.subscribe()
    assert rig.unsubscribe(None).status == 412
    assert len(rig.eventing.subscriptions) == 1


def test_unsubscribe_of_an_expired_sid_is_412(rig: Rig) -> None:
    sid = rig.subscribe(timeout="Second-100").header(b"sid") or b""
    rig.clock.advance(101)
    assert rig.unsubscribe(sid).status == 412
    assert rig.eventing.subscriptions == {}


@pytest.mark.parametrize(
    "extra",
    [
        {b"NT": b"upnp:event"},
        {b"CALLBACK": b"<http://127.0.0.1:5000/notify>"},
        {b"NT": b"upnp:event", b"CALLBACK": b"<http://127.0.0.1:5000/notify>"},
    ],
)
def test_sid_with_nt_or_callback_is_400(rig: Rig, extra: dict[bytes, bytes]) -> None:
    sid = rig.subscribe(timeout="Second-300").header(b"sid") or b""
    [subscription] = rig.eventing.subscriptions.values()
    before = subscription.expires
    rig.clock.advance(10)
    assert rig.renew(sid, "Second-600", extra=extra).status == 400
    assert subscription.expires == before
    assert rig.unsubscribe(sid, extra=extra).status == 400
    assert list(rig.eventing.subscriptions) == [sid.decode()]
    # Even for a SID we do not know.
    unknown = b"uuid:00000000-0000-0000-0000-000000000000"
    assert rig.renew(unknown, extra=extra).status == 400
    assert rig.unsubscribe(unknown, extra=extra).status == 400


@pytest.mark.parametrize(
    "callbacks, nt",
    [
        ("", "upnp:event"),
        ("http://127.0.0.1:5000/notify", "upnp:event"),
        ("<>", "upnp:event"),
        ("<http://127.0.0.1:5000/notify> junk", "upnp:event"),
        (None, None),
        (None, "upnp:propchange"),
        (None, "ssdp:all"),
        (None, ""),
    ],
)
def test_bad_callback_or_nt_is_412(rig: Rig, callbacks: str | None, nt: str | None) -> None:
    response = rig.subscribe(callbacks, nt=nt)
    assert response.status == 412
    assert response.header(b"sid") is None
    assert response.header(b"timeout") is None
    assert rig.eventing.subscriptions == {}
    rig.clock.advance(1)
    assert rig.notifier.sent == []


@pytest.mark.parametrize("method", [b"GET", b"HEAD", b"POST", b"NOTIFY", b"PUT"])
def test_other_methods_are_405_with_allow(rig: Rig, method: bytes) -> None:
    connection = rig.connection()
    connection.transport.clear()
    connection.protocol.dataReceived(request(method=method, path=rig.path))
    [response] = parse_responses(connection.transport.value(), head=method == b"HEAD")
    assert response.status == 405
    assert response.headers[b"allow"] == [b"SUBSCRIBE, UNSUBSCRIBE"]


def test_a_host_that_is_not_ours_is_refused(rig: Rig) -> None:
    connection = rig.connection()
    response = connection.send(
        b"SUBSCRIBE", rig.path,
        {b"CALLBACK": b"<http://127.0.0.1:5000/>", b"NT": b"upnp:event"},
        host=b"evil.example:8000",
    )
    assert response.status == 403
    assert rig.eventing.subscriptions == {}


def test_a_service_without_evented_variables_has_no_event_resource() -> None:
    thermo, quiet = Thermo(), Quiet()
    rig = Rig(root=device(services=(thermo.service(), quiet.service())))
    root = etree.fromstring(rig.site.descriptions.documents["/description.xml"])
    urls = {
        s.findtext("d:serviceType", namespaces=DEVICE_NS): s.find("d:eventSubURL", DEVICE_NS)
        for s in root.iterfind(".//d:service", DEVICE_NS)
    }
    assert urls[THERMO] is not None and urls[THERMO].text == "/svc/Thermo/event"
    quietURL = urls[Quiet.serviceType]
    assert quietURL is not None and (quietURL.text or "") == ""
    assert list(rig.site.eventing) == ["/svc/Thermo/event"]
    response = rig.subscribe(path=b"/svc/Quiet/event")
    assert response.status == 404
    assert rig.subscribe(path=b"/svc/Thermo/event").status == 200
    # The quiet provider is not watched at all.
    assert quiet._watchers == []


def test_each_evented_service_has_its_own_subscriptions() -> None:
    thermo, meter = Thermo(), Meter()
    rig = Rig(root=device(services=(thermo.service(), meter.service())))
    assert rig.subscribe(path=b"/svc/Meter/event").status == 200
    assert len(rig.site.eventing["/svc/Meter/event"].subscriptions) == 1
    assert rig.site.eventing["/svc/Thermo/event"].subscriptions == {}
    rig.clock.advance(INITIAL_EVENT_DELAY)
    [initial] = rig.notifier.take()
    assert set(initial.values) == {"Rate", "Watts", "Plain"}
    initial.ok()
    thermo.Level = 5
    rig.clock.advance(0)
    assert rig.notifier.sent == []


# -- the callback policy (CallStranger) --------------------------------------------------


def test_callbacks_at_the_requesters_own_address_are_accepted(rig: Rig) -> None:
    callbacks = "<http://127.0.0.1:5000/a><http://127.0.0.1/b?x=1><http://127.0.0.1:80>"
    assert rig.subscribe(callbacks).status == 200
    [subscription] = rig.eventing.subscriptions.values()
    # NOTIFYs go to URLs rebuilt from the checked parts.
    assert subscription.callbacks == (
        "http://127.0.0.1:5000/a",
        "http://127.0.0.1:80/b?x=1",
        "http://127.0.0.1:80/",
    )


def test_four_urls_of_256_characters_are_accepted(rig: Rig) -> None:
    url = "http://127.0.0.1:5000/"
    url += "x" * (256 - len(url))
    assert len(url) == 256
    assert rig.subscribe(f"<{url}>" * 4).status == 200
    [subscription] = rig.eventing.subscriptions.values()
    assert subscription.callbacks == (url,) * 4


LONG = "http://127.0.0.1:5000/" + "x" * 235


@pytest.mark.parametrize(
    "callbacks, reason",
    [
        ("<https://127.0.0.1:5000/notify>", "is not http://"),
        ("<ftp://127.0.0.1/notify>", "is not http://"),
        ("<http://localhost:5000/notify>", "is not http://IP-address"),
        ("<http://evil.example/notify>", "is not http://IP-address"),
        ("<http://0x7f.0.0.1/notify>", "is not http://IP-address"),
        ("<http://127.000.0.1/notify>", "is not http://IP-address"),
        ("<http://127.0.0.1:99999/notify>", "is not http://IP-address"),
        ("<http:///notify>", "is not http://IP-address"),
        ("<http://10.0.0.9:5000/notify>", "is not the subscriber's own address 127.0.0.1"),
        ("<http://127.0.0.2:5000/notify>", "is not the subscriber's own address 127.0.0.1"),
        ("<http://127.0.0.1@10.0.0.9/notify>", "is not http://IP-address[:port]/..."),
        ("<http://[::1]:5000/notify>", "is not the subscriber's own address 127.0.0.1"),
        ("<http://[::ffff:127.0.0.1]/notify>", "is not the subscriber's own address"),
        ("<http://127.0.0.1/ok><http://10.0.0.9/bad>", "is not the subscriber's own address"),
        (f"<{LONG}>", "longer than 256 characters"),
        ("<http://127.0.0.1/>" * 5, "5 callback URLs; at most 4"),
    ],
)
def test_callbacks_elsewhere_are_refused_with_a_reason(
    rig: Rig, logged: list[dict[str, Any]], callbacks: str, reason: str
) -> None:
    response = rig.subscribe(callbacks)
    assert response.status == 412
    assert response.header(b"sid") is None
    assert rig.eventing.subscriptions == {}
    [line] = eventingLines(logged)
    assert line.startswith("SUBSCRIBE from 127.0.0.1 refused (412): ")
    assert reason in line
    rig.clock.advance(1)
    assert rig.notifier.sent == []


def test_257_characters_are_too_many(rig: Rig) -> None:
    assert len(LONG) == 257
    assert rig.subscribe(f"<{LONG[:-1]}>").status == 200
    assert rig.subscribe(f"<{LONG}>").status == 412


def test_an_ipv6_requester_may_name_its_own_ipv6_address() -> None:
    rig = Rig(local="::1")
    assert rig.subscribe("<http://[::1]:5000/notify>", peer="::1").status == 200
    assert rig.subscribe("<http://127.0.0.1:5000/notify>", peer="::1").status == 412


def test_the_notify_goes_out_from_the_address_the_subscribe_came_in_on(rig: Rig) -> None:
    rig.subscribe()
    rig.clock.advance(INITIAL_EVENT_DELAY)
    [initial] = rig.notifier.take()
    assert initial.bindAddress == "127.0.0.1"
    assert initial.url == "http://127.0.0.1:5000/notify"


SUBNET = ipaddress.IPv4Network("192.168.7.0/24")


def subnetRig(network: ipaddress.IPv4Network | None = SUBNET) -> Rig:
    return Rig(settings=EventingSettings(callbacks="subnet"), local="192.168.7.1",
               network=network)


@pytest.mark.parametrize(
    ("callbacks", "first"),
    [
        ("<http://192.168.7.20:5000/notify>", "http://192.168.7.20:5000/notify"),
        ("<http://192.168.7.33:5000/notify>", "http://192.168.7.33:5000/notify"),
        ("<http://192.168.7.254/x><http://192.168.7.2/y>", "http://192.168.7.254:80/x"),
    ],
)
def test_subnet_policy_accepts_hosts_of_the_arrival_subnet(callbacks: str, first: str) -> None:
    rig = subnetRig()
    assert rig.subscribe(callbacks, peer="192.168.7.20").status == 200
    rig.clock.advance(INITIAL_EVENT_DELAY)
    [initial] = rig.notifier.take()
    assert initial.bindAddress == "192.168.7.1"
    assert initial.url == first


def test_subnet_policy_refuses_our_own_address() -> None:
    # A NOTIFY aimed at the device itself would reach its other services.
    rig = subnetRig()
    assert rig.subscribe("<http://192.168.7.1:5000/self>", peer="192.168.7.20").status == 412


@pytest.mark.parametrize(
    "callback",
    ["<http://evil.example@192.168.7.20/x>", "<http://a:b@192.168.7.20/x>",
     "<http://192.168.7.20:0/x>"],
)
def test_userinfo_and_port_0_are_refused(callback: str) -> None:
    rig = subnetRig()
    assert rig.subscribe(callback, peer="192.168.7.20").status == 412


@pytest.mark.parametrize(
    "callbacks",
    [
        "<http://192.168.7.0:5000/notify>",
        "<http://192.168.7.255:5000/notify>",
        "<http://192.168.8.5:5000/notify>",
        "<http://10.0.0.9:5000/notify>",
        "<http://127.0.0.1:5000/notify>",
        "<http://[fe80::1]:5000/notify>",
        "<http://[::ffff:192.168.7.20]:5000/notify>",
        "<https://192.168.7.20:5000/notify>",
        "<http://192.168.7.20/ok><http://192.168.8.20/bad>",
    ],
)
def test_subnet_policy_refuses_anything_else(
    logged: list[dict[str, Any]], callbacks: str
) -> None:
    rig = subnetRig()
    response = rig.subscribe(callbacks, peer="192.168.7.20")
    assert response.status == 412
    assert rig.eventing.subscriptions == {}
    [line] = eventingLines(logged)
    assert line.startswith("SUBSCRIBE from 192.168.7.20 refused (412): ")
    assert "on the subnet of 192.168.7.1" in line or "is not http://" in line


def test_subnet_policy_without_a_known_subnet_refuses_even_the_requester(
    logged: list[dict[str, Any]],
) -> None:
    rig = subnetRig(network=None)
    assert rig.subscribe("<http://192.168.7.20:5000/>", peer="192.168.7.20").status == 412
    [line] = eventingLines(logged)
    assert "is not on the subnet of 192.168.7.1" in line


def test_requester_policy_refuses_other_hosts_on_the_subnet() -> None:
    rig = Rig(local="192.168.7.1", network=SUBNET)
    assert rig.subscribe("<http://192.168.7.33:5000/>", peer="192.168.7.20").status == 412
    assert rig.subscribe("<http://192.168.7.20:5000/>", peer="192.168.7.20").status == 200


# -- the initial event ------------------------------------------------------------------


def test_initial_event_follows_the_reply_with_every_evented_variable(rig: Rig) -> None:
    rig.provider.Level = 25
    rig.provider.Hidden = 9
    rig.clock.advance(0)
    response = rig.subscribe()
    sid = (response.header(b"sid") or b"").decode()
    # Not before the answer is out, nor before the delay.
    assert rig.notifier.sent == []
    rig.clock.advance(INITIAL_EVENT_DELAY * 0.9)
    assert rig.notifier.sent == []
    rig.clock.advance(INITIAL_EVENT_DELAY * 0.1)
    [initial] = rig.notifier.take()
    assert initial.url == "http://127.0.0.1:5000/notify"
    assert initial.headers == {
        b"nt": b"upnp:event",
        b"nts": b"upnp:propchange",
        b"sid": sid.encode(),
        b"seq": b"0",
        b"content-type": CONTENT_TYPE,
    }
    assert initial.values == {"Power": "0", "Level": "25", "Label": "kitchen"}
    assert initial.body.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    root = etree.fromstring(initial.body)
    assert root.tag == "{urn:schemas-upnp-org:event-1-0}propertyset"
    # Declaration order.
    assert [p[0].tag for p in root] == ["Power", "Level", "Label"]


def test_initial_event_waits_until_the_answer_is_finished() -> None:
    rig = Rig()
    resource = EventResource(rig.eventing, {}.get)
    req = DummyRequest([])
    req.method = b"SUBSCRIBE"
    req.client = IPv4Address("TCP", "127.0.0.1", 40000)
    req.requestHeaders.setRawHeaders(b"callback", [b"<http://127.0.0.1:5000/>"])
    req.requestHeaders.setRawHeaders(b"nt", [b"upnp:event"])
    assert resource.render(req) == b""
    [sid] = req.responseHeaders.getRawHeaders(b"sid")
    rig.clock.advance(5)
    assert rig.notifier.sent == []
    req.finish()
    assert rig.notifier.sent == []
    rig.clock.advance(INITIAL_EVENT_DELAY)
    [initial] = rig.notifier.take()
    assert initial.headers[b"sid"] == sid
    assert initial.seq == 0


def test_a_subscription_whose_answer_was_lost_is_forgotten() -> None:
    rig = Rig()
    resource = EventResource(rig.eventing, {}.get)
    req = DummyRequest([])
    req.method = b"SUBSCRIBE"
    req.client = IPv4Address("TCP", "127.0.0.1", 40000)
    req.requestHeaders.setRawHeaders(b"callback", [b"<http://127.0.0.1:5000/>"])
    req.requestHeaders.setRawHeaders(b"nt", [b"upnp:event"])
    resource.render(req)
    assert len(rig.eventing.subscriptions) == 1
    req.processingFailed(Failure(error.ConnectionLost()))
    assert rig.eventing.subscriptions == {}
    rig.provider.Level = 1
    rig.clock.advance(1)
    assert rig.notifier.sent == []
    assert rig.clock.getDelayedCalls() == []


def test_a_change_before_the_initial_event_is_folded_into_it(rig: Rig) -> None:
    rig.subscribe()
    rig.provider.Level = 40
    rig.clock.advance(0)
    assert rig.notifier.sent == []
    rig.clock.advance(INITIAL_EVENT_DELAY)
    [initial] = rig.notifier.take()
    assert initial.seq == 0
    assert initial.values == {"Power": "0", "Level": "40", "Label": "kitchen"}
    initial.ok()
    rig.clock.advance(1)
    assert rig.notifier.sent == []


def test_an_announce_only_service_sends_its_defaults() -> None:
    loaded = config.load(example("jambon.ini"), machineId="test-machine")
    rig = Rig(root=loaded.device)
    assert rig.paths.event == "/svc/Jambon/event"
    root = etree.fromstring(rig.site.descriptions.documents["/description.xml"])
    assert root.findtext(".//d:service/d:eventSubURL", namespaces=DEVICE_NS) == rig.paths.event
    response = rig.subscribe(timeout="Second-600")
    assert response.status == 200
    assert response.headers[b"timeout"] == [b"Second-600"]
    rig.clock.advance(INITIAL_EVENT_DELAY)
    [initial] = rig.notifier.take()
    assert initial.seq == 0
    assert initial.values == {"SliceThickness": "3"}
    initial.ok()
    sid = (response.header(b"sid") or b"")
    assert rig.renew(sid).status == 200
    assert rig.unsubscribe(sid).status == 200
    assert rig.eventing.subscriptions == {}


# -- events ---------------------------------------------------------------------------


def test_every_change_notifies_every_subscriber(rig: Rig) -> None:
    peers = ["127.0.0.1", "10.0.0.2", "10.0.0.3"]
    sids = {peer: rig.subscribed(peer=peer) for peer in peers}
    rig.provider.Level = 21
    rig.clock.advance(0)
    sent = rig.notifier.take()
    assert sorted(s.sid for s in sent) == sorted(sids.values())
    for s in sent:
        peer = next(p for p, sid in sids.items() if sid == s.sid)
        assert s.url == callbackFor(peer)
        assert s.seq == 1
        assert s.values == {"Level": "21"}
        assert s.headers[b"nt"] == b"upnp:event"
        assert s.headers[b"nts"] == b"upnp:propchange"
        assert s.headers[b"content-type"] == CONTENT_TYPE
        s.ok()


def test_seq_counts_each_event_of_each_subscription(rig: Rig) -> None:
    first = rig.subscribed()
    for level in (1, 2, 3):
        rig.provider.Level = level
        rig.clock.advance(0)
        [s] = rig.notifier.take()
        assert (s.sid, s.seq, s.values) == (first, level, {"Level": str(level)})
        s.ok()
    second = rig.subscribed(peer="10.0.0.2")
    rig.provider.Label = "cellar"
    rig.clock.advance(0)
    seqs = {s.sid: s.seq for s in rig.notifier.take()}
    assert seqs == {first: 4, second: 1}


def test_seq_wraps_to_one_never_zero(rig: Rig) -> None:
    sid = rig.subscribed()
    rig.eventing.subscriptions[sid].seq = gena.MAX_SEQ - 1
    seqs = []
    for level in (1, 2, 3, 4):
        rig.provider.Level = level
        rig.clock.advance(0)
        [s] = rig.notifier.take()
        seqs.append(s.seq)
        assert s.headers[b"seq"] == str(s.seq).encode()
        s.ok()
    assert seqs == [4294967294, 4294967295, 1, 2]


def test_changes_in_one_turn_make_one_event(rig: Rig) -> None:
    rig.subscribed()
    rig.provider.Level = 30
    rig.provider.Power = True
    rig.provider.Level = 31
    assert rig.notifier.sent == []
    rig.clock.advance(0)
    [s] = rig.notifier.take()
    assert s.seq == 1
    assert s.values == {"Power": "1", "Level": "31"}


def test_non_evented_changes_send_nothing(rig: Rig) -> None:
    rig.subscribed()
    rig.provider.Hidden = 5
    assert rig.eventing._flushCall is None
    rig.clock.advance(1)
    assert rig.notifier.sent == []
    rig.closeAll()
    assert rig.clock.getDelayedCalls() == [rig.eventing._sweeper.call]
    # Setting a value to what it is is no change either.
    rig.provider.Level = 20
    rig.clock.advance(1)
    assert rig.notifier.sent == []


def test_one_notify_in_flight_and_later_changes_merged(rig: Rig) -> None:
    rig.subscribed()
    rig.provider.Level = 1
    rig.clock.advance(0)
    [first] = rig.notifier.take()
    assert first.seq == 1
    for level in (2, 3, 4):
        rig.provider.Level = level
        rig.clock.advance(1)
    rig.provider.Label = "attic"
    rig.clock.advance(1)
    assert rig.notifier.sent == []
    first.ok()
    [second] = rig.notifier.take()
    assert second.seq == 2
    assert second.values == {"Level": "4", "Label": "attic"}
    second.ok()
    rig.clock.advance(10)
    assert rig.notifier.sent == []


def test_a_failed_notify_goes_to_the_next_callback_with_the_same_seq(rig: Rig) -> None:
    sid = rig.subscribed(callbacks="<http://127.0.0.1:5001/a><http://127.0.0.1:5002/b>")
    rig.provider.Level = 1
    rig.clock.advance(0)
    [a] = rig.notifier.take()
    assert a.url == "http://127.0.0.1:5001/a"
    a.fail()
    [b] = rig.notifier.take()
    assert b.url == "http://127.0.0.1:5002/b"
    assert (b.seq, b.body, b.headers) == (a.seq, a.body, a.headers)
    b.ok()
    assert rig.eventing.subscriptions[sid].failures == 0
    # The next event starts from the first URL again; an error status also
    # moves on.
    rig.provider.Level = 2
    rig.clock.advance(0)
    [a] = rig.notifier.take()
    assert a.url == "http://127.0.0.1:5001/a"
    assert a.seq == 2
    a.ok(500)
    [b] = rig.notifier.take()
    assert (b.url, b.seq) == ("http://127.0.0.1:5002/b", 2)
    b.ok()
    assert rig.notifier.sent == []


def test_unsubscribing_while_a_notify_is_in_flight_stops_the_retries(rig: Rig) -> None:
    sid = rig.subscribed(callbacks="<http://127.0.0.1:5001/a><http://127.0.0.1:5002/b>")
    rig.provider.Level = 1
    rig.clock.advance(0)
    [a] = rig.notifier.take()
    rig.provider.Level = 2
    rig.clock.advance(0)
    assert rig.unsubscribe(sid.encode()).status == 200
    a.fail()
    # Neither the second URL nor the merged change is sent.
    assert rig.notifier.sent == []


def test_a_subscriber_that_answers_412_is_dropped_at_once(
    rig: Rig, logged: list[dict[str, Any]]
) -> None:
    sid = rig.subscribed(callbacks="<http://127.0.0.1:5001/a><http://127.0.0.1:5002/b>")
    rig.provider.Level = 1
    rig.clock.advance(0)
    [a] = rig.notifier.take()
    a.ok(412)
    # Not tried at its second URL either.
    assert rig.notifier.sent == []
    assert rig.eventing.subscriptions == {}
    assert any(sid in line and "412" in line and "dropped" in line
               for line in eventingLines(logged))
    rig.provider.Level = 2
    rig.clock.advance(1)
    assert rig.notifier.sent == []
    assert rig.renew(sid.encode()).status == 412


def test_a_subscriber_failing_max_failures_in_a_row_is_dropped(
    logged: list[dict[str, Any]],
) -> None:
    rig = Rig(settings=EventingSettings(maxFailures=3))
    sid = rig.subscribed()
    subscription = rig.eventing.subscriptions[sid]

    def event(level: int) -> Sent:
        rig.provider.Level = level
        rig.clock.advance(0)
        [s] = rig.notifier.take()
        return s

    event(1).fail()
    event(2).ok(503)
    assert subscription.failures == 2
    event(3).ok()
    # Success resets the count.
    assert subscription.failures == 0
    event(4).fail()
    event(5).fail()
    assert sid in rig.eventing.subscriptions
    event(6).fail()
    assert rig.eventing.subscriptions == {}
    assert not subscription.active
    assert any(sid in line and "failed 3 NOTIFYs in a row" in line
               for line in eventingLines(logged))
    rig.provider.Level = 7
    rig.clock.advance(1)
    assert rig.notifier.sent == []


def test_a_dead_subscriber_never_delays_the_others(rig: Rig) -> None:
    dead = rig.subscribed(peer="10.0.0.66")
    alive = rig.subscribed(peer="10.0.0.2")
    got = []
    for level in range(1, 6):
        rig.provider.Level = level
        rig.clock.advance(0)
        for s in rig.notifier.take():
            got.append((s.sid, s.seq, s.values["Level"]))
            if s.sid == alive:
                s.ok()
        rig.clock.advance(30)
    assert [g for g in got if g[0] == alive] == [
        (alive, n, str(n)) for n in range(1, 6)
    ]
    # The dead one's first NOTIFY never came back: nothing more was sent to it.
    assert [g for g in got if g[0] == dead] == [(dead, 1, "1")]
    assert rig.eventing.subscriptions[dead].pending == {"Level": "5"}


def test_a_change_from_a_timer_notifies(rig: Rig) -> None:
    rig.subscribed()
    rig.clock.callLater(5, setattr, rig.provider, "Label", "outside")
    rig.clock.advance(5)
    [s] = rig.notifier.take()
    assert s.values == {"Label": "outside"}


def test_a_change_from_an_action_notifies(rig: Rig) -> None:
    rig.subscribed()
    body = (
        f'<?xml version="1.0"?><s:Envelope xmlns:s="{ENVELOPE_NS}" '
        's:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>'
        f'<u:SetLevel xmlns:u="{THERMO}"><newLevel>77</newLevel></u:SetLevel>'
        "</s:Body></s:Envelope>"
    ).encode()
    response = rig.connection().send(
        b"POST", rig.paths.control.encode(),
        {b"SOAPACTION": f'"{THERMO}#SetLevel"'.encode(), b"Content-Type": CONTENT_TYPE},
        body=body,
    )
    assert response.status == 200
    rig.clock.advance(0)
    [s] = rig.notifier.take()
    # Hidden changed too, but is not evented.
    assert s.values == {"Level": "77"}


# -- moderation ------------------------------------------------------------------------


def meterRig() -> Rig:
    rig = Rig(Meter())
    rig.subscribed()
    return rig


def events(rig: Rig) -> list[dict[str, str]]:
    sent = rig.notifier.take()
    for s in sent:
        s.ok()
    return [s.values for s in sent]


def test_maximum_rate_holds_changes_and_sends_the_latest_once() -> None:
    rig = meterRig()
    start = rig.clock.seconds()
    rig.provider.Rate = 1
    rig.clock.advance(0)
    assert events(rig) == [{"Rate": "1"}]
    rig.clock.advance(1)
    rig.provider.Rate = 2
    rig.clock.advance(1)
    rig.provider.Rate = 3
    rig.clock.advance(1)
    assert events(rig) == []
    rig.clock.advance(start + 10 - rig.clock.seconds() - 0.01)
    assert events(rig) == []
    rig.clock.advance(0.01)
    assert events(rig) == [{"Rate": "3"}]
    rig.clock.advance(100)
    assert events(rig) == []
    # Long after the last event, a change goes at once; the next is held for
    # a full interval after it.
    rig.provider.Rate = 4
    rig.clock.advance(0)
    assert events(rig) == [{"Rate": "4"}]
    rig.clock.advance(2)
    rig.provider.Rate = 5
    rig.clock.advance(7.9)
    assert events(rig) == []
    rig.clock.advance(0.1)
    assert events(rig) == [{"Rate": "5"}]


def test_maximum_rate_does_not_hold_other_variables() -> None:
    rig = meterRig()
    rig.provider.Rate = 1
    rig.clock.advance(0)
    events(rig)
    rig.provider.Rate = 2
    rig.provider.Plain = 9
    rig.clock.advance(0)
    assert events(rig) == [{"Plain": "9"}]
    rig.clock.advance(10)
    assert events(rig) == [{"Rate": "2"}]


def test_a_held_change_undone_sends_nothing() -> None:
    rig = meterRig()
    rig.provider.Rate = 1
    rig.clock.advance(0)
    events(rig)
    rig.provider.Rate = 2
    rig.provider.Rate = 1
    rig.clock.advance(20)
    assert events(rig) == []


def test_minimum_delta_sends_only_big_enough_moves() -> None:
    rig = meterRig()
    sent = []
    for watts in (3, 4, -4, 6, 9, 2, 1, -5, 100):
        rig.provider.Watts = watts
        rig.clock.advance(0)
        sent += [v["Watts"] for v in events(rig)]
    # Each compared with the last value sent: 0, then 6, 1, -5, 100.
    assert sent == ["6", "1", "-5", "100"]


# -- bounds -----------------------------------------------------------------------------


def test_subscriptions_per_service_are_bounded(logged: list[dict[str, Any]]) -> None:
    rig = Rig(settings=EventingSettings(maxSubscriptions=3, maxSubscriptionsPerSource=10))
    sids = [rig.subscribe(peer=f"10.0.0.{n}").header(b"sid") for n in (1, 2, 3)]
    response = rig.subscribe(peer="10.0.0.4")
    assert response.status == 503
    assert response.header(b"sid") is None
    assert len(rig.eventing.subscriptions) == 3
    *added, line = eventingLines(logged)
    assert line == "SUBSCRIBE from 10.0.0.4 refused (503): 3 subscriptions already"
    assert added == [
        f"New subscriber {sid.decode()} to urn:schemas-example-com:serviceId:Thermo "
        f"from 10.0.0.{n} for 1800 s" for n, sid in zip((1, 2, 3), sids) if sid
    ]
    # Renewals still work; a place freed is taken again.
    assert rig.renew(sids[0] or b"", peer="10.0.0.1").status == 200
    assert rig.unsubscribe(sids[1], peer="10.0.0.2").status == 200
    assert eventingLines(logged)[-1] == f"Subscriber {(sids[1] or b'').decode()} unsubscribed"
    assert rig.subscribe(peer="10.0.0.4").status == 200


def test_subscriptions_per_source_are_bounded(logged: list[dict[str, Any]]) -> None:
    thermo, meter = Thermo(), Meter()
    rig = Rig(
        root=device(services=(thermo.service(), meter.service())),
        settings=EventingSettings(maxSubscriptionsPerSource=2),
    )
    assert rig.subscribe().status == 200
    assert rig.subscribe().status == 200
    response = rig.subscribe()
    assert response.status == 503
    [line] = [line for line in eventingLines(logged) if "refused" in line]
    assert line == (
        "SUBSCRIBE from 127.0.0.1 refused (503): 127.0.0.1 has 2 subscriptions already"
    )
    # Another source, and another service, are not affected.
    assert rig.subscribe(peer="10.0.0.2").status == 200
    assert rig.subscribe(path=b"/svc/Meter/event").status == 200


def test_expired_subscriptions_do_not_count_against_the_bounds() -> None:
    rig = Rig(settings=EventingSettings(maxSubscriptions=1))
    assert rig.subscribe(timeout="Second-100").status == 200
    assert rig.subscribe(peer="10.0.0.2").status == 503
    rig.clock.advance(100)
    assert rig.subscribe(peer="10.0.0.2").status == 200


def test_expired_subscriptions_are_swept_by_the_clock(rig: Rig) -> None:
    short = [rig.subscribed(peer=f"10.0.0.{n}", timeout="Second-100") for n in (1, 2)]
    long = rig.subscribed(peer="10.0.0.3", timeout="Second-1000")
    assert set(rig.eventing.subscriptions) == {*short, long}
    # Step by step, so that each sweep sees its own time.
    for _ in range(100 + 60):
        rig.clock.advance(1)
    assert list(rig.eventing.subscriptions) == [long]
    rig.closeAll()
    assert [c.func for c in rig.clock.getDelayedCalls()] == [rig.eventing._sweeper]
    for _ in range(1000):
        rig.clock.advance(1)
    assert rig.eventing.subscriptions == {}
    assert rig.clock.getDelayedCalls() == []
    assert rig.notifier.sent == []


def test_an_expired_subscription_gets_no_notify_before_the_sweep(rig: Rig) -> None:
    rig.subscribed(peer="10.0.0.1", timeout="Second-1000")
    rig.clock.advance(30)
    expiring = rig.subscribed(peer="10.0.0.2", timeout="Second-60")
    # It expires at 90; the sweeps run at 60 and 120.
    for _ in range(70):
        rig.clock.advance(1)
    assert rig.clock.seconds() > rig.eventing.subscriptions[expiring].expires
    rig.provider.Level = 1
    rig.clock.advance(0)
    assert expiring not in {s.sid for s in rig.notifier.take()}


def test_subscribe_unsubscribe_cycles_leave_nothing_behind() -> None:
    rig = Rig(notifier=FakeNotifier(auto=200, keep=False))
    eventing = rig.eventing

    def cycles(n: int) -> None:
        for _ in range(n):
            response = rig.subscribe()
            assert response.status == 200
            rig.clock.advance(INITIAL_EVENT_DELAY)
            assert rig.unsubscribe(response.header(b"sid")).status == 200

    # One subscriber that stays: the sweep keeps running.
    keeper = rig.subscribe(peer="10.0.0.2").header(b"sid")
    cycles(100)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        cycles(1000)
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    growth = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    assert growth < 200_000, growth
    assert rig.notifier.count == 1 + 1100
    assert list(eventing.subscriptions) == [(keeper or b"").decode()]
    assert eventing._held == {} and eventing._changes == {} and eventing._flushCall is None
    rig.closeAll()
    assert [c.func for c in rig.clock.getDelayedCalls()] == [eventing._sweeper]
    assert rig.unsubscribe(keeper, peer="10.0.0.2").status == 200
    rig.closeAll()
    assert eventing.subscriptions == {}
    assert rig.clock.getDelayedCalls() == []


def test_unsubscribing_before_the_initial_event_sends_nothing(rig: Rig) -> None:
    for _ in range(20):
        sid = rig.subscribe().header(b"sid")
        assert rig.unsubscribe(sid).status == 200
    rig.clock.advance(INITIAL_EVENT_DELAY)
    assert rig.notifier.sent == []
    rig.closeAll()
    assert rig.clock.getDelayedCalls() == []


# -- stopping ----------------------------------------------------------------------------


def test_stop_eventing_drops_everything_and_unwatches() -> None:
    meter = Meter()
    rig = Rig(meter)
    rig.subscribed()
    eventing = rig.eventing
    meter.Rate = 1
    rig.clock.advance(0)
    events(rig)
    meter.Rate = 2  # held by maximumRate
    meter.Plain = 3  # not flushed yet
    assert eventing._held and eventing._flushCall is not None
    rig.closeAll()
    rig.site.stopEventing()
    assert eventing.subscriptions == {}
    assert rig.site.eventing == {}
    assert meter._watchers == []
    assert rig.clock.getDelayedCalls() == []
    meter.Plain = 4
    meter.Watts = 50
    rig.clock.advance(100)
    assert rig.notifier.sent == []


def test_service_eventing_stop_with_a_notify_in_flight() -> None:
    thermo = Thermo()
    clock = Clock()
    notifier = FakeNotifier()
    eventing = ServiceEventing(thermo.service(), EventingSettings(), clock, notifier)
    assert len(thermo._watchers) == 1
    subscription = eventing.subscribe(("http://127.0.0.1:5000/",), None, "127.0.0.1", None)
    eventing.ready(subscription)
    [initial] = notifier.take()
    assert initial.bindAddress is None
    eventing.stop()
    assert thermo._watchers == []
    assert not subscription.active
    # The answer that comes back later does no harm and sends nothing.
    initial.ok()
    thermo.Level = 1
    clock.advance(100)
    assert notifier.sent == []
    assert clock.getDelayedCalls() == []
    # Stopping twice is fine.
    eventing.stop()


def test_set_device_stops_the_old_eventing() -> None:
    thermo = Thermo()
    rig = Rig(thermo)
    rig.subscribed()
    old = rig.eventing
    rig.site.setDevice(device(services=(Meter().service(),)))
    assert old.subscriptions == {}
    assert thermo._watchers == []
    thermo.Level = 1
    rig.clock.advance(1)
    assert rig.notifier.sent == []
    assert list(rig.site.eventing) == ["/svc/Meter/event"]


# -- HTTPNotifier on loopback ---------------------------------------------------------------




















def test_a_callback_with_a_zone_is_refused() -> None:
    import ipaddress

    from upnp_announce.device.eventing import CallbackPolicy, Refused

    policy = CallbackPolicy("subnet", {"fe80::1": ipaddress.ip_network("fe80::/64")})
    with pytest.raises(Refused) as refused:
        policy.check("<http://[fe80::2%25lo]:80/>", "fe80::2", "fe80::1%eth0")
    assert refused.value.status == 412
    assert policy.check("<http://[fe80::2]:80/x>", "fe80::2", "fe80::1%eth0") == (
        "http://[fe80::2]:80/x",
    )


def test_a_peer_subscribing_in_a_loop_cannot_flood_the_log(logged: list[dict[str, Any]]) -> None:
    rig = Rig()
    for _ in range(60):
        sid = rig.subscribe().header(b"sid")
        assert rig.unsubscribe(sid).status == 200
    for _ in range(60):
        assert rig.subscribe(nt="upnp:nope").status == 412
    lines = eventingLines(logged)
    # Twenty of each kind in ten seconds, and one refusal of a kind.
    assert sum(line.startswith("New subscriber") for line in lines) == 20
    assert sum(line.endswith(" unsubscribed") for line in lines) == 20
    assert [line for line in lines if "refused" in line] == [
        "SUBSCRIBE from 127.0.0.1 refused (412): NT is 'upnp:nope', not upnp:event"
    ]
    # Ten seconds later the next line says how many were held back.
    rig.clock.advance(10)
    rig.subscribe()
    assert eventingLines(logged)[-1].endswith("(40 more like it in the last 10 s)")


# -- LeanNotifier's connections, without sockets ----------------------------------------


def lean_connection() -> tuple[Any, Any, Any]:
    from twisted.internet.testing import StringTransport

    from upnp_announce.device.eventing import LeanNotifier, _NotifyConnection

    notifier = LeanNotifier(Clock(), EventingSettings())
    connection = _NotifyConnection(notifier)
    transport = StringTransport()
    connection.makeConnection(transport)
    return notifier, connection, transport


@pytest.mark.parametrize("answer, status, kept", [
    (b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 200, True),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 200, True),
    (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 200, True),
    (b"HTTP/1.1 412 Precondition Failed\r\ncontent-length: 0\r\n\r\n", 412, True),
    (b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", 200, False),
    (b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", 200, False),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 200, False),
    (b"HTTP/1.1 200 OK\r\n\r\n", 200, False),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n", 200, False),
])
def test_a_lean_notify_reads_the_status_and_keeps_only_a_reusable_connection(
    answer: bytes, status: int, kept: bool,
) -> None:
    notifier, connection, transport = lean_connection()
    got: list[object] = []
    d: defer.Deferred[int] = defer.Deferred()
    d.addBoth(got.append)
    key = (None, "127.0.0.1", 9)
    connection.send(b"NOTIFY / HTTP/1.1\r\n\r\n", d, key)
    assert transport.value() == b"NOTIFY / HTTP/1.1\r\n\r\n"
    # In pieces, as TCP may deliver it.
    for i in range(0, len(answer), 7):
        connection.dataReceived(answer[i:i + 7])
    assert got == [status]
    assert (notifier._idle.get(key) == [connection]) is kept
    assert transport.disconnecting is not kept


@pytest.mark.parametrize("answer", [
    b"SSH-2.0-OpenSSH\r\n\r\n",
    b"HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n",   # not a status code
    b"HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n",
])
def test_a_lean_notify_that_is_not_http_fails(answer: bytes) -> None:
    _, connection, transport = lean_connection()
    got: list[object] = []
    d: defer.Deferred[int] = defer.Deferred()
    d.addErrback(lambda f: got.append(f.type))
    connection.send(b"NOTIFY / HTTP/1.1\r\n\r\n", d, (None, "127.0.0.1", 9))
    connection.dataReceived(answer)
    assert got == [ValueError] and transport.disconnecting


def test_a_lean_notifier_writes_the_request_once_as_bytes() -> None:
    from upnp_announce.device.eventing import LeanNotifier

    notifier = LeanNotifier(Clock(), EventingSettings())
    start, uri = notifier._target("http://192.0.2.9:8080/cb/x?y=1")
    assert start == b"NOTIFY /cb/x?y=1 HTTP/1.1\r\nHOST: 192.0.2.9:8080"
    start, _ = notifier._target("http://[fd00::9]:80/")
    assert start == b"NOTIFY / HTTP/1.1\r\nHOST: [fd00::9]:80"
