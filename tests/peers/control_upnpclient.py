"""
The upnpclient library as a control point: reads the device at URL (its
description and SCPDs), switches SwitchPower on and off, and provokes
faults 401 and 402 through upnpclient's own Action and SOAP machinery.
Prints one JSON line per step.

    python control_upnpclient.py URL

upnpclient checks arguments against the SCPD it read, so its view of the
service is made to differ from the device's, with its own Action class:

- 401: an Action for Toggle, which the device does not have;
- 402: SetTarget declared without its in-argument (none is sent), and with
  an extra in-argument Brightness (both are sent).
"""

import json
import sys

import upnpclient
from upnpclient.soap import SOAPError
from upnpclient.upnp import Action

url = sys.argv[1]


def emit(**fields):
    print(json.dumps(fields), flush=True)


def call(label, action, **arguments):
    try:
        result = action(**arguments)
    except SOAPError as e:
        code, description = e.args
        emit(step=label, action=action.name, ok=False, error="SOAPError", code=code,
             description=description)
        return
    except Exception as e:  # anything else is a failure the test shows
        emit(step=label, action=action.name, ok=False, error=type(e).__name__, message=str(e))
        return
    emit(step=label, action=action.name, ok=True, result=result)


device = upnpclient.Device(url)
emit(step="device", friendly_name=device.friendly_name, type=device.device_type,
     services=sorted(device.service_map))
switch = device.service_map["SwitchPower"]
emit(step="service", type=switch.service_type, id=switch.service_id,
     actions={a.name: {"in": [n for n, _ in a.argsdef_in], "out": [n for n, _ in a.argsdef_out]}
              for a in switch.actions})

call("on", switch.SetTarget, newTargetValue="1")
call("status-on", switch.GetStatus)
call("target-on", switch.GetTarget)
call("off", switch.SetTarget, newTargetValue="0")
call("status-off", switch.GetStatus)

set_target = switch.action_map["SetTarget"]
target = switch.statevars["Target"]
toggle = Action(switch, set_target.url, switch.service_type, "Toggle", [], [])
call("unknown-action", toggle)
missing = Action(switch, set_target.url, switch.service_type, "SetTarget", [], [])
call("missing-argument", missing)
extra = Action(switch, set_target.url, switch.service_type, "SetTarget",
               [*set_target.argsdef_in, ("Brightness", target)], [])
call("extra-argument", extra, newTargetValue="1", Brightness="1")
emit(step="done")
