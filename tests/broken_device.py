"""
A small UPnP device for the conformance tester's tests, written apart from
ours (its own SSDP, description, SOAP and GENA code, in a few lines each),
with one planted defect per variant.

The base variant (C{defect=""}) keeps every rule of C{upnp-announce
conform}. Each variant named after a rule id breaks that rule and, as far
as one defect can, no other; the hostile variants (L{HOSTILE}) try to hang
or flood the tester (C{stall}: it never answers a renewal).
"""

from __future__ import annotations

import io
import os
import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from lxml import etree
from twisted.internet import defer
from twisted.internet.protocol import DatagramProtocol
from twisted.web import client, resource, server
from twisted.web.http_headers import Headers

from upnp_announce.client.conform import RULES

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")
with open(os.path.join(EXAMPLES, "jambon-48.png"), "rb") as _icon:
    ICON = _icon.read()

ROOT_UDN = "uuid:0b5e9e0c-7a61-4f4e-9c55-3f6c0a1b2c3d"
PART_UDN = "uuid:0b5e9e0c-7a61-4f4e-9c55-3f6c0a1b2c3e"
ROOT_TYPE = "urn:conform-example:device:Broken:2"
PART_TYPE = "urn:conform-example:device:Part:1"
SWITCH_TYPE = "urn:conform-example:service:Switch:1"
SWITCH_ID = "urn:conform-example:serviceId:Switch"
CONFIG_ID = 4242
BOOT_ID = 7
ENVELOPE = "http://schemas.xmlsoap.org/soap/envelope/"
CONTROL = "urn:schemas-upnp-org:control-1-0"
XML = b'text/xml; charset="utf-8"'

# One variant per rule: the rule id names the defect.
VARIANTS = tuple(r.id for r in RULES)
HOSTILE = ("huge", "slow", "malformed", "html", "flood", "stall")

# action: (in-arguments, out-arguments)
ACTIONS = {
    "GetStatus": ((), ("ResultStatus",)),
    "GetTarget": ((), ("RetTargetValue",)),
    "SetTarget": (("NewTargetValue",), ()),
    "GetChannelName": (("Channel",), ("Name",)),
}


def _description(defect: str, base: str) -> bytes:
    namespace = "" if defect == "DESC-NAMESPACE" else ' xmlns="urn:schemas-upnp-org:device-1-0"'
    config = "" if defect == "DESC-CONFIGID" else f' configId="{CONFIG_ID}"'
    minor = "" if defect == "DESC-SPEC" else "<minor>1</minor>"
    urlbase = f"<URLBase>{base}</URLBase>" if defect == "DESC-URLBASE" else ""
    name = "Broken " * 10 if defect == "DESC-LENGTHS" else "Broken device"
    manufacturer = "" if defect == "DESC-FIELDS" else "<manufacturer>Conform</manufacturer>"
    part = ROOT_UDN if defect == "DESC-UDN" else PART_UDN
    serviceType = SWITCH_TYPE.rsplit(":", 1)[0] if defect == "DESC-SERVICES" else SWITCH_TYPE
    size = "32" if defect == "DESC-ICONS" else "48"
    events = "" if defect == "SCPD-EVENTED" else "/event"
    page = "/missing" if defect == "DESC-URLS" else "/page"
    return f"""<?xml version="1.0"?>
<root{namespace}{config}><specVersion><major>1</major>{minor}</specVersion>{urlbase}
<device><deviceType>{ROOT_TYPE}</deviceType><friendlyName>{name}</friendlyName>
{manufacturer}<modelName>Broken</modelName><UDN>{ROOT_UDN}</UDN>
<iconList><icon><mimetype>image/png</mimetype><width>{size}</width><height>48</height>
<depth>32</depth><url>/icon.png</url></icon></iconList>
<serviceList><service><serviceType>{serviceType}</serviceType><serviceId>{SWITCH_ID}</serviceId>
<SCPDURL>/scpd.xml</SCPDURL><controlURL>/control</controlURL>
<eventSubURL>{events}</eventSubURL></service></serviceList>
<deviceList><device><deviceType>{PART_TYPE}</deviceType><friendlyName>Part</friendlyName>
<manufacturer>Conform</manufacturer><modelName>Part</modelName><UDN>{part}</UDN></device>
</deviceList><presentationURL>{page}</presentationURL></device></root>
""".encode()


