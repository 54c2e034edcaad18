"""
GSSDP (GNOME's SSDP library, through Debian's python3-gi) finds every
announcement of a real twistd device over a real link, in UDA 1.0 and 1.1
modes, with the right LOCATION, and sees its byebye.
"""

from __future__ import annotations

import json
import os

import pytest

from upnp_announce import config

from netns import start_twistd
from support import PEERS, SYSTEM_PYTHON, example, need, system_gi_has

pytestmark = [pytest.mark.slow]
CONFIG = example("jambon-fridge.ini")


@pytest.mark.parametrize("uda", ["1.0", "1.1"])
def test_gssdp_finds_every_announcement_and_sees_the_byebye(lan, uda: str) -> None:  # type: ignore[no-untyped-def]
    need(system_gi_has("GSSDP"), "GSSDP for /usr/bin/python3 is missing (python3-gi, gir1.2-gssdp-1.6)")
    net, device_host, peer = lan
    link = net.links[0]
    device, locations = start_twistd(device_host, CONFIG, link.a_interface)
    location = locations[link.a_interface]
    tree = config.load(CONFIG).device
    fridge = tree.devices[0]
    targets = {
        "upnp:rootdevice": f"{tree.UDN}::upnp:rootdevice",
        tree.UDN: tree.UDN,
        fridge.UDN: fridge.UDN,
        "urn:schemas-upnp-org:device:Basic:1": f"{tree.UDN}::urn:schemas-upnp-org:device:Basic:1",
        "urn:boucherie.example.com:device:Fridge:1":
            f"{fridge.UDN}::urn:boucherie.example.com:device:Fridge:1",
        "urn:boucherie.example.com:service:Thermometer:1":
            f"{fridge.UDN}::urn:boucherie.example.com:service:Thermometer:1",
    }
    browser = peer.start([SYSTEM_PYTHON, os.path.join(PEERS, "gssdp_browse.py"),
                          link.b_interface, "12", uda, *targets])
    browser.wait_for("READY")
    for usn in targets.values():
        browser.wait_for(f'"usn": "{usn}"', timeout=10)
    device.stop()
    browser.wait_for('"event": "unavailable"', timeout=10)
    browser.stop()
    events = [json.loads(line) for line in browser.lines if line.startswith("{")]
    available = {(e["target"], e["usn"]): e["locations"] for e in events
                 if e["event"] == "available"}
    assert set(available) == set(targets.items())
    assert all(locs == [location] for locs in available.values())
    gone = {(e["target"], e["usn"]) for e in events if e["event"] == "unavailable"}
    assert gone, "GSSDP did not see the byebye"
    assert gone <= set(targets.items())
