"""
The twistd plugin's options and assembly: C{twistd -n upnp --config FILE},
or several devices: C{--config A.ini --config B.ini}, C{--config-dir DIR}.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from twisted.python import usage

from upnp_announce import config
from upnp_announce.device.runner import StartError, UPnPService
from upnp_announce.logs import enable
from upnp_announce.reload import ConfigSources, Loaded, Reloader, clashes
from upnp_announce.settings import bounds_problem
from upnp_announce.systemd import SystemdNotify

__all__ = ["Options", "makeService", "make_upnp_service"]

_PREFIX = "twistd upnp"


def _port(value: str) -> int:
    number = int(value) if value.isascii() and value.isdigit() else None
    if number is None or bounds_problem("httpPort", number) is not None:
        raise ValueError(f"{value!r} is not a port number (0 to 65535)")
    return number


class Options(usage.Options):
    synopsis = (
        "--config FILE.ini [--config ...] [--config-dir DIR] [--interface NAME ...] "
        "[--http-port N] [--debug TOPICS]"
    )
    longdesc = (
        "Run the UPnP root devices described by INI files (one device a file): "
        "serve them on the chosen interfaces; SIGHUP re-reads the files."
    )
    optParameters = [
        ["http-port", "p", None, "The HTTP port (overrides [network] httpPort; 0: any).",
         _port],
    ]

    def __init__(self) -> None:
        super().__init__()
        self["interfaces"] = []
        self["configs"] = []
        self["dirs"] = []

    def opt_config(self, path: str) -> None:
        """An INI file that describes a device; repeat for several."""
        self["configs"].append(path)

    opt_c = opt_config

    def opt_config_dir(self, path: str) -> None:
        """A folder whose *.ini files each describe a device; repeat for several."""
        self["dirs"].append(path)

    def opt_interface(self, name: str) -> None:
        """An interface (or glob pattern) to serve on; repeat for several (default: [network] interfaces)."""
        self["interfaces"].append(name)

    opt_i = opt_interface

    def opt_debug(self, topics: str) -> None:
        """Debug lines for these log topics (comma-separated: ssdp, http, ... or all)."""
        try:
            enable(topics.split(","))
        except ValueError as e:
            raise usage.UsageError(str(e)) from None

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
        if not self["configs"] and not self["dirs"]:
            raise usage.UsageError(
                "--config is required: the INI file that describes the device"
            )
        sources = ConfigSources(self["configs"], self["dirs"])
        loaded = sources.load()
        problems = [str(p) for e in loaded.errors.values() for p in e.problems]
        errors, _ = clashes(loaded.configs)
        if problems or errors:
            raise usage.UsageError("\n".join(problems + errors))
        if not loaded.configs:
            raise usage.UsageError(
                "there is no device: " + " ".join(self["dirs"]) + " holds no *.ini file"
            )
        self["sources"] = sources
        self["first"] = loaded
        # (As before several files: the one configuration.)
        self["loaded"] = next(iter(loaded.configs.values()))
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


def make_devices_service(
    sources: ConfigSources,
    first: Loaded,
    *,
    single: bool,
    interfaces: Sequence[str] = (),
    httpPort: int | None = None,
    reactor: Any = None,
) -> UPnPService:
    """
    The service of the devices of C{first} (loaded from C{sources}), with
    the first file's [network] and [eventing], re-read on SIGHUP. With
    C{single}, the one device is served at C{/} as it always was.
    """
    configs = list(first.configs.values())
    devices = [c.device for c in configs]
    service = _ExitOnStartError(
        devices[0] if single else None,
        configs[0].network,
        devices=[] if single else devices,
        reactor=reactor,
        interfaces=interfaces or None,
        httpPort=httpPort,
        eventing=configs[0].eventing,
    )
    reloader = Reloader(service, sources, first, reactor=reactor)
    reloader.setServiceParent(service)
    notify = SystemdNotify(service)
    notify.setServiceParent(service)
    reloader.systemd = notify
    return service


def makeService(options: Options) -> UPnPService:
    return make_devices_service(
        options["sources"],
        options["first"],
        single=len(options["configs"]) == 1 and not options["dirs"],
        interfaces=options["interfaces"],
        httpPort=options["http-port"],
    )


# The earlier name, kept for those who imported it.
makeUPnPService = make_upnp_service
