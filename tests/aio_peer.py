"""
An independent UPnP device for the tests: async_upnp_client's server as a
BinaryLight:1 (peers/aio_device.py), started in a network namespace.
"""

from __future__ import annotations

import os
import sys

from netns import Host, Running
from support import PEERS, need

AIO_DEVICE = os.path.join(PEERS, "aio_device.py")
AIO_UDN = "uuid:0a1d3c5e-7b9f-4e2a-8c6d-a10de71ce001"
AIO_FRIENDLY_NAME = "aio BinaryLight"


def aio_server_available() -> bool:
    try:
        import async_upnp_client.server  # noqa: F401
    except ImportError:
        return False
    return True


def start_aio_device(host: Host, address: str, port: int = 8000, seconds: float = 60,
                     conformant: bool = False) -> tuple[Running, str]:
    """
    Start the device in C{host}, serving on C{address}:C{port}, for
    C{seconds} (then it sends byebyes and exits). C{conformant} fixes its
    SUBSCRIBE answers (C{SID: uuid:...}, C{TIMEOUT: Second-N}); without it
    they are the library's own (a bare uuid4 SID, C{TIMEOUT: N}).

    @return: the running device (its output lines record each request) and
        its LOCATION.
    """
    need(aio_server_available(), "async_upnp_client.server cannot be imported")
    argv = [sys.executable, AIO_DEVICE, address, str(port), str(seconds)]
    if conformant:
        argv.append("--conformant-gena")
    device = host.start(argv)
    location = device.wait_for("READY ").split("READY ", 1)[1].strip()
    return device, location
