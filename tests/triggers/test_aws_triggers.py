"""The AWS half of the SQS trigger, against a moto server on loopback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from tooling.cli import main
from tooling.config.triggers import TRIGGER_FUNCTION_TIMEOUT
from tooling.triggers import lambda_handler
from tooling.triggers.trigger_package import HANDLER

from .conftest import REGION

ACCOUNT = "123456789012"  # moto's
QUEUE = "hello-loop-dev-loop-trigger"
DLQ = f"{QUEUE}-dlq"
FUNCTION = "hello-loop-dev-loop-sqs-trigger"
ROLE = "hello-loop-dev-us-east-1-loop-sqsRole"
MACHINE_ARN = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:hello-loop-dev-loop"
QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{QUEUE}"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def clients() -> tuple[Any, Any, Any, Any]:
    boto = boto3.Session(region_name=REGION)
    return (
        boto.client("sqs"),
        boto.client("lambda"),
        boto.client("iam"),
        boto.client("stepfunctions"),
    )


def test_deploy_creates_queues_trigger_function_role_and_mapping_and_remove_deletes_them(
    aws_env: str, service: Path, capsys
) -> None:
    code, out, err = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    for line in (
        f"create    queue {DLQ}",
        f"create    queue {QUEUE}",
        f"create    role {ROLE}",
        f"create    log group /aws/lambda/{FUNCTION}",
        f"create    function {FUNCTION}",
        f"create    event source mapping {QUEUE} -> {FUNCTION}",
    ):
        assert line in out.splitlines()
    sqs, lambda_, iam, _ = clients()

    queue_url = sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    assert attributes["VisibilityTimeout"] == "60"
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == f"arn:aws:sqs:{REGION}:{ACCOUNT}:{DLQ}"
    assert int(redrive["maxReceiveCount"]) == 5

    function = lambda_.get_function(FunctionName=FUNCTION)["Configuration"]
    assert function["Handler"] == HANDLER
    assert function["Timeout"] == TRIGGER_FUNCTION_TIMEOUT
    assert function["Environment"]["Variables"] == {"STATE_MACHINE_ARN": MACHINE_ARN}
    assert function["Role"] == f"arn:aws:iam::{ACCOUNT}:role/{ROLE}"

    (mapping,) = lambda_.list_event_source_mappings(FunctionName=FUNCTION)["EventSourceMappings"]
    assert mapping["EventSourceArn"] == QUEUE_ARN
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BatchSize"] == 10

    policy = iam.get_role_policy(RoleName=ROLE, PolicyName="tool-sqs-trigger")["PolicyDocument"]
    grants = {
        action: statement["Resource"]
        for statement in policy["Statement"]
        for action in ([statement["Action"]] if isinstance(statement["Action"], str)
                       else statement["Action"])
    }  # fmt: skip
    assert grants == {
        "sqs:ReceiveMessage": [QUEUE_ARN],
        "sqs:DeleteMessage": [QUEUE_ARN],
        "sqs:GetQueueAttributes": [QUEUE_ARN],
        "states:StartExecution": MACHINE_ARN,
        "states:DescribeExecution": MACHINE_ARN.replace(":stateMachine:", ":execution:") + ":*",
        "logs:CreateLogStream": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/"
        f"{FUNCTION}:*",
        "logs:PutLogEvents": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{FUNCTION}:*",
    }

    code, out, _ = run(capsys, "deploy", "--target", "aws")
    assert code == 0 and "No changes." in out

    code, out, err = run(capsys, "remove", "--target", "aws")
    assert code == 0, err
    assert f"delete    event source mapping {QUEUE} -> {FUNCTION} (tool remove)" in out
    assert sqs.list_queues(QueueNamePrefix="hello-loop").get("QueueUrls", []) == []
    assert lambda_.list_event_source_mappings()["EventSourceMappings"] == []
    names = [f["FunctionName"] for f in lambda_.list_functions()["Functions"]]
    assert names == []
    assert ROLE not in [r["RoleName"] for r in iam.list_roles()["Roles"]]


def sqs_event(*records: tuple[str, str]) -> dict[str, object]:
    return {
        "Records": [
            {
                "messageId": message_id,
                "receiptHandle": f"handle-{n}",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "eventSource": "aws:sqs",
                "eventSourceARN": QUEUE_ARN,
            }
            for n, (message_id, body) in enumerate(records)
        ]
    }


def test_the_trigger_handler_on_moto_starts_each_valid_message_once(
    aws_env: str, service: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(capsys, "deploy", "--target", "aws")[0] == 0
    monkeypatch.setenv("STATE_MACHINE_ARN", MACHINE_ARN)
    *_, sfn = clients()
    starter = lambda_handler.Boto3Starter(sfn)
    first, second, bad = (
        "6f1c2a34-0000-4000-8000-000000000001",
        "6f1c2a34-0000-4000-8000-000000000002",
        "6f1c2a34-0000-4000-8000-000000000003",
    )
    body = json.dumps({"key1": "value1", "key2": "value2", "key3": "value3"})
    event = sqs_event((first, body), (bad, "{not json"), (first, body), (second, body))
    assert lambda_handler.handle(event, None, starter=starter) == {
        "batchItemFailures": [{"itemIdentifier": bad}]
    }
    # The whole batch delivered again (as after a crash): nothing new starts.
    assert lambda_handler.handle(
        sqs_event((first, body), (second, body)), None, starter=starter
    ) == {"batchItemFailures": []}
    executions = sfn.list_executions(stateMachineArn=MACHINE_ARN)["executions"]
    assert sorted(e["name"] for e in executions) == [first, second]
    assert "not a JSON document" in capsys.readouterr().out


def test_send_and_worker_against_moto_queues(aws_env: str, service: Path, capsys) -> None:
    assert run(capsys, "deploy", "--target", "aws")[0] == 0
    # `tool worker --target aws` is the alternative to the trigger function: switch it off (moto
    # would otherwise try to run it in Docker on every send).
    _, lambda_, _, sfn = clients()
    (mapping,) = lambda_.list_event_source_mappings(FunctionName=FUNCTION)["EventSourceMappings"]
    lambda_.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)
    code, out, err = run(
        capsys, "send", "--target", "aws", "--input", "in.json", "--count", "3", "--json"
    )
    assert code == 0, err
    sent = json.loads(out)["messageIds"]
    (service / "bad.txt").write_text("not json")
    assert run(capsys, "send", "--target", "aws", "--raw", "--input", "bad.txt")[0] == 0
    code, out, err = run(capsys, "worker", "--target", "aws", "--once", "--no-wait", "--json")
    assert code == 0, err
    assert json.loads(out)["stateMachines"]["loop"]["started"] == 3
    names = {e["name"] for e in sfn.list_executions(stateMachineArn=MACHINE_ARN)["executions"]}
    assert names == set(sent)
    code, out, _ = run(capsys, "queue", "--target", "aws", "--json")
    (queue,) = json.loads(out)["queues"]
    assert (queue["visible"], queue["inFlight"]) == (0, 0)
    assert [letter["body"] for letter in queue["deadLetters"]] == ["not json"]

    code, out, _ = run(capsys, "queue", "redrive", "--target", "aws")
    assert out.strip() == f"{QUEUE}: 1 message(s) moved back"
    code, out, _ = run(capsys, "queue", "--target", "aws", "--json")
    (queue,) = json.loads(out)["queues"]
    assert (queue["visible"], queue["deadLetters"]) == (1, [])


def test_info_lists_the_trigger_resources_on_aws(aws_env: str, service: Path, capsys) -> None:
    assert run(capsys, "deploy", "--target", "aws")[0] == 0
    code, out, err = run(capsys, "info", "--target", "aws", "--json")
    assert code == 0, err
    listed = {(r["kind"], r["name"]): r for r in json.loads(out)["resources"]}
    assert listed[("queue", QUEUE)]["arn"] == QUEUE_ARN
    assert listed[("queue", QUEUE)]["details"] == "visibility 60 s, dead letters after 5 receives"
    assert listed[("queue", DLQ)]["details"].endswith("dead-letter queue")
    assert listed[("role", ROLE)]["arn"] == f"arn:aws:iam::{ACCOUNT}:role/{ROLE}"
    assert ("log group", f"/aws/lambda/{FUNCTION}") in listed
    assert listed[("function", FUNCTION)]["arn"].endswith(f":function:{FUNCTION}")
    assert listed[("event source mapping", f"{QUEUE} -> {FUNCTION}")]["details"].startswith(
        "batch 10"
    )

    assert run(capsys, "remove", "--target", "aws")[0] == 0
    code, out, _ = run(capsys, "info", "--target", "aws", "--json")
    assert json.loads(out)["resources"] == []
