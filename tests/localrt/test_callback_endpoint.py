"""The loopback SendTask* endpoint: botocore talks to it as to Step Functions, and handlers run
by `tool run` and `tool invoke` answer their own task token through it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tooling.cli import main
from tooling.engine.callbacks import InMemoryTaskCallbacks, new_token
from tooling.engine.clock import VirtualClock
from tooling.engine.ports import CallbackOutcome
from tooling.localrt.callback_endpoint import CallbackEndpoint

pytestmark = pytest.mark.slow  # end-to-end: `make test` runs it, `make test-fast` does not

ARN = "arn:aws:states:us-east-1:000000000000:execution:m:run"


@pytest.fixture
def callbacks() -> InMemoryTaskCallbacks:
    return InMemoryTaskCallbacks(VirtualClock())


@pytest.fixture
def sfn(callbacks: InMemoryTaskCallbacks) -> Iterator[Any]:
    with CallbackEndpoint(callbacks) as endpoint:
        env = endpoint.environment()
        assert env["AWS_ENDPOINT_URL_SFN"].startswith("http://127.0.0.1:")
        yield boto3.client(
            "stepfunctions",
            endpoint_url=env["AWS_ENDPOINT_URL_SFN"],
            region_name="us-east-1",
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=env["AWS_SESSION_TOKEN"],
        )


def code_of(call: Any, **params: Any) -> str:
    with pytest.raises(ClientError) as info:
        call(**params)
    return str(info.value.response["Error"]["Code"])


def test_the_three_actions_reach_the_tokens(callbacks: InMemoryTaskCallbacks, sfn: Any) -> None:
    token = callbacks.issue(ARN, "T")
    sfn.send_task_heartbeat(taskToken=token)
    sfn.send_task_success(taskToken=token, output='{"a": 1}')
    status = callbacks.status(token)
    assert status.heartbeats == 1 and status.outcome == CallbackOutcome(output='{"a": 1}')
    other = callbacks.issue(ARN, "T")
    sfn.send_task_failure(taskToken=other, error="E", cause="C")
    assert callbacks.status(other).outcome == CallbackOutcome(failed=True, error="E", cause="C")


def test_refusals_are_the_api_errors(callbacks: InMemoryTaskCallbacks, sfn: Any) -> None:
    token = callbacks.issue(ARN, "T")
    assert code_of(sfn.send_task_success, taskToken=token, output="{no") == "InvalidOutput"
    assert code_of(sfn.send_task_heartbeat, taskToken="x") == "InvalidToken"
    assert code_of(sfn.send_task_heartbeat, taskToken=new_token()) == "TaskDoesNotExist"
    callbacks.close(token)
    with pytest.raises(sfn.exceptions.TaskTimedOut):
        sfn.send_task_failure(taskToken=token)
    assert code_of(sfn.describe_execution, executionArn=ARN) == "UnknownOperationException"


APPROVER = """
import json

import boto3


def handler(event, context):
    sfn = boto3.client("stepfunctions")
    token = event["token"]
    sfn.send_task_heartbeat(taskToken=token)
    if event["order"] == "bad":
        sfn.send_task_failure(taskToken=token, error="Rejected", cause="bad order")
    else:
        sfn.send_task_success(taskToken=token, output=json.dumps({"approved": event["order"]}))
    try:
        sfn.send_task_success(taskToken=token, output="{}")
    except sfn.exceptions.TaskTimedOut:
        return {"second answer": "refused"}
    return {"second answer": "taken"}
"""
SERVERLESS = """
service: approvals
provider:
  name: aws
  runtime: python3.12
  region: us-east-1
package:
  patterns: ['!**', approver.py]
functions:
  approver:
    handler: approver.handler
stepFunctions:
  stateMachines:
    approval:
      definition: ${file(approval.asl.json)}
"""
DEFINITION = {
    "StartAt": "Approve",
    "States": {
        "Approve": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {
                "FunctionName": "approvals-dev-approver",
                "Payload": {"token.$": "$$.Task.Token", "order.$": "$.order"},
            },
            "TimeoutSeconds": 60,
            "HeartbeatSeconds": 30,
            "End": True,
        }
    },
}


@pytest.fixture
def approvals(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "approvals"
    folder.mkdir()
    (folder / "approver.py").write_text(APPROVER)
    (folder / "serverless.yml").write_text(SERVERLESS)
    (folder / "approval.asl.json").write_text(json.dumps(DEFINITION, indent=2))
    (folder / "good.json").write_text('{"order": "42"}')
    (folder / "bad.json").write_text('{"order": "bad"}')
    monkeypatch.chdir(folder)
    return folder


def tool(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out else {}, captured.err


def submitted_payload(result: dict[str, Any]) -> Any:
    [submitted] = [e for e in result["events"] if e["type"] == "TaskSubmitted"]
    return json.loads(submitted["taskSubmittedEventDetails"]["output"])["Payload"]


def test_a_handler_answers_its_own_token_under_tool_run(approvals: Path, capsys) -> None:
    code, result, err = tool(capsys, "run", "approval.asl.json", "--input", "good.json", "--json")
    assert code == 0, err
    assert result["output"] == {"approved": "42"}
    assert submitted_payload(result) == {"second answer": "refused"}
    code, result, _ = tool(capsys, "run", "approval.asl.json", "--input", "bad.json", "--json")
    assert code == 1 and (result["error"], result["cause"]) == ("Rejected", "bad order")


def test_a_handler_answers_its_own_token_under_tool_invoke(approvals: Path, capsys) -> None:
    assert tool(capsys, "deploy", "--json")[0] == 0
    code, result, err = tool(capsys, "invoke", "--input", "good.json", "--json")
    assert code == 0, err
    assert result["output"] == {"approved": "42"}
    types = [event["type"] for event in result["events"]]
    assert types[2:6] == ["TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded"]
    assert submitted_payload(result) == {"second answer": "refused"}
