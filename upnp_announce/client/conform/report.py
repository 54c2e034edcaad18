"""
What the conformance tester found, written out: text (one line per rule
and a summary), JSON, and JUnit XML (one testcase per rule).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from lxml import etree

from upnp_announce.client.conform.catalog import FAIL, PASS, SKIP, WARN, Finding

__all__ = ["EXIT_FAILED", "exit_status", "junit", "summary", "text", "to_json"]

# A rule failed (0: none did; 1: an error; 2: a usage mistake).
EXIT_FAILED = 4


def _counts(findings: Sequence[Finding]) -> dict[str, int]:
    counts = {PASS: 0, FAIL: 0, WARN: 0, SKIP: 0}
    for finding in findings:
        counts[finding.status] += 1
    return counts


def summary(findings: Sequence[Finding]) -> str:
    """
    C{conform: N pass, N fail, N warn, N skip}.
    """
    counts = _counts(findings)
    return "conform: " + ", ".join(f"{counts[s]} {s.lower()}" for s in (PASS, FAIL, WARN, SKIP))


def text(findings: Sequence[Finding]) -> str:
    """
    One line per rule, C{STATUS  RULE-ID  detail}, then the summary.
    """
    width = max((len(f.rule.id) for f in findings), default=0)
    lines = [
        f"{f.status}  {f.rule.id:<{width}}  {f.detail}".rstrip() for f in findings
    ]
    lines.append(summary(findings))
    return "\n".join(lines) + "\n"


def to_json(location: str, findings: Sequence[Finding]) -> str:
    """
    Every finding, and the counts, as JSON.
    """
    counts = _counts(findings)
    document = {
        "location": location,
        "findings": [
            {"rule": f.rule.id, "group": f.rule.group, "status": f.status,
             "detail": f.detail, "section": f.rule.section}
            for f in findings
        ],
        "summary": {s.lower(): counts[s] for s in (PASS, FAIL, WARN, SKIP)},
    }
    return json.dumps(document, indent=2) + "\n"


def junit(location: str, findings: Sequence[Finding]) -> bytes:
    """
    A JUnit XML report: one testcase per rule (a WARN passes, with its
    detail as output).
    """
    counts = _counts(findings)
    suite = etree.Element(
        "testsuite",
        name=f"upnp-announce conform {location}",
        tests=str(len(findings)),
        failures=str(counts[FAIL]),
        errors="0",
        skipped=str(counts[SKIP]),
    )
    for finding in findings:
        case = etree.SubElement(
            suite, "testcase", classname=f"conform.{finding.rule.group}", name=finding.rule.id
        )
        if finding.status == FAIL:
            etree.SubElement(case, "failure", message=finding.detail).text = finding.detail
        elif finding.status == SKIP:
            etree.SubElement(case, "skipped", message=finding.detail)
        elif finding.status == WARN:
            etree.SubElement(case, "system-out").text = f"WARN: {finding.detail}"
    return etree.tostring(suite, xml_declaration=True, encoding="utf-8", pretty_print=True)


def exit_status(findings: Sequence[Finding]) -> int:
    """
    0 when no rule failed, L{EXIT_FAILED} otherwise.
    """
    return EXIT_FAILED if any(f.status == FAIL for f in findings) else 0
