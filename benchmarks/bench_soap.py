"""
M3, SOAP control: keep-alive HTTP/1.1 POSTs of SwitchPower:1 GetStatus to
the controlURL, as calls per second (the servers pinned to one core, wrk
on the other), for

- ours: our device's controlURL (examples/light.ini, the binarylight
  provider): Host and Origin checks, Content-Type check, body size cap,
  the hardened envelope parse, argument check, the provider's action, the
  response envelope;
- bare Twisted: the naive twisted.web POST, a Site whose leaf Resource
  parses the envelope with xml.etree.ElementTree (no hardening, no
  checks) and answers with a formatted envelope (no access log): what a
  first SOAP endpoint on twisted.web does (benchmarks/servers.py
  naive-soap). The goal is against this one;
- fixed bytes (printed as a reference, not a goal): a Site whose minimal
  leaf answers any POST with the very bytes our device answered (no
  parsing at all): twisted.web's own ceiling for a POST;
- aio: async-upnp-client 0.49.0's /upnp/control/SwitchPower1
  (tests/peers/aio_device.py), in a network namespace of its own, loaded
  from inside that namespace over its 127.0.0.1.

Every call is the same request (same envelope, same SOAPAction header).
Rounds alternate ours, bare, aio (a run in which a server was busy less
than 80% of the time is run again, at most twice); the median of --runs is
printed, with the server's CPU microseconds per call.

    python benchmarks/bench_soap.py [--duration 1.5] [--skip-aio]
"""

from __future__ import annotations

import contextlib
import json
import sys

import common
from bench_description import load
from common import Goal, Row, log, rates, summarise

ACTION = "GetStatus"


def measure(options) -> list[Row]:
    body = common.soap_envelope(ACTION)
    headers = common.soap_headers(ACTION)
    why = "--skip-aio" if options.skip_aio else common.aio_unavailable()
    # Every call counted is answered in full: a 200 with the out-argument.
    post = {"method": "POST", "headers": headers, "body": body, "expect": "<ResultStatus>"}
    with contextlib.ExitStack() as stack:
        server, info = stack.enter_context(common.our_device())
        port, control = info["http_port"], info["control"]
        status, answer = common.fetch(port, "POST", control,
                                      [f"Host: 127.0.0.1:{port}", *headers], body)
        assert status == 200, (status, answer)
        fixed, fixedInfo = stack.enter_context(common.bare_http(b"", answer))
        naive = stack.enter_context(common.started("naive-soap", common.pinned(
            [common.PYTHON, str(common.SERVERS), "naive-soap",
             "--seconds", str(common.SERVER_LIFETIME)], common.SERVER_CORE)))
        naivePort = json.loads(naive.ready())["http_port"]
        status, naiveAnswer = common.fetch(naivePort, "POST", control, headers, body)
        assert status == 200, (status, naiveAnswer)
        measures = {
            "ours": lambda: load(options, port, control, server.pid, **post),
            "bare": lambda: load(options, naivePort, control, naive.pid, **post),
            "fixed": lambda: load(options, fixedInfo["http_port"], control, fixed.pid, **post),
        }
        if not why:
            aio, ns = stack.enter_context(common.aio_device())
            measures["aio"] = lambda: load(options, 8000, common.AIO_CONTROL, aio.pid, ns, **post)
        log(f"POST {control} {ACTION}: ours, bare Twisted{'' if why else ', aio'} alternating")
        results = common.alternate(options.runs, measures, warm=True, busy=0.8)
    measured = {who: summarise(result) for who, result in results.items()}
    ours, bareMeasured = measured["ours"], measured["bare"]
    aioMeasured = measured.get("aio") or common.skipped(f"skipped: {why}")
    fixedMeasured = measured["fixed"]
    return [Row(f"M3 SOAP {ACTION}", "calls", ours, bareMeasured, aioMeasured, per_cpu=True,
                goals=[
        Goal("M3 SOAP calls per server CPU-second vs async-upnp-client",
             common.quotient(ours.per_cpu, aioMeasured.per_cpu), 1.2,
             note=rates(ours, aioMeasured), invalid=common.invalid(ours, aioMeasured)),
        Goal("M3 SOAP calls per server CPU-second vs the naive twisted.web POST",
             common.quotient(ours.per_cpu, bareMeasured.per_cpu), 1.3,
             note=rates(ours, bareMeasured), invalid=common.invalid(ours, bareMeasured)),
    ]), Row("(reference) POST of fixed bytes", "calls", ours, fixedMeasured,
            common.skipped("-"), per_cpu=True)]


def main(argv: list[str]) -> None:
    options = common.arguments(
        __doc__.split("\n\n")[0],
        connections=(int, 32, "keep-alive connections"),
    )
    options.add_argument("--loadgen", action="store_true",
                         help="load with benchmarks/loadgen.py even where wrk is installed")
    options = options.parse_args(argv)
    common.finish(options, f"M3: SOAP control ({ACTION}, keep-alive HTTP/1.1)", measure(options))


if __name__ == "__main__":
    main(sys.argv[1:])
