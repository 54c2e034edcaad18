"""
The conformance tester against real devices on 127.0.0.1: our examples pass
clean; the broken device's SSDP, eventing and security variants each fail
exactly their rule; the hostile variants cannot hang it; the command's exit
statuses and reports.

Nothing leaves the machine: every device listens on 127.0.0.1 only, its
SSDP on a private port searched by unicast; the callback that SEC-CALLBACK
names is 127.0.0.2.
"""

from __future__ import annotations

import json
import socket
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import pytest_twisted
from lxml import etree
from twisted.internet import reactor, utils

from upnp_announce import config
from upnp_announce.client.conform import RULES, Finding, conform
from upnp_announce.device.runner import UPnPService

from broken_device import VARIANTS, BrokenDevice
from clitools import CLI, cli, one_error_line
from support import example, free_udp_port, ipv4


@asynccontextmanager
async def ours(name: str, family: int = 4) -> AsyncIterator[tuple[str, int]]:
    """
    Our example device C{name} on lo: its LOCATION on 127.0.0.1 (or ::1
    for C{family} 6) and its SSDP port.
    """
    loaded = config.load(example(name), machineId="conform-loopback")
    ssdpPort = free_udp_port()
    service = UPnPService(loaded.device, loaded.network, interfaces=["lo"], httpPort=0,
                          ssdpPort=ssdpPort, eventing=loaded.eventing)
    service.startService()
    try:
        bindings = await service.whenListening()
        if family == 4:
            yield ipv4(bindings).location, ssdpPort
        else:
            [binding] = [b for b in bindings if b.interface.family == 6]
            yield binding.location, ssdpPort
    finally:
        await service.stopService()


@asynccontextmanager
async def broken(defect: str = "") -> AsyncIterator[BrokenDevice]:
    device = BrokenDevice(reactor, defect)
    device.start()
    try:
        yield device
    finally:
        await device.stop()


def failing(found: list[Finding]) -> dict[str, str]:
    return {f.rule.id: f.status for f in found if f.status in ("FAIL", "WARN")}


