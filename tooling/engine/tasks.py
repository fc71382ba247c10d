"""How a Task state's attempts run, chosen once when the definition is compiled: the integration
pattern (request-response, callback `.waitForTaskToken`, or Run a Job `.sync`) and what is
called (a Lambda function by ARN, `lambda:invoke`, or another service's integration).

Each invoker runs one attempt (`TaskAttempt`): it records the attempt's events and answers the
task result, or raises the StatesError the attempt failed with. A mocked attempt (tooling.engine
.mocks) is answered by its mock, through the same events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, ClassVar

from tooling.engine.activity_task import run_activity_task
from tooling.engine.callback_task import CallbackWait
from tooling.engine.context import ExecutionContext
from tooling.engine.errors import StateRuntimeError
from tooling.engine.history import HistoryRecorder
from tooling.engine.lambda_task import (
    invoke_function,
    invoke_lambda_for_callback,
    invoke_optimized,
)
from tooling.engine.mocks import MockedAnswer, MockedInvoker
from tooling.engine.ports import LambdaInvoker
from tooling.engine.service_task import (
    call_service,
    call_service_for_callback,
    call_service_for_job,
    job_outcome_source,
    service_request,
)


class Pattern(Enum):
    """AWS's service integration patterns (Step Functions guide, "Integrating services")."""

    REQUEST_RESPONSE = "request-response"
    CALLBACK = ".waitForTaskToken"  # each attempt waits for its task token
    JOB = ".sync"  # each attempt waits for the job it started


@dataclass(frozen=True)
class TaskAttempt:
    """One attempt of a Task: its resolved parameters and limits, and what it runs with."""

    state: str
    parameters: Any
    timeout: int | None
    heartbeat: int | None
    token: str | None  # the attempt's task token (callback pattern)
    mocked: MockedAnswer | None  # the mock's answer for this attempt, when mocked
    history: HistoryRecorder
    context: ExecutionContext
    sleep: Callable[[float], None]  # the execution's sleep (its deadline, a branch's stop)

    def lambdas(self) -> LambdaInvoker:
        """The mock's answer when mocked, else the runtime's Lambda functions."""
        return MockedInvoker(self.mocked) if self.mocked is not None else self.context.lambdas

    def callback_wait(self) -> CallbackWait:
        assert self.token is not None  # the interpreter issues one for CALLBACK invokers
        return CallbackWait(
            self.token, self.heartbeat, self.context.callbacks, self.sleep, self.mocked
        )


class TaskInvoker:
    pattern: ClassVar[Pattern] = Pattern.REQUEST_RESPONSE

    def run(self, attempt: TaskAttempt) -> Any:
        raise NotImplementedError


@dataclass(frozen=True)
class LambdaFunctionTask(TaskInvoker):
    """Resource: a Lambda function ARN (LambdaFunction* events)."""

    resource: str

    def run(self, attempt: TaskAttempt) -> Any:
        return invoke_function(
            self.resource, attempt.parameters, attempt.timeout, attempt.lambdas(), attempt.history
        )


@dataclass(frozen=True)
class LambdaInvokeTask(TaskInvoker):
    """arn:aws:states:::lambda:invoke (Task* events, the Invoke API's answer)."""

    def run(self, attempt: TaskAttempt) -> Any:
        context = attempt.context
        return invoke_optimized(
            attempt.parameters,
            attempt.timeout,
            attempt.lambdas(),
            attempt.history,
            context.clock,
            context.region,
        )


@dataclass(frozen=True)
class LambdaCallbackTask(TaskInvoker):
    """arn:aws:states:::lambda:invoke.waitForTaskToken."""

    pattern: ClassVar[Pattern] = Pattern.CALLBACK

    def run(self, attempt: TaskAttempt) -> Any:
        context = attempt.context
        return invoke_lambda_for_callback(
            attempt.parameters,
            attempt.timeout,
            attempt.callback_wait(),
            lambdas=context.lambdas,
            history=attempt.history,
            clock=context.clock,
            region=context.region,
        )


@dataclass(frozen=True)
class ActivityTask(TaskInvoker):
    """Resource: an activity ARN; each attempt waits for a worker (Activity* events)."""

    resource: str
    pattern: ClassVar[Pattern] = Pattern.CALLBACK

    def run(self, attempt: TaskAttempt) -> Any:
        return run_activity_task(
            self.resource,
            attempt.parameters,
            attempt.timeout,
            attempt.callback_wait(),
            history=attempt.history,
            clock=attempt.context.clock,
        )


@dataclass(frozen=True)
class ServiceTask(TaskInvoker):
    """Another service's integration, request-response: `integration` is (resourceType,
    action), e.g. ("sqs", "sendMessage") or ("aws-sdk:s3", "listBuckets"). Answered by the
    state's mock or the runtime's ServiceIntegrations."""

    integration: tuple[str, str]

    def request(self, attempt: TaskAttempt) -> Callable[[], Any]:
        services = attempt.context.services
        if attempt.mocked is None and not services.supports(*self.integration):
            # The compiler lets these through only for mocked or provided integrations.
            raise StateRuntimeError(f"No mock answers the state '{attempt.state}'.")
        return service_request(self.integration, attempt.parameters, attempt.mocked, services)

    def run(self, attempt: TaskAttempt) -> Any:
        return call_service(
            self.integration,
            attempt.parameters,
            attempt.timeout,
            self.request(attempt),
            history=attempt.history,
            region=attempt.context.region,
        )


@dataclass(frozen=True)
class ServiceCallbackTask(ServiceTask):
    """`<integration>.waitForTaskToken`: send the request, then wait for the token."""

    pattern: ClassVar[Pattern] = Pattern.CALLBACK

    def run(self, attempt: TaskAttempt) -> Any:
        context = attempt.context
        return call_service_for_callback(
            self.integration,
            attempt.parameters,
            attempt.timeout,
            attempt.callback_wait(),
            self.request(attempt),
            history=attempt.history,
            clock=context.clock,
            region=context.region,
        )


@dataclass(frozen=True)
class ServiceJobTask(ServiceTask):
    """`<integration>.sync` / `.sync:2` (Run a Job): start the job, then poll it."""

    suffix: str = ".sync"  # ".sync" or ".sync:2"
    pattern: ClassVar[Pattern] = Pattern.JOB

    def run(self, attempt: TaskAttempt) -> Any:
        context = attempt.context
        request = self.request(attempt)
        return call_service_for_job(
            self.integration,
            self.suffix,
            attempt.parameters,
            attempt.timeout,
            (lambda: {}) if attempt.mocked is not None else request,
            job_outcome_source(self.integration, self.suffix, attempt.mocked, context.services),
            history=attempt.history,
            clock=context.clock,
            sleep=attempt.sleep,
            poll_seconds=context.services.poll_seconds,
            region=context.region,
        )
