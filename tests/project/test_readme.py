"""
README's examples say what the code does.
"""

from __future__ import annotations

import os
import re
import shutil
import textwrap

import pytest

from upnp_announce import tap

from support import ROOT, example, readme_code_blocks


def literal_block_after(text: str, marker: str) -> str:
    start = text.index(marker) + len(marker)
    block = re.match(r"::\n\n((?:(?:    .*)?\n)+)", text[start:])
    assert block is not None, marker
    return textwrap.dedent(block.group(1)).strip() + "\n"


def test_the_broken_ini_example_gives_the_errors_shown(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with open(os.path.join(ROOT, "README.rst"), encoding="utf-8") as f:
        readme = f.read()
    ini = literal_block_after(readme, "For this ``broken.ini``")
    shown = literal_block_after(readme, "twistd says").splitlines()
    assert shown[0] == "$ twistd -n upnp --config broken.ini"
    (tmp_path / "broken.ini").write_text(ini)
    shutil.copy(example("jambon-scpd.xml"), tmp_path)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as e:
        tap.Options().parseOptions(["--config", "broken.ini"])
    assert str(e.value.code).splitlines() == shown[1:]


def test_the_readme_is_valid_restructuredtext() -> None:
    from docutils.core import publish_doctree
    from docutils.utils import SystemMessage

    with open(os.path.join(ROOT, "README.rst"), encoding="utf-8") as f:
        text = f.read()
    try:
        publish_doctree(text, settings_overrides={"halt_level": 2, "report_level": 2})
    except SystemMessage as e:
        raise AssertionError(f"README.rst: {e}") from None


def test_the_provider_example_is_the_one_in_the_readme() -> None:

    with open(example("counter.py"), encoding="utf-8") as f:
        assert f.read() in readme_code_blocks()
    with open(os.path.join(ROOT, "README.rst"), encoding="utf-8") as f:
        readme = f.read()
    assert "[service:counter]\n    provider = counter:Counter\n" in readme


def test_the_provider_example_works_end_to_end(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from twisted.internet.task import Clock

    from upnp_announce import config
    from upnp_announce.device import site as web

    from support import MemoryHTTP, request

    monkeypatch.syspath_prepend(os.path.dirname(example("counter.py")))
    loaded = config.load(example("counter.ini"))
    site = web.DeviceSite(loaded.device, reactor=Clock())
    site.addAddress("127.0.0.1", 8000)
    service = "urn:boucherie.example.com:service:Counter:1"

    def call(action: str, arguments: str = "") -> tuple[int, bytes]:
        body = (
            '<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">'
            f'<s:Body><u:{action} xmlns:u="{service}">{arguments}</u:{action}></s:Body></s:Envelope>'
        ).encode()
        [response] = MemoryHTTP(site).send(request(
            b"POST", b"/svc/Counter/control", body=body,
            headers={b"Content-Type": b'text/xml; charset="utf-8"',
                     b"SOAPACTION": f'"{service}#{action}"'.encode()},
        ))
        return response.status, response.body

    assert call("Increment", "<Step>5</Step>") == (200, call("GetCount")[1].replace(
        b"GetCountResponse", b"IncrementResponse").replace(b"CurrentCount", b"NewCount"))
    assert b"<CurrentCount>5</CurrentCount>" in call("GetCount")[1]
    status, body = call("Increment", "<Step>101</Step>")
    assert status == 500 and b"<errorCode>601</errorCode>" in body
    assert call("Reset")[0] == 200
    status, body = call("Reset")
    assert status == 500 and b"<errorCode>701</errorCode>" in body
    assert b"<errorDescription>Already at zero</errorDescription>" in body


def test_the_ticker_example_is_the_one_in_the_readme_and_events() -> None:
    import importlib.util

    from twisted.internet.task import Clock

    with open(example("ticker.py"), encoding="utf-8") as f:
        assert f.read() in readme_code_blocks()
    spec = importlib.util.spec_from_file_location("ticker_example", example("ticker.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    clock = Clock()
    ticker = module.Ticker(clock=clock)
    heard: list[tuple[str, object]] = []
    ticker.watch(lambda name, value: heard.append((name, value)))
    clock.advance(1)
    clock.advance(1)
    assert heard == [("Ticks", 1), ("Ticks", 2)]
    assert ticker.callAction("GetTicks", {}) == {"CurrentTicks": 2}
    assert ticker.description.stateVariable("Ticks").maximumRate == 5
    ticker.loop.stop()


def test_the_readme_lists_every_conformance_rule() -> None:
    from upnp_announce.client.conform import RULES

    with open(os.path.join(ROOT, "README.rst"), encoding="utf-8") as f:
        readme = f.read()
    rows = {
        line.split()[0]: re.split(r"\s{2,}", line.strip(), maxsplit=2)
        for line in readme[readme.index("Conformance tester\n="):
                           readme.index("Seeing the device\n=")].splitlines()
        if re.match(r"[A-Z]+-[A-Z0-9]+ ", line)
    }
    assert list(rows) == [r.id for r in RULES]
    for rule in RULES:
        assert rows[rule.id][1:] == [rule.section, rule.checks], rule.id
