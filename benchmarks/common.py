"""
Shared helpers for the benchmark scripts: the servers they start (by PID),
the network namespace the async-upnp-client device runs in, the load
generator's invocation, medians and the printed tables.

Nothing here leaves the machine:

- our device and the bare Twisted servers listen on 127.0.0.1 in the root
  namespace (our device's SSDP socket is on a private port and joins the
  group on C{lo} only, as the project's loopback tests do);
- async-upnp-client's device binds port 1900 and multicasts whatever it is
  told, so it runs only inside a namespace made here (C{ip netns add}, its
  own C{lo} up, nothing else) and is deleted in a C{finally}; its load
  generator runs in the same namespace, against that namespace's 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
PYTHON = sys.executable
LIGHT_INI = ROOT / "examples" / "light.ini"
AIO_DEVICE = ROOT / "tests" / "peers" / "aio_device.py"
SERVERS = BENCH / "servers.py"
LOADGEN = BENCH / "loadgen.py"
EVENTSINK = BENCH / "eventsink.py"

SWITCH_POWER = "urn:schemas-upnp-org:service:SwitchPower:1"
AIO_DESCRIPTION = "/device.xml"
AIO_CONTROL = "/upnp/control/SwitchPower1"
AIO_EVENT = "/upnp/event/SwitchPower1"
AIO_SSDP_PORT = 1900

SEED = 20261121
# The server under test has core 1 to itself; load generators run on core 0.
SERVER_CORE = "1"
CLIENT_CORE = "0"
# Every loop is bounded by a count and by time; these are the defaults.
MAX_REQUESTS = 20000
RUN_SECONDS = 1.5
WARMUP_SECONDS = 0.4
RUNS = 3
# No server we start lives longer than this, whatever happens to us.
SERVER_LIFETIME = 120.0


def soap_envelope(action: str, arguments: Sequence[tuple[str, str]] = ()) -> bytes:
    """
    A SOAP action call to SwitchPower:1, as a UPnP control point sends it.
    """
    inner = "".join(f"<{name}>{value}</{name}>" for name, value in arguments)
    return (
        '<?xml version="1.0"?>\r\n'
        '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
        's:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>'
        f'<u:{action} xmlns:u="{SWITCH_POWER}">{inner}</u:{action}>'
        "</s:Body></s:Envelope>"
    ).encode()


def soap_headers(action: str) -> list[str]:
    return [
        'Content-Type: text/xml; charset="utf-8"',
        f'SOAPAction: "{SWITCH_POWER}#{action}"',
    ]


# -- processes -------------------------------------------------------------------


class Server:
    """
    A process we started: its output goes to a temporary file (a device
    that logs every request cannot block on a full pipe), read for the
    C{READY} line. Stopped by its PID only.
    """

    def __init__(self, name: str, argv: Sequence[str]) -> None:
        self.name = name
        self.argv = list(argv)
        self._out = tempfile.NamedTemporaryFile(
            prefix=f"bench-{name}-", suffix=".log", delete=False
        )
        self.rss: dict[str, float] = {}
        self.process = subprocess.Popen(
            self.argv, stdout=self._out, stderr=subprocess.STDOUT, cwd=ROOT,
            stdin=subprocess.DEVNULL,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        with open(self._out.name, "r", errors="replace") as f:
            return f.read()

    def ready(self, needle: str = "READY", timeout: float = 20.0) -> str:
        """
        The rest of the first output line that starts with C{needle}.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.output().splitlines():
                if line.startswith(needle):
                    return line[len(needle):].strip()
            if self.process.poll() is not None:
                break
            time.sleep(0.02)
        raise RuntimeError(
            f"{self.name} did not say {needle} (exit {self.process.poll()}):\n"
            + self.output()[-3000:]
        )

    def note_rss(self, when: str) -> None:
        """
        Remember the process's resident memory now (MB), as C{when}.
        """
        found = rss_mb(self.pid)
        if found is not None:
            self.rss[when] = found

    def stop(self, timeout: float = 5.0) -> None:
        """
        SIGTERM by PID, then SIGKILL by PID if it is still there.
        """
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        self._out.close()
        try:
            os.unlink(self._out.name)
        except OSError:
            pass


@contextmanager
def started(name: str, argv: Sequence[str]) -> Iterator[Server]:
    server = Server(name, argv)
    try:
        yield server
    finally:
        server.stop()


