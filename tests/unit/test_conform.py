"""
The conformance tester without sockets: its catalog and reports, the values
and faults it sends and reads, the reading of search replies, and the
description, scpd and control groups run over an in-memory IAgent against
our own device (clean) and each broken variant (exactly its rule fails).
"""

from __future__ import annotations

import io
import json
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import pytest
from lxml import etree
from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.web.iweb import IAgent
from zope.interface.verify import verifyObject

from upnp_announce import cli, config, datatypes
from upnp_announce.client import ControlPoint
from upnp_announce.client.conform import (
    GROUPS,
    RULES,
    Finding,
    calls,
    conform,
    exit_status,
    junit,
    ssdp,
    summary,
    text,
    to_json,
)
from upnp_announce.client.conform.catalog import FAIL, PASS, SKIP, WARN, Verdicts, rule
from upnp_announce.client.conform.security import other_address
from upnp_announce.device.site import DeviceSite
from upnp_announce.model import AllowedValueRange, StateVariable
from upnp_announce.netif import Adapter
from upnp_announce.wire import soap
from upnp_announce.wire import ssdp as wire
from upnp_announce.wire.description import parse_device_description, render

from broken_device import VARIANTS, BrokenDevice
from support import MemoryAgent, example

IN_MEMORY = ("description", "scpd", "control")


# -- the catalog and the reports -------------------------------------------------


def test_every_rule_has_a_unique_id_a_known_group_and_a_section() -> None:
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids)) == 53
    assert {r.group for r in RULES} == set(GROUPS)
    assert all(r.section and r.checks for r in RULES)
    counts = Counter(r.group for r in RULES)
    assert counts == {"ssdp": 13, "description": 11, "scpd": 6, "control": 8, "eventing": 11,
                      "security": 4}


def findings() -> list[Finding]:
    return [Finding(rule("SSDP-ALL"), PASS, "6 replies"),
            Finding(rule("DESC-LENGTHS"), WARN, "friendlyName is 70 characters"),
            Finding(rule("CTRL-401"), FAIL, "HTTP 400 with no UPnP fault"),
            Finding(rule("EVT-SEQ"), SKIP, "changes state: needs --invoke")]


def test_the_text_is_one_line_per_rule_then_the_summary() -> None:
    lines = text(findings()).splitlines()
    assert lines == [
        "PASS  SSDP-ALL      6 replies",
        "WARN  DESC-LENGTHS  friendlyName is 70 characters",
        "FAIL  CTRL-401      HTTP 400 with no UPnP fault",
        "SKIP  EVT-SEQ       changes state: needs --invoke",
        "conform: 1 pass, 1 fail, 1 warn, 1 skip",
    ]
    assert summary([]) == "conform: 0 pass, 0 fail, 0 warn, 0 skip"


def test_the_json_lists_every_finding_and_the_counts() -> None:
    document = json.loads(to_json("http://127.0.0.1:1/d.xml", findings()))
    assert document["location"] == "http://127.0.0.1:1/d.xml"
    assert [f["rule"] for f in document["findings"]] == [
        "SSDP-ALL", "DESC-LENGTHS", "CTRL-401", "EVT-SEQ"]
    assert document["findings"][2] == {
        "rule": "CTRL-401", "group": "control", "status": "FAIL",
        "detail": "HTTP 400 with no UPnP fault", "section": "UDA 1.1 3.2.2"}
    assert document["summary"] == {"pass": 1, "fail": 1, "warn": 1, "skip": 1}


def test_junit_has_one_testcase_per_rule() -> None:
    suite = etree.fromstring(junit("http://127.0.0.1:1/d.xml", findings()))
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == ["SSDP-ALL", "DESC-LENGTHS", "CTRL-401", "EVT-SEQ"]
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("4", "1", "1")
    assert cases[2].find("failure").get("message") == "HTTP 400 with no UPnP fault"
    assert cases[3].find("skipped") is not None
    assert cases[1].findtext("system-out") == "WARN: friendlyName is 70 characters"
    assert cases[0].find("failure") is None and cases[0].get("classname") == "conform.ssdp"


