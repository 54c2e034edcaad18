"""
How we name ourselves on the wire: the SERVER header of SSDP and HTTP.
"""

from __future__ import annotations

import platform

from upnp_announce._version import __version__

__all__ = ["SERVER", "server_header"]


def server_header(system: str, release: str) -> str:
    """
    The UDA 1.1 SERVER value, C{"OS/version UPnP/1.1 product/version"}.

    Each token is made of HTTP token characters, so that no peer splits it
    in the wrong place.
    """

    def token(text: str) -> str:
        return "".join(c if c.isalnum() or c in "-._+" else "-" for c in text) or "unknown"

    return f"{token(system)}/{token(release)} UPnP/1.1 upnp_announce/{__version__}"


SERVER = server_header(platform.system(), platform.release())
