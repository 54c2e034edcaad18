"""
The provider interfaces, where earlier releases documented them; they live
in L{upnp_announce.provider} with the rest of the provider API.
"""

from upnp_announce.provider import IDeviceProvider, IProviderFactory, IServiceProvider

__all__ = ["IDeviceProvider", "IProviderFactory", "IServiceProvider"]
