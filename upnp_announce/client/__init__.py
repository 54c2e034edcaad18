"""
A control point: find UPnP devices, read their descriptions, call their
actions and subscribe to their events, with Twisted.

It shares the device side's wire formats and data types (the shared layer):
one implementation of SSDP, descriptions, SOAP and GENA serves both sides,
and the model's value checks apply to what it sends. It is liberal in what
devices send (URLBase or not, relative URLs, SIDs without C{uuid:}, bare
TIMEOUT numbers, C{True} for a boolean) and careful with it (no DTDs or
entities, size limits, timeouts). It imports the shared layer, never
L{upnp_announce.device}.
"""

from upnp_announce.client.common import ClientError, NoAnswer, Unreachable
from upnp_announce.client.controlpoint import ControlPoint, local_address_for
from upnp_announce.client.discovery import (
    DeviceTable,
    Found,
    TableEntry,
    TableProtocol,
    discover,
)
from upnp_announce.client.eventing import EventListener, EventSubscription
from upnp_announce.wire.description import (
    DescriptionError,
    RemoteDevice,
    RemoteService,
    parse_device_description,
)

__all__ = [
    "ClientError",
    "NoAnswer",
    "Unreachable",
    "ControlPoint",
    "DescriptionError",
    "DeviceTable",
    "EventListener",
    "EventSubscription",
    "Found",
    "RemoteDevice",
    "RemoteService",
    "TableEntry",
    "TableProtocol",
    "discover",
    "local_address_for",
    "parse_device_description",
]
