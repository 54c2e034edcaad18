"""
systemd's notify protocol (C{Type=notify}): one datagram per message to the
AF_UNIX socket C{$NOTIFY_SOCKET} names (a leading C{@} is the abstract
namespace). L{SystemdNotify} tells systemd that the device is ready once its
first alive set is out, what it serves (C{STATUS=}), when it reloads and
when it stops. No dependency: the protocol is one datagram.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from typing import Any

from twisted.application.service import Service

from upnp_announce.device.runner import UPnPService
from upnp_announce.logs import logger

__all__ = ["SystemdNotify", "notify_message", "notify_socket"]


def notify_message(**fields: object) -> bytes:
    """
    One notify datagram: C{KEY=value} lines (C{READY=1}, C{STATUS=...}).
    Values are one line each.
    """
    lines = []
    for key, value in fields.items():
        text = str(value).replace("\n", " ")
        lines.append(f"{key}={text}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def notify_socket(environ: dict[str, str] | None = None) -> str | None:
    """
    The notify socket's address from the environment, or C{None} (not run
    by systemd as Type=notify): a path, or C{"\\0name"} for an abstract one.
    """
    path = (os.environ if environ is None else environ).get("NOTIFY_SOCKET", "")
    if not path or path[0] not in "/@":
        return None
    return "\0" + path[1:] if path.startswith("@") else path


class SystemdNotify(Service):
    """
    Keeps systemd told about a running L{UPnPService}: C{READY=1} once its
    first alive set is out, C{STATUS=} lines as what it serves changes,
    C{RELOADING=1} (with C{MONOTONIC_USEC}) and C{READY=1} around a reload,
    C{STOPPING=1} at stop. Does nothing without C{$NOTIFY_SOCKET}.
    """

    log = logger("systemd")

    def __init__(
        self,
        service: UPnPService,
        *,
        address: str | None = None,
        send: Callable[[str, bytes], None] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """
        @param address: the notify socket (by default from the environment).
        @param send: sends one datagram to an address (for tests).
        """
        self.upnp = service
        self.address = address if address is not None else notify_socket()
        self.sendDatagram = send or _send
        self.monotonic = monotonic
        self.ready = False
        self.stopping = False
        self._trigger: Any = None

    def notify(self, **fields: object) -> None:
        """
        Send C{fields} to systemd, if it listens; a failure is logged once.
        """
        if self.address is None:
            return
        try:
            self.sendDatagram(self.address, notify_message(**fields))
        except OSError as e:
            self.log.warn("Cannot tell systemd ({error}); no more notifications", error=e)
            self.address = None

    def startService(self) -> None:
        super().startService()
        if self.address is None:
            return
        self.upnp.watchStatus(self._status)
        self.notify(STATUS=self.upnp.statusLine())
        self.upnp.whenAnnounced().addCallback(self._announced)
        # At the very start of a shutdown, before the byebye sets go.
        self._trigger = self.upnp._reactor.addSystemEventTrigger(
            "before", "shutdown", self._stopping
        )

    def _stopping(self) -> None:
        if not self.stopping:
            self.stopping = True
            self.notify(STOPPING=1, STATUS="stopping")

    def _announced(self, _: object) -> None:
        if self.running and not self.ready:
            self.ready = True
            self.notify(READY=1, STATUS=self.upnp.statusLine())

    def _status(self, line: str) -> None:
        if self.running:
            self.notify(STATUS=line)

    def reloading(self) -> None:
        self.notify(RELOADING=1, MONOTONIC_USEC=int(self.monotonic() * 1_000_000),
                    STATUS="reloading")

    def reloaded(self, summary: str) -> None:
        """
        The reload is over: C{READY=1} again, unless the device was not
        ready before it (no alive set out yet: READY comes with the first).
        """
        status = f"{self.upnp.statusLine()}; {summary}"
        if self.ready:
            self.notify(READY=1, STATUS=status)
        else:
            self.notify(STATUS=status)

    def stopService(self) -> Any:
        self._stopping()
        if self._trigger is not None:
            try:
                self.upnp._reactor.removeSystemEventTrigger(self._trigger)
            except (ValueError, KeyError):
                pass  # (it ran: the reactor is shutting down)
            self._trigger = None
        return super().stopService()


def _send(address: str, data: bytes) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.sendto(data, address)
