"""Runs a compiled StateMachine: moves from state to state and records the history.

Parallel branches and Map iterations run concurrently (see branching.py and concurrency.py).
"""

from __future__ import annotations

import random as random_module
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tooling.engine import jsontext
from tooling.engine.branching import BranchingMixin
from tooling.engine.callback_task import CallbackWait
from tooling.engine.callbacks import InMemoryTaskCallbacks
from tooling.engine.concurrency import BranchStopped, StopSignal
from tooling.engine.dataflow import (
    MAX_PAYLOAD_BYTES,
    bindings,
    integer_value,
    place,
    read_path,
    select,
    shown,
    too_large,
)
from tooling.engine.env import Env
from tooling.engine.errors import (
    ALL,
    DATA_LIMIT_EXCEEDED,
    HEARTBEAT_TIMEOUT,
    NO_CHOICE_MATCHED,
    QUERY_EVALUATION_ERROR,
    RUNTIME,
    TASK_FAILED,
    TIMEOUT,
    BlockFailed,
    HeartbeatTimedOut,
    StateRuntimeError,
    StatesError,
)
from tooling.engine.history import HistoryLimitExceeded, HistoryRecorder
from tooling.engine.jsonata_eval import Expression
from tooling.engine.jsonata_eval import evaluate as jsonata_evaluate
from tooling.engine.jsonpath import JsonPath, describe
from tooling.engine.lambda_task import invoke_lambda, invoke_lambda_for_callback
from tooling.engine.mocks import MockedInvoker, TaskMocks
from tooling.engine.model import (
    Catcher,
    ChoiceRule,
    ChoiceState,
    FailState,
    MapState,
    ParallelState,
    PassState,
    Retrier,
    State,
    StateMachine,
    SucceedState,
    TaskState,
    WaitState,
)
from tooling.engine.payload import evaluate
from tooling.engine.ports import (
    Clock,
    HistorySink,
    LambdaInvoker,
    ServiceIntegrations,
    TaskCallbacks,
    WaitNotice,
)
from tooling.engine.replay import ReplayDiverged, ReplayLog, attempt_answer
from tooling.engine.service_task import (
    NoServiceIntegrations,
    call_service,
    call_service_for_callback,
    call_service_for_job,
    job_outcome_source,
    service_request,
)
from tooling.engine.task_events import NOT_TRUNCATED
from tooling.engine.timestamps import format_context_time, parse_timestamp, to_datetime

__all__ = ["MAX_PAYLOAD_BYTES", "ExecutionInfo", "ExecutionOutcome", "run_execution"]

# What a step returns: the state's output, the next state (None: the block ends) and the
# variables its Assign sets (None when it has no Assign).
_Step = tuple[Any, str | None, dict[str, Any] | None]


@dataclass(frozen=True)
class ExecutionInfo:
    execution_arn: str
    name: str
    state_machine_arn: str
    state_machine_name: str
    role_arn: str
    start_time: datetime | None = None  # None: clock.now() when the run starts
    state_machine_type: str = "STANDARD"  # or "EXPRESS" (whose $$.Execution has no RedriveCount)


@dataclass(frozen=True)
class ExecutionOutcome:
    status: str  # "SUCCEEDED" | "FAILED" | "TIMED_OUT" | "ABORTED"
    output: str | None  # compact JSON text, as DescribeExecution gives it
    error: str | None
    cause: str | None


class _TimedOut(Exception):
    """The state machine's TimeoutSeconds passed."""


