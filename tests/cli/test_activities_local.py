"""Activity Tasks on the local target: `tool invoke` starts a run that waits at the activity,
`tool task activity` takes its work (GetActivityTask) and `tool task success` answers it; a
handler takes it through boto3 on the run's loopback endpoint."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tooling.backends.local import LocalBackend
from tooling.cli import main

pytestmark = pytest.mark.slow  # end-to-end: `make test` runs it, `make test-fast` does not

SERVICE = """\
service: approvals
provider:
  name: aws
  runtime: python3.12
functions:
  worker:
    handler: handler.work
stepFunctions:
  activities:
    - approval
  stateMachines:
    byHand:
      definition:
        StartAt: Approve
        States:
          Approve:
            Type: Task
            Resource: {Ref: ApprovalStepFunctionsActivity}
            Parameters: {"order.$": "$.order"}
            TimeoutSeconds: 3600
            End: true
    byHandler:
      definition:
        StartAt: Both
        States:
          Both:
            Type: Parallel
            End: true
            Branches:
              - StartAt: Approve
                States:
                  Approve:
                    Type: Task
                    Resource: {Ref: ApprovalStepFunctionsActivity}
                    TimeoutSeconds: 3600
                    End: true
              - StartAt: Work
                States:
                  Work:
                    Type: Task
                    Resource: {Fn::GetAtt: [worker, Arn]}
                    End: true
"""

HANDLER = """\
import os, boto3

def work(event, context):
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    arn = "arn:aws:states:us-east-1:000000000000:activity:approval"
    task = sfn.get_activity_task(activityArn=arn, workerName="in-handler")
    sfn.send_task_success(taskToken=task["taskToken"], output='{"by": "handler"}')
    return "worked"
"""


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "serverless.yml").write_text(SERVICE)
    (tmp_path / "handler.py").write_text(HANDLER)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_worker_on_the_command_line_takes_the_task_and_answers_it(
    service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "deploy")
    assert code == 0, err
    code, out, err = run(
        capsys, "invoke", "-m", "byHand", "-d", '{"order": 7}', "--no-wait", "--json"
    )
    assert code == 0, err
    execution = json.loads(out)["executionArn"]

    code, out, err = run(capsys, "task", "activity", "approval", "--worker", "alice", "--json")
    assert code == 0, err
    task = json.loads(out)
    assert task["activityArn"] == "arn:aws:states:us-east-1:000000000000:activity:approval"
    assert json.loads(task["input"]) == {"order": 7}
    (service / "answer.json").write_text('{"approved": true}')
    assert run(capsys, "task", "success", task["taskToken"], "--output", "answer.json")[0] == 0

    code, out, err = run(capsys, "history", execution, "--follow", "--json")
    assert code == 0, err
    ended = json.loads(out)
    assert ended["status"] == "SUCCEEDED" and ended["output"] == {"approved": True}
    events = {e["type"]: e for e in ended["events"]}
    assert events["ActivityStarted"]["activityStartedEventDetails"] == {"workerName": "alice"}
    # Taken once: a second worker finds nothing (no other execution waits).
    assert run(capsys, "task", "success", task["taskToken"], "--output", "answer.json")[0] == 1


def test_a_handler_takes_the_task_through_boto3(
    service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "deploy")[0] == 0
    code, out, err = run(capsys, "invoke", "-m", "byHandler", "--json")
    assert code == 0, err
    assert json.loads(out)["output"] == [{"by": "handler"}, "worked"]


def _wait_until(condition: Callable[[], bool], seconds: float = 60.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _types(backend: LocalBackend, arn: str) -> list[str]:
    return [e["type"] for e in backend.history_since(arn, 0)]


@pytest.mark.parametrize("taken_before_the_kill", [True, False])
def test_sigkill_of_the_worker_keeps_the_attempt_and_its_answer(
    service: Path, capsys: pytest.CaptureFixture[str], taken_before_the_kill: bool
) -> None:
    assert run(capsys, "deploy")[0] == 0
    backend = LocalBackend(service, "us-east-1")
    machine = "arn:aws:states:us-east-1:000000000000:stateMachine:approvals-dev-byHand"
    arn = backend.start_execution(machine, "killed", '{"order": 1}')["executionArn"]
    assert _wait_until(lambda: "ActivityScheduled" in _types(backend, arn))
    activity = "arn:aws:states:us-east-1:000000000000:activity:approval"
    taken = backend.get_activity_task(activity, "before") if taken_before_the_kill else {}
    record = backend.store.get_execution(arn)
    assert record is not None and record.worker_pid is not None
    os.kill(record.worker_pid, signal.SIGKILL)
    if not taken_before_the_kill:
        taken = backend.get_activity_task(activity, "after")  # still offered, while no one runs
    backend.send_task_success(taken["taskToken"], '{"approved": 1}')  # answered during the crash

    # Whoever looks next finds the owner gone and resumes the run on the same attempt.
    assert _wait_until(
        lambda: LocalBackend(service, "us-east-1").describe_execution(arn)["status"] != "RUNNING"
    )
    ended = backend.describe_execution(arn)
    assert ended["status"] == "SUCCEEDED" and json.loads(ended["output"]) == {"approved": 1}
    types = _types(backend, arn)
    assert types.count("ActivityScheduled") == 1 and types.count("ActivityStarted") == 1
    assert [e["id"] for e in backend.history_since(arn, 0)] == list(range(1, len(types) + 1))
    # Nothing is left to take: the attempt was taken once.
    assert backend.store.claim_activity_task(activity, "x", datetime.now(UTC)) is None
