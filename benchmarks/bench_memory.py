"""
M5, memory: the resident memory (VmRSS) of one device process idle after
its start, and idle again after loads (description GETs, SOAP calls,
searches for ssdp:all from many addresses, 200 subscribers and a few
events to them), for

- ours: our device (examples/light.ini), its eventing limits raised as in
  bench_events.py;
- aio: async-upnp-client 0.49.0's device, in a network namespace of its
  own, loaded from inside it.

(100 root devices in one process: bench_devices.py.)

    python benchmarks/bench_memory.py [--skip-aio]
"""

from __future__ import annotations

import sys
import time
from types import SimpleNamespace

import common
from bench_description import load
from bench_events import sink
from common import Goal, Measured, Row, log


def loads(options, server: common.Server, http: int, description: str, control: str,
          event: str, ssdp: int, ns: common.Namespace | None = None) -> None:
    short = SimpleNamespace(**{**vars(options), "duration": options.load_seconds,
                               "warmup": 0.2, "max_requests": 20000, "runs": 1,
                               "loadgen": False})
    load(short, http, description, server.pid, ns)
    load(short, http, control, server.pid, ns, method="POST",
         headers=common.soap_headers("GetStatus"), body=common.soap_envelope("GetStatus"))
    common.loadgen_ssdp(short, ssdp, server.pid, st="ssdp:all", ns=ns)
    events = SimpleNamespace(max_rounds=5, duration=options.load_seconds, warmup_rounds=1)
    sink(events, http, event, control, server.pid, 200, ns=ns)


def idle(server: common.Server, when: str) -> float | None:
    time.sleep(1.0)
    server.note_rss(when)
    return server.rss.get(when)


def measure(options) -> list[Row]:
    results: dict[str, tuple[float | None, float | None]] = {}
    with common.our_device(events=True) as (server, info):
        log("ours: RSS after start, loads, RSS again")
        start = idle(server, "start")
        loads(options, server, info["http_port"], info["description"], info["control"],
              info["event"], info["ssdp_port"])
        results["ours"] = (start, idle(server, "after"))
    why = "--skip-aio" if options.skip_aio else common.aio_unavailable()
    if not why:
        with common.aio_device() as (server, ns):
            log("aio: RSS after start, loads, RSS again")
            start = idle(server, "start")
            loads(options, server, 8000, common.AIO_DESCRIPTION, common.AIO_CONTROL,
                  common.AIO_EVENT, common.AIO_SSDP_PORT, ns)
            results["aio"] = (start, idle(server, "after"))

    def cell(who: str, i: int) -> Measured:
        if who not in results:
            return common.skipped(f"skipped: {why}")
        return Measured(results[who][i])

    ours = results["ours"]
    return [
        Row("RSS idle after start", "MB", cell("ours", 0), common.skipped("-"), cell("aio", 0),
            goals=[Goal("M5 RSS idle after start (MB)", ours[0], 60, at_least=False,
                        unit=" MB")]),
        Row("RSS idle after the loads", "MB", cell("ours", 1), common.skipped("-"),
            cell("aio", 1),
            goals=[Goal("M5 RSS idle after the loads (MB)", ours[1], 60, at_least=False,
                        unit=" MB")]),
    ]


def main(argv: list[str]) -> None:
    options = common.arguments(
        __doc__.split("\n\n")[0],
        connections=(int, 32, "keep-alive connections"),
        sources=(int, 4000, "searching addresses"),
        window=(int, 64, "searches in flight"),
        load_seconds=(float, 1.5, "seconds of each load"),
    ).parse_args(argv)
    common.finish(options, "M5: resident memory", measure(options))


if __name__ == "__main__":
    main(sys.argv[1:])
