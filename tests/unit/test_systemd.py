"""
systemd's notify protocol: the datagrams, and when SystemdNotify sends them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from twisted.internet import defer
from twisted.internet.testing import MemoryReactorClock

from upnp_announce.systemd import SystemdNotify, notify_message, notify_socket


def test_a_message_is_one_key_value_line_each() -> None:
    assert notify_message(READY=1, STATUS="2 devices on eth0, wlan0") == (
        b"READY=1\nSTATUS=2 devices on eth0, wlan0\n"
    )
    # A value is one line, whatever it holds.
    assert notify_message(STATUS="a\nb") == b"STATUS=a b\n"


@pytest.mark.parametrize(
    ("value", "address"),
    [("/run/systemd/notify", "/run/systemd/notify"), ("@notify/x", "\0notify/x"),
     ("", None), ("relative/path", None)],
)
def test_the_socket_comes_from_the_environment(value: str, address: str | None) -> None:
    assert notify_socket({"NOTIFY_SOCKET": value}) == address
    assert notify_socket({}) is None


class Served:
    """
    What SystemdNotify needs of a UPnPService: its status, its first
    announcement, its reactor.
    """

    def __init__(self) -> None:
        self._reactor = MemoryReactorClock()
        self.status = "1 device, waiting for a usable address on eth*"
        self.watchers: list[Callable[[str], None]] = []
        self.announced: defer.Deferred[None] = defer.Deferred()

    def statusLine(self) -> str:
        return self.status

    def watchStatus(self, callback: Callable[[str], None]) -> None:
        self.watchers.append(callback)

    def whenAnnounced(self) -> defer.Deferred[None]:
        return self.announced

    def change(self, status: str) -> None:
        self.status = status
        for watcher in self.watchers:
            watcher(status)


def started(address: str | None = "/run/notify") -> tuple[Served, SystemdNotify, list[bytes]]:
    served = Served()
    sent: list[bytes] = []

    def send(to: str, data: bytes) -> None:
        assert to == address
        sent.append(data)

    notify = SystemdNotify(served, address=address, send=send,  # type: ignore[arg-type]
                           monotonic=lambda: 12.5)
    notify.startService()
    return served, notify, sent


def test_ready_only_once_the_first_alive_set_is_out() -> None:
    served, notify, sent = started()
    assert sent == [b"STATUS=1 device, waiting for a usable address on eth*\n"]
    served.change("1 device on eth0")
    assert sent[-1] == b"STATUS=1 device on eth0\n"
    assert not any(b"READY" in m for m in sent)
    served.status = "1 device on eth0"
    served.announced.callback(None)
    assert sent[-1] == b"READY=1\nSTATUS=1 device on eth0\n"
    served.change("1 device on eth0, wlan0")
    assert sent[-1] == b"STATUS=1 device on eth0, wlan0\n"


def test_a_reload_is_reloading_then_ready_again() -> None:
    served, notify, sent = started()
    served.announced.callback(None)
    notify.reloading()
    assert sent[-1] == b"RELOADING=1\nMONOTONIC_USEC=12500000\nSTATUS=reloading\n"
    notify.reloaded("reloaded: 1 added, 0 removed, 0 changed, 1 unchanged, 0 not loaded")
    assert sent[-1] == (
        b"READY=1\nSTATUS=1 device, waiting for a usable address on eth*; reloaded: 1 added, "
        b"0 removed, 0 changed, 1 unchanged, 0 not loaded\n"
    )


def test_stopping_is_told_once_at_the_start_of_a_shutdown() -> None:
    served, notify, sent = started()
    served.announced.callback(None)
    [(trigger, args, kwargs)] = served._reactor.triggers["before"]["shutdown"]
    trigger(*args, **kwargs)
    assert sent[-1] == b"STOPPING=1\nSTATUS=stopping\n"
    count = len(sent)
    notify.stopService()
    assert len(sent) == count


def test_stopping_the_service_alone_tells_it_too() -> None:
    served, notify, sent = started()
    notify.stopService()
    assert sent[-1] == b"STOPPING=1\nSTATUS=stopping\n"
    # Nothing after it: neither a late announcement nor a status.
    served.announced.callback(None)
    served.change("1 device on eth0")
    assert sent[-1] == b"STOPPING=1\nSTATUS=stopping\n"


def test_without_a_notify_socket_nothing_is_sent() -> None:
    served, notify, sent = started(address=None)
    served.announced.callback(None)
    notify.reloading()
    notify.stopService()
    assert sent == [] and served.watchers == []


def test_a_socket_that_fails_is_given_up_after_one_warning() -> None:
    served = Served()
    tries: list[bytes] = []

    def send(to: str, data: bytes) -> None:
        tries.append(data)
        raise ConnectionRefusedError(111, "Connection refused")

    logged: list[dict[str, Any]] = []
    from twisted.logger import globalLogPublisher

    globalLogPublisher.addObserver(logged.append)
    try:
        notify = SystemdNotify(served, address="/run/notify", send=send)  # type: ignore[arg-type]
        notify.startService()
        served.announced.callback(None)
        notify.reloading()
    finally:
        globalLogPublisher.removeObserver(logged.append)
    assert len(tries) == 1
    [warning] = [e for e in logged if e.get("log_namespace") == "upnp_announce.systemd"]
    assert "Cannot tell systemd" in warning["log_format"]


def test_a_reload_before_the_first_announcement_is_no_readiness() -> None:
    served, notify, sent = started()
    notify.reloading()
    notify.reloaded("reloaded: 0 added, 0 removed, 1 changed, 0 unchanged, 0 not loaded")
    assert not any(b"READY" in m for m in sent)
    assert sent[-1].startswith(b"STATUS=1 device, waiting for a usable address")
    served.announced.callback(None)
    assert sent[-1].startswith(b"READY=1\n")

