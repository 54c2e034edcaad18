"""
The control group: calls that must be answered, and calls that must be
refused with the right UPnP error. Without C{--invoke} only C{Get...}
actions are called, and the calls that must fail name a nonexistent
action or a C{Get...} one.
"""

from __future__ import annotations

from upnp_announce.client.common import ClientError, first_header
from upnp_announce.client.conform import calls
from upnp_announce.client.conform.catalog import Verdicts
from upnp_announce.client.conform.probe import Probe, ServiceUnderTest, is_xml
from upnp_announce.model import Action
from upnp_announce.wire import soap

__all__ = ["check"]


async def _expect(
    probe: Probe,
    verdicts: Verdicts,
    id: str,
    code: int,
    what: str,
    service: ServiceUnderTest,
    action: str,
    texts: list[tuple[str, str]],
) -> None:
    """
    Call C{action}; C{id} passes when the device answers with UPnP error
    C{code}.
    """
    try:
        status, _, body = await calls.call(probe, service, action, texts)
    except ClientError as e:
        verdicts.fail(id, f"{what}: {e}")
        return
    error, _ = calls.read_fault(status, body)
    if status == 500 and error == code:
        verdicts.ok(id, f"{what}: {code}")
    elif error is not None:
        verdicts.fail(id, f"{what}: HTTP {status}, UPnP error {error}, not {code}")
    else:
        verdicts.fail(id, f"{what}: HTTP {status} without a UPnP fault, not error {code}")


async def check(probe: Probe, verdicts: Verdicts) -> None:
    services = probe.services()
    if not services:
        for id in ("CTRL-ANSWER", "CTRL-401", "CTRL-FAULT", "CTRL-402", "CTRL-600", "CTRL-601",
                   "CTRL-SOAPACTION", "CTRL-CTYPE"):
            verdicts.skip(id, probe.noService("a usable SCPD and controlURL"))
        return
    first = services[0]
    await _unknown(probe, verdicts, first)
    queried = [(s, a) for s in services for a in calls.queries(s)]
    if queried:
        await _answer(probe, verdicts, queried)
        service, action = queried[0]
        what = f"{action.name} with an extra argument"
        await _expect(probe, verdicts, "CTRL-402", 402, what, service, action.name,
                      [("XConformExtra", "1")])
        await _soapaction(probe, verdicts, service, action)
    else:
        verdicts.skip("CTRL-ANSWER", "no Get... action without arguments")
        verdicts.skip("CTRL-SOAPACTION", "no Get... action without arguments")
    if queried:
        await _content_type(probe, verdicts, *queried[0])
    else:
        await _content_type(probe, verdicts, first, None)
    takers = [(s, a) for s in services for a in calls.takers(probe, s)]
    if takers:
        service, action = takers[0]
        texts = calls.arguments(service, action)
        await _expect(probe, verdicts, "CTRL-402", 402, f"{action.name} without {texts[0][0]}",
                      service, action.name, texts[1:])
        if not queried:
            await _expect(probe, verdicts, "CTRL-402", 402, f"{action.name} with an extra "
                          "argument", service, action.name, texts + [("XConformExtra", "1")])
    else:
        verdicts.skip("CTRL-402", "no action with arguments to call (--invoke allows more)")
    await _values(probe, verdicts, takers)


async def _unknown(probe: Probe, verdicts: Verdicts, service: ServiceUnderTest) -> None:
    what = f"the unknown action {calls.NO_SUCH_ACTION}"
    try:
        status, _, body = await calls.call(probe, service, calls.NO_SUCH_ACTION, [])
    except ClientError as e:
        verdicts.fail("CTRL-401", f"{what}: {e}")
        verdicts.skip("CTRL-FAULT", "no fault to read")
        return
    error, problems = calls.read_fault(status, body)
    if status == 500 and error == 401:
        verdicts.ok("CTRL-401", what)
    else:
        said = f"UPnP error {error}" if error is not None else "no UPnP fault"
        verdicts.fail("CTRL-401", f"{what}: HTTP {status} with {said}")
    if error is None:
        verdicts.skip("CTRL-FAULT", "no fault to read")
    else:
        verdicts.check("CTRL-FAULT", [f"the fault for {what}: {p}" for p in problems],
                       "s:Fault with detail/UPnPError")


