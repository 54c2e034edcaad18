"""
upnp_announce: UPnP root devices for Twisted, from an INI file or a few lines
of Python.
"""

from upnp_announce._version import __version__
from upnp_announce.config import Config, ConfigError
from upnp_announce.device.runner import HTTPBinding, StartError, UPnPService
from upnp_announce.model import (
    Action,
    AllowedValueRange,
    Argument,
    Device,
    Icon,
    ModelError,
    Service,
    ServiceDescription,
    StateVariable,
)
from upnp_announce.settings import EventingSettings, NetworkSettings
from upnp_announce.wire.soap import UPnPError

__all__ = [
    "Action",
    "AllowedValueRange",
    "Argument",
    "Config",
    "ConfigError",
    "EventingSettings",
    "Device",
    "HTTPBinding",
    "Icon",
    "ModelError",
    "NetworkSettings",
    "Service",
    "ServiceDescription",
    "StartError",
    "StateVariable",
    "UPnPError",
    "UPnPService",
    "__version__",
]
