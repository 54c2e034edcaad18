"""
The page a device serves at its presentationURL (what Windows opens on a
double-click): the device's facts, each service's state variables updated
live (Server-Sent Events from the device), and, in C{"full"} mode, each
action as a form whose fields follow the SCPD. Rendered once per device, as
bytes: self-contained (no CDN, no build step), small, accessible, readable
on a phone; everything from the model escaped.
"""

from __future__ import annotations

import json
from html import escape

from upnp_announce import datatypes
from upnp_announce.model import Action, Device, Service, StateVariable
from upnp_announce.wire.description import Layout

__all__ = ["EVENTS", "CALL", "page_paths", "presentation_page"]

# The page's own endpoints, under the device's prefix.
EVENTS = "/_page/events"
CALL = "/_page/call"

_INTEGER_BOUNDS = {
    "ui1": (0, 255), "ui2": (0, 65535), "ui4": (0, 2**32 - 1), "ui8": (0, 2**64 - 1),
    "i1": (-128, 127), "i2": (-32768, 32767), "i4": (-(2**31), 2**31 - 1),
    "i8": (-(2**63), 2**63 - 1), "int": (None, None),
}

_STYLE = """
:root{color-scheme:light dark;--line:#8885;--accent:#2563eb}
*{box-sizing:border-box}
body{font:16px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;
max-width:52rem;padding:1rem}
header{display:flex;gap:1rem;align-items:center}
header img{width:4rem;height:4rem;object-fit:contain}
h1{font-size:1.6rem;margin:.2rem 0}h2{font-size:1.2rem;margin:1.5rem 0 .5rem}
h3{font-size:1rem;margin:.8rem 0 .4rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:1rem 0}
dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}
section{border-top:1px solid var(--line);margin-top:1rem}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.3rem .4rem;border-bottom:1px solid var(--line);
overflow-wrap:anywhere}
output.value{font-family:ui-monospace,monospace}
form{border:1px solid var(--line);border-radius:.4rem;padding:.6rem;margin:.6rem 0}
label{display:block;margin:.3rem 0}
input,select,button{font:inherit;padding:.3rem .5rem;max-width:100%}
button{background:var(--accent);color:#fff;border:0;border-radius:.3rem;cursor:pointer}
button:focus-visible,input:focus-visible,select:focus-visible{outline:3px solid var(--accent);
outline-offset:2px}
.result{display:block;margin-top:.4rem;font-family:ui-monospace,monospace;white-space:pre-wrap}
.fault{color:#b91c1c}.live{font-size:.85rem;opacity:.8}
"""

# The page's behaviour: fill and follow the values (EventSource), and call
# actions (fetch, JSON). Values reach the page as text only (textContent).
_SCRIPT = """
(function(){
var root=document.documentElement,events=root.dataset.events,call=root.dataset.call;
var status=document.getElementById("live");
function show(values){
 Object.keys(values).forEach(function(service){
  var vars=values[service];
  Object.keys(vars).forEach(function(name){
   var cell=document.querySelector('output[data-service="'+CSS.escape(service)+
    '"][data-variable="'+CSS.escape(name)+'"]');
   if(cell){cell.textContent=vars[name]===null?"\\u2014":vars[name];}
  });
 });
}
function connect(){
 var source=new EventSource(events);
 source.addEventListener("state",function(e){show(JSON.parse(e.data));
  status.textContent="Live";});
 source.onerror=function(){status.textContent="Reconnecting\\u2026";};
}
if(window.EventSource){connect();}else{status.textContent="No live updates here";}
Array.prototype.forEach.call(document.querySelectorAll("form[data-action]"),function(form){
 form.addEventListener("submit",function(e){
  e.preventDefault();
  var out=form.querySelector(".result"),args={};
  Array.prototype.forEach.call(form.elements,function(el){
   if(!el.name){return;}
   args[el.name]=el.type==="checkbox"?(el.checked?"1":"0"):el.value;
  });
  out.className="result";out.textContent="\\u2026";
  fetch(call,{method:"POST",headers:{"Content-Type":"application/json"},
   body:JSON.stringify({service:form.dataset.service,action:form.dataset.action,
   arguments:args})}).then(function(r){return r.json();}).then(function(answer){
   if(answer.fault){out.className="result fault";
    out.textContent="UPnP error "+answer.fault.code+": "+answer.fault.description;}
   else{var names=Object.keys(answer.out);
    out.textContent=names.length?names.map(function(n){return n+" = "+answer.out[n];})
    .join("\\n"):"Done";}
  }).catch(function(err){out.className="result fault";out.textContent=String(err);});
 });
});
})();
"""


def page_paths(plan: Layout, device: Device) -> tuple[str, str, str] | None:
    """
    Where a device's page and its two endpoints are: (page, events, call),
    or C{None} when it has no page of ours.
    """
    page = plan.presentation.get(device.UDN)
    if page is None:
        return None
    prefix = plan.prefixes.get(device.UDN, "")
    return page, prefix + EVENTS, prefix + CALL


def _link(text: str, url: str | None) -> str:
    if url and url.lower().startswith(("http://", "https://")):
        return f'<a href="{escape(url)}">{escape(text)}</a>'
    return escape(text)


def _facts(device: Device) -> list[tuple[str, str]]:
    model = " ".join(filter(None, (device.modelName, device.modelNumber)))
    rows = [
        ("Manufacturer", _link(device.manufacturer, device.manufacturerURL)),
        ("Model", _link(model, device.modelURL)),
    ]
    if device.modelDescription:
        rows.append(("Description", _link(device.modelDescription, device.modelURL)))
    if device.serialNumber:
        rows.append(("Serial number", escape(device.serialNumber)))
    rows.append(("Device type", escape(device.deviceType)))
    rows.append(("UDN", escape(device.UDN)))
    return rows


