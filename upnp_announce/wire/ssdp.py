"""
SSDP messages: datagrams to frozen values and back; and which messages a
device tree announces and which of them answer a search. Pure: no I/O, no
logging, no clock.

Liberal in what it reads (CRLF or bare LF, any header case, no space after the
colon, repeated headers: the first counts), strict in what it writes (UDA 1.1
header sets, CRLF, one message per datagram). Every malformed datagram raises
L{SSDPParseError} and nothing else.
"""

from __future__ import annotations

import email.utils
import functools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from upnp_announce.model import serves

__all__ = [
    "ALL",
    "MAX_MX",
    "MULTICAST_ADDRESS",
    "ROOTDEVICE",
    "Announcement",
    "MULTICAST_HOST",
    "GROUPS",
    "LINK_LOCAL_GROUP",
    "SITE_LOCAL_GROUP",
    "SSDP_PORT",
    "MSearch",
    "Notify",
    "SSDPParseError",
    "SearchResponse",
    "alive",
    "announcements",
    "byebye",
    "group_host",
    "http_date",
    "matches",
    "msearch",
    "parse",
    "search_response",
    "update",
]

MULTICAST_ADDRESS = "239.255.255.250"
SSDP_PORT = 1900
MULTICAST_HOST = f"{MULTICAST_ADDRESS}:{SSDP_PORT}"
# IPv6 (UDA 2.0 Annex A): the link-local and the site-local group; never
# the global-scope one.
LINK_LOCAL_GROUP = "ff02::c"
SITE_LOCAL_GROUP = "ff05::c"
GROUPS = (MULTICAST_ADDRESS, LINK_LOCAL_GROUP, SITE_LOCAL_GROUP)
ROOTDEVICE = "upnp:rootdevice"
ALL = "ssdp:all"

# UDA 1.1: MX above 5 counts as 5.
MAX_MX = 5

# A datagram is one message; anything longer than this is not SSDP.
MAX_DATAGRAM = 8192
MAX_HEADERS = 64

_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")
_DIGITS = re.compile(r"[0-9]{1,10}\Z")
# Control characters other than tab have no place in a header value (a bare
# CR there could smuggle a header into what we echo back).
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


class SSDPParseError(ValueError):
    """
    The datagram is not an SSDP message we understand.
    """


@dataclass(frozen=True)
class _Message:
    """
    Headers by lowercased name, first occurrence kept.
    """

    headers: dict[str, str] = field(repr=False, compare=False)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class MSearch(_Message):
    """
    An C{M-SEARCH * HTTP/1.1}.

    @ivar mx: seconds, or C{None} when absent (a unicast search).
    """

    host: str | None = None
    man: str | None = None
    mx: int | None = None
    st: str = ""

    @functools.cached_property
    def isDiscover(self) -> bool:
        """
        Whether MAN is C{"ssdp:discover"} (quoted, as UDA says; we also
        take it unquoted and in any case).
        """
        return self.man is not None and self.man.strip('"').lower() == "ssdp:discover"


@dataclass(frozen=True)
class Notify(_Message):
    """
    A C{NOTIFY * HTTP/1.1}: ssdp:alive, ssdp:byebye or ssdp:update.
    """

    nt: str = ""
    nts: str = ""
    usn: str = ""
    location: str | None = None
    maxAge: int | None = None


@dataclass(frozen=True)
class SearchResponse(_Message):
    """
    An C{HTTP/1.1 200 OK} answering a search.
    """

    st: str = ""
    usn: str = ""
    location: str = ""
    maxAge: int | None = None


def _max_age(value: str | None) -> int | None:
    if value is None:
        return None
    for directive in value.split(","):
        name, _, number = directive.strip().partition("=")
        if name.strip().lower() == "max-age" and _DIGITS.match(number.strip()):
            return int(number.strip())
    raise SSDPParseError(f"CACHE-CONTROL {value[:40]!r} has no max-age")


def _require(headers: dict[str, str], name: str) -> str:
    value = headers.get(name)
    if not value:
        raise SSDPParseError(f"no {name.upper()} header")
    return value


