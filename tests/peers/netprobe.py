"""
Small Twisted programs the namespace tests run inside their namespaces
(C{ip netns exec NS python _nsprog.py COMMAND CONFIG-JSON}). Each prints one
JSON object a line and stops by itself after C{config["seconds"]}, or on
SIGTERM.

  - C{watch}: a L{rtnetlink.NetlinkWatcher}; prints every event, and for
    each new IPv6 address whether a socket can bind to it right now; can
    stall its reactor for a while (to overrun a small receive buffer).
  - C{receive}: L{pktinfo.PacketInfoPort}s as configured; prints every
    datagram with its interface and destination, and can answer
    C{M-SEARCH}es by unicast out of the interface they came in on.
  - C{send}: sends datagrams as configured, prints what comes back.
"""

from __future__ import annotations

import errno
import json
import socket
import sys
import time
from dataclasses import asdict
from typing import Any

from twisted.internet import reactor as _reactor
from twisted.internet.interfaces import IReactorCore, IReactorFDSet, IReactorTime
from twisted.logger import globalLogBeginner, textFileLogObserver

from upnp_announce import pktinfo, rtnetlink

JSON = dict[str, Any]


def emit(**record: object) -> None:
    record["at"] = time.monotonic()
    print(json.dumps(record), flush=True)


def ifname(index: int) -> str:
    try:
        return socket.if_indextoname(index)
    except OSError:
        return ""


def bindErrno(address: str, scope: int) -> int:
    """
    0 if a UDP socket can bind C{address} now, else the errno.
    """
    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    try:
        sock.bind((address, 0, 0, scope))
    except OSError as e:
        return e.errno or -1
    finally:
        sock.close()
    return 0


def watch(reactor: Any, config: JSON) -> None:
    def onChange(change: rtnetlink.NetlinkChange) -> None:
        if change.lost:
            emit(type="lost")
        for event in change.events:
            record: JSON = {"type": type(event).__name__, **asdict(event)}
            if isinstance(event, rtnetlink.AddressEvent):
                record.update(
                    tentative=event.tentative, dadFailed=event.dadFailed, bindable=event.bindable
                )
                if event.kind == "new" and event.family == socket.AF_INET6:
                    linkLocal = event.address.startswith("fe80:")
                    record["bindErrno"] = bindErrno(event.address, event.index if linkLocal else 0)
                    if linkLocal:
                        record["bindNoScopeErrno"] = bindErrno(event.address, 0)
            emit(**record)

    watcher = rtnetlink.NetlinkWatcher(
        reactor, onChange, receiveBufferSize=config.get("rcvbuf", 1 << 20)
    )
    emit(ready=watcher.start())
    if config.get("stall"):
        # Block the reactor so that notifications pile up in the socket.
        def stall() -> None:
            emit(stalling=True)
            time.sleep(float(config["stall"]))
            emit(stalled=True)

        reactor.callLater(0.5, stall)


class Receiver(pktinfo.PacketInfoProtocol):
    def __init__(self, label: str, reply: str | None) -> None:
        self.label = label
        self.reply = reply

    def datagramReceived(
        self, data: bytes, address: pktinfo.SocketAddress, ifindex: int, destination: str
    ) -> None:
        text = data.decode("utf-8", "replace")
        emit(
            label=self.label,
            data=text,
            src=list(address),
            ifindex=ifindex,
            ifname=ifname(ifindex),
            dst=destination,
        )
        if self.reply is None or not text.startswith("M-SEARCH") or self.transport is None:
            return
        answer = f"REPLY {self.label} via {ifname(ifindex)} to {text.splitlines()[-1]}".encode()
        try:
            if self.reply == "ifindex":
                self.transport.sendTo(answer, address, ifindex=ifindex)
            else:
                self.transport.sendTo(answer, address)
        except OSError as e:
            emit(label=self.label, replyError=e.errno)


def receive(reactor: Any, config: JSON) -> None:
    for spec in config["sockets"]:
        family = socket.AF_INET if spec["family"] == 4 else socket.AF_INET6
        protocol = Receiver(spec["label"], spec.get("reply"))
        port = pktinfo.listen_packet_info(
            reactor,
            protocol,
            family,
            spec["port"],
            spec.get("bind", ""),
            reusePort=spec.get("reusePort", True),
            multicastAll=spec.get("multicastAll", False),
            filterMemberships=spec.get("filter", True),
        )
        operations = [["join", group, interface] for group, interface in spec.get("joins", [])]
        for number, (operation, group, interface) in enumerate(operations + spec.get("ops", [])):
            index = interface if isinstance(interface, int) else socket.if_nametoindex(interface)
            try:
                if operation == "join":
                    port.joinGroup(group, index)
                else:
                    port.leaveGroup(group, index)
            except OSError as e:
                emit(
                    label=spec["label"], op=number, operation=operation, group=group, errno=e.errno
                )
        emit(
            label=spec["label"],
            listening=True,
            multicastAllDisabled=port.multicastAllDisabled,
            memberships=sorted(port.memberships),
        )
    emit(ready=True, ifindex={name: index for index, name in socket.if_nameindex()})


class Sender(pktinfo.PacketInfoProtocol):
    def datagramReceived(
        self, data: bytes, address: pktinfo.SocketAddress, ifindex: int, destination: str
    ) -> None:
        emit(
            reply=data.decode("utf-8", "replace"),
            src=list(address),
            ifindex=ifindex,
            dst=destination,
        )


def send(reactor: Any, config: JSON) -> None:
    ports = {
        4: pktinfo.listen_packet_info(reactor, Sender(), socket.AF_INET, 0),
        6: pktinfo.listen_packet_info(reactor, Sender(), socket.AF_INET6, 0),
    }
    for number, spec in enumerate(config["sends"]):
        port = ports[spec["family"]]
        if spec.get("newPort"):
            family = socket.AF_INET if spec["family"] == 4 else socket.AF_INET6
            port = pktinfo.listen_packet_info(reactor, Sender(), family, 0)
        ifindex = socket.if_nametoindex(spec["ifname"]) if spec.get("ifname") else 0
        host, data = spec["host"], spec["data"].encode()
        try:
            if spec["mode"] == "pktinfo":
                sent = port.sendTo(data, (host, spec["port"]), ifindex=ifindex)
            elif spec["mode"] == "multicastif":
                port.setOutgoingInterface(ifindex)
                sent = port.sendTo(data, (host, spec["port"]))
                port.setOutgoingInterface(0)
            elif spec["mode"] == "scope":
                sent = port.sendTo(data, (f"{host}%{spec['ifname']}", spec["port"]))
            else:
                sent = port.sendTo(data, (host, spec["port"]))
        except OSError as e:
            emit(send=number, error=e.errno, strerror=e.strerror)
        else:
            emit(send=number, sent=sent)


def main(argv: list[str]) -> int:
    command, config = argv[1], json.loads(argv[2])
    globalLogBeginner.beginLoggingTo([textFileLogObserver(sys.stderr)], redirectStandardIO=False)
    reactor: Any = _reactor
    assert IReactorCore.providedBy(reactor) and IReactorFDSet.providedBy(reactor)
    assert IReactorTime.providedBy(reactor)
    {"watch": watch, "receive": receive, "send": send}[command](reactor, config)
    reactor.callLater(float(config.get("seconds", 20)), reactor.stop)
    reactor.run()
    emit(stopped=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except BrokenPipeError:
        sys.exit(errno.EPIPE)