def run_execution(
    machine: StateMachine,
    input_text: str,
    *,
    info: ExecutionInfo,
    clock: Clock,
    lambdas: LambdaInvoker,
    history: HistorySink,
    random: random_module.Random | None = None,
    mocks: TaskMocks | None = None,
    callbacks: TaskCallbacks | None = None,
    services: ServiceIntegrations | None = None,
    replay: ReplayLog | None = None,
    on_wait: Callable[[WaitNotice], None] | None = None,
) -> ExecutionOutcome:
    """Run `machine` on `input_text` (JSON) to the end, emitting every history event.

    Never raises for anything that happens inside the execution: every failure ends the
    execution as FAILED (or TIMED_OUT) with a Step Functions error name. `mocks` answers the
    Task states it names instead of calling their functions (see tooling.engine.mocks).
    `callbacks` issues the task tokens of .waitForTaskToken Tasks (default: kept in memory,
    answerable only through that object). `services` runs the AWS service integrations the
    runtime provides (e.g. sqs:sendMessage); mocks still answer the states they name.
    `replay` holds the events a run of this execution stored before it stopped: the run resumes
    from them (tooling.engine.replay). `on_wait` hears of each Wait state and Retry interval
    before the run sleeps through it.
    """
    run = _Run(machine, info, clock, lambdas, history, random or random_module.Random(), replay)
    run.mocks = mocks
    if services is not None:
        run.services = services
    if callbacks is not None:
        run.callbacks = callbacks
    run.on_wait = on_wait
    return run.run(input_text)


