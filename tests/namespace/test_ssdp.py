"""
SSDP on real networks: namespaces joined by veth pairs, a real twistd device
in one, raw peers in the others. Needs root; CI is root.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter

import pytest

from upnp_announce import config
from upnp_announce.wire import ssdp
from upnp_announce.wire.ssdp import announcements

from netns import TWISTD, Host, Running, network, start_twistd
from support import PEERS, example

pytestmark = [pytest.mark.slow]

CONFIG = example("jambon-fridge.ini")
SET = {(a.nt, a.usn) for a in announcements(config.load(CONFIG).device)}


def start_device(host: Host, *interfaces: str) -> tuple[Running, dict[str, str]]:
    return start_twistd(host, CONFIG, *interfaces)


def listen(host: Host, address: str, duration: float) -> Running:
    listener = host.start([sys.executable, os.path.join(PEERS, "ssdp_listen.py"), address,
                           str(duration)])
    listener.wait_for("READY")
    return listener


def datagrams(running: Running) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in running.lines if line.startswith("{")]


def search(host: Host, address: str, st: str, wait: float = 2.0, mx: str | None = "1",
           target: str | None = None) -> list[ssdp.SearchResponse]:
    argv = [sys.executable, os.path.join(PEERS, "ssdp_search.py"), address, st, str(wait),
            mx or "-"]
    if target:
        argv.append(target)
    result = host.run(argv, timeout=wait + 20)
    assert result.returncode == 0, result.stdout + result.stderr
    replies = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    parsed = [ssdp.parse(r["data"].encode()) for r in replies]
    assert all(isinstance(p, ssdp.SearchResponse) for p in parsed)
    return parsed  # type: ignore[return-value]


def test_alive_set_twice_at_start_and_byebye_set_at_sigterm(lan) -> None:  # type: ignore[no-untyped-def]
    net, device_host, peer = lan
    link = net.links[0]
    listener = listen(peer, link.b_address, 30)
    device, locations = start_device(device_host, link.a_interface)
    # Both alive sets go out within half a second of the start.
    listener.wait_for("ssdp:alive")
    time.sleep(1.0)
    assert device.stop() == -15
    listener.wait_for("ssdp:byebye")
    time.sleep(0.3)
    listener.stop()
    messages = [ssdp.parse(d["data"].encode()) for d in datagrams(listener)]
    assert all(isinstance(m, ssdp.Notify) for m in messages)
    alive = Counter((m.nt, m.usn) for m in messages if m.nts == "ssdp:alive")  # type: ignore[union-attr]
    byebye = Counter((m.nt, m.usn) for m in messages if m.nts == "ssdp:byebye")  # type: ignore[union-attr]
    assert alive == Counter({pair: 2 for pair in SET})
    assert byebye == Counter({pair: 2 for pair in SET})
    assert {m.location for m in messages if m.nts == "ssdp:alive"} == {  # type: ignore[union-attr]
        locations[link.a_interface]
    }
    assert {d["from"][0] for d in datagrams(listener)} == {link.a_address}
    # The byebye sets come last.
    kinds = [m.nts for m in messages]  # type: ignore[union-attr]
    assert kinds == sorted(kinds, key=lambda k: k == "ssdp:byebye")
    assert "Traceback" not in "\n".join(device.lines)


def test_searches_over_a_real_link(lan) -> None:  # type: ignore[no-untyped-def]
    net, device_host, peer = lan
    link = net.links[0]
    device, locations = start_device(device_host, link.a_interface)
    location = locations[link.a_interface]
    assert location.startswith(f"http://{link.a_address}:")

    everything = search(peer, link.b_address, "ssdp:all", wait=1.5)
    assert {(r.st, r.usn) for r in everything} == SET
    assert {r.location for r in everything} == {location}

    [root] = search(peer, link.b_address, "upnp:rootdevice", wait=1.5)
    assert root.usn.endswith("::upnp:rootdevice")

    older = search(peer, link.b_address, "urn:boucherie.example.com:service:Jambon:1")
    assert [r.st for r in older] == ["urn:boucherie.example.com:service:Jambon:1"]
    assert search(peer, link.b_address, "urn:boucherie.example.com:service:Jambon:2") == []

    # A unicast search, without MX, answered at once.
    unicast = search(peer, link.b_address, "upnp:rootdevice", wait=1.0, mx=None,
                     target=link.a_address)
    assert [r.location for r in unicast] == [location]
    device.stop()


def test_each_subnet_gets_its_own_address_in_location() -> None:
    with network() as net:
        device_host, one, two = net.host("dev"), net.host("cp1"), net.host("cp2")
        first = net.link(device_host, "10.231.1.1", one, "10.231.1.2")
        second = net.link(device_host, "10.231.2.1", two, "10.231.2.2")
        for link in (first, second):
            net.route_multicast(link.b, link.b_interface)
        listener = listen(two, second.b_address, 20)
        device, locations = start_device(device_host, first.a_interface, second.a_interface)
        assert locations[first.a_interface].startswith("http://10.231.1.1:")
        assert locations[second.a_interface].startswith("http://10.231.2.1:")
        for host, link in ((one, first), (two, second)):
            replies = search(host, link.b_address, "upnp:rootdevice", wait=1.5)
            assert [r.location for r in replies] == [locations[link.a_interface]]
        # The NOTIFYs on the second link carry the second address only.
        listener.wait_for("ssdp:alive")
        device.stop()
        listener.stop()
        # (The listener also hears the searcher's own M-SEARCH.)
        heard = [ssdp.parse(d["data"].encode()) for d in datagrams(listener)]
        notifies = [m for m in heard if isinstance(m, ssdp.Notify)]
        assert {m.location for m in notifies if m.nts == "ssdp:alive"} == {
            locations[second.a_interface]
        }


def test_nothing_leaves_by_an_interface_we_did_not_name() -> None:
    """
    With lo named, SSDP is pinned there: a host on another link of the
    device's namespace, routing multicast its way, hears nothing.
    """
    with network() as net:
        device_host, outside = net.host("dev"), net.host("out")
        link = net.link(device_host, "10.231.3.1", outside, "10.231.3.2")
        # The device's namespace would send multicast out of the veth by default.
        net.route_multicast(device_host, link.a_interface)
        listener = listen(outside, link.b_address, 20)
        device, locations = start_device(device_host, "lo")
        assert locations["lo"].startswith("http://127.0.0.1:")
        # Searching on lo in the device's namespace works...
        replies = search(device_host, "127.0.0.1", "upnp:rootdevice", wait=1.5)
        assert [r.location for r in replies] == [locations["lo"]]
        device.stop()
        listener.stop()
        # ...and not one datagram reached the other link.
        assert datagrams(listener) == []


# -- GSSDP, a real peer ------------------------------------------------------------





def test_two_devices_share_port_1900_in_one_host(lan) -> None:  # type: ignore[no-untyped-def]
    net, device_host, peer = lan
    link = net.links[0]
    first, _ = start_device(device_host, link.a_interface)
    argv = [*TWISTD, "-n", "--pidfile=", "--logfile=-", "upnp", "--config",
            example("jambon.ini"), "--interface", link.a_interface]
    second = device_host.start(argv)
    second.wait_for(f"on {link.a_interface} at http://")
    roots = search(peer, link.b_address, "upnp:rootdevice", wait=1.5)
    jambon = config.load(example("jambon.ini")).device.UDN
    fridge = config.load(CONFIG).device.UDN
    assert sorted(r.usn for r in roots) == sorted(
        [f"{jambon}::upnp:rootdevice", f"{fridge}::upnp:rootdevice"]
    )
    first.stop()
    second.stop()
