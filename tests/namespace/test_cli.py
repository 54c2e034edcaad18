"""
The upnp-announce CLI through subprocess, against real devices: our own
twistd device (examples/light.ini, and a device whose provider faults) in
one namespace pair, async-upnp-client 0.49.0's server (peers/aio_device.py,
stock non-conformant GENA) in another, the CLI in each pair's "cp"
namespace; and its error paths, each one line on stderr, with the command
in the root namespace talking to 127.0.0.1 only.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from upnp_announce import config

from clitools import (
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
from netns import Host, Running, network, start_twistd
from support import example

LIGHT = example("light.ini")
SWITCH_ID = "urn:upnp-org:serviceId:SwitchPower"
EVENT_PATH = "/svc/SwitchPower/event"

# A provider whose action answers the fault it is asked for.
FAULTY_MODULE = "cli_devices_faulty"
FAULTY_PY = '''
from upnp_announce import UPnPError
from upnp_announce.provider import ServiceProvider, StateVariable, action


class Faulty(ServiceProvider):
    serviceType = "urn:cli-test.example.com:service:Faulty:1"
    serviceId = "urn:cli-test.example.com:serviceId:Faulty"

    A_ARG_TYPE_Code = StateVariable("ui2", default=0)

    @action(Code=A_ARG_TYPE_Code)
    def Fail(self, Code):
        raise UPnPError(Code, f"failing on purpose with {Code}")
'''
FAULTY_INI = f"""
[device]
deviceType = urn:cli-test.example.com:device:Faulty:1
friendlyName = Faulty box
manufacturer = upnp_announce tests
modelName = Faulty
services = faulty

