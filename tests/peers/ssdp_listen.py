"""
A raw SSDP listener: joins the SSDP group on one interface and prints every
datagram as a JSON line (with a monotonic time stamp) until it is stopped or
DURATION passes. ADDRESS is an IPv4 address of the interface (239.255.255.250
is joined there), or "6:IFACE" to join ff02::c and ff05::c on IFACE.

    python ssdp_listen.py ADDRESS DURATION
"""

import json
import socket
import sys
import time

address, duration = sys.argv[1], float(sys.argv[2])
if address.startswith("6:"):
    index = socket.if_nametoindex(address[2:])
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind(("::", 1900))
    for group in ("ff02::c", "ff05::c"):
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP,
                     socket.inet_pton(socket.AF_INET6, group) + index.to_bytes(4, sys.byteorder))
else:
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
    print(json.dumps({"t": time.monotonic(), "from": source[:2],
                      "data": data.decode("utf-8", "replace")}), flush=True)
print("DONE", flush=True)