def parse(data: bytes) -> MSearch | Notify | SearchResponse:
    """
    Read one datagram.

    @raise SSDPParseError: for anything that is not a well-formed M-SEARCH,
        NOTIFY or search response.
    """
    if len(data) > MAX_DATAGRAM:
        raise SSDPParseError(f"{len(data)} bytes is too long for SSDP")
    head, _, _ = data.partition(b"\r\n\r\n")
    if b"\n\n" in head:
        head, _, _ = head.partition(b"\n\n")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        raise SSDPParseError("not UTF-8 text") from None
    lines = text.replace("\r\n", "\n").split("\n")
    start = lines[0].strip()
    headers: dict[str, str] = {}
    if len(lines) - 1 > MAX_HEADERS:
        raise SSDPParseError(f"more than {MAX_HEADERS} headers")
    for line in lines[1:]:
        if not line.strip():
            continue
        name, colon, value = line.partition(":")
        name = name.strip()
        if not colon or not _TOKEN.match(name):
            raise SSDPParseError(f"{line[:40]!r} is not a header")
        if _CONTROL.search(value):
            raise SSDPParseError(f"the {name[:20]} header has a control character")
        headers.setdefault(name.lower(), value.strip())
    method = start.split(" ", 1)[0].upper()
    if method == "M-SEARCH":
        _start_line(start, "M-SEARCH")
        mx = headers.get("mx")
        if mx is not None and not _DIGITS.match(mx):
            raise SSDPParseError(f"MX {mx[:20]!r} is not a whole number of seconds")
        return MSearch(
            headers,
            host=headers.get("host"),
            man=headers.get("man"),
            mx=int(mx) if mx is not None else None,
            st=_require(headers, "st"),
        )
    if method == "NOTIFY":
        _start_line(start, "NOTIFY")
        return Notify(
            headers,
            nt=_require(headers, "nt"),
            nts=_require(headers, "nts"),
            usn=_require(headers, "usn"),
            location=headers.get("location"),
            maxAge=_max_age(headers.get("cache-control")),
        )
    if re.match(r"HTTP/1\.[01] 200( |\Z)", start, re.IGNORECASE):
        return SearchResponse(
            headers,
            st=_require(headers, "st"),
            usn=_require(headers, "usn"),
            location=_require(headers, "location"),
            maxAge=_max_age(headers.get("cache-control")),
        )
    raise SSDPParseError(f"{start[:40]!r} is not an SSDP start line")


def _start_line(line: str, method: str) -> None:
    parts = line.split()
    if len(parts) != 3 or parts[1] != "*" or not parts[2].upper().startswith("HTTP/1."):
        raise SSDPParseError(f"{line[:40]!r} is not '{method} * HTTP/1.1'")


def http_date(seconds: float) -> str:
    """
    An RFC 1123 date, as SSDP's DATE header wants it.
    """
    return _date(int(seconds))


@functools.lru_cache(maxsize=4)
def _date(seconds: int) -> str:
    # Formatted once a second, not for every reply.
    return email.utils.formatdate(seconds, usegmt=True)


