"""
A GUPnP (GNOME) control point that subscribes: finds a BinaryLight:1 on
INTERFACE, asks its SwitchPower:1 service proxy for Status events
(add_notify, set_subscribed), and switches the light with GUPnP's own
action calls, one step per event:

- the initial event (Status false): SetTarget(true);
- Status true: SetTarget(false);
- Status false again: unsubscribe, and stop a second later.

Prints one JSON line per event, call and subscription-lost signal, and
exits by itself (after at most SECONDS). Run by Debian's /usr/bin/python3
(python3-gi, gir1.2-gupnp-1.6).

    /usr/bin/python3 event_gupnp.py INTERFACE SECONDS

GUPnP answers 412 to a NOTIFY whose SID does not start with "uuid:", and
resubscribes when SEQ skips; the test reads the device's log for both.
"""

import json
import sys
import time

import gi

gi.require_version("GSSDP", "1.6")
gi.require_version("GUPnP", "1.6")
from gi.repository import GSSDP, GLib, GObject, GUPnP  # noqa: E402

DEVICE_TYPE = "urn:schemas-upnp-org:device:BinaryLight:1"
SERVICE_TYPE = "urn:schemas-upnp-org:service:SwitchPower:1"

interface, seconds = sys.argv[1], int(sys.argv[2])
loop = GLib.MainLoop()
keep = []
state = {"found": False, "done": False, "values": []}
started = time.monotonic()


def emit(**fields):
    fields["at"] = round(time.monotonic() - started, 3)
    print(json.dumps(fields), flush=True)


def set_target(proxy, value):
    action = GUPnP.ServiceProxyAction.new_from_list(
        "SetTarget", ["newTargetValue"], [GObject.Value(GObject.TYPE_BOOLEAN, value)])
    proxy.call_action_async(action, None, on_called, value)


def on_called(proxy, result, value):
    try:
        proxy.call_action_finish(result)
    except GLib.Error as e:
        emit(event="call", action="SetTarget", value=value, ok=False, domain=e.domain,
             code=e.code, message=e.message)
        return
    emit(event="call", action="SetTarget", value=value, ok=True)


def finish():
    state["done"] = True
    emit(event="done")
    loop.quit()
    return False


def on_status(proxy, variable, value, *_data):
    state["values"].append(value)
    emit(event="notify", variable=variable, value=value)
    values = state["values"]
    if values == [False]:
        set_target(proxy, True)
    elif values == [False, True]:
        set_target(proxy, False)
    elif values == [False, True, False]:
        proxy.set_subscribed(False)
        emit(event="unsubscribed")
        # Long enough for the UNSUBSCRIBE to go out (and for a stray NOTIFY
        # to show up in the output).
        GLib.timeout_add(1000, finish)


def on_lost(_proxy, error):
    emit(event="subscription-lost", domain=error.domain, code=error.code,
         message=error.message)


def on_device(_cp, device):
    if state["found"]:
        return
    state["found"] = True
    emit(event="device", udn=device.get_udn(), location=device.get_location())
    service = device.get_service(SERVICE_TYPE)
    if service is None:
        emit(event="no-service", type=SERVICE_TYPE)
        loop.quit()
        return
    keep.append(service)
    emit(event="service", id=service.get_id(),
         event_url=service.get_event_subscription_url())
    service.add_notify("Status", GObject.TYPE_BOOLEAN, on_status)
    service.connect("subscription-lost", on_lost)
    service.set_subscribed(True)
    emit(event="subscribing", subscribed=service.get_subscribed())


context = GUPnP.Context.new_full(interface, None, 0, GSSDP.UDAVersion.VERSION_1_0)
control_point = GUPnP.ControlPoint.new(context, DEVICE_TYPE)
control_point.connect("device-proxy-available", on_device)
control_point.set_active(True)
emit(event="ready", host_ip=context.get_host_ip())
GLib.timeout_add_seconds(seconds, loop.quit)
loop.run()
if not state["done"]:
    emit(event="timeout", values=state["values"])
    for service in keep:
        service.set_subscribed(False)
control_point.set_active(False)
sys.exit(0 if state["done"] else 1)
