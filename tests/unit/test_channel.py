"""
The lean channel: what it answers itself is byte for byte what the
twisted.web channel answers (Date aside), and everything else it hands
over, with every byte, to the twisted.web channel, which answers as it
always has.
"""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet.address import IPv4Address
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport

from upnp_announce import logs
from upnp_announce.device import site as web
from upnp_announce.device.channel import LeanChannel

from support import Response, light, parse_responses, request

SWITCH = "urn:schemas-upnp-org:service:SwitchPower:1"
XML = b'text/xml; charset="utf-8"'


def call(action: str = "GetStatus", arguments: str = "") -> bytes:
    return (
        '<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">'
        f'<s:Body><u:{action} xmlns:u="{SWITCH}">{arguments}</u:{action}></s:Body>'
        "</s:Envelope>"
    ).encode()


@pytest.fixture
def site() -> web.DeviceSite:
    site = web.DeviceSite(light(), reactor=Clock())
    site.addAddress("127.0.0.1", 8000)
    return site


def control(site: web.DeviceSite) -> bytes:
    return site.descriptions.layout.services[0].control.encode()


def soap(site: web.DeviceSite, body: bytes | None = None, **headers: bytes) -> bytes:
    names = {b"Content-Type": XML, b"SOAPAction": f'"{SWITCH}#GetStatus"'.encode()}
    names.update({k.replace("_", "-").encode(): v for k, v in headers.items()})
    return request(method=b"POST", path=control(site), headers=names,
                   body=call() if body is None else body)


class Connection:
    def __init__(self, protocol: Any) -> None:
        self.transport = StringTransport(
            hostAddress=IPv4Address("TCP", "127.0.0.1", 8000),
            peerAddress=IPv4Address("TCP", "127.0.0.1", 40000),
        )
        self.protocol = protocol
        protocol.makeConnection(self.transport)

    def send(self, *pieces: bytes, head: bool = False) -> list[Response]:
        for piece in pieces:
            self.protocol.dataReceived(piece)
        return parse_responses(self.transport.value(), head=head)


def lean(site: web.DeviceSite) -> Connection:
    return Connection(site.buildProtocol(IPv4Address("TCP", "127.0.0.1", 40000)))


def twisted(site: web.DeviceSite) -> Connection:
    return Connection(site.twistedChannel(IPv4Address("TCP", "127.0.0.1", 40000)))


def same(a: list[Response], b: list[Response]) -> None:
    """
    The same answers, headers and all, but for Date (the twisted.web
    channel reads the wall clock, the lean one the site's) and a new
    subscription's SID.
    """
    assert len(a) == len(b)
    vary = (b"date", b"sid")
    for x, y in zip(a, b):
        assert (x.status, x.reason, x.body) == (y.status, y.reason, y.body)
        assert {k: v for k, v in x.headers.items() if k not in vary} == {
            k: v for k, v in y.headers.items() if k not in vary}
        assert len(x.headers.get(b"date", [])) == len(y.headers.get(b"date", []))


def test_every_fixed_get_is_answered_as_twisted_web_answers_it(site: web.DeviceSite) -> None:
    paths = [*site.descriptions.documents, *site._routes]
    for path in paths:
        raw = request(path=path.encode() if isinstance(path, str) else path)
        if raw.startswith(b"GET " + control(site)):
            continue
        connection = lean(site)
        got = connection.send(raw)
        same(got, twisted(site).send(raw))
        assert got[0].status == 200
        assert connection.protocol.other is None, path


def test_head_has_the_length_and_no_body(site: web.DeviceSite) -> None:
    connection = lean(site)
    [head] = connection.send(request(method=b"HEAD"), head=True)
    assert connection.transport.value().endswith(b"\r\n\r\n")
    assert head.status == 200
    document = site.descriptions.documents["/description.xml"]
    assert head.header(b"content-length") == str(len(document)).encode()
    assert connection.protocol.other is None


def test_a_soap_call_is_answered_as_twisted_web_answers_it(site: web.DeviceSite) -> None:
    for raw in (soap(site), soap(site, call("GetTarget")),
                soap(site, call("SetTarget", "<newTargetValue>1</newTargetValue>"),
                     SOAPAction=f'"{SWITCH}#SetTarget"'.encode()),
                # A fault (an unknown action) is an answer too.
                soap(site, call("Nope"), SOAPAction=f'"{SWITCH}#Nope"'.encode())):
        connection = lean(site)
        got = connection.send(raw)
        same(got, twisted(site).send(raw))
        assert connection.protocol.other is None
    assert got[0].status == 500 and b"<errorCode>401</errorCode>" in got[0].body


def test_pipelined_and_split_requests_are_answered_in_order(site: web.DeviceSite) -> None:
    raw = request() + soap(site) + request(path=b"/description.xml")
    connection = lean(site)
    # One byte at a time.
    got = connection.send(*(raw[i:i + 1] for i in range(len(raw))))
    assert [r.status for r in got] == [200, 200, 200]
    assert b"GetStatusResponse" in got[1].body
    assert got[0].body == got[2].body == site.descriptions.documents["/description.xml"]
    assert connection.protocol.other is None


