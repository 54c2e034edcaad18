"""
PacketInfoPort across network namespaces: multicast to 239.255.255.250,
ff02::c and ff05::c arrives with the right interface and group; replies go
out of the arrival interface; overlapping subnets on two interfaces are
told apart; and the kernel behaviours the port works around, pinned.
"""

from __future__ import annotations

import errno
import json
import time
from collections.abc import Callable, Iterator, Sequence

import pytest
from unit.test_pktinfo import GROUP4, GROUP6_LINK, GROUP6_SITE

from nsprobe import JSON, Namespaces, Process, namespaces


def ending(tag: str) -> Callable[[JSON], bool]:
    """
    A predicate: a datagram record whose data ends with C{tag}.
    """
    return lambda x: bool(x.get("data", "").endswith(tag))


def waitAll(
    process: Process, predicates: Sequence[Callable[[JSON], bool]], timeout: float = 5
) -> list[JSON]:
    return [process.waitFor(p, timeout) for p in predicates]


def got(records: Sequence[JSON], label: str) -> list[JSON]:
    return [r for r in records if r.get("label") == label and "data" in r]


def linkLocal(ns: Namespaces, namespace: str, interface: str) -> str:
    (link,) = [
        a["local"]
        for entry in json.loads(ns.ip(namespace, "-j", "-6", "addr", "show", "dev", interface))
        for a in entry["addr_info"]
        if a["scope"] == "link"
    ]
    return str(link)


@pytest.fixture
def pair() -> Iterator[tuple[Namespaces, str, str]]:
    """
    Namespaces r and s, joined by veth r0 (10.31.0.1/24, fd00:ab::1/64) and
    s0 (10.31.0.2/24, fd00:ab::2/64); the global IPv6 addresses skip DAD,
    and the automatic link-local ones are waited for.
    """
    with namespaces("pk") as ns:
        r, s = ns.add("r"), ns.add("s")
        ns.veth(r, "r0", s, "s0")
        for namespace, interface, v4, v6 in (
            (r, "r0", "10.31.0.1/24", "fd00:ab::1/64"),
            (s, "s0", "10.31.0.2/24", "fd00:ab::2/64"),
        ):
            ns.address(namespace, interface, v4)
            ns.address(namespace, interface, v6, "nodad")
            ns.up(namespace, interface)
        ns.waitForDAD(r)
        ns.waitForDAD(s)
        yield ns, r, s


def search(
    family: int,
    host: str,
    mode: str,
    tag: str,
    port: int = 1900,
    ifname: str = "s0",
    **more: object,
) -> JSON:
    return {
        "family": family,
        "host": host,
        "port": port,
        "ifname": ifname,
        "mode": mode,
        "data": f'M-SEARCH * HTTP/1.1\r\nMAN: "ssdp:discover"\r\n\r\n{tag}',
        **more,
    }


