"""tool task success|failure|heartbeat on the local target (the AWS target: tests/aws)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tooling.backends.local import state_dir
from tooling.cli import main
from tooling.engine.callbacks import new_token
from tooling.localrt.store import ExecutionRecord, Store

ARN = "arn:aws:states:us-east-1:000000000000:execution:hello-loop-dev-loop:run"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def store(service: Path) -> Store:
    store = Store(state_dir(service) / "local.db")
    now = datetime(2024, 1, 1, tzinfo=UTC)
    store.insert_execution(
        ExecutionRecord(ARN, "run", ARN, "{}", "RUNNING", "{}", None, None, None, now, None, None)
    )
    return store


def pending(store: Store) -> str:
    token = new_token()
    store.add_task_token(token, ARN, "Approve", datetime(2024, 1, 1, tzinfo=UTC))
    return token


def test_success_from_a_file_answers_the_token(store: Store, service: Path, capsys) -> None:
    token = pending(store)
    (service / "out.json").write_text('{"approved": true}')
    code, out, err = run(capsys, "task", "success", token, "--output", "out.json", "--json")
    assert code == 0, err
    assert json.loads(out) == {"action": "SendTaskSuccess", "taskToken": token, "target": "local"}
    outcome = store.task_token_status(token).outcome
    assert outcome is not None and json.loads(outcome.output or "") == {"approved": True}


def test_success_from_stdin(store: Store, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    token = pending(store)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"[1, 2]")))
    code, out, err = run(capsys, "task", "success", token, "--output", "-")
    assert (code, out) == (0, "")
    assert err.splitlines()[-1] == "SendTaskSuccess: done"


def test_failure_and_heartbeat(store: Store, capsys) -> None:
    token = pending(store)
    assert run(capsys, "task", "heartbeat", token)[0] == 0
    code, _, err = run(capsys, "task", "failure", token, "--error", "Rejected", "--cause", "no")
    assert code == 0, err
    status = store.task_token_status(token)
    assert status.heartbeats == 1
    assert status.outcome is not None
    assert (status.outcome.error, status.outcome.cause) == ("Rejected", "no")


def test_an_answered_token_is_gone(store: Store, capsys) -> None:
    token = pending(store)
    assert run(capsys, "task", "failure", token)[0] == 0
    code, out, err = run(capsys, "task", "heartbeat", token, "--json")
    assert (code, out) == (1, "")
    assert (
        "send task heartbeat failed: TaskTimedOut: "
        "Task Timed Out: 'Provided task does not exist anymore'"
    ) in err


def test_an_unknown_token_does_not_exist(store: Store, capsys) -> None:
    code, _, err = run(capsys, "task", "heartbeat", new_token())
    assert code == 1 and "TaskDoesNotExist" in err


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("heartbeat", "not-a-token"), "InvalidToken"),
        (("success", "TOKEN", "--output", "bad.json"), "bad.json:1:2: invalid JSON output"),
        (("success", "TOKEN", "--output", "missing.json"), "missing.json: no such file"),
        (("failure", "TOKEN", "--error", "E" * 257), "at most 256"),
    ],
)
def test_bad_input_is_exit_2(store: Store, service: Path, capsys, args, fragment) -> None:
    token = pending(store)
    (service / "bad.json").write_text("{oops")
    code, out, err = run(capsys, "task", *(token if a == "TOKEN" else a for a in args))
    assert (code, out) == (2, "")
    assert fragment in err
    assert store.task_token_status(token).outcome is None
