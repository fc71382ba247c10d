"""`tool serve`'s answers, as API Gateway's for the plugin's integration: routing, the default
and lambda_proxy templates, action passthrough, errors, CORS (a fake Step Functions behind)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from tooling.errors import AlreadyExists
from tooling.triggers.http_api import LocalApi, Request

MACHINE = "arn:aws:states:us-east-1:000000000000:stateMachine:s-dev-m"
WHEN = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


class FakeExecutions:
    def __init__(self) -> None:
        self.started: list[tuple[str, str, str]] = []
        self.fail_with: Exception | None = None

    def start_execution(self, state_machine_arn: str, name: str, input: str) -> dict[str, Any]:
        if self.fail_with is not None:
            raise self.fail_with
        self.started.append((state_machine_arn, name, input))
        arn = state_machine_arn.replace(":stateMachine:", ":execution:") + ":" + name
        return {"executionArn": arn, "startDate": WHEN}

    def describe_execution(self, execution_arn: str) -> dict[str, Any]:
        return {
            "executionArn": execution_arn,
            "stateMachineArn": MACHINE,
            "name": execution_arn.rsplit(":", 1)[1],
            "status": "SUCCEEDED",
            "startDate": WHEN,
            "stopDate": WHEN,
            "input": self.started[-1][2] if self.started else "{}",
            "inputDetails": {"included": True},
            "output": '{"done":true}',
            "outputDetails": {"included": True},
        }

    def stop_execution(
        self, execution_arn: str, error: str | None = None, cause: str | None = None
    ) -> dict[str, Any]:
        return {"stopDate": WHEN}


def route(path: str, method: str, **extra: Any) -> dict[str, Any]:
    return {
        "path": path,
        "method": method,
        "stateMachineArn": MACHINE,
        "action": "StartExecution",
        "templateKind": "default",
        "authorizationType": "NONE",
        "apiKeyRequired": False,
        "integrationResponses": [
            {
                "statusCode": "200",
                "selectionPattern": "",
                "responseParameters": {},
                "responseTemplates": {},
            },
            {
                "statusCode": "400",
                "selectionPattern": "400",
                "responseParameters": {},
                "responseTemplates": {},
            },
        ],  # fmt: skip
        **extra,
    }


def api(*routes: dict[str, Any], executions: FakeExecutions | None = None) -> LocalApi:
    document = {"id": "abc123", "name": "dev-s", "Stages": [{"stageName": "dev"}],
                "Routes": list(routes)}  # fmt: skip
    ids = iter(f"request-{n}" for n in range(100))
    return LocalApi(
        document,
        executions or FakeExecutions(),
        account="000000000000",
        new_request_id=lambda: next(ids),
        now=lambda: WHEN,
        sleep=lambda _: None,
    )


def post(path: str, body: str = "", **headers: str) -> Request:
    return Request("POST", path, {}, {"content-type": "application/json", **headers},
                   body.encode())  # fmt: skip


def test_a_post_starts_an_execution_and_answers_start_executions_response() -> None:
    executions = FakeExecutions()
    server = api(route("orders", "POST"), executions=executions)
    response = server.handle(post("/dev/orders", '{"item": "book", "n": 2}'))
    assert response.status == 200
    assert json.loads(response.body) == {
        "executionArn": MACHINE.replace(":stateMachine:", ":execution:") + ":request-0",
        "startDate": WHEN.timestamp(),
    }
    assert response.headers["Content-Type"] == "application/json"
    # the request id names the execution; the body is its input
    assert executions.started == [(MACHINE, "request-0", '{"item": "book", "n": 2}')]
    # the bare path works too; an empty body is {}
    assert server.handle(post("/orders")).status == 200
    assert executions.started[-1][2] == "{}"


def test_routes_are_found_as_api_gateway_finds_them() -> None:
    executions = FakeExecutions()
    server = api(
        route("items/{id}", "GET"),
        route("items/new", "GET"),
        route("files/{proxy+}", "ANY"),
        route("files/{proxy+}", "GET", templateKind="lambda_proxy"),
        executions=executions,
    )
    get = Request("GET", "/dev/items/new", {}, {})
    server.handle(get)
    server.handle(Request("GET", "/dev/items/42", {}, {}))
    assert len(executions.started) == 2
    proxy = server.handle(Request("GET", "/dev/files/a/b.txt", {"v": "1"}, {"x-k": "y"}))
    assert proxy.status == 200
    event = json.loads(executions.started[-1][2])
    assert event["pathParameters"] == {"proxy": "a/b.txt"}
    assert event["queryStringParameters"] == {"v": "1"}
    assert event["resource"] == "/files/{proxy+}"
    assert event["path"] == "/files/a/b.txt"
    assert event["httpMethod"] == "GET"
    assert event["requestContext"]["stage"] == "dev"
    assert event["body"] == ""
    delete = server.handle(Request("DELETE", "/dev/files/x", {}, {}))
    assert delete.status == 200  # ANY
    missing = server.handle(Request("GET", "/dev/nothing", {}, {}))
    assert (missing.status, json.loads(missing.body)) == (
        403, {"message": "Missing Authentication Token"},
    )  # fmt: skip
    wrong_method = server.handle(Request("PUT", "/dev/items/1", {}, {}))
    assert wrong_method.status == 403


def test_start_errors_are_step_functions_400_answers() -> None:
    executions = FakeExecutions()
    executions.fail_with = AlreadyExists("Execution Already Exists: 'arn'")
    response = api(route("orders", "POST"), executions=executions).handle(post("/dev/orders"))
    assert response.status == 400
    assert json.loads(response.body) == {
        "__type": "ExecutionAlreadyExists",
        "message": "Execution Already Exists: 'arn'",
    }


def test_bodies_the_template_cannot_read() -> None:
    server = api(route("orders", "POST"))
    bad = server.handle(post("/dev/orders", "not json"))
    assert bad.status == 400
    assert json.loads(bad.body)["message"].startswith("Could not parse request body into json")
    other = server.handle(post("/dev/orders", "x", **{"content-type": "text/plain"}))
    assert (other.status, json.loads(other.body)) == (415, {"message": "Unsupported Media Type"})


def test_cors_headers_and_the_preflight() -> None:
    origin = {"method.response.header.Access-Control-Allow-Origin": "'*'"}
    answered = route("orders", "POST")
    for response in answered["integrationResponses"]:
        response["responseParameters"] = dict(origin)
    preflight = {
        "path": "orders",
        "method": "OPTIONS",
        "action": None,
        "preflightHeaders": {
            "Access-Control-Allow-Origin": "*",
            "Access-Control-Allow-Methods": "OPTIONS,POST",
        },
    }
    server = api(answered, preflight)
    assert server.handle(post("/dev/orders")).headers["Access-Control-Allow-Origin"] == "*"
    options = server.handle(Request("OPTIONS", "/dev/orders", {}, {}))
    assert (options.status, options.body) == (200, "")
    assert options.headers["Access-Control-Allow-Methods"] == "OPTIONS,POST"


def test_an_action_without_template_passes_the_body_to_that_action() -> None:
    executions = FakeExecutions()
    server = api(
        route("start", "POST", action="StartExecution", templateKind="none"),
        route("sync", "POST", action="StartSyncExecution", templateKind="none"),
        route("status", "POST", action="DescribeExecution", templateKind="none"),
        route("stop", "POST", action="StopExecution", templateKind="none"),
        executions=executions,
    )
    body = json.dumps({"stateMachineArn": MACHINE, "name": "mine", "input": '{"a": 1}'})
    started = server.handle(post("/dev/start", body))
    assert json.loads(started.body)["executionArn"].endswith(":mine")
    sync = json.loads(server.handle(post("/dev/sync", body)).body)
    assert (sync["status"], sync["output"], sync["input"]) == (
        "SUCCEEDED", '{"done":true}', '{"a": 1}',
    )  # fmt: skip
    assert "billingDetails" in sync
    arn = MACHINE.replace(":stateMachine:", ":execution:") + ":mine"
    described = json.loads(
        server.handle(post("/dev/status", json.dumps({"executionArn": arn}))).body
    )
    assert described["status"] == "SUCCEEDED"
    stopped = json.loads(server.handle(post("/dev/stop", json.dumps({"executionArn": arn}))).body)
    assert stopped == {"stopDate": WHEN.timestamp()}


def test_a_static_response_template_is_returned_and_what_is_not_checked_is_said() -> None:
    answered = route("orders", "POST")
    answered["integrationResponses"][0]["responseTemplates"] = {
        "application/json": '{"status": 200, "info": "OK"}'
    }
    response = api(answered).handle(post("/dev/orders"))
    assert json.loads(response.body) == {"status": 200, "info": "OK"}
    custom = api(
        route("a", "POST", templateKind="custom", authorizationType="AWS_IAM"),
        route("b", "POST", apiKeyRequired=True),
    )
    assert custom.notes() == [
        "POST /a: AWS_IAM authorization is not checked locally",
        "POST /b: its API key (private: true) is not checked locally",
    ]


@pytest.mark.parametrize("path", ["/dev", "/"])
def test_the_root_path(path: str) -> None:
    executions = FakeExecutions()
    response = api(route("", "POST"), executions=executions).handle(post(path))
    assert response.status == 200 and len(executions.started) == 1


# -- mapping templates (VTL) ----------------------------------------------------------------

CUSTOM = (
    r"""#set($order = $input.json('$.order'))"""
    r"""{"input": "{\"user\": \"$input.params('id')\", \"order\": """
    r"""$util.escapeJavaScript($order), \"stage\": \"$context.stage\"}", """
    r""""name": "order-$input.params('id')-$context.requestId", """
    r""""stateMachineArn": "${stageVariables.machine}""" + MACHINE + '"}'
)


