"""Functions' `stream` events (DynamoDB and Kinesis) on the AWS target, against a moto server: an
event source mapping per event with Serverless' settings, the role statements Serverless adds,
a redeploy that changes nothing, a change in place, a new starting position that replaces the
mapping, and remove (issue 15)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from .cli_runs import mutating, run
from .conftest import MOTO_ACCOUNT, REGION

FUNCTION = "feeds-dev-work"
ROLE = "feeds-dev-us-east-1-lambdaRole"
CLICKS_ARN = f"arn:aws:kinesis:{REGION}:{MOTO_ACCOUNT}:stream/clicks"
FAILED_ARN = f"arn:aws:sqs:{REGION}:{MOTO_ACCOUNT}:feeds-failed"
SERVERLESS = f"""\
service: feeds
provider:
  name: aws
  runtime: python3.12
functions:
  work:
    handler: handler.work
    events:
      - stream:
          type: dynamodb
          arn: !GetAtt Orders.StreamArn
          batchSize: 50
          batchWindow: 2
          startingPosition: LATEST
          maximumRetryAttempts: 3
          maximumRecordAgeInSeconds: 120
          bisectBatchOnFunctionError: true
          parallelizationFactor: 2
          functionResponseType: ReportBatchItemFailures
          tumblingWindowInSeconds: 30
          filterPatterns:
            - eventName: [INSERT]
          destinations:
            onFailure: {FAILED_ARN}
      - stream: {CLICKS_ARN}
resources:
  Resources:
    Orders:
      Type: AWS::DynamoDB::Table
      Properties:
        TableName: feeds-dev-orders
        BillingMode: PAY_PER_REQUEST
        AttributeDefinitions: [{{AttributeName: id, AttributeType: S}}]
        KeySchema: [{{AttributeName: id, KeyType: HASH}}]
        StreamSpecification: {{StreamViewType: NEW_AND_OLD_IMAGES}}
"""


def client(name: str) -> Any:
    make_client: Callable[..., Any] = boto3.Session(region_name=REGION).client  # typed per name
    return make_client(name)


def mappings() -> dict[str, dict[str, Any]]:
    found = client("lambda").list_event_source_mappings(FunctionName=FUNCTION)
    return {m["EventSourceArn"].split(":")[2]: m for m in found["EventSourceMappings"]}


@pytest.fixture
def feeds(aws_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "feeds"
    folder.mkdir()
    (folder / "serverless.yml").write_text(SERVERLESS)
    (folder / "handler.py").write_text("def work(event, context):\n    return None\n")
    monkeypatch.chdir(folder)
    # Serverless creates neither: the Kinesis stream and the failure queue exist
    client("kinesis").create_stream(StreamName="clicks", ShardCount=1)
    client("sqs").create_queue(QueueName="feeds-failed")
    return folder


def test_a_mapping_per_stream_with_serverless_settings_and_the_role_statements(
    feeds: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err, _ = run(capsys, "deploy")
    assert code == 0, err
    assert f"create    event source mapping clicks -> {FUNCTION}" in out
    assert f"create    event source mapping feeds-dev-orders -> {FUNCTION}" in out
    found = mappings()
    clicks = found["kinesis"]
    assert (clicks["BatchSize"], clicks["StartingPosition"], clicks["State"]) == (
        10,
        "TRIM_HORIZON",
        "Enabled",
    )
    assert "MaximumRetryAttempts" not in clicks  # Lambda's default (-1), as Serverless
    orders = found["dynamodb"]
    table = client("dynamodb").describe_table(TableName="feeds-dev-orders")["Table"]
    assert orders["EventSourceArn"] == table["LatestStreamArn"]
    assert (orders["BatchSize"], orders["MaximumBatchingWindowInSeconds"]) == (50, 2)
    assert orders["StartingPosition"] == "LATEST"
    assert (orders["MaximumRetryAttempts"], orders["MaximumRecordAgeInSeconds"]) == (3, 120)
    assert orders["BisectBatchOnFunctionError"] is True
    assert (orders["ParallelizationFactor"], orders["TumblingWindowInSeconds"]) == (2, 30)
    assert orders["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert orders["FilterCriteria"] == {"Filters": [{"Pattern": '{"eventName":["INSERT"]}'}]}
    assert orders["DestinationConfig"] == {"OnFailure": {"Destination": FAILED_ARN}}
    tags = client("lambda").list_tags(Resource=orders["EventSourceMappingArn"])["Tags"]
    assert tags == {"tool:service": "feeds", "tool:stage": "dev"}
    iam = client("iam")
    (name,) = iam.list_role_policies(RoleName=ROLE)["PolicyNames"]
    statements = iam.get_role_policy(RoleName=ROLE, PolicyName=name)["PolicyDocument"]
    assert statements["Statement"][-3:] == [
        {
            "Effect": "Allow",
            "Action": [
                "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:DescribeStream",
                "dynamodb:ListStreams",
            ],
            "Resource": [table["LatestStreamArn"]],
        },
        {
            "Effect": "Allow",
            "Action": [
                "kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStream",
                "kinesis:ListStreams",
            ],
            "Resource": [CLICKS_ARN],
        },
        {"Effect": "Allow", "Action": ["sqs:ListQueues", "sqs:SendMessage"],
         "Resource": [FAILED_ARN]},
    ]  # fmt: skip


def test_a_redeploy_changes_nothing_a_change_updates_and_a_new_start_replaces(
    feeds: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "deploy")[0] == 0
    code, out, err, calls = run(capsys, "deploy")
    assert code == 0, err
    assert out.splitlines()[-1] == "No changes."
    assert mutating(calls) == []
    changed = SERVERLESS.replace("maximumRetryAttempts: 3", "maximumRetryAttempts: 5").replace(
        "          bisectBatchOnFunctionError: true\n", ""
    )
    (feeds / "serverless.yml").write_text(changed)
    code, out, err, calls = run(capsys, "plan", "--json")
    assert code == 0, err
    plan = {(c["kind"], c["name"]): c for c in json.loads(out)["changes"]}
    change = plan[("event source mapping", f"feeds-dev-orders -> {FUNCTION}")]
    assert change["action"] == "update"
    assert sorted(change["attributes"]) == ["BisectBatchOnFunctionError", "MaximumRetryAttempts"]
    code, out, err, calls = run(capsys, "deploy")
    assert code == 0, err
    assert mutating(calls) == ["UpdateEventSourceMapping"]
    orders = mappings()["dynamodb"]
    assert (orders["MaximumRetryAttempts"], orders["BisectBatchOnFunctionError"]) == (5, False)
    assert mutating(run(capsys, "deploy")[3]) == []
    (feeds / "serverless.yml").write_text(changed.replace("LATEST", "TRIM_HORIZON"))
    code, out, err, calls = run(capsys, "deploy")
    assert code == 0, err
    assert mutating(calls) == ["DeleteEventSourceMapping", "CreateEventSourceMapping"]
    assert mappings()["dynamodb"]["StartingPosition"] == "TRIM_HORIZON"
    assert mutating(run(capsys, "deploy")[3]) == []


def test_remove_deletes_the_mappings_and_leaves_the_existing_stream(
    feeds: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "deploy")[0] == 0
    code, out, err, _ = run(capsys, "remove")
    assert code == 0, err
    assert f"delete    event source mapping clicks -> {FUNCTION}" in out
    assert client("lambda").list_event_source_mappings()["EventSourceMappings"] == []
    assert client("kinesis").describe_stream_summary(StreamName="clicks")  # not the service's
