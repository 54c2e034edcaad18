"""
A raw SSDP listener: joins the SSDP group on one interface and prints every
datagram as a JSON line (with a monotonic time stamp) until it is stopped or
DURATION passes. ADDRESS is an IPv4 address of the interface (239.255.255.250
is joined there), or "6:IFACE" to join ff02::c and ff05::c on IFACE.

    python ssdp_listen.py ADDRESS DURATION
"""

import json
import socket
import struct
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
# The kernel's receive time of each datagram ("k", wall clock), which a busy
# reader cannot blur.
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
print("READY", flush=True)
end = time.monotonic() + duration
while time.monotonic() < end:
    s.settimeout(max(0.01, end - time.monotonic()))
    try:
        data, ancillary, _, source = s.recvmsg(65536, socket.CMSG_SPACE(16))
    except socket.timeout:
        break
    kernel = None
    for level, kind, value in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(value) >= 16:
            seconds, nanoseconds = struct.unpack("qq", value[:16])
            kernel = seconds + nanoseconds / 1e9
    print(json.dumps({"t": time.monotonic(), "k": kernel, "from": source[:2],
                      "data": data.decode("utf-8", "replace")}), flush=True)
print("DONE", flush=True)
