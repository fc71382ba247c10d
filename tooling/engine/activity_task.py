"""A Task whose Resource is an activity ARN: the attempt waits for a worker to take it
(GetActivityTask), then for that worker's SendTaskSuccess/Failure on the task token.

Events, as the Step Functions API names them (HistoryEvent): ActivityScheduled (resource, input,
timeoutInSeconds, heartbeatInSeconds), ActivityStarted (workerName) when a worker takes it, then
ActivitySucceeded (output), ActivityFailed (error, cause) or ActivityTimedOut. TimeoutSeconds
counts from ActivityScheduled, so an attempt no worker takes times out too; HeartbeatSeconds
from ActivityStarted and each heartbeat. Neither starting point nor the timed-out event's error
for a missed heartbeat (recorded as a Task's is, States.Timeout) is confirmed by a recording.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from tooling.engine import jsontext
from tooling.engine.callback_task import CallbackWait, await_callback, mocked_outcome
from tooling.engine.errors import TIMEOUT, HeartbeatTimedOut, StatesError
from tooling.engine.history import NOT_RECORDED, HistoryRecorder
from tooling.engine.ports import CallbackOutcome, Clock
from tooling.engine.task_events import NOT_TRUNCATED


def run_activity_task(
    resource: str,
    parameters: Any,
    timeout: int | None,
    wait: CallbackWait,
    *,
    history: HistoryRecorder,
    clock: Clock,
) -> Any:
    """One attempt of the activity Task; its worker's output is the task result."""
    input_text = jsontext.dumps(parameters)
    scheduled: dict[str, Any] = {
        "resource": resource,
        "input": input_text,
        "inputDetails": NOT_TRUNCATED,
    }
    if timeout is not None:
        scheduled["timeoutInSeconds"] = timeout
    if wait.heartbeat is not None:
        scheduled["heartbeatInSeconds"] = wait.heartbeat
    history.add("ActivityScheduled", "activityScheduledEventDetails", scheduled, token=wait.token)
    since = history.last_time or clock.now()  # its recorded time on a resumed run
    deadline = since + timedelta(seconds=timeout) if timeout is not None else None
    try:
        if wait.mocked is not None:
            history.add("ActivityStarted", "activityStartedEventDetails", {})
            outcome = mocked_outcome(wait.mocked)
        else:
            wait.callbacks.schedule_activity(wait.token, resource, input_text)
            if history.replayed_output("ActivityStarted") is NOT_RECORDED:
                worker = _await_worker(wait, clock, deadline)
                started = {"workerName": worker} if worker else {}
                history.add("ActivityStarted", "activityStartedEventDetails", started)
            outcome = await_callback(wait, clock, deadline)
    except StatesError as exc:
        history.add(
            "ActivityTimedOut",
            "activityTimedOutEventDetails",
            {"error": TIMEOUT},
            heartbeat=isinstance(exc, HeartbeatTimedOut),
        )
        raise exc from None
    return _answer(outcome, history)


def _await_worker(wait: CallbackWait, clock: Clock, deadline: datetime | None) -> str:
    """Poll until a worker takes the attempt (its workerName) or TimeoutSeconds passes."""
    while True:
        worker = wait.callbacks.activity_worker(wait.token)
        if worker is not None:
            return worker
        now = clock.now()
        if deadline is not None and now >= deadline:
            raise StatesError(TIMEOUT)
        step = wait.callbacks.poll_seconds
        if deadline is not None:
            step = min(step, (deadline - now).total_seconds())
        wait.sleep(step)


def _answer(outcome: CallbackOutcome, history: HistoryRecorder) -> Any:
    if outcome.failed:
        given = (("error", outcome.error), ("cause", outcome.cause))
        details = {key: value for key, value in given if value is not None}
        history.add("ActivityFailed", "activityFailedEventDetails", details)
        raise StatesError(outcome.error, outcome.cause)
    result = json.loads(outcome.output or "null")
    history.add(
        "ActivitySucceeded",
        "activitySucceededEventDetails",
        {"output": jsontext.dumps(result), "outputDetails": NOT_TRUNCATED},
    )
    return result
