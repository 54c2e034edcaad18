from __future__ import annotations

import ipaddress

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
    assert address == InterfaceAddress("lo", "127.0.0.1", 8)
