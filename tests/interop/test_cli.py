"""
The upnp-announce command against an independent device (async-upnp-client's
server, with its stock, non-conformant GENA) in a network namespace.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from aio_peer import AIO_FRIENDLY_NAME, AIO_UDN, start_aio_device
from clitools import (
    AIO_SWITCH_ID,
    BINARY_LIGHT,
    CLI,
    SWITCH_POWER,
    cli,
    cli_all,
    eventually,
    ok,
    one_error_line,
    set_light,
)
from netns import Host, Running, network


@dataclass
class Aio:
    dev: Host
    dev_address: str
    cp: Host
    cp_interface: str
    device: Running
    location: str


@pytest.fixture(scope="module")
def aio() -> Iterator[Aio]:
    with network() as net:
        dev, cp = net.host("dev"), net.host("cp")
        link = net.link(dev, "10.231.51.1", cp, "10.231.51.2")
        net.route_multicast(cp, link.b_interface)
        device, location = start_aio_device(dev, link.a_address, 8000, seconds=180)
        yield Aio(dev, link.a_address, cp, link.b_interface, device, location)


@pytest.mark.slow
def test_discover_and_inspect_the_independent_device(aio: Aio) -> None:
    table, as_json, text, described = cli_all(
        aio.cp,
        ["discover", "--interface", aio.cp_interface, "--timeout", "2"],
        ["discover", "--interface", aio.cp_interface, "--timeout", "2", "--json",
         "--target", BINARY_LIGHT],
        ["inspect", aio.location],
        ["inspect", aio.location, "--json"],
    )
    [row] = ok(table).splitlines()[1:]
    assert row.split()[:4] == [*AIO_FRIENDLY_NAME.split(), BINARY_LIGHT, aio.cp_interface][:4]
    assert f"  {aio.location}  " in row
    assert row.endswith("async-upnp-client/0.49.0 UPnP/2.0 Server/1.0")
    [found] = json.loads(ok(as_json))
    assert (found["friendlyName"], found["UDN"], found["location"], found["interface"]) == (
        AIO_FRIENDLY_NAME, AIO_UDN, aio.location, aio.cp_interface
    )
    shown = ok(text)
    assert shown.startswith(f"{AIO_FRIENDLY_NAME} ({BINARY_LIGHT})\n")
    assert (
        f"  service {AIO_SWITCH_ID} ({SWITCH_POWER})\n"
        "    actions:\n"
        "      Fail(Code: i4)\n"
        "      GetStatus() -> ResultStatus: boolean\n"
        "      GetTarget() -> RetTargetValue: boolean\n"
        "      SetTarget(newTargetValue: boolean)\n"
        "    state variables:\n"
        "      Target: boolean = False\n"
        "      Status: boolean = False (evented)\n"
        "      A_ARG_TYPE_Code: i4 = 0\n"
    ) in shown
    tree = json.loads(ok(described))
    base = aio.location.rsplit("/", 1)[0]
    assert tree["UDN"] == AIO_UDN
    assert tree["presentationURL"] == ""  # empty, not resolved to LOCATION
    [service] = tree["services"]
    assert (service["controlURL"], service["eventSubURL"]) == (
        f"{base}/upnp/control/SwitchPower1", f"{base}/upnp/event/SwitchPower1"
    )


@pytest.mark.slow
def test_call_and_a_fault_on_the_independent_device(aio: Aio) -> None:
    set_light(aio.cp, aio.location, SWITCH_POWER, False)
    assert ok(cli(aio.cp, "call", aio.location, "SwitchPower.0001", "SetTarget",
                  "newTargetValue=1")) == ""
    status, target, fault, short, wrong = cli_all(
        aio.cp,
        ["call", aio.location, SWITCH_POWER, "GetStatus"],
        ["call", aio.location, AIO_SWITCH_ID, "GetTarget", "--json"],
        ["call", aio.location, SWITCH_POWER, "Fail", "Code=714"],
        # Its serviceId ends in SwitchPower.0001: "SwitchPower" finds it.
        ["call", aio.location, "SwitchPower", "GetStatus"],
        ["call", aio.location, "Dimming", "GetStatus"],
    )
    assert ok(status) == "ResultStatus = 1\n"
    assert json.loads(ok(target)) == {"RetTargetValue": True}
    # The device always describes a fault as "Action Failed".
    assert one_error_line(fault, 3) == "upnp-announce: Fail failed: UPnP error 714: Action Failed"
    assert ok(short) == "ResultStatus = 1\n"
    assert one_error_line(wrong) == (
        "upnp-announce: the device has no service 'Dimming'; its services are: "
        "SwitchPower.0001"
    )
    posts = [line for line in aio.device.lines if line.startswith("POST ")]
    assert f'POST /upnp/control/SwitchPower1 SOAPAction: "{SWITCH_POWER}#Fail" -> 500' in posts


@pytest.mark.slow
def test_subscribe_to_the_independent_device_with_its_stock_gena(aio: Aio) -> None:
    set_light(aio.cp, aio.location, SWITCH_POWER, True)
    subscriber = aio.cp.start([*CLI, "subscribe", aio.location, SWITCH_POWER, "--count", "2",
                               "--subscription-timeout", "300"])
    subscriber.wait_for("SEQ 0", timeout=20)
    set_light(aio.cp, aio.location, SWITCH_POWER, False)
    assert subscriber.process.wait(timeout=20) == 0, subscriber.lines
    subscriber.stop()
    lines = subscriber.lines
    # A SID without uuid:, kept as it came; "TIMEOUT: 300" read as 300 s.
    match = re.fullmatch(rf"Subscribed to {AIO_SWITCH_ID} as ([-0-9a-f]{{36}}) for 300 s "
                         r"\(renewed until stopped\)", lines[0])
    assert match, lines
    sid = match.group(1)
    # NOTIFY values True/False, printed as UPnP writes booleans.
    assert lines[1:] == ["SEQ 0: Status = 1", "SEQ 1: Status = 0"]
    assert eventually(lambda: f"UNSUBSCRIBE /upnp/event/SwitchPower1 SID: {sid} -> 200"
                      in aio.device.lines), aio.device.lines
    assert any(line.endswith(f"TIMEOUT: Second-300 -> 200 SID: {sid}")
               for line in aio.device.lines)


@pytest.mark.slow
def test_subscribe_says_so_when_the_device_goes_away(aio: Aio) -> None:
    # A second instance, on another port, that stops by itself after 2 s;
    # asked for 2 s subscriptions, which it grants: renewed every second.
    brief, location = start_aio_device(aio.dev, aio.dev_address, 8001, seconds=2)
    subscriber = aio.cp.start([*CLI, "subscribe", location, SWITCH_POWER,
                               "--subscription-timeout", "2"])
    try:
        subscriber.wait_for("SEQ 0", timeout=20)
        brief.wait_for("STOPPED", timeout=20)
        # The next renewal (within a second) is refused: connection refused.
        try:
            status = subscriber.process.wait(timeout=4)
        except subprocess.TimeoutExpired:
            status = None
    finally:
        subscriber.stop()
    assert status == 1, subscriber.lines
    assert subscriber.lines[-1].startswith("upnp-announce: "), subscriber.lines
    assert "Traceback" not in "\n".join(subscriber.lines)
