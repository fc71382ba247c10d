"""What the engine needs from the outside world: time, Lambda invocations, the AWS service
integrations the runtime provides, task tokens for the callback pattern (.waitForTaskToken) and a
history sink.

The engine imports no boto3, no SQLite and no CLI; a backend hands it these.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


class Clock(Protocol):
    """Time as the execution sees it, and the workers of its Parallel and Map states
    (tooling.engine.clock: the system's clock, or a virtual one)."""

    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait (for real, or by advancing a virtual clock)."""
        ...

    def sleep_unless(self, seconds: float, stop: threading.Event) -> None:
        """Sleep, but wake as soon as `stop` is set (a branch whose sibling failed)."""
        ...

    def run_workers(self, worker: Callable[[], None], count: int) -> None:
        """Run `count` copies of `worker` side by side; return when all have ended."""
        ...


@dataclass(frozen=True)
class LambdaResponse:
    """Lambda Invoke's answer: the payload text, and X-Amz-Function-Error when it failed."""

    payload: str
    function_error: str | None = None  # "Unhandled" when the function raised, timed out or crashed
    executed_version: str = "$LATEST"
    request_id: str = ""


class TaskTimedOut(Exception):
    """The Task state's TimeoutSeconds passed before the function answered (States.Timeout)."""


class LambdaInvoker(Protocol):
    def invoke(
        self, function: str, payload: str, *, timeout_seconds: float | None = None
    ) -> LambdaResponse:
        """Invoke `function` (name, partial ARN or ARN, as written in the definition).

        Raises StatesError for service errors (e.g. Lambda.ResourceNotFoundException) and
        TaskTimedOut when `timeout_seconds` (the Task's TimeoutSeconds) passes first.
        """
        ...

    def invoke_event(self, function: str, payload: str) -> LambdaResponse:
        """Invoke `function` asynchronously (InvocationType Event): queue the call and answer
        at once, with the request id and no payload; the function runs on its own.

        Raises StatesError for service errors (e.g. Lambda.ResourceNotFoundException)."""
        ...


class IntegrationCatalog(Protocol):
    def supports(self, resource_type: str, action: str) -> bool:
        """Whether the runtime runs `arn:aws:states:::<resource_type>:<action>` itself, e.g.
        ("sqs", "sendMessage"). The parser asks with the pattern too ("sendMessage.waitFor-
        TaskToken", "startExecution.sync"); for `.waitForTaskToken` the runtime sends the
        request and the engine adds the callback wait."""
        ...


@dataclass(frozen=True)
class JobOutcome:
    """How the job a `.sync` Task started ended: its result, or the error and cause the Task
    fails with."""

    result: Any = None
    error: str | None = None
    cause: str | None = None


class ServiceIntegrations(IntegrationCatalog, Protocol):
    """AWS service integrations the runtime provides, beside Lambda: request-response, and for
    the integrations whose catalog supports `<action>.sync` (e.g. ("states",
    "startExecution.sync:2")), the Run a Job pattern."""

    # How often the engine asks job_outcome, measured on the execution's clock.
    poll_seconds: float

    def call(self, resource_type: str, action: str, parameters: Any) -> Any:
        """Call the service with the Task's parameters; its response is the task result (with
        `.sync`, what TaskSubmitted records).

        Raises StatesError named as Step Functions names the service's errors (e.g.
        SQS.AmazonSQSException) and StateRuntimeError for parameters it cannot send at all.
        """
        ...

    def job_outcome(self, resource_type: str, action: str, submitted: Any) -> JobOutcome | None:
        """`.sync`: how the job that `call` answered `submitted` for has ended, or None while
        it runs. `action` carries the pattern, e.g. "startExecution.sync:2"."""
        ...


class HistorySink(Protocol):
    def append(self, event: dict[str, Any]) -> None:
        """Record one history event, shaped as in GetExecutionHistory (timestamp as datetime)."""
        ...


@dataclass(frozen=True)
class CallbackOutcome:
    """How a task token was answered: SendTaskSuccess (output) or SendTaskFailure (error, cause)."""

    output: str | None = None  # SendTaskSuccess's output, JSON text
    failed: bool = False
    error: str | None = None
    cause: str | None = None


@dataclass(frozen=True)
class CallbackStatus:
    """A pending token as seen now: its answer (None: none yet) and how many heartbeats came."""

    outcome: CallbackOutcome | None
    heartbeats: int = 0


class TaskCallbacks(Protocol):
    """Task tokens of the callback pattern, answered from outside the execution.

    The engine issues a token per attempt, polls it every `poll_seconds` on its own Clock (so
    deadlines measured on a VirtualClock cost no real time) and closes it when the attempt ends,
    after which answers for it are refused as AWS refuses them (TaskTimedOut).
    """

    poll_seconds: float

    def issue(self, execution_arn: str, state_name: str) -> str:
        """A new pending token for one attempt of the Task state `state_name`."""
        ...

    def status(self, token: str) -> CallbackStatus:
        """The token's answer so far and its heartbeat count."""
        ...

    def close(self, token: str) -> None:
        """The attempt ended (answered, timed out, stopped): the token is no longer pending."""
        ...

    def schedule_activity(self, token: str, activity_arn: str, input_text: str) -> None:
        """Offer the attempt holding `token` to the workers of the activity (GetActivityTask);
        doing it again for the same token changes nothing (a resumed attempt)."""
        ...

    def activity_worker(self, token: str) -> str | None:
        """The workerName of the GetActivityTask that took the attempt ("" when it gave none);
        None while no worker has taken it."""
        ...


@dataclass(frozen=True)
class WaitNotice:
    """The run is about to sleep: a Wait state, or the interval before a Retry. Told to the
    runtime (`on_wait`) so a person watching knows what the silence is and when it ends."""

    state: str
    kind: str  # "Wait" or "Retry"
    seconds: float
    until: datetime  # on the execution's clock
    error: str | None = None  # Retry: the error being retried
    retry: int = 0  # Retry: which retry this is (1-based) ...
    max_attempts: int = 0  # ... of the retrier's MaxAttempts
