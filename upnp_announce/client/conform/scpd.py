"""
The scpd group: each service description as fetched, read strictly against
UDA 1.1 2.5, each part checked by the model's own constructors.
"""

from __future__ import annotations

from lxml import etree

from upnp_announce import datatypes
from upnp_announce.client.conform.catalog import Verdicts
from upnp_announce.client.conform.probe import Probe
from upnp_announce.model import (
    Action,
    AllowedValueRange,
    Argument,
    ModelError,
    StateVariable,
)
from upnp_announce.wire.scpd import SERVICE_NS
from upnp_announce.wire.xmlsafe import local_name

__all__ = ["check"]

# The problems of a state variable that are about its values.
_VALUE_FIELDS = frozenset({"defaultValue", "allowedValueList", "allowedValueRange", "minimum",
                           "maximum", "step"})


def _find(element: etree._Element, *path: str) -> list[etree._Element]:
    """
    The descendants along C{path} of local names.
    """
    found = [element]
    for name in path:
        found = [c for e in found for c in e if local_name(c) == name]
    return found


def _text(element: etree._Element, name: str) -> str | None:
    for child in element:
        if local_name(child) == name:
            return (child.text or "").strip()
    return None


async def check(probe: Probe, verdicts: Verdicts) -> None:
    services = probe.loaded.services
    if probe.loaded.remote is None:
        return
    read = 0
    for service in services:
        where = service.remote.serviceId or service.remote.serviceType
        document = service.document
        root = document.root
        if root is None:
            verdicts.fail("SCPD-FETCH", f"{where}: {document.problem}")
            continue
        if root.tag != f"{{{SERVICE_NS}}}scpd":
            verdicts.fail("SCPD-FETCH", f"{where}: the root is {root.tag}, not "
                          f"{{{SERVICE_NS}}}scpd")
        verdicts.ok("SCPD-FETCH", f"{len(services)} service(s)")
        read += 1
        variables = _variables(verdicts, where, root)
        _actions(verdicts, where, root, variables)
        evented = any(variables.values())
        if evented and not service.remote.eventSubURL:
            verdicts.fail("SCPD-EVENTED", f"{where} has evented variables and no eventSubURL")
        elif not evented and service.remote.eventSubURL:
            verdicts.warn("SCPD-EVENTED", f"{where} has an eventSubURL and no evented variable")
    for id in ("SCPD-FETCH", "SCPD-TYPES", "SCPD-ACTIONS", "SCPD-RELATED", "SCPD-VALUES",
               "SCPD-EVENTED"):
        if read:
            verdicts.ok(id, f"{read} service(s)")
        else:
            verdicts.skip(id, "no service description to read")


def _variables(verdicts: Verdicts, where: str, root: etree._Element) -> dict[str, bool]:
    """
    Check each state variable; give whether each is evented, by name.
    """
    variables = {}
    for element in _find(root, "serviceStateTable", "stateVariable"):
        name = _text(element, "name") or ""
        variables[name] = (element.get("sendEvents") or "yes").strip().lower() == "yes"
        dataType = _text(element, "dataType") or ""
        if dataType not in datatypes.DATA_TYPES:
            verdicts.fail("SCPD-TYPES", f"{where}: {name}'s dataType {dataType[:40]!r} "
                          "is not a UPnP data type")
            continue
        allowed = _find(element, "allowedValueList")
        ranges = _find(element, "allowedValueRange")
        exact = dataType in ("string", "char")
        try:
            StateVariable(
                name,
                dataType,
                defaultValue=_text(element, "defaultValue"),
                allowedValues=tuple(
                    (v.text or "") if exact else (v.text or "").strip()
                    for v in _find(allowed[0], "allowedValue")
                ) if allowed else None,
                allowedValueRange=AllowedValueRange(
                    _text(ranges[0], "minimum") or "", _text(ranges[0], "maximum") or "",
                    _text(ranges[0], "step"),
                ) if ranges else None,
            )
        except ModelError as e:
            for problem in e.problems:
                if problem.field in _VALUE_FIELDS:
                    verdicts.fail("SCPD-VALUES", f"{where}: {name}: {problem}")
    return variables


def _actions(
    verdicts: Verdicts, where: str, root: etree._Element, variables: dict[str, bool]
) -> None:
    for element in _find(root, "actionList", "action"):
        name = _text(element, "name") or ""
        arguments = []
        for arg in _find(element, "argumentList", "argument"):
            related = _text(arg, "relatedStateVariable") or ""
            argName = _text(arg, "name") or ""
            if related not in variables:
                verdicts.fail("SCPD-RELATED", f"{where}: {name}({argName}) refers to the "
                              f"undeclared state variable {related[:40]!r}")
            try:
                arguments.append(Argument(
                    argName, _text(arg, "direction") or "", related,
                    retval=bool(_find(arg, "retval")),
                ))
            except ModelError as e:
                problems = [p for p in e.problems if p.field != "relatedStateVariable"]
                for problem in problems:
                    verdicts.fail("SCPD-ACTIONS", f"{where}: {name}: {e.what}: {problem}")
        try:
            Action(name, tuple(arguments))
        except ModelError as e:
            for problem in e.problems:
                verdicts.fail("SCPD-ACTIONS", f"{where}: {e.what}: {problem}")
