"""
Many root devices in one real twistd process, in namespaces the tests
build: two --config files; a --config-dir; SIGHUP adding, removing,
changing and keeping devices, and a broken file; 100 devices (announcements
paced, as a listener measures; ssdp:all answered in full; the memory they
take); and the search budget under a flood.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from upnp_announce.wire import ssdp

from netns import TWISTD, Host, Network, Running, network
from support import PEERS

pytestmark = [pytest.mark.slow]


def light_ini(friendly: str, serial: str, udn: str | None = None) -> str:
    text = f"[device]\nprovider = binarylight\nfriendlyName = {friendly}\nserialNumber = {serial}\n"
    return text + (f"udn = {udn}\n" if udn else "")


def udn(n: int) -> str:
    return f"uuid:00000000-0000-4000-8000-{n:012d}"


def start(host: Host, interface: str, *options: str) -> Running:
    device = host.start([*TWISTD, "-n", "--pidfile=", "--logfile=-", "upnp", *options,
                         "--interface", interface, "--http-port", "49160"])
    device.wait_for(f"on {interface} at http://", timeout=30)
    return device


def listen(host: Host, address: str, duration: float = 30) -> Running:
    listener = host.start([sys.executable, os.path.join(PEERS, "ssdp_listen.py"), address,
                           str(duration)])
    listener.wait_for("READY")
    return listener


def notifies(listener: Running, clock: str = "t") -> list[tuple[float, ssdp.Notify]]:
    """
    The NOTIFYs heard, with the listener's monotonic time (C{"t"}) or the
    kernel's receive time (C{"k"}).
    """
    found = []
    for line in list(listener.lines):
        if line.startswith("{"):
            record = json.loads(line)
            message = ssdp.parse(record["data"].encode())
            if isinstance(message, ssdp.Notify):
                found.append((record[clock], message))
    return found


def search(host: Host, address: str, st: str = "ssdp:all", mx: str = "1",
           wait: float = 2.0) -> list[tuple[float, ssdp.SearchResponse]]:
    result = host.run([sys.executable, os.path.join(PEERS, "ssdp_search.py"), address, st,
                       str(wait), mx], timeout=wait + 30)
    assert result.returncode == 0, result.stdout + result.stderr
    return [(json.loads(line)["t"], ssdp.parse(json.loads(line)["data"].encode()))  # type: ignore[misc]
            for line in result.stdout.splitlines() if line.startswith("{")]


@pytest.fixture
def lan() -> Iterator[tuple[Network, Host, Host]]:
    with network() as net:
        dev, cp = net.host("dev"), net.host("cp")
        link = net.link(dev, "10.234.1.1", cp, "10.234.1.2")
        net.route_multicast(cp, link.b_interface)
        yield net, dev, cp


def test_two_configs_and_a_config_dir_serve_each_device_under_its_own_path(
    lan: tuple[Network, Host, Host], tmp_path: Path,
) -> None:
    net, dev, cp = lan
    link = net.links[0]
    (tmp_path / "a.ini").write_text(light_ini("Light A", "A", udn(1)))
    (tmp_path / "b.ini").write_text(light_ini("Light B", "B", udn(2)))
    folder = tmp_path / "more"
    folder.mkdir()
    (folder / "c.ini").write_text(light_ini("Light C", "C", udn(3)))
    (folder / "d.ini").write_text(light_ini("Light D", "D", udn(4)))
    device = start(dev, link.a_interface, "--config", str(tmp_path / "a.ini"),
                   "--config", str(tmp_path / "b.ini"), "--config-dir", str(folder))
    replies = [r for _, r in search(cp, "10.234.1.2", "upnp:rootdevice")]
    assert sorted(r.location for r in replies) == [
        f"http://10.234.1.1:49160/{udn(n)[5:]}/description.xml" for n in (1, 2, 3, 4)
    ]
    device.stop()
    assert "Traceback" not in "\n".join(device.lines)


def test_sighup_adds_removes_changes_keeps_and_survives_a_broken_file(
    lan: tuple[Network, Host, Host], tmp_path: Path,
) -> None:
    net, dev, cp = lan
    link = net.links[0]
    for n, name in ((1, "keep"), (2, "gone"), (3, "change"), (4, "broken")):
        (tmp_path / f"{name}.ini").write_text(light_ini(f"Light {name}", name, udn(n)))
    device = start(dev, link.a_interface, "--config-dir", str(tmp_path))
    time.sleep(1)
    configs = {r.usn.split("::")[0]: r.header("configid.upnp.org")
               for _, r in search(cp, "10.234.1.2", "upnp:rootdevice")}
    assert set(configs) == {udn(n) for n in (1, 2, 3, 4)}
    listener = listen(cp, "10.234.1.2")
    (tmp_path / "gone.ini").unlink()
    (tmp_path / "change.ini").write_text(light_ini("Light changed", "change", udn(3)))
    (tmp_path / "broken.ini").write_text("[device]\nprovider = binarylight\nfriendlyName =\n")
    (tmp_path / "new.ini").write_text(light_ini("Light new", "new", udn(5)))
    device.process.send_signal(signal.SIGHUP)
    device.wait_for("Reloaded: 1 added, 1 removed, 1 changed", timeout=10)
    assert any("broken.ini:3: [device] friendlyName: is empty" in line for line in device.lines)
    assert any("broken.ini keeps running as it was" in line for line in device.lines)
    time.sleep(1)
    heard = [m for _, m in notifies(listener)]
    by_device: dict[str, set[str]] = {}
    for m in heard:
        by_device.setdefault(m.usn.split("::")[0], set()).add(m.nts)
    assert by_device == {udn(2): {"ssdp:byebye"}, udn(3): {"ssdp:alive"},
                         udn(5): {"ssdp:alive"}}
    after = {r.usn.split("::")[0]: r.header("configid.upnp.org")
             for _, r in search(cp, "10.234.1.2", "upnp:rootdevice")}
    assert set(after) == {udn(n) for n in (1, 3, 4, 5)}
    assert after[udn(1)] == configs[udn(1)] and after[udn(4)] == configs[udn(4)]
    assert after[udn(3)] != configs[udn(3)]
    changed = [m for m in heard if m.usn.startswith(udn(3))]
    assert {m.header("configid.upnp.org") for m in changed} == {after[udn(3)]}
    device.stop()
    assert "Traceback" not in "\n".join(device.lines)


def test_a_hundred_devices_paced_answered_in_full_and_small(
    lan: tuple[Network, Host, Host], tmp_path: Path,
) -> None:
    net, dev, cp = lan
    link = net.links[0]
    for n in range(100):
        (tmp_path / f"light{n:03d}.ini").write_text(light_ini(f"Light {n}", f"L{n}", udn(n)))
    listener = listen(cp, "10.234.1.2", duration=40)
    began = time.monotonic()
    device = start(dev, link.a_interface, "--config-dir", str(tmp_path))
    expected = 100 * 4 * 2  # 4 announcements a BinaryLight, the set twice
    deadline = time.monotonic() + 20
    while len(notifies(listener)) < expected and time.monotonic() < deadline:
        time.sleep(0.2)
    arrivals = sorted(t for t, m in notifies(listener) if m.nts == "ssdp:alive")
    assert len(arrivals) == expected
    assert arrivals[-1] - began < 10 + 5  # (process start-up included)
    # Never more than 20 datagrams in any 10 ms, by the kernel's clock.
    times = sorted(t for t, m in notifies(listener, "k") if m.nts == "ssdp:alive")
    assert times[-1] - times[0] < 10
    worst = max(sum(1 for u in times[i:i + 40] if u < t + 0.010) for i, t in enumerate(times))
    assert worst <= 20, worst
    # One ssdp:all (MX 3) from a quiet source: in full within MX + 1 s, spread.
    time.sleep(1)
    replies = search(cp, "10.234.1.2", "ssdp:all", mx="3", wait=4.5)
    assert len({r.usn for _, r in replies}) == 400
    arrival = [t for t, _ in replies]
    assert max(arrival) < 4.0 and max(arrival) - min(arrival) > 2.0
    # The memory of 100 BinaryLights, idle (ip netns exec execs the program:
    # the process is twistd itself).
    status = Path(f"/proc/{device.process.pid}/status").read_text()
    [rss] = [int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")]
    assert rss < 100 * 1024, f"{rss} kB"
    device.stop()


def test_a_flood_from_one_source_is_held_to_its_budget(
    lan: tuple[Network, Host, Host], tmp_path: Path,
) -> None:
    net, dev, cp = lan
    link = net.links[0]
    for n in range(20):
        (tmp_path / f"light{n:03d}.ini").write_text(light_ini(f"Light {n}", f"L{n}", udn(n)))
    device = start(dev, link.a_interface, "--config-dir", str(tmp_path))
    time.sleep(1.5)
    result = cp.run([sys.executable, os.path.join(PEERS, "ssdp_flood.py"), "10.234.1.2",
                     "ssdp:all", "1000", "5", "0", "1.5"], timeout=60)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    replies = report["replies"]
    assert sum(size for _, size in replies) < report["sent_bytes"]
    times = sorted(t for t, _ in replies)
    whole = 20 * 4
    assert len(times) >= whole  # the first search got a whole answer
    later = [t for t in times if t >= times[0] + 1.0]
    worst = max((sum(1 for u in later[i:i + 80] if u < t + 1.0) for i, t in enumerate(later)),
                default=0)
    histogram = sorted(Counter(round(t, 2) for t in times).items())
    assert worst <= 50 + 2, (worst, histogram)  # (a little slack for the receiver's clock)
    device.stop()
    assert "Traceback" not in "\n".join(device.lines)
