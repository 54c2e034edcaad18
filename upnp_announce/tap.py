"""
The twistd plugin's options and assembly: C{twistd -n upnp --config FILE}.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from twisted.python import usage

from upnp_announce import config
from upnp_announce.device.runner import StartError, UPnPService
from upnp_announce.settings import bounds_problem

__all__ = ["Options", "makeService", "make_upnp_service"]

_PREFIX = "twistd upnp"


def _port(value: str) -> int:
    number = int(value) if value.isascii() and value.isdigit() else None
    if number is None or bounds_problem("httpPort", number) is not None:
        raise ValueError(f"{value!r} is not a port number (0 to 65535)")
    return number


class Options(usage.Options):
    synopsis = "--config FILE.ini [--interface NAME ...] [--http-port N]"
    longdesc = (
        "Run the UPnP root device described by an INI file: serve its "
        "descriptions over HTTP on the chosen interfaces."
    )
    optParameters = [
        ["config", "c", None, "The INI file that describes the device (required)."],
        ["http-port", "p", None, "The HTTP port (overrides [network] httpPort; 0: any).",
         _port],
    ]

    def __init__(self) -> None:
        super().__init__()
        self["interfaces"] = []

    def opt_interface(self, name: str) -> None:
        """An interface (or glob pattern) to serve on; repeat for several (default: [network] interfaces)."""
        self["interfaces"].append(name)

    opt_i = opt_interface

    def parseOptions(self, options: Sequence[str] | None = None) -> None:
        # twistd answers a UsageError with its whole usage text; one line
        # that says what is wrong serves better.
        try:
            super().parseOptions(options)
        except usage.UsageError as e:
            raise SystemExit(
                "\n".join(f"{_PREFIX}: {line}" for line in str(e).splitlines())
            ) from None

    def postOptions(self) -> None:
        if not self["config"]:
            raise usage.UsageError(
                "--config is required: the INI file that describes the device"
            )
        try:
            self["loaded"] = config.load(self["config"])
        except config.ConfigError as e:
            raise usage.UsageError(str(e)) from None
        # An interface that does not exist (yet) is no error: the device
        # waits for it, and says so once it runs.


class _ExitOnStartError(UPnPService):
    """
    Under twistd, a device that cannot start ends the process with one line
    rather than a traceback.
    """

    def startService(self) -> None:
        try:
            super().startService()
        except StartError as e:
            raise SystemExit(f"{_PREFIX}: {e}") from None


def make_upnp_service(
    loaded: config.Config,
    *,
    interfaces: Sequence[str] = (),
    httpPort: int | None = None,
    reactor: Any = None,
) -> UPnPService:
    """
    The service for a loaded configuration and the command line's overrides.
    """
    return _ExitOnStartError(
        loaded.device,
        loaded.network,
        reactor=reactor,
        interfaces=interfaces or None,
        httpPort=httpPort,
        eventing=loaded.eventing,
    )


def makeService(options: Options) -> UPnPService:
    return make_upnp_service(
        options["loaded"],
        interfaces=options["interfaces"],
        httpPort=options["http-port"],
    )


# The earlier name, kept for those who imported it.
makeUPnPService = make_upnp_service
