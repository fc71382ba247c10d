"""A function's `stream` events, read as Serverless v3 reads them (lib/plugins/aws/package/
compile/events/stream.js, v3.38): `- stream: <DynamoDB or Kinesis stream ARN>` or a mapping
{arn, type, batchSize, parallelizationFactor, startingPosition, startingPositionTimestamp,
enabled, consumer, batchWindow, maximumRetryAttempts, bisectBatchOnFunctionError,
maximumRecordAgeInSeconds, functionResponseType, destinations.onFailure,
tumblingWindowInSeconds, filterPatterns}. An `arn` given as an intrinsic function needs `type`
(Serverless' schema). Serverless does not create the stream: the table or stream exists, or is
in `resources:` (`Fn::GetAtt: [Table, StreamArn]`, resolved from the stack).

What Serverless' schema or Lambda refuses is a problem at its line. `consumer` (Kinesis
enhanced fan-out) is not built: a warning at its line, and the mapping reads the stream itself.
tooling.config.function_events dispatches to it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from tooling.config.events import UNRESOLVED, Location
from tooling.config.function_messages import FunctionMessages
from tooling.config.resources import pending_in
from tooling.config.sqs_events import REPORT_BATCH_ITEM_FAILURES, Locate, Resolve
from tooling.errors import BadInput
from tooling.sourcemap import pointer_join

STREAM_KEYS = frozenset(
    {
        "arn", "type", "batchSize", "parallelizationFactor", "startingPosition",
        "startingPositionTimestamp", "enabled", "consumer", "batchWindow",
        "maximumRetryAttempts", "bisectBatchOnFunctionError", "maximumRecordAgeInSeconds",
        "functionResponseType", "destinations", "tumblingWindowInSeconds", "filterPatterns",
    }
)  # fmt: skip
STREAM_TYPES = ("dynamodb", "kinesis")
STARTING_POSITIONS = ("LATEST", "TRIM_HORIZON", "AT_TIMESTAMP")
STREAM_DEFAULT_BATCH_SIZE = 10  # Serverless' `batchSize || 10` (Lambda's own default is 100)
STREAM_DEFAULT_STARTING_POSITION = "TRIM_HORIZON"  # Serverless' default
_DYNAMODB_STREAM_ARN = re.compile(
    r"^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table/(?P<name>[A-Za-z0-9_.-]{3,255})"
    r"/stream/[^\s/]+$"
)
_KINESIS_STREAM_ARN = re.compile(
    r"^arn:aws[a-z-]*:kinesis:[a-z0-9-]+:\d{12}:stream/(?P<name>[A-Za-z0-9_.-]{1,128})$"
)
_STREAM_ARNS = {"dynamodb": _DYNAMODB_STREAM_ARN, "kinesis": _KINESIS_STREAM_ARN}
_DESTINATION_ARN = re.compile(r"^arn:aws[a-z-]*:(?P<service>sqs|sns):[a-z0-9-]+:\d{12}:[\w.-]+$")


@dataclass(frozen=True)
class StreamEvent:
    """Lambda reading a DynamoDB or Kinesis stream for the function (an event source mapping).
    None for a setting: not given (Lambda's default applies)."""

    stream_arn: str  # may hold a placeholder until the `resources:` stack is deployed
    stream_type: str  # dynamodb or kinesis
    batch_size: int = STREAM_DEFAULT_BATCH_SIZE
    starting_position: str = STREAM_DEFAULT_STARTING_POSITION
    starting_position_timestamp: float | None = None
    enabled: bool = True
    batching_window: int | None = None  # batchWindow: MaximumBatchingWindowInSeconds
    parallelization_factor: int | None = None
    maximum_retry_attempts: int | None = None
    maximum_record_age: int | None = None  # MaximumRecordAgeInSeconds
    bisect_batch_on_function_error: bool | None = None
    tumbling_window: int | None = None  # TumblingWindowInSeconds
    function_response_types: tuple[str, ...] = ()
    filter_patterns: tuple[str, ...] = ()  # each the JSON text of one FilterCriteria pattern
    on_failure: str | None = None  # destinations.onFailure: an SQS queue's or SNS topic's ARN
    on_failure_type: str | None = None  # sqs or sns
    location: Location = (None, None, None)

    @property
    def stream_name(self) -> str:
        """The table's (DynamoDB) or the stream's (Kinesis) name; the whole placeholder while
        the ARN is not known yet."""
        match = _STREAM_ARNS[self.stream_type].match(self.stream_arn)
        return match["name"] if match else self.stream_arn


@dataclass
class StreamEventReader(FunctionMessages):
    """Reads the `stream` events of one function."""

    function_key: str
    at: Locate
    resolve: Resolve
    warnings: list[str]
    problems: list[BadInput]
    seen: list[str] = field(default_factory=list)  # the streams read so far

    def read(self, value: Any, where: str) -> StreamEvent | None:
        """One `stream` event (`value` at `where`), or None when it has a problem (recorded)."""
        spec = self._arn_event(
            value, where, event="a stream event", source="stream", keys=STREAM_KEYS,
            example=_EG, intrinsic_hint=", with `type`",
        )  # fmt: skip
        if spec is None:
            return None
        kind = spec.get("type")
        if kind is not None and kind not in STREAM_TYPES:
            self._problem(
                pointer_join(where, "type"),
                f"stream type must be dynamodb or kinesis (got {json.dumps(kind)})",
                None,
            )
            return None
        arn_at = pointer_join(where, "arn")
        given = spec["arn"]
        if not isinstance(given, str) and kind is None:
            self._problem(
                arn_at,
                "a stream arn written as an intrinsic function needs `type` (dynamodb or "
                "kinesis), as Serverless requires",
                "add `type: dynamodb` (or `type: kinesis`) next to `arn:`",
            )
            return None
        arn = self.resolve(given, arn_at, f"function '{self.function_key}': stream arn")
        if arn is UNRESOLVED:
            return None
        if isinstance(arn, str) and kind is None:
            kind = arn.split(":")[2] if arn.count(":") >= 2 else None
        if (
            kind not in STREAM_TYPES
            or not isinstance(arn, str)
            or not (_STREAM_ARNS[kind].match(arn) or _stream_attribute(arn))
        ):
            what = f"a {kind} stream" if kind in STREAM_TYPES else "a DynamoDB or Kinesis stream"
            self._problem(
                arn_at,
                f"stream arn {json.dumps(arn)} is not the ARN of {what}",
                "a stream ARN, or `Fn::GetAtt: [<table in resources:>, StreamArn]` (DynamoDB) "
                "or `Fn::GetAtt: [<stream in resources:>, Arn]` (Kinesis); `Ref` of a Kinesis "
                "stream is its name, not its ARN",
            )
            return None
        if arn in self.seen:
            self._problem(
                arn_at,
                f"a second stream event on {arn} for this function: the toolkit keeps one "
                "event source mapping per stream and function",
                "keep one stream event per stream",
            )
            return None
        checks = _Checks(self, where, spec)
        batch_size = checks.number("batchSize", 1, 10_000) or STREAM_DEFAULT_BATCH_SIZE
        position = spec.get("startingPosition") or STREAM_DEFAULT_STARTING_POSITION
        if position not in STARTING_POSITIONS:
            checks.fail(
                "startingPosition",
                f"stream startingPosition must be LATEST, TRIM_HORIZON or AT_TIMESTAMP (got "
                f"{json.dumps(position)})",
            )
        timestamp = spec.get("startingPositionTimestamp")
        if timestamp is not None and (
            isinstance(timestamp, bool) or not isinstance(timestamp, int | float)
        ):
            checks.fail(
                "startingPositionTimestamp",
                "stream startingPositionTimestamp must be a number (seconds since 1970, UTC)",
            )
            timestamp = None
        if position == "AT_TIMESTAMP" and kind != "kinesis":
            checks.fail(
                "startingPosition",
                "stream startingPosition AT_TIMESTAMP is for Kinesis streams only (Lambda "
                "refuses it for a DynamoDB stream)",
            )
        elif position == "AT_TIMESTAMP" and timestamp is None:
            checks.fail(
                "startingPosition",
                "stream startingPosition AT_TIMESTAMP needs startingPositionTimestamp (Lambda "
                "refuses the mapping without it)",
            )
        enabled = checks.boolean("enabled", True)
        bisect = checks.boolean("bisectBatchOnFunctionError", None)
        window = checks.number("batchWindow", 0, 300)
        factor = checks.number("parallelizationFactor", 1, 10)
        retries = checks.number("maximumRetryAttempts", -1, 10_000)
        age = checks.number("maximumRecordAgeInSeconds", -1, 604_800)
        if age is not None and 0 <= age < 60:
            checks.fail(
                "maximumRecordAgeInSeconds",
                f"stream maximumRecordAgeInSeconds must be -1 or from 60 to 604800 (got {age})",
            )
        tumbling = checks.number("tumblingWindowInSeconds", 0, 900)
        response = spec.get("functionResponseType")
        if response is not None and response != REPORT_BATCH_ITEM_FAILURES:
            checks.fail(
                "functionResponseType",
                f"stream functionResponseType must be {REPORT_BATCH_ITEM_FAILURES} (got "
                f"{json.dumps(response)})",
            )
        patterns = self._filter_patterns(spec.get("filterPatterns"), where, checks)
        on_failure = self._on_failure(spec.get("destinations"), where, checks)
        if spec.get("consumer") is not None:
            consumer = spec["consumer"]
            if consumer is not True and not (
                isinstance(consumer, str) and consumer.startswith("arn:")
            ):
                checks.fail("consumer", "stream consumer must be true or a consumer's ARN")
            elif kind == "kinesis":
                self._warn(
                    pointer_join(where, "consumer"),
                    "stream consumer (Kinesis enhanced fan-out) is not supported by the "
                    "toolkit yet: the event source mapping reads the stream itself, sharing "
                    "its read throughput",
                )
        if not checks.ok:
            return None
        self.seen.append(arn)
        return StreamEvent(
            stream_arn=arn,
            stream_type=kind,
            batch_size=batch_size,
            starting_position=position,
            starting_position_timestamp=float(timestamp) if timestamp is not None else None,
            enabled=bool(enabled),
            batching_window=window,
            parallelization_factor=factor,
            maximum_retry_attempts=retries,
            maximum_record_age=age,
            bisect_batch_on_function_error=bisect,
            tumbling_window=tumbling,
            function_response_types=(response,) if response else (),
            filter_patterns=patterns,
            on_failure=on_failure[0] if on_failure else None,
            on_failure_type=on_failure[1] if on_failure else None,
            location=self._location(where),
        )

    def _filter_patterns(self, value: Any, where: str, checks: _Checks) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(p, dict) for p in value):
            checks.fail(
                "filterPatterns",
                "stream filterPatterns must be a list of event patterns (mappings)",
                "e.g. `filterPatterns: [{eventName: [INSERT]}]`",
            )
            return ()
        return tuple(json.dumps(pattern, separators=(",", ":")) for pattern in value)

    def _on_failure(self, value: Any, where: str, checks: _Checks) -> tuple[str, str] | None:
        """destinations.onFailure: (ARN, sqs or sns), or None (none given, or a problem)."""
        if value is None:
            return None
        at = pointer_join(where, "destinations")
        if not isinstance(value, dict) or set(value) != {"onFailure"}:
            checks.fail(
                "destinations",
                "stream destinations must be a mapping with only `onFailure`",
                "e.g. `destinations: {onFailure: arn:aws:sqs:us-east-1:123456789012:failed}`",
            )
            return None
        target = value["onFailure"]
        spec = {"arn": target} if isinstance(target, str) else target
        at = pointer_join(at, "onFailure")
        if not isinstance(spec, dict) or "arn" not in spec or set(spec) - {"arn", "type"}:
            checks.fail_at(
                at,
                "stream destinations.onFailure is an ARN or a mapping of `arn` and `type`",
                "e.g. `onFailure: {arn: !GetAtt Failed.Arn, type: sqs}`",
            )
            return None
        kind = spec.get("type")
        if kind is not None and kind not in ("sqs", "sns"):
            checks.fail_at(pointer_join(at, "type"), "onFailure type must be sqs or sns")
            return None
        if not isinstance(spec["arn"], str) and kind is None:
            checks.fail_at(
                pointer_join(at, "arn"),
                "an onFailure arn written as an intrinsic function needs `type` (sqs or sns), "
                "as Serverless requires",
            )
            return None
        arn = self.resolve(
            spec["arn"], pointer_join(at, "arn"), f"function '{self.function_key}': onFailure"
        )
        if arn is UNRESOLVED:
            checks.ok = False
            return None
        match = _DESTINATION_ARN.match(arn) if isinstance(arn, str) else None
        if not (match or (isinstance(arn, str) and pending_in(arn))):
            checks.fail_at(
                pointer_join(at, "arn") if isinstance(target, dict) else at,
                f"onFailure {json.dumps(arn)} is not the ARN of an SQS queue or an SNS topic",
            )
            return None
        return arn, kind or (match["service"] if match else "sqs")

    def _location(self, pointer: str) -> Location:
        kw = self.at(pointer)
        return kw["file"], kw["line"], kw["column"]


