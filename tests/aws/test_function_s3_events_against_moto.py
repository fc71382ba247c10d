"""Functions' s3 events with `--target aws` against a moto server: the bucket Serverless would
create, with the function's notifications and the permission that lets S3 invoke it; an
existing bucket keeps the notifications others put there; a no-op redeploy changes nothing;
remove takes out only what the toolkit made."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from tooling.aws.client import is_mutating, recording_calls
from tooling.cli import main

from .conftest import MOTO_ACCOUNT, REGION

RESIZE_ARN = f"arn:aws:lambda:{REGION}:{MOTO_ACCOUNT}:function:photos-dev-resize"
AUDIT_ARN = f"arn:aws:lambda:{REGION}:{MOTO_ACCOUNT}:function:photos-dev-audit"
SERVICE = """\
service: photos
provider:
  name: aws
  runtime: python3.12
  region: us-east-1
functions:
  resize:
    handler: handler.main
    events:
      - s3: photos-uploads-dev
      - s3:
          bucket: photos-uploads-dev
          event: s3:ObjectRemoved:*
          rules:
            - prefix: thumbs/
            - suffix: .jpg
  audit:
    handler: handler.main
    events:
      - s3:
          bucket: legacy-archive
          existing: true
          rules:
            - prefix: in/
"""
OTHERS = {
    "Id": "someone-else",
    "LambdaFunctionArn": f"arn:aws:lambda:{REGION}:{MOTO_ACCOUNT}:function:other",
    "Events": ["s3:ObjectCreated:*"],
}


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[str, list[str]]:
    with recording_calls() as calls:
        code = main(list(args))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out, [c.operation for c in calls if is_mutating(c.operation)]


@pytest.fixture
def service(aws_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "serverless.yml").write_text(SERVICE)
    (tmp_path / "handler.py").write_text("def main(event, context):\n    return event\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _lambda_configurations(s3: Any, bucket: str) -> list[dict[str, Any]]:
    answer = s3.get_bucket_notification_configuration(Bucket=bucket)
    return list(answer.get("LambdaFunctionConfigurations") or [])


def test_s3_events_deploy_redeploy_and_remove(
    service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    session = boto3.Session(region_name=REGION)
    s3: Any = session.client("s3")
    s3.create_bucket(Bucket="legacy-archive")
    s3.put_bucket_notification_configuration(
        Bucket="legacy-archive",
        NotificationConfiguration={"LambdaFunctionConfigurations": [OTHERS]},
    )

    run(capsys, "deploy", "--target", "aws")

    tags = s3.get_bucket_tagging(Bucket="photos-uploads-dev")["TagSet"]
    assert {"Key": "tool:service", "Value": "photos"} in tags
    made = _lambda_configurations(s3, "photos-uploads-dev")
    assert {(c["LambdaFunctionArn"], tuple(c["Events"])) for c in made} == {
        (RESIZE_ARN, ("s3:ObjectCreated:*",)),
        (RESIZE_ARN, ("s3:ObjectRemoved:*",)),
    }
    (filtered,) = [c for c in made if "Filter" in c]
    assert filtered["Filter"]["Key"]["FilterRules"] == [
        {"Name": "prefix", "Value": "thumbs/"},
        {"Name": "suffix", "Value": ".jpg"},
    ]
    legacy = _lambda_configurations(s3, "legacy-archive")
    assert OTHERS in legacy and len(legacy) == 2
    (ours,) = [c for c in legacy if c["Id"] != "someone-else"]
    assert ours["LambdaFunctionArn"] == AUDIT_ARN

    lambda_: Any = session.client("lambda")
    policy = json.loads(lambda_.get_policy(FunctionName="photos-dev-resize")["Policy"])
    (statement,) = policy["Statement"]
    assert statement["Principal"] == {"Service": "s3.amazonaws.com"}
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == "arn:aws:s3:::photos-uploads-dev"
    assert statement["Condition"]["StringEquals"]["AWS:SourceAccount"] == MOTO_ACCOUNT

    out, mutating = run(capsys, "deploy", "--target", "aws")
    assert out.splitlines()[-1] == "No changes." and mutating == []

    # the audit function's event taken out of the file: only its notification goes
    without = SERVICE.split("    events:\n      - s3:\n          bucket: legacy-archive")[0]
    (service / "serverless.yml").write_text(without)
    run(capsys, "deploy", "--target", "aws")
    assert _lambda_configurations(s3, "legacy-archive") == [OTHERS]
    assert len(_lambda_configurations(s3, "photos-uploads-dev")) == 2

    run(capsys, "remove", "--target", "aws")
    buckets = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert buckets == {"legacy-archive"}  # the toolkit's bucket went; the existing one stays
    assert _lambda_configurations(s3, "legacy-archive") == [OTHERS]


IN_RESOURCES = """\
service: photos
provider:
  name: aws
  runtime: python3.12
  region: us-east-1
functions:
  resize:
    handler: handler.main
    events:
      - s3: photos-made-by-stack
resources:
  Resources:
    S3BucketPhotosmadebystack:
      Type: AWS::S3::Bucket
      Properties:
        BucketName: photos-made-by-stack
"""


def test_a_bucket_in_resources_is_the_stacks_and_gets_the_notification(
    service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (service / "serverless.yml").write_text(IN_RESOURCES)
    out, _ = run(capsys, "deploy", "--target", "aws")
    assert "create    bucket photos" not in out  # the stack makes it, as in Serverless
    s3: Any = boto3.Session(region_name=REGION).client("s3")
    (made,) = _lambda_configurations(s3, "photos-made-by-stack")
    assert made["LambdaFunctionArn"] == RESIZE_ARN

    out, mutating = run(capsys, "deploy", "--target", "aws")
    assert out.splitlines()[-1] == "No changes." and mutating == []
    run(capsys, "remove", "--target", "aws")
    assert "photos-made-by-stack" not in {b["Name"] for b in s3.list_buckets()["Buckets"]}
