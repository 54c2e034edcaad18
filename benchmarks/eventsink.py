"""
The subscriber side of the event benchmark, in one process (standard
library only):

    python benchmarks/eventsink.py --port P --event-path /e --control-path /c
        [--subscribers 50] [--max-rounds 200] [--duration 1.5] [--runs 3]
        [--warmup-rounds 3] [--device-pid PID]

It opens C{--subscribers} callback servers on 127.0.0.1, each on its own
port, and SUBSCRIBEs each one with its own CALLBACK to the device at
127.0.0.1:P. Once every subscriber has its initial event, it runs rounds:
one SOAP SetTarget (toggling the light, so that Status changes) over a
kept-alive connection, then it waits until every subscriber has got one
more NOTIFY. A run is at most C{--max-rounds} rounds or C{--duration}
seconds; its rate is NOTIFYs received per second, end to end (SOAP call,
the device's fan-out, delivery), and its C{fanout_ms} the median time of
a round, from sending the SOAP call (the change) to the last subscriber's
NOTIFY. Every round is bounded by C{--round-timeout}. Prints one JSON line like loadgen.py's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

from loadgen import server_cpu

SWITCH_POWER = "urn:schemas-upnp-org:service:SwitchPower:1"
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


# How a boolean may read in a NOTIFY (UDA says 0 and 1; async-upnp-client
# sends True and False, which its own table of deviations lists).
BOOLEAN = {b"0": 0, b"1": 1, b"false": 0, b"true": 1}


class Counts:
    """
    The NOTIFYs each subscriber got, and those that were not what they
    should be: each subscriber's SID every time, SEQ 0, 1, 2... in order,
    NT upnp:event and NTS upnp:propchange, and (after the initial event)
    the Status the round's SetTarget set.
    """

    def __init__(self, subscribers: int) -> None:
        self.per = [0] * subscribers
        self.sids: list[bytes | None] = [None] * subscribers
        self.values: list[int] = []
        self.total = 0
        self.invalid = 0
        self.problems: list[str] = []
        self.target: int | None = None
        self.reached = asyncio.Event()

    def got(self, index: int, head: bytes, body: bytes) -> None:
        problem = self.check(index, head, body)
        if problem:
            self.invalid += 1
            if len(self.problems) < 5:
                self.problems.append(f"subscriber {index}: {problem}")
        self.per[index] += 1
        self.total += 1
        if self.target is not None and self.total >= self.target:
            self.reached.set()

    def check(self, index: int, head: bytes, body: bytes) -> str | None:
        headers = {}
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip()] = value.strip()
        seq = self.per[index]
        sid = headers.get(b"sid")
        if self.sids[index] is None:
            self.sids[index] = sid
        if not sid or sid != self.sids[index]:
            return f"SID {sid!r}, not {self.sids[index]!r}"
        if headers.get(b"seq") != str(seq).encode():
            return f"SEQ {headers.get(b'seq')!r} where {seq} was due"
        if headers.get(b"nt") != b"upnp:event" or headers.get(b"nts") != b"upnp:propchange":
            return "NT or NTS wrong"
        if seq == 0:
            return None  # the initial event: whatever the state is
        if seq > len(self.values):
            return f"SEQ {seq}, but only {len(self.values)} changes were made"
        at = body.find(b"<Status>")
        end = body.find(b"</Status>", at)
        found = BOOLEAN.get(body[at + 8:end].strip().lower()) if 0 <= at < end else None
        if found != self.values[seq - 1]:
            return f"Status {body[at:end + 9]!r} after SetTarget {self.values[seq - 1]}"
        return None

    def expect(self, total: int) -> None:
        self.target = total
        self.reached.clear()
        if self.total >= total:
            self.reached.set()


class Callback(asyncio.Protocol):
    """
    A subscriber's callback server connection: answers every NOTIFY 200
    and counts it; keeps the connection unless asked to close it.
    """

    def __init__(self, counts: Counts, index: int) -> None:
        self.counts = counts
        self.index = index
        self.buffer = bytearray()
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).lower()
            at = head.find(b"\r\ncontent-length:")
            length = 0
            if at >= 0:
                stop = head.find(b"\r\n", at + 2)
                length = int(head[at + 17 : stop if stop >= 0 else None])
            if len(self.buffer) < end + 4 + length:
                return
            body = bytes(self.buffer[end + 4 : end + 4 + length])
            del self.buffer[: end + 4 + length]
            self.transport.write(OK)
            if head.startswith(b"notify "):
                self.counts.got(self.index, head, body)
            if b"\r\nconnection: close" in head:
                self.transport.close()
                return


async def exchange(reader: Any, writer: Any, request: bytes) -> tuple[int, bytes, bytes]:
    """
    One request on a kept-alive connection: status, head, body.
    """
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    lower = head.lower()
    status = int(head[9:12])
    at = lower.find(b"\r\ncontent-length:")
    length = 0
    if at >= 0:
        stop = lower.find(b"\r\n", at + 2)
        length = int(lower[at + 17 : stop])
    body = await reader.readexactly(length) if length else b""
    return status, head, body


async def subscribe(port: int, path: str, callback: int) -> str:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        status, head, _ = await exchange(reader, writer, (
            f"SUBSCRIBE {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"CALLBACK: <http://127.0.0.1:{callback}/>\r\nNT: upnp:event\r\n"
            "TIMEOUT: Second-300\r\nContent-Length: 0\r\n\r\n"
        ).encode())
    finally:
        writer.close()
    if status != 200:
        raise RuntimeError(f"SUBSCRIBE for callback port {callback} got {status}")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"sid:"):
            return line[4:].strip().decode()
    raise RuntimeError("SUBSCRIBE answer without SID")


def set_target(port: int, path: str, value: int) -> bytes:
    body = (
        '<?xml version="1.0"?>\r\n<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"'
        ' s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>'
        f'<u:SetTarget xmlns:u="{SWITCH_POWER}"><newTargetValue>{value}</newTargetValue>'
        "</u:SetTarget></s:Body></s:Envelope>"
    ).encode()
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        'Content-Type: text/xml; charset="utf-8"\r\n'
        f'SOAPAction: "{SWITCH_POWER}#SetTarget"\r\nContent-Length: {len(body)}\r\n\r\n'
    ).encode() + body


async def measure(options: argparse.Namespace) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    k = options.subscribers
    counts = Counts(k)
    servers = []
    for i in range(k):
        servers.append(await loop.create_server(
            lambda i=i: Callback(counts, i), "127.0.0.1", 0))
    ports = [s.sockets[0].getsockname()[1] for s in servers]
    limit = asyncio.Semaphore(16)

    async def one(callback: int) -> str:
        async with limit:
            return await subscribe(options.port, options.event_path, callback)

    sids = await asyncio.wait_for(asyncio.gather(*(one(p) for p in ports)), 30)
    # Every subscriber's initial event.
    deadline = time.monotonic() + options.round_timeout * 2
    while min(counts.per) < 1:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{counts.per.count(0)} subscribers got no initial event")
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)
    if min(counts.per) != max(counts.per):
        raise RuntimeError(f"uneven initial events: {min(counts.per)}..{max(counts.per)}")
    # Each subscriber's NOTIFYs carry the SID its SUBSCRIBE got.
    wrong = [i for i, sid in enumerate(sids) if counts.sids[i] != sid.lower().encode()]
    if wrong:
        raise RuntimeError(f"{len(wrong)} subscribers' initial events have another SID")
    reader, writer = await asyncio.open_connection("127.0.0.1", options.port)
    value = 1
    failures = 0

    fanouts: list[float] = []

    async def round_() -> bool:
        nonlocal value, failures
        counts.expect(counts.total + k)
        counts.values.append(value)
        began = time.monotonic()
        status, _, body = await exchange(
            reader, writer, set_target(options.port, options.control_path, value))
        value ^= 1
        if status != 200:
            raise RuntimeError(f"SetTarget got {status}: {body[:300]!r}")
        try:
            await asyncio.wait_for(counts.reached.wait(), options.round_timeout)
        except asyncio.TimeoutError:
            failures += 1
            return False
        # From the change (the SOAP call) to the last subscriber's NOTIFY.
        fanouts.append(time.monotonic() - began)
        # One NOTIFY to each subscriber, not two to some and none to others.
        uneven = max(counts.per) - min(counts.per)
        if uneven:
            counts.invalid += uneven
            counts.problems.append(f"uneven NOTIFYs after a change: {counts.per}"[:300])
        return True

    for _ in range(options.warmup_rounds):
        await round_()
    runs = []
    for _ in range(options.runs):
        fanouts.clear()
        base = counts.total
        started = time.monotonic()
        cpu0 = server_cpu(options.device_pid)
        client0 = time.process_time()
        invalid0 = counts.invalid
        rounds = 0
        while rounds < options.max_rounds and time.monotonic() - started < options.duration:
            rounds += 1
            if not await round_():
                break
        elapsed = time.monotonic() - started
        cpu1 = server_cpu(options.device_pid)
        got = counts.total - base
        run = {
            "count": got, "rounds": rounds, "seconds": round(elapsed, 4),
            "rate": got / elapsed,
            # Each missing NOTIFY, and each one not what it should be.
            "errors": max(0, rounds * k - got) + counts.invalid - invalid0,
            "invalid": counts.invalid - invalid0,
            "client_cpu_share": round((time.process_time() - client0) / elapsed, 3),
        }
        if cpu0 is not None and cpu1 is not None and got:
            run["server_cpu_us"] = (cpu1 - cpu0) / got * 1e6
            run["server_cpu_share"] = round((cpu1 - cpu0) / elapsed, 3)
        if fanouts:
            run["fanout_ms"] = sorted(fanouts)[len(fanouts) // 2] * 1000
        runs.append(run)
    writer.close()
    for s in servers:
        s.close()
    return {"runs": runs, "subscribers": k, "timeouts": failures,
            "per_subscriber": [min(counts.per), max(counts.per)],
            "invalid": counts.invalid, "problems": counts.problems}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--event-path", required=True)
    parser.add_argument("--control-path", required=True)
    parser.add_argument("--subscribers", type=int, default=50)
    parser.add_argument("--max-rounds", type=int, default=200)
    parser.add_argument("--duration", type=float, default=1.5)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--warmup-rounds", type=int, default=3)
    parser.add_argument("--round-timeout", type=float, default=5.0)
    parser.add_argument("--device-pid", type=int)
    options = parser.parse_args(argv)
    bound = 60 + options.runs * (options.duration + options.round_timeout)

    async def bounded() -> dict[str, Any]:
        return await asyncio.wait_for(measure(options), bound)

    print(json.dumps(asyncio.run(bounded())))


if __name__ == "__main__":
    main(sys.argv[1:])
