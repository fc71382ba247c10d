"""`tool serve`'s answers for a function's http event with another integration than the Lambda
proxy, as API Gateway answers Serverless' compiled method (tooling.config.
function_http_integrations): `integration: lambda` (the request template makes the function's
event; its result, or its error by `errorMessage`, selects an integration response) and `async:
true` (the function runs in the background, the answer is at once); `http-proxy` (the request
forwarded to `request.uri`, the endpoint's answer passed back); `http` (the request template's
output forwarded, the status selecting an integration response); `mock` (the status from the
request template's `statusCode`). Templates go through the gateway's VTL engine.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any, Protocol

from tooling.errors import ToolError
from tooling.triggers import vtl
from tooling.triggers.http_forward import (
    Answer,
    ForwardFailed,
    forward,
    mapped_parameters,
    target_url,
)
from tooling.triggers.integration_responses import (
    lambda_error_message,
    mapped_headers,
    select_response,
    select_status_response,
)
from tooling.triggers.rest_messages import (
    JSON_TYPE,
    Functions,
    GatewayAnswer,
    Request,
    Response,
    Route,
    execution_failure,
    overridden,
)


class Gateway(Protocol):
    """What the integrations use of the REST API that routes to them (http_api.LocalApi)."""

    functions: Functions | None
    log: Callable[[str], None]
    new_request_id: Callable[[], str]

    def render(
        self,
        template: str,
        given: vtl.TemplateInput,
        route: Route,
        request_id: str,
        *,
        response: bool = False,
        override: vtl.ResponseOverride | None = None,
    ) -> str: ...

    def template_input(
        self, route: Route, request: Request, params: dict[str, str], request_id: str, body: str
    ) -> vtl.TemplateInput: ...


class FunctionIntegrations:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.background: list[threading.Thread] = []  # `async: true` invocations under way

    def _integration_request(
        self, route: Route, request: Request, params: dict[str, str], request_id: str
    ) -> tuple[str, vtl.TemplateInput, str] | Response:
        """(the integration request's body, the template input, the content type): the request
        template for the content type, else the body passed through as passthroughBehavior
        allows; API Gateway's answer (415, or a failing template's) when it is refused."""
        text = request.body.decode("utf-8", errors="replace")
        content_type = (request.headers.get("content-type") or JSON_TYPE).split(";")[0].strip()
        templates: dict[str, str] = route.document.get("requestTemplates") or {}
        template = templates.get(content_type)
        passthrough = route.document.get("passthroughBehavior") or "WHEN_NO_MATCH"
        given = self.gateway.template_input(route, request, params, request_id, text)
        try:
            if template is not None:
                return self.gateway.render(template, given, route, request_id), given, content_type
        except GatewayAnswer as refused:
            return refused.response
        if passthrough == "NEVER" or (passthrough == "WHEN_NO_TEMPLATES" and templates):
            return Response(415, json.dumps({"message": "Unsupported Media Type"}))
        return text, given, content_type

    def lambda_(self, route: Route, request: Request, params: dict[str, str]) -> Response:
        """Serverless' `integration: lambda`: the request template (by content type) makes the
        function's event; its result, or its error by `errorMessage`, selects an integration
        response, whose headers and template make the answer. `async: true`: the function is
        invoked as with InvocationType Event (in the background here) and the answer is at once."""
        doc = route.document
        request_id = self.gateway.new_request_id()
        made = self._integration_request(route, request, params, request_id)
        if isinstance(made, Response):
            return made
        event, given, _ = made
        if self.gateway.functions is None:
            return execution_failure(request_id)
        try:
            json.loads(event or "{}")
        except ValueError:  # Lambda refuses a payload that is not JSON
            self.gateway.log(
                f"{route.method} /{route.path}: the request template's output is not JSON, which "
                f"Lambda refuses (request {request_id}: API Gateway answers 500)"
            )
            return execution_failure(request_id)
        arn = str(doc["functionArn"])
        invocation = (doc.get("integrationRequestParameters") or {}).get(
            "integration.request.header.X-Amz-Invocation-Type"
        )
        if invocation == "'Event'":
            self._invoke_later(arn, event or "{}")
            return self._lambda_answer(doc, "", None, request_id, given)
        try:
            answer = self.gateway.functions.invoke(arn, event or "{}")
        except ToolError:
            return execution_failure(request_id)
        if answer.timed_out:
            return Response(
                504,
                json.dumps({"message": "Endpoint request timed out"}),
                {"Content-Type": JSON_TYPE, "x-amzn-ErrorType": "IntegrationTimeoutException",
                 "x-amzn-RequestId": request_id},
            )  # fmt: skip
        error = lambda_error_message(answer.payload) if answer.function_error else None
        return self._lambda_answer(doc, answer.payload, error, request_id, given)

    def _invoke_later(self, function_arn: str, event: str) -> None:
        """An Event invocation: the function runs on, the caller is answered at once."""
        functions = self.gateway.functions
        assert functions is not None

        def run() -> None:
            try:
                functions.invoke(function_arn, event)
            except ToolError as exc:  # e.g. no longer deployed: Lambda would drop the event
                self.gateway.log(f"async invocation of {function_arn} failed: {exc.message}")

        thread = threading.Thread(target=run, name="async-invoke", daemon=True)
        self.background.append(thread)
        thread.start()

    def _lambda_answer(
        self,
        doc: dict[str, Any],
        payload: str,
        error: str | None,
        request_id: str,
        given: vtl.TemplateInput,
    ) -> Response:
        chosen = select_response(doc.get("integrationResponses") or [], error)
        headers = {"Content-Type": JSON_TYPE, "x-amzn-RequestId": request_id}
        if chosen is None:  # no integration response: API Gateway's configuration error
            self.gateway.log(
                f"{doc.get('method')} /{doc.get('path')}: no integration response matches"
            )
            return execution_failure(request_id)
        headers.update(mapped_headers(chosen.get("responseParameters") or {}, payload))
        body = payload
        template = (chosen.get("responseTemplates") or {}).get(JSON_TYPE)
        override = vtl.ResponseOverride()
        if template:
            route = Route(str(doc.get("path", "")), str(doc.get("method", "")), doc)
            given.body = payload
            try:
                body = self.gateway.render(
                    template, given, route, request_id, response=True, override=override
                )
            except GatewayAnswer as refused:
                return refused.response
        return overridden(Response(int(chosen.get("statusCode", 200)), body, headers), override)

    def http_proxy(self, route: Route, request: Request, params: dict[str, str]) -> Response:
        """The request passed to the integration's URI (method, headers, query string and body
        as sent, the mapped parameters laid over them), its answer passed back as it is."""
        doc = route.document
        request_id = self.gateway.new_request_id()
        mapped = mapped_parameters(
            doc.get("integrationRequestParameters") or {}, params, request.query, request.headers
        )
        query = dict(request.raw_query or tuple(request.query.items()))
        url = target_url(str(doc.get("integrationUri")), mapped["path"], {**query,
                         **mapped["querystring"]})  # fmt: skip
        headers = {**dict(request.raw_headers or tuple(request.headers.items())),
                   **mapped["header"]}  # fmt: skip
        method = str(doc.get("integrationHttpMethod") or "ANY")
        answer = self._forward(route, request_id, method, request, url, headers, request.body)
        if isinstance(answer, Response):
            return answer
        return Response(
            answer.status,
            headers={**dict(answer.headers), "x-amzn-RequestId": request_id},
            raw=answer.body,
        )

    def http_or_mock(self, route: Route, request: Request, params: dict[str, str]) -> Response:
        """HTTP: the request template's output (or the body, passed through) sent to the URI
        with the mapped parameters; MOCK: the template's `statusCode` is the integration's
        status. The status selects the integration response (its pattern matched against the
        status code), whose headers and template make the answer."""
        doc = route.document
        request_id = self.gateway.new_request_id()
        made = self._integration_request(route, request, params, request_id)
        if isinstance(made, Response):
            return made
        payload, given, content_type = made
        answer_headers: tuple[tuple[str, str], ...] = ()
        if doc.get("integrationType") == "MOCK":
            status, body = mock_status(payload), ""
        else:
            mapped = mapped_parameters(
                doc.get("integrationRequestParameters") or {}, params, request.query,
                request.headers,
            )  # fmt: skip
            url = target_url(str(doc.get("integrationUri")), mapped["path"],
                             mapped["querystring"])  # fmt: skip
            headers = {"Content-Type": content_type, **mapped["header"]}
            method = str(doc.get("integrationHttpMethod") or "ANY")
            answer = self._forward(
                route, request_id, method, request, url, headers, payload.encode()
            )
            if isinstance(answer, Response):
                return answer
            status = answer.status
            body = answer.body.decode("utf-8", errors="replace")
            answer_headers = answer.headers
        chosen = select_status_response(doc.get("integrationResponses") or [], status)
        if chosen is None:
            self.gateway.log(
                f"{route.method} /{route.path}: no integration response for status {status} "
                f"(request {request_id}: API Gateway answers 500)"
            )
            return execution_failure(request_id)
        headers = {"Content-Type": JSON_TYPE, "x-amzn-RequestId": request_id}
        headers.update(
            mapped_headers(chosen.get("responseParameters") or {}, body, dict(answer_headers))
        )
        response_template = (chosen.get("responseTemplates") or {}).get(JSON_TYPE)
        override = vtl.ResponseOverride()
        if response_template:
            given.body = body
            given.json_body = False
            try:
                body = self.gateway.render(
                    response_template, given, route, request_id, response=True, override=override
                )
            except GatewayAnswer as refused:
                return refused.response
        return overridden(Response(int(chosen.get("statusCode", 200)), body, headers), override)

    def _forward(
        self,
        route: Route,
        request_id: str,
        method: str,
        request: Request,
        url: str,
        headers: dict[str, str],
        body: bytes,
    ) -> Answer | Response:
        if route.document.get("connectionType") == "VPC_LINK":
            self.gateway.log(f"{route.method} /{route.path}: a VPC link is not reachable locally")
            return execution_failure(request_id)
        try:
            return forward(request.method if method == "ANY" else method, url, headers, body)
        except ForwardFailed as exc:
            self.gateway.log(f"{route.method} /{route.path}: the integration failed: {exc}")
            if exc.timed_out:
                return Response(
                    504,
                    json.dumps({"message": "Endpoint request timed out"}),
                    {"Content-Type": JSON_TYPE, "x-amzn-RequestId": request_id},
                )
            return execution_failure(request_id)


def mock_status(rendered: str) -> int:
    """A MOCK integration's status: the `statusCode` of its request template's output (200 when
    it has none)."""
    try:
        found = json.loads(rendered) if rendered.strip() else {}
    except ValueError:
        found = {}
    status = found.get("statusCode") if isinstance(found, dict) else None
    return status if isinstance(status, int) and 100 <= status <= 599 else 200
