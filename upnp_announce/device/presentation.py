"""
The page a device serves at its presentationURL when the configuration gives
none.
"""

from __future__ import annotations

from html import escape

from upnp_announce.model import Device
from upnp_announce.wire.description import Layout

__all__ = ["presentation_page"]


def presentation_page(device: Device, plan: Layout) -> bytes:
    """
    The HTML summary of C{device}.
    """
    rows = [
        ("Device type", device.deviceType),
        ("Manufacturer", device.manufacturer),
        ("Model", " ".join(filter(None, (device.modelName, device.modelNumber)))),
        ("Description", device.modelDescription),
        ("Serial number", device.serialNumber),
        ("UDN", device.UDN),
    ]
    services = [p.service.serviceType for p in plan.services if p.device is device]
    icon = plan.icons.get((device.UDN, 0))
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(device.friendlyName)}</title></head><body>",
        f'<h1>{escape(device.friendlyName)}</h1>',
    ]
    if icon is not None:
        parts.append(f'<p><img src="{escape(icon)}" alt=""></p>')
    parts.append("<table>")
    parts.extend(
        f"<tr><th>{escape(label)}</th><td>{escape(value)}</td></tr>"
        for label, value in rows
        if value
    )
    parts.append("</table>")
    if services:
        parts.append("<h2>Services</h2><ul>")
        parts.extend(f"<li>{escape(s)}</li>" for s in services)
        parts.append("</ul>")
    parts.append(
        f'<p><a href="{escape(plan.description)}">Device description</a></p>'
        "</body></html>\n"
    )
    return "\n".join(parts).encode("utf-8")
