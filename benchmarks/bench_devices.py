"""
Issue 11's figures for 100 root devices in one process (and M5's memory
bound for them), measured in two network namespaces this script builds
(a device host and a control point host joined by a veth pair of their
own, 10.235.1.1 and 10.235.1.2; nothing else), removed afterwards:

- start-up pacing: twistd upnp --config-dir with 100 BinaryLights starts
  in the device namespace while a listener on the other end of the link
  records every alive NOTIFY with the kernel's receive time; never more
  than 20 datagrams in any 10 ms, and all 800 (the alive set twice) out
  within 10 s;
- one ssdp:all (MX 3) from a quiet source: all 400 replies within
  MX + 1 s;
- the memory of the process (VmRSS), idle after those: at most 100 MB.

    python benchmarks/bench_devices.py [--devices 100]

Needs root and iproute2; without them it says why and exits 0 (run_all
reports it skipped).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import common
from common import Goal, Measured, Row, log

TESTS = common.ROOT / "tests"
sys.path.insert(0, str(TESTS))

PEERS = TESTS / "peers"
DEVICE_ADDRESS = "10.235.1.1"
CP_ADDRESS = "10.235.1.2"


def light_ini(n: int) -> str:
    return (f"[device]\nprovider = binarylight\nfriendlyName = Light {n}\n"
            f"serialNumber = L{n}\nudn = uuid:00000000-0000-4000-8000-{n:012d}\n")


def records(lines: list[str]) -> list[dict]:
    return [json.loads(line) for line in lines if line.startswith("{")]


def measure(options: argparse.Namespace) -> list[Row]:
    from upnp_announce.wire import ssdp

    from netns import TWISTD, network

    rows: list[Row] = []
    with network() as net, tempfile.TemporaryDirectory() as folder:
        dev, cp = net.host("dev"), net.host("cp")
        link = net.link(dev, DEVICE_ADDRESS, cp, CP_ADDRESS)
        net.route_multicast(cp, link.b_interface)
        for n in range(options.devices):
            (Path(folder) / f"light{n:03d}.ini").write_text(light_ini(n))
        listener = cp.start([common.PYTHON, str(PEERS / "ssdp_listen.py"), CP_ADDRESS, "40"])
        listener.wait_for("READY")
        log(f"{options.devices} devices start in namespace {dev.name}")
        device = dev.start([*TWISTD, "-n", "--pidfile=", "--logfile=-", "upnp",
                            "--config-dir", folder, "--interface", link.a_interface,
                            "--http-port", "49160"])
        device.wait_for(f"on {link.a_interface} at http://", timeout=60)
        expected = options.devices * 4 * 2
        deadline = time.monotonic() + 25

        def alive() -> list[float]:
            return sorted(
                r["k"] for r in records(listener.lines)
                if (m := ssdp.parse(r["data"].encode())) and isinstance(m, ssdp.Notify)
                and m.nts == "ssdp:alive"
            )

        while len(alive()) < expected and time.monotonic() < deadline:
            time.sleep(0.2)
        times = alive()
        spread = times[-1] - times[0] if times else None
        worst = max((sum(1 for u in times[i:i + 40] if u < t + 0.010)
                     for i, t in enumerate(times)), default=0)
        rows.append(Row(f"{options.devices} devices: alive NOTIFYs heard", "datagrams",
                        Measured(len(times), note=f"of {expected}"),
                        common.skipped("-"), common.skipped("-"), goals=[
            Goal(f"issue 11: start-up pacing, most alive datagrams in any 10 ms "
                 f"({len(times)} of {expected} heard)", worst, 20, at_least=False, unit=""),
            Goal("issue 11: the alive sets all out within (s, first to last)", spread, 10,
                 at_least=False, unit=" s"),
        ]))
        time.sleep(1.0)
        log("one ssdp:all, MX 3, from a quiet source")
        found = cp.run([common.PYTHON, str(PEERS / "ssdp_search.py"), CP_ADDRESS, "ssdp:all",
                        "4.5", "3"], timeout=40)
        replies = [r for r in records(found.stdout.splitlines())]
        usns = {ssdp.parse(r["data"].encode()).usn for r in replies}  # type: ignore[union-attr]
        last = max((r["t"] for r in replies), default=None)
        whole = options.devices * 4
        rows.append(Row("ssdp:all (MX 3) from a quiet source", "replies",
                        Measured(len(usns), note=f"last at {last and round(last, 2)} s"),
                        common.skipped("-"), common.skipped("-"), goals=[
            Goal(f"issue 11: ssdp:all (MX 3) answered in full ({len(usns)} of {whole} "
                 "distinct USNs)", len(usns), whole, unit=""),
            Goal("issue 11: ... within MX + 1 s (last reply, s)", last, 4.0, at_least=False,
                 unit=" s"),
        ]))
        time.sleep(0.5)
        rss = common.rss_mb(device.process.pid)
        rows.append(Row(f"{options.devices} BinaryLights, RSS idle", "MB",
                        Measured(rss), common.skipped("-"), common.skipped("-"), goals=[
            Goal(f"M5 / issue 11: RSS of {options.devices} root devices, idle (MB)", rss,
                 100, at_least=False, unit=" MB"),
        ]))
        device.stop()
        listener.stop()
    return rows


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=100)
    parser.add_argument("--json", help="also write the results to this file")
    options = parser.parse_args(argv)
    why = common.netns_unavailable()
    if why:
        print(f"skipped: {why}")
        if options.json:
            Path(options.json).write_text("[]")
        return
    os.chdir(common.ROOT)
    common.finish(options, f"Issue 11: {options.devices} root devices in one process",
                  measure(options))


if __name__ == "__main__":
    main(sys.argv[1:])