def _scpd(defect: str) -> bytes:
    def argument(name: str, direction: str, related: str) -> str:
        return (f"<argument><name>{name}</name><direction>{direction}</direction>"
                f"<relatedStateVariable>{related}</relatedStateVariable></argument>")

    channel = [argument("Channel", "in", "Channel"), argument("Name", "out", "ChannelName")]
    if defect == "SCPD-ACTIONS":
        channel.reverse()
    related = "Missing" if defect == "SCPD-RELATED" else "Status"
    dataType = "bool" if defect == "SCPD-TYPES" else "string"
    default = "9" if defect == "SCPD-VALUES" else "0"
    return f"""<?xml version="1.0"?>
<scpd xmlns="urn:schemas-upnp-org:service-1-0" configId="{CONFIG_ID}">
<specVersion><major>1</major><minor>1</minor></specVersion><actionList>
<action><name>GetStatus</name><argumentList>{argument("ResultStatus", "out", related)}
</argumentList></action>
<action><name>GetTarget</name><argumentList>{argument("RetTargetValue", "out", "Target")}
</argumentList></action>
<action><name>SetTarget</name><argumentList>{argument("NewTargetValue", "in", "Target")}
</argumentList></action>
<action><name>GetChannelName</name><argumentList>{"".join(channel)}</argumentList></action>
</actionList><serviceStateTable>
<stateVariable sendEvents="yes"><name>Status</name><dataType>boolean</dataType>
<defaultValue>0</defaultValue></stateVariable>
<stateVariable sendEvents="no"><name>Target</name><dataType>boolean</dataType></stateVariable>
<stateVariable sendEvents="no"><name>Channel</name><dataType>ui1</dataType>
<defaultValue>{default}</defaultValue>
<allowedValueRange><minimum>0</minimum><maximum>3</maximum></allowedValueRange></stateVariable>
<stateVariable sendEvents="no"><name>ChannelName</name><dataType>{dataType}</dataType>
</stateVariable></serviceStateTable></scpd>
""".encode()


def _fault(defect: str, code: int, description: str) -> bytes:
    faultstring = "Error" if defect == "CTRL-FAULT" else "UPnPError"
    return f"""<?xml version="1.0"?>
<s:Envelope xmlns:s="{ENVELOPE}"><s:Body><s:Fault><faultcode>s:Client</faultcode>
<faultstring>{faultstring}</faultstring><detail><UPnPError xmlns="{CONTROL}">
<errorCode>{code}</errorCode><errorDescription>{description}</errorDescription>
</UPnPError></detail></s:Fault></s:Body></s:Envelope>""".encode()


def _answer(action: str, values: list[tuple[str, str]]) -> bytes:
    inner = "".join(f"<{n}>{v}</{n}>" for n, v in values)
    return (f'<?xml version="1.0"?>\n<s:Envelope xmlns:s="{ENVELOPE}"><s:Body>'
            f'<u:{action}Response xmlns:u="{SWITCH_TYPE}">{inner}</u:{action}Response>'
            f"</s:Body></s:Envelope>").encode()


class _Refused(Exception):
    def __init__(self, status: int, body: bytes = b"") -> None:
        self.status, self.body = status, body


@dataclass
class Subscription:
    callback: str
    seq: int = 0


