"""
Helpers shared by the tests: in-memory HTTP, and skips that CI turns into
failures.
"""

from __future__ import annotations

import os
import re
import subprocess
import textwrap
from dataclasses import dataclass
from typing import Any

import pytest
from twisted.internet.address import IPv4Address
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.web.iweb import IAgent
from twisted.web.server import Site
from zope.interface import implementer

from upnp_announce.model import Device

TESTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TESTS)
EXAMPLES = os.path.join(ROOT, "examples")
# The peer programs the namespace and interop tests run.
PEERS = os.path.join(TESTS, "peers")


BASIC = "urn:schemas-upnp-org:device:Basic:1"
ROOT_UDN = "uuid:e427ce1a-3e80-43d0-ad6f-89ec42e46363"


def device(**fields: object) -> Device:
    """
    A valid root device: the Jambon 3000's required fields, and C{fields}.
    """
    values: dict[str, object] = {
        "deviceType": BASIC,
        "friendlyName": "Jambon 3000",
        "manufacturer": "Boucherie numerique SAS",
        "modelName": "Jambon",
        "UDN": ROOT_UDN,
    }
    values.update(fields)
    return Device(**values)  # type: ignore[arg-type]


def free_udp_port() -> int:
    """
    A UDP port free on this machine just now (for a device's private SSDP
    port on loopback).
    """
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("", 0))
        port: int = s.getsockname()[1]
        return port


def example(name: str) -> str:
    return os.path.join(EXAMPLES, name)


def light() -> Device:
    """
    The example light (examples/light.ini) as a model device.
    """
    from upnp_announce import config

    return config.load(example("light.ini"), machineId="test").device


# Debian's Python, which has python3-gi (GSSDP and GUPnP peers run by it).
SYSTEM_PYTHON = "/usr/bin/python3"


def system_gi_has(*namespaces: str) -> bool:
    """
    Whether Debian's Python can load these GObject namespaces at 1.6
    (C{"GSSDP"}, C{"GUPnP"}).
    """
    if not os.path.exists(SYSTEM_PYTHON):
        return False
    code = "import gi; " + "; ".join(f"gi.require_version({n!r}, '1.6')" for n in namespaces)
    code += "; from gi.repository import " + ", ".join(namespaces)
    probe = subprocess.run([SYSTEM_PYTHON, "-c", code], capture_output=True, timeout=30)
    return probe.returncode == 0


def need(condition: bool, reason: str) -> None:
    """
    Skip the test unless C{condition}; under CI (CI=true), fail instead,
    because CI is where every test must really run.
    """
    if condition:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run this test, but: {reason}")
    pytest.skip(reason)


@dataclass
class Response:
    status: int
    reason: bytes
    headers: dict[bytes, list[bytes]]
    body: bytes

    def header(self, name: bytes) -> bytes | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None


def parse_responses(data: bytes, head: bool = False) -> list[Response]:
    """
    Split raw HTTP/1.1 responses (Content-Length framed) into values.
    """
    responses = []
    while data:
        top, _, data = data.partition(b"\r\n\r\n")
        lines = top.split(b"\r\n")
        _, status, reason = (lines[0].split(b" ", 2) + [b""])[:3]
        headers: dict[bytes, list[bytes]] = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers.setdefault(name.strip().lower(), []).append(value.strip())
        length = 0 if head else int(headers.get(b"content-length", [b"0"])[0])
        responses.append(Response(int(status), reason, headers, data[:length]))
        data = data[length:]
    return responses


class MemoryHTTP:
    """
    One HTTP connection to a Site, in memory.
    """

    def __init__(self, site: Site, peer: str = "127.0.0.1", clock: Clock | None = None):
        self.clock = clock
        self.transport = StringTransport(
            hostAddress=IPv4Address("TCP", "127.0.0.1", 80),
            peerAddress=IPv4Address("TCP", peer, 40000),
        )
        self.protocol = site.buildProtocol(self.transport.getPeer())
        self.protocol.makeConnection(self.transport)

    def send(self, raw: bytes, head: bool = False) -> list[Response]:
        self.transport.clear()
        self.protocol.dataReceived(raw)
        return parse_responses(self.transport.value(), head=head)

    def close(self) -> None:
        from twisted.internet.error import ConnectionDone
        from twisted.python.failure import Failure

        self.protocol.connectionLost(Failure(ConnectionDone()))


