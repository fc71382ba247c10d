"""`tool serve`: the service's REST API on loopback, answering as API Gateway does for the
integrations deployed: Serverless' Lambda proxy integration for functions' http events, and
serverless-step-functions' AWS integration to Step Functions for state machines'.

A route is found as API Gateway finds one: literal path parts before `{param}` ones, `{proxy+}`
last, the method before ANY; no route is 403 `{"message":"Missing Authentication Token"}`. The
stage prefix of the deployed URL (`/dev/...`) is accepted, and so is the bare path.

- The default request template: the JSON body is the execution's input, the request id its name;
  the answer is StartExecution's own, passed through: 200 `{"executionArn", "startDate"}`, or
  Step Functions' 400 error (the integration response selected by status code).
- `request.template: lambda_proxy`: the input is the request as a Lambda-proxy-like event.
- `action` without a template: the body is the action's request (StartExecution,
  StartSyncExecution, DescribeExecution, StopExecution), answered with its response.
- Custom request templates (`request.template` per content type) are rendered with the VTL
  engine (tooling.triggers.vtl): their output is StartExecution's (or StartSyncExecution's)
  request. Response templates are rendered over Step Functions' answer. A template that fails
  is API Gateway's 500 `{"message": "Internal server error"}`, with a line on stderr saying why.
- CORS: the integration response's headers (e.g. Access-Control-Allow-Origin) and the OPTIONS
  preflight's are sent.
- A function's route with another integration (`integration: lambda`, `async: true`, `http`,
  `http-proxy`, `mock`): tooling.triggers.function_integrations.
- A function's route: the function gets API Gateway's proxy event (payload format 1.0) and its
  result is the response (`statusCode`, `headers`, `multiValueHeaders`, `body`); a failed
  function or a malformed result is 502 `{"message": "Internal server error"}`, one slower than
  API Gateway's 29 s integration timeout 504.
- API keys: a `private: true` route answers 403 `{"message":"Forbidden"}` unless `x-api-key`
  holds the value of an enabled key of a usage plan on this API and stage (the local records of
  provider.apiGateway.apiKeys and usagePlan), as API Gateway does. Authorizers the http events
  make run as API Gateway runs them (tooling.triggers.rest_authorizers); AWS_IAM and existing
  authorizers (`authorizerId`) are not checked: said when the server starts.
- The server listens on 127.0.0.1 only, and answers only requests addressed to a loopback
  name (`Host`), so a web page under another name cannot read its answers.
"""

from __future__ import annotations

import base64
import json
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote, urlsplit

from tooling.errors import AlreadyExists, InputError, NotFound, ToolError
from tooling.triggers import vtl
from tooling.triggers.function_integrations import FunctionIntegrations
from tooling.triggers.integration_responses import mapped_headers
from tooling.triggers.rest_authorizers import Denied, LocalAuthorizers
from tooling.triggers.rest_messages import FORM_TYPE as FORM_TYPE
from tooling.triggers.rest_messages import JSON_TYPE as JSON_TYPE
from tooling.triggers.rest_messages import FunctionAnswer as FunctionAnswer
from tooling.triggers.rest_messages import Functions as Functions
from tooling.triggers.rest_messages import GatewayAnswer, execution_failure, overridden
from tooling.triggers.rest_messages import Request as Request
from tooling.triggers.rest_messages import Response as Response
from tooling.triggers.rest_messages import Route as Route

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
SERVE_PORT = 3000  # `tool serve`'s port unless --port says otherwise
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
SYNC_TIMEOUT_SECONDS = 300  # StartSyncExecution waits at most 5 minutes (EXPRESS)
MISSING_TOKEN = {"message": "Missing Authentication Token"}
FORBIDDEN = {"message": "Forbidden"}  # a private route without a valid API key


class Executions(Protocol):
    """The local target's Step Functions calls (tooling.backends.local.LocalBackend)."""

    def start_execution(self, state_machine_arn: str, name: str, input: str) -> dict[str, Any]: ...

    def describe_execution(self, execution_arn: str) -> dict[str, Any]: ...

    def stop_execution(
        self, execution_arn: str, error: str | None = None, cause: str | None = None
    ) -> dict[str, Any]: ...


