"""Resuming an execution after a crash (tooling.engine.replay), in this process.

A run is killed after its k-th event (the sink stops taking events, as a SIGKILLed worker
would), then resumed from the k events it stored. The resumed run must end as the uninterrupted
one did, with the same history: no event lost or written twice, ids 1..n, the same event types.
The recorded-AWS conformance corpus supplies the definitions, plus a few of our own that wait,
retry, call functions and run branches side by side.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tooling.engine import ExecutionInfo, parse_definition, run_execution
from tooling.engine.callbacks import InMemoryTaskCallbacks
from tooling.engine.clock import VirtualClock
from tooling.engine.ports import LambdaResponse
from tooling.engine.replay import ReplayLog

from .conformance import CASES

START = datetime(2024, 5, 1, tzinfo=UTC)
INFO = ExecutionInfo(
    execution_arn="arn:aws:states:us-east-1:123456789012:execution:m:run",
    name="run",
    state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:m",
    state_machine_name="m",
    role_arn="arn:aws:iam::123456789012:role/r",
    start_time=START,
)


class Killed(BaseException):
    """The process died: nothing after this is stored."""


class Store:
    """A positioned sink that dies after `limit` events (None: never)."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = limit
        self.stored: list[tuple[dict[str, Any], dict[str, Any]]] = []

    def append(self, event: dict[str, Any]) -> None:  # pragma: no cover - append_at is used
        raise AssertionError("a positioned sink gets append_at")

    def append_at(self, event: dict[str, Any], position: dict[str, Any]) -> None:
        if self.limit is not None and len(self.stored) >= self.limit:
            raise Killed()
        self.stored.append((dict(event), json.loads(json.dumps(position))))


class Lambdas:
    """Answers with its payload; a payload {"fail": n, "try": k} fails while k < n."""

    def __init__(self) -> None:
        self.calls = 0

    def invoke(
        self, function: str, payload: str, *, timeout_seconds: float | None = None
    ) -> LambdaResponse:
        self.calls += 1
        value = json.loads(payload)
        if isinstance(value, dict) and value.get("try", 0) < value.get("fail", 0):
            error = {"errorType": "Flaky", "errorMessage": f"try {value['try']}"}
            return LambdaResponse(json.dumps(error), function_error="Unhandled")
        return LambdaResponse(payload)

    def invoke_event(self, function: str, payload: str) -> LambdaResponse:
        raise AssertionError("these definitions make no asynchronous Lambda calls")


def run(
    definition: Any, input_value: Any, store: Store, replay: ReplayLog | None = None
) -> tuple[Any, Lambdas]:
    machine = parse_definition(definition)
    start = START
    if replay is not None and replay.last_timestamp is not None:
        start = replay.last_timestamp  # a resumed run's clock goes on from the record
    lambdas = Lambdas()
    outcome = run_execution(
        machine,
        json.dumps(input_value),
        info=INFO,
        clock=VirtualClock(start),
        lambdas=lambdas,
        history=store,
        replay=replay,
    )
    return outcome, lambdas


def crash_points(total: int) -> list[int]:
    if total <= 12:
        return list(range(1, total))
    return sorted(
        {1, 2, 3, total // 4, total // 3, total // 2, 2 * total // 3, total - 2, total - 1}
    )


def check_resumes(definition: Any, input_value: Any, exact_order: bool = True) -> int:
    """Kill the run at several points, resume it, compare with the uninterrupted run. Returns
    how many crash points were checked."""
    whole = Store()
    expected, _ = run(definition, input_value, whole)
    expected_types = [event["type"] for event, _ in whole.stored]
    points = crash_points(len(whole.stored))
    for k in points:
        killed = Store(limit=k)
        with contextlib.suppress(Killed):
            run(definition, input_value, killed)
        resumed = Store()
        outcome, _ = run(definition, input_value, resumed, ReplayLog(killed.stored))
        where = f"killed after event {k} of {len(whole.stored)}"
        assert (outcome.status, outcome.error, outcome.cause) == (
            expected.status,
            expected.error,
            expected.cause,
        ), where
        assert json.loads(outcome.output or "null") == json.loads(expected.output or "null"), where
        events = [event for event, _ in killed.stored + resumed.stored]
        assert [event["id"] for event in events] == list(range(1, len(events) + 1)), where
        types = [event["type"] for event in sorted(events, key=lambda e: e["id"])]
        if exact_order:
            assert types == expected_types, where
        else:
            assert Counter(types) == Counter(expected_types), where
        for event in events:
            assert 0 <= event["previousEventId"] < event["id"], where
    return len(points)


# Cases whose runs are not deterministic, so no two runs (crashed or not) have the same output.
_RANDOM = ("UUID", "Random", "$random", "$uuid", "$now", "$millis")


def test_every_conformance_case_resumes_to_the_same_end() -> None:
    if not CASES.is_dir():
        pytest.skip(f"conformance corpus not found at {CASES} (expected beside the repository)")
    checked = 0
    for path in sorted(CASES.glob("*/*.json")):
        case = json.loads(path.read_text(encoding="utf-8"))
        text = json.dumps(case["definition"])
        if any(word in text for word in _RANDOM):
            continue
        try:
            parse_definition(case["definition"])
        except Exception:  # noqa: BLE001 - invalid definitions never run
            continue
        try:
            checked += check_resumes(
                case["definition"],
                case.get("input", {}),
                exact_order=case.get("event_order") != "unordered",
            )
        except AssertionError as exc:
            raise AssertionError(f"{path.parent.name}/{path.stem}: {exc}") from None
    assert checked > 2000


def task(**fields: Any) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f",
        **fields,
    }


