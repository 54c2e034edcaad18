"""
A GSSDP (GNOME) control point: browses for TARGETs on INTERFACE and prints
each resource-available / resource-unavailable event as a JSON line, for
SECONDS. Run by Debian's /usr/bin/python3 (python3-gi, gir1.2-gssdp-1.6).

    /usr/bin/python3 gssdp_browse.py INTERFACE[@ADDRESS] SECONDS UDA TARGET...

UDA is 1.0 or 1.1 (the GSSDP client's UDA version). With @ADDRESS (an IPv6
address of INTERFACE) the client works over IPv6 from that address.
"""

import json
import sys

import gi

gi.require_version("GSSDP", "1.6")
from gi.repository import GSSDP, Gio, GLib  # noqa: E402

interface, seconds, uda, targets = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
version = {"1.0": GSSDP.UDAVersion.VERSION_1_0, "1.1": GSSDP.UDAVersion.VERSION_1_1}[uda]
interface, _, address = interface.partition("@")
host = Gio.InetAddress.new_from_string(address) if address else None
client = GSSDP.Client.new_full(interface, host, 0, version)
browsers = []


def report(event, target, usn, locations=()):
    print(json.dumps({"event": event, "target": target, "usn": usn,
                      "locations": list(locations)}), flush=True)


for target in targets:
    browser = GSSDP.ResourceBrowser.new(client, target)
    browser.connect("resource-available",
                    lambda _b, usn, locations, t=target: report("available", t, usn, locations))
    browser.connect("resource-unavailable",
                    lambda _b, usn, t=target: report("unavailable", t, usn))
    browser.set_active(True)
    browsers.append(browser)

print("READY", flush=True)
loop = GLib.MainLoop()
GLib.timeout_add_seconds(seconds, loop.quit)
loop.run()
print("DONE", flush=True)
