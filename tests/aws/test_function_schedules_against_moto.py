"""Functions' schedule events with `--target aws` against a moto server: an EventBridge rule
targeting the function with the permission that lets it invoke it, a Scheduler schedule with a
role allowed to invoke it only, a no-op redeploy that changes nothing, and remove."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from tooling.aws.client import is_mutating, recording_calls
from tooling.cli import main

from .conftest import MOTO_ACCOUNT, REGION

FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{MOTO_ACCOUNT}:function:clock-dev-tick"
RULE = "clock-dev-TickEventsRuleSchedule1"
SERVICE = """\
service: clock
provider:
  name: aws
  runtime: python3.12
  region: us-east-1
functions:
  tick:
    handler: handler.tick
    events:
      - schedule:
          rate: rate(10 minutes)
          input: {job: tidy}
      - schedule:
          rate: cron(0 12 * * ? *)
          method: scheduler
          timezone: Europe/Paris
"""


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[str, list[str]]:
    with recording_calls() as calls:
        code = main(list(args))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out, [c.operation for c in calls if is_mutating(c.operation)]


@pytest.fixture
def service(aws_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "serverless.yml").write_text(SERVICE)
    (tmp_path / "handler.py").write_text("def tick(event, context):\n    return event\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_function_schedules_deploy_redeploy_and_remove(
    service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "deploy", "--target", "aws")
    session = boto3.Session(region_name=REGION)
    events: Any = session.client("events")
    rule = events.describe_rule(Name=RULE)
    assert rule["ScheduleExpression"] == "rate(10 minutes)" and rule["State"] == "ENABLED"
    (target,) = events.list_targets_by_rule(Rule=RULE)["Targets"]
    assert target["Id"] == "tickSchedule" and target["Arn"] == FUNCTION_ARN
    assert json.loads(target["Input"]) == {"job": "tidy"} and "RoleArn" not in target
    lambda_: Any = session.client("lambda")
    policy = json.loads(lambda_.get_policy(FunctionName="clock-dev-tick")["Policy"])
    (statement,) = policy["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == rule["Arn"]

    scheduler: Any = session.client("scheduler")
    (listed,) = scheduler.list_schedules(GroupName="clock-dev")["Schedules"]
    schedule = scheduler.get_schedule(Name=listed["Name"], GroupName="clock-dev")
    assert schedule["ScheduleExpressionTimezone"] == "Europe/Paris"
    assert schedule["Target"]["Arn"] == FUNCTION_ARN
    iam: Any = session.client("iam")
    role = schedule["Target"]["RoleArn"].rsplit("/", 1)[-1]
    trust = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Service": "scheduler.amazonaws.com"}
    (name,) = iam.list_role_policies(RoleName=role)["PolicyNames"]
    document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
    assert document["Statement"] == [
        {
            "Sid": "InvokeThisFunction",
            "Effect": "Allow",
            "Action": "lambda:InvokeFunction",
            "Resource": FUNCTION_ARN,
        }
    ]

    out, mutating = run(capsys, "deploy", "--target", "aws")
    assert out.splitlines()[-1] == "No changes." and mutating == []

    run(capsys, "remove", "--target", "aws")
    assert events.list_rules()["Rules"] == []
    assert scheduler.list_schedules()["Schedules"] == []
