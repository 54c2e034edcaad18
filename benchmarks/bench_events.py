"""
M4, event fan-out: the time from one change to its NOTIFY at every one of
K subscribers (default 200), for

- ours: our device (examples/light.ini) on 127.0.0.1; its GENA eventing
  (body serialised once per change, SEQ per subscriber, one NOTIFY in
  flight per subscriber, persistent connections). Its subscription limits
  are raised in [eventing] for this (1000; the defaults allow 100 per
  service and 10 per source address, and every subscriber here is on
  127.0.0.1);
- aio: async-upnp-client 0.49.0's SwitchPower (tests/peers/aio_device.py)
  in a network namespace of its own, with the subscribers in the same
  namespace.

(No bare Twisted column: issue 12 sets no goal against one.) K callback
servers in one client process (benchmarks/eventsink.py), each on its own
127.0.0.1 port with its own SUBSCRIBE; after the initial events, rounds of
one SOAP SetTarget that toggles the light (so Status changes) and a wait
until all K have their NOTIFY. A round's time is from sending the SOAP
call to the last NOTIFY; a run is at most --max-rounds rounds or
--duration seconds, and its figure the median round. A fresh device
process serves each run (no subscriptions left over); runs alternate ours
and aio; the median of --runs is printed, with the rate of NOTIFYs and the
device's CPU microseconds per NOTIFY. Every NOTIFY must arrive and be
what it should be (the subscriber's SID, SEQ in order, the Status just
set): a round that times out, a subscriber without its NOTIFY or with one
too many, or a NOTIFY that is wrong, is counted and fails the goal.

    python benchmarks/bench_events.py [--subscribers 200] [--skip-aio]
"""

from __future__ import annotations

import statistics
import sys

import common
from common import Goal, Measured, Row, log, summarise


def sink(options, port: int, event: str, control: str, pid: int, k: int,
         ns: common.Namespace | None = None) -> dict:
    argv = [common.PYTHON, str(common.EVENTSINK), "--port", str(port),
            "--event-path", event, "--control-path", control, "--subscribers", str(k),
            "--max-rounds", str(options.max_rounds), "--duration", str(options.duration),
            "--runs", "1", "--warmup-rounds", str(options.warmup_rounds),
            "--device-pid", str(pid)]
    argv = common.pinned(argv, common.CLIENT_CORE)
    result = common.run_client(ns.command(argv) if ns else argv, timeout=120)
    run = common.one_run(result)
    run["lost"] = result["timeouts"]
    # A NOTIFY not what it should be in the warm-up rounds counts too.
    run["errors"] = run.get("errors", 0) + result["invalid"] - sum(
        r.get("invalid", 0) for r in result["runs"])
    if result["problems"]:
        log(f"NOTIFYs not as they should be: {result['problems']}")
    return run


def ours(options, k: int) -> dict:
    with common.our_device(events=True) as (server, info):
        return sink(options, info["http_port"], info["event"], info["control"], server.pid, k)


def aio(options, k: int) -> dict:
    with common.aio_device() as (server, ns):
        return sink(options, 8000, common.AIO_EVENT, common.AIO_CONTROL, server.pid, k, ns=ns)


def fanout(result: dict) -> Measured:
    measured = summarise(result, saturating=False)
    times = [r["fanout_ms"] for r in result["runs"] if "fanout_ms" in r]
    measured.note = (f"fan-out {statistics.median(times):.1f} ms (runs "
                     f"{[round(t, 1) for t in times]}); " if times else "") + measured.note
    return measured


def median_fanout(result: dict) -> float | None:
    times = [r["fanout_ms"] for r in result["runs"] if "fanout_ms" in r]
    return statistics.median(times) if times else None


def measure(options) -> list[Row]:
    k = options.subscribers
    why = "--skip-aio" if options.skip_aio else common.aio_unavailable()
    measures = {"ours": lambda: ours(options, k)}
    if not why:
        measures["aio"] = lambda: aio(options, k)
    log(f"{k} subscribers: ours{'' if why else ', aio'} in alternating runs")
    results = common.alternate(options.runs, measures)
    oursMeasured = fanout(results["ours"])
    aioMeasured = fanout(results["aio"]) if "aio" in results else common.skipped(
        f"skipped: {why}")
    mine, theirs = median_fanout(results["ours"]), (
        median_fanout(results["aio"]) if "aio" in results else None)
    delivered = oursMeasured.errors == 0 and oursMeasured.lost == 0
    return [Row(f"M4 events K={k}", "NOTIFY/s", oursMeasured, common.skipped("-"),
                aioMeasured, goals=[
        Goal(f"M4 fan-out of one change to {k} subscribers, time vs async-upnp-client "
             f"({mine and round(mine, 1)} ms vs {theirs and round(theirs, 1)} ms)",
             common.quotient(mine, theirs), 0.5, at_least=False,
             invalid=common.invalid(oursMeasured, aioMeasured)),
        Goal(f"M4 every NOTIFY delivered and valid ({oursMeasured.errors} missing or wrong, "
             f"{oursMeasured.lost} rounds timed out)", 1.0 if delivered else 0.0, 1.0, unit=""),
    ])]


def main(argv: list[str]) -> None:
    options = common.arguments(
        __doc__.split("\n\n")[0],
        subscribers=(int, 200, "subscribers"),
        max_rounds=(int, 20, "state changes per run at most"),
        warmup_rounds=(int, 3, "unmeasured state changes first"),
    ).parse_args(argv)
    common.finish(options, "M4: event fan-out (SetTarget -> NOTIFY to K subscribers)",
                  measure(options))


if __name__ == "__main__":
    main(sys.argv[1:])
