"""
Tests for L{pktinfo}: the ancillary-data helpers (pure), the port on
loopback unicast in this namespace (127.0.0.1 and ::1 only, no multicast),
and multicast between network namespaces.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from upnp_announce.pktinfo import (
    IP_PKTINFO,
    IPV6_PKTINFO,
    PacketInfo,
    SocketAddress,
    ancillary_space,
    decode_packet_info,
    encode_packet_info,
    ip_mreqn,
    ipv6_mreq,
    split_scope,
)

IP, IPV6 = socket.IPPROTO_IP, socket.IPPROTO_IPV6
GROUP4, GROUP6_LINK, GROUP6_SITE = "239.255.255.250", "ff02::c", "ff05::c"
LO = socket.if_nametoindex("lo")

# Pure helpers


def test_decode_ipv4() -> None:
    data = struct.pack("=i4s4s", 7, socket.inet_aton("10.0.0.1"), socket.inet_aton(GROUP4))
    assert decode_packet_info([(IP, IP_PKTINFO, data)]) == PacketInfo(7, GROUP4, "10.0.0.1")


def test_decode_ipv6() -> None:
    data = socket.inet_pton(socket.AF_INET6, GROUP6_LINK) + struct.pack("=I", 3)
    assert decode_packet_info([(IPV6, IPV6_PKTINFO, data)]) == PacketInfo(3, GROUP6_LINK, None)


def test_decode_skips_others() -> None:
    """
    Other ancillary messages, and packet info too short to decode, are
    skipped; without packet info the result is None.
    """
    good = struct.pack("=i4s4s", 2, bytes(4), socket.inet_aton("127.0.0.1"))
    assert decode_packet_info([]) is None
    assert decode_packet_info([(IP, IP_PKTINFO, good[:11]), (IPV6, IPV6_PKTINFO, bytes(19))]) is None
    assert decode_packet_info([(socket.SOL_SOCKET, 1, b"x"), (IP, IP_PKTINFO, good)]) == PacketInfo(
        2, "127.0.0.1", "0.0.0.0"
    )


def test_encode() -> None:
    """
    For sending, in_pktinfo carries the interface and the source in
    ipi_spec_dst; in6_pktinfo the source and the interface.
    """
    assert encode_packet_info(socket.AF_INET, 5, "10.9.0.1") == (
        IP,
        IP_PKTINFO,
        struct.pack("=i4s4s", 5, socket.inet_aton("10.9.0.1"), bytes(4)),
    )
    assert encode_packet_info(socket.AF_INET) == (IP, IP_PKTINFO, bytes(12))
    assert encode_packet_info(socket.AF_INET6, 3, "fe80::1") == (
        IPV6,
        IPV6_PKTINFO,
        socket.inet_pton(socket.AF_INET6, "fe80::1") + struct.pack("=I", 3),
    )
    with pytest.raises(OSError):
        encode_packet_info(socket.AF_INET, 1, "fe80::1")
    with pytest.raises(OSError):
        encode_packet_info(socket.AF_UNIX, 1)


def test_requests() -> None:
    assert ip_mreqn(GROUP4, 4) == socket.inet_aton(GROUP4) + bytes(4) + struct.pack("=i", 4)
    assert ip_mreqn(GROUP4, 0, "10.0.0.1")[4:8] == socket.inet_aton("10.0.0.1")
    assert ipv6_mreq(GROUP6_SITE, 9) == socket.inet_pton(socket.AF_INET6, GROUP6_SITE) + struct.pack(
        "=I", 9
    )
    with pytest.raises(OSError):
        ip_mreqn("ff02::c", 1)
    with pytest.raises(OSError):
        ipv6_mreq("239.255.255.250", 1)


def test_split_scope() -> None:
    assert split_scope("fe80::1%3") == ("fe80::1", 3)
    assert split_scope("fe80::1%lo") == ("fe80::1", LO)
    assert split_scope("fd00::1") == ("fd00::1", 0)
    with pytest.raises(OSError):
        split_scope("fe80::1%no-such-if0")


def test_ancillary_space() -> None:
    assert ancillary_space(socket.AF_INET) == socket.CMSG_SPACE(12)
    assert ancillary_space(socket.AF_INET6) == socket.CMSG_SPACE(20)


@given(
    st.lists(
        st.tuples(
            st.sampled_from([IP, IPV6, 1, 99]),
            st.sampled_from([IP_PKTINFO, IPV6_PKTINFO, 0]),
            st.binary(max_size=32),
        )
    )
)
def test_fuzz_decode(ancillary: list[tuple[int, int, bytes]]) -> None:
    """
    Decoding arbitrary ancillary data never raises.
    """
    info = decode_packet_info(ancillary)
    assert info is None or isinstance(info, PacketInfo)


@given(st.ip_addresses(), st.integers(0, 2**31 - 1))
def test_roundtrip(address: Any, ifindex: int) -> None:
    """
    What encode_packet_info packs, decode_packet_info reads back (the source
    goes where the kernel reads it: ipi_spec_dst / ipi6_addr).
    """
    family = socket.AF_INET if address.version == 4 else socket.AF_INET6
    info = decode_packet_info([encode_packet_info(family, ifindex, str(address))])
    assert info is not None and info.ifindex == ifindex
    if family == socket.AF_INET:
        assert (info.destination, info.local) == ("0.0.0.0", str(address))
    else:
        # inet_ntop and ipaddress spell IPv4-mapped addresses differently.
        assert ipaddress.ip_address(info.destination) == address and info.local is None


# The port, on loopback unicast




Datagram = tuple[bytes, SocketAddress, int, str]


























# Between network namespaces


























