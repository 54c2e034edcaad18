"""
SOAP control at each service's controlURL, through in-memory HTTP and a
Clock: no sockets, no sleeps.
"""

from __future__ import annotations

import gc
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from twisted.internet import defer
from twisted.internet.error import ConnectionDone
from twisted.internet.task import Clock, deferLater
from twisted.logger import ILogObserver, LogLevel, formatEvent, globalLogPublisher
from twisted.python.failure import Failure
from zope.interface import implementer
from zope.interface.verify import verifyObject

from upnp_announce import config, model
from upnp_announce.device import control
from upnp_announce.device import site as web
from upnp_announce.provider import IServiceProvider, ServiceProvider, StateVariable, action
from upnp_announce.wire.http import MAX_BODY, CappedBody
from upnp_announce.wire.product import SERVER
from upnp_announce.wire.soap import CONTROL_NS, ENVELOPE_NS, UPnPError

from support import MemoryHTTP, Response, device, example, light, parse_responses, request

KITCHEN = "urn:schemas-example-com:service:Kitchen:2"
KITCHEN_1 = "urn:schemas-example-com:service:Kitchen:1"
KITCHEN_3 = "urn:schemas-example-com:service:Kitchen:3"
HOST = b"127.0.0.1:8000"
SOAP_XML = b'text/xml; charset="utf-8"'


class Kitchen(ServiceProvider):
    """
    A test provider with one action per way of answering.
    """

    serviceType = KITCHEN
    serviceId = "urn:schemas-example-com:serviceId:Kitchen"

    Flag = StateVariable("boolean", default=False)
    Count = StateVariable("ui4", default=0)
    Small = StateVariable("ui1", default=0)
    Level = StateVariable("i4", default=50, range=(10, 100, 5))
    Mode = StateVariable("string", default="Auto", allowed=("Auto", "Manual", "Off"))
    Label = StateVariable("string", default="", maxLength=8)
    Zeta = StateVariable("string", default="z")
    Alpha = StateVariable("ui4", default=7)

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self.clock = clock
        self.calls: list[tuple[str, tuple[object, ...]]] = []
        self.pending: list[defer.Deferred[Any]] = []

    @action(
        newFlag=Flag, newCount=Count, newSmall=Small, newLevel=Level, newMode=Mode,
        newLabel=Label,
    )
    def Store(self, *values: object) -> None:
        self.calls.append(("Store", values))

    @action(returns={"Zeta": Zeta, "Alpha": Alpha})
    def GetPair(self) -> dict[str, object]:
        self.calls.append(("GetPair", ()))
        # Alphabetical here: the answer must still follow the declaration.
        return {"Alpha": self.Alpha, "Zeta": self.Zeta}

    @action(returns={"Result": Alpha})
    def Count1(self) -> int:
        return 1

    @action(returns={"Zeta": Zeta, "Alpha": Alpha})
    def Later(self) -> defer.Deferred[dict[str, object]]:
        return deferLater(self.clock, 5, lambda: {"Zeta": "later", "Alpha": 5})

    @action(returns={"Zeta": Zeta, "Alpha": Alpha})
    async def CoroNow(self) -> dict[str, object]:
        return {"Zeta": "now", "Alpha": 0}

    @action(returns={"Zeta": Zeta, "Alpha": Alpha})
    async def CoroLater(self) -> dict[str, object]:
        await deferLater(self.clock, 1, lambda: None)
        return {"Zeta": "coro", "Alpha": 1}

    @action(returns={"Zeta": Zeta})
    async def CoroTooLong(self) -> str:
        await deferLater(self.clock, 40, lambda: None)
        self.calls.append(("CoroTooLong", ()))
        return "too late"

    @action()
    def Hang(self) -> defer.Deferred[None]:
        d: defer.Deferred[None] = defer.Deferred()
        self.pending.append(d)
        return d

    @action()
    def Fail(self) -> None:
        raise RuntimeError("the oven is on fire")

    @action()
    def FailLater(self) -> defer.Deferred[None]:
        return deferLater(self.clock, 1, self.Fail)

    @action()
    def Refuse(self) -> None:
        raise UPnPError(714, "No such entry")

    @action()
    def RefuseLater(self) -> defer.Deferred[None]:
        def refuse() -> None:
            raise UPnPError(801, "Vendor says <no> & means it")

        return deferLater(self.clock, 1, refuse)

    @action(returns={"Zeta": Zeta, "Alpha": Alpha})
    def Missing(self) -> dict[str, object]:
        return {"Zeta": "z"}

    @action(returns={"Zeta": Zeta, "Alpha": Alpha})
    def Extra(self) -> dict[str, object]:
        return {"Zeta": "z", "Alpha": 1, "Omega": 2}

    @action(returns={"Zeta": Zeta, "Alpha": Alpha})
    def WrongType(self) -> dict[str, object]:
        return {"Zeta": "z", "Alpha": "seven"}

    @action(returns={"Zeta": Zeta, "Alpha": Alpha})
    def NotADict(self) -> object:
        return ["z", 1]

    @action(returns={"Result": Alpha})
    def OutOfRange(self) -> int:
        return -1


STORE_DEFAULTS = {
    "newFlag": "0", "newCount": "0", "newSmall": "0", "newLevel": "50", "newMode": "Auto",
    "newLabel": "",
}


def envelope(
    action: str, arguments: Sequence[tuple[str, str]] = (), namespace: str = KITCHEN
) -> bytes:
    inner = "".join(f"<{name}>{value}</{name}>" for name, value in arguments)
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<s:Envelope xmlns:s="{ENVELOPE_NS}" '
        's:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>'
        f'<u:{action} xmlns:u="{namespace}">{inner}</u:{action}>'
        "</s:Body></s:Envelope>"
    ).encode("utf-8")