class _Run(BranchingMixin):
    def __init__(
        self,
        machine: StateMachine,
        info: ExecutionInfo,
        clock: Clock,
        lambdas: LambdaInvoker,
        sink: HistorySink,
        rng: random_module.Random,
        replay: ReplayLog | None = None,
    ) -> None:
        self.machine = machine
        self.info = info
        self.clock = clock
        self.lambdas = lambdas
        self.history = HistoryRecorder(sink, clock, replay)
        self.rng = rng
        parts = info.state_machine_arn.split(":")
        self.region = parts[3] if len(parts) > 3 else ""
        self.account = parts[4] if len(parts) > 4 else ""
        self.deadline: datetime | None = None
        self.mocks: TaskMocks | None = None
        self.services: ServiceIntegrations = NoServiceIntegrations()
        self.callbacks: TaskCallbacks = InMemoryTaskCallbacks(clock)  # tokens of this run only
        # Set in a Parallel branch or Map iteration: when a sibling fails, stop here.
        self.stop: StopSignal | None = None
        self.mocks_lock = threading.Lock()
        self.blocking: dict[int, bool] = {}  # Processor id -> whether it can block (see branching)
        self.on_wait: Callable[[WaitNotice], None] | None = None

    # ---- the execution ------------------------------------------------------------------------

    def run(self, input_text: str) -> ExecutionOutcome:
        start = self.info.start_time or self.clock.now()
        self.history.add(
            "ExecutionStarted",
            "executionStartedEventDetails",
            # The input text as the caller sent it (AWS keeps StartExecution's input verbatim).
            {"input": input_text, "inputDetails": NOT_TRUNCATED, "roleArn": self.info.role_arn},
            timestamp=start,
        )
        try:
            data = jsontext.loads(input_text)
        except ValueError:
            return self.fail_execution(RUNTIME, "The execution input is not valid JSON.")
        if self.machine.timeout_seconds is not None:
            self.deadline = start + timedelta(seconds=self.machine.timeout_seconds)
        self.execution_context = {
            "Id": self.info.execution_arn,
            "Input": data,
            "StartTime": format_context_time(start),
            "Name": self.info.name,
            "RoleArn": self.info.role_arn,
        }
        if self.info.state_machine_type != "EXPRESS":
            self.execution_context["RedriveCount"] = 0
        self.machine_context = {
            "Id": self.info.state_machine_arn,
            "Name": self.info.state_machine_name,
        }
        try:
            output = self.run_block(self.machine.start_at, self.machine.states, data, {}, True)
            output_text = jsontext.dumps(output)
            self.history.add(
                "ExecutionSucceeded",
                "executionSucceededEventDetails",
                {"output": output_text, "outputDetails": NOT_TRUNCATED},
            )
            return ExecutionOutcome("SUCCEEDED", output_text, None, None)
        except BlockFailed as failed:
            return self.fail_execution(failed.error, failed.cause)
        except _TimedOut:
            cause = "The execution timed out."  # wording not confirmed against AWS
            self.history.add(
                "ExecutionTimedOut",
                "executionTimedOutEventDetails",
                {"error": TIMEOUT, "cause": cause},
                check_limit=False,
            )
            return ExecutionOutcome("TIMED_OUT", None, TIMEOUT, cause)
        except HistoryLimitExceeded as exc:
            return self.fail_execution(RUNTIME, str(exc))
        except RecursionError:
            return self.fail_execution(RUNTIME, "The state machine nests too deeply to run.")
        except ReplayDiverged as exc:
            self.history.stop_resuming()
            return self.fail_execution(RUNTIME, f"The execution could not be resumed: {exc}.")

    def fail_execution(self, error: str | None, cause: str | None) -> ExecutionOutcome:
        details = {}
        if error is not None:
            details["error"] = error
        if cause is not None:
            details["cause"] = cause
        self.history.add(
            "ExecutionFailed", "executionFailedEventDetails", details, check_limit=False
        )
        return ExecutionOutcome("FAILED", None, error, cause)

    def run_block(
        self,
        start_at: str,
        states: dict[str, State],
        data: Any,
        variables: dict[str, Any],
        first: bool = False,
    ) -> Any:
        """Run states from `start_at` until one ends the block; its output, or BlockFailed."""
        name: str | None = start_at
        stop = self.stop
        history = self.history
        while True:
            # A resumed branch runs on to where it had come before the crash (it was not
            # stopped before then).
            if stop is not None and stop.is_set() and not history.next_recorded():
                raise BranchStopped()
            state = states[name]  # type: ignore[index]
            entered = history.add(
                f"{state.event_prefix}StateEntered",
                "stateEnteredEventDetails",
                {"name": state.name, "input": jsontext.dumps(data), "inputDetails": NOT_TRUNCATED},
                previous=0 if first else None,
            )
            first = False
            if history.replayed_last:
                skipped = history.skip_state()
                if skipped is not None:  # it ended before the crash: take what it recorded
                    data, name = skipped.output, skipped.next
                    if skipped.assigned is not None:
                        variables.update(skipped.assigned)
                    if self.deadline is not None and self.clock.now() >= self.deadline:
                        raise _TimedOut()
                    if name is None:
                        return data
                    continue
            try:
                data, name, assigned = self.step(state, data, entered, variables)
            except StateRuntimeError as exc:
                cause = _prefixed(state, entered, exc.detail)
                self.evaluation_failed(state, exc.error, cause)
                raise BlockFailed(exc.error, cause) from None
            except StatesError as exc:
                raise BlockFailed(exc.error, exc.cause) from None
            except Exception as exc:  # noqa: BLE001 - a bug must still end the execution cleanly
                if isinstance(
                    exc,
                    BlockFailed
                    | BranchStopped
                    | _TimedOut
                    | HistoryLimitExceeded
                    | RecursionError
                    | ReplayDiverged,
                ):
                    raise
                raise BlockFailed(
                    RUNTIME,
                    _prefixed(state, entered, f"Internal error: {type(exc).__name__}: {exc}"),
                ) from None
            output_text = jsontext.dumps(data)
            if too_large(output_text):
                raise BlockFailed(
                    DATA_LIMIT_EXCEEDED,
                    f"The state/task '{state.name}' returned a result with a size exceeding "
                    "the maximum number of bytes service limit.",
                )
            exited: dict[str, Any] = {
                "name": state.name,
                "output": output_text,
                "outputDetails": NOT_TRUNCATED,
            }
            if assigned is not None:
                exited["assignedVariables"] = {k: jsontext.dumps(v) for k, v in assigned.items()}
                exited["assignedVariablesDetails"] = NOT_TRUNCATED
                variables.update(assigned)
            history.add(
                f"{state.event_prefix}StateExited",
                "stateExitedEventDetails",
                exited,
                next_state=name,
            )
            if self.deadline is not None and self.clock.now() >= self.deadline:
                raise _TimedOut()
            if name is None:
                return data

    def evaluation_failed(self, state: State, error: str | None, cause: str) -> None:
        """AWS records a failed JSONata evaluation as its own event before the failure."""
        if error == QUERY_EVALUATION_ERROR:
            self.history.add(
                "EvaluationFailed",
                "evaluationFailedEventDetails",
                {"error": error, "cause": cause, "state": state.name},
            )

    # ---- one state ----------------------------------------------------------------------------

    def env(
        self,
        state: State,
        entered_time: datetime,
        variables: dict[str, Any],
        retry_count: int | None = None,
    ) -> Env:
        return Env(
            self.execution_context,
            self.machine_context,
            state.name,
            entered_time,
            variables,
            retry_count,
        )

    def step(self, state: State, data: Any, entered: int, variables: dict[str, Any]) -> _Step:
        entered_time = self.history.last_time or self.clock.now()  # StateEntered's timestamp
        if isinstance(state, TaskState | MapState | ParallelState):
            return self.guarded(state, data, entered, entered_time, variables)
        env = self.env(state, entered_time, variables)
        if isinstance(state, FailState):
            self.fail_state(state, data, env)
        if state.jsonata:
            return self.jsonata_step(state, data, env)
        effective = select(state.input_path, data, env)
        assigned = None
        if isinstance(state, PassState):
            result = effective
            if state.has_parameters:
                result = evaluate(state.parameters, effective, env)
            elif state.has_result:
                result = state.result
            if state.has_assign:
                assigned = evaluate(state.assign, result, env)
            output = place(state.result_path, data, result)
        elif isinstance(state, ChoiceState):
            nxt, rule = self.choose(state, effective, env)
            assigned = _choice_assign(
                state, rule, lambda template: evaluate(template, effective, env)
            )
            return select(state.output_path, effective, env), nxt, assigned
        elif isinstance(state, WaitState):
            self.wait(state, effective, env)
            if state.has_assign:
                assigned = evaluate(state.assign, effective, env)
            output = effective
        elif isinstance(state, SucceedState):
            output = effective
        else:  # pragma: no cover - the parser only builds the types above
            raise StateRuntimeError(f"unsupported state type {type(state).__name__}")
        return select(state.output_path, output, env), None if state.end else state.next, assigned

    def jsonata_step(self, state: State, data: Any, env: Env) -> _Step:
        states = {"input": data, "context": env.context}
        scope = bindings(states, env.variables)
        nxt = None if state.end else state.next
        output_template, has_output = state.output, state.has_output
        assign_template, has_assign = state.assign, state.has_assign
        assigned = None
        if isinstance(state, ChoiceState):
            rule = self.choose_jsonata(state, scope)
            if rule is None:
                nxt = state.default
            else:
                nxt = rule.next
                if rule.has_output:
                    output_template, has_output = rule.output, True
            assigned = _choice_assign(
                state, rule, lambda template: jsonata_evaluate(template, scope)
            )
            has_assign = False
        elif isinstance(state, WaitState):
            self.wait_jsonata(state, scope, env.entered_time)
        output = jsonata_evaluate(output_template, scope) if has_output else data
        if has_assign:
            assigned = jsonata_evaluate(assign_template, scope)
        return output, nxt, assigned

    def fail_state(self, state: FailState, data: Any, env: Env) -> None:
        if state.jsonata:
            scope = bindings({"input": data, "context": env.context}, env.variables)
            error = _text(jsonata_evaluate(state.error, scope)) if state.error else None
            cause = _text(jsonata_evaluate(state.cause, scope)) if state.cause else None
            raise BlockFailed(error, cause)
        error = _fail_field(state.error, state.error_path, data, env)
        cause = _fail_field(state.cause, state.cause_path, data, env)
        raise BlockFailed(error, cause)

    def choose(self, state: ChoiceState, data: Any, env: Env) -> tuple[str, ChoiceRule | None]:
        """The next state and the rule that matched (None: the Default)."""
        for rule in state.choices:
            if rule.condition.matches(data, env):
                return rule.next, rule
        if state.default is not None:
            return state.default, None
        raise _no_choice(state)

    def choose_jsonata(self, state: ChoiceState, scope: dict[str, Any]) -> Any:
        for rule in state.choices:
            condition = rule.condition
            if isinstance(condition, Expression):
                value = condition.evaluate(scope)
                if not isinstance(value, bool):
                    raise condition.unexpected_type("boolean", value)
            else:
                value = bool(condition)
            if value:
                return rule
        if state.default is not None:
            return None
        raise _no_choice(state)

    def wait(self, state: WaitState, data: Any, env: Env) -> None:
        if state.seconds is not None:
            seconds: float = state.seconds
        elif state.seconds_path is not None:
            value = read_path(state.seconds_path, data, env)
            text = f"{state.seconds_path.text} == {describe(value)}"
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if not isinstance(value, int) or isinstance(value, bool):
                raise StateRuntimeError(
                    f"The SecondsPath parameter cannot be parsed as a long value: {text}"
                )
            if value < 0:
                raise StateRuntimeError(
                    f"The SecondsPath parameter references a negative value: {text}"
                )
            seconds = value
        else:
            stamp = state.timestamp
            if state.timestamp_path is not None:
                value = read_path(state.timestamp_path, data, env)
                stamp = parse_timestamp(value)
                if stamp is None:
                    raise StateRuntimeError(
                        "The TimestampPath parameter does not reference a valid ISO-8601 extended "
                        "offset date-time format string: "
                        f"{state.timestamp_path.text} == {describe(value)}"
                    )
            self.sleep(
                (to_datetime(stamp) - self.clock.now()).total_seconds(), self.wait_teller(state)
            )
            return
        self.sleep_since(env.entered_time, seconds, self.wait_teller(state))

    def wait_jsonata(self, state: WaitState, scope: dict[str, Any], entered: datetime) -> None:
        if state.seconds is not None:
            value = jsonata_evaluate(state.seconds, scope)
            seconds = integer_value(value) if not isinstance(value, str) else None
            if seconds is None or seconds < 0:
                # Wording not confirmed against a recorded AWS execution.
                raise StateRuntimeError(
                    f"The Seconds field must be a non-negative integer, but was: {shown(value)}",
                    error=QUERY_EVALUATION_ERROR,
                )
            self.sleep_since(entered, seconds, self.wait_teller(state))
            return
        value = jsonata_evaluate(state.timestamp, scope)
        stamp = parse_timestamp(value) if isinstance(value, str) else value
        if not isinstance(stamp, tuple):
            raise StateRuntimeError(
                "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time "
                f"format string: {shown(value)}",
                error=QUERY_EVALUATION_ERROR,
            )
        self.sleep((to_datetime(stamp) - self.clock.now()).total_seconds(), self.wait_teller(state))

    def sleep_since(
        self, since: datetime, seconds: float, tell: Callable[[float], None] | None = None
    ) -> None:
        """Sleep until `seconds` after `since` (the event the sleep follows): a resumed run
        sleeps only what is left, and not at all when what came next is recorded."""
        if self.history.next_recorded():
            return
        self.sleep(seconds - (self.clock.now() - since).total_seconds(), tell)

    def sleep(self, seconds: float, tell: Callable[[float], None] | None = None) -> None:
        """Sleep on the clock; `tell` announces the sleep (its seconds) to `on_wait` first."""
        if seconds <= 0:
            return
        if tell is not None and self.on_wait is not None:
            tell(seconds)
        if self.deadline is not None:
            left = (self.deadline - self.clock.now()).total_seconds()
            if seconds >= left:
                self.pause(max(left, 0))
                raise _TimedOut()
        self.pause(seconds)

    def pause(self, seconds: float) -> None:
        """Sleep on the clock; in a branch, a sibling's failure cuts the sleep short."""
        stop = self.stop
        if stop is None:
            self.clock.sleep(seconds)
            return
        sleep_unless = getattr(self.clock, "sleep_unless", None)
        if sleep_unless is not None:
            sleep_unless(seconds, stop.event)
        else:
            self.clock.sleep(seconds)
        if stop.is_set():
            raise BranchStopped()

    # ---- Task, Parallel and Map: attempts, Retry and Catch -------------------------------------

    def guarded(
        self,
        state: TaskState | MapState | ParallelState,
        data: Any,
        entered: int,
        entered_time: datetime,
        variables: dict[str, Any],
    ) -> _Step:
        attempts = [0] * len(state.retry)
        retry_count = 0
        while True:
            env = self.env(state, entered_time, variables, retry_count)
            try:
                return self.attempt(state, data, env)
            except StateRuntimeError as exc:
                if exc.error == RUNTIME:
                    raise
                failure = StatesError(exc.error, _prefixed(state, entered, exc.detail))
                self.evaluation_failed(state, exc.error, failure.cause or "")
            except StatesError as exc:
                failure = exc
            delay = self.retry_delay(state.retry, attempts, failure)
            if delay is not None:
                retry_count += 1
                history = self.history
                # The interval counts from the failure: from its recorded event on a resumed run.
                failed_at = history.last_time if history.replayed_last else None
                tell = self.retry_teller(state, attempts, failure)
                self.sleep_since(failed_at or self.clock.now(), delay, tell)
                continue
            if isinstance(state, MapState | ParallelState):
                self.history.add(f"{state.event_prefix}StateFailed")
            for catcher in state.catch:
                if any(_failure_matches(pattern, failure) for pattern in catcher.errors):
                    return self.caught(state, catcher, data, failure, env)
            raise failure

    def caught(
        self, state: State, catcher: Catcher, data: Any, failure: StatesError, env: Env
    ) -> _Step:
        error_output: dict[str, Any] = {"Error": failure.error}
        if failure.cause is not None:
            error_output["Cause"] = failure.cause
        if state.jsonata:
            scope = bindings(
                {"input": data, "context": env.context, "errorOutput": error_output},
                env.variables,
            )
            output = jsonata_evaluate(catcher.output, scope) if catcher.has_output else error_output
            assigned = jsonata_evaluate(catcher.assign, scope) if catcher.has_assign else None
            return output, catcher.next, assigned
        assigned = evaluate(catcher.assign, error_output, env) if catcher.has_assign else None
        return place(catcher.result_path, data, error_output), catcher.next, assigned

    def attempt(self, state: TaskState | MapState | ParallelState, data: Any, env: Env) -> _Step:
        """One try of the state's work, then its result processing."""
        if not (isinstance(state, TaskState) and state.wait_for_token):
            return self.attempt_with(state, data, env)
        # Each attempt of a callback Task has its own token, dead once the attempt ends (a
        # resumed attempt waits on the token it had).
        token = self.history.recorded_token() or self.callbacks.issue(
            self.info.execution_arn, state.name
        )
        try:
            return self.attempt_with(state, data, env.with_task_token(token))
        finally:
            self.callbacks.close(token)

    def attempt_with(
        self, state: TaskState | MapState | ParallelState, data: Any, env: Env
    ) -> _Step:
        if state.jsonata:
            states: dict[str, Any] = {"input": data, "context": env.context}
            scope = bindings(states, env.variables)
            work_input = jsonata_evaluate(state.arguments, scope) if state.has_arguments else data
            if isinstance(state, MapState):
                result = self.map_run(state, data, env, scope)
            elif isinstance(state, ParallelState):
                result = self.parallel_run(state, work_input, env)
            else:
                result = self.task_run(state, work_input, env, data, scope)
            states["result"] = result
            scope = bindings(states, env.variables)
            output = jsonata_evaluate(state.output, scope) if state.has_output else result
            assigned = jsonata_evaluate(state.assign, scope) if state.has_assign else None
            return output, None if state.end else state.next, assigned
        effective = select(state.input_path, data, env)
        if isinstance(state, MapState):
            result = self.map_run(state, effective, env, None)
        else:
            work_input = effective
            if state.has_parameters:
                work_input = evaluate(state.parameters, effective, env)
            if isinstance(state, ParallelState):
                result = self.parallel_run(state, work_input, env)
            else:
                result = self.task_run(state, work_input, env, effective, None)
        if state.has_result_selector:
            result = evaluate(state.result_selector, result, env)
        assigned = evaluate(state.assign, result, env) if state.has_assign else None
        output = place(state.result_path, data, result)
        return select(state.output_path, output, env), None if state.end else state.next, assigned

    def task_run(
        self,
        state: TaskState,
        parameters: Any,
        env: Env,
        state_input: Any,
        scope: dict[str, Any] | None,
    ) -> Any:
        """Call the Task's function; TimeoutSeconds/HeartbeatSeconds(Path) read `state_input`
        (JSONPath: after InputPath) or, in JSONata, the state's `scope`."""
        timeout = _task_seconds(
            "TimeoutSeconds",
            state.timeout_seconds,
            state.timeout_seconds_path,
            state_input,
            env,
            scope,
        )
        heartbeat = _task_seconds(
            "HeartbeatSeconds",
            state.heartbeat_seconds,
            state.heartbeat_seconds_path,
            state_input,
            env,
            scope,
        )
        if self.history.resuming:
            recorded = self.history.recorded_attempt()
            if recorded is not None:  # this attempt ended before the crash: its answer
                if self.mocks is not None and self.mocks.covers(state.name):
                    with self.mocks_lock:  # keep the mock's answers in step
                        self.mocks.next_answer(state.name)
                return attempt_answer(recorded)
        mocked = None
        lambdas = self.lambdas
        if self.mocks is not None and self.mocks.covers(state.name):
            with self.mocks_lock:
                answer = self.mocks.next_answer(state.name)
            if answer is None:
                raise StateRuntimeError(
                    f"The mock for the state '{state.name}' has no answer for this invocation."
                )
            mocked = answer
            lambdas = MockedInvoker(answer)
        if state.integration is not None:
            if mocked is None and not self.services.supports(*state.integration):
                # The parser lets these through only for mocked or provided integrations.
                raise StateRuntimeError(f"No mock answers the state '{state.name}'.")
            request = service_request(state.integration, parameters, mocked, self.services)
            if state.sync:
                return call_service_for_job(
                    state.integration,
                    state.sync,
                    parameters,
                    timeout,
                    (lambda: {}) if mocked is not None else request,
                    job_outcome_source(state.integration, state.sync, mocked, self.services),
                    history=self.history,
                    clock=self.clock,
                    sleep=self.sleep,
                    poll_seconds=self.services.poll_seconds,
                    region=self.region,
                )
            if state.wait_for_token:
                assert env.task_token is not None  # set by attempt()
                wait = CallbackWait(env.task_token, heartbeat, self.callbacks, self.sleep, mocked)
                return call_service_for_callback(
                    state.integration,
                    parameters,
                    timeout,
                    wait,
                    request,
                    history=self.history,
                    clock=self.clock,
                    region=self.region,
                )
            return call_service(
                state.integration,
                parameters,
                timeout,
                request,
                history=self.history,
                region=self.region,
            )
        if state.wait_for_token:
            assert env.task_token is not None  # set by attempt()
            wait = CallbackWait(env.task_token, heartbeat, self.callbacks, self.sleep, mocked)
            return invoke_lambda_for_callback(
                parameters,
                timeout,
                wait,
                lambdas=self.lambdas,
                history=self.history,
                clock=self.clock,
                region=self.region,
            )
        return invoke_lambda(
            state,
            parameters,
            timeout,
            lambdas=lambdas,
            history=self.history,
            clock=self.clock,
            region=self.region,
        )

    def until(self, seconds: float) -> datetime:
        return self.clock.now() + timedelta(seconds=seconds)

    def wait_teller(self, state: WaitState) -> Callable[[float], None]:
        def tell(seconds: float) -> None:
            assert self.on_wait is not None
            self.on_wait(WaitNotice(state.name, "Wait", seconds, self.until(seconds)))

        return tell

    def retry_teller(
        self, state: TaskState | MapState | ParallelState, attempts: list[int], failure: StatesError
    ) -> Callable[[float], None]:
        """Announces the interval before a retry (the retrier is the first that matched)."""
        matched = next(
            (
                (index, retrier)
                for index, retrier in enumerate(state.retry)
                if any(_failure_matches(pattern, failure) for pattern in retrier.errors)
            ),
            None,
        )

        def tell(seconds: float) -> None:
            assert self.on_wait is not None and matched is not None
            index, retrier = matched
            notice = WaitNotice(
                state.name,
                "Retry",
                seconds,
                self.until(seconds),
                error=failure.error,
                retry=attempts[index],
                max_attempts=retrier.max_attempts,
            )
            self.on_wait(notice)

        return tell

    def retry_delay(
        self, retriers: tuple[Retrier, ...], attempts: list[int], failure: StatesError
    ) -> float | None:
        """Seconds to wait before the next attempt, or None when no retrier takes this error.

        Only the first retrier whose ErrorEquals matches counts, even when it is used up.
        """
        for index, retrier in enumerate(retriers):
            if any(_failure_matches(pattern, failure) for pattern in retrier.errors):
                if attempts[index] >= retrier.max_attempts:
                    return None
                delay = retrier.interval_seconds * retrier.backoff_rate ** attempts[index]
                attempts[index] += 1
                if retrier.max_delay_seconds is not None:
                    delay = min(delay, retrier.max_delay_seconds)
                if retrier.jitter == "FULL":
                    delay = self.rng.uniform(0, delay)
                return delay
        return None


