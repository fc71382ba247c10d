"""The AWS target's provider for WebSocket APIs (API Gateway v2, ProtocolType WEBSOCKET),
through tooling.aws.client. Found, owned, named and deleted as the HTTP APIs are (by name and
the toolkit's tags: `AwsHttpApis`); made with the service's stage, auto-deployed, so a
changed route is live without a deployment."""

from __future__ import annotations

from typing import Any

from tooling.deploy.aws_context import AwsContext
from tooling.deploy.aws_http_api_providers import AwsHttpApis, wanted_routes
from tooling.deploy.models import Address, WebsocketApi
from tooling.deploy.providers import Description, Diff, Found
from tooling.deploy.websocket_resources import invocation_uri, websocket_api_diff, websocket_url
from tooling.errors import ToolError


class AwsWebsocketApis:
    """Found, owned and deleted by the HTTP APIs' provider (by name and tags, whatever the
    protocol); made and changed here."""

    def __init__(self, context: AwsContext) -> None:
        self.c = context
        self.apis = AwsHttpApis(context)

    def find(self, address: Address) -> Found | None:
        return self.apis.find(address)

    def owns(self, address: Address, found: Found) -> bool:
        return self.apis.owns(address, found)

    def delete(self, address: Address) -> None:
        self.apis.delete(address)

    def check(self, resource: WebsocketApi) -> None:
        pass

    def diff(self, resource: WebsocketApi, found: Found) -> Diff:
        return websocket_api_diff(resource, found)

    def create(self, resource: WebsocketApi) -> None:
        api = self.c.aws.call(
            "apigatewayv2", "create_api", what=f"create WebSocket API {resource.name}",
            Name=resource.name, ProtocolType="WEBSOCKET", Tags=self.c.tags,
            RouteSelectionExpression=resource.route_selection, Description=resource.description,
        )  # fmt: skip
        api_id = str(api["ApiId"])
        self._stage(resource, api_id)
        self._routes(resource, api_id, {})

    def _stage(self, resource: WebsocketApi, api_id: str) -> None:
        self.c.aws.call(
            "apigatewayv2", "create_stage", what=f"create stage {resource.stage} of "
            f"{resource.name}", ApiId=api_id, StageName=resource.stage, AutoDeploy=True,
            Description=resource.description, Tags=self.c.tags,
        )  # fmt: skip

    def update(self, resource: WebsocketApi, found: Found, diff: Diff) -> None:
        api_id = str(found["ApiId"])
        if {"RouteSelectionExpression", "Description"} & set(diff.attributes):
            self.c.aws.call(
                "apigatewayv2", "update_api", what=f"update WebSocket API {resource.name}",
                ApiId=api_id, RouteSelectionExpression=resource.route_selection,
                Description=resource.description,
            )  # fmt: skip
        if "stage" in diff.attributes:
            self._stage(resource, api_id)
        self._routes(resource, api_id, found)

    def _routes(self, api: WebsocketApi, api_id: str, found: Found) -> None:
        """Authorizers, integrations and routes as the model says; what is no longer wanted
        removed after the routes stop naming it."""
        aws, what = self.c.aws, f"update the routes of WebSocket API {api.name}"
        have = {a["Name"]: a for a in found.get("Authorizers") or []}
        authorizer_ids = {name: a["AuthorizerId"] for name, a in have.items()}
        for authorizer in api.authorizers:
            known = have.get(authorizer["Name"])
            if known is not None:
                aws.call("apigatewayv2", "update_authorizer", what=what, ApiId=api_id,
                         AuthorizerId=known["AuthorizerId"], **authorizer)  # fmt: skip
            else:
                made = aws.call("apigatewayv2", "create_authorizer", what=what, ApiId=api_id,
                                **authorizer)  # fmt: skip
                authorizer_ids[authorizer["Name"]] = made["AuthorizerId"]
        if api.existence_only:
            return
        integrations = {
            i.get("IntegrationUri"): i["IntegrationId"] for i in found.get("Integrations") or []
        }
        routes = {r["RouteKey"]: r for r in found.get("Routes") or []}
        for route in api.routes:
            uri = invocation_uri(route.function_arn)
            if uri not in integrations:
                made = aws.call(
                    "apigatewayv2", "create_integration", what=what, ApiId=api_id,
                    IntegrationType="AWS_PROXY", IntegrationMethod="POST", IntegrationUri=uri,
                )  # fmt: skip
                integrations[uri] = made["IntegrationId"]
            settings: dict[str, Any] = {
                "Target": f"integrations/{integrations[uri]}",
                "AuthorizationType": route.authorization_type,
            }
            if route.authorizer:
                settings["AuthorizerId"] = authorizer_ids[route.authorizer]
            before = routes.get(route.route_key)
            had = (before or {}).get("RouteResponseSelectionExpression")
            if before is not None and had and had != route.route_response_selection:
                # a route response cannot be unset: the route is made again without it
                aws.call("apigatewayv2", "delete_route", what=what, ApiId=api_id,
                         RouteId=before["RouteId"])  # fmt: skip
                before, had = None, None
            if before is not None:
                made = aws.call("apigatewayv2", "update_route", what=what, ApiId=api_id,
                                RouteId=before["RouteId"], **settings)  # fmt: skip
            else:
                made = aws.call("apigatewayv2", "create_route", what=what, ApiId=api_id,
                                RouteKey=route.route_key, **settings)  # fmt: skip
            if route.route_response_selection and had != route.route_response_selection:
                self._route_response(api_id, made["RouteId"], route.route_response_selection)
        used = {invocation_uri(r.function_arn) for r in api.routes}
        names = {a["Name"] for a in api.authorizers}
        unused = {
            "Route": [r["RouteId"] for k, r in routes.items() if k not in wanted_routes(api)],
            "Integration": [i for uri, i in integrations.items() if uri not in used],
            "Authorizer": [i for name, i in authorizer_ids.items() if name not in names],
        }
        self.apis.delete_unused(api_id, what, unused)

    def _route_response(self, api_id: str, route_id: str, selection: str) -> None:
        """Serverless' `$default` route response (the function's result goes back to the
        client), then the route's expression naming it: a deploy stopped between the two
        finds the expression missing and comes back here."""
        aws, what = self.c.aws, f"add the route response of route {route_id}"
        try:
            aws.call("apigatewayv2", "create_route_response", what=what, ApiId=api_id,
                     RouteId=route_id, RouteResponseKey="$default")  # fmt: skip
        except ToolError as error:
            if "ConflictException" not in error.message:  # not made already by a stopped deploy
                raise
        aws.call("apigatewayv2", "update_route", what=what, ApiId=api_id, RouteId=route_id,
                 RouteResponseSelectionExpression=selection)  # fmt: skip

    def describe(self, address: Address, found: Found) -> Description:
        return Description(websocket_url(found, self.c.region, _stage_of(found)),
                           f"{len(found.get('Routes') or [])} route(s)")  # fmt: skip


def _stage_of(found: Found) -> str:
    stages = [str(s.get("StageName")) for s in found.get("Stages") or []]
    return stages[0] if stages else ""