def pinned(argv: Sequence[str], core: str) -> list[str]:
    """
    C{argv} run on one CPU core (taskset execs the program: same PID), as
    it is when C{taskset} is not installed.
    """
    if shutil.which("taskset") is None or (os.cpu_count() or 1) < 2:
        return list(argv)
    return ["taskset", "-c", core, *argv]


def rss_mb(pid: int) -> float | None:
    """
    The resident memory of process C{pid}, in MB.
    """
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float:
    """
    User plus system CPU time of process C{pid} so far.
    """
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- the namespace for async-upnp-client ------------------------------------------


def netns_unavailable() -> str | None:
    """
    Why network namespaces cannot be used here, or C{None} if they can.
    """
    if not sys.platform.startswith("linux"):
        return "network namespaces are Linux only"
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "the ip command (iproute2) is not installed"
    return None


def aio_unavailable() -> str | None:
    """
    Why the async-upnp-client device cannot run here, or C{None}.
    """
    why = netns_unavailable()
    if why:
        return why
    probe = subprocess.run(
        [PYTHON, "-c", "import async_upnp_client.server"], capture_output=True, timeout=30
    )
    if probe.returncode != 0:
        return "async_upnp_client.server cannot be imported"
    return None


class Namespace:
    """
    A network namespace of our own with only C{lo} (up): nothing in it can
    reach any other host.
    """

    def __init__(self, name: str) -> None:
        self.name = name

    def command(self, argv: Sequence[str]) -> list[str]:
        # ip netns exec execs the command: the PID we get is the program's.
        return ["ip", "netns", "exec", self.name, *argv]


@contextmanager
def namespace(tag: str) -> Iterator[Namespace]:
    name = f"uabench-{tag}-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True, timeout=30)
    try:
        subprocess.run(
            ["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"],
            check=True, capture_output=True, timeout=30,
        )
        yield Namespace(name)
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=30)


@contextmanager
def aio_device(port: int = 8000) -> Iterator[tuple[Server, Namespace]]:
    """
    async-upnp-client's BinaryLight, in a namespace of its own, serving on
    that namespace's 127.0.0.1:C{port} and SSDP port 1900.
    """
    with namespace("aio") as ns:
        argv = ns.command(pinned(
            [PYTHON, str(AIO_DEVICE), "127.0.0.1", str(port), str(SERVER_LIFETIME), "--quiet"],
            SERVER_CORE,
        ))
        with started("aio", argv) as server:
            server.ready()
            yield server, ns


@contextmanager
def our_device(ssdp_port: int | None = None, events: bool = False) -> Iterator[tuple[Server, dict]]:
    """
    Our device (examples/light.ini) on 127.0.0.1 in its own process.
    """
    argv = pinned([PYTHON, str(SERVERS), "ours", "--seconds", str(SERVER_LIFETIME),
                   "--ssdp-port", str(ssdp_port or free_udp_port())], SERVER_CORE)
    if events:
        argv.append("--many-subscribers")
    with started("ours", argv) as server:
        info = json.loads(server.ready())
        yield server, info


def free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- running a measuring client ----------------------------------------------------


def run_client(argv: Sequence[str], timeout: float = 60.0) -> dict:
    """
    Run a load generator (or the event sink) and return the JSON it prints
    on its last line.
    """
    done = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(
            f"{' '.join(argv[:6])}... failed ({done.returncode}):\n"
            f"{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
        )
    return json.loads(lines[-1])


def loadgen_http(
    options: argparse.Namespace,
    port: int,
    path: str,
    server_pid: int,
    *,
    method: str = "GET",
    headers: Sequence[str] = (),
    body: bytes | None = None,
    expect: str = "",
    ns: Namespace | None = None,
) -> dict:
    """
    One run of loadgen.py's HTTP load (see L{alternate}).
    """
    argv = [PYTHON, str(LOADGEN), "http", "--host", "127.0.0.1", "--port", str(port),
            "--method", method, "--path", path, "--server-pid", str(server_pid),
            *common_load_args(options), "--connections", str(options.connections),
            "--expect", expect]
    for header in headers:
        argv += ["--header", header]
    if body is not None:
        argv += ["--body-hex", body.hex()]
    argv = pinned(argv, CLIENT_CORE)
    return one_run(run_client(ns.command(argv) if ns else argv))


def loadgen_ssdp(options: argparse.Namespace, port: int, server_pid: int, *,
                 st: str = "upnp:rootdevice", expect: int = 1,
                 ns: Namespace | None = None) -> dict:
    """
    One run of loadgen.py's SSDP load (see L{alternate}).
    """
    argv = [PYTHON, str(LOADGEN), "ssdp", "--port", str(port), "--server-pid", str(server_pid),
            *common_load_args(options), "--sources", str(options.sources),
            "--window", str(options.window), "--st", st, "--expect", str(expect)]
    argv = pinned(argv, CLIENT_CORE)
    return one_run(run_client(ns.command(argv) if ns else argv))


