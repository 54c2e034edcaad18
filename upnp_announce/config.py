"""
The INI file format: text in, a frozen L{Config} (the device model and the
network settings) out, or a L{ConfigError} that lists every mistake, each
naming the file, line, section and key and what to do about it.

This format is a public contract: keys are added, never renamed.
"""

from __future__ import annotations

import difflib
import os
import re
import shlex
import socket
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from upnp_announce import ini, registry
from upnp_announce.model import DESCRIPTION_FIELDS, Device, Icon, ModelError, Service
from upnp_announce.provider import OptionError, service_model
from upnp_announce.settings import EventingSettings, NetworkSettings, bounds_problem
from upnp_announce.wire import images
from upnp_announce.wire.scpd import DescriptionError, parse_scpd

__all__ = [
    "Config",
    "ConfigError",
    "ConfigProblem",
    "NetworkSettings",
    "derive_udn",
    "load",
    "machine_id",
    "parse",
]

# The UDA fields (UDN is spelled udn), then what makes up the tree.
DEVICE_KEYS = tuple("udn" if f == "UDN" else f for f in DESCRIPTION_FIELDS) + (
    "icons",
    "services",
    "devices",
    "provider",
    "presentation",
)
REQUIRED_DEVICE_KEYS = ("deviceType", "friendlyName", "manufacturer", "modelName")
SERVICE_KEYS = ("serviceType", "serviceId", "scpd", "provider")
NETWORK_KEYS = (
    "interfaces", "exclude", "ipv6", "httpPort", "maxAge", "ttl", "repliesPerSecond",
    "quietSeconds",
)
EVENTING_KEYS = (
    "callbacks",
    "minTimeout",
    "maxTimeout",
    "maxSubscriptions",
    "maxSubscriptionsPerSource",
)

# Keys whose value is a list; they may be empty.
_LIST_KEYS = frozenset({"icons", "services", "devices", "interfaces", "exclude"})

# Model field -> INI key, where they differ.
_MODEL_TO_KEY = {"UDN": "udn"}

MAX_FILE_BYTES = 1 << 20

# The namespace of derived UDNs (a fixed, arbitrary UUID of this project).
UDN_NAMESPACE = uuid.UUID("5b7c3b0e-8f7f-4c8a-9d43-7a0f3e2b9c61")


@dataclass(frozen=True)
class Config:
    """
    A loaded configuration.

    @ivar path: the file it came from.
    """

    path: str
    device: Device
    network: NetworkSettings = NetworkSettings()
    eventing: EventingSettings = EventingSettings()


@dataclass(frozen=True)
class ConfigProblem:
    """
    One mistake in a configuration file.
    """

    path: str
    message: str
    line: int | None = None
    section: str | None = None
    key: str | None = None

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        if self.section is not None:
            where += f": [{self.section}]"
            if self.key is not None:
                where += f" {self.key}"
        return f"{where}: {self.message}"


