"""Functions' `sns` events as resource models (a source in tooling.deploy.desired's SOURCES),
shaped as Serverless v3 makes them: per event the function's subscription to the topic (protocol
lambda, with its filter policy, scope and redrive policy), the statement in the function's
resource policy that lets the topic invoke it (principal sns.amazonaws.com), the dead-letter
queue's statement letting the topic send to it, and, for a topic named rather than given by ARN,
the topic (Serverless' `SNSTopic<Name>`, its display name and KMS key from the first event that
names it)."""

from __future__ import annotations

from tooling.config.function_sns_events import SnsEvent
from tooling.config.service import FunctionConfig, ServiceConfig
from tooling.deploy.event_resources import Contribution, _Context
from tooling.deploy.function_alias_resources import target_needs
from tooling.deploy.models import (
    Address,
    Permission,
    Resource,
    Subscription,
    Topic,
    permission_name,
)
from tooling.names import partition_for

SNS_PRINCIPAL = "sns.amazonaws.com"


def topic_arn(service: ServiceConfig, name: str) -> str:
    partition = partition_for(service.region)
    return f"arn:{partition}:sns:{service.region}:{service.account_id}:{name}"


def function_sns_subscriptions(context: _Context) -> Contribution:
    service = context.service
    resources: list[Resource] = []
    warnings: list[str] = []
    topics: dict[str, Topic] = {}
    seen: set[Address] = set()
    for fn in service.functions.values():
        for event in fn.events.sns:
            needs: list[Address] = list(target_needs(fn))
            arn = event.topic_arn
            if arn is None:
                topic = topics.get(event.topic_name)
                if topic is None:
                    topic = Topic(event.topic_name, topic_arn(service, event.topic_name),
                                  event.display_name, event.kms_master_key_id)  # fmt: skip
                    topics[topic.name] = topic
                    resources.append(topic)
                arn = topic.arn
                needs.append(topic.address)
            invoke = Permission(permission_name(arn, fn.target_arn), fn.target_arn, arn,
                                needs=tuple(needs),
                                principal=SNS_PRINCIPAL)  # fmt: skip
            needs.append(invoke.address)
            found = [invoke]
            if event.dead_letter_arn is not None:
                dead_letter = Permission(
                    permission_name(arn, event.dead_letter_arn),
                    event.dead_letter_arn,
                    arn,
                    principal=SNS_PRINCIPAL,
                    needs=tuple(a for a in needs if a.kind == "topic"),
                )
                found.append(dead_letter)
                needs.append(dead_letter.address)
            subscription = Subscription(
                topic_name=event.topic_name,
                topic_arn=arn,
                function_name=fn.name,
                function_arn=fn.target_arn,
                filter_policy=event.filter_policy,
                filter_policy_scope=event.filter_policy_scope,
                dead_letter_arn=event.dead_letter_arn,
                needs=tuple(needs),
            )
            if subscription.address in seen:
                continue  # Serverless merges a second subscription of a function to a topic
            seen.add(subscription.address)
            resources.extend(found)
            resources.append(subscription)
            if not context.platform.delivers_sns:
                warnings.append(_not_delivered(fn, event))
    return resources, warnings


def _not_delivered(fn: FunctionConfig, event: SnsEvent) -> str:
    file, line, column = event.location
    where = ":".join(str(p) for p in (file, line, column) if p is not None)
    return (
        f"{where}: function '{fn.key}': the subscription to topic {event.topic_name} is "
        "deployed as a record on this target: messages published locally are not delivered "
        "to the function (they are on AWS)"
    )
