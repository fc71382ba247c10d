"""lambda:invoke.waitForTaskToken on a VirtualClock: the callback's outcomes, heartbeats and
timeouts, Retry and Catch, mocks, and the history AWS writes for them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest

from tooling.engine import TaskMocks, parse_definition
from tooling.engine.callbacks import Heartbeat, InMemoryTaskCallbacks, TaskTokenError
from tooling.engine.ports import CallbackOutcome, LambdaResponse
from tooling.errors import DefinitionError

from .fakes import Runner, ScriptedLambdas, details, ok, raised

WAIT = "arn:aws:states:::lambda:invoke.waitForTaskToken"
IDS = {"resourceType": "lambda", "resource": "invoke.waitForTaskToken"}


def machine(**extra: Any) -> dict[str, Any]:
    task = {
        "Type": "Task",
        "Resource": WAIT,
        "Parameters": {"FunctionName": "worker", "Payload": {"token.$": "$$.Task.Token"}},
        "End": True,
        **extra,
    }
    return {
        "StartAt": "T",
        "States": {
            "T": task,
            "Beat": {"Type": "Pass", "Result": "heartbeat", "End": True},
            "Late": {"Type": "Pass", "Result": "timeout", "End": True},
        },
    }


def success(value: Any) -> CallbackOutcome:
    return CallbackOutcome(output=json.dumps(value))


class Worker:
    """A Lambda that schedules what happens to each token it receives, per call."""

    def __init__(
        self, callbacks: InMemoryTaskCallbacks, *plans: Sequence[tuple[float, Any]]
    ) -> None:
        self.callbacks = callbacks
        self.plans = list(plans)
        self.tokens: list[str] = []
        self.lambdas = ScriptedLambdas(self.handle)

    def handle(self, function: str, event: Any) -> LambdaResponse:
        token = event["token"]
        self.tokens.append(token)
        plan = self.plans[len(self.tokens) - 1] if len(self.tokens) <= len(self.plans) else []
        for after, action in plan:
            self.callbacks.schedule(token, after, action)
        return ok({"accepted": True})


def run(runner: Runner, definition: dict[str, Any], *plans: Sequence[tuple[float, Any]], **kw: Any):
    callbacks = InMemoryTaskCallbacks(runner.clock)
    worker = Worker(callbacks, *plans)
    outcome = runner.run(definition, {"n": 1}, worker.lambdas, callbacks=callbacks, **kw)
    return outcome, worker, callbacks


def event(runner: Runner, event_type: str, nth: int = 0) -> dict[str, Any]:
    return [e for e in runner.sink.events if e["type"] == event_type][nth]


def seconds_between(runner: Runner, first: str, second: str) -> float:
    delta = event(runner, second)["timestamp"] - event(runner, first)["timestamp"]
    return delta.total_seconds()


def test_success_records_scheduled_started_submitted_succeeded(runner: Runner) -> None:
    definition = machine(TimeoutSeconds=60, HeartbeatSeconds=10)
    outcome, worker, _ = run(runner, definition, [(3, success({"done": True}))])
    assert outcome.status == "SUCCEEDED" and outcome.output == '{"done":true}'
    assert runner.sink.types == [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSubmitted",
        "TaskSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]
    scheduled = details(event(runner, "TaskScheduled"))
    assert scheduled["timeoutInSeconds"] == 60 and scheduled["heartbeatInSeconds"] == 10
    assert json.loads(scheduled["parameters"])["Payload"] == {"token": worker.tokens[0]}
    assert details(event(runner, "TaskStarted")) == IDS
    submitted = details(event(runner, "TaskSubmitted"))
    assert json.loads(submitted["output"])["Payload"] == {"accepted": True}
    assert details(event(runner, "TaskSucceeded"))["output"] == '{"done":true}'
    assert seconds_between(runner, "TaskSubmitted", "TaskSucceeded") == 3


def test_scheduled_omits_limits_that_are_not_set(runner: Runner) -> None:
    run(runner, machine(), [(1, success(1))])
    assert set(details(event(runner, "TaskScheduled"))) == {
        "resourceType",
        "resource",
        "region",
        "parameters",
    }


def test_send_task_failure_fails_the_task_with_its_error_and_cause(runner: Runner) -> None:
    failure = CallbackOutcome(failed=True, error="Rejected", cause="not today")
    outcome, _, _ = run(runner, machine(), [(2, failure)])
    assert (outcome.status, outcome.error, outcome.cause) == ("FAILED", "Rejected", "not today")
    assert details(event(runner, "TaskFailed")) == {
        **IDS,
        "error": "Rejected",
        "cause": "not today",
    }


def test_a_missed_heartbeat_times_out_as_states_timeout(runner: Runner) -> None:
    outcome, _, _ = run(runner, machine(TimeoutSeconds=60, HeartbeatSeconds=5), [])
    assert (outcome.status, outcome.error, outcome.cause) == ("FAILED", "States.Timeout", None)
    assert details(event(runner, "TaskTimedOut")) == {**IDS, "error": "States.Timeout"}
    assert seconds_between(runner, "TaskSubmitted", "TaskTimedOut") == 5


def test_heartbeats_keep_the_task_alive_until_it_succeeds(runner: Runner) -> None:
    plan = [(4, Heartbeat()), (8, Heartbeat()), (12, success("late but alive"))]
    outcome, _, _ = run(runner, machine(HeartbeatSeconds=5), plan)
    assert outcome.output == '"late but alive"'
    assert seconds_between(runner, "TaskSubmitted", "TaskSucceeded") == 12


def test_catch_tells_a_missed_heartbeat_from_the_overall_timeout(runner: Runner) -> None:
    catch = [
        {"ErrorEquals": ["States.HeartbeatTimeout"], "Next": "Beat"},
        {"ErrorEquals": ["States.Timeout"], "Next": "Late"},
    ]
    definition = machine(TimeoutSeconds=10, HeartbeatSeconds=5, Catch=catch)
    outcome, _, _ = run(runner, definition, [])
    assert outcome.output == '"heartbeat"'

    steady = [(after, Heartbeat()) for after in range(2, 40, 2)]
    late = Runner()
    outcome, _, _ = run(late, definition, steady)
    assert outcome.output == '"timeout"'
    assert seconds_between(late, "TaskStarted", "TaskTimedOut") == 10


def test_a_missed_heartbeat_is_also_caught_as_states_timeout(runner: Runner) -> None:
    catch = [{"ErrorEquals": ["States.Timeout"], "Next": "Late", "ResultPath": "$.error"}]
    outcome, _, _ = run(runner, machine(HeartbeatSeconds=5, Catch=catch), [])
    assert outcome.status == "SUCCEEDED" and outcome.output == '"timeout"'


def test_states_task_failed_does_not_take_a_heartbeat_timeout(runner: Runner) -> None:
    catch = [{"ErrorEquals": ["States.TaskFailed"], "Next": "Beat"}]
    outcome, _, _ = run(runner, machine(HeartbeatSeconds=5, Catch=catch), [])
    assert outcome.status == "FAILED" and outcome.error == "States.Timeout"


def test_retry_on_heartbeat_timeout_issues_a_new_token(runner: Runner) -> None:
    retry = [{"ErrorEquals": ["States.HeartbeatTimeout"], "IntervalSeconds": 2, "MaxAttempts": 1}]
    definition = machine(HeartbeatSeconds=5, Retry=retry)
    outcome, worker, callbacks = run(runner, definition, [], [(1, success("second"))])
    assert outcome.output == '"second"'
    assert runner.sink.types.count("TaskScheduled") == 2
    assert runner.sink.types.count("TaskTimedOut") == 1
    first, second = worker.tokens
    assert first != second and callbacks.issued == [first, second]
    with pytest.raises(TaskTokenError) as info:
        callbacks.send_success(first, "{}")
    assert info.value.code == "TaskTimedOut"


def test_retry_on_states_timeout_does_not_retry_a_sendtaskfailure(runner: Runner) -> None:
    retry = [{"ErrorEquals": ["States.Timeout"], "MaxAttempts": 3}]
    failure = CallbackOutcome(failed=True, error="Nope")
    outcome, worker, _ = run(runner, machine(Retry=retry), [(1, failure)])
    assert outcome.error == "Nope" and len(worker.tokens) == 1


def test_the_function_failing_fails_the_task_before_any_callback(runner: Runner) -> None:
    callbacks = InMemoryTaskCallbacks(runner.clock)
    lambdas = ScriptedLambdas(lambda f, e: raised("ValueError", "bad event"))
    outcome = runner.run(machine(HeartbeatSeconds=5), {}, lambdas, callbacks=callbacks)
    assert outcome.error == "ValueError"
    assert "TaskSubmitted" not in runner.sink.types
    assert details(event(runner, "TaskFailed"))["resource"] == "invoke.waitForTaskToken"
    with pytest.raises(TaskTokenError):
        callbacks.send_success(callbacks.issued[0], "{}")


def test_the_execution_timeout_ends_a_wait_without_an_answer(runner: Runner) -> None:
    definition = {**machine(), "TimeoutSeconds": 30}
    outcome, _, _ = run(runner, definition, [])
    assert outcome.status == "TIMED_OUT"
    started = event(runner, "ExecutionStarted")["timestamp"]
    assert event(runner, "ExecutionTimedOut")["timestamp"] == started + timedelta(seconds=30)


def test_heartbeat_seconds_path_reads_the_state_input(runner: Runner) -> None:
    definition = machine(
        HeartbeatSecondsPath="$.beat",
        Parameters={"FunctionName": "worker", "Payload": {"token.$": "$$.Task.Token"}},
    )
    callbacks = InMemoryTaskCallbacks(runner.clock)
    worker = Worker(callbacks, [])
    runner.run(definition, {"beat": 7}, worker.lambdas, callbacks=callbacks)
    assert details(event(runner, "TaskScheduled"))["heartbeatInSeconds"] == 7
    assert seconds_between(runner, "TaskSubmitted", "TaskTimedOut") == 7


def test_jsonata_passes_the_token_and_computes_the_heartbeat(runner: Runner) -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": WAIT,
                "Arguments": {
                    "FunctionName": "worker",
                    "Payload": {"token": "{% $states.context.Task.Token %}"},
                },
                "HeartbeatSeconds": "{% $states.input.n * 3 %}",
                "Output": "{% $states.result.v %}",
                "End": True,
            }
        },
    }
    outcome, worker, _ = run(runner, definition, [(2, success({"v": 42}))])
    assert outcome.output == "42"
    assert details(event(runner, "TaskScheduled"))["heartbeatInSeconds"] == 3
    assert worker.tokens and len(worker.tokens[0]) == 64


def test_mocks_answer_as_the_callback(runner: Runner) -> None:
    catch = [{"ErrorEquals": ["States.HeartbeatTimeout"], "Next": "Beat"}]
    mocks = TaskMocks.from_config(
        {
            "T": {
                "0": {"Throw": {"Error": "States.HeartbeatTimeout"}},
                "1": {"Return": {"mocked": True}},
            }
        }
    )
    retry = [{"ErrorEquals": ["States.HeartbeatTimeout"], "MaxAttempts": 1}]
    outcome, worker, _ = run(
        runner, machine(HeartbeatSeconds=5, Retry=retry, Catch=catch), mocks=mocks
    )
    assert outcome.output == '{"mocked":true}'
    assert worker.tokens == []  # the function is never called
    assert runner.sink.types.count("TaskTimedOut") == 1
    assert json.loads(details(event(runner, "TaskSubmitted"))["output"])["Payload"] is None


def test_a_mocked_throw_is_a_send_task_failure(runner: Runner) -> None:
    mocks = TaskMocks.from_config({"T": {"0": {"Throw": {"Error": "Denied", "Cause": "c"}}}})
    outcome, _, _ = run(runner, machine(), mocks=mocks)
    assert (outcome.error, outcome.cause) == ("Denied", "c")
    assert details(event(runner, "TaskFailed")) == {**IDS, "error": "Denied", "cause": "c"}


def test_a_callback_task_in_a_parallel_branch_waits_on_the_virtual_clock(runner: Runner) -> None:
    task = machine(HeartbeatSeconds=30)["States"]["T"]
    definition = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "T", "States": {"T": task}},
                    {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 20, "End": True}}},
                ],
                "End": True,
            }
        },
    }
    outcome, _, _ = run(runner, definition, [(25, success("cb"))])
    assert outcome.status == "SUCCEEDED" and json.loads(outcome.output or "")[0] == "cb"
    assert seconds_between(runner, "ExecutionStarted", "ExecutionSucceeded") == 25


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (
            {"Parameters": {"FunctionName": "worker", "Payload": {"token": "$$.Task.Token"}}},
            "needs Parameters to pass the task token",
        ),
        ({"TimeoutSeconds": 5, "HeartbeatSeconds": 5}, "must be smaller than TimeoutSeconds"),
        ({"HeartbeatSeconds": 5, "HeartbeatSecondsPath": "$.h"}, "keep one"),
    ],
)
def test_bad_callback_tasks_are_rejected(extra: dict[str, Any], fragment: str) -> None:
    with pytest.raises(DefinitionError) as info:
        parse_definition(machine(**extra))
    assert fragment in info.value.message


def test_a_token_inside_an_intrinsic_counts_as_passing_it() -> None:
    parameters = {
        "FunctionName": "worker",
        "Payload": {"text.$": "States.Format('token {}', $$.Task.Token)"},
    }
    parse_definition(machine(Parameters=parameters))
