"""
The built-in C{binarylight} provider, where earlier releases documented it;
it lives in L{upnp_announce.plugins.binarylight}.
"""

from upnp_announce.plugins.binarylight import BinaryLight, SwitchPower, binarylight

__all__ = ["BinaryLight", "SwitchPower", "binarylight"]
