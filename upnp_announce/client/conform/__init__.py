"""
An open conformance tester for any UPnP device: C{upnp-announce conform}.

Rule groups (one module each: L{ssdp}, L{description}, L{scpd},
L{control}, L{eventing}, L{security}) probe one device through a L{Probe}
(bounded HTTP exchanges on the device's own host, under one overall
deadline) and record a finding per rule (L{catalog}); L{report} writes
them out. It reuses the shared layer's parsers and the model's checks.
"""

from upnp_announce.client.conform.catalog import GROUPS, RULES, Finding, Rule
from upnp_announce.client.conform.engine import conform, overall_deadline
from upnp_announce.client.conform.report import (
    EXIT_FAILED,
    exit_status,
    junit,
    summary,
    text,
    to_json,
)

__all__ = [
    "EXIT_FAILED",
    "GROUPS",
    "RULES",
    "Finding",
    "Rule",
    "conform",
    "exit_status",
    "junit",
    "overall_deadline",
    "summary",
    "text",
    "to_json",
]
