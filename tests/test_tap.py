"""
The twistd plugin: its options, its assembly, and real twistd processes.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from support import ROOT, example
from upnp_announce import tap
from upnp_announce.device.runner import UPnPService

TWISTD = [sys.executable, "-c", "from twisted.scripts.twistd import run; run()"]


def options(*argv: str) -> tap.Options:
    o = tap.Options()
    o.parseOptions(list(argv))
    return o


def exit_message(*argv: str) -> str:
    with pytest.raises(SystemExit) as e:
        options(*argv)
    assert isinstance(e.value.code, str)
    return e.value.code


def test_config_is_required() -> None:
    assert exit_message() == (
        "twistd upnp: --config is required: the INI file that describes the device"
    )


def test_unknown_option_is_one_line() -> None:
    message = exit_message("--config", example("jambon.ini"), "--bogus")
    assert message.startswith("twistd upnp: ") and "bogus" in message
    assert "\n" not in message


@pytest.mark.parametrize("port", ["-1", "65536", "http", ""])
def test_bad_http_port(port: str) -> None:
    message = exit_message("--config", example("jambon.ini"), "--http-port", port)
    assert "is not a port number (0 to 65535)" in message


def test_config_errors_are_one_line_each(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.ini"
    bad.write_text("[device]\nfriendlyName = x\nmodelNmae = y\n")
    message = exit_message("--config", str(bad))
    lines = message.splitlines()
    assert lines[0].startswith("twistd upnp: ")
    assert any("modelNmae: unknown key; did you mean 'modelName'?" in line for line in lines)
    assert all(line.startswith(f"twistd upnp: {bad}:") for line in lines)


def test_unknown_interface() -> None:
    message = exit_message("--config", example("jambon.ini"), "--interface", "nosuch0")
    assert message.startswith("twistd upnp: there is no interface 'nosuch0'")


def test_options_and_make_service() -> None:
    o = options("--config", example("jambon.ini"), "-i", "lo", "--interface", "lo",
                "--http-port", "8123")
    assert o["interfaces"] == ["lo", "lo"]
    assert o["http-port"] == 8123
    service = tap.makeService(o)
    assert isinstance(service, UPnPService)
    assert service.network.interfaces == ("lo",)
    assert service.network.httpPort == 8123
    assert service.device.friendlyName == "Jambon 3000"


def test_make_service_keeps_the_configured_network_without_overrides() -> None:
    o = options("--config", example("jambon.ini"), "-i", "lo")
    service = tap.makeUPnPService(o["loaded"])
    assert service.network == o["loaded"].network


def test_the_plugin_is_found() -> None:
    from twisted.application.service import IServiceMaker
    from twisted.plugin import getPlugins

    makers = {p.tapname: p for p in getPlugins(IServiceMaker)}
    assert makers["upnp"].module == "upnp_announce.tap"


# -- real twistd processes -------------------------------------------------------


def run_twistd(*argv: str, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TWISTD, "-n", "--pidfile=", "upnp", *argv],
        capture_output=True, text=True, timeout=timeout, cwd=ROOT,
    )


@pytest.mark.slow
def test_twistd_usage_error_is_one_line_and_non_zero() -> None:
    result = run_twistd()
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "twistd upnp: --config is required: the INI file that describes the device"
    ]


@pytest.mark.slow
def test_twistd_config_error_is_one_line_without_traceback(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.ini"
    bad.write_text("[device]\ndeviceType = urn:schemas-upnp-org:device:Basic:1\n")
    result = run_twistd("--config", str(bad), "--interface", "lo")
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr
    assert len(lines) == 3  # friendlyName, manufacturer, modelName missing
    assert all(line.startswith(f"twistd upnp: {bad}:1: [device] ") for line in lines)


@pytest.mark.slow
def test_twistd_port_in_use_is_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_twistd("--config", example("jambon.ini"), "-i", "lo", "-p", str(port))
    assert result.returncode != 0
    # Under -n, twistd logs what the process writes to stderr.
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    [line] = [line for line in output.splitlines() if "twistd upnp: " in line]
    assert f"twistd upnp: cannot listen for HTTP on port {port}: " in line


@pytest.mark.slow
def test_twistd_serves_the_example_and_stops_on_sigterm() -> None:
    process = subprocess.Popen(
        [*TWISTD, "-n", "--pidfile=", "--logfile=-", "upnp",
         "--config", example("jambon.ini"), "--interface", "lo"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
    )
    try:
        location = None
        deadline = time.monotonic() + 20
        assert process.stdout is not None
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            found = re.search(r"at (http://127\.0\.0\.1:\d+/description\.xml)", line)
            if found:
                location = found.group(1)
                break
        assert location is not None, "twistd did not say where it serves"
        proxyless = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with proxyless.open(location, timeout=10) as response:
            body = response.read()
        assert b"<friendlyName>Jambon 3000</friendlyName>" in body
        assert b"<UDN>uuid:e427ce1a-3e80-43d0-ad6f-89ec42e46363</UDN>" in body
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
    # twistd ends by re-raising the signal that stopped it.
    assert process.returncode == -signal.SIGTERM
    assert "Server Shut Down." in output
    assert "Traceback" not in output
