"""API keys and usage plans (provider.apiGateway.apiKeys and usagePlan) on AWS, through
`tooling.aws.client.AwsClient`, and the comparisons both targets share (in API Gateway's shapes:
GetApiKey's, GetUsagePlan's with "Keys" holding GetUsagePlanKeys' items).

Ownership: a key or a plan is the toolkit's by its tags (`tool:service`, `tool:stage`); names
are not unique in an account, so a key is found by its name AND those tags. A key's value
cannot change in place: the key is replaced (a new key joins the old one's plans, then the old
one goes). API Gateway deletes no usage plan that still has API stages, so a plan loses its
stages (and its keys) first.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, Protocol

from tooling.deploy.aws_context import AwsContext
from tooling.deploy.models import Address, ApiKey, Kind, UsagePlan
from tooling.deploy.providers import Description, Diff, Found
from tooling.errors import NotFound

if TYPE_CHECKING:
    pass

KEY_TYPE = "API_KEY"
VALUE_REPLACED = "value changed: the key is replaced (API Gateway cannot change a key's value)"


class ApiIds(Protocol):
    def api_id(self, name: str) -> str | None: ...


# -- comparisons, the same on both targets ------------------------------------------------------


def api_key_diff(key: ApiKey, found: Found) -> Diff:
    """`found`: GetApiKey's answer (with its value)."""
    parts: list[tuple[str, tuple[str, ...]]] = []
    if key.value is not None and found.get("value") != key.value:
        parts.append((VALUE_REPLACED, ("value",)))
    for attribute, want in (
        ("description", key.description or ""),
        ("customerId", key.customer_id or ""),
    ):
        if (found.get(attribute) or "") != want:
            parts.append((f"{attribute} changed", (attribute,)))
    if bool(found.get("enabled")) != key.enabled:
        parts.append(("enabled changed", ("enabled",)))
    if found.get("Others"):
        parts.append(("more than one key of this name: the others go", ("Others",)))
    return Diff.of(*parts)


def plan_quota(found: Found) -> dict[str, Any]:
    quota = dict(found.get("quota") or {})
    if not quota.get("offset"):
        quota.pop("offset", None)  # 0 is API Gateway's default
    return {k: (int(v) if k != "period" else v) for k, v in quota.items()}


def plan_throttle(found: Found) -> dict[str, Any]:
    return {k: float(v) for k, v in (found.get("throttle") or {}).items()}


def plan_key_names(found: Found) -> list[str]:
    return sorted(str(k.get("name")) for k in found.get("Keys") or [] if k.get("type") == KEY_TYPE)


def usage_plan_diff(plan: UsagePlan, found: Found, api_id: str | None) -> Diff:
    """`found`: GetUsagePlan's answer plus "Keys" (GetUsagePlanKeys' items). `api_id` None:
    the REST API does not exist yet (it is being made), so the stage is new."""
    parts: list[tuple[str, tuple[str, ...]]] = []
    if (found.get("description") or "") != plan.description:
        parts.append(("description changed", ("description",)))
    if plan_quota(found) != plan_quota({"quota": plan.quota}):
        parts.append(("quota changed", ("quota",)))
    if plan_throttle(found) != plan_throttle({"throttle": plan.throttle}):
        parts.append(("throttle changed", ("throttle",)))
    stages = [(s.get("apiId"), s.get("stage")) for s in found.get("apiStages") or []]
    if stages != [(api_id, plan.stage)]:
        parts.append(("API stage changed", ("apiStages",)))
    if plan_key_names(found) != sorted(plan.keys):
        parts.append(("keys changed", ("Keys",)))
    return Diff.of(*parts)


def describe_key(found: Found) -> str:
    state = "enabled" if found.get("enabled") else "disabled"
    return f"{found.get('name')}: {found.get('value')} ({state})"


def key_info(found: Found) -> dict[str, Any]:
    """An API key as `sls info` lists it under "api keys"."""
    return {
        "name": found.get("name"),
        "value": found.get("value"),
        "description": found.get("description") or None,
        "customerId": found.get("customerId") or None,
        "enabled": bool(found.get("enabled")),
    }


