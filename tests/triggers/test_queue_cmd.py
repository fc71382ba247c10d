"""`tool send`, `tool worker`, `tool queue` on the local target, through the CLI entry point."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tooling.backends.local import LocalBackend
from tooling.cli import main
from tooling.follow import follow_execution
from tooling.localrt.queue import LocalQueues

pytestmark = pytest.mark.slow  # end-to-end: `make test` runs it, `make test-fast` does not

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
    assert run(capsys, "deploy")[0] == 0
    code, out, err = run(capsys, "send", "--raw", "--input", "bad.txt")
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
    assert run(capsys, "deploy")[0] == 0
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


BANNER = "hello-loop · target local · stage dev · us-east-1 · account 000000000000"


def test_send_queue_and_redrive_name_their_target_on_stderr(service: Path, capsys):
    assert run(capsys, "deploy")[0] == 0
    for args in (("send", "-i", "in.json"), ("queue",), ("queue", "redrive")):
        code, _, err = run(capsys, *args)
        assert code == 0, err
        assert err.splitlines()[0] == BANNER, args


def test_send_reads_the_body_before_it_touches_the_target(service: Path, capsys):
    code, out, err = run(capsys, "send", "-i", "missing.json")
    assert (code, out) == (2, "")
    assert err == "error: missing.json: no such file (pass a file with --input, or - for stdin)\n"


def test_redrive_json_is_one_object_counting_the_messages_moved(service: Path, capsys):
    (service / "bad.txt").write_text("not json")
    assert run(capsys, "deploy")[0] == 0
    run(capsys, "send", "--raw", "--input", "bad.txt")
    assert run(capsys, "worker", "--once")[0] == 0
    code, out, err = run(capsys, "queue", "redrive", "--json")
    assert code == 0, err
    assert json.loads(out) == {"moved": {"hello-loop-dev-loop-trigger": 1}}


def test_redrive_takes_the_options_given_to_queue(service: Path, capsys):
    code, _, err = run(capsys, "queue", "--target", "nowhere", "redrive")
    assert code == 2
    assert "unknown target 'nowhere'" in err
    code, _, err = run(capsys, "queue", "--stage", "prod", "redrive")
    assert "stage prod" in err.splitlines()[0]
    # Nothing is deployed in stage prod: no queue comes into being just by being looked at.
    assert code == 2
    assert err.splitlines()[-1] == (
        "error: queue 'hello-loop-prod-loop-trigger' is not deployed in us-east-1 on the local"
        " target (run `tool deploy --region us-east-1` first)"
    )
    # The subcommand's own option wins.
    code, _, err = run(capsys, "queue", "--stage", "prod", "redrive", "--stage", "qa")
    assert "stage qa" in err.splitlines()[0]


def test_worker_exits_1_when_messages_could_not_start_an_execution(service: Path, capsys):
    # The state machine is gone (the queue stays): starting fails, and is retried.
    assert run(capsys, "deploy")[0] == 0
    backend = LocalBackend(service, "us-east-1")
    backend.store.delete_state_machine(
        f"arn:aws:states:us-east-1:{backend.account_id}:stateMachine:hello-loop-dev-loop"
    )
    run(capsys, "send", "--input", "in.json")
    code, out, err = run(capsys, "worker", "--once", "--json")
    assert code == 1
    assert json.loads(out)["stateMachines"] == {
        "loop": {"received": 1, "started": 0, "alreadyStarted": 0, "rejected": 0, "failed": 1}
    }
    assert "StateMachineDoesNotExist" in err
    assert "1 message(s) could not start an execution and stay on the queue" in err
    code, out, _ = run(capsys, "queue", "--json")
    assert json.loads(out)["queues"][0]["visible"] + json.loads(out)["queues"][0]["inFlight"] == 1


def test_no_trigger_errors_end_in_one_plain_hint(service: Path, capsys):
    text = (service / "serverless.yml").read_text()
    (service / "serverless.yml").write_text(text.split("      # Each message")[0])
    for args in (("send", "-i", "in.json"), ("worker", "--once")):
        code, _, err = run(capsys, *args)
        error = err.splitlines()[-1]
        assert code == 2
        assert error.endswith("; see docs/sqs.md)"), error
        assert error.count("(") == 1, error


def test_each_region_has_its_own_trigger_queues(service: Path, capsys):
    for region in ("us-east-1", "eu-west-1"):
        assert run(capsys, "deploy", "--region", region)[0] == 0
    assert run(capsys, "send", "-i", "in.json", "--count", "2", "--region", "eu-west-1")[0] == 0

    def waiting(region: str) -> int:
        code, out, err = run(capsys, "queue", "--json", "--region", region)
        assert code == 0, err
        return json.loads(out)["queues"][0]["visible"]

    assert (waiting("us-east-1"), waiting("eu-west-1")) == (0, 2)
    # Removing one region's deployment leaves the other's queue and its messages alone.
    assert run(capsys, "remove", "--region", "us-east-1")[0] == 0
    assert waiting("eu-west-1") == 2
    code, _, err = run(capsys, "send", "-i", "in.json", "--region", "us-east-1")
    assert code == 2 and "is not deployed in us-east-1" in err


def test_queues_of_an_older_state_file_keep_their_messages(service: Path, capsys):
    # Before queues were kept by ARN, the state file held them under their bare names.
    queues = LocalQueues(service / ".tool" / "local.db")
    queues.create_queue("hello-loop-dev-loop-trigger-dlq")
    queues.create_queue(
        "hello-loop-dev-loop-trigger",
        dead_letter_queue="hello-loop-dev-loop-trigger-dlq",
        max_receive_count=5,
    )
    (message_id,) = queues.send_messages("hello-loop-dev-loop-trigger", ['{"n": 1}'])
    code, out, err = run(capsys, "queue", "--json")
    assert code == 0, err
    assert json.loads(out)["queues"][0]["visible"] == 1
    assert [q.name for q in queues.list_queues()] == [
        "arn:aws:sqs:us-east-1:000000000000:hello-loop-dev-loop-trigger",
        "arn:aws:sqs:us-east-1:000000000000:hello-loop-dev-loop-trigger-dlq",
    ]
    (received,) = queues.receive_messages(
        "arn:aws:sqs:us-east-1:000000000000:hello-loop-dev-loop-trigger"
    )
    assert received["MessageId"] == message_id
