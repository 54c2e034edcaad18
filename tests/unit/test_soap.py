"""
SOAP envelopes, pure: requests parsed from bytes, responses and faults
written to bytes and read back with lxml.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from upnp_announce.wire import soap
from upnp_announce.wire.soap import CONTROL_NS, ENVELOPE_NS, SOAPError, SOAPRequest, UPnPError

SWITCH = "urn:schemas-upnp-org:service:SwitchPower:1"
ENCODING = "http://schemas.xmlsoap.org/soap/encoding/"


def envelope(inner: str, namespace: str = SWITCH, action: str = "SetTarget") -> bytes:
    return (
        '<?xml version="1.0"?>'
        f'<s:Envelope xmlns:s="{ENVELOPE_NS}" s:encodingStyle="{ENCODING}">'
        f'<s:Body><u:{action} xmlns:u="{namespace}">{inner}</u:{action}></s:Body>'
        "</s:Envelope>"
    ).encode()


def start_tag(body: bytes) -> bytes:
    """
    The Envelope's start tag, as written.
    """
    match = re.search(rb"<s:Envelope\b[^>]*>", body)
    assert match is not None
    return match.group(0)


# -- parse_request ------------------------------------------------------------


def test_a_plain_action_call() -> None:
    call = soap.parse_request(envelope("<newTargetValue>1</newTargetValue>"))
    assert call == SOAPRequest(SWITCH, "SetTarget", (("newTargetValue", "1"),))


def test_arguments_keep_their_order_and_repeats() -> None:
    call = soap.parse_request(envelope("<b>2</b><a>1</a><b>3</b>"))
    assert call.arguments == (("b", "2"), ("a", "1"), ("b", "3"))


def test_an_action_without_arguments() -> None:
    assert soap.parse_request(envelope("")) == SOAPRequest(SWITCH, "SetTarget", ())


def test_arguments_with_no_text_give_the_empty_string() -> None:
    call = soap.parse_request(envelope("<a/><b></b><c> </c>"))
    assert call.arguments == (("a", ""), ("b", ""), ("c", " "))


def test_an_argument_with_child_elements_is_refused() -> None:
    with pytest.raises(SOAPError, match="argument 'a' has child elements"):
        soap.parse_request(envelope("<a><inner>1</inner></a>"))


def test_entities_and_cdata_in_arguments_are_read_as_text() -> None:
    call = soap.parse_request(
        envelope("<a>&lt;b&gt; &amp; &#233;</a><b><![CDATA[<x>&]]></b>")
    )
    assert call.arguments == (("a", "<b> & \u00e9"), ("b", "<x>&"))


def test_comments_and_processing_instructions_do_not_cut_an_argument() -> None:
    call = soap.parse_request(envelope("<a>ab<!-- note -->cd<?pi x?>ef</a>"))
    assert call.arguments == (("a", "abcdef"),)


def test_other_prefixes_are_accepted() -> None:
    body = (
        f'<SOAP-ENV:Envelope xmlns:SOAP-ENV="{ENVELOPE_NS}">'
        f'<SOAP-ENV:Body><m:GetStatus xmlns:m="{SWITCH}"/></SOAP-ENV:Body>'
        "</SOAP-ENV:Envelope>"
    ).encode()
    assert soap.parse_request(body) == SOAPRequest(SWITCH, "GetStatus", ())


def test_default_namespaces_are_accepted() -> None:
    body = (
        f'<Envelope xmlns="{ENVELOPE_NS}"><Body>'
        f'<SetTarget xmlns="{SWITCH}"><newTargetValue>0</newTargetValue></SetTarget>'
        "</Body></Envelope>"
    ).encode()
    assert soap.parse_request(body) == SOAPRequest(
        SWITCH, "SetTarget", (("newTargetValue", "0"),)
    )


def test_an_action_element_without_namespace() -> None:
    body = (
        f'<s:Envelope xmlns:s="{ENVELOPE_NS}"><s:Body><GetStatus/></s:Body></s:Envelope>'
    ).encode()
    assert soap.parse_request(body) == SOAPRequest(None, "GetStatus", ())


def test_a_header_beside_the_body_is_ignored() -> None:
    body = (
        f'<s:Envelope xmlns:s="{ENVELOPE_NS}"><s:Header><x:h xmlns:x="urn:x">1</x:h>'
        f'</s:Header><s:Body><u:GetStatus xmlns:u="{SWITCH}"/></s:Body></s:Envelope>'
    ).encode()
    assert soap.parse_request(body) == SOAPRequest(SWITCH, "GetStatus", ())


def test_utf16_bodies_are_read() -> None:
    text = envelope("<a>\u00e9t\u00e9</a>").decode().replace('<?xml version="1.0"?>', "")
    body = ('<?xml version="1.0" encoding="utf-16"?>' + text).encode("utf-16")
    assert soap.parse_request(body).arguments == (("a", "\u00e9t\u00e9"),)


@pytest.mark.parametrize(
    "body, message",
    [
        (b"", "not well-formed XML"),
        (b"<s:Envelope", "not well-formed XML"),
        (b"not xml at all", "not well-formed XML"),
        (b"<a>&undefined;</a>", "not well-formed XML"),
        (f'<s:Envelope xmlns:s="{ENVELOPE_NS}"><s:Body></s:Envelope>'.encode(),
         "not well-formed XML"),
        (b'<?xml version="1.0" encoding="bogus"?><a/>', "not well-formed XML"),
        (b"<Envelope><Body><a/></Body></Envelope>", "the root element is not a SOAP Envelope"),
        (f'<s:Body xmlns:s="{ENVELOPE_NS}"><a/></s:Body>'.encode(),
         "the root element is not a SOAP Envelope"),
        (f'<s:Envelope xmlns:s="{ENVELOPE_NS}"/>'.encode(), "the Envelope has no Body"),
        (f'<s:Envelope xmlns:s="{ENVELOPE_NS}"><Body><a/></Body></s:Envelope>'.encode(),
         "the Envelope has no Body"),
        (f'<s:Envelope xmlns:s="{ENVELOPE_NS}"><s:Body><a/></s:Body><s:Body><a/></s:Body>'
         "</s:Envelope>".encode(), "the Envelope has no Body, or more than one"),
        (f'<s:Envelope xmlns:s="{ENVELOPE_NS}"><s:Body/></s:Envelope>'.encode(),
         "the Body does not hold exactly one action element"),
        (f'<s:Envelope xmlns:s="{ENVELOPE_NS}"><s:Body>text only</s:Body></s:Envelope>'.encode(),
         "the Body does not hold exactly one action element"),
        (f'<s:Envelope xmlns:s="{ENVELOPE_NS}"><s:Body><a/><b/></s:Body></s:Envelope>'.encode(),
         "the Body does not hold exactly one action element"),
    ],
)
def test_what_is_not_one_action_call_is_refused(body: bytes, message: str) -> None:
    with pytest.raises(SOAPError, match=re.escape(message)):
        soap.parse_request(body)


XXE = (
    b'<?xml version="1.0"?>\n'
    b'<!DOCTYPE s:Envelope [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    + envelope("<newTargetValue>&xxe;</newTargetValue>").split(b"?>", 1)[1]
)
LAUGHS = (
    b'<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
        for i in range(1, 10)
    )
    + b"]>"
    + envelope("<a>&lol9;</a>")
)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(XXE, id="xxe"),
        pytest.param(LAUGHS, id="billion-laughs"),
        pytest.param(b'<!DOCTYPE x SYSTEM "http://192.0.2.1/x.dtd">' + envelope(""), id="external"),
        pytest.param(b"<!DOCTYPE s:Envelope>" + envelope(""), id="empty-doctype"),
        pytest.param(XXE.decode().encode("utf-16"), id="utf-16"),
        pytest.param(XXE.decode().encode("utf-16-be"), id="utf-16-be"),
        pytest.param(XXE.decode().encode("utf-32"), id="utf-32"),
    ],
)
def test_any_doctype_is_refused(body: bytes) -> None:
    with pytest.raises(SOAPError, match="DOCTYPE") as excinfo:
        soap.parse_request(body)
    assert "root:" not in str(excinfo.value)


def test_the_size_limit() -> None:
    body = envelope("")
    padded = body + b" " * (1000 - len(body))
    assert soap.parse_request(padded, maxBytes=1000).action == "SetTarget"
    with pytest.raises(SOAPError, match="at most 1000 allowed"):
        soap.parse_request(padded + b" ", maxBytes=1000)


def test_the_default_size_limit_is_64_kb() -> None:
    body = envelope("")
    assert soap.parse_request(body + b"\n" * (65536 - len(body))).action == "SetTarget"
    with pytest.raises(SOAPError, match="65537 bytes"):
        soap.parse_request(body + b"\n" * (65537 - len(body)))


def test_deep_nesting_and_many_elements_are_refused() -> None:
    deep = "<x>" * 20 + "</x>" * 20
    with pytest.raises(SOAPError, match="nested more than 16 deep"):
        soap.parse_request(envelope(f"<a>{deep}</a>"))
    with pytest.raises(SOAPError, match="more than 2000 elements"):
        soap.parse_request(envelope("<a/>" * 2000))


@settings(database=None, deadline=None, max_examples=300)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_raise_only_soap_errors(data: bytes) -> None:
    try:
        call = soap.parse_request(data)
    except SOAPError:
        return
    assert isinstance(call, SOAPRequest)


_pieces = st.sampled_from(
    [
        "<", ">", "/", "&", ";", "=", '"', " ", "a", "u:", "s:", "<!DOCTYPE x>", "<![CDATA[",
        "]]>", "<!--", "-->", "<?", "?>", "&amp;", "&#0;", "&#x1F;", "\x00", "\u00e9",
        f'<s:Envelope xmlns:s="{ENVELOPE_NS}">', "</s:Envelope>", "<s:Body>", "</s:Body>",
        f'<u:A xmlns:u="{SWITCH}">', "</u:A>", "<x>", "</x>", 'xmlns:u=""', "<u:B/>",
    ]
)


@settings(database=None, deadline=None, max_examples=300)
@given(st.lists(_pieces, max_size=30))
def test_near_envelopes_raise_only_soap_errors(pieces: list[str]) -> None:
    try:
        call = soap.parse_request("".join(pieces).encode("utf-8"))
    except SOAPError:
        return
    assert isinstance(call, SOAPRequest)
    assert all(isinstance(name, str) and isinstance(value, str) for name, value in call.arguments)


# -- response ----------------------------------------------------------------


def test_response_structure() -> None:
    body = soap.response(SWITCH, "GetStatus", [("ResultStatus", "1")])
    assert body.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    root = etree.fromstring(body)
    assert root.tag == f"{{{ENVELOPE_NS}}}Envelope"
    assert root.get(f"{{{ENVELOPE_NS}}}encodingStyle") == ENCODING
    [bodyElement] = root
    assert bodyElement.tag == f"{{{ENVELOPE_NS}}}Body"
    [answer] = bodyElement
    assert answer.tag == f"{{{SWITCH}}}GetStatusResponse"
    assert answer.prefix == "u"
    [argument] = answer
    assert argument.tag == "ResultStatus"
    assert argument.text == "1"


def test_response_declares_the_envelope_namespace_first() -> None:
    tag = start_tag(soap.response(SWITCH, "GetStatus", [("ResultStatus", "1")]))
    assert re.findall(rb'xmlns(?::\w+)?="([^"]*)"', tag)[0] == ENVELOPE_NS.encode()
    assert tag.startswith(f'<s:Envelope xmlns:s="{ENVELOPE_NS}"'.encode())


def test_response_keeps_the_given_order() -> None:
    body = soap.response(SWITCH, "Get", [("Zeta", "z"), ("Alpha", "a"), ("Mid", "m")])
    [answer] = etree.fromstring(body)[0]
    assert [(c.tag, c.text) for c in answer] == [("Zeta", "z"), ("Alpha", "a"), ("Mid", "m")]


def test_response_without_out_arguments() -> None:
    body = soap.response(SWITCH, "SetTarget", [])
    [answer] = etree.fromstring(body)[0]
    assert answer.tag == f"{{{SWITCH}}}SetTargetResponse"
    assert len(answer) == 0


def test_response_escapes_out_values() -> None:
    body = soap.response(SWITCH, "Get", [("Text", "a<b>&c]]>d"), ("Empty", "")])
    assert b"<Text>a&lt;b&gt;&amp;c]]&gt;d</Text>" in body
    [answer] = etree.fromstring(body)[0]
    assert [(c.tag, c.text or "") for c in answer] == [("Text", "a<b>&c]]>d"), ("Empty", "")]


def test_response_escapes_the_namespace_attribute() -> None:
    body = soap.response("urn:x:service:a&b:1", "A", [])
    assert b'<u:AResponse xmlns:u="urn:x:service:a&amp;b:1">' in body
    [answer] = etree.fromstring(body)[0]
    assert answer.tag == "{urn:x:service:a&b:1}AResponse"
    # A quote cannot end the attribute early.
    assert b"""xmlns:u='urn:x:service:a"b:1'""" in soap.response('urn:x:service:a"b:1', "A", [])


def test_a_response_parses_back() -> None:
    arguments = [("One", "1"), ("Two", " two  spaces "), ("Three", "\u00e9\u4e2d\U0001f600")]
    body = soap.response(SWITCH, "Get", arguments)
    assert soap.parse_request(body) == SOAPRequest(SWITCH, "GetResponse", tuple(arguments))


_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,15}", fullmatch=True)
# Text XML 1.0 carries, without carriage returns (see the test after).
_texts = st.text(
    st.characters(
        blacklist_categories=["Cs"],
        blacklist_characters="\r\ufffe\uffff",
    ).filter(lambda c: c in "\t\n" or c >= " "),
    max_size=40,
)


@settings(database=None, deadline=None, max_examples=200)
@given(_names, st.lists(st.tuples(_names, _texts), max_size=6))
def test_responses_round_trip(action: str, arguments: list[tuple[str, str]]) -> None:
    body = soap.response(SWITCH, action, arguments)
    assert soap.parse_request(body) == SOAPRequest(
        SWITCH, action + "Response", tuple(arguments)
    )


def test_a_carriage_return_in_an_out_value_survives() -> None:
    body = soap.response(SWITCH, "Get", [("Text", "line one\r\nline two\r")])
    [answer] = etree.fromstring(body)[0]
    assert answer[0].text == "line one\r\nline two\r"


# -- fault --------------------------------------------------------------------


def fault_parts(body: bytes) -> tuple[etree._Element, etree._Element]:
    """
    The s:Fault and its UPnPError, after checking the structure around them.
    """
    root = etree.fromstring(body)
    assert root.tag == f"{{{ENVELOPE_NS}}}Envelope"
    [bodyElement] = root
    assert bodyElement.tag == f"{{{ENVELOPE_NS}}}Body"
    [faultElement] = bodyElement
    assert faultElement.tag == f"{{{ENVELOPE_NS}}}Fault"
    assert [c.tag for c in faultElement] == ["faultcode", "faultstring", "detail"]
    [detail] = faultElement.iterchildren("detail")
    [error] = detail
    return faultElement, error


def test_fault_structure_is_exactly_the_uda_one() -> None:
    body = soap.fault(402, "Invalid Args")
    assert body.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    faultElement, error = fault_parts(body)
    assert faultElement.findtext("faultcode") == "s:Client"
    assert faultElement.findtext("faultstring") == "UPnPError"
    assert error.tag == f"{{{CONTROL_NS}}}UPnPError"
    assert [c.tag for c in error] == [
        f"{{{CONTROL_NS}}}errorCode",
        f"{{{CONTROL_NS}}}errorDescription",
    ]
    assert error[0].text == "402"
    assert error[1].text == "Invalid Args"


def test_the_fault_upnperror_is_in_an_unprefixed_default_namespace() -> None:
    body = soap.fault(401, "Invalid Action")
    _, error = fault_parts(body)
    assert error.prefix is None
    assert error.nsmap[None] == CONTROL_NS
    assert f'<UPnPError xmlns="{CONTROL_NS}"><errorCode>401</errorCode>'.encode() in body
    # What upnpclient looks for.
    path = f".//{{{CONTROL_NS}}}UPnPError/{{{CONTROL_NS}}}errorCode"
    assert etree.fromstring(body).findtext(path) == "401"


def test_the_fault_declares_the_envelope_namespace_first() -> None:
    tag = start_tag(soap.fault(501, "Action Failed"))
    declarations = re.findall(rb'xmlns(?::\w+)?="([^"]*)"', tag)
    assert declarations[0] == ENVELOPE_NS.encode()
    assert etree.fromstring(soap.fault(501, "x")).get(f"{{{ENVELOPE_NS}}}encodingStyle") == ENCODING


def test_fault_descriptions_are_escaped() -> None:
    body = soap.fault(801, "a < b & c > d")
    assert b"<errorDescription>a &lt; b &amp; c &gt; d</errorDescription>" in body
    _, error = fault_parts(body)
    assert error[1].text == "a < b & c > d"


@settings(database=None, deadline=None, max_examples=100)
@given(st.integers(min_value=400, max_value=899), _texts)
def test_faults_parse_with_their_code_and_description(code: int, description: str) -> None:
    _, error = fault_parts(soap.fault(code, description))
    assert error[0].text == str(code)
    assert (error[1].text or "") == description


def test_a_fault_is_well_formed_whatever_the_description() -> None:
    etree.fromstring(soap.fault(801, "bad\x01byte"))


# -- UPnPError ---------------------------------------------------------------


@pytest.mark.parametrize(
    "code, description",
    [
        (401, "Invalid Action"),
        (402, "Invalid Args"),
        (404, "Invalid Var"),
        (501, "Action Failed"),
        (600, "Argument Value Invalid"),
        (601, "Argument Value Out of Range"),
        (602, "Optional Action Not Implemented"),
        (603, "Out of Memory"),
        (604, "Human Intervention Required"),
        (605, "String Argument Too Long"),
    ],
)
def test_default_descriptions(code: int, description: str) -> None:
    error = UPnPError(code)
    assert error.code == code
    assert error.description == description
    assert error.args == (code, description)
    assert str(error) == f"UPnP error {code}: {description}"


def test_a_given_description_wins_and_unknown_codes_get_a_generic_one() -> None:
    assert UPnPError(714, "No such entry").description == "No such entry"
    assert UPnPError(401, "Invalid Action: no Foo").description == "Invalid Action: no Foo"
    assert UPnPError(801, "").description == ""
    assert UPnPError(799).description == "Error"
    assert isinstance(UPnPError(501), Exception)
    assert issubclass(SOAPError, ValueError)
