"""
A host that watches what reaches it: a CallStranger victim, or a neighbour
that takes NOTIFYs. For SECONDS it listens on each PORT (TCP and UDP, every
address) and sees every IPv4 packet that arrives on any interface of its
namespace (an AF_PACKET socket: needs root). Prints READY, then one JSON
line per accepted connection, HTTP request, datagram and packet, then
{"event": "done"}.

    python event_listener.py SECONDS PORT [PORT ...]

HTTP requests (NOTIFY or anything else) are answered 200 with an empty
body, over kept-alive connections, so that a NOTIFY that does arrive is
taken like a real subscriber would.
"""

import json
import select
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ETH_P_IP = 0x0800
PACKET_OUTGOING = 4
seconds = float(sys.argv[1])
ports = [int(p) for p in sys.argv[2:]]
lock = threading.Lock()


def emit(**fields):
    with lock:
        print(json.dumps(fields), flush=True)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 5

    def setup(self):
        super().setup()
        emit(event="connection", port=self.server.server_address[1],
             peer=self.client_address[0], local=self.connection.getsockname()[0])

    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        emit(event="request", port=self.server.server_address[1], peer=self.client_address[0],
             method=self.command, path=self.path,
             headers={k.lower(): v for k, v in self.headers.items()},
             body=body.decode("utf-8", "replace"))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_NOTIFY = do_GET = do_POST = do_PUT = do_HEAD = do_SUBSCRIBE = answer

    def log_message(self, *args):
        pass


def udp(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    s.settimeout(0.2)
    return s


def packets(deadline):
    """
    Every IPv4 packet that comes in, on any interface.
    """
    # SOCK_DGRAM: the IP packet, without the link-layer header.
    raw = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_IP))
    raw.settimeout(0.2)
    datagrams = [udp(p) for p in ports]
    ready.set()
    while time.monotonic() < deadline:
        readable, _, _ = select.select([raw, *datagrams], [], [], 0.2)
        for s in readable:
            if s is raw:
                frame, address = raw.recvfrom(65535)
                if address[2] == PACKET_OUTGOING:
                    continue
                header = frame[:20]
                if len(header) < 20 or header[0] >> 4 != 4:
                    continue
                ihl = (header[0] & 0x0F) * 4
                proto = header[9]
                src, dst = socket.inet_ntoa(header[12:16]), socket.inet_ntoa(header[16:20])
                sport = dport = None
                if proto in (6, 17) and len(frame) >= ihl + 4:
                    sport, dport = struct.unpack("!HH", frame[ihl:ihl + 4])
                flags = None
                if proto == 6 and len(frame) >= ihl + 14:
                    flags = frame[ihl + 13]
                emit(event="packet", interface=address[0], src=src, dst=dst, proto=proto,
                     sport=sport, dport=dport, tcp_flags=flags)
            else:
                data, peer = s.recvfrom(65535)
                emit(event="datagram", port=s.getsockname()[1], peer=peer[0], size=len(data),
                     data=data[:200].decode("latin-1"))


ready = threading.Event()
deadline = time.monotonic() + seconds
servers = []
for port in ports:
    server = ThreadingHTTPServer(("0.0.0.0", port), Handler)
    server.daemon_threads = True
    servers.append(server)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                     daemon=True).start()
watcher = threading.Thread(target=packets, args=(deadline,), daemon=True)
watcher.start()
ready.wait(10)
emit(event="ready", ports=ports)
print("READY", flush=True)
watcher.join(seconds + 10)
for server in servers:
    server.shutdown()
emit(event="done")
