"""A state machine feeding another one's trigger queue on the local target: sqs:sendMessage from
`tool run` and from a deployed state machine, then `tool worker --once` starts the seed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tooling.backends.local import LocalBackend
from tooling.cli import main
from tooling.follow import follow_execution

pytestmark = pytest.mark.slow  # end-to-end: `make test` runs it, `make test-fast` does not

TRIGGER_URL = "https://sqs.us-east-1.amazonaws.com/000000000000/hello-loop-dev-loop-trigger"
SEED_OUTPUT = {
    "key1": "value1",
    "key2": "value2",
    "key3": "value3",
    "taskresult": {"value1": "value1", "value2": "value2", "count": 5},
}
FEEDER = {
    "StartAt": "Feed",
    "States": {
        "Feed": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sqs:sendMessage",
            "Parameters": {"QueueUrl": TRIGGER_URL, "MessageBody.$": "$"},
            "End": True,
        }
    },
}


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def seed_run_of(service: Path, message_id: str) -> dict[str, object]:
    backend = LocalBackend(service, "us-east-1")
    return follow_execution(backend, backend.resolve_execution(message_id)).description


def test_tool_run_feeds_the_seed_trigger_queue_and_the_worker_starts_it(
    service: Path, capsys
) -> None:
    assert run(capsys, "deploy")[0] == 0
    (service / "feeder.asl.json").write_text(json.dumps(FEEDER))
    code, out, err = run(capsys, "run", "feeder.asl.json", "--input", "in.json", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["status"] == "SUCCEEDED"
    message_id = result["output"]["MessageId"]
    types = [event["type"] for event in result["events"]]
    assert types[2:5] == ["TaskScheduled", "TaskStarted", "TaskSucceeded"]
    code, out, err = run(capsys, "worker", "--once")
    assert code == 0, err
    assert "loop: received 1, started 1" in out
    description = seed_run_of(service, message_id)
    assert description["status"] == "SUCCEEDED"
    assert json.loads(str(description["output"])) == SEED_OUTPUT


def test_a_deployed_state_machine_feeds_the_queue(service: Path, capsys) -> None:
    (service / "feeder.asl.json").write_text(json.dumps(FEEDER))
    config = (service / "serverless.yml").read_text()
    config += "    feeder:\n      definition: ${file(feeder.asl.json)}\n"
    (service / "serverless.yml").write_text(config)
    code, _, err = run(capsys, "deploy")
    assert code == 0, err
    code, out, err = run(
        capsys, "invoke", "--state-machine", "feeder", "--input", "in.json", "--json"
    )
    assert code == 0, err
    message_id = json.loads(out)["output"]["MessageId"]
    code, out, err = run(capsys, "worker", "--once", "--state-machine", "loop", "--json")
    assert code == 0, err
    assert json.loads(out)["stateMachines"]["loop"]["started"] == 1
    assert seed_run_of(service, message_id)["status"] == "SUCCEEDED"


def test_before_deploy_the_queue_does_not_exist(service: Path, capsys) -> None:
    (service / "feeder.asl.json").write_text(json.dumps(FEEDER))
    code, out, _ = run(capsys, "run", "feeder.asl.json", "--input", "in.json", "--json")
    assert code == 1
    result = json.loads(out)
    assert (result["status"], result["error"]) == ("FAILED", "SQS.QueueDoesNotExistException")
