"""
What a device tree announces over SSDP, and which announcements answer a
search: pure functions of the model.
"""

from __future__ import annotations

from dataclasses import dataclass

from upnp_announce.model import Device, serves

__all__ = ["Announcement", "announcements", "matches"]

ROOTDEVICE = "upnp:rootdevice"
ALL = "ssdp:all"



@dataclass(frozen=True)
class Announcement:
    """
    One (NT, USN) pair: sent as NT in a NOTIFY, as ST in a search reply.
    """

    nt: str
    usn: str


def announcements(root: Device) -> tuple[Announcement, ...]:
    """
    The 3+2d+k set of UDA 1.1 1.1.2: for the root device upnp:rootdevice,
    its UUID and its type; for each embedded device its UUID and its type;
    for each device, each distinct service type once.
    """
    found = [Announcement(ROOTDEVICE, f"{root.UDN}::{ROOTDEVICE}")]
    for device in root.allDevices():
        found.append(Announcement(device.UDN, device.UDN))
        found.append(Announcement(device.deviceType, f"{device.UDN}::{device.deviceType}"))
        for serviceType in dict.fromkeys(s.serviceType for s in device.services):
            found.append(Announcement(serviceType, f"{device.UDN}::{serviceType}"))
    return tuple(found)


def matches(st: str, everything: tuple[Announcement, ...]) -> tuple[Announcement, ...]:
    """
    The replies to a search for C{st} among C{everything} (a device's
    L{announcements}), each with the ST to send.

    C{ssdp:all}, C{upnp:rootdevice} and C{uuid:} match case-insensitively;
    a device or service type matches our type at the same or a higher
    version, and is answered with the version asked for (UDA 1.1 1.2.3);
    a higher version than ours gets nothing.
    """
    lowered = st.lower()
    if lowered == ALL:
        return everything
    if lowered == ROOTDEVICE:
        return everything[:1]
    if lowered.startswith("uuid:"):
        return tuple(
            Announcement(st, a.usn)
            for a in everything
            if a.nt == a.usn and a.usn.lower() == lowered
        )
    # One reply per device, even where it has two versions of the type.
    replies: dict[Announcement, None] = {}
    for announcement in everything:
        if serves(announcement.nt, st):
            udn = announcement.usn.split("::", 1)[0]
            replies[Announcement(st, f"{udn}::{st}")] = None
    return tuple(replies)
