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
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

from aio_peer import AIO_FRIENDLY_NAME, AIO_UDN, start_aio_device
from netns import Host, Running, network
from support import example
from upnp_announce import config

CLI = [sys.executable, "-m", "upnp_announce.cli"]
TWISTD = [sys.executable, "-c", "from twisted.scripts.twistd import run; run()"]
LIGHT = example("light.ini")
BINARY_LIGHT = "urn:schemas-upnp-org:device:BinaryLight:1"
SWITCH_POWER = "urn:schemas-upnp-org:service:SwitchPower:1"
SWITCH_ID = "urn:upnp-org:serviceId:SwitchPower"
AIO_SWITCH_ID = "urn:upnp-org:serviceId:SwitchPower.0001"
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


def cli(host: Host | None, *argv: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """
    Run upnp-announce in C{host}, or (for C{None}) here in the root
    namespace, where it may only talk to 127.0.0.1.
    """
    if host is None:
        return subprocess.run([*CLI, *argv], capture_output=True, text=True, timeout=timeout)
    return host.run([*CLI, *argv], timeout=timeout)


def cli_all(host: Host | None, *commands: Sequence[str]) -> list[subprocess.CompletedProcess[str]]:
    """
    Run several commands at once (each waits for network answers).
    """
    with ThreadPoolExecutor(len(commands)) as pool:
        return list(pool.map(lambda argv: cli(host, *argv), commands))


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, (result.args, result.stdout, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    return result.stdout


def one_error_line(result: subprocess.CompletedProcess[str], status: int = 1) -> str:
    """
    The command failed with C{status} and said why in exactly one stderr
    line, "upnp-announce: ...", and printed nothing else.
    """
    assert result.returncode == status, (result.args, result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("upnp-announce: "), result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    return lines[0]


def start_device(host: Host, path: str, interface: str, **kw: object) -> tuple[Running, str]:
    device = host.start([*TWISTD, "-n", "--pidfile=", "--logfile=-", "upnp", "--config", path,
                         "--interface", interface], **kw)
    line = device.wait_for(f"on {interface} at http://")
    return device, re.search(r"at (http://\S+)", line).group(1)  # type: ignore[union-attr]


def access(device: Running, method: str, path: str = EVENT_PATH, status: int = 200) -> int:
    """
    How many requests C{method} C{path} our device's access log shows
    answered with C{status}.
    """
    needle = f'"{method} {path} HTTP/1.1" {status} '
    return sum(needle in line for line in device.lines)


def eventually(condition: object, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return bool(condition())  # type: ignore[operator]


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


def set_light(host: Host, location: str, service: str, on: bool) -> None:
    assert ok(cli(host, "call", location, service, "SetTarget",
                  f"newTargetValue={int(on)}")) == ""


@pytest.mark.netns
@pytest.mark.slow
def test_discover_lists_our_device(own: Own) -> None:
    table, as_json, by_type, nobody = cli_all(
        own.cp,
        ["discover", "--interface", own.cp_interface, "--timeout", "2"],
        ["discover", "--interface", own.cp_interface, "--timeout", "2", "--json"],
        ["discover", "--interface", own.cp_interface, "--timeout", "2", "--target", BINARY_LIGHT],
        ["discover", "--interface", own.cp_interface, "--timeout", "1",
         "--target", "urn:nobody.example.com:device:Nothing:1"],
    )
    lines = ok(table).splitlines()
    assert lines[0].split() == ["FRIENDLY", "NAME", "DEVICE", "TYPE", "LOCATION", "SERVER"]
    [kitchen] = [line for line in lines if line.startswith("Kitchen light ")]
    assert kitchen.split()[2:4] == [BINARY_LIGHT, own.location]
    assert "upnp_announce/" in kitchen
    assert any(line.startswith("Faulty box ") for line in lines)
    assert table.stderr == ""

    rows = {row["friendlyName"]: row for row in json.loads(ok(as_json))}
    assert set(rows) == {"Kitchen light", "Faulty box"}
    kitchen_row = rows["Kitchen light"]
    assert kitchen_row["deviceType"] == BINARY_LIGHT
    assert kitchen_row["location"] == own.location
    assert kitchen_row["UDN"] == config.load(LIGHT).device.UDN
    assert "upnp_announce/" in kitchen_row["server"]

    found = ok(by_type).splitlines()
    assert len(found) == 2 and found[1].startswith("Kitchen light ")
    assert own.location in found[1]

    assert ok(nobody) == ("No device answered a search for "
                          "urn:nobody.example.com:device:Nothing:1 within 1 s.\n")


@pytest.mark.netns
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


@pytest.mark.netns
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


@pytest.mark.netns
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


@pytest.mark.netns
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


@pytest.mark.netns
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


@pytest.mark.netns
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


@pytest.mark.netns
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


@pytest.mark.netns
@pytest.mark.slow
def test_discover_on_no_such_interface(own: Own) -> None:
    line = one_error_line(cli(own.cp, "discover", "--interface", "nosuch0", "--timeout", "1"))
    assert line == f"upnp-announce: there is no interface 'nosuch0'; this machine has lo, {own.cp_interface}"


# -- async-upnp-client's server, in another namespace pair --------------------------------------


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


@pytest.mark.netns
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
    assert row.startswith(f"{AIO_FRIENDLY_NAME}  {BINARY_LIGHT}  {aio.location}  ")
    assert row.endswith("async-upnp-client/0.49.0 UPnP/2.0 Server/1.0")
    [found] = json.loads(ok(as_json))
    assert (found["friendlyName"], found["UDN"], found["location"]) == (
        AIO_FRIENDLY_NAME, AIO_UDN, aio.location
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


@pytest.mark.netns
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


@pytest.mark.netns
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


@pytest.mark.netns
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


# -- error paths in the root namespace: 127.0.0.1 only ------------------------------------------


def free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def silent() -> Iterator[int]:
    """
    A TCP server on 127.0.0.1 that accepts connections and never answers.
    """
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except (socket.timeout, OSError):
                continue
            held.append(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join(5)
        for connection in held:
            connection.close()
        server.close()


@pytest.mark.slow
def test_a_closed_port_is_one_line() -> None:
    port = free_tcp_port()
    url = f"http://127.0.0.1:{port}/description.xml"
    results = cli_all(None, ["inspect", url], ["call", url, "SwitchPower", "GetStatus"],
                      ["subscribe", url, "SwitchPower"])
    for result in results:
        assert one_error_line(result) == (
            f"upnp-announce: cannot connect to 127.0.0.1:{port}: connection refused"
        )


@pytest.mark.slow
def test_a_server_that_never_answers_is_a_timeout(silent: int) -> None:
    url = f"http://127.0.0.1:{silent}/description.xml"
    started = time.monotonic()
    inspect, call = cli_all(None, ["inspect", url, "--timeout", "1"],
                            ["call", url, "SwitchPower", "GetStatus", "--timeout", "1"])
    assert time.monotonic() - started < 10
    for result in (inspect, call):
        assert one_error_line(result) == (
            f"upnp-announce: no answer from 127.0.0.1:{silent} within 1 s"
        )


@pytest.mark.slow
def test_not_an_http_url_and_not_name_value_are_one_line() -> None:
    ftp, nothing, pair = cli_all(
        None,
        ["inspect", "ftp://127.0.0.1/description.xml"],
        ["inspect", "description.xml"],
        # Checked before anything is sent.
        ["call", "http://127.0.0.1:9/description.xml", "SwitchPower", "SetTarget", "=1"],
    )
    assert one_error_line(ftp) == (
        "upnp-announce: 'ftp://127.0.0.1/description.xml' is not an http:// URL"
    )
    assert one_error_line(nothing) == "upnp-announce: 'description.xml' is not an http:// URL"
    assert one_error_line(pair) == "upnp-announce: '=1' is not NAME=VALUE"


@pytest.mark.slow
def test_a_unicast_search_nobody_answers() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))  # held, so nothing else answers there
        port = s.getsockname()[1]
        result = cli(None, "discover", "--unicast", f"127.0.0.1:{port}", "--timeout", "1")
    assert ok(result) == "No device answered a search for ssdp:all within 1 s.\n"
    assert result.stderr == ""


@pytest.mark.slow
@pytest.mark.parametrize("argv, complaint", [
    ([], "the following arguments are required: COMMAND"),
    (["inspect", "--bogus", "http://127.0.0.1:9/"], "unrecognized arguments: --bogus"),
    (["frobnicate"], "argument COMMAND: invalid choice: 'frobnicate'"),
    (["call", "http://127.0.0.1:9/"], "the following arguments are required: SERVICE, ACTION"),
    (["discover", "--timeout", "soon"],
     "argument --timeout: 'soon' is not a number of seconds (0 to 3600)"),
])
def test_usage_errors_exit_2(argv: list[str], complaint: str) -> None:
    result = cli(None, *argv)
    assert result.returncode == 2, result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr
    # argparse's usage synopsis, then the one line that says what is wrong.
    *usage, last = result.stderr.splitlines()
    assert usage and usage[0].startswith("usage: upnp-announce"), result.stderr
    assert re.match(r"upnp-announce( \w+)?: error: ", last), result.stderr
    assert complaint in last, result.stderr


@pytest.mark.slow
def test_check_lists_every_problem_one_line_each(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.ini"
    bad.write_text(
        "[device]\n"
        "deviceType = urn:schemas-upnp-org:device:Basic:1\n"
        "friendlyName = x\n"
        "modelNmae = y\n"
        "[bogus]\n"
    )
    result = cli(None, "check", str(bad))
    assert result.returncode == 1 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert "Traceback" not in result.stderr
    assert lines[:3] == [
        f"{bad}:1: [device] manufacturer: is required",
        f"{bad}:1: [device] modelName: is required",
        f"{bad}:4: [device] modelNmae: unknown key; did you mean 'modelName'?",
    ], lines
    assert len(lines) == 4 and lines[3].startswith(f"{bad}:5: [bogus]"), lines
    missing = cli(None, "check", str(tmp_path / "none.ini"))
    assert missing.returncode == 1
    assert missing.stderr == f"{tmp_path / 'none.ini'}: cannot read it: No such file or directory\n"


@pytest.mark.slow
@pytest.mark.parametrize("timeout", ["-1", "0"])
def test_a_timeout_that_is_not_positive_is_a_usage_error(timeout: str) -> None:
    url = f"http://127.0.0.1:{free_tcp_port()}/description.xml"
    result = cli(None, "inspect", url, "--timeout", timeout)
    assert result.returncode == 2, result.stderr
    assert "upnp-announce inspect: error: argument --timeout" in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("port", ["abc", "99999"])
def test_a_unicast_port_that_is_no_port_is_a_usage_error(port: str) -> None:
    result = cli(None, "discover", "--unicast", f"127.0.0.1:{port}", "--timeout", "1")
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "upnp-announce discover: error: argument --unicast" in result.stderr
