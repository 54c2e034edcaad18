from upnp_announce.binarylight import binarylight

__all__ = ["binarylight"]
