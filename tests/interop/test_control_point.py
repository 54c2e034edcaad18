"""
The control-point library (upnp_announce.client) on a real network: a
"dev" namespace runs our own twistd device (examples/light.ini) and an
independent one (async-upnp-client 0.49.0's server, peers/aio_device.py,
with its stock, non-conformant GENA); a "cp" namespace runs
peers/client_driver.py, which drives the library and prints JSON lines.
Needs root; CI is root.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from upnp_announce import config
from upnp_announce.wire.ssdp import announcements

from aio_peer import AIO_FRIENDLY_NAME, AIO_UDN, start_aio_device
from netns import Host, Network, Running, network, start_twistd
from support import PEERS, example

pytestmark = [pytest.mark.slow]

DRIVER = [sys.executable, os.path.join(PEERS, "client_driver.py")]
LIGHT = example("light.ini")
JAMBON = example("jambon.ini")
BINARY_LIGHT = "urn:schemas-upnp-org:device:BinaryLight:1"
SWITCH_POWER = "urn:schemas-upnp-org:service:SwitchPower:1"


def usns(path: str) -> set[str]:
    return {a.usn for a in announcements(config.load(path).device)}


AIO_USNS = {
    f"{AIO_UDN}::upnp:rootdevice", AIO_UDN, f"{AIO_UDN}::{BINARY_LIGHT}",
    f"{AIO_UDN}::{SWITCH_POWER}",
}


def start_device(host: Host, path: str, interface: str) -> tuple[Running, str]:
    device, locations = start_twistd(host, path, interface)
    return device, locations[interface]


def json_lines(lines: list[str]) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in lines if line.startswith("{")]


def drive(host: Host, *arguments: str, timeout: float = 60) -> list[dict]:  # type: ignore[type-arg]
    result = host.run([*DRIVER, *arguments], timeout=timeout)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    return json_lines(result.stdout.splitlines())


@dataclass
class Lan:
    net: Network
    dev: Host
    cp: Host
    dev_address: str
    dev_interface: str
    cp_address: str
    cp_interface: str
    light: Running
    light_location: str
    aio: Running
    aio_location: str


@pytest.fixture(scope="module")
def lan() -> Iterator[Lan]:
    with network() as net:
        dev, cp = net.host("dev"), net.host("cp")
        link = net.link(dev, "10.231.52.1", cp, "10.231.52.2")
        net.route_multicast(cp, link.b_interface)
        light, light_location = start_device(dev, LIGHT, link.a_interface)
        aio, aio_location = start_aio_device(dev, link.a_address, 8000, seconds=120)
        yield Lan(net, dev, cp, link.a_address, link.a_interface, link.b_address,
                  link.b_interface, light, light_location, aio, aio_location)
        light.stop()
        assert "Traceback" not in "\n".join(light.lines)


def test_multicast_discovery_finds_both_devices_once_per_usn(lan: Lan) -> None:
    everything, lights = drive(lan.cp, "discover", lan.cp_interface, "2", "ssdp:all",
                               BINARY_LIGHT)
    ours = usns(LIGHT)
    found = {f["usn"]: f for f in everything["found"]}
    # ssdp:all is searched twice (UDP loses datagrams) and every USN is
    # answered each time: one Found, and one onFound call, per USN.
    assert set(found) == ours | AIO_USNS
    assert len(everything["found"]) == len(found)
    assert sorted(everything["onFound"]) == sorted(found)
    for usn in ours:
        assert found[usn]["location"] == lan.light_location
        assert "upnp_announce/" in found[usn]["server"]
        assert found[usn]["source"][0] == lan.dev_address
        assert found[usn]["maxAge"] == 1800
    for usn in AIO_USNS:
        # No space after the colons, from an ephemeral port: still read.
        assert found[usn]["location"] == lan.aio_location
        assert found[usn]["server"] == "async-upnp-client/0.49.0 UPnP/2.0 Server/1.0"
        assert found[usn]["source"][0] == lan.dev_address
        assert found[usn]["maxAge"] == 1800
    assert found[f"{AIO_UDN}::{BINARY_LIGHT}"]["st"] == BINARY_LIGHT
    # A device type: each BinaryLight once.
    assert sorted((f["usn"], f["st"]) for f in lights["found"]) == sorted([
        (f"{config.load(LIGHT).device.UDN}::{BINARY_LIGHT}", BINARY_LIGHT),
        (f"{AIO_UDN}::{BINARY_LIGHT}", BINARY_LIGHT),
    ])
    assert len(lights["onFound"]) == 2


def test_a_device_table_sees_our_device_come_and_go(lan: Lan) -> None:
    watcher = lan.cp.start([*DRIVER, "table", lan.cp_address, "30"])
    watcher.wait_for("READY", timeout=20)
    jambon, location = start_device(lan.dev, JAMBON, lan.dev_interface)
    expected = usns(JAMBON)
    udn = config.load(JAMBON).device.UDN

    def changes(kind: str) -> dict[str, dict]:  # type: ignore[type-arg]
        return {e["usn"]: e for e in json_lines(watcher.lines)
                if e["kind"] == kind and e["usn"].startswith(udn)}

    for usn in expected:
        watcher.wait_for(f'"usn": "{usn}"', timeout=10)
    added = changes("added")
    assert set(added) == expected
    assert {e["location"] for e in added.values()} == {location}
    assert all("upnp_announce/" in e["server"] for e in added.values())
    # The start's second alive set (and any M-SEARCH reply) changes nothing.
    assert changes("updated") == {}
    assert jambon.stop() == -15
    deadline = time.monotonic() + 10
    while set(changes("removed")) != expected and time.monotonic() < deadline:
        time.sleep(0.1)
    assert set(changes("removed")) == expected, watcher.lines
    watcher.stop()
    kinds = [e["kind"] for e in json_lines(watcher.lines) if e["usn"].startswith(udn)]
    assert kinds == ["added"] * len(expected) + ["removed"] * len(expected)
    assert "Traceback" not in "\n".join(watcher.lines + jambon.lines)


def test_control_point_against_the_independent_device(lan: Lan) -> None:
    steps = {s["step"]: s for s in drive(lan.cp, "control", lan.aio_location, SWITCH_POWER,
                                         "2", timeout=60)}
    assert "done" in steps, steps
    described = steps["describe"]
    assert (described["friendlyName"], described["deviceType"], described["UDN"]) == (
        AIO_FRIENDLY_NAME, BINARY_LIGHT, AIO_UDN
    )
    base = lan.aio_location.rsplit("/", 1)[0]
    # Relative URLs, no URLBase: resolved against LOCATION.
    assert described["services"] == [[
        "urn:upnp-org:serviceId:SwitchPower.0001", SWITCH_POWER, f"{base}/SwitchPower_1.xml",
        f"{base}/upnp/control/SwitchPower1", f"{base}/upnp/event/SwitchPower1",
    ]]
    # An empty presentationURL stays empty (not resolved to LOCATION).
    assert described["presentationURL"] == ""
    assert steps["scpd"]["actions"] == ["Fail", "GetStatus", "GetTarget", "SetTarget"]
    assert steps["scpd"]["variables"] == {
        "Target": ["boolean", False, "False"],
        "Status": ["boolean", True, "False"],
        "A_ARG_TYPE_Code": ["i4", False, "0"],
    }
    assert steps["on"]["result"] == {}
    assert steps["status-on"]["result"] == {"ResultStatus": True}
    # The device drops the description it is given; the code comes through.
    assert (steps["fault"]["code"], steps["fault"]["description"]) == (714, "Action Failed")

    # Stock GENA: a SID without uuid:, kept verbatim; a bare "TIMEOUT: 2" read as 2 s.
    subscribed = steps["subscribed"]
    sid = subscribed["sid"]
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", sid)
    assert subscribed["timeout"] == 2 and subscribed["active"] is True
    [first] = [line for line in lan.aio.lines if line.endswith(f"-> 200 SID: {sid}")
               and "CALLBACK: " in line]
    assert first.startswith(f"SUBSCRIBE /upnp/event/SwitchPower1 CALLBACK: <http://{lan.cp_address}:")
    assert first.endswith(f"> TIMEOUT: Second-2 -> 200 SID: {sid}")
    # True/False in the NOTIFYs become booleans.
    assert steps["events"]["events"] == [[0, {"Status": True}], [1, {"Status": False}]]
    # Renewed (with the same SID) before the 2 s ran out, and still heard.
    renewals = [line for line in lan.aio.lines
                if line.startswith("SUBSCRIBE ") and f"SID: {sid} TIMEOUT: Second-2 -> 200" in line]
    assert len(renewals) >= 2, lan.aio.lines
    assert steps["renewed"] == {"step": "renewed", "active": True, "sid": sid, "timeout": 2}
    assert steps["after-renewal"]["events"][2] == [2, {"Status": True}]
    # Unsubscribed: the device agrees, and the next change is not heard.
    assert f"UNSUBSCRIBE /upnp/event/SwitchPower1 SID: {sid} -> 200" in lan.aio.lines
    assert steps["unsubscribed"]["active"] is False
    assert steps["unsubscribed"]["events"] == steps["after-renewal"]["events"]
    assert len(steps["unsubscribed"]["events"]) == 3
