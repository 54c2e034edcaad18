"""
SOAP control: the resource at each service's controlURL.

It does all the protocol work for the provider: it finds the action, checks
that the in-arguments are exactly the declared ones, converts and checks each
value against its state variable, runs the provider (sync, Deferred or
coroutine, within 30 s), converts the out-arguments back, and answers with
the response or the UPnP fault that UDA 1.1 prescribes.
"""

from __future__ import annotations

import decimal
import inspect
import io
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.server import NOT_DONE_YET, Request

from upnp_announce import datatypes, soap
from upnp_announce.description import CONTENT_TYPE
from upnp_announce.model import Argument, Service, StateVariable, serves
from upnp_announce.resources import Leaf

__all__ = ["CappedBody", "ControlResource", "Parameter", "check_argument", "parameters"]

MAX_BODY = 65536
ACTION_TIMEOUT = 30.0
XML = CONTENT_TYPE
# What SOAP control takes (UDA 1.1 3.2.1); a request without a
# Content-Type is taken as it, anything else gets 415.
_XML_TYPES = (b"text/xml",)
_M_POST_MAN = "http://schemas.xmlsoap.org/soap/envelope/"


class CappedBody(io.BytesIO):
    """
    A request body that keeps at most C{limit} bytes; C{overflowed} says
    whether more came (or was announced).
    """

    def __init__(self, limit: int, announced: int | None) -> None:
        super().__init__()
        self.limit = limit
        self.overflowed = announced is not None and announced > limit

    def write(self, data: bytes) -> int:  # type: ignore[override]
        if self.overflowed or self.tell() + len(data) > self.limit:
            self.overflowed = True
            return len(data)
        return super().write(data)


@dataclass(frozen=True)
class Parameter:
    """
    An argument with its state variable, and that variable's range parsed
    once (C{low} is C{None} without one).
    """

    name: str
    variable: StateVariable
    low: Any = None
    high: Any = None
    step: Any = None


def parameters(
    arguments: tuple[Argument, ...], variables: Mapping[str, StateVariable]
) -> tuple[Parameter, ...]:
    found = []
    for argument in arguments:
        variable = variables[argument.relatedStateVariable]
        r = variable.allowedValueRange
        if r is None:
            found.append(Parameter(argument.name, variable))
            continue
        found.append(
            Parameter(
                argument.name,
                variable,
                datatypes.parse_value(variable.dataType, r.minimum),
                datatypes.parse_value(variable.dataType, r.maximum),
                datatypes.parse_value(variable.dataType, r.step) if r.step is not None else None,
            )
        )
    return tuple(found)