def test_exit_status_is_4_when_a_rule_fails_else_0() -> None:
    assert exit_status(findings()) == 4
    assert exit_status(findings()[:2] + findings()[3:]) == 0


def test_verdicts_keep_the_worst_status_and_skip_what_was_never_checked() -> None:
    verdicts = Verdicts()
    verdicts.ok("SSDP-ALL", "fine")
    verdicts.warn("SSDP-ALL", "odd")
    verdicts.ok("SSDP-ALL", "fine again")
    verdicts.fail("SSDP-ROOT", "one")
    verdicts.fail("SSDP-ROOT", "two")
    verdicts.skip("SSDP-ROOT", "never")
    found = verdicts.findings(RULES[:3], "not run")
    assert [(f.rule.id, f.status, f.detail) for f in found] == [
        ("SSDP-ALL", WARN, "odd"), ("SSDP-ROOT", FAIL, "one; two"),
        ("SSDP-UUID", SKIP, "not run")]


# -- values, faults, the other address --------------------------------------------


def test_sample_and_bad_values_are_confirmed_by_the_model() -> None:
    level = StateVariable("Level", "ui1", allowedValueRange=AllowedValueRange("0", "100", "5"))
    assert calls.sample_value(level) == "0"
    assert calls.invalid_value(level) == "conform?"
    assert calls.out_of_range_value(level) == "105"
    mode = StateVariable("Mode", "string", allowedValues=("On", "Off"), defaultValue="Off")
    assert calls.sample_value(mode) == "Off"
    assert calls.invalid_value(mode) is None
    assert calls.out_of_range_value(mode) == "XConformNotAllowed"
    flag = StateVariable("Flag", "boolean")
    assert (calls.sample_value(flag), calls.invalid_value(flag)) == ("0", "conform?")
    assert calls.out_of_range_value(flag) is None
    assert calls.out_of_range_value(StateVariable("Small", "i1")) == "128"
    assert calls.out_of_range_value(StateVariable("Any", "int")) is None
    assert calls.sample_value(StateVariable("When", "dateTime.tz")) == "2000-01-01T00:00:00Z"


def test_our_fault_reads_as_its_code_with_no_problem() -> None:
    assert calls.read_fault(500, soap.fault(401, "Invalid Action")) == (401, [])


@pytest.mark.parametrize("body, problem", [
    (soap.fault(401, "x").replace(b"s:Client", b"s:Server"), "faultcode 's:Server', not s:Client"),
    (soap.fault(401, "x").replace(b">UPnPError<", b">Error<"), "faultstring is not UPnPError"),
    (soap.fault(401, "x").replace(soap.CONTROL_NS.encode(), b"urn:other"),
     "no detail/UPnPError in urn:schemas-upnp-org:control-1-0"),
    (b"<html/>", "no s:Envelope/s:Body/s:Fault"),
])
def test_a_fault_out_of_form_is_named(body: bytes, problem: str) -> None:
    _, problems = calls.read_fault(500, body)
    assert problem in problems


def test_a_fault_with_another_status_is_named() -> None:
    assert calls.read_fault(200, soap.fault(402, "x")) == (402, ["HTTP 200, not 500"])


def adapter(*addresses: tuple[str, int]) -> Adapter:
    return Adapter("eth0", None, addresses, 2)


def test_the_other_address_is_the_next_free_one_on_our_subnet() -> None:
    adapters = [adapter(("10.1.2.1", 24), ("10.1.2.2", 24))]
    assert other_address("10.1.2.2", ["10.1.2.2", "10.1.2.3"], adapters) == "10.1.2.4"
    assert other_address("127.0.0.1", ["127.0.0.1"], [adapter(("127.0.0.1", 8))]) == "127.0.0.2"


def test_there_is_no_other_address_on_a_point_to_point_subnet() -> None:
    assert other_address("10.1.2.1", ["10.1.2.1", "10.1.2.2"], [adapter(("10.1.2.1", 30))]) is None
    assert other_address("10.1.2.1", ["10.1.2.1"], [adapter(("10.9.9.9", 24))]) is None


