"""
GENA eventing with real control points: a real twistd device (the built-in
binarylight provider: SwitchPower:1, evented Status, which SetTarget sets)
in one network namespace, the peers in others, joined by veth pairs.
Needs root; CI is root.

- async-upnp-client's `upnp-client subscribe` sees the initial state and a
  change made by `upnp-client call-action`, and unsubscribes on SIGINT;
- upnpclient's subscribe (it needs `TIMEOUT: Second-N`) gets a `uuid:` SID,
  the initial event and a change, renews, unsubscribes, and hears nothing
  after that (peers/event_upnpclient.py runs its NOTIFY server);
- a GUPnP service proxy's notify callback fires with the initial value and
  each change, and GUPnP never refuses a NOTIFY (412) or loses the
  subscription (peers/event_gupnp.py);
- CallStranger (CVE-2020-12695): a SUBSCRIBE whose CALLBACK names another
  host is refused with 412, and that host (a victim on the same LAN, or
  behind another interface of the device) never receives a packet however
  the state changes; with `[eventing] callbacks = subnet`, a neighbour on
  the SUBSCRIBE's own subnet is accepted (and gets the NOTIFYs) while the
  host behind the other interface is still refused.
"""

from __future__ import annotations

import ipaddress
import json
import os
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from harness import (
    UPNP_CLIENT,
    Light,
    finish,
    json_lines,
    lit,
    need_upnp_client,
    start_device,
)
from netns import Host, Network, Running, network
from support import PEERS, SYSTEM_PYTHON, example, need, system_gi_has

pytestmark = [pytest.mark.slow]

CONFIG = example("light.ini")
GENA = os.path.join(PEERS, "event_gena.py")
LISTENER = os.path.join(PEERS, "event_listener.py")
SERVICE_TYPE = "urn:schemas-upnp-org:service:SwitchPower:1"
SERVICE_ID = "urn:upnp-org:serviceId:SwitchPower"
EVENT_NS = "urn:schemas-upnp-org:event-1-0"
EVENT_PATH = "/svc/SwitchPower/event"


def access(device: Running, method: str, status: int) -> list[str]:
    """
    The device's access-log lines for C{method} at the eventSubURL answered
    with C{status}.
    """
    needle = f'"{method} {EVENT_PATH} HTTP/1.1" {status} '
    return [line for line in device.lines if needle in line]


