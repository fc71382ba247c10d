"""`tool serve` for a function's http event with `integration: lambda` or `async: true`, as API
Gateway answers Serverless' compiled method: the request template makes the function's event,
the result or the error (by errorMessage) selects an integration response, whose headers and
template make the answer (a fake Lambda behind)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tooling.config.function_http_integrations import NonProxyIntegration, read_integration
from tooling.sourcemap import pointer_join
from tooling.triggers.http_api import LocalApi, Request

FUNCTION = "arn:aws:lambda:us-east-1:000000000000:function:web-dev-hello"
WHEN = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Answer:
    payload: str
    function_error: str | None = None
    timed_out: bool = False


class FakeFunctions:
    def __init__(self, answer: Answer | None = None) -> None:
        self.events: list[Any] = []
        self.answer = answer or Answer('{"ok": true}')
        self.release = threading.Event()
        self.release.set()

    def invoke(self, function_arn: str, payload: str) -> Answer:
        assert function_arn == FUNCTION
        self.release.wait(10)
        self.events.append(json.loads(payload))
        return self.answer


def compiled(http: dict[str, Any]) -> NonProxyIntegration:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(args)

    integration = read_integration(
        "AWS", {"integration": "lambda", **http}, "/http", refuse, refuse, pointer_join, None, False
    )
    assert integration is not None
    return integration


def route(path: str, http: dict[str, Any] | None = None) -> dict[str, Any]:
    integration = compiled(http or {})
    return {
        "path": path,
        "method": "POST",
        "functionArn": FUNCTION,
        "integrationType": "AWS",
        "requestTemplates": integration.request_templates,
        "passthroughBehavior": integration.passthrough,
        "integrationRequestParameters": integration.request_parameters,
        "integrationResponses": list(integration.integration_responses),
        "authorizationType": "NONE",
        "apiKeyRequired": False,
    }


def api(functions: FakeFunctions, *routes: dict[str, Any]) -> LocalApi:
    document = {"id": "abc123", "name": "dev-web", "Stages": [{"stageName": "dev"}],
                "Routes": list(routes)}  # fmt: skip
    ids = iter(f"request-{n}" for n in range(100))
    return LocalApi(
        document, executions=None,  # type: ignore[arg-type]  # no state machine routes here
        account="000000000000", new_request_id=lambda: next(ids), now=lambda: WHEN,
        functions=functions,
    )  # fmt: skip


def post(path: str, body: str, content_type: str = "application/json") -> Request:
    return Request(
        "POST", path.split("?")[0],
        dict(p.split("=") for p in path.split("?")[1].split("&")) if "?" in path else {},
        {"content-type": content_type, "x-trace": "t-1"}, body.encode(),
        raw_headers=(("Content-Type", content_type), ("X-Trace", "t-1")),
    )  # fmt: skip


def test_serverless_default_template_is_the_functions_event() -> None:
    functions = FakeFunctions(Answer('{"id": 7}'))
    server = api(functions, route("users/{id}"))
    response = server.handle(post("/dev/users/u1?page=2", '{"name": "Rex\'s"}'))
    assert (response.status, json.loads(response.body)) == (200, {"id": 7})
    (event,) = functions.events
    assert event["body"] == {"name": "Rex's"}
    assert event["method"] == "POST" and event["stage"] == "dev"
    assert event["path"] == {"id": "u1"} and event["query"] == {"page": "2"}
    assert event["headers"] == {"Content-Type": "application/json", "X-Trace": "t-1"}
    assert event["requestPath"] == "/users/{id}"
    assert event["identity"]["sourceIp"] == "127.0.0.1"
    assert event["principalId"] == "" and event["cognitoPoolClaims"] == {"sub": ""}


def test_a_form_body_is_read_by_serverless_form_template() -> None:
    functions = FakeFunctions()
    server = api(functions, route("f"))
    form = "application/x-www-form-urlencoded"
    assert server.handle(post("/dev/f", "a=1&b=x+y%26z&c", form)).status == 200
    assert functions.events[0]["body"] == {"a": "1", "b": "x y&z", "c": ""}


def test_errors_select_serverless_status_codes_by_error_message() -> None:
    error = {"errorMessage": "[404] no user u1", "errorType": "NotFound", "stackTrace": []}
    functions = FakeFunctions(Answer(json.dumps(error), "Unhandled"))
    server = api(functions, route("a"))
    response = server.handle(post("/dev/a", "{}"))
    assert (response.status, json.loads(response.body)) == (404, error)
    # an error no pattern selects gets the default response: 200, as API Gateway answers it
    functions.answer = Answer(json.dumps({"errorMessage": "boom"}), "Unhandled")
    assert server.handle(post("/dev/a", "{}")).status == 200
    functions.answer = Answer(json.dumps({"errorMessage": "Task timed out after 3.00 seconds"}),
                              "Unhandled")  # fmt: skip
    assert server.handle(post("/dev/a", "{}")).status == 504


def test_response_headers_templates_and_own_status_codes() -> None:
    http = {
        "response": {
            "headers": {"X-Kind": "'cake'"},
            "template": "$input.path('$.body')",
            "statusCodes": {
                "201": {"pattern": ""},
                "409": {
                    "pattern": ".*exists.*",
                    "headers": {"X-Why": "integration.response.body.errorMessage"},
                    "template": '{"conflict": true}',
                },
            },
        }
    }
    functions = FakeFunctions(Answer('{"body": "made"}'))
    server = api(functions, route("a", http))
    response = server.handle(post("/dev/a", "{}"))
    assert (response.status, response.body) == (201, "made")
    assert response.headers["X-Kind"] == "cake"
    functions.answer = Answer(json.dumps({"errorMessage": "it exists"}), "Unhandled")
    response = server.handle(post("/dev/a", "{}"))
    assert (response.status, json.loads(response.body)) == (409, {"conflict": True})
    assert (response.headers["X-Why"], response.headers["X-Kind"]) == ("it exists", "cake")


def test_passthrough_and_content_types() -> None:
    functions = FakeFunctions()
    never = api(functions, route("a"))
    assert never.handle(post("/dev/a", "hi", "text/plain")).status == 415
    matching = api(functions, route("a", {"request": {"passThrough": "WHEN_NO_MATCH"}}))
    assert matching.handle(post("/dev/a", '{"raw": 1}', "text/plain")).status == 200
    assert functions.events[-1] == {"raw": 1}
    # a JSON content type whose body is not JSON: the template cannot read it
    response = never.handle(post("/dev/a", "{nope"))
    assert response.status == 400
    assert json.loads(response.body)["message"].startswith("Could not parse request body")


def test_async_answers_at_once_and_the_function_runs_on() -> None:
    functions = FakeFunctions(Answer('{"slow": true}'))
    functions.release.clear()  # the function does not finish until the test lets it
    server = api(functions, route("a", {"async": True}))
    response = server.handle(post("/dev/a", '{"n": 1}'))
    assert (response.status, response.body) == (200, "")
    assert functions.events == []  # answered before the function ran
    functions.release.set()
    for thread in server.background:
        thread.join(10)
    assert functions.events[0]["body"] == {"n": 1}


def test_a_template_whose_output_lambda_refuses_is_500() -> None:
    logged: list[str] = []
    server = api(FakeFunctions(), route("a", {"request": {"template": {
        "application/json": "not json $context.stage"}}}))  # fmt: skip
    server.log = logged.append
    response = server.handle(post("/dev/a", "{}"))
    assert (response.status, json.loads(response.body)) == (
        500, {"message": "Internal server error"})  # fmt: skip
    assert "not JSON" in logged[0]


def test_a_response_template_can_override_the_status_and_headers() -> None:
    http = {"response": {"template": (
        "#set($answer = $input.path('$'))"
        "#if($answer.found == false)#set($context.responseOverride.status = 404)#end"
        '#set($context.responseOverride.header.X-Found = "$answer.found")$answer.found'
    )}}  # fmt: skip
    functions = FakeFunctions(Answer('{"found": false}'))
    server = api(functions, route("a", http))
    response = server.handle(post("/dev/a", "{}"))
    assert (response.status, response.body, response.headers["X-Found"]) == (404, "false",
                                                                             "false")  # fmt: skip
    functions.answer = Answer('{"found": true}')
    response = server.handle(post("/dev/a", "{}"))
    assert (response.status, response.body) == (200, "true")