def _match(route: Route, parts: list[str]) -> dict[str, str] | None:
    """Path parameters when `parts` match the route's path."""
    params: dict[str, str] = {}
    mine = route.parts
    for index, part in enumerate(mine):
        if part.startswith("{") and part.endswith("+}"):
            if index >= len(parts):
                return None
            params[part[1:-2]] = "/".join(parts[index:])
            return params
        if index >= len(parts):
            return None
        if part.startswith("{") and part.endswith("}"):
            params[part[1:-1]] = parts[index]
        elif part != parts[index]:
            return None
    return params if len(mine) == len(parts) else None


def _specificity(route: Route) -> tuple[int, ...]:
    # literal parts first, then {param}, greedy {proxy+} last; a method before ANY
    weights = [2 if not p.startswith("{") else 0 if p.endswith("+}") else 1 for p in route.parts]
    return (*weights, 0 if route.method == "ANY" else 1)


def _epoch(value: Any) -> Any:
    return value.timestamp() if isinstance(value, datetime) else value


def _json(answer: Mapping[str, Any]) -> str:
    """A Step Functions answer as its JSON protocol writes it (dates in epoch seconds)."""
    return json.dumps({key: _epoch(value) for key, value in answer.items()})


def _error(code: str, message: str) -> Response:
    return Response(400, json.dumps({"__type": code, "message": message}))


