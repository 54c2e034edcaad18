"""
The security group: DNS rebinding (a host name in Host), a SOAP body with a
DOCTYPE, a CALLBACK aimed at another host of the tester's own link
(CallStranger), and an oversized body. Each probe is made so that a device
that gets it wrong changes nothing: the calls name a nonexistent action,
and a subscription wrongly granted is ended at once.
"""

from __future__ import annotations

import ipaddress
import itertools
from collections.abc import Callable, Iterable
from typing import Any

from upnp_announce import netif
from upnp_announce.client.common import ClientError, NoAnswer, first_header
from upnp_announce.client.conform import calls
from upnp_announce.client.conform.catalog import Verdicts
from upnp_announce.client.conform.eventing import SUBSCRIPTION, evented
from upnp_announce.client.conform.probe import Probe
from upnp_announce.wire import soap

__all__ = ["check", "other_address"]

# What an expanded entity would read as.
ENTITY = "xconform-entity-expanded"
BIG = 1 << 20


def other_address(
    local: str, taken: Iterable[str], adapters: Iterable[netif.Adapter]
) -> str | None:
    """
    The first address of C{local}'s subnet (as our interfaces say) that is
    neither the subnet's network or broadcast address nor in C{taken} (ours,
    the device's): a host on the tester's own link that did not subscribe.
    C{None} when the subnet has none.
    """
    ip = ipaddress.ip_address(local.split("%", 1)[0])
    used = {str(ipaddress.ip_address(a.split("%", 1)[0])) for a in taken}
    for adapter in adapters:
        for address, prefix in adapter.addresses:
            try:
                if ipaddress.ip_address(address.split("%", 1)[0]) != ip:
                    continue
            except ValueError:
                continue
            network = ipaddress.ip_interface(f"{ip}/{prefix}").network
            used.update(a.split("%", 1)[0] for a, _ in adapter.addresses)
            # Among one more host than are used, one is free (if the subnet
            # has that many).
            for host in itertools.islice(network.hosts(), len(used) + 1):
                if str(host) not in used:
                    return str(host)
            return None
    return None


async def check(
    probe: Probe,
    verdicts: Verdicts,
    adapters: Callable[[], Iterable[netif.Adapter]] = netif.system_adapters,
) -> None:
    await _host(probe, verdicts)
    services = probe.services()
    if services:
        await _doctype(probe, verdicts, services[0])
        await _body(probe, verdicts, services[0])
    else:
        verdicts.skip("SEC-DOCTYPE", probe.noService("a controlURL"))
        verdicts.skip("SEC-BODY", probe.noService("a controlURL"))
    await _callback(probe, verdicts, adapters)


async def _host(probe: Probe, verdicts: Verdicts) -> None:
    try:
        status, _, _ = await probe.exchange(b"GET", probe.location,
                                            {b"host": b"xconform.example:80"}, limit=1 << 20)
    except NoAnswer as e:
        verdicts.warn("SEC-HOST", f"neither refused nor answered: {e}")
        return
    except ClientError as e:
        verdicts.ok("SEC-HOST", f"refused ({e})")
        return
    verdicts.check("SEC-HOST", [] if status != 200 else [
        "a GET of LOCATION with Host: xconform.example:80 was answered 200"],
        f"refused (HTTP {status})")


async def _doctype(probe: Probe, verdicts: Verdicts, service: Any) -> None:
    serviceType = service.remote.serviceType
    body = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<!DOCTYPE s:Envelope [<!ENTITY x "{ENTITY}">]>\n'
        f'<s:Envelope xmlns:s="{soap.ENVELOPE_NS}"><s:Body>'
        f'<u:{calls.NO_SUCH_ACTION} xmlns:u="{serviceType}"><X>&x;</X>'
        f'</u:{calls.NO_SUCH_ACTION}></s:Body></s:Envelope>'
    ).encode()
    answer = await _refused(probe, verdicts, "SEC-DOCTYPE", "a body with a DOCTYPE", service,
                            body)
    if ENTITY.encode() in answer:
        verdicts.fail("SEC-DOCTYPE", "the entity was expanded into the answer")


async def _body(probe: Probe, verdicts: Verdicts, service: Any) -> None:
    call = soap.request(service.remote.serviceType, calls.NO_SUCH_ACTION, [])
    head, _, tail = call.partition(b"<s:Body>")
    body = head + b"<s:Body>" + b" " * (BIG - len(call)) + tail
    await _refused(probe, verdicts, "SEC-BODY", f"a {BIG} byte body", service, body)


async def _refused(
    probe: Probe, verdicts: Verdicts, id: str, what: str, service: Any, body: bytes
) -> bytes:
    """
    POST C{body} (a call of no action) to C{service}'s controlURL: C{id}
    passes when the device refuses it unread (no answer, no fault); give
    the answer's body.
    """
    try:
        status, _, answer = await calls.call(probe, service, calls.NO_SUCH_ACTION, [], body=body)
    except NoAnswer as e:
        verdicts.warn(id, f"neither refused nor answered: {e}")
        return b""
    except ClientError as e:
        verdicts.ok(id, f"refused ({e})")
        return b""
    error, _ = calls.read_fault(status, answer)
    if status == 200 or error is not None:
        verdicts.fail(id, f"{what} was read (HTTP {status}"
                      + (f", UPnP error {error})" if error is not None else ")"))
    else:
        verdicts.ok(id, f"refused (HTTP {status})")
    return answer


async def _callback(
    probe: Probe, verdicts: Verdicts, adapters: Callable[[], Iterable[netif.Adapter]]
) -> None:
    chosen = [s for s in probe.services() if probe.onHost(s.remote.eventSubURL) and evented(s)]
    if not chosen:
        verdicts.skip("SEC-CALLBACK", probe.noService("evented variables and an eventSubURL"))
        return
    local = probe.point.localAddress(probe.host)
    other = other_address(local, [local, probe.host], adapters())
    if other is None:
        verdicts.skip("SEC-CALLBACK", f"no other address on the subnet of {local}")
        return
    literal = f"[{other}]" if ":" in other else other
    url = chosen[0].remote.eventSubURL
    headers = {b"callback": f"<http://{literal}:9/xconform>".encode(), b"nt": b"upnp:event",
               b"timeout": SUBSCRIPTION}
    try:
        status, answer, _ = await probe.exchange(b"SUBSCRIBE", url, headers, limit=65536)
    except ClientError as e:
        verdicts.fail("SEC-CALLBACK", str(e))
        return
    if status == 200:
        sid = first_header(answer, b"sid")
        if sid:
            await probe.unsubscribe(url, sid)
        verdicts.fail("SEC-CALLBACK", f"a CALLBACK to {other} (not the subscriber {local}) "
                      "was accepted")
    else:
        verdicts.ok("SEC-CALLBACK", f"a CALLBACK to {other} was refused (HTTP {status})")
