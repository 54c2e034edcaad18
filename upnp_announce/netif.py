"""
Network interfaces: names to the IPv4 addresses (with their subnets) that
the device listens, announces and answers on.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import ifaddr

__all__ = ["InterfaceAddress", "InterfaceError", "resolve"]

_IFF_UP = 0x1
_IFF_LOOPBACK = 0x8
_IFF_MULTICAST = 0x1000


class InterfaceError(ValueError):
    """
    A named interface does not exist, is down, or has no IPv4 address; or
    there is no usable interface at all.
    """


@dataclass(frozen=True)
class InterfaceAddress:
    """
    One IPv4 address of one interface.

    @ivar name: the interface name (C{"eth0"}).
    @ivar address: the address (C{"192.168.1.7"}).
    @ivar prefix: the subnet's prefix length (C{24}).
    """

    name: str
    address: str
    prefix: int

    @property
    def network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Interface(f"{self.address}/{self.prefix}").network

    @property
    def isLoopback(self) -> bool:
        return ipaddress.IPv4Address(self.address).is_loopback


@dataclass(frozen=True)
class Adapter:
    """
    What we need to know of an interface.

    @ivar flags: the kernel's IFF_* flags, or C{None} where they are unknown.
    """

    name: str
    flags: int | None
    addresses: tuple[tuple[str, int], ...]


def _linux_flags(name: str) -> int | None:
    try:
        return int(Path("/sys/class/net", name, "flags").read_text().strip(), 16)
    except (OSError, ValueError):
        return None


def system_adapters() -> list[Adapter]:
    """
    This machine's interfaces and their IPv4 addresses.
    """
    return [
        Adapter(
            a.nice_name,
            _linux_flags(a.nice_name),
            tuple((ip.ip, ip.network_prefix) for ip in a.ips if isinstance(ip.ip, str)),
        )
        for a in ifaddr.get_adapters()
    ]


def _usable_by_default(adapter: Adapter) -> bool:
    if adapter.flags is None:
        # Without flags, judge by the addresses alone.
        return any(not ipaddress.IPv4Address(a).is_loopback for a, _ in adapter.addresses)
    wanted = _IFF_UP | _IFF_MULTICAST
    return adapter.flags & wanted == wanted and not adapter.flags & _IFF_LOOPBACK


def resolve(
    names: Sequence[str] | None,
    adapters: Callable[[], Iterable[Adapter]] = system_adapters,
) -> tuple[InterfaceAddress, ...]:
    """
    The IPv4 addresses of the named interfaces, in the order named; or, for
    C{None}, of every up, multicast-capable, non-loopback interface.

    @raise InterfaceError: for a name that is missing, down or without IPv4,
        or when no interface is usable.
    """
    known = {a.name: a for a in adapters()}
    if names is None:
        chosen = [a for a in known.values() if _usable_by_default(a) and a.addresses]
        if not chosen:
            raise InterfaceError(
                "no interface is up, multicast-capable and has an IPv4 address; "
                "name one with --interface or [network] interfaces"
            )
    else:
        chosen = []
        for name in dict.fromkeys(names):
            adapter = known.get(name)
            if adapter is None:
                raise InterfaceError(
                    f"there is no interface {name!r}; this machine has "
                    + ", ".join(sorted(known))
                )
            if adapter.flags is not None and not adapter.flags & _IFF_UP:
                raise InterfaceError(f"interface {name!r} is down")
            if not adapter.addresses:
                raise InterfaceError(f"interface {name!r} has no IPv4 address")
            chosen.append(adapter)
    return tuple(
        InterfaceAddress(a.name, address, prefix)
        for a in chosen
        for address, prefix in a.addresses
    )