def store(**changes: str) -> list[tuple[str, str]]:
    return list({**STORE_DEFAULTS, **changes}.items())


class Rig:
    """
    A device with one service, its site on a Clock, and one connection.
    """

    def __init__(self, provider: Any = None, root: model.Device | None = None) -> None:
        self.clock = Clock()
        self.provider: Any = None
        if root is None:
            self.provider = provider if provider is not None else Kitchen(self.clock)
            verifyObject(IServiceProvider, self.provider)
            root = device(services=(self.provider.service(),))
        self.site = web.DeviceSite(root, reactor=self.clock)
        self.site.addAddress("127.0.0.1", 8000)
        [paths] = self.site.descriptions.layout.services
        self.path = paths.control.encode()
        self.resource = paths.control
        self.bodies: list[CappedBody] = []
        self.stored: list[int] = []
        real = self.site.getContentFile

        def recording(length: int | None) -> CappedBody:
            body = real(length)
            self.bodies.append(body)
            close = body.close

            def recordingClose() -> None:
                # What the body held when twisted.web let it go.
                if not body.closed:
                    self.stored.append(len(body.getvalue()))
                close()

            body.close = recordingClose  # type: ignore[method-assign]
            return body

        self.site.getContentFile = recording  # type: ignore[method-assign]
        self.http = MemoryHTTP(self.site)

    def raw(
        self,
        body: bytes,
        headers: Mapping[bytes, bytes] | None = None,
        method: bytes = b"POST",
    ) -> list[Response]:
        return self.http.send(
            request(method=method, path=self.path, headers=dict(headers or {}), body=body)
        )

    def post(
        self,
        action: str,
        arguments: Sequence[tuple[str, str]] = (),
        *,
        namespace: str = KITCHEN,
        soapAction: bytes | None = None,
        contentType: bytes = SOAP_XML,
    ) -> list[Response]:
        if soapAction is None:
            soapAction = f'"{namespace}#{action}"'.encode()
        return self.raw(
            envelope(action, arguments, namespace),
            {b"SOAPACTION": soapAction, b"Content-Type": contentType},
        )

    def call(self, action: str, arguments: Sequence[tuple[str, str]] = (), **kw: Any) -> Response:
        [response] = self.post(action, arguments, **kw)
        return response

    def written(self) -> list[Response]:
        """
        What the connection was sent since the last request.
        """
        return parse_responses(self.http.transport.value())


@pytest.fixture
def rig() -> Rig:
    return Rig()


@pytest.fixture
def events() -> Iterator[list[dict[str, Any]]]:
    # What other tests left behind must not be logged into this one.
    gc.collect()
    captured: list[dict[str, Any]] = []
    observer = cast(ILogObserver, captured.append)
    globalLogPublisher.addObserver(observer)
    yield captured
    globalLogPublisher.removeObserver(observer)


def control_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e.get("log_namespace", "").startswith("upnp_announce.control")]


def answer(response: Response, namespace: str, action: str) -> list[tuple[str, str]]:
    """
    The out-arguments of a successful answer, after checking its structure.
    """
    assert response.status == 200, response.body
    check_soap_headers(response)
    root = etree.fromstring(response.body)
    assert root.tag == f"{{{ENVELOPE_NS}}}Envelope"
    [body] = root
    assert body.tag == f"{{{ENVELOPE_NS}}}Body"
    [element] = body
    assert element.tag == f"{{{namespace}}}{action}Response"
    assert element.prefix == "u"
    return [(child.tag, child.text or "") for child in element]


def fault(response: Response) -> tuple[int, str]:
    """
    The errorCode and errorDescription of a fault, after checking that it
    is exactly what UDA prescribes.
    """
    assert response.status == 500, response.body
    check_soap_headers(response)
    assert response.body.startswith(
        f'<?xml version="1.0" encoding="utf-8"?>\n<s:Envelope xmlns:s="{ENVELOPE_NS}"'.encode()
    )
    root = etree.fromstring(response.body)
    assert root.tag == f"{{{ENVELOPE_NS}}}Envelope"
    [body] = root
    assert body.tag == f"{{{ENVELOPE_NS}}}Body"
    [faultElement] = body
    assert faultElement.tag == f"{{{ENVELOPE_NS}}}Fault"
    assert [c.tag for c in faultElement] == ["faultcode", "faultstring", "detail"]
    assert faultElement[0].text == "s:Client"
    assert faultElement[1].text == "UPnPError"
    [error] = faultElement[2]
    assert error.tag == f"{{{CONTROL_NS}}}UPnPError"
    assert error.prefix is None
    assert [c.tag for c in error] == [
        f"{{{CONTROL_NS}}}errorCode",
        f"{{{CONTROL_NS}}}errorDescription",
    ]
    return int(error[0].text or ""), error[1].text or ""


def check_soap_headers(response: Response) -> None:
    assert response.headers[b"content-type"] == [SOAP_XML]
    assert response.headers[b"ext"] == [b""]
    assert response.headers[b"server"] == [SERVER.encode()]
    assert response.headers[b"content-length"] == [str(len(response.body)).encode()]
    assert b"transfer-encoding" not in response.headers


def code(response: Response) -> int:
    return fault(response)[0]


# -- a successful call ---------------------------------------------------------


def test_a_call_reaches_the_provider_with_converted_values(rig: Rig) -> None:
    response = rig.call(
        "Store",
        store(newFlag="yes", newCount="4294967295", newSmall="255", newLevel="15",
              newMode="Manual", newLabel="12345678"),
    )
    assert answer(response, KITCHEN, "Store") == []
    [(name, values)] = rig.provider.calls
    assert name == "Store"
    assert values == (True, 4294967295, 255, 15, "Manual", "12345678")
    assert [type(v) for v in values] == [bool, int, int, int, str, str]


