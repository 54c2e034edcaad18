"""
Running as a service, with a real twistd in a namespace: systemd's notify
protocol through a unix datagram socket the test owns (READY only once a
listener has heard the alive set, RELOADING/READY around SIGHUP, STOPPING
at SIGTERM), and a log a person can read.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from upnp_announce.wire import ssdp

from netns import TWISTD, Host, Network, Running
from support import PEERS, example

pytestmark = [pytest.mark.slow]


class NotifySocket:
    """
    The test's end of C{$NOTIFY_SOCKET}: each datagram with the wall-clock
    time it came.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.messages: list[tuple[float, dict[str, str]]] = []

    def wait_for(self, key: str, timeout: float = 20) -> tuple[float, dict[str, str]]:
        """
        The next message (after those already taken) that sets C{key}.
        """
        deadline = time.monotonic() + timeout
        while True:
            for n, (when, fields) in enumerate(self.messages):
                if key in fields:
                    del self.messages[: n + 1]
                    return when, fields
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {key} from the device; got {self.messages}")
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            fields = dict(line.split("=", 1) for line in data.decode().splitlines() if line)
            self.messages.append((time.time(), fields))

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def notify(tmp_path: Path) -> Iterator[NotifySocket]:
    sock = NotifySocket(tmp_path / "notify")
    yield sock
    sock.close()


def listen(host: Host, address: str) -> Running:
    listener = host.start([sys.executable, os.path.join(PEERS, "ssdp_listen.py"), address, "40"])
    listener.wait_for("READY")
    return listener


def heard(listener: Running, nts: str) -> list[float]:
    """
    The kernel's wall-clock receive times of the NOTIFYs C{nts} heard.
    """
    times = []
    for line in list(listener.lines):
        if line.startswith("{"):
            record = json.loads(line)
            message = ssdp.parse(record["data"].encode())
            if isinstance(message, ssdp.Notify) and message.nts == nts:
                times.append(record["k"])
    return times


def test_systemd_hears_ready_after_the_alive_set_then_reloading_and_stopping(
    lan: tuple[Network, Host, Host], notify: NotifySocket, tmp_path: Path,
) -> None:
    net, dev, cp = lan
    link = net.links[0]
    config = tmp_path / "light.ini"
    config.write_text(Path(example("light.ini")).read_text())
    listener = listen(cp, link.b_address)
    device = dev.start(
        [*TWISTD, "-n", "--pidfile=", "--logfile=-", "upnp", "--config", str(config),
         "--interface", link.a_interface],
        env={**os.environ, "NOTIFY_SOCKET": str(notify.path)},
    )
    when, ready = notify.wait_for("READY")
    assert ready["READY"] == "1"
    assert ready["STATUS"] == f"1 device on {link.a_interface}"
    # READY came after the alive set was on the wire (the kernel's clock at
    # the listener, the test's at the socket: one machine, one clock).
    # (The listener prints what it hears as it can: wait for the whole
    # first set, not just its first line.)
    deadline = time.monotonic() + 5
    while len(heard(listener, "ssdp:alive")) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    alive = heard(listener, "ssdp:alive")
    # The whole first set (root, UUID, device type, service type) was out.
    assert len([t for t in alive if t <= when]) >= 4, (alive, when)
    # SIGHUP: RELOADING (with the monotonic clock systemd asks for), then
    # READY with what the reload did.
    config.write_text(config.read_text().replace("Kitchen light", "Hall light"))
    os.kill(device.process.pid, signal.SIGHUP)
    _, reloading = notify.wait_for("RELOADING")
    assert reloading["RELOADING"] == "1" and int(reloading["MONOTONIC_USEC"]) > 0
    _, again = notify.wait_for("READY")
    assert again["STATUS"] == (
        f"1 device on {link.a_interface}; reloaded: 0 added, 0 removed, 1 changed, "
        "0 unchanged, 0 not loaded"
    )
    # SIGTERM: STOPPING, before the byebye set.
    os.kill(device.process.pid, signal.SIGTERM)
    stopping_at, stopping = notify.wait_for("STOPPING")
    assert stopping["STOPPING"] == "1"
    # twistd ends by the signal it was sent, once it has cleaned up.
    assert device.process.wait(timeout=15) == -signal.SIGTERM
    deadline = time.monotonic() + 5
    while len(heard(listener, "ssdp:byebye")) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    byebye = heard(listener, "ssdp:byebye")
    assert len(byebye) >= 4 and min(byebye) >= stopping_at - 0.5


# Our namespaces, and the few of Twisted's own a twistd run shows.
NAMESPACES = re.compile(
    r"\[(upnp_announce\.(device|network|ssdp|http|control|eventing|page|reload|provider|systemd)"
    r"#(info|warn)|twisted\.scripts\._twistd_unix\.UnixAppLogger#info|twisted\.internet\.base#info|-)\]"
)


def test_start_up_and_requests_make_readable_lines(lan: tuple[Network, Host, Host]) -> None:
    net, dev, cp = lan
    link = net.links[0]
    device = dev.start([*TWISTD, "-n", "--pidfile=", "--logfile=-", "upnp", "--config",
                        example("light.ini"), "--interface", link.a_interface])
    line = device.wait_for(f"on {link.a_interface} at http://")
    location = re.search(r"(http://\S+)", line).group(1)  # type: ignore[union-attr]
    base = location.rsplit("/", 1)[0]
    http_get = os.path.join(PEERS, "http_get.py")
    assert json.loads(cp.run([sys.executable, http_get, location]).stdout)["status"] == 200
    # Refused: a name in Host (DNS rebinding), twice: one line.
    for _ in range(2):
        refused = cp.run([sys.executable, http_get, location, "Host: nas.example"])
        assert json.loads(refused.stdout)["status"] == 403
    # A subscriber comes and goes.
    cli = [sys.executable, "-m", "upnp_announce.cli"]
    subscriber = cp.start([*cli, "subscribe", location, "SwitchPower", "--count", "1"])
    subscriber.wait_for("SEQ 0")
    assert subscriber.process.wait(timeout=15) == 0
    device.wait_for("unsubscribed")
    os.kill(device.process.pid, signal.SIGTERM)
    # twistd ends by the signal it was sent, once it has cleaned up.
    assert device.process.wait(timeout=15) == -signal.SIGTERM
    lines = device.lines
    text = "\n".join(lines)
    assert " object at 0x" not in text and "<" not in text, text
    for line in lines:
        assert NAMESPACES.search(line), line
    assert any(f"Serving Kitchen light on {link.a_interface} at {location}" in x for x in lines)
    assert [x for x in lines if "Refused" in x] == [
        next(x for x in lines if "Refused" in x)
    ]
    assert "Refused a request from 10.231.1.2 for Host nas.example: not one of our addresses" in text
    assert re.search(r"New subscriber uuid:\S+ to urn:upnp-org:serviceId:SwitchPower from "
                     r"10\.231\.1\.2 for \d+ s", text), text
    assert re.search(r"Subscriber uuid:\S+ unsubscribed", text), text
    assert base in text
