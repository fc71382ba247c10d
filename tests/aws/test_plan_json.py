"""`tool plan --json` prints the plan as data (docs/deploy.md), against a moto server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tooling.aws.client import ApiCall, recording_calls
from tooling.cli import main

from .cli_runs import mutating
from .conftest import MOTO_ACCOUNT, REGION

FUNCTION_ROLE = ("role", "hello-loop-dev-us-east-1-lambdaRole")
LOG_GROUP = ("log group", "/aws/lambda/hello-loop-dev-hello")
FUNCTION = ("function", "hello-loop-dev-hello")
MACHINE_ROLE = ("role", "hello-loop-dev-us-east-1-loop-sfnRole")
MACHINE = ("state machine", "hello-loop-dev-loop")
DLQ = ("queue", "hello-loop-dev-loop-trigger-dlq")
QUEUE = ("queue", "hello-loop-dev-loop-trigger")
TRIGGER_ROLE = ("role", "hello-loop-dev-us-east-1-loop-sqsRole")
TRIGGER_LOG_GROUP = ("log group", "/aws/lambda/hello-loop-dev-loop-sqs-trigger")
TRIGGER_FUNCTION = ("function", "hello-loop-dev-loop-sqs-trigger")
MAPPING = ("event source mapping", "hello-loop-dev-loop-trigger -> hello-loop-dev-loop-sqs-trigger")
SECOND_ROLE = ("role", "hello-loop-dev-us-east-1-second-sfnRole")
SECOND = ("state machine", "hello-loop-dev-second")

# Every resource of the example service on AWS, in plan order, with what it depends on.
RESOURCES: list[tuple[tuple[str, str], list[tuple[str, str]]]] = [
    (FUNCTION_ROLE, []),
    (LOG_GROUP, []),
    (FUNCTION, [FUNCTION_ROLE, LOG_GROUP]),
    (MACHINE_ROLE, []),
    (MACHINE, [MACHINE_ROLE, FUNCTION]),
    (DLQ, []),
    (QUEUE, [DLQ]),
    (TRIGGER_ROLE, []),
    (TRIGGER_LOG_GROUP, []),
    (TRIGGER_FUNCTION, [TRIGGER_ROLE, TRIGGER_LOG_GROUP, MACHINE]),
    (MAPPING, [QUEUE, TRIGGER_FUNCTION]),
]


def change(
    address: tuple[str, str],
    action: str,
    depends_on: list[tuple[str, str]],
    reasons: list[str] | None = None,
    attributes: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "kind": address[0],
        "name": address[1],
        "action": action,
        "reasons": reasons or [],
        "attributes": attributes or [],
        "dependsOn": [{"kind": kind, "name": name} for kind, name in depends_on],
    }


def everything(action: str, **changed: dict[str, Any]) -> list[dict[str, Any]]:
    return [changed.get(address[1], change(address, action, needs)) for address, needs in RESOURCES]


def plan(capsys: pytest.CaptureFixture[str]) -> tuple[dict[str, Any], list[ApiCall]]:
    with recording_calls() as calls:
        code = main(["plan", "--target", "aws", "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out), calls


def deploy(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["deploy", "--target", "aws"])
    assert code == 0, capsys.readouterr().err
    capsys.readouterr()


def test_first_deploy(aws_env: str, service: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document, calls = plan(capsys)
    assert document == {
        "target": "aws",
        "stage": "dev",
        "region": REGION,
        "account": MOTO_ACCOUNT,
        "dryRun": True,
        "changes": everything("create"),
        "leftAlone": [],
    }
    assert mutating(calls) == []


def test_no_op_redeploy(aws_env: str, service: Path, capsys: pytest.CaptureFixture[str]) -> None:
    deploy(capsys)
    document, calls = plan(capsys)
    assert document["changes"] == everything("unchanged")
    assert [c for c in document["changes"] if c["action"] != "unchanged"] == []
    assert calls and mutating(calls) == []
    with recording_calls() as calls:
        deploy(capsys)
    assert mutating(calls) == []


def test_a_handler_edit_changes_only_the_functions_code(
    aws_env: str, service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deploy(capsys)
    handler = service / "handler.py"
    handler.write_text(handler.read_text() + "\n# edited\n")
    document, _ = plan(capsys)
    edited = change(
        FUNCTION, "update", [FUNCTION_ROLE, LOG_GROUP], ["code changed"], ["CodeSha256"]
    )
    assert document["changes"] == everything("unchanged", **{FUNCTION[1]: edited})
    with recording_calls() as calls:
        deploy(capsys)
    assert mutating(calls) == ["UpdateFunctionCode"]


def test_a_definition_edit_updates_only_the_state_machine(
    aws_env: str, service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deploy(capsys)
    asl = service / "statemachine.asl.json"
    asl.write_text(asl.read_text().replace('"Invalid response."', '"Bad response."'))
    document, _ = plan(capsys)
    edited = change(
        MACHINE, "update", [MACHINE_ROLE, FUNCTION], ["definition changed"], ["definition"]
    )
    assert document["changes"] == everything("unchanged", **{MACHINE[1]: edited})
    with recording_calls() as calls:
        deploy(capsys)
    assert mutating(calls) == ["UpdateStateMachine"]


SECOND_MACHINE = """    second:
      name: ${self:service}-${sls:stage}-second
      definition:
        StartAt: Done
        States:
          Done:
            Type: Pass
            End: true
"""


def test_a_removed_state_machine_is_deleted_by_the_sweeper(
    aws_env: str, service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = service / "serverless.yml"
    original = config.read_text()
    config.write_text(original.replace("  stateMachines:\n", "  stateMachines:\n" + SECOND_MACHINE))
    deploy(capsys)
    config.write_text(original)
    document, calls = plan(capsys)
    gone = ["no longer in serverless.yml"]
    assert document["changes"] == [
        *everything("unchanged"),
        change(SECOND, "delete", [SECOND_ROLE], gone),
        change(SECOND_ROLE, "delete", [], gone),
    ]
    assert mutating(calls) == []
    with recording_calls() as calls:
        deploy(capsys)
    assert mutating(calls) == ["DeleteStateMachine", "DeleteRole"]  # its role had no policy


def test_a_function_deleted_by_hand_is_planned_and_created_again(
    aws_env: str, service: Path, capsys: pytest.CaptureFixture[str], aws: Any
) -> None:
    deploy(capsys)
    aws.lambda_.delete_function(FunctionName=FUNCTION[1])
    document, _ = plan(capsys)
    missing = change(
        FUNCTION, "create", [FUNCTION_ROLE, LOG_GROUP], ["recorded but missing on the target"]
    )
    assert document["changes"] == everything("unchanged", **{FUNCTION[1]: missing})
    with recording_calls() as calls:
        deploy(capsys)
    assert mutating(calls) == ["CreateFunction"]
    assert plan(capsys)[0]["changes"] == everything("unchanged")
