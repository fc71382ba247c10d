"""The local target's providers for functions' `sns` events: topics and subscriptions as
records in the runtime's SQLite file, in the AWS API's shapes. Nothing publishes to them
locally: a deploy says so for each event (tooling.deploy.function_sns_resources)."""

from __future__ import annotations

from typing import Any

from tooling.deploy.aws_sns_providers import subscription_diff
from tooling.deploy.local_event_providers import LocalState, _Records
from tooling.deploy.models import Address, Kind, Subscription, Topic
from tooling.deploy.providers import Description, Diff, Found


class LocalTopics(_Records):
    kind: Kind = "topic"

    def check(self, resource: Topic) -> None:
        pass

    def find(self, address: Address) -> Found | None:
        return self._find(address)

    def diff(self, resource: Topic, found: Found) -> Diff:
        parts = [
            (f"{key} changed", (key,))
            for key, value in sorted(resource.attributes().items())
            if found.get(key) != value
        ]
        return Diff.of(*parts)

    def create(self, resource: Topic) -> None:
        self._put(resource.address, {"TopicArn": resource.arn, **resource.attributes()})

    def update(self, resource: Topic, found: Found, diff: Diff) -> None:
        self.create(resource)

    def describe(self, address: Address, found: Found) -> Description:
        return Description(str(found.get("TopicArn", address.arn)), "topic (a record)")


class LocalSubscriptions(_Records):
    kind: Kind = "subscription"

    def check(self, resource: Subscription) -> None:
        pass

    def find(self, address: Address) -> Found | None:
        return self._find(address)

    def diff(self, resource: Subscription, found: Found) -> Diff:
        return subscription_diff(resource, found)

    def create(self, resource: Subscription) -> None:
        document = {
            "TopicArn": resource.topic_arn,
            "Protocol": "lambda",
            "Endpoint": resource.function_arn,
            **resource.attributes(),
        }
        self._put(resource.address, document)

    def update(self, resource: Subscription, found: Found, diff: Diff) -> None:
        self.create(resource)

    def describe(self, address: Address, found: Found) -> Description:
        return Description(str(found.get("TopicArn", "")), "subscription (a record)")


def local_sns_providers(state: LocalState) -> dict[Kind, Any]:
    return {"topic": LocalTopics(state), "subscription": LocalSubscriptions(state)}
