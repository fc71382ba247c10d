"""A function's reservedConcurrency, maximumRetryAttempts, maximumEventAge and destinations on
the AWS target, against a moto server: PutFunctionConcurrency and
PutFunctionEventInvokeConfig as Serverless compiles them, the role statements Serverless adds
for the destinations, no mutating call on a no-op redeploy, and settings taken away removed
(issue 15)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from .cli_runs import mutating, run
from .conftest import MOTO_ACCOUNT, REGION

FAILED = f"arn:aws:sqs:{REGION}:{MOTO_ACCOUNT}:async-failed"
TOPIC = f"arn:aws:sns:{REGION}:{MOTO_ACCOUNT}:async-done"
ROLE = "async-dev-us-east-1-lambdaRole"
SERVERLESS = f"""\
service: async
provider:
  name: aws
  runtime: python3.12
functions:
  work:
    handler: handler.work
    reservedConcurrency: 5
    maximumRetryAttempts: 1
    maximumEventAge: 3600
    destinations:
      onSuccess: after
      onFailure: {FAILED}
  after:
    handler: handler.work
    reservedConcurrency: 0
    destinations:
      onSuccess:
        arn: !Ref Done
        type: sns
resources:
  Resources:
    Done:
      Type: AWS::SNS::Topic
      Properties:
        TopicName: async-done
"""


def client(name: str) -> Any:
    make_client: Callable[..., Any] = boto3.Session(region_name=REGION).client  # typed per name
    return make_client(name)


@pytest.fixture
def service(aws_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "async"
    folder.mkdir()
    (folder / "serverless.yml").write_text(SERVERLESS)
    (folder / "handler.py").write_text("def work(event, context):\n    return None\n")
    monkeypatch.chdir(folder)
    client("sqs").create_queue(QueueName="async-failed")
    return folder


def test_concurrency_and_asynchronous_settings_and_the_role_statements(
    service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err, calls = run(capsys, "deploy")
    assert code == 0, err
    assert mutating(calls).count("PutFunctionConcurrency") == 2
    lambda_ = client("lambda")
    work = lambda_.get_function(FunctionName="async-dev-work")
    assert work["Concurrency"] == {"ReservedConcurrentExecutions": 5}
    assert lambda_.get_function(FunctionName="async-dev-after")["Concurrency"] == {
        "ReservedConcurrentExecutions": 0
    }
    config = lambda_.get_function_event_invoke_config(FunctionName="async-dev-work")
    assert (config["MaximumRetryAttempts"], config["MaximumEventAgeInSeconds"]) == (1, 3600)
    after_arn = f"arn:aws:lambda:{REGION}:{MOTO_ACCOUNT}:function:async-dev-after"
    assert config["DestinationConfig"] == {
        "OnSuccess": {"Destination": after_arn},
        "OnFailure": {"Destination": FAILED},
    }
    config = lambda_.get_function_event_invoke_config(FunctionName="async-dev-after")
    assert config["DestinationConfig"]["OnSuccess"] == {"Destination": TOPIC}
    assert "MaximumRetryAttempts" not in config  # not given: Lambda's default, as Serverless
    iam = client("iam")
    (name,) = iam.list_role_policies(RoleName=ROLE)["PolicyNames"]
    statements = iam.get_role_policy(RoleName=ROLE, PolicyName=name)["PolicyDocument"]["Statement"]
    assert [s for s in statements if s["Action"] in (
        "lambda:InvokeFunction", "sqs:SendMessage", "sns:Publish")] == [
        {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": after_arn},
        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": FAILED},
        {"Effect": "Allow", "Action": "sns:Publish", "Resource": TOPIC},
    ]  # fmt: skip


def test_a_redeploy_changes_nothing_and_settings_taken_away_are_removed(
    service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "deploy")[0] == 0
    code, out, err, calls = run(capsys, "deploy")
    assert code == 0, err
    assert out.splitlines()[-1] == "No changes."
    assert mutating(calls) == []
    plain = SERVERLESS.replace("    reservedConcurrency: 5\n", "").replace(
        "    maximumRetryAttempts: 1\n    maximumEventAge: 3600\n    destinations:\n"
        f"      onSuccess: after\n      onFailure: {FAILED}\n",
        "    maximumRetryAttempts: 0\n",
    )
    (service / "serverless.yml").write_text(plain)
    code, out, err, calls = run(capsys, "deploy")
    assert code == 0, err
    assert "reserved concurrency changed" in out + err
    assert sorted(mutating(calls)) == [
        "DeleteFunctionConcurrency", "PutFunctionEventInvokeConfig", "PutRolePolicy",
    ]  # fmt: skip
    lambda_ = client("lambda")
    assert "Concurrency" not in lambda_.get_function(FunctionName="async-dev-work")
    config = lambda_.get_function_event_invoke_config(FunctionName="async-dev-work")
    assert config["MaximumRetryAttempts"] == 0
    assert not (config.get("DestinationConfig") or {}).get("OnFailure")
    assert mutating(run(capsys, "deploy")[3]) == []
    (service / "serverless.yml").write_text(plain.replace("    maximumRetryAttempts: 0\n", ""))
    code, _, err, calls = run(capsys, "deploy")
    assert code == 0, err
    assert mutating(calls) == ["DeleteFunctionEventInvokeConfig"]
    with pytest.raises(lambda_.exceptions.ResourceNotFoundException):
        lambda_.get_function_event_invoke_config(FunctionName="async-dev-work")
