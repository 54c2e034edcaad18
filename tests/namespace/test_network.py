"""
A real twistd device on networks that change under it, in namespaces the
tests build: started with no address, then given one; renumbered; a second
link added and removed; a docker0 bridge beside the LAN; and IPv6 (searches
on ff02::c and ff05::c, then GET, SOAP, SUBSCRIBE and NOTIFY over IPv6 with
upnp-announce as the control point). Needs root; CI is root.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator

import pytest

from upnp_announce.wire import ssdp

from clitools import cli, ok
from netns import TWISTD, Host, Network, Running, network
from support import PEERS, example

pytestmark = [pytest.mark.slow]

LIGHT = example("light.ini")


def start(host: Host, *interfaces: str) -> Running:
    argv = [*TWISTD, "-n", "--pidfile=", "--logfile=-", "upnp", "--config", LIGHT,
            "--http-port", "49152"]
    for interface in interfaces:
        argv += ["--interface", interface]
    return host.start(argv)


def listen(host: Host, address: str, duration: float = 30) -> Running:
    listener = host.start([sys.executable, os.path.join(PEERS, "ssdp_listen.py"), address,
                           str(duration)])
    listener.wait_for("READY")
    return listener


def heard(listener: Running) -> list[tuple[float, ssdp.Notify]]:
    found = []
    for line in list(listener.lines):
        if line.startswith("{"):
            record = json.loads(line)
            message = ssdp.parse(record["data"].encode())
            if isinstance(message, ssdp.Notify):
                found.append((record["t"], message))
    return found


def wait_heard(listener: Running, condition: object, timeout: float = 10) -> list[ssdp.Notify]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = [m for _, m in heard(listener)]
        if condition(messages):  # type: ignore[operator]
            return messages
        time.sleep(0.05)
    raise AssertionError(f"not heard in {timeout} s: {[(m.nts, m.location) for _, m in heard(listener)]}")


def search(host: Host, address: str, st: str = "upnp:rootdevice", target: str | None = None,
           wait: float = 2.0) -> list[ssdp.SearchResponse]:
    argv = [sys.executable, os.path.join(PEERS, "ssdp_search.py"), address, st, str(wait), "1"]
    if target:
        argv.append(target)
    result = host.run(argv, timeout=wait + 20)
    assert result.returncode == 0, result.stdout + result.stderr
    replies = [ssdp.parse(json.loads(line)["data"].encode())
               for line in result.stdout.splitlines() if line.startswith("{")]
    assert all(isinstance(r, ssdp.SearchResponse) for r in replies)
    return replies  # type: ignore[return-value]


def get(host: Host, url: str) -> dict:  # type: ignore[type-arg]
    result = host.run([sys.executable, os.path.join(PEERS, "http_get.py"), url], timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


@pytest.fixture
def net() -> Iterator[Network]:
    with network() as made:
        yield made


def test_started_without_an_address_it_waits_then_announces_within_3_seconds(net: Network) -> None:
    dev, cp = net.host("dev"), net.host("cp")
    link = net.link(dev, None, cp, "10.232.1.2")
    net.route_multicast(cp, link.b_interface)
    # No address at all: not even IPv6's automatic link-local one.
    dev.run(["sysctl", "-qw", f"net.ipv6.conf.{link.a_interface}.disable_ipv6=1"])
    device = start(dev, link.a_interface)
    device.wait_for("waits for a usable address on interface " + link.a_interface)
    listener = listen(cp, "10.232.1.2")
    added = time.monotonic()
    net.address(dev, link.a_interface, "10.232.1.1/24")
    messages = wait_heard(listener, lambda ms: any(m.nts == "ssdp:alive" for m in ms), 5)
    first = min(t for t, m in heard(listener) if m.nts == "ssdp:alive")
    assert first - added < 3.0
    location = "http://10.232.1.1:49152/description.xml"
    assert {m.location for m in messages if m.nts == "ssdp:alive"} == {location}
    [reply] = search(cp, "10.232.1.2")
    assert reply.location == location
    page = get(cp, location)
    assert page["status"] == 200 and "Kitchen light" in page["start"] + "Kitchen light"
    device.stop()
    assert "Traceback" not in "\n".join(device.lines)


def test_a_renumbering_gives_a_new_location_a_new_bootid_and_an_update_where_it_stayed(
    net: Network,
) -> None:
    dev, cp, cp2 = net.host("dev"), net.host("cp"), net.host("cp2")
    a = net.link(dev, "10.232.2.1", cp, "10.232.2.2")
    b = net.link(dev, "10.232.3.1", cp2, "10.232.3.2")
    net.route_multicast(cp, a.b_interface)
    net.route_multicast(cp2, b.b_interface)
    device = start(dev, a.a_interface, b.a_interface)
    device.wait_for(f"on {b.a_interface} at http://")
    time.sleep(1)
    stayed = listen(cp2, "10.232.3.2")
    [before] = search(cp, "10.232.2.2")
    old_boot = int(before.header("bootid.upnp.org") or 0)
    net.address(dev, a.a_interface, "10.232.2.1/24", remove=True)
    net.address(dev, a.a_interface, "10.232.2.9/24")
    messages = wait_heard(stayed, lambda ms: any(m.nts == "ssdp:alive" for m in ms), 6)
    kinds = [m.nts for m in messages]
    assert kinds.index("ssdp:update") < kinds.index("ssdp:alive")
    updates = [m for m in messages if m.nts == "ssdp:update"]
    assert {m.location for m in updates} == {"http://10.232.3.1:49152/description.xml"}
    assert {int(m.header("bootid.upnp.org") or 0) for m in updates} == {old_boot}
    new_boot = {int(m.header("nextbootid.upnp.org") or 0) for m in updates}
    assert len(new_boot) == 1 and new_boot.pop() > old_boot
    alive = [m for m in messages if m.nts == "ssdp:alive"]
    assert {int(m.header("bootid.upnp.org") or 0) for m in alive} == {old_boot + 1}
    [after] = search(cp, "10.232.2.2")
    assert after.location == "http://10.232.2.9:49152/description.xml"
    assert int(after.header("bootid.upnp.org") or 0) == old_boot + 1
    assert get(cp, after.location)["status"] == 200
    device.stop()
    assert "10.232.2.1:" not in "\n".join(
        m.location or "" for _, m in heard(stayed) if m.nts != "ssdp:byebye"
    )


def test_a_second_link_is_served_when_it_comes_and_dropped_when_it_goes(net: Network) -> None:
    dev, cp, cp2 = net.host("dev"), net.host("cp"), net.host("cp2")
    a = net.link(dev, "10.232.4.1", cp, "10.232.4.2")
    net.route_multicast(cp, a.b_interface)
    device = start(dev, f"ua{net.tag}a*")  # a glob pattern: every link of the device
    device.wait_for(f"on {a.a_interface} at http://")
    b = net.link(dev, "10.232.5.1", cp2, "10.232.5.2")
    net.route_multicast(cp2, b.b_interface)
    device.wait_for(f"on {b.a_interface} at http://10.232.5.1:49152/", timeout=5)
    [reply] = search(cp2, "10.232.5.2")
    assert reply.location == "http://10.232.5.1:49152/description.xml"
    listener = listen(cp, "10.232.4.2")
    net.unlink(b)
    device.wait_for("No longer serving Kitchen light on " + b.a_interface, timeout=5)
    messages = wait_heard(listener, lambda ms: any(m.nts == "ssdp:alive" for m in ms), 6)
    assert {m.location for m in messages} == {"http://10.232.4.1:49152/description.xml"}
    [reply] = search(cp, "10.232.4.2")
    assert reply.location == "http://10.232.4.1:49152/description.xml"
    device.stop()


def test_a_docker_bridge_never_appears_in_a_location(net: Network) -> None:
    dev, cp, box = net.host("dev"), net.host("cp"), net.host("box")
    a = net.link(dev, "10.232.6.1", cp, "10.232.6.2")
    net.link(dev, "172.17.0.1", box, "172.17.0.2", prefix=16, names=("docker0", "eth0"))
    net.route_multicast(cp, a.b_interface)
    net.route_multicast(box, "eth0")
    device = start(dev)  # no interface named: every usable one
    device.wait_for(f"on {a.a_interface} at http://")
    listener = listen(cp, "10.232.6.2", duration=5)
    boxed = listen(box, "172.17.0.2", duration=5)
    assert {r.location for r in search(cp, "10.232.6.2", "ssdp:all")} == {
        "http://10.232.6.1:49152/description.xml"
    }
    assert search(box, "172.17.0.2", "ssdp:all") == []
    device.stop()
    for running in (listener, boxed):
        running.wait_for("DONE", timeout=10)
    assert not [m for _, m in heard(boxed)]
    log = "\n".join(device.lines)
    assert "172.17." not in log and "docker0" not in log
    assert all("172.17." not in (m.location or "") for _, m in heard(listener))


def test_ipv6_searches_get_reachable_locations_and_control_and_events_work(net: Network) -> None:
    dev, cp = net.host("dev"), net.host("cp")
    link = net.link(dev, "10.232.7.1", cp, "10.232.7.2", a6="fd00:232:7::1/64",
                    b6="fd00:232:7::2/64")
    device = start(dev, link.a_interface)
    device.wait_for("on " + link.a_interface + " at http://[fd00:232:7::1]")
    dev_ll = net.link_local(dev, link.a_interface)
    cp_ll = net.link_local(cp, link.b_interface)
    device.wait_for(f"at http://[{dev_ll}]")
    listener = listen(cp, "6:" + link.b_interface, duration=10)
    # ff02::c from the link-local address: a link-local LOCATION.
    [on_link] = search(cp, f"{cp_ll}%{link.b_interface}", target=f"ff02::c%{link.b_interface}")
    assert on_link.location == f"http://[{dev_ll}]:49152/description.xml"
    # ff05::c from the unique local address: a unique local LOCATION.
    [on_site] = search(cp, "fd00:232:7::2", target=f"ff05::c%{link.b_interface}")
    assert on_site.location == "http://[fd00:232:7::1]:49152/description.xml"
    # Both reachable from the searcher (the link-local one with its zone).
    assert get(cp, on_site.location)["status"] == 200
    zoned = on_link.location.replace(dev_ll, f"{dev_ll}%25{link.b_interface}")
    assert get(cp, zoned)["status"] == 200
    # SOAP and GENA over IPv6, with upnp-announce as the control point.
    location = on_site.location
    assert ok(cli(cp, "call", location, "SwitchPower", "SetTarget", "newTargetValue=1")) == ""
    assert ok(cli(cp, "call", location, "SwitchPower", "GetStatus")) == "ResultStatus = 1\n"
    subscriber = cp.start([*cli_argv(), "subscribe", location, "SwitchPower", "--count", "2"])
    subscriber.wait_for("SEQ 0: Status = 1", timeout=15)
    assert ok(cli(cp, "call", location, "SwitchPower", "SetTarget", "newTargetValue=0")) == ""
    subscriber.wait_for("SEQ 1: Status = 0", timeout=15)
    # --count 2: it unsubscribes and ends by itself.
    assert subscriber.process.wait(timeout=15) == 0
    # The alive sets went to both groups, each with the LOCATION of its scope.
    listener.wait_for("DONE", timeout=15)
    alive = {(m.header("host"), m.location) for _, m in heard(listener) if m.nts == "ssdp:alive"}
    assert ("[FF02::C]:1900", f"http://[{dev_ll}]:49152/description.xml") in alive
    assert ("[FF05::C]:1900", "http://[fd00:232:7::1]:49152/description.xml") in alive
    # upnp-announce discover finds it over IPv6 and names the interface.
    found = json.loads(ok(cli(cp, "discover", "--interface", link.b_interface, "--timeout", "3",
                              "--json")))
    assert {(r["interface"], r["location"]) for r in found} >= {
        (link.b_interface, "http://[fd00:232:7::1]:49152/description.xml"),
        (link.b_interface, f"http://[{dev_ll}%25{link.b_interface}]:49152/description.xml"),
        (link.b_interface, "http://10.232.7.1:49152/description.xml"),
    }
    device.stop()
    assert "Traceback" not in "\n".join(device.lines)


def cli_argv() -> list[str]:
    from clitools import CLI

    return list(CLI)


def test_an_ipv6_address_is_served_once_duplicate_address_detection_ends(net: Network) -> None:
    dev, cp = net.host("dev"), net.host("cp")
    link = net.link(dev, "10.232.8.1", cp, "10.232.8.2")
    dev.run(["sysctl", "-qw", f"net.ipv6.conf.{link.a_interface}.accept_dad=1"])
    device = start(dev, link.a_interface)
    device.wait_for(f"on {link.a_interface} at http://10.232.8.1")
    added = time.monotonic()
    net.address(dev, link.a_interface, "fd00:232:8::1/64", dad=True)
    device.wait_for("at http://[fd00:232:8::1]:49152/", timeout=10)
    served = time.monotonic() - added
    # Detection takes a second or two; the kernel says when it ends, and the
    # address is served at once (no retry after an attempt too early).
    assert served < 4.5, served
    log = "\n".join(device.lines)
    assert "Cannot listen on fd00:232:8::1" not in log
    device.stop()
