"""
GET a URL (IPv6 link-local ones with their zone, RFC 6874) and print one JSON
line: the status and the body's length and first bytes.

    python http_get.py URL [HEADER: VALUE ...]
"""

import http.client
import json
import sys
from urllib.parse import unquote, urlsplit

parts = urlsplit(sys.argv[1])
host = unquote(parts.netloc.rpartition(":")[0].strip("[]")) if parts.port else parts.hostname
connection = http.client.HTTPConnection(host, parts.port or 80, timeout=10)
headers = dict(h.split(": ", 1) for h in sys.argv[2:])
connection.request("GET", parts.path or "/", headers=headers)
response = connection.getresponse()
body = response.read()
print(json.dumps({"status": response.status, "length": len(body),
                  "start": body[:200].decode("utf-8", "replace")}), flush=True)