def _serialise(startLine: str, headers: list[tuple[str, str]]) -> bytes:
    lines = [startLine] + [f"{name}: {value}" if value else f"{name}:" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


def search_response(
    *,
    st: str,
    usn: str,
    location: str,
    maxAge: int,
    date: str,
    server: str,
    bootId: int,
    configId: int,
) -> bytes:
    """
    The datagram that answers a search: UDA 1.1's header set, exactly.
    """
    return _serialise(
        "HTTP/1.1 200 OK",
        [
            ("CACHE-CONTROL", f"max-age={maxAge}"),
            ("DATE", date),
            ("EXT", ""),
            ("LOCATION", location),
            ("SERVER", server),
            ("ST", st),
            ("USN", usn),
            ("BOOTID.UPNP.ORG", str(bootId)),
            ("CONFIGID.UPNP.ORG", str(configId)),
        ],
    )


def group_host(group: str) -> str:
    """
    The HOST header of a message to C{group}: C{239.255.255.250:1900},
    C{[ff02::c]:1900}...
    """
    return f"[{group.upper()}]:{SSDP_PORT}" if ":" in group else f"{group}:{SSDP_PORT}"


def alive(
    *,
    nt: str,
    usn: str,
    location: str,
    maxAge: int,
    server: str,
    bootId: int,
    configId: int,
    host: str = MULTICAST_HOST,
) -> bytes:
    """
    An ssdp:alive NOTIFY.
    """
    return _serialise(
        "NOTIFY * HTTP/1.1",
        [
            ("HOST", host),
            ("CACHE-CONTROL", f"max-age={maxAge}"),
            ("LOCATION", location),
            ("NT", nt),
            ("NTS", "ssdp:alive"),
            ("SERVER", server),
            ("USN", usn),
            ("BOOTID.UPNP.ORG", str(bootId)),
            ("CONFIGID.UPNP.ORG", str(configId)),
        ],
    )


def byebye(
    *, nt: str, usn: str, bootId: int, configId: int, host: str = MULTICAST_HOST
) -> bytes:
    """
    An ssdp:byebye NOTIFY: HOST, NT, NTS, USN, BOOTID and CONFIGID only.
    """
    return _serialise(
        "NOTIFY * HTTP/1.1",
        [
            ("HOST", host),
            ("NT", nt),
            ("NTS", "ssdp:byebye"),
            ("USN", usn),
            ("BOOTID.UPNP.ORG", str(bootId)),
            ("CONFIGID.UPNP.ORG", str(configId)),
        ],
    )


def update(
    *,
    nt: str,
    usn: str,
    location: str,
    bootId: int,
    configId: int,
    nextBootId: int,
    host: str = MULTICAST_HOST,
    searchPort: int | None = None,
) -> bytes:
    """
    An ssdp:update NOTIFY (UDA 1.1 1.2.4): the device's network changed;
    its BOOTID becomes C{nextBootId}. HOST, LOCATION, NT, NTS, USN,
    BOOTID, CONFIGID, NEXTBOOTID, and SEARCHPORT when it is not 1900.
    """
    headers = [
        ("HOST", host),
        ("LOCATION", location),
        ("NT", nt),
        ("NTS", "ssdp:update"),
        ("USN", usn),
        ("BOOTID.UPNP.ORG", str(bootId)),
        ("CONFIGID.UPNP.ORG", str(configId)),
        ("NEXTBOOTID.UPNP.ORG", str(nextBootId)),
    ]
    if searchPort is not None and searchPort != SSDP_PORT:
        headers.append(("SEARCHPORT.UPNP.ORG", str(searchPort)))
    return _serialise("NOTIFY * HTTP/1.1", headers)


def msearch(*, st: str, mx: int | None, host: str = MULTICAST_HOST) -> bytes:
    """
    An M-SEARCH: multicast with MX, or unicast (C{mx=None}) to C{host}.
    """
    headers = [("HOST", host), ("MAN", '"ssdp:discover"')]
    if mx is not None:
        headers.append(("MX", str(mx)))
    headers.append(("ST", st))
    return _serialise("M-SEARCH * HTTP/1.1", headers)


# -- what a device tree announces, and what answers a search ---------------------


@dataclass(frozen=True)
class Announcement:
    """
    One (NT, USN) pair: sent as NT in a NOTIFY, as ST in a search reply.
    """

    nt: str
    usn: str


class _Service(Protocol):
    @property
    def serviceType(self) -> str: ...


class _Device(Protocol):
    @property
    def UDN(self) -> str: ...

    @property
    def deviceType(self) -> str: ...

    @property
    def services(self) -> Sequence[_Service]: ...

    def allDevices(self) -> Iterator[_Device]: ...


def announcements(root: _Device) -> tuple[Announcement, ...]:
    """
    The 3+2d+k set of UDA 1.1 1.1.2: for the root device upnp:rootdevice,
    its UUID and its type; for each embedded device its UUID and its type;
    for each device, each distinct service type once.

    @param root: our model's L{Device}, or another device's description
        (a L{upnp_announce.wire.description.RemoteDevice}): what a device
        with that description must announce.
    """
    found = [Announcement(ROOTDEVICE, f"{root.UDN}::{ROOTDEVICE}")]
    for device in root.allDevices():
        found.append(Announcement(device.UDN, device.UDN))
        found.append(Announcement(device.deviceType, f"{device.UDN}::{device.deviceType}"))
        for serviceType in dict.fromkeys(s.serviceType for s in device.services):
            found.append(Announcement(serviceType, f"{device.UDN}::{serviceType}"))
    return tuple(found)


def matches(st: str, everything: tuple[Announcement, ...]) -> tuple[Announcement, ...]:
    """
    The replies to a search for C{st} among C{everything} (a device's
    L{announcements}), each with the ST to send.

    C{ssdp:all}, C{upnp:rootdevice} and C{uuid:} match case-insensitively;
    a device or service type matches our type at the same or a higher
    version, and is answered with the version asked for (UDA 1.1 1.2.3);
    a higher version than ours gets nothing.
    """
    lowered = st.lower()
    if lowered == ALL:
        return everything
    if lowered == ROOTDEVICE:
        return everything[:1]
    if lowered.startswith("uuid:"):
        return tuple(
            Announcement(st, a.usn)
            for a in everything
            if a.nt == a.usn and a.usn.lower() == lowered
        )
    # One reply per device, even where it has two versions of the type.
    replies: dict[Announcement, None] = {}
    for announcement in everything:
        if serves(announcement.nt, st):
            udn = announcement.usn.split("::", 1)[0]
            replies[Announcement(st, f"{udn}::{st}")] = None
    return tuple(replies)
