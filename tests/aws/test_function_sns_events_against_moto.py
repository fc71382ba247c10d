"""Functions' sns events with `--target aws` against a moto server: a topic the service creates
(tagged as the toolkit's) and a topic given by ARN, the function subscribed to each (filter
policy, redrive policy), the Lambda permission for sns.amazonaws.com and the dead-letter
queue's statement; a no-op redeploy changes nothing; remove deletes the topic it created and the
subscriptions, and leaves the topic it did not create."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from tooling.aws.client import is_mutating, recording_calls
from tooling.cli import main

from .conftest import MOTO_ACCOUNT, REGION

FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{MOTO_ACCOUNT}:function:news-dev-read"
OURS = f"arn:aws:sns:{REGION}:{MOTO_ACCOUNT}:news-alerts"
THEIRS = f"arn:aws:sns:{REGION}:{MOTO_ACCOUNT}:their-topic"
DLQ = f"arn:aws:sqs:{REGION}:{MOTO_ACCOUNT}:news-dlq"
SERVICE = f"""\
service: news
provider:
  name: aws
  runtime: python3.12
  region: us-east-1
functions:
  read:
    handler: handler.read
    events:
      - sns: news-alerts
      - sns:
          arn: {THEIRS}
          filterPolicy:
            kind: [breaking]
          redrivePolicy:
            deadLetterTargetArn: {DLQ}
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
    (tmp_path / "handler.py").write_text("def read(event, context):\n    return event\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _subscription(sns: Any, topic: str) -> dict[str, Any]:
    (item,) = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert item["Protocol"] == "lambda" and item["Endpoint"] == FUNCTION_ARN
    attributes: dict[str, Any] = sns.get_subscription_attributes(
        SubscriptionArn=item["SubscriptionArn"]
    )["Attributes"]
    return attributes


def test_function_sns_events_deploy_redeploy_and_remove(
    service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    session = boto3.Session(region_name=REGION)
    sns: Any = session.client("sns")
    sqs: Any = session.client("sqs")
    sns.create_topic(Name="their-topic")
    sqs.create_queue(QueueName="news-dlq")
    run(capsys, "deploy", "--target", "aws")

    tags = sns.list_tags_for_resource(ResourceArn=OURS)["Tags"]
    assert {"Key": "tool:service", "Value": "news"} in tags
    _subscription(sns, OURS)
    theirs = _subscription(sns, THEIRS)
    assert json.loads(theirs["FilterPolicy"]) == {"kind": ["breaking"]}
    assert json.loads(theirs["RedrivePolicy"]) == {"deadLetterTargetArn": DLQ}

    lambda_: Any = session.client("lambda")
    policy = json.loads(lambda_.get_policy(FunctionName="news-dev-read")["Policy"])
    assert {s["Principal"]["Service"] for s in policy["Statement"]} == {"sns.amazonaws.com"}
    assert sorted(s["Condition"]["ArnLike"]["AWS:SourceArn"] for s in policy["Statement"]) == [
        OURS,
        THEIRS,
    ]
    url = sqs.get_queue_url(QueueName="news-dlq")["QueueUrl"]
    queue_policy = json.loads(
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"]
    )
    (statement,) = queue_policy["Statement"]
    assert statement["Principal"] == {"Service": "sns.amazonaws.com"}
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": THEIRS}}

    out, mutating = run(capsys, "deploy", "--target", "aws")
    assert out.splitlines()[-1] == "No changes." and mutating == []

    run(capsys, "remove", "--target", "aws")
    topics = {t["TopicArn"] for t in sns.list_topics()["Topics"]}
    assert OURS not in topics and THEIRS in topics
    assert sns.list_subscriptions_by_topic(TopicArn=THEIRS)["Subscriptions"] == []


def test_someone_elses_topic_under_the_name_stops_the_deploy_and_survives_remove(
    service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    session = boto3.Session(region_name=REGION)
    sns: Any = session.client("sns")
    sns.create_topic(Name="their-topic")
    session.client("sqs").create_queue(QueueName="news-dlq")
    sns.create_topic(Name="news-alerts")  # not the toolkit's: no tags
    with recording_calls() as calls:
        code = main(["deploy", "--target", "aws"])
    err = capsys.readouterr().err
    assert code == 2
    assert "error: topic news-alerts already exists on the aws target" in err
    assert [c.operation for c in calls if is_mutating(c.operation)] == []
    assert main(["remove", "--target", "aws"]) == 0
    assert "warning: left topic news-alerts alone" in capsys.readouterr().err
    assert OURS in {t["TopicArn"] for t in sns.list_topics()["Topics"]}
