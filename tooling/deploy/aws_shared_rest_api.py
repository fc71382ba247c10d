"""The AWS target's handling of a shared REST API (`provider.apiGateway.restApiId`): an existing
API, made by another service, that the service's http events go on, as Serverless deploys them
(its paths under `restApiRootResourceId` or the resources `restApiResources` names, a deployment
to the service's stage).

The API is not the toolkit's: it never changes the API itself, its stages' settings, or methods
it did not put. Its own methods carry a marker as their `operationName`
("tool:<service>:<stage>:<METHOD>:/<path>"; the toolkit deploys no `operationId`), set by the
first call that makes a method (PutMethod): a deploy killed half-way is found and finished by
the next, or removed. On remove (or when a method is no longer wanted) the toolkit deletes its
methods, then each path they were on that is left with no method and no child path, walking up
to (not including) the root resource and the resources `restApiResources` names. The
authorizers its http events make carry a marker too (tooling.deploy.aws_rest_authorizers).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from tooling.deploy.aws_context import AwsContext
from tooling.deploy.aws_rest_authorizers import (
    delete_authorizers,
    described,
    found_authorizers,
    sync_authorizers,
)
from tooling.deploy.event_differences import api_methods_wanted, found_method
from tooling.deploy.models import EXISTING_REST_API, Address, ApiMethod, RestApi
from tooling.deploy.providers import TAG_SERVICE, TAG_STAGE, Description, Found
from tooling.errors import BadInput, NotFound

if TYPE_CHECKING:
    pass

MARKER = "tool"  # the first field of the toolkit's operationName on a shared API


class PutMethod(Protocol):
    def __call__(self, api_id: str, resource_id: str, method: ApiMethod) -> None: ...


@dataclass(frozen=True)
class Layout:
    """Where the service's paths go on a shared API (from RestApi.address, so a remove with no
    model knows it): the root resource (None: the API's `/`), restApiResources' (path -> id),
    and every path the service names."""

    api_id: str
    root: str | None
    predefined: dict[str, str]
    paths: tuple[str, ...]


def shared_api(address: Address) -> Layout | None:
    """The shared API an address names; None: the service's own API."""
    if address.arn is None or not address.arn.startswith(EXISTING_REST_API):
        return None
    api_id, root, predefined, paths = (
        address.arn.removeprefix(EXISTING_REST_API).split("#") + ["", "", ""]
    )[:4]
    pairs = (item.partition("=") for item in predefined.split(",") if item)
    return Layout(
        api_id=api_id,
        root=root or None,
        predefined={path: rid for path, _, rid in pairs},
        paths=tuple(p for p in paths.split(",") if p),
    )


class SharedRestApis:
    def __init__(self, context: AwsContext, put_method: PutMethod) -> None:
        self.c = context
        self.put_method = put_method

    @property
    def _prefix(self) -> str:
        return f"{MARKER}:{self.c.tags[TAG_SERVICE]}:{self.c.tags[TAG_STAGE]}:"

    def marker(self, method: ApiMethod) -> str:
        return f"{self._prefix}{method.http_method}:/{method.path}"

    def _ours(self, method: dict[str, Any]) -> tuple[str, str] | None:
        """(service path, METHOD) of one of the toolkit's methods; None for anyone else's."""
        namespace = str(method.get("operationName") or "")
        if not namespace.startswith(self._prefix):
            return None
        verb, _, path = namespace.removeprefix(self._prefix).partition(":")
        return path.removeprefix("/"), verb

    def _all_resources(self, api_id: str) -> list[dict[str, Any]]:
        return [
            item
            for page in self.c.aws.pages(
                "apigateway",
                "get_resources",
                what=f"read REST API {api_id}",
                restApiId=api_id,
                embed=["methods"],
            )  # fmt: skip
            for item in page.get("items", [])
        ]

    def find(self, api_id: str) -> Found | None:
        """GetRestApi's answer; "Resources" holds only the toolkit's methods, each under its
        service path (as rest_api_diff compares them); "AllResources" the whole tree."""
        what = f"read REST API {api_id} (provider.apiGateway.restApiId)"
        api = self.c.aws.find("apigateway", "get_rest_api", what=what, restApiId=api_id)
        if api is None:
            return None
        everything = self._all_resources(api_id)
        ours: dict[str, dict[str, Any]] = {}
        for resource in everything:
            for method in (resource.get("resourceMethods") or {}).values():
                key = self._ours(method)
                if key is not None:
                    path, verb = key
                    entry = ours.setdefault(path, {"path": "/" + path, "resourceMethods": {}})
                    entry["resourceMethods"][verb] = {**method, "resourceId": resource["id"]}
        stages = self.c.aws.call("apigateway", "get_stages", what=what, restApiId=api_id)
        authorizers = found_authorizers(self.c.aws, api_id, what)
        return {
            **api,
            "Resources": list(ours.values()),
            "AllResources": everything,
            "Stages": stages.get("item", []),
            "Authorizers": [a for a in authorizers if a.get("authType") == self._owner],
            "OtherAuthorizers": [a for a in authorizers if a.get("authType") != self._owner],
        }

    @property
    def _owner(self) -> str:
        """The `authType` marking the toolkit's authorizers on a shared API."""
        return self._prefix.rstrip(":")

    def apply(self, api: RestApi, found: Found | None) -> None:
        assert api.existing_id is not None
        api_id = api.existing_id
        if found is None:
            raise BadInput(
                f"REST API {api_id} (provider.apiGateway.restApiId) does not exist on the aws "
                "target",
                hint="deploy the service that makes it first, or give the id of an existing "
                "REST API",
            )
        if api.existence_only:
            return
        aws = self.c.aws
        everything = list(found.get("AllResources") or [])
        by_id = {str(r["id"]): r for r in everything}
        layout = shared_api(api.address)
        assert layout is not None
        root = self._root(layout, everything)
        for name, resource_id in [("restApiRootResourceId", root), *(
            (f"restApiResources[/{path}]", rid) for path, rid in layout.predefined.items()
        )]:  # fmt: skip
            if resource_id not in by_id:
                raise BadInput(
                    f"provider.apiGateway.{name}: {resource_id} is not a resource of REST API "
                    f"{api_id}",
                    hint="give the id of one of its resources (GetResources lists them)",
                )
        ids = self._ids(layout, everything, create=True)
        authorizer_ids, unused = sync_authorizers(
            aws, api, api_id, found.get("Authorizers") or [], marker=self._owner,
            others=found.get("OtherAuthorizers") or [],
        )  # fmt: skip
        have = self._have(found)
        wanted = api_methods_wanted(api, authorizer_ids)
        for method in api.methods:
            key, resource_id = (method.path, method.http_method), ids[method.path]
            if key in have:
                if have[key] == (resource_id, wanted[key]):
                    continue
                self._delete_method(api_id, have[key][0], method.http_method)
            else:
                theirs = (by_id.get(resource_id) or {}).get("resourceMethods") or {}
                if method.http_method in theirs:
                    raise BadInput(
                        f"method {method.http_method} /{method.path} of REST API {api_id} is "
                        "not the toolkit's (provider.apiGateway.restApiId); it is left alone",
                        hint="remove it from the service that made it, or change the path",
                    )
            if method.authorizer is not None:
                method = replace(method, authorizer_id=authorizer_ids[method.authorizer])
            self.put_method(
                api_id, resource_id, replace(method, operation_name=self.marker(method))
            )
        emptied = []
        for path, verb in sorted(set(have) - set(wanted)):
            self._delete_method(api_id, have[(path, verb)][0], verb)
            emptied.append(have[(path, verb)][0])
        self._prune(api_id, emptied, {root, *layout.predefined.values()})
        delete_authorizers(aws, api_id, unused)  # no method names them any more
        aws.call(
            "apigateway", "create_deployment",
            what=f"deploy REST API {api_id} to stage {api.stage}",
            restApiId=api_id, stageName=api.stage, description=self.c.description,
        )  # fmt: skip

    @staticmethod
    def _root(layout: Layout, everything: list[dict[str, Any]]) -> str:
        return layout.root or next((str(r["id"]) for r in everything if r.get("path") == "/"), "")

    def _ids(
        self, layout: Layout, everything: list[dict[str, Any]], *, create: bool
    ) -> dict[str, str]:
        """Service path -> resource id for each of the service's paths, under the root or the
        resource restApiResources names; missing ones made (`create`) or left out."""
        children = {(str(r.get("parentId")), str(r.get("pathPart"))): str(r["id"])
                    for r in everything if r.get("parentId")}  # fmt: skip
        ids: dict[str, str] = {"": self._root(layout, everything)}
        for path in sorted(layout.paths, key=lambda p: (p.count("/"), p)):
            if path in layout.predefined:
                ids[path] = layout.predefined[path]
                continue
            parent, _, part = path.rpartition("/")
            if parent not in ids:
                continue
            existing = children.get((ids[parent], part))
            if existing is None and create:
                created = self.c.aws.call(
                    "apigateway", "create_resource",
                    what=f"create resource /{path} of REST API {layout.api_id}",
                    restApiId=layout.api_id, parentId=ids[parent], pathPart=part,
                )  # fmt: skip
                existing = str(created["id"])
                children[(ids[parent], part)] = existing
            if existing is not None:
                ids[path] = existing
        return ids

    def _have(self, found: Found) -> dict[tuple[str, str], tuple[str, dict[str, Any]]]:
        """(service path, METHOD) -> (its resource's id, canonical method)."""
        return {
            (str(resource["path"]).removeprefix("/"), verb): (
                str(method["resourceId"]),
                found_method(method),
            )
            for resource in found.get("Resources") or []
            for verb, method in (resource.get("resourceMethods") or {}).items()
        }

    def _delete_method(self, api_id: str, resource_id: str, verb: str) -> None:
        with contextlib.suppress(NotFound):
            self.c.aws.call(
                "apigateway", "delete_method", what=f"delete method {verb} of REST API {api_id}",
                restApiId=api_id, resourceId=resource_id, httpMethod=verb,
            )  # fmt: skip

    def _prune(self, api_id: str, emptied: list[str], keep: set[str]) -> None:
        """Delete each resource in `emptied` left with no method and no child, then its parent
        on the same terms, never one in `keep` (the root and restApiResources')."""
        if not emptied:
            return
        everything = {str(r["id"]): r for r in self._all_resources(api_id)}
        parents = [str(r.get("parentId")) for r in everything.values() if r.get("parentId")]
        pending = list(emptied)
        while pending:
            resource_id = pending.pop()
            resource = everything.get(resource_id)
            if resource is None or resource_id in keep or resource.get("resourceMethods"):
                continue
            if resource_id in parents:
                continue
            with contextlib.suppress(NotFound):
                self.c.aws.call(
                    "apigateway", "delete_resource",
                    what=f"delete resource {resource.get('path')} of REST API {api_id}",
                    restApiId=api_id, resourceId=resource_id,
                )  # fmt: skip
            parents.remove(str(resource.get("parentId")))
            del everything[resource_id]
            if resource.get("parentId"):
                pending.append(str(resource["parentId"]))

    def delete(self, layout: Layout) -> None:
        """The toolkit's methods and the paths they leave empty; the API stays, redeployed to
        the service's stage (when it holds one) so the stage stops answering them."""
        api_id = layout.api_id
        found = self.find(api_id)
        if found is None:
            return
        have = self._have(found)
        for (_, verb), (resource_id, _) in sorted(have.items()):
            self._delete_method(api_id, resource_id, verb)
        everything = list(found["AllResources"])
        root = self._root(layout, everything)
        # the service's paths too: a deploy killed before a path got its method made it
        made = self._ids(layout, everything, create=False)
        emptied = [resource_id for resource_id, _ in have.values()] + list(made.values())
        self._prune(api_id, emptied, {root, *layout.predefined.values()})
        delete_authorizers(self.c.aws, api_id, [str(a["id"]) for a in found["Authorizers"]])
        stage = self.c.tags[TAG_STAGE]
        left = any(
            (r.get("resourceMethods") or {}) for r in self._all_resources(api_id)
        )  # API Gateway refuses a deployment of an API with no method
        if have and left and any(s.get("stageName") == stage for s in found["Stages"]):
            self.c.aws.call(
                "apigateway", "create_deployment",
                what=f"deploy REST API {api_id} to stage {stage}",
                restApiId=api_id, stageName=stage, description=self.c.description,
            )  # fmt: skip

    def describe(self, api_id: str, found: Found) -> Description:
        url = f"https://{api_id}.execute-api.{self.c.region}.amazonaws.com/{self.c.tags[TAG_STAGE]}"
        count = len(self._have(found))
        return Description(
            url,
            f"{count} method(s) on shared REST API {api_id}"
            + described(found.get("Authorizers") or []),
        )