@pytest.mark.parametrize("argv", [
    ["conform", "http://device.example/desc.xml"],
    ["conform", "ftp://127.0.0.1/desc.xml"],
    ["conform", "http://127.0.0.1/d.xml", "--only", "ssdp,bogus"],
    ["conform", "http://127.0.0.1/d.xml", "--ssdp-port", "0"],
    ["conform", "http://127.0.0.1/d.xml", "--timeout", "-1"],
    ["conform"],
])
def test_usage_mistakes_exit_2(argv: list[str]) -> None:
    err = io.StringIO()
    with pytest.raises(SystemExit) as raised:
        cli.main(argv, io.StringIO(), err)
    assert raised.value.code == 2


# -- reading search replies -------------------------------------------------------------


def our_tree() -> Any:
    loaded = config.load(example("jambon-fridge.ini"), machineId="conform")
    descriptions = render(loaded.device)
    location = "http://10.0.0.1:80/description.xml"
    data = descriptions.documents["/description.xml"]
    return parse_device_description(data, location), descriptions.configId, location


def replies_of(root: Any, plan: ssdp.Targets, where: str, config: int,
               **changes: Any) -> dict[str, list[bytes]]:
    everything = wire.announcements(root)
    answers = {}
    for st in plan.searches:
        answers[st] = [
            wire.search_response(**{
                "st": a.nt, "usn": a.usn, "location": where, "maxAge": 1800,
                "date": "Sat, 05 Dec 2026 08:00:00 GMT", "server": "Linux/6 UPnP/1.1 x/1",
                "bootId": 3, "configId": config, **changes})
            for a in wire.matches(st, everything)
        ]
    return answers


def judged(root: Any, plan: ssdp.Targets, replies: dict[str, list[bytes]], location: str,
           configId: int) -> dict[str, str]:
    verdicts = Verdicts()
    ssdp.judge(verdicts, root, plan, replies, host="10.0.0.1", location=location,
               spec=(1, 1), configId=configId)
    return {f.rule.id: f.status for f in verdicts.findings(RULES[:12], "not run")}


def test_the_targets_are_every_one_the_description_implies() -> None:
    root, _, _ = our_tree()
    plan = ssdp.targets(root)
    assert plan.searches[:2] == ("ssdp:all", "upnp:rootdevice")
    assert set(plan.searches) >= {d.UDN for d in root.allDevices()}
    assert "urn:boucherie.example.com:device:Fridge:1" in plan.searches
    assert plan.lower is None and plan.higher == "urn:schemas-upnp-org:device:Basic:2"


def test_the_replies_our_wire_module_writes_pass() -> None:
    root, configId, location = our_tree()
    plan = ssdp.targets(root)
    found = judged(root, plan, replies_of(root, plan, location, configId), location, configId)
    assert set(found.values()) == {PASS}, found


@pytest.mark.parametrize("changes, failed", [
    ({"maxAge": 300}, "SSDP-MAXAGE"),
    ({"configId": 1}, "SSDP-CONFIGID"),
    ({"location": "http://10.0.0.2/description.xml"}, "SSDP-LOCATION"),
    ({"server": "Linux"}, "SSDP-SERVER"),
])
def test_a_wrong_header_fails_its_rule(changes: dict[str, Any], failed: str) -> None:
    root, configId, location = our_tree()
    plan = ssdp.targets(root)
    found = judged(root, plan, replies_of(root, plan, location, configId, **changes), location,
                   configId)
    assert {r for r, s in found.items() if s != PASS} == {failed}


def test_a_missing_reply_and_a_foreign_usn_fail_their_rules() -> None:
    root, configId, location = our_tree()
    plan = ssdp.targets(root)
    replies = replies_of(root, plan, location, configId)
    replies["ssdp:all"] = replies["ssdp:all"][1:]
    fridge = "urn:boucherie.example.com:device:Fridge:1"
    replies[fridge] = [r.replace(root.devices[0].UDN.encode(), root.UDN.encode())
                       for r in replies[fridge]]
    found = judged(root, plan, replies, location, configId)
    assert {r for r, s in found.items() if s != PASS} == {"SSDP-ALL", "SSDP-USN"}


