"""`tool serve` for a function's http event with `integration: http-proxy`, `http` or `mock`, as
API Gateway answers Serverless' compiled method; the endpoint is a server on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tooling.config.function_http_integrations import NonProxyIntegration, read_integration
from tooling.sourcemap import pointer_join
from tooling.triggers.http_api import LocalApi, Request

FUNCTION = "arn:aws:lambda:us-east-1:000000000000:function:web-dev-hello"
WHEN = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


class Backend(BaseHTTPRequestHandler):
    seen: list[dict[str, Any]] = []

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        Backend.seen.append({"method": self.command, "path": self.path, "body": body,
                             "headers": dict(self.headers.items())})  # fmt: skip
        if self.path.startswith("/moved"):
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:1/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        status = 404 if "missing" in self.path else 200
        data = json.dumps({"path": self.path, "body": body}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Backend", "yes")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _any


@pytest.fixture
def backend() -> Iterator[str]:
    Backend.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Backend)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def compiled(kind: str, http: dict[str, Any]) -> NonProxyIntegration:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(args)

    found = read_integration(kind, http, "/http", refuse, refuse, pointer_join, None, False)
    assert found is not None
    return found


def route(path: str, method: str, kind: str, http: dict[str, Any]) -> dict[str, Any]:
    integration = compiled(kind, {"method": method, **http})
    return {
        "path": path,
        "method": method,
        "functionArn": FUNCTION,
        "integrationType": kind,
        "integrationUri": integration.uri,
        "integrationHttpMethod": integration.http_method,
        "requestTemplates": integration.request_templates,
        "passthroughBehavior": integration.passthrough,
        "integrationRequestParameters": integration.request_parameters,
        "integrationResponses": list(integration.integration_responses),
        "authorizationType": "NONE",
        "apiKeyRequired": False,
    }


def api(*routes: dict[str, Any]) -> LocalApi:
    document = {"id": "abc123", "name": "dev-web", "Stages": [{"stageName": "dev"}],
                "Routes": list(routes)}  # fmt: skip
    ids = iter(f"request-{n}" for n in range(100))
    return LocalApi(
        document, executions=None,  # type: ignore[arg-type]  # no state machine routes here
        account="000000000000", new_request_id=lambda: next(ids), now=lambda: WHEN,
    )  # fmt: skip


def call(method: str, path: str, body: str = "", query: dict[str, str] | None = None) -> Request:
    headers = {"content-type": "application/json", "x-trace": "t-1"}
    return Request(method, path, query or {}, headers, body.encode(),
                   raw_headers=(("Content-Type", "application/json"), ("X-Trace", "t-1")),
                   raw_query=tuple((query or {}).items()))  # fmt: skip


def test_http_proxy_passes_the_request_and_the_answer_through(backend: str) -> None:
    server = api(
        route("files/{proxy+}", "ANY", "HTTP_PROXY", {"request": {
            "uri": backend + "/store/{proxy}",
            "parameters": {"paths": {"proxy": True}}}}),
    )  # fmt: skip
    response = server.handle(call("PUT", "/dev/files/a/b.txt", '{"x": 1}', {"v": "2"}))
    assert response.status == 200
    assert response.headers["X-Backend"] == "yes"
    assert json.loads(response.raw or b"") == {"path": "/store/a/b.txt?v=2", "body": '{"x": 1}'}
    (seen,) = Backend.seen
    assert seen["method"] == "PUT" and seen["headers"]["X-Trace"] == "t-1"
    # the endpoint's errors and redirects are answers, passed on as they are
    assert server.handle(call("GET", "/dev/files/missing")).status == 404
    moved = api(route("old", "GET", "HTTP_PROXY", {"request": {"uri": backend + "/moved"}}))
    assert moved.handle(call("GET", "/dev/old")).status == 302


def test_http_renders_the_template_and_maps_the_status(backend: str) -> None:
    http = {
        "request": {
            "uri": backend + "/items/{id}",
            "method": "post",
            "parameters": {"paths": {"id": True}},
            "template": {"application/json": "{\"wrapped\": $input.json('$')}"},
        },
        "response": {
            "headers": {"X-From": "integration.response.header.X-Backend"},
            "statusCodes": {
                "200": {"pattern": "", "template": "$input.path('$.path')"},
                "404": {"pattern": "404", "template": '{"missing": true}'},
            },
        },
    }
    server = api(route("items/{id}", "GET", "HTTP", http))
    response = server.handle(call("GET", "/dev/items/i1", '{"n": 1}'))
    assert (response.status, response.body) == (200, "/items/i1")
    assert response.headers["X-From"] == "yes"
    assert Backend.seen[0]["method"] == "POST"
    assert json.loads(Backend.seen[0]["body"]) == {"wrapped": {"n": 1}}
    response = server.handle(call("GET", "/dev/items/missing", "{}"))
    assert (response.status, json.loads(response.body)) == (404, {"missing": True})


def test_mock_answers_from_its_integration_responses() -> None:
    status = """{"statusCode": #if($input.params('fail') == "1")500#{else}200#end}"""
    http = {
        "request": {"template": {"application/json": status}},
        "response": {"statusCodes": {
            "200": {"pattern": "", "template": '{"pong": "$context.stage"}'},
            "500": {"pattern": "5\\d\\d", "template": '{"down": true}'}}},
    }  # fmt: skip
    server = api(route("ping", "GET", "MOCK", http))
    response = server.handle(call("GET", "/dev/ping"))
    assert (response.status, json.loads(response.body)) == (200, {"pong": "dev"})
    response = server.handle(call("GET", "/dev/ping", query={"fail": "1"}))
    assert (response.status, json.loads(response.body)) == (500, {"down": True})


def test_an_endpoint_that_cannot_be_reached_is_500_and_said() -> None:
    logged: list[str] = []
    server = api(route("x", "GET", "HTTP_PROXY", {"request": {"uri": "http://127.0.0.1:1/"}}))
    server.log = logged.append
    response = server.handle(call("GET", "/dev/x"))
    assert response.status == 500 and "the integration failed" in logged[0]


def test_a_vpc_link_endpoint_is_said_at_start_and_answered_500() -> None:
    http = {"request": {"uri": "http://internal/"}, "connectionType": "vpc-link",
            "connectionId": "v1"}  # fmt: skip
    vpc = route("x", "GET", "HTTP_PROXY", http)
    vpc["connectionType"] = "VPC_LINK"  # as the deploy records it
    logged: list[str] = []
    server = api(vpc)
    server.log = logged.append
    assert server.notes() == [
        "GET /x: its endpoint is behind a VPC link, which is not reachable locally: every "
        "request is answered 500"
    ]
    assert server.handle(call("GET", "/dev/x")).status == 500
    assert "VPC link" in logged[0]
