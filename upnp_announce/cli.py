"""
The C{upnp-announce} command.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import ipaddress
import json
import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO
from urllib.parse import unquote, urlsplit

from twisted.internet import defer

from upnp_announce import client, config, datatypes, netif
from upnp_announce._version import __version__
from upnp_announce.client import conform
from upnp_announce.model import Action, Argument, Device, ServiceDescription, StateVariable
from upnp_announce.reload import ConfigSources, clashes
from upnp_announce.wire import description, soap, ssdp
from upnp_announce.wire.description import DescriptionError
from upnp_announce.wire.ssdp import announcements

__all__ = ["main"]


def _describe(loaded: config.Config, out: TextIO) -> None:
    rendered = description.render(loaded.device)
    network = loaded.network
    out.write(f"{loaded.path}: OK\n")
    out.write(f"configId {rendered.configId}\n")

    def walk(device: Device, depth: int) -> None:
        pad = "  " * depth
        out.write(f"{pad}{device.friendlyName} ({device.deviceType})\n")
        out.write(f"{pad}  UDN {device.UDN}\n")
        for icon in device.icons:
            out.write(f"{pad}  icon {icon.width}x{icon.height}x{icon.depth} {icon.mimetype}\n")
        for paths in rendered.layout.services:
            if paths.device is device:
                service = paths.service
                out.write(
                    f"{pad}  service {service.serviceId} ({service.serviceType}): "
                    f"{len(service.description.actions)} actions, "
                    f"{len(service.description.stateVariables)} state variables, "
                    f"SCPD at {paths.scpd}\n"
                )
        for child in device.devices:
            walk(child, depth + 1)

    walk(loaded.device, 0)
    out.write("SSDP announces (NT, then USN):\n")
    for announcement in announcements(loaded.device):
        out.write(f"  {announcement.nt}  {announcement.usn}\n")
    interfaces = " ".join(network.interfaces) if network.interfaces else "(all usable)"
    out.write(
        f"network: interfaces {interfaces}, httpPort {network.httpPort or '(any)'}, "
        f"maxAge {network.maxAge}, ttl {network.ttl}, ipv6 {'yes' if network.ipv6 else 'no'}, "
        f"exclude {' '.join(network.exclude) or '(none)'}\n"
    )


def _check(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    files = [p for p in args.files if not os.path.isdir(p)]
    folders = [p for p in args.files if os.path.isdir(p)]
    loaded = ConfigSources(files, folders).load()
    for error in loaded.errors.values():
        for problem in error.problems:
            err.write(f"{problem}\n")
    errors, warnings = clashes(loaded.configs)
    for line in errors:
        err.write(f"{line}\n")
    for line in warnings:
        err.write(f"warning: {line}\n")
    for index, each in enumerate(loaded.configs.values()):
        if index:
            out.write("\n")
        _describe(each, out)
    if not loaded.configs and not loaded.errors:
        err.write("no configuration file: " + " ".join(args.files) + " holds no *.ini file\n")
        return 1
    return 1 if loaded.errors or errors else 0


# -- talking to devices -----------------------------------------------------------

EXIT_ERROR = 1
EXIT_FAULT = 3


def _jsonable(value: object) -> object:
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return str(value)


def _wire(variable: StateVariable | None, value: object) -> str:
    """
    A value as UPnP writes it (C{1} for True...), or as it came.
    """
    if variable is not None:
        try:
            return datatypes.format_value(variable.dataType, value)
        except (datatypes.InvalidValue, datatypes.UnknownDataType):
            pass
    return str(value)


async def _discover(reactor: Any, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    progress = err.isatty() and not args.json
    seen: list[client.Found] = []

    def found(item: client.Found) -> None:
        seen.append(item)
        if progress:
            err.write(f"\rSearching for {args.target}: {len(seen)} found")
            err.flush()

    replies = await client.discover(
        reactor, target=args.target, timeout=args.timeout,
        interfaces=args.interface or None, unicast=args.unicast, onFound=found,
        ipv6=args.ipv6,
    )
    if progress:
        err.write("\r\x1b[K")
    byLocation: dict[str, client.Found] = {}
    for reply in replies:
        byLocation.setdefault(reply.location, reply)
    point = client.ControlPoint(reactor, timeout=args.timeout)
    rows = []
    try:
        for location, reply in sorted(byLocation.items()):
            try:
                device = await point.describe(location)
            except client.ClientError as e:
                rows.append({"location": location, "server": reply.server,
                             "interface": reply.interface, "error": str(e)})
                continue
            rows.append({
                "friendlyName": device.friendlyName, "deviceType": device.deviceType,
                "UDN": device.UDN, "location": location, "interface": reply.interface,
                "server": reply.server,
            })
    finally:
        await point.close()
    if args.json:
        out.write(json.dumps(rows, indent=2) + "\n")
        return 0
    if not rows:
        out.write(f"No device answered a search for {args.target} within {args.timeout:g} s.\n")
        return 0
    table = [("FRIENDLY NAME", "DEVICE TYPE", "INTERFACE", "LOCATION", "SERVER")] + [
        (r.get("friendlyName", f"({r.get('error')})"), r.get("deviceType", ""),
         r["interface"] or "-", r["location"], r["server"])
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(4)]
    for row in table:
        out.write("  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  " + row[4] + "\n")
    return 0


def _signature(action: Action, scpd: ServiceDescription) -> str:
    def typed(argument: Argument) -> str:
        variable = scpd.stateVariable(argument.relatedStateVariable)
        return f"{argument.name}: {variable.dataType if variable else '?'}"

    inputs = ", ".join(typed(a) for a in action.inArguments)
    outputs = ", ".join(typed(a) for a in action.outArguments)
    return f"{action.name}({inputs})" + (f" -> {outputs}" if outputs else "")


def _variable(variable: StateVariable) -> str:
    text = f"{variable.name}: {variable.dataType}"
    if variable.allowedValues is not None:
        text += " in {" + ", ".join(variable.allowedValues) + "}"
    if variable.allowedValueRange is not None:
        r = variable.allowedValueRange
        text += f" in {r.minimum}..{r.maximum}" + (f" step {r.step}" if r.step else "")
    if variable.defaultValue is not None:
        text += f" = {variable.defaultValue}"
    if variable.sendEvents:
        text += " (evented)"
    return text


async def _inspect(reactor: Any, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    point = client.ControlPoint(reactor, timeout=args.timeout)
    try:
        root = await point.describe(args.url)
        scpds = {}
        for service in root.allServices():
            try:
                scpds[service.serviceId] = await point.scpd(service)
            except client.ClientError as e:
                scpds[service.serviceId] = e  # type: ignore[assignment]
    finally:
        await point.close()

    def tree(device: client.RemoteDevice) -> dict[str, object]:
        services = []
        for service in device.services:
            scpd = scpds[service.serviceId]
            entry: dict[str, object] = {
                "serviceType": service.serviceType, "serviceId": service.serviceId,
                "SCPDURL": service.SCPDURL, "controlURL": service.controlURL,
                "eventSubURL": service.eventSubURL,
            }
            if isinstance(scpd, ServiceDescription):
                entry["actions"] = [_signature(a, scpd) for a in scpd.actions]
                entry["stateVariables"] = [_variable(v) for v in scpd.stateVariables]
            else:
                entry["error"] = str(scpd)
            services.append(entry)
        return {**device.fields, "services": services,
                "devices": [tree(d) for d in device.devices]}

    described = tree(root)
    if args.json:
        out.write(json.dumps(described, indent=2) + "\n")
        return 0

    def show(node: dict[str, Any], depth: int) -> None:
        pad = "  " * depth
        out.write(f"{pad}{node.get('friendlyName', '')} ({node.get('deviceType', '')})\n")
        for key, value in node.items():
            if key not in ("friendlyName", "deviceType", "services", "devices"):
                out.write(f"{pad}  {key}: {value}\n")
        for service in node["services"]:
            out.write(f"{pad}  service {service['serviceId']} ({service['serviceType']})\n")
            if "error" in service:
                out.write(f"{pad}    (no description: {service['error']})\n")
                continue
            out.write(f"{pad}    actions:\n")
            for line in service["actions"]:
                out.write(f"{pad}      {line}\n")
            out.write(f"{pad}    state variables:\n")
            for line in service["stateVariables"]:
                out.write(f"{pad}      {line}\n")
        for child in node["devices"]:
            show(child, depth + 1)

    show(described, 0)
    return 0


def _assignments(pairs: Sequence[str]) -> dict[str, object]:
    arguments: dict[str, object] = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals or not name:
            raise client.ClientError(f"{pair!r} is not NAME=VALUE")
        arguments[name] = value
    return arguments


async def _call(reactor: Any, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    arguments = _assignments(args.arguments)
    point = client.ControlPoint(reactor, timeout=args.timeout)
    try:
        root = await point.describe(args.url)
        service = root.findService(args.service)
        scpd = await point.scpd(service)
        try:
            result = await point.call(service, scpd, args.action, arguments)
        except soap.UPnPError as e:
            err.write(f"upnp-announce: {args.action} failed: UPnP error {e.code}: {e.description}\n")
            return EXIT_FAULT
    finally:
        await point.close()
    action = scpd.action(args.action)
    related = {a.name: scpd.stateVariable(a.relatedStateVariable)
               for a in (action.outArguments if action else ())}
    if args.json:
        out.write(json.dumps({k: _jsonable(v) for k, v in result.items()}, indent=2) + "\n")
    else:
        for name, value in result.items():
            out.write(f"{name} = {_wire(related.get(name), value)}\n")
    return 0


async def _subscribe(reactor: Any, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    point = client.ControlPoint(reactor, timeout=args.timeout)
    root = await point.describe(args.url)
    service = root.findService(args.service)
    try:
        scpd: ServiceDescription | None = await point.scpd(service)
    except client.ClientError:
        scpd = None
    done: defer.Deferred[None] = defer.Deferred()
    count = [0]

    def event(seq: int, values: dict[str, object]) -> None:
        if args.json:
            out.write(json.dumps({"seq": seq, "values": {k: _jsonable(v) for k, v in values.items()}}) + "\n")
        else:
            shown = ", ".join(
                f"{name} = {_wire(scpd.stateVariable(name) if scpd else None, value)}"
                for name, value in values.items()
            )
            out.write(f"SEQ {seq}: {shown}\n")
        out.flush()
        count[0] += 1
        if args.count and count[0] >= args.count and not done.called:
            done.callback(None)

    subscription = await point.subscribe(service, scpd, event, timeout=args.subscription_timeout)
    err.write(f"Subscribed to {service.serviceId} as {subscription.sid} "
              f"for {subscription.timeout} s (renewed until stopped)\n")
    err.flush()

    async def finish() -> None:
        try:
            await subscription.unsubscribe()
        except client.ClientError as e:
            err.write(f"upnp-announce: {e}\n")
        await point.close()

    stopping = reactor.addSystemEventTrigger(
        "before", "shutdown", lambda: defer.Deferred.fromCoroutine(finish())
    )
    # Until --count events came, or the subscription was lost for good.
    lost: list[client.ClientError] = []
    subscription.lost.addCallback(lost.append)
    subscription.lost.addCallback(lambda _: done.callback(None) if not done.called else None)
    await done
    reactor.removeSystemEventTrigger(stopping)
    if lost:
        await point.close()
        raise lost[0]
    await finish()
    return 0


async def _conform(reactor: Any, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    findings = await conform.conform(
        reactor, args.location, groups=args.only, timeout=args.timeout, invoke=args.invoke,
        ssdpPort=args.ssdp_port,
    )
    if args.junit:
        try:
            with open(args.junit, "wb") as f:
                f.write(conform.junit(args.location, findings))
        except OSError as e:
            err.write(f"upnp-announce: cannot write {args.junit}: {e.strerror}\n")
            return EXIT_ERROR
    out.write(conform.to_json(args.location, findings) if args.json else conform.text(findings))
    return conform.exit_status(findings)


def _location(text: str) -> str:
    """
    An http:// URL whose host is an IP address (the SSDP searches are
    unicast to it).
    """
    parts = urlsplit(text)
    try:
        ipaddress.ip_address(unquote(parts.hostname or "").split("%", 1)[0])
        parts.port
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: LOCATION must be http://IP-ADDRESS[:PORT]/..., the device by its address"
        ) from None
    if parts.scheme != "http":
        raise argparse.ArgumentTypeError(f"{text!r} is not an http:// URL")
    return text


def _groups(text: str) -> tuple[str, ...]:
    chosen = tuple(g.strip() for g in text.split(",") if g.strip())
    unknown = [g for g in chosen if g not in conform.GROUPS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"{text!r}: the groups are {', '.join(conform.GROUPS)}"
        )
    return chosen


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (1 to 65535)")
    return int(text)


def _react(command: Any, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """
    Run an async command on the reactor; give its exit status, and every
    error as one line.
    """
    from twisted.internet import reactor

    status = [0]

    async def run() -> None:
        try:
            status[0] = await command(reactor, args, out, err)
        except (
            client.ClientError, DescriptionError, netif.InterfaceError, soap.UPnPError
        ) as e:
            err.write(f"upnp-announce: {e}\n")
            status[0] = EXIT_ERROR
        except Exception as e:
            err.write(f"upnp-announce: {e.__class__.__name__}: {e}\n")
            status[0] = EXIT_ERROR

    def stop(_: object) -> None:
        if reactor.running:
            reactor.stop()

    reactor.callWhenRunning(lambda: defer.Deferred.fromCoroutine(run()).addBoth(stop))
    reactor.run()
    return status[0]


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds (0 to 3600)")
    return value


def _host_port(text: str) -> tuple[str, int]:
    """
    C{HOST}, C{HOST:PORT}, C{IPV6} or C{[IPV6]:PORT}.
    """
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        colon, port = rest[:1], rest[1:]
        if not bracket or (rest and colon != ":"):
            raise argparse.ArgumentTypeError(f"{text!r} is not HOST or HOST:PORT")
    elif text.count(":") > 1:
        host, colon, port = text, "", ""
    else:
        host, colon, port = text.partition(":")
    if not colon:
        port = str(ssdp.SSDP_PORT)
    if not host or not port.isascii() or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST or HOST:PORT")
    return host, int(port)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="upnp-announce",
        description="Check a device configuration, and find, inspect, call and "
        "subscribe to any UPnP device.",
        epilog="Exit status: 0 done, 1 error, 2 usage, 3 the device answered with "
        "a UPnP fault.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    check = commands.add_parser(
        "check",
        help="validate device INI files and everything they refer to",
        description="Validate device INI files (or folders of them) and the files "
        "they refer to; list every problem and every clash between them (the same "
        "UDN: an error; the same friendlyName: a warning), or summarise the devices.",
    )
    check.add_argument("files", metavar="FILE.ini|DIR", nargs="+",
                       help="INI files, or folders of them (one device a file); "
                       "clashes between them are reported too")
    check.set_defaults(run=_check)

    def timeout(p: argparse.ArgumentParser, default: float) -> None:
        p.add_argument("--timeout", type=_seconds, default=default, metavar="S",
                       help=f"seconds to wait (default {default:g})")

    def json_option(p: argparse.ArgumentParser) -> None:
        p.add_argument("--json", action="store_true", help="print JSON")

    find = commands.add_parser(
        "discover", help="search the LAN and list the devices that answer",
        description="Send an SSDP search and list the devices that answer, "
        "from their descriptions.",
    )
    timeout(find, 3.0)
    find.add_argument("--target", default="ssdp:all", metavar="ST",
                      help="the search target (default ssdp:all)")
    find.add_argument("--interface", action="append", metavar="NAME",
                      help="search on this interface (repeatable; default: all usable)")
    find.add_argument("--unicast", metavar="HOST[:PORT]", type=_host_port,
                      help="search one host by unicast instead")
    find.add_argument("--no-ipv6", dest="ipv6", action="store_false",
                      help="search over IPv4 only (default: IPv6 too, on ff02::c and ff05::c)")
    json_option(find)
    find.set_defaults(run=_discover, react=True)

    look = commands.add_parser(
        "inspect", help="show a device's tree, services, actions and state variables",
    )
    look.add_argument("url", metavar="URL", help="the device description URL (LOCATION)")
    timeout(look, 10.0)
    json_option(look)
    look.set_defaults(run=_inspect, react=True)

    call = commands.add_parser(
        "call", help="call an action and print its out-arguments",
        description="Call ACTION of SERVICE (its serviceId, the last part of it, or "
        "its type) with NAME=VALUE arguments.",
    )
    call.add_argument("url", metavar="URL")
    call.add_argument("service", metavar="SERVICE")
    call.add_argument("action", metavar="ACTION")
    call.add_argument("arguments", nargs="*", metavar="NAME=VALUE")
    timeout(call, 10.0)
    json_option(call)
    call.set_defaults(run=_call, react=True)

    sub = commands.add_parser(
        "subscribe", help="print a service's events until interrupted",
        description="Subscribe to SERVICE's events and print each as it arrives, "
        "renewing before expiry; unsubscribe on Ctrl-C (or after --count events).",
    )
    sub.add_argument("url", metavar="URL")
    sub.add_argument("service", metavar="SERVICE")
    sub.add_argument("--count", type=int, default=0, metavar="N",
                     help="stop after N events")
    sub.add_argument("--subscription-timeout", type=int, default=1800, metavar="S",
                     help="the TIMEOUT to ask for (default 1800)")
    timeout(sub, 10.0)
    json_option(sub)
    sub.set_defaults(run=_subscribe, react=True)

    test = commands.add_parser(
        "conform", help="test a device against UDA rule by rule",
        description="Test the device at LOCATION (by IP address) against the UPnP "
        "Device Architecture, rule by rule: SSDP, descriptions, control, eventing "
        "and security. Nothing changes state without --invoke.",
        epilog="Exit status: 0 no rule failed, 4 a rule failed, 1 error, 2 usage.",
    )
    test.add_argument("location", metavar="LOCATION", type=_location,
                      help="the device description URL, e.g. http://192.168.1.20:49152/desc.xml")
    test.add_argument("--invoke", action="store_true",
                      help="also call actions that change state (each set back)")
    test.add_argument("--only", type=_groups, default=conform.GROUPS, metavar="GROUP,...",
                      help="run these groups only: " + ", ".join(conform.GROUPS))
    test.add_argument("--junit", metavar="FILE", help="also write a JUnit XML report")
    test.add_argument("--ssdp-port", type=_port, default=ssdp.SSDP_PORT, metavar="N",
                      help="the device's SSDP port (default 1900)")
    timeout(test, 5.0)
    json_option(test)
    test.set_defaults(run=_conform, react=True)
    return parser


def main(
    argv: Sequence[str] | None = None,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """
    Run the command line C{argv}; return the exit status.
    """
    args = _parser().parse_args(argv)
    if getattr(args, "react", False):
        return _react(args.run, args, out, err)
    return int(args.run(args, out, err))


if __name__ == "__main__":
    sys.exit(main())
