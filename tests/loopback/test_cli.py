"""
The upnp-announce command's error paths on this machine: closed ports,
silent servers, bad URLs and arguments, usage errors, each one line.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from clitools import (
    cli,
    cli_all,
    ok,
    one_error_line,
)


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