def common_load_args(options: argparse.Namespace) -> list[str]:
    return ["--duration", str(options.duration), "--max-requests", str(options.max_requests),
            "--warmup", str(options.warmup), "--runs", "1", "--seed", str(SEED)]


def arguments(description: str, **extra: tuple[type, object, str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--duration", type=float, default=RUN_SECONDS,
                        help="seconds per measured run at most (default %(default)s)")
    parser.add_argument("--max-requests", type=int, default=MAX_REQUESTS,
                        help="requests per measured run at most (default %(default)s)")
    parser.add_argument("--warmup", type=float, default=WARMUP_SECONDS,
                        help="seconds of unmeasured load first (default %(default)s)")
    parser.add_argument("--runs", type=int, default=RUNS,
                        help="alternating rounds; the median is reported (default %(default)s)")
    parser.add_argument("--skip-aio", action="store_true",
                        help="do not measure async-upnp-client's device")
    parser.add_argument("--json", help="also write the results to this file")
    for name, (kind, default, text) in extra.items():
        parser.add_argument("--" + name.replace("_", "-"), type=kind, default=default,
                            help=f"{text} (default %(default)s)")
    return parser


# -- alternating rounds ---------------------------------------------------------------


def alternate(runs: int, measures: dict[str, Callable[[], dict]],
              warm: bool = False, busy: float | None = None) -> dict[str, dict]:
    """
    C{runs} rounds; in each, one measured run of every implementation, in
    an order that rotates (no implementation always goes first, each sees
    the same machine conditions). Each measure returns one run's dict (as
    loadgen.py's runs); the result is, per name, C{{"runs": [...]}}.

    @param warm: first one unmeasured run of each (for loads without a
        warm-up of their own: wrk).
    @param busy: the share of its core a server must have been busy in a
        run for the run to count: a run below it (the load generator did
        not keep the server busy: on a shared machine, other work took its
        core) is run again, at most twice; the last one counts.
    """
    names = list(measures)
    if warm:
        for name in names:
            measures[name]()
    results: dict[str, dict] = {name: {"runs": []} for name in names}
    for i in range(runs):
        for name in names[i % len(names):] + names[: i % len(names)]:
            run = measures[name]()
            for _ in range(2):
                if busy is None or run.get("server_cpu_share", 1.0) >= busy:
                    break
                log(f"{name}: the server was busy {run.get('server_cpu_share'):.0%} "
                    "of the run only: again")
                run = measures[name]()
            results[name]["runs"].append(run)
    return results


def one_run(result: dict) -> dict:
    [run] = result["runs"]
    return run


WRK_SCRIPT = """
wrk.method = "{method}"
wrk.body = {body}
{headers}
local expect = {expect}
local threads = {{}}
function setup(thread) table.insert(threads, thread) end
function init(args) invalid = 0 end
if expect ~= "" then
  -- Every answer a success whose body holds what it must (a whole
  -- answer, not an error page); wrk counts statuses, this counts the rest.
  function response(status, headers, body)
    if status < 200 or status > 299 or body == nil
        or string.find(body, expect, 1, true) == nil then
      invalid = invalid + 1
    end
  end
end
function done(summary, latency, requests)
  local n = 0
  for _, thread in ipairs(threads) do n = n + (thread:get("invalid") or 0) end
  io.write(string.format("Invalid answers: %d\\n", n))
end
"""


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


def wrk(port: int, path: str, pid: int, *, duration: float, connections: int,
        method: str = "GET", headers: Sequence[str] = (), body: bytes | None = None,
        expect: str = "", ns: Namespace | None = None) -> dict:
    """
    One wrk run (one thread, C{connections} keep-alive connections) on the
    client core against 127.0.0.1:C{port}: the requests per second, any
    answer but 2xx/3xx, any socket error and any answer whose body does
    not contain C{expect} counted as an error, and the server's CPU
    microseconds per request.
    """
    lines = "\n".join(
        f'wrk.headers["{name}"] = {json.dumps(value.strip())}'
        for name, _, value in (h.partition(":") for h in headers)
    )
    script = WRK_SCRIPT.format(method=method, body=json.dumps((body or b"").decode("latin-1")),
                               headers=lines, expect=json.dumps(expect))
    with bytes_file(script.encode()) as scriptFile:
        argv = pinned(["wrk", "-t1", "-c", str(connections), "-d", f"{max(1, round(duration))}s",
                       "--timeout", "5s", "-s", scriptFile, f"http://127.0.0.1:{port}{path}"],
                      CLIENT_CORE)
        cpu0, started_ = cpu_seconds(pid), time.monotonic()
        done = subprocess.run(ns.command(argv) if ns else argv, capture_output=True, text=True,
                              timeout=duration + 30)
        cpu1, elapsed = cpu_seconds(pid), time.monotonic() - started_
    out = done.stdout
    found = re.search(r"Requests/sec:\s*([0-9.]+)", out)
    total = re.search(r"([0-9]+) requests in", out)
    if done.returncode != 0 or not found or not total:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{out}\n{done.stderr}")
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: ([0-9]+)", out))
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                              r"timeout (\d+)", out)
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    invalid = re.search(r"Invalid answers: ([0-9]+)", out)
    if invalid is None:
        raise RuntimeError(f"wrk printed no count of invalid answers:\n{out}")
    errors += int(invalid.group(1))
    count = int(total.group(1))
    return {
        "rate": float(found.group(1)), "count": count, "errors": errors,
        "server_cpu_us": (cpu1 - cpu0) / count * 1e6 if count else None,
        "server_cpu_share": round((cpu1 - cpu0) / elapsed, 3),
    }


