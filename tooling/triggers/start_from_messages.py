"""Start exactly one execution per SQS message: the execution name is the message id, the input
is the message body.

Every trigger uses this one function: the local worker, `tool worker --target aws`, and the Lambda
trigger function. It imports nothing but the standard library, because it is shipped inside that
Lambda function on its own.

Why this is exactly-once per message (notes 2.4, API reference StartExecution): a STANDARD
execution name is unique per state machine for 90 days. A redelivered message carries the same
message id, so its StartExecution either succeeds idempotently (same name and input, first run
still RUNNING) or fails with ExecutionAlreadyExists (first run closed, or another input); we then
DescribeExecution that name and call it done when the input is the same. A message is deleted
from the queue only after that, so a crash in between just means one more (harmless) delivery.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

MAX_INPUT_BYTES = 262_144  # StartExecution `input`: at most 256 KiB of UTF-8
# StartExecution `name`: 1-80 characters; we accept the safe subset (an SQS message id is a UUID).
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")

# botocore's standard retry mode treats these codes as throttling (botocore/retries/standard.py).
THROTTLING_CODES = frozenset(
    {
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
        "TooManyRequestsException", "RequestLimitExceeded", "RequestThrottled", "SlowDown",
    }
)  # fmt: skip
# Worth retrying at once too: server-side and timeout errors (botocore's transient codes and 5xx
# names). ExecutionDoesNotExist right after ExecutionAlreadyExists: DescribeExecution is
# eventually consistent.
TRANSIENT_CODES = frozenset(
    {
        "ServiceUnavailable", "InternalFailure", "InternalServerError", "InternalError",
        "RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete",
        "ExecutionDoesNotExist",
    }
)  # fmt: skip
# The message itself can never start an execution: retrying will not help.
REJECTING_CODES = frozenset({"InvalidExecutionInput", "InvalidName"})
ALREADY_EXISTS = "ExecutionAlreadyExists"


class Starter(Protocol):
    """What the function needs from a target, in boto3's response shapes. Errors must carry an
    AWS error code: botocore's `ClientError.response["Error"]["Code"]`, a `StartError`, or
    either of them as the `__cause__` of what is raised."""

    def start_execution(self, state_machine_arn: str, name: str, input: str) -> Mapping[str, Any]:
        """{"executionArn", "startDate"}"""
        ...

    def describe_execution(self, execution_arn: str) -> Mapping[str, Any]:
        """{"executionArn", "status", "input", ...}"""
        ...


class StartError(Exception):
    """An error with an AWS error code, raised by adapters that do not use botocore."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of `exc` or of an exception it was raised from."""
    seen: BaseException | None = exc
    while seen is not None:
        code = getattr(seen, "code", None)
        if isinstance(code, str):
            return code
        response = getattr(seen, "response", None)
        if isinstance(response, dict):
            code = response.get("Error", {}).get("Code")
            if isinstance(code, str):
                return code
        seen = seen.__cause__
    return None


@dataclass(frozen=True)
class QueueMessage:
    message_id: str
    body: str
    receive_count: int = 1

    @classmethod
    def from_lambda_record(cls, record: Mapping[str, Any]) -> QueueMessage:
        """A record of the SQS event Lambda gives the function."""
        count = record.get("attributes", {}).get("ApproximateReceiveCount", "1")
        return cls(str(record["messageId"]), str(record.get("body", "")), int(count))

    @classmethod
    def from_sqs_message(cls, message: Mapping[str, Any]) -> QueueMessage:
        """A message as sqs.receive_message returns it."""
        count = message.get("Attributes", {}).get("ApproximateReceiveCount", "1")
        return cls(str(message["MessageId"]), str(message.get("Body", "")), int(count))


class Outcome(StrEnum):
    STARTED = "started"  # this call started the execution
    ALREADY_STARTED = "already-started"  # a delivery before this one started it
    REJECTED = "rejected"  # the message can never start an execution (bad body, name clash)
    FAILED = "failed"  # could not start it now (throttled, target down): deliver again later

    @property
    def ok(self) -> bool:
        return self in (Outcome.STARTED, Outcome.ALREADY_STARTED)

    @property
    def json_key(self) -> str:
        """The outcome as a key of `tool worker --json` (camelCase, like the other keys)."""
        first, *rest = self.value.split("-")
        return first + "".join(word.title() for word in rest)


@dataclass(frozen=True)
class MessageResult:
    message_id: str
    outcome: Outcome
    execution_arn: str | None = None
    reason: str | None = None  # why it was rejected or failed, for logs and the dead-letter queue

    def log_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {"messageId": self.message_id, "outcome": self.outcome.value}
        if self.execution_arn:
            record["executionArn"] = self.execution_arn
        if self.reason:
            record["reason"] = self.reason
        return record


