"""The local target's providers for HTTP APIs and function URLs. An HTTP API is a record in
the runtime's SQLite file holding the API as apigatewayv2 answers it (GetApi, plus its
integrations, routes, authorizers and `$default` stage), which `tool serve` answers on
loopback (tooling.triggers.local_http_api). JWT authorizers are kept and not checked locally
(said by `tool serve`). A function URL is a record of its configuration with the URL `tool
serve` answers it at, `http://127.0.0.1:3000/lambda-url/<function name>/` (serve's default
port)."""

from __future__ import annotations

import hashlib
from typing import Any

from tooling.deploy.function_url_providers import local_function_url
from tooling.deploy.function_url_resources import function_url_diff
from tooling.deploy.http_api_resources import STAGE, http_api_diff, local_http_api_id
from tooling.deploy.local_event_providers import _Records
from tooling.deploy.models import (
    Address,
    FunctionUrl,
    HttpApi,
    HttpApiRoute,
    Kind,
    WebsocketApi,
    WebsocketRoute,
)
from tooling.deploy.providers import Description, Diff, Found
from tooling.deploy.websocket_resources import invocation_uri, websocket_api_diff
from tooling.triggers.http_api import SERVE_PORT


def _short(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:7]


def _route_document(
    api_id: str, route: HttpApiRoute | WebsocketRoute, integration_id: str
) -> dict[str, Any]:
    return {
        "RouteId": _short(api_id + route.route_key),
        "RouteKey": route.route_key,
        "Target": f"integrations/{integration_id}",
        "AuthorizationType": route.authorization_type,
        "DeclaredIn": list(route.declared_in),
    }


def http_api_document(api: HttpApi, api_id: str) -> dict[str, Any]:
    """The API as apigatewayv2 would answer for it (one integration per function and payload
    format, as the AWS provider makes them)."""
    integrations: dict[tuple[str, str], dict[str, Any]] = {}
    routes = []
    authorizer_ids = {a["Name"]: _short(api_id + a["Name"]) for a in api.authorizers}
    for route in api.routes:
        key = (route.function_arn, route.payload_format)
        integration = integrations.setdefault(
            key,
            {
                "IntegrationId": _short(f"{api_id} {key}"),
                "IntegrationType": "AWS_PROXY",
                "IntegrationUri": route.function_arn,
                "PayloadFormatVersion": route.payload_format,
                "TimeoutInMillis": 30_000,
            },
        )
        document = _route_document(api_id, route, integration["IntegrationId"])
        authorizer = authorizer_ids.get(route.authorizer or "") or route.authorizer_id
        if authorizer:
            document["AuthorizerId"] = authorizer
        if route.scopes:
            document["AuthorizationScopes"] = list(route.scopes)
        routes.append(document)
    document = {
        "ApiId": api_id,
        "Name": api.name if api.existing_id is None else api_id,
        "ProtocolType": "HTTP",
        "ApiEndpoint": f"http://127.0.0.1:{SERVE_PORT}",  # where `tool serve` answers it
        "Integrations": list(integrations.values()),
        "Routes": routes,
        "Authorizers": [{"AuthorizerId": authorizer_ids[a["Name"]], **a} for a in api.authorizers],
        "Stages": [
            {
                "StageName": STAGE,
                "AutoDeploy": True,
                "DefaultRouteSettings": {"DetailedMetricsEnabled": api.metrics},
            }
        ]
        if api.existing_id is None
        else [],  # fmt: skip
    }
    if api.cors:
        document["CorsConfiguration"] = api.cors
    if api.disable_default_endpoint is not None:
        document["DisableExecuteApiEndpoint"] = api.disable_default_endpoint
    return document


