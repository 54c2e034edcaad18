"""
The eventing group: a subscription with its initial event, renewal and
unsubscription, the requests GENA refuses (412, 400), and with C{--invoke}
a change evented with the next SEQ. Events come to a callback server of
the tester's own on the address that reaches the device; every
subscription made is ended.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from twisted.web import resource

from upnp_announce import datatypes
from upnp_announce.client.common import ClientError, first_header
from upnp_announce.client.conform import calls
from upnp_announce.client.conform.catalog import Verdicts, digits
from upnp_announce.client.conform.probe import Probe, ServiceUnderTest, is_xml
from upnp_announce.client.eventing import CappedSite
from upnp_announce.model import Action, StateVariable
from upnp_announce.wire import gena, soap

__all__ = ["Event", "Listener", "check", "other_value"]

# The events kept: a device that floods is not read further.
MAX_EVENTS = 64
SUBSCRIPTION = b"Second-300"
UNKNOWN_SID = b"uuid:00000000-0000-0000-0000-00000c0f0e00"
_TIMEOUT = re.compile(r"Second-[1-9][0-9]{0,9}\Z", re.IGNORECASE)


@dataclass(frozen=True)
class Event:
    """
    A request to the callback server: its method, token (path), headers
    (lowercased names) and body.
    """

    method: str
    token: str
    headers: dict[str, str]
    body: bytes

    @property
    def seq(self) -> str:
        return self.headers.get("seq", "")


class _Recorder(resource.Resource):
    isLeaf = True

    def __init__(self, events: list[Event]) -> None:
        super().__init__()
        self.events = events

    def render(self, request: Any) -> bytes:
        if len(self.events) < MAX_EVENTS:
            content = request.content
            body = b""
            if content is not None and not getattr(content, "overflowed", False):
                content.seek(0)
                body = content.read()
            headers = {k.decode("latin-1").lower(): v[0].decode("latin-1").strip()
                       for k, v in request.requestHeaders.getAllRawHeaders()}
            self.events.append(Event(request.method.decode("latin-1"),
                                     request.path.decode("latin-1").strip("/"), headers, body))
        return b""


class Listener:
    """
    The tester's callback server: records every request it gets.
    """

    def __init__(self, reactor: Any, address: str) -> None:
        self.reactor = reactor
        self.address = address
        self.events: list[Event] = []
        self.site = CappedSite(_Recorder(self.events), timeout=10)
        self.site.noisy = False
        self.port: Any = None

    def start(self) -> None:
        self.port = self.reactor.listenTCP(0, self.site, interface=self.address.split("%")[0])

    def url(self, token: str) -> str:
        host = self.address.split("%", 1)[0]
        literal = f"[{host}]" if ":" in host else host
        return f"http://{literal}:{self.port.getHost().port}/{token}"

    def of(self, token: str) -> list[Event]:
        return [e for e in self.events if e.token == token]

    async def stop(self) -> None:
        if self.port is not None:
            await self.port.stopListening()


def _changed(body: bytes) -> dict[str, str]:
    try:
        return gena.parse_propertyset(body)
    except gena.GENAError:
        return {}


class _Session:
    """
    The subscriptions of one run, each ended at the end.
    """

    def __init__(self, probe: Probe, service: ServiceUnderTest, listener: Listener) -> None:
        self.probe = probe
        self.service = service
        self.listener = listener
        self.url = service.remote.eventSubURL
        self.live: set[str] = set()

    async def send(self, method: bytes, headers: dict[bytes, bytes]) -> tuple[int, Any, bytes]:
        status, answer, body = await self.probe.exchange(method, self.url, headers, limit=65536)
        sid = first_header(answer, b"sid")
        # Every SID the device hands out is ended at the end, also one it
        # should not have (a SUBSCRIBE with SID and NT taken as new, a
        # renewal after UNSUBSCRIBE).
        if method == b"SUBSCRIBE" and status == 200 and sid:
            self.live.add(sid)
        return status, answer, body

    async def subscribe(self, token: str, **extra: bytes) -> tuple[int, Any, bytes]:
        headers = {b"callback": f"<{self.listener.url(token)}>".encode(), b"nt": b"upnp:event",
                   b"timeout": SUBSCRIPTION}
        headers.update({k.encode(): v for k, v in extra.items()})
        return await self.send(b"SUBSCRIBE", {k: v for k, v in headers.items() if v})

    async def end(self) -> None:
        for sid in list(self.live):
            self.live.discard(sid)
            await self.probe.unsubscribe(self.url, sid)


_RULES = ("EVT-SUBSCRIBE", "EVT-SID", "EVT-TIMEOUT", "EVT-SEQ0", "EVT-NOTIFY", "EVT-VALUES",
          "EVT-RENEW", "EVT-UNSUBSCRIBE", "EVT-412", "EVT-400", "EVT-SEQ")


def evented(service: ServiceUnderTest) -> list[StateVariable]:
    assert service.description is not None
    return [v for v in service.description.stateVariables if v.sendEvents]


async def check(probe: Probe, verdicts: Verdicts) -> None:
    chosen = [s for s in probe.services() if probe.onHost(s.remote.eventSubURL) and evented(s)]
    if not chosen:
        for id in _RULES:
            verdicts.skip(id, probe.noService("evented variables and an eventSubURL"))
        return
    service = chosen[0]
    listener = Listener(probe.reactor, probe.point.localAddress(probe.host))
    listener.start()
    session = _Session(probe, service, listener)
    try:
        await _run(probe, verdicts, session)
    finally:
        try:
            await session.end()
        finally:
            await listener.stop()


async def _run(probe: Probe, verdicts: Verdicts, session: _Session) -> None:
    try:
        status, headers, _ = await session.subscribe("main")
    except ClientError as e:
        status, headers = 0, None
        verdicts.fail("EVT-SUBSCRIBE", str(e))
    sid = first_header(headers, b"sid") if headers is not None else ""
    if status == 200 and sid:
        verdicts.ok("EVT-SUBSCRIBE", session.service.remote.serviceId)
        await _subscribed(probe, verdicts, session, sid, first_header(headers, b"timeout"))
    else:
        if status:
            verdicts.fail("EVT-SUBSCRIBE", f"HTTP {status}" + ("" if sid else " without a SID"))
        for id in _RULES:
            if id not in ("EVT-SUBSCRIBE", "EVT-412"):
                verdicts.skip(id, "no subscription")
    await _refused(verdicts, session)


def _timeout(verdicts: Verdicts, header: str, what: str) -> None:
    if _TIMEOUT.match(header):
        verdicts.ok("EVT-TIMEOUT", header)
    else:
        verdicts.fail("EVT-TIMEOUT", f"{what}: TIMEOUT {header[:40]!r} is not Second-N")


async def _subscribed(
    probe: Probe, verdicts: Verdicts, session: _Session, sid: str, timeout: str
) -> None:
    if sid.lower().startswith("uuid:") and len(sid) > len("uuid:"):
        verdicts.ok("EVT-SID", sid)
    else:
        verdicts.fail("EVT-SID", f"SID {sid[:60]!r} is not uuid:...")
    _timeout(verdicts, timeout, "SUBSCRIBE")
    listener = session.listener
    await probe.waitFor(lambda: bool(listener.of("main")), probe.timeout)
    events = listener.of("main")
    if not events:
        verdicts.fail("EVT-SEQ0", f"no initial event within {probe.timeout:g} s")
        verdicts.skip("EVT-NOTIFY", "no event")
        verdicts.skip("EVT-VALUES", "no event")
    else:
        first = events[0]
        verdicts.check("EVT-SEQ0", [] if first.seq == "0" else [
            f"the initial event has SEQ {first.seq[:20]!r}"], "SEQ 0")
        values = _notify(verdicts, first, sid)
        if values is not None:
            _values(verdicts, session.service, values)
    status, answer, _ = await session.send(
        b"SUBSCRIBE", {b"sid": sid.encode(), b"timeout": SUBSCRIPTION})
    renewed = first_header(answer, b"sid")
    if status != 200:
        verdicts.fail("EVT-RENEW", f"a renewal was answered HTTP {status}")
    elif renewed and renewed != sid:
        verdicts.fail("EVT-RENEW", f"a renewal gave the SID {renewed[:60]!r}, not {sid}")
        # Go on with the SID the device now knows (and end it).
        session.live.discard(sid)
        sid = renewed
        session.live.add(sid)
    else:
        verdicts.ok("EVT-RENEW", "")
        _timeout(verdicts, first_header(answer, b"timeout"), "renewal")
    for extra, what in ((b"nt", "NT"), (b"callback", "CALLBACK")):
        value = b"upnp:event" if extra == b"nt" else f"<{listener.url('main')}>".encode()
        status, _, _ = await session.send(
            b"SUBSCRIBE", {b"sid": sid.encode(), extra: value, b"timeout": SUBSCRIPTION})
        verdicts.check("EVT-400", [] if status == 400 else [
            f"SID with {what} was answered HTTP {status}"], "SID with NT or CALLBACK")
    if probe.invoke:
        await _sequence(probe, verdicts, session)
    else:
        verdicts.skip("EVT-SEQ", "changes state: needs --invoke")
    session.live.discard(sid)
    status, _, _ = await session.send(b"UNSUBSCRIBE", {b"sid": sid.encode()})
    if status != 200:
        verdicts.fail("EVT-UNSUBSCRIBE", f"UNSUBSCRIBE was answered HTTP {status}")
        session.live.add(sid)
        return
    status, _, _ = await session.send(b"SUBSCRIBE", {b"sid": sid.encode(), b"timeout": SUBSCRIPTION})
    verdicts.check("EVT-UNSUBSCRIBE", [] if status == 412 else [
        f"after UNSUBSCRIBE, a renewal of its SID was answered HTTP {status}, not 412"])


def _notify(verdicts: Verdicts, event: Event, sid: str) -> dict[str, str] | None:
    headers = event.headers
    problems = []
    if event.method != "NOTIFY":
        problems.append(f"the event is {event.method[:20]}, not NOTIFY")
    for name, wanted in (("nt", "upnp:event"), ("nts", "upnp:propchange"), ("sid", sid)):
        if headers.get(name) != wanted:
            problems.append(f"{name.upper()} is {headers.get(name, 'missing')[:60]!r}, not {wanted}")
    if not is_xml(headers.get("content-type", "")):
        problems.append(f"Content-Type {headers.get('content-type', 'missing')[:40]!r}")
    values = None
    try:
        values = gena.parse_propertyset(event.body)
    except gena.GENAError as e:
        problems.append(f"the body: {e}")
    verdicts.check("EVT-NOTIFY", problems, "NOTIFY upnp:event upnp:propchange")
    return values


def _values(verdicts: Verdicts, service: ServiceUnderTest, values: dict[str, str]) -> None:
    problems = []
    for variable in evented(service):
        if variable.name not in values:
            problems.append(f"the initial event has no {variable.name}")
            continue
        problem = datatypes.sent_value_problem(variable.dataType, values[variable.name])
        if problem is not None:
            problems.append(f"{variable.name}: {problem}")
    verdicts.check("EVT-VALUES", problems, f"{len(values)} variable(s)")


async def _refused(verdicts: Verdicts, session: _Session) -> None:
    for headers, what in (
        ({"nt": b"upnp:xconform"}, "NT upnp:xconform"),
        ({"callback": b""}, "no CALLBACK"),
    ):
        status, _, _ = await session.subscribe("refused", **headers)
        verdicts.check("EVT-412", [] if status == 412 else [
            f"SUBSCRIBE with {what} was answered HTTP {status}"], "412")
    status, _, _ = await session.send(b"SUBSCRIBE", {b"sid": UNKNOWN_SID, b"timeout": SUBSCRIPTION})
    verdicts.check("EVT-412", [] if status == 412 else [
        f"a renewal of an unknown SID was answered HTTP {status}"], "412")


def other_value(variable: StateVariable, current: str) -> str | None:
    """
    A valid value of C{variable} other than C{current}.
    """
    try:
        value = variable.parse(current)
    except datatypes.InvalidValue:
        return None
    if variable.dataType == "boolean":
        return "0" if value else "1"
    candidates = list(variable.allowedValues or ())
    if variable.allowedValueRange is not None:
        candidates += [variable.allowedValueRange.minimum, variable.allowedValueRange.maximum]
    if isinstance(value, int) and not isinstance(value, bool):
        candidates += [str(value + 1), str(value - 1)]
    for text in candidates:
        try:
            if variable.parse(text) != value:
                return text
        except datatypes.InvalidValue:
            continue
    return None


async def _read(
    probe: Probe, service: ServiceUnderTest, name: str, initial: dict[str, str]
) -> str | None:
    """
    The current value of the state variable C{name}: from the initial
    event, or from a C{Get...} action that returns it.
    """
    if name in initial:
        return initial[name]
    for action in calls.queries(service):
        for position, argument in enumerate(action.outArguments):
            if argument.relatedStateVariable != name:
                continue
            status, _, body = await calls.call(probe, service, action.name, [])
            try:
                answer = soap.parse_answer(body)
            except (soap.SOAPError, soap.UPnPError):
                return None
            if status == 200 and len(answer.arguments) > position:
                return answer.arguments[position][1]
    return None


async def _sequence(probe: Probe, verdicts: Verdicts, session: _Session) -> None:
    service = session.service
    assert service.description is not None
    events = session.listener.of("main")
    initial: dict[str, str] = {}
    if events:
        try:
            initial = gena.parse_propertyset(events[0].body)
        except gena.GENAError:
            pass
    setters: list[tuple[Action, StateVariable]] = []
    for action in service.description.actions:
        if action.name.startswith("Set") and len(action.inArguments) == 1:
            variable = service.description.stateVariable(action.inArguments[0].relatedStateVariable)
            assert variable is not None
            setters.append((action, variable))
    for action, variable in setters:
        current = await _read(probe, service, variable.name, initial)
        new = other_value(variable, current) if current is not None else None
        if current is None or new is None:
            continue
        argument = action.inArguments[0].name
        before = len(session.listener.of("main"))
        status, _, _ = await calls.call(probe, service, action.name, [(argument, new)])
        if status != 200:
            continue
        try:
            await probe.waitFor(lambda: len(session.listener.of("main")) > before, probe.timeout)
        finally:
            await calls.call(probe, service, action.name, [(argument, current)], undoing=True)
        later = session.listener.of("main")[before:]
        if not later:
            if variable.sendEvents:
                verdicts.fail("EVT-SEQ", f"{action.name}({argument}={new}) changed the evented "
                              f"{variable.name} without an event")
            continue
        seqs = [e.seq for e in session.listener.of("main")][max(0, before - 1):]
        steps = [digits(a) and digits(b) and gena.next_seq(int(a)) == int(b)
                 for a, b in zip(seqs, seqs[1:])]
        problems = []
        if not steps or not all(steps):
            # (No step at all: no event before the change to count from.)
            problems.append(f"after {action.name}, SEQs {', '.join(s[:12] for s in seqs[:6])}: "
                            "not each the next")
        if variable.sendEvents and not any(variable.name in _changed(e.body) for e in later):
            problems.append(f"the events after {action.name} do not carry {variable.name}")
        verdicts.check("EVT-SEQ", problems,
                       f"{action.name}({argument}={new}) evented with the next SEQ, then set back")
        return
    verdicts.skip("EVT-SEQ", "no Set... action whose change could be seen and set back")

