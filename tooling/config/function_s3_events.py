"""A function's `s3` events, read as Serverless v3 reads them (lib/plugins/aws/package/compile/
events/s3/index.js): `- s3: <bucket name>` or a mapping {bucket, event (default
`s3:ObjectCreated:*`), rules: [{prefix: ...}, {suffix: ...}], existing, forceDeploy}.

Without `existing`, Serverless creates the bucket (`S3Bucket<NormalizedName>`) with the
notification of every function event on it; with `existing: true` it adds its notifications to
the bucket that is there (one existing bucket per function). What Serverless' schema or code
refuses is a problem at its line; tooling.config.function_events dispatches here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tooling.config.events import UNRESOLVED
from tooling.config.function_messages import FunctionMessages
from tooling.config.resources import pending_in
from tooling.config.sqs_events import Locate, Resolve
from tooling.errors import BadInput, ConfigError
from tooling.sourcemap import pointer_join

S3_KEYS = frozenset({"bucket", "event", "rules", "existing", "forceDeploy"})
DEFAULT_S3_EVENT = "s3:ObjectCreated:*"
# Serverless' awsS3BucketName pattern (lib/config-schema.js)
_BUCKET_NAME = re.compile(r"^(?!^(\d{1,3}\.){3}\d{1,3}$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_EVENT = re.compile(r"^s3:.+$")  # the schema's pattern for `event`
_EG = "e.g. `- s3: photos` or `- s3: {bucket: photos, event: s3:ObjectCreated:*}`"


@dataclass(frozen=True)
class S3Event:
    """One `s3` event of a function: S3 notifies it of `event` on `bucket`, for the object keys
    the `rules` ((prefix|suffix, value) pairs, in order) match."""

    bucket: str
    event: str = DEFAULT_S3_EVENT
    rules: tuple[tuple[str, str], ...] = ()
    existing: bool = False
    location: str = field(default="", compare=False)  # file:line, for messages

    def filter_rules(self) -> list[dict[str, str]]:
        """The rules as S3's Filter.Key.FilterRules holds them."""
        return [{"Name": name, "Value": value} for name, value in self.rules]


