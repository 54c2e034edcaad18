"""
Device and service descriptions: the model rendered to the XML that UDA 1.1
specifies, and static service descriptions (SCPD files) parsed back into the
model.  Pure functions: bytes and values in, bytes and values out.

Every URL in a description is a path on our own HTTP server (no URLBase, which
UDA 1.1 deprecates), so one rendering serves every interface we listen on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from html import escape

from lxml import etree

from upnp_announce import xmlsafe
from upnp_announce.model import (
    DESCRIPTION_FIELDS,
    Action,
    AllowedValueRange,
    Argument,
    Device,
    ModelError,
    Service,
    ServiceDescription,
    StateVariable,
)

__all__ = [
    "DEVICE_NS",
    "SERVICE_NS",
    "DescriptionError",
    "Descriptions",
    "Layout",
    "ServicePaths",
    "evented",
    "layout",
    "parse_scpd",
    "render",
]

DEVICE_NS = "urn:schemas-upnp-org:device-1-0"
SERVICE_NS = "urn:schemas-upnp-org:service-1-0"
DESCRIPTION_PATH = "/description.xml"
CONTENT_TYPE = b'text/xml; charset="utf-8"'


class DescriptionError(ValueError):
    """
    A service description (SCPD) is not one we can serve.
    """


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
    @ivar presentation: UDN to the path of the page we serve for a device
        that has no presentationURL of its own.
    """

    description: str
    services: tuple[ServicePaths, ...]
    icons: dict[tuple[str, int], str]
    presentation: dict[str, str]


def _devicePrefix(root: Device, device: Device) -> str:
    return "" if device is root else "/dev/" + device.UDN[len("uuid:") :].lower()


def evented(service: Service) -> bool:
    """
    Whether C{service} has an evented state variable (and so an eventSubURL).
    """
    return any(v.sendEvents for v in service.description.stateVariables)


def layout(root: Device) -> Layout:
    """
    Give every service, icon and default presentation page a path.

    Services are placed by the last part of their serviceId, made unique
    within the device by a numeric suffix where two serviceIds share it.
    """
    services = []
    icons = {}
    presentation = {}
    for device in root.allDevices():
        prefix = _devicePrefix(root, device)
        if device.presentationURL is None:
            presentation[device.UDN] = prefix + "/"
        for index, icon in enumerate(device.icons):
            icons[(device.UDN, index)] = (
                f"{prefix}/icon/{index}-{icon.width}x{icon.height}.{icon.extension}"
            )
        used: set[str] = set()
        for service in device.services:
            name = base = service.serviceId.rsplit(":", 1)[1]
            n = 1
            while name.lower() in used:
                n += 1
                name = f"{base}-{n}"
            used.add(name.lower())
            path = f"{prefix}/svc/{name}"
            services.append(
                ServicePaths(
                    device, service, path + "/scpd.xml", path + "/control", path + "/event"
                )
            )
    return Layout(DESCRIPTION_PATH, tuple(services), icons, presentation)


@dataclass(frozen=True)
class Descriptions:
    """
    Every description of a device tree, rendered once.

    @ivar configId: the CONFIGID.UPNP.ORG of this rendering (0..16777215),
        also the C{configId} attribute of every description root.
    @ivar documents: path to the bytes served there, for the device
        description and each SCPD.
    @ivar presentation: path to the HTML page served there.
    """

    layout: Layout
    configId: int
    documents: dict[str, bytes]
    presentation: dict[str, bytes]


def render(root: Device) -> Descriptions:
    """
    Render the device description and every SCPD of C{root}'s tree.

    The configId is derived from the descriptions themselves (a hash of their
    renderings without it), so it changes exactly when one of them does.
    """
    plan = layout(root)
    trees = {plan.description: _deviceDescription(root, plan)}
    for paths in plan.services:
        trees[paths.scpd] = _serviceDescription(paths.service.description)
    digest = hashlib.sha256()
    for path in sorted(trees):
        digest.update(path.encode() + b"\0" + _serialise(trees[path]) + b"\0")
    configId = int.from_bytes(digest.digest()[:3], "big")
    documents = {}
    for path, tree in trees.items():
        tree.set("configId", str(configId))
        documents[path] = _serialise(tree)
    pages = {
        page: _presentationPage(device, plan)
        for device in root.allDevices()
        if (page := plan.presentation.get(device.UDN)) is not None
    }
    return Descriptions(plan, configId, documents, pages)


_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>\n'


def _serialise(tree: etree._Element) -> bytes:
    return _DECLARATION + etree.tostring(tree, encoding="utf-8", pretty_print=True)


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, tag)
    if text is not None:
        element.text = text
    return element


def _deviceDescription(root: Device, plan: Layout) -> etree._Element:
    doc = etree.Element("root", nsmap={None: DEVICE_NS})  # type: ignore[dict-item]
    spec = _sub(doc, "specVersion")
    _sub(spec, "major", "1")
    _sub(spec, "minor", "1")
    doc.append(_deviceElement(root, plan))
    return doc