def _stream_attribute(value: str) -> bool:
    """`value` is the placeholder of an attribute of a `resources:` entry (a Ref, the name of
    a table or a stream, is not an ARN)."""
    pending = pending_in(value)
    return len(pending) == 1 and value == value.strip() and "." in pending[0]


@dataclass
class _Checks:
    """The settings of one event, each checked at its own line; `ok` turns False at the first
    problem (all are recorded)."""

    reader: StreamEventReader
    where: str
    spec: dict[str, Any]
    ok: bool = True

    def fail(self, key: str, message: str, hint: str | None = None) -> None:
        self.fail_at(pointer_join(self.where, key), message, hint)

    def fail_at(self, pointer: str, message: str, hint: str | None = None) -> None:
        self.reader._problem(pointer, message, hint)
        self.ok = False

    def number(self, key: str, low: int, high: int) -> int | None:
        value = self.spec.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.fail(
                key, f"stream {key} must be a whole number from {low} to {high} (got "
                f"{json.dumps(value)})",
            )  # fmt: skip
            return None
        return value

    def boolean(self, key: str, default: bool | None) -> bool | None:
        value = self.spec.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.fail(key, f"stream {key} must be true or false")
            return default
        return value


_EG = "e.g. `- stream: {type: dynamodb, arn: !GetAtt Table.StreamArn, batchSize: 100}`"
