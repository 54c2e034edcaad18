"""
The description group: the device description as fetched from LOCATION,
read strictly against UDA 1.1 2.3 with the model's own patterns and limits.
"""

from __future__ import annotations

from collections import Counter
from urllib.parse import urljoin

from lxml import etree

from upnp_announce import model
from upnp_announce.client.common import ClientError, first_header
from upnp_announce.client.conform.catalog import Verdicts, digits
from upnp_announce.client.conform.probe import Probe
from upnp_announce.wire.description import DEVICE_NS
from upnp_announce.wire.images import ImageError, read_image_info
from upnp_announce.wire.xmlsafe import local_name

__all__ = ["check", "config_id", "spec_version"]

_REQUIRED = ("deviceType", "friendlyName", "manufacturer", "modelName", "UDN")
_SERVICE_FIELDS = ("serviceType", "serviceId", "SCPDURL", "controlURL", "eventSubURL")
# The largest icon read.
MAX_ICON = 1 << 20


def _texts(element: etree._Element) -> dict[str, str]:
    """
    The text of each childless child, by local name (the first counts).
    """
    found: dict[str, str] = {}
    for child in element:
        if local_name(child) and len(child) == 0:
            found.setdefault(local_name(child), (child.text or "").strip())
    return found


def _children(element: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in element if local_name(c) == name]


def _devices(root: etree._Element) -> list[etree._Element]:
    """
    Every <device> of the tree, the root device first.
    """
    found = []
    stack = _children(root, "device")[:1]
    while stack:
        device = stack.pop(0)
        found.append(device)
        for deviceList in _children(device, "deviceList"):
            stack.extend(_children(deviceList, "device"))
    return found


def spec_version(root: etree._Element) -> tuple[int, int] | None:
    """
    The description's specVersion, C{None} when it has none we can read.
    """
    for spec in _children(root, "specVersion"):
        texts = _texts(spec)
        major, minor = texts.get("major", ""), texts.get("minor", "")
        if digits(major) and digits(minor):
            return int(major), int(minor)
    return None


def config_id(root: etree._Element) -> int | None:
    """
    The root's configId, C{None} when it has none (or not a number).
    """
    text = (root.get("configId") or "").strip()
    return int(text) if digits(text) else None


async def check(probe: Probe, verdicts: Verdicts) -> None:
    document = probe.loaded.description
    if document.root is None or probe.loaded.remote is None:
        verdicts.fail("DESC-FETCH", document.problem)
        return
    verdicts.ok("DESC-FETCH", f"{len(document.data)} bytes of {document.contentType}")
    root = document.root
    if root.tag != f"{{{DEVICE_NS}}}root":
        verdicts.fail("DESC-NAMESPACE", f"the root is {root.tag}, not {{{DEVICE_NS}}}root")
    else:
        strays = sorted({
            etree.QName(e).namespace or "none" for e in root.iter()
            if isinstance(e.tag, str) and etree.QName(e).namespace != DEVICE_NS
            and etree.QName(e).localname in (*model.DESCRIPTION_FIELDS, "device", "service")
        })
        verdicts.check("DESC-NAMESPACE", [f"UPnP elements in namespace {n}" for n in strays],
                       DEVICE_NS)
    spec = spec_version(root)
    if spec is None or spec[0] not in (1, 2):
        verdicts.fail("DESC-SPEC", f"specVersion is {spec or 'missing or not numbers'}")
    else:
        verdicts.ok("DESC-SPEC", f"{spec[0]}.{spec[1]}")
    configId = config_id(root)
    if configId is None:
        if root.get("configId") is not None or spec is None or spec >= (1, 1):
            verdicts.fail("DESC-CONFIGID", f"configId is {root.get('configId')!r}")
        else:
            verdicts.warn("DESC-CONFIGID", "UDA 1.0 description without configId")
    elif configId > 16777215:
        verdicts.fail("DESC-CONFIGID", f"configId {configId} is over 16777215")
    else:
        verdicts.ok("DESC-CONFIGID", str(configId))
    urlbase = [(c.text or "").strip() for c in _children(root, "URLBase")]
    if urlbase and (spec is None or spec >= (1, 1)):
        shown = f"{spec[0]}.{spec[1]}" if spec else "?"
        # UDA 1.1: deprecated, its use "no longer RECOMMENDED".
        verdicts.warn("DESC-URLBASE", f"URLBase {urlbase[0]!r} in a UDA {shown} description")
    else:
        verdicts.ok("DESC-URLBASE", "URLBase in UDA 1.0" if urlbase else "none")
    base = urlbase[0] if urlbase and urlbase[0] else probe.location
    devices = _devices(root)
    udns = []
    icons = 0
    for device in devices:
        texts = _texts(device)
        udn = texts.get("UDN", "")
        udns.append(udn.lower())
        where = udn or texts.get("friendlyName") or "a device"
        _fields(verdicts, where, texts)
        if not model.UDN.match(udn):
            verdicts.fail("DESC-UDN", f"UDN {udn[:60]!r} is not uuid: and an RFC 4122 UUID")
        _services(verdicts, where, device)
        await _urls(probe, verdicts, where, device, base)
        icons += await _icons(probe, verdicts, where, device, base)
    for udn, count in Counter(udns).items():
        if count > 1:
            verdicts.fail("DESC-UDN", f"UDN {udn} is used by {count} devices")
    for id in ("DESC-FIELDS", "DESC-LENGTHS", "DESC-UDN", "DESC-SERVICES", "DESC-URLS"):
        verdicts.ok(id, f"{len(devices)} device(s)")
    verdicts.ok("DESC-ICONS", f"{icons} icon(s)")


