"""`tool serve` for the functions' `httpApi` events: the HTTP API deployed to the local target
(its record, in apigatewayv2's shapes), answered as API Gateway v2 answers.

- Its `$default` stage has no path prefix: `http://127.0.0.1:PORT/users/42`.
- A route is chosen as HTTP APIs choose one: the most specific path (literal parts, then
  `{param}`, then a greedy `{proxy+}`), a method before ANY, the `$default` route last; none is
  404 `{"message":"Not Found"}`.
- The function gets the event of the route's payload format (tooling.triggers.
  lambda_http_payload) and its answer is mapped as that format says; a failed function, an
  answer API Gateway cannot read, or a function gone is 500 `{"message":"Internal Server
  Error"}`, one slower than the integration timeout 503 `{"message":"Service Unavailable"}`.
- With `cors`, a preflight (OPTIONS with Origin and Access-Control-Request-Method) is answered
  by the API itself (204 with the allowed origin, methods and headers), and other answers get
  Access-Control-Allow-Origin (and -Credentials, -Expose-Headers) when the Origin is allowed.
- JWT and IAM authorization are not checked: said when the server starts.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from tooling.errors import ToolError
from tooling.triggers.http_api import Functions, Request, Response, Route, _match, _specificity
from tooling.triggers.lambda_http_payload import (
    Context,
    event_v1,
    event_v2,
    response_v1,
    response_v2,
)

NOT_FOUND = Response(
    404, json.dumps({"message": "Not Found"}), {"Content-Type": "application/json"}
)


def internal_error() -> Response:
    return Response(
        500, json.dumps({"message": "Internal Server Error"}), {"Content-Type": "application/json"}
    )


def timed_out() -> Response:
    return Response(
        503, json.dumps({"message": "Service Unavailable"}), {"Content-Type": "application/json"}
    )


def cors_headers(cors: dict[str, Any] | None, request: Request) -> dict[str, str]:
    """Access-Control-* headers of an answer to a request from an allowed Origin."""
    origin = request.headers.get("origin")
    if not cors or not origin:
        return {}
    allowed = cors.get("AllowOrigins") or []
    if "*" not in allowed and origin not in allowed:
        return {}
    headers = {"Access-Control-Allow-Origin": "*" if "*" in allowed else origin}
    if cors.get("AllowCredentials"):
        headers["Access-Control-Allow-Credentials"] = "true"
    if cors.get("ExposeHeaders"):
        headers["Access-Control-Expose-Headers"] = ",".join(cors["ExposeHeaders"])
    return headers


def preflight(cors: dict[str, Any] | None, request: Request) -> Response | None:
    """The answer to a CORS preflight, when the API has CORS and this is one."""
    if (
        not cors
        or request.method != "OPTIONS"
        or "origin" not in request.headers
        or "access-control-request-method" not in request.headers
    ):
        return None
    headers = cors_headers(cors, request)
    if headers:
        headers["Access-Control-Allow-Methods"] = ",".join(cors.get("AllowMethods") or [])
        headers["Access-Control-Allow-Headers"] = ",".join(
            h.lower() for h in cors.get("AllowHeaders") or []
        )
        if cors.get("MaxAge") is not None:
            headers["Access-Control-Max-Age"] = str(cors["MaxAge"])
    return Response(204, "", headers)


def invoke(
    functions: Functions | None,
    function_arn: str,
    event: dict[str, Any],
    payload_format: str,
    *,
    failed: Callable[[], Response] = internal_error,
    late: Callable[[], Response] = timed_out,
) -> Response:
    """Invoke the function with `event` and map its answer (format 2.0 or 1.0); `failed` is
    the answer to a failed function or an unreadable answer, `late` to one too slow."""
    if functions is None:
        return failed()
    try:
        answer = functions.invoke(function_arn, json.dumps(event))
    except ToolError:
        return failed()
    if answer.timed_out:
        return late()
    if answer.function_error:
        return failed()
    mapped = (response_v2 if payload_format == "2.0" else response_v1)(answer.payload)
    return mapped if mapped is not None else failed()


class LocalHttpApi:
    """Answers requests for one deployed HTTP API (its local record)."""

    def __init__(
        self,
        document: dict[str, Any],
        functions: Functions | None,
        *,
        account: str,
        region: str,
        new_request_id: Callable[[], str] = lambda: str(uuid.uuid4()),
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        reload: Callable[[], dict[str, Any] | None] | None = None,
    ) -> None:
        self.functions = functions
        self.account = account
        self.region = region
        self.new_request_id = new_request_id
        self.now = now
        self.reload = reload
        self._use(document)

    def _use(self, document: dict[str, Any]) -> None:
        self.document = document
        integrations = {i["IntegrationId"]: i for i in document.get("Integrations") or []}
        routes: list[Route] = []
        self.default: dict[str, Any] | None = None
        for route in document.get("Routes") or []:
            target = integrations.get(str(route.get("Target", "")).removeprefix("integrations/"))
            if target is None:
                continue
            entry = {**route, "Integration": target}
            if route["RouteKey"] == "$default":
                self.default = entry
                continue
            method, _, path = str(route["RouteKey"]).partition(" ")
            routes.append(Route(path.strip("/"), method, entry))
        self.routes = sorted(routes, key=_specificity, reverse=True)

    @property
    def cors(self) -> dict[str, Any] | None:
        return self.document.get("CorsConfiguration")

    def route_lines(self) -> list[tuple[str, str]]:
        """(method, path) of each route, for the server's listing."""
        lines = [(r.method, "/" + r.path) for r in self.routes]
        if self.default is not None:
            lines.append(("ANY", "/*  ($default)"))
        return lines

    def notes(self) -> list[str]:
        notes = []
        for route in [*(r.document for r in self.routes), self.default]:
            if route and route.get("AuthorizationType") not in (None, "NONE"):
                notes.append(
                    f"{route['RouteKey']}: {route['AuthorizationType']} authorization is not "
                    "checked locally"
                )
        return notes

    def handle(self, request: Request) -> Response:
        if self.reload is not None:
            current = self.reload()
            if current is not None and current != self.document:
                self._use(current)
        answer = preflight(self.cors, request)
        if answer is not None:
            return answer
        parts = [unquote(p) for p in request.path.strip("/").split("/") if p]
        chosen: tuple[dict[str, Any], dict[str, str], str] | None = None
        for route in self.routes:
            if route.method not in (request.method, "ANY"):
                continue
            params = _match(route, parts)
            if params is not None:
                chosen = (route.document, params, "/" + route.path)
                break
        if chosen is None and self.default is not None:
            chosen = (self.default, {}, "/{proxy+}")
        if chosen is None:
            return NOT_FOUND
        entry, params, resource = chosen
        integration = entry["Integration"]
        payload_format = str(integration.get("PayloadFormatVersion") or "2.0")
        context = Context(
            api_id=str(self.document.get("ApiId", "")),
            domain=f"{self.document.get('ApiId', '')}.execute-api.{self.region}.amazonaws.com",
            account=self.account,
            route_key=str(entry["RouteKey"]),
            request_id=self.new_request_id(),
            now=self.now(),
        )
        path = request.path or "/"
        if payload_format == "2.0":
            event = event_v2(request, path, params, context)
        else:
            event = event_v1(request, path, params, context, resource)
        response = invoke(self.functions, str(integration["IntegrationUri"]), event, payload_format)
        extra = cors_headers(self.cors, request)
        headers = {**response.headers, **extra, "apigw-requestid": context.request_id}
        return Response(response.status, response.body, headers, response.cookies, response.raw)