# -- results -------------------------------------------------------------------------


@dataclass
class Measured:
    """
    One implementation's result for one measurement: the median rate of
    the runs, and the server's CPU time per unit (where we could read it).
    """

    rate: float | None
    rates: list[float] = field(default_factory=list)
    cpu_us: float | None = None
    errors: int = 0
    lost: int = 0
    note: str = ""

    @property
    def per_cpu(self) -> float | None:
        """
        Units per CPU-second of the server.
        """
        return 1e6 / self.cpu_us if self.cpu_us else None


@dataclass
class Goal:
    """
    One of issue 12's goals (or issue 11's figures): the value measured,
    the bound, and whether it is met.
    """

    name: str
    value: float | None
    bound: float
    at_least: bool = True
    unit: str = "x"

    @property
    def met(self) -> bool:
        if self.value is None or self.invalid:
            return False
        return self.value >= self.bound if self.at_least else self.value <= self.bound

    note: str = ""
    # Answers that were errors or not whole, in the runs compared: a goal
    # is not met on them, however fast.
    invalid: int = 0

    def line(self) -> str:
        value = "n/a" if self.value is None else f"{self.value:,.2f}{self.unit}"
        bound = f"{'>=' if self.at_least else '<='} {self.bound:g}{self.unit}"
        note = f"; {self.note}" if self.note else ""
        if self.invalid:
            note += f"; {self.invalid:,} invalid answers"
        return (f"{'MET    ' if self.met else 'NOT MET'}  {self.name}: {value} "
                f"(goal {bound}{note})")


@dataclass
class Row:
    measurement: str
    unit: str
    ours: Measured
    bare: Measured
    aio: Measured
    goals: list[Goal] = field(default_factory=list)
    per_cpu: bool = False


def row_from_json(row: dict) -> Row:
    return Row(row["measurement"], row["unit"],
               *(Measured(**row[who]) for who in ("ours", "bare", "aio")),
               goals=[Goal(**g) for g in row.get("goals", [])],
               per_cpu=row.get("per_cpu", False))


def invalid(*measured: Measured) -> int:
    """
    The invalid answers (errors, answers not whole) among the measured.
    """
    return sum(m.errors for m in measured if m.rate is not None)


