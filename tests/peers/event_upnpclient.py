"""
upnpclient's GENA client against the device at URL: subscribe, the initial
event, an event for a change made through upnpclient's own SetTarget,
renewal, unsubscribe, and then silence. upnpclient has no event receiver,
so this script runs a small HTTP server on LISTEN_ADDRESS for NOTIFYs.
Prints one JSON line per step, and {"step": "done"} at the end.

    python event_upnpclient.py URL LISTEN_ADDRESS

What upnpclient needs from the device: a SUBSCRIBE answer with SID and
TIMEOUT: Second-N (subscribe() returns (SID, N)); a renewal answer with
TIMEOUT: Second-N (renew_subscription() returns N); a 2xx UNSUBSCRIBE
answer.
"""

import json
import sys
import threading
import time
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests
import upnpclient

EVENT_NS = "urn:schemas-upnp-org:event-1-0"
url, listen = sys.argv[1], sys.argv[2]
received = []
changed = threading.Condition()
started = time.monotonic()


def emit(**fields):
    print(json.dumps(fields), flush=True)


def variables(body):
    root = ET.fromstring(body)
    values = {}
    for prop in root.findall(f"{{{EVENT_NS}}}property"):
        for variable in prop:
            values[variable.tag] = variable.text
    return root.tag, values


class Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 5

    def do_NOTIFY(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            root, values = variables(body)
        except ET.ParseError as e:
            root, values = f"unparsable: {e}", {}
        event = {
            "at": round(time.monotonic() - started, 3),
            "path": self.path,
            "nt": self.headers.get("NT"),
            "nts": self.headers.get("NTS"),
            "sid": self.headers.get("SID"),
            "seq": self.headers.get("SEQ"),
            "content_type": self.headers.get("Content-Type"),
            "root": root,
            "variables": values,
        }
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
        with changed:
            received.append(event)
            changed.notify_all()

    def log_message(self, *args):
        pass


def wait_for(count, timeout=10.0):
    """
    The first C{count} NOTIFYs, waiting up to C{timeout} seconds for them.
    """
    deadline = time.monotonic() + timeout
    with changed:
        while len(received) < count and time.monotonic() < deadline:
            changed.wait(max(0.0, min(0.2, deadline - time.monotonic())))
        return list(received)


def step(name, function, *arguments, **keywords):
    """
    C{(True, result)}, or C{(False, None)} once the error is printed.
    """
    try:
        return True, function(*arguments, **keywords)
    except Exception as e:
        status = getattr(getattr(e, "response", None), "status_code", None)
        emit(step=name, ok=False, error=type(e).__name__, message=str(e), status=status)
        return False, None


server = ThreadingHTTPServer((listen, 0), Receiver)
server.daemon_threads = True
threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
callback = f"http://{listen}:{server.server_port}/upnpclient"
emit(step="listening", callback=callback)

device = upnpclient.Device(url)
service = device.service_map["SwitchPower"]
emit(step="device", type=device.device_type, services=sorted(device.service_map))

ok, subscribed = step("subscribe", service.subscribe, callback, timeout=300)
if not ok:
    sys.exit(1)
sid, timeout = subscribed
emit(step="subscribe", ok=True, sid=sid, timeout=timeout)

emit(step="initial", notifies=wait_for(1))
ok, result = step("on", service.SetTarget, newTargetValue="1")
if ok:
    emit(step="on", ok=True, result=result)
emit(step="change", notifies=wait_for(2)[1:])

ok, renewed = step("renew", service.renew_subscription, sid, timeout=600)
if ok:
    emit(step="renew", ok=True, timeout=renewed)

ok, _ = step("cancel", service.cancel_subscription, sid)
with changed:
    before_cancel = len(received)
if ok:
    emit(step="cancel", ok=True, notifies_so_far=before_cancel)

# A change after the cancel: no NOTIFY may come for it.
step("off", service.SetTarget, newTargetValue="0")
_, off_status = step("status-off", service.GetStatus)
time.sleep(1.5)
with changed:
    late = received[before_cancel:]
emit(step="after-cancel", status=off_status, notifies=late)

# The SID is gone: renewing it is refused.
try:
    service.renew_subscription(sid, timeout=600)
except requests.HTTPError as e:
    emit(step="renew-after-cancel", ok=False, status=e.response.status_code)
except Exception as e:
    emit(step="renew-after-cancel", ok=False, error=type(e).__name__, message=str(e))
else:
    emit(step="renew-after-cancel", ok=True)

server.shutdown()
emit(step="done")
