"""
Running the upnp-announce command in tests: here or in a namespace, several
at once, and checking that it succeeded or failed with exactly one line.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from netns import Host

CLI = [sys.executable, "-m", "upnp_announce.cli"]


BINARY_LIGHT = "urn:schemas-upnp-org:device:BinaryLight:1"


SWITCH_POWER = "urn:schemas-upnp-org:service:SwitchPower:1"


AIO_SWITCH_ID = "urn:upnp-org:serviceId:SwitchPower.0001"


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


def eventually(condition: object, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return bool(condition())  # type: ignore[operator]


def set_light(host: Host, location: str, service: str, on: bool) -> None:
    assert ok(cli(host, "call", location, service, "SetTarget",
                  f"newTargetValue={int(on)}")) == ""