def _fields(verdicts: Verdicts, where: str, texts: dict[str, str]) -> None:
    for name in _REQUIRED:
        if not texts.get(name):
            verdicts.fail("DESC-FIELDS", f"{where} has no {name}")
    deviceType = texts.get("deviceType", "")
    if deviceType and not model.DEVICE_TYPE.match(deviceType):
        verdicts.fail("DESC-FIELDS", f"deviceType {deviceType[:60]!r} is not "
                      "urn:domain:device:Name:version")
    upc = texts.get("UPC")
    if upc and not model.UPC.match(upc):
        verdicts.fail("DESC-FIELDS", f"{where}: UPC {upc[:20]!r} is not 12 digits")
    for name, limit in model.LENGTH_LIMITS.items():
        value = texts.get(name, "")
        if len(value) >= limit:
            verdicts.warn("DESC-LENGTHS", f"{where}: {name} is {len(value)} characters; "
                          f"UDA says fewer than {limit}")


def _services(verdicts: Verdicts, where: str, device: etree._Element) -> None:
    ids = []
    for serviceList in _children(device, "serviceList"):
        for service in _children(serviceList, "service"):
            texts = _texts(service)
            ids.append(texts.get("serviceId", ""))
            for name in _SERVICE_FIELDS:
                if name not in texts or (not texts[name] and name != "eventSubURL"):
                    verdicts.fail("DESC-SERVICES", f"{where}: a service has no {name}")
            serviceType = texts.get("serviceType", "")
            if serviceType and not model.SERVICE_TYPE.match(serviceType):
                verdicts.fail("DESC-SERVICES", f"serviceType {serviceType[:60]!r} is not "
                              "urn:domain:service:Name:version")
            serviceId = texts.get("serviceId", "")
            if serviceId and not model.SERVICE_ID.match(serviceId):
                verdicts.fail("DESC-SERVICES", f"serviceId {serviceId[:60]!r} is not "
                              "urn:domain:serviceId:Name")
    for serviceId, count in Counter(ids).items():
        if count > 1 and serviceId:
            verdicts.fail("DESC-SERVICES", f"{where}: serviceId {serviceId} is used twice")


async def _urls(
    probe: Probe, verdicts: Verdicts, where: str, device: etree._Element, base: str
) -> None:
    urls = []
    for serviceList in _children(device, "serviceList"):
        for service in _children(serviceList, "service"):
            texts = _texts(service)
            urls += [texts[n] for n in ("SCPDURL", "controlURL", "eventSubURL") if texts.get(n)]
    for iconList in _children(device, "iconList"):
        urls += [t["url"] for t in map(_texts, _children(iconList, "icon")) if t.get("url")]
    for url in urls:
        if not probe.onHost(urljoin(base, url)):
            verdicts.fail("DESC-URLS", f"{where}: {url[:80]!r} is not on the device's host")
    page = _texts(device).get("presentationURL")
    if not page:
        return
    absolute = urljoin(base, page)
    if not probe.onHost(absolute):
        # Another host's page: not the tester's to fetch.
        return
    try:
        status, _, _ = await probe.exchange(b"GET", absolute, limit=1 << 20)
    except ClientError as e:
        verdicts.fail("DESC-URLS", f"presentationURL: {e}")
        return
    if status != 200:
        verdicts.fail("DESC-URLS", f"presentationURL {absolute} answered HTTP {status}")


async def _icons(
    probe: Probe, verdicts: Verdicts, where: str, device: etree._Element, base: str
) -> int:
    """
    Check the icons of C{device}; give how many it lists.
    """
    listed = [_texts(icon) for iconList in _children(device, "iconList")
              for icon in _children(iconList, "icon")]
    for icon in listed:
        url = urljoin(base, icon.get("url", ""))
        if not icon.get("url") or not probe.onHost(url):
            verdicts.fail("DESC-ICONS", f"{where}: an icon without a URL on the device's host")
            continue
        try:
            status, headers, data = await probe.exchange(b"GET", url, limit=MAX_ICON)
        except ClientError as e:
            verdicts.fail("DESC-ICONS", str(e))
            continue
        if status != 200:
            verdicts.fail("DESC-ICONS", f"{url} answered HTTP {status}")
            continue
        try:
            info = read_image_info(data)
        except ImageError as e:
            verdicts.fail("DESC-ICONS", f"{url}: {e}")
            continue
        said = (icon.get("mimetype", ""), icon.get("width", ""), icon.get("height", ""))
        real = (info.mimetype, str(info.width), str(info.height))
        if said != real:
            verdicts.fail("DESC-ICONS", f"{url} is said to be {' '.join(said)}, "
                          f"but is {' '.join(real)}")
            continue
        served = first_header(headers, b"content-type").split(";", 1)[0].strip().lower()
        if served != info.mimetype:
            verdicts.warn("DESC-ICONS", f"{url} is served as {served or 'no type'}")
        if icon.get("depth", "") != str(info.depth):
            verdicts.warn("DESC-ICONS", f"{url}: depth {icon.get('depth')!r}, "
                          f"its bytes say {info.depth}")
    return len(listed)
