"""`tool serve` for functions' http events: API Gateway's Lambda proxy integration (REST API,
payload format 1.0), the event a function gets and how its result becomes the response, with
a fake function behind (tests/cli/test_function_http_cli.py runs real ones)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from tooling.errors import NotFound
from tooling.triggers.http_api import LocalApi, Request, proxy_response

FUNCTION = "arn:aws:lambda:us-east-1:000000000000:function:s-dev-hello"
WHEN = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@dataclass
class Answer:
    payload: str
    function_error: str | None = None
    timed_out: bool = False


class FakeFunctions:
    def __init__(self, result: Any = None, error: str | None = None, raw: str | None = None):
        self.events: list[dict[str, Any]] = []
        self.result = result
        self.error = error
        self.raw = raw

    def invoke(self, function_arn: str, payload: str) -> Answer:
        assert function_arn == FUNCTION
        self.events.append(json.loads(payload))
        if self.raw is not None:
            return Answer(self.raw, self.error)
        return Answer(json.dumps(self.result), self.error)


def function_route(path: str, method: str) -> dict[str, Any]:
    return {"path": path, "method": method, "functionArn": FUNCTION, "action": None,
            "authorizationType": "NONE", "apiKeyRequired": False}  # fmt: skip


def api(functions: FakeFunctions, *routes: dict[str, Any]) -> LocalApi:
    document = {"id": "abc123", "name": "dev-s", "Stages": [{"stageName": "dev"}],
                "Routes": list(routes or [function_route("users/{id}", "ANY")])}  # fmt: skip
    return LocalApi(
        document,
        executions=None,  # type: ignore[arg-type]  # no state machine route here
        account="000000000000",
        new_request_id=lambda: "req-1",
        now=lambda: WHEN,
        functions=functions,
    )


def request(method: str = "GET", path: str = "/dev/users/42", **extra: Any) -> Request:
    return Request(
        method=method,
        path=path,
        query=dict(extra.get("raw_query", ())),
        headers={k.lower(): v for k, v in extra.get("raw_headers", ())},
        body=extra.get("body", b""),
        raw_headers=extra.get("raw_headers", ()),
        raw_query=extra.get("raw_query", ()),
    )


def test_the_function_gets_api_gateways_proxy_event() -> None:
    functions = FakeFunctions({"statusCode": 200, "body": "ok"})
    answer = api(functions).handle(
        request(
            "POST",
            raw_query=(("tag", "a"), ("tag", "b"), ("q", "")),
            raw_headers=(
                ("Content-Type", "text/plain"),
                ("X-Multi", "1"),
                ("X-Multi", "2"),
                ("authorization", "Bearer t"),
                ("Content-Length", "5"),
            ),
            body=b"hello",
        )  # fmt: skip
    )
    assert answer.status == 200
    (event,) = functions.events
    context = event.pop("requestContext")
    assert event == {
        "resource": "/users/{id}",
        "path": "/users/42",
        "httpMethod": "POST",
        "headers": {"Content-Type": "text/plain", "X-Multi": "2", "Authorization": "Bearer t"},
        "multiValueHeaders": {
            "Content-Type": ["text/plain"],
            "X-Multi": ["1", "2"],
            "Authorization": ["Bearer t"],
        },
        "queryStringParameters": {"tag": "b", "q": ""},
        "multiValueQueryStringParameters": {"tag": ["a", "b"], "q": [""]},
        "pathParameters": {"id": "42"},
        "stageVariables": None,
        "body": "hello",
        "isBase64Encoded": False,
    }
    assert context["resourcePath"] == "/users/{id}"
    assert context["path"] == "/dev/users/42"
    assert context["stage"] == "dev"
    assert context["requestId"] == "req-1"
    assert context["httpMethod"] == "POST"
    assert context["apiId"] == "abc123"
    assert context["requestTimeEpoch"] == int(WHEN.timestamp() * 1000)


def test_an_empty_request_has_nulls_where_api_gateway_has_them() -> None:
    functions = FakeFunctions({"statusCode": 204})
    answer = api(functions).handle(request(path="/users/7"))  # the bare path works too
    assert (answer.status, answer.body) == (204, "")
    (event,) = functions.events
    assert event["body"] is None
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["path"] == "/users/7"


def test_the_result_becomes_the_response() -> None:
    result = {
        "statusCode": "201",
        "headers": {"X-One": "1", "X-Flag": True},
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
        "body": json.dumps({"created": True}),
        "isBase64Encoded": False,
    }
    answer = api(FakeFunctions(result)).handle(request())
    assert answer.status == 201
    assert json.loads(answer.body) == {"created": True}
    assert answer.headers["X-One"] == "1"
    assert answer.headers["X-Flag"] == "true"
    assert answer.headers["Set-Cookie"] == "a=1, b=2"
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.headers["x-amzn-RequestId"] == "req-1"


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        json.dumps("a string"),
        json.dumps([1, 2]),
        json.dumps({"statusCode": 200, "body": {"an": "object"}}),
        json.dumps({"statusCode": "abc"}),
        json.dumps({"statusCode": 200, "extra": 1}),
        json.dumps({"statusCode": 200, "headers": {"X": 1}}),
    ],
)
def test_a_malformed_result_is_api_gateways_502(raw: str) -> None:
    answer = api(FakeFunctions(raw=raw)).handle(request())
    assert answer.status == 502
    assert json.loads(answer.body) == {"message": "Internal server error"}
    assert answer.headers["x-amzn-ErrorType"] == "InternalServerErrorException"


def test_a_failed_function_is_api_gateways_502() -> None:
    error = json.dumps({"errorMessage": "boom", "errorType": "ValueError"})
    answer = api(FakeFunctions(raw=error, error="Unhandled")).handle(request())
    assert answer.status == 502
    assert json.loads(answer.body) == {"message": "Internal server error"}

    class Gone(FakeFunctions):
        def invoke(self, function_arn: str, payload: str) -> Answer:
            raise NotFound("function is not deployed")

    assert api(Gone()).handle(request()).status == 502


def test_missing_fields_take_api_gateways_defaults() -> None:
    response = proxy_response("{}")
    assert response is not None
    assert (response.status, response.body) == (200, "")


def test_routes_and_authorizers_are_said_not_checked() -> None:
    route = function_route("me", "GET") | {
        "authorizationType": "COGNITO_USER_POOLS",
        "authorizerId": "local-ApiGatewayAuthorizer",
    }
    notes = api(FakeFunctions({}), route).notes()
    assert notes == [
        "GET /me: COGNITO_USER_POOLS authorization (authorizer local-ApiGatewayAuthorizer) "
        "is not checked locally"
    ]


def test_a_function_slower_than_api_gateways_timeout_is_a_504() -> None:
    class Slow(FakeFunctions):
        def invoke(self, function_arn: str, payload: str) -> Answer:
            return Answer("", timed_out=True)

    answer = api(Slow()).handle(request())
    assert answer.status == 504
    assert json.loads(answer.body) == {"message": "Endpoint request timed out"}


def test_a_body_that_is_not_text_comes_base64_encoded() -> None:
    functions = FakeFunctions({"statusCode": 200})
    api(functions).handle(request("POST", body=b"\xff\xfe\x00"))
    (event,) = functions.events
    assert (event["body"], event["isBase64Encoded"]) == ("//4A", True)
    assert event["requestContext"]["identity"]["caller"] is None
    assert event["requestContext"]["identity"]["sourceIp"] == "127.0.0.1"