def test_multicast_between_namespaces(pair: tuple[Namespaces, str, str]) -> None:
    """
    M-SEARCHes to 239.255.255.250, [ff02::c%s0] and [ff05::c] (interface
    chosen per datagram, or with IP(V6)_MULTICAST_IF) arrive with r0's index
    and the group as destination, only at the sockets that joined, and the
    unicast replies sent by that index come back; a link-local bind with its
    zone works; join/leave errors are reported.
    """
    ns, r, s = pair
    llR = linkLocal(ns, r, "r0")
    sockets = [
        {
            "label": "main4",
            "family": 4,
            "port": 1900,
            "joins": [[GROUP4, "r0"]],
            "reply": "ifindex",
            "ops": [["join", GROUP4, "r0"]],
        },
        {"label": "nojoin4", "family": 4, "port": 1900},
        {"label": "legacy4", "family": 4, "port": 1900, "multicastAll": True},
        {
            "label": "left4",
            "family": 4,
            "port": 1900,
            "joins": [[GROUP4, "r0"]],
            "ops": [["leave", GROUP4, "r0"], ["leave", GROUP4, "r0"]],
        },
        {"label": "bad4", "family": 4, "port": 1903, "ops": [["join", GROUP4, 99999]]},
        {
            "label": "main6",
            "family": 6,
            "port": 1900,
            "joins": [[GROUP6_LINK, "r0"], [GROUP6_SITE, "r0"]],
            "reply": "ifindex",
        },
        {"label": "nojoin6", "family": 6, "port": 1900},
        {"label": "legacy6", "family": 6, "port": 1900, "multicastAll": True},
        {"label": "ll6", "family": 6, "port": 1902, "bind": f"{llR}%r0", "reply": "ifindex"},
        {
            "label": "bad6",
            "family": 6,
            "port": 1903,
            "ops": [["join", GROUP6_LINK, 99999], ["join", "::1", "r0"]],
        },
    ]
    receiver = ns.program(r, "receive", {"seconds": 30, "sockets": sockets})
    ready = receiver.waitFor(lambda x: x.get("ready") is True, 10)
    r0, s0 = ready["ifindex"]["r0"], ns.ifindex(s, "s0")
    sends = [
        search(4, GROUP4, "pktinfo", "v4-pktinfo"),
        search(4, GROUP4, "multicastif", "v4-mcif"),
        search(6, GROUP6_LINK, "scope", "v6-ff02-scope"),
        search(6, GROUP6_SITE, "pktinfo", "v6-ff05-pktinfo"),
        search(6, GROUP6_SITE, "multicastif", "v6-ff05-mcif"),
        search(6, llR, "scope", "v6-linklocal-unicast", port=1902),
    ]
    sender = ns.program(s, "send", {"seconds": 2, "sends": sends})
    assert sender.wait(15) == 0
    sent = [x for x in sender.records if "send" in x]
    assert [x.get("sent", x) for x in sent] == [len(x["data"]) for x in sends]

    def arrived(label: str, tag: str) -> Callable[[JSON], bool]:
        return lambda x: x.get("label") == label and x.get("data", "").endswith(tag)

    expected = {
        "main4": ["v4-pktinfo", "v4-mcif"],
        "legacy4": ["v4-pktinfo", "v4-mcif"],
        "main6": ["v6-ff02-scope", "v6-ff05-pktinfo", "v6-ff05-mcif"],
        "legacy6": ["v6-ff02-scope", "v6-ff05-pktinfo", "v6-ff05-mcif"],
        "ll6": ["v6-linklocal-unicast"],
    }
    destinations = {
        "v4-pktinfo": GROUP4,
        "v4-mcif": GROUP4,
        "v6-ff02-scope": GROUP6_LINK,
        "v6-ff05-pktinfo": GROUP6_SITE,
        "v6-ff05-mcif": GROUP6_SITE,
        "v6-linklocal-unicast": llR,
    }
    for label, tags in expected.items():
        for record, tag in zip(
            waitAll(receiver, [arrived(label, t) for t in tags]), tags, strict=True
        ):
            assert (record["ifindex"], record["dst"]) == (r0, destinations[tag]), record
            if record["src"][0].startswith("fe80:"):
                assert record["src"][3] == r0, "a link-local source comes with its scope id"
            elif tag.startswith("v4"):
                assert record["src"][0] == "10.31.0.2"
            else:
                assert record["src"][0] == "fd00:ab::2"
    time.sleep(0.3)
    for label in ("nojoin4", "left4", "nojoin6"):
        assert got(receiver.records, label) == [], (
            f"{label} joined nothing but received:\n{receiver.describe()}"
        )
    for label, tags in expected.items():
        assert len(got(receiver.records, label)) == len(tags)

    errors = {(x["label"], x["op"]): x["errno"] for x in receiver.records if "errno" in x}
    assert errors == {
        ("main4", 1): errno.EADDRINUSE,  # joined twice on the same interface
        ("left4", 2): errno.EADDRNOTAVAIL,  # left twice
        ("bad4", 0): errno.ENODEV,
        ("bad6", 0): errno.ENODEV,
        ("bad6", 1): errno.EINVAL,  # ::1 is not a group
    }

    replies = {x["reply"]: x for x in sender.records if "reply" in x}
    assert sorted(replies) == sorted(
        f"REPLY {label} via r0 to {tag}"
        for label in ("main4", "main6", "ll6")
        for tag in expected[label]
    ), sender.describe()
    assert all(x["ifindex"] == s0 for x in replies.values())


@pytest.fixture
def overlap() -> Iterator[tuple[Namespaces, str, str, str]]:
    """
    Namespace m with m0 and m1, both 10.9.0.1/24 (overlapping subnets), to
    namespaces a (a0, 10.9.0.2/24) and b (b0, 10.9.0.2/24 as well).
    """
    with namespaces("ov") as ns:
        m, a, b = ns.add("m"), ns.add("a"), ns.add("b")
        # Reverse-path filtering would drop what comes in on the interface
        # that is not the first route to 10.9.0.0/24.
        ns.sysctl(m, "net.ipv4.conf.all.rp_filter", "0")
        ns.sysctl(m, "net.ipv4.conf.default.rp_filter", "0")
        ns.veth(m, "m0", a, "a0")
        ns.veth(m, "m1", b, "b0")
        for namespace, interface in ((m, "m0"), (m, "m1"), (a, "a0"), (b, "b0")):
            ns.address(namespace, interface, "10.9.0.1/24" if namespace == m else "10.9.0.2/24")
            ns.up(namespace, interface)
        for namespace in (m, a, b):
            ns.waitForDAD(namespace)
        yield ns, m, a, b


