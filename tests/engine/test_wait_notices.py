"""The engine tells `on_wait` of each Wait state and Retry interval before it sleeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tooling.engine import parse_definition, run_execution
from tooling.engine.clock import VirtualClock
from tooling.engine.ports import WaitNotice

from .fakes import INFO, RecordingSink, ScriptedLambdas, ok, raised


def test_the_engine_tells_of_retry_intervals_and_wait_states() -> None:
    definition = {
        "StartAt": "Pause",
        "States": {
            "Pause": {"Type": "Wait", "Seconds": 30, "Next": "Call"},
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:lambda:us-east-1:123456789012:function:worker",
                "Retry": [
                    {"ErrorEquals": ["Other"], "MaxAttempts": 9},
                    {"ErrorEquals": ["Boom"], "IntervalSeconds": 2, "MaxAttempts": 2},
                ],
                "End": True,
            },
        },
    }
    calls: list[int] = []

    def handler(function: str, event: Any) -> Any:
        calls.append(1)
        return raised("Boom", "not yet") if len(calls) < 3 else ok({"done": True})

    clock = VirtualClock(datetime(2024, 1, 1, tzinfo=UTC))
    heard: list[WaitNotice] = []
    outcome = run_execution(
        parse_definition(definition),
        "{}",
        info=INFO,
        clock=clock,
        lambdas=ScriptedLambdas(handler),
        history=RecordingSink(),
        on_wait=heard.append,
    )
    assert outcome.status == "SUCCEEDED"
    start = datetime(2024, 1, 1, tzinfo=UTC)
    assert heard == [
        WaitNotice("Pause", "Wait", 30, start + timedelta(seconds=30)),
        WaitNotice("Call", "Retry", 2.0, start + timedelta(seconds=32), "Boom", 1, 2),
        WaitNotice("Call", "Retry", 4.0, start + timedelta(seconds=36), "Boom", 2, 2),
    ]
