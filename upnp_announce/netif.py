"""
Network interfaces: the machine's interfaces and their IPv4 and IPv6
addresses, and the pure rules that choose the ones a device serves on
(name patterns, the exclude list of container and VM bridges, IPv6 on or
off) or a control point searches on.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import ifaddr

__all__ = [
    "DEFAULT_EXCLUDE",
    "Adapter",
    "InterfaceAddress",
    "InterfaceError",
    "interface_names",
    "missing_names",
    "resolve",
    "select",
    "system_adapters",
    "unusable_ipv6",
]

_IFF_UP = 0x1
_IFF_LOOPBACK = 0x8
_IFF_MULTICAST = 0x1000

# Container and VM bridges: addresses nobody on the LAN can reach.
DEFAULT_EXCLUDE = (
    "docker*", "br-*", "veth*", "virbr*", "vmnet*", "vboxnet*", "cni*", "podman*",
    "lxcbr*", "lxdbr*",
)

_ULA = ipaddress.IPv6Network("fc00::/7")


class InterfaceError(ValueError):
    """
    A named interface does not exist, is down, or has no address; or there
    is no usable interface at all.
    """


@dataclass(frozen=True)
class InterfaceAddress:
    """
    One address of one interface.

    @ivar name: the interface name (C{"eth0"}).
    @ivar address: the address, IPv4 or IPv6, without a zone
        (C{"192.168.1.7"}, C{"fe80::1"}).
    @ivar prefix: the subnet's prefix length (C{24}, C{64}).
    @ivar index: the interface index (0 where unknown).
    """

    name: str
    address: str
    prefix: int
    index: int = 0

    @property
    def ip(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
        return ipaddress.ip_address(self.address)

    @property
    def family(self) -> int:
        """
        4 or 6.
        """
        return 6 if ":" in self.address else 4

    @property
    def network(self) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
        return ipaddress.ip_interface(f"{self.address}/{self.prefix}").network

    @property
    def isLoopback(self) -> bool:
        return self.ip.is_loopback

    @property
    def isLinkLocal(self) -> bool:
        """
        An IPv6 link-local address (fe80::/10), reachable on its link only
        and only with its zone.
        """
        return self.family == 6 and self.ip.is_link_local

    @property
    def scope(self) -> str:
        """
        C{"link"} for an IPv6 link-local address, C{"site"} for a unique
        local one (fc00::/7), C{"global"} for the others (IPv4 included).
        """
        if self.isLinkLocal:
            return "link"
        if self.family == 6 and self.ip in _ULA:
            return "site"
        return "global"

    @property
    def host(self) -> str:
        """
        The address as sockets take it: with the zone for a link-local one
        (C{"fe80::1%eth0"}).
        """
        return f"{self.address}%{self.name}" if self.isLinkLocal else self.address

    @property
    def urlHost(self) -> str:
        """
        The address as a URL has it: bracketed for IPv6, never with a zone.
        """
        return f"[{self.address}]" if self.family == 6 else self.address


@dataclass(frozen=True)
class Adapter:
    """
    What we need to know of an interface.

    @ivar flags: the kernel's IFF_* flags, or C{None} where they are unknown.
    @ivar addresses: (address, prefix length) pairs, IPv4 and IPv6.
    @ivar index: the interface index (0 where unknown).
    """

    name: str
    flags: int | None
    addresses: tuple[tuple[str, int], ...]
    index: int = 0

    @property
    def up(self) -> bool:
        return self.flags is None or bool(self.flags & _IFF_UP)

    @property
    def loopback(self) -> bool:
        if self.flags is not None:
            return bool(self.flags & _IFF_LOOPBACK)
        return bool(self.addresses) and all(
            ipaddress.ip_address(a).is_loopback for a, _ in self.addresses
        )

    @property
    def multicast(self) -> bool:
        return self.flags is None or bool(self.flags & _IFF_MULTICAST)


def _linux_flags(name: str) -> int | None:
    try:
        return int(Path("/sys/class/net", name, "flags").read_text().strip(), 16)
    except (OSError, ValueError):
        return None


def _address(ip: ifaddr.IP) -> str:
    if isinstance(ip.ip, str):
        return ip.ip
    # IPv6: (address, flowinfo, scope id); the zone is the interface name.
    return ip.ip[0].split("%", 1)[0]


# IPv6 addresses not to serve on (the kernel's IFA_F_* flags): temporary
# (privacy) ones rotate, deprecated ones are on their way out, tentative
# ones cannot be bound until duplicate address detection ends (the kernel
# says when), and those whose detection failed never can.
_IFA_F_TEMPORARY = 0x01
_IFA_F_DADFAILED = 0x08
_IFA_F_DEPRECATED = 0x20
_IFA_F_TENTATIVE = 0x40
_UNUSABLE = _IFA_F_TEMPORARY | _IFA_F_DADFAILED | _IFA_F_DEPRECATED | _IFA_F_TENTATIVE


def unusable_ipv6(text: str) -> set[tuple[str, str]]:
    """
    The (interface, address) pairs of C{/proc/net/if_inet6}'s text whose
    flags say not to serve on them.
    """
    found = set()
    for line in text.splitlines():
        fields = line.split()
        if len(fields) != 6:
            continue
        raw, _, _, _, flags, name = fields
        try:
            if int(flags, 16) & _UNUSABLE:
                address = ipaddress.IPv6Address(int(raw, 16)).compressed
                found.add((name, address))
        except ValueError:
            continue
    return found


def _linux_unusable() -> set[tuple[str, str]]:
    try:
        return unusable_ipv6(Path("/proc/net/if_inet6").read_text())
    except OSError:
        return set()


def system_adapters() -> list[Adapter]:
    """
    This machine's interfaces and their IPv4 and IPv6 addresses (on Linux,
    without the IPv6 addresses that are temporary, deprecated, tentative or
    failed duplicate address detection).
    """
    unusable = _linux_unusable()
    return [
        Adapter(
            a.nice_name,
            _linux_flags(a.nice_name),
            tuple(
                (_address(ip), ip.network_prefix) for ip in a.ips
                if (a.nice_name, _address(ip)) not in unusable
            ),
            a.index or 0,
        )
        for a in ifaddr.get_adapters()
    ]


def _matches(name: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


def _is_pattern(text: str) -> bool:
    return any(c in text for c in "*?[")


def select(
    adapters: Iterable[Adapter],
    patterns: Sequence[str] | None = None,
    *,
    exclude: Sequence[str] = DEFAULT_EXCLUDE,
    ipv6: bool = True,
) -> tuple[InterfaceAddress, ...]:
    """
    The addresses a device serves on now, in interface order.

    @param patterns: interface names or glob patterns (C{"eth*"}); C{None}
        for every up, multicast-capable, non-loopback interface.
    @param exclude: glob patterns of interfaces never chosen by a pattern
        or by default; an interface named exactly (no wildcard) is chosen
        even when it matches.
    @param ipv6: whether IPv6 addresses are served too.
    """
    chosen = []
    for adapter in adapters:
        if not adapter.up:
            continue
        if patterns is None:
            wanted = (
                adapter.multicast
                and not adapter.loopback
                and not _matches(adapter.name, exclude)
            )
        else:
            named = adapter.name in patterns
            wanted = named or (
                _matches(adapter.name, [p for p in patterns if _is_pattern(p)])
                and not _matches(adapter.name, exclude)
                and not adapter.loopback
            )
        if not wanted:
            continue
        for address, prefix in adapter.addresses:
            if ":" in address and not ipv6:
                continue
            chosen.append(InterfaceAddress(adapter.name, address, prefix, adapter.index))
    return tuple(chosen)


def interface_names() -> set[str]:
    """
    The names of this machine's interfaces, those without an address too.
    """
    try:
        return {name for _, name in socket.if_nameindex()}
    except OSError:
        return set()


def missing_names(
    patterns: Sequence[str] | None, adapters: Iterable[Adapter], others: Iterable[str] = ()
) -> list[str]:
    """
    The exact names among C{patterns} that no interface has (yet).

    @param others: more interface names there are (see L{interface_names}).
    """
    if patterns is None:
        return []
    known = {a.name for a in adapters} | set(others)
    return [p for p in patterns if not _is_pattern(p) and p not in known]


def resolve(
    names: Sequence[str] | None,
    adapters: Callable[[], Iterable[Adapter]] = system_adapters,
    *,
    ipv6: bool = False,
) -> tuple[InterfaceAddress, ...]:
    """
    The addresses of the named interfaces, in the order named; or, for
    C{None}, of every up, multicast-capable, non-loopback interface (the
    container and VM bridges of L{DEFAULT_EXCLUDE} left out). For a control
    point, which must search somewhere now.

    @param ipv6: include IPv6 addresses.
    @raise InterfaceError: for a name that is missing, down or without an
        address, or when no interface is usable.
    """
    known = {a.name: a for a in adapters()}
    if names is None:
        found = select(known.values(), None, ipv6=ipv6)
        if not found:
            raise InterfaceError(
                "no interface is up, multicast-capable and has an address; "
                "name one with --interface or [network] interfaces"
            )
        return found
    chosen: list[InterfaceAddress] = []
    for name in dict.fromkeys(names):
        adapter = known.get(name)
        if adapter is None:
            raise InterfaceError(
                f"there is no interface {name!r}; this machine has " + ", ".join(sorted(known))
            )
        if not adapter.up:
            raise InterfaceError(f"interface {name!r} is down")
        addresses = select([adapter], [name], exclude=(), ipv6=ipv6)
        if not any(a.family == 4 for a in addresses) and not ipv6:
            raise InterfaceError(f"interface {name!r} has no IPv4 address")
        if not addresses:
            raise InterfaceError(f"interface {name!r} has no address")
        chosen.extend(addresses)
    return tuple(chosen)
