"""Functions' `httpApi` events and `provider.httpApi`, read as Serverless v3 reads them
(http-api.js): route keys, `*`, authorizers by name or id, CORS filled with the routes'
methods, payload, name; what Serverless refuses and what the toolkit does not deploy (Lambda
`request` authorizers) is a problem at its line, never an open route (issue 15)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tooling.config.service import ServiceConfig, load_service

BASE = "service: s\nprovider:\n  name: aws\n{provider}functions:\n  hello:\n    handler: h.hello\n"
JWT = (
    "  httpApi:\n    authorizers:\n      staff:\n"
    "        identitySource: $request.header.Authorization\n"
    "        issuerUrl: https://issuer.example.com\n        audience: [app]\n"
)


def load(tmp_path: Path, events: str, provider: str = "", **kwargs: Any) -> ServiceConfig:
    text = BASE.format(provider=provider) + "    events:\n" + events
    (tmp_path / "serverless.yml").write_text(text)
    kwargs.setdefault("env", {})
    return load_service(tmp_path, **kwargs)


def problems(service: ServiceConfig) -> list[str]:
    return [p.render() for p in service.problems]


def test_routes_in_each_form(tmp_path: Path) -> None:
    service = load(
        tmp_path,
        "      - httpApi: 'GET /users/{id}'\n"
        "      - httpApi: '*'\n"
        "      - httpApi: {method: '*', path: /any}\n"
        "      - httpApi:\n          method: post\n          path: /users\n"
        "          authorizer: {name: staff, scopes: [users.write]}\n"
        "      - httpApi: {method: delete, path: /users, authorizer: {type: aws_iam}}\n",
        JWT,
    )
    assert problems(service) == []
    events = service.functions["hello"].events.http_api
    assert [e.route_key for e in events] == [
        "GET /users/{id}", "$default", "ANY /any", "POST /users", "DELETE /users",
    ]  # fmt: skip
    assert events[0].location == ("serverless.yml", 14, 18)
    assert (events[3].authorization_type, events[3].authorizer, events[3].scopes) == (
        "JWT", "staff", ("users.write",),
    )  # fmt: skip
    assert events[4].authorization_type == "AWS_IAM"
    api = service.http_api
    assert api is not None and api.name == "dev-s" and api.payload == "2.0"
    assert api.authorizers["staff"].settings() == {
        "Name": "staff",
        "AuthorizerType": "JWT",
        "IdentitySource": ["$request.header.Authorization"],
        "JwtConfiguration": {"Audience": ["app"], "Issuer": "https://issuer.example.com"},
    }
    assert api.cors is None


def test_provider_settings_and_cors(tmp_path: Path) -> None:
    service = load(
        tmp_path,
        "      - httpApi: 'GET /a'\n",
        "  httpApi:\n    name: my-api\n    payload: '1.0'\n    metrics: true\n"
        "    disableDefaultEndpoint: true\n"
        "    cors:\n      allowedOrigins: [https://example.com]\n      allowCredentials: true\n"
        "      maxAge: 60\n",
    )
    assert problems(service) == []
    api = service.http_api
    assert api is not None
    assert (api.name, api.payload, api.metrics, api.disable_default_endpoint) == (
        "my-api", "1.0", True, True,
    )  # fmt: skip
    assert api.cors is not None
    assert api.cors["AllowOrigins"] == ["https://example.com"]
    assert api.cors["AllowMethods"] == ["OPTIONS", "GET"]  # filled from the routes
    assert api.cors["AllowCredentials"] is True and api.cors["MaxAge"] == 60


@pytest.mark.parametrize(
    ("events", "provider", "expected"),
    [
        ("      - httpApi: 'FETCH /a'\n", "", "serverless.yml:8:18: function 'hello': httpApi "
         "event 'FETCH /a' is not `METHOD /path` or `*`"),
        ("      - httpApi: {path: a, method: get}\n", "", "serverless.yml:8:25: function "
         "'hello': httpApi path 'a' must be `*` or start with `/`"),
        ("      - httpApi: {path: /a}\n", "", "serverless.yml:8:18: function 'hello': an "
         "httpApi event needs a `method`"),
        ("      - httpApi: {path: /a, method: get, authorizer: other}\n", JWT,
         "serverless.yml:14:18: function 'hello': the httpApi event names authorizer 'other', "
         "which provider.httpApi.authorizers does not define"),
        ("      - httpApi: {path: /a, method: get, authorizer: {id: abc}}\n", "",
         "function 'hello': the httpApi event names an existing authorizer ('abc'), but the "
         "HTTP API is the service's own"),
        ("      - httpApi: 'GET /a'\n      - httpApi: 'GET /a'\n", "",
         "function 'hello': duplicate httpApi route 'GET /a'"),
        ("      - httpApi: 'GET /a'\n", "  httpApi:\n    payload: 3\n",
         "serverless.yml:5:14: provider.httpApi.payload '3' is not '1.0' or '2.0'"),
        ("      - httpApi: 'GET /a'\n", "  httpApi:\n    id: abc\n    cors: true\n",
         "serverless.yml:6:11: provider.httpApi.cors cannot be set up for an existing HTTP API"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_at_its_place(
    tmp_path: Path, events: str, provider: str, expected: str
) -> None:
    found = problems(load(tmp_path, events, provider))
    assert len(found) == 1, found
    assert expected in found[0]


def test_a_lambda_request_authorizer(tmp_path: Path) -> None:
    service = load(
        tmp_path,
        "      - httpApi: {path: /a, method: get, authorizer: {name: custom}}\n",
        "  httpApi:\n    authorizers:\n      custom:\n        type: request\n"
        "        functionName: hello\n        identitySource: [$request.header.Auth]\n"
        "        resultTtlInSeconds: 60\n        enableSimpleResponses: true\n",
    )
    assert problems(service) == []
    assert service.http_api is not None
    assert service.http_api.authorizers["custom"].settings() == {
        "Name": "custom",
        "AuthorizerType": "REQUEST",
        "IdentitySource": ["$request.header.Auth"],
        "AuthorizerUri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
        "arn:aws:lambda:us-east-1:000000000000:function:s-dev-hello/invocations",
        "AuthorizerPayloadFormatVersion": "2.0",
        "EnableSimpleResponses": True,
        "AuthorizerResultTtlInSeconds": 60,
    }


@pytest.mark.parametrize(
    ("authorizer", "expected"),
    [
        ("        functionName: hello\n        functionArn: arn:aws:lambda:x\n",
         'serverless.yml:7:9: Either "functionArn" or "functionName" (not both)'),
        ("        functionName: other\n",
         'serverless.yml:8:23: Function "other" for HTTP API authorizer "custom" not found'),
        ("        functionName: hello\n        resultTtlInSeconds: 30\n",
         'serverless.yml:7:9: Property "identitySource" has to be set on authorizer "custom"'),
    ],
)  # fmt: skip
def test_lambda_authorizers_serverless_refuses(
    tmp_path: Path, authorizer: str, expected: str
) -> None:
    service = load(
        tmp_path,
        "      - httpApi: {path: /a, method: get, authorizer: {name: custom}}\n",
        "  httpApi:\n    authorizers:\n      custom:\n        type: request\n" + authorizer,
    )
    (problem,) = problems(service)
    assert problem.startswith(expected), problem


def test_a_long_timeout_is_warned_about(tmp_path: Path) -> None:
    service = load(tmp_path, "      - httpApi: 'GET /a'\n    timeout: 31\n")
    assert any("timeout 31 s is over the HTTP API's 30 s" in w for w in service.warnings)