WAIT_AND_RETRY = {
    "StartAt": "Prepare",
    "States": {
        "Prepare": {"Type": "Pass", "Result": {"fail": 2}, "ResultPath": "$.flaky", "Next": "Nap"},
        "Nap": {"Type": "Wait", "Seconds": 30, "Next": "Flaky"},
        "Flaky": task(
            Parameters={"fail.$": "$.flaky.fail", "try.$": "$$.State.RetryCount"},
            Retry=[{"ErrorEquals": ["Flaky"], "IntervalSeconds": 5, "MaxAttempts": 3}],
            ResultPath="$.flaky",
            Next="Loop",
        ),
        "Loop": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.n", "NumericLessThan": 3, "Next": "Count"}],
            "Default": "Done",
        },
        "Count": {
            "Type": "Pass",
            "Parameters": {"n.$": "States.MathAdd($.n, 1)", "flaky.$": "$.flaky"},
            "Next": "Nap",
        },
        "Done": {"Type": "Succeed"},
    },
}

BRANCHES = {
    "StartAt": "Both",
    "States": {
        "Both": {
            "Type": "Parallel",
            "Branches": [
                {
                    "StartAt": "Slow",
                    "States": {
                        "Slow": {"Type": "Wait", "Seconds": 20, "Next": "Call"},
                        "Call": task(End=True),
                    },
                },
                {
                    "StartAt": "Each",
                    "States": {
                        "Each": {
                            "Type": "Map",
                            "MaxConcurrency": 2,
                            "ItemsPath": "$.items",
                            "ItemProcessor": {
                                "StartAt": "Work",
                                "States": {
                                    "Work": task(
                                        Parameters={
                                            "item.$": "$",
                                            "fail": 1,
                                            "try.$": "$$.State.RetryCount",
                                        },
                                        Retry=[
                                            {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 2}
                                        ],
                                        Next="Rest",
                                    ),
                                    "Rest": {"Type": "Wait", "Seconds": 3, "End": True},
                                },
                            },
                            "End": True,
                        }
                    },
                },
            ],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
            "End": True,
        },
        "Caught": {"Type": "Pass", "End": True},
    },
}

INLINE_MAP = {
    "StartAt": "Each",
    "States": {
        "Each": {
            "Type": "Map",
            "MaxConcurrency": 1,
            "ItemProcessor": {
                "StartAt": "Double",
                "States": {
                    "Double": {
                        "Type": "Pass",
                        "Parameters": {"x.$": "States.MathAdd($, $)"},
                        "Next": "Call",
                    },
                    "Call": task(End=True),
                },
            },
            "End": True,
        }
    },
}


@pytest.mark.parametrize(
    ("definition", "input_value"),
    [
        (WAIT_AND_RETRY, {"n": 0}),
        (BRANCHES, {"items": [1, 2, 3, 4, 5]}),
        (INLINE_MAP, [1, 2, 3, 4]),
    ],
    ids=["wait-retry-loop", "parallel-map-waits", "inline-map"],
)
def test_a_run_killed_anywhere_resumes_to_the_same_end(definition: Any, input_value: Any) -> None:
    whole = Store()
    run(definition, input_value, whole)
    for k in range(1, len(whole.stored)):
        killed = Store(limit=k)
        with contextlib.suppress(Killed):
            run(definition, input_value, killed)
        resumed = Store()
        outcome, _ = run(definition, input_value, resumed, ReplayLog(killed.stored))
        assert outcome.status == "SUCCEEDED", (k, outcome)
    assert check_resumes(definition, input_value, exact_order=False) > 0


