"""
The C{upnp-announce} command.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO

from upnp_announce import config, description
from upnp_announce.announce import announcements
from upnp_announce._version import __version__
from upnp_announce.model import Device

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
        f"maxAge {network.maxAge}, ttl {network.ttl}\n"
    )


def _check(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    try:
        loaded = config.load(args.file)
    except config.ConfigError as e:
        for problem in e.problems:
            err.write(f"{problem}\n")
        return 1
    _describe(loaded, out)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="upnp-announce",
        description="Check UPnP device configurations.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    check = commands.add_parser(
        "check",
        help="validate a device INI file and everything it refers to",
        description="Validate a device INI file and the files it refers to; "
        "list every problem, or summarise the device.",
    )
    check.add_argument("file", metavar="FILE.ini")
    check.set_defaults(run=_check)
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
    return int(args.run(args, out, err))


if __name__ == "__main__":
    sys.exit(main())
