"""
L{Probe}: the device under test as the rule groups see it: bounded HTTP
exchanges on its own host, under one overall deadline, and what was read
of it (its description and its services' SCPDs, each kept raw as well as
parsed).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from lxml import etree
from twisted.internet import task
from twisted.web.http_headers import Headers

from upnp_announce.client.common import ClientError, Unreachable, first_header
from upnp_announce.client.controlpoint import ControlPoint
from upnp_announce.model import ServiceDescription
from upnp_announce.wire import xmlsafe
from upnp_announce.wire.description import (
    MAX_DOCUMENT,
    DescriptionError,
    RemoteDevice,
    RemoteService,
    parse_device_description,
)
from upnp_announce.wire.scpd import parse_scpd

__all__ = ["Deadline", "Document", "Probe", "ServiceUnderTest", "is_xml"]


class Deadline(Exception):
    """
    The run's overall time is up: no further probe is sent.
    """


@dataclass
class Document:
    """
    An XML document fetched from the device: its status, content type and
    bytes, and its root element, or why there is none.
    """

    url: str
    status: int = 0
    contentType: str = ""
    data: bytes = b""
    root: etree._Element | None = None
    problem: str = ""


@dataclass
class ServiceUnderTest:
    """
    A service of the device, with its SCPD as fetched and, when the model
    can read it, as a L{ServiceDescription} (else why not, in C{problem}).
    """

    device: RemoteDevice
    remote: RemoteService
    document: Document
    description: ServiceDescription | None = None
    problem: str = ""


@dataclass
class _Loaded:
    description: Document
    remote: RemoteDevice | None = None
    services: list[ServiceUnderTest] = field(default_factory=list)


def is_xml(contentType: str) -> bool:
    """
    Whether a Content-Type is XML (C{text/xml}, as UDA says, or
    C{application/xml}).
    """
    return contentType.split(";", 1)[0].strip().lower() in ("text/xml", "application/xml")


class Probe:
    """
    The device at C{location}, probed by the rule groups.

    @ivar host: the device's IP address (LOCATION's host).
    @ivar invoke: whether actions that change state may be called.
    """

    def __init__(
        self,
        reactor: Any,
        location: str,
        *,
        point: ControlPoint,
        timeout: float,
        deadline: float,
        invoke: bool = False,
        ssdpPort: int = 1900,
    ) -> None:
        """
        @param point: makes the HTTP exchanges.
        @param timeout: seconds for each probe.
        @param deadline: seconds for the whole run, from now.
        @raise ValueError: when LOCATION's host is not an IP address.
        """
        parts = urlsplit(location)
        self.host = unquote(parts.hostname or "")
        ipaddress.ip_address(self.host.split("%", 1)[0])
        self.reactor = reactor
        self.location = location
        self.point = point
        self.timeout = timeout
        self.invoke = invoke
        self.ssdpPort = ssdpPort
        self.seconds = deadline
        self.deadline = float(reactor.seconds()) + deadline
        self.loaded = _Loaded(Document(location))

    def remaining(self) -> float:
        """
        Seconds a probe may still take: its own timeout, or less when the
        run's deadline is nearer.

        @raise Deadline: when it has passed.
        """
        left = self.deadline - float(self.reactor.seconds())
        if left <= 0:
            raise Deadline(f"not run: the overall deadline ({self.seconds:g} s) passed")
        return min(self.timeout, left)

    async def waitFor(self, condition: Callable[[], bool], seconds: float) -> bool:
        """
        Poll C{condition} every 50 ms until it holds, for at most
        C{seconds} (and never past the deadline); give whether it held.
        """
        end = self.reactor.seconds() + min(seconds, self.remaining())
        while not condition():
            if self.reactor.seconds() >= end:
                return False
            await task.deferLater(self.reactor, 0.05, lambda: None)
        return True

    def onHost(self, url: str) -> bool:
        """
        Whether C{url} is an http:// URL on the device's own host (the only
        ones the tester fetches).
        """
        parts = urlsplit(url)
        return parts.scheme == "http" and unquote(parts.hostname or "") == self.host

    async def exchange(
        self,
        method: bytes,
        url: str,
        headers: Mapping[bytes, bytes] | None = None,
        body: bytes | None = None,
        limit: int = MAX_DOCUMENT,
        *,
        undoing: bool = False,
    ) -> tuple[int, Headers, bytes]:
        """
        One bounded HTTP exchange with the device.

        @param undoing: it undoes what the tester did (ends a subscription,
            sets a variable back): it is sent even past the deadline,
            within one timeout.
        @raise ClientError: when it fails (no answer in time, too long...).
        @raise Deadline: when the run's time is up.
        """
        if not self.onHost(url):
            raise ClientError(f"{url} is not on the device's host {self.host}")
        result: tuple[int, Headers, bytes] = await self.point.exchange(
            method, url, headers, body, limit=limit,
            timeout=self.timeout if undoing else self.remaining(),
        )
        return result

    async def unsubscribe(self, url: str, sid: str) -> None:
        """
        End a subscription the tester made, even past the deadline; a
        failure is the device's to live with.
        """
        try:
            await self.exchange(b"UNSUBSCRIBE", url, {b"sid": sid.encode("latin-1")},
                                limit=65536, undoing=True)
        except ClientError:
            pass

    async def fetch(self, url: str, maxDepth: int = 32) -> Document:
        """
        GET an XML document; a failure is kept as its C{problem}.

        @raise ClientError: when the device cannot be reached at all.
        """
        document = Document(url)
        try:
            document.status, headers, document.data = await self.exchange(b"GET", url)
        except ClientError as e:
            if isinstance(e, Unreachable):
                raise
            document.problem = str(e)
            return document
        document.contentType = first_header(headers, b"content-type")
        if document.status != 200:
            document.problem = f"{url} answered HTTP {document.status}"
        elif not is_xml(document.contentType):
            document.problem = f"{url} is {document.contentType or 'without Content-Type'}, not text/xml"
        else:
            try:
                document.root = xmlsafe.parse(document.data, maxBytes=MAX_DOCUMENT, maxDepth=maxDepth)
            except xmlsafe.UnsafeXML as e:
                document.problem = f"{url}: {e}"
        return document

    async def load(self) -> None:
        """
        Fetch the description and every SCPD of the tree.

        @raise ClientError: when LOCATION cannot be reached at all.
        """
        loaded = self.loaded
        loaded.description = await self.fetch(self.location)
        if loaded.description.root is None:
            return
        try:
            loaded.remote = parse_device_description(loaded.description.data, self.location)
        except DescriptionError as e:
            loaded.description.problem = str(e)
            return
        for device in loaded.remote.allDevices():
            for remote in device.services:
                if not remote.SCPDURL:
                    document = Document("", problem=f"{remote.serviceId} has no SCPDURL")
                elif not self.onHost(remote.SCPDURL):
                    document = Document(remote.SCPDURL, problem=(
                        f"{remote.SCPDURL} is not on the device's host {self.host}"))
                else:
                    document = await self.fetch(remote.SCPDURL, maxDepth=16)
                service = ServiceUnderTest(device, remote, document)
                if document.root is not None:
                    try:
                        service.description = parse_scpd(document.data, strict=False)
                    except DescriptionError as e:
                        service.problem = f"{remote.SCPDURL}: {e}"
                loaded.services.append(service)

    def services(self) -> list[ServiceUnderTest]:
        """
        The services whose SCPD the model can read and that have a
        controlURL on the device's host.
        """
        return [
            s for s in self.loaded.services
            if s.description is not None and self.onHost(s.remote.controlURL)
        ]

    def noService(self, what: str) -> str:
        """
        Why no service can be called: C{what} there is none with, and the
        first reason an SCPD could not be read by the model.
        """
        reasons = [s.problem for s in self.loaded.services if s.problem]
        return f"no service with {what}" + (f" ({reasons[0]})" if reasons else "")