def quotient(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def rates(a: Measured, b: Measured) -> str:
    """
    The ratio of the rates, beside a goal judged per CPU-second: the two
    agree while each server and its load generator have their cores to
    themselves; when other work on the machine takes part of a core, the
    rates drop (the load generator's first) and the CPU-seconds do not.
    """
    found = quotient(a.rate, b.rate)
    return "" if found is None else f"rates {found:.2f}x"


def summarise(result: dict, saturating: bool = True) -> Measured:
    """
    A client's per-run results as one L{Measured} (medians).

    @param saturating: whether the load should keep the server busy; if it
        did not, the rate is the client's limit, not the server's.
    """
    runs = result["runs"]
    rates = [r["rate"] for r in runs]
    cpus = [r["server_cpu_us"] for r in runs if r.get("server_cpu_us") is not None]
    shares = [r["server_cpu_share"] for r in runs if r.get("server_cpu_share") is not None]
    notes = []
    if shares:
        share = statistics.median(shares)
        notes.append(f"server CPU {share:.0%}")
        if saturating and share < 0.85:
            notes.append("not saturated: compare per CPU-second")
    return Measured(
        rate=statistics.median(rates),
        rates=[round(r, 1) for r in rates],
        cpu_us=statistics.median(cpus) if cpus else None,
        errors=sum(r.get("errors", 0) for r in runs),
        lost=sum(r.get("lost", 0) for r in runs),
        note="; ".join(notes),
    )


def skipped(reason: str) -> Measured:
    return Measured(rate=None, note=reason)


def ratio(a: float | None, b: float | None) -> str:
    found = quotient(a, b)
    return "-" if found is None else f"{found:.2f}"


def _cell(m: Measured, per_cpu: bool) -> str:
    if m.rate is None:
        return "skipped"
    if per_cpu and m.per_cpu is not None:
        return f"{m.per_cpu:,.0f}/cpu-s ({m.rate:,.0f}/s)"
    cpu = f" ({m.cpu_us:.0f}us)" if m.cpu_us is not None else ""
    return f"{m.rate:,.0f}{cpu}"


def _value(m: Measured, per_cpu: bool) -> float | None:
    return m.per_cpu if per_cpu else m.rate


def print_table(title: str, rows: Sequence[Row]) -> None:
    """
    Rates (with the server's CPU microseconds per unit, or per CPU-second
    where that is the measure) and the ratios.
    """
    header = ("measurement", "unit", "ours", "bare Twisted", "aio 0.49.0", "ours/bare", "ours/aio")
    table = [header]
    for row in rows:
        pc = row.per_cpu
        table.append((
            row.measurement, row.unit, _cell(row.ours, pc), _cell(row.bare, pc),
            _cell(row.aio, pc), ratio(_value(row.ours, pc), _value(row.bare, pc)),
            ratio(_value(row.ours, pc), _value(row.aio, pc)),
        ))
    widths = [max(len(str(line[i])) for line in table) for i in range(len(header))]
    print(f"\n{title}")
    print("  ".join(str(c).ljust(w) for c, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for line in table[1:]:
        print("  ".join(str(c).ljust(w) for c, w in zip(line, widths)))
    print("(median of alternating rounds; in brackets the server's CPU microseconds per unit,"
          " or the rate)")
    for row in rows:
        for who, m in (("ours", row.ours), ("bare", row.bare), ("aio", row.aio)):
            if m.rates:
                extra = f", {m.errors} errors" if m.errors else ""
                extra += f", {m.lost} lost" if m.lost else ""
                flag = f", {m.note}" if m.note else ""
                print(f"  {row.measurement} / {who}: runs {m.rates}{extra}{flag}")
            elif m.note and m.note != "-":
                print(f"  {row.measurement} / {who}: {m.note}")
    goals = [g for row in rows for g in row.goals]
    if goals:
        print("Goals:")
        for goal in goals:
            print("  " + goal.line())
    sys.stdout.flush()


def finish(options: argparse.Namespace, title: str, rows: Sequence[Row]) -> None:
    print_table(title, rows)
    if options.json:
        with open(options.json, "w") as f:
            json.dump([asdict(row) for row in rows], f, indent=1)


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def fetch(port: int, method: str, path: str, headers: Sequence[str] = (),
          body: bytes | None = None) -> tuple[int, bytes]:
    """
    One HTTP request to 127.0.0.1:C{port} (to learn the bytes a bare server
    should answer with).
    """
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        names = dict(h.split(": ", 1) for h in headers)
        connection.request(method, path, body=body, headers=names)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@contextmanager
def bytes_file(data: bytes) -> Iterator[str]:
    """
    C{data} in a temporary file, removed afterwards.
    """
    f = tempfile.NamedTemporaryFile(prefix="bench-", delete=False)
    try:
        f.write(data)
        f.close()
        yield f.name
    finally:
        os.unlink(f.name)


@contextmanager
def bare_http(get: bytes, post: bytes) -> Iterator[tuple[Server, dict]]:
    with bytes_file(get) as getFile, bytes_file(post) as postFile:
        argv = pinned([PYTHON, str(SERVERS), "bare-http", "--seconds", str(SERVER_LIFETIME),
                       "--get-file", getFile, "--post-file", postFile], SERVER_CORE)
        with started("bare-http", argv) as server:
            yield server, json.loads(server.ready())
