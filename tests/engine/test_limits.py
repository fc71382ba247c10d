"""Execution-wide limits: 25,000 history events, the state machine's TimeoutSeconds, bad input."""

from __future__ import annotations

from tooling.engine.history import MAX_EVENTS

from .fakes import Runner, details

ENDLESS = {
    "StartAt": "Loop",
    "States": {"Loop": {"Type": "Pass", "Next": "Loop"}},
}


def test_history_limit_fails_the_execution_as_its_last_event(runner: Runner) -> None:
    outcome = runner.run(ENDLESS, {})
    assert outcome.status == "FAILED"
    assert outcome.error == "States.Runtime"
    assert "maximum number of history events (25000)" in (outcome.cause or "")
    events = runner.sink.events
    assert len(events) == MAX_EVENTS
    assert events[-1]["type"] == "ExecutionFailed"
    assert events[-1]["id"] == MAX_EVENTS


def test_state_machine_timeout_seconds_times_the_execution_out(runner: Runner) -> None:
    definition = {
        "TimeoutSeconds": 5,
        "StartAt": "W",
        "States": {"W": {"Type": "Wait", "Seconds": 60, "End": True}},
    }
    outcome = runner.run(definition, {})
    assert (outcome.status, outcome.error) == ("TIMED_OUT", "States.Timeout")
    assert runner.sink.types[-1] == "ExecutionTimedOut"
    assert details(runner.sink.events[-1])["error"] == "States.Timeout"
    assert runner.clock.sleeps == [5]  # the clock stops at the deadline, not after the Wait


def test_input_that_is_not_json_fails_cleanly() -> None:
    from tooling.engine import parse_definition, run_execution
    from tooling.engine.clock import VirtualClock

    from .fakes import INFO, RecordingSink, ScriptedLambdas, ok

    sink = RecordingSink()
    outcome = run_execution(
        parse_definition({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
        "{not json",
        info=INFO,
        clock=VirtualClock(),
        lambdas=ScriptedLambdas(lambda f, e: ok(e)),
        history=sink,
    )
    assert outcome.status == "FAILED"
    assert sink.types == ["ExecutionStarted", "ExecutionFailed"]
