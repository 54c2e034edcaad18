"""
A raw SSDP searcher: sends one M-SEARCH from ADDRESS (multicast, or unicast
to TARGET) and prints every reply as a JSON line for WAIT seconds.

    python ssdp_search.py ADDRESS ST WAIT [MX] [TARGET]

ADDRESS is IPv4 or IPv6 (a link-local one with its zone: fe80::2%eth0). For
IPv6, TARGET is a group with the interface to send on (ff02::c%eth0,
ff05::c%eth0) or a unicast address; without TARGET, IPv4 searches
239.255.255.250.
"""

import ipaddress
import json
import socket
import sys
import time

address, st, wait = sys.argv[1], sys.argv[2], float(sys.argv[3])
mx = sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] != "-" else None
target = sys.argv[5] if len(sys.argv) > 5 else None
if ":" in address:
    family = socket.AF_INET6
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.bind(socket.getaddrinfo(address, 0, family, socket.SOCK_DGRAM)[0][4])
    group, _, zone = (target or "").partition("%")
    if ipaddress.ip_address(group).is_multicast:
        index = socket.if_nametoindex(zone)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, index)
        host = f"[{group.upper()}]:1900"
        link = ipaddress.ip_address(group) in ipaddress.ip_network("ff02::/16")
        destination = (group, 1900, 0, index if link else 0)
    else:
        host = f"[{group}]:1900"
        destination = socket.getaddrinfo(target, 1900, family, socket.SOCK_DGRAM)[0][4]
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((address, 0))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(address))
    host = f"{target}:1900" if target else "239.255.255.250:1900"
    destination = (target or "239.255.255.250", 1900)
lines = ["M-SEARCH * HTTP/1.1", f"HOST: {host}", 'MAN: "ssdp:discover"']
if mx is not None:
    lines.append(f"MX: {mx}")
lines.append(f"ST: {st}")
s.sendto(("\r\n".join(lines) + "\r\n\r\n").encode(), destination)
start = time.monotonic()
end = start + wait
while time.monotonic() < end:
    s.settimeout(max(0.01, end - time.monotonic()))
    try:
        data, source = s.recvfrom(65536)
    except socket.timeout:
        break
    print(json.dumps({"t": time.monotonic() - start, "from": source[:2],
                      "data": data.decode("utf-8", "replace")}), flush=True)
print("DONE", flush=True)
