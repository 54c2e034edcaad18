"""
Several devices from several INI files, re-read while running: the files
(named ones and every C{*.ini} of the named folders), loaded together with
the clashes between them, and the L{Reloader} that re-reads them on SIGHUP
and brings a running L{UPnPService} to what they say.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from twisted.application.service import Service
from twisted.internet import defer

from upnp_announce import config
from upnp_announce.device.runner import UPnPService
from upnp_announce.logs import logger
from upnp_announce.model import Device

__all__ = ["ConfigSources", "Loaded", "Reloader", "clashes"]


@dataclass
class Loaded:
    """
    What the files say now.

    @ivar configs: each file that loads, by path, in order.
    @ivar texts: each file's text as read (unchanged text: unchanged device).
    @ivar errors: each file that does not load, with why.
    """

    configs: dict[str, config.Config] = field(default_factory=dict)
    texts: dict[str, bytes] = field(default_factory=dict)
    errors: dict[str, config.ConfigError] = field(default_factory=dict)


class ConfigSources:
    """
    The INI files a service runs: named files, and every C{*.ini} file of
    named folders (in name order), each describing one root device.
    """

    def __init__(
        self, files: Sequence[str] = (), folders: Sequence[str] = (), *,
        machineId: str | None = None,
    ) -> None:
        self.files = list(files)
        self.folders = list(folders)
        self.machineId = machineId

    def paths(self) -> list[str]:
        """
        Every file, now (a folder's content may have changed).
        """
        found = list(self.files)
        for folder in self.folders:
            try:
                names = sorted(n for n in os.listdir(folder) if n.endswith(".ini"))
            except OSError:
                continue
            found += [os.path.join(folder, n) for n in names]
        return list(dict.fromkeys(found))

    def load(self) -> Loaded:
        """
        Read and check every file.
        """
        loaded = Loaded()
        for path in self.paths():
            try:
                with open(path, "rb") as f:
                    loaded.texts[path] = f.read(config.MAX_FILE_BYTES + 1)
                loaded.configs[path] = config.load(path, machineId=self.machineId)
            except OSError as e:
                loaded.errors[path] = config.ConfigError(
                    [config.ConfigProblem(path, f"cannot read it: {e.strerror}")]
                )
            except config.ConfigError as e:
                loaded.errors[path] = e
        for folder in self.folders:
            if not os.path.isdir(folder):
                loaded.errors[folder] = config.ConfigError(
                    [config.ConfigProblem(folder, "is not a folder")]
                )
        return loaded


def clashes(configs: dict[str, config.Config]) -> tuple[list[str], list[str]]:
    """
    The clashes between devices of different files: the same UDN (an
    error: one UDN is one device) and the same friendlyName (a warning: a
    user cannot tell them apart).

    @return: error lines and warning lines.
    """
    errors, warnings = [], []
    udns: dict[str, str] = {}
    names: dict[str, str] = {}
    for path, loaded in configs.items():
        for device in loaded.device.allDevices():
            first = udns.setdefault(device.UDN.lower(), path)
            if first != path:
                errors.append(f"{path}: UDN {device.UDN} is also the UDN of a device of {first}")
        name = loaded.device.friendlyName
        first = names.setdefault(name, path)
        if first != path:
            warnings.append(f"{path}: friendlyName {name!r} is also the name of {first}")
    return errors, warnings


class Reloader(Service):
    """
    Re-reads the files of a running service on SIGHUP (or L{reload}) and
    brings it to what they say: a device whose file is gone says byebye, a
    new one is announced, one whose file changed is replaced (a new
    CONFIGID where its descriptions changed), one whose file did not change
    is left alone. A file that no longer loads is reported, one line per
    problem, and its device keeps running as it was.
    """

    log = logger("reload")

    def __init__(
        self, service: UPnPService, sources: ConfigSources, first: Loaded, *, reactor: Any = None
    ) -> None:
        if reactor is None:
            from twisted.internet import reactor
        self.reactor = reactor
        self.service = service
        self.sources = sources
        # What runs now, by file: its text and its device.
        self.texts = dict(first.texts)
        self.devices: dict[str, Device] = {p: c.device for p, c in first.configs.items()}
        self.network = next(iter(first.configs.values())).network if first.configs else None
        self._previous: Any = None
        self._handler = False
        # Told of each reload (a SystemdNotify), if any.
        self.systemd: Any = None

    def startService(self) -> None:
        super().startService()
        if hasattr(signal, "SIGHUP"):
            self._previous = signal.signal(signal.SIGHUP, self._hangup)
            self._handler = True

    def stopService(self) -> None:
        if self._handler:
            signal.signal(signal.SIGHUP, self._previous)
            self._handler = False
        super().stopService()

    def _hangup(self, signum: int, frame: object) -> None:
        # A signal handler does no more than hand over to the reactor.
        # (A failed reload is logged by it; nothing waits for its result.)
        self.reactor.callFromThread(lambda: self.reload().addErrback(lambda _: None))

    def reload(self) -> defer.Deferred[dict[str, list[str]]]:
        """
        Re-read every file and apply what they say.

        @return: fires with what changed (see L{UPnPService.setDevices}).
        """
        self.log.info("Reloading {count} configuration files",
                      count=len(self.sources.paths()))
        if self.systemd is not None:
            self.systemd.reloading()
        return defer.maybeDeferred(self._reload).addErrback(self._failed)

    def _failed(self, failure: Any) -> Any:
        self.log.failure("Reload failed; the devices run as they were", failure)
        if self.systemd is not None:
            # Running as before: systemd must not wait on a reload.
            self.systemd.reloaded(f"reload failed: {failure.getErrorMessage()}")
        return failure

    def _reload(self) -> defer.Deferred[dict[str, list[str]]]:
        loaded = self.sources.load()
        devices: dict[str, Device] = {}
        texts: dict[str, bytes] = {}
        for path, error in loaded.errors.items():
            for problem in error.problems:
                self.log.error("Reload: {problem}", problem=str(problem))
            if path in self.devices:
                self.log.warn("Reload: {path} keeps running as it was", path=path)
                devices[path] = self.devices[path]
                texts[path] = self.texts[path]
        for path, cfg in loaded.configs.items():
            if self.texts.get(path) == loaded.texts.get(path) and path in self.devices:
                devices[path] = self.devices[path]  # the very same object: untouched
            else:
                devices[path] = cfg.device
            texts[path] = loaded.texts[path]
            if self.network is not None and cfg.network != self.network:
                self.log.warn("Reload: {path}: [network] changes take effect at the next start",
                              path=path)
        kept: dict[str, Device] = {}
        seen: dict[str, str] = {}
        clashing = 0
        for path, device in devices.items():
            first = seen.setdefault(device.UDN.lower(), path)
            if first != path:
                self.log.error("Reload: {path}: UDN {udn} is also the UDN of a device of {first}; "
                               "left out", path=path, udn=device.UDN, first=first)
                clashing += 1
                continue
            kept[path] = device
        applying = self.service.setDevices(list(kept.values()))

        def applied(report: dict[str, list[str]]) -> dict[str, list[str]]:
            self.devices = kept
            self.texts = {p: texts[p] for p in kept}
            summary = (
                f"reloaded: {len(report['added'])} added, {len(report['removed'])} removed, "
                f"{len(report['changed'])} changed, {len(report['unchanged'])} unchanged, "
                f"{len(loaded.errors) + clashing} not loaded"
            )
            self.log.info("{summary}", summary=summary[0].upper() + summary[1:])
            if self.systemd is not None:
                self.systemd.reloaded(summary)
            return report

        return applying.addCallback(applied)
