"""The AWS target's provider for HTTP APIs (API Gateway v2), through tooling.aws.client.

The service's own API is found by name and the toolkit's tags (`Tags` of CreateApi), with its
`$default` stage auto-deployed: a change to a route is live without a deployment. An existing
API (`provider.httpApi.id`) is not the toolkit's: its integrations carry the toolkit's
description, and only those and the routes that target them are changed or removed.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from tooling.config.http_api_events import EXISTING_HTTP_API
from tooling.deploy.aws_context import AwsContext
from tooling.deploy.http_api_resources import STAGE, http_api_diff
from tooling.deploy.models import Address, HttpApi, HttpApiRoute, WebsocketApi
from tooling.deploy.providers import Description, Diff, Found
from tooling.errors import BadInput, NotFound, ToolError

if TYPE_CHECKING:
    pass

INTEGRATION_TIMEOUT_MILLIS = 30_000  # what Serverless sets (HTTP APIs' maximum)


def existing_id(address: Address) -> str | None:
    """The id of the existing API an address names (None: the service's own API)."""
    if address.name.startswith(EXISTING_HTTP_API):
        return address.name.removeprefix(EXISTING_HTTP_API)
    return None


class AwsHttpApis:
    def __init__(self, context: AwsContext) -> None:
        self.c = context

    def check(self, resource: HttpApi) -> None:
        pass

    # -- reading ----------------------------------------------------------------------------

    def _apis_named(self, name: str) -> list[dict[str, Any]]:
        return [
            api
            for page in self.c.aws.pages("apigatewayv2", "get_apis", what=f"look up API {name}")
            for api in page.get("Items", [])
            if api.get("Name") == name
        ]

    def _listed(self, method: str, api_id: str, what: str) -> list[dict[str, Any]]:
        return [
            item
            for page in self.c.aws.pages("apigatewayv2", method, what=what, ApiId=api_id)
            for item in page.get("Items", [])
        ]

    def find(self, address: Address) -> Found | None:
        aws, what = self.c.aws, f"read API {address.name}"
        known = existing_id(address)
        if known is not None:
            api = aws.find("apigatewayv2", "get_api", what=what, ApiId=known)
            if api is None:
                return None
        else:
            apis = self._apis_named(address.name)
            if not apis:
                return None
            api = next((a for a in apis if self.c.ours(dict(a.get("Tags") or {}))), apis[0])
        api_id = str(api["ApiId"])
        integrations = self._listed("get_integrations", api_id, what)
        routes = self._listed("get_routes", api_id, what)
        if known is not None:  # only the toolkit's part of someone else's API
            integrations = [i for i in integrations if i.get("Description") == self.c.description]
            ours = {i["IntegrationId"] for i in integrations}
            routes = [r for r in routes if _integration_of(r) in ours]
            authorizers: list[dict[str, Any]] = []
            stages: list[dict[str, Any]] = []
        else:
            authorizers = self._listed("get_authorizers", api_id, what)
            stages = self._listed("get_stages", api_id, what)
        return {
            **api,
            "Integrations": integrations,
            "Routes": routes,
            "Authorizers": authorizers,
            "Stages": stages,
        }

    def owns(self, address: Address, found: Found) -> bool:
        if existing_id(address) is not None:
            return True  # what the toolkit changes in it is its own integrations and routes
        return self.c.ours(dict(found.get("Tags") or {}))

    def diff(self, resource: HttpApi, found: Found) -> Diff:
        return http_api_diff(resource, found)

    def api_id(self, name: str) -> str | None:
        """The id of the API an address name names (None: there is none yet)."""
        known = existing_id(Address("http api", name))
        if known is not None:
            return known
        api = next(
            (a for a in self._apis_named(name) if self.c.ours(dict(a.get("Tags") or {}))), None
        )
        return str(api["ApiId"]) if api else None

    # -- changing ---------------------------------------------------------------------------

    def create(self, resource: HttpApi) -> None:
        if resource.existing_id is not None:
            found = self.find(resource.address)
            if found is None:
                raise BadInput(
                    f"HTTP API {resource.existing_id} (provider.httpApi.id) does not exist on "
                    "the aws target",
                    hint="give the id of an existing HTTP API, or drop `id` to make one",
                )
            self._apply(resource, resource.existing_id, found)
            return
        settings: dict[str, Any] = {"Name": resource.name, "ProtocolType": "HTTP"}
        if resource.cors:
            settings["CorsConfiguration"] = resource.cors
        if resource.disable_default_endpoint is not None:
            settings["DisableExecuteApiEndpoint"] = resource.disable_default_endpoint
        api = self.c.aws.call(
            "apigatewayv2", "create_api", what=f"create API {resource.name}",
            Description=self.c.description, Tags=self.c.tags, **settings,
        )  # fmt: skip
        api_id = str(api["ApiId"])
        self.c.aws.call(
            "apigatewayv2", "create_stage", what=f"create stage {STAGE} of {resource.name}",
            ApiId=api_id, StageName=STAGE, AutoDeploy=True, Tags=self.c.tags,
            DefaultRouteSettings={"DetailedMetricsEnabled": resource.metrics},
        )  # fmt: skip
        self._apply(resource, api_id, {"Integrations": [], "Routes": [], "Authorizers": []})

    def update(self, resource: HttpApi, found: Found, diff: Diff) -> None:
        api_id = str(found["ApiId"])
        aws, what = self.c.aws, f"update API {resource.name}"
        if resource.existing_id is None:
            if "cors" in diff.attributes and not resource.cors:
                aws.call("apigatewayv2", "delete_cors_configuration", what=what, ApiId=api_id)
            if {"cors", "DisableExecuteApiEndpoint"} & set(diff.attributes):
                changes: dict[str, Any] = {
                    "DisableExecuteApiEndpoint": bool(resource.disable_default_endpoint)
                }
                if resource.cors:
                    changes["CorsConfiguration"] = resource.cors
                aws.call("apigatewayv2", "update_api", what=what, ApiId=api_id, **changes)
            if "metrics" in diff.attributes:
                stage = {"DefaultRouteSettings": {"DetailedMetricsEnabled": resource.metrics}}
                if not any(s.get("StageName") == STAGE for s in found.get("Stages") or []):
                    aws.call(
                        "apigatewayv2", "create_stage", what=what, ApiId=api_id,
                        StageName=STAGE, AutoDeploy=True, Tags=self.c.tags, **stage,
                    )  # fmt: skip
                else:
                    aws.call("apigatewayv2", "update_stage", what=what, ApiId=api_id,
                             StageName=STAGE, **stage)  # fmt: skip
        self._apply(resource, api_id, found)

    def _apply(self, api: HttpApi, api_id: str, found: Found) -> None:
        """Authorizers, integrations and routes as the model says; what is no longer wanted
        removed after the routes stop naming it."""
        aws, what = self.c.aws, f"update the routes of API {api.name}"
        authorizer_ids = {a["Name"]: a["AuthorizerId"] for a in found.get("Authorizers") or []}
        if api.existing_id is None:
            have = {a["Name"]: a for a in found.get("Authorizers") or []}
            for settings in api.authorizers:
                name = settings["Name"]
                if name not in have:
                    made = aws.call("apigatewayv2", "create_authorizer", what=what,
                                    ApiId=api_id, **settings)  # fmt: skip
                    authorizer_ids[name] = made["AuthorizerId"]
                else:
                    aws.call("apigatewayv2", "update_authorizer", what=what, ApiId=api_id,
                             AuthorizerId=have[name]["AuthorizerId"], **settings)  # fmt: skip
        integrations = {
            (i.get("IntegrationUri"), i.get("PayloadFormatVersion")): i["IntegrationId"]
            for i in found.get("Integrations") or []
        }
        if api.existence_only:
            return
        routes = {r["RouteKey"]: r for r in found.get("Routes") or []}
        for route in api.routes:
            key = (route.function_arn, route.payload_format)
            if key not in integrations:
                made = aws.call(
                    "apigatewayv2", "create_integration", what=what, ApiId=api_id,
                    IntegrationType="AWS_PROXY", IntegrationUri=route.function_arn,
                    PayloadFormatVersion=route.payload_format,
                    TimeoutInMillis=INTEGRATION_TIMEOUT_MILLIS, Description=self.c.description,
                )  # fmt: skip
                integrations[key] = made["IntegrationId"]
            settings = self._route_settings(route, integrations[key], authorizer_ids)
            if route.route_key in routes:
                aws.call("apigatewayv2", "update_route", what=what, ApiId=api_id,
                         RouteId=routes[route.route_key]["RouteId"], **settings)  # fmt: skip
            else:
                try:
                    aws.call("apigatewayv2", "create_route", what=what, ApiId=api_id,
                             RouteKey=route.route_key, **settings)  # fmt: skip
                except ToolError as error:
                    raise BadInput(
                        f"{what}: route {route.route_key} could not be added ({error.message})",
                        hint="an existing API's route of that key is not the toolkit's: "
                        "remove it there, or change the path",
                    ) from None
        used = {(r.function_arn, r.payload_format) for r in api.routes}
        unused = {
            "Route": [r["RouteId"] for k, r in routes.items() if k not in wanted_routes(api)],
            "Integration": [i for k, i in integrations.items() if k not in used],
        }
        if api.existing_id is None:
            names = {a["Name"] for a in api.authorizers}
            unused["Authorizer"] = [i for n, i in authorizer_ids.items() if n not in names]
        self.delete_unused(api_id, what, unused)

    def delete_unused(self, api_id: str, what: str, unused: dict[str, list[str]]) -> None:
        """What the routes no longer name, by kind ("Route", "Integration", "Authorizer"):
        routes first, then what they named."""
        for kind in ("Route", "Integration", "Authorizer"):
            for item_id in unused.get(kind, ()):
                with contextlib.suppress(NotFound):
                    self.c.aws.call("apigatewayv2", f"delete_{kind.lower()}", what=what,
                                    ApiId=api_id, **{f"{kind}Id": item_id})  # fmt: skip

    @staticmethod
    def _route_settings(
        route: HttpApiRoute, integration_id: str, authorizer_ids: dict[str, str]
    ) -> dict[str, Any]:
        settings: dict[str, Any] = {
            "Target": f"integrations/{integration_id}",
            "AuthorizationType": route.authorization_type,
        }
        authorizer = (
            authorizer_ids.get(route.authorizer) if route.authorizer else route.authorizer_id
        )
        if authorizer:
            settings["AuthorizerId"] = authorizer
        if route.scopes:
            settings["AuthorizationScopes"] = list(route.scopes)
        return settings

    def delete(self, address: Address) -> None:
        known = existing_id(address)
        if known is None:
            for api in self._apis_named(address.name):
                if self.c.ours(dict(api.get("Tags") or {})):
                    with contextlib.suppress(NotFound):
                        self.c.aws.call(
                            "apigatewayv2", "delete_api", what=f"delete API {address.name}",
                            ApiId=api["ApiId"],
                        )  # fmt: skip
            return
        found = self.find(address)
        if found is None:
            return
        what = f"remove the toolkit's routes from API {known}"
        for route in found.get("Routes") or []:
            with contextlib.suppress(NotFound):
                self.c.aws.call("apigatewayv2", "delete_route", what=what, ApiId=known,
                                RouteId=route["RouteId"])  # fmt: skip
        for integration in found.get("Integrations") or []:
            with contextlib.suppress(NotFound):
                self.c.aws.call("apigatewayv2", "delete_integration", what=what, ApiId=known,
                                IntegrationId=integration["IntegrationId"])  # fmt: skip

    def describe(self, address: Address, found: Found) -> Description:
        url = str(found.get("ApiEndpoint") or "")
        if not url:
            url = f"https://{found.get('ApiId')}.execute-api.{self.c.region}.amazonaws.com"
        routes = len(found.get("Routes") or [])
        off = ", default endpoint disabled" if found.get("DisableExecuteApiEndpoint") else ""
        return Description(url, f"{routes} route(s){off}")


def wanted_routes(api: HttpApi | WebsocketApi) -> set[str]:
    return {route.route_key for route in api.routes}


def _integration_of(route: dict[str, Any]) -> str:
    return str(route.get("Target") or "").removeprefix("integrations/")
