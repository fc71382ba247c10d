"""The AWS target's REST API authorizers (the ones the http events make): made or changed
before the methods that name them, found again by name, deleted once no method names them.

On the service's own API every authorizer is the toolkit's. On a shared API
(`provider.apiGateway.restApiId`) the toolkit's carry a marker as their `authType`
("tool:<service>:<stage>"; API Gateway keeps the field for OpenAPI exports, without effect on
authorization): only those are changed or deleted, and one of the same name that is not the
toolkit's stops the deploy."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from tooling.deploy.event_differences import authorizer_shape
from tooling.deploy.models import RestApi
from tooling.errors import BadInput, NotFound

if TYPE_CHECKING:
    from tooling.aws.client import AwsClient

EDITABLE = ("type", "authorizerUri", "identitySource", "identityValidationExpression",
            "authorizerResultTtlInSeconds")  # fmt: skip


def found_authorizers(aws: AwsClient, api_id: str, what: str) -> list[dict[str, Any]]:
    """GetAuthorizers' items."""
    return [
        item
        for page in aws.pages("apigateway", "get_authorizers", what=what, restApiId=api_id)
        for item in page.get("items", [])
    ]


def sync_authorizers(
    aws: AwsClient,
    api: RestApi,
    api_id: str,
    found: Iterable[dict[str, Any]],
    *,
    marker: str | None = None,
    others: Iterable[dict[str, Any]] = (),
) -> tuple[dict[str, str], list[str]]:
    """Makes or changes the authorizers `api` wants (`found`: the toolkit's, from
    GetAuthorizers; `others`: the shared API's authorizers that are not, whose names it must not
    take). Answers their ids by name, and the ids of the toolkit's no longer wanted (to delete
    once no method names them)."""
    ids: dict[str, str] = {}
    unused: list[str] = []
    have: dict[str, dict[str, Any]] = {}
    for authorizer in found:
        if authorizer.get("name") in have:
            unused.append(str(authorizer["id"]))  # a second one of that name
        else:
            have[str(authorizer.get("name"))] = authorizer
    check_names(api, api_id, have.values(), others)
    for settings in api.authorizers:
        name = str(settings["name"])
        known = have.pop(name, None)
        if known is None:
            extra = {"authType": marker} if marker else {}
            made = aws.call(
                "apigateway", "create_authorizer", what=f"create authorizer {name} of {api.name}",
                restApiId=api_id, **settings, **extra,
            )  # fmt: skip
            ids[name] = str(made["id"])
            continue
        ids[name] = str(known["id"])
        operations = authorizer_patch(known, settings)
        if operations:
            aws.call(
                "apigateway", "update_authorizer", what=f"update authorizer {name} of {api.name}",
                restApiId=api_id, authorizerId=ids[name], patchOperations=operations,
            )  # fmt: skip
    unused.extend(str(a["id"]) for a in have.values())
    return ids, unused


def check_names(
    api: RestApi, api_id: str, ours: Iterable[dict[str, Any]], others: Iterable[dict[str, Any]]
) -> None:
    """Refuses (before anything changes: the plan calls it too) an authorizer whose name a
    shared API's authorizer that is not the toolkit's has."""
    mine = {str(a.get("name")) for a in ours}
    taken = {str(a.get("name")) for a in others} - mine
    for settings in api.authorizers:
        if settings["name"] in taken:
            raise BadInput(
                f"authorizer {settings['name']} of REST API {api_id} is not the toolkit's "
                "(provider.apiGateway.restApiId); it is left alone",
                hint="give the authorizer another `name`, or name that one with `type` and "
                "`authorizerId`",
            )


def delete_authorizers(aws: AwsClient, api_id: str, authorizer_ids: Iterable[str]) -> None:
    for authorizer_id in authorizer_ids:
        with contextlib.suppress(NotFound):
            aws.call(
                "apigateway", "delete_authorizer", what=f"delete authorizer {authorizer_id}",
                restApiId=api_id, authorizerId=authorizer_id,
            )  # fmt: skip


def authorizer_patch(found: dict[str, Any], settings: dict[str, Any]) -> list[dict[str, str]]:
    """UpdateAuthorizer's patch operations taking `found` (GetAuthorizers' item) to
    `settings` (CreateAuthorizer's)."""
    have, want = authorizer_shape(found), authorizer_shape(settings)
    operations: list[dict[str, str]] = []
    for name in EDITABLE:
        if have[name] != want[name]:
            value = "" if want[name] is None else str(want[name])
            operations.append({"op": "replace", "path": f"/{name}", "value": value})
    old_arns, new_arns = set(have["providerARNs"] or []), set(want["providerARNs"] or [])
    operations.extend(
        {"op": "add", "path": "/providerARNs", "value": arn} for arn in sorted(new_arns - old_arns)
    )
    operations.extend(
        {"op": "remove", "path": f"/providerARNs/{arn}"} for arn in sorted(old_arns - new_arns)
    )
    return operations


def described(found_list: Iterable[dict[str, Any]]) -> str:
    """`, authorizers: a (TOKEN), b (COGNITO_USER_POOLS)` for `tool info`; "" without any."""
    listed = ", ".join(f"{a.get('name')} ({a.get('type')})" for a in found_list)
    return f", authorizers: {listed}" if listed else ""
