"""
A raw SSDP listener: joins 239.255.255.250 on one interface address and
prints every datagram as a JSON line until it is stopped or DURATION passes.

    python ssdp_listen.py ADDRESS DURATION
"""

import json
import socket
import sys
import time

address, duration = sys.argv[1], float(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", 1900))
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
             socket.inet_aton("239.255.255.250") + socket.inet_aton(address))
print("READY", flush=True)
end = time.monotonic() + duration
while time.monotonic() < end:
    s.settimeout(max(0.01, end - time.monotonic()))
    try:
        data, source = s.recvfrom(65536)
    except socket.timeout:
        break
    print(json.dumps({"t": time.monotonic(), "from": source, "data": data.decode("utf-8", "replace")}),
          flush=True)
print("DONE", flush=True)
