"""
Real peers over IPv6, against a real twistd device in a network namespace:
GSSDP (GNOME, through Debian's python3-gi) finds it on ff02::c and ff05::c
with LOCATIONs it can reach, and async-upnp-client searches, reads and
controls it over IPv6.
"""

from __future__ import annotations

import json
import os

import pytest

from upnp_announce import config

from harness import UPNP_CLIENT, json_lines, need_upnp_client
from netns import network, start_twistd
from support import PEERS, SYSTEM_PYTHON, example, need, system_gi_has

pytestmark = [pytest.mark.slow]

LIGHT = example("light.ini")
UDN = config.load(LIGHT).device.UDN


def test_gssdp_and_async_upnp_client_find_and_control_it_over_ipv6() -> None:
    need(system_gi_has("GSSDP"), "GSSDP for /usr/bin/python3 is missing (python3-gi, gir1.2-gssdp-1.6)")
    need_upnp_client()
    with network() as net:
        dev, cp = net.host("dev"), net.host("cp")
        link = net.link(dev, "10.233.1.1", cp, "10.233.1.2", a6="fd00:233:1::1/64",
                        b6="fd00:233:1::2/64")
        dev_ll = net.link_local(dev, link.a_interface)
        cp_ll = net.link_local(cp, link.b_interface)
        device, _ = start_twistd(dev, LIGHT, link.a_interface, extra=["--http-port", "49153"])
        device.wait_for(f"at http://[{dev_ll}]")
        device.wait_for("at http://[fd00:233:1::1]")
        site = "http://[fd00:233:1::1]:49153/description.xml"
        on_link = f"http://[{dev_ll}]:49153/description.xml"

        # GSSDP, one client on the unique local address and one on the
        # link-local one: each finds the root device with the LOCATION of
        # its scope (a GSSDP client on a link-local address searches ff02::c).
        browsers = {
            address: cp.start([SYSTEM_PYTHON, os.path.join(PEERS, "gssdp_browse.py"),
                               f"{link.b_interface}@{address}", "8", "1.1", "upnp:rootdevice"])
            for address in ("fd00:233:1::2", cp_ll)
        }
        for browser in browsers.values():
            browser.wait_for("READY")
        for address, browser in browsers.items():
            line = browser.wait_for(f'"usn": "{UDN}::upnp:rootdevice"', timeout=10)
            locations = json.loads(line)["locations"]
            assert locations == [site if address.startswith("fd00") else on_link], locations
            browser.stop()

        # async-upnp-client: a search on ff05::c from the unique local
        # address, then the description and an action over IPv6.
        index = int(cp.run(["cat", f"/sys/class/net/{link.b_interface}/ifindex"]).stdout)
        # (It wants a scope id on every IPv6 address, a ULA one too.)
        found = cp.run([UPNP_CLIENT, "--timeout", "4", "search", "--bind",
                        f"fd00:233:1::2%{index}", "--target", f"ff05::c%{index}",
                        "--search_target", "upnp:rootdevice"], timeout=60)
        assert found.returncode == 0, found.stdout + found.stderr
        replies = json_lines(found.stdout)
        assert {r.get("location") for r in replies} >= {site}, replies
        linked = cp.run([UPNP_CLIENT, "--timeout", "4", "search", "--bind",
                         f"{cp_ll}%{index}", "--target", f"ff02::c%{index}",
                         "--search_target", "upnp:rootdevice"], timeout=60)
        assert linked.returncode == 0, linked.stdout + linked.stderr
        # It writes its own zone into a link-local LOCATION (RFC 4007 style).
        assert on_link.replace("]", f"%{index}]") in {
            r.get("location") for r in json_lines(linked.stdout)
        }
        for call, expected in (("SwitchPower/SetTarget", {}), ("SwitchPower/GetStatus",
                                                                {"ResultStatus": True})):
            arguments = ["newTargetValue=1"] if call.endswith("SetTarget") else []
            result = cp.run([UPNP_CLIENT, "--timeout", "10", "call-action", site, call,
                             *arguments], timeout=60)
            assert result.returncode == 0, result.stdout + result.stderr
            [answer] = json_lines(result.stdout)
            assert answer["out_parameters"] == expected
        device.stop()
        assert "Traceback" not in "\n".join(device.lines)
