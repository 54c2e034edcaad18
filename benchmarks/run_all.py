"""
Run every benchmark and print one summary: issue 12's measures (M1-M5)
side by side for our device, bare Twisted doing the same I/O and
async-upnp-client 0.49.0's device, with the ratios, and issue 11's figures
for 100 root devices; then every goal, met or not.

    python benchmarks/run_all.py [--quick] [--skip-aio] [--duration 1.5] [--runs 3]

Each benchmark runs as its own process (bench_msearch.py: M1;
bench_description.py: M2; bench_soap.py: M3; bench_events.py: M4;
bench_memory.py and bench_devices.py: M5 and issue 11), starts and stops
its own servers by PID, and has a time limit here; one that fails is
reported and the others still run. The servers run pinned to core 1, the
load generators (wrk, benchmarks/loadgen.py, benchmarks/eventsink.py) to
core 0; rounds alternate between the implementations and the median is
printed. Needs root and iproute2 for the async-upnp-client device (it runs
in a network namespace of its own) and for bench_devices.py (two
namespaces joined by a veth pair); without them those are skipped with
the reason. Nothing leaves the machine: everything else is on 127.0.0.1
(searches come from 127.x.y.z addresses of the loopback interface). About
two and a half minutes on two cores; --quick (one round, one second each)
about one.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import common
from common import Row, row_from_json

SCRIPTS = ("bench_msearch.py", "bench_description.py", "bench_soap.py", "bench_events.py",
           "bench_memory.py", "bench_devices.py")
# Each script's limit: together well under ten minutes, whatever happens.
LIMIT = 150.0
# Scripts that take the common load options (bench_devices.py does not).
LOADED = SCRIPTS[:5]


def machine() -> str:
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next((line.split(":", 1)[1].strip() for line in f
                          if line.startswith("model name")), "")
    except OSError:
        pass
    return (f"{os.cpu_count()} CPUs ({model or platform.machine()}), Linux "
            f"{platform.release()}, Python {sys.version.split()[0]}")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-aio", action="store_true")
    parser.add_argument("--quick", action="store_true",
                        help="one round of one second each (a rough look)")
    parser.add_argument("--duration", type=float, default=common.RUN_SECONDS)
    parser.add_argument("--runs", type=int, default=common.RUNS)
    options = parser.parse_args(argv)
    if options.quick:
        options.runs, options.duration = 1, 1.0
    started = time.monotonic()
    rows: list[Row] = []
    failed: list[str] = []
    for script in SCRIPTS:
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
            out = f.name
        command = [common.PYTHON, str(common.BENCH / script), "--json", out]
        if script in LOADED:
            command += ["--duration", str(options.duration), "--runs", str(options.runs)]
            if options.skip_aio:
                command.append("--skip-aio")
        common.log(f"running {script}")
        try:
            done = subprocess.run(command, cwd=common.ROOT, timeout=LIMIT)
            if done.returncode == 0:
                with open(out) as f:
                    rows.extend(row_from_json(row) for row in json.load(f))
            else:
                failed.append(f"{script}: exit {done.returncode}")
        except subprocess.TimeoutExpired:
            # subprocess.run has killed it (by PID); its servers end by
            # their own lifetime bound, its namespaces stay until removed.
            failed.append(f"{script}: over {LIMIT:.0f} s")
        finally:
            os.unlink(out)
    print("\n" + "=" * 30 + " SUMMARY " + "=" * 30)
    common.print_table(f"All benchmarks (median of {options.runs} alternating rounds)", rows)
    goals = [g for row in rows for g in row.goals]
    met = sum(g.met for g in goals)
    print(f"\n{met} of {len(goals)} goals met" + (
        "" if met == len(goals) else ": NOT MET " + "; ".join(g.name for g in goals
                                                            if not g.met)))
    for failure in failed:
        print(f"FAILED {failure}")
    print(f"\nTotal {time.monotonic() - started:.0f} s on {machine()}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main(sys.argv[1:])
