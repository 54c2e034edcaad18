"""
SOAP control with real control points: a real twistd device (the built-in
binarylight provider, examples/light.ini) in one network namespace, and
async-upnp-client (its upnp-client CLI and its library), upnpclient and
GUPnP in another, joined by a veth pair. Needs root; CI is root.

Each peer does a SetTarget/GetStatus round trip, and sees the device's
faults 401 (Invalid Action) and 402 (Invalid Args) as UPnP errors with
those codes. The peers check calls against the SCPD they read, so a
well-behaved peer never sends a bad call by itself; each is made to, with
its own request machinery:

- upnp-client (CLI): through a relay (peers/control_scpd_proxy.py) whose
  SCPD differs from the device's (a Toggle action; SetTarget without its
  argument; GetStatus with an extra one); the device's answers are relayed
  untouched;
- async_upnp_client (library) and upnpclient: UpnpAction / Action objects
  for a Toggle action, and for SetTarget with a missing or an extra
  argument;
- GUPnP: ServiceProxyAction.new_from_list with those names (GUPnP sends
  what it is given).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from harness import UPNP_CLIENT, Light, json_lines, lit, need_upnp_client
from netns import Host
from support import PEERS, SYSTEM_PYTHON, example, need, system_gi_has

pytestmark = [pytest.mark.slow]

CONFIG = example("light.ini")
SERVICE_TYPE = "urn:schemas-upnp-org:service:SwitchPower:1"
DEVICE_TYPE = "urn:schemas-upnp-org:device:BinaryLight:1"
SERVICE_ID = "urn:upnp-org:serviceId:SwitchPower"


@pytest.fixture
def light() -> Iterator[Light]:
    with lit(CONFIG, "10.231.20") as light:
        yield light


def by_step(lines: list[dict]) -> dict[str, dict]:  # type: ignore[type-arg]
    return {line["step"]: line for line in lines if "step" in line}


def run_peer(host: Host, argv: list[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    result = host.run(argv, timeout=timeout)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


# -- async-upnp-client: the upnp-client CLI ------------------------------------------


def cli(host: Host, url: str, call: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    return host.run([UPNP_CLIENT, "--timeout", "10", "call-action", url, call, *arguments],
                    timeout=60)


def cli_call(host: Host, url: str, call: str, *arguments: str) -> dict:  # type: ignore[type-arg]
    result = cli(host, url, call, *arguments)
    assert result.returncode == 0, result.stdout + result.stderr
    [answer] = json_lines(result.stdout)
    return answer


def test_upnp_client_cli_switches_the_light_on_and_off(light: Light) -> None:
    need_upnp_client()
    peer, url = light.peer, light.location
    # The service named by its serviceId's last part, and by its type.
    on = cli_call(peer, url, "SwitchPower/SetTarget", "newTargetValue=1")
    assert on["service_id"] == SERVICE_ID
    assert on["service_type"] == SERVICE_TYPE
    assert on["in_parameters"] == {"newTargetValue": True}
    assert on["out_parameters"] == {}
    status = cli_call(peer, url, f"{SERVICE_TYPE}/GetStatus")
    assert status["out_parameters"] == {"ResultStatus": True}
    assert cli_call(peer, url, "SwitchPower/GetTarget")["out_parameters"] == {
        "RetTargetValue": True
    }
    cli_call(peer, url, "SwitchPower/SetTarget", "newTargetValue=0")
    assert cli_call(peer, url, "SwitchPower/GetStatus")["out_parameters"] == {
        "ResultStatus": False
    }
    light.finish()


def test_upnp_client_cli_sees_faults_401_and_402(light: Light) -> None:
    need_upnp_client()
    relay = light.peer.start([sys.executable, os.path.join(PEERS, "control_scpd_proxy.py"),
                              light.peer_address, light.location, "40"])
    url = relay.wait_for("READY").split()[1]
    cases = [
        ("SwitchPower/Toggle", [], 401, "Invalid Action"),
        ("SwitchPower/SetTarget", [], 402, "Invalid Args"),
        ("SwitchPower/GetStatus", ["Verbose=1"], 402, "Invalid Args"),
    ]
    for call, arguments, code, description in cases:
        result = cli(light.peer, url, call, *arguments)
        assert result.returncode == 1, result.stdout + result.stderr
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith("async_upnp_client.exceptions.UpnpActionResponseError: "), (
            result.stderr
        )
        assert f"status: 500, upnp error: {code} ({description}" in last, last
    # A sane call through the relay still works.
    assert cli_call(light.peer, url, "SwitchPower/GetTarget")["out_parameters"] == {
        "RetTargetValue": False
    }
    relay.stop()
    posts = [line for line in json_lines("\n".join(relay.lines)) if line["method"] == "POST"]
    # What the CLI sent (its own SOAP), and the device's faults, relayed untouched.
    assert [(p["soapaction"], p["status"]) for p in posts] == [
        (f'"{SERVICE_TYPE}#Toggle"', 500),
        (f'"{SERVICE_TYPE}#SetTarget"', 500),
        (f'"{SERVICE_TYPE}#GetStatus"', 500),
        (f'"{SERVICE_TYPE}#GetTarget"', 200),
    ]
    assert f'<u:SetTarget xmlns:u="{SERVICE_TYPE}"></u:SetTarget>' in posts[1]["request"]
    assert "<Verbose>1</Verbose>" in posts[2]["request"]
    for post, (_, _, code, _) in zip(posts, cases):
        assert f"<errorCode>{code}</errorCode>" in post["response"]
    light.finish()


# -- async-upnp-client: the library ----------------------------------------------------


def test_async_upnp_client_library_round_trip_and_faults(light: Light) -> None:
    result = run_peer(light.peer, [sys.executable,
                                   os.path.join(PEERS, "control_async_upnp_client.py"),
                                   light.location])
    steps = by_step(json_lines(result.stdout))
    assert "done" in steps, result.stdout + result.stderr
    assert steps["device"]["type"] == DEVICE_TYPE
    assert steps["device"]["actions"] == ["GetStatus", "GetTarget", "SetTarget"]
    assert steps["on"]["ok"] and steps["off"]["ok"]
    assert steps["status-on"]["result"] == {"ResultStatus": True}
    assert steps["status-off"]["result"] == {"ResultStatus": False}
    for step, action, code, description in [
        ("unknown-action", "Toggle", 401, "Invalid Action: no action Toggle"),
        ("missing-argument", "SetTarget", 402, "Invalid Args: missing newTargetValue"),
        ("extra-argument", "SetTarget", 402, "Invalid Args: unexpected Brightness"),
    ]:
        assert steps[step] == {
            "step": step, "action": action, "ok": False,
            "error": "UpnpActionResponseError", "code": code, "description": description,
            "status": 500,
        }
    light.finish()


# -- upnpclient -------------------------------------------------------------------------


def test_upnpclient_round_trip_and_faults(light: Light) -> None:
    result = run_peer(light.peer, [sys.executable, os.path.join(PEERS, "control_upnpclient.py"),
                                   light.location])
    steps = by_step(json_lines(result.stdout))
    assert "done" in steps, result.stdout + result.stderr
    assert steps["device"]["type"] == DEVICE_TYPE
    assert steps["device"]["services"] == ["SwitchPower"]
    assert steps["service"]["actions"] == {
        "SetTarget": {"in": ["newTargetValue"], "out": []},
        "GetTarget": {"in": [], "out": ["RetTargetValue"]},
        "GetStatus": {"in": [], "out": ["ResultStatus"]},
    }
    assert steps["on"]["result"] == {}
    assert steps["status-on"]["result"] == {"ResultStatus": True}
    assert steps["target-on"]["result"] == {"RetTargetValue": True}
    assert steps["off"]["result"] == {}
    assert steps["status-off"]["result"] == {"ResultStatus": False}
    for step, code, description in [
        ("unknown-action", 401, "Invalid Action: no action Toggle"),
        ("missing-argument", 402, "Invalid Args: missing newTargetValue"),
        ("extra-argument", 402, "Invalid Args: unexpected Brightness"),
    ]:
        assert (steps[step]["error"], steps[step]["code"], steps[step]["description"]) == (
            "SOAPError", code, description
        ), steps[step]
    light.finish()


# -- GUPnP ------------------------------------------------------------------------------


def test_gupnp_finds_introspects_and_switches_the_light(light: Light) -> None:
    need(system_gi_has("GSSDP", "GUPnP"),
         "GUPnP 1.6 for /usr/bin/python3 is missing (python3-gi, gir1.2-gupnp-1.6)")
    result = light.peer.run([SYSTEM_PYTHON, os.path.join(PEERS, "control_gupnp.py"),
                             light.peer_interface, "20"], timeout=60)
    events = json_lines(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    [device] = [e for e in events if e["event"] == "device"]
    assert device["type"] == DEVICE_TYPE
    assert device["location"] == light.location
    assert device["friendly_name"] == "Kitchen light"
    [service] = [e for e in events if e["event"] == "service"]
    assert service["type"] == SERVICE_TYPE
    assert service["id"] == SERVICE_ID
    [intro] = [e for e in events if e["event"] == "introspected"]
    assert intro["actions"] == {
        "SetTarget": [["newTargetValue", "in", "Target"]],
        "GetTarget": [["RetTargetValue", "out", "Target"]],
        "GetStatus": [["ResultStatus", "out", "Status"]],
    }
    assert intro["variables"] == {
        "Target": {"type": "gboolean", "send_events": False},
        "Status": {"type": "gboolean", "send_events": True},
    }
    calls = [e for e in events if e["event"] == "call"]
    assert [(c["action"], c["ok"], c.get("results")) for c in calls[:5]] == [
        ("SetTarget", True, {}),
        ("GetStatus", True, {"ResultStatus": True}),
        ("GetTarget", True, {"RetTargetValue": True}),
        ("SetTarget", True, {}),
        ("GetStatus", True, {"ResultStatus": False}),
    ]
    faults = [(c["action"], c["arguments"], c["domain"], c["code"], c["message"],
               c["control_error"]) for c in calls[5:]]
    assert faults == [
        ("Toggle", [], "gupnp-control-error", 401, "Invalid Action: no action Toggle", True),
        ("SetTarget", [], "gupnp-control-error", 402, "Invalid Args: missing newTargetValue",
         True),
        ("SetTarget", ["newTargetValue", "Brightness"], "gupnp-control-error", 402,
         "Invalid Args: unexpected Brightness", True),
    ]
    light.finish()
