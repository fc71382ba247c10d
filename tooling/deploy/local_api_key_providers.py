"""API keys and usage plans on the local target: records in the runtime's SQLite file, in API
Gateway's shapes (GetApiKey's; GetUsagePlan's plus "Keys"), next to the REST API's record.
A key with no `value` gets one generated at its first deploy, kept across deploys. `tool serve`
reads them to check `x-api-key` on `private: true` routes (tooling.triggers.http_api).
"""

from __future__ import annotations

import hashlib
import secrets
import string
from typing import Any

from tooling.deploy.api_key_providers import (
    KEY_TYPE,
    api_key_diff,
    describe_key,
    describe_plan,
    key_info,
    usage_plan_diff,
)
from tooling.deploy.local_event_providers import LocalState, _Records, local_api_id
from tooling.deploy.models import Address, ApiKey, Kind, UsagePlan
from tooling.deploy.providers import Description, Diff, Found

_VALUE_ALPHABET = string.ascii_letters + string.digits
GENERATED_VALUE_LENGTH = 40  # as long as API Gateway's generated values


def _id(kind: str, region: str, name: str) -> str:
    return hashlib.sha256(f"{kind}/{region}/{name}".encode()).hexdigest()[:10]


class LocalApiKeys(_Records):
    kind: Kind = "api key"

    def check(self, resource: ApiKey) -> None:
        pass

    def find(self, address: Address) -> Found | None:
        return self._find(address)

    def diff(self, resource: ApiKey, found: Found) -> Diff:
        return api_key_diff(resource, found)

    def _document(self, key: ApiKey, value: str) -> dict[str, Any]:
        return {
            "id": _id("apikey", self.state.region, key.name),
            "name": key.name,
            "value": value,
            "description": key.description or "",
            "customerId": key.customer_id or "",
            "enabled": key.enabled,
        }

    def create(self, resource: ApiKey) -> None:
        value = resource.value or "".join(
            secrets.choice(_VALUE_ALPHABET) for _ in range(GENERATED_VALUE_LENGTH)
        )
        self._put(resource.address, self._document(resource, value))

    def update(self, resource: ApiKey, found: Found, diff: Diff) -> None:
        value = resource.value or str(found.get("value"))
        self._put(resource.address, self._document(resource, value))

    def describe(self, address: Address, found: Found) -> Description:
        return Description(
            f"local API key {found.get('id')}", describe_key(found), api_key=key_info(found)
        )


class LocalUsagePlans(_Records):
    kind: Kind = "usage plan"

    def check(self, resource: UsagePlan) -> None:
        pass

    def find(self, address: Address) -> Found | None:
        return self._find(address)

    def diff(self, resource: UsagePlan, found: Found) -> Diff:
        return usage_plan_diff(resource, found, local_api_id(self.state.region, resource.rest_api))

    def _document(self, plan: UsagePlan) -> dict[str, Any]:
        document: dict[str, Any] = {
            "id": _id("usageplan", self.state.region, plan.name),
            "name": plan.name,
            "description": plan.description,
            "apiStages": [
                {"apiId": local_api_id(self.state.region, plan.rest_api), "stage": plan.stage}
            ],
            "Keys": [
                {"id": _id("apikey", self.state.region, name), "name": name, "type": KEY_TYPE}
                for name in plan.keys
            ],
        }
        if plan.quota:
            document["quota"] = dict(plan.quota)
        if plan.throttle:
            document["throttle"] = dict(plan.throttle)
        return document

    def create(self, resource: UsagePlan) -> None:
        self._put(resource.address, self._document(resource))

    def update(self, resource: UsagePlan, found: Found, diff: Diff) -> None:
        self._put(resource.address, self._document(resource))

    def describe(self, address: Address, found: Found) -> Description:
        return Description(f"local usage plan {found.get('id')}", describe_plan(found))


def local_api_key_providers(state: LocalState) -> dict[Kind, Any]:
    return {"api key": LocalApiKeys(state), "usage plan": LocalUsagePlans(state)}
