"""
The rules of the conformance tester, and what it found: one L{Finding} per
rule, kept by a L{Verdicts} while a group runs.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "GROUPS", "RULES", "FAIL", "PASS", "SKIP", "WARN", "Finding", "Rule", "Verdicts", "digits",
    "printable", "rule",
]

PASS, FAIL, WARN, SKIP = "PASS", "FAIL", "WARN", "SKIP"
# The worse of two statuses wins when a rule is checked several times.
_WEIGHT = {SKIP: 0, PASS: 1, WARN: 2, FAIL: 3}

GROUPS = ("ssdp", "description", "scpd", "control", "eventing", "security")


@dataclass(frozen=True)
class Rule:
    """
    One rule: its id (C{SSDP-ALL}), group, what it checks, and where the
    specifications say so.
    """

    id: str
    group: str
    checks: str
    section: str


def _rules(group: str, *rows: tuple[str, str, str]) -> list[Rule]:
    return [Rule(id, group, checks, section) for id, checks, section in rows]


RULES: tuple[Rule, ...] = tuple(
    _rules(
        "ssdp",
        ("SSDP-ALL", "ssdp:all is answered with the whole announcement set (3+2d+k)",
         "UDA 1.1 1.3.2"),
        ("SSDP-ROOT", "upnp:rootdevice is answered once, by the root device", "UDA 1.1 1.3.2"),
        ("SSDP-UUID", "each device's uuid:UDN is answered once", "UDA 1.1 1.3.2"),
        ("SSDP-TYPE", "each device and service type is answered once per device that has it",
         "UDA 1.1 1.3.2"),
        ("SSDP-VERSION", "a lower version is answered with the ST asked for; a higher one is not",
         "UDA 1.1 1.3.2"),
        ("SSDP-HEADERS", "a reply has UDA's header set (extra headers: WARN)", "UDA 1.1 1.3.3"),
        ("SSDP-USN", "USN is uuid:UDN::ST (bare uuid:UDN for a uuid ST), each device its own UDN",
         "UDA 1.1 1.3.3"),
        ("SSDP-MAXAGE", "CACHE-CONTROL is max-age=N (N under 1800 or other directives: WARN)",
         "UDA 1.1 1.3.3"),
        ("SSDP-LOCATION", "LOCATION is an http:// URL on the address searched", "UDA 1.1 1.3.3"),
        ("SSDP-SERVER", "SERVER is 'OS/version UPnP/1.x product/version'", "UDA 1.1 1.3.3"),
        ("SSDP-BOOTID", "BOOTID.UPNP.ORG is present, a 31-bit number, the same in every reply",
         "UDA 1.1 1.3.3"),
        ("SSDP-CONFIGID", "CONFIGID.UPNP.ORG is present and equal to the description's configId",
         "UDA 1.1 1.3.3"),
        ("SSDP-MALFORMED", "malformed searches do not stop the device answering", "UDA 1.1 1.3.2"),
    )
    + _rules(
        "description",
        ("DESC-FETCH", "LOCATION answers 200 with well-formed text/xml", "UDA 1.1 2.11"),
        ("DESC-NAMESPACE", "the root is <root xmlns=\"urn:schemas-upnp-org:device-1-0\">",
         "UDA 1.1 2.3"),
        ("DESC-SPEC", "specVersion has a major and a minor number, major 1 or 2", "UDA 1.1 2.3"),
        ("DESC-CONFIGID", "the root has configId (0..16777215); UDA 1.0 without it: WARN",
         "UDA 1.1 2.3"),
        ("DESC-FIELDS", "every device has deviceType, friendlyName, manufacturer, modelName, UDN; "
         "UPC is 12 digits", "UDA 1.1 2.3"),
        ("DESC-LENGTHS", "fields within UDA's lengths (a 'should': WARN)", "UDA 1.1 2.3"),
        ("DESC-UDN", "every UDN is uuid: and an RFC 4122 UUID, unique in the tree",
         "UDA 1.1 1.1.4, 2.3"),
        ("DESC-SERVICES", "every service has serviceType, serviceId (unique), SCPDURL, controlURL, "
         "eventSubURL", "UDA 1.1 2.3"),
        ("DESC-URLS", "every URL resolves on the device's own host; presentationURL answers 200",
         "UDA 1.1 2.3"),
        ("DESC-ICONS", "every icon answers 200 and its type and size match its bytes",
         "UDA 1.1 2.3"),
        ("DESC-URLBASE", "no URLBase in a UDA 1.1 (or later) description (WARN: deprecated)",
         "UDA 1.1 2.3"),
    )
    + _rules(
        "scpd",
        ("SCPD-FETCH", "every SCPDURL answers 200 with well-formed XML rooted at <scpd>",
         "UDA 1.1 2.5"),
        ("SCPD-TYPES", "every dataType is a UPnP data type", "UDA 1.1 2.5"),
        ("SCPD-ACTIONS", "action and argument names, directions (in before out), retval",
         "UDA 1.1 2.5"),
        ("SCPD-RELATED", "every relatedStateVariable is declared", "UDA 1.1 2.5"),
        ("SCPD-VALUES", "defaults, ranges and allowed lists are values of their type, "
         "defaults inside them", "UDA 1.1 2.5"),
        ("SCPD-EVENTED", "a service with evented variables has an eventSubURL "
         "(one without: WARN)", "UDA 1.1 2.3, 2.5"),
    )
    + _rules(
        "control",
        ("CTRL-ANSWER", "a query action answers 200 with its out-arguments in order",
         "UDA 1.1 3.2.2"),
        ("CTRL-401", "an unknown action is answered HTTP 500 with UPnP error 401",
         "UDA 1.1 3.2.2"),
        ("CTRL-FAULT", "a fault is s:Fault, s:Client, UPnPError, detail/UPnPError "
         "with errorCode and errorDescription", "UDA 1.1 3.2.2"),
        ("CTRL-402", "a missing or an extra argument is UPnP error 402", "UDA 1.1 3.2.2"),
        ("CTRL-600", "a value not of its type is UPnP error 600", "UDA 1.1 3.2.2"),
        ("CTRL-601", "a value out of its range or list is UPnP error 601", "UDA 1.1 3.2.2"),
        ("CTRL-SOAPACTION", "a SOAPACTION that does not name the call is refused",
         "UDA 1.1 3.2.1"),
        ("CTRL-CTYPE", "a call that is not text/xml is refused", "UDA 1.1 3.2.1"),
    )
    + _rules(
        "eventing",
        ("EVT-SUBSCRIBE", "SUBSCRIBE with CALLBACK, NT and TIMEOUT is answered 200",
         "UDA 1.1 4.1.2"),
        ("EVT-SID", "the SID is uuid:...", "UDA 1.1 4.1.2"),
        ("EVT-TIMEOUT", "TIMEOUT is Second-N", "UDA 1.1 4.1.2"),
        ("EVT-SEQ0", "the initial event comes, with SEQ 0", "UDA 1.1 4.2.1"),
        ("EVT-NOTIFY", "an event is NOTIFY with NT, NTS, SID, text/xml and an e:propertyset",
         "UDA 1.1 4.2.1"),
        ("EVT-VALUES", "the initial event holds every evented variable, each a value of its "
         "type (booleans 0 or 1)", "UDA 1.1 4.2.1, 2.5"),
        ("EVT-RENEW", "a renewal (SID and TIMEOUT) is answered 200 with the same SID",
         "UDA 1.1 4.1.3"),
        ("EVT-UNSUBSCRIBE", "UNSUBSCRIBE is answered 200; the SID is then unknown (412)",
         "UDA 1.1 4.1.4"),
        ("EVT-412", "a wrong NT, no CALLBACK, an unknown SID: 412", "UDA 1.1 4.1.2, 4.1.3"),
        ("EVT-400", "a SID together with NT or CALLBACK: 400", "UDA 1.1 4.1.3"),
        ("EVT-SEQ", "a change is evented with the next SEQ (needs --invoke)", "UDA 1.1 4.2.1"),
    )
    + _rules(
        "security",
        ("SEC-HOST", "a host name in Host is refused (DNS rebinding)", "UDA 2.0 2.1; RFC 7230 5.4"),
        ("SEC-DOCTYPE", "a SOAP body with a DOCTYPE is refused, its entity not expanded",
         "SOAP 1.1 3; UDA 1.1 3.2.1"),
        ("SEC-CALLBACK", "a CALLBACK to another host than the subscriber is refused "
         "(CallStranger)", "UDA 2.0 4.1.2; CVE-2020-12695"),
        ("SEC-BODY", "a 1 MiB SOAP body is refused", "UDA 1.1 3.2.1"),
    )
)

_BY_ID = {r.id: r for r in RULES}


def rule(id: str) -> Rule:
    """
    The rule C{id}.
    """
    return _BY_ID[id]


@dataclass(frozen=True)
class Finding:
    """
    What one rule found: its status (PASS, FAIL, WARN, SKIP) and a detail.
    """

    rule: Rule
    status: str
    detail: str


def digits(text: str) -> bool:
    """
    Whether C{text} is a decimal number in ASCII digits (C{str.isdigit}
    also takes "²", which C{int} refuses).
    """
    return text.isascii() and text.isdigit()


def printable(text: str) -> str:
    """
    A device's text fit for one line of a report (and for XML): control
    characters, line breaks among them, escaped as C{\\xNN}.
    """
    return "".join(
        c if c.isprintable() or c == " " else f"\\x{ord(c):02x}" if ord(c) < 256
        else f"\\u{ord(c):04x}"
        for c in text
    )


class Verdicts:
    """
    The findings of a run, rule by rule: a rule checked several times keeps
    its worst status, with the detail of that status.
    """

    def __init__(self) -> None:
        self._found: dict[str, Finding] = {}

    def _add(self, id: str, status: str, detail: str) -> None:
        # Details quote what devices send: one line, no terminal escapes,
        # nothing XML cannot hold.
        detail = printable(detail)
        old = self._found.get(id)
        if old is not None:
            if _WEIGHT[old.status] > _WEIGHT[status] or old.status == status == PASS:
                return
            if old.status == status and status != PASS:
                if detail in old.detail.split("; ") or len(old.detail) > 300:
                    return
                detail = f"{old.detail}; {detail}"
        self._found[id] = Finding(rule(id), status, detail)

    def ok(self, id: str, detail: str = "") -> None:
        self._add(id, PASS, detail)

    def fail(self, id: str, detail: str) -> None:
        self._add(id, FAIL, detail)

    def warn(self, id: str, detail: str) -> None:
        self._add(id, WARN, detail)

    def skip(self, id: str, detail: str) -> None:
        """
        Skip C{id}, unless it was checked already.
        """
        if id not in self._found:
            self._found[id] = Finding(rule(id), SKIP, printable(detail))

    def check(self, id: str, problems: list[str], detail: str = "") -> None:
        """
        C{id} failed with C{problems}, or passed without any.
        """
        if problems:
            for problem in problems:
                self.fail(id, problem)
        else:
            self.ok(id, detail)

    def has(self, id: str) -> bool:
        return id in self._found

    def status(self, id: str) -> str | None:
        found = self._found.get(id)
        return found.status if found else None

    def findings(self, rules: tuple[Rule, ...], unchecked: str) -> list[Finding]:
        """
        One finding per rule of C{rules}, in their order; a rule never
        checked is skipped for C{unchecked}.
        """
        return [self._found.get(r.id) or Finding(r, SKIP, unchecked) for r in rules]
