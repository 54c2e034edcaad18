"""
A GUPnP (GNOME) control point: finds a BinaryLight:1 on INTERFACE,
introspects its SwitchPower:1 from the SCPD, switches it on and off, and
provokes faults 401 and 402 with GUPnP's own action machinery. Prints one
JSON line per step and exits by itself (after at most SECONDS). Run by
Debian's /usr/bin/python3 (python3-gi, gir1.2-gupnp-1.6).

    /usr/bin/python3 control_gupnp.py INTERFACE SECONDS

GUPnP sends whatever names and values it is given (it does not check them
against the introspection), so the faults come from the device:

- 401: an action the SCPD does not list (Toggle);
- 402: SetTarget without its newTargetValue, and SetTarget with an extra
  argument besides it.
"""

import json
import sys

import gi

gi.require_version("GSSDP", "1.6")
gi.require_version("GUPnP", "1.6")
from gi.repository import GSSDP, GLib, GObject, GUPnP  # noqa: E402

DEVICE_TYPE = "urn:schemas-upnp-org:device:BinaryLight:1"
SERVICE_TYPE = "urn:schemas-upnp-org:service:SwitchPower:1"

interface, seconds = sys.argv[1], int(sys.argv[2])
loop = GLib.MainLoop()
keep = []
outcome = {"done": False}


def emit(**fields):
    print(json.dumps(fields), flush=True)


def boolean(value):
    return GObject.Value(GObject.TYPE_BOOLEAN, value)


def call(proxy, name, names, values, results=()):
    """
    One synchronous call: its out-values (as booleans), or the GLib.Error
    it raised, as a JSON line.
    """
    action = GUPnP.ServiceProxyAction.new_from_list(name, list(names), list(values))
    try:
        proxy.call_action(action, None)
        ok, got = action.get_result_list([r for r in results],
                                         [GObject.TYPE_BOOLEAN for _ in results])
    except GLib.Error as e:
        emit(event="call", action=name, arguments=list(names), ok=False, domain=e.domain,
             code=e.code, message=e.message,
             control_error=e.matches(GUPnP.ControlError.quark(), e.code))
        return
    emit(event="call", action=name, arguments=list(names), ok=bool(ok),
         results=dict(zip(results, got)))


def on_introspected(proxy, result, _data=None):
    try:
        intro = proxy.introspect_finish(result)
    except GLib.Error as e:
        emit(event="introspection-failed", domain=e.domain, code=e.code, message=e.message)
        loop.quit()
        return
    actions = {}
    for name in intro.list_action_names():
        info = intro.get_action(name)
        actions[name] = [[a.name, a.direction.value_nick, a.related_state_variable]
                         for a in info.arguments]
    variables = {}
    for name in intro.list_state_variable_names():
        info = intro.get_state_variable(name)
        variables[name] = {"type": GObject.type_name(info.type),
                           "send_events": bool(info.send_events)}
    emit(event="introspected", actions=actions, variables=variables)

    call(proxy, "SetTarget", ["newTargetValue"], [boolean(True)])
    call(proxy, "GetStatus", [], [], ["ResultStatus"])
    call(proxy, "GetTarget", [], [], ["RetTargetValue"])
    call(proxy, "SetTarget", ["newTargetValue"], [boolean(False)])
    call(proxy, "GetStatus", [], [], ["ResultStatus"])
    # The device's own faults, to requests GUPnP builds and sends itself.
    call(proxy, "Toggle", [], [])
    call(proxy, "SetTarget", [], [])
    call(proxy, "SetTarget", ["newTargetValue", "Brightness"], [boolean(True), boolean(True)])
    outcome["done"] = True
    emit(event="done")
    loop.quit()


def on_device(_cp, device):
    if outcome.get("found"):
        return
    outcome["found"] = True
    emit(event="device", udn=device.get_udn(), type=device.get_device_type(),
         location=device.get_location(), friendly_name=device.get_friendly_name())
    service = device.get_service(SERVICE_TYPE)
    if service is None:
        emit(event="no-service", type=SERVICE_TYPE)
        loop.quit()
        return
    keep.append(service)
    emit(event="service", id=service.get_id(), type=service.get_service_type(),
         control=service.get_control_url(), scpd=service.get_scpd_url())
    service.introspect_async(None, on_introspected, None)


context = GUPnP.Context.new_full(interface, None, 0, GSSDP.UDAVersion.VERSION_1_0)
control_point = GUPnP.ControlPoint.new(context, DEVICE_TYPE)
control_point.connect("device-proxy-available", on_device)
control_point.set_active(True)
emit(event="ready", host_ip=context.get_host_ip())
GLib.timeout_add_seconds(seconds, loop.quit)
loop.run()
control_point.set_active(False)
if not outcome["done"]:
    emit(event="timeout")
sys.exit(0 if outcome["done"] else 1)
