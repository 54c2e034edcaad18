"""
Test networks made of Linux network namespaces: hosts joined by veth pairs,
with addresses of our own, removed when the test ends. Needs root (CI is
root); elsewhere the tests that use it skip with the reason.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from support import need

_counter = itertools.count()

# twistd, as the Python running the tests runs it.
TWISTD = [sys.executable, "-c", "from twisted.scripts.twistd import run; run()"]


def require_netns() -> None:
    need(os.geteuid() == 0, "network namespaces need root")
    need(shutil.which("ip") is not None, "the ip command (iproute2) is not installed")
    need(sys.platform.startswith("linux"), "network namespaces are Linux only")


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


class Running:
    """
    A process started in a namespace, its output collected by a thread.
    """

    def __init__(self, argv: Sequence[str], **kw: object) -> None:
        self.process = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            **kw,  # type: ignore[call-overload]
        )
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def wait_for(self, needle: str, timeout: float = 20) -> str:
        """
        The first output line that contains C{needle}, waiting for it.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in self.lines:
                    if needle in line:
                        return line
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (self.process.poll() is not None and not self._reader.is_alive()):
                    raise AssertionError(
                        f"no line with {needle!r} in:\n" + "\n".join(self.lines)
                    )
                self._changed.wait(min(remaining, 0.5))

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        """
        Send C{sig} (by PID) and wait for the process and its output.
        """
        if self.process.poll() is None:
            self.process.send_signal(sig)
        code = self.process.wait(timeout=timeout)
        self._reader.join(timeout)
        if self.process.stdout is not None:
            self.process.stdout.close()
        return code


@dataclass
class Host:
    """
    One network namespace.
    """

    name: str
    processes: list[Running] = field(default_factory=list)

    def command(self, argv: Sequence[str]) -> list[str]:
        return ["ip", "netns", "exec", self.name, *argv]

    def run(self, argv: Sequence[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.command(argv), capture_output=True, text=True, timeout=timeout)

    def start(self, argv: Sequence[str], **kw: object) -> Running:
        """
        Start a process in this namespace; it is killed (by PID) when the
        network is torn down, if it still runs.
        """
        running = Running(self.command(argv), **kw)
        self.processes.append(running)
        return running


@dataclass
class Link:
    """
    A veth pair between two hosts, with an address at each end.
    """

    a: Host
    a_interface: str
    a_address: str
    b: Host
    b_interface: str
    b_address: str
    prefix: int = 24


@dataclass
class Network:
    hosts: list[Host] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    tag: str = ""

    def host(self, role: str) -> Host:
        host = Host(f"ua-{self.tag}-{role}")
        _ip("netns", "add", host.name)
        self.hosts.append(host)
        _ip("netns", "exec", host.name, "ip", "link", "set", "lo", "up")
        # No duplicate address detection: IPv6 addresses (link-local ones
        # too) are usable at once, not after a second or two.
        for scope in ("all", "default"):
            subprocess.run(["ip", "netns", "exec", host.name, "sysctl", "-qw",
                            f"net.ipv6.conf.{scope}.accept_dad=0"],
                           capture_output=True, timeout=30)
        return host

    def link(
        self,
        a: Host,
        a_address: str | None,
        b: Host,
        b_address: str | None,
        prefix: int = 24,
        *,
        a6: str | None = None,
        b6: str | None = None,
        names: tuple[str, str] | None = None,
    ) -> Link:
        """
        A veth pair between C{a} and C{b}, up, with these addresses (an
        address of C{None} leaves that end without IPv4; C{a6}/C{b6} are
        IPv6 C{ADDR/PREFIX}, added without duplicate address detection).
        """
        n = len(self.links)
        a_if, b_if = names or (f"ua{self.tag}a{n}", f"ua{self.tag}b{n}")
        _ip("link", "add", a_if, "netns", a.name, "type", "veth", "peer", "name", b_if,
            "netns", b.name)
        for host, interface, address, v6 in ((a, a_if, a_address, a6), (b, b_if, b_address, b6)):
            if address is not None:
                self.address(host, interface, f"{address}/{prefix}")
            if v6 is not None:
                self.address(host, interface, v6)
            _ip("netns", "exec", host.name, "ip", "link", "set", interface, "up")
        link = Link(a, a_if, a_address or "", b, b_if, b_address or "", prefix)
        self.links.append(link)
        return link

    def address(
        self, host: Host, interface: str, cidr: str, *, remove: bool = False, dad: bool = False
    ) -> None:
        """
        Add (or remove) an address; IPv6 ones without duplicate address
        detection unless C{dad}.
        """
        extra = ["nodad"] if ":" in cidr and not remove and not dad else []
        _ip("netns", "exec", host.name, "ip", "addr", "del" if remove else "add", cidr,
            "dev", interface, *extra)

    def unlink(self, link: Link) -> None:
        """
        Delete the veth pair (both ends go).
        """
        _ip("netns", "exec", link.a.name, "ip", "link", "del", link.a_interface)
        self.links.remove(link)

    def link_local(self, host: Host, interface: str) -> str:
        """
        The IPv6 link-local address of C{interface}, waiting for it.
        """
        deadline = time.monotonic() + 10
        while True:
            out = host.run(["ip", "-6", "-o", "addr", "show", "dev", interface, "scope", "link"])
            found = re.search(r"inet6 (fe80::[0-9a-f:]+)/", out.stdout)
            if found:
                return found.group(1)
            if time.monotonic() > deadline:
                raise AssertionError(f"no link-local address on {interface}: {out.stdout}")
            time.sleep(0.05)

    def route_multicast(self, host: Host, interface: str) -> None:
        """
        Send multicast that names no interface out of C{interface} (what a
        LAN's default route does for ordinary peers).
        """
        _ip("netns", "exec", host.name, "ip", "route", "add", "224.0.0.0/4", "dev", interface)

    def teardown(self) -> None:
        for host in self.hosts:
            for running in host.processes:
                running.stop(signal.SIGKILL)
        for host in self.hosts:
            subprocess.run(["ip", "netns", "del", host.name], capture_output=True, timeout=30)


@contextmanager
def network() -> Iterator[Network]:
    require_netns()
    net = Network(tag=f"{os.getpid() % 1000}{next(_counter)}")
    try:
        yield net
    finally:
        net.teardown()


def start_twistd(
    host: Host, config: str, *interfaces: str, extra: Sequence[str] = (), **kw: object
) -> tuple[Running, dict[str, str]]:
    """
    Start C{twistd upnp --config config} in C{host} on C{interfaces}; wait
    until it serves on each.

    @param extra: more options for the upnp plugin.
    @return: the process, and each interface's description URL.
    """
    argv = [*TWISTD, "-n", "--pidfile=", "--logfile=-", "upnp", "--config", config, *extra]
    for interface in interfaces:
        argv += ["--interface", interface]
    device = host.start(argv, **kw)
    locations = {}
    for interface in interfaces:
        line = device.wait_for(f"on {interface} at http://")
        found = re.search(r"at (http://\S+)", line)
        assert found is not None, line
        locations[interface] = found.group(1)
    return device, locations
