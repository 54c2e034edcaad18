"""
The ssdp group: unicast searches to the device's own address for every
target its description implies, and what the replies must be. The
searches (L{search}) are I/O; reading the replies (L{judge}) is pure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from twisted.internet.protocol import DatagramProtocol

from upnp_announce.client.conform.catalog import Verdicts, digits
from upnp_announce.client.conform.description import config_id, spec_version
from upnp_announce.client.conform.probe import Probe
from upnp_announce.model import split_type
from upnp_announce.wire import ssdp
from upnp_announce.wire.description import RemoteDevice

__all__ = ["Targets", "check", "judge", "search", "targets"]

# The distinct replies kept per search (3+2d+k of a large tree fits, with room
# to spare): a device that floods is not read
# further.
MAX_REPLIES = 512
# Seconds to wait for more after the expected replies came.
GRACE = 0.3
# The headers of a search reply (UDA 1.1 1.3.3); DATE is recommended.
REQUIRED = ("cache-control", "ext", "location", "server", "st", "usn")
KNOWN = frozenset({*REQUIRED, "date", "bootid.upnp.org", "configid.upnp.org",
                   "searchport.upnp.org", "securelocation.upnp.org"})
_SERVER = re.compile(r"\S+/\S+,? UPnP/[12]\.[0-9],? \S+/\S+")
MALFORMED = (
    b"M-SEARCH * HTTP/1.1\r\nHOST: %(host)s\r\nMAN: \"ssdp:discover\"\r\nMX: -1\r\n"
    b"ST: ssdp:all\r\n\r\n",
    b"M-SEARCH * HTTP/1.1\r\nHOST: %(host)s\r\nMAN: \"ssdp:discover\"\r\nST: "
    + b"x" * 2000 + b"\r\n\r\n",
    b"M-SEARCH * HTTP/1.1\r\nHOST: %(host)s\r\nMAN: \"ssdp:discover\"\r\n\r\n",
    b"M-SEARCH * HTTP/1.1\r\nHOST: %(host)s\r\nMAN: ssdp:discover\r\nST: \xff\xfe\r\n\r\n",
    b"M-SEARCH\r\n\r\n",
    b"\x00" * 64,
)


@dataclass(frozen=True)
class Targets:
    """
    What is searched for: C{searches} in order; the lower version of a
    type, and a higher one, where there are.
    """

    searches: tuple[str, ...]
    lower: str | None
    higher: str


def targets(root: RemoteDevice) -> Targets:
    """
    Every search target C{root}'s description implies.
    """
    found = [ssdp.ALL, ssdp.ROOTDEVICE]
    types: list[str] = []
    for device in root.allDevices():
        found.append(device.UDN)
        types.append(device.deviceType)
        types += [s.serviceType for s in device.services]
    types = list(dict.fromkeys(t for t in types if split_type(t)))
    found += types
    lower = None
    for t in types:
        split = split_type(t)
        if split and split[1] > 1:
            lower = f"{split[0]}:{split[1] - 1}"
            found.append(lower)
            break
    split = split_type(root.deviceType)
    higher = f"{split[0]}:{split[1] + 1}" if split else "urn:schemas-upnp-org:device:XConform:2"
    found.append(higher)
    return Targets(tuple(dict.fromkeys(found)), lower, higher)


class _Collector(DatagramProtocol):
    """
    Keeps the distinct datagrams that come (a repeat is dropped: UDP
    devices repeat, and a flood of one reply must not hide the others), up
    to L{MAX_REPLIES}.
    """

    noisy = False

    def __init__(self) -> None:
        self.replies: list[bytes] = []
        self._seen: set[bytes] = set()

    def datagramReceived(self, datagram: bytes, addr: Any) -> None:
        data = datagram[: ssdp.MAX_DATAGRAM + 1]
        if len(self.replies) < MAX_REPLIES and data not in self._seen:
            self._seen.add(data)
            self.replies.append(data)


def _host_port(probe: Probe) -> str:
    host = probe.host
    return f"[{host}]:{probe.ssdpPort}" if ":" in host else f"{host}:{probe.ssdpPort}"


def _listen(probe: Probe, collector: _Collector) -> Any:
    return probe.reactor.listenUDP(0, collector, interface="::" if ":" in probe.host else "")


def _send(port: Any, datagram: bytes, destination: tuple[str, int]) -> None:
    """
    Send one datagram; one that cannot leave is as good as lost (the rules
    that wanted its answer fail).
    """
    try:
        port.write(datagram, destination)
    except OSError:
        pass


async def search(
    probe: Probe, searches: Sequence[str], expected: dict[str, int]
) -> dict[str, list[bytes]]:
    """
    Search the device for each target at once, each from a socket of its
    own; collect the replies until each target has C{expected} distinct
    ones (and a little longer), or the probe's time is up.
    """
    collectors = {st: _Collector() for st in searches}
    ports = [_listen(probe, c) for c in collectors.values()]
    destination = (probe.host, probe.ssdpPort)

    def send(only: Iterable[str]) -> None:
        for st, port in zip(collectors, ports):
            if st in only:
                _send(port, ssdp.msearch(st=st, mx=None, host=_host_port(probe)), destination)

    def complete() -> bool:
        return all(len(_distinct(c.replies)) >= expected.get(st, 0)
                   for st, c in collectors.items())

    try:
        send(collectors)
        # UDP may lose one: search again for what has no reply yet.
        if not await probe.waitFor(complete, min(1.0, probe.timeout / 2)):
            send([st for st, c in collectors.items() if not c.replies])
            await probe.waitFor(complete, probe.timeout)
        await probe.waitFor(lambda: False, GRACE)
    finally:
        for port in ports:
            port.stopListening()
    return {st: c.replies for st, c in collectors.items()}


async def malformed(probe: Probe, target: str) -> bool:
    """
    Send malformed searches, then a good one for C{target} (answered
    before): whether it is still answered.
    """
    collector = _Collector()
    port = _listen(probe, collector)
    destination = (probe.host, probe.ssdpPort)
    try:
        for datagram in MALFORMED:
            _send(port, datagram.replace(b"%(host)s", _host_port(probe).encode()), destination)
        await probe.waitFor(lambda: False, GRACE)
        collector.replies.clear()
        good = ssdp.msearch(st=target, mx=None, host=_host_port(probe))
        _send(port, good, destination)

        def answered() -> bool:
            return any(st == target for st, _ in _distinct(collector.replies))

        if not await probe.waitFor(answered, min(1.0, probe.timeout / 2)):
            _send(port, good, destination)
            await probe.waitFor(answered, probe.timeout)
        return answered()
    finally:
        port.stopListening()


def _reply(data: bytes) -> tuple[str, dict[str, str]] | None:
    """
    A reply's start line and headers (lowercased names, the first of
    each), read leniently; C{None} for what is not text.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    head = text.replace("\r\n", "\n").split("\n\n", 1)[0].split("\n")
    headers: dict[str, str] = {}
    for line in head[1:]:
        name, colon, value = line.partition(":")
        if colon:
            headers.setdefault(name.strip().lower(), value.strip())
    return head[0].strip(), headers


