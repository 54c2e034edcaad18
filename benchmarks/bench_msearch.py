"""
M-SEARCH replies: unicast M-SEARCHes (ST: upnp:rootdevice, no MX, so the
answer goes at once) and the 200 OK replies per second, for

- ours: our device (examples/light.ini) as a UPnPService on lo with a
  private SSDP port (not 1900), searched at 127.0.0.1:<that port>: parse,
  match, rate limit, reply built with its DATE;
- bare Twisted: a DatagramProtocol on 127.0.0.1 that answers every
  datagram with the very bytes our device replied;
- aio: async-upnp-client 0.49.0's device (tests/peers/aio_device.py),
  whose SSDP port is always 1900 and which multicasts: it runs in a
  network namespace of its own (lo only), searched at that namespace's
  127.0.0.1:1900 by a load generator in the same namespace.

Nothing is multicast by this benchmark's searches. benchmarks/loadgen.py
searches from --sources sockets, each on its own 127.x.y.z address with
one search in flight, because our device rightly answers one address at
most 100 replies a second (SSDP reflection), with --window searches in
flight (more would overflow the server's socket buffer); --runs runs of at most
--max-requests replies or --duration seconds each, after a warm-up; the
median is printed, with the server's CPU microseconds per reply.

    python benchmarks/bench_msearch.py [--sources 2048] [--window 64] [--skip-aio]
"""

from __future__ import annotations

import json
import socket
import sys

import common
from common import Row, log, summarise

OUR_PER_SOURCE_LIMIT = 100


def one_reply(port: int) -> bytes:
    """
    Our device's reply to one unicast search.
    """
    search = (
        f"M-SEARCH * HTTP/1.1\r\nHOST: 127.0.0.1:{port}\r\nMAN: \"ssdp:discover\"\r\n"
        "ST: upnp:rootdevice\r\nUSER-AGENT: Linux/6 UPnP/1.1 upnp-bench/1\r\n\r\n"
    ).encode()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.settimeout(0.5)
        for _ in range(10):
            s.sendto(search, ("127.0.0.1", port))
            try:
                return s.recv(4096)
            except socket.timeout:
                continue
    raise RuntimeError(f"no reply from 127.0.0.1:{port}")


def check_limit(options, measured: common.Measured) -> None:
    if measured.rate and measured.rate / options.sources > 0.8 * OUR_PER_SOURCE_LIMIT:
        measured.note = (f"near our cap of {OUR_PER_SOURCE_LIMIT}/s per source: "
                         "raise --sources")


def measure(options) -> list[Row]:
    with common.our_device() as (server, info):
        port = info["ssdp_port"]
        log(f"ours: unicast M-SEARCH to 127.0.0.1:{port}")
        reply = one_reply(port)
        assert reply.startswith(b"HTTP/1.1 200 OK"), reply
        ours = summarise(common.loadgen_ssdp(options, port, server.pid))
        check_limit(options, ours)
    with common.bytes_file(reply) as replyFile:
        argv = [common.PYTHON, str(common.SERVERS), "bare-ssdp",
                "--seconds", str(common.SERVER_LIFETIME), "--reply-file", replyFile]
        with common.started("bare-ssdp", argv) as server:
            port = json.loads(server.ready())["ssdp_port"]
            log(f"bare Twisted: DatagramProtocol on 127.0.0.1:{port}")
            bare = summarise(common.loadgen_ssdp(options, port, server.pid))
    why = "--skip-aio" if options.skip_aio else common.aio_unavailable()
    if why:
        aio = common.skipped(f"skipped: {why} (its SSDP port is 1900 and it multicasts)")
    else:
        with common.aio_device() as (server, ns):
            log(f"aio: unicast M-SEARCH to 127.0.0.1:1900 (in namespace {ns.name})")
            aio = summarise(common.loadgen_ssdp(options, common.AIO_SSDP_PORT, server.pid, ns=ns))
    return [Row("M-SEARCH reply", "replies/s", ours, bare, aio)]


def main(argv: list[str]) -> None:
    options = common.arguments(
        __doc__.split("\n\n")[0],
        sources=(int, 2048, "searching sockets, each on its own 127.x.y.z address"),
        window=(int, 64, "searches in flight"),
    ).parse_args(argv)
    common.finish(options, "M-SEARCH (unicast, no MX) -> 200 OK", measure(options))


if __name__ == "__main__":
    main(sys.argv[1:])