def test_out_arguments_come_in_declared_order(rig: Rig) -> None:
    rig.provider.Zeta = "last letter"
    rig.provider.Alpha = 42
    response = rig.call("GetPair")
    assert answer(response, KITCHEN, "GetPair") == [("Zeta", "last letter"), ("Alpha", "42")]


def test_out_values_are_escaped(rig: Rig) -> None:
    rig.provider.Zeta = "<a> & </b> ]]>"
    response = rig.call("GetPair")
    assert b"<Zeta>&lt;a&gt; &amp; &lt;/b&gt; ]]&gt;</Zeta>" in response.body
    assert answer(response, KITCHEN, "GetPair") == [("Zeta", "<a> & </b> ]]>"), ("Alpha", "7")]


def test_a_single_out_value_is_returned_bare(rig: Rig) -> None:
    assert answer(rig.call("Count1"), KITCHEN, "Count1") == [("Result", "1")]


def test_argument_order_does_not_matter(rig: Rig) -> None:
    arguments = list(reversed(store(newCount="9", newMode="Off")))
    assert answer(rig.call("Store", arguments), KITCHEN, "Store") == []
    assert rig.provider.calls == [("Store", (False, 9, 0, 50, "Off", ""))]


@pytest.mark.parametrize(
    "soapAction",
    [
        f'"{KITCHEN}#GetPair"'.encode(),
        f"{KITCHEN}#GetPair".encode(),
        f'  "{KITCHEN}#GetPair"  '.encode(),
    ],
    ids=["quoted", "unquoted", "spaced"],
)
def test_soapaction_quoted_or_not(rig: Rig, soapAction: bytes) -> None:
    response = rig.call("GetPair", soapAction=soapAction)
    assert answer(response, KITCHEN, "GetPair") == [("Zeta", "z"), ("Alpha", "7")]


def test_a_lower_version_is_served_and_echoed(rig: Rig) -> None:
    response = rig.call("GetPair", namespace=KITCHEN_1)
    assert answer(response, KITCHEN_1, "GetPair") == [("Zeta", "z"), ("Alpha", "7")]
    assert f'<u:GetPairResponse xmlns:u="{KITCHEN_1}">'.encode() in response.body


def test_a_higher_version_is_refused(rig: Rig) -> None:
    number, description = fault(rig.call("GetPair", namespace=KITCHEN_3))
    assert number == 401
    assert description == f"Invalid Action: this is {KITCHEN}"
    assert rig.provider.calls == []


def test_another_service_type_is_refused(rig: Rig) -> None:
    other = "urn:schemas-example-com:service:Pantry:1"
    assert code(rig.call("GetPair", namespace=other)) == 401
    assert rig.provider.calls == []


@pytest.mark.parametrize(
    "contentType",
    [b'text/xml; charset="utf-8"', b"text/xml", b"text/xml;charset=utf-8",
     b"TEXT/XML; charset=UTF-8"],
)
def test_xml_content_types_are_accepted(rig: Rig, contentType: bytes) -> None:
    assert answer(rig.call("GetPair", contentType=contentType), KITCHEN, "GetPair")


@pytest.mark.parametrize(
    "contentType",
    [b"application/json", b"text/plain", b"application/soap+xml", b"application/xml",
     b"application/x-www-form-urlencoded", b"multipart/form-data; boundary=x"],
)
def test_other_content_types_get_415(rig: Rig, contentType: bytes) -> None:
    response = rig.call("GetPair", contentType=contentType)
    assert response.status == 415
    assert response.header(b"content-type") == b"text/plain; charset=utf-8"
    assert rig.provider.calls == []


# -- M-POST --------------------------------------------------------------------

MAN = b'"http://schemas.xmlsoap.org/soap/envelope/"; ns=01'


def mpost(rig: Rig, headers: dict[bytes, bytes], action: str = "GetPair") -> Response:
    [response] = rig.raw(
        envelope(action), {b"Content-Type": SOAP_XML, **headers}, method=b"M-POST"
    )
    return response


def test_m_post_with_man_is_accepted(rig: Rig) -> None:
    response = mpost(rig, {b"MAN": MAN, b"01-SOAPACTION": f'"{KITCHEN}#GetPair"'.encode()})
    assert answer(response, KITCHEN, "GetPair") == [("Zeta", "z"), ("Alpha", "7")]


def test_m_post_with_another_ns_number(rig: Rig) -> None:
    response = mpost(
        rig,
        {
            b"MAN": b'"http://schemas.xmlsoap.org/soap/envelope/";ns=42',
            b"42-SOAPACTION": f"{KITCHEN}#GetPair".encode(),
        },
    )
    assert answer(response, KITCHEN, "GetPair") == [("Zeta", "z"), ("Alpha", "7")]


@pytest.mark.parametrize(
    "man",
    [
        None,
        b"",
        b'"http://schemas.xmlsoap.org/soap/envelope/"',
        b'"http://schemas.xmlsoap.org/soap/envelope/"; ns=',
        b'"http://schemas.xmlsoap.org/soap/envelope/"; ns=x1',
        b'"http://example.com/other/"; ns=01',
        b'"ssdp:discover"; ns=01',
    ],
)
def test_m_post_without_a_proper_man_gets_400(rig: Rig, man: bytes | None) -> None:
    headers = {b"01-SOAPACTION": f'"{KITCHEN}#GetPair"'.encode()}
    if man is not None:
        headers[b"MAN"] = man
    response = mpost(rig, headers)
    assert response.status == 400
    assert response.header(b"content-type") == b"text/plain; charset=utf-8"
    assert rig.provider.calls == []


def test_m_post_reads_only_the_prefixed_soapaction(rig: Rig) -> None:
    response = mpost(rig, {b"MAN": MAN, b"SOAPACTION": f'"{KITCHEN}#GetPair"'.encode()})
    assert fault(response) == (401, "Invalid Action: no SOAPACTION header")


