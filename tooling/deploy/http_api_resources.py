"""The functions' `httpApi` events as resources: one HTTP API (API Gateway v2) per service and
stage, a route per event with its function's Lambda proxy integration, and a Lambda permission
per function letting that API (and only it) invoke the function; how a found API compares with
the model (`http_api_diff`), the same on both targets (each answers in apigatewayv2's shapes).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from tooling.config.http_api_events import EXISTING_HTTP_API, RequestAuthorizer
from tooling.deploy.function_alias_resources import target_needs
from tooling.deploy.models import (
    HTTP_API_ID,
    Address,
    HttpApi,
    HttpApiRoute,
    Permission,
    Resource,
    permission_name,
)
from tooling.deploy.providers import Diff, Found
from tooling.names import partition_for

if TYPE_CHECKING:
    from tooling.config.service import ServiceConfig

API_GATEWAY_PRINCIPAL = "apigateway.amazonaws.com"
STAGE = "$default"


def local_http_api_id(region: str, address_name: str) -> str:
    """The API's id on the local target: an existing API's own, else stable per region and
    name (so `tool serve`'s URLs do not change)."""
    if address_name.startswith(EXISTING_HTTP_API):
        return address_name.removeprefix(EXISTING_HTTP_API)
    return hashlib.sha256(f"{region}/http:{address_name}".encode()).hexdigest()[:10]


def http_api_model(service: ServiceConfig, *, existence_only: bool = False) -> HttpApi | None:
    """The service's HTTP API, or None when no function has an httpApi event."""
    settings = service.http_api
    if settings is None:
        return None
    routes: list[HttpApiRoute] = []
    needs: list[Address] = []
    for function in service.functions.values():
        for event in function.events.http_api:
            authorizer = settings.authorizers.get(event.authorizer or "")
            kind = event.authorization_type
            if authorizer is not None:  # by name: its type says
                kind = "CUSTOM" if isinstance(authorizer, RequestAuthorizer) else "JWT"
            routes.append(
                HttpApiRoute(
                    route_key=event.route_key,
                    function_arn=function.target_arn,
                    payload_format=settings.payload,
                    authorization_type=kind,
                    authorizer=authorizer.name if authorizer is not None else None,
                    authorizer_id=event.authorizer_id,
                    scopes=event.scopes,
                    declared_in=event.location,
                )
            )
            needs.extend(a for a in target_needs(function) if a not in needs)
    invoked = {fn.target_arn: fn for fn in service.functions.values()}
    for authorizer in settings.authorizers.values():  # a Lambda authorizer of the service
        if isinstance(authorizer, RequestAuthorizer) and authorizer.function_arn in invoked:
            fn = invoked[authorizer.function_arn]
            needs.extend(a for a in target_needs(fn) if a not in needs)
    return HttpApi(
        name=settings.name,
        routes=() if existence_only else tuple(routes),
        cors=settings.cors,
        authorizers=tuple(a.settings() for a in settings.authorizers.values()),
        disable_default_endpoint=settings.disable_default_endpoint,
        metrics=settings.metrics,
        existing_id=settings.existing_id,
        needs=() if existence_only else tuple(needs),
        existence_only=existence_only,
    )


def function_http_api(context: Any) -> tuple[list[Resource], list[str]]:
    """The HTTP API and a permission per function it routes to (tooling.deploy.desired)."""
    service: ServiceConfig = context.service
    api = http_api_model(service)
    if api is None:
        return [], []
    arns = [route.function_arn for route in api.routes]
    settings = service.http_api
    assert settings is not None  # the API exists
    for authorizer in settings.authorizers.values():  # API Gateway calls them too
        if isinstance(authorizer, RequestAuthorizer) and not authorizer.managed_externally:
            arns.append(authorizer.function_arn)
    return [api, *api_permissions(service, api.address, arns)], []


def api_permissions(
    service: ServiceConfig, api: Address, function_arns: list[str]
) -> list[Resource]:
    """A Lambda permission per function an API Gateway v2 API (HTTP or WebSocket) invokes,
    scoped to that API's execute-api ARN (its id filled in by the providers)."""
    partition = partition_for(service.region)
    source_arn = (
        f"arn:{partition}:execute-api:{service.region}:{service.account_id}:{HTTP_API_ID}/*"
    )
    invoked = {fn.target_arn: fn for fn in service.functions.values()}
    invoked.update({fn.arn: fn for fn in service.functions.values()})
    resources: list[Resource] = []
    for arn in dict.fromkeys(function_arns):
        needs = (api, *target_needs(invoked[arn])) if arn in invoked else (api,)
        resources.append(
            Permission(
                name=permission_name(api.name, arn),
                target=arn,
                source_arn=source_arn,
                needs=needs,
                principal=API_GATEWAY_PRINCIPAL,
                http_api=api.name,
            )
        )
    return resources


# -- how a found API compares -----------------------------------------------------------------

Shape = dict[str, Any]


def wanted_shape(api: HttpApi) -> Shape:
    """What the model asks for, in the terms `found_shape` reads a found API in."""
    shape: Shape = {
        "routes": {
            r.route_key: {
                "function": r.function_arn,
                "payload": r.payload_format,
                "AuthorizationType": r.authorization_type,
                "authorizer": r.authorizer or r.authorizer_id,
                "AuthorizationScopes": sorted(r.scopes),
            }
            for r in api.routes
        }
    }
    if api.existing_id is None:
        shape["cors"] = _cors_shape(api.cors)
        shape["DisableExecuteApiEndpoint"] = bool(api.disable_default_endpoint)
        shape["authorizers"] = {a["Name"]: _authorizer_shape(a) for a in api.authorizers}
        shape["metrics"] = api.metrics
    return shape


def _cors_shape(cors: dict[str, Any] | None) -> dict[str, Any] | None:
    """CorsConfiguration with lists sorted and empty values left out (GetApi's answer)."""
    if not cors:
        return None
    shape = {k: sorted(v) if isinstance(v, list) else v for k, v in cors.items()}
    return {k: v for k, v in shape.items() if v not in (None, [], False)} or None


# What an authorizer is compared by (CreateAuthorizer's settings; those the model leaves out
# are AWS's defaults and are not compared).
AUTHORIZER_FIELDS = (
    "AuthorizerType", "IdentitySource", "AuthorizerUri", "AuthorizerPayloadFormatVersion",
    "EnableSimpleResponses", "AuthorizerResultTtlInSeconds",
)  # fmt: skip


def _authorizer_shape(authorizer: dict[str, Any]) -> dict[str, Any]:
    jwt = authorizer.get("JwtConfiguration") or {}
    shape = {name: authorizer.get(name) for name in AUTHORIZER_FIELDS}
    shape["IdentitySource"] = list(authorizer.get("IdentitySource") or [])
    shape["Audience"] = sorted(jwt.get("Audience") or [])
    shape["Issuer"] = jwt.get("Issuer")
    return shape


def _same_authorizers(wanted: dict[str, Any], have: dict[str, Any]) -> bool:
    """By name, each wanted setting as found (a setting the model leaves out is not compared)."""
    if set(wanted) != set(have):
        return False
    return all(
        value is None or have[name].get(key) == value
        for name, shape in wanted.items()
        for key, value in shape.items()
    )


def found_shape(found: Found, existing: bool) -> Shape:
    """A found API (GetApi's answer plus "Routes", "Integrations", "Authorizers" and "Stages",
    each as apigatewayv2 lists them) in the terms of `wanted_shape`."""
    integrations = {i["IntegrationId"]: i for i in found.get("Integrations") or []}
    authorizers = {a["AuthorizerId"]: a for a in found.get("Authorizers") or []}
    routes: dict[str, Any] = {}
    for route in found.get("Routes") or []:
        target = str(route.get("Target") or "").removeprefix("integrations/")
        integration = integrations.get(target)
        if integration is None:
            continue
        authorizer_id = route.get("AuthorizerId")
        authorizer = authorizers.get(authorizer_id) if authorizer_id else None
        routes[route["RouteKey"]] = {
            "function": integration.get("IntegrationUri"),
            "payload": integration.get("PayloadFormatVersion"),
            "AuthorizationType": route.get("AuthorizationType") or "NONE",
            "authorizer": authorizer["Name"] if authorizer else authorizer_id,
            "AuthorizationScopes": sorted(route.get("AuthorizationScopes") or []),
        }
    shape: Shape = {"routes": routes}
    if not existing:
        shape["cors"] = _cors_shape(found.get("CorsConfiguration"))
        shape["DisableExecuteApiEndpoint"] = bool(found.get("DisableExecuteApiEndpoint"))
        shape["authorizers"] = {a["Name"]: _authorizer_shape(a) for a in authorizers.values()}
        stage = next((s for s in found.get("Stages") or [] if s.get("StageName") == STAGE), None)
        settings = (stage or {}).get("DefaultRouteSettings") or {}
        shape["metrics"] = bool(settings.get("DetailedMetricsEnabled")) if stage else None
    return shape


def http_api_diff(api: HttpApi, found: Found) -> Diff:
    wanted = wanted_shape(api)
    have = found_shape(found, api.existing_id is not None)
    if api.existence_only:  # routes come after the stack
        wanted.pop("routes")
        have.pop("routes")
    parts: list[tuple[str, tuple[str, ...]]] = []
    if "routes" in wanted:
        added = sorted(set(wanted["routes"]) - set(have["routes"]))
        removed = sorted(set(have["routes"]) - set(wanted["routes"]))
        changed = sorted(
            k for k in set(wanted["routes"]) & set(have["routes"])
            if wanted["routes"][k] != have["routes"][k]
        )  # fmt: skip
        for what, keys in (("added", added), ("removed", removed), ("changed", changed)):
            if keys:
                parts.append((f"routes {what}: {', '.join(keys)}", ("Routes",)))
    labels = {
        "cors": "CORS changed",
        "DisableExecuteApiEndpoint": "default endpoint setting changed",
        "authorizers": "authorizers changed",
        "metrics": "detailed metrics setting changed",
    }
    for key, reason in labels.items():
        if key == "authorizers" and key in wanted:
            if not _same_authorizers(wanted[key], have.get(key) or {}):
                parts.append((reason, (key,)))
            continue
        if key in wanted and wanted[key] != have.get(key):
            parts.append((reason, (key,)))
    return Diff.of(*parts)