def wait_until(condition: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return bool(condition())  # type: ignore[operator]


# -- one device, one control point ------------------------------------------------------


@pytest.fixture
def light() -> Iterator[Light]:
    with lit(CONFIG, "10.231.30") as light:
        yield light


# -- async-upnp-client: upnp-client subscribe -----------------------------------------


def default_sigint() -> None:
    # upnp-client unsubscribes on SIGINT; a child may have inherited it ignored.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_upnp_client_subscribe_sees_the_initial_state_and_a_change(light: Light) -> None:
    need_upnp_client()
    subscriber = light.peer.start(
        [UPNP_CLIENT, "--timeout", "10", "subscribe", light.location, "SwitchPower"],
        preexec_fn=default_sigint,
    )
    initial = json.loads(subscriber.wait_for('"state_variables"', timeout=20))
    assert initial["service_id"] == SERVICE_ID
    assert initial["service_type"] == SERVICE_TYPE
    assert initial["state_variables"] == {"Status": False}

    # A change made by another control point (another process).
    call = light.peer.run([UPNP_CLIENT, "--timeout", "10", "call-action", light.location,
                           "SwitchPower/SetTarget", "newTargetValue=1"], timeout=60)
    assert call.returncode == 0, call.stdout + call.stderr
    subscriber.wait_for('"Status": true', timeout=20)

    # One SIGINT: it unsubscribes, then exits cleanly.
    code = subscriber.stop(signal.SIGINT, timeout=20)
    events = json_lines("\n".join(subscriber.lines))
    assert code == 0, subscriber.lines
    assert [e["state_variables"] for e in events] == [{"Status": False}, {"Status": True}]
    assert wait_until(lambda: access(light.device, "UNSUBSCRIBE", 200), 10), light.device.lines
    assert len(access(light.device, "SUBSCRIBE", 200)) == 1, light.device.lines
    log = finish(light.device)
    assert "NOTIFY to" not in log  # no NOTIFY failed
    assert "refused" not in log


# -- upnpclient --------------------------------------------------------------------------


def test_upnpclient_subscribe_renew_unsubscribe(light: Light) -> None:
    result = light.peer.run([sys.executable, os.path.join(PEERS, "event_upnpclient.py"),
                             light.location, light.peer_address], timeout=90)
    assert result.returncode == 0, result.stdout + result.stderr
    steps = {s["step"]: s for s in json_lines(result.stdout)}
    assert "done" in steps, result.stdout + result.stderr
    assert not [s for s in steps.values() if s.get("ok") is False and s["step"]
                != "renew-after-cancel"], result.stdout

    subscribed = steps["subscribe"]
    sid = subscribed["sid"]
    assert sid.startswith("uuid:") and len(sid) > len("uuid:"), sid
    assert subscribed["timeout"] == 300

    callback_path = "/upnpclient"
    [initial] = steps["initial"]["notifies"]
    [change] = steps["change"]["notifies"]
    for notify in (initial, change):
        assert (notify["nt"], notify["nts"], notify["sid"], notify["path"]) == (
            "upnp:event", "upnp:propchange", sid, callback_path
        ), notify
        assert notify["content_type"].startswith("text/xml"), notify
        assert notify["root"] == f"{{{EVENT_NS}}}propertyset", notify
    assert (initial["seq"], initial["variables"]) == ("0", {"Status": "0"})
    assert (change["seq"], change["variables"]) == ("1", {"Status": "1"})

    assert steps["renew"]["timeout"] == 600
    assert steps["cancel"]["notifies_so_far"] == 2
    # The light did change after the cancel, and no NOTIFY came for it.
    assert steps["after-cancel"]["status"] == {"ResultStatus": False}
    assert steps["after-cancel"]["notifies"] == []
    assert steps["renew-after-cancel"] == {"step": "renew-after-cancel", "ok": False,
                                           "status": 412}

    # On the device: subscribe and renew, the cancel, the renewal it refused.
    assert len(access(light.device, "SUBSCRIBE", 200)) == 2
    assert len(access(light.device, "UNSUBSCRIBE", 200)) == 1
    assert len(access(light.device, "SUBSCRIBE", 412)) == 1
    log = finish(light.device)
    assert f"SUBSCRIBE from {light.peer_address} refused (412): no subscription" in log
    assert "NOTIFY to" not in log


# -- GUPnP ------------------------------------------------------------------------------


def test_gupnp_notify_callback_fires_on_each_change(light: Light) -> None:
    need(system_gi_has("GSSDP", "GUPnP"),
         "GUPnP 1.6 for /usr/bin/python3 is missing (python3-gi, gir1.2-gupnp-1.6)")
    result = light.peer.run([SYSTEM_PYTHON, os.path.join(PEERS, "event_gupnp.py"),
                             light.peer_interface, "30"], timeout=60)
    events = json_lines(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    [service] = [e for e in events if e["event"] == "service"]
    assert service["id"] == SERVICE_ID
    assert service["event_url"] == light.location.replace("/description.xml", EVENT_PATH)
    # The initial value, then each change that GUPnP's own calls made.
    notifies = [(e["variable"], e["value"]) for e in events if e["event"] == "notify"]
    assert notifies == [("Status", False), ("Status", True), ("Status", False)], result.stdout
    calls = [(e["action"], e["value"], e["ok"]) for e in events if e["event"] == "call"]
    assert calls == [("SetTarget", True, True), ("SetTarget", False, True)]
    assert not [e for e in events if e["event"] == "subscription-lost"], result.stdout

    # GUPnP took every NOTIFY (a 412 would mean it rejected our SID or SEQ)
    # and did not resubscribe (as it does on a SEQ gap): one SUBSCRIBE, and
    # one UNSUBSCRIBE, its last.
    assert wait_until(lambda: access(light.device, "UNSUBSCRIBE", 200), 10), light.device.lines
    assert len(access(light.device, "UNSUBSCRIBE", 200)) == 1
    assert len(access(light.device, "SUBSCRIBE", 200)) == 1
    log = finish(light.device)
    assert "answered 412" not in log
    assert "NOTIFY to" not in log
    assert "refused" not in log


# -- CallStranger -------------------------------------------------------------------------
#
#   cp (attacker)  10.231.32.2 ─┐
#   near (victim)  10.231.32.3 ─┼─ lan (a bridge) ─ 10.231.32.1  dev  10.231.33.1 ─ 10.231.33.2  far
#
# The device serves on its LAN interface only; "far" sits behind its other
# interface, with a route back, so the device could reach both victims.

LAN = ipaddress.ip_network("10.231.32.0/24")
DEVICE, ATTACKER, NEAR = "10.231.32.1", "10.231.32.2", "10.231.32.3"
DEVICE_FAR, FAR = "10.231.33.1", "10.231.33.2"
PROBE = 8099  # the port the reachability probes use; the victims listen on 80 and 8080 too
VICTIM_PORTS = ("80", "8080", str(PROBE))
WATCH = 12.0  # seconds each victim watches


@dataclass
class Lab:
    net: Network
    dev: Host
    cp: Host
    near: Host
    far: Host
    device: Running
    location: str
    control: str
    event: str

    def gena(self, *arguments: str) -> dict:  # type: ignore[type-arg]
        """
        One run of peers/event_gena.py in the attacker's namespace.
        """
        result = self.cp.run([sys.executable, GENA, *arguments], timeout=30)
        assert result.returncode == 0, result.stdout + result.stderr
        [answer] = json_lines(result.stdout)
        return answer

    def set(self, value: str) -> None:
        answer = self.gena("set", self.control, value)
        assert answer["status"] == 200, answer

    def watch(self, host: Host) -> Running:
        watcher = host.start([sys.executable, LISTENER, str(WATCH), *VICTIM_PORTS])
        watcher.wait_for("READY")
        return watcher

    def probe(self, address: str) -> None:
        """
        The device's namespace can open a connection to C{address}, from the
        address it would send NOTIFYs from.
        """
        result = self.dev.run([sys.executable, GENA, "connect", address, str(PROBE), DEVICE],
                              timeout=30)
        assert json_lines(result.stdout) == [{"connect": address, "port": PROBE, "ok": True}], (
            result.stdout + result.stderr
        )


def bridge(host: Host, interfaces: list[str]) -> None:
    """
    Make C{host} a switch: its C{interfaces}, without addresses, on a bridge.
    """
    for argv in (["ip", "link", "add", "br0", "type", "bridge"],
                 ["ip", "link", "set", "br0", "up"]):
        result = host.run(argv, timeout=30)
        need(result.returncode == 0, f"cannot make a bridge: {result.stderr.strip()}")
    for interface in interfaces:
        for argv in (["ip", "addr", "flush", "dev", interface],
                     ["ip", "link", "set", interface, "master", "br0"]):
            result = host.run(argv, timeout=30)
            assert result.returncode == 0, result.stderr


@contextmanager
def lab(config: str) -> Iterator[Lab]:
    """
    The network drawn above, and the device (C{config}) serving on its LAN.
    """
    with network() as net:
        dev, cp, near, far = net.host("dev"), net.host("cp"), net.host("near"), net.host("far")
        switch = net.host("lan")
        ports = [net.link(host, address, switch, f"10.231.32.{201 + n}")
                 for n, (host, address) in enumerate([(dev, DEVICE), (cp, ATTACKER),
                                                      (near, NEAR)])]
        bridge(switch, [port.b_interface for port in ports])
        net.link(dev, DEVICE_FAR, far, FAR)
        route = far.run(["ip", "route", "add", "default", "via", DEVICE_FAR], timeout=30)
        assert route.returncode == 0, route.stderr
        device, location = start_device(dev, config, ports[0].a_interface, DEVICE)
        result = cp.run([sys.executable, GENA, "urls", location], timeout=30)
        assert result.returncode == 0, result.stdout + result.stderr
        [urls] = json_lines(result.stdout)
        yield Lab(net, dev, cp, near, far, device, location, urls["control"], urls["event"])


def seen(watcher: Running, address: str) -> list[dict]:  # type: ignore[type-arg]
    """
    What reached the watcher at C{address}, but the probe: connections,
    requests, datagrams, and IPv4 packets addressed to it.
    """
    watcher.wait_for('"event": "done"', timeout=WATCH + 20)
    found = []
    for event in json_lines("\n".join(watcher.lines)):
        kind = event["event"]
        if kind in ("connection", "request", "datagram") and event["port"] != PROBE:
            found.append(event)
        elif kind == "packet" and event["dst"] == address and PROBE not in (
            event["sport"], event["dport"]
        ):
            found.append(event)
    return found


def probes(watcher: Running, address: str) -> list[str]:
    """
    Where the probe connections to the watcher came from; and its packet
    capture saw them (so that it would see any other).
    """
    events = json_lines("\n".join(watcher.lines))
    assert [e for e in events if e["event"] == "packet" and e["dst"] == address
            and e["dport"] == PROBE], watcher.lines
    return [e["peer"] for e in events if e["event"] == "connection" and e["port"] == PROBE]


def still_watching(*watchers: Running) -> bool:
    """
    Whether the watchers still run (so they watched all along).
    """
    return all(w.process.poll() is None for w in watchers)


def refused(answer: dict) -> bool:  # type: ignore[type-arg]
    return answer["status"] == 412 and "sid" not in answer["headers"]


def notifies(watcher: Running, path: str) -> list[dict]:  # type: ignore[type-arg]
    return [e for e in json_lines("\n".join(watcher.lines))
            if e["event"] == "request" and e["method"] == "NOTIFY" and e["path"] == path]


def test_callstranger_callback_to_another_host_is_refused_and_never_reached() -> None:
    with lab(CONFIG) as it:
        near, far = it.watch(it.near), it.watch(it.far)
        # The attacker's own listener: the legitimate subscription below.
        own = it.cp.start([sys.executable, LISTENER, str(WATCH), "8080"])
        own.wait_for("READY")
        it.probe(NEAR)
        it.probe(FAR)

        attacks = [
            f"<http://{NEAR}:8080/x>",                          # a neighbour of the attacker
            f"<http://{NEAR}/>",                                # port 80
            f"<http://{FAR}:8080/x>",                           # behind the device
            f"<http://{ATTACKER}:8080/own><http://{NEAR}:8080/x>",  # the victim second
        ]
        for callback in attacks:
            answer = it.gena("subscribe", it.event, callback, "300")
            assert refused(answer), answer
        # The attacker's own address is fine.
        mine = it.gena("subscribe", it.event, f"<http://{ATTACKER}:8080/own>", "300")
        assert mine["status"] == 200, mine
        assert mine["headers"]["sid"].startswith("uuid:")
        assert mine["headers"]["timeout"] == "Second-300"

        # The legitimate subscriber hears the initial state, then the last one.
        assert wait_until(lambda: notifies(own, "/own"), 10), own.lines
        for value in ("1", "0", "1"):
            it.set(value)
        assert wait_until(lambda: any(n["body"].count("<Status>1</Status>")
                                      for n in notifies(own, "/own")), 10), own.lines
        time.sleep(3)  # a few seconds more in which a victim could be reached
        assert still_watching(near, far)
        assert it.gena("unsubscribe", it.event, mine["headers"]["sid"])["status"] == 200

        assert seen(near, NEAR) == []
        assert seen(far, FAR) == []
        assert probes(near, NEAR) == [DEVICE] and probes(far, FAR) == [DEVICE]
        events = notifies(own, "/own")
        assert [e["headers"]["seq"] for e in events] == [str(n) for n in range(len(events))]
        assert "<Status>0</Status>" in events[0]["body"]
        assert "<Status>1</Status>" in events[-1]["body"]
        assert all(e["peer"] == DEVICE for e in events)

        log = finish(it.device)
        # The first refusal is logged with its reason; the rest of the same
        # kind within ten seconds are held back (a peer cannot flood the
        # log), but each one's 412 is in the access log.
        url = attacks[0].rsplit("<", 1)[1].rstrip(">")
        assert (f"SUBSCRIBE from {ATTACKER} refused (412): callback {url!r} is not the "
                f"subscriber's own address {ATTACKER}") in log, log
        assert log.count('"SUBSCRIBE /svc/SwitchPower/event HTTP/1.1" 412') == len(attacks), log
        # Never a connection attempt to a victim.
        assert NEAR not in log.replace(f"callback 'http://{NEAR}", ""), log
        assert FAR not in log.replace(f"callback 'http://{FAR}", ""), log


def test_callstranger_subnet_policy_allows_the_lan_only(tmp_path: object) -> None:
    config = os.path.join(str(tmp_path), "subnet.ini")
    with open(config, "w") as f:
        f.write("[device]\nprovider = binarylight\n\n[eventing]\ncallbacks = subnet\n")
    with lab(config) as it:
        near, far = it.watch(it.near), it.watch(it.far)
        it.probe(NEAR)
        it.probe(FAR)

        # A neighbour on the SUBSCRIBE's own subnet: accepted.
        accepted = it.gena("subscribe", it.event, f"<http://{NEAR}:8080/near>", "300")
        assert accepted["status"] == 200, accepted
        sid = accepted["headers"]["sid"]
        # The host behind the device's other interface, and the LAN's
        # broadcast address: refused.
        attacks = [f"<http://{FAR}:8080/x>", f"<http://{FAR}/>",
                   f"<http://{LAN.broadcast_address}:8080/x>"]
        for callback in attacks:
            answer = it.gena("subscribe", it.event, callback, "300")
            assert refused(answer), answer

        assert wait_until(lambda: notifies(near, "/near"), 10), near.lines
        it.set("1")
        assert wait_until(lambda: len(notifies(near, "/near")) >= 2, 10), near.lines
        time.sleep(3)
        assert still_watching(far)
        assert it.gena("unsubscribe", it.event, sid)["status"] == 200

        events = notifies(near, "/near")
        assert [(e["peer"], e["headers"]["sid"], e["headers"]["seq"]) for e in events] == [
            (DEVICE, sid, "0"), (DEVICE, sid, "1")
        ]
        assert "<Status>0</Status>" in events[0]["body"]
        assert "<Status>1</Status>" in events[1]["body"]
        # What the neighbour got: the NOTIFYs, by connections the capture saw.
        assert {(e["event"], e.get("port") or e.get("dport")) for e in seen(near, NEAR)} == {
            ("connection", 8080), ("request", 8080), ("packet", 8080)
        }
        assert seen(far, FAR) == []
        assert probes(near, NEAR) == [DEVICE] and probes(far, FAR) == [DEVICE]

        log = finish(it.device)
        url = attacks[0][1:-1]
        assert (f"SUBSCRIBE from {ATTACKER} refused (412): callback {url!r} is not on "
                f"the subnet of {DEVICE}") in log, log
        assert log.count('"SUBSCRIBE /svc/SwitchPower/event HTTP/1.1" 412') == len(attacks), log
        assert FAR not in log.replace(f"callback 'http://{FAR}", ""), log
