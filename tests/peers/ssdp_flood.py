"""
A flood of M-SEARCHes from one address, bounded: RATE searches a second for
SECONDS, then a WAIT for the last replies. Prints one JSON line: the bytes
sent, and every reply's arrival time (from the first search) and size.

    python ssdp_flood.py ADDRESS ST RATE SECONDS [MX] [WAIT]
"""

import json
import socket
import sys
import time

address, st, rate, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
mx = sys.argv[5] if len(sys.argv) > 5 else "1"
wait = float(sys.argv[6]) if len(sys.argv) > 6 else 2.0
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
s.bind((address, 0))
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(address))
s.setblocking(False)
search = ("M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\n"
          f"MX: {mx}\r\nST: {st}\r\n\r\n").encode()
replies = []
sent = 0
start = time.monotonic()
end = start + seconds
next_send = start
while True:
    now = time.monotonic()
    if now >= end + wait:
        break
    if now < end and now >= next_send:
        s.sendto(search, ("239.255.255.250", 1900))
        sent += len(search)
        next_send += 1 / rate
    try:
        while True:
            data, _ = s.recvfrom(65536)
            replies.append((round(time.monotonic() - start, 4), len(data)))
    except BlockingIOError:
        pass
    time.sleep(min(0.0005, max(0, next_send - time.monotonic())))
print(json.dumps({"sent_bytes": sent, "searches": int(sent / len(search)), "replies": replies}),
      flush=True)
