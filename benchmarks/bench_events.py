"""
Event fan-out: NOTIFYs delivered per second, end to end, to K subscribers
(default 50 and 200) in one client process (benchmarks/eventsink.py), each
with a callback server on its own 127.0.0.1 port and its own SUBSCRIBE.
Each round is one SOAP SetTarget that toggles the light (so Status
changes), then a wait until all K subscribers have their NOTIFY; a run
is at most --max-rounds rounds or --duration seconds. Compared:

- ours: our device (examples/light.ini) on 127.0.0.1; its GENA eventing
  (coalescing, SEQ, one NOTIFY in flight per subscriber, twisted.web
  Agent with a persistent pool). Its per-source subscription limits are
  raised for this (1000; the defaults allow 10 per source address);
- bare Twisted: benchmarks/servers.py bare-gena, which records the
  CALLBACKs of SUBSCRIBEs and, on each POST, sends the same number of
  NOTIFYs with twisted.web.client.Agent (persistent pool, 2 connections
  per host, as ours) and no other logic;
- aio: async-upnp-client 0.49.0's SwitchPower (tests/peers/aio_device.py)
  in a network namespace of its own, with the subscribers in the same
  namespace.

A fresh device process serves each K. The median of --runs runs is
printed, with the device's CPU microseconds per NOTIFY. The rounds are in
lockstep, so each round also costs one SOAP call and the wait for the
last NOTIFY; with K >= 50 the device is busy nearly all the time anyway
(the printed server CPU share says how busy).

    python benchmarks/bench_events.py [--subscribers 50,200] [--skip-aio]
"""

from __future__ import annotations

import json
import sys

import common
from common import Row, log, summarise


def sink(options, port: int, event: str, control: str, pid: int, k: int,
         ns: common.Namespace | None = None) -> common.Measured:
    argv = [common.PYTHON, str(common.EVENTSINK), "--port", str(port),
            "--event-path", event, "--control-path", control, "--subscribers", str(k),
            "--max-rounds", str(options.max_rounds), "--duration", str(options.duration),
            "--runs", str(options.runs), "--warmup-rounds", str(options.warmup_rounds),
            "--device-pid", str(pid)]
    result = common.run_client(ns.command(argv) if ns else argv, timeout=120)
    measured = summarise(result, saturating=False)
    if result["timeouts"]:
        measured.note += f"; {result['timeouts']} rounds timed out"
    return measured


def measure(options) -> list[Row]:
    rows = []
    subscribers = [int(k) for k in options.subscribers.split(",")]
    answer = None
    for k in subscribers:
        with common.our_device(events=True) as (server, info):
            port = info["http_port"]
            if answer is None:
                status, answer = common.fetch(
                    port, "POST", info["control"],
                    [f"Host: 127.0.0.1:{port}", *common.soap_headers("SetTarget")],
                    common.soap_envelope("SetTarget", [("newTargetValue", "0")]))
                assert status == 200, (status, answer)
            log(f"ours: {k} subscribers")
            ours = sink(options, port, info["event"], info["control"], server.pid, k)
        with common.bytes_file(answer) as postFile:
            argv = [common.PYTHON, str(common.SERVERS), "bare-gena",
                    "--seconds", str(common.SERVER_LIFETIME), "--post-file", postFile]
            with common.started("bare-gena", argv) as server:
                port = json.loads(server.ready())["http_port"]
                log(f"bare Twisted: {k} subscribers")
                bare = sink(options, port, info["event"], info["control"], server.pid, k)
        why = "--skip-aio" if options.skip_aio else common.aio_unavailable()
        if why:
            aio = common.skipped(f"skipped: {why}")
        else:
            with common.aio_device() as (server, ns):
                log(f"aio: {k} subscribers (in namespace {ns.name})")
                aio = sink(options, 8000, common.AIO_EVENT, common.AIO_CONTROL, server.pid, k,
                           ns=ns)
        rows.append(Row(f"events K={k}", "NOTIFY/s", ours, bare, aio))
    return rows


def main(argv: list[str]) -> None:
    options = common.arguments(
        __doc__.split("\n\n")[0],
        subscribers=(str, "50,200", "subscriber counts, comma-separated"),
        max_rounds=(int, 200, "state changes per run at most"),
        warmup_rounds=(int, 3, "unmeasured state changes first"),
    ).parse_args(argv)
    common.finish(options, "Event fan-out (SetTarget -> NOTIFY to K subscribers)",
                  measure(options))


if __name__ == "__main__":
    main(sys.argv[1:])