def _distinct(replies: Iterable[bytes]) -> dict[tuple[str, str], dict[str, str]]:
    """
    The replies by (ST, USN), duplicates dropped (UDP devices repeat).
    """
    found: dict[tuple[str, str], dict[str, str]] = {}
    for data in replies:
        reply = _reply(data)
        if reply is not None and reply[0].upper().startswith("HTTP/"):
            headers = reply[1]
            found.setdefault((headers.get("st", ""), headers.get("usn", "")), headers)
    return found


def _owners(root: RemoteDevice, st: str) -> set[str]:
    """
    The UDNs (lowercased) that may send a reply with ST C{st}: the root
    device for upnp:rootdevice, else the devices with that device or
    service type (at any version: what version is answered is
    SSDP-VERSION's business).
    """
    if st.lower() == ssdp.ROOTDEVICE:
        return {root.UDN.lower()}
    name = split_type(st)

    def same(t: str) -> bool:
        mine = split_type(t)
        return mine is not None and name is not None and mine[0] == name[0]

    return {d.UDN.lower() for d in root.allDevices()
            if same(d.deviceType) or any(same(s.serviceType) for s in d.services)}


def judge(
    verdicts: Verdicts,
    root: RemoteDevice,
    plan: Targets,
    replies: dict[str, list[bytes]],
    *,
    host: str,
    location: str,
    spec: tuple[int, int] | None,
    configId: int | None,
) -> None:
    """
    Read the replies to the searches of C{plan}, by target.
    """
    expected = ssdp.announcements(root)
    answers = {st: _distinct(data) for st, data in replies.items()}
    got = sorted(st for st, _ in answers.get(ssdp.ALL, {}))
    wanted = sorted(a.nt for a in expected)
    missing = [st for st in dict.fromkeys(wanted) if got.count(st) < wanted.count(st)]
    extra = [st for st in dict.fromkeys(got) if got.count(st) > wanted.count(st)]
    verdicts.check("SSDP-ALL", [f"ssdp:all: no reply for {st}" for st in missing]
                   + [f"ssdp:all: an unexpected reply for {st}" for st in extra],
                   f"{len(got)} replies")
    rootReplies = [st for st, _ in answers.get(ssdp.ROOTDEVICE, {})]
    verdicts.check("SSDP-ROOT", [] if rootReplies == [ssdp.ROOTDEVICE] else [
        f"upnp:rootdevice was answered with {rootReplies or 'nothing'}"], "one reply")
    for device in root.allDevices():
        sts = [st for st, _ in answers.get(device.UDN, {})]
        verdicts.check("SSDP-UUID", [] if [s.lower() for s in sts] == [device.UDN.lower()] else [
            f"{device.UDN} was answered with {sts or 'nothing'}"], "each device once")
    for st in plan.searches:
        if st in (ssdp.ALL, ssdp.ROOTDEVICE, plan.lower, plan.higher) or st.startswith("uuid:"):
            continue
        count = len(ssdp.matches(st, expected))
        sts = [s for s, _ in answers.get(st, {})]
        verdicts.check("SSDP-TYPE", [] if sts == [st] * count else [
            f"{st} was answered {len(sts)} time(s) ({', '.join(sorted(set(sts))) or 'nothing'}), "
            f"not {count}"], "each type once per device")
    problems = []
    if plan.lower is not None:
        count = len(ssdp.matches(plan.lower, expected))
        sts = [s for s, _ in answers.get(plan.lower, {})]
        if sts != [plan.lower] * count:
            problems.append(f"the lower version {plan.lower} was answered with "
                            f"{sorted(set(sts)) or 'nothing'}")
    if answers.get(plan.higher):
        problems.append(f"the higher version {plan.higher} was answered")
    verdicts.check("SSDP-VERSION", problems,
                   "lower and higher versions" if plan.lower else "a higher version")
    _each(verdicts, root, [d for data in replies.values() for d in data], host=host,
          location=location, spec=spec, configId=configId)


