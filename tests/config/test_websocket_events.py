"""Functions' `websocket` events, read as Serverless v3 reads them (websockets/lib/validate.js):
a route as text or `{route, routeResponseSelectionExpression, authorizer}`, the API's name
and route selection from the provider, authorizers by function name or ARN; what Serverless
or API Gateway refuses is a problem at its line, never an API deployed otherwise (issue 15)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tooling.config.service import ServiceConfig, load_service

BASE = (
    "service: s\nprovider:\n  name: aws\n{provider}functions:\n  hello:\n    handler: h.hello\n"
    "    events:\n{events}  auth:\n    handler: h.hello\n"
)


def load(tmp_path: Path, events: str, provider: str = "") -> ServiceConfig:
    (tmp_path / "serverless.yml").write_text(BASE.format(provider=provider, events=events))
    return load_service(tmp_path, env={})


def problems(service: ServiceConfig) -> list[str]:
    return [p.render() for p in service.problems]


def test_routes_authorizers_and_provider_settings(tmp_path: Path) -> None:
    service = load(
        tmp_path,
        "      - websocket: $default\n"
        "      - websocket:\n          route: $connect\n          authorizer: auth\n"
        "      - websocket:\n          route: send\n"
        "          routeResponseSelectionExpression: $default\n",
        "  websocketsApiName: sockets\n  websocketsApiRouteSelectionExpression: $request.body.r\n"
        "  websocketsDescription: chat\n",
    )
    assert problems(service) == []
    events = service.functions["hello"].events.websocket
    assert [e.route for e in events] == ["$default", "$connect", "send"]
    assert events[0].location == ("serverless.yml", 11, 20)
    assert events[2].route_response_selection == "$default"
    settings = service.websocket
    assert settings is not None
    assert (settings.name, settings.route_selection, settings.description) == (
        "sockets", "$request.body.r", "chat",
    )  # fmt: skip
    auth = settings.authorizers["auth"]
    assert auth.function_arn == service.functions["auth"].arn
    assert auth.identity_source == ("route.request.header.Auth",)  # Serverless' default
    assert "AuthorizerPayloadFormatVersion" not in auth.settings()  # HTTP APIs' only


def test_default_name_and_an_authorizer_by_arn(tmp_path: Path) -> None:
    arn = "arn:aws:lambda:us-east-1:123456789012:function:gate"
    service = load(
        tmp_path,
        f"      - websocket:\n          route: $connect\n          authorizer:\n"
        f"            arn: {arn}\n            identitySource: [route.request.querystring.t]\n",
    )
    assert problems(service) == []
    assert service.websocket is not None
    assert service.websocket.name == "dev-s-websockets"
    assert service.websocket.route_selection == "$request.body.action"
    gate = service.websocket.authorizers["gate"]
    assert (gate.function_arn, gate.identity_source) == (arn, ("route.request.querystring.t",))


@pytest.mark.parametrize(
    ("events", "provider", "expected"),
    [
        ("      - websocket: {path: /x}\n", "", "serverless.yml:8:27: function 'hello': "
         "websocket key `path` is unknown"),
        ("      - websocket: {routeResponseSelectionExpression: $default}\n", "",
         "serverless.yml:8:20: function 'hello': a websocket event needs a `route`"),
        ("      - websocket:\n          route: x\n          routeResponseSelectionExpression: "
         "$request.body\n", "", "serverless.yml:10:45: function 'hello': "
         "routeResponseSelectionExpression '$request.body' is not `$default`"),
        ("      - websocket:\n          route: send\n          authorizer: auth\n", "",
         "serverless.yml:10:23: function 'hello': route 'send' has an authorizer: API Gateway "
         "calls WebSocket authorizers on `$connect` only"),
        ("      - websocket:\n          route: $connect\n          authorizer: nobody\n", "",
         "serverless.yml:9:11: function 'hello': websocket authorizer function 'nobody' does "
         "not exist in this service"),
        ("      - websocket: $default\n      - websocket: $default\n", "",
         "serverless.yml:9:20: function 'hello': duplicate websocket route '$default'"),
        ("      - websocket: $default\n", "  apiGateway:\n    websocketApiId: abc\n",
         "serverless.yml:5:21: websocket routes added to an existing WebSocket API "
         "(provider.apiGateway.websocketApiId) are not supported by the toolkit yet"),
    ],
)  # fmt: skip
def test_refusals_at_their_line(tmp_path: Path, events: str, provider: str, expected: str) -> None:
    service = load(tmp_path, events, provider)
    assert service.websocket is None
    assert any(p.startswith(expected) for p in problems(service)), problems(service)


def test_provider_settings_without_websocket_events_are_said_ignored(tmp_path: Path) -> None:
    service = load(tmp_path, "      - schedule: rate(1 hour)\n", "  websocketsApiName: x\n")
    assert service.websocket is None
    assert any("provider.websocketsApiName is ignored" in w for w in service.warnings)
