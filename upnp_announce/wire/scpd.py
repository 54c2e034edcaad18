"""
Service descriptions (SCPD): the model's L{ServiceDescription} rendered to
the XML of UDA 1.1, and SCPD documents (our own files, or another device's)
parsed back into the model. Pure: bytes and values in, bytes and values out.
"""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

from upnp_announce.model import (
    Action,
    AllowedValueRange,
    Argument,
    ModelError,
    ServiceDescription,
    StateVariable,
)
from upnp_announce.wire import xmlsafe
from upnp_announce.wire.xmlsafe import CONTENT_TYPE

__all__ = [
    "CONTENT_TYPE",
    "SERVICE_NS",
    "DescriptionError",
    "parse_scpd",
    "scpd_element",
    "serialise",
    "sub_element",
]

SERVICE_NS = "urn:schemas-upnp-org:service-1-0"


class DescriptionError(ValueError):
    """
    A description (a device's or a service's) is not one we can use.
    """


_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>\n'


def serialise(tree: etree._Element) -> bytes:
    """
    A description document: the XML declaration, then C{tree}.
    """
    return _DECLARATION + etree.tostring(tree, encoding="utf-8", pretty_print=True)


def sub_element(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    """
    A new child C{tag} of C{parent}, with C{text}.
    """
    element = etree.SubElement(parent, tag)
    if text is not None:
        element.text = text
    return element


_sub = sub_element


def scpd_element(description: ServiceDescription) -> etree._Element:
    """
    The C{<scpd>} element of C{description} (without configId).
    """
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



# -- parsing ---------------------------------------------------------------


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


def _text_of(found: dict[str, list[etree._Element]], name: str, where: str) -> str:
    elements = found.get(name)
    if not elements:
        raise DescriptionError(f"<{where}> has no <{name}>")
    return (elements[0].text or "").strip()


def _optional_text(
    found: dict[str, list[etree._Element]], name: str, exact: bool = False
) -> str | None:
    elements = found.get(name)
    if not elements:
        return None
    text = elements[0].text or ""
    return text if exact else text.strip()


# Values of these types are kept exactly as written: white space is data.
_EXACT_TYPES = frozenset({"string", "char"})


def _yes_no(element: etree._Element, attribute: str, default: bool) -> bool:
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
            actions.append(_parse_action(element, strict))
    variables = []
    for table in _elements(top, "serviceStateTable"):
        for element in _children(table, {"stateVariable": True}, strict).get("stateVariable", ()):
            variables.append(_parse_state_variable(element, strict))
    try:
        return ServiceDescription(tuple(actions), tuple(variables))
    except ModelError as e:
        raise DescriptionError("; ".join(p.message for p in e.problems)) from None


def _parse_action(element: etree._Element, strict: bool) -> Action:
    found = _children(element, {"name": False, "argumentList": False}, strict)
    name = _text_of(found, "name", "action")
    arguments = []
    for argumentList in _elements(found, "argumentList"):
        for arg in _children(argumentList, {"argument": True}, strict).get("argument", ()):
            fields = _children(
                arg,
                {"name": False, "direction": False, "retval": False,
                 "relatedStateVariable": False},
                strict,
            )
            argName = _text_of(fields, "name", "argument")
            try:
                arguments.append(
                    Argument(
                        argName,
                        _text_of(fields, "direction", "argument").lower(),
                        _text_of(fields, "relatedStateVariable", "argument"),
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


def _parse_state_variable(element: etree._Element, strict: bool) -> StateVariable:
    found = _children(
        element,
        {"name": False, "dataType": False, "defaultValue": False,
         "allowedValueList": False, "allowedValueRange": False},
        strict,
    )
    name = _text_of(found, "name", "stateVariable")
    dataType = _text_of(found, "dataType", "stateVariable")
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
            _text_of(limits, "minimum", "allowedValueRange"),
            _text_of(limits, "maximum", "allowedValueRange"),
            _optional_text(limits, "step"),
        )
    try:
        return StateVariable(
            name,
            dataType,
            # UDA 1.0: sendEvents defaults to yes.
            sendEvents=_yes_no(element, "sendEvents", True),
            multicast=_yes_no(element, "multicast", False),
            defaultValue=_optional_text(found, "defaultValue", exact),
            allowedValues=allowedValues,
            allowedValueRange=allowedRange,
        )
    except ModelError as e:
        raise DescriptionError(str(e)) from None
