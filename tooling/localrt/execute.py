"""Running one execution on the local runtime: the engine wired to local Lambda functions,
local service integrations and task tokens. `tool run` (tooling/adhoc.py) and the execution
worker (tooling/localrt/worker.py) differ only in what they hand in here."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from tooling.engine import ExecutionInfo, ExecutionOutcome, StateMachine, TaskMocks, run_execution
from tooling.engine.ports import Clock, HistorySink, TaskCallbacks, WaitNotice
from tooling.engine.replay import ReplayLog
from tooling.localaws.catalog import uses_local_aws
from tooling.localaws.manager import LocalAwsServices, handler_environment
from tooling.localaws.signing import LocalSigning
from tooling.localrt.destinations import local_sender
from tooling.localrt.invoker import InvocationLog, LocalLambdaInvoker
from tooling.localrt.lambda_runner import FunctionSpec, LocalLambdaRunner
from tooling.localrt.services import LocalServiceIntegrations

if TYPE_CHECKING:  # the endpoint (an HTTP server) loads only for runs that wait for tokens
    from tooling.localrt.callback_endpoint import TokenAnswers

    class LocalTokens(TaskCallbacks, TokenAnswers, Protocol):
        """Task tokens the engine waits on and handlers answer (in memory, or in the store)."""


def run_local_execution(
    machine: StateMachine,
    input_text: str,
    *,
    info: ExecutionInfo,
    clock: Clock,
    clock_kind: str,
    history: HistorySink,
    callbacks: LocalTokens,
    functions: Callable[[str], FunctionSpec | None],
    database: Path,
    waits_for_tokens: bool,
    mocks: TaskMocks | None = None,
    on_invocation: InvocationLog | None = None,
    on_wait: Callable[[WaitNotice], None] | None = None,
    sandbox_owner: str | None = None,
    replay: ReplayLog | None = None,
    on_cold_start: Callable[[FunctionSpec], None] | None = None,
) -> ExecutionOutcome:
    """Run `machine` to its end. `functions` finds a deployed function by ARN; `database` is
    the state file whose queues and state machines sqs:sendMessage and states:startExecution
    reach (nested executions run on the same kind of clock); with `waits_for_tokens`, handlers
    get a loopback Step Functions endpoint to answer their task tokens through boto3 (handlers
    get one set of credentials, made for this run, which both accept).
    `sandbox_owner` marks the handler processes (the worker's owner token: whoever takes the run
    over ends what they left); `replay` resumes a run from its stored events; `on_cold_start`
    hears of each function environment started (LocalLambdaRunner)."""
    region, account = info.state_machine_arn.split(":")[3:5]
    with ExitStack() as stack:
        endpoint: dict[str, str] = local_aws_environment(database.parent, machine, mocks)
        if waits_for_tokens:
            from tooling.localrt.callback_endpoint import CallbackEndpoint

            signing = LocalSigning.of_folder(database.parent, create=False)
            callback = stack.enter_context(CallbackEndpoint(callbacks, signing))
            endpoint |= callback.environment() | _credentials(endpoint)
        # Warm environments, as Lambda keeps them: they end with the run.
        runner = LocalLambdaRunner(
            services=endpoint, owner=sandbox_owner, warm=True, on_cold_start=on_cold_start
        )
        stack.callback(runner.close)
        invoker = LocalLambdaInvoker(
            functions, runner, region, account, on_invocation, local_sender(endpoint, region)
        )
        integrations = LocalServiceIntegrations(database, region, clock, child_clock=clock_kind)
        stack.callback(integrations.close)
        return run_execution(
            machine,
            input_text,
            info=info,
            clock=clock,
            lambdas=invoker,
            history=history,
            mocks=mocks,
            callbacks=callbacks,
            services=integrations,
            on_wait=on_wait,
            replay=replay,
        )


def waits_for_tokens(definition_text: str) -> bool:
    """Whether a Task of the definition (at any depth) waits for a task token answered from
    outside: a .waitForTaskToken, or an activity (its workers take it with GetActivityTask)."""
    return ".waitForTaskToken" in definition_text or ":activity:" in definition_text


def local_aws_environment(
    tool_dir: Path, machine: StateMachine, mocks: TaskMocks | None
) -> dict[str, str]:
    """The handlers' way to the local AWS services (AWS_ENDPOINT_URL and credentials of the
    folder made for this run), started for the run when its Tasks call them or when the
    folder's services hold data; otherwise nothing (no server is started for a service that
    never used them)."""
    services = LocalAwsServices(tool_dir)
    mocked = frozenset(mocks.states) if mocks is not None else frozenset()
    if not (services.has_data() or uses_local_aws(machine, mocked)):
        return {}
    return handler_environment(services.endpoint(), services.signing().issue())


def _credentials(environment: dict[str, str]) -> dict[str, str]:
    """The credentials already given for the local AWS services, so that the callback endpoint's
    own do not replace them (both accept the folder's)."""
    names = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
    return {name: environment[name] for name in names if name in environment}
