"""Payload format 2.0 (HTTP APIs and function URLs) and 1.0 behind an HTTP API: the event a
function gets, and how its answer becomes the response, as API Gateway v2 maps it (issue 15);
and the local HTTP API's routing, CORS and errors, with a fake function behind."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from tooling.triggers.http_api import Request
from tooling.triggers.lambda_http_payload import Context, event_v2, response_v2
from tooling.triggers.local_http_api import LocalHttpApi

WHEN = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
ARN = "arn:aws:lambda:us-east-1:000000000000:function:s-dev-hello"
CONTEXT = Context("api1", "api1.execute-api.us-east-1.amazonaws.com", "000000000000",
                  "GET /users/{id}", "req-1", WHEN)  # fmt: skip


def request(method: str = "GET", path: str = "/users/42", **extra: Any) -> Request:
    raw_headers = extra.get("raw_headers", ())
    return Request(
        method=method,
        path=path,
        query=dict(extra.get("raw_query", ())),
        headers={k.lower(): v for k, v in raw_headers},
        body=extra.get("body", b""),
        raw_headers=raw_headers,
        raw_query=extra.get("raw_query", ()),
    )


def test_the_2_0_event() -> None:
    event = event_v2(
        request(
            "POST",
            raw_query=(("tag", "a"), ("tag", "b")),
            raw_headers=(
                ("X-Multi", "1"),
                ("X-Multi", "2"),
                ("Cookie", "a=1; b=2"),
                ("User-Agent", "curl"),
                ("Content-Length", "3"),
            ),  # fmt: skip
            body=b"\xff\x00\x01",
        ),
        "/users/42",
        {"id": "42"},
        CONTEXT,
    )
    assert event == {
        "version": "2.0",
        "routeKey": "GET /users/{id}",
        "rawPath": "/users/42",
        "rawQueryString": "tag=a&tag=b",
        "cookies": ["a=1", "b=2"],
        "headers": {"x-multi": "1,2", "user-agent": "curl"},
        "queryStringParameters": {"tag": "a,b"},
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "api1",
            "domainName": "api1.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "api1",
            "http": {
                "method": "POST",
                "path": "/users/42",
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "curl",
            },  # fmt: skip
            "requestId": "req-1",
            "routeKey": "GET /users/{id}",
            "stage": "$default",
            "time": "01/May/2024:12:00:00 +0000",
            "timeEpoch": 1714564800000,
        },
        "body": base64.b64encode(b"\xff\x00\x01").decode(),
        "pathParameters": {"id": "42"},
        "isBase64Encoded": True,
    }


@pytest.mark.parametrize(
    ("answer", "status", "body", "headers"),
    [
        ({"statusCode": 201, "headers": {"x-a": "b", "x-n": 1}, "body": "made"}, 201, "made",
         {"x-a": "b", "x-n": "1"}),
        ({"message": "hi"}, 200, '{"message": "hi"}', {"Content-Type": "application/json"}),
        ("hello", 200, "hello", {"Content-Type": "application/json"}),
        (42, 200, "42", {"Content-Type": "application/json"}),
        ([1, 2], 200, "[1, 2]", {"Content-Type": "application/json"}),
    ],
)  # fmt: skip
def test_2_0_answers_become_responses(
    answer: Any, status: int, body: str, headers: dict[str, str]
) -> None:
    response = response_v2(json.dumps(answer))
    assert response is not None
    assert (response.status, response.body, response.headers) == (status, body, headers)


def test_cookies_and_base64_bodies() -> None:
    response = response_v2(json.dumps({
        "statusCode": 200, "cookies": ["a=1; Path=/", "b=2"], "isBase64Encoded": True,
        "body": base64.b64encode(b"\x89PNG").decode(),
    }))  # fmt: skip
    assert response is not None
    assert response.cookies == ("a=1; Path=/", "b=2")
    assert response.raw == b"\x89PNG"


@pytest.mark.parametrize(
    "payload",
    ["not json", json.dumps({"statusCode": "x"}), json.dumps({"statusCode": 200, "body": {}}),
     json.dumps({"statusCode": 200, "cookies": "a=1"})],
)  # fmt: skip
def test_unreadable_answers_are_none(payload: str) -> None:
    assert response_v2(payload) is None


@dataclass
class Answer:
    payload: str
    function_error: str | None = None
    timed_out: bool = False


class FakeFunctions:
    def __init__(self, result: Any = None, error: str | None = None, late: bool = False):
        self.events: list[dict[str, Any]] = []
        self.result, self.error, self.late = result, error, late

    def invoke(self, function_arn: str, payload: str) -> Answer:
        assert function_arn == ARN
        self.events.append(json.loads(payload))
        return Answer(json.dumps(self.result), self.error, self.late)


def api(functions: FakeFunctions, *keys: str, payload: str = "2.0",
        cors: dict[str, Any] | None = None) -> LocalHttpApi:  # fmt: skip
    document: dict[str, Any] = {
        "ApiId": "api1",
        "Name": "dev-s",
        "Integrations": [
            {"IntegrationId": "i1", "IntegrationUri": ARN, "PayloadFormatVersion": payload}
        ],  # fmt: skip
        "Routes": [
            {"RouteKey": k, "Target": "integrations/i1", "AuthorizationType": "NONE"} for k in keys
        ],  # fmt: skip
    }
    if cors:
        document["CorsConfiguration"] = cors
    return LocalHttpApi(document, functions, account="000000000000", region="us-east-1",
                        new_request_id=lambda: "req-1", now=lambda: WHEN)  # fmt: skip


def test_the_most_specific_route_takes_the_request() -> None:
    functions = FakeFunctions({"ok": True})
    served = api(functions, "ANY /users/{proxy+}", "GET /users/{id}", "GET /users/me", "$default")
    for path, key in [("/users/me", "GET /users/me"), ("/users/42", "GET /users/{id}"),
                      ("/users/42/x", "ANY /users/{proxy+}"), ("/other", "$default")]:  # fmt: skip
        assert served.handle(request(path=path)).status == 200
        assert functions.events[-1]["routeKey"] == key
    assert functions.events[1]["pathParameters"] == {"id": "42"}
    assert functions.events[2]["pathParameters"] == {"proxy": "42/x"}
    assert "pathParameters" not in functions.events[3]


def test_no_route_is_404_and_a_failure_500() -> None:
    assert api(FakeFunctions(), "GET /a").handle(request(path="/b")).status == 404
    failed = api(FakeFunctions({"errorMessage": "boom"}, error="Unhandled"), "GET /a")
    answer = failed.handle(request(path="/a"))
    assert (answer.status, json.loads(answer.body)) == (500, {"message": "Internal Server Error"})
    late = api(FakeFunctions(None, late=True), "GET /a").handle(request(path="/a"))
    assert (late.status, json.loads(late.body)) == (503, {"message": "Service Unavailable"})


def test_payload_1_0() -> None:
    functions = FakeFunctions({"statusCode": 202, "body": "queued"})
    answer = api(functions, "POST /jobs", payload="1.0").handle(request("POST", "/jobs"))
    assert (answer.status, answer.body) == (202, "queued")
    event = functions.events[0]
    assert (event["version"], event["resource"], event["httpMethod"]) == ("1.0", "/jobs", "POST")
    assert event["requestContext"]["routeKey"] == "POST /jobs"


def test_cors_preflights_and_origins() -> None:
    cors = {"AllowOrigins": ["https://app.example.com"], "AllowMethods": ["GET", "OPTIONS"],
            "AllowHeaders": ["Content-Type"], "AllowCredentials": True, "MaxAge": 60}  # fmt: skip
    functions = FakeFunctions({"ok": True})
    served = api(functions, "GET /a", cors=cors)
    origin = ("Origin", "https://app.example.com")
    answer = served.handle(request("OPTIONS", "/a", raw_headers=(
        origin, ("Access-Control-Request-Method", "GET"))))  # fmt: skip
    assert answer.status == 204 and functions.events == []
    assert answer.headers == {
        "Access-Control-Allow-Origin": "https://app.example.com",
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Allow-Methods": "GET,OPTIONS",
        "Access-Control-Allow-Headers": "content-type",
        "Access-Control-Max-Age": "60",
    }
    answer = served.handle(request(path="/a", raw_headers=(origin,)))
    assert answer.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    other = served.handle(request(path="/a", raw_headers=(("Origin", "https://evil.example"),)))
    assert "Access-Control-Allow-Origin" not in other.headers
