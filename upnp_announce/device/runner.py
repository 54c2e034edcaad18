"""
L{UPnPService}: the runnable device, one root device as one Twisted
service, for twistd or for any application that wants to embed a device.

It owns the sockets (HTTP on each address, SSDP on port 1900) and follows
the network while it runs: an address that appears is listened on, joined
and announced; one that goes is no longer served; every change raises
BOOTID.UPNP.ORG with ssdp:update and a new alive set (UDA 1.1 1.2.4).
"""

from __future__ import annotations

import dataclasses
import errno
import functools
import os
import random
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from twisted.application.service import MultiService
from twisted.internet import defer, endpoints
from twisted.internet.interfaces import IDelayedCall, IListeningPort
from twisted.python.failure import Failure

from upnp_announce import netif
from upnp_announce.device.discovery import Advertised, SSDPServer
from upnp_announce.device.network import ChangeSource, InterfaceWatcher
from upnp_announce.device.site import DeviceSite, Served
from upnp_announce.device.ssdpsocket import SSDPSockets
from upnp_announce.logs import logger
from upnp_announce.model import Device
from upnp_announce.pktinfo import PacketInfoPort
from upnp_announce.settings import EventingSettings, NetworkSettings
from upnp_announce.wire import ssdp

__all__ = ["HTTPBinding", "StartError", "UPnPService"]

# Retrying an address that could not be listened on yet (a tentative IPv6
# address): after 1 s, then twice as long each time, at most this long.
MAX_RETRY = 30.0


class StartError(Exception):
    """
    The device could not start (the SSDP socket or a fixed HTTP port cannot
    be opened).
    """


@dataclass(frozen=True)
class HTTPBinding:
    """
    An address the device's HTTP server listens on, and the description URL
    that SSDP announces on that address's interface.
    """

    interface: netif.InterfaceAddress
    port: int

    @functools.cached_property
    def urlBase(self) -> str:
        # Built once: every search reply and NOTIFY starts with it.
        return f"http://{self.interface.urlHost}:{self.port}"

    @functools.cached_property
    def location(self) -> str:
        """
        The description URL here of a device served at /description.xml.
        """
        return self.urlBase + "/description.xml"


def base_for(device: Device) -> str:
    """
    Where one of several root devices is served: C{/UUID}.
    """
    return "/" + device.UDN[len("uuid:"):].lower()


def advertised(served: Served) -> Advertised:
    """
    A served device as SSDP advertises it.
    """
    return Advertised.of(
        served.device, served.descriptions.configId, served.descriptions.layout.description
    )


def netlink_source(reactor: Any) -> Callable[[Callable[[], None]], ChangeSource] | None:
    """
    The kernel's change notifications where there are (Linux rtnetlink).
    """
    if not sys.platform.startswith("linux"):
        return None
    from upnp_announce.rtnetlink import NetlinkWatcher

    def make(changed: Callable[[], None]) -> ChangeSource:
        return NetlinkWatcher(reactor, lambda *_: changed())

    return make