def custom_route(path: str, templates: dict[str, str], **extra: Any) -> dict[str, Any]:
    return route(path, "POST", templateKind="custom", requestTemplates=templates, **extra)


def test_a_custom_request_template_starts_the_execution_it_renders() -> None:
    executions = FakeExecutions()
    server = api(custom_route("users/{id}/orders", {"application/json": CUSTOM}),
                 executions=executions)  # fmt: skip
    body = {"order": {"item": 'a "big" book', "n": 2}}
    response = server.handle(post("/dev/users/u7/orders", json.dumps(body)))
    assert response.status == 200, response.body
    machine, name, given = executions.started[0]
    assert (machine, name) == (MACHINE, "order-u7-request-0")  # ${stageVariables.machine}: ""
    assert json.loads(given) == {"user": "u7", "order": body["order"], "stage": "dev"}


def test_a_content_type_without_a_template_is_415() -> None:
    server = api(custom_route("a", {"application/json": CUSTOM}))
    response = server.handle(post("/dev/a", "x=1", **{"content-type": "text/plain"}))
    assert response.status == 415


def test_a_failing_template_is_api_gateways_500_and_a_log_line() -> None:
    logged: list[str] = []
    server = api(custom_route("a", {"application/json": "#foreach($i in [1..5000])x#end"}))
    server.log = logged.append
    response = server.handle(post("/dev/a", "{}"))
    assert response.status == 500
    assert json.loads(response.body) == {"message": "Internal server error"}
    assert len(logged) == 1 and "POST /a: mapping template failed" in logged[0]
    assert "over 1000 iterations" in logged[0]


