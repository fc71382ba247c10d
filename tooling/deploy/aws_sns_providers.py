"""The AWS target's providers for functions' `sns` events: SNS topics the service creates
(CreateTopic `Tags`, the toolkit's mark) and functions' subscriptions to topics. Every call goes
through `tooling.aws.client.AwsClient`.

A subscription takes no tags: one with protocol lambda whose endpoint is the service's function
is the toolkit's (the function's name is the service's own, and a function is the toolkit's
before anything is subscribed to it)."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from tooling.deploy.aws_context import AwsContext, tag_list
from tooling.deploy.models import Address, Kind, Subscription, Topic
from tooling.deploy.providers import Description, Diff, Found
from tooling.errors import NotFound
from tooling.names import function_name_from_identifier

DEFAULT_SCOPE = "MessageAttributes"  # SNS's FilterPolicyScope when a filter policy has none


def subscription_diff(subscription: Subscription, found: Found) -> Diff:
    """`found`: GetSubscriptionAttributes' Attributes."""
    wanted = subscription.attributes()
    parts: list[tuple[str, tuple[str, ...]]] = []
    have_policy = found.get("FilterPolicy") or ""
    if (json.loads(have_policy) if have_policy else None) != subscription.filter_policy:
        parts.append(("filter policy changed", ("FilterPolicy",)))
    if subscription.filter_policy is not None and (
        found.get("FilterPolicyScope") or DEFAULT_SCOPE
    ) != (subscription.filter_policy_scope or DEFAULT_SCOPE):
        parts.append(("filter policy scope changed", ("FilterPolicyScope",)))
    have_redrive = found.get("RedrivePolicy") or ""
    if (json.loads(have_redrive) if have_redrive else None) != (
        json.loads(wanted["RedrivePolicy"]) if wanted["RedrivePolicy"] else None
    ):
        parts.append(("redrive policy changed", ("RedrivePolicy",)))
    endpoint = found.get("Endpoint")
    if endpoint is not None and endpoint != subscription.function_arn:  # its alias came or went
        parts.append((f"endpoint {endpoint} -> {subscription.function_arn}", ("Endpoint",)))
    return Diff.of(*parts)


class AwsTopics:
    def __init__(self, context: AwsContext) -> None:
        self.c = context

    def check(self, resource: Topic) -> None:
        pass

    def find(self, address: Address) -> Found | None:
        found = self.c.aws.find(
            "sns", "get_topic_attributes", what=f"look up topic {address.name}",
            TopicArn=address.arn,
        )  # fmt: skip
        return None if found is None else dict(found.get("Attributes") or {})

    def owns(self, address: Address, found: Found) -> bool:
        answer = self.c.aws.call(
            "sns", "list_tags_for_resource", what=f"read the tags of topic {address.name}",
            ResourceArn=address.arn,
        )  # fmt: skip
        return self.c.ours({t["Key"]: t["Value"] for t in answer.get("Tags", [])})

    def diff(self, resource: Topic, found: Found) -> Diff:
        parts = [
            (f"{key} changed", (key,))
            for key, value in sorted(resource.attributes().items())
            if found.get(key) != value
        ]
        return Diff.of(*parts)

    def create(self, resource: Topic) -> None:
        self.c.aws.call(
            "sns", "create_topic", what=f"create topic {resource.name}", Name=resource.name,
            Attributes=resource.attributes(), Tags=tag_list(self.c),
        )  # fmt: skip

    def update(self, resource: Topic, found: Found, diff: Diff) -> None:
        wanted = resource.attributes()
        for key in diff.attributes:
            self.c.aws.call(
                "sns", "set_topic_attributes", what=f"update topic {resource.name}",
                TopicArn=resource.arn, AttributeName=key, AttributeValue=wanted.get(key, ""),
            )  # fmt: skip

    def delete(self, address: Address) -> None:
        with contextlib.suppress(NotFound):
            self.c.aws.call(
                "sns", "delete_topic", what=f"delete topic {address.name}", TopicArn=address.arn
            )

    def describe(self, address: Address, found: Found) -> Description:
        subscribed = found.get("SubscriptionsConfirmed", "0")
        return Description(str(address.arn), f"{subscribed} subscription(s)")


class AwsSubscriptions:
    def __init__(self, context: AwsContext) -> None:
        self.c = context

    def check(self, resource: Subscription) -> None:
        pass

    def _arn(self, address: Address) -> str | None:
        """The subscription's ARN: the topic's lambda subscription to the address's function."""
        function = address.name.rsplit(" -> ", 1)[1]
        for page in self.c.aws.pages(
            "sns", "list_subscriptions_by_topic",
            what=f"read the subscriptions of topic {address.arn}", TopicArn=address.arn,
        ):  # fmt: skip
            for item in page.get("Subscriptions", []):
                endpoint = str(item.get("Endpoint", ""))
                if (
                    item.get("Protocol") == "lambda"
                    and function_name_from_identifier(endpoint) == function
                ):
                    return str(item["SubscriptionArn"])
        return None

    def find(self, address: Address) -> Found | None:
        try:
            arn = self._arn(address)
        except NotFound:  # the topic is gone, and its subscriptions with it
            return None
        if arn is None:
            return None
        answer = self.c.aws.find(
            "sns", "get_subscription_attributes", what=f"read subscription {address.name}",
            SubscriptionArn=arn,
        )  # fmt: skip
        return None if answer is None else dict(answer.get("Attributes") or {})

    def owns(self, address: Address, found: Found) -> bool:
        return True  # its endpoint is the service's function (see the module's docstring)

    def diff(self, resource: Subscription, found: Found) -> Diff:
        return subscription_diff(resource, found)

    def create(self, resource: Subscription) -> None:
        attributes = {key: value for key, value in resource.attributes().items() if value}
        self.c.aws.call(
            "sns", "subscribe", what=f"subscribe {resource.function_name} to {resource.topic_name}",
            TopicArn=resource.topic_arn, Protocol="lambda", Endpoint=resource.function_arn,
            Attributes=attributes, ReturnSubscriptionArn=True,
        )  # fmt: skip

    def update(self, resource: Subscription, found: Found, diff: Diff) -> None:
        arn = found.get("SubscriptionArn") or self._arn(resource.address)
        if "Endpoint" in diff.attributes:
            # SNS changes no endpoint: unsubscribed, then subscribed anew (stopped in between,
            # the next deploy finds none and subscribes)
            self.c.aws.call(
                "sns", "unsubscribe", what=f"unsubscribe {found.get('Endpoint')} from "
                f"{resource.topic_name}", SubscriptionArn=arn,
            )  # fmt: skip
            self.create(resource)
            return
        wanted = resource.attributes()
        for key in diff.attributes:
            self.c.aws.call(
                "sns", "set_subscription_attributes",
                what=f"update subscription {resource.address.name}", SubscriptionArn=arn,
                AttributeName=key, AttributeValue=wanted[key],
            )  # fmt: skip

    def delete(self, address: Address) -> None:
        try:
            arn = self._arn(address)
        except NotFound:
            return
        if arn is not None:
            with contextlib.suppress(NotFound):
                self.c.aws.call(
                    "sns", "unsubscribe", what=f"unsubscribe {address.name}", SubscriptionArn=arn
                )

    def describe(self, address: Address, found: Found) -> Description:
        what = "filtered" if found.get("FilterPolicy") else "every message"
        return Description(str(found.get("SubscriptionArn", "")), f"lambda, {what}")


def aws_sns_providers(context: AwsContext) -> dict[Kind, Any]:
    return {"topic": AwsTopics(context), "subscription": AwsSubscriptions(context)}
