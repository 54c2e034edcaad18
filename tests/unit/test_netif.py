"""
Choosing interfaces: names and glob patterns, the exclude list of container
and VM bridges, IPv6 on or off, down and missing interfaces; and the
addresses' own facts (family, scope, zone, URL form).
"""

from __future__ import annotations

import ipaddress
import socket

import pytest

from upnp_announce import netif
from upnp_announce.netif import Adapter, InterfaceAddress

UP_MULTICAST = 0x1 | 0x1000
LOOPBACK = 0x1 | 0x8

ADAPTERS = [
    Adapter("lo", LOOPBACK, (("127.0.0.1", 8),)),
    Adapter("eth0", UP_MULTICAST, (("192.0.2.7", 24),)),
    Adapter("eth1", UP_MULTICAST, (("198.51.100.9", 25), ("198.51.100.200", 25))),
    Adapter("down0", 0x1000, (("203.0.113.1", 24),)),
    Adapter("p2p0", 0x1, (("203.0.113.2", 32),)),  # no MULTICAST flag
    Adapter("bare0", UP_MULTICAST, ()),
]


def resolve(names):  # type: ignore[no-untyped-def]
    return netif.resolve(names, lambda: ADAPTERS)


def test_default_is_every_up_multicast_non_loopback_interface_with_ipv4() -> None:
    assert resolve(None) == (
        InterfaceAddress("eth0", "192.0.2.7", 24),
        InterfaceAddress("eth1", "198.51.100.9", 25),
        InterfaceAddress("eth1", "198.51.100.200", 25),
    )


def test_named_interfaces_keep_their_order_and_lo_may_be_named() -> None:
    assert [a.name for a in resolve(["lo", "eth0", "lo"])] == ["lo", "eth0"]


def test_unknown_interface_lists_the_real_ones() -> None:
    with pytest.raises(netif.InterfaceError) as e:
        resolve(["eth9"])
    assert str(e.value).startswith("there is no interface 'eth9'; this machine has ")
    assert "eth0" in str(e.value) and "lo" in str(e.value)


def test_down_interface_is_refused() -> None:
    with pytest.raises(netif.InterfaceError, match="interface 'down0' is down"):
        resolve(["down0"])


def test_interface_without_ipv4_is_refused() -> None:
    with pytest.raises(netif.InterfaceError, match="interface 'bare0' has no IPv4 address"):
        resolve(["bare0"])


def test_no_usable_interface_at_all() -> None:
    with pytest.raises(netif.InterfaceError, match="no interface is up"):
        netif.resolve(None, lambda: [ADAPTERS[0], ADAPTERS[3]])


def test_unknown_flags_fall_back_to_addresses() -> None:
    adapters = [Adapter("lo0", None, (("127.0.0.1", 8),)), Adapter("en0", None, (("192.0.2.1", 24),))]
    assert [a.name for a in netif.resolve(None, lambda: adapters)] == ["en0"]


def test_interface_address_network() -> None:
    address = InterfaceAddress("eth1", "198.51.100.200", 25)
    assert address.network == ipaddress.IPv4Network("198.51.100.128/25")
    assert not address.isLoopback
    assert InterfaceAddress("lo", "127.0.0.1", 8).isLoopback


def test_the_real_loopback_interface_is_found() -> None:
    [address] = netif.resolve(["lo"])
    assert address == InterfaceAddress("lo", "127.0.0.1", 8, socket.if_nametoindex("lo"))


# -- choosing where a device serves (select) ------------------------------------------

UP = 0x1 | 0x1000  # IFF_UP | IFF_MULTICAST
LAN = [
    Adapter("eth0", UP, (("192.0.2.7", 24), ("fe80::1", 64), ("fd00:1::7", 64)), 2),
    Adapter("wlan0", UP, (("198.51.100.9", 24),), 3),
    Adapter("docker0", UP, (("172.17.0.1", 16),), 4),
    Adapter("br-1a2b", UP, (("172.18.0.1", 16),), 5),
    Adapter("veth9", UP, (("fe80::99", 64),), 6),
    Adapter("eth1", 0x1000, (("203.0.113.5", 24),), 7),  # down
    Adapter("lo", 0x1 | 0x8, (("127.0.0.1", 8), ("::1", 128)), 1),
]


def names(addresses: tuple[InterfaceAddress, ...]) -> list[tuple[str, str]]:
    return [(a.name, a.address) for a in addresses]


def test_by_default_every_up_lan_interface_but_no_bridge_and_no_loopback() -> None:
    assert names(netif.select(LAN)) == [
        ("eth0", "192.0.2.7"), ("eth0", "fe80::1"), ("eth0", "fd00:1::7"),
        ("wlan0", "198.51.100.9"),
    ]


def test_ipv6_can_be_turned_off() -> None:
    assert names(netif.select(LAN, ipv6=False)) == [("eth0", "192.0.2.7"), ("wlan0", "198.51.100.9")]


def test_glob_patterns_choose_and_the_exclude_list_still_applies() -> None:
    assert names(netif.select(LAN, ["e*", "d*"], ipv6=False)) == [("eth0", "192.0.2.7")]
    assert names(netif.select(LAN, ["*"], ipv6=False)) == [
        ("eth0", "192.0.2.7"), ("wlan0", "198.51.100.9"),
    ]


def test_an_exact_name_wins_over_the_exclude_list() -> None:
    assert names(netif.select(LAN, ["docker0"])) == [("docker0", "172.17.0.1")]
    assert names(netif.select(LAN, ["lo"])) == [("lo", "127.0.0.1"), ("lo", "::1")]


def test_an_empty_exclude_list_lets_bridges_in() -> None:
    assert ("docker0", "172.17.0.1") in names(netif.select(LAN, exclude=()))
    assert ("veth9", "fe80::99") in names(netif.select(LAN, exclude=()))


def test_a_down_or_missing_interface_gives_nothing_yet_and_is_no_error() -> None:
    assert netif.select(LAN, ["eth1", "eth9"]) == ()
    assert netif.missing_names(["eth1", "eth9", "wl*"], LAN) == ["eth9"]
    assert netif.missing_names(None, LAN) == []


def test_address_facts() -> None:
    ll, ula = (a for a in netif.select(LAN, ["eth0"]) if a.family == 6)
    v4 = netif.select(LAN, ["wlan0"])[0]
    assert (ll.scope, ll.isLinkLocal, ll.host, ll.urlHost, ll.index) == (
        "link", True, "fe80::1%eth0", "[fe80::1]", 2)
    assert (ula.scope, ula.host, ula.urlHost) == ("site", "fd00:1::7", "[fd00:1::7]")
    assert (v4.family, v4.scope, v4.urlHost, str(v4.network)) == (
        4, "global", "198.51.100.9", "198.51.100.0/24")