def request(
    method: bytes = b"GET",
    path: bytes = b"/description.xml",
    host: bytes | None = b"127.0.0.1:8000",
    headers: dict[bytes, bytes] | None = None,
    body: bytes = b"",
    version: bytes = b"HTTP/1.1",
) -> bytes:
    lines = [method + b" " + path + b" " + version]
    if host is not None:
        lines.append(b"Host: " + host)
    for name, value in (headers or {}).items():
        lines.append(name + b": " + value)
    if body:
        lines.append(b"Content-Length: %d" % len(body))
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def readme_code_blocks() -> list[str]:
    with open(os.path.join(ROOT, "README.rst"), encoding="utf-8") as f:
        text = f.read()
    blocks = re.findall(r"\.\. code-block:: python\n\n((?:(?:    .*)?\n)+)", text)
    return [textwrap.dedent(block).strip() + "\n" for block in blocks]


def ipv4(bindings: Any) -> Any:
    """
    The one IPv4 binding among a device's bindings (on lo it also serves
    ::1).
    """
    [binding] = [b for b in bindings if b.interface.family == 4]
    return binding


class FakePort:
    """
    A PacketInfoPort stand-in: records joins, leaves and sends.
    """

    def __init__(self, reactor: object, protocol: object, family: int, port: int,
                 **kw: object) -> None:
        self.family, self.port, self.kw = family, port, kw
        self.protocol = protocol
        self.sent: list[tuple[bytes, tuple[Any, ...], int | None, str | None]] = []
        self.groups: list[tuple[str, str, int]] = []
        self.listening = False
        self.failSends = False
        self.failJoins: set[int] = set()

    def startListening(self) -> None:
        if FakePort.refuse and self.family in FakePort.refuse:
            raise OSError(97, "Address family not supported by protocol")
        self.listening = True

    def stopListening(self) -> None:
        self.listening = False

    def joinGroup(self, group: str, ifindex: int) -> None:
        if ifindex in self.failJoins:
            raise OSError(19, "No such device")
        self.groups.append(("join", group, ifindex))

    def leaveGroup(self, group: str, ifindex: int) -> None:
        self.groups.append(("leave", group, ifindex))

    def sendTo(self, data: bytes, address: tuple[Any, ...], ifindex: int | None = None,
               source: str | None = None) -> int:
        if self.failSends:
            raise OSError(101, "Network is unreachable")
        self.sent.append((data, address, ifindex, source))
        return len(data)

    refuse: set[int] = set()


@implementer(IAgent)
class MemoryAgent:
    """
    An IAgent that sends each request to a resource tree over an in-memory
    connection (twisted.test.iosim), as treq.testing's agent does; the
    server sees the client as C{peer}.
    """

    def __init__(self, site: Site, peer: str = "127.0.0.1") -> None:
        self.site = site
        self.peer = peer
        self.requests: list[tuple[bytes, bytes]] = []

    def request(self, method: bytes, uri: bytes, headers: Any = None,
                bodyProducer: Any = None) -> Any:
        from twisted.test import iosim
        from twisted.web._newclient import HTTP11ClientProtocol, Request
        from twisted.web.client import URI
        from twisted.web.http_headers import Headers

        self.requests.append((method, uri))
        parsed = URI.fromBytes(uri)
        headers = headers.copy() if headers is not None else Headers()
        if not headers.hasHeader(b"host"):
            headers.addRawHeader(b"host", parsed.netloc)
        serverAddress = IPv4Address("TCP", parsed.host.decode("ascii"), parsed.port)
        clientAddress = IPv4Address("TCP", self.peer, 40000)
        serverProtocol = self.site.buildProtocol(serverAddress)
        serverTransport = iosim.FakeTransport(serverProtocol, isServer=True,
                                              hostAddress=serverAddress, peerAddress=clientAddress)
        clientProtocol = HTTP11ClientProtocol()
        clientTransport = iosim.FakeTransport(clientProtocol, isServer=False,
                                              hostAddress=clientAddress, peerAddress=serverAddress)
        pump = iosim.connect(serverProtocol, serverTransport, clientProtocol, clientTransport,
                             greet=False)
        answer = clientProtocol.request(
            Request._construct(method, parsed.originForm, headers, bodyProducer, persistent=False,
                               parsedURI=parsed))
        pump.flush()
        while pump.pump():
            pass
        return answer