async def _answer(
    probe: Probe, verdicts: Verdicts, queried: list[tuple[ServiceUnderTest, Action]]
) -> None:
    """
    Call the query actions until one answers; a UPnP fault (an action may
    fail: 501, 602...) moves on to the next.
    """
    faults = []
    for service, action in queried:
        try:
            status, headers, body = await calls.call(probe, service, action.name, [])
        except ClientError as e:
            verdicts.fail("CTRL-ANSWER", f"{action.name}: {e}")
            return
        error, _ = calls.read_fault(status, body)
        if status == 500 and error is not None and error not in (401, 402):
            faults.append(f"{action.name}: {error}")
            continue
        if status != 200:
            verdicts.fail("CTRL-ANSWER", f"{action.name} answered HTTP {status}")
            return
        contentType = first_header(headers, b"content-type")
        if not is_xml(contentType):
            verdicts.fail("CTRL-ANSWER", f"{action.name} answered with Content-Type "
                          f"{contentType[:40]!r}")
        try:
            answer = soap.parse_answer(body)
        except (soap.SOAPError, soap.UPnPError) as e:
            verdicts.fail("CTRL-ANSWER", f"{action.name}: {e}")
            return
        names = [name for name, _ in answer.arguments]
        declared = [a.name for a in action.outArguments]
        if answer.action != action.name or names != declared:
            verdicts.fail("CTRL-ANSWER", f"{action.name} answered {answer.action}Response"
                          f"({', '.join(names)}), not ({', '.join(declared)})")
        else:
            verdicts.ok("CTRL-ANSWER", f"{action.name}({', '.join(names)})")
        return
    verdicts.skip("CTRL-ANSWER", "every query answered with a UPnP fault: " + ", ".join(faults))


async def _soapaction(
    probe: Probe, verdicts: Verdicts, service: ServiceUnderTest, action: Action
) -> None:
    header = f'"{service.remote.serviceType}#{calls.NO_SUCH_ACTION}"'.encode()
    for soapAction, what in ((header, "a SOAPACTION naming another action"),
                             (b'"no-sharp"', "a SOAPACTION without serviceType#action")):
        try:
            status, _, _ = await calls.call(probe, service, action.name, [],
                                            soapAction=soapAction)
        except ClientError as e:
            verdicts.fail("CTRL-SOAPACTION", f"{action.name} with {what}: {e}")
            continue
        if status == 200:
            verdicts.fail("CTRL-SOAPACTION", f"{action.name} with {what} was carried out")
        else:
            verdicts.ok("CTRL-SOAPACTION", f"refused (HTTP {status})")


async def _content_type(
    probe: Probe, verdicts: Verdicts, service: ServiceUnderTest, action: Action | None
) -> None:
    name = action.name if action is not None else calls.NO_SUCH_ACTION
    try:
        status, _, body = await calls.call(probe, service, name, [],
                                           contentType=b"text/plain")
    except ClientError as e:
        verdicts.fail("CTRL-CTYPE", f"a text/plain call of {name}: {e}")
        return
    if 400 <= status < 500:
        verdicts.ok("CTRL-CTYPE", f"a text/plain call is refused (HTTP {status})")
    elif status == 200:
        verdicts.fail("CTRL-CTYPE", f"a text/plain call of {name} was carried out")
    else:
        verdicts.fail("CTRL-CTYPE", f"a text/plain call of {name} was read (HTTP {status})")


async def _values(
    probe: Probe, verdicts: Verdicts, takers: list[tuple[ServiceUnderTest, Action]]
) -> None:
    found = {"CTRL-600": False, "CTRL-601": False}
    for service, action in takers:
        assert service.description is not None
        texts = calls.arguments(service, action)
        for position, argument in enumerate(action.inArguments):
            variable = service.description.stateVariable(argument.relatedStateVariable)
            assert variable is not None
            for id, code, bad in (("CTRL-600", 600, calls.invalid_value(variable)),
                                  ("CTRL-601", 601, calls.out_of_range_value(variable))):
                if found[id] or bad is None:
                    continue
                found[id] = True
                wrong = list(texts)
                wrong[position] = (argument.name, bad)
                await _expect(probe, verdicts, id, code, f"{action.name}({argument.name}={bad})",
                              service, action.name, wrong)
        if all(found.values()):
            break
    more = "" if probe.invoke else " (--invoke allows more)"
    if not found["CTRL-600"]:
        verdicts.skip("CTRL-600", "no argument with an invalid value to send" + more)
    if not found["CTRL-601"]:
        verdicts.skip("CTRL-601", "no argument with an out-of-range value to send" + more)
