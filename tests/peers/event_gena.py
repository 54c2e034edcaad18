"""
A raw GENA and SOAP client, for what no well-behaved control point sends
(a SUBSCRIBE whose CALLBACK names another host: CallStranger), and for
plain state changes. Prints one JSON line: what was sent, and the status
and headers of the answer.

    python event_gena.py subscribe EVENT_URL CALLBACK_HEADER [SECONDS]
    python event_gena.py unsubscribe EVENT_URL SID
    python event_gena.py set CONTROL_URL 0|1
    python event_gena.py connect HOST PORT SOURCE
    python event_gena.py urls DESCRIPTION_URL

C{urls} prints the SwitchPower service's control and event URLs, read from
the device description.

C{connect} only opens (and closes) a TCP connection from address SOURCE:
the test's proof that a host can be reached at all.
"""

import http.client
import json
import socket
import sys
import xml.etree.ElementTree as ET
from urllib.parse import urljoin, urlsplit

SERVICE_TYPE = "urn:schemas-upnp-org:service:SwitchPower:1"
DEVICE_NS = "urn:schemas-upnp-org:device-1-0"
ENVELOPE = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
    's:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>'
    '<u:SetTarget xmlns:u="{service}"><newTargetValue>{value}</newTargetValue></u:SetTarget>'
    "</s:Body></s:Envelope>"
)


def emit(**fields):
    print(json.dumps(fields), flush=True)


def send(method, url, headers, body=None):
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request(method, parts.path or "/", body=body, headers=headers)
        response = connection.getresponse()
        answer = response.read()
        emit(method=method, url=url, sent=headers, status=response.status,
             reason=response.reason,
             headers={k.lower(): v for k, v in response.getheaders()},
             body=answer.decode("utf-8", "replace"))
    finally:
        connection.close()


def main(command, *arguments):
    if command == "subscribe":
        url, callback = arguments[:2]
        headers = {"NT": "upnp:event", "CALLBACK": callback}
        if len(arguments) > 2:
            headers["TIMEOUT"] = f"Second-{arguments[2]}"
        send("SUBSCRIBE", url, headers)
    elif command == "unsubscribe":
        url, sid = arguments
        send("UNSUBSCRIBE", url, {"SID": sid})
    elif command == "set":
        url, value = arguments
        body = ENVELOPE.format(service=SERVICE_TYPE, value=value).encode("utf-8")
        send("POST", url, {"Content-Type": 'text/xml; charset="utf-8"',
                           "SOAPACTION": f'"{SERVICE_TYPE}#SetTarget"'}, body)
    elif command == "connect":
        host, port, source = arguments
        try:
            socket.create_connection((host, int(port)), timeout=5,
                                     source_address=(source, 0)).close()
        except OSError as e:
            emit(connect=host, port=int(port), ok=False, error=str(e))
        else:
            emit(connect=host, port=int(port), ok=True)
    elif command == "urls":
        [url] = arguments
        parts = urlsplit(url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        try:
            connection.request("GET", parts.path)
            root = ET.fromstring(connection.getresponse().read())
        finally:
            connection.close()
        for service in root.iter(f"{{{DEVICE_NS}}}service"):
            if service.findtext(f"{{{DEVICE_NS}}}serviceType") == SERVICE_TYPE:
                emit(control=urljoin(url, service.findtext(f"{{{DEVICE_NS}}}controlURL")),
                     event=urljoin(url, service.findtext(f"{{{DEVICE_NS}}}eventSubURL")))
    else:
        raise SystemExit(f"unknown command {command!r}")


main(*sys.argv[1:])
