"""Activity Tasks on the local target: `tool invoke` starts a run that waits at the activity,
`tool task activity` takes its work (GetActivityTask) and `tool task success` answers it; a
handler takes it through boto3 on the run's loopback endpoint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

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
