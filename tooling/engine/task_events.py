"""The history events of a Task calling an optimized or SDK integration (Task* events), shared by
Lambda's lambda:invoke, the runtime's own integrations and mocked ones. Shapes as in LocalStack's
recordings of AWS (test_lambda_task_service, test_sqs_task_service, test_callback)."""

from __future__ import annotations

from typing import Any

from tooling.engine import jsontext
from tooling.engine.errors import StatesError
from tooling.engine.history import HistoryRecorder

NOT_TRUNCATED = {"truncated": False}


def task_ids(resource_type: str, resource: str) -> dict[str, str]:
    """resourceType and resource, as every Task* event names the integration."""
    return {"resourceType": resource_type, "resource": resource}


def error_details(error: StatesError) -> dict[str, Any]:
    details: dict[str, Any] = {"error": error.error}
    if error.cause is not None:
        details["cause"] = error.cause
    return details


def record_scheduled_and_started(
    history: HistoryRecorder,
    ids: dict[str, str],
    parameters: Any,
    *,
    region: str,
    timeout: int | None,
    heartbeat: int | None = None,
    token: str | None = None,
) -> None:
    """TaskScheduled and TaskStarted; a callback attempt's `token` is kept with TaskScheduled's
    position, so that a resumed run waits on the same token."""
    scheduled: dict[str, Any] = {**ids, "region": region, "parameters": jsontext.dumps(parameters)}
    if timeout is not None:
        scheduled["timeoutInSeconds"] = timeout
    if heartbeat is not None:
        scheduled["heartbeatInSeconds"] = heartbeat
    history.add("TaskScheduled", "taskScheduledEventDetails", scheduled, token=token)
    history.add("TaskStarted", "taskStartedEventDetails", dict(ids))


def record_output(
    history: HistoryRecorder, event_type: str, ids: dict[str, str], output: Any
) -> None:
    """TaskSubmitted or TaskSucceeded with the output as compact JSON."""
    key = (
        "taskSubmittedEventDetails"
        if event_type == "TaskSubmitted"
        else "taskSucceededEventDetails"
    )
    history.add(
        event_type,
        key,
        {**ids, "output": jsontext.dumps(output), "outputDetails": NOT_TRUNCATED},
    )


def record_failed(history: HistoryRecorder, ids: dict[str, str], error: StatesError) -> None:
    history.add("TaskFailed", "taskFailedEventDetails", {**ids, **error_details(error)})
