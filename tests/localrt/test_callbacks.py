"""Task tokens in the local store: an execution waits on one while another process answers it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tooling.backends.local import state_dir
from tooling.engine import ExecutionInfo, ExecutionOutcome, parse_definition, run_execution
from tooling.engine.callbacks import REAL_PAUSE_SECONDS
from tooling.engine.clock import VirtualClock
from tooling.engine.ports import CallbackOutcome, LambdaResponse, TaskCallbacks
from tooling.localrt.callbacks import StoreTaskCallbacks
from tooling.localrt.store import Store

pytestmark = pytest.mark.slow  # end-to-end: `make test` runs it, `make test-fast` does not

WAIT = "arn:aws:states:::lambda:invoke.waitForTaskToken"
DEFINITION = {
    "StartAt": "T",
    "States": {
        "T": {
            "Type": "Task",
            "Resource": WAIT,
            "Parameters": {"FunctionName": "worker", "Payload": {"token.$": "$$.Task.Token"}},
            "End": True,
        }
    },
}


ARN = "arn:aws:states:us-east-1:000000000000:execution:m:run"
INFO = ExecutionInfo(ARN, "run", "arn:aws:states:us-east-1:000000000000:stateMachine:m", "m", "")


class Handler:
    """A LambdaInvoker calling `answer(token)` with the token each invocation carries."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer

    def invoke(
        self, function: str, payload: str, *, timeout_seconds: float | None = None
    ) -> LambdaResponse:
        self.answer(json.loads(payload)["token"])
        return LambdaResponse(payload="null")

    def invoke_event(self, function: str, payload: str) -> LambdaResponse:
        raise AssertionError("these state machines call their functions synchronously")


def execute(
    definition: dict[str, Any], clock: VirtualClock, handler: Handler, callbacks: TaskCallbacks
) -> tuple[ExecutionOutcome, list[dict[str, Any]]]:
    events: list[dict[str, Any]] = []

    class Sink:
        def append(self, event: dict[str, Any]) -> None:
            events.append(event)

    outcome = run_execution(
        parse_definition(definition),
        "{}",
        info=INFO,
        clock=clock,
        lambdas=handler,
        history=Sink(),
        callbacks=callbacks,
    )
    return outcome, events


def tool(service: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    code = "import sys; from tooling.cli import entry_point; sys.argv[0] = 'tool'; entry_point()"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=service,
        timeout=120,
        check=False,
    )


def test_a_token_answered_by_tool_task_in_another_process(service: Path) -> None:
    store = Store(state_dir(service) / "local.db")
    clock = VirtualClock()
    answers: list[subprocess.CompletedProcess[str]] = []

    def answer(token: str) -> None:
        # The "function" hands its token to a separate `tool task` process, as a worker would.
        answers.append(tool(service, "task", "heartbeat", token))
        answers.append(tool(service, "task", "success", token, "--output", "-", stdin='{"ok": 1}'))

    callbacks = StoreTaskCallbacks(store, clock)
    outcome, events = execute(DEFINITION, clock, Handler(answer), callbacks)
    assert [answer.returncode for answer in answers] == [0, 0], [a.stderr for a in answers]
    assert outcome.status == "SUCCEEDED" and outcome.output == '{"ok":1}'
    assert [e["type"] for e in events][-4:-2] == ["TaskSubmitted", "TaskSucceeded"]
    # The attempt is over: its token is closed for good.
    late = tool(service, "task", "failure", callbacks_token(store), "--error", "E")
    assert late.returncode == 1
    assert "TaskTimedOut: Task Timed Out: 'Provided task does not exist anymore'" in late.stderr


def callbacks_token(store: Store) -> str:
    row = store._db().execute("SELECT token FROM task_tokens").fetchone()
    return str(row["token"])


def test_the_waiter_polls_on_the_execution_clock(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite")
    clock = VirtualClock()
    callbacks = StoreTaskCallbacks(store, clock, poll_seconds=0.5)
    definition = json.loads(json.dumps(DEFINITION))
    definition["States"]["T"]["HeartbeatSeconds"] = 3
    outcome, _ = execute(definition, clock, Handler(lambda token: None), callbacks)
    assert outcome.error == "States.Timeout"
    assert clock.sleeps == [0.5] * 6  # 3 s of polling, in no real time


def test_a_pending_token_pauses_in_real_time_so_a_virtual_clock_does_not_spin(
    tmp_path: Path, monkeypatch: Any
) -> None:
    pauses: list[float] = []
    monkeypatch.setattr(time, "sleep", pauses.append)  # the module's time.sleep
    store = Store(tmp_path / "local.db")
    callbacks = StoreTaskCallbacks(store, VirtualClock(datetime(2024, 1, 1, tzinfo=UTC)))
    token = callbacks.issue("arn:aws:states:us-east-1:000000000000:execution:m:e", "Wait")
    assert callbacks.status(token).outcome is None
    assert pauses == [REAL_PAUSE_SECONDS]
    store.answer_task_token(token, CallbackOutcome(output="{}"))
    assert callbacks.status(token).outcome is not None
    assert pauses == [REAL_PAUSE_SECONDS]  # an answered token is not waited on