def describe_plan(found: Found) -> str:
    parts = [", ".join(f"{s.get('stage')}" for s in found.get("apiStages") or []) or "no stage"]
    quota = plan_quota(found)
    if quota:
        parts.append(f"quota {quota.get('limit')} a {str(quota.get('period', '')).lower()}")
    throttle = found.get("throttle") or {}
    if throttle:
        parts.append(f"throttle {throttle.get('rateLimit')}/s, burst {throttle.get('burstLimit')}")
    parts.append(f"keys: {', '.join(plan_key_names(found)) or 'none'}")
    return "; ".join(parts)


# -- AWS --------------------------------------------------------------------------------------


class AwsApiKeys:
    def __init__(self, context: AwsContext) -> None:
        self.c = context

    def check(self, resource: ApiKey) -> None:
        pass

    def _named(self, name: str) -> list[dict[str, Any]]:
        return [
            key
            for page in self.c.aws.pages(
                "apigateway",
                "get_api_keys",
                what=f"look up API key {name}",
                nameQuery=name,
                includeValues=True,
            )
            for key in page.get("items", [])
            if key.get("name") == name
        ]

    def ids(self, names: tuple[str, ...] | list[str]) -> dict[str, str]:
        """The ids of the toolkit's keys of these names (those that exist)."""
        ids: dict[str, str] = {}
        for name in names:
            for key in self._named(name):
                if self.c.ours(dict(key.get("tags") or {})):
                    ids[name] = str(key["id"])
                    break
        return ids

    def find(self, address: Address) -> Found | None:
        """The toolkit's key of that name: another's of the same name is no conflict (names
        are not unique), and is left alone."""
        keys = [k for k in self._named(address.name) if self.c.ours(dict(k.get("tags") or {}))]
        if not keys:
            return None
        # Several: a replacement was killed before the old key went; all but one go.
        return {**keys[0], "Others": [str(k["id"]) for k in keys[1:]]}

    def owns(self, address: Address, found: Found) -> bool:
        return self.c.ours(dict(found.get("tags") or {}))

    def diff(self, resource: ApiKey, found: Found) -> Diff:
        return api_key_diff(resource, found)

    def create(self, resource: ApiKey) -> None:
        self._create(resource)

    def _create(self, resource: ApiKey) -> str:
        params: dict[str, Any] = {
            "name": resource.name,
            "enabled": resource.enabled,
            "tags": dict(self.c.tags),
        }
        if resource.value is not None:
            params["value"] = resource.value
        if resource.description:
            params["description"] = resource.description
        if resource.customer_id:
            params["customerId"] = resource.customer_id
        answer = self.c.aws.call(
            "apigateway", "create_api_key", what=f"create API key {resource.name}", **params
        )
        return str(answer["id"])

    def update(self, resource: ApiKey, found: Found, diff: Diff) -> None:
        aws, old = self.c.aws, str(found["id"])
        if "value" in diff.attributes:
            self._replace(resource, old)
            return
        for other in found.get("Others") or []:
            what = f"delete a second API key {resource.name}"
            self._join_plans(other, old, what)
            self._delete_key(other, what)
        operations = []
        if "description" in diff.attributes:
            operations.append(
                {"op": "replace", "path": "/description", "value": resource.description or ""}
            )
        if "customerId" in diff.attributes:
            operations.append(
                {"op": "replace", "path": "/customerId", "value": resource.customer_id or ""}
            )
        if "enabled" in diff.attributes:
            operations.append(
                {
                    "op": "replace",
                    "path": "/enabled",
                    "value": "true" if resource.enabled else "false",
                }
            )
        if operations:
            aws.call(
                "apigateway",
                "update_api_key",
                what=f"update API key {resource.name}",
                apiKey=old,
                patchOperations=operations,
            )

    def _plans_of(self, key_id: str, what: str) -> set[str]:
        return {
            str(plan["id"])
            for page in self.c.aws.pages("apigateway", "get_usage_plans", what=what, keyId=key_id)
            for plan in page.get("items", [])
        }

    def _join_plans(self, old: str, new: str, what: str) -> None:
        """Key `new` into every usage plan key `old` is in."""
        for plan_id in sorted(self._plans_of(old, what) - self._plans_of(new, what)):
            self.c.aws.call(
                "apigateway",
                "create_usage_plan_key",
                what=what,
                usagePlanId=plan_id,
                keyId=new,
                keyType=KEY_TYPE,
            )

    def _replace(self, resource: ApiKey, old: str) -> None:
        """The new key first, in the old one's plans, then the old one out of them and gone;
        killed in between, the next deploy finishes it (every other key of the toolkit's of
        that name goes, whatever its plans)."""
        what = f"replace API key {resource.name}"
        ours = [k for k in self._named(resource.name) if self.c.ours(dict(k.get("tags") or {}))]
        # Values are unique in an account: one made by a killed replacement is taken as it is.
        made = [str(k["id"]) for k in ours if k.get("value") == resource.value]
        new = made[0] if made else self._create(resource)
        self._join_plans(old, new, what)
        for key in self._named(resource.name):
            if key["id"] != new and self.c.ours(dict(key.get("tags") or {})):
                self._delete_key(str(key["id"]), what)

    def _delete_key(self, key_id: str, what: str) -> None:
        """Out of its plans first (moto keeps a deleted key in them), then gone."""
        aws = self.c.aws
        with contextlib.suppress(NotFound):
            for page in aws.pages("apigateway", "get_usage_plans", what=what, keyId=key_id):
                for plan in page.get("items", []):
                    aws.call(
                        "apigateway",
                        "delete_usage_plan_key",
                        what=what,
                        usagePlanId=plan["id"],
                        keyId=key_id,
                    )
            aws.call("apigateway", "delete_api_key", what=what, apiKey=key_id)

    def delete(self, address: Address) -> None:
        for key in self._named(address.name):
            if self.c.ours(dict(key.get("tags") or {})):
                self._delete_key(str(key["id"]), f"delete API key {address.name}")

    def describe(self, address: Address, found: Found) -> Description:
        arn = f"arn:aws:apigateway:{self.c.region}::/apikeys/{found.get('id')}"
        return Description(arn, describe_key(found), api_key=key_info(found))


