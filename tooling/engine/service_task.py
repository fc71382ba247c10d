"""Task states calling another AWS service (request-response): `arn:aws:states:::sqs:sendMessage`,
`arn:aws:states:::aws-sdk:s3:listBuckets`, ... The local runtime runs none of these services, so
only mocks answer them (`tool run --mock FILE`); the events are those AWS writes for any
request-response integration: TaskScheduled, TaskStarted, then TaskSucceeded or TaskFailed.
"""

from __future__ import annotations

from typing import Any

from tooling.engine import jsontext
from tooling.engine.errors import StatesError
from tooling.engine.history import HistoryRecorder
from tooling.engine.lambda_task import NOT_TRUNCATED, error_details
from tooling.engine.mocks import MockedAnswer


def call_mocked_service(
    integration: tuple[str, str],
    parameters: Any,
    timeout: int | None,
    answer: MockedAnswer,
    *,
    history: HistoryRecorder,
    region: str,
) -> Any:
    """One attempt answered by its mock: `Return` is the service's response (the task result),
    `Throw` fails the attempt with that error and cause."""
    resource_type, resource = integration
    ids = {"resourceType": resource_type, "resource": resource}
    scheduled: dict[str, Any] = {**ids, "region": region, "parameters": jsontext.dumps(parameters)}
    if timeout is not None:
        scheduled["timeoutInSeconds"] = timeout
    history.add("TaskScheduled", "taskScheduledEventDetails", scheduled)
    history.add("TaskStarted", "taskStartedEventDetails", dict(ids))
    if answer.error is not None:
        error = StatesError(answer.error, answer.cause)
        history.add("TaskFailed", "taskFailedEventDetails", {**ids, **error_details(error)})
        raise error
    history.add(
        "TaskSucceeded",
        "taskSucceededEventDetails",
        {**ids, "output": jsontext.dumps(answer.returns), "outputDetails": NOT_TRUNCATED},
    )
    return answer.returns
