"""
L{conform}: run the rule groups against one device, within one overall
deadline, and give one finding per rule.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from upnp_announce.client.common import ClientError
from upnp_announce.client.conform import (
    control,
    description,
    eventing,
    scpd,
    security,
    ssdp,
)
from upnp_announce.client.conform.catalog import GROUPS, RULES, Finding, Verdicts
from upnp_announce.client.conform.probe import Deadline, Probe
from upnp_announce.client.controlpoint import ControlPoint

__all__ = ["conform", "overall_deadline"]

_CHECKS: dict[str, Callable[[Probe, Verdicts], Awaitable[None]]] = {
    "ssdp": ssdp.check,
    "description": description.check,
    "scpd": scpd.check,
    "control": control.check,
    "eventing": eventing.check,
    "security": security.check,
}


def overall_deadline(timeout: float) -> float:
    """
    The seconds a whole run may take: enough for a device that answers
    (each probe within C{timeout}), bounded for one that never does.
    """
    return 30 + 6 * timeout


async def _group(group: str, probe: Probe, verdicts: Verdicts) -> None:
    """
    Run one group. An exchange that fails where the group did not expect
    it (a device that stops answering halfway) fails the group's rules not
    yet checked, and the run goes on with the next group.
    """
    try:
        await _CHECKS[group](probe, verdicts)
    except ClientError as e:
        for rule in RULES:
            if rule.group == group and not verdicts.has(rule.id):
                verdicts.fail(rule.id, f"not checked: {e}")


async def conform(
    reactor: Any,
    location: str,
    *,
    groups: Sequence[str] = GROUPS,
    timeout: float = 5.0,
    invoke: bool = False,
    ssdpPort: int = 1900,
    point: ControlPoint | None = None,
    deadline: float | None = None,
) -> list[Finding]:
    """
    Test the device at C{location}: one finding per rule of C{groups}.

    @param timeout: seconds for each probe.
    @param invoke: allow calls that change the device's state (and set it
        back).
    @param ssdpPort: the device's SSDP port, for the unicast searches.
    @param point: makes the HTTP exchanges; by default a L{ControlPoint} of
        its own, closed at the end.
    @param deadline: seconds for the whole run; by default
        L{overall_deadline}.
    @raise ValueError: when LOCATION does not name the device by IP address.
    @raise upnp_announce.client.common.Unreachable: when LOCATION cannot be
        reached at all.
    """
    own = point is None
    if point is None:
        point = ControlPoint(reactor, timeout=timeout)
    seconds = overall_deadline(timeout) if deadline is None else deadline
    probe = Probe(reactor, location, point=point, timeout=timeout, deadline=seconds,
                  invoke=invoke, ssdpPort=ssdpPort)
    verdicts = Verdicts()
    unchecked = "not run"
    try:
        try:
            await probe.load()
            for group in GROUPS:
                if group in groups:
                    await _group(group, probe, verdicts)
        except Deadline as e:
            unchecked = str(e)
    finally:
        if own:
            await point.close()
    if probe.loaded.remote is None and unchecked == "not run":
        unchecked = "no usable device description"
    rules = tuple(r for r in RULES if r.group in groups)
    return verdicts.findings(rules, unchecked)
