"""
The device side: the SSDP server and socket (discovery), the HTTP site with
its descriptions, control and eventing resources, and L{UPnPService}, the
runnable device. It imports the shared layer (L{upnp_announce.model},
L{upnp_announce.datatypes}, L{upnp_announce.settings},
L{upnp_announce.wire}), never L{upnp_announce.client}.
"""
