"""The callback pattern (`<integration>.waitForTaskToken`) for any integration: submit the request
(TaskSubmitted holds the service's answer), then wait for SendTaskSuccess/Failure on the task token
within TimeoutSeconds (counted from TaskStarted) and HeartbeatSeconds (counted from TaskSubmitted
and reset by each heartbeat; that starting point is not confirmed). Event shapes as in
LocalStack's AWS recordings (test_heartbeats, test_callback, test_sqs_failure_in_wait_for_task_tok).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tooling.engine import jsontext
from tooling.engine.errors import (
    HEARTBEAT_TIMEOUT,
    TIMEOUT,
    HeartbeatTimedOut,
    StateRuntimeError,
    StatesError,
)
from tooling.engine.history import NOT_RECORDED, HistoryRecorder
from tooling.engine.mocks import MockedAnswer
from tooling.engine.ports import CallbackOutcome, Clock, TaskCallbacks, TaskTimedOut
from tooling.engine.task_events import (
    record_failed,
    record_output,
    record_scheduled_and_started,
)


@dataclass(frozen=True)
class CallbackWait:
    """What one attempt of a .waitForTaskToken Task waits with."""

    token: str
    heartbeat: int | None  # HeartbeatSeconds, resolved
    callbacks: TaskCallbacks
    sleep: Callable[[float], None]  # the execution's sleep (its own deadline, branch stops)
    mocked: MockedAnswer | None = None  # a mock answers as the callback would


def run_callback_task(
    ids: dict[str, str],
    parameters: Any,
    timeout: int | None,
    wait: CallbackWait,
    submit: Callable[[], Any],
    *,
    history: HistoryRecorder,
    clock: Clock,
    region: str,
) -> Any:
    """One attempt: TaskScheduled, TaskStarted, `submit()` (the request; its answer goes into
    TaskSubmitted), then the wait; the callback's output is the task result.

    `submit` raises StatesError when the service refuses the request (recorded as TaskFailed),
    TaskTimedOut when TimeoutSeconds passes during it, and StateRuntimeError for parameters it
    cannot send (no Task event: the execution fails with States.Runtime).
    """
    record_scheduled_and_started(
        history,
        ids,
        parameters,
        region=region,
        timeout=timeout,
        heartbeat=wait.heartbeat,
        token=wait.token,
    )
    # TimeoutSeconds counts from TaskStarted (its recorded time on a resumed run).
    started = history.last_time or clock.now()
    deadline = started + timedelta(seconds=timeout) if timeout is not None else None
    # A resumed attempt whose request was sent before the crash does not send it again.
    if history.replayed_output("TaskSubmitted") is NOT_RECORDED:
        try:
            submitted = submit()
        except StateRuntimeError:
            raise
        except TaskTimedOut:
            history.add("TaskTimedOut", "taskTimedOutEventDetails", {**ids, "error": TIMEOUT})
            raise StatesError(TIMEOUT) from None
        except StatesError as exc:
            record_failed(history, ids, exc)
            raise
        record_output(history, "TaskSubmitted", ids, submitted)
    try:
        outcome = (
            mocked_outcome(wait.mocked)
            if wait.mocked is not None
            else await_callback(wait, clock, deadline)
        )
    except StatesError as exc:
        history.add(
            "TaskTimedOut",
            "taskTimedOutEventDetails",
            {**ids, "error": TIMEOUT},
            heartbeat=isinstance(exc, HeartbeatTimedOut),
        )
        raise exc from None
    if outcome.failed:
        # SendTaskFailure's error and cause, each only when given.
        given = (("error", outcome.error), ("cause", outcome.cause))
        details = {key: value for key, value in given if value is not None}
        history.add("TaskFailed", "taskFailedEventDetails", {**ids, **details})
        raise StatesError(outcome.error, outcome.cause)
    result = json.loads(outcome.output or "null")
    record_output(history, "TaskSucceeded", ids, result)
    return result


def mocked_outcome(answer: MockedAnswer) -> CallbackOutcome:
    if answer.error == HEARTBEAT_TIMEOUT:
        raise HeartbeatTimedOut()
    if answer.error == TIMEOUT:
        raise StatesError(TIMEOUT)
    if answer.error is not None:
        return CallbackOutcome(failed=True, error=answer.error, cause=answer.cause)
    return CallbackOutcome(output=jsontext.dumps(answer.returns))


def await_callback(wait: CallbackWait, clock: Clock, deadline: datetime | None) -> CallbackOutcome:
    """Poll the token on the clock until it is answered or a deadline passes."""
    heartbeat = timedelta(seconds=wait.heartbeat) if wait.heartbeat is not None else None
    beats = wait.callbacks.status(wait.token).heartbeats
    beat_deadline = clock.now() + heartbeat if heartbeat is not None else None
    while True:
        status = wait.callbacks.status(wait.token)
        if status.outcome is not None:
            return status.outcome
        now = clock.now()
        if heartbeat is not None and status.heartbeats != beats:
            beats = status.heartbeats
            beat_deadline = now + heartbeat
        if deadline is not None and now >= deadline:
            raise StatesError(TIMEOUT)
        if beat_deadline is not None and now >= beat_deadline:
            raise HeartbeatTimedOut()
        step = wait.callbacks.poll_seconds
        for limit in (deadline, beat_deadline):
            if limit is not None:
                step = min(step, (limit - now).total_seconds())
        wait.sleep(step)
