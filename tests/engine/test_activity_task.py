"""Activity Tasks on a VirtualClock: a worker takes the attempt (GetActivityTask), answers its
token; the Activity* events, TimeoutSeconds from scheduling, HeartbeatSeconds from the start,
Retry, and the port's GetActivityTask (oldest first, one taker)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from tooling.engine.callbacks import Heartbeat, InMemoryTaskCallbacks, Taken
from tooling.engine.clock import VirtualClock
from tooling.engine.ports import CallbackOutcome

from .fakes import Runner, details

ACTIVITY = "arn:aws:states:us-east-1:123456789012:activity:approve"


def machine(**extra: Any) -> dict[str, Any]:
    task = {"Type": "Task", "Resource": ACTIVITY, "End": True, **extra}
    return {"StartAt": "T", "States": {"T": task}}


class Workers(InMemoryTaskCallbacks):
    """Plays the activity's workers: what happens to each attempt, after it is offered."""

    def __init__(self, runner: Runner, *plans: Sequence[tuple[float, Any]]) -> None:
        super().__init__(runner.clock)
        self.plans = list(plans)
        self.offered: list[tuple[str, str]] = []

    def schedule_activity(self, token: str, activity_arn: str, input_text: str) -> None:
        super().schedule_activity(token, activity_arn, input_text)
        self.offered.append((activity_arn, input_text))
        for after, action in self.plans.pop(0) if self.plans else []:
            self.schedule(token, after, action)


def types(runner: Runner) -> list[str]:
    return [e["type"] for e in runner.sink.events]


def event(runner: Runner, event_type: str, nth: int = 0) -> dict[str, Any]:
    return [e for e in runner.sink.events if e["type"] == event_type][nth]


def at(runner: Runner, event_type: str, nth: int = 0) -> float:
    start = runner.sink.events[0]["timestamp"]
    return float((event(runner, event_type, nth)["timestamp"] - start).total_seconds())


def success(value: Any) -> CallbackOutcome:
    return CallbackOutcome(output=json.dumps(value))


def test_a_worker_takes_the_task_and_its_answer_is_the_result(runner: Runner) -> None:
    workers = Workers(runner, [(4, Taken("w-1")), (6, success({"approved": True}))])
    definition = machine(Parameters={"order.$": "$.id"}, TimeoutSeconds=60, HeartbeatSeconds=30)
    outcome = runner.run(definition, {"id": 7}, callbacks=workers)
    assert outcome.status == "SUCCEEDED" and json.loads(outcome.output or "") == {"approved": True}
    assert types(runner) == [
        "ExecutionStarted",
        "TaskStateEntered",
        "ActivityScheduled",
        "ActivityStarted",
        "ActivitySucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]
    assert details(event(runner, "ActivityScheduled")) == {
        "resource": ACTIVITY,
        "input": '{"order":7}',
        "inputDetails": {"truncated": False},
        "timeoutInSeconds": 60,
        "heartbeatInSeconds": 30,
    }
    assert workers.offered == [(ACTIVITY, '{"order":7}')]
    assert details(event(runner, "ActivityStarted")) == {"workerName": "w-1"}
    assert details(event(runner, "ActivitySucceeded")) == {
        "output": '{"approved":true}',
        "outputDetails": {"truncated": False},
    }
    assert (at(runner, "ActivityStarted"), at(runner, "ActivitySucceeded")) == (4, 6)


def test_send_task_failure_fails_the_task_and_retry_offers_a_new_attempt(
    runner: Runner,
) -> None:
    failure = CallbackOutcome(failed=True, error="Rejected", cause="no stock")
    workers = Workers(runner, [(1, Taken()), (2, failure)], [(1, Taken()), (2, success(1))])
    retry = [{"ErrorEquals": ["Rejected"], "IntervalSeconds": 3, "MaxAttempts": 1}]
    outcome = runner.run(machine(Retry=retry), {}, callbacks=workers)
    assert outcome.status == "SUCCEEDED" and outcome.output == "1"
    assert details(event(runner, "ActivityFailed")) == {"error": "Rejected", "cause": "no stock"}
    assert details(event(runner, "ActivityStarted")) == {}  # no workerName given
    assert len(workers.offered) == 2 and len(set(workers.issued)) == 2  # a token per attempt


def test_timeout_counts_from_scheduling_so_an_untaken_task_times_out(runner: Runner) -> None:
    workers = Workers(runner, [])
    outcome = runner.run(machine(TimeoutSeconds=30), {}, callbacks=workers)
    assert (outcome.status, outcome.error) == ("FAILED", "States.Timeout")
    assert "ActivityStarted" not in types(runner)
    assert details(event(runner, "ActivityTimedOut")) == {"error": "States.Timeout"}
    assert at(runner, "ActivityTimedOut") == 30


def test_heartbeat_counts_from_the_start_and_each_beat(runner: Runner) -> None:
    workers = Workers(runner, [(10, Taken()), (14, Heartbeat()), (30, success(1))])
    catch = [{"ErrorEquals": ["States.HeartbeatTimeout"], "Next": "Late"}]
    definition = machine(TimeoutSeconds=100, HeartbeatSeconds=5, Catch=catch)
    definition["States"]["Late"] = {"Type": "Pass", "End": True}
    outcome = runner.run(definition, {}, callbacks=workers)
    assert outcome.status == "SUCCEEDED"  # caught as States.HeartbeatTimeout
    assert at(runner, "ActivityTimedOut") == 19  # the beat at 14 s, plus 5 s


def test_get_activity_task_gives_the_oldest_attempt_to_one_worker() -> None:
    callbacks = InMemoryTaskCallbacks(VirtualClock())
    first = callbacks.issue("arn:e1", "T")
    second = callbacks.issue("arn:e2", "T")
    callbacks.schedule_activity(second, ACTIVITY, '"b"')
    callbacks.schedule_activity(first, ACTIVITY, '"a"')
    callbacks.schedule_activity(first, ACTIVITY, '"again"')  # a resumed attempt: unchanged
    assert callbacks.get_activity_task(ACTIVITY + "-other", "w") is None
    assert callbacks.get_activity_task(ACTIVITY, "w1") == (first, '"a"')
    assert callbacks.activity_worker(first) == "w1"
    assert callbacks.get_activity_task(ACTIVITY, "w2") == (second, '"b"')
    assert callbacks.get_activity_task(ACTIVITY, "w3") is None