@dataclass
class S3EventReader(FunctionMessages):
    """Reads the `s3` events of one function."""

    function_key: str
    at: Locate
    resolve: Resolve
    warnings: list[str]
    problems: list[BadInput]
    provider_buckets: dict[str, Any] = field(default_factory=dict)  # provider.s3
    seen: list[S3Event] = field(default_factory=list)

    def read(self, value: Any, where: str) -> S3Event | None:
        """One `s3` event (`value` at `where`), or None when it has a problem (recorded)."""
        spec: Any = {"bucket": value} if isinstance(value, str) else value
        if not isinstance(spec, dict):
            self._problem(where, "an s3 event is a bucket name or a mapping with `bucket`", _EG)
            return None
        for key in spec:
            if key not in S3_KEYS:  # Serverless' schema refuses it; v3 only warns by default
                self._warn(
                    pointer_join(where, key),
                    f"s3 key `{key}` is unknown to Serverless (ignored; it knows "
                    + ", ".join(sorted(S3_KEYS))
                    + ")",
                )
        spec = {key: item for key, item in spec.items() if key in S3_KEYS}
        if "bucket" not in spec:
            self._problem(where, "an s3 event needs `bucket`, the bucket's name", _EG)
            return None
        existing = spec.get("existing", False)
        for flag in ("existing", "forceDeploy"):
            if flag in spec and not isinstance(spec[flag], bool):
                self._problem(pointer_join(where, flag), f"s3 {flag} must be true or false", None)
                return None
        bucket_at = pointer_join(where, "bucket") if isinstance(value, dict) else where
        bucket = spec["bucket"]
        if isinstance(bucket, dict) and not existing:
            self._problem(
                bucket_at,
                "a bucket given by an intrinsic function must be marked `existing: true` "
                "(Serverless refuses it: S3_INVALID_NEW_BUCKET_FORMAT)",
                "add `existing: true`, or give the name of the bucket to create",
            )
            return None
        bucket = self.resolve(bucket, bucket_at, f"function '{self.function_key}': s3 bucket")
        if bucket is UNRESOLVED:
            return None
        if isinstance(bucket, str) and pending_in(bucket):
            self._warn(
                bucket_at,
                "an s3 bucket named by a value of the `resources:` stack is not supported by "
                "the toolkit yet (ignored; write the bucket's name)",
            )
            return None
        if isinstance(bucket, str) and not existing and bucket in self.provider_buckets:
            bucket = self._provider_bucket(bucket, bucket_at)
        if not isinstance(bucket, str) or not _BUCKET_NAME.match(bucket):
            self._problem(
                bucket_at,
                f"s3 bucket {json.dumps(bucket)} is not a valid bucket name (Serverless refuses "
                "it: S3_INVALID_BUCKET_PATTERN)",
                "3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a "
                "letter or digit",
            )
            return None
        event = spec.get("event", DEFAULT_S3_EVENT)
        if not isinstance(event, str) or not _EVENT.match(event):
            self._problem(
                pointer_join(where, "event"),
                f"s3 event {json.dumps(event)} must start with `s3:`",
                "e.g. s3:ObjectCreated:* or s3:ObjectRemoved:Delete",
            )
            return None
        rules = self._rules(spec.get("rules"), pointer_join(where, "rules"))
        if rules is None:
            return None
        if spec.get("forceDeploy"):
            self._warn(
                pointer_join(where, "forceDeploy"),
                "s3 forceDeploy changes nothing here (ignored): the toolkit compares the "
                "bucket's notifications with the file at every deploy",
            )
        loc = self.at(where)
        found = S3Event(
            bucket=bucket,
            event=event,
            rules=rules,
            existing=existing,
            location=f"{loc['file']}:{loc['line']}",
        )
        return self._checked(found, where)

    def _provider_bucket(self, key: str, at: str) -> Any:
        """The name of the bucket `provider.s3.<key>` describes, as Serverless names it: its
        `bucketName` (which Serverless passes on as BucketName), else `name`, else the key."""
        settings = self.provider_buckets[key]
        if not isinstance(settings, dict):
            return key
        others = sorted(k for k in settings if k not in ("name", "bucketName"))
        if others:
            self._warn(
                at,
                f"the settings of provider.s3.{key} ({', '.join(others)}) are not deployed by "
                "the toolkit yet (ignored: the bucket is made with S3's defaults)",
            )
        return settings.get("bucketName") or settings.get("name") or key

    def _rules(self, value: Any, at: str) -> tuple[tuple[str, str], ...] | None:
        if value is None:
            return ()
        if not isinstance(value, list):
            self._problem(at, "s3 rules must be a list", "e.g. `rules: [{prefix: uploads/}]`")
            return None
        rules: list[tuple[str, str]] = []
        for index, rule in enumerate(value):
            rule_at = pointer_join(at, index)
            if (
                not isinstance(rule, dict)
                or len(rule) != 1
                or next(iter(rule)) not in ("prefix", "suffix")
                or not isinstance(next(iter(rule.values())), str)
            ):
                self._problem(
                    rule_at,
                    "each s3 rule is one `prefix: <text>` or `suffix: <text>`",
                    "e.g. `- prefix: uploads/` then `- suffix: .jpg`",
                )
                return None
            name, text = next(iter(rule.items()))
            if any(have == name for have, _ in rules):
                self._problem(
                    rule_at,
                    f"a second `{name}` rule: S3 takes one prefix and one suffix per "
                    "notification (InvalidArgument)",
                    None,
                )
                return None
            rules.append((str(name), text))
        return tuple(rules)

    def _checked(self, event: S3Event, where: str) -> S3Event | None:
        for have in self.seen:
            if have.bucket != event.bucket:
                if have.existing and event.existing:
                    self._problem(
                        where,
                        f"only one existing S3 bucket can be configured per function (it "
                        f"names {have.bucket} and {event.bucket}; Serverless refuses it: "
                        "S3_MULTIPLE_BUCKETS_PER_FUNCTION)",
                        "give each existing bucket's events to a function of its own",
                    )
                    return None
                continue
            if have.existing != event.existing:
                self._problem(
                    where,
                    f"bucket {event.bucket} is marked `existing: true` in one s3 event of this "
                    "function and not in another",
                    "mark every s3 event on that bucket alike",
                )
                return None
            if (have.event, have.rules) == (event.event, event.rules):
                self._problem(
                    where,
                    f"a second s3 event on {event.bucket} for {event.event} with the same rules:"
                    " S3 refuses overlapping notifications (Configurations overlap)",
                    "keep one of them",
                )
                return None
        self.seen.append(event)
        return event


def shared_bucket_problems(functions: Iterable[tuple[str, tuple[S3Event, ...]]]) -> list[BadInput]:
    """Two functions notified of the same event with the same rules on one bucket: S3 refuses
    the second configuration (Configurations overlap), so the deploy would stop half-way; said
    at the second event's line instead. `functions`: (function key, its s3 events)."""
    seen: dict[tuple[str, str, tuple[tuple[str, str], ...]], str] = {}
    problems: list[BadInput] = []
    for key, events in functions:
        for event in events:
            same = (event.bucket, event.event, event.rules)
            if same in seen and seen[same] != key:
                file, _, line = event.location.rpartition(":")
                problems.append(
                    ConfigError(
                        f"function '{key}': its s3 event on {event.bucket} for {event.event} has "
                        f"the rules of function '{seen[same]}''s: S3 refuses overlapping "
                        "notifications on a bucket (Configurations overlap)",
                        file=file or None,
                        line=int(line) if line.isdigit() else None,
                        hint="give one of them another prefix or suffix, or one function both",
                    )
                )
            seen.setdefault(same, key)
    return problems