@pytest.mark.parametrize("name", ["light.ini", "counter.ini", "jambon-fridge.ini"])
@pytest_twisted.ensureDeferred
async def test_our_examples_pass_clean(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # counter.ini's provider is examples/counter.py.
    monkeypatch.syspath_prepend(example(""))
    async with ours(name) as (location, ssdpPort):
        found = await conform(reactor, location, ssdpPort=ssdpPort, timeout=2, invoke=True)
    assert failing(found) == {}, found
    assert len(found) == len(RULES)
    assert sum(f.status == "PASS" for f in found) >= 49


@pytest_twisted.ensureDeferred
async def test_our_light_passes_clean_over_ipv6() -> None:
    async with ours("light.ini", family=6) as (location, ssdpPort):
        assert location.startswith("http://[::1]:")
        found = await conform(reactor, location, ssdpPort=ssdpPort, timeout=2, invoke=True)
    assert failing(found) == {}
    by = {f.rule.id: f for f in found}
    assert by["SSDP-ALL"].status == by["EVT-SEQ"].status == "PASS"
    assert (by["SEC-CALLBACK"].status, by["SEC-CALLBACK"].detail) == (
        "SKIP", "no other address on the subnet of ::1")


@pytest_twisted.ensureDeferred
async def test_the_broken_device_passes_clean_and_skips_nothing() -> None:
    async with broken() as device:
        found = await conform(reactor, device.location, ssdpPort=device.ssdpPort, timeout=2,
                              invoke=True)
    assert [(f.rule.id, f.status, f.detail) for f in found if f.status != "PASS"] == []


@pytest.mark.parametrize("variant", [v for v in VARIANTS if v.split("-")[0] in (
    "SSDP", "EVT", "SEC")])
@pytest_twisted.ensureDeferred
async def test_each_planted_defect_fails_exactly_its_rule(variant: str) -> None:
    async with broken(variant) as device:
        found = await conform(reactor, device.location, ssdpPort=device.ssdpPort, timeout=1,
                              invoke=True)
    # (What UDA only recommends is a warning.)
    wanted = "WARN" if variant == "SSDP-MAXAGE" else "FAIL"
    assert failing(found) == {variant: wanted}, [f for f in found if f.status != "PASS"]


@pytest.mark.parametrize("variant, seconds", [
    ("huge", 10), ("malformed", 10), ("html", 10), ("flood", 20),
])
@pytest_twisted.ensureDeferred
async def test_a_hostile_device_cannot_hang_the_tester(variant: str, seconds: float) -> None:
    async with broken(variant) as device:
        started = time.monotonic()
        found = await conform(reactor, device.location, ssdpPort=device.ssdpPort, timeout=2,
                              invoke=True)
        took = time.monotonic() - started
    assert took < seconds
    if variant == "flood":
        # Each reply came 2000 times: counted once.
        assert failing(found) == {}
    else:
        assert failing(found) == {"DESC-FETCH": "FAIL"}
        assert {f.status for f in found if f.rule.id not in ("DESC-FETCH", "SEC-HOST")} == {
            "SKIP"}


@pytest_twisted.ensureDeferred
async def test_a_device_that_never_answers_is_stopped_by_the_deadline() -> None:
    async with broken("slow") as device:
        started = time.monotonic()
        found = await conform(reactor, device.location, ssdpPort=device.ssdpPort, timeout=0.5,
                              invoke=True, deadline=1.5)
        took = time.monotonic() - started
    assert took < 3
    by = {f.rule.id: f for f in found}
    assert by["DESC-FETCH"].status == "PASS"
    assert by["SSDP-ALL"].status == "FAIL"
    assert any("overall deadline (1.5 s) passed" in f.detail for f in found)


@pytest_twisted.ensureDeferred
async def test_a_device_that_stops_answering_halfway_fails_the_rest_of_the_group() -> None:
    async with broken("stall") as device:
        started = time.monotonic()
        found = await conform(reactor, device.location, ssdpPort=device.ssdpPort, timeout=1,
                              invoke=True)
        took = time.monotonic() - started
    assert took < 10
    by = {f.rule.id: f for f in found}
    assert by["EVT-RENEW"].status == "FAIL"
    assert by["EVT-RENEW"].detail.startswith("not checked: no answer from 127.0.0.1:")
    assert by["EVT-SEQ0"].status == "PASS"
    assert {f.rule.id for f in found if f.status == "FAIL"} == {
        "EVT-RENEW", "EVT-UNSUBSCRIBE", "EVT-400", "EVT-412", "EVT-SEQ"}
    assert {f.status for f in found if f.rule.group == "security"} == {"PASS"}


async def command(*argv: str) -> tuple[int, str, str]:
    out, err, status = await utils.getProcessOutputAndValue(
        sys.executable, [*CLI[1:], *argv], env=None)
    return status, out.decode(), err.decode()


@pytest.mark.slow
@pytest_twisted.ensureDeferred
async def test_the_command_exits_0_when_nothing_fails() -> None:
    async with broken() as device:
        status, out, err = await command("conform", device.location, "--ssdp-port",
                                         str(device.ssdpPort), "--timeout", "2")
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert len(lines) == len(RULES) + 1
    assert lines[0].split()[:2] == ["PASS", "SSDP-ALL"]
    assert lines[-1] == "conform: 52 pass, 0 fail, 0 warn, 1 skip"
    assert "SKIP  EVT-SEQ          changes state: needs --invoke" in lines


@pytest.mark.slow
@pytest_twisted.ensureDeferred
async def test_the_command_exits_4_with_json_and_junit(tmp_path: object) -> None:
    report = f"{tmp_path}/conform.xml"
    async with broken("CTRL-401") as device:
        status, out, err = await command("conform", device.location, "--only",
                                         "control,security", "--json", "--junit", report)
    assert (status, err) == (4, "")
    document = json.loads(out)
    assert [f["rule"] for f in document["findings"] if f["status"] == "FAIL"] == ["CTRL-401"]
    assert document["summary"]["fail"] == 1 and len(document["findings"]) == 12
    with open(report, "rb") as f:
        suite = etree.fromstring(f.read())
    assert len(suite.findall("testcase")) == 12 and suite.get("failures") == "1"
    [failed] = [c.get("name") for c in suite.findall("testcase") if c.find("failure") is not None]
    assert failed == "CTRL-401"


@pytest.mark.slow
def test_an_unreachable_location_exits_1_with_one_line() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = cli(None, "conform", f"http://127.0.0.1:{port}/description.xml", "--timeout", "1")
    assert one_error_line(result, 1) == (
        f"upnp-announce: cannot connect to 127.0.0.1:{port}: connection refused")