class AwsUsagePlans:
    def __init__(self, context: AwsContext, apis: ApiIds, keys: AwsApiKeys) -> None:
        self.c = context
        self.apis = apis
        self.keys = keys

    def check(self, resource: UsagePlan) -> None:
        pass

    def _named(self, name: str) -> list[dict[str, Any]]:
        return [
            plan
            for page in self.c.aws.pages(
                "apigateway", "get_usage_plans", what=f"look up usage plan {name}"
            )
            for plan in page.get("items", [])
            if plan.get("name") == name
        ]

    def _keys(self, plan_id: str) -> list[dict[str, Any]]:
        return [
            key
            for page in self.c.aws.pages(
                "apigateway",
                "get_usage_plan_keys",
                what="read a usage plan's keys",
                usagePlanId=plan_id,
            )
            for key in page.get("items", [])
        ]

    def find(self, address: Address) -> Found | None:
        """The toolkit's plan of that name (plan names are not unique either)."""
        plans = [p for p in self._named(address.name) if self.c.ours(dict(p.get("tags") or {}))]
        if not plans:
            return None
        return {**plans[0], "Keys": self._keys(str(plans[0]["id"]))}

    def owns(self, address: Address, found: Found) -> bool:
        return self.c.ours(dict(found.get("tags") or {}))

    def diff(self, resource: UsagePlan, found: Found) -> Diff:
        return usage_plan_diff(resource, found, self.apis.api_id(resource.rest_api))

    def _api_id(self, plan: UsagePlan) -> str:
        api_id = self.apis.api_id(plan.rest_api)
        if api_id is None:
            raise NotFound(f"usage plan {plan.name}: the REST API {plan.rest_api} is not there")
        return api_id

    def create(self, resource: UsagePlan) -> None:
        aws = self.c.aws
        params: dict[str, Any] = {
            "name": resource.name,
            "description": resource.description,
            "apiStages": [{"apiId": self._api_id(resource), "stage": resource.stage}],
            "tags": dict(self.c.tags),
        }
        if resource.quota:
            params["quota"] = dict(resource.quota)
        if resource.throttle:
            params["throttle"] = dict(resource.throttle)
        plan = aws.call(
            "apigateway", "create_usage_plan", what=f"create usage plan {resource.name}", **params
        )
        self._add_keys(str(plan["id"]), resource, list(resource.keys))

    def _add_keys(self, plan_id: str, plan: UsagePlan, names: list[str]) -> None:
        ids = self.keys.ids(names)
        for name in names:
            if name not in ids:
                raise NotFound(f"usage plan {plan.name}: API key {name} is not there")
            self.c.aws.call(
                "apigateway",
                "create_usage_plan_key",
                what=f"add API key {name} to usage plan {plan.name}",
                usagePlanId=plan_id,
                keyId=ids[name],
                keyType=KEY_TYPE,
            )

    def update(self, resource: UsagePlan, found: Found, diff: Diff) -> None:
        aws, plan_id = self.c.aws, str(found["id"])
        what = f"update usage plan {resource.name}"
        operations: list[dict[str, str]] = []
        if "description" in diff.attributes:
            operations.append(
                {"op": "replace", "path": "/description", "value": resource.description}
            )
        for part, have, want in (
            ("quota", found.get("quota") or {}, resource.quota),
            ("throttle", found.get("throttle") or {}, resource.throttle),
        ):
            if part not in diff.attributes:
                continue
            if not want:
                operations.append({"op": "remove", "path": f"/{part}"})
                continue
            for field, value in want.items():
                op = "replace" if field in have else "add"
                operations.append({"op": op, "path": f"/{part}/{field}", "value": str(value)})
        if "apiStages" in diff.attributes:
            wanted = f"{self._api_id(resource)}:{resource.stage}"
            have_stages = [
                f"{s.get('apiId')}:{s.get('stage')}" for s in found.get("apiStages") or []
            ]
            operations.extend(
                {"op": "remove", "path": "/apiStages", "value": stage}
                for stage in have_stages
                if stage != wanted
            )
            if wanted not in have_stages:
                operations.append({"op": "add", "path": "/apiStages", "value": wanted})
        if operations:
            aws.call(
                "apigateway",
                "update_usage_plan",
                what=what,
                usagePlanId=plan_id,
                patchOperations=operations,
            )
        if "Keys" in diff.attributes:
            self._sync_keys(plan_id, resource)

    def _sync_keys(self, plan_id: str, plan: UsagePlan) -> None:
        """The plan's keys made the toolkit's keys of its names, by id as they are now (a key
        replaced since the plan was read, or a duplicate left by a killed replacement, goes)."""
        wanted = self.keys.ids(list(plan.keys))
        have = {str(k["id"]) for k in self._keys(plan_id) if k.get("type") == KEY_TYPE}
        for key_id in sorted(have - set(wanted.values())):
            with contextlib.suppress(NotFound):
                self.c.aws.call(
                    "apigateway",
                    "delete_usage_plan_key",
                    what=f"take a key out of usage plan {plan.name}",
                    usagePlanId=plan_id,
                    keyId=key_id,
                )
        self._add_keys(plan_id, plan, [n for n in plan.keys if wanted.get(n) not in have])

    def delete(self, address: Address) -> None:
        aws = self.c.aws
        what = f"delete usage plan {address.name}"
        for plan in self._named(address.name):
            if not self.c.ours(dict(plan.get("tags") or {})):
                continue
            plan_id = str(plan["id"])
            with contextlib.suppress(NotFound):
                for key in self._keys(plan_id):
                    aws.call(
                        "apigateway",
                        "delete_usage_plan_key",
                        what=what,
                        usagePlanId=plan_id,
                        keyId=key["id"],
                    )
                stages = [f"{s.get('apiId')}:{s.get('stage')}" for s in plan.get("apiStages") or []]
                if stages:  # "Cannot delete Usage Plan ... because there are API Stages"
                    aws.call(
                        "apigateway",
                        "update_usage_plan",
                        what=what,
                        usagePlanId=plan_id,
                        patchOperations=[
                            {"op": "remove", "path": "/apiStages", "value": s} for s in stages
                        ],
                    )
                aws.call("apigateway", "delete_usage_plan", what=what, usagePlanId=plan_id)

    def describe(self, address: Address, found: Found) -> Description:
        arn = f"arn:aws:apigateway:{self.c.region}::/usageplans/{found.get('id')}"
        return Description(arn, describe_plan(found))


def aws_api_key_providers(context: AwsContext, apis: ApiIds) -> dict[Kind, Any]:
    keys = AwsApiKeys(context)
    return {"api key": keys, "usage plan": AwsUsagePlans(context, apis, keys)}