class _LocalApis(_Records):
    """An API Gateway v2 API's record: its `document` as apigatewayv2 answers for it."""

    def find(self, address: Address) -> Found | None:
        return self._find(address)

    def create(self, resource: HttpApi | WebsocketApi) -> None:
        api_id = local_http_api_id(self.state.region, resource.address.name)
        self._put(resource.address, self.document(resource, api_id))

    def document(self, resource: Any, api_id: str) -> dict[str, Any]:
        raise NotImplementedError

    def update(self, resource: HttpApi | WebsocketApi, found: Found, diff: Diff) -> None:
        self.create(resource)

    label = "HTTP API"
    served = "served by `tool serve`"

    def describe(self, address: Address, found: Found) -> Description:
        return Description(
            f"local {self.label} {found.get('ApiId')}",
            f"{len(found.get('Routes') or [])} route(s), {self.served}",
        )


class LocalHttpApis(_LocalApis):
    kind: Kind = "http api"

    def check(self, resource: HttpApi) -> None:
        pass

    def diff(self, resource: HttpApi, found: Found) -> Diff:
        return http_api_diff(resource, found)

    def document(self, resource: HttpApi, api_id: str) -> dict[str, Any]:
        return http_api_document(resource, api_id)


def websocket_api_document(api: WebsocketApi, api_id: str) -> dict[str, Any]:
    """The WebSocket API as apigatewayv2 would answer for it (one integration per function, as
    the AWS provider makes them)."""
    authorizer_ids = {a["Name"]: _short(api_id + a["Name"]) for a in api.authorizers}
    integrations: dict[str, dict[str, Any]] = {}
    routes = []
    for route in api.routes:
        uri = invocation_uri(route.function_arn)
        integration = integrations.setdefault(
            uri,
            {"IntegrationId": _short(f"{api_id} {uri}"), "IntegrationType": "AWS_PROXY",
             "IntegrationMethod": "POST", "IntegrationUri": uri},
        )  # fmt: skip
        document = _route_document(api_id, route, integration["IntegrationId"])
        if route.authorizer:
            document["AuthorizerId"] = authorizer_ids[route.authorizer]
        if route.route_response_selection:
            document["RouteResponseSelectionExpression"] = route.route_response_selection
        routes.append(document)
    return {
        "ApiId": api_id,
        "Name": api.name,
        "ProtocolType": "WEBSOCKET",
        "RouteSelectionExpression": api.route_selection,
        "Description": api.description,
        "Integrations": list(integrations.values()),
        "Routes": routes,
        "Authorizers": [{"AuthorizerId": authorizer_ids[a["Name"]], **a} for a in api.authorizers],
        "Stages": [{"StageName": api.stage, "AutoDeploy": True}],
    }


class LocalWebsocketApis(_LocalApis):
    """A WebSocket API on the local target is a record only: `tool serve` does not accept
    WebSocket connections (yet), which `check` says at each deploy; the functions deploy and
    run as any other."""

    kind: Kind = "websocket api"
    label = "WebSocket API"
    served = "not served locally"

    def check(self, resource: WebsocketApi) -> list[str]:
        return [
            f"WebSocket API {resource.name}: recorded on the local target, not served (`tool "
            "serve` answers http and httpApi events, not WebSocket connections); its functions "
            "deploy and run as any other"
        ]

    def diff(self, resource: WebsocketApi, found: Found) -> Diff:
        return websocket_api_diff(resource, found)

    def document(self, resource: WebsocketApi, api_id: str) -> dict[str, Any]:
        return websocket_api_document(resource, api_id)


class LocalFunctionUrls(_Records):
    kind: Kind = "function url"

    def check(self, resource: FunctionUrl) -> None:
        pass

    def find(self, address: Address) -> Found | None:
        return self._find(address)

    def diff(self, resource: FunctionUrl, found: Found) -> Diff:
        return function_url_diff(resource, found)

    def create(self, resource: FunctionUrl) -> None:
        document = {
            "FunctionUrl": local_function_url(resource.function_name),
            "FunctionArn": resource.function_arn,
            **resource.settings,
        }
        self._put(resource.address, document)

    def update(self, resource: FunctionUrl, found: Found, diff: Diff) -> None:
        self.create(resource)

    def describe(self, address: Address, found: Found) -> Description:
        return Description(
            str(found.get("FunctionUrl", "")),
            f"auth {found.get('AuthType')}, served by `tool serve`",
        )
