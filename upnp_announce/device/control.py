"""
SOAP control: the action invoker, and the resource at each service's
controlURL that adapts HTTP to it.

L{ActionInvoker} does all the protocol work for the provider, as plain calls
on an injected clock: it finds the action, checks that the in-arguments are
exactly the declared ones, converts and checks each value against its state
variable (the model's own check), runs the provider (sync, Deferred or
coroutine, within 30 s), converts the out-arguments back, and gives the
response or the UPnP fault that UDA 1.1 prescribes. L{ControlResource} reads
the request (methods, content type, body size, SOAPACTION) and writes the
answer.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Mapping
from typing import Any

from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime
from twisted.python.failure import Failure
from twisted.web.server import NOT_DONE_YET, Request

from upnp_announce import datatypes
from upnp_announce.logs import Sparse, logger
from upnp_announce.model import Action, Argument, Service, StateVariable, serves
from upnp_announce.wire import soap
from upnp_announce.wire.http import MAX_BODY, Leaf
from upnp_announce.wire.xmlsafe import CONTENT_TYPE

__all__ = [
    "ACTION_TIMEOUT",
    "ActionInvoker",
    "Answer",
    "ControlResource",
    "check_argument",
    "parse_soapaction",
]

ACTION_TIMEOUT = 30.0
XML = CONTENT_TYPE
# What SOAP control takes (UDA 1.1 3.2.1); a request without a
# Content-Type is taken as it, anything else gets 415.
_XML_TYPES = (b"text/xml",)
_M_POST_MAN = "http://schemas.xmlsoap.org/soap/envelope/"

Answer = tuple[int, bytes]

# The deprecated QueryStateVariable, as if declared: one string in-argument.
_QUERY = Action("QueryStateVariable", (Argument("varName", "in", "varName"),))
_QUERY_VARIABLES = {"varName": StateVariable("varName", "string")}


class ActionInvoker:
    """
    Calls the actions of one service: SOAP request values in, the answer
    (HTTP status and body) out, at once or as a Deferred when the provider
    answers later.
    """

    log = logger("control")

    def __init__(
        self, service: Service, clock: IReactorTime, *, timeout: float = ACTION_TIMEOUT
    ) -> None:
        self.service = service
        self.clock = clock
        self.timeout = timeout
        self._variables = {v.name: v for v in service.description.stateVariables}
        self._actions = {a.name: a for a in service.description.actions}
        # Each action's out-argument names, sorted (to check what a
        # provider returns), and the namespaces asked for that this
        # service serves or not (control points ask with the same few).
        self._outNames = {
            a.name: sorted(x.name for x in a.outArguments) for a in service.description.actions
        }
        self._served: dict[str, bool] = {}

    def _serves(self, namespace: str) -> bool:
        found = self._served.get(namespace)
        if found is None:
            if len(self._served) >= 64:
                self._served.clear()
            found = self._served[namespace] = serves(self.service.serviceType, namespace)
        return found

    def invoke(
        self, asked: tuple[str, str] | None, call: soap.SOAPRequest
    ) -> Answer | defer.Deferred[Answer]:
        """
        The answer (HTTP status, body) to an action call: at once, or a
        Deferred of it when the provider answers later.

        @param asked: the SOAPACTION header as (serviceType, action), or
            C{None} when there is none (see L{parse_soapaction}).
        """
        try:
            namespace, name, arguments = self._check(asked, call)
        except soap.UPnPError as e:
            return _fault(e)
        provider = self.service.provider
        if name == "QueryStateVariable" and namespace == soap.CONTROL_NS:
            return self._query(provider, arguments)
        if provider is None:
            return _fault(soap.UPnPError(602))
        try:
            outcome = provider.callAction(name, arguments)
            if inspect.iscoroutine(outcome):
                outcome = defer.Deferred.fromCoroutine(outcome)
            if not isinstance(outcome, defer.Deferred):
                return self._respond(outcome, namespace, name)
        except Exception:
            return self._failed(Failure(), name)
        running: defer.Deferred[Any] = outcome
        # A provider still working has 30 s.
        running.addTimeout(self.timeout, self.clock)
        running.addCallbacks(
            self._respond, self._failed, callbackArgs=(namespace, name), errbackArgs=(name,)
        )
        # Whatever goes wrong in between, the control point gets an answer.
        running.addErrback(self._internalError, name)
        return running

    def _check(
        self, asked: tuple[str, str] | None, call: soap.SOAPRequest
    ) -> tuple[str, str, dict[str, object]]:
        """
        The namespace, action and converted in-arguments of a valid call.

        @raise soap.UPnPError: 401, 402, 600, 601 or 605.
        """
        if asked is None:
            raise soap.UPnPError(401, "Invalid Action: no SOAPACTION header")
        namespace, name = asked
        if call.action != name:
            raise soap.UPnPError(
                401, f"Invalid Action: the body calls {call.action}, SOAPACTION says {name}"
            )
        if name == "QueryStateVariable" and namespace == soap.CONTROL_NS:
            return namespace, name, self._arguments(call, _QUERY, _QUERY_VARIABLES)
        if not self._serves(namespace):
            raise soap.UPnPError(401, f"Invalid Action: this is {self.service.serviceType}")
        if call.namespace is not None and not self._serves(call.namespace):
            raise soap.UPnPError(
                401, f"Invalid Action: the body calls {call.action} of {call.namespace}"
            )
        known = self._actions.get(name)
        if known is None:
            raise soap.UPnPError(401, f"Invalid Action: no action {name}")
        return namespace, name, self._arguments(call, known, self._variables)

    def _arguments(
        self, call: soap.SOAPRequest, action: Action, variables: Mapping[str, StateVariable]
    ) -> dict[str, object]:
        problems = action.argumentProblems(argument for argument, _ in call.arguments)
        if problems:
            raise soap.UPnPError(402, "Invalid Args: " + "; ".join(problems))
        texts = dict(call.arguments)
        return {
            a.name: check_argument(a.name, variables[a.relatedStateVariable], texts[a.name])
            for a in action.inArguments
        }

    def _query(self, provider: Any, arguments: Mapping[str, object]) -> Answer:
        """
        The deprecated QueryStateVariable, which old control points use.
        """
        variable = self.service.description.stateVariable(str(arguments["varName"]))
        if variable is None:
            return _fault(soap.UPnPError(404, f"Invalid Var: no {arguments['varName']}"))
        if provider is None:
            return _fault(soap.UPnPError(602))
        try:
            text = datatypes.format_value(variable.dataType, provider.stateValue(variable.name))
        except Exception:
            self.log.failure("Cannot read state variable {name}", name=variable.name)
            return _fault(soap.UPnPError(501))
        return 200, soap.response(soap.CONTROL_NS, "QueryStateVariable", [("return", text)])

    def _respond(self, outputs: object, namespace: str, name: str) -> Answer:
        arguments = self._actions[name].outArguments
        if not isinstance(outputs, Mapping) or sorted(outputs) != self._outNames[name]:
            declared = [a.name for a in arguments]
            self.log.error(
                "Action {name} gave {outputs!r}; its out-arguments are {declared}",
                name=name, outputs=outputs, declared=declared,
            )
            return _fault(soap.UPnPError(501))
        try:
            texts = [
                # (Type only, as before the move: what a provider returns is
                # not held to the ranges and lists of what it is given.)
                (a.name, datatypes.format_value(
                    self._variables[a.relatedStateVariable].dataType, outputs[a.name]))
                for a in arguments
            ]
        except datatypes.InvalidValue as e:
            self.log.error("Action {name} gave a bad out-argument: {error}", name=name, error=e)
            return _fault(soap.UPnPError(501))
        return 200, soap.response(namespace, name, texts)

    def _failed(self, failure: Failure, name: str) -> Answer:
        if isinstance(failure.value, soap.UPnPError):
            return _fault(failure.value)
        if failure.check(defer.TimeoutError):
            self.log.error("Action {name} did not finish within {timeout} s",
                           name=name, timeout=self.timeout)
            return _fault(soap.UPnPError(501, f"Action Failed: no result within {self.timeout:g} s"))
        self.log.failure("Action {name} failed", failure, name=name)
        return _fault(soap.UPnPError(501))

    def _internalError(self, failure: Failure, name: str) -> Answer:
        self.log.failure("Answering action {name} failed", failure, name=name)
        return _fault(soap.UPnPError(501))


class ControlResource(Leaf):
    """
    The controlURL of one service: POST (and UDA 1.0's M-POST) of SOAP.
    """

    allowedMethods = (b"POST", b"M-POST")
    log = logger("control")

    def __init__(
        self,
        service: Service,
        clock: IReactorTime,
        *,
        timeout: float = ACTION_TIMEOUT,
        maxBody: int = MAX_BODY,
        invoker: ActionInvoker | None = None,
    ) -> None:
        """
        @param invoker: the action invoker; by default one for C{service}.
        """
        super().__init__()
        self.invoker = invoker or ActionInvoker(service, clock, timeout=timeout)
        self.maxBody = maxBody
        self._refusals = Sparse(self.log, clock)

    def _refuse(self, request: Request, code: int, reason: str) -> bytes:
        """
        Refuse a request that is no SOAP call we take: C{code}, the reason
        as the body, and a log line (one of a kind every ten seconds).
        """
        address = request.getClientAddress()
        self._refusals.info(
            str(code), "Refused a {method} from {source} ({code}): {reason}",
            method=request.method.decode("latin-1")[:16], source=getattr(address, "host", address),
            code=code, reason=reason,
        )
        request.setResponseCode(code)
        request.setHeader(b"content-type", b"text/plain; charset=utf-8")
        return (reason + "\n").encode()

    def render_POST(self, request: Request) -> bytes | int:
        return self._control(request, request.getHeader(b"soapaction"))

    def render_M_POST(self, request: Request) -> bytes | int:
        # UDA 1.0: MAN: "http://schemas.xmlsoap.org/soap/envelope/"; ns=01
        # and the action in 01-SOAPACTION.
        man = (request.getHeader(b"man") or b"").decode("latin-1")
        uri, _, rest = man.partition(";")
        prefix = rest.strip().partition("=")[2].strip()
        if uri.strip().strip('"') != _M_POST_MAN or not prefix.isdigit():
            return self._refuse(
                request, 400, 'M-POST needs MAN: "http://schemas.xmlsoap.org/soap/envelope/"; ns=NN'
            )
        return self._control(request, request.getHeader(f"{prefix}-SOAPACTION".encode()))

    # The headers of every SOAP answer, besides Server, Date and
    # Content-Length.
    ANSWER_HEADERS = [(b"Content-Type", XML), (b"Ext", b"")]

    def _control(self, request: Request, soapAction: bytes | None) -> bytes | int:
        if not _is_xml(request.getHeader(b"content-type")):
            return self._refuse(request, 415, "SOAP control takes text/xml")
        content = request.content
        if content is None or getattr(content, "overflowed", False):
            return self._refuse(request, 413, "The request body is too large")
        content.seek(0)
        body = content.read(self.maxBody + 1)
        if len(body) > self.maxBody:
            return self._refuse(request, 413, "The request body is too large")
        try:
            call = soap.parse_request(body, maxBytes=self.maxBody)
        except soap.SOAPError as e:
            return self._refuse(request, 400, f"Not a SOAP action call: {e}")
        result = self.invoke(soapAction, call)
        if isinstance(result, tuple):
            # Answered at once (most providers): no Deferred machinery.
            code, answer = result
            request.setResponseCode(code)
            request.setHeader(b"content-type", XML)
            request.setHeader(b"ext", b"")
            return answer
        finished = [False]
        request.notifyFinish().addBoth(lambda _: finished.__setitem__(0, True))
        result.addCallback(self._send, request, finished)
        return NOT_DONE_YET

    def lean(self, contentType: bytes | None, body: bytes) -> soap.SOAPRequest | None:
        """
        The action call of a POST that passes every check of L{_control}
        (content type, size, a well-formed envelope), or C{None} for one
        that does not (L{_control} answers it).
        """
        if not _is_xml(contentType) or len(body) > self.maxBody:
            return None
        try:
            return soap.parse_request(body, maxBytes=self.maxBody)
        except soap.SOAPError:
            return None

    def invoke(
        self, soapAction: bytes | None, call: soap.SOAPRequest
    ) -> Answer | defer.Deferred[Answer]:
        """
        Run an action call, named by the SOAPACTION header's value.
        """
        return self.invoker.invoke(parse_soapaction(soapAction), call)

    def _send(self, answer: Answer, request: Request, finished: list[bool]) -> None:
        if finished[0]:
            return
        code, body = answer
        request.setResponseCode(code)
        request.setHeader(b"content-type", XML)
        request.setHeader(b"ext", b"")
        request.setHeader(b"content-length", str(len(body)).encode())
        request.write(body)
        request.finish()



def _is_xml(contentType: bytes | None) -> bool:
    """
    Whether a Content-Type is one SOAP control takes (none is taken as it).
    """
    return (contentType or b"text/xml").split(b";")[0].strip().lower() in _XML_TYPES


def parse_soapaction(header: bytes | None) -> tuple[str, str] | None:
    """
    C{"serviceType#Action"}, quoted or not, as (serviceType, Action).
    """
    if header is None:
        return None
    return _soapaction(header)


@functools.lru_cache(maxsize=256)
def _soapaction(header: bytes) -> tuple[str, str] | None:
    # (Control points send the same few: each is read once.)
    text = header.decode("latin-1").strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    namespace, sharp, name = text.rpartition("#")
    if not sharp or not namespace or not name:
        return None
    return namespace, name


def check_argument(name: str, variable: StateVariable, text: str) -> object:
    """
    An in-argument's Python value, checked against its state variable (the
    model's check, which the client and provider assignment apply too).

    @raise soap.UPnPError: 600 (not of the type), 601 (out of range, off the
        step, not allowed) or 605 (string too long).
    """
    try:
        return variable.parse(text)
    except datatypes.TooLong as e:
        raise soap.UPnPError(605, f"String Argument Too Long: {name}: {e}") from None
    except datatypes.OutOfRange as e:
        raise soap.UPnPError(601, f"Argument Value Out of Range: {name}: {e}") from None
    except datatypes.InvalidValue as e:
        raise soap.UPnPError(600, f"Argument Value Invalid: {name}: {e}") from None


def _fault(error: soap.UPnPError) -> Answer:
    return 500, soap.fault(error.code, error.description)
