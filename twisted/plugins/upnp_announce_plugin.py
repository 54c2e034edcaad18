from twisted.application.service import ServiceMaker

upnp = ServiceMaker(
    "upnp_announce",
    "upnp_announce.tap",
    "Run a UPnP root device described by an INI file.",
    "upnp",
)
