"""`tool serve` runs the REST API authorizers the http events make, as API Gateway runs them
(issue 15): the TOKEN and REQUEST events, 401 without the identity or on `Unauthorized`, 403
on a Deny or no Allow, 500 on a broken answer, the answer's context passed to the integration,
answers cached per identity for the TTL on the injected clock; a Cognito authorizer (not
checkable locally) refuses a request without its identity. Fake functions here;
tests/cli/test_rest_authorizers_cli.py runs real handlers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tooling.triggers.http_api import LocalApi, Request

HELLO = "arn:aws:lambda:us-east-1:000000000000:function:s-dev-hello"
AUTH = "arn:aws:lambda:us-east-1:000000000000:function:s-dev-auth"
URI = f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{AUTH}/invocations"
METHOD_ARN = "arn:aws:execute-api:us-east-1:000000000000:abc123/dev/GET/users/42"


@dataclass
class Answer:
    payload: str
    function_error: str | None = None
    timed_out: bool = False


def allow(resource: str = "*", effect: str = "Allow", **context: Any) -> dict[str, Any]:
    return {
        "principalId": "user-1",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}],
        },  # fmt: skip
        "context": context,
    }


class Functions:
    """The authorizer answers `policy` (or fails with `error`); hello echoes its event."""

    def __init__(self, policy: Any = None, error: str | None = None) -> None:
        self.policy = policy if policy is not None else allow()
        self.error = error
        self.calls: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []

    def invoke(self, function_arn: str, payload: str) -> Answer:
        if function_arn == AUTH:
            self.calls.append(json.loads(payload))
            if self.error is not None:
                return Answer(json.dumps({"errorMessage": self.error}), "Unhandled")
            return Answer(json.dumps(self.policy))
        self.events.append(json.loads(payload))
        return Answer(json.dumps({"statusCode": 200, "body": "ok"}))


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.at


def token_authorizer(**extra: Any) -> dict[str, Any]:
    return {"id": "auth01", "name": "auth", "type": "TOKEN", "authorizerUri": URI,
            "identitySource": "method.request.header.Authorization",
            "authorizerResultTtlInSeconds": 300, **extra}  # fmt: skip


def api(functions: Functions, authorizer: dict[str, Any], clock: Clock | None = None) -> LocalApi:
    route = {"path": "users/{id}", "method": "GET", "functionArn": HELLO, "action": None,
             "authorizationType": "CUSTOM", "authorizerId": authorizer["id"],
             "authorizer": authorizer, "apiKeyRequired": False}  # fmt: skip
    document = {"id": "abc123", "name": "dev-s", "Stages": [{"stageName": "dev"}],
                "Routes": [route], "Authorizers": [authorizer]}  # fmt: skip
    return LocalApi(
        document,
        executions=None,  # type: ignore[arg-type]  # no state machine route here
        account="000000000000",
        new_request_id=lambda: "req-1",
        now=clock or Clock(),
        functions=functions,
        deployed_function=lambda arn: arn in (AUTH, HELLO),
    )


def request(*headers: tuple[str, str], path: str = "/dev/users/42", query: str = "") -> Request:
    pairs: list[tuple[str, str]] = []
    for part in query.split("&") if query else []:
        name, _, value = part.partition("=")
        pairs.append((name, value))
    return Request(
        method="GET",
        path=path,
        query=dict(pairs),
        headers={k.lower(): v for k, v in headers},
        raw_headers=headers,
        raw_query=tuple(pairs),
    )


def test_a_token_authorizer_allows_and_its_context_reaches_the_function() -> None:
    functions = Functions(allow(tenant="t1", admin=True, level=3))
    answer = api(functions, token_authorizer()).handle(request(("Authorization", "tok-1")))
    assert answer.status == 200, answer.body
    assert functions.calls == [
        {"type": "TOKEN", "authorizationToken": "tok-1", "methodArn": METHOD_ARN}
    ]
    (event,) = functions.events
    assert event["requestContext"]["authorizer"] == {
        "principalId": "user-1", "tenant": "t1", "admin": "true", "level": "3",
    }  # fmt: skip


def test_deny_is_403_and_no_allow_for_this_method_is_403() -> None:
    denied = api(Functions(allow(effect="Deny")), token_authorizer())
    answer = denied.handle(request(("Authorization", "tok")))
    assert (answer.status, json.loads(answer.body)) == (403, {
        "Message": "User is not authorized to access this resource with an explicit deny in an "
        "identity-based policy"})  # fmt: skip
    assert answer.headers["x-amzn-ErrorType"] == "AccessDeniedException"
    elsewhere = api(Functions(allow("arn:aws:execute-api:*:*:*/dev/POST/*")), token_authorizer())
    answer = elsewhere.handle(request(("Authorization", "tok")))
    assert (answer.status, json.loads(answer.body)) == (
        403, {"Message": "User is not authorized to access this resource"},
    )  # fmt: skip
    scoped = api(Functions(allow("arn:aws:execute-api:*:*:abc123/dev/GET/users/*")),
                 token_authorizer())  # fmt: skip
    assert scoped.handle(request(("Authorization", "tok"))).status == 200


def test_a_missing_token_or_unauthorized_is_401_and_errors_are_500() -> None:
    functions = Functions()
    served = api(functions, token_authorizer(identityValidationExpression="^Bearer .+$"))
    for headers in ((), (("Authorization", ""),), (("Authorization", "Basic x"),)):
        answer = served.handle(request(*headers))
        assert (answer.status, json.loads(answer.body)) == (401, {"message": "Unauthorized"})
        assert answer.headers["x-amzn-ErrorType"] == "UnauthorizedException"
    assert functions.calls == [] and functions.events == []  # no call without the identity
    answer = api(Functions(error="Unauthorized"), token_authorizer()).handle(
        request(("Authorization", "tok"))
    )
    assert (answer.status, json.loads(answer.body)) == (401, {"message": "Unauthorized"})
    for broken in (Functions(error="boom"), Functions({"principalId": "u"}),
                   Functions(allow(nested={"a": 1}))):  # fmt: skip
        answer = api(broken, token_authorizer()).handle(request(("Authorization", "tok")))
        assert (answer.status, json.loads(answer.body)) == (500, {"message": None})
        assert answer.headers["x-amzn-ErrorType"] == "AuthorizerConfigurationException"
        assert broken.events == []


def test_answers_are_cached_per_identity_for_the_ttl_on_the_injected_clock() -> None:
    functions, clock = Functions(), Clock()
    served = api(functions, token_authorizer(authorizerResultTtlInSeconds=60), clock)
    for _ in range(3):
        assert served.handle(request(("Authorization", "tok-1"))).status == 200
    assert len(functions.calls) == 1
    assert served.handle(request(("Authorization", "tok-2"))).status == 200
    assert len(functions.calls) == 2  # another identity, another call
    clock.at += timedelta(seconds=61)
    assert served.handle(request(("Authorization", "tok-1"))).status == 200
    assert len(functions.calls) == 3  # expired
    uncached = api(functions, token_authorizer(authorizerResultTtlInSeconds=0), clock)
    uncached.handle(request(("Authorization", "tok-1")))
    uncached.handle(request(("Authorization", "tok-1")))
    assert len(functions.calls) == 5


def test_a_request_authorizer_gets_the_request() -> None:
    functions = Functions()
    authorizer = token_authorizer(
        type="REQUEST", identitySource="method.request.header.X-Key, method.request.querystring.k"
    )
    served = api(functions, authorizer)
    assert served.handle(request(("X-Key", "1"))).status == 401  # `k` missing
    assert served.handle(request(("X-Key", "1"), query="k=2")).status == 200
    (event,) = functions.calls
    assert (event["type"], event["methodArn"]) == ("REQUEST", METHOD_ARN)
    assert event["headers"] == {"X-Key": "1"}
    assert event["queryStringParameters"] == {"k": "2"}
    assert event["pathParameters"] == {"id": "42"}
    assert event["resource"] == "/users/{id}"
    assert event["requestContext"]["stage"] == "dev"
    assert "body" not in event
    by_source_ip = api(
        functions, token_authorizer(type="REQUEST", identitySource="context.identity.sourceIp")
    )
    assert by_source_ip.handle(request()).status == 200  # $context values are known locally


def test_a_cognito_authorizer_refuses_a_request_without_its_token() -> None:
    functions = Functions()
    claims = {"sub": "u-1", "email": "a@example.com"}
    import base64

    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    pool = {"id": "pool01", "name": "pool", "type": "COGNITO_USER_POOLS",
            "providerARNs": ["arn:aws:cognito-idp:us-east-1:1:userpool/x"],
            "identitySource": "method.request.header.Authorization",
            "declaredIn": ["serverless.yml", 12, 23]}  # fmt: skip
    served = api(functions, pool)
    assert served.handle(request()).status == 401
    assert functions.events == []
    assert served.handle(request(("Authorization", f"h.{payload}.s"))).status == 200
    (event,) = functions.events
    assert event["requestContext"]["authorizer"] == {"claims": claims}
    (note,) = served.notes()
    assert note.startswith("serverless.yml:12:23: authorizer 'pool' (a Cognito user pool's "
                           "token) cannot be checked locally")  # fmt: skip