class ConfigError(ValueError):
    """
    A configuration file has mistakes; C{problems} lists them all.
    """

    def __init__(self, problems: Iterable[ConfigProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def machine_id() -> str:
    """
    A string that identifies this machine and survives reboots: systemd's
    machine id where there is one, else the host name.
    """
    for candidate in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            text = Path(candidate).read_text().strip()
        except OSError:
            continue
        if text:
            return text
    return socket.gethostname()


def derive_udn(*identity: str) -> str:
    """
    A name-based (version 5) UUID of C{identity}, as a UDN.
    """
    return "uuid:" + str(uuid.uuid5(UDN_NAMESPACE, "\n".join(identity)))


def load(path: str | os.PathLike[str], *, machineId: str | None = None) -> Config:
    """
    Read and check the configuration file at C{path}, and everything it
    refers to (icons, SCPD files).

    @param machineId: identifies this machine for derived UDNs; by default
        L{machine_id}().
    @raise ConfigError: listing every problem found.
    """
    name = os.fspath(path)
    try:
        with open(name, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        raise ConfigError([ConfigProblem(name, f"cannot read it: {e.strerror}")]) from None
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError([ConfigProblem(name, "is larger than 1 MiB; is it the right file?")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ConfigError(
            [ConfigProblem(name, f"is not UTF-8 text (byte {e.start} is {data[e.start]:#x})")]
        ) from None
    return parse(
        text,
        path=name,
        baseDir=os.path.dirname(os.path.abspath(name)),
        machineId=machineId if machineId is not None else machine_id(),
    )


def parse(
    text: str,
    *,
    path: str,
    baseDir: str,
    machineId: str,
    readFile: Callable[[str], bytes] | None = None,
) -> Config:
    """
    Check the configuration C{text} and build the L{Config} it describes.

    @param path: the file name used in error messages.
    @param baseDir: the folder that relative icon and SCPD paths start from.
    @param readFile: reads a referred file; by default from disk.
    @raise ConfigError: listing every problem found.
    """
    return _Loader(text, path, baseDir, machineId, readFile or _read_file).load()


def _read_file(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read(MAX_FILE_BYTES + 1)


def _words(value: str) -> list[str]:
    """
    Split a list value on white space and commas; quotes keep a name whole.

    @raise ValueError: for an unmatched quote.
    """
    lexer = shlex.shlex(value, posix=True)
    lexer.whitespace += ","
    lexer.whitespace_split = True
    lexer.commenters = ""
    return list(lexer)


def _suggest(word: str, choices: Iterable[str]) -> str:
    byLower = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(word.lower(), byLower, n=1)
    return f"; did you mean {byLower[close[0]]!r}?" if close else ""


@dataclass
class _Loader:
    text: str
    path: str
    baseDir: str
    machineId: str
    readFile: Callable[[str], bytes]
    problems: list[ConfigProblem] = field(default_factory=list)
    sections: dict[str, ini.Section] = field(default_factory=dict)

    def problem(self, message: str, section: str | None = None, key: str | None = None) -> None:
        line = None
        if section is not None and section in self.sections:
            entry = self.sections[section].get(key) if key is not None else None
            line = entry.line if entry is not None else self.sections[section].line
        self.problems.append(ConfigProblem(self.path, message, line, section, key))

    def load(self) -> Config:
        self.sections, errors = ini.read(self.text)
        for error in errors:
            self.problems.append(
                ConfigProblem(self.path, error.message, error.line, error.section, error.key)
            )
        device = self._loadDevices()
        network = self._loadNetwork()
        eventing = self._loadEventing()
        for name in self.sections:
            kind = name.split(":", 1)[0]
            if name not in ("network", "eventing") and kind not in ("device", "service"):
                self.problem(
                    "unknown section; the sections are [device], [device:NAME], "
                    "[service:NAME], [network] and [eventing]"
                    + _suggest(kind, ("device", "service", "network", "eventing")),
                    name,
                )
        if self.problems or device is None or network is None or eventing is None:
            raise ConfigError(
                sorted(self.problems, key=lambda p: (p.line is None, p.line or 0))
            )
        return Config(self.path, device, network, eventing)

    def _fields(self, section: str, known: tuple[str, ...]) -> dict[str, str]:
        """
        The known keys of C{section} under their own names; report unknown
        keys, and empty values of keys that are not lists.
        """
        byLower = {k.lower(): k for k in known}
        result = {}
        for entry in self.sections[section].entries.values():
            canonical = byLower.get(entry.key.lower())
            if canonical is None:
                self.problem(
                    "unknown key"
                    + (_suggest(entry.key, known) or f"; the keys are {', '.join(known)}"),
                    section,
                    entry.key,
                )
            elif entry.value == "" and canonical not in _LIST_KEYS:
                self.problem("is empty; give it a value or leave the key out", section, entry.key)
            else:
                result[canonical] = entry.value
        return result

    def _required(self, section: str, fields: dict[str, str], keys: Iterable[str]) -> bool:
        """
        Whether C{fields} has every one of C{keys}; report those not given at
        all (an empty one was reported by L{_fields}).
        """
        complete = True
        for key in keys:
            if key not in fields:
                complete = False
                if self.sections[section].get(key) is None:
                    self.problem("is required", section, key)
        return complete

    def _list(self, section: str, fields: dict[str, str], key: str) -> list[str] | None:
        """
        The names listed by C{key}, or C{None} (reported) when unreadable.
        """
        try:
            return _words(fields.get(key, ""))
        except ValueError as e:
            self.problem(f"cannot be read as a list: {e}", section, key)
            return None

    # -- [network] -----------------------------------------------------------

    def _loadNetwork(self) -> NetworkSettings | None:
        if "network" not in self.sections:
            return NetworkSettings()
        fields = self._fields("network", NETWORK_KEYS)
        settings: dict[str, object] = {}
        ok = True
        if "interfaces" in fields:
            names = self._list("network", fields, "interfaces")
            if names == []:
                self.problem("lists no interface; leave the key out for all of them",
                             "network", "interfaces")
            ok = bool(names)
            settings["interfaces"] = tuple(names or ())
        if "exclude" in fields:
            patterns = self._list("network", fields, "exclude")
            ok = ok and patterns is not None
            settings["exclude"] = tuple(patterns or ())
        if "ipv6" in fields:
            ipv6 = self._yes_no("network", fields, "ipv6")
            ok = ok and ipv6 is not None
            settings["ipv6"] = bool(ipv6)
        numbers = self._numbers(
            "network", fields, ("httpPort", "maxAge", "ttl", "repliesPerSecond", "quietSeconds")
        )
        if numbers is None:
            return None
        return NetworkSettings(**settings, **numbers) if ok else None  # type: ignore[arg-type]

    def _yes_no(self, section: str, fields: dict[str, str], key: str) -> bool | None:
        """
        A yes/no key (also 1/0, true/false); C{None} (reported) otherwise.
        """
        value = fields[key].strip().lower()
        if value in ("yes", "1", "true", "on"):
            return True
        if value in ("no", "0", "false", "off"):
            return False
        self.problem(f"{fields[key]!r} is neither yes nor no", section, key)
        return None

    def _numbers(
        self, section: str, fields: dict[str, str], keys: tuple[str, ...]
    ) -> dict[str, int] | None:
        """
        The whole-number C{keys} that C{fields} has, within their bounds;
        C{None} (reported) when one is not.
        """
        numbers = {}
        ok = True
        for key in keys:
            if key not in fields:
                continue
            raw = fields[key]
            number = int(raw) if re.fullmatch(r"[0-9]{1,30}", raw) else None
            message = (
                bounds_problem(key, number)
                if number is not None
                else f"{raw!r} is not a whole number"
            )
            if message is not None:
                self.problem(message, section, key)
                ok = False
            elif number is not None:
                numbers[key] = number
        return numbers if ok else None

    # -- [eventing] ----------------------------------------------------------

    def _loadEventing(self) -> EventingSettings | None:
        if "eventing" not in self.sections:
            return EventingSettings()
        fields = self._fields("eventing", EVENTING_KEYS)
        settings: dict[str, object] = {}
        ok = True
        if "callbacks" in fields:
            if fields["callbacks"] in ("requester", "subnet"):
                settings["callbacks"] = fields["callbacks"]
            else:
                self.problem(
                    f"{fields['callbacks']!r} is neither 'requester' nor 'subnet'",
                    "eventing", "callbacks",
                )
                ok = False
        numbers = self._numbers(
            "eventing", fields,
            ("minTimeout", "maxTimeout", "maxSubscriptions", "maxSubscriptionsPerSource"),
        )
        if numbers is None:
            return None
        settings.update(numbers)
        low = numbers.get("minTimeout", EventingSettings.minTimeout)
        high = numbers.get("maxTimeout", EventingSettings.maxTimeout)
        if ok and low > high:
            # Point at a key the file has.
            if "minTimeout" in numbers:
                self.problem(f"is greater than maxTimeout ({high})", "eventing", "minTimeout")
            else:
                self.problem(
                    f"is less than minTimeout ({low} by default)", "eventing", "maxTimeout"
                )
            ok = False
        return EventingSettings(**settings) if ok else None  # type: ignore[arg-type]

    # -- [device], [device:NAME], [service:NAME] --------------------------------

    def _loadDevices(self) -> Device | None:
        if "device" not in self.sections:
            self.problem("has no [device] section (the root device)")
            return None
        self.servicesBuilt: dict[str, Service | None] = {}
        self.devicesUsed: dict[str, str] = {}
        root = self._loadDevice("device", [], None)
        # Sections nobody refers to are mistakes; check their insides too.
        for name in self.sections:
            kind, _, _ = name.partition(":")
            if kind == "service" and name not in self.servicesBuilt:
                self.problem("is not listed in any device's services key", name)
                self._loadService(name)
            elif kind == "device" and name != "device" and name not in self.devicesUsed:
                self.problem("is not listed in any device's devices key", name)
                self._fields(name, DEVICE_KEYS)
        return root

    def _references(
        self, section: str, fields: dict[str, str], key: str, kind: str
    ) -> list[str] | None:
        """
        The sections that C{key} names, or C{None} (reported) if one is
        missing or the list is unreadable.
        """
        names = self._list(section, fields, key)
        if names is None:
            return None
        found = []
        for name in names:
            target = f"{kind}:{name}"
            if target in self.sections:
                found.append(target)
                continue
            others = [n.split(":", 1)[1] for n in self.sections if n.startswith(kind + ":")]
            self.problem(
                f"there is no section [{target}]" + _suggest(name, others), section, key
            )
            return None
        return found

    def _provider(self, section: str, kind: str) -> tuple[Any, tuple[str, ...], bool]:
        """
        Build the provider that C{section}'s C{provider} key names.

        @return: the provider (or C{None} when there is no key), the
            provider's own keys, and whether all went well (problems are
            reported).
        """
        entry = self.sections[section].get("provider")
        if entry is None or not entry.value:
            return None, (), True
        try:
            factory = registry.resolve(entry.value, kind)
        except registry.ProviderError as e:
            self.problem(str(e), section, "provider")
            return None, (), False
        keys = tuple(factory.keys)
        options = {}
        for key in keys:
            given = self.sections[section].get(key)
            if given is not None:
                options[key] = given.value
        try:
            return factory.build(options), keys, True
        except OptionError as e:
            self.problem(e.message, section, e.key)
        except Exception as e:
            self.problem(f"provider {entry.value!r} failed: {e}", section, "provider")
        return None, keys, False

    def _loadDevice(self, section: str, ancestors: list[str], rootUDN: str | None) -> Device | None:
        provider, ownKeys, ok = self._provider(section, "device")
        given = self._fields(section, DEVICE_KEYS + ownKeys)
        # Problems from here on stop this device from being built; those of
        # its keys (above) do not stop the checks that follow.
        before = len(self.problems)
        fields = {k: v for k, v in given.items() if k in DEVICE_KEYS}
        if provider is not None:
            # The section's keys override what the provider says.
            fields = {"deviceType": provider.deviceType, **provider.fields, **fields}
        services = (
            [service_model(s) for s in provider.services] if provider is not None else []
        )
        for target in self._references(section, fields, "services", "service") or ():
            if target not in self.servicesBuilt:
                self.servicesBuilt[target] = self._loadService(target)
            service = self.servicesBuilt[target]
            if service is not None:
                services.append(service)
        udn = fields.get("udn") or derive_udn(
            *(
                (self.machineId, "[device]", fields.get("deviceType", ""),
                 fields.get("manufacturer", ""), fields.get("modelName", ""),
                 fields.get("serialNumber", ""))
                if rootUDN is None
                else (rootUDN, f"[{section}]", fields.get("deviceType", ""))
            )
        )
        children = []
        for target in self._references(section, fields, "devices", "device") or ():
            if target in ancestors + [section]:
                self.problem(f"[{target}] contains itself", section, "devices")
                continue
            if target in self.devicesUsed:
                self.problem(
                    f"[{target}] is already embedded in [{self.devicesUsed[target]}]",
                    section,
                    "devices",
                )
                continue
            self.devicesUsed[target] = section
            child = self._loadDevice(target, ancestors + [section], rootUDN or udn)
            if child is not None:
                children.append(child)
        icons = self._loadIcons(section, fields)
        # (A provider that failed leaves the required keys missing: that is
        # one mistake, already reported.)
        if (
            not ok
            or not self._required(section, fields, REQUIRED_DEVICE_KEYS)
            or len(self.problems) > before
        ):
            return None
        try:
            return Device(
                deviceType=fields["deviceType"],
                friendlyName=fields["friendlyName"],
                manufacturer=fields["manufacturer"],
                modelName=fields["modelName"],
                UDN=udn,
                manufacturerURL=fields.get("manufacturerURL"),
                modelDescription=fields.get("modelDescription"),
                modelNumber=fields.get("modelNumber"),
                modelURL=fields.get("modelURL"),
                serialNumber=fields.get("serialNumber"),
                UPC=fields.get("UPC"),
                presentationURL=fields.get("presentationURL"),
                presentation=fields.get("presentation", "full"),
                icons=icons,
                services=tuple(services),
                devices=tuple(children),
            )
        except ModelError as e:
            self._modelProblems(section, e)
            return None

    def _modelProblems(self, section: str, error: ModelError) -> None:
        for p in error.problems:
            self.problem(p.message, section, _MODEL_TO_KEY.get(p.field, p.field))

    def _readReferred(self, section: str, key: str, name: str) -> bytes | None:
        path = os.path.join(self.baseDir, name)
        try:
            data = self.readFile(path)
        except OSError as e:
            self.problem(f"cannot read {name!r}: {e.strerror}", section, key)
            return None
        if len(data) > MAX_FILE_BYTES:
            self.problem(f"{name!r} is larger than 1 MiB", section, key)
            return None
        return data

    def _loadIcons(self, section: str, fields: dict[str, str]) -> tuple[Icon, ...]:
        icons = []
        for name in self._list(section, fields, "icons") or ():
            data = self._readReferred(section, "icons", name)
            if data is None:
                continue
            try:
                info = images.read_image_info(data)
            except images.ImageError as e:
                self.problem(f"{name!r}: {e}", section, "icons")
                continue
            icons.append(Icon(info.mimetype, info.width, info.height, info.depth, data))
        return tuple(icons)

    def _loadService(self, section: str) -> Service | None:
        provider, ownKeys, ok = self._provider(section, "service")
        fields = self._fields(section, SERVICE_KEYS + ownKeys)
        if not ok:
            return None
        if provider is not None:
            return self._providedService(section, fields, provider)
        if not self._required(section, fields, ("serviceType", "serviceId", "scpd")):
            return None
        data = self._readReferred(section, "scpd", fields["scpd"])
        if data is None:
            return None
        try:
            description = parse_scpd(data)
        except DescriptionError as e:
            self.problem(f"{fields['scpd']!r}: {e}", section, "scpd")
            return None
        if not self._unicastOnly(section, "scpd", description):
            return None
        try:
            return Service(fields["serviceType"], fields["serviceId"], description)
        except ModelError as e:
            self._modelProblems(section, e)
            return None

    def _providedService(
        self, section: str, fields: dict[str, str], provider: Any
    ) -> Service | None:
        """
        A service whose provider gives its type and description; the section
        may give it another serviceId.
        """
        if "scpd" in fields:
            self.problem(
                "cannot be combined with provider: the provider describes the service",
                section,
                "scpd",
            )
            return None
        if fields.get("serviceType", provider.serviceType) != provider.serviceType:
            self.problem(
                f"the provider implements {provider.serviceType}; leave serviceType out",
                section,
                "serviceType",
            )
            return None
        if not self._unicastOnly(section, "provider", provider.description):
            return None
        try:
            return service_model(provider, fields.get("serviceId"))
        except ModelError as e:
            self._modelProblems(section, e)
            return None

    def _unicastOnly(self, section: str, key: str, description: Any) -> bool:
        """
        Whether no state variable asks for multicast eventing, which the
        device does not send (reported when one does).
        """
        multicast = [v.name for v in description.stateVariables if v.multicast]
        if multicast:
            self.problem(
                f"state variable {multicast[0]} has multicast=\"yes\"; multicast "
                "eventing is not supported (set it to \"no\")",
                section,
                key,
            )
        return not multicast