class UPnPService(MultiService):
    """
    A UPnP root device: its HTTP server on every usable address of the
    chosen interfaces, its SSDP sockets, and the watch on the network.

    Build it from a model (L{Device} and L{NetworkSettings}) or from an INI
    file (L{fromConfig}), then C{setServiceParent} it into an application.

    @ivar site: the L{DeviceSite} that serves the descriptions.
    @ivar bindings: where the HTTP server listens now.
    """

    log = logger("device")

    def __init__(
        self,
        device: Device | None = None,
        network: NetworkSettings = NetworkSettings(),
        *,
        devices: Sequence[Device] = (),
        reactor: Any = None,
        interfaces: Sequence[str] | None = None,
        httpPort: int | None = None,
        adapters: Callable[[], Iterable[netif.Adapter]] = netif.system_adapters,
        rng: random.Random | None = None,
        ssdpPort: int = ssdp.SSDP_PORT,
        eventing: EventingSettings = EventingSettings(),
        changes: Callable[[Callable[[], None]], ChangeSource] | None | str = "kernel",
        makeSSDPPort: Callable[..., Any] = PacketInfoPort,
    ) -> None:
        """
        @param device: a root device served at C{/} (its description at
            C{/description.xml}).
        @param devices: root devices served each under C{/UUID/}.
        @param interfaces: overrides C{network.interfaces}.
        @param httpPort: overrides C{network.httpPort}.
        @param reactor: an L{IReactorTCP}, L{IReactorFDSet} and
            L{IReactorTime}; by default the global reactor.
        @param adapters: lists the machine's interfaces.
        @param rng: the random source of SSDP delays.
        @param ssdpPort: the SSDP port (SSDP is port 1900).
        @param eventing: the GENA settings.
        @param changes: what tells of network changes: C{"kernel"} for
            rtnetlink where there is one, C{None} to poll only, or a factory
            of an L{ChangeSource}.
        @param makeSSDPPort: makes the SSDP sockets (for tests).
        """
        super().__init__()
        if reactor is None:
            from twisted.internet import reactor
        # An IReactorTCP, IReactorFDSet and IReactorTime at once.
        self._reactor: Any = reactor
        overrides: dict[str, Any] = {}
        if interfaces is not None:
            overrides["interfaces"] = tuple(dict.fromkeys(interfaces))
        if httpPort is not None:
            overrides["httpPort"] = httpPort
        self.network = dataclasses.replace(network, **overrides)
        self.site = DeviceSite(reactor=reactor, eventing=eventing)
        for served in ([device] if device is not None else []):
            self.site.addDevice(served, "")
        for served in devices:
            self.site.addDevice(served, base_for(served))
        # Changes to the devices, one at a time, each applied whole.
        self._changing = defer.DeferredLock()
        # A service of one device serves it at / (what replaces it too).
        self._single = device is not None
        self._announcedWaiters: list[defer.Deferred[None]] = []
        self._statusWatchers: list[Callable[[str], None]] = []
        self._adapters = adapters
        self._ports: dict[HTTPBinding, IListeningPort] = {}
        self.bindings: tuple[HTTPBinding, ...] = ()
        self._waiting: list[defer.Deferred[tuple[HTTPBinding, ...]]] = []
        self._random = rng or random.Random()
        self._ssdpPort = ssdpPort
        self._makeSSDPPort = makeSSDPPort
        self._changes: Callable[[Callable[[], None]], ChangeSource] | None = (
            netlink_source(reactor) if isinstance(changes, str) else changes
        )
        self.sockets: SSDPSockets | None = None
        self.ssdp: SSDPServer | None = None
        self.watcher: InterfaceWatcher | None = None
        self._bootId = 0
        # Addresses that could not be listened on yet: the next try, and its
        # delay.
        self._retries: dict[netif.InterfaceAddress, tuple[IDelayedCall, float]] = {}

    @classmethod
    def fromConfig(
        cls,
        path: str | os.PathLike[str],
        *,
        reactor: Any = None,
        interfaces: Sequence[str] | None = None,
        httpPort: int | None = None,
        machineId: str | None = None,
    ) -> UPnPService:
        """
        A service for the device described by the INI file at C{path}.

        @raise upnp_announce.config.ConfigError: listing every problem.
        """
        # The INI loader belongs to the application above the device side:
        # imported when this entry point is used, not with the device.
        from upnp_announce import config

        loaded = config.load(path, machineId=machineId)
        return cls(
            loaded.device,
            loaded.network,
            reactor=reactor,
            interfaces=interfaces,
            httpPort=httpPort,
            eventing=loaded.eventing,
        )

    # -- the devices -----------------------------------------------------------------

    @property
    def device(self) -> Device:
        """
        The first root device (the only one, for a service of one device).
        """
        return self.site.device

    @property
    def devices(self) -> tuple[Device, ...]:
        """
        Every root device served, in the order they came.
        """
        return tuple(served.device for served in self.site.served.values())

    def names(self) -> str:
        """
        The devices' friendly names, for log lines.
        """
        names = [d.friendlyName for d in self.devices]
        if len(names) > 3:
            return f"{len(names)} devices"
        return ", ".join(names) or "no device"

    def statusLine(self) -> str:
        """
        What is served, in a few words: C{"2 devices on eth0, wlan0"}.
        """
        count = len(self.site.served)
        what = f"{count} device" + ("" if count == 1 else "s")
        names = list(dict.fromkeys(b.interface.name for b in self.bindings))
        if names:
            return f"{what} on {', '.join(names)}"
        return f"{what}, waiting for a usable address on {self._describeChoice()}"

    def watchStatus(self, callback: Callable[[str], None]) -> None:
        """
        Call C{callback(statusLine)} whenever what is served changes (the
        network or the devices).
        """
        self._statusWatchers.append(callback)

    def _statusChanged(self) -> None:
        line = self.statusLine()
        for callback in list(self._statusWatchers):
            try:
                callback(line)
            except Exception:
                self.log.failure("A status watcher failed")

    def whenAnnounced(self) -> defer.Deferred[None]:
        """
        Fires once a first alive set is out: the device can be found.
        """
        if self.ssdp is not None:
            return self.ssdp.whenAnnounced()

        def cancel(d: defer.Deferred[None]) -> None:
            if d in self._announcedWaiters:
                self._announcedWaiters.remove(d)

        d: defer.Deferred[None] = defer.Deferred(cancel)
        self._announcedWaiters.append(d)
        return d

    def locations(self, udn: str) -> list[str]:
        """
        The LOCATIONs of the device C{udn} now, one per address.
        """
        served = self.site.served[udn.lower()]
        return [b.urlBase + served.descriptions.layout.description for b in self.bindings]

    def addDevice(self, device: Device, base: str | None = None) -> defer.Deferred[None]:
        """
        Serve one more root device (under C{/UUID/}, or C{base}): its paths
        appear and its alive set goes out.

        @return: fires once it is served; fails with L{ValueError} for a UDN
            already served.
        """
        return self._changing.run(self._add, device, base)

    def removeDevice(self, udn: str) -> defer.Deferred[None]:
        """
        Stop serving a root device: it is answered no more, its
        subscriptions end, and its byebye set goes out.

        @return: fires once the byebye set is out; fails with L{KeyError}
            for a device not served.
        """
        return self._changing.run(self._remove, udn)

    def replaceDevice(self, device: Device) -> defer.Deferred[None]:
        """
        Serve C{device} in place of the running device of the same UDN (a
        changed model). When its descriptions changed, it gets a new
        CONFIGID: byebye for what it no longer announces, then its alive set;
        otherwise nothing is sent. Subscriptions to services that stay carry
        over.

        @return: fires once it is done; fails with L{KeyError} for a device
            not served.
        """
        return self._changing.run(self._replace, device)

    def setDevices(self, devices: Sequence[Device]) -> defer.Deferred[dict[str, list[str]]]:
        """
        Serve exactly C{devices}: remove those not among them, add the new
        ones, replace those whose model object changed; a device given as
        the very object already served is left alone.

        @return: fires with the UDNs C{"added"}, C{"removed"}, C{"changed"}
            and C{"unchanged"}.
        """
        return self._changing.run(self._set, list(devices))

    def _add(self, device: Device, base: str | None) -> defer.Deferred[None]:
        served = self.site.addDevice(device, base_for(device) if base is None else base)
        if self.ssdp is not None:
            self.ssdp.addDevice(advertised(served))
        where = self.locations(device.UDN)
        self.log.info(
            "Serving {name} ({udn}) at {where}", name=device.friendlyName, udn=device.UDN,
            where=", ".join(where) if where else "its addresses, once there are any",
        )
        self._statusChanged()
        return defer.succeed(None)

    def _remove(self, udn: str) -> defer.Deferred[None]:
        served = self.site.removeDevice(udn)
        self.log.info("No longer serving {name} ({udn})", name=served.device.friendlyName,
                      udn=served.device.UDN)
        self._statusChanged()
        if self.ssdp is None:
            return defer.succeed(None)
        return self.ssdp.removeDevice(udn)

    def _replace(self, device: Device) -> defer.Deferred[None]:
        old, new = self.site.replaceDevice(device)
        changed = old.descriptions.configId != new.descriptions.configId or (
            old.descriptions.documents != new.descriptions.documents
        )
        if self.ssdp is not None and changed:
            self.ssdp.changeDevice(advertised(new))
        if changed:
            self.log.info("{name} ({udn}) changed: CONFIGID {configId}",
                          name=device.friendlyName, udn=device.UDN,
                          configId=new.descriptions.configId)
        return defer.succeed(None)

    async def _apply(self, devices: list[Device]) -> dict[str, list[str]]:
        wanted = {d.UDN.lower(): d for d in devices}
        report: dict[str, list[str]] = {"added": [], "removed": [], "changed": [],
                                        "unchanged": []}
        for key, served in list(self.site.served.items()):
            if key not in wanted:
                await self._remove(served.device.UDN)
                report["removed"].append(served.device.UDN)
        for key, device in wanted.items():
            current = self.site.served.get(key)
            if current is None:
                root_free = not any(s.base == "" for s in self.site.served.values())
                await self._add(device, "" if self._single and root_free and len(wanted) == 1
                                else None)
                report["added"].append(device.UDN)
            elif current.device is device:
                report["unchanged"].append(device.UDN)
            else:
                await self._replace(device)
                report["changed"].append(device.UDN)
        return report

    def _set(self, devices: list[Device]) -> defer.Deferred[dict[str, list[str]]]:
        return defer.Deferred.fromCoroutine(self._apply(devices))

    def whenListening(self) -> defer.Deferred[tuple[HTTPBinding, ...]]:
        """
        A Deferred that fires with L{bindings} once the HTTP server listens
        on at least one address.
        """
        if self.bindings:
            return defer.succeed(self.bindings)
        d: defer.Deferred[tuple[HTTPBinding, ...]] = defer.Deferred()
        self._waiting.append(d)
        return d

    # -- choosing addresses -----------------------------------------------------

    def usableAddresses(self) -> tuple[netif.InterfaceAddress, ...]:
        """
        The addresses of the chosen interfaces now.
        """
        return netif.select(
            self._adapters(),
            self.network.interfaces,
            exclude=self.network.exclude,
            ipv6=self.network.ipv6,
        )

    def _describeChoice(self) -> str:
        if self.network.interfaces is None:
            return "any up, multicast-capable interface"
        return "interface " + " or ".join(self.network.interfaces)

    # -- starting and stopping ------------------------------------------------------

    def startService(self) -> None:
        """
        Open the SSDP sockets, then serve every usable address (none is
        fine: the device waits for one).

        @raise StartError: when the SSDP socket cannot be opened, or a fixed
            HTTP port cannot be listened on at start.
        """
        sockets = SSDPSockets(
            self._reactor,
            port=self._ssdpPort,
            ttl=self.network.ttl,
            ipv6=self.network.ipv6,
            makePort=self._makeSSDPPort,
        )
        try:
            sockets.start()
        except OSError as e:
            self._fail(Failure(StartError(str(e))))
            raise StartError(str(e)) from None
        super().startService()
        # Again after a stop: subscriptions start afresh.
        self.site.startEventing()
        self.sockets = sockets
        # BOOTID: seconds since the epoch in 31 bits, and more than the last.
        self._bootId = max(self._bootId + 1, int(self._reactor.seconds()) & 0x7FFFFFFF)
        self.ssdp = SSDPServer(
            devices=[advertised(served) for served in self.site.served.values()],
            bindings=(),
            sender=sockets,
            clock=self._reactor,
            rng=self._random,
            bootId=self._bootId,
            maxAge=self.network.maxAge,
            searchPort=self._ssdpPort,
            repliesPerSecond=self.network.repliesPerSecond,
            quietSeconds=self.network.quietSeconds,
        )
        sockets.server = self.ssdp
        waiting, self._announcedWaiters = self._announcedWaiters, []
        for d in waiting:
            self.ssdp.whenAnnounced().chainDeferred(d)
        self.watcher = InterfaceWatcher(
            self._reactor, self.usableAddresses, self._changed, source=self._changes
        )
        addresses = self.watcher.start()
        names = netif.interface_names()
        missing = netif.missing_names(self.network.interfaces, self._adapters(), names)
        if missing:
            known = ", ".join(sorted(names | {a.name for a in self._adapters()})) or "none"
            self.log.warn(
                "{name} waits for interface {missing}, which does not exist (yet); "
                "this machine has: {known}",
                name=self.names(),
                missing=", ".join(missing), known=known,
            )
        try:
            self._serve(addresses, (), starting=True)
        except StartError as e:
            self._stopNow()
            self._fail(Failure(e))
            raise
        self.ssdp.start()
        if not self.bindings and not missing:
            self.log.info(
                "{name} waits for a usable address on {what}",
                name=self.names(), what=self._describeChoice(),
            )

    def _fail(self, failure: Failure) -> None:
        """
        Tell whoever waits in L{whenListening} that the start failed.
        """
        waiting, self._waiting = self._waiting, []
        for d in waiting:
            d.errback(failure)

    def _stopNow(self) -> None:
        """
        Undo a start that failed half-way.
        """
        if self.watcher is not None:
            self.watcher.stop()
        for port in self._ports.values():
            port.stopListening()
        self._ports.clear()
        self.bindings = ()
        if self.sockets is not None:
            self.sockets.stop()
        self.sockets = self.ssdp = self.watcher = None
        self.site.stopEventing()
        super().stopService()

    def stopService(self) -> defer.Deferred[None]:
        """
        Say byebye over SSDP, then stop listening, then stop the children.

        @return: fires once the byebye set is sent and every port is closed;
            twistd waits for it before the process exits.
        """
        if self.watcher is not None:
            self.watcher.stop()
        self.watcher = None
        for call, _ in self._retries.values():
            if call.active():
                call.cancel()
        self._retries.clear()
        ssdpServer, self.ssdp = self.ssdp, None
        sockets, self.sockets = self.sockets, None
        ports, self._ports = list(self._ports.values()), {}
        for binding in self.bindings:
            self.site.removeAddress(binding.interface.address, binding.port)
        self.bindings = ()
        self.site.stopEventing()
        stopped = ssdpServer.stop() if ssdpServer is not None else defer.succeed(None)
        if ssdpServer is not None:
            stopped.addCallback(lambda _: self.log.info(
                "Stopped serving {name}: byebye sent", name=self.names()
            ))

        def close(_: object) -> defer.Deferred[Any]:
            closing = [port.stopListening for port in ports]
            if sockets is not None:
                closing.append(sockets.stop)
            closing.append(self.site.notifier.close)
            return defer.gatherResults([defer.maybeDeferred(f) for f in closing])

        stopped.addCallback(close)
        stopped.addCallback(lambda _: super(UPnPService, self).stopService())
        stopped.addCallback(lambda _: None)
        return stopped

    # -- following the network ---------------------------------------------------------

    def _changed(
        self, added: tuple[netif.InterfaceAddress, ...], removed: tuple[netif.InterfaceAddress, ...]
    ) -> None:
        try:
            self._serve(added, removed)
        except Exception:
            # Nothing a network change does may stop the device.
            self.log.failure("Cannot follow a network change")

    def _serve(
        self,
        added: Sequence[netif.InterfaceAddress],
        removed: Sequence[netif.InterfaceAddress],
        *,
        starting: bool = False,
    ) -> None:
        """
        Stop serving C{removed}, start serving C{added}; then, if the
        bindings changed, tell SSDP (a new BOOTID, ssdp:update, alive).
        """
        before = self.bindings
        gone = set(removed)
        for address in gone:
            self._cancelRetry(address)
        # An address that stays with another prefix or interface index keeps
        # its socket (closing and listening again in one turn would clash).
        moved = {
            (a.name, a.address): a for a in added
            if any((g.name, g.address) == (a.name, a.address) for g in gone)
        }
        kept = []
        for binding in self.bindings:
            interface = binding.interface
            if interface not in gone:
                kept.append(binding)
            elif (interface.name, interface.address) in moved:
                kept.append(self._move(binding, moved[(interface.name, interface.address)]))
            else:
                self._unlisten(binding)
        new: list[HTTPBinding] = []
        for address in added:
            if any(b.interface == address for b in kept):
                continue
            made = self._listen(address, starting, kept + new)
            if made is not None:
                new.append(made)
        bindings = tuple(kept + new)
        if bindings == before:
            return
        self.bindings = bindings
        assert self.sockets is not None and self.ssdp is not None
        self.sockets.serve(b.interface for b in bindings)
        if starting:
            self.ssdp.changeBindings(bindings, self._bootId)
        else:
            self._bootId = (self._bootId + 1) & 0x7FFFFFFF
            self.ssdp.changeBindings(bindings, self._bootId)
            self.log.info(
                "The network changed: {name} is now on {where} (BOOTID {bootId})",
                name=self.names(),
                where=", ".join(f"{b.interface.name} {b.interface.address}" for b in bindings)
                or "no address",
                bootId=self._bootId,
            )
        if bindings and self._waiting:
            waiting, self._waiting = self._waiting, []
            for d in waiting:
                d.callback(bindings)
        self._statusChanged()

    def _port(self, others: Sequence[HTTPBinding]) -> int:
        """
        The HTTP port for a new address: the configured one, or the one the
        other addresses have (one port number for the device is friendlier).
        """
        if self.network.httpPort:
            return self.network.httpPort
        return others[0].port if others else 0

    def _listen(
        self, address: netif.InterfaceAddress, starting: bool, others: Sequence[HTTPBinding]
    ) -> HTTPBinding | None:
        """
        Listen for HTTP on C{address}; its binding, or C{None} when that is
        not possible yet (tried again later).

        @raise StartError: at start, for a fixed port that is taken.
        """
        port = self._port(others)
        failure: BaseException | None = None
        for attempt in (port, 0) if port and not self.network.httpPort else (port,):
            # (The others' port may be taken here: then any port will do.)
            try:
                listening = self._listenTCP(address, attempt)
            except Exception as e:
                failure = e
                continue
            return self._bound(address, listening)
        reason = getattr(failure, "socketError", failure)
        taken = getattr(reason, "errno", None) == errno.EADDRINUSE
        if starting and taken and self.network.httpPort:
            raise StartError(_listen_failure(failure, self.network.httpPort))
        self._retry(address, reason)
        return None

    def _listenTCP(self, address: netif.InterfaceAddress, port: int) -> IListeningPort:
        endpoint: Any
        if address.family == 4:
            endpoint = endpoints.TCP4ServerEndpoint(
                self._reactor, port, interface=address.host
            )
        else:
            endpoint = endpoints.TCP6ServerEndpoint(
                self._reactor, port, interface=address.host
            )
        listening = endpoint.listen(self.site)
        result: list[Any] = []
        listening.addBoth(result.append)
        if not result:
            # TCP endpoints listen at once; anything else is not ours.
            listening.cancel()
            raise OSError("the endpoint did not listen at once")
        if isinstance(result[0], Failure):
            result[0].raiseException()
        return result[0]  # type: ignore[no-any-return]

    def _bound(self, address: netif.InterfaceAddress, listening: IListeningPort) -> HTTPBinding:
        self._cancelRetry(address)
        binding = HTTPBinding(address, listening.getHost().port)  # type: ignore[attr-defined]
        self._ports[binding] = listening
        self.site.addAddress(address.address, binding.port, address.network)
        self.log.info(
            "Serving {name} on {interface} at {location}",
            name=self.names(),
            interface=address.name,
            location=self._where(binding),
        )
        return binding

    def _where(self, binding: HTTPBinding) -> str:
        """
        What to show of a binding: the description URL of the one device at
        /, else the server's root (each device under its own path).
        """
        served = list(self.site.served.values())
        if len(served) == 1 and served[0].base == "":
            return binding.location
        return binding.urlBase + "/"

    def _move(self, binding: HTTPBinding, address: netif.InterfaceAddress) -> HTTPBinding:
        """
        The binding of an address whose prefix or interface index changed:
        the same socket, the new facts.
        """
        moved = HTTPBinding(address, binding.port)
        self._ports[moved] = self._ports.pop(binding)
        self.site.removeAddress(binding.interface.address, binding.port)
        self.site.addAddress(address.address, moved.port, address.network)
        return moved

    def _unlisten(self, binding: HTTPBinding) -> None:
        port = self._ports.pop(binding, None)
        if port is not None:
            port.stopListening()
        self.site.removeAddress(binding.interface.address, binding.port)
        self.log.info(
            "No longer serving {name} on {interface} at {location}: the address went away",
            name=self.names(),
            interface=binding.interface.name,
            location=self._where(binding),
        )

    def _retry(self, address: netif.InterfaceAddress, reason: object) -> None:
        """
        Try C{address} again later, waiting longer each time.
        """
        previous = self._retries.get(address)
        delay = min(previous[1] * 2, MAX_RETRY) if previous else 1.0
        if previous is None:
            self.log.info(
                "Cannot listen on {address} ({interface}) yet: {reason}; trying again",
                address=address.address, interface=address.name, reason=reason,
            )

        def again() -> None:
            call, _ = self._retries[address]
            self._retries[address] = (call, delay)
            if self.watcher is not None and address in self.watcher.current:
                self._changed((address,), ())

        self._retries[address] = (self._reactor.callLater(delay, again), delay)

    def _cancelRetry(self, address: netif.InterfaceAddress) -> None:
        entry = self._retries.pop(address, None)
        if entry is not None and entry[0].active():
            entry[0].cancel()


def _listen_failure(failure: object, port: int) -> str:
    error = failure.value if isinstance(failure, Failure) else failure
    where = f"port {port}" if port else "a free port"
    return f"cannot listen for HTTP on {where}: {error}"