class ControlResource(Leaf):
    """
    The controlURL of one service: POST (and UDA 1.0's M-POST) of SOAP.
    """

    allowedMethods = (b"POST", b"M-POST")
    log = Logger()

    def __init__(
        self,
        service: Service,
        clock: IReactorTime,
        *,
        timeout: float = ACTION_TIMEOUT,
        maxBody: int = MAX_BODY,
    ) -> None:
        super().__init__()
        self.service = service
        self.clock = clock
        self.timeout = timeout
        self.maxBody = maxBody
        variables = {v.name: v for v in service.description.stateVariables}
        # Action name to its in- and out-parameters.
        self._actions: dict[str, tuple[tuple[Parameter, ...], tuple[Parameter, ...]]] = {
            action.name: (
                parameters(action.inArguments, variables),
                parameters(action.outArguments, variables),
            )
            for action in service.description.actions
        }

    # -- the HTTP side -------------------------------------------------------

    def render_POST(self, request: Request) -> bytes | int:
        return self._control(request, request.getHeader(b"soapaction"))

    def render_M_POST(self, request: Request) -> bytes | int:
        # UDA 1.0: MAN: "http://schemas.xmlsoap.org/soap/envelope/"; ns=01
        # and the action in 01-SOAPACTION.
        man = (request.getHeader(b"man") or b"").decode("latin-1")
        uri, _, rest = man.partition(";")
        prefix = rest.strip().partition("=")[2].strip()
        if uri.strip().strip('"') != _M_POST_MAN or not prefix.isdigit():
            request.setResponseCode(400)
            request.setHeader(b"content-type", b"text/plain; charset=utf-8")
            return b"M-POST needs MAN: \"http://schemas.xmlsoap.org/soap/envelope/\"; ns=NN\n"
        return self._control(request, request.getHeader(f"{prefix}-SOAPACTION".encode()))

    def _control(self, request: Request, soapAction: bytes | None) -> bytes | int:
        contentType = (request.getHeader(b"content-type") or b"text/xml").split(b";")[0]
        if contentType.strip().lower() not in _XML_TYPES:
            request.setResponseCode(415)
            request.setHeader(b"content-type", b"text/plain; charset=utf-8")
            return b"SOAP control takes text/xml\n"
        content = request.content
        if content is None or getattr(content, "overflowed", False):
            request.setResponseCode(413)
            request.setHeader(b"content-type", b"text/plain; charset=utf-8")
            return b"The request body is too large\n"
        content.seek(0)
        body = content.read(self.maxBody + 1)
        if len(body) > self.maxBody:
            request.setResponseCode(413)
            return b""
        try:
            call = soap.parse_request(body, maxBytes=self.maxBody)
        except soap.SOAPError as e:
            request.setResponseCode(400)
            request.setHeader(b"content-type", b"text/plain; charset=utf-8")
            return f"Not a SOAP action call: {e}\n".encode()
        result = self._invoke(_soapAction(soapAction), call)
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

    def _send(self, answer: tuple[int, bytes], request: Request, finished: list[bool]) -> None:
        if finished[0]:
            return
        code, body = answer
        request.setResponseCode(code)
        request.setHeader(b"content-type", XML)
        request.setHeader(b"ext", b"")
        request.setHeader(b"content-length", str(len(body)).encode())
        request.write(body)
        request.finish()

    # -- the UPnP side -------------------------------------------------------

    def _invoke(
        self, asked: tuple[str, str] | None, call: soap.SOAPRequest
    ) -> tuple[int, bytes] | defer.Deferred[tuple[int, bytes]]:
        """
        The answer (HTTP status, body) to an action call: at once, or a
        Deferred of it when the provider answers later.
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
            return namespace, name, self._arguments(call, _QUERY)
        if not serves(self.service.serviceType, namespace):
            raise soap.UPnPError(401, f"Invalid Action: this is {self.service.serviceType}")
        if call.namespace is not None and not serves(self.service.serviceType, call.namespace):
            raise soap.UPnPError(
                401, f"Invalid Action: the body calls {call.action} of {call.namespace}"
            )
        known = self._actions.get(name)
        if known is None:
            raise soap.UPnPError(401, f"Invalid Action: no action {name}")
        return namespace, name, self._arguments(call, known[0])

    def _arguments(
        self, call: soap.SOAPRequest, parameters: tuple[Parameter, ...]
    ) -> dict[str, object]:
        given = Counter(argument for argument, _ in call.arguments)
        declared = [p.name for p in parameters]
        missing = [n for n in declared if n not in given]
        extra = sorted(n for n in given if n not in declared)
        repeated = sorted(n for n, count in given.items() if count > 1)
        if missing or extra or repeated:
            what = []
            if missing:
                what.append("missing " + ", ".join(missing))
            if extra:
                what.append("unexpected " + ", ".join(extra))
            if repeated:
                what.append("repeated " + ", ".join(repeated))
            raise soap.UPnPError(402, "Invalid Args: " + "; ".join(what))
        texts = dict(call.arguments)
        return {p.name: check_argument(p, texts[p.name]) for p in parameters}

    def _query(self, provider: Any, arguments: Mapping[str, object]) -> tuple[int, bytes]:
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

    def _respond(self, outputs: object, namespace: str, name: str) -> tuple[int, bytes]:
        _, parameters = self._actions[name]
        declared = [p.name for p in parameters]
        if not isinstance(outputs, Mapping) or sorted(outputs) != sorted(declared):
            self.log.error(
                "Action {name} gave {outputs!r}; its out-arguments are {declared}",
                name=name, outputs=outputs, declared=declared,
            )
            return _fault(soap.UPnPError(501))
        try:
            texts = [
                (p.name, datatypes.format_value(p.variable.dataType, outputs[p.name]))
                for p in parameters
            ]
        except datatypes.InvalidValue as e:
            self.log.error("Action {name} gave a bad out-argument: {error}", name=name, error=e)
            return _fault(soap.UPnPError(501))
        return 200, soap.response(namespace, name, texts)

    def _failed(self, failure: Failure, name: str) -> tuple[int, bytes]:
        if isinstance(failure.value, soap.UPnPError):
            return _fault(failure.value)
        if failure.check(defer.TimeoutError):
            self.log.error("Action {name} did not finish within {timeout} s",
                           name=name, timeout=self.timeout)
            return _fault(soap.UPnPError(501, f"Action Failed: no result within {self.timeout:g} s"))
        self.log.failure("Action {name} failed", failure, name=name)
        return _fault(soap.UPnPError(501))


    def _internalError(self, failure: Failure, name: str) -> tuple[int, bytes]:
        self.log.failure("Answering action {name} failed", failure, name=name)
        return _fault(soap.UPnPError(501))


_QUERY = (Parameter("varName", StateVariable("varName", "string")),)


def _soapAction(header: bytes | None) -> tuple[str, str] | None:
    """
    C{"serviceType#Action"}, quoted or not, as (serviceType, Action).
    """
    if header is None:
        return None
    text = header.decode("latin-1").strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    namespace, sharp, name = text.rpartition("#")
    if not sharp or not namespace or not name:
        return None
    return namespace, name


def check_argument(parameter: Parameter, text: str) -> object:
    """
    An in-argument's Python value, checked against its state variable.

    @raise soap.UPnPError: 600 (not of the type), 601 (out of range, not
        allowed) or 605 (string too long).
    """
    variable = parameter.variable
    if variable.maxLength is not None and len(text) > variable.maxLength:
        raise soap.UPnPError(
            605, f"String Argument Too Long: {parameter.name} has at most "
            f"{variable.maxLength} characters"
        )
    try:
        value = datatypes.parse_value(variable.dataType, text)
    except datatypes.OutOfRange as e:
        raise soap.UPnPError(601, f"Argument Value Out of Range: {parameter.name}: {e}") from None
    except datatypes.InvalidValue as e:
        raise soap.UPnPError(600, f"Argument Value Invalid: {parameter.name}: {e}") from None
    if variable.allowedValues is not None and value not in variable.allowedValues:
        raise soap.UPnPError(
            601, f"Argument Value Out of Range: {parameter.name} is not one of the allowed values"
        )
    if parameter.low is not None and not parameter.low <= value <= parameter.high:
        raise soap.UPnPError(
            601, f"Argument Value Out of Range: {parameter.name} is outside "
            f"{parameter.low}..{parameter.high}"
        )
    if (
        parameter.step is not None
        and isinstance(value, (int, decimal.Decimal))
        and (value - parameter.low) % parameter.step
    ):
        raise soap.UPnPError(
            601, f"Argument Value Out of Range: {parameter.name} is not on a step of "
            f"{parameter.step} from {parameter.low}"
        )
    return value


def _fault(error: soap.UPnPError) -> tuple[int, bytes]:
    return 500, soap.fault(error.code, error.description)
