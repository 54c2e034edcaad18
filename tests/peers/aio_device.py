"""
An independent UPnP device: a BinaryLight:1 built on async_upnp_client's
server (0.49.0), for testing our control point against someone else's
device.

    python aio_device.py ADDRESS PORT SECONDS [--conformant-gena] [--quiet]

It serves its description at http://ADDRESS:PORT/device.xml, announces
itself and answers M-SEARCH on ADDRESS, prints C{READY <location>} once
serving and one line per HTTP request it handles (C{POST ... SOAPAction
... -> status}, C{SUBSCRIBE ... -> status SID}), and after SECONDS (or on
SIGTERM) sends its byebyes and exits. It multicasts: run it only inside a
network namespace.

SwitchPower:1 has SetTarget, GetTarget and GetStatus (Target, and Status
evented), and one extra action, Fail(Code: i4), which answers the SOAP
fault with errorCode Code.

The stock server answers SUBSCRIBE with C{SID: <bare uuid4>} and
C{TIMEOUT: <N>}; --conformant-gena makes those C{SID: uuid:...} and
C{TIMEOUT: Second-N}.

--quiet prints no line per request (the benchmarks measure the server, not
its printing).
"""

import asyncio
import signal
import sys
import uuid
import xml.etree.ElementTree as ET

import async_upnp_client.server as aio_server
from aiohttp import web
from async_upnp_client.const import DeviceInfo, ServiceInfo
from async_upnp_client.exceptions import UpnpActionError
from async_upnp_client.server import (
    UpnpServer,
    UpnpServerDevice,
    UpnpServerService,
    callable_action,
    create_event_var,
    create_state_var,
)

UDN = "uuid:0a1d3c5e-7b9f-4e2a-8c6d-a10de71ce001"


def say(line):
    print(line, flush=True)


class SwitchPower(UpnpServerService):
    SERVICE_DEFINITION = ServiceInfo(
        service_id="urn:upnp-org:serviceId:SwitchPower.0001",
        service_type="urn:schemas-upnp-org:service:SwitchPower:1",
        control_url="/upnp/control/SwitchPower1",
        event_sub_url="/upnp/event/SwitchPower1",
        scpd_url="/SwitchPower_1.xml",
        xml=ET.Element("server_service"),
    )
    # The server requires each in-argument to be annotated with its state
    # variable's Python type.
    STATE_VARIABLE_DEFINITIONS = {
        "Target": create_state_var("boolean", default="0"),
        "Status": create_event_var("boolean", default="0"),
        "A_ARG_TYPE_Code": create_state_var("i4", default="0"),
    }

    @callable_action(name="SetTarget", in_args={"newTargetValue": "Target"}, out_args={})
    async def set_target(self, newTargetValue: bool):
        self.state_variable("Target").value = newTargetValue
        self.state_variable("Status").value = newTargetValue  # a change is evented
        return {}

    @callable_action(name="GetTarget", in_args={}, out_args={"RetTargetValue": "Target"})
    async def get_target(self):
        return {"RetTargetValue": self.state_variable("Target")}

    @callable_action(name="GetStatus", in_args={}, out_args={"ResultStatus": "Status"})
    async def get_status(self):
        return {"ResultStatus": self.state_variable("Status")}

    @callable_action(name="Fail", in_args={"Code": "A_ARG_TYPE_Code"}, out_args={})
    async def fail(self, Code: int):
        raise UpnpActionError(error_code=Code, error_desc="requested failure")


class BinaryLight(UpnpServerDevice):
    DEVICE_DEFINITION = DeviceInfo(
        device_type="urn:schemas-upnp-org:device:BinaryLight:1",
        friendly_name="aio BinaryLight",
        manufacturer="async-upnp-client",
        manufacturer_url=None,
        model_name="BinaryLight",
        model_description=None,
        model_number="1",
        model_url=None,
        serial_number="0001",
        udn=UDN,
        upc=None,
        presentation_url=None,
        url="/device.xml",  # LOCATION is http://ADDRESS:PORT + this
        icons=[],
        xml=ET.Element("server_device"),
    )
    EMBEDDED_DEVICES = []
    SERVICES = [SwitchPower]


@web.middleware
async def log_request(request, handler):
    """
    One line per request: method, path, the header that says what it is
    for, the status (and SID for SUBSCRIBE).
    """
    about = {
        "POST": "SOAPAction: " + request.headers.get("SOAPAction", "-"),
        "SUBSCRIBE": " ".join(f"{name}: {request.headers[name]}"
                              for name in ("CALLBACK", "SID", "TIMEOUT") if name in request.headers),
        "UNSUBSCRIBE": "SID: " + request.headers.get("SID", "-"),
    }.get(request.method)
    line = " ".join(filter(None, (request.method, request.path, about)))
    try:
        response = await handler(request)
    except web.HTTPException as e:
        say(f"{line} -> {e.status} {e.reason}")
        raise
    except Exception as e:  # aiohttp logs it and answers 500 text/plain, if not answered yet
        say(f"{line} -> raised {type(e).__name__}: {e}")
        raise
    sid = f" SID: {response.headers['SID']}" if "SID" in response.headers else ""
    say(f"{line} -> {response.status}{sid}")
    return response


async def second_timeout(request, response):
    # The first SUBSCRIBE response is sent from inside the handler, so
    # only this hook (not the middleware) sees it before it goes out.
    timeout = response.headers.get("TIMEOUT")
    if request.method == "SUBSCRIBE" and timeout and not timeout.startswith("Second-"):
        response.headers["TIMEOUT"] = f"Second-{timeout}"


class UuidSubscriber(aio_server.EventSubscriber):
    def __init__(self, callback_url, timeout):
        super().__init__(callback_url, timeout)
        self._uuid = f"uuid:{uuid.uuid4()}"


def install(conformant, quiet=False):
    """
    Have the server build its aiohttp application with our logging (unless
    C{quiet}) and, if C{conformant}, the GENA fixes.
    """
    def application():
        app = web.Application(middlewares=[] if quiet else [log_request])
        if conformant:
            app.on_response_prepare.append(second_timeout)
        return app

    aio_server.Application = application
    if conformant:
        aio_server.EventSubscriber = UuidSubscriber


async def main(address, port, seconds, conformant, quiet=False):
    install(conformant, quiet)
    server = UpnpServer(BinaryLight, source=(address, 0), http_port=port)
    await server.async_start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    say(f"READY {server.base_uri}{BinaryLight.DEVICE_DEFINITION.url}")
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except asyncio.TimeoutError:
        pass
    await server.async_stop()  # sends the byebyes
    say("STOPPED")


if __name__ == "__main__":
    flags = ("--conformant-gena", "--quiet")
    arguments = [a for a in sys.argv[1:] if a not in flags]
    if len(arguments) != 3:
        sys.exit("usage: aio_device.py ADDRESS PORT SECONDS [--conformant-gena] [--quiet]")
    asyncio.run(main(arguments[0], int(arguments[1]), float(arguments[2]),
                     "--conformant-gena" in sys.argv, "--quiet" in sys.argv))
