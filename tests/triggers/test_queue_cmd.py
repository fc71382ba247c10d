"""`tool send`, `tool worker`, `tool queue` on the local target, through the CLI entry point."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tooling.backends.local import LocalBackend
from tooling.cli import main
from tooling.follow import follow_execution

ROOT = Path(__file__).resolve().parents[2]
SEED_OUTPUT = {
    "key1": "value1",
    "key2": "value2",
    "key3": "value3",
    "taskresult": {"value1": "value1", "value2": "value2", "count": 5},
}


@pytest.fixture
def service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("serverless.yml", "handler.py", "statemachine.asl.json", "in.json"):
        shutil.copy(ROOT / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_send_then_worker_once_runs_the_seed_under_the_message_id(service: Path, capsys):
    assert run(capsys, "deploy")[0] == 0
    code, out, err = run(capsys, "send", "--input", "in.json")
    assert code == 0, err
    message_id = out.strip()
    code, out, err = run(capsys, "worker", "--once")
    assert code == 0, err
    assert f"started         {message_id}" in err
    assert "loop: received 1, started 1" in out
    backend = LocalBackend(service, "us-east-1")
    arn = backend.resolve_execution(message_id)
    followed = follow_execution(backend, arn)
    assert followed.description["status"] == "SUCCEEDED"
    assert json.loads(followed.description["output"]) == SEED_OUTPUT
    # Nothing is left on the queue, and a second worker run starts nothing.
    code, out, _ = run(capsys, "worker", "--once", "--json")
    assert json.loads(out)["stateMachines"]["loop"]["received"] == 0


def test_a_body_that_is_not_json_ends_in_the_dead_letter_queue_with_its_reason(
    service: Path, capsys
):
    (service / "bad.txt").write_text("this is not json")
    code, out, err = run(capsys, "send", "--input", "bad.txt")
    assert code == 0 and "warning: the body is not a JSON document" in err
    message_id = out.strip()
    assert run(capsys, "worker", "--once")[0] == 0
    code, out, _ = run(capsys, "queue", "--json")
    (queue,) = json.loads(out)["queues"]
    assert (queue["queue"], queue["visible"], queue["inFlight"]) == (
        "hello-loop-dev-loop-trigger",
        0,
        0,
    )
    (letter,) = queue["deadLetters"]
    assert letter["messageId"] == message_id
    assert letter["receiveCount"] == 5  # maxReceiveCount in serverless.yml
    assert letter["reason"].startswith("the body is not a JSON document")
    code, out, _ = run(capsys, "queue")
    assert "1 dead-lettered" in out and message_id in out
    assert LocalBackend(service, "us-east-1").list_executions() == []

    code, out, _ = run(capsys, "queue", "redrive")
    assert out.strip() == "hello-loop-dev-loop-trigger: 1 message(s) moved back"
    code, out, _ = run(capsys, "queue", "--json")
    assert json.loads(out)["queues"][0]["visible"] == 1


def test_send_count_gives_distinct_message_ids(service: Path, capsys):
    code, out, _ = run(capsys, "send", "-i", "in.json", "--count", "3", "--json")
    assert code == 0
    ids = json.loads(out)["messageIds"]
    assert len(set(ids)) == 3


def test_a_state_machine_without_trigger_is_a_clear_error(service: Path, capsys):
    text = (service / "serverless.yml").read_text()
    (service / "serverless.yml").write_text(text.split("      # Each message")[0])
    code, _, err = run(capsys, "send", "-i", "in.json")
    assert code == 2
    assert "state machine 'loop' has no sqs trigger" in err
    code, _, err = run(capsys, "worker", "--once")
    assert code == 2
    assert "no state machine in serverless.yml has an sqs trigger" in err