def _each(
    verdicts: Verdicts,
    root: RemoteDevice,
    replies: list[bytes],
    *,
    host: str,
    location: str,
    spec: tuple[int, int] | None,
    configId: int | None,
) -> None:
    """
    The rules every single reply must meet.
    """
    bootIds = set()
    old = spec is not None and spec < (1, 1)
    for data in replies:
        reply = _reply(data)
        if reply is None:
            verdicts.fail("SSDP-HEADERS", "a reply is not UTF-8 text")
            continue
        start, headers = reply
        try:
            ssdp.parse(data)
        except ssdp.SSDPParseError as e:
            verdicts.fail("SSDP-HEADERS", f"a reply is not a search response: {e}")
        if not re.match(r"HTTP/1\.1 200 OK\Z", start):
            verdicts.fail("SSDP-HEADERS", f"the start line is {start[:40]!r}")
        for name in REQUIRED:
            if name not in headers:
                verdicts.fail("SSDP-HEADERS", f"a reply without {name.upper()}")
        if "date" not in headers:
            verdicts.warn("SSDP-HEADERS", "a reply without DATE")
        for name in sorted(set(headers) - KNOWN):
            verdicts.warn("SSDP-HEADERS", f"an extra header {name.upper()}")
        st, usn = headers.get("st", ""), headers.get("usn", "")
        if st.lower().startswith("uuid:"):
            if usn.lower() != st.lower():
                verdicts.fail("SSDP-USN", f"USN {usn[:80]!r} for ST {st}, not the bare UUID")
        else:
            udn, sep, rest = usn.partition("::")
            if not sep or rest != st:
                verdicts.fail("SSDP-USN", f"USN {usn[:80]!r} is not uuid:UDN::{st}")
            elif udn.lower() not in _owners(root, st):
                verdicts.fail("SSDP-USN", f"USN {usn[:80]!r}: {udn} is not the device with {st}")
        _max_age(verdicts, headers.get("cache-control"))
        where = headers.get("location", "")
        if urlsplit(where).scheme != "http" or unquote(urlsplit(where).hostname or "") != host:
            verdicts.fail("SSDP-LOCATION", f"LOCATION {where[:80]!r} is not on {host}")
        elif where != location:
            verdicts.warn("SSDP-LOCATION", f"LOCATION {where[:80]!r} is not {location}")
        server = headers.get("server")
        if server is None or not _SERVER.search(server):
            verdicts.fail("SSDP-SERVER", f"SERVER {server!r} is not 'OS/version UPnP/1.1 "
                          "product/version'")
        bootId = headers.get("bootid.upnp.org")
        if bootId is None:
            (verdicts.warn if old else verdicts.fail)("SSDP-BOOTID", "a reply without BOOTID.UPNP.ORG")
        elif not digits(bootId) or int(bootId) > 2**31 - 1:
            verdicts.fail("SSDP-BOOTID", f"BOOTID.UPNP.ORG {bootId[:20]!r} is not 0..2147483647")
        else:
            bootIds.add(bootId)
        _config_id(verdicts, headers.get("configid.upnp.org"), configId, old)
    if len(bootIds) > 1:
        verdicts.fail("SSDP-BOOTID", f"replies with different BOOTIDs: {sorted(bootIds)}")
    if replies:
        for id in ("SSDP-HEADERS", "SSDP-USN", "SSDP-MAXAGE", "SSDP-LOCATION", "SSDP-SERVER",
                   "SSDP-BOOTID", "SSDP-CONFIGID"):
            verdicts.ok(id, f"{len(replies)} replies")
    else:
        for id in ("SSDP-HEADERS", "SSDP-USN", "SSDP-MAXAGE", "SSDP-LOCATION", "SSDP-SERVER",
                   "SSDP-BOOTID", "SSDP-CONFIGID"):
            verdicts.fail(id, "no reply to any search")