class LocalApi:
    """Answers requests for one deployed REST API (its local record, in GetResources' shape
    plus "Routes")."""

    def __init__(
        self,
        document: dict[str, Any],
        executions: Executions,
        *,
        account: str,
        new_request_id: Callable[[], str] = lambda: str(uuid.uuid4()),
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
        reload: Callable[[], dict[str, Any] | None] | None = None,
        functions: Functions | None = None,
        api_keys: Callable[[str, str], dict[str, str]] | None = None,
        region: str = "us-east-1",
        deployed_function: Callable[[str], bool] = lambda arn: False,
        log: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
    ) -> None:
        self.executions = executions
        self.integrations = FunctionIntegrations(self)  # a function's non-proxy integrations
        self.log = log  # why a request got API Gateway's 500 (a template that failed)
        # The enabled keys in usage plans on (API id, stage), as deployed now (value -> id);
        # None: keys are not checked (said by `notes`).
        self.api_keys = api_keys
        self.functions = functions
        self.account = account
        self.new_request_id = new_request_id
        self.now = now
        self.sleep = sleep
        self.reload = reload  # the API as deployed now: a deploy while serving is picked up
        self.region = region
        # the REST API's authorizers; `deployed_function`: whether a function ARN is deployed
        self.authorizers = LocalAuthorizers(functions, deployed_function, now)
        # what this thread's request was authorized with ($context.authorizer of templates)
        self._current = threading.local()
        self._use(document)

    def _use(self, document: dict[str, Any]) -> None:
        if getattr(self, "authorizers", None) is not None:
            self.authorizers.forget()  # a new deploy: cached answers may no longer hold
        self.document = document
        self.stage = (document.get("Stages") or [{}])[0].get("stageName", "")
        routes = [Route(r["path"], r["method"], r) for r in document.get("Routes", [])]
        self.routes = sorted(routes, key=_specificity, reverse=True)

    @property
    def background(self) -> list[threading.Thread]:
        """The `async: true` invocations under way."""
        return self.integrations.background

    def close(self) -> None:
        """Ends the functions' warm environments."""
        close = getattr(self.functions, "close", None)
        if close is not None:
            close()

    def notes(self) -> list[str]:
        """What this server does differently from API Gateway, per route (said at start)."""
        notes = []
        keys = self.api_keys(str(self.document.get("id")), self.stage) if self.api_keys else {}
        for route in self.routes:
            doc = route.document
            where = f"{route.method} /{route.path}"
            checks = []
            if doc.get("authorizer"):
                pass  # run locally, or said once per authorizer below
            elif doc.get("authorizationType") not in (None, "NONE"):
                checks.append(f"{doc['authorizationType']} authorization")
                if doc.get("authorizerId"):
                    checks[-1] += f" (authorizer {doc['authorizerId']})"
            if doc.get("apiKeyRequired") and self.api_keys is None:
                checks.append("its API key (private: true)")
            if checks:
                notes.append(f"{where}: {' and '.join(checks)} is not checked locally")
            if doc.get("connectionType") == "VPC_LINK":
                notes.append(
                    f"{where}: its endpoint is behind a VPC link, which is not reachable "
                    "locally: every request is answered 500"
                )
            if doc.get("apiKeyRequired") and self.api_keys is not None and not keys:
                notes.append(
                    f"{where}: private: true and no enabled API key in a usage plan of this API "
                    "(provider.apiGateway.apiKeys): every request is answered 403, as API "
                    "Gateway answers it"
                )
        for authorizer in self.document.get("Authorizers") or []:
            if self.authorizers.checkable(authorizer):
                continue
            file, line, column = (list(authorizer.get("declaredIn") or []) + [None] * 3)[:3]
            where = ":".join(str(p) for p in (file, line, column) if p is not None)
            what = ("a Cognito user pool's token" if authorizer.get("type") == "COGNITO_USER_POOLS"
                    else "a function outside the service")  # fmt: skip
            notes.append(
                f"{where + ': ' if where else ''}authorizer '{authorizer.get('name')}' "
                f"({what}) cannot be checked locally: a request without "
                f"{authorizer.get('identitySource')} is answered 401 as on AWS, one with it "
                "passes unchecked"
            )
        return notes

    def handle(self, request: Request) -> Response:
        if self.reload is not None:
            current = self.reload()
            if current is not None and current != self.document:
                self._use(current)
        parts = [unquote(p) for p in request.path.strip("/").split("/") if p]
        candidates = [parts]
        if parts and parts[0] == self.stage:
            candidates.insert(0, parts[1:])
        for path in candidates:
            for route in self.routes:
                if route.method not in (request.method, "ANY"):
                    continue
                params = _match(route, path)
                if params is not None:
                    return self._answer(route, request, params)
        return Response(
            403,
            json.dumps(MISSING_TOKEN),
            {"x-amzn-ErrorType": "MissingAuthenticationTokenException"},
        )

    # -- one route ------------------------------------------------------------------------------

    def _authorize(
        self, route: Route, request: Request, params: dict[str, str]
    ) -> Response | dict[str, Any] | None:
        """The route's authorizer's answer: API Gateway's refusal, or the integration's
        `requestContext.authorizer` (None: the route has no authorizer)."""
        authorizer = route.document.get("authorizer")
        if not authorizer:
            return None
        path = self._bare_path(request.path).lstrip("/")
        method_arn = (
            f"arn:aws:execute-api:{self.region}:{self.account}:{self.document.get('id', '')}/"
            f"{self.stage}/{request.method}/{path}"
        )
        context = {  # the $context values a REQUEST authorizer's identity source may name
            "identity.sourceIp": "127.0.0.1", "stage": self.stage, "httpMethod": request.method,
            "resourcePath": "/" + route.path, "apiId": str(self.document.get("id", "")),
            "accountId": self.account,
        }  # fmt: skip
        sources = {"header": request.headers, "query": request.query, "stage": {},
                   "context": context}  # fmt: skip

        def request_event() -> dict[str, Any]:
            event = self.proxy_event(route, request, params, self.new_request_id())
            for key in ("body", "isBase64Encoded"):
                event.pop(key, None)
            return event

        answer = self.authorizers.authorize(authorizer, sources, method_arn, request_event)
        if isinstance(answer, Denied):
            return Response(
                answer.status,
                json.dumps(answer.body),
                {"Content-Type": JSON_TYPE, "x-amzn-ErrorType": answer.error_type},
            )
        return answer.context

    def _answer(self, route: Route, request: Request, params: dict[str, str]) -> Response:
        doc = route.document
        authorized = self._authorize(route, request, params)
        if isinstance(authorized, Response):
            return authorized
        self._current.authorizer = authorized
        if doc.get("apiKeyRequired") and self.api_keys is not None:
            given = request.headers.get("x-api-key")
            if not given or given not in self.api_keys(str(self.document.get("id")), self.stage):
                return Response(
                    403, json.dumps(FORBIDDEN), {"x-amzn-ErrorType": "ForbiddenException"}
                )
        kind = doc.get("integrationType")
        if doc.get("functionArn") and kind == "AWS":
            return self.integrations.lambda_(route, request, params)  # `lambda`, `async`
        if doc.get("functionArn") and kind == "HTTP_PROXY":
            return self.integrations.http_proxy(route, request, params)
        if doc.get("functionArn") and kind in ("HTTP", "MOCK"):
            return self.integrations.http_or_mock(route, request, params)
        if doc.get("functionArn"):  # a function's http event: the Lambda proxy integration
            return self._proxy(route, request, params, authorized)
        if doc.get("action") is None:  # a CORS preflight (MOCK integration)
            return Response(200, "", dict(doc.get("preflightHeaders") or {}))
        request_id = self.new_request_id()
        try:
            status, body = self._integration(route, request, params, request_id, authorized)
        except GatewayAnswer as answer:  # API Gateway answers before the integration
            return answer.response
        except ToolError as exc:
            status, body = 400, _error(_code(exc), exc.message).body
        template_input = self.template_input(route, request, params, request_id, body)
        return self._respond(doc, status, body, request_id, template_input)

    def _integration(
        self,
        route: Route,
        request: Request,
        params: dict[str, str],
        request_id: str,
        authorizer: dict[str, Any] | None = None,
    ) -> tuple[int, str]:
        doc = route.document
        kind, action = doc.get("templateKind"), doc["action"]
        machine = str(doc["stateMachineArn"])
        if kind == "none":
            return self._passthrough(action, request)
        content_type = (request.headers.get("content-type") or JSON_TYPE).split(";")[0].strip()
        if content_type not in (JSON_TYPE, FORM_TYPE):  # passthrough NEVER: API Gateway's own
            raise GatewayAnswer(Response(415, json.dumps({"message": "Unsupported Media Type"})))
        text = request.body.decode("utf-8", errors="replace")
        if kind == "custom":
            template = (doc.get("requestTemplates") or {}).get(content_type)
            if template is None:  # no template for this content type, passthrough NEVER
                raise GatewayAnswer(
                    Response(415, json.dumps({"message": "Unsupported Media Type"}))
                )
            rendered = self.render(
                template, self.template_input(route, request, params, request_id, text),
                route, request_id,
            )  # fmt: skip
            return self._templated_action(action, rendered)
        if kind == "lambda_proxy":
            event = self._proxy_event(route, request, params, request_id, text, authorizer)
            payload = json.dumps(event)
        else:  # the default template: $input.json('$')
            try:
                payload = json.dumps(json.loads(text)) if text.strip() else "{}"
            except ValueError as exc:
                message = f"Could not parse request body into json: {exc}"
                raise GatewayAnswer(Response(400, json.dumps({"message": message}))) from None
        if action == "StartSyncExecution":
            return 200, self._start_sync(machine, request_id, payload)
        answer = self.executions.start_execution(machine, request_id, payload)
        return 200, _json(answer)

    def render(
        self,
        template: str,
        given: vtl.TemplateInput,
        route: Route,
        request_id: str,
        *,
        response: bool = False,
        override: vtl.ResponseOverride | None = None,
    ) -> str:
        """The template's output; a template that fails is API Gateway's answer (500, or 400 for
        a request body `$input.json` cannot read), said on the log. A response template's
        `$context.responseOverride` goes to `override`."""
        try:
            return vtl.render(template, given, override)
        except vtl.BadRequestBody as exc:
            if response:
                self.log(
                    f"{route.method} /{route.path}: response template failed: {exc} "
                    f"(request {request_id}: API Gateway answers 500)"
                )
                raise GatewayAnswer(execution_failure(request_id)) from None
            raise GatewayAnswer(Response(400, json.dumps({"message": str(exc)}))) from None
        except vtl.TemplateFailure as exc:
            self.log(
                f"{route.method} /{route.path}: mapping template failed: {exc} "
                f"(request {request_id}: API Gateway answers 500)"
            )
            raise GatewayAnswer(execution_failure(request_id)) from None

    def template_input(
        self, route: Route, request: Request, params: dict[str, str], request_id: str, body: str
    ) -> vtl.TemplateInput:
        """What a mapping template sees of this request: `body` is the payload (the request's,
        or the integration's answer for a response template)."""
        now = self.now()
        path = self._bare_path(request.path)
        given = request.headers.get("x-api-key")
        key_id = None
        if given and route.document.get("apiKeyRequired") and self.api_keys is not None:
            key_id = self.api_keys(str(self.document.get("id")), self.stage).get(given)
        identity: dict[str, Any] = {
            **dict.fromkeys(IDENTITY_KEYS),
            "sourceIp": "127.0.0.1",
            "userAgent": request.headers.get("user-agent"),
            "apiKey": given if key_id else None,
            "apiKeyId": key_id,
        }
        content_type = (request.headers.get("content-type") or JSON_TYPE).split(";")[0].strip()
        headers = dict(request.raw_headers) if request.raw_headers else dict(request.headers)
        for name in [n for n in headers if n.lower() in ("content-length", "connection")]:
            del headers[name]
        return vtl.TemplateInput(
            body=body,
            json_body=content_type.lower().endswith("json"),
            path_params=dict(params),
            query=dict(request.query),
            headers=headers,
            context={
                "accountId": self.account,
                "apiId": self.document.get("id", ""),
                "authorizer": dict(getattr(self._current, "authorizer", None) or {}),
                "domainName": "127.0.0.1",
                "domainPrefix": "127",
                "extendedRequestId": request_id,
                "httpMethod": request.method,
                "identity": identity,
                "path": f"/{self.stage}{path}",
                "protocol": "HTTP/1.1",
                "requestId": request_id,
                "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "requestTimeEpoch": int(now.timestamp() * 1000),
                "resourceId": route.document.get("resourceId", ""),
                "resourcePath": "/" + route.path,
                "stage": self.stage,
            },
        )

    def _templated_action(self, action: str, rendered: str) -> tuple[int, str]:
        """Step Functions' answer to the request a template rendered."""
        try:
            params = json.loads(rendered)
        except ValueError:
            return 400, _error("SerializationException", "the request is not JSON").body
        if not isinstance(params, dict):
            return 400, _error("SerializationException", "the request is not an object").body
        return self._action(action, params)

    def _passthrough(self, action: str, request: Request) -> tuple[int, str]:
        try:
            params = json.loads(request.body or b"{}")
        except ValueError:
            return 400, _error("SerializationException", "the request body is not JSON").body
        if not isinstance(params, dict):
            return 400, _error("SerializationException", "the request body is not an object").body
        return self._action(action, params)

    def _action(self, action: str, params: dict[str, Any]) -> tuple[int, str]:
        if action in ("StartExecution", "StartSyncExecution"):
            machine = str(params.get("stateMachineArn", ""))
            name = str(params.get("name") or uuid.uuid4())
            payload = str(params.get("input", "{}"))
            if action == "StartSyncExecution":
                return 200, self._start_sync(machine, name, payload)
            return 200, _json(self.executions.start_execution(machine, name, payload))
        if action == "DescribeExecution":
            return 200, _json(self.executions.describe_execution(str(params.get("executionArn"))))
        answer = self.executions.stop_execution(
            str(params.get("executionArn")), params.get("error"), params.get("cause")
        )
        return 200, _json(answer)

    def _start_sync(self, machine: str, name: str, payload: str) -> str:
        started = self.executions.start_execution(machine, name, payload)
        arn = str(started["executionArn"])
        deadline = time.monotonic() + SYNC_TIMEOUT_SECONDS
        while True:
            described = self.executions.describe_execution(arn)
            if described["status"] != "RUNNING" or time.monotonic() > deadline:
                break
            self.sleep(0.05)
        answer: dict[str, Any] = {
            key: described[key]
            for key in ("executionArn", "stateMachineArn", "name", "startDate", "stopDate",
                        "status", "error", "cause", "input", "inputDetails", "output",
                        "outputDetails")
            if key in described
        }  # fmt: skip
        if described["status"] == "RUNNING":
            answer["status"] = "TIMED_OUT"
        answer["billingDetails"] = {"billedMemoryUsedInMB": 64, "billedDurationInMilliseconds": 100}
        return _json(answer)

    def _proxy_event(
        self,
        route: Route,
        request: Request,
        params: dict[str, str],
        request_id: str,
        body: str,
        authorizer: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The lambda_proxy template's input, built directly (empty values become null)."""
        now = self.now()
        resource = "/" + route.path
        path = (
            request.path
            if not request.path.startswith(f"/{self.stage}/")
            else request.path[len(self.stage) + 1 :]
        )

        def nulls(values: Mapping[str, str]) -> dict[str, str | None] | None:
            return {k: (v if v != "" else None) for k, v in values.items()} or None

        return {
            "resource": resource,
            "path": path,
            "httpMethod": request.method,
            "headers": nulls(request.headers) or {},
            "queryStringParameters": nulls(request.query),
            "pathParameters": nulls(params),
            "stageVariables": None,
            "requestContext": {
                "resourceId": route.document.get("resourceId", ""),
                "resourcePath": resource,
                "httpMethod": request.method,
                "extendedRequestId": request_id,
                "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "path": f"/{self.stage}{path}",
                "accountId": self.account,
                "protocol": "HTTP/1.1",
                "stage": self.stage,
                "domainPrefix": "127",
                "requestTimeEpoch": int(now.timestamp() * 1000),
                "requestId": request_id,
                "identity": {"sourceIp": "127.0.0.1"},
                "domainName": "127.0.0.1",
                "authorizer": dict(authorizer or {}),
                "apiId": self.document.get("id", ""),
            },
            "body": body,
            "isBase64Encoded": False,
        }

    # -- the Lambda proxy integration ---------------------------------------------------------

    def _proxy(
        self,
        route: Route,
        request: Request,
        params: dict[str, str],
        authorizer: dict[str, Any] | None = None,
    ) -> Response:
        """Invoke the function with API Gateway's proxy event (payload version 1.0) and answer
        with its result; a failed function or a malformed result is API Gateway's 502."""
        request_id = self.new_request_id()
        if self.functions is None:
            return _internal_error(request_id)
        event = self.proxy_event(route, request, params, request_id)
        if authorizer is not None:  # what the route's authorizer answered
            event["requestContext"]["authorizer"] = authorizer
        try:
            answer = self.functions.invoke(str(route.document["functionArn"]), json.dumps(event))
        except ToolError:
            return _internal_error(request_id)
        if answer.timed_out:
            return Response(
                504,
                json.dumps({"message": "Endpoint request timed out"}),
                {"Content-Type": JSON_TYPE, "x-amzn-ErrorType": "IntegrationTimeoutException",
                 "x-amzn-RequestId": request_id},
            )  # fmt: skip
        if answer.function_error:
            return _internal_error(request_id)
        response = proxy_response(answer.payload)
        if response is None:
            return _internal_error(request_id)
        return Response(
            response.status, response.body, {**response.headers, "x-amzn-RequestId": request_id}
        )

    def proxy_event(
        self, route: Route, request: Request, params: dict[str, str], request_id: str
    ) -> dict[str, Any]:
        """API Gateway's Lambda proxy input (REST API, payload format 1.0)."""
        now = self.now()
        resource = "/" + route.path
        path = self._bare_path(request.path)
        headers: dict[str, str] = {}
        multi_headers: dict[str, list[str]] = {}
        for name, value in request.raw_headers or tuple(request.headers.items()):
            if name.lower() in ("content-length", "connection"):
                continue  # API Gateway's front end does not pass them on
            if name.lower() in ("authorization", "user-agent"):
                name = name.title()
            headers[name] = value
            multi_headers.setdefault(name, []).append(value)
        multi_query: dict[str, list[str]] = {}
        for name, value in request.raw_query or tuple(request.query.items()):
            multi_query.setdefault(name, []).append(value)
        body, encoded = proxy_body(request.body)
        return {
            "resource": resource,
            "path": path,
            "httpMethod": request.method,
            "headers": headers or None,
            "multiValueHeaders": multi_headers or None,
            "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": dict(params) or None,
            "stageVariables": None,
            "requestContext": {
                "resourceId": route.document.get("resourceId", ""),
                "resourcePath": resource,
                "httpMethod": request.method,
                "extendedRequestId": request_id,
                "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "path": f"/{self.stage}{path}",
                "accountId": self.account,
                "protocol": "HTTP/1.1",
                "stage": self.stage,
                "domainPrefix": "127",
                "requestTimeEpoch": int(now.timestamp() * 1000),
                "requestId": request_id,
                "identity": {
                    **dict.fromkeys(IDENTITY_KEYS),  # no caller identity: no authorizer runs
                    "sourceIp": "127.0.0.1",
                    "userAgent": request.headers.get("user-agent"),
                    **self._key_identity(route, request),
                },
                "domainName": "127.0.0.1",
                "apiId": self.document.get("id", ""),
            },
            "body": body,
            "isBase64Encoded": encoded,
        }

    def _key_identity(self, route: Route, request: Request) -> dict[str, str]:
        """The API key a private route was called with (identity.apiKey and apiKeyId)."""
        given = request.headers.get("x-api-key")
        if not route.document.get("apiKeyRequired") or self.api_keys is None or not given:
            return {}
        key_id = self.api_keys(str(self.document.get("id")), self.stage).get(given)
        return {"apiKey": given, "apiKeyId": key_id} if key_id else {}

    def _bare_path(self, path: str) -> str:
        """The request's path without the stage (the event's `path`)."""
        if path == f"/{self.stage}" or path.startswith(f"/{self.stage}/"):
            return path[len(self.stage) + 1 :] or "/"
        return path

    def _respond(
        self,
        doc: dict[str, Any],
        status: int,
        body: str,
        request_id: str,
        template_input: vtl.TemplateInput,
    ) -> Response:
        """The integration response whose selection pattern matches the status (the default,
        pattern "", otherwise), with its headers and its template rendered over the answer."""
        responses = doc.get("integrationResponses") or []
        chosen = next(
            (
                r
                for r in responses
                if r.get("selectionPattern") and re.fullmatch(r["selectionPattern"], str(status))
            ),
            None,
        ) or next((r for r in responses if not r.get("selectionPattern")), None)
        headers = {"Content-Type": JSON_TYPE, "x-amzn-RequestId": request_id}
        if chosen is None:
            return Response(status, body, headers)
        headers.update(mapped_headers(chosen.get("responseParameters") or {}, body))
        template = (chosen.get("responseTemplates") or {}).get(JSON_TYPE)
        override = vtl.ResponseOverride()
        if template:
            route = Route(str(doc.get("path", "")), str(doc.get("method", "")), doc)
            try:
                body = self.render(
                    template, template_input, route, request_id, response=True, override=override
                )
            except GatewayAnswer as answer:
                return answer.response
        return overridden(Response(int(chosen.get("statusCode", status)), body, headers), override)


# requestContext.identity of the proxy event: what API Gateway knows of the caller (null here).
IDENTITY_KEYS = (
    "cognitoIdentityPoolId", "accountId", "cognitoIdentityId", "caller", "principalOrgId",
    "accessKey", "cognitoAuthenticationType", "cognitoAuthenticationProvider", "userArn", "user",
)  # fmt: skip


def proxy_body(body: bytes) -> tuple[str | None, bool]:
    """A Lambda proxy event's body: the text, or base64 when it is not UTF-8
    (`isBase64Encoded`), for REST and HTTP APIs alike."""
    if not body:
        return None, False
    try:
        return body.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(body).decode("ascii"), True


PROXY_RESULT_KEYS = frozenset(
    {"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded", "cookies"}
)


def _internal_error(request_id: str) -> Response:
    return Response(
        502,
        json.dumps({"message": "Internal server error"}),
        {
            "Content-Type": JSON_TYPE,
            "x-amzn-ErrorType": "InternalServerErrorException",
            "x-amzn-RequestId": request_id,
        },
    )


def proxy_response(payload: str) -> Response | None:
    """A Lambda proxy result as API Gateway reads it: a JSON object of statusCode (default 200),
    headers, multiValueHeaders (values text or booleans), body (text) and isBase64Encoded,
    nothing else; None when it is malformed (API Gateway answers 502). Without binary media
    types, a base64 body is sent as it is."""
    try:
        result = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(result, dict) or set(result) - PROXY_RESULT_KEYS:
        return None
    status = result.get("statusCode", 200)
    try:
        status = int(status) if not isinstance(status, bool) else None
    except (TypeError, ValueError):
        status = None
    if status is None or not 100 <= status <= 599:
        return None
    body = result.get("body")
    if body is not None and not isinstance(body, str):
        return None
    headers: dict[str, str] = {"Content-Type": JSON_TYPE}
    single = result.get("headers") or {}
    multi = result.get("multiValueHeaders") or {}
    if not isinstance(single, dict) or not isinstance(multi, dict):
        return None
    for name, value in single.items():
        if not isinstance(value, str | bool):
            return None
        headers[name] = _header_text(value)
    for name, values in multi.items():
        listed = values if isinstance(values, list) else [values]
        if not all(isinstance(v, str | bool) for v in listed):
            return None
        headers[name] = ", ".join(_header_text(v) for v in listed)
    return Response(status, body or "", headers)


def _header_text(value: str | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _code(error: ToolError) -> str:
    if isinstance(error, AlreadyExists):
        return "ExecutionAlreadyExists"
    if isinstance(error, NotFound):
        return "StateMachineDoesNotExist"
    if isinstance(error, InputError):
        return "InvalidExecutionInput"
    return "ValidationException"


class ApiServer(ThreadingHTTPServer):
    """The server `make_server` gives; `on_request` is told each request and its response."""

    on_request: Callable[[Request, Response], None] | None = None


class Handles(Protocol):
    def handle(self, request: Request) -> Response: ...


def make_server(api: Handles, port: int) -> ApiServer:
    """An HTTP server on 127.0.0.1:`port` (0: any free port) answering with `api`."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "tool-serve"

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the command prints its own line per request

        def _any(self) -> None:
            host = (self.headers.get("Host") or "").rsplit(":", 1)[0].strip("[]").lower()
            if host not in LOOPBACK_NAMES:  # a page on another name (DNS rebinding) gets nothing
                self._send(Response(403, json.dumps({"message": "Forbidden"})))
                return
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                self._send(Response(413, json.dumps({"message": "Request Too Long"})))
                return
            body = self.rfile.read(length) if length else b""
            pairs = parse_qsl(url.query, keep_blank_values=True)
            request = Request(
                method=self.command,
                path=url.path,
                query=dict(pairs),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
                raw_headers=tuple(self.headers.items()),
                raw_query=tuple(pairs),
            )
            response = api.handle(request)
            self._send(response)
            on_request = getattr(self.server, "on_request", None)
            if on_request is not None:
                on_request(request, response)

        def _send(self, response: Response) -> None:
            data = response.raw if response.raw is not None else response.body.encode()
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            for cookie in response.cookies:
                self.send_header("Set-Cookie", cookie)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _any

    return ApiServer(("127.0.0.1", port), Handler)


def open_local_api(service: Any) -> LocalApi:
    """The REST API the service deployed to the local target, ready to answer (BadInput when it
    has none deployed)."""
    from tooling.backends.local import LocalBackend, state_dir
    from tooling.errors import BadInput
    from tooling.localrt.event_store import EventStore
    from tooling.localrt.proxy_functions import LocalProxyFunctions
    from tooling.names import LOCAL_ACCOUNT_ID

    api = getattr(service, "api", None)
    database = state_dir(service.directory) / "local.db"
    record = None
    if api is not None and database.is_file():
        record = EventStore(database).get("rest api", service.region, api.name)
    if record is None:
        has_http = any(m.events.http for m in service.state_machines.values()) or any(
            f.events.http for f in service.functions.values()
        )
        raise BadInput(
            f"no REST API is deployed for {service.service} ({service.stage}, {service.region}) "
            "on the local target",
            file=service.config_file.name,
            hint="run `tool deploy` first"
            if has_http
            else "add `events: [{http: {path: PATH, method: post}}]` to a function or a state "
            "machine",
        )
    assert api is not None  # its record was found
    backend = LocalBackend(service.directory, service.region)
    records = EventStore(database)

    def deployed() -> dict[str, Any] | None:
        found = records.get("rest api", service.region, api.name)
        return found.document if found else None

    def api_keys(api_id: str, stage: str) -> dict[str, str]:
        """The enabled keys of the usage plans on that API stage: value -> id."""
        names = {
            str(key.get("name"))
            for plan in records.all("usage plan", service.region)
            if {"apiId": api_id, "stage": stage} in (plan.document.get("apiStages") or [])
            for key in plan.document.get("Keys") or []
        }
        return {
            str(key.document.get("value")): str(key.document.get("id"))
            for key in records.all("api key", service.region)
            if key.document.get("name") in names and key.document.get("enabled")
        }

    functions = LocalProxyFunctions(database, service.region)

    def deployed_function(arn: str) -> bool:
        """Whether the function is deployed locally (an authorizer calling one is run)."""
        return functions.store.get_function(arn) is not None

    return LocalApi(
        record.document,
        backend,
        account=LOCAL_ACCOUNT_ID,
        reload=deployed,
        functions=functions,
        api_keys=api_keys,
        region=service.region,
        deployed_function=deployed_function,
    )
