"""
The server processes the benchmarks measure, one per invocation; each
listens on 127.0.0.1 only, prints one C{READY ...} line, and exits on
SIGTERM or after C{--seconds} at the latest.

    python benchmarks/servers.py ours --ssdp-port N [--seconds S]
        Our device (examples/light.ini, the binarylight provider) as a
        UPnPService on lo: HTTP on a free port, SSDP on port N (not 1900).
        Prints READY {"http_port":..., "location":..., "control":...,
        "event":..., "ssdp_port":...}.

    python benchmarks/servers.py bare-http --get-file F --post-file F [--seconds S]
        A twisted.web Site with one minimal leaf Resource: any GET gets the
        bytes of the first file, any POST those of the second (both
        text/xml). Its access log is off, as our device's is. Prints READY
        {"http_port":...}.

    python benchmarks/servers.py naive-soap [--seconds S]
        The naive twisted.web SOAP endpoint: a leaf Resource whose POST
        reads the body, parses it with xml.etree.ElementTree (no hardening,
        no checks), takes the action's name and answers its response
        envelope with the light's Status (no access log). Prints READY
        {"http_port":...}.

    python benchmarks/servers.py bare-ssdp --reply-file F [--reply-file F2 ...] [--seconds S]
        A DatagramProtocol on 127.0.0.1 that answers every datagram with the
        bytes of each file, one datagram each (pre-rendered replies).
        Prints READY {"ssdp_port":...}.

    python benchmarks/servers.py bare-gena --post-file F [--seconds S]
        GENA done by hand on bare twisted.web: SUBSCRIBE records the
        CALLBACK and sends one initial NOTIFY 50 ms later; any POST gets
        the bytes of F and then one NOTIFY to every subscriber, sent with
        twisted.web.client.Agent over a persistent pool (as our device's
        notifier does). Prints READY {"http_port":...}.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from twisted.internet import protocol
from twisted.web import resource, server

from upnp_announce.wire.http import BytesProducer

XML = b'text/xml; charset="utf-8"'


def _ready(info: dict[str, Any]) -> None:
    print("READY " + json.dumps(info), flush=True)


def _bounded(reactor: Any, seconds: float) -> None:
    # A process nobody stops still goes away.
    reactor.callLater(seconds, reactor.stop)


# -- our device -----------------------------------------------------------------------


def ours(options: argparse.Namespace) -> None:
    from twisted.internet import reactor

    from upnp_announce import config
    from upnp_announce.device.runner import UPnPService
    from upnp_announce.settings import EventingSettings

    root = Path(__file__).resolve().parent.parent
    loaded = config.load(root / "examples" / "light.ini", machineId="benchmarks")
    eventing = loaded.eventing
    if options.many_subscribers:
        # The event benchmark subscribes up to 200 times from 127.0.0.1;
        # the defaults (100 per service, 10 per source) would refuse it.
        eventing = EventingSettings(maxSubscriptions=1000, maxSubscriptionsPerSource=1000)
    service = UPnPService(
        loaded.device,
        loaded.network,
        interfaces=["lo"],
        httpPort=0,
        ssdpPort=options.ssdp_port,
        eventing=eventing,
    )

    def listening(bindings: Any) -> None:
        binding = bindings[0]
        paths = service.site.descriptions.layout.services[0]
        _ready({
            "http_port": binding.port,
            "location": binding.location,
            "description": "/description.xml",
            "control": paths.control,
            "event": paths.event,
            "ssdp_port": options.ssdp_port,
        })

    def failed(failure: Any) -> None:
        print(f"FAILED {failure.getErrorMessage()}", flush=True)
        reactor.stop()

    service.whenListening().addCallbacks(listening, failed)
    reactor.callWhenRunning(service.startService)
    reactor.addSystemEventTrigger("before", "shutdown", service.stopService)
    _bounded(reactor, options.seconds)
    reactor.run()


# -- bare Twisted HTTP ------------------------------------------------------------------


class Fixed(resource.Resource):
    """
    The same bytes for any GET, others for any POST.
    """

    isLeaf = True

    def __init__(self, get: bytes, post: bytes) -> None:
        super().__init__()
        self.get = get
        self.post = post

    def render_GET(self, request: Any) -> bytes:
        request.setHeader(b"content-type", XML)
        return self.get

    def render_POST(self, request: Any) -> bytes:
        request.setHeader(b"content-type", XML)
        return self.post


class QuietSite(server.Site):
    """
    A Site without its access log (our device logs access only with
    C{--debug http}).
    """

    def log(self, request: Any) -> None:
        pass


def bare_http(options: argparse.Namespace) -> None:
    from twisted.internet import reactor

    leaf = Fixed(Path(options.get_file).read_bytes(), Path(options.post_file).read_bytes())
    _serve(reactor, leaf, options)


def _serve(reactor: Any, root: resource.Resource, options: argparse.Namespace) -> None:
    """
    Serve C{root} on a loopback port for C{options.seconds}, telling the
    benchmark where.
    """
    site = QuietSite(root, parsePOSTFormSubmission=False)
    site.noisy = False
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    _ready({"http_port": port.getHost().port})
    _bounded(reactor, options.seconds)
    reactor.run()


class NaiveSOAP(resource.Resource):
    """
    What a first SOAP endpoint on twisted.web looks like: ElementTree on
    the body, the action's name, a formatted answer.
    """

    isLeaf = True

    def render_POST(self, request: Any) -> bytes:
        import xml.etree.ElementTree as ET

        envelope = ET.fromstring(request.content.read())
        call = next(iter(envelope.find("{http://schemas.xmlsoap.org/soap/envelope/}Body")))
        namespace, _, action = call.tag[1:].partition("}")
        request.setHeader(b"content-type", XML)
        return (
            '<?xml version="1.0"?>\n<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/'
            'envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>'
            f'<u:{action}Response xmlns:u="{namespace}"><ResultStatus>0</ResultStatus>'
            f"</u:{action}Response></s:Body></s:Envelope>"
        ).encode()


def naive_soap(options: argparse.Namespace) -> None:
    from twisted.internet import reactor

    _serve(reactor, NaiveSOAP(), options)


# -- bare Twisted SSDP -----------------------------------------------------------------


class Echo(protocol.DatagramProtocol):
    """
    Answers every datagram with the same datagrams.
    """

    def __init__(self, replies: list[bytes]) -> None:
        self.replies = replies

    def datagramReceived(self, datagram: bytes, addr: Any) -> None:
        write = self.transport.write
        for reply in self.replies:
            write(reply, addr)


def bare_ssdp(options: argparse.Namespace) -> None:
    from twisted.internet import reactor

    replies = [Path(f).read_bytes() for f in options.reply_file]
    port = reactor.listenUDP(0, Echo(replies), interface="127.0.0.1")
    _ready({"ssdp_port": port.getHost().port})
    _bounded(reactor, options.seconds)
    reactor.run()


# -- bare Twisted GENA ------------------------------------------------------------------


def _propertyset(value: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<e:propertyset '
        'xmlns:e="urn:schemas-upnp-org:event-1-0"><e:property><Status>'
        f"{value}</Status></e:property></e:propertyset>\n"
    ).encode()


class Gena(resource.Resource):
    isLeaf = True

    def __init__(self, reactor: Any, agent: Any, post: bytes) -> None:
        super().__init__()
        self.reactor = reactor
        self.agent = agent
        self.post = post
        # [callback URL, SID, next SEQ]
        self.subscribers: list[list[Any]] = []
        self.value = "0"

    def render(self, request: Any) -> bytes:
        if request.method == b"SUBSCRIBE":
            url = request.getHeader(b"callback").strip()[1:-1]
            subscriber = [url, f"uuid:bare-{len(self.subscribers)}".encode(), 0]
            self.subscribers.append(subscriber)
            request.setHeader(b"sid", subscriber[1])
            request.setHeader(b"timeout", b"Second-1800")
            self.reactor.callLater(0.05, self.send, subscriber, _propertyset(self.value))
            return b""
        if request.method == b"POST":
            self.value = "1" if self.value == "0" else "0"
            self.reactor.callLater(0, self.fanOut)
            request.setHeader(b"content-type", XML)
            return self.post
        request.setResponseCode(405)
        return b""

    def fanOut(self) -> None:
        body = _propertyset(self.value)
        for subscriber in self.subscribers:
            self.send(subscriber, body)

    def send(self, subscriber: list[Any], body: bytes) -> None:
        from twisted.web.client import readBody
        from twisted.web.http_headers import Headers

        url, sid, seq = subscriber
        subscriber[2] = seq + 1
        headers = Headers({
            b"nt": [b"upnp:event"], b"nts": [b"upnp:propchange"], b"sid": [sid],
            b"seq": [str(seq).encode()], b"content-type": [XML],
        })
        d = self.agent.request(b"NOTIFY", url, headers, BytesProducer(body))
        d.addCallback(readBody)
        d.addErrback(lambda f: print(f"NOTIFY failed: {f.getErrorMessage()}", flush=True))


def bare_gena(options: argparse.Namespace) -> None:
    from twisted.internet import reactor
    from twisted.web.client import Agent, HTTPConnectionPool

    pool = HTTPConnectionPool(reactor, persistent=True)
    pool.maxPersistentPerHost = 2
    agent = Agent(reactor, connectTimeout=5, pool=pool)
    site = QuietSite(Gena(reactor, agent, Path(options.post_file).read_bytes()),
                     parsePOSTFormSubmission=False)
    site.noisy = False
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    _ready({"http_port": port.getHost().port})
    _bounded(reactor, options.seconds)
    reactor.run()


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("ours")
    p.add_argument("--ssdp-port", type=int, required=True)
    p.add_argument("--many-subscribers", action="store_true")
    p = commands.add_parser("bare-http")
    p.add_argument("--get-file", required=True)
    p.add_argument("--post-file", required=True)
    commands.add_parser("naive-soap")
    p = commands.add_parser("bare-ssdp")
    p.add_argument("--reply-file", required=True, action="append")
    p = commands.add_parser("bare-gena")
    p.add_argument("--post-file", required=True)
    for p in commands.choices.values():
        p.add_argument("--seconds", type=float, default=120.0)
    options = parser.parse_args(argv)
    {"ours": ours, "bare-http": bare_http, "bare-ssdp": bare_ssdp,
     "bare-gena": bare_gena, "naive-soap": naive_soap}[options.command](options)


if __name__ == "__main__":
    main(sys.argv[1:])
