"""
Shared fixtures, and the isolation level of every test from its folder:

- unit/: no sockets (pure values, task.Clock, in-memory HTTP, fake reactors);
- loopback/: real sockets on 127.0.0.1 and real processes on this machine;
- namespace/: real multicast in network namespaces the tests build (root);
- interop/: real peers (GSSDP, GUPnP, async-upnp-client, upnpclient) in
  network namespaces;
- project/: the project itself (typing, lint, layout, packaging, README).

Each test gets its folder's marker, so ``pytest -m unit`` (or ``pytest
tests/unit``) runs the fast ones alone; ``-m "not slow"`` leaves out every
test that starts processes or builds namespaces.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from typing import Any

import pytest
from twisted.logger import globalLogPublisher

from netns import Host, Network, network

LEVELS = ("unit", "loopback", "namespace", "interop", "project")
_HERE = os.path.dirname(os.path.abspath(__file__))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        relative = os.path.relpath(str(item.path), _HERE)
        level = relative.split(os.sep, 1)[0]
        if level not in LEVELS:
            raise pytest.UsageError(
                f"{relative}: every test belongs in one of tests/{{{','.join(LEVELS)}}}/"
            )
        item.add_marker(getattr(pytest.mark, level))
        if level in ("namespace", "interop"):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def logged() -> Iterator[list[dict[str, Any]]]:
    """
    Every log event while the test runs.
    """
    # What other tests left behind (a collected object's last words) must
    # not be logged into this one.
    gc.collect()
    captured: list[dict[str, Any]] = []
    globalLogPublisher.addObserver(captured.append)
    yield captured
    globalLogPublisher.removeObserver(captured.append)


@pytest.fixture
def lan() -> Iterator[tuple[Network, Host, Host]]:
    """
    Two namespaces, "dev" (10.231.1.1) and "cp" (10.231.1.2), joined by a
    veth pair; cp sends multicast out of it.
    """
    with network() as net:
        device, peer = net.host("dev"), net.host("cp")
        net.link(device, "10.231.1.1", peer, "10.231.1.2")
        net.route_multicast(peer, net.links[0].b_interface)
        yield net, device, peer
