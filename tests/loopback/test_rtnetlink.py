"""
The rtnetlink watcher with a real netlink socket (reading only).
"""

from __future__ import annotations

import socket

import pytest
from unit.test_rtnetlink import FakeReactor

from upnp_announce.rtnetlink import (
    NetlinkWatcher,
)


def test_real_socket() -> None:
    """
    On Linux the default factory makes a real, non-blocking netlink socket
    (opening one only listens; it sends nothing).
    """
    if not hasattr(socket, "AF_NETLINK"):
        pytest.skip("no netlink here")
    reactor = FakeReactor()
    watcher = NetlinkWatcher(reactor, lambda change: None)
    assert watcher.start() is True
    try:
        assert watcher.fileno() >= 0 and reactor.readers == [watcher]
        watcher.doRead()  # nothing pending: EAGAIN, no change, no error
    finally:
        watcher.stop()
