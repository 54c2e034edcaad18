"""
L{UPnPService}: the runnable device, one root device as one Twisted
service, for twistd or for any application that wants to embed a device. It
owns the sockets (HTTP on each address, SSDP on port 1900) and wires the
SSDP server and the HTTP site to them.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from twisted.application.service import MultiService
from twisted.internet import defer, endpoints
from twisted.internet.interfaces import IListeningPort
from twisted.logger import Logger
from twisted.python.failure import Failure

from upnp_announce import config as configmodule
from upnp_announce import netif
from upnp_announce.device import ssdpsocket
from upnp_announce.device.discovery import SSDPServer
from upnp_announce.device.site import DeviceSite
from upnp_announce.device.ssdpsocket import SSDPProtocol
from upnp_announce.model import Device
from upnp_announce.settings import EventingSettings, NetworkSettings
from upnp_announce.wire import ssdp

__all__ = ["HTTPBinding", "StartError", "UPnPService"]


class StartError(Exception):
    """
    The device could not start (an interface is missing, a port is taken).
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
    def location(self) -> str:
        # Built once: every search reply and NOTIFY carries it.
        return f"http://{self.interface.address}:{self.port}/description.xml"


class UPnPService(MultiService):
    """
    A UPnP root device: its HTTP server on every configured interface.

    Build it from a model (L{Device} and L{NetworkSettings}) or from an INI
    file (L{fromConfig}), then C{setServiceParent} it into an application.

    @ivar site: the L{DeviceSite} that serves the descriptions.
    @ivar bindings: where the HTTP server listens, once it does.
    """

    log = Logger()

    def __init__(
        self,
        device: Device,
        network: NetworkSettings = NetworkSettings(),
        *,
        reactor: Any = None,
        interfaces: Sequence[str] | None = None,
        httpPort: int | None = None,
        adapters: Callable[[], Iterable[netif.Adapter]] = netif.system_adapters,
        rng: random.Random | None = None,
        ssdpPort: int = ssdp.SSDP_PORT,
        eventing: EventingSettings = EventingSettings(),
    ) -> None:
        """
        @param interfaces: overrides C{network.interfaces}.
        @param httpPort: overrides C{network.httpPort}.
        @param reactor: an L{IReactorTCP}, L{IReactorMulticast} and
            L{IReactorTime}; by default the global reactor.
        @param adapters: lists the machine's interfaces (for tests).
        @param rng: the random source of SSDP delays (for tests).
        @param ssdpPort: the SSDP port (for tests; SSDP is port 1900).
        @param eventing: the GENA settings.
        """
        super().__init__()
        if reactor is None:
            from twisted.internet import reactor
        # An IReactorTCP, IReactorMulticast and IReactorTime at once.
        self._reactor: Any = reactor
        overrides: dict[str, Any] = {}
        if interfaces is not None:
            overrides["interfaces"] = tuple(dict.fromkeys(interfaces))
        if httpPort is not None:
            overrides["httpPort"] = httpPort
        self.network = dataclasses.replace(network, **overrides)
        self.device = device
        self.site = DeviceSite(device, reactor=reactor, eventing=eventing)
        self._adapters = adapters
        self._ports: list[IListeningPort] = []
        self.bindings: tuple[HTTPBinding, ...] = ()
        self._waiting: list[defer.Deferred[tuple[HTTPBinding, ...]]] = []
        self._random = rng or random.Random()
        self._ssdpPortNumber = ssdpPort
        self._ssdpPort: Any = None
        self.ssdp: SSDPServer | None = None
        self._bootId = 0

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
        loaded = configmodule.load(path, machineId=machineId)
        return cls(
            loaded.device,
            loaded.network,
            reactor=reactor,
            interfaces=interfaces,
            httpPort=httpPort,
            eventing=loaded.eventing,
        )

    def whenListening(self) -> defer.Deferred[tuple[HTTPBinding, ...]]:
        """
        A Deferred that fires with L{bindings} once the HTTP server listens.
        """
        if self.bindings:
            return defer.succeed(self.bindings)
        d: defer.Deferred[tuple[HTTPBinding, ...]] = defer.Deferred()
        self._waiting.append(d)
        return d

    def startService(self) -> None:
        """
        Listen on every configured interface.

        @raise StartError: when an interface is unusable or a port cannot be
            listened on (TCP listens at once, so this is synchronous).
        """
        try:
            addresses = netif.resolve(self.network.interfaces, self._adapters)
        except netif.InterfaceError as e:
            self._fail(Failure(StartError(str(e))))
            raise StartError(str(e)) from None
        super().startService()
        # Again after a stop: subscriptions start afresh.
        self.site.startEventing()
        results = [
            endpoints.TCP4ServerEndpoint(
                self._reactor, self.network.httpPort, interface=address.address
            ).listen(self.site)
            for address in addresses
        ]
        listening = defer.DeferredList(results, consumeErrors=True)
        listening.addCallback(self._listened, addresses)
        if not listening.called:
            listening.addErrback(self._failedLater)
            return
        # TCP endpoints listen at once: report a failure to our caller.
        failures: list[Failure] = []
        listening.addErrback(failures.append)
        if failures:
            super().stopService()
            self._fail(failures[0])
            failures[0].raiseException()

    def _failedLater(self, failure: Failure) -> None:
        self.log.failure("Cannot start {name}", failure, name=self.device.friendlyName)
        self._fail(failure)

    def _fail(self, failure: Failure) -> None:
        """
        Tell whoever waits in L{whenListening} that the start failed.
        """
        waiting, self._waiting = self._waiting, []
        for d in waiting:
            d.errback(failure)

    def _listened(
        self,
        outcomes: list[tuple[bool, Any]],
        addresses: Sequence[netif.InterfaceAddress],
    ) -> None:
        ports = [result for ok, result in outcomes if ok]
        failed = [result for ok, result in outcomes if not ok]
        if failed:
            for port in ports:
                port.stopListening()
            raise StartError(_listen_failure(failed[0], self.network.httpPort))
        bindings = tuple(
            HTTPBinding(address, port.getHost().port)
            for address, port in zip(addresses, ports)
        )
        protocol = SSDPProtocol(self._reactor)
        try:
            self._ssdpPort = ssdpsocket.listen(
                self._reactor,
                protocol,
                addresses,
                ttl=self.network.ttl,
                port=self._ssdpPortNumber,
            )
        except OSError as e:
            for port in ports:
                port.stopListening()
            raise StartError(
                f"cannot open the SSDP socket on port {self._ssdpPortNumber}: {e}"
            ) from None
        self._ports = ports
        self.bindings = bindings
        # BOOTID: seconds since the epoch in 31 bits, and more than the last.
        self._bootId = max(self._bootId + 1, int(self._reactor.seconds()) & 0x7FFFFFFF)
        self.ssdp = SSDPServer(
            device=self.device,
            configId=self.site.descriptions.configId,
            bindings=bindings,
            sender=protocol,
            clock=self._reactor,
            rng=self._random,
            bootId=self._bootId,
            maxAge=self.network.maxAge,
        )
        protocol.server = self.ssdp
        self.ssdp.start()
        for binding in self.bindings:
            self.site.addAddress(
                binding.interface.address, binding.port, binding.interface.network
            )
            self.log.info(
                "Serving {name} on {interface} at {location}",
                name=self.device.friendlyName,
                interface=binding.interface.name,
                location=binding.location,
            )
        waiting, self._waiting = self._waiting, []
        for d in waiting:
            d.callback(self.bindings)

    def stopService(self) -> defer.Deferred[None]:
        """
        Say byebye over SSDP, then stop listening, then stop the children.

        @return: fires once the byebye set is sent and every port is closed;
            twistd waits for it before the process exits.
        """
        ssdpServer, self.ssdp = self.ssdp, None
        ssdpPort, self._ssdpPort = self._ssdpPort, None
        ports, self._ports = self._ports, []
        for binding in self.bindings:
            self.site.removeAddress(binding.interface.address, binding.port)
        self.bindings = ()
        self.site.stopEventing()
        stopped = ssdpServer.stop() if ssdpServer is not None else defer.succeed(None)

        def close(_: object) -> defer.Deferred[Any]:
            closing = [port.stopListening for port in ports]
            if ssdpPort is not None:
                closing.append(ssdpPort.stopListening)
            closing.append(self.site.notifier.close)
            return defer.gatherResults([defer.maybeDeferred(f) for f in closing])

        stopped.addCallback(close)
        stopped.addCallback(lambda _: super(UPnPService, self).stopService())
        stopped.addCallback(lambda _: None)
        return stopped


def _listen_failure(failure: Failure, port: int) -> str:
    error = failure.value
    where = f"port {port}" if port else "a free port"
    return f"cannot listen for HTTP on {where}: {error}"
