"""
examples/asyncio_app.py in a namespace: an asyncio program whose own task
keeps its heartbeat while the device it embeds is searched, described,
controlled and evented from another namespace; SIGTERM and SIGINT stop it
cleanly, the byebye set on the wire.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time

import pytest

from upnp_announce.wire import ssdp

from clitools import cli
from netns import Host, Network, Running
from support import PEERS, example

pytestmark = [pytest.mark.slow]

APP = os.path.join(os.path.dirname(example("light.ini")), "asyncio_app.py")


def beats(app: Running) -> int:
    return sum(line.startswith("heartbeat ") for line in list(app.lines))


def byebyes(listener: Running) -> int:
    count = 0
    for line in list(listener.lines):
        if line.startswith("{"):
            message = ssdp.parse(json.loads(line)["data"].encode())
            count += isinstance(message, ssdp.Notify) and message.nts == "ssdp:byebye"
    return count


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_the_heartbeat_goes_on_while_the_device_is_used_and_it_stops_with_byebye(
    lan: tuple[Network, Host, Host], stop: signal.Signals,
) -> None:
    net, dev, cp = lan
    link = net.links[0]
    app = dev.start([sys.executable, APP, "--config", example("light.ini"),
                     "--interface", link.a_interface])
    line = app.wait_for(f"serving Kitchen light at http://{link.a_address}:")
    location = line.split(" at ", 1)[1]
    app.wait_for("heartbeat 1")
    began, before = time.monotonic(), beats(app)
    # Found, described, controlled and evented, from the other namespace.
    search = cp.run([sys.executable, os.path.join(PEERS, "ssdp_search.py"), link.b_address,
                     "urn:schemas-upnp-org:device:BinaryLight:1", "2", "1"], timeout=30)
    replies = [json.loads(x) for x in search.stdout.splitlines() if x.startswith("{")]
    assert [ssdp.parse(r["data"].encode()).location for r in replies] == [location]  # type: ignore[union-attr]
    assert "SwitchPower" in cli(cp, "inspect", location).stdout
    subscriber = cp.start([*_cli(), "subscribe", location, "SwitchPower", "--count", "2"])
    subscriber.wait_for("SEQ 0: Status = 0")
    assert cli(cp, "call", location, "SwitchPower", "SetTarget", "newTargetValue=1").returncode == 0
    subscriber.wait_for("SEQ 1: Status = 1")
    assert subscriber.process.wait(timeout=15) == 0
    got = cli(cp, "call", location, "SwitchPower", "GetStatus")
    assert got.stdout == "ResultStatus = 1\n", got.stderr
    # The program's own task never stalled meanwhile: a beat a second.
    elapsed = time.monotonic() - began
    assert beats(app) - before >= int(elapsed) - 1, (elapsed, app.lines)
    # A clean stop, the byebye set heard on the link.
    listener = cp.start([sys.executable, os.path.join(PEERS, "ssdp_listen.py"), link.b_address,
                         "10"])
    listener.wait_for("READY")
    app.process.send_signal(stop)
    assert app.process.wait(timeout=15) == 0
    app.wait_for("stopped: byebye sent")
    deadline = time.monotonic() + 5
    while byebyes(listener) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert byebyes(listener) >= 4  # root, UDN, device type, service type
    assert "Traceback" not in "\n".join(app.lines)


def _cli() -> list[str]:
    from clitools import CLI

    return list(CLI)


def test_a_bad_config_is_one_clear_line(lan: tuple[Network, Host, Host], tmp_path: object) -> None:
    net, dev, _ = lan
    result = dev.run([sys.executable, APP, "--config", "/nonexistent/device.ini",
                      "--interface", net.links[0].a_interface], timeout=30)
    assert result.returncode == 1
    assert "/nonexistent/device.ini" in result.stderr and "Traceback" not in result.stderr
