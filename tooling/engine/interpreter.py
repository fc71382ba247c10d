"""Runs a compiled StateMachine: moves from state to state and records the history."""

from __future__ import annotations

import random as random_module
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tooling.engine import jsontext
from tooling.engine.errors import (
    ALL,
    DATA_LIMIT_EXCEEDED,
    NO_CHOICE_MATCHED,
    RESULT_PATH_MATCH_FAILURE,
    RUNTIME,
    TASK_FAILED,
    TIMEOUT,
    StateRuntimeError,
    StatesError,
)
from tooling.engine.history import HistoryRecorder
from tooling.engine.jsonpath import JsonPath, PathNotFound, describe
from tooling.engine.lambda_task import invoke_lambda
from tooling.engine.model import (
    ChoiceState,
    FailState,
    PassState,
    Retrier,
    State,
    StateMachine,
    SucceedState,
    TaskState,
    WaitState,
)
from tooling.engine.payload import evaluate
from tooling.engine.ports import Clock, HistorySink, LambdaInvoker
from tooling.engine.timestamps import format_context_time, parse_timestamp, to_datetime

# 256 KiB: the most a state's input or output may hold (Step Functions service quotas).
MAX_PAYLOAD_BYTES = 262144
_TRUNCATED_NO = {"truncated": False}


@dataclass(frozen=True)
class ExecutionInfo:
    execution_arn: str
    name: str
    state_machine_arn: str
    state_machine_name: str
    role_arn: str
    start_time: datetime | None = None  # None: clock.now() when the run starts


@dataclass(frozen=True)
class ExecutionOutcome:
    status: str  # "SUCCEEDED" | "FAILED" | "TIMED_OUT" | "ABORTED"
    output: str | None  # compact JSON text, as DescribeExecution gives it
    error: str | None
    cause: str | None


class _Failed(Exception):
    """Ends the execution as FAILED (error and cause may both be absent, as for an empty Fail)."""

    def __init__(self, error: str | None, cause: str | None) -> None:
        super().__init__(error)
        self.error = error
        self.cause = cause


def run_execution(
    machine: StateMachine,
    input_text: str,
    *,
    info: ExecutionInfo,
    clock: Clock,
    lambdas: LambdaInvoker,
    history: HistorySink,
    random: random_module.Random | None = None,
) -> ExecutionOutcome:
    """Run `machine` on `input_text` (JSON) to the end, emitting every history event."""
    return _Run(machine, info, clock, lambdas, history, random or random_module.Random()).run(
        input_text
    )


