"""
A raw SSDP searcher: sends one M-SEARCH from ADDRESS (multicast, or unicast
to TARGET) and prints every reply as a JSON line for WAIT seconds.

    python ssdp_search.py ADDRESS ST WAIT [MX] [TARGET_IP]
"""

import json
import socket
import sys
import time

address, st, wait = sys.argv[1], sys.argv[2], float(sys.argv[3])
mx = sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] != "-" else None
target = sys.argv[5] if len(sys.argv) > 5 else None
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((address, 0))
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(address))
host = f"{target}:1900" if target else "239.255.255.250:1900"
lines = ["M-SEARCH * HTTP/1.1", f"HOST: {host}", 'MAN: "ssdp:discover"']
if mx is not None:
    lines.append(f"MX: {mx}")
lines.append(f"ST: {st}")
s.sendto(("\r\n".join(lines) + "\r\n\r\n").encode(), (target or "239.255.255.250", 1900))
start = time.monotonic()
end = start + wait
while time.monotonic() < end:
    s.settimeout(max(0.01, end - time.monotonic()))
    try:
        data, source = s.recvfrom(65536)
    except socket.timeout:
        break
    print(json.dumps({"t": time.monotonic() - start, "from": source,
                      "data": data.decode("utf-8", "replace")}), flush=True)
print("DONE", flush=True)
