"""The functions' `websocket` events as resources: one WebSocket API (API Gateway v2) per
service and stage, a route per event with its function's Lambda proxy integration, the
REQUEST authorizers of `$connect`, and a Lambda permission per function (and per authorizer
function) letting that API, and only it, invoke it; how a found API compares with the model
(`websocket_api_diff`), the same on both targets (each answers in apigatewayv2's shapes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tooling.config.http_api_events import RequestAuthorizer
from tooling.deploy.function_alias_resources import target_needs
from tooling.deploy.http_api_resources import api_permissions
from tooling.deploy.models import Address, Resource, WebsocketApi, WebsocketRoute
from tooling.deploy.providers import Diff, Found

if TYPE_CHECKING:
    from tooling.config.service import ServiceConfig


def invocation_uri(function_arn: str) -> str:
    """How API Gateway names a Lambda function it calls (a WebSocket API's integration URI
    and any REQUEST authorizer's)."""
    partition, region = function_arn.split(":")[1], function_arn.split(":")[3]
    return (
        f"arn:{partition}:apigateway:{region}:lambda:path/2015-03-31/functions/"
        f"{function_arn}/invocations"
    )


def websocket_api_model(
    service: ServiceConfig, *, existence_only: bool = False
) -> WebsocketApi | None:
    """The service's WebSocket API, or None when no function has a websocket event."""
    settings = service.websocket
    if settings is None:
        return None
    routes: list[WebsocketRoute] = []
    needs: list[Address] = []
    invoked = {fn.target_arn: fn for fn in service.functions.values()}
    for function in service.functions.values():
        for event in function.events.websocket:
            routes.append(
                WebsocketRoute(
                    route_key=event.route,
                    function_arn=function.target_arn,
                    route_response_selection=event.route_response_selection,
                    authorizer=event.authorizer.name if event.authorizer else None,
                    declared_in=event.location,
                )
            )
            needs.extend(target_needs(function))
    for authorizer in settings.authorizers.values():
        if authorizer.function_arn in invoked:
            needs.extend(target_needs(invoked[authorizer.function_arn]))
    return WebsocketApi(
        name=settings.name,
        routes=() if existence_only else tuple(routes),
        stage=service.stage,
        route_selection=settings.route_selection,
        description=settings.description,
        authorizers=tuple(_authorizer_settings(a) for a in settings.authorizers.values()),
        needs=() if existence_only else tuple(dict.fromkeys(needs)),
        existence_only=existence_only,
    )


def _authorizer_settings(authorizer: RequestAuthorizer) -> dict[str, Any]:
    return {**authorizer.settings(), "AuthorizerUri": invocation_uri(authorizer.function_arn)}


def function_websocket_api(context: Any) -> tuple[list[Resource], list[str]]:
    """The WebSocket API and its Lambda permissions (tooling.deploy.desired)."""
    service: ServiceConfig = context.service
    api = websocket_api_model(service)
    if api is None:
        return [], []
    assert service.websocket is not None
    arns = [r.function_arn for r in api.routes]
    arns.extend(a.function_arn for a in service.websocket.authorizers.values())
    permissions = api_permissions(service, api.address, arns)
    return [api, *permissions], []


# -- how a found API compares -----------------------------------------------------------------


def wanted_shape(api: WebsocketApi) -> dict[str, Any]:
    """What the model asks for, in the terms `found_shape` reads a found API in."""
    return {
        "RouteSelectionExpression": api.route_selection,
        "Description": api.description,
        "stage": True,
        "authorizers": {
            a["Name"]: {k: a[k] for k in ("AuthorizerUri", "IdentitySource")}
            for a in api.authorizers
        },
        "routes": {
            r.route_key: {
                "function": invocation_uri(r.function_arn),
                "RouteResponseSelectionExpression": r.route_response_selection,
                "AuthorizationType": r.authorization_type,
                "authorizer": r.authorizer,
            }
            for r in api.routes
        },
    }


def found_shape(found: Found, stage: str) -> dict[str, Any]:
    """A found API (GetApi's answer plus "Routes", "Integrations", "Authorizers" and
    "Stages") in the terms of `wanted_shape`."""
    integrations = {i["IntegrationId"]: i for i in found.get("Integrations") or []}
    authorizers = {a["AuthorizerId"]: a for a in found.get("Authorizers") or []}
    routes: dict[str, Any] = {}
    for route in found.get("Routes") or []:
        integration = integrations.get(str(route.get("Target") or "").removeprefix("integrations/"))
        custom = route.get("AuthorizationType") == "CUSTOM"  # a former one's id may stay
        authorizer = authorizers.get(route.get("AuthorizerId") or "") if custom else None
        routes[route["RouteKey"]] = {
            "function": (integration or {}).get("IntegrationUri"),
            "RouteResponseSelectionExpression": route.get("RouteResponseSelectionExpression"),
            "AuthorizationType": route.get("AuthorizationType") or "NONE",
            "authorizer": authorizer["Name"] if authorizer else None,
        }
    return {
        "RouteSelectionExpression": found.get("RouteSelectionExpression"),
        "Description": found.get("Description"),
        "stage": any(s.get("StageName") == stage for s in found.get("Stages") or []),
        "authorizers": {
            a["Name"]: {
                "AuthorizerUri": a.get("AuthorizerUri"),
                "IdentitySource": list(a.get("IdentitySource") or []),
            }
            for a in authorizers.values()
        },
        "routes": routes,
    }


def websocket_api_diff(api: WebsocketApi, found: Found) -> Diff:
    wanted, have = wanted_shape(api), found_shape(found, api.stage)
    if api.existence_only:  # routes come after the stack
        wanted.pop("routes")
        have.pop("routes")
    parts: list[tuple[str, tuple[str, ...]]] = []
    if "routes" in wanted:
        for what, keys in (
            ("added", sorted(set(wanted["routes"]) - set(have["routes"]))),
            ("removed", sorted(set(have["routes"]) - set(wanted["routes"]))),
            ("changed", sorted(k for k in set(wanted["routes"]) & set(have["routes"])
                               if wanted["routes"][k] != have["routes"][k])),
        ):  # fmt: skip
            if keys:
                parts.append((f"routes {what}: {', '.join(keys)}", ("Routes",)))
    labels = {
        "RouteSelectionExpression": "route selection expression changed",
        "Description": "description changed",
        "stage": f"stage {api.stage} missing",
        "authorizers": "authorizers changed",
    }
    for key, reason in labels.items():
        if wanted[key] != have[key]:
            parts.append((reason, (key,)))
    return Diff.of(*parts)


def websocket_url(found: Found, region: str, stage: str) -> str:
    """The API's wss:// URL with its stage (AWS answers ApiEndpoint as wss://<id>.execute-api.
    <region>.amazonaws.com for a WebSocket API; built from the id when it does not)."""
    endpoint = str(found.get("ApiEndpoint") or "")
    if not endpoint.startswith("wss://"):
        endpoint = f"wss://{found.get('ApiId')}.execute-api.{region}.amazonaws.com"
    return f"{endpoint}/{stage}" if stage else endpoint