class _Run:
    def __init__(
        self,
        machine: StateMachine,
        info: ExecutionInfo,
        clock: Clock,
        lambdas: LambdaInvoker,
        sink: HistorySink,
        rng: random_module.Random,
    ) -> None:
        self.machine = machine
        self.info = info
        self.clock = clock
        self.lambdas = lambdas
        self.history = HistoryRecorder(sink, clock)
        self.rng = rng
        parts = info.state_machine_arn.split(":")
        self.region = parts[3] if len(parts) > 3 else ""

    def run(self, input_text: str) -> ExecutionOutcome:
        start = self.info.start_time or self.clock.now()
        data = jsontext.loads(input_text)
        self.history.add(
            "ExecutionStarted",
            "executionStartedEventDetails",
            # The input text as the caller sent it (AWS keeps StartExecution's input verbatim).
            {"input": input_text, "inputDetails": _TRUNCATED_NO, "roleArn": self.info.role_arn},
            timestamp=start,
        )
        self.execution_context = {
            "Id": self.info.execution_arn,
            "Input": data,
            "StartTime": format_context_time(start),
            "Name": self.info.name,
            "RoleArn": self.info.role_arn,
            "RedriveCount": 0,
        }
        self.machine_context = {
            "Id": self.info.state_machine_arn,
            "Name": self.info.state_machine_name,
        }
        name: str | None = self.machine.start_at
        first = True
        try:
            while True:
                state = self.machine.states[name]
                entered = self.history.add(
                    f"{state.event_prefix}StateEntered",
                    "stateEnteredEventDetails",
                    {
                        "name": state.name,
                        "input": jsontext.dumps(data),
                        "inputDetails": _TRUNCATED_NO,
                    },
                    previous=0 if first else None,
                )
                first = False
                try:
                    data, name = self.step(state, data, entered)
                except StateRuntimeError as exc:
                    raise _Failed(
                        exc.error,
                        f"An error occurred while executing the state '{state.name}' "
                        f"(entered at the event id #{entered}). {exc.detail}",
                    ) from None
                except StatesError as exc:
                    raise _Failed(exc.error, exc.cause) from None
                output_text = jsontext.dumps(data)
                if _too_large(output_text):
                    raise _Failed(
                        DATA_LIMIT_EXCEEDED,
                        f"The state/task '{state.name}' returned a result with a size exceeding "
                        "the maximum number of bytes service limit.",
                    )
                self.history.add(
                    f"{state.event_prefix}StateExited",
                    "stateExitedEventDetails",
                    {"name": state.name, "output": output_text, "outputDetails": _TRUNCATED_NO},
                )
                if name is None:
                    self.history.add(
                        "ExecutionSucceeded",
                        "executionSucceededEventDetails",
                        {"output": output_text, "outputDetails": _TRUNCATED_NO},
                    )
                    return ExecutionOutcome("SUCCEEDED", output_text, None, None)
        except _Failed as failed:
            details = {}
            if failed.error is not None:
                details["error"] = failed.error
            if failed.cause is not None:
                details["cause"] = failed.cause
            self.history.add("ExecutionFailed", "executionFailedEventDetails", details)
            return ExecutionOutcome("FAILED", None, failed.error, failed.cause)

    # ---- one state ----------------------------------------------------------------------------

    def context(
        self, state: State, entered_time: datetime, retry_count: int | None = None
    ) -> dict[str, Any]:
        state_context: dict[str, Any] = {
            "Name": state.name,
            "EnteredTime": format_context_time(entered_time),
        }
        if retry_count is not None:
            state_context["RetryCount"] = retry_count
        return {
            "Execution": self.execution_context,
            "StateMachine": self.machine_context,
            "State": state_context,
        }

    def step(self, state: State, data: Any, entered: int) -> tuple[Any, str | None]:
        """The state's output and the next state's name (None when the execution ends)."""
        entered_time = self.clock.now()
        if isinstance(state, FailState):
            context = self.context(state, entered_time)
            error = _fail_field(state.error, state.error_path, data, context)
            cause = _fail_field(state.cause, state.cause_path, data, context)
            raise _Failed(error, cause)
        if isinstance(state, TaskState):
            return self.task(state, data, entered_time)
        context = self.context(state, entered_time)
        effective = _select(state.input_path, data, context)
        if isinstance(state, PassState):
            if state.has_parameters:
                effective = evaluate(state.parameters, effective, context)
            result = state.result if state.has_result else effective
            output = _place(state.result_path, data, result)
        elif isinstance(state, ChoiceState):
            return _select(state.output_path, effective, context), self.choose(
                state, effective, context
            )
        elif isinstance(state, WaitState):
            self.wait(state, effective, context)
            output = effective
        elif isinstance(state, SucceedState):
            output = effective
        else:  # pragma: no cover - the parser only builds the types above
            raise StateRuntimeError(f"unsupported state type {type(state).__name__}")
        return _select(state.output_path, output, context), None if state.end else state.next

    def choose(self, state: ChoiceState, data: Any, context: Any) -> str:
        for rule in state.choices:
            if rule.condition.matches(data, context):
                return rule.next
        if state.default is not None:
            return state.default
        # Cause wording not confirmed against a recorded AWS execution.
        raise StatesError(
            NO_CHOICE_MATCHED, f"No Choice Rule matched and no Default in state '{state.name}'."
        )

    def wait(self, state: WaitState, data: Any, context: Any) -> None:
        if state.seconds is not None:
            seconds: float = state.seconds
        elif state.seconds_path is not None:
            value = _read_path(state.seconds_path, data, context)
            shown = f"{state.seconds_path.text} == {describe(value)}"
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if not isinstance(value, int) or isinstance(value, bool):
                raise StateRuntimeError(
                    f"The SecondsPath parameter cannot be parsed as a long value: {shown}"
                )
            if value < 0:
                raise StateRuntimeError(
                    f"The SecondsPath parameter references a negative value: {shown}"
                )
            seconds = value
        else:
            stamp = state.timestamp
            if state.timestamp_path is not None:
                value = _read_path(state.timestamp_path, data, context)
                stamp = parse_timestamp(value)
                if stamp is None:
                    raise StateRuntimeError(
                        "The TimestampPath parameter does not reference a valid ISO-8601 extended "
                        "offset date-time format string: "
                        f"{state.timestamp_path.text} == {describe(value)}"
                    )
            assert stamp is not None
            seconds = (to_datetime(stamp) - self.clock.now()).total_seconds()
        if seconds > 0:
            self.clock.sleep(seconds)

    # ---- Task ---------------------------------------------------------------------------------

    def task(self, state: TaskState, data: Any, entered_time: datetime) -> tuple[Any, str | None]:
        attempts = [0] * len(state.retry)
        retry_count = 0
        while True:
            context = self.context(state, entered_time, retry_count)
            effective = _select(state.input_path, data, context)
            if state.has_parameters:
                effective = evaluate(state.parameters, effective, context)
            timeout = state.timeout_seconds
            if state.timeout_seconds_path is not None:
                timeout = _timeout_from_path(state.timeout_seconds_path, effective, context)
            try:
                result = invoke_lambda(
                    state,
                    effective,
                    timeout,
                    lambdas=self.lambdas,
                    history=self.history,
                    clock=self.clock,
                    region=self.region,
                )
                break
            except StateRuntimeError:
                raise
            except StatesError as exc:
                delay = self.retry_delay(state.retry, attempts, exc.error)
                if delay is not None:
                    retry_count += 1
                    if delay > 0:
                        self.clock.sleep(delay)
                    continue
                for catcher in state.catch:
                    if any(_error_matches(pattern, exc.error) for pattern in catcher.errors):
                        error_output: dict[str, Any] = {"Error": exc.error}
                        if exc.cause is not None:
                            error_output["Cause"] = exc.cause
                        return _place(catcher.result_path, data, error_output), catcher.next
                raise
        if state.has_result_selector:
            result = evaluate(state.result_selector, result, context)
        output = _place(state.result_path, data, result)
        return _select(state.output_path, output, context), None if state.end else state.next

    def retry_delay(
        self, retriers: tuple[Retrier, ...], attempts: list[int], error: str
    ) -> float | None:
        """Seconds to wait before the next attempt, or None when no retrier takes this error.

        Only the first retrier whose ErrorEquals matches counts, even when it is used up.
        """
        for index, retrier in enumerate(retriers):
            if any(_error_matches(pattern, error) for pattern in retrier.errors):
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