@pytest.mark.parametrize("reply", ["ifindex", "route"])
def test_overlapping_subnets(overlap: tuple[Namespaces, str, str, str], reply: str) -> None:
    """
    Two peers with the same address 10.9.0.2 behind two interfaces with the
    same subnet: their multicast and unicast M-SEARCHes are told apart by
    the arrival index, and replies sent by that index reach the right peer.
    Replies left to routing all leave by the first route's interface, so the
    second peer never hears back.
    """
    ns, m, a, b = overlap
    receiver = ns.program(
        m,
        "receive",
        {
            "seconds": 30,
            "sockets": [
                {
                    "label": "ssdp",
                    "family": 4,
                    "port": 1900,
                    "joins": [[GROUP4, "m0"], [GROUP4, "m1"]],
                    "reply": reply,
                },
            ],
        },
    )
    index = receiver.waitFor(lambda x: x.get("ready") is True, 10)["ifindex"]
    senders = {}
    for peer, interface in ((a, "a0"), (b, "b0")):
        senders[interface] = ns.program(
            peer,
            "send",
            {
                "seconds": 2,
                "sends": [
                    search(4, GROUP4, "pktinfo", f"multicast-from-{interface}", ifname=interface),
                    search(4, "10.9.0.1", "plain", f"unicast-from-{interface}", ifname=""),
                ],
            },
        )
    for sender in senders.values():
        assert sender.wait(15) == 0
    for interface, mine in (("a0", "m0"), ("b0", "m1")):
        for kind, destination in (("multicast", GROUP4), ("unicast", "10.9.0.1")):
            record = receiver.waitFor(ending(f"{kind}-from-{interface}"), 5)
            assert (record["ifindex"], record["dst"], record["src"][0]) == (
                index[mine],
                destination,
                "10.9.0.2",
            )
    replies = {i: sorted(x["reply"] for x in s.records if "reply" in x) for i, s in senders.items()}
    if reply == "ifindex":
        assert replies == {
            "a0": [
                "REPLY ssdp via m0 to multicast-from-a0",
                "REPLY ssdp via m0 to unicast-from-a0",
            ],
            "b0": [
                "REPLY ssdp via m1 to multicast-from-b0",
                "REPLY ssdp via m1 to unicast-from-b0",
            ],
        }
    else:
        assert replies["b0"] == [], "routing sends every reply to 10.9.0.2 out of m0"
        assert replies["a0"] == [
            "REPLY ssdp via m0 to multicast-from-a0",
            "REPLY ssdp via m0 to unicast-from-a0",
        ]


@pytest.fixture(scope="module")
def perInterface() -> Iterator[list[JSON]]:
    """
    In the overlap topology, one socket per (family, interface) on the same
    port, each joined on its own interface; IPv6 ones with and without the
    membership filter. Both peers send to the groups. The receiver's
    records.
    """
    with namespaces("pi") as ns:
        m, a, b = ns.add("m"), ns.add("a"), ns.add("b")
        ns.veth(m, "m0", a, "a0")
        ns.veth(m, "m1", b, "b0")
        for namespace, interface in ((m, "m0"), (m, "m1"), (a, "a0"), (b, "b0")):
            ns.up(namespace, interface)
        ns.address(m, "m0", "10.9.1.1/24")
        ns.address(m, "m1", "10.9.2.1/24")
        ns.address(a, "a0", "10.9.1.2/24")
        ns.address(b, "b0", "10.9.2.2/24")
        for namespace in (m, a, b):
            ns.waitForDAD(namespace)
        sockets = []
        for interface in ("m0", "m1"):
            sockets += [
                {
                    "label": f"{interface}-v4",
                    "family": 4,
                    "port": 1901,
                    "reusePort": False,
                    "joins": [[GROUP4, interface]],
                },
                {
                    "label": f"{interface}-v6",
                    "family": 6,
                    "port": 1901,
                    "joins": [[GROUP6_LINK, interface]],
                },
                {
                    "label": f"{interface}-v6-unfiltered",
                    "family": 6,
                    "port": 1902,
                    "filter": False,
                    "joins": [[GROUP6_LINK, interface]],
                },
            ]
        receiver = ns.program(m, "receive", {"seconds": 30, "sockets": sockets})
        receiver.waitFor(lambda x: x.get("ready") is True, 10)
        for peer, interface in ((a, "a0"), (b, "b0")):
            sender = ns.program(
                peer,
                "send",
                {
                    "seconds": 0.5,
                    "sends": [
                        {
                            "family": 4,
                            "host": GROUP4,
                            "port": 1901,
                            "ifname": interface,
                            "mode": "pktinfo",
                            "data": f"v4-{interface}",
                        },
                        {
                            "family": 6,
                            "host": GROUP6_LINK,
                            "port": 1901,
                            "ifname": interface,
                            "mode": "scope",
                            "data": f"v6-{interface}",
                        },
                        {
                            "family": 6,
                            "host": GROUP6_LINK,
                            "port": 1902,
                            "ifname": interface,
                            "mode": "scope",
                            "data": f"v6u-{interface}",
                        },
                    ],
                },
            )
            assert sender.wait(15) == 0
            assert all("sent" in x for x in sender.records if "send" in x), sender.describe()
        receiver.waitFor(
            lambda x: x.get("data") == "v6u-b0" and x["label"] == "m1-v6-unfiltered", 5
        )
        time.sleep(0.3)
        yield list(receiver.records)


