"""Virtual time: Retry intervals and Wait states advance a simulated clock, and the history
shows the simulated times (issue 3, "Done when")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tooling.engine import TaskMocks
from tooling.engine.clock import SystemClock, VirtualClock, make_clock
from tooling.engine.ports import LambdaResponse

from .fakes import Runner, ScriptedLambdas, raised
from .test_interpreter import SEED_DEFINITION, SEED_INPUT, seed_handler


def custom_error_twice_then_seed() -> ScriptedLambdas:
    calls = {"n": 0}

    def handler(function: str, event: Any) -> LambdaResponse:
        calls["n"] += 1
        if calls["n"] <= 2:
            return raised("CustomError", "not yet")
        return seed_handler(function, event)

    return ScriptedLambdas(handler)


def test_seed_retries_custom_error_one_then_two_seconds_apart(runner: Runner) -> None:
    start = runner.clock.now()
    outcome = runner.run(SEED_DEFINITION, SEED_INPUT, custom_error_twice_then_seed())

    assert outcome.status == "SUCCEEDED"
    assert '"count":5' in (outcome.output or "")
    scheduled = [
        e["timestamp"] for e in runner.sink.events if e["type"] == "LambdaFunctionScheduled"
    ]
    # Three attempts for the first Task (two CustomError retries), then four more calls.
    assert len(scheduled) == 7
    assert scheduled[1] - scheduled[0] == timedelta(seconds=1)
    assert scheduled[2] - scheduled[1] == timedelta(seconds=2)
    failed = [e for e in runner.sink.events if e["type"] == "LambdaFunctionFailed"]
    assert [e["lambdaFunctionFailedEventDetails"]["error"] for e in failed] == ["CustomError"] * 2
    # The only time that passed is the simulated backoff.
    assert runner.clock.sleeps == [1.0, 2.0]
    assert runner.sink.events[-1]["timestamp"] - start == timedelta(seconds=3)


def test_wait_state_moves_the_virtual_clock_and_the_history(runner: Runner) -> None:
    definition = {
        "StartAt": "W",
        "States": {
            "W": {"Type": "Wait", "Seconds": 3600, "Next": "P"},
            "P": {"Type": "Pass", "End": True},
        },
    }
    runner.run(definition, {})
    entered = {e["type"]: e["timestamp"] for e in runner.sink.events}
    assert entered["PassStateEntered"] - entered["WaitStateEntered"] == timedelta(hours=1)


def test_make_clock_kinds() -> None:
    start = datetime(2030, 1, 1, tzinfo=UTC)
    virtual = make_clock("virtual", start)
    assert isinstance(virtual, VirtualClock) and virtual.now() == start
    assert isinstance(make_clock("real"), SystemClock)
    with pytest.raises(ValueError, match="unknown clock"):
        make_clock("fast")


def test_seed_with_mocked_task_answers_on_the_virtual_clock(runner: Runner) -> None:
    """The 'Done when' run with a mock file instead of a scripted handler: the first two
    invocations throw CustomError, then the loop's answers come from the mock."""
    answers: dict[str, Any] = {"0-1": {"Throw": {"Error": "CustomError", "Cause": "not yet"}}}
    for call in range(2, 6):
        answers[str(call)] = {"Return": {"count": call - 1, "value1": "ThereIsNoSpoon"}}
    answers["6"] = {"Return": {"value1": "value1", "value2": "value2", "count": 5}}
    mocks = TaskMocks.from_config({"LambdaFunction": answers})
    never = ScriptedLambdas(lambda f, e: pytest.fail("the real function must not be called"))

    outcome = runner.run(SEED_DEFINITION, SEED_INPUT, never, mocks=mocks)

    assert outcome.status == "SUCCEEDED"
    assert outcome.output == (
        '{"key1":"value1","key2":"value2","key3":"value3",'
        '"taskresult":{"value1":"value1","value2":"value2","count":5}}'
    )
    scheduled = [
        e["timestamp"] for e in runner.sink.events if e["type"] == "LambdaFunctionScheduled"
    ]
    assert [b - a for a, b in zip(scheduled[:2], scheduled[1:3], strict=True)] == [
        timedelta(seconds=1),
        timedelta(seconds=2),
    ]
    failed = [e for e in runner.sink.events if e["type"] == "LambdaFunctionFailed"]
    assert failed[0]["lambdaFunctionFailedEventDetails"] == {
        "error": "CustomError",
        "cause": "not yet",
    }