def test_duplicates_count_once_and_an_extra_header_warns() -> None:
    root, configId, location = our_tree()
    plan = ssdp.targets(root)
    replies = replies_of(root, plan, location, configId)
    replies["upnp:rootdevice"] *= 3
    replies["ssdp:all"] = [r.replace(b"EXT:", b"X-STAMP: 1\r\nEXT:") for r in replies["ssdp:all"]]
    found = judged(root, plan, replies, location, configId)
    assert {r: s for r, s in found.items() if s != PASS} == {"SSDP-HEADERS": WARN}


def test_a_higher_version_answered_fails() -> None:
    root, configId, location = our_tree()
    plan = ssdp.targets(root)
    replies = replies_of(root, plan, location, configId)
    replies[plan.higher] = replies[root.deviceType]
    found = judged(root, plan, replies, location, configId)
    assert {r for r, s in found.items() if s != PASS} == {"SSDP-VERSION"}


# -- the groups over memory --------------------------------------------------------


def run(site: Any, location: str, *, invoke: bool = False) -> dict[str, Finding]:
    agent = MemoryAgent(site)
    verifyObject(IAgent, agent)
    clock = Clock()
    point = ControlPoint(clock, agent=agent)
    running = defer.Deferred.fromCoroutine(conform(
        clock, location, groups=IN_MEMORY, point=point, invoke=invoke))
    result: list[list[Finding]] = []
    running.addCallback(result.append)
    assert result, "the in-memory run did not finish at once"
    return {f.rule.id: f for f in result[0]}


def statuses(found: dict[str, Finding], *wanted: str) -> dict[str, str]:
    return {id: f.status for id, f in found.items() if f.status in wanted}


@pytest.mark.parametrize("name", ["light.ini", "jambon-fridge.ini"])
def test_our_device_passes_clean(name: str) -> None:
    loaded = config.load(example(name), machineId="conform")
    site = DeviceSite(loaded.device, reactor=Clock())
    site.addAddress("127.0.0.1", 8000)
    found = run(site, "http://127.0.0.1:8000/description.xml", invoke=True)
    assert statuses(found, FAIL, WARN) == {}
    assert [f.rule.group for f in found.values()] == [
        r.group for r in RULES if r.group in IN_MEMORY]


def test_the_broken_device_passes_clean_and_skips_nothing() -> None:
    device = BrokenDevice(Clock())
    found = run(device.site(), device.location)
    assert statuses(found, FAIL, WARN, SKIP) == {}, found


@pytest.mark.parametrize("variant", [v for v in VARIANTS if v.split("-")[0] in (
    "DESC", "SCPD", "CTRL")])
def test_each_planted_defect_fails_exactly_its_rule(variant: str) -> None:
    device = BrokenDevice(Clock(), variant)
    found = run(device.site(), device.location)
    # (What UDA only recommends is a warning.)
    wanted = WARN if variant in ("DESC-LENGTHS", "DESC-URLBASE") else FAIL
    assert statuses(found, FAIL, WARN) == {variant: wanted}, found[variant]


class Elsewhere(BrokenDevice):
    """
    The broken device with its SCPD, icon and page on other hosts.
    """

    def _description(self, request: Any) -> bytes:
        data = super()._description(request)
        for path in (b"/scpd.xml", b"/icon.png", b"/page"):
            data = data.replace(b">" + path + b"<", b">http://192.0.2.1" + path + b"<")
        return data


def test_urls_on_other_hosts_are_failed_and_never_fetched() -> None:
    device = Elsewhere(Clock())
    agent = MemoryAgent(device.site())
    clock = Clock()
    running = defer.Deferred.fromCoroutine(conform(
        clock, device.location, groups=IN_MEMORY, point=ControlPoint(clock, agent=agent)))
    result: list[list[Finding]] = []
    running.addCallback(result.append)
    found = {f.rule.id: f.status for f in result[0]}
    assert {r: s for r, s in found.items() if s == FAIL} == {
        "DESC-URLS": FAIL, "DESC-ICONS": FAIL, "SCPD-FETCH": FAIL}
    assert {urlsplit(uri.decode()).hostname for _, uri in agent.requests} == {"127.0.0.1"}


