"""
The benchmarks' own checks: a goal is not met on invalid answers, and what
the load generators count as a valid answer (a benchmark that counted
errors as answers would measure nothing).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from upnp_announce.wire import ssdp

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import common  # noqa: E402
import eventsink  # noqa: E402
import loadgen  # noqa: E402

UDN = "uuid:9f0865b3-f5da-4ad5-85b7-7404637fdf37"


def reply(st: str, usn: str) -> bytes:
    return ssdp.search_response(st=st, usn=usn, location="http://127.0.0.1:8000/d.xml",
                                maxAge=1800, date="Sat, 05 Dec 2026 12:00:00 GMT",
                                server="Linux/6 UPnP/1.1 x/1", bootId=1, configId=1)


def test_our_search_replies_are_valid_for_their_search() -> None:
    rootdevice = reply("upnp:rootdevice", UDN + "::upnp:rootdevice")
    assert loadgen.valid_reply(rootdevice, b"upnp:rootdevice") is None
    assert loadgen.valid_reply(rootdevice, b"ssdp:all") is None
    assert loadgen.valid_reply(reply(UDN, UDN), b"ssdp:all") is None


@pytest.mark.parametrize("broken, target, problem", [
    (reply("upnp:rootdevice", UDN + "::upnp:rootdevice").replace(b"EXT:\r\n", b""),
     b"upnp:rootdevice", "missing ext"),
    (reply("upnp:rootdevice", UDN + "::upnp:rootdevice"), b"urn:x:device:y:1", "ST "),
    (reply("upnp:rootdevice", UDN), b"upnp:rootdevice", "USN "),
    (reply("upnp:rootdevice", UDN + "::upnp:rootdevice").replace(b"http://", b"ftp://"),
     b"upnp:rootdevice", "LOCATION"),
    (reply("upnp:rootdevice", UDN + "::upnp:rootdevice").replace(b"max-age=", b"max-agx="),
     b"upnp:rootdevice", "max-age"),
])
def test_a_search_reply_not_as_it_should_be_is_invalid(broken: bytes, target: bytes,
                                                       problem: str) -> None:
    found = loadgen.valid_reply(broken, target)
    assert found is not None and problem in found


def test_a_goal_is_not_met_on_invalid_answers() -> None:
    fast = common.Measured(rate=100.0, cpu_us=10.0, errors=3)
    slow = common.Measured(rate=50.0, cpu_us=20.0)
    goal = common.Goal("g", common.quotient(fast.per_cpu, slow.per_cpu), 1.5,
                       invalid=common.invalid(fast, slow))
    assert goal.value == 2.0 and not goal.met
    assert "3 invalid answers" in goal.line()
    assert common.Goal("g", 2.0, 1.5, invalid=common.invalid(slow)).met
    # A peer that was not measured has no say.
    assert common.invalid(slow, common.skipped("-")) == 0


def notify(sid: str, seq: int, status: str | None) -> tuple[bytes, bytes]:
    head = (f"NOTIFY / HTTP/1.1\r\nHOST: 127.0.0.1:9\r\nNT: upnp:event\r\n"
            f"NTS: upnp:propchange\r\nSID: {sid}\r\nSEQ: {seq}").lower().encode()
    body = b"" if status is None else (
        b'<e:propertyset xmlns:e="urn:schemas-upnp-org:event-1-0"><e:property><Status>'
        + status.encode() + b"</Status></e:property></e:propertyset>")
    return head, body


def test_the_event_sink_counts_every_notify_not_as_it_should_be() -> None:
    counts = eventsink.Counts(2)
    counts.values = [1, 0]
    good = [("uuid:a", 0, "0"), ("uuid:a", 1, "1"), ("uuid:a", 2, "0")]
    for sid, seq, status in good:
        counts.got(0, *notify(sid, seq, status))
    # async-upnp-client's True/False reads as 1/0.
    counts.got(1, *notify("uuid:b", 0, "False"))
    counts.got(1, *notify("uuid:b", 1, "True"))
    assert counts.invalid == 0, counts.problems
    counts.got(1, *notify("uuid:c", 2, "0"))           # another SID
    counts.got(1, *notify("uuid:b", 9, "1"))           # SEQ out of order
    counts.got(0, *notify("uuid:a", 3, "1"))           # more changes than were made
    other = eventsink.Counts(1)
    other.values = [1]
    other.got(0, *notify("uuid:d", 0, "0"))
    other.got(0, *notify("uuid:d", 1, "0"))            # the old value
    assert counts.invalid == 3 and other.invalid == 1
    assert "SID" in counts.problems[0] and "SEQ" in counts.problems[1]
    assert "Status" in other.problems[0]