def test_a_resumed_wait_sleeps_only_what_is_left() -> None:
    killed = Store(limit=4)  # ExecutionStarted, Prepare entered and exited, Nap entered
    with pytest.raises(Killed):
        run(WAIT_AND_RETRY, {"n": 3}, killed)
    entered = killed.stored[-1][0]
    assert entered["type"] == "WaitStateEntered"
    replay = ReplayLog(killed.stored)
    machine = parse_definition(WAIT_AND_RETRY)
    clock = VirtualClock(entered["timestamp"] + timedelta(seconds=12))  # back 12 s later
    resumed = Store()
    run_execution(
        machine,
        json.dumps({"n": 3}),
        info=INFO,
        clock=clock,
        lambdas=Lambdas(),
        history=resumed,
        replay=replay,
    )
    assert clock.sleeps[0] == pytest.approx(18)
    exited = resumed.stored[0][0]
    assert exited["type"] == "WaitStateExited"
    assert exited["timestamp"] == entered["timestamp"] + timedelta(seconds=30)
    assert exited["previousEventId"] == entered["id"]


def test_a_finished_task_attempt_is_not_called_again() -> None:
    whole = Store()
    _, lambdas = run(WAIT_AND_RETRY, {"n": 3}, whole)
    assert lambdas.calls == 3  # two failures, then the answer
    succeeded = next(
        i for i, (e, _) in enumerate(whole.stored) if e["type"] == "LambdaFunctionSucceeded"
    )
    killed = Store(limit=succeeded + 1)
    with pytest.raises(Killed):
        run(WAIT_AND_RETRY, {"n": 3}, killed)
    _, again = run(WAIT_AND_RETRY, {"n": 3}, Store(), ReplayLog(killed.stored))
    assert again.calls == 0
    # Killed while the last attempt was in flight: it runs again, once.
    started = succeeded - 1
    killed = Store(limit=started + 1)
    with pytest.raises(Killed):
        run(WAIT_AND_RETRY, {"n": 3}, killed)
    resumed = Store()
    _, again = run(WAIT_AND_RETRY, {"n": 3}, resumed, ReplayLog(killed.stored))
    assert again.calls == 1
    assert resumed.stored[0][0]["type"] == "LambdaFunctionSucceeded"
    assert resumed.stored[0][0]["previousEventId"] == killed.stored[-1][0]["id"]


def test_a_state_that_ended_is_not_evaluated_again() -> None:
    definition = {
        "StartAt": "Name",
        "States": {
            "Name": {"Type": "Pass", "Parameters": {"id.$": "States.UUID()"}, "Next": "Nap"},
            "Nap": {"Type": "Wait", "Seconds": 5, "End": True},
        },
    }
    killed = Store(limit=4)
    with pytest.raises(Killed):
        run(definition, {}, killed)
    recorded = json.loads(killed.stored[2][0]["stateExitedEventDetails"]["output"])
    outcome, _ = run(definition, {}, Store(), ReplayLog(killed.stored))
    assert json.loads(outcome.output or "null") == recorded


def test_a_resumed_run_that_goes_another_way_fails_clearly() -> None:
    first = {"StartAt": "A", "States": {"A": {"Type": "Wait", "Seconds": 5, "End": True}}}
    changed = {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}
    killed = Store(limit=2)
    with pytest.raises(Killed):
        run(first, {}, killed)
    resumed = Store()
    outcome, _ = run(changed, {}, resumed, ReplayLog(killed.stored))
    assert (outcome.status, outcome.error) == ("FAILED", "States.Runtime")
    assert outcome.cause is not None and "could not be resumed" in outcome.cause
    assert [e["type"] for e, _ in resumed.stored] == ["ExecutionFailed"]


def test_a_resumed_callback_task_waits_on_the_token_it_had() -> None:
    definition = {
        "StartAt": "Ask",
        "States": {
            "Ask": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {"FunctionName": "f", "Payload": {"token.$": "$$.Task.Token"}},
                "TimeoutSeconds": 3600,
                "End": True,
            }
        },
    }
    machine = parse_definition(definition)

    class Callbacks(InMemoryTaskCallbacks):
        dying = True  # a SIGKILLed worker closes nothing on its way out

        def close(self, token: str) -> None:
            if not self.dying:
                super().close(token)

    callbacks = Callbacks(VirtualClock(START), poll_seconds=1)

    def go(store: Store, replay: ReplayLog | None, lambdas: Lambdas) -> Any:
        clock = VirtualClock(replay.last_timestamp if replay and replay.last_timestamp else START)
        return run_execution(
            machine, "{}", info=INFO, clock=clock, lambdas=lambdas, history=store,
            callbacks=callbacks, replay=replay,
        )  # fmt: skip

    killed = Store(limit=5)  # ... TaskSubmitted: the request went out, then the worker died
    with pytest.raises(Killed):
        go(killed, None, Lambdas())
    assert killed.stored[-1][0]["type"] == "TaskSubmitted"
    [token] = callbacks.issued
    callbacks.dying = False
    callbacks.send_success(token, '{"ok": true}')  # answered while nothing ran
    lambdas = Lambdas()
    outcome = go(Store(), ReplayLog(killed.stored), lambdas)
    assert (outcome.status, outcome.output) == ("SUCCEEDED", '{"ok":true}')
    assert lambdas.calls == 0  # the request was not sent again
    assert callbacks.issued == [token]  # and no second token