def _field(action: Action, argument_name: str, variable: StateVariable, key: str) -> str:
    """
    One in-argument as a labelled form field that follows its variable.
    """
    ident = escape(f"{key}-{action.name}-{argument_name}")
    name = escape(argument_name)
    label = f'<label for="{ident}">{name} <small>({escape(variable.dataType)})</small></label>'
    default = variable.defaultValue or ""
    if variable.dataType == "boolean":
        checked = " checked" if default.strip().lower() in ("1", "true", "yes") else ""
        return (f'<label><input type="checkbox" id="{ident}" name="{name}"{checked}> '
                f'{name}</label>')
    if variable.allowedValues is not None:
        options = "".join(
            f'<option{" selected" if v == default else ""}>{escape(v)}</option>'
            for v in variable.allowedValues
        )
        return f'{label}<select id="{ident}" name="{name}">{options}</select>'
    if datatypes.is_numeric(variable.dataType):
        attributes = []
        r = variable.allowedValueRange
        low, high = _INTEGER_BOUNDS.get(variable.dataType, (None, None))
        if r is not None:
            low, high = r.minimum, r.maximum  # type: ignore[assignment]
        if low is not None:
            attributes.append(f'min="{escape(str(low))}"')
        if high is not None:
            attributes.append(f'max="{escape(str(high))}"')
        integral = variable.dataType in _INTEGER_BOUNDS
        step = r.step if r is not None and r.step is not None else ("1" if integral else "any")
        attributes.append(f'step="{escape(step)}"')
        return (f'{label}<input type="number" id="{ident}" name="{name}" required '
                f'value="{escape(default)}" {" ".join(attributes)}>')
    maxlength = f' maxlength="{variable.maxLength}"' if variable.maxLength else ""
    return (f'{label}<input type="text" id="{ident}" name="{name}" '
            f'value="{escape(default)}"{maxlength}>')


def _service(service: Service, key: str, full: bool) -> list[str]:
    sid = escape(service.serviceId)
    variables = {v.name: v for v in service.description.stateVariables}
    parts = [
        f'<section aria-labelledby="s-{escape(key)}">',
        f'<h2 id="s-{escape(key)}">{escape(service.serviceId.rsplit(":", 1)[-1])}</h2>',
        f"<p><small>{escape(service.serviceType)}</small></p>",
        "<table><caption>State variables</caption>",
        '<thead><tr><th scope="col">Name</th><th scope="col">Type</th>'
        '<th scope="col">Value</th></tr></thead><tbody>',
    ]
    for variable in service.description.stateVariables:
        evented = " <small>(evented)</small>" if variable.sendEvents else ""
        parts.append(
            f"<tr><th scope=\"row\">{escape(variable.name)}{evented}</th>"
            f"<td>{escape(variable.dataType)}</td>"
            f'<td><output class="value" data-service="{sid}" '
            f'data-variable="{escape(variable.name)}">\u2026</output></td></tr>'
        )
    parts.append("</tbody></table>")
    if full and service.description.actions:
        parts.append("<h3>Actions</h3>")
        for action in service.description.actions:
            fields = [
                _field(action, a.name, variables[a.relatedStateVariable], key)
                for a in action.inArguments
            ]
            parts.append(
                f'<form data-service="{sid}" data-action="{escape(action.name)}">'
                f"<fieldset><legend>{escape(action.name)}</legend>"
                + "".join(fields)
                + f'<button type="submit">Call {escape(action.name)}</button>'
                '<output class="result" role="status" aria-live="polite"></output>'
                "</fieldset></form>"
            )
    parts.append("</section>")
    return parts


def presentation_page(device: Device, plan: Layout) -> bytes:
    """
    The page of C{device} (its mode says whether actions are offered).
    """
    paths = page_paths(plan, device)
    events, call = (paths[1], paths[2]) if paths is not None else ("", "")
    full = device.presentation == "full"
    icon = plan.icons.get((device.UDN, 0))
    name = escape(device.friendlyName)
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="en" data-events="{escape(events)}" data-call="{escape(call)}">',
        '<head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<meta name=\"referrer\" content=\"no-referrer\">",
        f"<title>{name}</title><style>{_STYLE}</style></head><body>",
        "<header>",
    ]
    if icon is not None:
        parts.append(f'<img src="{escape(icon)}" alt="">')
    parts.append(f'<div><h1>{name}</h1><p class="live" id="live" role="status">'
                 "Connecting\u2026</p></div></header><main>")
    parts.append("<dl>" + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in _facts(device))
                 + "</dl>")
    if device.devices:
        parts.append("<h2>Embedded devices</h2><ul>")
        for child in device.devices:
            page = plan.presentation.get(child.UDN) or child.presentationURL
            label = f"{child.friendlyName} ({child.deviceType})"
            parts.append(
                f'<li><a href="{escape(page)}">{escape(label)}</a></li>' if page
                else f"<li>{escape(label)}</li>"
            )
        parts.append("</ul>")
    for index, service in enumerate(device.services):
        parts.extend(_service(service, f"s{index}", full))
    parts.append(f'<p><a href="{escape(plan.description)}">Device description</a></p>')
    parts.append(f"</main><script>{_SCRIPT}</script></body></html>\n")
    return "".join(parts).encode("utf-8")


def state_json(values: dict[str, dict[str, str | None]]) -> str:
    """
    The page's state message: service id to variable to text.
    """
    return json.dumps(values, separators=(",", ":"))
