"""
Real twistd processes on loopback: usage and configuration errors are one
line, a taken port is one line, and the example device serves and stops on
SIGTERM.
"""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import time
import urllib.request

import pytest

from netns import TWISTD
from support import ROOT, example


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