def test_membership_per_interface(perInterface: list[JSON]) -> None:
    """
    Each socket gets only what arrived on the interface it joined on: IPv4
    by the kernel (with IP_MULTICAST_ALL off, membership is per (group,
    ifindex)), IPv6 thanks to the port's membership filter.
    """
    for label in ("m0-v4", "m1-v4", "m0-v6", "m1-v6"):
        interface = label[:2]
        peer = {"m0": "a0", "m1": "b0"}[interface]
        received = [(x["data"], x["ifname"]) for x in got(perInterface, label)]
        family = label[3:]
        assert received == [(f"{family}-{peer}", interface)], label


def test_kernel_ipv6_membership_ignores_interface(perInterface: list[JSON]) -> None:
    """
    Why the filter: Linux checks an IPv6 socket's memberships by group only,
    so without it a socket joined on m0 also gets the group's datagrams
    that arrive on m1 (where another socket joined).
    """
    received = sorted((x["data"], x["ifname"]) for x in got(perInterface, "m0-v6-unfiltered"))
    if received == [("v6u-a0", "m0")]:
        pytest.skip("this kernel checks the interface of IPv6 memberships too")
    assert received == [("v6u-a0", "m0"), ("v6u-b0", "m1")]


def test_kernel_reuseport_misdelivers(overlap: tuple[Namespaces, str, str, str]) -> None:
    """
    Why one socket per port: IPv4 sockets sharing a port with SO_REUSEPORT,
    each joined on its own interface. When exactly one socket matches, UDP
    early demux picks it, and then the reuse-port group's hash picks any
    member: group datagrams go to the socket of the other interface (with
    the membership filter on, as by default, they are dropped there: the
    right socket never sees them).
    """
    ns, m, a, b = overlap
    receiver = ns.program(
        m,
        "receive",
        {
            "seconds": 30,
            "sockets": [
                {
                    "label": f"{i}-reuseport",
                    "family": 4,
                    "port": 1904,
                    "joins": [[GROUP4, i]],
                    "filter": False,
                }
                for i in ("m0", "m1")
            ],
        },
    )
    receiver.waitFor(lambda x: x.get("ready") is True, 10)
    for peer, interface in ((a, "a0"), (b, "b0")):
        sender = ns.program(
            peer,
            "send",
            {
                "seconds": 0.2,
                "sends": [
                    {
                        "family": 4,
                        "host": GROUP4,
                        "port": 1904,
                        "ifname": interface,
                        "mode": "pktinfo",
                        "data": f"{interface}-{n}",
                        "newPort": True,
                    }
                    for n in range(8)
                ],
            },
        )
        assert sender.wait(15) == 0

    def carrying(tag: str) -> Callable[[JSON], bool]:
        return lambda x: x.get("data") == tag

    received = [receiver.waitFor(carrying(f"{i}-{n}"), 5) for i in ("a0", "b0") for n in range(8)]
    wrong = [x for x in received if x["label"][:2] != x["ifname"]]
    assert all(x["ifname"] == {"a": "m0", "b": "m1"}[x["data"][0]] for x in received)
    time.sleep(0.3)
    assert len([x for x in receiver.records if "data" in x]) == 16, (
        "each datagram went to one socket"
    )
    if not wrong:
        pytest.skip("this kernel delivered every datagram to the socket that joined")
