"""
The conformance tester against an independent device: async-upnp-client's
server (0.49.0, with its stock GENA) in a network namespace, tested by the
command from another. Its known deviations are reported, rule by rule, and
nothing else.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from aio_peer import start_aio_device
from clitools import cli
from netns import network

# What async-upnp-client's server does that UDA does not allow.
DEVIATIONS = {
    "EVT-SID": "a bare uuid4",
    "EVT-TIMEOUT": "TIMEOUT: 300",
    "EVT-VALUES": "True/False for booleans",
    "CTRL-401": "plain HTTP 400 for an unknown action",
    "CTRL-402": "plain HTTP 400 for an extra argument",
    "CTRL-CTYPE": "a text/plain call is carried out",
    "EVT-412": "any NT accepted",
    "EVT-400": "SID with NT or CALLBACK taken as a renewal",
    "SEC-HOST": "a host name in Host is served",
    "SEC-CALLBACK": "a callback to another host is accepted",
}


# And what --invoke finds too: values are not checked.
INVOKED = {
    "CTRL-600": "SetTarget(newTargetValue=conform?) is carried out",
    "CTRL-601": "Fail(Code=2147483648), past i4, raises error 2147483648",
}


def failed(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    assert result.returncode == 4, (result.stdout, result.stderr)
    findings = json.loads(result.stdout)["findings"]
    return {f["rule"]: f["detail"] for f in findings if f["status"] == "FAIL"}


@pytest.mark.slow
def test_async_upnp_clients_known_deviations_are_reported() -> None:
    with network() as net:
        dev, cp = net.host("dev"), net.host("cp")
        link = net.link(dev, "10.231.52.1", cp, "10.231.52.2")
        device, location = start_aio_device(dev, link.a_address, 8000, seconds=120)
        try:
            safe = cli(cp, "conform", location, "--json", "--timeout", "3", timeout=120)
            invoked = cli(cp, "conform", location, "--json", "--invoke", "--timeout", "3",
                          timeout=120)
        finally:
            device.stop()
    found = failed(safe)
    assert sorted(found) == sorted(DEVIATIONS), json.dumps(found, indent=1)
    assert found["EVT-SID"].startswith("SID '") and "is not uuid:" in found["EVT-SID"]
    assert "TIMEOUT '300' is not Second-N" in found["EVT-TIMEOUT"]
    assert "'False' is not sent as 0 or 1" in found["EVT-VALUES"]
    assert found["CTRL-401"].endswith("HTTP 400 with no UPnP fault")
    found = failed(invoked)
    assert sorted(found) == sorted({**DEVIATIONS, **INVOKED}), json.dumps(found, indent=1)
    [seq] = [f for f in json.loads(invoked.stdout)["findings"] if f["rule"] == "EVT-SEQ"]
    assert seq["status"] == "PASS"
