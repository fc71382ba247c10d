"""Task states calling another AWS service: `arn:aws:states:::sqs:sendMessage`,
`arn:aws:states:::aws-sdk:s3:listBuckets`, ... Each attempt is answered by its mock (`tool run
--mock FILE`) or, failing that, by an integration the runtime provides (ServiceIntegrations, e.g.
sqs:sendMessage on the local runtime's queues). Request-response writes the events AWS writes for
any such integration: TaskScheduled, TaskStarted, then TaskSucceeded or TaskFailed; with
`.waitForTaskToken`, the request's answer goes into TaskSubmitted and the callback wait follows
(tooling.engine.callback_task). With `.sync` / `.sync:2` (Run a Job), the request's answer goes
into TaskSubmitted and the engine polls the job on its clock until it ends (call_service_for_job).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from tooling.engine.callback_task import CallbackWait, run_callback_task
from tooling.engine.errors import TIMEOUT, StateRuntimeError, StatesError
from tooling.engine.history import NOT_RECORDED, HistoryRecorder
from tooling.engine.mocks import MockedAnswer
from tooling.engine.ports import Clock, JobOutcome, ServiceIntegrations
from tooling.engine.task_events import (
    record_failed,
    record_output,
    record_scheduled_and_started,
    task_ids,
)

WAIT_FOR_TASK_TOKEN = ".waitForTaskToken"


class NoServiceIntegrations:
    """A runtime that provides no service integration: only mocks answer such Tasks."""

    poll_seconds = 1.0

    def supports(self, resource_type: str, action: str) -> bool:
        return False

    def call(self, resource_type: str, action: str, parameters: Any) -> Any:
        raise StateRuntimeError(f"The integration {resource_type}:{action} is not available.")

    def job_outcome(self, resource_type: str, action: str, submitted: Any) -> JobOutcome | None:
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


def call_service_for_job(
    integration: tuple[str, str],
    pattern: str,
    parameters: Any,
    timeout: int | None,
    request: Callable[[], Any],
    outcome: Callable[[Any], JobOutcome | None],
    *,
    history: HistoryRecorder,
    clock: Clock,
    sleep: Callable[[float], None],
    poll_seconds: float,
    region: str,
) -> Any:
    """`<integration>.sync` / `.sync:2` (Run a Job): start the job (its answer goes into
    TaskSubmitted), then ask `outcome(answer)` every `poll_seconds` on the execution's clock until
    the job ends; its result is the task result, its failure a TaskFailed. TimeoutSeconds counts
    from TaskStarted and ends the attempt with TaskTimedOut (the job itself is left running)."""
    resource_type, action = integration
    ids = task_ids(resource_type, action + pattern)
    record_scheduled_and_started(history, ids, parameters, region=region, timeout=timeout)
    started = history.last_time or clock.now()  # TaskStarted's (recorded) time
    deadline = started + timedelta(seconds=timeout) if timeout is not None else None
    # A resumed attempt whose job started before the crash waits for that job.
    submitted = history.replayed_output("TaskSubmitted")
    if submitted is NOT_RECORDED:
        try:
            submitted = request()
        except StateRuntimeError:
            raise
        except StatesError as exc:
            record_failed(history, ids, exc)
            raise
        record_output(history, "TaskSubmitted", ids, submitted)
    while (ended := outcome(submitted)) is None:
        now = clock.now()
        if deadline is not None and now >= deadline:
            history.add("TaskTimedOut", "taskTimedOutEventDetails", {**ids, "error": TIMEOUT})
            raise StatesError(TIMEOUT)
        step = poll_seconds
        if deadline is not None:
            step = min(step, (deadline - now).total_seconds())
        sleep(step)
    if ended.error is not None:
        failure = StatesError(ended.error, ended.cause)
        record_failed(history, ids, failure)
        raise failure
    record_output(history, "TaskSucceeded", ids, ended.result)
    return ended.result


def job_outcome_source(
    integration: tuple[str, str],
    pattern: str,
    mocked: MockedAnswer | None,
    services: ServiceIntegrations,
) -> Callable[[Any], JobOutcome | None]:
    """Where a `.sync` attempt learns how its job ended: a mocked attempt from its mock (it
    starts nothing; its TaskSubmitted output is `{}`, a choice of this toolkit as for the
    callback pattern), otherwise from the runtime."""
    resource_type, action = integration
    if mocked is not None:
        answer = mocked
        return lambda _submitted: JobOutcome(
            result=answer.returns, error=answer.error, cause=answer.cause
        )
    return lambda submitted: services.job_outcome(resource_type, action + pattern, submitted)