def _deviceElement(device: Device, plan: Layout) -> etree._Element:
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
            deviceList.append(_deviceElement(child, plan))
    _sub(
        element,
        "presentationURL",
        device.presentationURL or plan.presentation[device.UDN],
    )
    return element


def _serviceDescription(description: ServiceDescription) -> etree._Element:
    doc = etree.Element("scpd", nsmap={None: SERVICE_NS})  # type: ignore[dict-item]
    spec = _sub(doc, "specVersion")
    _sub(spec, "major", "1")
    _sub(spec, "minor", "1")
    if description.actions:
        actionList = _sub(doc, "actionList")
        for action in description.actions:
            entry = _sub(actionList, "action")
            _sub(entry, "name", action.name)
            if action.arguments:
                argumentList = _sub(entry, "argumentList")
                for argument in action.arguments:
                    arg = _sub(argumentList, "argument")
                    _sub(arg, "name", argument.name)
                    _sub(arg, "direction", argument.direction)
                    if argument.retval:
                        _sub(arg, "retval")
                    _sub(arg, "relatedStateVariable", argument.relatedStateVariable)
    table = _sub(doc, "serviceStateTable")
    for variable in description.stateVariables:
        entry = _sub(table, "stateVariable")
        entry.set("sendEvents", "yes" if variable.sendEvents else "no")
        entry.set("multicast", "yes" if variable.multicast else "no")
        _sub(entry, "name", variable.name)
        _sub(entry, "dataType", variable.dataType)
        if variable.defaultValue is not None:
            _sub(entry, "defaultValue", variable.defaultValue)
        if variable.allowedValues is not None:
            values = _sub(entry, "allowedValueList")
            for value in variable.allowedValues:
                _sub(values, "allowedValue", value)
        if variable.allowedValueRange is not None:
            r = variable.allowedValueRange
            values = _sub(entry, "allowedValueRange")
            _sub(values, "minimum", r.minimum)
            _sub(values, "maximum", r.maximum)
            if r.step is not None:
                _sub(values, "step", r.step)
    return doc


def _presentationPage(device: Device, plan: Layout) -> bytes:
    rows = [
        ("Device type", device.deviceType),
        ("Manufacturer", device.manufacturer),
        ("Model", " ".join(filter(None, (device.modelName, device.modelNumber)))),
        ("Description", device.modelDescription),
        ("Serial number", device.serialNumber),
        ("UDN", device.UDN),
    ]
    services = [p.service.serviceType for p in plan.services if p.device is device]
    icon = plan.icons.get((device.UDN, 0))
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(device.friendlyName)}</title></head><body>",
        f'<h1>{escape(device.friendlyName)}</h1>',
    ]
    if icon is not None:
        parts.append(f'<p><img src="{escape(icon)}" alt=""></p>')
    parts.append("<table>")
    parts.extend(
        f"<tr><th>{escape(label)}</th><td>{escape(value)}</td></tr>"
        for label, value in rows
        if value
    )
    parts.append("</table>")
    if services:
        parts.append("<h2>Services</h2><ul>")
        parts.extend(f"<li>{escape(s)}</li>" for s in services)
        parts.append("</ul>")
    parts.append(
        f'<p><a href="{escape(plan.description)}">Device description</a></p>'
        "</body></html>\n"
    )
    return "\n".join(parts).encode("utf-8")


# -- Static SCPD files --------------------------------------------------------


def _q(tag: str) -> str:
    return f"{{{SERVICE_NS}}}{tag}"


def _children(
    element: etree._Element, allowed: dict[str, bool], strict: bool
) -> dict[str, list[etree._Element]]:
    """
    Group the UPnP-namespace children of C{element} by local name, refusing
    unknown ones (a typo) and repeats of single ones; vendor elements in
    other namespaces are ignored.

    Not C{strict} (reading another's SCPD), the namespace is not checked,
    and unknown elements and repeats are passed over.

    @param allowed: local name to whether it may repeat.
    """
    found: dict[str, list[etree._Element]] = {}
    for child in element:
        if not isinstance(child.tag, str):
            continue
        qname = etree.QName(child)
        if strict and qname.namespace != SERVICE_NS:
            if qname.namespace is None:
                raise DescriptionError(
                    f"<{qname.localname}> inside <{etree.QName(element).localname}> "
                    f"is not in the namespace {SERVICE_NS}"
                )
            continue
        name = qname.localname
        if name not in allowed:
            if not strict:
                continue
            raise DescriptionError(
                f"unexpected <{name}> inside <{etree.QName(element).localname}>"
            )
        if found.get(name) and not allowed[name]:
            if not strict:
                continue
            raise DescriptionError(
                f"<{name}> appears twice inside <{etree.QName(element).localname}>"
            )
        found.setdefault(name, []).append(child)
    return found


def _textOf(found: dict[str, list[etree._Element]], name: str, where: str) -> str:
    elements = found.get(name)
    if not elements:
        raise DescriptionError(f"<{where}> has no <{name}>")
    return (elements[0].text or "").strip()


