"""A state machine's `role` and `iamRoleStatements`, deployed by the real CLI to moto."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tooling.cli import main

from .conftest import MOTO_ACCOUNT, REGION

MACHINE_ARN = f"arn:aws:states:{REGION}:{MOTO_ACCOUNT}:stateMachine:hello-loop-dev-loop"
MACHINE_ROLE = "hello-loop-dev-us-east-1-loop-sfnRole"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{MOTO_ACCOUNT}:function:hello-loop-dev-hello"


def add_to_machine(service: Path, lines: str) -> None:
    config = service / "serverless.yml"
    anchor = "      definition: ${file(statemachine.asl.json)}\n"
    text = config.read_text()
    assert anchor in text
    config.write_text(text.replace(anchor, anchor + lines))


def deploy(capsys: pytest.CaptureFixture[str]) -> str:
    code = main(["deploy", "--target", "aws"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def test_a_machine_with_role_uses_that_arn_and_gets_no_generated_role(
    aws_env: str, service: Path, aws: Any, capsys: pytest.CaptureFixture[str]
):
    own = aws.iam.create_role(
        RoleName="my-machine-role",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    add_to_machine(service, f"      role: {own}\n")
    out = deploy(capsys)
    assert f"create    role {MACHINE_ROLE}" not in out
    assert "create    state machine hello-loop-dev-loop" in out
    assert aws.sfn.describe_state_machine(stateMachineArn=MACHINE_ARN)["roleArn"] == own
    with pytest.raises(ClientError) as caught:
        aws.iam.get_role(RoleName=MACHINE_ROLE)
    assert caught.value.response["Error"]["Code"] == "NoSuchEntity"
    recorded = json.loads((service / ".tool" / "deployed" / "aws-dev.json").read_text())
    assert MACHINE_ROLE not in [r["name"] for r in recorded["resources"] if r["kind"] == "role"]


def test_iam_role_statements_join_the_generated_inline_policy(
    aws_env: str, service: Path, aws: Any, capsys: pytest.CaptureFixture[str]
):
    add_to_machine(
        service,
        "      iamRoleStatements:\n"
        "        - Effect: Allow\n"
        "          Action: [s3:GetObject]\n"
        "          Resource: arn:aws:s3:::reports/*\n",
    )
    deploy(capsys)
    policy = aws.iam.get_role_policy(RoleName=MACHINE_ROLE, PolicyName="tool-state-machine")
    assert policy["PolicyDocument"]["Statement"] == [
        {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": [FUNCTION_ARN]},
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::reports/*"},
    ]
    # Changing the statements updates the policy in place, and nothing else.
    add_to_machine(service, "")
    config = service / "serverless.yml"
    config.write_text(config.read_text().replace("reports/*", "archive/*"))
    out = deploy(capsys)
    assert f"update    role {MACHINE_ROLE} (policy changed)" in out
    assert "update    state machine" not in out


def test_a_definition_calling_sns_deploys_to_aws_with_the_grant_and_locally(
    aws_env: str, service: Path, aws: Any, capsys: pytest.CaptureFixture[str]
):
    definition = json.loads((service / "statemachine.asl.json").read_text())
    topic = f"arn:aws:sns:{REGION}:{MOTO_ACCOUNT}:orders"
    definition["States"]["SuccessState"] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::sns:publish",
        "Parameters": {"TopicArn": topic, "Message.$": "$"},
        "End": True,
    }
    (service / "statemachine.asl.json").write_text(json.dumps(definition, indent=2))
    deploy(capsys)
    policy = aws.iam.get_role_policy(RoleName=MACHINE_ROLE, PolicyName="tool-state-machine")
    assert {"Effect": "Allow", "Action": "sns:Publish", "Resource": [topic]} in policy[
        "PolicyDocument"
    ]["Statement"]
    # The local runtime runs SNS tasks on its local AWS services.
    assert main(["deploy"]) == 0, capsys.readouterr().err
    # What it cannot run is refused where it is written.
    definition["States"]["SuccessState"]["Resource"] = "arn:aws:states:::glue:startJobRun"
    definition["States"]["SuccessState"]["Parameters"] = {"JobName": "orders"}
    (service / "statemachine.asl.json").write_text(json.dumps(definition, indent=2))
    capsys.readouterr()
    assert main(["deploy"]) == 2
    err = capsys.readouterr().err
    assert "statemachine.asl.json:" in err and "glue:startJobRun" in err
    assert "is not supported yet by the local engine" in err
