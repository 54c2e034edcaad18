"""
Tests for the announcement half of upnp_announce.wire.ssdp: the 3+2d+k announcement set of a device tree,
and which of its announcements answer a search.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from upnp_announce.model import (
    Action,
    Argument,
    Device,
    Service,
    ServiceDescription,
    StateVariable,
)
from upnp_announce.wire import ssdp
from upnp_announce.wire.ssdp import Announcement, announcements, matches

from support import BASIC, ROOT_UDN, device, light

# No example database: the tests leave nothing behind in the tree.
quick = settings(database=None, deadline=None)

JAMBON = "urn:example-com:device:Jambon:3"
SLICER = "urn:example-com:device:Slicer:2"
CLOCK = "urn:example-com:service:Clock:1"
SWITCH = "urn:schemas-upnp-org:service:SwitchPower:2"
RENDERING = "urn:schemas-upnp-org:service:RenderingControl:3"
ROOTDEVICE = "upnp:rootdevice"


def udn(n: int) -> str:
    return f"uuid:00000000-0000-4000-8000-{n:012x}"


def description() -> ServiceDescription:
    return ServiceDescription(
        (Action("GetA", (Argument("A", "out", "A", retval=True),)),),
        (StateVariable("A", "string"),),
    )


def service(serviceType: str = CLOCK, name: str = "Clock") -> Service:
    return Service(serviceType, f"urn:example-com:serviceId:{name}", description())


def tree() -> Device:
    """
    root (Basic:1; Clock:1 twice, SwitchPower:2)
      A (Jambon:3; Clock:1, RenderingControl:3)
        B (Slicer:2; Clock:1)
          D (Basic:1)
      C (Basic:1)

    d = 4 embedded devices, k = 2 + 2 + 1 = 5: 3 + 8 + 5 = 16.
    """
    d = device(UDN=udn(4), friendlyName="D")
    b = device(UDN=udn(2), friendlyName="B", deviceType=SLICER, services=(service(),), devices=(d,))
    a = device(
        UDN=udn(1),
        friendlyName="A",
        deviceType=JAMBON,
        services=(service(), service(RENDERING, "Rendering")),
        devices=(b,),
    )
    c = device(UDN=udn(3), friendlyName="C")
    return device(
        services=(service(), service(CLOCK, "Clock2"), service(SWITCH, "Switch")),
        devices=(a, c),
    )


def typed(udn_: str, nt: str) -> Announcement:
    return Announcement(nt, f"{udn_}::{nt}")


def bare(udn_: str) -> Announcement:
    return Announcement(udn_, udn_)


EXPECTED = {
    typed(ROOT_UDN, ROOTDEVICE),
    bare(ROOT_UDN),
    typed(ROOT_UDN, BASIC),
    typed(ROOT_UDN, CLOCK),
    typed(ROOT_UDN, SWITCH),
    bare(udn(1)),
    typed(udn(1), JAMBON),
    typed(udn(1), CLOCK),
    typed(udn(1), RENDERING),
    bare(udn(2)),
    typed(udn(2), SLICER),
    typed(udn(2), CLOCK),
    bare(udn(4)),
    typed(udn(4), BASIC),
    bare(udn(3)),
    typed(udn(3), BASIC),
}


# --- announcements -----------------------------------------------------------


def test_lone_root_announces_three() -> None:
    found = announcements(device())
    assert len(found) == 3
    assert set(found) == {
        Announcement("upnp:rootdevice", f"{ROOT_UDN}::upnp:rootdevice"),
        Announcement(ROOT_UDN, ROOT_UDN),
        Announcement(BASIC, f"{ROOT_UDN}::{BASIC}"),
    }


def test_root_with_one_service() -> None:
    found = announcements(device(services=(service(),)))
    assert len(found) == 4
    assert Announcement(CLOCK, f"{ROOT_UDN}::{CLOCK}") in found


def test_tree_announces_3_2d_k() -> None:
    found = announcements(tree())
    assert len(found) == 16 == 3 + 2 * 4 + 5
    assert set(found) == EXPECTED


def test_same_service_type_twice_on_one_device_announced_once() -> None:
    found = announcements(tree())
    assert found.count(typed(ROOT_UDN, CLOCK)) == 1
    # ...but the same type on three devices: once each.
    assert sorted(a.usn for a in found if a.nt == CLOCK) == sorted(
        f"{u}::{CLOCK}" for u in (ROOT_UDN, udn(1), udn(2))
    )


def test_only_root_is_rootdevice() -> None:
    found = announcements(tree())
    assert [a for a in found if a.nt == ROOTDEVICE] == [typed(ROOT_UDN, ROOTDEVICE)]


def test_usn_forms() -> None:
    for a in announcements(tree()):
        if a.nt.startswith("uuid:"):
            assert a.usn == a.nt
        else:
            udn_, sep, nt = a.usn.partition("::")
            assert (sep, nt) == ("::", a.nt)
            assert udn_.startswith("uuid:")
            assert "::" not in udn_


def test_announcement_uses_udn_as_spelled() -> None:
    upper = "uuid:E427CE1A-3E80-43D0-AD6F-89EC42E46363"
    assert set(announcements(device(UDN=upper))) == {
        typed(upper, ROOTDEVICE),
        bare(upper),
        typed(upper, BASIC),
    }


@st.composite
def trees(draw: st.DrawFn) -> tuple[Device, int, int]:
    """
    A random tree shape, with its d (embedded devices) and k (distinct
    service types per device, summed).
    """
    count = draw(st.integers(1, 10))
    # parents[i] is the parent of device i + 1: always an earlier device,
    # so the shape can be anything from a chain to a star.
    parents = [draw(st.integers(0, i)) for i in range(count - 1)]
    pool = [CLOCK, SWITCH, RENDERING, "urn:example-com:service:Clock:2"]
    types = [
        draw(st.lists(st.sampled_from(pool), max_size=5)) for _ in range(count)
    ]
    deviceTypes = [draw(st.sampled_from([BASIC, JAMBON, SLICER])) for _ in range(count)]
    built: dict[int, Device] = {}
    for i in reversed(range(count)):
        children = tuple(built.pop(j) for j in range(i + 1, count) if j in built and parents[j - 1] == i)
        built[i] = device(
            UDN=ROOT_UDN if i == 0 else udn(i),
            friendlyName=f"device {i}",
            deviceType=deviceTypes[i],
            services=tuple(service(t, f"S{n}") for n, t in enumerate(types[i])),
            devices=children,
        )
    root = built.pop(0)
    assert not built
    return root, count - 1, sum(len(set(t)) for t in types)


@quick
@given(trees())
def test_count_is_3_2d_k_for_any_shape(shaped: tuple[Device, int, int]) -> None:
    root, d, k = shaped
    assert len(list(root.allDevices())) == d + 1
    found = announcements(root)
    assert len(found) == 3 + 2 * d + k
    assert len(set(found)) == len(found)
    assert matches("ssdp:all", announcements(root)) == found
    assert matches(ROOTDEVICE, announcements(root)) == (typed(ROOT_UDN, ROOTDEVICE),)
    for dev in root.allDevices():
        assert matches(dev.UDN, announcements(root)) == (bare(dev.UDN),)
        assert typed(dev.UDN, dev.deviceType) in found
        for s in dev.services:
            assert typed(dev.UDN, s.serviceType) in found
            # A reply from each device offering the type at this version or
            # higher (set(): see test_two_versions_of_a_service_reply_once).
            name, version = s.serviceType.rsplit(":", 1)
            offering = {
                typed(other.UDN, s.serviceType)
                for other in root.allDevices()
                for x in other.services
                if x.serviceType.rsplit(":", 1)[0] == name
                and int(x.serviceType.rsplit(":", 1)[1]) >= int(version)
            }
            assert set(matches(s.serviceType, announcements(root))) == offering


# --- matches -----------------------------------------------------------------


def test_ssdp_all_is_the_whole_set() -> None:
    root = tree()
    assert matches("ssdp:all", announcements(root)) == announcements(root)
    assert set(matches("ssdp:all", announcements(root))) == EXPECTED


def test_fixed_tokens_are_case_insensitive() -> None:
    root = tree()
    assert matches("ssdp:ALL", announcements(root)) == announcements(root)
    assert matches("SSDP:All", announcements(root)) == announcements(root)
    assert matches("UPNP:RootDevice", announcements(root)) == (typed(ROOT_UDN, ROOTDEVICE),)


def test_rootdevice_is_the_root_only() -> None:
    assert matches("upnp:rootdevice", announcements(tree())) == (typed(ROOT_UDN, ROOTDEVICE),)


def test_uuid_of_root_and_embedded_devices() -> None:
    root = tree()
    assert matches(ROOT_UDN, announcements(root)) == (bare(ROOT_UDN),)
    assert matches(udn(1), announcements(root)) == (bare(udn(1)),)
    # Depth 3.
    assert matches(udn(4), announcements(root)) == (bare(udn(4)),)


def test_uuid_matches_case_insensitively_and_echoes_st() -> None:
    root = tree()
    for asked in (ROOT_UDN.upper(), "UUID:" + ROOT_UDN[5:], "Uuid:E427ce1a-3E80-43d0-ad6f-89ec42e46363"):
        assert matches(asked, announcements(root)) == (Announcement(asked, ROOT_UDN),)
    asked = udn(2).upper()
    assert matches(asked, announcements(root)) == (Announcement(asked, udn(2)),)


def test_unknown_uuid_gets_nothing() -> None:
    root = tree()
    for asked in (udn(99), "uuid:", "uuid:nope", ROOT_UDN + "0", ROOT_UDN[:-1], f"{ROOT_UDN}::{BASIC}"):
        assert matches(asked, announcements(root)) == (), asked


def test_device_type_at_our_version() -> None:
    root = tree()
    assert matches(JAMBON, announcements(root)) == (typed(udn(1), JAMBON),)
    assert matches(SLICER, announcements(root)) == (typed(udn(2), SLICER),)
    # Basic:1 on the root, D and C: one reply each.
    assert sorted(matches(BASIC, announcements(root)), key=lambda a: a.usn) == sorted(
        (typed(u, BASIC) for u in (ROOT_UDN, udn(3), udn(4))), key=lambda a: a.usn
    )


def test_device_type_at_lower_version_echoes_the_st_asked() -> None:
    root = tree()
    for version in (1, 2):
        asked = f"urn:example-com:device:Jambon:{version}"
        assert matches(asked, announcements(root)) == (Announcement(asked, f"{udn(1)}::{asked}"),)
    asked = "urn:example-com:device:Slicer:1"
    assert matches(asked, announcements(root)) == (Announcement(asked, f"{udn(2)}::{asked}"),)


def test_higher_version_gets_nothing() -> None:
    root = tree()
    for asked in (
        "urn:example-com:device:Jambon:4",
        "urn:example-com:device:Slicer:3",
        "urn:schemas-upnp-org:device:Basic:2",
        "urn:example-com:service:Clock:2",
        "urn:schemas-upnp-org:service:SwitchPower:3",
        "urn:schemas-upnp-org:service:RenderingControl:4",
        "urn:example-com:device:Jambon:999999999",
    ):
        assert matches(asked, announcements(root)) == (), asked


def test_huge_versions_do_not_crash() -> None:
    root = tree()
    for digits in (10, 20, 100, 5000):
        for kind in ("device:Jambon", "service:Clock"):
            asked = f"urn:example-com:{kind}:" + "9" * digits
            assert matches(asked, announcements(root)) == ()
            asked = f"urn:example-com:{kind}:" + "0" * (digits - 1) + "1"
            assert type(matches(asked, announcements(root))) is tuple


def test_service_type_one_reply_per_device() -> None:
    root = tree()
    assert sorted(matches(CLOCK, announcements(root)), key=lambda a: a.usn) == sorted(
        (typed(u, CLOCK) for u in (ROOT_UDN, udn(1), udn(2))), key=lambda a: a.usn
    )
    assert matches(SWITCH, announcements(root)) == (typed(ROOT_UDN, SWITCH),)
    assert matches(RENDERING, announcements(root)) == (typed(udn(1), RENDERING),)


def test_service_type_at_lower_version_echoes_the_st_asked() -> None:
    root = tree()
    for version in (1, 2):
        asked = f"urn:schemas-upnp-org:service:RenderingControl:{version}"
        assert matches(asked, announcements(root)) == (Announcement(asked, f"{udn(1)}::{asked}"),)
    asked = "urn:schemas-upnp-org:service:SwitchPower:1"
    assert matches(asked, announcements(root)) == (Announcement(asked, f"{ROOT_UDN}::{asked}"),)


NOT_MATCHED = [
    # Unknown types.
    "urn:example-com:device:Unknown:1",
    "urn:example-com:service:Unknown:1",
    "urn:other-org:device:Jambon:3",
    "urn:other-org:service:Clock:1",
    # A device type asked as a service type, and back.
    "urn:example-com:service:Jambon:3",
    "urn:example-com:device:Clock:1",
    "urn:example-com:serviceId:Clock",
    # Types without a (proper) version.
    "urn:example-com:device:Jambon",
    "urn:example-com:device:Jambon:",
    "urn:example-com:service:Clock",
    "urn:example-com:device:Jambon:v3",
    "urn:example-com:device:Jambon:3.0",
    "urn:example-com:device:Jambon:-1",
    "urn:example-com:device:Jambon:+3",
    "urn:example-com:device:Jambon:0x3",
    "urn:example-com:device:Jambon: 3",
    "urn:example-com:device:Jambon:3 ",
    "urn:example-com:device:Jambon:3:4",
    "urn:example-com:device:Jambon:\uff13",  # fullwidth 3
    "urn:example-com:device:Jambon:\u0663",  # Arabic-Indic 3
    # Domain or name differing only in case: URN NSS compare case-sensitively.
    "urn:Example-com:device:Jambon:3",
    "urn:EXAMPLE-COM:device:Jambon:3",
    "urn:example-com:device:jambon:3",
    "urn:example-com:device:JAMBON:1",
    "urn:Schemas-UPnP-org:service:SwitchPower:2",
    "urn:schemas-upnp-org:service:switchpower:2",
    "urn:example-com:service:clock:1",
    # Garbage.
    "",
    " ",
    "*",
    "ssdp:discover",
    "ssdp:alive",
    "ssdp:all ",
    " ssdp:all",
    "upnp:rootdevice:1",
    "upnp:event",
    "urn:",
    "::",
    "\x00",
    "urn:\x00:device:Jambon:3",
    "urn::device:Jambon:3",
    "urn:example-com::Jambon:3",
    "urn:example-com:device::3",
    "jambon",
    "urn:example-com:device:Jambon:3\n",
    "a" * 10000,
    "urn:" + ":" * 10000,
]


def test_unknown_garbage_and_case_variant_types_get_nothing() -> None:
    root = tree()
    for asked in NOT_MATCHED:
        assert matches(asked, announcements(root)) == (), asked


def test_version_zero_never_matches() -> None:
    root = tree()
    for asked in (
        "urn:example-com:device:Jambon:0",
        "urn:schemas-upnp-org:device:Basic:0",
        "urn:example-com:service:Clock:0",
        "urn:example-com:device:Jambon:000",
    ):
        assert matches(asked, announcements(root)) == (), asked


def test_two_versions_of_a_service_reply_once() -> None:
    clock2 = "urn:example-com:service:Clock:2"
    root = device(services=(service(CLOCK, "Clock"), service(clock2, "Clock2")))
    # Each distinct type is announced (3 + 0 + 2)...
    assert set(announcements(root)) == {
        typed(ROOT_UDN, ROOTDEVICE),
        bare(ROOT_UDN),
        typed(ROOT_UDN, BASIC),
        typed(ROOT_UDN, CLOCK),
        typed(ROOT_UDN, clock2),
    }
    assert matches(clock2, announcements(root)) == (typed(ROOT_UDN, clock2),)
    # ...but one device answers one search once.
    assert matches(CLOCK, announcements(root)) == (typed(ROOT_UDN, CLOCK),)


@quick
@given(version=st.integers(1, 10**12), kind=st.sampled_from(["device:Jambon", "service:RenderingControl"]))
def test_versions_answered_up_to_ours(version: int, kind: str) -> None:
    # Both are at version 3, on device A.
    domain = "example-com" if kind.startswith("device") else "schemas-upnp-org"
    asked = f"urn:{domain}:{kind}:{version}"
    expected = (Announcement(asked, f"{udn(1)}::{asked}"),) if version <= 3 else ()
    assert matches(asked, announcements(tree())) == expected


@quick
@given(st.text(max_size=200))
def test_any_st_never_crashes_and_echoes_the_st(asked: str) -> None:
    root = tree()
    replies = matches(asked, announcements(root))
    assert type(replies) is tuple
    if asked.lower() in ("ssdp:all", "upnp:rootdevice"):
        return
    udns = {d.UDN for d in root.allDevices()}
    for reply in replies:
        assert reply.nt == asked
        udn_, sep, rest = reply.usn.partition("::")
        assert udn_ in udns
        # Bare uuid:X for a uuid search, uuid:X::<ST as asked> otherwise.
        assert (sep, rest) == (("", "") if asked.lower().startswith("uuid:") else ("::", asked))


def test_ssdp_answers_are_unchanged_by_passing_the_set() -> None:
    # matches() now takes the announcement set, built once per server.
    from upnp_announce.wire.ssdp import announcements, matches

    everything = announcements(light())
    assert matches("ssdp:all", everything) == everything
    assert [a.nt for a in matches("upnp:rootdevice", everything)] == ["upnp:rootdevice"]
    assert ssdp.msearch(st="ssdp:all", mx=1)
