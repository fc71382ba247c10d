"""A function's `sns` events, read as Serverless v3 reads them (lib/plugins/aws/package/compile/
events/sns.js): `- sns: <topic name>` (a topic Serverless creates, `SNSTopic<Name>`) or
`- sns: <topic ARN>` (a topic that exists), or a mapping with `arn` or `topicName`,
`displayName` and `kmsMasterKeyId` (for a topic it creates), `filterPolicy`,
`filterPolicyScope` and `redrivePolicy` (`deadLetterTargetArn`; the Ref and Import forms name
CloudFormation resources, and are refused with a line). What Serverless refuses is a problem at
its line. tooling.config.function_events dispatches to it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from tooling.config.events import Location
from tooling.config.function_messages import FunctionMessages
from tooling.config.sqs_events import Locate, Resolve
from tooling.errors import BadInput
from tooling.sourcemap import pointer_join

SNS_KEYS = frozenset(
    {"arn", "topicName", "displayName", "filterPolicy", "filterPolicyScope", "redrivePolicy",
     "kmsMasterKeyId"}
)  # fmt: skip
_TOPIC_NAME = re.compile(r"^[\w-]{1,256}$")
_TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
                        r"(?P<name>[\w-]{1,256}(\.fifo)?)$")  # fmt: skip
_QUEUE_ARN = re.compile(r"^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[\w-]{1,80}(\.fifo)?$")
FILTER_POLICY_SCOPES = ("MessageAttributes", "MessageBody")


@dataclass(frozen=True)
class SnsEvent:
    """One `sns` event of a function."""

    topic_name: str
    topic_arn: str | None  # given: the topic exists; None: the service creates it
    display_name: str | None = None
    kms_master_key_id: str | None = None
    filter_policy: dict[str, Any] | None = None
    filter_policy_scope: str | None = None
    dead_letter_arn: str | None = None  # redrivePolicy.deadLetterTargetArn
    location: Location = (None, None, None)


@dataclass
class SnsEventReader(FunctionMessages):
    function_key: str
    at: Locate
    resolve: Resolve
    warnings: list[str]
    problems: list[BadInput]

    def read(self, value: Any, at: str) -> SnsEvent | None:
        location = self._location(at)
        if isinstance(value, str):
            if value.startswith("arn:"):
                return self._by_arn(value, None, at, location, {})
            if not _TOPIC_NAME.match(value):
                self._problem(at, f"sns topic name {value!r} is not valid",
                              "use 1-256 letters, digits, '-' or '_', or a topic ARN")  # fmt: skip
                return None
            return SnsEvent(value, None, location=location)
        if not isinstance(value, dict):
            self._problem(at, "an sns event is a topic name, a topic ARN or a mapping",
                          "e.g. `- sns: my-topic` or `- sns: {arn: <topic ARN>}`")  # fmt: skip
            return None
        for key in value:
            if key not in SNS_KEYS:
                self._problem(
                    pointer_join(at, key),
                    f"sns key `{key}` is not one Serverless allows (it refuses the file)",
                    "use " + ", ".join(sorted(SNS_KEYS)),
                )
                return None
        if value.get("arn") is None and value.get("topicName") is None:
            self._problem(at, "an sns event needs `arn` or `topicName`",
                          "e.g. `topicName: my-topic`")  # fmt: skip
            return None
        extra = self._subscription(value, at)
        if extra is None:
            return None
        if value.get("arn") is not None:
            return self._by_arn(value["arn"], value.get("topicName"), pointer_join(at, "arn"),
                                location, extra)  # fmt: skip
        name = value["topicName"]
        if not isinstance(name, str) or not _TOPIC_NAME.match(name):
            self._problem(pointer_join(at, "topicName"), f"sns topicName {name!r} is not valid",
                          "use 1-256 letters, digits, '-' or '_'")  # fmt: skip
            return None
        display = value.get("displayName")
        if display is not None and (not isinstance(display, str) or not display):
            self._problem(pointer_join(at, "displayName"), "displayName must be text", None)
            return None
        key_id = value.get("kmsMasterKeyId")
        if key_id is not None:
            key_id = self.resolve(key_id, pointer_join(at, "kmsMasterKeyId"), "kmsMasterKeyId")
            if not isinstance(key_id, str):
                return None
        return SnsEvent(name, None, display, key_id, location=location, **extra)

    def _by_arn(
        self, arn: Any, topic_name: Any, at: str, location: Location, extra: dict[str, Any]
    ) -> SnsEvent | None:
        resolved = self.resolve(arn, at, "sns arn")
        if not isinstance(resolved, str):
            return None
        match = _TOPIC_ARN.match(resolved)
        if match is None:
            self._problem(at, f"sns arn {resolved!r} is not an SNS topic ARN",
                          "e.g. arn:aws:sns:us-east-1:123456789012:my-topic")  # fmt: skip
            return None
        name = topic_name if isinstance(topic_name, str) else match["name"]
        return SnsEvent(name, resolved, location=location, **extra)

    def _subscription(self, value: dict[str, Any], at: str) -> dict[str, Any] | None:
        extra: dict[str, Any] = {}
        policy = value.get("filterPolicy")
        if policy is not None:
            if not isinstance(policy, dict):
                self._problem(pointer_join(at, "filterPolicy"), "filterPolicy must be a mapping",
                              "e.g. `filterPolicy: {type: [order]}`")  # fmt: skip
                return None
            extra["filter_policy"] = policy
        scope = value.get("filterPolicyScope")
        if scope is not None:
            if scope not in FILTER_POLICY_SCOPES:
                self._problem(pointer_join(at, "filterPolicyScope"),
                              f"filterPolicyScope {scope!r} is not one SNS accepts",
                              "use " + " or ".join(FILTER_POLICY_SCOPES))  # fmt: skip
                return None
            extra["filter_policy_scope"] = scope
        redrive = value.get("redrivePolicy")
        if redrive is not None:
            where = pointer_join(at, "redrivePolicy")
            if not isinstance(redrive, dict) or len(redrive) != 1:
                self._problem(where, "redrivePolicy takes one of deadLetterTargetArn, "
                              "deadLetterTargetRef and deadLetterTargetImport", None)  # fmt: skip
                return None
            if "deadLetterTargetArn" not in redrive:
                self._problem(
                    pointer_join(where, next(iter(redrive))),
                    "the toolkit takes the dead-letter queue by ARN only (deadLetterTargetArn)",
                    "write the queue's ARN under deadLetterTargetArn (a `resources:` queue: "
                    "!GetAtt <Queue>.Arn)",
                )
                return None
            arn_at = pointer_join(where, "deadLetterTargetArn")
            arn = self.resolve(redrive["deadLetterTargetArn"], arn_at, "deadLetterTargetArn")
            if not isinstance(arn, str):
                return None
            if not _QUEUE_ARN.match(arn):
                self._problem(arn_at, f"deadLetterTargetArn {arn!r} is not an SQS queue ARN", None)
                return None
            extra["dead_letter_arn"] = arn
        return extra

    def _location(self, pointer: str) -> Location:
        kw = self.at(pointer)
        return (kw["file"], kw["line"], kw["column"])


def filter_policy_text(policy: dict[str, Any] | None) -> str | None:
    return json.dumps(policy, sort_keys=True) if policy is not None else None
