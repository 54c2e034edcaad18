"""
Device descriptions: the model rendered once to the XML that UDA 1.1
specifies (with every SCPD of the tree), and a device description fetched from
a device parsed into values. Pure: bytes and values in, bytes and values out.

Every URL in a description we render is a path on our own HTTP server (no
URLBase, which UDA 1.1 deprecates), so one rendering serves every interface we
listen on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from lxml import etree

from upnp_announce.model import DESCRIPTION_FIELDS, Device, Service, serves
from upnp_announce.wire import xmlsafe
from upnp_announce.wire.scpd import (
    CONTENT_TYPE,
    SERVICE_NS,
    DescriptionError,
    scpd_element,
    serialise,
    sub_element,
)

__all__ = [
    "CONTENT_TYPE",
    "DESCRIPTION_PATH",
    "DEVICE_NS",
    "MAX_DOCUMENT",
    "SERVICE_NS",
    "DescriptionError",
    "Descriptions",
    "Layout",
    "RemoteDevice",
    "RemoteService",
    "ServicePaths",
    "evented",
    "layout",
    "parse_device_description",
    "render",
]

DEVICE_NS = "urn:schemas-upnp-org:device-1-0"
DESCRIPTION_PATH = "/description.xml"
# The largest description we read from a device.
MAX_DOCUMENT = 1 << 20

_sub = sub_element

@dataclass(frozen=True)
class ServicePaths:
    """
    Where one service of one device lives on our HTTP server.
    """

    device: Device
    service: Service
    scpd: str
    control: str
    event: str


@dataclass(frozen=True)
class Layout:
    """
    The path of every resource of a device tree on our HTTP server.

    @ivar icons: C{(UDN, index in Device.icons)} to path.
    @ivar presentation: UDN to the path of the page we serve for a device:
        at C{PREFIX/} when it has no presentationURL, or at the path of a
        relative one that names no other resource of ours.
    @ivar prefixes: UDN to the path the device's own paths start with.
    """

    description: str
    services: tuple[ServicePaths, ...]
    icons: dict[tuple[str, int], str]
    presentation: dict[str, str]
    prefixes: dict[str, str] = field(default_factory=dict)


def _device_prefix(root: Device, device: Device, base: str) -> str:
    return base if device is root else f"{base}/dev/" + device.UDN[len("uuid:") :].lower()


def evented(service: Service) -> bool:
    """
    Whether C{service} has an evented state variable (and so an eventSubURL).
    """
    return any(v.sendEvents for v in service.description.stateVariables)


def layout(root: Device, base: str = "") -> Layout:
    """
    Give every service, icon and default presentation page a path.

    Services are placed by the last part of their serviceId, made unique
    within the device by a numeric suffix where two serviceIds share it.

    @param base: the path every other path starts with (C{""}: the root
        device at C{/description.xml}; C{"/UUID"} for one of several root
        devices on one server).
    """
    services = []
    icons = {}
    presentation = {}
    prefixes = {}
    for device in root.allDevices():
        prefix = prefixes[device.UDN] = _device_prefix(root, device, base)
        if device.presentation != "off":
            if device.presentationURL is None:
                presentation[device.UDN] = prefix + "/"
            else:
                path = _own_path(base + DESCRIPTION_PATH, device.presentationURL)
                if path is not None:
                    presentation[device.UDN] = path
        for index, icon in enumerate(device.icons):
            icons[(device.UDN, index)] = (
                f"{prefix}/icon/{index}-{icon.width}x{icon.height}.{icon.extension}"
            )
        used: set[str] = set()
        for service in device.services:
            name = last = service.serviceId.rsplit(":", 1)[1]
            n = 1
            while name.lower() in used:
                n += 1
                name = f"{last}-{n}"
            used.add(name.lower())
            path = f"{prefix}/svc/{name}"
            services.append(
                ServicePaths(
                    device, service, path + "/scpd.xml", path + "/control", path + "/event"
                )
            )
    taken = {base + DESCRIPTION_PATH, *icons.values()}
    for paths in services:
        taken.update((paths.scpd, paths.control, paths.event))
    presentation = {
        udn: path for udn, path in presentation.items()
        if path not in taken and not path.startswith(tuple(p + "/" for p in taken))
    }
    return Layout(base + DESCRIPTION_PATH, tuple(services), icons, presentation, prefixes)


def _own_path(description: str, url: str) -> str | None:
    """
    The path on our server a relative presentationURL names (resolved
    against the description's), or C{None} for an absolute URL: someone
    else's page.
    """
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        return None
    path = urlsplit(urljoin("http://device" + description, url)).path
    return path or "/"


@dataclass(frozen=True)
class Descriptions:
    """
    Every description of a device tree, rendered once.

    @ivar configId: the CONFIGID.UPNP.ORG of this rendering (0..16777215),
        also the C{configId} attribute of every description root.
    @ivar documents: path to the bytes served there, for the device
        description and each SCPD.
    """

    layout: Layout
    configId: int
    documents: dict[str, bytes]


def render(root: Device, base: str = "") -> Descriptions:
    """
    Render the device description and every SCPD of C{root}'s tree, at
    paths under C{base} (see L{layout}).

    The configId is derived from the descriptions themselves (a hash of their
    renderings without it), so it changes exactly when one of them does.
    """
    plan = layout(root, base)
    trees = {plan.description: _device_description(root, plan)}
    for paths in plan.services:
        trees[paths.scpd] = scpd_element(paths.service.description)
    digest = hashlib.sha256()
    for path in sorted(trees):
        digest.update(path.encode() + b"\0" + serialise(trees[path]) + b"\0")
    configId = int.from_bytes(digest.digest()[:3], "big")
    documents = {}
    for path, tree in trees.items():
        tree.set("configId", str(configId))
        documents[path] = serialise(tree)
    return Descriptions(plan, configId, documents)


def _device_description(root: Device, plan: Layout) -> etree._Element:
    doc = etree.Element("root", nsmap={None: DEVICE_NS})  # type: ignore[dict-item]
    spec = _sub(doc, "specVersion")
    _sub(spec, "major", "1")
    _sub(spec, "minor", "1")
    doc.append(_device_element(root, plan))
    return doc


def _device_element(device: Device, plan: Layout) -> etree._Element:
    element = etree.Element("device")
    # The order of UDA 1.1's device schema.
    # presentationURL comes last, after the lists.
    for name in DESCRIPTION_FIELDS[:-1]:
        value = getattr(device, name)
        if value is not None:
            _sub(element, name, value)
    if device.icons:
        iconList = _sub(element, "iconList")
        for index, icon in enumerate(device.icons):
            entry = _sub(iconList, "icon")
            _sub(entry, "mimetype", icon.mimetype)
            _sub(entry, "width", str(icon.width))
            _sub(entry, "height", str(icon.height))
            _sub(entry, "depth", str(icon.depth))
            _sub(entry, "url", plan.icons[(device.UDN, index)])
    mine = [p for p in plan.services if p.device is device]
    if mine:
        serviceList = _sub(element, "serviceList")
        for paths in mine:
            entry = _sub(serviceList, "service")
            _sub(entry, "serviceType", paths.service.serviceType)
            _sub(entry, "serviceId", paths.service.serviceId)
            _sub(entry, "SCPDURL", paths.scpd)
            _sub(entry, "controlURL", paths.control)
            # UDA 1.1: empty for a service without evented variables.
            _sub(entry, "eventSubURL", paths.event if evented(paths.service) else "")
    if device.devices:
        deviceList = _sub(element, "deviceList")
        for child in device.devices:
            deviceList.append(_device_element(child, plan))
    page = device.presentationURL or plan.presentation.get(device.UDN)
    if page is not None:
        _sub(element, "presentationURL", page)
    return element


# -- reading a device's description -----------------------------------------------


@dataclass(frozen=True)
class RemoteService:
    """
    A service as a device describes it; URLs are absolute (C{eventSubURL}
    is empty for a service without events).
    """

    serviceType: str
    serviceId: str
    SCPDURL: str
    controlURL: str
    eventSubURL: str


@dataclass(frozen=True)
class RemoteDevice:
    """
    A device as its description says, with its embedded devices.

    @ivar fields: every text field by element name (friendlyName,
        manufacturer, modelName, UDN...).
    """

    location: str
    deviceType: str
    UDN: str
    fields: dict[str, str]
    services: tuple[RemoteService, ...] = ()
    devices: tuple[RemoteDevice, ...] = ()

    @property
    def friendlyName(self) -> str:
        return self.fields.get("friendlyName", "")

    def allDevices(self) -> Iterator[RemoteDevice]:
        yield self
        for device in self.devices:
            yield from device.allDevices()

    def allServices(self) -> Iterator[RemoteService]:
        for device in self.allDevices():
            yield from device.services

    def findService(self, name: str) -> RemoteService:
        """
        A service of this tree by serviceId, the last part of its serviceId,
        or its type (our version or a lower one).

        @raise DescriptionError: naming the services there are.
        """
        services = list(self.allServices())
        for matches in (
            lambda s: s.serviceId == name,
            lambda s: s.serviceId.rsplit(":", 1)[-1] == name,
            lambda s: s.serviceType == name,
            lambda s: serves(s.serviceType, name),
            # "SwitchPower" for a serviceId ending in SwitchPower.0001.
            lambda s: s.serviceId.rsplit(":", 1)[-1].split(".")[0] == name,
        ):
            chosen = [s for s in services if matches(s)]
            if chosen:
                return chosen[0]
        known = ", ".join(s.serviceId.rsplit(":", 1)[-1] for s in services) or "none"
        raise DescriptionError(f"the device has no service {name!r}; its services are: {known}")


def parse_device_description(data: bytes, location: str) -> RemoteDevice:
    """
    Read a device description fetched from C{location}.

    @raise DescriptionError: when it is not one.
    """
    try:
        root = xmlsafe.parse(data, maxBytes=MAX_DOCUMENT, maxDepth=32)
    except xmlsafe.UnsafeXML as e:
        raise DescriptionError(f"{location} is not a UPnP device description: {e}") from None
    if xmlsafe.local_name(root) != "root":
        raise DescriptionError(f"{location} is not a UPnP device description (its root is <{xmlsafe.local_name(root)}>)")
    if etree.QName(root).namespace not in (DEVICE_NS, None):
        raise DescriptionError(f"{location} is not a UPnP device description (namespace {etree.QName(root).namespace})")
    base = location
    devices = []
    for child in root:
        name = xmlsafe.local_name(child)
        if name == "URLBase" and (child.text or "").strip():
            base = (child.text or "").strip()
        elif name == "device":
            devices.append(child)
    if len(devices) != 1:
        raise DescriptionError(f"{location} is not a UPnP device description (no <device>)")
    return _device(devices[0], location, base)


def _device(element: etree._Element, location: str, base: str) -> RemoteDevice:
    fields: dict[str, str] = {}
    services = []
    children = []
    for child in element:
        name = xmlsafe.local_name(child)
        if name == "serviceList":
            for entry in child:
                if xmlsafe.local_name(entry) == "service":
                    texts = {xmlsafe.local_name(c): (c.text or "").strip() for c in entry}
                    def absolute(key: str) -> str:
                        # A missing or empty URL stays empty (not LOCATION).
                        value = texts.get(key, "")
                        return urljoin(base, value) if value else ""

                    services.append(
                        RemoteService(
                            texts.get("serviceType", ""),
                            texts.get("serviceId", ""),
                            absolute("SCPDURL"),
                            absolute("controlURL"),
                            absolute("eventSubURL"),
                        )
                    )
        elif name == "deviceList":
            children = [_device(c, location, base) for c in child if xmlsafe.local_name(c) == "device"]
        elif name and len(child) == 0:
            fields[name] = (child.text or "").strip()
    if not fields.get("deviceType") or not fields.get("UDN"):
        raise DescriptionError(f"{location} is not a UPnP device description (no deviceType or UDN)")
    if "presentationURL" in fields and fields["presentationURL"]:
        fields["presentationURL"] = urljoin(base, fields["presentationURL"])
    return RemoteDevice(
        location, fields["deviceType"], fields["UDN"], fields, tuple(services), tuple(children)
    )
