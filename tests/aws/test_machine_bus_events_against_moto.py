"""State machines' eventBridge and cloudwatchEvent events (serverless-step-functions' syntax)
with `--target aws` against a moto server: a rule per event on the default bus and on a bus
`resources:` declares (after the stack), targeting the machine through a role allowed to start
it only; a no-op redeploy changes nothing; remove deletes the rules and the role."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from tooling.aws.client import is_mutating, recording_calls
from tooling.cli import main

from .conftest import MOTO_ACCOUNT, REGION

MACHINE_ARN = f"arn:aws:states:{REGION}:{MOTO_ACCOUNT}:stateMachine:hello-loop-dev-loop"
ROLE = "hello-loop-dev-us-east-1-loop-events"
EVENTS = """\
        - cloudwatchEvent:
            event:
              source: [aws.ec2]
        - eventBridge:
            eventBusName: sales-bus
            name: start-on-sale
            event:
              source: [shop]
              detail-type: [Sale]
            inputPath: $.detail
"""
RESOURCES = """
resources:
  Resources:
    SalesBus:
      Type: AWS::Events::EventBus
      Properties:
        Name: sales-bus
"""


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[str, list[str]]:
    with recording_calls() as calls:
        code = main(list(args))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out, [c.operation for c in calls if is_mutating(c.operation)]


def test_machine_bus_events_deploy_redeploy_and_remove(
    aws_env: str, service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = service / "serverless.yml"
    config.write_text(
        config.read_text().replace("      events:\n", "      events:\n" + EVENTS) + RESOURCES
    )
    run(capsys, "deploy", "--target", "aws")
    session = boto3.Session(region_name=REGION)
    events: Any = session.client("events")
    default = events.describe_rule(Name="hello-loop-dev-LoopEventsRuleCloudWatchEvent1")
    assert json.loads(default["EventPattern"]) == {"source": ["aws.ec2"]}
    (target,) = events.list_targets_by_rule(Rule=default["Name"])["Targets"]
    assert target["Id"] == "loopCloudWatchEvent" and target["Arn"] == MACHINE_ARN
    assert target["RoleArn"].endswith(f":role/{ROLE}")
    on_bus = events.describe_rule(Name="start-on-sale", EventBusName="sales-bus")
    (target,) = events.list_targets_by_rule(Rule="start-on-sale", EventBusName="sales-bus")[
        "Targets"
    ]
    assert target["InputPath"] == "$.detail" and on_bus["State"] == "ENABLED"
    iam: Any = session.client("iam")
    (policy,) = iam.list_role_policies(RoleName=ROLE)["PolicyNames"]
    document = iam.get_role_policy(RoleName=ROLE, PolicyName=policy)["PolicyDocument"]
    document = json.loads(document) if isinstance(document, str) else document
    assert [(s["Action"], s["Resource"]) for s in document["Statement"]] == [
        ("states:StartExecution", MACHINE_ARN)
    ]
    trust = iam.get_role(RoleName=ROLE)["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Service": "events.amazonaws.com"}

    out, mutating = run(capsys, "deploy", "--target", "aws")
    assert out.splitlines()[-1] == "No changes." and mutating == []

    run(capsys, "remove", "--target", "aws")
    assert events.list_rules()["Rules"] == []
    assert "sales-bus" not in {b["Name"] for b in events.list_event_buses()["EventBuses"]}
    assert ROLE not in {r["RoleName"] for r in iam.list_roles()["Roles"]}
