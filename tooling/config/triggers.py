"""`stepFunctions.stateMachines.<key>.events: - sqs: {...}`: the toolkit's SQS trigger.

Upstream serverless-step-functions compiles only http/schedule/cloudwatchEvent/eventBridge events
and silently ignores an `sqs` entry; this toolkit turns it into a queue (+ dead-letter queue) whose
messages each start exactly one execution. Other event types are left to whoever reads them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tooling.errors import ConfigError, Where
from tooling.sourcemap import pointer_join

# Lambda event source mapping for SQS (docs "Lambda parameters for Amazon SQS event source
# mappings"): BatchSize default 10, max 10,000 for standard queues; MaximumBatchingWindowInSeconds
# default 0, max 300; a BatchSize above 10 needs a batching window of at least 1 second.
DEFAULT_BATCH_SIZE = 10
MAX_BATCH_SIZE = 10_000
MAX_BATCHING_WINDOW = 300
# SQS queue attributes: VisibilityTimeout 0-43,200 s; RedrivePolicy maxReceiveCount 1-1,000.
MAX_VISIBILITY_TIMEOUT = 43_200
MAX_RECEIVE_COUNT = 1_000
DEFAULT_MAX_RECEIVE_COUNT = 5
# The trigger function's own timeout. Lambda refuses a mapping whose function timeout exceeds the
# queue's visibility timeout, and AWS advises a visibility timeout of 6x the function timeout.
TRIGGER_FUNCTION_TIMEOUT = 10
DEFAULT_VISIBILITY_TIMEOUT = 6 * TRIGGER_FUNCTION_TIMEOUT
DEAD_LETTER_SUFFIX = "-dlq"

SQS_KEYS = frozenset(
    {"queue", "arn", "batchSize", "maximumBatchingWindow", "visibilityTimeout", "maxReceiveCount"}
)
# SQS CreateQueue QueueName: 1-80 alphanumerics, hyphens, underscores (".fifo" for FIFO queues).
_QUEUE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_QUEUE_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):sqs:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"(?P<name>[A-Za-z0-9_.-]{1,80})$"
)


@dataclass(frozen=True)
class SqsTrigger:
    """One SQS queue whose messages start executions of one state machine."""

    queue_name: str
    queue_arn: str
    managed: bool  # True: `queue:` (the toolkit creates it and its DLQ); False: `arn:` (exists)
    dead_letter_queue_name: str | None  # managed queues only
    dead_letter_queue_arn: str | None
    batch_size: int = DEFAULT_BATCH_SIZE
    maximum_batching_window: int = 0
    visibility_timeout: int = DEFAULT_VISIBILITY_TIMEOUT
    max_receive_count: int = DEFAULT_MAX_RECEIVE_COUNT


Locate = Callable[[str], Where]
_HINTS = {
    "visibilityTimeout": f"the trigger function may run {TRIGGER_FUNCTION_TIMEOUT} s and Lambda "
    "needs the visibility timeout at least that long (AWS advises 6 times as long)",
    "batchSize": "Lambda takes 1 to 10,000 messages per batch from a standard queue",
    "maxReceiveCount": "SQS redrive policies allow 1 to 1,000 receives",
}


def parse_sqs_triggers(
    events: Any,
    pointer: str,
    *,
    machine_key: str,
    region: str,
    account_id: str,
    partition: str,
    at: Locate,
) -> tuple[SqsTrigger, ...]:
    """The `sqs` entries of a state machine's `events` list; other entries are not looked at.

    `pointer` is the JSON pointer of `events`; `at(pointer)` gives file/line/column kwargs."""
    if events is None:
        return ()
    if not isinstance(events, list):
        raise ConfigError(
            f"state machine '{machine_key}': events must be a list",
            **at(pointer),
            hint="write `events:` followed by `- sqs: {queue: my-queue}` items",
        )
    triggers: list[SqsTrigger] = []
    for index, event in enumerate(events):
        if not isinstance(event, dict) or "sqs" not in event:
            continue  # http, schedule, eventBridge...: compiled (or ignored) elsewhere
        where = pointer_join(pointer_join(pointer, index), "sqs")
        spec = event["sqs"]
        if isinstance(spec, str):  # `- sqs: arn:aws:sqs:...`, as Serverless functions allow
            spec = {"arn": spec}
        if not isinstance(spec, dict):
            raise ConfigError(
                f"state machine '{machine_key}': an sqs event must be a mapping",
                **at(where),
                hint="e.g. `- sqs: {queue: my-queue, batchSize: 10}`",
            )
        triggers.append(
            _parse_one(
                spec,
                where,
                machine_key=machine_key,
                region=region,
                account_id=account_id,
                partition=partition,
                at=at,
            )
        )
    return tuple(triggers)


def _parse_one(
    spec: dict[str, Any],
    where: str,
    *,
    machine_key: str,
    region: str,
    account_id: str,
    partition: str,
    at: Locate,
) -> SqsTrigger:
    what = f"state machine '{machine_key}': sqs event"
    for key in spec:
        if key not in SQS_KEYS:
            raise ConfigError(
                f"{what}: unknown key '{key}'",
                **at(pointer_join(where, key)),
                hint="allowed: " + ", ".join(sorted(SQS_KEYS)),
            )
    has_queue, has_arn = "queue" in spec, "arn" in spec
    if has_queue == has_arn:
        raise ConfigError(
            f"{what} needs exactly one of `queue` (a queue the toolkit creates) or `arn` "
            "(an existing queue)",
            **at(where),
            hint="e.g. `queue: ${self:service}-${sls:stage}-trigger`",
        )

    def number(key: str, default: int, low: int, high: int) -> int:
        if key not in spec:
            return default
        value = spec[key]
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ConfigError(
                f"{what}: {key} must be a whole number from {low} to {high} (got {value!r})",
                **at(pointer_join(where, key)),
                hint=_HINTS.get(key),
            )
        return value

    batch_size = number("batchSize", DEFAULT_BATCH_SIZE, 1, MAX_BATCH_SIZE)
    window = number("maximumBatchingWindow", 0, 0, MAX_BATCHING_WINDOW)
    if batch_size > 10 and window < 1:
        raise ConfigError(
            f"{what}: batchSize {batch_size} is above 10, which Lambda allows only with a "
            "batching window",
            **at(pointer_join(where, "batchSize")),
            hint="add `maximumBatchingWindow: 1` (seconds) or use batchSize 10 or less",
        )
    if has_arn:
        for key in ("visibilityTimeout", "maxReceiveCount"):
            if key in spec:
                raise ConfigError(
                    f"{what}: {key} applies only to a queue the toolkit creates (`queue:`); "
                    "an existing queue (`arn:`) keeps its own settings",
                    **at(pointer_join(where, key)),
                    hint="set it on the queue itself, or use `queue: NAME` instead of `arn`",
                )
        arn = spec["arn"]
        match = _QUEUE_ARN.match(arn) if isinstance(arn, str) else None
        if match is None:
            raise ConfigError(
                f"{what}: arn {arn!r} is not an SQS queue ARN",
                **at(pointer_join(where, "arn")),
                hint="arn:aws:sqs:<region>:<account-id>:<queue-name>",
            )
        _refuse_fifo(match["name"], what, at(pointer_join(where, "arn")))
        return SqsTrigger(
            queue_name=match["name"],
            queue_arn=arn,
            managed=False,
            dead_letter_queue_name=None,
            dead_letter_queue_arn=None,
            batch_size=batch_size,
            maximum_batching_window=window,
        )
    name = spec["queue"]
    if not isinstance(name, str) or not _QUEUE_NAME.match(name.removesuffix(".fifo")):
        raise ConfigError(
            f"{what}: queue {name!r} is not a valid SQS queue name",
            **at(pointer_join(where, "queue")),
            hint="use 1-80 letters, digits, '-' or '_'",
        )
    _refuse_fifo(name, what, at(pointer_join(where, "queue")))
    if len(name) + len(DEAD_LETTER_SUFFIX) > 80:
        raise ConfigError(
            f"{what}: queue name {name!r} is too long to add '{DEAD_LETTER_SUFFIX}' for its "
            "dead-letter queue (SQS allows 80 characters)",
            **at(pointer_join(where, "queue")),
            hint=f"use at most {80 - len(DEAD_LETTER_SUFFIX)} characters",
        )
    visibility = number(
        "visibilityTimeout", DEFAULT_VISIBILITY_TIMEOUT, TRIGGER_FUNCTION_TIMEOUT,
        MAX_VISIBILITY_TIMEOUT,
    )  # fmt: skip
    dead_letter = name + DEAD_LETTER_SUFFIX
    prefix = f"arn:{partition}:sqs:{region}:{account_id}:"
    return SqsTrigger(
        queue_name=name,
        queue_arn=prefix + name,
        managed=True,
        dead_letter_queue_name=dead_letter,
        dead_letter_queue_arn=prefix + dead_letter,
        batch_size=batch_size,
        maximum_batching_window=window,
        visibility_timeout=visibility,
        max_receive_count=number(
            "maxReceiveCount", DEFAULT_MAX_RECEIVE_COUNT, 1, MAX_RECEIVE_COUNT
        ),
    )


def _refuse_fifo(name: str, what: str, location: Where) -> None:
    # FIFO queues need a FIFO dead-letter queue and stop at the first failure in a batch; the
    # trigger does not implement that ordering contract (yet).
    if name.endswith(".fifo"):
        raise ConfigError(
            f"{what}: FIFO queues ({name}) are not supported as triggers",
            **location,
            hint="use a standard queue; executions are deduplicated by message id anyway",
        )
