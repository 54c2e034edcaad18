# An existing Twisted application with a UPnP device in it.
# Run it with:  twistd -ny examples/embed.tac
from twisted.application import service

from upnp_announce import Device, UPnPService

device = Device(
    deviceType="urn:schemas-upnp-org:device:Basic:1",
    friendlyName="Embedded Jambon",
    manufacturer="Boucherie numerique SAS",
    modelName="Jambon",
    UDN="uuid:7c0e5b0a-1f0e-4e8b-9a55-3d2f7b9e6c41",
)
application = service.Application("jambon")
# "lo" keeps the device on this machine; name your LAN interface to be seen.
UPnPService(device, interfaces=["lo"]).setServiceParent(application)