# ---- helpers ------------------------------------------------------------------------------------


def _choice_assign(
    state: ChoiceState, rule: ChoiceRule | None, evaluate_template: Callable[[Any], Any]
) -> dict[str, Any] | None:
    """A Choice state's Assign applies whichever way it goes; the matching rule's Assign is
    applied too (AWS guide, "Choice workflow state"). That the rule's values win over the
    state's for the same name is not confirmed."""
    if not state.has_assign and (rule is None or not rule.has_assign):
        return None
    assigned: dict[str, Any] = {}
    if state.has_assign:
        assigned.update(evaluate_template(state.assign))
    if rule is not None and rule.has_assign:
        assigned.update(evaluate_template(rule.assign))
    return assigned


def _prefixed(state: State, entered: int, detail: str) -> str:
    return (
        f"An error occurred while executing the state '{state.name}' "
        f"(entered at the event id #{entered}). {detail}"
    )


def _no_choice(state: ChoiceState) -> StatesError:
    # Cause wording not confirmed against a recorded AWS execution.
    return StatesError(
        NO_CHOICE_MATCHED, f"No Choice Rule matched and no Default in state '{state.name}'."
    )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else jsontext.dumps(value)


def _failure_matches(pattern: str, failure: StatesError) -> bool:
    """States.HeartbeatTimeout takes only missed heartbeats, which are otherwise States.Timeout
    (AWS guide, "Error names": it is available only in Retry and Catch)."""
    if pattern == HEARTBEAT_TIMEOUT:
        return isinstance(failure, HeartbeatTimedOut)
    return _error_matches(pattern, failure.error)