# -- the request and its body ----------------------------------------------------


@pytest.mark.parametrize("method", [b"GET", b"HEAD", b"PUT", b"DELETE", b"SUBSCRIBE"])
def test_other_methods_get_405(rig: Rig, method: bytes) -> None:
    [response] = rig.http.send(
        request(method=method, path=rig.path), head=(method == b"HEAD")
    )
    assert response.status == 405
    assert response.header(b"allow") == b"POST, M-POST"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<s:Envelope",
        b"plain text",
        b"<Envelope><Body><u:GetPair/></Body></Envelope>",
        f'<s:Envelope xmlns:s="{ENVELOPE_NS}"/>'.encode(),
        f'<s:Envelope xmlns:s="{ENVELOPE_NS}"><s:Header/></s:Envelope>'.encode(),
        f'<s:Envelope xmlns:s="{ENVELOPE_NS}"><s:Body/></s:Envelope>'.encode(),
        f'<s:Envelope xmlns:s="{ENVELOPE_NS}"><s:Body><u:GetPair xmlns:u="{KITCHEN}"/>'
        f'<u:GetPair xmlns:u="{KITCHEN}"/></s:Body></s:Envelope>'.encode(),
        envelope("Store", [("newLabel", "<b>bold</b>")]).replace(b"&lt;", b"<"),
    ],
    ids=["empty", "truncated", "text", "no-soap-ns", "no-body", "header-only", "empty-body",
         "two-actions", "nested-argument"],
)
def test_what_is_not_one_action_call_gets_400(rig: Rig, body: bytes) -> None:
    [response] = rig.raw(
        body, {b"SOAPACTION": f'"{KITCHEN}#GetPair"'.encode(), b"Content-Type": SOAP_XML}
    )
    assert response.status == 400
    assert response.header(b"content-type") == b"text/plain; charset=utf-8"
    assert response.body.startswith(b"Not a SOAP action call: ")
    assert rig.provider.calls == []


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """
    Every document xmlsafe hands to lxml during the test.
    """
    seen: list[bytes] = []

    def spy(data: bytes, parser: Any = None) -> Any:
        seen.append(data)
        return etree.fromstring(data, parser)

    monkeypatch.setattr(
        "upnp_announce.wire.xmlsafe.etree",
        types.SimpleNamespace(fromstring=spy, XMLSyntaxError=etree.XMLSyntaxError),
    )
    return seen


XXE = (
    b'<?xml version="1.0" encoding="utf-8"?>\n'
    b'<!DOCTYPE s:Envelope [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    + envelope("Store", store(newLabel="&xxe;")).split(b"?>", 1)[1]
)


@pytest.mark.parametrize(
    "body",
    [
        XXE,
        XXE.decode().replace("utf-8", "utf-16").encode("utf-16"),
        b'<!DOCTYPE s:Envelope [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        + envelope("Store", store(newLabel="&b;")),
        b'<!DOCTYPE s:Envelope SYSTEM "http://192.0.2.1/evil.dtd">' + envelope("GetPair"),
    ],
    ids=["xxe", "xxe-utf16", "internal-entity", "external-dtd"],
)
def test_a_doctype_gets_400_unparsed_and_unexpanded(
    rig: Rig, body: bytes, parsed: list[bytes]
) -> None:
    [response] = rig.raw(
        body, {b"SOAPACTION": f'"{KITCHEN}#Store"'.encode(), b"Content-Type": SOAP_XML}
    )
    assert response.status == 400
    assert b"DOCTYPE" in response.body
    assert b"root:" not in response.body
    assert b"aaaa" not in response.body
    assert parsed == []
    assert rig.provider.calls == []


def test_a_utf32_doctype_is_refused_before_parsing(rig: Rig, parsed: list[bytes]) -> None:
    body = XXE.decode().replace("utf-8", "utf-32").encode("utf-32")
    [response] = rig.raw(
        body, {b"SOAPACTION": f'"{KITCHEN}#Store"'.encode(), b"Content-Type": SOAP_XML}
    )
    assert response.status == 400
    assert b"root:" not in response.body
    assert rig.provider.calls == []
    assert parsed == []


def test_the_spy_sees_a_body_without_doctype(rig: Rig, parsed: list[bytes]) -> None:
    # The spy of the test above does see what is parsed.
    assert rig.call("GetPair").status == 200
    assert parsed == [envelope("GetPair")]


def padded(size: int) -> bytes:
    body = envelope("GetPair")
    return body + b"\n" * (size - len(body))


def test_a_body_of_exactly_64_kb_is_served(rig: Rig) -> None:
    [response] = rig.raw(
        padded(65536), {b"SOAPACTION": f'"{KITCHEN}#GetPair"'.encode(), b"Content-Type": SOAP_XML}
    )
    assert answer(response, KITCHEN, "GetPair") == [("Zeta", "z"), ("Alpha", "7")]


def test_an_announced_length_over_64_kb_gets_413_and_is_not_kept(rig: Rig) -> None:
    [response] = rig.raw(
        padded(65537), {b"SOAPACTION": f'"{KITCHEN}#GetPair"'.encode(), b"Content-Type": SOAP_XML}
    )
    assert response.status == 413
    assert response.header(b"content-type") == b"text/plain; charset=utf-8"
    [body] = rig.bodies
    assert body.overflowed
    assert rig.stored == [0]
    assert rig.provider.calls == []


