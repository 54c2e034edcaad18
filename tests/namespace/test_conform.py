"""
The conformance tester against our own device as it really runs: twistd
(examples/light.ini and jambon-fridge.ini) on port 1900 of a veth link in
one namespace, the command in another. Both pass clean with --invoke, and
the CALLBACK aimed at another host of the link is refused with 412.
"""

from __future__ import annotations

import json

import pytest

from clitools import cli
from netns import network, start_twistd
from support import example


@pytest.mark.slow
def test_our_twistd_devices_pass_clean_from_another_namespace() -> None:
    with network() as net:
        dev, cp = net.host("dev"), net.host("cp")
        link = net.link(dev, "10.231.53.1", cp, "10.231.53.2")
        interface = link.a_interface
        results = []
        # One at a time: two devices on one port 1900 share its unicast searches.
        for name in ("light.ini", "jambon-fridge.ini"):
            device, locations = start_twistd(dev, example(name), interface)
            try:
                results.append(cli(cp, "conform", locations[interface], "--json", "--invoke",
                                   "--timeout", "3", timeout=120))
            finally:
                device.stop()
    for result in results:
        assert result.returncode == 0, [f for f in json.loads(result.stdout)["findings"]
                                        if f["status"] not in ("PASS", "SKIP")]
        findings = {f["rule"]: f for f in json.loads(result.stdout)["findings"]}
        assert {f["status"] for f in findings.values()} <= {"PASS", "SKIP"}
        callback = findings["SEC-CALLBACK"]
        assert callback["status"] == "PASS"
        assert callback["detail"] == "a CALLBACK to 10.231.53.3 was refused (HTTP 412)"
        assert findings["SSDP-ALL"]["status"] == "PASS"
    light_findings = {f["rule"]: f["status"] for f in json.loads(results[0].stdout)["findings"]}
    assert light_findings["EVT-SEQ"] == "PASS"