def _error_matches(pattern: str, error: str) -> bool:
    """ErrorEquals matching: States.ALL takes everything but the terminal States.Runtime and
    States.DataLimitExceeded; States.TaskFailed everything but States.Timeout (AWS guide,
    "Error names"). States.Runtime is never caught or retried."""
    if error == RUNTIME:
        return False
    if pattern == error:
        return True
    if pattern == ALL:
        return error != DATA_LIMIT_EXCEEDED
    if pattern == TASK_FAILED:
        return error not in (TIMEOUT, DATA_LIMIT_EXCEEDED)
    return False


def _read_path(path: JsonPath, data: Any, context: Any) -> Any:
    try:
        return path.find(context if path.context else data)
    except PathNotFound:
        raise StateRuntimeError(
            f"Invalid path '{path.text}' : No results for path: {path.normalized}"
        ) from None


def _select(path: JsonPath | None, data: Any, context: Any) -> Any:
    """InputPath / OutputPath: null gives {}, "$" the value itself."""
    if path is None:
        return {}
    if path.is_root:
        return data
    return _read_path(path, data, context)


def _place(path: JsonPath | None, data: Any, result: Any) -> Any:
    """ResultPath: null keeps the input, "$" is the result, else the result goes into the input."""
    if path is None:
        return data
    try:
        return path.set(data, result)
    except PathNotFound:
        raise StateRuntimeError(
            f"Unable to apply ResultPath '{path.text}' to input '{jsontext.dumps(data)}'",
            error=RESULT_PATH_MATCH_FAILURE,
        ) from None


def _fail_field(constant: str | None, dynamic: Any, data: Any, context: Any) -> str | None:
    if dynamic is None:
        return constant
    value = dynamic.evaluate(data, context)
    return value if isinstance(value, str) else jsontext.dumps(value)


def _timeout_from_path(path: JsonPath, data: Any, context: Any) -> int:
    value = _read_path(path, data, context)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise StateRuntimeError(
            f"The TimeoutSecondsPath parameter does not reference a positive integer: "
            f"{path.text} == {describe(value)}"
        )
    return value


def _too_large(text: str) -> bool:
    return len(text) > MAX_PAYLOAD_BYTES // 4 and len(text.encode()) > MAX_PAYLOAD_BYTES