class BrokenDevice(resource.Resource):
    """
    The device: an HTTP resource tree (L{site}) and an SSDP responder,
    started on C{host} by L{start}.
    """

    isLeaf = True

    def __init__(self, reactor: Any, defect: str = "", host: str = "127.0.0.1") -> None:
        super().__init__()
        assert defect in ("", *VARIANTS, *HOSTILE), defect
        self.reactor = reactor
        self.defect = defect
        self.host = host
        self.httpPort = 8000
        self.status = False
        self.subscriptions: dict[str, Subscription] = {}
        self.hanging: list[server.Request] = []
        self.ports: list[Any] = []
        self.ssdp = _SSDP(self)

    @property
    def location(self) -> str:
        return f"http://{self.host}:{self.httpPort}/desc.xml"

    def site(self) -> server.Site:
        site = server.Site(self)
        site.noisy = False
        return site

    def start(self) -> str:
        """
        Listen on free ports of our host; give LOCATION.
        """
        http = self.reactor.listenTCP(0, self.site(), interface=self.host)
        self.httpPort = http.getHost().port
        self.ports = [http, self.reactor.listenUDP(0, self.ssdp, interface=self.host)]
        return self.location

    @property
    def ssdpPort(self) -> int:
        return int(self.ports[1].getHost().port)

    async def stop(self) -> None:
        for request in self.hanging:
            request.loseConnection()
        for port in self.ports:
            await defer.maybeDeferred(port.stopListening)

    # -- HTTP ------------------------------------------------------------------

    def render(self, request: server.Request) -> bytes | int:
        host = (request.getHeader(b"host") or b"").decode("latin-1")
        if self.defect != "SEC-HOST" and not re.fullmatch(r"[0-9.]+(:[0-9]+)?", host):
            request.setResponseCode(403)
            return b"Host must be an IP address\n"
        path, method = request.path, request.method
        if (self.defect == "slow" and path != b"/desc.xml") or (
                self.defect == "stall" and method == b"SUBSCRIBE" and request.getHeader(b"sid")):
            self.hanging.append(request)
            return server.NOT_DONE_YET
        try:
            if method == b"GET" and path == b"/desc.xml":
                return self._description(request)
            if method == b"GET" and path == b"/scpd.xml":
                if self.defect == "SCPD-FETCH":
                    raise _Refused(404)
                return self._xml(request, _scpd(self.defect))
            if method == b"GET" and path == b"/icon.png":
                request.setHeader(b"content-type", b"image/png")
                return ICON
            if method == b"GET" and path == b"/page":
                request.setHeader(b"content-type", b"text/html")
                return b"<html><body>Broken device</body></html>"
            if method == b"POST" and path == b"/control":
                return self._control(request)
            if method == b"SUBSCRIBE" and path == b"/event":
                return self._subscribe(request)
            if method == b"UNSUBSCRIBE" and path == b"/event":
                return self._unsubscribe(request)
            raise _Refused(404)
        except _Refused as e:
            request.setResponseCode(e.status)
            if e.body:
                request.setHeader(b"content-type", XML)
            return e.body

    def _xml(self, request: server.Request, data: bytes) -> bytes:
        request.setHeader(b"content-type", XML)
        return data

    def _description(self, request: server.Request) -> bytes:
        data = _description(self.defect, f"http://{self.host}:{self.httpPort}/")
        if self.defect == "DESC-FETCH":
            raise _Refused(500)
        if self.defect == "html":
            request.setHeader(b"content-type", b"text/html")
            return b"<html><body>" + data + b"</body></html>"
        if self.defect == "huge":
            data = data.replace(b"<root", b"<!--" + b" " * (3 << 20) + b"-->\n<root", 1)
        elif self.defect == "malformed":
            data = data[: len(data) // 2]
        return self._xml(request, data)

    # -- SOAP control -------------------------------------------------------------

    def _control(self, request: server.Request) -> bytes:
        ctype = (request.getHeader(b"content-type") or b"").split(b";")[0].strip()
        if ctype != b"text/xml" and self.defect != "CTRL-CTYPE":
            raise _Refused(415)
        assert request.content is not None
        body = request.content.read()
        if len(body) > 65536 and self.defect != "SEC-BODY":
            raise _Refused(413)
        if b"<!DOCTYPE" in body and self.defect != "SEC-DOCTYPE":
            raise _Refused(400)
        parser = etree.XMLParser(resolve_entities=self.defect == "SEC-DOCTYPE", no_network=True,
                                 huge_tree=self.defect == "SEC-BODY")
        try:
            envelope = etree.fromstring(body, parser)
            [call] = envelope.find(f"{{{ENVELOPE}}}Body")
        except (etree.XMLSyntaxError, TypeError, ValueError):
            raise _Refused(400) from None
        name = etree.QName(call).localname
        arguments = {etree.QName(c).localname: (c.text or "") for c in call}
        soapAction = (request.getHeader(b"soapaction") or b"").decode("latin-1").strip('"')
        if self.defect != "CTRL-SOAPACTION" and soapAction.rpartition("#")[2] != name:
            raise _Refused(400)
        if name not in ACTIONS:
            if self.defect == "CTRL-401":
                raise _Refused(400)
            raise _Refused(500, _fault(self.defect, 401, "Invalid Action"))
        ins, outs = ACTIONS[name]
        if sorted(arguments) != sorted(ins) and self.defect != "CTRL-402":
            raise _Refused(500, _fault(self.defect, 402, "Invalid Args"))
        values = self._check(arguments)
        request.setHeader(b"content-type", XML)
        if name == "GetStatus":
            out = "State" if self.defect == "CTRL-ANSWER" else outs[0]
            return _answer(name, [(out, "1" if self.status else "0")])
        if name == "GetTarget":
            return _answer(name, [(outs[0], "1" if self.status else "0")])
        if name == "GetChannelName":
            return _answer(name, [(outs[0], f"Channel {values.get('Channel', 0)}")])
        self.status = bool(values.get("NewTargetValue", False))
        for sid in list(self.subscriptions):
            self._notify(sid)
        return _answer(name, [])

    def _check(self, arguments: dict[str, str]) -> dict[str, object]:
        values: dict[str, object] = {}
        for name, text in arguments.items():
            if name == "NewTargetValue":
                value = {"0": False, "1": True, "false": False, "true": True}.get(text.lower())
            elif name == "Channel":
                value = int(text) if text.isdigit() and int(text) < 256 else None
            else:
                continue
            if value is None:
                code = 501 if self.defect == "CTRL-600" else 600
                raise _Refused(500, _fault(self.defect, code, "Argument Value Invalid"))
            if name == "Channel" and value > 3 and self.defect != "CTRL-601":  # type: ignore[operator]
                raise _Refused(500, _fault(self.defect, 601, "Argument Value Out of Range"))
            values[name] = value
        return values

    # -- GENA --------------------------------------------------------------------

    def _subscribe(self, request: server.Request) -> bytes:
        sid = (request.getHeader(b"sid") or b"").decode("latin-1")
        nt = request.getHeader(b"nt")
        callback = (request.getHeader(b"callback") or b"").decode("latin-1")
        timeout = b"300" if self.defect == "EVT-TIMEOUT" else b"Second-300"
        if sid:
            if (nt is not None or callback) and self.defect != "EVT-400":
                raise _Refused(400)
            subscription = self.subscriptions.pop(sid, None)
            if subscription is None:
                raise _Refused(412)
            if self.defect == "EVT-RENEW":
                sid = f"uuid:{uuid.uuid4()}"
            self.subscriptions[sid] = subscription
            request.setHeader(b"sid", sid.encode())
            request.setHeader(b"timeout", timeout)
            return b""
        if nt != b"upnp:event" and self.defect != "EVT-412":
            raise _Refused(412)
        if not (callback.startswith("<") and callback.endswith(">")):
            raise _Refused(412)
        url = callback[1:-1]
        if urlsplit(url).hostname != request.getClientAddress().host and (
            self.defect != "SEC-CALLBACK"
        ):
            raise _Refused(412)
        sid = uuid.uuid4().hex if self.defect == "EVT-SID" else f"uuid:{uuid.uuid4()}"
        self.subscriptions[sid] = Subscription(url, 1 if self.defect == "EVT-SEQ0" else 0)
        if self.defect != "EVT-SUBSCRIBE":
            request.setHeader(b"sid", sid.encode())
        request.setHeader(b"timeout", timeout)
        self.reactor.callLater(0.05, self._notify, sid)
        return b""

    def _unsubscribe(self, request: server.Request) -> bytes:
        sid = (request.getHeader(b"sid") or b"").decode("latin-1")
        if sid not in self.subscriptions:
            raise _Refused(412)
        if self.defect != "EVT-UNSUBSCRIBE":
            del self.subscriptions[sid]
        return b""

    def _notify(self, sid: str) -> None:
        subscription = self.subscriptions.get(sid)
        if subscription is None:
            return
        value = ("True" if self.status else "False") if self.defect == "EVT-VALUES" else (
            "1" if self.status else "0")
        body = ('<?xml version="1.0"?>\n<e:propertyset xmlns:e="urn:schemas-upnp-org:event-1-0">'
                f"<e:property><Status>{value}</Status></e:property></e:propertyset>").encode()
        headers = Headers({
            b"nt": [b"upnp:event"],
            b"nts": [b"upnp:change" if self.defect == "EVT-NOTIFY" else b"upnp:propchange"],
            b"sid": [sid.encode()],
            b"seq": [str(subscription.seq).encode()],
            b"content-type": [XML],
        })
        if self.defect != "EVT-SEQ":
            subscription.seq += 1
        agent = client.Agent(self.reactor, connectTimeout=2)
        sending = agent.request(b"NOTIFY", subscription.callback.encode(), headers,
                                client.FileBodyProducer(io.BytesIO(body)))
        sending.addCallback(client.readBody)
        sending.addErrback(lambda _: None)


class _SSDP(DatagramProtocol):
    """
    Answers unicast searches.
    """

    noisy = False

    def __init__(self, device: BrokenDevice) -> None:
        self.device = device
        self.dead = False

    def datagramReceived(self, datagram: bytes, addr: Any) -> None:
        defect = self.device.defect
        if self.dead or defect == "slow":
            return
        try:
            lines = datagram.decode("ascii").split("\r\n")
        except UnicodeDecodeError:
            lines = [""]
        headers = {}
        for line in lines[1:]:
            name, colon, value = line.partition(":")
            if colon:
                headers[name.strip().lower()] = value.strip()
        st = headers.get("st", "")
        if (lines[0] != "M-SEARCH * HTTP/1.1" or headers.get("man") != '"ssdp:discover"'
                or not st or len(st) > 200 or not headers.get("mx", "0").isdigit()):
            if defect == "SSDP-MALFORMED":
                self.dead = True
            return
        replies = [self.reply(*answer) for answer in self.answers(st)]
        for _ in range(2000 if defect == "flood" else 1):
            for reply in replies:
                self.transport.write(reply, addr)

    def answers(self, st: str) -> list[tuple[str, str]]:
        defect = self.device.defect
        part = ROOT_UDN if defect == "SSDP-USN" else PART_UDN
        every = [
            ("upnp:rootdevice", f"{ROOT_UDN}::upnp:rootdevice"),
            (ROOT_UDN, ROOT_UDN),
            (ROOT_TYPE, f"{ROOT_UDN}::{ROOT_TYPE}"),
            (SWITCH_TYPE, f"{ROOT_UDN}::{SWITCH_TYPE}"),
            (PART_UDN, PART_UDN),
            (PART_TYPE, f"{part}::{PART_TYPE}"),
        ]
        if st == "ssdp:all":
            return [a for a in every if not (defect == "SSDP-ALL" and a[0] == SWITCH_TYPE)]
        if st == "upnp:rootdevice":
            return [] if defect == "SSDP-ROOT" else every[:1]
        if st == PART_UDN and defect == "SSDP-UUID":
            return []
        if st == PART_TYPE and defect == "SSDP-TYPE":
            return []
        found = [a for a in every if a[0] == st]
        name, _, version = st.rpartition(":")
        for nt, usn in every:
            ours, _, mine = nt.rpartition(":")
            if (name == ours and nt != st and version.isdigit() and mine.isdigit()
                    and (int(version) <= int(mine) or defect == "SSDP-VERSION")):
                found.append((st, usn.replace(nt, st)))
        return found

    def reply(self, st: str, usn: str) -> bytes:
        defect, device = self.device.defect, self.device
        location = "http://192.0.2.1/desc.xml" if defect == "SSDP-LOCATION" else device.location
        headers = [
            ("CACHE-CONTROL", "max-age=300" if defect == "SSDP-MAXAGE" else "max-age=1800"),
            ("DATE", "Sat, 05 Dec 2026 08:00:00 GMT"),
            ("EXT", ""),
            ("LOCATION", location),
            ("SERVER", "Broken" if defect == "SSDP-SERVER" else "Conform/1 UPnP/1.1 Broken/1"),
            ("ST", st),
            ("USN", usn),
            ("BOOTID.UPNP.ORG", str(BOOT_ID)),
            ("CONFIGID.UPNP.ORG", str(CONFIG_ID + (defect == "SSDP-CONFIGID"))),
        ]
        leave = {"SSDP-HEADERS": "EXT", "SSDP-BOOTID": "BOOTID.UPNP.ORG"}.get(defect)
        lines = ["HTTP/1.1 200 OK"] + [f"{n}: {v}" for n, v in headers if n != leave]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()
