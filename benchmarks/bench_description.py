"""
M2, description GETs: keep-alive HTTP/1.1 GETs of the device description,
as requests per second (the servers pinned to one core, wrk with 32
connections on the other), for

- ours: GET /description.xml of our device (examples/light.ini) on
  127.0.0.1, through the whole DeviceSite (Host check, Server header, the
  pre-rendered bytes);
- bare Twisted: a twisted.web Site with one minimal leaf Resource serving
  the very same bytes (parsePOSTFormSubmission=False, no access log);
- aio: GET /device.xml of async-upnp-client 0.49.0's device
  (tests/peers/aio_device.py), in a network namespace of its own, loaded
  from inside that namespace over its 127.0.0.1.

The load is wrk (one thread, --connections connections) when it is
installed, else benchmarks/loadgen.py. Rounds alternate ours, bare, aio
(a run in which a server was busy less than 80% of the time is run again,
at most twice); the median of --runs is printed, with the server's CPU
microseconds per request.

    python benchmarks/bench_description.py [--duration 1.5] [--skip-aio]
"""

from __future__ import annotations

import contextlib
import sys

import common
from common import Goal, Row, log, rates, summarise

# Every answer counted is a whole description: a 200 with the root
# element's end tag.
WHOLE = "</root>"


def load(options, port: int, path: str, pid: int, ns: common.Namespace | None = None,
         **kw) -> dict:
    if common.have_wrk() and not options.loadgen:
        return common.wrk(port, path, pid, duration=options.duration,
                          connections=options.connections, ns=ns, **kw)
    return common.loadgen_http(options, port, path, pid, ns=ns, **kw)


def measure(options) -> list[Row]:
    why = "--skip-aio" if options.skip_aio else common.aio_unavailable()
    with contextlib.ExitStack() as stack:
        server, info = stack.enter_context(common.our_device())
        port, path = info["http_port"], info["description"]
        status, body = common.fetch(port, "GET", path, [f"Host: 127.0.0.1:{port}"])
        assert status == 200, status
        bare, bareInfo = stack.enter_context(common.bare_http(body, b""))
        measures = {
            "ours": lambda: load(options, port, path, server.pid, expect=WHOLE),
            "bare": lambda: load(options, bareInfo["http_port"], path, bare.pid, expect=WHOLE),
        }
        if not why:
            aio, ns = stack.enter_context(common.aio_device())
            measures["aio"] = lambda: load(options, 8000, common.AIO_DESCRIPTION, aio.pid, ns,
                                           expect=WHOLE)
        log(f"GET {path}: ours, bare Twisted{'' if why else ', aio'} in alternating rounds")
        results = common.alternate(options.runs, measures, warm=True, busy=0.8)
    measured = {who: summarise(result) for who, result in results.items()}
    ours, bareMeasured = measured["ours"], measured["bare"]
    aioMeasured = measured.get("aio") or common.skipped(f"skipped: {why}")
    return [Row("M2 description GET", "requests", ours, bareMeasured, aioMeasured, per_cpu=True,
                goals=[
        Goal("M2 description GETs per server CPU-second vs bare twisted.web (same bytes)",
             common.quotient(ours.per_cpu, bareMeasured.per_cpu), 0.9,
             note=rates(ours, bareMeasured), invalid=common.invalid(ours, bareMeasured)),
        Goal("M2 description GETs per server CPU-second vs async-upnp-client",
             common.quotient(ours.per_cpu, aioMeasured.per_cpu), 1.5,
             note=rates(ours, aioMeasured), invalid=common.invalid(ours, aioMeasured)),
    ])]


def main(argv: list[str]) -> None:
    options = common.arguments(
        __doc__.split("\n\n")[0],
        connections=(int, 32, "keep-alive connections"),
    )
    options.add_argument("--loadgen", action="store_true",
                         help="load with benchmarks/loadgen.py even where wrk is installed")
    options = options.parse_args(argv)
    common.finish(options, "M2: description GET (keep-alive HTTP/1.1)", measure(options))


if __name__ == "__main__":
    main(sys.argv[1:])