def _max_age(verdicts: Verdicts, value: str | None) -> None:
    if value is None:
        verdicts.fail("SSDP-MAXAGE", "a reply without CACHE-CONTROL")
        return
    directives = [d.strip() for d in value.split(",")]
    ages = [d.partition("=")[2].strip() for d in directives
            if d.partition("=")[0].strip().lower() == "max-age"]
    if not ages or not digits(ages[0]):
        verdicts.fail("SSDP-MAXAGE", f"CACHE-CONTROL {value[:40]!r} has no max-age=N")
    elif int(ages[0]) < 1800:
        # UDA 1.1: "Should be greater than or equal to 1800 seconds".
        verdicts.warn("SSDP-MAXAGE", f"max-age={ages[0]} is under 1800")
    if len(directives) > 1:
        verdicts.warn("SSDP-MAXAGE", f"CACHE-CONTROL {value[:40]!r} has other directives")


def _config_id(verdicts: Verdicts, value: str | None, configId: int | None, old: bool) -> None:
    if value is None:
        if old:
            verdicts.ok("SSDP-CONFIGID", "UDA 1.0: none")
        else:
            verdicts.fail("SSDP-CONFIGID", "a reply without CONFIGID.UPNP.ORG")
    elif not digits(value) or int(value) > 16777215:
        verdicts.fail("SSDP-CONFIGID", f"CONFIGID.UPNP.ORG {value[:20]!r} is not 0..16777215")
    elif configId is None:
        (verdicts.warn if old else verdicts.fail)(
            "SSDP-CONFIGID", f"CONFIGID.UPNP.ORG {value} but the description has no configId")
    elif int(value) != configId:
        verdicts.fail("SSDP-CONFIGID", f"CONFIGID.UPNP.ORG {value}, the description's "
                      f"configId {configId}")


async def check(probe: Probe, verdicts: Verdicts) -> None:
    root = probe.loaded.remote
    document = probe.loaded.description
    if root is None or document.root is None:
        return
    plan = targets(root)
    expected = ssdp.announcements(root)
    counts = {st: len(ssdp.matches(st, expected)) for st in plan.searches}
    replies = await search(probe, plan.searches, counts)
    judge(verdicts, root, plan, replies, host=probe.host, location=probe.location,
          spec=spec_version(document.root), configId=config_id(document.root))
    answered = [st for st in (root.UDN, *plan.searches)
                if st != ssdp.ALL and any(s == st for s, _ in _distinct(replies.get(st, ())))]
    if not answered:
        verdicts.skip("SSDP-MALFORMED", "no search was answered")
    elif await malformed(probe, answered[0]):
        verdicts.ok("SSDP-MALFORMED", f"answers after {len(MALFORMED)} malformed searches")
    else:
        verdicts.fail("SSDP-MALFORMED", f"no answer after {len(MALFORMED)} malformed searches")