def _optionalText(
    found: dict[str, list[etree._Element]], name: str, exact: bool = False
) -> str | None:
    elements = found.get(name)
    if not elements:
        return None
    text = elements[0].text or ""
    return text if exact else text.strip()


# Values of these types are kept exactly as written: white space is data.
_EXACT_TYPES = frozenset({"string", "char"})


def _yesNo(element: etree._Element, attribute: str, default: bool) -> bool:
    value = element.get(attribute)
    if value is None:
        return default
    if value.strip().lower() not in ("yes", "no"):
        raise DescriptionError(
            f"{attribute}={value!r} on a state variable is neither 'yes' nor 'no'"
        )
    return value.strip().lower() == "yes"


def _elements(found: dict[str, list[etree._Element]], name: str) -> Iterator[etree._Element]:
    return iter(found.get(name, ()))


def parse_scpd(data: bytes, *, strict: bool = True) -> ServiceDescription:
    """
    Read a service description (SCPD) into the model.

    The root's own configId, if any, is dropped: we serve our own.

    @param strict: refuse unknown UPnP elements (typos) and a missing
        namespace, as for our own files; a control point reading another's
        SCPD passes C{strict=False}.
    @raise DescriptionError: naming the first thing that is wrong.
    """
    try:
        root = xmlsafe.parse(data, maxDepth=16)
    except xmlsafe.UnsafeXML as e:
        raise DescriptionError(str(e)) from None
    if root.tag != _q("scpd") and (strict or etree.QName(root).localname != "scpd"):
        raise DescriptionError(
            f'the root element is <{etree.QName(root).localname}>, '
            f'not <scpd xmlns="{SERVICE_NS}">'
        )
    top = _children(
        root, {"specVersion": False, "actionList": False, "serviceStateTable": False}, strict
    )
    actions = []
    for actionList in _elements(top, "actionList"):
        for element in _children(actionList, {"action": True}, strict).get("action", ()):
            actions.append(_parseAction(element, strict))
    variables = []
    for table in _elements(top, "serviceStateTable"):
        for element in _children(table, {"stateVariable": True}, strict).get("stateVariable", ()):
            variables.append(_parseStateVariable(element, strict))
    try:
        return ServiceDescription(tuple(actions), tuple(variables))
    except ModelError as e:
        raise DescriptionError("; ".join(p.message for p in e.problems)) from None


def _parseAction(element: etree._Element, strict: bool) -> Action:
    found = _children(element, {"name": False, "argumentList": False}, strict)
    name = _textOf(found, "name", "action")
    arguments = []
    for argumentList in _elements(found, "argumentList"):
        for arg in _children(argumentList, {"argument": True}, strict).get("argument", ()):
            fields = _children(
                arg,
                {"name": False, "direction": False, "retval": False,
                 "relatedStateVariable": False},
                strict,
            )
            argName = _textOf(fields, "name", "argument")
            try:
                arguments.append(
                    Argument(
                        argName,
                        _textOf(fields, "direction", "argument").lower(),
                        _textOf(fields, "relatedStateVariable", "argument"),
                        retval="retval" in fields,
                    )
                )
            except ModelError as e:
                raise DescriptionError(
                    f"action {name!r}: {e.what}: "
                    + "; ".join(str(p) for p in e.problems)
                ) from None
    try:
        return Action(name, tuple(arguments))
    except ModelError as e:
        raise DescriptionError(str(e)) from None


def _parseStateVariable(element: etree._Element, strict: bool) -> StateVariable:
    found = _children(
        element,
        {"name": False, "dataType": False, "defaultValue": False,
         "allowedValueList": False, "allowedValueRange": False},
        strict,
    )
    name = _textOf(found, "name", "stateVariable")
    dataType = _textOf(found, "dataType", "stateVariable")
    exact = dataType in _EXACT_TYPES
    allowedValues = None
    for values in _elements(found, "allowedValueList"):
        allowedValues = tuple(
            (v.text or "") if exact else (v.text or "").strip()
            for v in _children(values, {"allowedValue": True}, strict).get("allowedValue", ())
        )
    allowedRange = None
    for values in _elements(found, "allowedValueRange"):
        limits = _children(values, {"minimum": False, "maximum": False, "step": False}, strict)
        allowedRange = AllowedValueRange(
            _textOf(limits, "minimum", "allowedValueRange"),
            _textOf(limits, "maximum", "allowedValueRange"),
            _optionalText(limits, "step"),
        )
    try:
        return StateVariable(
            name,
            dataType,
            # UDA 1.0: sendEvents defaults to yes.
            sendEvents=_yesNo(element, "sendEvents", True),
            multicast=_yesNo(element, "multicast", False),
            defaultValue=_optionalText(found, "defaultValue", exact),
            allowedValues=allowedValues,
            allowedValueRange=allowedRange,
        )
    except ModelError as e:
        raise DescriptionError(str(e)) from None

