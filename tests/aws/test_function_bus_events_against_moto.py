"""Functions' eventBridge and cloudwatchEvent events with `--target aws` against a moto server:
rules with an event pattern (on the default bus, on a bus the service creates, on a bus given by
ARN) or a schedule, targeting the function with the permission that lets each invoke it; a no-op
redeploy that changes nothing; remove deletes the rules and the bus the service created, and
leaves the bus it did not create."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from tooling.aws.client import is_mutating, recording_calls
from tooling.cli import main

from .conftest import MOTO_ACCOUNT, REGION

FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{MOTO_ACCOUNT}:function:shop-dev-react"
SERVICE = f"""\
service: shop
provider:
  name: aws
  runtime: python3.12
  region: us-east-1
functions:
  react:
    handler: handler.react
    events:
      - eventBridge:
          pattern:
            source: [shop.orders]
            detail-type: [OrderPlaced]
          inputPath: $.detail
          retryPolicy:
            maximumEventAge: 3600
            maximumRetryAttempts: 2
      - eventBridge:
          eventBus: orders-bus
          pattern:
            source: [shop.orders]
          name: orders-on-bus
          input:
            from: bus
      - eventBridge:
          eventBus: arn:aws:events:{REGION}:{MOTO_ACCOUNT}:event-bus/partner-bus
          pattern:
            source: [partner]
      - eventBridge:
          schedule: rate(5 minutes)
          enabled: false
      - cloudwatchEvent:
          event:
            source: [aws.ec2]
          description: ec2 changes
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
    (tmp_path / "handler.py").write_text("def react(event, context):\n    return event\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_function_bus_events_deploy_redeploy_and_remove(
    service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    session = boto3.Session(region_name=REGION)
    events: Any = session.client("events")
    events.create_event_bus(Name="partner-bus")  # exists already: Serverless does not create it
    run(capsys, "deploy", "--target", "aws")

    rule = events.describe_rule(Name="shop-dev-react-rule-1")
    assert json.loads(rule["EventPattern"]) == {
        "source": ["shop.orders"],
        "detail-type": ["OrderPlaced"],
    }
    (target,) = events.list_targets_by_rule(Rule="shop-dev-react-rule-1")["Targets"]
    assert target["Id"] == "shop-dev-react-rule-1-target" and target["Arn"] == FUNCTION_ARN
    assert target["InputPath"] == "$.detail"
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 2}

    bus = events.describe_event_bus(Name="orders-bus")
    tags = events.list_tags_for_resource(ResourceARN=bus["Arn"])["Tags"]
    assert {"Key": "tool:service", "Value": "shop"} in tags
    on_bus = events.describe_rule(Name="orders-on-bus", EventBusName="orders-bus")
    assert on_bus["Arn"].endswith(":rule/orders-bus/orders-on-bus")
    (target,) = events.list_targets_by_rule(Rule="orders-on-bus", EventBusName="orders-bus")[
        "Targets"
    ]
    assert json.loads(target["Input"]) == {"from": "bus"}
    assert events.describe_rule(Name="shop-dev-react-rule-3", EventBusName="partner-bus")
    scheduled = events.describe_rule(Name="shop-dev-react-rule-4")
    assert scheduled["ScheduleExpression"] == "rate(5 minutes)"
    assert scheduled["State"] == "DISABLED"
    cloudwatch = events.describe_rule(Name="shop-dev-ReactEventsRuleCloudWatchEvent1")
    assert cloudwatch["Description"] == "ec2 changes"
    (target,) = events.list_targets_by_rule(Rule=cloudwatch["Name"])["Targets"]
    assert target["Id"] == "reactCloudWatchEvent"

    lambda_: Any = session.client("lambda")
    policy = json.loads(lambda_.get_policy(FunctionName="shop-dev-react")["Policy"])
    sources = sorted(s["Condition"]["ArnLike"]["AWS:SourceArn"] for s in policy["Statement"])
    assert len(sources) == 5 and on_bus["Arn"] in sources and rule["Arn"] in sources
    assert {s["Principal"]["Service"] for s in policy["Statement"]} == {"events.amazonaws.com"}

    out, mutating = run(capsys, "deploy", "--target", "aws")
    assert out.splitlines()[-1] == "No changes." and mutating == []

    run(capsys, "remove", "--target", "aws")
    assert events.list_rules()["Rules"] == []
    assert events.list_rules(EventBusName="partner-bus")["Rules"] == []
    names = {b["Name"] for b in events.list_event_buses()["EventBuses"]}
    assert "orders-bus" not in names and "partner-bus" in names


def test_someone_elses_bus_under_the_name_stops_the_deploy_and_survives_remove(
    service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events: Any = boto3.Session(region_name=REGION).client("events")
    events.create_event_bus(Name="partner-bus")
    events.create_event_bus(Name="orders-bus")  # not the toolkit's: no tags
    with recording_calls() as calls:
        code = main(["deploy", "--target", "aws"])
    err = capsys.readouterr().err
    assert code == 2
    assert "error: event bus orders-bus already exists on the aws target" in err
    assert [c.operation for c in calls if is_mutating(c.operation)] == []
    assert main(["remove", "--target", "aws"]) == 0
    assert "warning: left event bus orders-bus alone" in capsys.readouterr().err
    assert events.describe_event_bus(Name="orders-bus")["Name"] == "orders-bus"


def test_a_rule_on_a_bus_that_does_not_exist_is_refused_before_any_change(
    service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # partner-bus, given by ARN, is not created by the service, and does not exist
    with recording_calls() as calls:
        code = main(["deploy", "--target", "aws"])
    err = capsys.readouterr().err
    assert code == 2
    (line,) = [line for line in err.splitlines() if line.startswith("error:")]
    assert line.startswith("error: serverless.yml:26:11: rule shop-dev-react-rule-3: event bus ")
    assert "'partner-bus' does not exist on the aws target" in line
    assert [c.operation for c in calls if is_mutating(c.operation)] == []