def chunked(rig: Rig, body: bytes, size: int) -> list[Response]:
    head = (
        b"POST " + rig.path + b" HTTP/1.1\r\nHost: " + HOST + b"\r\n"
        b"Content-Type: text/xml\r\nSOAPACTION: \"" + KITCHEN.encode() + b"#GetPair\"\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    rig.http.transport.clear()
    rig.http.protocol.dataReceived(head)
    stored = []
    for start in range(0, len(body), size):
        piece = body[start : start + size]
        rig.http.protocol.dataReceived(b"%x\r\n%s\r\n" % (len(piece), piece))
        [content] = rig.bodies
        stored.append(content.tell())
    rig.http.protocol.dataReceived(b"0\r\n\r\n")
    assert max(stored) <= 65536
    return rig.written()


def test_a_chunked_body_within_64_kb_is_served(rig: Rig) -> None:
    [response] = chunked(rig, padded(65536), 8192)
    assert answer(response, KITCHEN, "GetPair") == [("Zeta", "z"), ("Alpha", "7")]


def test_a_chunked_body_that_grows_over_64_kb_gets_413_and_memory_stays_bounded(
    rig: Rig,
) -> None:
    [response] = chunked(rig, padded(200_000), 16384)
    assert response.status == 413
    [content] = rig.bodies
    assert content.overflowed
    [stored] = rig.stored
    assert 0 < stored <= 65536
    assert rig.provider.calls == []


def test_capped_body_keeps_at_most_its_limit() -> None:
    body = CappedBody(10, None)
    assert body.write(b"123456") == 6
    assert not body.overflowed
    assert body.write(b"7890") == 4
    assert not body.overflowed
    assert body.write(b"x") == 1
    assert body.overflowed
    assert body.getvalue() == b"1234567890"
    assert body.write(b"more") == 4
    assert body.getvalue() == b"1234567890"


def test_capped_body_refuses_an_announced_length_over_its_limit() -> None:
    assert not CappedBody(10, 10).overflowed
    body = CappedBody(10, 11)
    assert body.overflowed
    body.write(b"12345")
    assert body.getvalue() == b""


def test_the_site_caps_bodies_at_64_kb() -> None:
    site = web.DeviceSite(device(), reactor=Clock())
    body = site.getContentFile(None)
    assert isinstance(body, CappedBody)
    assert body.limit == MAX_BODY == 65536


# -- which action --------------------------------------------------------------


def test_an_unknown_action_is_fault_401_not_http_400(rig: Rig) -> None:
    response = rig.call("Fly")
    assert response.status == 500
    assert fault(response) == (401, "Invalid Action: no action Fly")


def test_a_body_naming_another_action_than_soapaction_is_401(rig: Rig) -> None:
    response = rig.call("GetPair", soapAction=f'"{KITCHEN}#Count1"'.encode())
    assert fault(response) == (
        401, "Invalid Action: the body calls GetPair, SOAPACTION says Count1"
    )
    assert rig.provider.calls == []


def test_a_missing_soapaction_is_401(rig: Rig) -> None:
    [response] = rig.raw(envelope("GetPair"), {b"Content-Type": SOAP_XML})
    assert fault(response) == (401, "Invalid Action: no SOAPACTION header")
    assert rig.provider.calls == []


@pytest.mark.parametrize(
    "soapAction",
    [b"", b'""', b"GetPair", f'"{KITCHEN}"'.encode(), f'"{KITCHEN}#"'.encode(), b'"#GetPair"',
     f'"{KITCHEN}/GetPair"'.encode()],
)
def test_a_soapaction_without_type_sharp_action_is_401(rig: Rig, soapAction: bytes) -> None:
    assert code(rig.call("GetPair", soapAction=soapAction)) == 401
    assert rig.provider.calls == []


# -- in-arguments ----------------------------------------------------------------


@pytest.mark.parametrize(
    "arguments, description",
    [
        ([(n, v) for n, v in store() if n != "newMode"], "Invalid Args: missing newMode"),
        ([], "Invalid Args: missing newFlag, newCount, newSmall, newLevel, newMode, newLabel"),
        (store() + [("newColour", "red")], "Invalid Args: unexpected newColour"),
        (store() + [("newCount", "1")], "Invalid Args: repeated newCount"),
        ([(n, v) for n, v in store() if n != "newFlag"] + [("newflag", "1")],
         "Invalid Args: missing newFlag; unexpected newflag"),
    ],
    ids=["missing", "none", "extra", "repeated", "wrong-case"],
)
def test_in_arguments_must_be_exactly_the_declared_ones(
    rig: Rig, arguments: list[tuple[str, str]], description: str
) -> None:
    assert fault(rig.call("Store", arguments)) == (402, description)
    assert rig.provider.calls == []


def test_an_argument_to_an_action_without_any_is_402(rig: Rig) -> None:
    assert fault(rig.call("GetPair", [("x", "1")])) == (402, "Invalid Args: unexpected x")


def test_argument_errors_come_before_value_errors(rig: Rig) -> None:
    arguments = [(n, v) for n, v in store(newCount="abc") if n != "newMode"]
    assert code(rig.call("Store", arguments)) == 402


@pytest.mark.parametrize(
    "name, value, expected",
    [
        ("newFlag", "maybe", 600),
        ("newFlag", "", 600),
        ("newCount", "abc", 600),
        ("newCount", "1.5", 600),
        ("newCount", "", 600),
        ("newCount", "4294967296", 601),
        ("newCount", "-1", 601),
        ("newSmall", "256", 601),
        ("newLevel", "5", 601),
        ("newLevel", "9", 601),
        ("newLevel", "105", 601),
        ("newLevel", "101", 601),
        ("newLevel", "12", 601),
        ("newLevel", "99", 601),
        ("newMode", "Sometimes", 601),
        ("newMode", "auto", 601),
        ("newMode", "", 601),
        ("newLabel", "123456789", 605),
    ],
)
def test_each_value_is_converted_and_checked(
    rig: Rig, name: str, value: str, expected: int
) -> None:
    number, description = fault(rig.call("Store", store(**{name: value})))
    assert number == expected
    assert name in description
    assert description.startswith(
        {
            600: "Argument Value Invalid: ",
            601: "Argument Value Out of Range: ",
            605: "String Argument Too Long: ",
        }[expected]
    )
    assert rig.provider.calls == []


@pytest.mark.parametrize(
    "name, value, python",
    [
        ("newFlag", "true", True),
        ("newFlag", "1", True),
        ("newFlag", "no", False),
        ("newCount", " 5 ", 5),
        ("newSmall", "255", 255),
        ("newLevel", "10", 10),
        ("newLevel", "100", 100),
        ("newLevel", "55", 55),
        ("newMode", "Off", "Off"),
        ("newLabel", "8 chars!", "8 chars!"),
        ("newLabel", " ", " "),
    ],
)
def test_values_at_the_edges_are_accepted(
    rig: Rig, name: str, value: str, python: object
) -> None:
    assert answer(rig.call("Store", store(**{name: value})), KITCHEN, "Store") == []
    [(_, values)] = rig.provider.calls
    assert values[list(STORE_DEFAULTS).index(name)] == python


def test_max_length_counts_characters_not_bytes(rig: Rig) -> None:
    assert rig.call("Store", store(newLabel="\u00e9" * 8)).status == 200
    assert code(rig.call("Store", store(newLabel="\u00e9" * 9))) == 605


# -- how the provider answers ----------------------------------------------------


def test_a_deferred_that_fires_later_on_the_clock(rig: Rig) -> None:
    assert rig.post("Later") == []
    rig.clock.advance(4.9)
    assert rig.written() == []
    rig.clock.advance(0.1)
    [response] = rig.written()
    assert answer(response, KITCHEN, "Later") == [("Zeta", "later"), ("Alpha", "5")]


def test_a_coroutine_that_returns_at_once(rig: Rig) -> None:
    response = rig.call("CoroNow")
    assert answer(response, KITCHEN, "CoroNow") == [("Zeta", "now"), ("Alpha", "0")]


def test_a_coroutine_that_awaits_the_clock(rig: Rig) -> None:
    assert rig.post("CoroLater") == []
    rig.clock.advance(1)
    [response] = rig.written()
    assert answer(response, KITCHEN, "CoroLater") == [("Zeta", "coro"), ("Alpha", "1")]


def failures(events: list[dict[str, Any]]) -> list[Failure]:
    return [e["log_failure"] for e in control_events(events) if "log_failure" in e]


def test_an_exception_is_501_and_logged_with_its_traceback(
    rig: Rig, events: list[dict[str, Any]]
) -> None:
    assert fault(rig.call("Fail")) == (501, "Action Failed")
    [failure] = failures(events)
    assert failure.check(RuntimeError)
    assert str(failure.value) == "the oven is on fire"
    assert "in Fail" in failure.getTraceback()
    [event] = [e for e in control_events(events) if "log_failure" in e]
    assert event["log_level"] == LogLevel.critical
    assert formatEvent(event) == "Action Fail failed"
    # The fault does not leak the exception.
    assert b"oven" not in rig.http.transport.value()


def test_a_later_exception_is_501_and_logged(rig: Rig, events: list[dict[str, Any]]) -> None:
    assert rig.post("FailLater") == []
    rig.clock.advance(1)
    [response] = rig.written()
    assert fault(response) == (501, "Action Failed")
    [failure] = failures(events)
    assert failure.check(RuntimeError)


def test_a_provider_raises_its_own_upnp_error(rig: Rig, events: list[dict[str, Any]]) -> None:
    assert fault(rig.call("Refuse")) == (714, "No such entry")
    assert failures(events) == []


def test_a_later_upnp_error_keeps_its_code_and_escaped_text(rig: Rig) -> None:
    assert rig.post("RefuseLater") == []
    rig.clock.advance(1)
    [response] = rig.written()
    assert b"Vendor says &lt;no&gt; &amp; means it" in response.body
    assert fault(response) == (801, "Vendor says <no> & means it")


def test_an_action_that_does_not_finish_within_30_s_is_501(
    rig: Rig, events: list[dict[str, Any]]
) -> None:
    assert rig.post("Hang") == []
    rig.clock.advance(29.9)
    assert rig.written() == []
    rig.clock.advance(0.1)
    [response] = rig.written()
    assert fault(response) == (501, "Action Failed: no result within 30 s")
    errors = [e for e in control_events(events) if e["log_level"] == LogLevel.error]
    assert [formatEvent(e) for e in errors] == ["Action Hang did not finish within 30.0 s"]
    # A late result neither crashes nor writes again.
    rig.http.transport.clear()
    [late] = rig.provider.pending
    late.callback(None)
    rig.clock.advance(60)
    assert rig.http.transport.value() == b""
    rig.provider.pending.clear()
    del late
    assert unhandled(events) == []


def test_a_late_coroutine_is_cancelled_at_30_s(rig: Rig) -> None:
    assert rig.post("CoroTooLong") == []
    rig.clock.advance(30)
    [response] = rig.written()
    assert code(response) == 501
    rig.http.transport.clear()
    rig.clock.advance(15)
    assert rig.http.transport.value() == b""
    assert rig.provider.calls == []


@implementer(IServiceProvider)
class Stubborn:
    """
    A hand-written provider whose Deferred fires at 31 s whatever happens.
    """

    serviceType = KITCHEN
    serviceId = "urn:schemas-example-com:serviceId:Stubborn"
    description = model.ServiceDescription(
        (model.Action("Slow", (model.Argument("Result", "out", "Value"),)),),
        (model.StateVariable("Value", "ui4", defaultValue="3"),),
    )

    def __init__(self, clock: Clock, delay: float) -> None:
        self.clock = clock
        self.delay = delay
        self.fired: list[defer.Deferred[Any]] = []

    def callAction(self, name: str, arguments: Mapping[str, object]) -> defer.Deferred[Any]:
        d: defer.Deferred[Any] = defer.Deferred()
        self.fired.append(d)
        self.clock.callLater(self.delay, d.callback, {"Result": 3})
        return d

    def stateValue(self, name: str) -> object:
        return 3

    def watch(self, callback: Callable[[str, object], None]) -> Callable[[], None]:
        return lambda: None

    def service(self) -> model.Service:
        return model.Service(self.serviceType, self.serviceId, self.description, provider=self)


def test_a_result_after_the_timeout_does_not_write_twice(events: list[dict[str, Any]]) -> None:
    rig = Rig(Stubborn(Clock(), 31))
    rig.provider.clock = rig.clock
    assert rig.post("Slow") == []
    rig.clock.advance(30)
    [response] = rig.written()
    assert code(response) == 501
    rig.http.transport.clear()
    rig.clock.advance(1)
    assert rig.http.transport.value() == b""
    rig.provider.fired.clear()
    assert unhandled(events) == []
    # The same connection still serves.
    rig.provider.delay = 1
    assert rig.post("Slow") == []
    rig.clock.advance(1)
    [response] = rig.written()
    assert answer(response, KITCHEN, "Slow") == [("Result", "3")]


def test_a_prompt_answer_cancels_the_timeout(rig: Rig, events: list[dict[str, Any]]) -> None:
    assert rig.post("Later") == []
    rig.clock.advance(5)
    assert len(rig.written()) == 1
    rig.http.transport.clear()
    rig.clock.advance(40)
    assert rig.http.transport.value() == b""
    assert control_events(events) == []


def unhandled(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """
    Every logged failure, including a Deferred's unhandled error, which is
    only logged once the Deferred is garbage.
    """
    gc.collect()
    return [e for e in events if "log_failure" in e]


def test_a_client_that_disconnects_before_a_slow_action_finishes(
    rig: Rig, events: list[dict[str, Any]]
) -> None:
    assert rig.post("Hang") == []
    rig.http.protocol.connectionLost(Failure(ConnectionDone()))
    [pending] = rig.provider.pending
    pending.callback(None)
    assert rig.http.transport.value() == b""
    rig.provider.pending.clear()
    del pending
    assert unhandled(events) == []


def test_a_client_that_disconnects_before_a_later_answer(
    rig: Rig, events: list[dict[str, Any]]
) -> None:
    assert rig.post("Later") == []
    rig.http.protocol.connectionLost(Failure(ConnectionDone()))
    rig.clock.advance(5)
    assert rig.http.transport.value() == b""
    assert unhandled(events) == []


def test_a_client_that_disconnects_before_the_timeout(
    rig: Rig, events: list[dict[str, Any]]
) -> None:
    assert rig.post("Hang") == []
    rig.http.protocol.connectionLost(Failure(ConnectionDone()))
    rig.clock.advance(30)
    assert rig.http.transport.value() == b""
    rig.provider.pending.clear()
    assert unhandled(events) == []


@pytest.mark.parametrize(
    "action, error",
    [
        ("Missing", "Action Missing gave {'Zeta': 'z'}; its out-arguments are ['Zeta', 'Alpha']"),
        ("Extra", "Action Extra gave {'Zeta': 'z', 'Alpha': 1, 'Omega': 2}; "
                  "its out-arguments are ['Zeta', 'Alpha']"),
        ("WrongType", "Action WrongType gave a bad out-argument: "),
        ("OutOfRange", "Action OutOfRange gave a bad out-argument: "),
    ],
)
def test_wrong_out_arguments_are_501_and_logged(
    rig: Rig, events: list[dict[str, Any]], action: str, error: str
) -> None:
    assert fault(rig.call(action)) == (501, "Action Failed")
    [event] = control_events(events)
    assert event["log_level"] == LogLevel.error
    assert formatEvent(event).startswith(error)


def test_a_result_that_is_not_a_mapping_is_501_and_logged(
    rig: Rig, events: list[dict[str, Any]]
) -> None:
    assert fault(rig.call("NotADict")) == (501, "Action Failed")
    [failure] = failures(events)
    assert failure.check(TypeError)


class Mixed(Kitchen):
    @action(returns={"Zeta": Kitchen.Zeta, "Alpha": Kitchen.Alpha})
    def MixedKeys(self) -> dict[object, object]:
        return {"Zeta": "z", "Alpha": 1, 3: "x"}


def test_out_arguments_whose_names_do_not_sort_are_501(events: list[dict[str, Any]]) -> None:
    rig = Rig(Mixed(Clock()))
    try:
        rig.post("MixedKeys")
        rig.clock.advance(120)
        # Everything the connection was sent since the request: one answer.
        responses = rig.written()
    finally:
        # Log any unanswered Deferred's error here, not in some later test.
        gc.collect()
    assert len(responses) == 1
    assert fault(responses[0]) == (501, "Action Failed")
    [failure] = [e["log_failure"] for e in events if "log_failure" in e]
    assert failure.check(TypeError)


def test_pipelined_calls_are_answered_in_order(rig: Rig) -> None:
    rig.http.transport.clear()
    first = request(
        method=b"POST", path=rig.path, body=envelope("Later"),
        headers={b"SOAPACTION": f'"{KITCHEN}#Later"'.encode(), b"Content-Type": SOAP_XML},
    )
    second = request(
        method=b"POST", path=rig.path, body=envelope("GetPair"),
        headers={b"SOAPACTION": f'"{KITCHEN}#GetPair"'.encode(), b"Content-Type": SOAP_XML},
    )
    rig.http.protocol.dataReceived(first + second)
    assert rig.written() == []
    rig.clock.advance(5)
    later, pair = rig.written()
    assert answer(later, KITCHEN, "Later") == [("Zeta", "later"), ("Alpha", "5")]
    assert answer(pair, KITCHEN, "GetPair") == [("Zeta", "z"), ("Alpha", "7")]


# -- QueryStateVariable ------------------------------------------------------------


def query(rig: Rig, arguments: Sequence[tuple[str, str]]) -> Response:
    inner = "".join(f"<u:{n}>{v}</u:{n}>" for n, v in arguments)
    body = (
        f'<s:Envelope xmlns:s="{ENVELOPE_NS}"><s:Body>'
        f'<u:QueryStateVariable xmlns:u="{CONTROL_NS}">{inner}</u:QueryStateVariable>'
        "</s:Body></s:Envelope>"
    ).encode()
    [response] = rig.raw(
        body,
        {b"SOAPACTION": f'"{CONTROL_NS}#QueryStateVariable"'.encode(), b"Content-Type": SOAP_XML},
    )
    return response


def test_query_state_variable_answers_the_formatted_value(rig: Rig) -> None:
    rig.provider.Flag = True
    assert answer(query(rig, [("varName", "Flag")]), CONTROL_NS, "QueryStateVariable") == [
        ("return", "1")
    ]
    assert answer(query(rig, [("varName", "Level")]), CONTROL_NS, "QueryStateVariable") == [
        ("return", "50")
    ]


def test_query_state_variable_escapes(rig: Rig) -> None:
    rig.provider.Zeta = "a<b&c"
    response = query(rig, [("varName", "Zeta")])
    assert answer(response, CONTROL_NS, "QueryStateVariable") == [("return", "a<b&c")]


def test_query_state_variable_of_an_unknown_variable_is_404(rig: Rig) -> None:
    assert fault(query(rig, [("varName", "Nope")])) == (404, "Invalid Var: no Nope")


def test_query_state_variable_without_varname_is_402(rig: Rig) -> None:
    assert fault(query(rig, [])) == (402, "Invalid Args: missing varName")
    assert code(query(rig, [("varName", "Flag"), ("other", "x")])) == 402


class Broken(Kitchen):
    def stateValue(self, name: str) -> object:
        if name == "Flag":
            raise RuntimeError("sensor unplugged")
        return super().stateValue(name)


def test_query_state_variable_that_cannot_be_read_is_501_and_logged(
    events: list[dict[str, Any]],
) -> None:
    clock = Clock()
    rig = Rig(Broken(clock))
    assert fault(query(rig, [("varName", "Flag")])) == (501, "Action Failed")
    [failure] = failures(events)
    assert failure.check(RuntimeError)


# -- an announce-only service ------------------------------------------------------

JAMBON = "urn:boucherie.example.com:service:Jambon:1"


@pytest.fixture
def jambon() -> Rig:
    loaded = config.load(example("jambon.ini"), machineId="test-machine")
    [service] = loaded.device.services
    assert service.provider is None
    return Rig(root=loaded.device)


def test_an_announce_only_service_answers_a_declared_action_with_602(jambon: Rig) -> None:
    response = jambon.call("SetSliceThickness", [("NewThickness", "5")], namespace=JAMBON)
    assert fault(response) == (602, "Optional Action Not Implemented")
    assert fault(jambon.call("GetSliceThickness", namespace=JAMBON))[0] == 602


def test_an_announce_only_service_answers_an_undeclared_action_with_401(jambon: Rig) -> None:
    assert fault(jambon.call("Slice", namespace=JAMBON)) == (401, "Invalid Action: no action Slice")


def test_an_announce_only_service_still_checks_arguments(jambon: Rig) -> None:
    assert code(jambon.call("SetSliceThickness", [("NewThickness", "51")], namespace=JAMBON)) == 601
    assert code(jambon.call("SetSliceThickness", [], namespace=JAMBON)) == 402


def test_an_announce_only_service_and_query_state_variable(jambon: Rig) -> None:
    assert code(query(jambon, [("varName", "SliceThickness")])) == 602
    assert code(query(jambon, [("varName", "Nope")])) == 404


# -- the tree and the fakes ------------------------------------------------------------


def test_every_service_of_the_tree_gets_a_control_resource(rig: Rig) -> None:
    [paths] = rig.site.descriptions.layout.services
    assert paths.control == "/svc/Kitchen/control"
    leaf = rig.site.resource.children[b"svc"].children[b"Kitchen"].children[b"control"]
    assert isinstance(leaf, control.ControlResource)
    assert leaf.invoker.clock is rig.clock
    assert leaf.invoker.timeout == control.ACTION_TIMEOUT == 30.0
    assert leaf.maxBody == 65536


def test_the_test_providers_provide_the_interface() -> None:
    clock = Clock()
    for provider in (Kitchen(clock), Stubborn(clock, 1), Broken(clock), Mixed(clock)):
        assert verifyObject(IServiceProvider, provider)


# -- hypothesis ---------------------------------------------------------------------

_header_text = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80
)


@settings(database=None, deadline=None, max_examples=60)
@given(_header_text)
def test_any_soapaction_gets_an_answer_or_a_fault_401(soapAction: str) -> None:
    rig = Rig()
    [response] = rig.post("GetPair", soapAction=soapAction.encode())
    if response.status == 200:
        assert answer(response, soapAction.strip().strip('"').rpartition("#")[0], "GetPair")
    else:
        assert code(response) == 401


@settings(database=None, deadline=None, max_examples=60)
@given(st.text(st.characters(blacklist_categories=["Cs", "Cc"]), max_size=12))
def test_any_count_text_is_accepted_or_600_or_601(text: str) -> None:
    rig = Rig()
    escaped = text.replace("&", "&amp;").replace("<", "&lt;")
    [response] = rig.post("Store", store(newCount=escaped))
    if response.status == 200:
        [(_, values)] = rig.provider.calls
        assert 0 <= values[1] <= 2**32 - 1
    else:
        assert code(response) in (600, 601)


def test_an_action_of_another_service_in_the_body_is_401() -> None:
    site = web.DeviceSite(light(), reactor=Clock())
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
