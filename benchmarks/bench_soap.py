"""
SOAP control: keep-alive HTTP/1.1 POSTs of SwitchPower:1 GetStatus to the
controlURL, as calls per second, for

- ours: our device's controlURL (examples/light.ini, the binarylight
  provider): Content-Type check, envelope parse, argument check, the
  provider's action, the response envelope;
- bare Twisted: a twisted.web Site whose minimal leaf Resource answers any
  POST with the very bytes our device answered (no parsing at all);
- aio: async-upnp-client 0.49.0's /upnp/control/SwitchPower1
  (tests/peers/aio_device.py), in a network namespace of its own, loaded
  from inside that namespace over its 127.0.0.1.

Every call is the same request (same envelope, same SOAPAction header).
The load comes from benchmarks/loadgen.py in a separate process, as in
bench_description.py; the median of the runs is printed, with the
server's CPU microseconds per call.

    python benchmarks/bench_soap.py [--duration 1.5] [--skip-aio]
"""

from __future__ import annotations

import sys

import common
from common import Row, log, summarise

ACTION = "GetStatus"


def measure(options) -> list[Row]:
    body = common.soap_envelope(ACTION)
    headers = common.soap_headers(ACTION)
    with common.our_device() as (server, info):
        port, control = info["http_port"], info["control"]
        log(f"ours: POST {control} {ACTION}")
        status, answer = common.fetch(port, "POST", control,
                                      [f"Host: 127.0.0.1:{port}", *headers], body)
        assert status == 200, (status, answer)
        ours = summarise(common.loadgen_http(options, port, control, server.pid,
                                             method="POST", headers=headers, body=body))
    with common.bare_http(b"", answer) as (server, info):
        log("bare Twisted: POST answered with the same bytes")
        bare = summarise(common.loadgen_http(options, info["http_port"], control, server.pid,
                                             method="POST", headers=headers, body=body))
    why = "--skip-aio" if options.skip_aio else common.aio_unavailable()
    if why:
        aio = common.skipped(f"skipped: {why}")
    else:
        with common.aio_device() as (server, ns):
            log(f"aio: POST {common.AIO_CONTROL} {ACTION} (in namespace {ns.name})")
            aio = summarise(common.loadgen_http(options, 8000, common.AIO_CONTROL, server.pid,
                                                method="POST", headers=headers, body=body,
                                                ns=ns))
    return [Row(f"SOAP {ACTION}", "calls/s", ours, bare, aio)]


def main(argv: list[str]) -> None:
    options = common.arguments(
        __doc__.split("\n\n")[0],
        connections=(int, 8, "keep-alive connections"),
    ).parse_args(argv)
    common.finish(options, f"SOAP control ({ACTION}, keep-alive HTTP/1.1)", measure(options))


if __name__ == "__main__":
    main(sys.argv[1:])
