"""
The shared layer's wire formats, pure bytes to values and back: SSDP
messages (L{ssdp}), device descriptions (L{description}, rendered and
parsed), service descriptions (L{scpd}), SOAP envelopes (L{soap}), GENA
headers and bodies (L{gena}), safe XML parsing (L{xmlsafe}), icon facts
(L{images}), our SERVER token (L{product}), and the twisted.web pieces both
sides share (L{http}: capped bodies and leaf resources). The device side
(L{upnp_announce.device}) and the client side (L{upnp_announce.client}) both
import these; these import neither.
"""