def _error_matches(pattern: str, error: str | None) -> bool:
    """ErrorEquals matching: States.ALL takes everything but the terminal States.Runtime and
    States.DataLimitExceeded; States.TaskFailed everything but States.Timeout (AWS guide,
    "Error names"). States.Runtime is never caught or retried."""
    if error == RUNTIME:
        return False
    if error is None:
        return pattern == ALL
    if pattern == error:
        return True
    if pattern == ALL:
        return error != DATA_LIMIT_EXCEEDED
    if pattern == TASK_FAILED:
        return error not in (TIMEOUT, DATA_LIMIT_EXCEEDED)
    return False


def _fail_field(constant: str | None, dynamic: Any, data: Any, env: Env) -> str | None:
    if dynamic is None:
        return constant
    return _text(dynamic.evaluate(data, env))


def _task_seconds(
    field: str,
    constant: Any,
    path: JsonPath | None,
    data: Any,
    env: Env,
    scope: dict[str, Any] | None,
) -> int | None:
    """TimeoutSeconds or HeartbeatSeconds of one attempt: the constant, its JSONata expression
    or its ...Path (a positive integer)."""
    if path is not None:
        value = read_path(path, data, env)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise StateRuntimeError(
                f"The {field}Path parameter does not reference a positive integer: "
                f"{path.text} == {describe(value)}"
            )
        return value
    if constant is None or isinstance(constant, int):
        return constant
    value = jsonata_evaluate(constant, scope or {})
    seconds = integer_value(value) if not isinstance(value, str) else None
    if seconds is None or seconds < 1:
        # Wording not confirmed against a recorded AWS execution.
        raise StateRuntimeError(
            f"The {field} field must be a positive integer, but was: {shown(value)}",
            error=QUERY_EVALUATION_ERROR,
        )
    return seconds
