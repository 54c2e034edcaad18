"""
Description GET: keep-alive HTTP/1.1 GETs of the device description, as
requests per second, for

- ours: GET /description.xml of our device (examples/light.ini) on
  127.0.0.1, through the whole DeviceSite (Host check, Server header,
  resource tree, pre-rendered bytes);
- bare Twisted: a twisted.web Site with one minimal leaf Resource serving
  the very same bytes (parsePOSTFormSubmission=False);
- aio: GET /device.xml of async-upnp-client 0.49.0's device
  (tests/peers/aio_device.py), in a network namespace of its own, loaded
  from inside that namespace over its 127.0.0.1.

The load comes from benchmarks/loadgen.py in a separate process
(--connections keep-alive connections, one request in flight on each):
a warm-up, then --runs runs of at most --max-requests requests or
--duration seconds each; the median is printed, with the server's CPU
microseconds per request.

    python benchmarks/bench_description.py [--duration 1.5] [--skip-aio]
"""

from __future__ import annotations

import sys

import common
from common import Row, log, summarise


def measure(options) -> list[Row]:
    with common.our_device() as (server, info):
        log(f"ours: GET {info['description']}")
        status, body = common.fetch(info["http_port"], "GET", info["description"],
                                    [f"Host: 127.0.0.1:{info['http_port']}"])
        assert status == 200, status
        ours = summarise(common.loadgen_http(options, info["http_port"], info["description"],
                                             server.pid))
    with common.bare_http(body, b"") as (server, info):
        log("bare Twisted: GET of the same bytes")
        bare = summarise(common.loadgen_http(options, info["http_port"], "/description.xml",
                                             server.pid))
    why = "--skip-aio" if options.skip_aio else common.aio_unavailable()
    if why:
        aio = common.skipped(f"skipped: {why}")
    else:
        with common.aio_device() as (server, ns):
            log(f"aio: GET {common.AIO_DESCRIPTION} (in namespace {ns.name})")
            aio = summarise(common.loadgen_http(options, 8000, common.AIO_DESCRIPTION,
                                                server.pid, ns=ns))
    return [Row("description GET", "req/s", ours, bare, aio)]


def main(argv: list[str]) -> None:
    options = common.arguments(
        __doc__.split("\n\n")[0],
        connections=(int, 8, "keep-alive connections"),
    ).parse_args(argv)
    common.finish(options, "Description GET (keep-alive HTTP/1.1)", measure(options))


if __name__ == "__main__":
    main(sys.argv[1:])