def test_sent_values_must_parse_and_booleans_be_0_or_1() -> None:
    assert datatypes.sent_value_problem("boolean", "1") is None
    assert datatypes.sent_value_problem("boolean", "true") == "'true' is not sent as 0 or 1"
    assert "not a valid ui1 value" in (datatypes.sent_value_problem("ui1", "x") or "")
    assert datatypes.sent_value_problem("string", "anything") is None


def test_a_changed_value_is_another_valid_one() -> None:
    from upnp_announce.client.conform.eventing import other_value

    assert other_value(StateVariable("On", "boolean"), "1") == "0"
    assert other_value(StateVariable("Mode", "string", allowedValues=("A", "B")), "A") == "B"
    level = StateVariable("Level", "ui1", allowedValueRange=AllowedValueRange("0", "10"))
    assert other_value(level, "0") == "10"
    assert other_value(StateVariable("Name", "string"), "x") is None
    assert other_value(StateVariable("On", "boolean"), "maybe") is None


def test_an_scpd_the_model_cannot_read_says_why_calls_are_skipped() -> None:
    device = BrokenDevice(Clock(), "SCPD-TYPES")
    found = run(device.site(), device.location)
    assert found["CTRL-401"].status == SKIP
    assert found["CTRL-401"].detail.startswith(
        "no service with a usable SCPD and controlURL (http://127.0.0.1:8000/scpd.xml: ")
    assert "'bool' is not a UPnP data type" in found["CTRL-401"].detail


def test_digits_are_ascii_digits_only() -> None:
    from lxml import etree

    from upnp_announce.client.conform.catalog import digits
    from upnp_announce.client.conform.description import config_id, spec_version

    assert digits("1800") and not digits("²") and not digits("١٢") and not digits("")
    root = etree.fromstring(
        b'<root xmlns="urn:schemas-upnp-org:device-1-0" configId="\xc2\xb2">'
        b"<specVersion><major>\xc2\xb9</major><minor>1</minor></specVersion></root>"
    )
    assert config_id(root) is None and spec_version(root) is None


def test_a_superscript_in_ssdp_headers_fails_the_rule_rather_than_the_run() -> None:
    root, configId, location = our_tree()
    plan = ssdp.targets(root)
    replies = replies_of(root, plan, location, configId)
    odd = {st: [r.replace(b"CONFIGID.UPNP.ORG: %d" % configId, "CONFIGID.UPNP.ORG: ²".encode())
                .replace(b"BOOTID.UPNP.ORG: 3", "BOOTID.UPNP.ORG: ³".encode())
                .replace(b"max-age=1800", "max-age=¹800".encode()) for r in rs]
           for st, rs in replies.items()}
    found = judged(root, plan, odd, location, configId)
    assert {r for r, s in found.items() if s == FAIL} >= {
        "SSDP-CONFIGID", "SSDP-BOOTID", "SSDP-MAXAGE"}


def test_a_devices_text_is_one_line_in_the_report_and_valid_in_junit() -> None:
    verdicts = Verdicts()
    verdicts.fail("SCPD-TYPES", "ChannelName\nPASS  FAKE-RULE  injected\x1b[2J\x01 \ud800")
    found = verdicts.findings(RULES, "not run")
    lines = text(found).splitlines()
    assert not any("FAKE-RULE" in line and line.startswith("PASS") for line in lines)
    [line] = [line for line in lines if "SCPD-TYPES" in line]
    assert line.endswith("ChannelName\\x0aPASS  FAKE-RULE  injected\\x1b[2J\\x01 \\ud800")
    suite = etree.fromstring(junit("http://127.0.0.1:1/d.xml", found))
    assert len(suite.findall(".//testcase")) == len(RULES)
