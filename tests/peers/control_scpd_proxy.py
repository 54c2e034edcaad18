"""
An HTTP relay in front of a device, for control points that check every
call against the SCPD (async-upnp-client's upnp-client CLI): it passes
each request to the device and each answer back untouched, except that the
SCPDs it relays describe a service that differs from the device's:

- a Toggle action, which the device does not have (so: 401);
- SetTarget without its in-argument (so the call sends none: 402);
- GetStatus with an in-argument Verbose (so the call sends it: 402).

Prints READY with its own description URL, then one JSON line per relayed
request (what the control point sent, what the device answered). Stops by
itself after SECONDS.

    python control_scpd_proxy.py LISTEN_ADDRESS DESCRIPTION_URL SECONDS
"""

import http.client
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from lxml import etree

SERVICE_NS = "urn:schemas-upnp-org:service-1-0"
HOP_BY_HOP = {"host", "connection", "keep-alive", "transfer-encoding", "content-length",
              "accept-encoding", "te", "upgrade", "proxy-connection"}

listen, description, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
upstream = urlsplit(description)


def emit(**fields):
    print(json.dumps(fields), flush=True)


def q(name):
    return f"{{{SERVICE_NS}}}{name}"


def element(parent, name, text=None):
    child = etree.SubElement(parent, q(name))
    child.text = text
    return child


def rewrite_scpd(body):
    root = etree.fromstring(body)
    actions = root.find(q("actionList"))
    for action in actions.findall(q("action")):
        name = action.findtext(q("name"))
        if name == "SetTarget":
            arguments = action.find(q("argumentList"))
            if arguments is not None:
                action.remove(arguments)
        elif name == "GetStatus":
            arguments = action.find(q("argumentList"))
            argument = element(arguments, "argument")
            element(argument, "name", "Verbose")
            element(argument, "direction", "in")
            element(argument, "relatedStateVariable", "Target")
    toggle = element(actions, "action")
    element(toggle, "name", "Toggle")
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


class Relay(BaseHTTPRequestHandler):
    def relay(self):
        length = int(self.headers.get("Content-Length") or 0)
        sent = self.rfile.read(length) if length else b""
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        headers["Host"] = upstream.netloc
        if sent:
            headers["Content-Length"] = str(len(sent))
        connection = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=10)
        try:
            connection.request(self.command, self.path, body=sent or None, headers=headers)
            response = connection.getresponse()
            answer = response.read()
            answered = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP]
            status, reason = response.status, response.reason
        finally:
            connection.close()
        rewritten = False
        if self.command == "GET" and status == 200 and b"<scpd" in answer:
            answer, rewritten = rewrite_scpd(answer), True
        emit(method=self.command, path=self.path,
             soapaction=self.headers.get("SOAPACTION"),
             content_type=self.headers.get("Content-Type"),
             request=sent.decode("utf-8", "replace"), status=status,
             response_headers=dict(answered), rewritten=rewritten,
             response=answer.decode("utf-8", "replace") if self.command == "POST" else None)
        self.send_response(status, reason)
        for name, value in answered:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_POST = relay

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer((listen, 0), Relay)
server.daemon_threads = True
thread = threading.Thread(target=server.serve_forever, daemon=True)
thread.start()
port = server.server_address[1]
print(f"READY http://{listen}:{port}{upstream.path}", flush=True)
time.sleep(seconds)
server.shutdown()
print("DONE", flush=True)
