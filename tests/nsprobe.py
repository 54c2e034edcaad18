"""
Network namespaces for the pktinfo and rtnetlink tests, with the probe
programs of peers/netprobe.py run in them: made with C{ip netns add}, joined
by veth pairs created directly inside them (nothing ever appears in the root
namespace), and deleted afterwards, together with every process started in
them (stopped by PID).
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from support import need

HERE = os.path.dirname(os.path.abspath(__file__))
PROGRAM = os.path.join(HERE, "peers", "netprobe.py")
PREFIX = "ua-pr-"
_counter = itertools.count()

JSON = dict[str, Any]


def requireNamespaces() -> None:
    """
    Skip the calling test unless namespaces can be made here.
    """
    need(sys.platform.startswith("linux"), "network namespaces are Linux only")
    need(os.geteuid() == 0, "network namespaces need root")
    need(shutil.which("ip") is not None, "the ip command (iproute2) is not installed")


class Process:
    """
    A program started in a namespace, printing one JSON object a line; a
    thread collects them.
    """

    def __init__(self, argv: Sequence[str]) -> None:
        self.process = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.records: list[JSON] = []
        self.other: list[str] = []
        self._changed = threading.Condition()
        self._stdout = threading.Thread(target=self._read, daemon=True)
        self._stdout.start()
        self._stderr = threading.Thread(target=self._readErrors, daemon=True)
        self._stderr.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                try:
                    record = json.loads(line)
                except ValueError:
                    self.other.append(line.rstrip("\n"))
                else:
                    record.setdefault("received", time.monotonic())
                    self.records.append(record)
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def _readErrors(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self._changed:
                self.other.append(line.rstrip("\n"))

    def describe(self) -> str:
        with self._changed:
            return "\n".join([*map(json.dumps, self.records), *self.other])

    def waitFor(self, predicate: Callable[[JSON], bool], timeout: float) -> JSON:
        """
        The first record that satisfies C{predicate}, waiting at most
        C{timeout} seconds for it.

        @raise AssertionError: When none comes in time, or the program ends.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for record in self.records:
                    if predicate(record):
                        return record
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._stdout.is_alive():
                    raise AssertionError(f"no matching record in {timeout}s:\n{self.describe()}")
                self._changed.wait(min(remaining, 0.2))

    def wait(self, timeout: float) -> int:
        """
        Wait for the program to end by itself, then for its output.
        """
        code = self.process.wait(timeout=timeout)
        self._stdout.join(timeout)
        self._stderr.join(timeout)
        return code

    def stop(self, timeout: float = 10) -> None:
        """
        SIGTERM, then SIGKILL if it lingers; by PID.
        """
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)
        self._stdout.join(timeout)
        self._stderr.join(timeout)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


class Namespaces:
    """
    The namespaces of one test.
    """

    def __init__(self, tag: str) -> None:
        self.tag = f"{tag}{os.getpid() % 100000}x{next(_counter)}"
        self.names: list[str] = []
        self.processes: list[Process] = []

    def add(self, role: str) -> str:
        """
        Make a namespace with its loopback up.

        @return: Its name.
        """
        name = f"{PREFIX}{self.tag}-{role}"
        subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True, timeout=30)
        self.names.append(name)
        self.ip(name, "link", "set", "lo", "up")
        return name

    def run(self, namespace: str, *argv: str) -> str:
        """
        Run a command in a namespace; its output.

        @raise subprocess.CalledProcessError: When it fails.
        """
        assert namespace in self.names, "only in our own namespaces"
        done = subprocess.run(
            ["ip", "netns", "exec", namespace, *argv],
            check=True,
            capture_output=True,
            text=True,
            timeout=30,
        )
        return done.stdout

    def ip(self, namespace: str, *argv: str) -> str:
        return self.run(namespace, "ip", *argv)

    def sysctl(self, namespace: str, key: str, value: str) -> None:
        self.run(namespace, "sysctl", "-q", "-w", f"{key}={value}")

    def veth(self, a: str, aName: str, b: str, bName: str) -> None:
        """
        A veth pair, made inside namespace C{a}, its peer moved straight into
        C{b} (which may be C{a}); both ends left down.
        """
        assert a in self.names and b in self.names
        self.ip(a, "link", "add", aName, "type", "veth", "peer", "name", bName, "netns", b)

    def up(self, namespace: str, interface: str) -> None:
        self.ip(namespace, "link", "set", interface, "up")

    def address(self, namespace: str, interface: str, *argv: str) -> None:
        self.ip(namespace, "addr", "add", *argv, "dev", interface)

    def ifindex(self, namespace: str, interface: str) -> int:
        (link,) = json.loads(self.ip(namespace, "-j", "link", "show", "dev", interface))
        return int(link["ifindex"])

    def waitForDAD(self, namespace: str, timeout: float = 10) -> float:
        """
        Wait until no IPv6 address in the namespace is tentative.

        @return: How long it took.
        """
        start = time.monotonic()
        while True:
            if not self.ip(namespace, "-6", "addr", "show", "tentative").strip():
                return time.monotonic() - start
            if time.monotonic() - start > timeout:
                raise AssertionError(f"IPv6 DAD not done in {timeout}s in {namespace}")
            time.sleep(0.1)

    def program(self, namespace: str, command: str, config: JSON) -> Process:
        """
        Start C{_nsprog.py command config} in a namespace.
        """
        assert namespace in self.names
        argv = [
            "ip",
            "netns",
            "exec",
            namespace,
            sys.executable,
            PROGRAM,
            command,
            json.dumps(config),
        ]
        process = Process(argv)
        self.processes.append(process)
        return process

    def close(self) -> None:
        for process in self.processes:
            process.stop()
        for name in self.names:
            subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=30)


@contextmanager
def namespaces(tag: str) -> Iterator[Namespaces]:
    """
    Namespaces for a test, all deleted when it ends, pass or fail.
    """
    requireNamespaces()
    made = Namespaces(tag)
    try:
        yield made
    finally:
        made.close()
