"""
The device's page in a real browser: headless Chromium (Debian's chromium
and chromium-driver, through selenium) in a network namespace, against a
real twistd device in another: the page loads and shows the device, a form
call changes the state, a SOAP call from another control point shows up in
the open page within 1 s, a fault is shown, and the page requests nothing
from any other origin.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from urllib.parse import urlsplit

import pytest

from netns import network, start_twistd
from support import EXAMPLES, PEERS, example, need

pytestmark = [pytest.mark.slow]


def test_the_page_in_a_real_browser() -> None:
    need(shutil.which("chromium") is not None and shutil.which("chromedriver") is not None,
         "Debian's chromium and chromium-driver are not installed")
    try:
        import selenium  # noqa: F401
    except ImportError:
        need(False, "selenium is not installed (pip install -e '.[test]')")
    with network() as net:
        dev, browser = net.host("dev"), net.host("web")
        link = net.link(dev, "10.236.1.1", browser, "10.236.1.2")
        env = {**os.environ, "PYTHONPATH": EXAMPLES}
        device, locations = start_twistd(dev, example("counter.ini"), link.a_interface, env=env)
        location = locations[link.a_interface]
        origin = "http://" + urlsplit(location).netloc
        run = browser.run([sys.executable, os.path.join(PEERS, "browser_page.py"),
                           origin + "/", location], timeout=120)
        device.stop()
        assert run.returncode == 0, run.stdout + run.stderr
        [line] = [x for x in run.stdout.splitlines() if x.startswith("{")]
        result = json.loads(line)
    assert result["h1"] == "Jambon counter"
    assert "Boucherie numerique SAS" in result["facts"]
    assert result["initial"] == "0"
    assert result["form_result"] == "NewCount = 5"
    assert result["after_form"] == "5"
    assert result["external_latency"] < 1.0
    assert result["fault"] == "UPnP error 701: Already at zero"
    assert result["requests"], "the performance log saw no request"
    foreign = [u for u in result["requests"] if not u.startswith(origin + "/")]
    assert foreign == []