@dataclass(frozen=True)
class BatchResult:
    results: tuple[MessageResult, ...]

    def batch_item_failures(self) -> list[dict[str, str]]:
        """Lambda's partial batch response items: each message that must be delivered again."""
        return [{"itemIdentifier": r.message_id} for r in self.results if not r.outcome.ok]

    def lambda_response(self) -> dict[str, Any]:
        return {"batchItemFailures": self.batch_item_failures()}

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome is outcome)


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter for throttled and transient errors."""

    attempts: int = 6
    base_seconds: float = 0.1
    cap_seconds: float = 5.0

    def delay(self, retry: int, draw: float) -> float:
        return min(self.cap_seconds, self.base_seconds * 2.0**retry) * draw


def check_body(body: str) -> str | None:
    """Why `body` cannot be an execution input, or None when it can."""
    size = len(body.encode("utf-8"))
    if size > MAX_INPUT_BYTES:
        return f"the body is {size} bytes; Step Functions accepts at most {MAX_INPUT_BYTES}"
    try:
        json.loads(body, parse_constant=_refuse_constant)
    except ValueError as exc:  # JSONDecodeError, or NaN/Infinity, which JSON does not have
        return f"the body is not a JSON document ({exc})"
    except RecursionError:
        return "the body nests too deeply to be read as a JSON document"
    return None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def execution_arn_for(state_machine_arn: str, name: str) -> str:
    # arn:<part>:states:<region>:<acct>:stateMachine:<sm> -> ...:execution:<sm>:<name>
    prefix, _, machine = state_machine_arn.rpartition(":stateMachine:")
    return f"{prefix}:execution:{machine}:{name}"


def start_from_messages(
    starter: Starter,
    state_machine_arn: str,
    messages: Iterable[QueueMessage],
    *,
    sleep: Callable[[float], None] = time.sleep,
    backoff: Backoff = Backoff(),  # noqa: B008 - frozen, so one shared default is fine
    draw: Callable[[], float] = random.random,
    on_result: Callable[[MessageResult], None] | None = None,
) -> BatchResult:
    """Start one execution per message; each message succeeds or fails on its own (an
    unexpected error fails that message alone: it is delivered again, and dead-lettered after
    maxReceiveCount receives)."""
    results = []
    for message in messages:
        try:
            result = _start_one(starter, state_machine_arn, message, sleep, backoff, draw)
        except Exception as exc:  # noqa: BLE001 - one message must not sink the batch
            reason = f"unexpected error: {type(exc).__name__}: {exc}"
            result = MessageResult(message.message_id, Outcome.FAILED, reason=reason)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return BatchResult(tuple(results))


def _start_one(
    starter: Starter,
    state_machine_arn: str,
    message: QueueMessage,
    sleep: Callable[[float], None],
    backoff: Backoff,
    draw: Callable[[], float],
) -> MessageResult:
    name = message.message_id
    if not _SAFE_NAME.match(name):
        return MessageResult(
            name, Outcome.REJECTED, reason=f"message id {name!r} is not a usable execution name"
        )
    problem = check_body(message.body)
    if problem:
        return MessageResult(name, Outcome.REJECTED, reason=problem)
    arn = execution_arn_for(state_machine_arn, name)

    def start() -> MessageResult:
        started = starter.start_execution(state_machine_arn, name, message.body)
        # The local target says when the start was the idempotent answer for a running
        # execution (AWS does not: there, a redelivery may count as started again).
        outcome = Outcome.ALREADY_STARTED if started.get("alreadyRunning") else Outcome.STARTED
        return MessageResult(name, outcome, str(started.get("executionArn", arn)))

    def look_up() -> MessageResult:
        existing = starter.describe_execution(arn)
        if "input" not in existing:
            # AWS leaves the input out when it cannot return it (inputDetails.included false):
            # the name is taken, so a second run is impossible either way.
            return MessageResult(name, Outcome.ALREADY_STARTED, arn)
        if _same_input(existing["input"], message.body):
            return MessageResult(name, Outcome.ALREADY_STARTED, arn)
        return MessageResult(
            name,
            Outcome.REJECTED,
            arn,
            reason=f"an execution named {name} already exists with a different input",
        )

    try:
        return _with_retries(start, backoff, sleep, draw)
    except _GiveUp as stop:
        if stop.code != ALREADY_EXISTS:
            return stop.result(name)
    try:
        return _with_retries(look_up, backoff, sleep, draw)
    except _GiveUp as stop:
        return stop.result(name)


class _GiveUp(Exception):
    def __init__(self, code: str | None, exc: BaseException, retryable: bool) -> None:
        super().__init__(str(exc))
        self.code = code
        self.exc = exc
        self.retryable = retryable

    def result(self, name: str) -> MessageResult:
        outcome = Outcome.REJECTED if self.code in REJECTING_CODES else Outcome.FAILED
        reason = f"{type(self.exc).__name__}: {self.exc}"
        if self.retryable:
            reason = f"still failing after retries: {reason}"
        return MessageResult(name, outcome, reason=reason)


def _with_retries(
    call: Callable[[], MessageResult],
    backoff: Backoff,
    sleep: Callable[[float], None],
    draw: Callable[[], float],
) -> MessageResult:
    for retry in range(backoff.attempts):
        try:
            return call()
        except Exception as exc:
            code = error_code(exc)
            retryable = code in THROTTLING_CODES or code in TRANSIENT_CODES
            if not retryable or retry == backoff.attempts - 1:
                raise _GiveUp(code, exc, retryable) from exc
            sleep(backoff.delay(retry, draw()))
    raise AssertionError("unreachable: Backoff.attempts must be at least 1")


def _same_input(stored: str, body: str) -> bool:
    if stored == body:
        return True
    try:  # the target may store an equivalent re-serialisation of the same document
        return bool(json.loads(stored) == json.loads(body))
    except (ValueError, RecursionError):
        return False
