"""
Run every benchmark and print one summary table: requests (or replies,
or NOTIFYs) per second for our device, bare Twisted doing the same I/O,
and async-upnp-client 0.49.0's device, with the ratios ours/bare and
ours/aio.

    python benchmarks/run_all.py [--skip-aio] [--duration 1.5] [--runs 3]

Each benchmark runs as its own process (bench_description.py,
bench_soap.py, bench_msearch.py, bench_events.py), starts and stops its
own servers by PID, and has a time limit here; one that fails is reported
and the others still run. Needs root and iproute2 for the
async-upnp-client device (it runs in a network namespace of its own);
without them its column is skipped with the reason. Takes about 90 s on
two cores.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import common
from common import Measured, Row

SCRIPTS = ("bench_description.py", "bench_soap.py", "bench_msearch.py", "bench_events.py")
# Each script's limit; together well under three minutes.
LIMIT = 75.0


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-aio", action="store_true")
    parser.add_argument("--duration", type=float, default=common.RUN_SECONDS)
    parser.add_argument("--runs", type=int, default=common.RUNS)
    options = parser.parse_args(argv)
    started = time.monotonic()
    rows: list[Row] = []
    failed: list[str] = []
    for script in SCRIPTS:
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
            out = f.name
        command = [common.PYTHON, str(common.BENCH / script), "--json", out,
                   "--duration", str(options.duration), "--runs", str(options.runs)]
        if options.skip_aio:
            command.append("--skip-aio")
        common.log(f"running {script}")
        try:
            done = subprocess.run(command, cwd=common.ROOT, timeout=LIMIT)
            if done.returncode == 0:
                with open(out) as f:
                    for row in json.load(f):
                        rows.append(Row(row["measurement"], row["unit"],
                                        *(Measured(**row[who]) for who in ("ours", "bare", "aio"))))
            else:
                failed.append(f"{script}: exit {done.returncode}")
        except subprocess.TimeoutExpired:
            # subprocess.run has killed it (by PID); its servers end by
            # their own lifetime bound.
            failed.append(f"{script}: over {LIMIT:.0f} s")
        finally:
            os.unlink(out)
    print("\n" + "=" * 30 + " SUMMARY " + "=" * 30)
    common.print_table("All benchmarks (median of %d runs each)" % options.runs, rows)
    for failure in failed:
        print(f"FAILED {failure}")
    print(f"\nTotal {time.monotonic() - started:.0f} s; python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main(sys.argv[1:])