def test_connection_close_is_honoured(site: web.DeviceSite) -> None:
    connection = lean(site)
    [response] = connection.send(request(headers={b"Connection": b"close"}) + request())
    assert response.header(b"connection") == b"close"
    assert connection.transport.disconnecting


@pytest.mark.parametrize("raw", [
    request(method=b"SUBSCRIBE", path=b"/svc/SwitchPower/event",
            headers={b"CALLBACK": b"<http://127.0.0.1:9/>", b"NT": b"upnp:event"}),
    request(path=b"/nothing-here"),
    request(path=b"/description.xml?x=1"),
    request(path=b"/descr%69ption.xml"),
    request(host=b"evil.example:8000"),
    request(host=None),
    request(version=b"HTTP/1.0"),
    request(headers={b"Connection": b"upgrade"}),
    request(headers={b"Expect": b"100-continue"}),
    request(method=b"POST"),
    request(method=b"DELETE"),
    request(headers={b"Host": b"127.0.0.1:8000"}),
    b"GET /description.xml HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nX-A: 1\r\n  folded\r\n\r\n",
])
def test_anything_else_is_handed_over_and_answered_as_before(
    site: web.DeviceSite, raw: bytes,
) -> None:
    connection = lean(site)
    got = connection.send(raw)
    assert connection.protocol.other is not None
    same(got, twisted(site).send(raw))


@pytest.mark.parametrize("change", [
    {"Content_Type": b"application/json"},
    {"Origin": b"http://evil.example"},
    {"Transfer_Encoding": b"chunked"},
])
def test_soap_calls_the_tree_refuses_are_handed_over(
    site: web.DeviceSite, change: dict[str, bytes],
) -> None:
    raw = soap(site, **change)
    connection = lean(site)
    got = connection.send(raw)
    assert connection.protocol.other is not None
    if "Transfer_Encoding" not in change:
        same(got, twisted(site).send(raw))
        assert got[0].status in (403, 415)


def test_bad_and_oversized_soap_bodies_are_handed_over(site: web.DeviceSite) -> None:
    for body in (b"<not-xml", b'<?xml version="1.0"?><!DOCTYPE x []><x/>', b"x" * 70000):
        raw = soap(site, body)
        connection = lean(site)
        got = connection.send(raw)
        assert connection.protocol.other is not None
        same(got, twisted(site).send(raw))
        assert got[0].status in (400, 413)


def test_after_a_hand_over_twisted_web_serves_the_connection(site: web.DeviceSite) -> None:
    connection = lean(site)
    first = connection.send(request() + request(path=b"/nothing-here") + request())
    assert [r.status for r in first] == [200, 404, 200]
    other = connection.protocol.other
    assert other is not None
    connection.protocol.dataReceived(request(host=b"evil.example:8000"))
    assert parse_responses(connection.transport.value())[-1].status == 403


def test_with_access_lines_on_twisted_web_serves(site: web.DeviceSite,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logs, "_enabled", {"http"})
    connection = lean(site)
    assert connection.send(request())[0].status == 200
    assert connection.protocol.other is not None


def test_an_oversized_head_is_handed_over(site: web.DeviceSite) -> None:
    connection = lean(site)
    connection.send(b"GET /description.xml HTTP/1.1\r\nX: " + b"a" * 20000)
    assert connection.protocol.other is not None


def test_the_lean_channel_is_what_the_site_builds(site: web.DeviceSite) -> None:
    assert isinstance(site.buildProtocol(None), LeanChannel)


