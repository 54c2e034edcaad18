"""
A real peer follows a reload: GSSDP (GNOME, through Debian's python3-gi)
browsing for BinaryLights sees the byebye of a device whose file went away
and the alive of a device whose file came, after SIGHUP to a real twistd.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from netns import TWISTD, network
from support import PEERS, SYSTEM_PYTHON, need, system_gi_has

pytestmark = [pytest.mark.slow]

BINARY_LIGHT = "urn:schemas-upnp-org:device:BinaryLight:1"


def light(friendly: str, n: int) -> str:
    return (f"[device]\nprovider = binarylight\nfriendlyName = {friendly}\n"
            f"udn = uuid:00000000-0000-4000-8000-{n:012d}\n")


def test_gssdp_sees_a_removed_device_go_and_an_added_one_come(tmp_path: Path) -> None:
    need(system_gi_has("GSSDP"), "GSSDP for /usr/bin/python3 is missing (python3-gi, gir1.2-gssdp-1.6)")
    (tmp_path / "stays.ini").write_text(light("Stays", 1))
    (tmp_path / "goes.ini").write_text(light("Goes", 2))
    with network() as net:
        dev, cp = net.host("dev"), net.host("cp")
        link = net.link(dev, "10.235.1.1", cp, "10.235.1.2")
        device = dev.start([*TWISTD, "-n", "--pidfile=", "--logfile=-", "upnp", "--config-dir",
                            str(tmp_path), "--interface", link.a_interface])
        device.wait_for(f"on {link.a_interface} at http://")
        browser = cp.start([SYSTEM_PYTHON, os.path.join(PEERS, "gssdp_browse.py"),
                            link.b_interface, "20", "1.1", BINARY_LIGHT])
        browser.wait_for("READY")
        for n in (1, 2):
            browser.wait_for(f'"usn": "uuid:00000000-0000-4000-8000-{n:012d}::', timeout=10)
        (tmp_path / "goes.ini").unlink()
        (tmp_path / "comes.ini").write_text(light("Comes", 3))
        device.process.send_signal(signal.SIGHUP)
        device.wait_for("Reloaded: 1 added, 1 removed", timeout=10)
        browser.wait_for('"event": "unavailable"', timeout=10)
        browser.wait_for('"usn": "uuid:00000000-0000-4000-8000-000000000003::', timeout=10)
        browser.stop()
        device.stop()
        events = [json.loads(line) for line in browser.lines if line.startswith("{")]
        gone = {e["usn"].split("::")[0] for e in events if e["event"] == "unavailable"}
        assert gone == {"uuid:00000000-0000-4000-8000-000000000002"}
        came = {e["usn"].split("::")[0] for e in events if e["event"] == "available"}
        assert came == {f"uuid:00000000-0000-4000-8000-{n:012d}" for n in (1, 2, 3)}
        assert "Traceback" not in "\n".join(device.lines)
