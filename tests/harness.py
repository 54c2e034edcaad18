"""
The interop tests' harness: a real twistd device in a "dev" namespace and a
control point's namespace "cp" linked to it, and the helpers around them.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from netns import Host, Network, Running, network, start_twistd
from support import need

UPNP_CLIENT = os.path.join(os.path.dirname(sys.executable), "upnp-client")


def json_lines(text: str) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def need_upnp_client() -> None:
    need(os.access(UPNP_CLIENT, os.X_OK),
         f"async-upnp-client's upnp-client is not installed next to {sys.executable}")


def start_device(host: Host, config: str, interface: str, address: str) -> tuple[Running, str]:
    """
    Start C{twistd upnp --config config} on C{interface}; its LOCATION.
    """
    # --debug http: the access log, which the tests read.
    device, locations = start_twistd(host, config, interface, extra=["--debug", "http"])
    location = locations[interface]
    assert location.startswith(f"http://{address}:")
    return device, location


def finish(device: Running) -> str:
    """
    Stop the device; it logged no traceback. Its log.
    """
    device.stop()
    log = "\n".join(device.lines)
    assert "Traceback" not in log, log
    return log


@dataclass
class Light:
    """
    A device and a control point's namespace, one link apart.
    """

    net: Network
    device_host: Host
    peer: Host
    device: Running
    location: str
    peer_address: str
    peer_interface: str

    def finish(self) -> str:
        return finish(self.device)


@contextmanager
def lit(config: str, subnet: str) -> Iterator[Light]:
    """
    The device of C{config} at C{subnet}.1, the control point's namespace at
    C{subnet}.2 (C{subnet} is like C{"10.231.20"}); removed afterwards.
    """
    with network() as net:
        device_host, peer = net.host("dev"), net.host("cp")
        link = net.link(device_host, f"{subnet}.1", peer, f"{subnet}.2")
        net.route_multicast(peer, link.b_interface)
        device, location = start_device(device_host, config, link.a_interface, link.a_address)
        yield Light(net, device_host, peer, device, location, link.b_address, link.b_interface)
