"""
The async_upnp_client library as a control point: builds the device at URL
with its UpnpFactory, switches SwitchPower on and off, and provokes faults
401 and 402 through its own UpnpAction (request building, HTTP, fault
parsing). Prints one JSON line per step.

    python control_async_upnp_client.py URL

UpnpAction sends only the in-arguments it declares, so actions are made
that differ from the SCPD:

- 401: a Toggle action, which the device does not have;
- 402: SetTarget declared without arguments (none is sent), and SetTarget
  with an extra in-argument Brightness (both are sent).
"""

import asyncio
import json
import sys
import xml.etree.ElementTree as ET

from async_upnp_client.aiohttp import AiohttpRequester
from async_upnp_client.client import UpnpAction
from async_upnp_client.client_factory import UpnpFactory
from async_upnp_client.const import ActionArgumentInfo, ActionInfo
from async_upnp_client.exceptions import UpnpActionError

SERVICE_TYPE = "urn:schemas-upnp-org:service:SwitchPower:1"


def emit(**fields):
    print(json.dumps(fields), flush=True)


async def call(label, action, **arguments):
    try:
        result = await action.async_call(**arguments)
    except UpnpActionError as e:
        emit(step=label, action=action.name, ok=False, error=type(e).__name__,
             code=e.error_code, description=e.error_desc,
             status=getattr(e, "status", None))
        return
    except Exception as e:  # anything else is a failure the test shows
        emit(step=label, action=action.name, ok=False, error=type(e).__name__, message=str(e))
        return
    emit(step=label, action=action.name, ok=True, result=result)


def made_up(service, name, arguments):
    """
    An action of C{service} as the client would read it from an SCPD that
    declared C{arguments} (name, related state variable) as in-arguments.
    """
    infos = [ActionArgumentInfo(n, "in", v, ET.Element("argument")) for n, v in arguments]
    action = UpnpAction(
        ActionInfo(name, infos, ET.Element("action")),
        [UpnpAction.Argument(info, service.state_variable(info.state_variable_name))
         for info in infos],
    )
    action.service = service
    return action


async def main(url):
    requester = AiohttpRequester(timeout=10)
    device = await UpnpFactory(requester).async_create_device(url)
    service = device.service(SERVICE_TYPE)
    emit(step="device", friendly_name=device.friendly_name, type=device.device_type,
         service_id=service.service_id, actions=sorted(service.actions))
    await call("on", service.action("SetTarget"), newTargetValue=True)
    await call("status-on", service.action("GetStatus"))
    await call("off", service.action("SetTarget"), newTargetValue=False)
    await call("status-off", service.action("GetStatus"))
    await call("unknown-action", made_up(service, "Toggle", []))
    await call("missing-argument", made_up(service, "SetTarget", []))
    await call("extra-argument",
               made_up(service, "SetTarget", [("newTargetValue", "Target"),
                                              ("Brightness", "Target")]),
               newTargetValue=True, Brightness=True)
    emit(step="done")


asyncio.run(asyncio.wait_for(main(sys.argv[1]), 60))