def test_a_later_answer_holds_the_requests_behind_it(site: web.DeviceSite,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from twisted.internet import defer

    leaf = site.fixedRoute(control(site))
    later: defer.Deferred[tuple[int, bytes]] = defer.Deferred()
    monkeypatch.setattr(leaf, "invoke", lambda soapAction, call: later)
    connection = lean(site)
    assert connection.send(soap(site) + request()) == []
    assert connection.transport.producerState == "paused"
    later.callback((200, b"<later/>"))
    [first, second] = parse_responses(connection.transport.value())
    assert (first.status, first.body) == (200, b"<later/>")
    assert first.header(b"ext") == b""
    assert second.body == site.descriptions.documents["/description.xml"]
    assert connection.transport.producerState == "producing"


def test_a_site_whose_tree_lookup_is_replaced_serves_everything_through_it(
    site: web.DeviceSite,
) -> None:
    seen: list[bytes] = []
    original = site.getResourceFor

    def counting(request: Any) -> Any:
        seen.append(request.path)
        return original(request)

    site.getResourceFor = counting  # type: ignore[method-assign]
    connection = lean(site)
    assert not isinstance(connection.protocol, LeanChannel)
    assert connection.send(request())[0].status == 200
    assert seen == [b"/description.xml"]

    class Mine(web.DeviceSite):
        def log(self, request: Any) -> None:
            seen.append(b"logged")

    mine = Mine(light(), reactor=Clock())
    assert not isinstance(mine.buildProtocol(None), LeanChannel)


# -- hostile peers: what twisted.web's channel bounds, the lean one bounds too ------------


def test_a_peer_that_never_reads_is_aborted_after_the_close(site: web.DeviceSite) -> None:
    from upnp_announce.device.channel import ABORT_TIMEOUT

    clock = site._clock
    connection = lean(site)
    connection.send(request())
    clock.advance(site.timeOut)
    # Idle: closed once its answers are sent...
    assert connection.transport.disconnecting and not connection.transport.disconnected
    clock.advance(ABORT_TIMEOUT - 0.1)
    assert not connection.transport.disconnected
    # ...and aborted when they are not taken.
    clock.advance(0.2)
    assert connection.transport.disconnected
    # A connection that goes away in time leaves nothing behind.
    other = lean(site)
    other.send(request(headers={b"Connection": b"close"}))
    assert other.transport.disconnecting
    other.protocol.connectionLost()
    assert clock.getDelayedCalls() == [] or all(
        not c.active() for c in clock.getDelayedCalls())


def test_a_whole_head_over_the_limit_is_refused_as_twisted_web_refuses_it(
    site: web.DeviceSite,
) -> None:
    from upnp_announce.device.channel import MAX_HEAD

    for raw in (request(headers={b"X-Pad": b"a" * (MAX_HEAD + 100)}),
                soap(site, X_Pad=b"a" * (MAX_HEAD + 100))):
        connection = lean(site)
        got = connection.send(raw)
        assert connection.protocol.other is not None
        assert [r.status for r in got] == [r.status for r in twisted(site).send(raw)]
        assert all(r.status != 200 for r in got)
    # Just under the limit, it is answered.
    raw = request(headers={b"X-Pad": b"a" * (MAX_HEAD - 200)})
    connection = lean(site)
    assert connection.send(raw)[0].status == 200
    assert connection.protocol.other is None


def test_a_nul_in_a_header_is_left_to_twisted_web(site: web.DeviceSite) -> None:
    for raw in (request(headers={b"X-A": b"a\x00b"}), soap(site, SOAPAction=b'"x\x00"')):
        connection = lean(site)
        got = connection.send(raw)
        assert connection.protocol.other is not None
        same(got, twisted(site).send(raw))
        assert got[0].status == 400


def test_a_body_trickling_in_is_read_once(site: web.DeviceSite,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # A slow sender costs a segment's bytes, not the buffer's, each time:
    # the head is read once, and the body is not searched again.
    from upnp_announce.device import channel

    parsed: list[bytes] = []
    original = channel._parse_head

    def counting(head: bytes) -> Any:
        parsed.append(head)
        return original(head)

    monkeypatch.setattr(channel, "_parse_head", counting)
    raw = soap(site, X_Pad=b"a" * 8000)
    connection = lean(site)
    for i in range(len(raw)):
        connection.protocol.dataReceived(raw[i:i + 1])
    [answer] = parse_responses(connection.transport.value())
    assert answer.status == 200 and b"GetStatusResponse" in answer.body
    assert len(parsed) == 1
    assert connection.protocol._searched == 0


def test_reading_stops_while_the_answers_are_not_taken(site: web.DeviceSite) -> None:
    connection = lean(site)
    protocol, transport = connection.protocol, connection.transport
    assert transport.producer is protocol and transport.streaming
    # The transport's buffer is full: nothing more is read or answered...
    protocol.pauseProducing()
    assert transport.producerState == "paused"
    connection.send(request() + request())
    assert transport.value() == b""
    # ...until it has room again, when what was read is answered in order.
    protocol.resumeProducing()
    assert [r.status for r in parse_responses(transport.value())] == [200, 200]
    assert transport.producerState == "producing"


def test_a_hand_over_gives_the_transport_to_twisted_web_producing(
    site: web.DeviceSite,
) -> None:
    connection = lean(site)
    protocol, transport = connection.protocol, connection.transport
    protocol.pauseProducing()
    connection.send(request(path=b"/nothing-here"))
    protocol.resumeProducing()
    assert protocol.other is not None
    assert transport.producer is not protocol
    assert transport.producerState == "producing"
    assert parse_responses(transport.value())[0].status == 404


def test_a_call_that_raises_is_a_500_and_the_connection_ends(
    site: web.DeviceSite, monkeypatch: pytest.MonkeyPatch, logged: list[dict[str, Any]],
) -> None:
    def broken(soapAction: object, call: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(site.fixedRoute(control(site)), "invoke", broken)
    connection = lean(site)
    [answer] = connection.send(soap(site) + request())
    assert answer.status == 500 and answer.header(b"connection") == b"close"
    assert connection.transport.disconnecting
    assert any(e.get("log_failure") is not None
               and e["log_failure"].check(RuntimeError) for e in logged)
