"""
Devices in an asyncio application: Twisted's asyncio reactor runs on the
application's own event loop, and a device starts and stops as awaitables.

    from upnp_announce import aio

    async def main():
        async with aio.running(aio.from_config("light.ini", interfaces=["eth0"])) as device:
            ...   # the application's own tasks; the device is found meanwhile

Twisted's reactor must be the asyncio one, on the running loop, before
anything imports C{twisted.internet.reactor}: L{install_reactor} (which
L{from_config} and L{start} call) installs it. A L{UPnPService} built by
hand takes the reactor when it is built: call L{install_reactor} first.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from upnp_announce.device.runner import UPnPService

__all__ = [
    "ReactorError", "from_config", "install_reactor", "running", "shutdown", "start", "stop",
]


class ReactorError(RuntimeError):
    """
    Twisted's reactor cannot run on this event loop (another reactor was
    installed first, or on another loop).
    """


def install_reactor(loop: asyncio.AbstractEventLoop | None = None) -> Any:
    """
    Twisted's reactor on C{loop} (by default the running one), installed if
    need be, and running: its startup triggers fired, its signal handlers
    left to the application.

    @raise ReactorError: when another reactor is installed already.
    """
    if loop is None:
        loop = asyncio.get_running_loop()
    if "twisted.internet.reactor" not in sys.modules:
        from twisted.internet import asyncioreactor

        asyncioreactor.install(loop)
    from twisted.internet import reactor
    from twisted.internet.asyncioreactor import AsyncioSelectorReactor

    if not isinstance(reactor, AsyncioSelectorReactor):
        raise ReactorError(
            f"Twisted's reactor is already installed ({type(reactor).__name__}): import "
            "upnp_announce.aio and start devices before anything imports "
            "twisted.internet.reactor"
        )
    if reactor._asyncioEventloop is not loop:
        raise ReactorError("Twisted's asyncio reactor runs on another event loop")
    if not reactor.running:
        # What reactor.run() does, but the loop is the application's and
        # already runs; SIGINT and SIGTERM stay the application's too.
        reactor.startRunning(installSignalHandlers=False)
    return reactor


def from_config(
    path: str | os.PathLike[str],
    *,
    interfaces: Sequence[str] = (),
    httpPort: int | None = None,
) -> UPnPService:
    """
    The device the INI file at C{path} describes (not started), on
    Twisted's reactor on the running loop (installed if need be).

    @raise upnp_announce.config.ConfigError: listing every problem.
    """
    install_reactor()
    return UPnPService.fromConfig(path, interfaces=list(interfaces) or None, httpPort=httpPort)


async def start(service: UPnPService, *, announced: bool = False) -> UPnPService:
    """
    Start C{service} on Twisted's reactor on the running loop.

    @param announced: also wait until its first alive set is out (which
        needs a usable address on its interfaces).
    @raise upnp_announce.StartError: when it cannot start (the SSDP port,
        a fixed HTTP port).
    """
    install_reactor()
    service.startService()
    if announced:
        try:
            await service.whenAnnounced().asFuture(asyncio.get_running_loop())
        except asyncio.CancelledError:
            # Given up on (a timeout, a signal): not left half-started.
            await stop(service)
            raise
    return service


async def stop(service: UPnPService) -> None:
    """
    Stop C{service}: returns once its byebye set is sent and its ports are
    closed.
    """
    if service.running:
        # Shielded: a cancellation while the byebye goes out (a second
        # Ctrl-C, a timeout) must not cut the stop short and leave its
        # sockets open.
        stopping = service.stopService().asFuture(asyncio.get_running_loop())
        await asyncio.shield(stopping)


@asynccontextmanager
async def running(service: UPnPService, *, announced: bool = False) -> AsyncIterator[UPnPService]:
    """
    C{async with running(service):} the device runs inside the block, and
    has said byebye when the block is left (by an exception or a
    cancellation too).
    """
    try:
        await start(service, announced=announced)
        yield service
    finally:
        await stop(service)


def shutdown() -> None:
    """
    At the application's end, once its devices are stopped: stop Twisted's
    thread pool, if anything started it (a provider's C{deferToThread}, a
    host name the client resolved); its threads would keep the process
    from exiting. The reactor stays installed on its loop: one event loop
    a process.
    """
    if "twisted.internet.reactor" not in sys.modules:
        return
    from twisted.internet import reactor

    if getattr(reactor, "threadpool", None) is not None:
        # What the reactor's own shutdown does (which would also stop the
        # application's loop).
        reactor._stopThreadPool()  # type: ignore[attr-defined]

