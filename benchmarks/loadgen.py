"""
A small load generator, run as a process of its own so that the server it
loads has a core to itself. Standard library only.

    python benchmarks/loadgen.py http --port P --path /x [--method POST
        --header "Name: value" ... --body-hex HEX] [--connections 8]
    python benchmarks/loadgen.py ssdp --port P [--sources 2048 --window 64]

Both first load the server for C{--warmup} seconds (not measured), then
measure C{--runs} runs back to back, each ending after C{--max-requests}
answers or C{--duration} seconds, whichever comes first; the whole program
gives up after a hard deadline. With C{--server-pid} each run also reads the
server's CPU time from /proc. Prints one JSON line:
C{{"runs": [{"rate": answers/s, "count", "seconds", "errors",
"server_cpu_us": per answer, "client_cpu_share"}, ...], ...}}.

http: keep-alive HTTP/1.1 over C{--connections} connections, each with one
request in flight (C{--depth} > 1 pipelines); any status but 2xx counts as
an error.

ssdp: unicast M-SEARCH (ST: C{--st}, by default upnp:rootdevice, no MX,
HOST naming the server), about C{--window} replies awaited at a time,
each search from the next of C{--sources} 127.x.y.z addresses in turn
(see L{ssdp_load}); replies not come after 0.1 s count as lost. Many
sources, because a device may rightly cap the replies it sends one
address per second (ours: 50 after a first whole answer); a small window,
so that the server's socket buffer does not overflow.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import select
import socket
import struct
import sys
import time
from collections import Counter
from typing import Any


def server_cpu(pid: int | None) -> float | None:
    if not pid:
        return None
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Phase:
    """
    One measured (or warm-up) window: ends at C{limit} answers or at
    C{seconds}, whichever first, and records what it saw.
    """

    def __init__(self, limit: int, seconds: float, pid: int | None) -> None:
        self.limit = limit
        self.seconds = seconds
        self.pid = pid
        self.count = 0
        self.errors = 0
        self.lost = 0
        self.done = False
        self.started = time.monotonic()
        self.cpu0 = server_cpu(pid)
        self.client0 = time.process_time()
        self.result: dict[str, Any] = {}

    def answered(self, ok: bool) -> None:
        if self.done:
            return
        self.count += 1
        if not ok:
            self.errors += 1
        if self.count >= self.limit:
            self.finish()

    def expired(self) -> bool:
        if not self.done and time.monotonic() - self.started >= self.seconds:
            self.finish()
        return self.done

    def finish(self) -> None:
        if self.done:
            return
        self.done = True
        elapsed = time.monotonic() - self.started
        cpu1 = server_cpu(self.pid)
        self.result = {
            "count": self.count,
            "seconds": round(elapsed, 4),
            "rate": self.count / elapsed if elapsed > 0 else 0.0,
            "errors": self.errors,
            "lost": self.lost,
            "client_cpu_share": round((time.process_time() - self.client0) / elapsed, 3),
        }
        if self.cpu0 is not None and cpu1 is not None and self.count:
            self.result["server_cpu_us"] = (cpu1 - self.cpu0) / self.count * 1e6
            self.result["server_cpu_share"] = round((cpu1 - self.cpu0) / elapsed, 3)


# -- HTTP ---------------------------------------------------------------------------------


class Connection(asyncio.Protocol):
    def __init__(self, generator: HTTPLoad) -> None:
        self.generator = generator
        self.buffer = bytearray()
        self.need: int | None = None
        self.chunked = False
        self.status = 0
        self.transport: Any = None
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        transport.write(self.generator.request * self.generator.depth)

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        answered = 0
        while True:
            if self.need is None:
                end = buffer.find(b"\r\n\r\n")
                if end < 0:
                    break
                head = bytes(buffer[:end]).lower()
                del buffer[: end + 4]
                self.status = int(head[9:12])
                at = head.find(b"\r\ncontent-length:")
                if at >= 0:
                    stop = head.find(b"\r\n", at + 2)
                    self.need = int(head[at + 17 : stop if stop >= 0 else None])
                    self.chunked = False
                elif b"transfer-encoding: chunked" in head:
                    self.chunked = True
                    self.need = -1
                else:
                    self.need = 0
            expect = self.generator.expect
            if self.chunked:
                # The bodies here are small XML: the last chunk is enough.
                end = buffer.find(b"0\r\n\r\n")
                if end < 0:
                    break
                valid = not expect or buffer.find(expect, 0, end) >= 0
                del buffer[: end + 5]
            else:
                if len(buffer) < self.need:
                    break
                valid = not expect or buffer.find(expect, 0, self.need) >= 0
                del buffer[: self.need]
            self.need = None
            answered += 1
            self.generator.answered(200 <= self.status < 300 and valid, self.status)
        if answered and self.generator.running:
            self.transport.write(self.generator.request * answered)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)
        self.generator.lost(self)


class HTTPLoad:
    def __init__(self, options: argparse.Namespace) -> None:
        self.options = options
        self.host = options.host
        self.port = options.port
        self.depth = options.depth
        # What every answer's body must contain (a whole answer, not an
        # error), if anything.
        self.expect = options.expect.encode("utf-8")
        headers = [f"Host: {options.host}:{options.port}", "User-Agent: upnp-bench/1"]
        headers += options.header
        body = bytes.fromhex(options.body_hex) if options.body_hex else b""
        if body or options.method == "POST":
            headers.append(f"Content-Length: {len(body)}")
        self.request = (
            f"{options.method} {options.path} HTTP/1.1\r\n" + "\r\n".join(headers) + "\r\n\r\n"
        ).encode("latin-1") + body
        self.phase: Phase | None = None
        self.statuses: Counter[int] = Counter()
        self.connections: set[Connection] = set()
        self.running = True
        self.reconnects = 0

    def answered(self, ok: bool, status: int) -> None:
        self.statuses[status] += 1
        if self.phase is not None:
            self.phase.answered(ok)

    def lost(self, connection: Connection) -> None:
        self.connections.discard(connection)
        if self.running:
            # The server closed (Connection: close, an idle timeout): again.
            self.reconnects += 1
            asyncio.ensure_future(self.connect())

    async def connect(self) -> None:
        loop = asyncio.get_running_loop()
        _, connection = await loop.create_connection(
            lambda: Connection(self), self.host, self.port
        )
        self.connections.add(connection)

    async def measure(self) -> dict[str, Any]:
        options = self.options
        await asyncio.wait_for(
            asyncio.gather(*(self.connect() for _ in range(options.connections))), 10
        )
        runs = []
        for i in range(options.runs + 1):
            seconds = options.warmup if i == 0 else options.duration
            self.phase = Phase(options.max_requests, seconds, options.server_pid)
            while not self.phase.expired():
                await asyncio.sleep(0.01)
            if i:
                runs.append(self.phase.result)
        self.running = False
        for connection in list(self.connections):
            connection.transport.close()
        return {"runs": runs, "statuses": dict(self.statuses), "reconnects": self.reconnects}


# -- SSDP ----------------------------------------------------------------------------------


# Linux's IP_PKTINFO (the socket module does not name it before 3.12).
IP_PKTINFO = 8


# One search reply in this many is read header by header.
CHECK_EVERY = 16


def valid_reply(data: bytes, target: bytes) -> str | None:
    """
    What is wrong with a search reply (UDA 1.1 1.3.3) to a search for
    C{target}, or C{None}: its headers CACHE-CONTROL (max-age), EXT,
    LOCATION (an http URL), SERVER, ST (the target, unless the search was
    ssdp:all) and USN (a uuid:, with the ST after it unless it is the
    device's UUID).
    """
    lines = data[:-4].split(b"\r\n")
    headers: dict[bytes, bytes] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon:
            return f"not a header line: {line[:80]!r}"
        headers[name.strip().lower()] = value.strip()
    missing = [n for n in (b"cache-control", b"ext", b"location", b"server", b"st", b"usn")
               if n not in headers]
    if missing:
        return f"missing {b', '.join(missing).decode()}"
    if b"max-age=" not in headers[b"cache-control"].lower().replace(b" ", b""):
        return "no max-age"
    if not headers[b"location"].startswith(b"http://"):
        return "LOCATION is not an http URL"
    st, usn = headers[b"st"], headers[b"usn"]
    if target != b"ssdp:all" and st.lower() != target.lower():
        return f"ST {st!r} for a search for {target!r}"
    if not usn.startswith(b"uuid:") or (st != usn and not usn.endswith(b"::" + st)):
        return f"USN {usn!r} does not go with ST {st!r}"
    return None


def source_address(i: int) -> str:
    return f"127.{100 + i // 62500}.{(i // 250) % 250}.{i % 250 + 1}"


def ssdp_load(options: argparse.Namespace) -> dict[str, Any]:
    """
    Searches from C{--sources} addresses of the loopback interface, sent
    and answered on one socket: it is bound to the wildcard address, each
    search names its source address in IP_PKTINFO (each address in turn),
    and the replies to every one of those addresses come back to it. So
    one process keeps even a fast server busy: per reply, one recv and
    (for every C{--expect} replies) one sendmsg. About C{--window} replies
    are awaited at a time, the window topped up in bursts; after 0.1 s
    without any reply, what was in flight counts as lost and a new window
    goes.
    """
    destination = ("127.0.0.1", options.port)
    request = (
        "M-SEARCH * HTTP/1.1\r\n"
        f"HOST: 127.0.0.1:{options.port}\r\n"
        'MAN: "ssdp:discover"\r\n'
        f"ST: {options.st}\r\n"
        "USER-AGENT: Linux/6 UPnP/1.1 upnp-bench/1\r\n\r\n"
    ).encode()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
    s.bind(("0.0.0.0", 0))
    s.setblocking(False)
    sources = [[(socket.IPPROTO_IP, IP_PKTINFO,
                 struct.pack("@I4s4s", 0, socket.inet_aton(source_address(i)), bytes(4)))]
               for i in range(options.sources)]
    expect = options.expect
    target = options.st.encode()
    checked = 0
    replies: Counter[bytes] = Counter()
    runs = []
    turn = 0

    def send(n: int) -> None:
        nonlocal turn
        for _ in range(n):
            s.sendmsg([request], sources[turn], 0, destination)
            turn = (turn + 1) % len(sources)

    try:
        awaited = 0
        for run in range(options.runs + 1):
            phase = Phase(options.max_requests, options.warmup if run == 0 else options.duration,
                          options.server_pid)
            while not phase.expired():
                # Top the window up in one burst (the server reads its
                # queue in batches, as under real load), then take every
                # reply there is.
                missing = (options.window - awaited) // expect
                if missing > 0:
                    send(missing)
                    awaited += missing * expect
                if not select.select([s], [], [], 0.1)[0]:
                    phase.lost += awaited
                    awaited = 0
                    continue
                data = s.recv(4096)
                while data:
                    awaited -= 1
                    replies[data[:12]] += 1
                    # Every reply whole and a success; one in CHECK_EVERY
                    # read in full (a client slower than the server would
                    # measure itself).
                    checked += 1
                    phase.answered(
                        data.startswith(b"HTTP/1.1 200 OK\r\n") and data.endswith(b"\r\n\r\n")
                        and (checked % CHECK_EVERY or valid_reply(data, target) is None))
                    try:
                        data = s.recv(4096)
                    except BlockingIOError:
                        data = b""
            if run:
                runs.append(phase.result)
    finally:
        s.close()
    return {"runs": runs, "replies": {k.decode("latin-1"): v for k, v in replies.items()}}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    http = commands.add_parser("http")
    http.add_argument("--host", default="127.0.0.1")
    http.add_argument("--method", default="GET")
    http.add_argument("--path", required=True)
    http.add_argument("--header", action="append", default=[])
    http.add_argument("--body-hex", default="")
    http.add_argument("--connections", type=int, default=8)
    http.add_argument("--depth", type=int, default=1)
    http.add_argument("--expect", default="",
                      help="text every answer's body must contain to count as valid")
    ssdp = commands.add_parser("ssdp")
    ssdp.add_argument("--sources", type=int, default=2048)
    ssdp.add_argument("--window", type=int, default=64)
    ssdp.add_argument("--st", default="upnp:rootdevice")
    ssdp.add_argument("--expect", type=int, default=1, help="replies to each search")
    for p in (http, ssdp):
        p.add_argument("--port", type=int, required=True)
        p.add_argument("--server-pid", type=int)
        p.add_argument("--duration", type=float, default=1.5)
        p.add_argument("--max-requests", type=int, default=20000)
        p.add_argument("--warmup", type=float, default=0.4)
        p.add_argument("--runs", type=int, default=3)
        p.add_argument("--seed", type=int, default=0)
    options = parser.parse_args(argv)
    random.seed(options.seed)
    if options.command == "http":
        deadline = options.warmup + options.runs * options.duration + 15

        async def bounded() -> dict[str, Any]:
            return await asyncio.wait_for(HTTPLoad(options).measure(), deadline)

        result = asyncio.run(bounded())
    else:
        result = ssdp_load(options)
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
