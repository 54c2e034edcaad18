"""
Drives upnp_announce.client (the control-point library) for
test_client_netns.py, inside a network namespace; prints JSON lines.

    python client_driver.py discover INTERFACE SECONDS TARGET...
        one {"target", "found": [...], "onFound": [usn...]} line per TARGET,
        each searched by multicast on INTERFACE for SECONDS.
    python client_driver.py table ADDRESS SECONDS
        joins 239.255.255.250 on ADDRESS with a TableProtocol feeding a
        DeviceTable; prints READY, then one {"kind", "usn", ...} line per
        change the table tells, until SECONDS pass or SIGTERM.
    python client_driver.py control LOCATION SERVICE SUBSCRIPTION_TIMEOUT
        describe, scpd, calls, a fault, and a subscription asking for
        SUBSCRIPTION_TIMEOUT seconds that lives past it (renewed), then
        unsubscribe; one {"step": ...} line per step.

It multicasts (discover, table): run it only inside a network namespace.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from twisted.internet import defer, task

from upnp_announce import client
from upnp_announce.wire import soap


def say(**fields: Any) -> None:
    print(json.dumps(fields, default=str), flush=True)


async def discover(reactor: Any, interface: str, seconds: str, *targets: str) -> None:
    for target in targets:
        calls: list[str] = []
        found = await client.discover(
            reactor, target=target, timeout=float(seconds), interfaces=[interface],
            onFound=lambda f: calls.append(f.usn), ipv6=False,
        )
        say(target=target, onFound=calls, found=[
            {"usn": f.usn, "st": f.st, "location": f.location, "server": f.server,
             "source": list(f.source), "maxAge": f.maxAge}
            for f in found
        ])


async def table(reactor: Any, address: str, seconds: str) -> None:
    devices = client.DeviceTable(reactor)
    devices.watch(lambda kind, entry: say(
        kind=kind, usn=entry.usn, location=entry.location, server=entry.server,
        bootId=entry.bootId,
    ))
    port = reactor.listenMulticast(1900, client.TableProtocol(devices), listenMultiple=True)
    await port.joinGroup("239.255.255.250", address)
    print("READY", flush=True)
    # SIGTERM stops the reactor (and this) earlier.
    await task.deferLater(reactor, float(seconds), lambda: None)
    devices.stop()
    await port.stopListening()


async def until(reactor: Any, condition: Any, timeout: float = 10.0) -> bool:
    deadline = reactor.seconds() + timeout
    while not condition():
        if reactor.seconds() > deadline:
            return False
        await task.deferLater(reactor, 0.05, lambda: None)
    return True


async def control(reactor: Any, location: str, name: str, timeout: str) -> None:
    point = client.ControlPoint(reactor, timeout=10)
    try:
        root = await point.describe(location)
        say(step="describe", friendlyName=root.friendlyName, deviceType=root.deviceType,
            UDN=root.UDN, presentationURL=root.fields.get("presentationURL"),
            services=[[s.serviceId, s.serviceType, s.SCPDURL, s.controlURL, s.eventSubURL]
                      for s in root.allServices()])
        service = root.findService(name)
        scpd = await point.scpd(service)
        say(step="scpd", actions=[a.name for a in scpd.actions],
            variables={v.name: [v.dataType, v.sendEvents, v.defaultValue]
                       for v in scpd.stateVariables})
        say(step="on", result=await point.call(service, scpd, "SetTarget",
                                               {"newTargetValue": "1"}))
        say(step="status-on", result=await point.call(service, scpd, "GetStatus", {}))
        try:
            await point.call(service, scpd, "Fail", {"Code": 714})
        except soap.UPnPError as e:
            say(step="fault", code=e.code, description=e.description)
        else:
            say(step="fault", code=None)

        events: list[list[Any]] = []
        subscription = await point.subscribe(
            service, scpd, lambda seq, values: events.append([seq, values]),
            timeout=int(timeout),
        )
        say(step="subscribed", sid=subscription.sid, timeout=subscription.timeout,
            active=subscription.active)
        initial = await until(reactor, lambda: len(events) >= 1)
        await point.call(service, scpd, "SetTarget", {"newTargetValue": False})
        changed = await until(reactor, lambda: len(events) >= 2)
        say(step="events", initial=initial, changed=changed, events=events)
        # Live past the granted time: the subscription must be renewed.
        await task.deferLater(reactor, int(timeout) * 1.75, lambda: None)
        say(step="renewed", active=subscription.active, sid=subscription.sid,
            timeout=subscription.timeout)
        await point.call(service, scpd, "SetTarget", {"newTargetValue": True})
        after = await until(reactor, lambda: len(events) >= 3)
        say(step="after-renewal", heard=after, events=events)
        await subscription.unsubscribe()
        await point.call(service, scpd, "SetTarget", {"newTargetValue": False})
        await task.deferLater(reactor, 0.5, lambda: None)
        say(step="unsubscribed", active=subscription.active, events=events)
    finally:
        await point.close()
    say(step="done")


COMMANDS: dict[str, Callable[..., Coroutine[Any, Any, None]]] = {
    "discover": discover, "table": table, "control": control,
}


def main(reactor: Any, command: str, *arguments: str) -> defer.Deferred[None]:
    return defer.Deferred.fromCoroutine(COMMANDS[command](reactor, *arguments))


if __name__ == "__main__":
    task.react(main, sys.argv[1:])
