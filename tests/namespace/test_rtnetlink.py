"""
The rtnetlink watcher in a namespace: address and link changes seen within
3 s, tentative IPv6 addresses, and a real receive-buffer overrun.
"""

from __future__ import annotations

import errno
import subprocess
import time
from typing import Any

from unit.test_rtnetlink import AF_INET

from upnp_announce.rtnetlink import (
    IFA_F_NODAD,
    IFF_UP,
)

from nsprobe import JSON, namespaces


def test_namespace_events() -> None:
    """
    A watcher running in a namespace sees links and addresses come and go
    within 3 s, tentative IPv6 addresses turn bindable after DAD, and a
    duplicate fails DAD.
    """
    with namespaces("rt") as ns:
        w = ns.add("w")
        ns.veth(w, "w0", w, "w1")
        watcher = ns.program(w, "watch", {"seconds": 30})
        assert watcher.waitFor(lambda r: "ready" in r, 10)["ready"] is True

        clock = {"acted": time.monotonic()}

        def act(*argv: str) -> None:
            clock["acted"] = time.monotonic()
            ns.ip(w, *argv)

        def seen(predicate: Any, timeout: float = 3.0) -> JSON:
            """
            The first record matching, seen by the watcher less than
            C{timeout} seconds after the last command.
            """
            record = watcher.waitFor(predicate, timeout)
            assert record["at"] - clock["acted"] < timeout
            return record

        def address(text: str, **match: object) -> Any:
            return lambda r: (
                r.get("type") == "AddressEvent"
                and r["address"] == text
                and all(r.get(k) == v for k, v in match.items())
            )

        act("link", "set", "w1", "up")
        act("link", "set", "w0", "up")
        w0 = ns.ifindex(w, "w0")
        seen(lambda r: r.get("type") == "LinkEvent" and r["name"] == "w0" and r["flags"] & IFF_UP)

        act("addr", "add", "10.44.0.1/24", "dev", "w0")
        record = seen(address("10.44.0.1", kind="new"))
        assert (record["index"], record["family"], record["prefixlen"], record["label"]) == (
            w0,
            AF_INET,
            24,
            "w0",
        )
        assert record["peer"] is None

        act("addr", "add", "10.44.1.1", "peer", "10.44.1.2/32", "dev", "w0")
        record = seen(address("10.44.1.1", kind="new"))
        assert record["peer"] == "10.44.1.2"

        # A new IPv6 address is tentative (cannot be bound) until DAD ends.
        act("addr", "add", "fd00:44::1/64", "dev", "w0")
        record = seen(address("fd00:44::1", kind="new", tentative=True))
        assert record["bindErrno"] == errno.EADDRNOTAVAIL and not record["bindable"]
        record = seen(address("fd00:44::1", kind="new", tentative=False), timeout=6)
        assert record["bindErrno"] == 0 and record["bindable"]

        act("addr", "add", "fd00:44::2/64", "nodad", "dev", "w0")
        record = seen(address("fd00:44::2", kind="new"))
        assert (
            record["flags"] & IFA_F_NODAD and not record["tentative"] and record["bindErrno"] == 0
        )

        # The same address on the other end: DAD fails.
        act("addr", "add", "fd00:44::9/64", "nodad", "dev", "w1")
        act("addr", "add", "fd00:44::9/64", "dev", "w0")
        seen(address("fd00:44::9", index=w0, dadFailed=True), timeout=6)

        # The automatic link-local address: bindable only with its scope id.
        record = seen(
            lambda r: (
                r.get("type") == "AddressEvent"
                and r["address"].startswith("fe80:")
                and r["index"] == w0
            )
        )
        assert (
            record["scope"] == 253
            and record["bindErrno"] == 0
            and record["bindNoScopeErrno"] == errno.EINVAL
        )

        act("addr", "del", "10.44.0.1/24", "dev", "w0")
        seen(address("10.44.0.1", kind="del"))

        act("link", "del", "w0")
        seen(lambda r: r.get("type") == "LinkEvent" and r["kind"] == "del" and r["name"] == "w0")
        seen(lambda r: r.get("type") == "LinkEvent" and r["kind"] == "del" and r["name"] == "w1")
        assert not any(r.get("type") == "lost" for r in watcher.records)


def test_namespace_overrun() -> None:
    """
    When notifications overrun the socket's buffer while the reactor is
    busy, the kernel drops them and says so (ENOBUFS): the watcher reports a
    lost change (so the caller rescans) and goes on watching.
    """
    with namespaces("rto") as ns:
        w = ns.add("w")
        ns.veth(w, "w0", w, "w1")
        ns.up(w, "w0")
        watcher = ns.program(w, "watch", {"seconds": 30, "rcvbuf": 1, "stall": 2})
        assert watcher.waitFor(lambda r: "ready" in r, 10)["ready"] is True
        watcher.waitFor(lambda r: "stalling" in r, 5)
        batch = "".join(f"addr add 10.50.{n // 200}.{n % 200 + 1}/32 dev w0\n" for n in range(300))
        subprocess.run(
            ["ip", "-n", w, "-batch", "-"], input=batch, text=True, check=True, timeout=30
        )
        stalled = watcher.waitFor(lambda r: "stalled" in r, 5)
        lost = watcher.waitFor(lambda r: r.get("type") == "lost", 3)
        assert lost["at"] - stalled["at"] < 3
        seenAddresses = {r["address"] for r in watcher.records if r.get("type") == "AddressEvent"}
        assert len(seenAddresses & {f"10.50.{n // 200}.{n % 200 + 1}" for n in range(300)}) < 300
        ns.ip(w, "addr", "add", "10.51.0.1/24", "dev", "w0")
        watcher.waitFor(
            lambda r: r.get("type") == "AddressEvent" and r["address"] == "10.51.0.1", 3
        )