def test_a_body_the_template_cannot_read_as_json_is_400() -> None:
    server = api(custom_route("a", {"application/json": CUSTOM}))
    response = server.handle(post("/dev/a", "{not json"))
    assert response.status == 400
    assert json.loads(response.body)["message"].startswith("Could not parse request body into json")


def test_a_template_rendering_no_json_gets_step_functions_400() -> None:
    server = api(custom_route("a", {"application/json": "not $context.stage json"}))
    response = server.handle(post("/dev/a", "{}"))
    assert response.status == 400
    assert json.loads(response.body)["__type"] == "SerializationException"


def test_a_response_template_is_rendered_over_step_functions_answer() -> None:
    answered = route("orders", "POST")
    answered["integrationResponses"][0]["responseTemplates"] = {
        "application/json": "#set($answer = $input.path('$'))"
        '{"id": "$answer.executionArn.split(\':\')[7]", "by": "$context.httpMethod"}'
    }
    response = api(answered).handle(post("/dev/orders", "{}"))
    assert response.status == 200
    assert json.loads(response.body) == {"id": "request-0", "by": "POST"}


def test_a_failing_response_template_is_500() -> None:
    logged: list[str] = []
    answered = route("orders", "POST")
    answered["integrationResponses"][0]["responseTemplates"] = {
        "application/json": "$util.parseJson('{nope')"
    }
    server = api(answered)
    server.log = logged.append
    response = server.handle(post("/dev/orders", "{}"))
    assert response.status == 500 and "parseJson" in logged[0]
