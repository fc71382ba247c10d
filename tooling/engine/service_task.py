"""Task states calling another AWS service: `arn:aws:states:::sqs:sendMessage`,
`arn:aws:states:::aws-sdk:s3:listBuckets`, ... Each attempt is answered by its mock (`tool run
--mock FILE`) or, failing that, by an integration the runtime provides (ServiceIntegrations, e.g.
sqs:sendMessage on the local runtime's queues). Request-response writes the events AWS writes for
any such integration: TaskScheduled, TaskStarted, then TaskSucceeded or TaskFailed; with
`.waitForTaskToken`, the request's answer goes into TaskSubmitted and the callback wait follows
(tooling.engine.callback_task).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tooling.engine.callback_task import CallbackWait, run_callback_task
from tooling.engine.errors import StateRuntimeError, StatesError
from tooling.engine.history import HistoryRecorder
from tooling.engine.mocks import MockedAnswer
from tooling.engine.ports import Clock, ServiceIntegrations
from tooling.engine.task_events import (
    record_failed,
    record_output,
    record_scheduled_and_started,
    task_ids,
)

WAIT_FOR_TASK_TOKEN = ".waitForTaskToken"


class NoServiceIntegrations:
    """A runtime that provides no service integration: only mocks answer such Tasks."""

    def supports(self, resource_type: str, action: str) -> bool:
        return False

    def call(self, resource_type: str, action: str, parameters: Any) -> Any:
        raise StateRuntimeError(f"The integration {resource_type}:{action} is not available.")


def service_request(
    integration: tuple[str, str],
    parameters: Any,
    mocked: MockedAnswer | None,
    services: ServiceIntegrations,
) -> Callable[[], Any]:
    """The request of one attempt: its mock's answer (`Throw` raises that error and cause), or
    the runtime's call."""
    resource_type, action = integration

    def answer_from_mock() -> Any:
        assert mocked is not None
        if mocked.error is not None:
            raise StatesError(mocked.error, mocked.cause)
        return mocked.returns

    def call_service() -> Any:
        return services.call(resource_type, action, parameters)

    return answer_from_mock if mocked is not None else call_service


def call_service(
    integration: tuple[str, str],
    parameters: Any,
    timeout: int | None,
    request: Callable[[], Any],
    *,
    history: HistoryRecorder,
    region: str,
) -> Any:
    """One request-response attempt: the service's response is the task result; a StatesError
    from the request fails the attempt (Retry and Catch apply)."""
    ids = task_ids(*integration)
    record_scheduled_and_started(history, ids, parameters, region=region, timeout=timeout)
    try:
        result = request()
    except StateRuntimeError:
        raise
    except StatesError as exc:
        record_failed(history, ids, exc)
        raise
    record_output(history, "TaskSucceeded", ids, result)
    return result


def call_service_for_callback(
    integration: tuple[str, str],
    parameters: Any,
    timeout: int | None,
    wait: CallbackWait,
    request: Callable[[], Any],
    *,
    history: HistoryRecorder,
    clock: Clock,
    region: str,
) -> Any:
    """`<integration>.waitForTaskToken`: send the request, then wait for the task token. A mocked
    attempt sends nothing and answers as the callback would; its TaskSubmitted output is `{}` (a
    choice of this toolkit: Step Functions Local's mocks do not show what it records there)."""
    resource_type, action = integration
    ids = task_ids(resource_type, action + WAIT_FOR_TASK_TOKEN)
    submit: Callable[[], Any] = (lambda: {}) if wait.mocked is not None else request
    return run_callback_task(
        ids, parameters, timeout, wait, submit, history=history, clock=clock, region=region
    )