[service:faulty]
provider = {FAULTY_MODULE}:Faulty
"""


# -- helpers -------------------------------------------------------------------------------










def start_device(host: Host, path: str, interface: str, **kw: object) -> tuple[Running, str]:
    # --debug http: the access log, which some tests count lines of.
    device, locations = start_twistd(host, path, interface, extra=["--debug", "http"], **kw)
    return device, locations[interface]


def access(device: Running, method: str, path: str = EVENT_PATH, status: int = 200) -> int:
    """
    How many requests C{method} C{path} our device's access log shows
    answered with C{status}.
    """
    needle = f'"{method} {path} HTTP/1.1" {status} '
    return sum(needle in line for line in device.lines)




def default_sigint() -> None:
    # The subscriber must get SIGINT as a terminal's Ctrl-C gives it, even
    # if the test runner ignores it.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


# -- our own device, in a namespace pair ------------------------------------------------------


@dataclass
class Own:
    dev: Host
    cp: Host
    cp_interface: str
    light: Running
    location: str
    faulty: Running
    faulty_location: str

    @property
    def root(self) -> str:
        return re.match(r"http://[^/]+/", self.location).group(0)  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Own]:
    where = tmp_path_factory.mktemp("faulty")
    (where / f"{FAULTY_MODULE}.py").write_text(FAULTY_PY)
    (where / "faulty.ini").write_text(FAULTY_INI)
    with network() as net:
        dev, cp = net.host("dev"), net.host("cp")
        link = net.link(dev, "10.231.50.1", cp, "10.231.50.2")
        net.route_multicast(cp, link.b_interface)
        env = {**os.environ, "PYTHONPATH": str(where)}
        light, location = start_device(dev, LIGHT, link.a_interface)
        faulty, faulty_location = start_device(dev, str(where / "faulty.ini"), link.a_interface,
                                               env=env)
        assert location.startswith("http://10.231.50.1:")
        yield Own(dev, cp, link.b_interface, light, location, faulty, faulty_location)
        for device in (light, faulty):
            device.stop()
            assert "Traceback" not in "\n".join(device.lines), device.lines




@pytest.mark.slow
def test_discover_lists_our_device(own: Own) -> None:
    table, as_json, by_type, nobody = cli_all(
        own.cp,
        # (IPv4 here; tests/namespace/test_network.py discovers over IPv6.)
        ["discover", "--interface", own.cp_interface, "--timeout", "2", "--no-ipv6"],
        ["discover", "--interface", own.cp_interface, "--timeout", "2", "--json", "--no-ipv6"],
        ["discover", "--interface", own.cp_interface, "--timeout", "2", "--target", BINARY_LIGHT,
         "--no-ipv6"],
        ["discover", "--interface", own.cp_interface, "--timeout", "1",
         "--target", "urn:nobody.example.com:device:Nothing:1"],
    )
    lines = ok(table).splitlines()
    assert lines[0].split() == [
        "FRIENDLY", "NAME", "DEVICE", "TYPE", "INTERFACE", "LOCATION", "SERVER"
    ]
    [kitchen] = [line for line in lines if line.startswith("Kitchen light ")]
    assert kitchen.split()[2:5] == [BINARY_LIGHT, own.cp_interface, own.location]
    assert "upnp_announce/" in kitchen
    assert any(line.startswith("Faulty box ") for line in lines)
    assert table.stderr == ""

    rows = {row["friendlyName"]: row for row in json.loads(ok(as_json))}
    assert set(rows) == {"Kitchen light", "Faulty box"}
    kitchen_row = rows["Kitchen light"]
    assert kitchen_row["deviceType"] == BINARY_LIGHT
    assert kitchen_row["location"] == own.location
    assert kitchen_row["interface"] == own.cp_interface
    assert kitchen_row["UDN"] == config.load(LIGHT).device.UDN
    assert "upnp_announce/" in kitchen_row["server"]

    found = ok(by_type).splitlines()
    assert len(found) == 2 and found[1].startswith("Kitchen light ")
    assert own.location in found[1]

    assert ok(nobody) == ("No device answered a search for "
                          "urn:nobody.example.com:device:Nothing:1 within 1 s.\n")


@pytest.mark.slow
def test_inspect_shows_the_service_actions_and_variables(own: Own) -> None:
    text, as_json = cli_all(own.cp, ["inspect", own.location], ["inspect", own.location, "--json"])
    shown = ok(text)
    assert shown.splitlines()[0] == f"Kitchen light ({BINARY_LIGHT})"
    assert f"  service {SWITCH_ID} ({SWITCH_POWER})\n" in shown
    assert (
        "    actions:\n"
        "      SetTarget(newTargetValue: boolean)\n"
        "      GetTarget() -> RetTargetValue: boolean\n"
        "      GetStatus() -> ResultStatus: boolean\n"
        "    state variables:\n"
        "      Target: boolean = 0\n"
        "      Status: boolean = 0 (evented)\n"
    ) in shown
    assert "  serialNumber: KL-0001\n" in shown

    described = json.loads(ok(as_json))
    assert described["friendlyName"] == "Kitchen light"
    assert described["deviceType"] == BINARY_LIGHT
    assert described["devices"] == []
    [service] = described["services"]
    base = own.root.rstrip("/")
    assert service == {
        "serviceType": SWITCH_POWER, "serviceId": SWITCH_ID,
        "SCPDURL": f"{base}/svc/SwitchPower/scpd.xml",
        "controlURL": f"{base}/svc/SwitchPower/control",
        "eventSubURL": f"{base}{EVENT_PATH}",
        "actions": ["SetTarget(newTargetValue: boolean)",
                    "GetTarget() -> RetTargetValue: boolean",
                    "GetStatus() -> ResultStatus: boolean"],
        "stateVariables": ["Target: boolean = 0", "Status: boolean = 0 (evented)"],
    }


@pytest.mark.slow
def test_call_switches_the_light_on(own: Own) -> None:
    set_light(own.cp, own.location, "SwitchPower", False)
    assert ok(cli(own.cp, "call", own.location, "SwitchPower", "SetTarget",
                  "newTargetValue=1")) == ""
    status, as_json, target = cli_all(
        own.cp,
        ["call", own.location, "SwitchPower", "GetStatus"],
        ["call", own.location, "SwitchPower", "GetStatus", "--json"],
        # The service by its type.
        ["call", own.location, SWITCH_POWER, "GetTarget"],
    )
    assert ok(status) == "ResultStatus = 1\n"
    assert json.loads(ok(as_json)) == {"ResultStatus": True}
    assert ok(target) == "RetTargetValue = 1\n"


@pytest.mark.slow
def test_subscribe_prints_two_events_and_exits(own: Own) -> None:
    set_light(own.cp, own.location, "SwitchPower", True)
    subscriptions = access(own.light, "SUBSCRIBE")
    unsubscriptions = access(own.light, "UNSUBSCRIBE")
    subscriber = own.cp.start([*CLI, "subscribe", own.location, "SwitchPower", "--count", "2"])
    subscriber.wait_for("SEQ 0", timeout=20)
    set_light(own.cp, own.location, "SwitchPower", False)
    assert subscriber.process.wait(timeout=20) == 0, subscriber.lines
    subscriber.stop()
    lines = subscriber.lines
    assert re.fullmatch(rf"Subscribed to {SWITCH_ID} as uuid:[-0-9a-f]{{36}} for 1800 s "
                        r"\(renewed until stopped\)", lines[0]), lines
    assert lines[1:] == ["SEQ 0: Status = 1", "SEQ 1: Status = 0"]
    # It unsubscribed before it exited.
    assert access(own.light, "SUBSCRIBE") == subscriptions + 1
    assert eventually(lambda: access(own.light, "UNSUBSCRIBE") == unsubscriptions + 1)


@pytest.mark.slow
def test_subscribe_unsubscribes_on_ctrl_c(own: Own) -> None:
    set_light(own.cp, own.location, "SwitchPower", False)
    unsubscriptions = access(own.light, "UNSUBSCRIBE")
    subscriber = own.cp.start([*CLI, "subscribe", own.location, "SwitchPower", "--json"],
                              preexec_fn=default_sigint)
    subscriber.wait_for('"seq": 0', timeout=20)
    set_light(own.cp, own.location, "SwitchPower", True)
    subscriber.wait_for('"seq": 1', timeout=20)
    assert subscriber.stop(signal.SIGINT) == 0, subscriber.lines
    events = [json.loads(line) for line in subscriber.lines if line.startswith("{")]
    assert events == [{"seq": 0, "values": {"Status": False}},
                      {"seq": 1, "values": {"Status": True}}]
    assert "Traceback" not in "\n".join(subscriber.lines)
    # The device saw the UNSUBSCRIBE (the subscriber waited for its answer)...
    assert access(own.light, "UNSUBSCRIBE") == unsubscriptions + 1, own.light.lines
    # ...and has nobody left to tell of the next change.
    notifies = len([line for line in own.light.lines if "_HTTP11ClientFactory" in line])
    set_light(own.cp, own.location, "SwitchPower", False)
    time.sleep(0.5)
    assert len([line for line in own.light.lines if "_HTTP11ClientFactory" in line]) == notifies


# Each error on our device: (arguments after LOCATION, status, the line after "upnp-announce: ").
OWN_ERRORS = {
    "unknown service": (
        ["Dimming", "SetLoadLevelTarget"], 1,
        "the device has no service 'Dimming'; its services are: SwitchPower",
    ),
    "unknown action": (
        ["SwitchPower", "Toggle"], 1,
        f"{SWITCH_ID} has no action 'Toggle'; its actions are: SetTarget, GetTarget, GetStatus",
    ),
    "bad value": (["SwitchPower", "SetTarget", "newTargetValue=maybe"], 1, "newTargetValue: "),
    "missing argument": (
        ["SwitchPower", "SetTarget"], 1, "SetTarget takes newTargetValue: missing newTargetValue",
    ),
    "extra argument": (
        ["SwitchPower", "GetStatus", "Verbose=1"], 1,
        "GetStatus takes no arguments: unexpected Verbose",
    ),
    "not NAME=VALUE": (["SwitchPower", "SetTarget", "newTargetValue"], 1,
                       "'newTargetValue' is not NAME=VALUE"),
}


@pytest.mark.slow
def test_call_errors_on_our_device_are_one_line(own: Own) -> None:
    names = list(OWN_ERRORS)
    results = cli_all(own.cp, *[["call", own.location, *OWN_ERRORS[n][0]] for n in names])
    for name, result in zip(names, results):
        _, status, message = OWN_ERRORS[name]
        line = one_error_line(result, status)
        assert line.startswith(f"upnp-announce: {message}"), (name, line)
    bad = one_error_line(results[names.index("bad value")])
    assert "maybe" in bad, bad


@pytest.mark.slow
def test_what_is_not_a_description_is_one_line(own: Own) -> None:
    page, missing, scpd = cli_all(
        own.cp,
        ["inspect", own.root],
        ["inspect", f"{own.root}nosuch.xml"],
        ["call", f"{own.root}svc/SwitchPower/scpd.xml", "SwitchPower", "GetStatus"],
    )
    assert one_error_line(page) == (
        f"upnp-announce: {own.root} is a web page, not a UPnP description"
    )
    assert one_error_line(missing) == f"upnp-announce: {own.root}nosuch.xml answered HTTP 404"
    assert one_error_line(scpd) == (
        f"upnp-announce: {own.root}svc/SwitchPower/scpd.xml is not a UPnP device description "
        "(its root is <scpd>)"
    )


@pytest.mark.slow
def test_a_fault_from_our_device_exits_3(own: Own) -> None:
    fault, as_json = cli_all(
        own.cp,
        ["call", own.faulty_location, "Faulty", "Fail", "Code=718"],
        ["call", own.faulty_location, "Faulty", "Fail", "Code=801", "--json"],
    )
    assert one_error_line(fault, 3) == (
        "upnp-announce: Fail failed: UPnP error 718: failing on purpose with 718"
    )
    assert one_error_line(as_json, 3) == (
        "upnp-announce: Fail failed: UPnP error 801: failing on purpose with 801"
    )


@pytest.mark.slow
def test_discover_on_no_such_interface(own: Own) -> None:
    line = one_error_line(cli(own.cp, "discover", "--interface", "nosuch0", "--timeout", "1"))
    assert line == f"upnp-announce: there is no interface 'nosuch0'; this machine has lo, {own.cp_interface}"


# -- async-upnp-client's server, in another namespace pair --------------------------------------














# -- error paths in the root namespace: 127.0.0.1 only ------------------------------------------




















