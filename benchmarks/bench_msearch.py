"""
M1, search replies: unicast M-SEARCHes (no MX, so the answer goes at once)
for upnp:rootdevice (one reply each) and ssdp:all (the whole 3+2d+k set:
four replies for a BinaryLight), as replies per CPU-second of the device,
for

- ours: our device (examples/light.ini) as a UPnPService on lo with a
  private SSDP port (not 1900), searched at 127.0.0.1:<that port>: parse,
  the on-link check, match, the per-source budget, the replies with their
  DATE, sent from the right address;
- bare Twisted: a DatagramProtocol on 127.0.0.1 that answers every
  datagram with the very datagrams our device replied (pre-rendered: no
  parsing, no matching, no budget);
- aio: async-upnp-client 0.49.0's device (tests/peers/aio_device.py),
  whose SSDP port is always 1900 and which multicasts: it runs in a
  network namespace of its own (lo only), searched at that namespace's
  127.0.0.1:1900 by a load generator in the same namespace.

Nothing is multicast by this benchmark's searches. benchmarks/loadgen.py
searches from --sources addresses (default 4000, at least 200), each its
own 127.x.y.z address of the loopback interface (one socket sends from
each in turn, with IP_PKTINFO), so that our per-source
budget (50 replies a second to one address after its first whole answer:
SSDP reflection) is not what is measured; about --window replies are
awaited at a time, so every server is kept busy.
The servers run pinned to one core, the load generator on the other; the
device's CPU time is read from /proc around each run, and the figure is
replies per CPU-second (the load generator, a Python process, cannot
always keep a server busy: CPU-seconds compare what the servers spend).
Rounds alternate ours, bare, aio; a run in which the server was busy less
than 80% of the time (on a shared machine, other work took the load
generator's core) is run again, at most twice; the median of --runs is
printed.

With 4000 addresses each gets about 30 replies a second at 120,000 a
second, under our budget; more than 4096 would not do: our budget
remembers at most 4096 sources, and beyond them new ones share one entry
(as a flood of made-up sources should).

    python benchmarks/bench_msearch.py [--sources 4000] [--window 64] [--skip-aio]
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys
from collections.abc import Iterator

import common
from common import Goal, Row, log, summarise

TARGETS = ("upnp:rootdevice", "ssdp:all")


def our_replies(port: int, st: str) -> list[bytes]:
    """
    Our device's replies to one unicast search for C{st}, from a source of
    its own (a whole answer).
    """
    search = (
        f"M-SEARCH * HTTP/1.1\r\nHOST: 127.0.0.1:{port}\r\nMAN: \"ssdp:discover\"\r\n"
        f"ST: {st}\r\nUSER-AGENT: Linux/6 UPnP/1.1 upnp-bench/1\r\n\r\n"
    ).encode()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.settimeout(0.5)
        for _ in range(10):
            s.sendto(search, ("127.0.0.1", port))
            replies = []
            try:
                while True:
                    replies.append(s.recv(4096))
                    s.settimeout(0.2)
            except socket.timeout:
                pass
            if replies:
                return replies
    raise RuntimeError(f"no reply from 127.0.0.1:{port}")


@contextlib.contextmanager
def bare_ssdp(replies: list[bytes]) -> Iterator[tuple[common.Server, int]]:
    with contextlib.ExitStack() as stack:
        files = [stack.enter_context(common.bytes_file(r)) for r in replies]
        argv = [common.PYTHON, str(common.SERVERS), "bare-ssdp",
                "--seconds", str(common.SERVER_LIFETIME)]
        for f in files:
            argv += ["--reply-file", f]
        server = stack.enter_context(common.started("bare-ssdp", common.pinned(
            argv, common.SERVER_CORE)))
        yield server, json.loads(server.ready())["ssdp_port"]


def measure(options) -> list[Row]:
    rows = []
    why = "--skip-aio" if options.skip_aio else common.aio_unavailable()
    for st in options.targets.split(","):
        with contextlib.ExitStack() as stack:
            server, info = stack.enter_context(common.our_device())
            port = info["ssdp_port"]
            replies = our_replies(port, st)
            assert all(r.startswith(b"HTTP/1.1 200 OK\r\n") for r in replies), replies
            log(f"{st}: ours at 127.0.0.1:{port} ({len(replies)} replies a search)")
            n = len(replies)
            measures = {"ours": lambda: common.loadgen_ssdp(
                options, port, server.pid, st=st, expect=n)}
            bare, barePort = stack.enter_context(bare_ssdp(replies))
            measures["bare"] = lambda: common.loadgen_ssdp(
                options, barePort, bare.pid, st=st, expect=n)
            if not why:
                aio, ns = stack.enter_context(common.aio_device())
                measures["aio"] = lambda: common.loadgen_ssdp(
                    options, common.AIO_SSDP_PORT, aio.pid, st=st, expect=n, ns=ns)
            results = common.alternate(options.runs, measures, busy=0.8)
        measured = {who: summarise(result) for who, result in results.items()}
        aioMeasured = measured.get("aio") or common.skipped(
            f"skipped: {why} (its SSDP port is 1900 and it multicasts)")
        ours = measured["ours"]
        row = Row(f"M1 search {st}", "replies", ours, measured["bare"], aioMeasured,
                  per_cpu=True)
        row.goals = [
            Goal(f"M1 {st} replies per CPU-second vs async-upnp-client",
                 common.quotient(ours.per_cpu, aioMeasured.per_cpu), 2.0,
                 invalid=common.invalid(ours, aioMeasured)),
            Goal(f"M1 {st} replies per CPU-second vs bare Twisted (pre-rendered)",
                 common.quotient(ours.per_cpu, measured["bare"].per_cpu), 0.7,
                 invalid=common.invalid(ours, measured["bare"])),
        ]
        rows.append(row)
    return rows


def main(argv: list[str]) -> None:
    parser = common.arguments(
        __doc__.split("\n\n")[0],
        sources=(int, 4000, "searching addresses, each its own 127.x.y.z"),
        window=(int, 64, "replies awaited at a time"),
        targets=(str, ",".join(TARGETS), "search targets, comma-separated"),
    )
    # Runs end by time: the CPU time read from /proc counts in 10 ms ticks,
    # so a run must be long enough for them to be many.
    parser.set_defaults(max_requests=10_000_000)
    options = parser.parse_args(argv)
    if options.sources < 200:
        raise SystemExit("--sources must be at least 200 (M1 loads from >= 200 addresses)")
    common.finish(options, "M1: M-SEARCH (unicast, no MX) -> 200 OK", measure(options))


if __name__ == "__main__":
    main(sys.argv[1:])
