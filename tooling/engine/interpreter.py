"""Runs a compiled StateMachine: moves from state to state and records the history.

One `Interpreter` runs one execution with its `ExecutionContext` (the ports, fixed when the run
starts). States run in a `Frame` (history chain, stop signal, variables): the execution's, or a
Parallel branch's or Map iteration's, which the Parallel and Map runners (parallel.py,
map_runner.py) make. Each state's data flow and each Task's invoker were chosen by the compiler.
"""

from __future__ import annotations

import random as random_module
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from tooling.asl.timestamps import parse_timestamp
from tooling.engine import jsontext
from tooling.engine.callbacks import InMemoryTaskCallbacks
from tooling.engine.concurrency import BranchStopped
from tooling.engine.context import ExecutionContext, ExecutionInfo
from tooling.engine.dataflow import (
    MAX_PAYLOAD_BYTES,
    Reading,
    integer_value,
    read_path,
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
from tooling.engine.frames import Frame
from tooling.engine.history import HistoryLimitExceeded, HistoryRecorder
from tooling.engine.jsonpath import describe
from tooling.engine.map_runner import MapRunner
from tooling.engine.mocks import MockedAnswer, TaskMocks
from tooling.engine.model import (
    AtPath,
    ChoiceRule,
    ChoiceState,
    Dynamic,
    Evaluated,
    FailState,
    Fixed,
    MapState,
    ParallelState,
    PassState,
    Processor,
    Retrier,
    RetryingState,
    State,
    StateMachine,
    SucceedState,
    TaskState,
    WaitState,
)
from tooling.engine.parallel import ParallelRunner
from tooling.engine.ports import (
    Clock,
    HistorySink,
    LambdaInvoker,
    ServiceIntegrations,
    TaskCallbacks,
    WaitNotice,
)
from tooling.engine.replay import ReplayDiverged, ReplayLog, attempt_answer
from tooling.engine.service_task import NoServiceIntegrations
from tooling.engine.task_events import NOT_TRUNCATED
from tooling.engine.tasks import Pattern, TaskAttempt
from tooling.engine.timestamps import format_context_time, to_datetime

__all__ = ["MAX_PAYLOAD_BYTES", "ExecutionInfo", "ExecutionOutcome", "run_execution"]

# What a step returns: the state's output, the next state (None: the block ends) and the
# variables its Assign sets (None when it has no Assign).
_Step = tuple[Any, str | None, dict[str, Any] | None]


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
    context = ExecutionContext(
        info=info,
        clock=clock,
        history=history,
        lambdas=lambdas,
        services=services if services is not None else NoServiceIntegrations(),
        # Without a runtime's tokens, this run's own, answerable only in this process.
        callbacks=callbacks if callbacks is not None else InMemoryTaskCallbacks(clock),
        mocks=mocks,
        rng=random or random_module.Random(),
        on_wait=on_wait,
    )
    return _start(machine, context, replay, input_text)


def _start(
    machine: StateMachine, ports: ExecutionContext, replay: ReplayLog | None, input_text: str
) -> ExecutionOutcome:
    """Record the start, fix the run's context object and deadline, then run in the top
    frame, whose history chain numbers every event (resuming from `replay`)."""
    history = HistoryRecorder(ports.history, ports.clock, replay)
    info = ports.info
    start = info.start_time or ports.clock.now()
    history.add(
        "ExecutionStarted",
        "executionStartedEventDetails",
        # The input text as the caller sent it (AWS keeps StartExecution's input verbatim).
        {"input": input_text, "inputDetails": NOT_TRUNCATED, "roleArn": info.role_arn},
        timestamp=start,
    )
    try:
        data = jsontext.loads(input_text)
    except ValueError:
        return _fail_execution(history, RUNTIME, "The execution input is not valid JSON.")
    execution: dict[str, Any] = {
        "Id": info.execution_arn,
        "Input": data,
        "StartTime": format_context_time(start),
        "Name": info.name,
        "RoleArn": info.role_arn,
    }
    if info.state_machine_type != "EXPRESS":
        execution["RedriveCount"] = 0
    timeout = machine.timeout_seconds
    context = replace(
        ports,
        execution=execution,
        state_machine={"Id": info.state_machine_arn, "Name": info.state_machine_name},
        deadline=start + timedelta(seconds=timeout) if timeout is not None else None,
    )
    return Interpreter(machine, context).run(Frame(history, {}), data)


def _fail_execution(
    history: HistoryRecorder, error: str | None, cause: str | None
) -> ExecutionOutcome:
    details = {}
    if error is not None:
        details["error"] = error
    if cause is not None:
        details["cause"] = cause
    history.add("ExecutionFailed", "executionFailedEventDetails", details, check_limit=False)
    return ExecutionOutcome("FAILED", None, error, cause)


class Interpreter:
    """Runs the states of one execution; the Parallel and Map runners call back into it for the
    states of their branches and iterations."""

    def __init__(self, machine: StateMachine, context: ExecutionContext) -> None:
        self.machine = machine
        self.context = context
        self.clock = context.clock
        self.mocks_lock = threading.Lock()  # mocks count each state's invocations

    # ---- the execution ------------------------------------------------------------------------

    def run(self, frame: Frame, data: Any) -> ExecutionOutcome:
        history = frame.history
        try:
            output = self.run_block(frame, self.machine.start_at, self.machine.states, data, True)
            output_text = jsontext.dumps(output)
            history.add(
                "ExecutionSucceeded",
                "executionSucceededEventDetails",
                {"output": output_text, "outputDetails": NOT_TRUNCATED},
            )
            return ExecutionOutcome("SUCCEEDED", output_text, None, None)
        except BlockFailed as failed:
            return _fail_execution(history, failed.error, failed.cause)
        except _TimedOut:
            cause = "The execution timed out."  # wording not confirmed against AWS
            history.add(
                "ExecutionTimedOut",
                "executionTimedOutEventDetails",
                {"error": TIMEOUT, "cause": cause},
                check_limit=False,
            )
            return ExecutionOutcome("TIMED_OUT", None, TIMEOUT, cause)
        except HistoryLimitExceeded as exc:
            return _fail_execution(history, RUNTIME, str(exc))
        except RecursionError:
            return _fail_execution(history, RUNTIME, "The state machine nests too deeply to run.")
        except ReplayDiverged as exc:
            history.stop_resuming()
            return _fail_execution(history, RUNTIME, f"The execution could not be resumed: {exc}.")

    def run_block(
        self,
        frame: Frame,
        start_at: str,
        states: dict[str, State],
        data: Any,
        first: bool = False,
    ) -> Any:
        """Run states from `start_at` until one ends the block; its output, or BlockFailed."""
        name: str | None = start_at
        stop = frame.stop
        history = frame.history
        variables = frame.variables
        deadline = self.context.deadline
        # The previous state's output text is the next state's input text (the same value).
        text: str | None = None
        while name is not None:
            # A resumed branch runs on to where it had come before the crash (it was not
            # stopped before then).
            if stop is not None and stop.is_set() and not history.next_recorded():
                raise BranchStopped()
            state = states[name]
            entered = history.add(
                f"{state.event_prefix}StateEntered",
                "stateEnteredEventDetails",
                {
                    "name": state.name,
                    "input": jsontext.dumps(data) if text is None else text,
                    "inputDetails": NOT_TRUNCATED,
                },
                previous=0 if first else None,
            )
            text = None
            first = False
            if history.replayed_last:
                skipped = history.skip_state()
                if skipped is not None:  # it ended before the crash: take what it recorded
                    data, name = skipped.output, skipped.next
                    if skipped.assigned is not None:
                        variables.update(skipped.assigned)
                    if deadline is not None and self.clock.now() >= deadline:
                        raise _TimedOut()
                    continue
            try:
                data, name, assigned = self.step(frame, state, data, entered)
            except StateRuntimeError as exc:
                cause = _prefixed(state, entered, exc.detail)
                self.evaluation_failed(frame, state, exc.error, cause)
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
            output_text = text = jsontext.dumps(data)
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
            if deadline is not None and self.clock.now() >= deadline:
                raise _TimedOut()
        return data

    def run_processor(self, frame: Frame, processor: Processor, data: Any) -> Any:
        """A Parallel branch or Map iteration, in its own frame."""
        return self.run_block(frame, processor.start_at, processor.states, data)

    def evaluation_failed(self, frame: Frame, state: State, error: str | None, cause: str) -> None:
        """AWS records a failed JSONata evaluation as its own event before the failure."""
        if error == QUERY_EVALUATION_ERROR:
            frame.history.add(
                "EvaluationFailed",
                "evaluationFailedEventDetails",
                {"error": error, "cause": cause, "state": state.name},
            )

    # ---- one state ----------------------------------------------------------------------------

    def env(
        self,
        frame: Frame,
        state: State,
        entered_time: datetime,
        retry_count: int | None = None,
    ) -> Env:
        context = self.context
        return Env(
            context.execution,
            context.state_machine,
            state.name,
            entered_time,
            frame.variables,
            retry_count,
        )

    def step(self, frame: Frame, state: State, data: Any, entered: int) -> _Step:
        entered_time = frame.history.last_time or self.clock.now()  # StateEntered's timestamp
        if isinstance(state, RetryingState):
            return self.guarded(frame, state, data, entered, entered_time)
        env = self.env(frame, state, entered_time)
        flow = state.flow
        if isinstance(state, PassState):
            output, assigned = flow.pass_state(data, env, state.result)
            return output, state.next, assigned
        if isinstance(state, FailState):
            self.fail_state(state, data, env)
        reading = flow.read(data, env)
        if isinstance(state, ChoiceState):
            rule = self.choose(state, reading)
            output, assigned = flow.choice_exit(data, reading, rule)
            return output, state.default if rule is None else rule.next, assigned
        elif isinstance(state, WaitState):
            self.wait(frame, state, reading)
            output, assigned = flow.through(data, reading)
        elif isinstance(state, SucceedState):
            output, assigned = flow.through(data, reading)
        else:  # pragma: no cover - the compiler only builds the types above
            raise StateRuntimeError(f"unsupported state type {type(state).__name__}")
        return output, state.next, assigned

    def fail_state(self, state: FailState, data: Any, env: Env) -> None:
        reading = state.flow.read(data, env)
        raise BlockFailed(
            self.fail_text(state, state.error, reading), self.fail_text(state, state.cause, reading)
        )

    @staticmethod
    def fail_text(state: FailState, found: Fixed | Evaluated, reading: Reading) -> str | None:
        if isinstance(found, Fixed):
            written: str | None = found.value
            return written
        return _text(state.flow.evaluate(found.template, reading))

    def choose(self, state: ChoiceState, reading: Reading) -> ChoiceRule | None:
        """The rule that matched (None: the Default)."""
        flow = state.flow
        for rule in state.choices:
            if flow.matches(rule, reading):
                return rule
        if state.default is not None:
            return None
        # Cause wording not confirmed against a recorded AWS execution.
        raise StatesError(
            NO_CHOICE_MATCHED, f"No Choice Rule matched and no Default in state '{state.name}'."
        )

    def wait(self, frame: Frame, state: WaitState, reading: Reading) -> None:
        seconds, timestamp = state.wait.seconds, state.wait.timestamp
        tell = self.wait_teller(state)
        if seconds is not None:
            self.sleep_since(
                frame, reading.env.entered_time, _wait_seconds(state, seconds, reading), tell
            )
            return
        assert timestamp is not None
        stamp = _wait_timestamp(state, timestamp, reading)
        self.sleep(frame, (to_datetime(stamp) - self.clock.now()).total_seconds(), tell)

    # ---- sleeping -----------------------------------------------------------------------------

    def sleep_since(
        self,
        frame: Frame,
        since: datetime,
        seconds: float,
        tell: Callable[[float], None] | None = None,
    ) -> None:
        """Sleep until `seconds` after `since` (the event the sleep follows): a resumed run
        sleeps only what is left, and not at all when what came next is recorded."""
        if frame.history.next_recorded():
            return
        self.sleep(frame, seconds - (self.clock.now() - since).total_seconds(), tell)

    def sleep(
        self, frame: Frame, seconds: float, tell: Callable[[float], None] | None = None
    ) -> None:
        """Sleep on the clock; `tell` announces the sleep (its seconds) to `on_wait` first."""
        if seconds <= 0:
            return
        if tell is not None and self.context.on_wait is not None:
            tell(seconds)
        deadline = self.context.deadline
        if deadline is not None:
            left = (deadline - self.clock.now()).total_seconds()
            if seconds >= left:
                self.pause(frame, max(left, 0))
                raise _TimedOut()
        self.pause(frame, seconds)

    def pause(self, frame: Frame, seconds: float) -> None:
        """Sleep on the clock; in a branch, a sibling's failure cuts the sleep short."""
        stop = frame.stop
        if stop is None:
            self.clock.sleep(seconds)
            return
        self.clock.sleep_unless(seconds, stop.event)
        if stop.is_set():
            raise BranchStopped()

    def until(self, seconds: float) -> datetime:
        return self.clock.now() + timedelta(seconds=seconds)

    def wait_teller(self, state: WaitState) -> Callable[[float], None]:
        def tell(seconds: float) -> None:
            on_wait = self.context.on_wait
            assert on_wait is not None
            on_wait(WaitNotice(state.name, "Wait", seconds, self.until(seconds)))

        return tell

    # ---- Task, Parallel and Map: attempts, Retry and Catch -------------------------------------

    def guarded(
        self,
        frame: Frame,
        state: RetryingState,
        data: Any,
        entered: int,
        entered_time: datetime,
    ) -> _Step:
        attempts = [0] * len(state.retry)
        retry_count = 0
        while True:
            env = self.env(frame, state, entered_time, retry_count)
            try:
                return self.attempt(frame, state, data, env)
            except StateRuntimeError as exc:
                if exc.error == RUNTIME:
                    raise
                failure = StatesError(exc.error, _prefixed(state, entered, exc.detail))
                self.evaluation_failed(frame, state, exc.error, failure.cause or "")
            except StatesError as exc:
                failure = exc
            delay = self.retry_delay(state.retry, attempts, failure)
            if delay is not None:
                retry_count += 1
                history = frame.history
                # The interval counts from the failure: from its recorded event on a resumed run.
                failed_at = history.last_time if history.replayed_last else None
                tell = self.retry_teller(state, attempts, failure)
                self.sleep_since(frame, failed_at or self.clock.now(), delay, tell)
                continue
            if isinstance(state, MapState | ParallelState):
                frame.history.add(f"{state.event_prefix}StateFailed")
            for catcher in state.catch:
                if any(_failure_matches(pattern, failure) for pattern in catcher.errors):
                    error_output: dict[str, Any] = {"Error": failure.error}
                    if failure.cause is not None:
                        error_output["Cause"] = failure.cause
                    output, assigned = state.flow.caught(catcher, data, error_output, env)
                    return output, catcher.next, assigned
            raise failure

    def attempt(self, frame: Frame, state: RetryingState, data: Any, env: Env) -> _Step:
        """One try of the state's work, then its result processing."""
        if not (isinstance(state, TaskState) and state.invoker.pattern is Pattern.CALLBACK):
            return self.attempt_with(frame, state, data, env)
        # Each attempt of a callback Task has its own token, dead once the attempt ends (a
        # resumed attempt waits on the token it had).
        callbacks = self.context.callbacks
        token = frame.history.recorded_token() or callbacks.issue(
            self.context.info.execution_arn, state.name
        )
        try:
            return self.attempt_with(frame, state, data, env.with_task_token(token))
        finally:
            callbacks.close(token)

    def attempt_with(self, frame: Frame, state: RetryingState, data: Any, env: Env) -> _Step:
        flow = state.flow
        reading = flow.read(data, env)
        if isinstance(state, MapState):
            # A runner per state, not kept on the interpreter: that reference cycle would keep
            # every run (and its history sink's events) alive until a full garbage collection.
            result = MapRunner(self).run(frame, state, reading)
        elif isinstance(state, ParallelState):
            result = ParallelRunner(self).run(frame, state, flow.work_input(reading), env)
        else:
            assert isinstance(state, TaskState)
            result = self.task(frame, state, flow.work_input(reading), reading)
        output, assigned = flow.finish(data, reading, result)
        return output, state.next, assigned

    def task(self, frame: Frame, state: TaskState, parameters: Any, reading: Reading) -> Any:
        """One attempt of the Task; TimeoutSeconds/HeartbeatSeconds(Path) read the state's
        reading (JSONPath: its input after InputPath)."""
        timeout = _task_seconds("TimeoutSeconds", state, state.timeout_seconds, reading)
        heartbeat = _task_seconds("HeartbeatSeconds", state, state.heartbeat_seconds, reading)
        history = frame.history
        mocks = self.context.mocks
        mocked = mocks is not None and mocks.covers(state.name)
        if history.resuming:
            recorded = history.recorded_attempt()
            if recorded is not None:  # this attempt ended before the crash: its answer
                if mocked:
                    assert mocks is not None
                    with self.mocks_lock:  # keep the mock's answers in step
                        mocks.next_answer(state.name)
                return attempt_answer(recorded)
        answer: MockedAnswer | None = None
        if mocked:
            assert mocks is not None
            with self.mocks_lock:
                answer = mocks.next_answer(state.name)
            if answer is None:
                raise StateRuntimeError(
                    f"The mock for the state '{state.name}' has no answer for this invocation."
                )
        attempt = TaskAttempt(
            state=state.name,
            parameters=parameters,
            timeout=timeout,
            heartbeat=heartbeat,
            token=reading.env.task_token,
            mocked=answer,
            history=history,
            context=self.context,
            sleep=lambda seconds: self.sleep(frame, seconds),
        )
        return state.invoker.run(attempt)

    def retry_teller(
        self, state: RetryingState, attempts: list[int], failure: StatesError
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
            on_wait = self.context.on_wait
            assert on_wait is not None and matched is not None
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
            on_wait(notice)

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
                    delay = self.context.rng.uniform(0, delay)
                return delay
        return None


# ---- helpers ------------------------------------------------------------------------------------


def _prefixed(state: State, entered: int, detail: str) -> str:
    return (
        f"An error occurred while executing the state '{state.name}' "
        f"(entered at the event id #{entered}). {detail}"
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


def _task_seconds(
    field: str, state: TaskState, found: Dynamic | None, reading: Reading
) -> int | None:
    """TimeoutSeconds or HeartbeatSeconds of one attempt: the constant, its JSONata expression
    or its ...Path (a positive integer)."""
    if found is None:
        return None
    if isinstance(found, Fixed):
        return int(found.value)
    if isinstance(found, AtPath):
        path = found.path
        value = read_path(path, reading.data, reading.env)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise StateRuntimeError(
                f"The {field}Path parameter does not reference a positive integer: "
                f"{path.text} == {describe(value)}"
            )
        return value
    value = state.flow.evaluate(found.template, reading)
    seconds = integer_value(value) if not isinstance(value, str) else None
    if seconds is None or seconds < 1:
        # Wording not confirmed against a recorded AWS execution.
        raise StateRuntimeError(
            f"The {field} field must be a positive integer, but was: {shown(value)}",
            error=QUERY_EVALUATION_ERROR,
        )
    return seconds


def _wait_seconds(state: WaitState, found: Dynamic, reading: Reading) -> float:
    if isinstance(found, Fixed):
        return int(found.value)
    if isinstance(found, AtPath):
        path = found.path
        value = read_path(path, reading.data, reading.env)
        text = f"{path.text} == {describe(value)}"
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
        return value
    value = state.flow.evaluate(found.template, reading)
    seconds = integer_value(value) if not isinstance(value, str) else None
    if seconds is None or seconds < 0:
        # Wording not confirmed against a recorded AWS execution.
        raise StateRuntimeError(
            f"The Seconds field must be a non-negative integer, but was: {shown(value)}",
            error=QUERY_EVALUATION_ERROR,
        )
    return seconds


def _wait_timestamp(state: WaitState, found: Dynamic, reading: Reading) -> tuple[int, int]:
    if isinstance(found, Fixed):
        compiled: tuple[int, int] = found.value  # parsed by the compiler
        return compiled
    if isinstance(found, AtPath):
        path = found.path
        value = read_path(path, reading.data, reading.env)
        stamp = parse_timestamp(value)
        if stamp is None:
            raise StateRuntimeError(
                "The TimestampPath parameter does not reference a valid ISO-8601 extended "
                f"offset date-time format string: {path.text} == {describe(value)}"
            )
        return stamp
    value = state.flow.evaluate(found.template, reading)
    parsed = parse_timestamp(value) if isinstance(value, str) else value
    if not isinstance(parsed, tuple):
        raise StateRuntimeError(
            "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time "
            f"format string: {shown(value)}",
            error=QUERY_EVALUATION_ERROR,
        )
    return parsed
