"""Functions' `sqs` events and serverless-lift's `queue` construct on the AWS target, against a
moto server: an event source mapping per event (tagged, in the plan as data, updated in place,
removed), the function role's polling statement, and Lift's queues in the service's stack
(issue 15)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from .cli_runs import mutating, run
from .conftest import MOTO_ACCOUNT, REGION

QUEUE = "existing-jobs"
QUEUE_ARN = f"arn:aws:sqs:{REGION}:{MOTO_ACCOUNT}:{QUEUE}"
FUNCTION = "jobs-dev-work"
ROLE = "jobs-dev-us-east-1-lambdaRole"
POLLING = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
SERVERLESS = f"""\
service: jobs
provider:
  name: aws
  runtime: python3.12
functions:
  work:
    handler: handler.work
    events:
      - sqs: {QUEUE_ARN}
      - sqs:
          arn: !GetAtt Orders.Arn
          batchSize: 5
          maximumBatchingWindow: 2
          functionResponseType: ReportBatchItemFailures
          filterPatterns:
            - body: {{kind: [order]}}
          maximumConcurrency: 3
resources:
  Resources:
    Orders:
      Type: AWS::SQS::Queue
      Properties:
        QueueName: jobs-dev-orders
"""


def clients() -> Any:
    boto = boto3.Session(region_name=REGION)

    class Clients:
        sqs = boto.client("sqs")
        iam = boto.client("iam")
        lambda_ = boto.client("lambda")
        cfn = boto.client("cloudformation")

    return Clients()


def mappings(function: str = FUNCTION) -> dict[str, dict[str, Any]]:
    found = clients().lambda_.list_event_source_mappings(FunctionName=function)
    return {m["EventSourceArn"].rsplit(":", 1)[1]: m for m in found["EventSourceMappings"]}


@pytest.fixture
def jobs(aws_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "jobs"
    folder.mkdir()
    (folder / "serverless.yml").write_text(SERVERLESS)
    (folder / "handler.py").write_text("def work(event, context):\n    return None\n")
    monkeypatch.chdir(folder)
    clients().sqs.create_queue(QueueName=QUEUE)  # Serverless does not create it: it exists
    return folder


def test_a_mapping_per_event_and_the_role_may_poll_those_queues(
    jobs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err, _ = run(capsys, "deploy")
    assert code == 0, err
    assert f"create    event source mapping {QUEUE} -> {FUNCTION}" in out
    found = mappings()
    assert set(found) == {QUEUE, "jobs-dev-orders"}
    plain = found[QUEUE]
    assert (plain["BatchSize"], plain["State"]) == (10, "Enabled")
    assert not plain.get("FunctionResponseTypes")
    tuned = found["jobs-dev-orders"]
    assert tuned["BatchSize"] == 5
    assert tuned["MaximumBatchingWindowInSeconds"] == 2
    assert tuned["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert tuned["FilterCriteria"] == {"Filters": [{"Pattern": '{"body":{"kind":["order"]}}'}]}
    assert tuned["ScalingConfig"] == {"MaximumConcurrency": 3}
    tags = clients().lambda_.list_tags(Resource=tuned["EventSourceMappingArn"])["Tags"]
    assert tags == {"tool:service": "jobs", "tool:stage": "dev"}
    aws = clients()
    (name,) = aws.iam.list_role_policies(RoleName=ROLE)["PolicyNames"]
    statements = aws.iam.get_role_policy(RoleName=ROLE, PolicyName=name)["PolicyDocument"]
    assert statements["Statement"][-1] == {
        "Effect": "Allow",
        "Action": POLLING,
        "Resource": [QUEUE_ARN, f"arn:aws:sqs:{REGION}:{MOTO_ACCOUNT}:jobs-dev-orders"],
    }


def test_a_redeploy_changes_nothing_and_a_change_is_an_update_in_place(
    jobs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "deploy")[0] == 0
    code, out, err, calls = run(capsys, "deploy")
    assert code == 0, err
    assert out.splitlines()[-1] == "No changes."
    assert mutating(calls) == []
    changed = SERVERLESS.replace("batchSize: 5", "batchSize: 7").replace(
        "          maximumConcurrency: 3\n", "          enabled: false\n"
    )
    (jobs / "serverless.yml").write_text(changed)
    code, out, err, calls = run(capsys, "plan", "--json")
    assert code == 0, err
    plan = {(c["kind"], c["name"]): c for c in json.loads(out)["changes"]}
    change = plan[("event source mapping", f"jobs-dev-orders -> {FUNCTION}")]
    assert change["action"] == "update"
    assert sorted(change["attributes"]) == ["BatchSize", "Enabled", "ScalingConfig"]
    code, out, err, calls = run(capsys, "deploy")
    assert code == 0, err
    assert mutating(calls) == ["UpdateEventSourceMapping"]
    tuned = mappings()["jobs-dev-orders"]
    assert (tuned["BatchSize"], tuned["State"]) == (7, "Disabled")
    assert not tuned.get("ScalingConfig")
    assert run(capsys, "deploy")[3] and mutating(run(capsys, "deploy")[3]) == []


def test_remove_deletes_the_mappings_and_leaves_the_existing_queue(
    jobs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "deploy")[0] == 0
    code, out, err, _ = run(capsys, "remove")
    assert code == 0, err
    assert f"delete    event source mapping {QUEUE} -> {FUNCTION}" in out
    assert clients().lambda_.list_event_source_mappings()["EventSourceMappings"] == []
    assert clients().sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]  # not the service's


# -- serverless-lift's queue construct: the bboure pattern ------------------------------------

LIFT = """\
service: payments
plugins:
  - serverless-iam-roles-per-function
  - serverless-step-functions
  - serverless-lift
provider:
  name: aws
  runtime: python3.12
functions:
  fulfillOrder:
    handler: handler.fulfill
constructs:
  processPayment:
    type: queue
    batchSize: 1
    maxRetries: 10
    fifo: true
    worker:
      memorySize: 256
      timeout: 5
      handler: handler.process_payment
      iamRoleStatements:
        - Effect: Allow
          Action:
            - states:SendTaskSuccess
            - states:SendTaskFailure
          Resource:
            - !Ref ProcessPayment
stepFunctions:
  stateMachines:
    process-payment:
      id: ProcessPayment
      name: process-payment
      definition:
        StartAt: SendToQueue
        States:
          SendToQueue:
            Type: Task
            Resource: arn:aws:states:::sqs:sendMessage.waitForTaskToken
            Parameters:
              QueueUrl: ${construct:processPayment.queueUrl}
              MessageGroupId: payment
              MessageBody:
                order.$: $.order
                token.$: $$.Task.Token
            ResultPath: $.paymentResult
            Next: FulfillOrder
          FulfillOrder:
            Type: Task
            Resource: arn:aws:states:::lambda:invoke
            Parameters:
              FunctionName: ${self:service}-${sls:stage}-fulfillOrder
              Payload.$: $
            End: true
"""
PAYMENTS = "payments-dev-processPayment.fifo"
WORKER = "payments-dev-processPaymentWorker"


@pytest.fixture
def payments(aws_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "payments"
    folder.mkdir()
    (folder / "serverless.yml").write_text(LIFT)
    (folder / "handler.py").write_text(
        "def process_payment(event, context):\n    return None\n\n\n"
        "def fulfill(event, context):\n    return event\n"
    )
    monkeypatch.chdir(folder)
    return folder


def test_a_lift_queue_deploys_its_queues_worker_and_mapping(
    payments: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err, _ = run(capsys, "deploy", "--dry-run")
    assert code == 0, err
    code, out, err, _ = run(capsys, "deploy")
    assert code == 0, err
    aws = clients()
    url = aws.sqs.get_queue_url(QueueName=PAYMENTS)["QueueUrl"]
    attributes = aws.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["VisibilityTimeout"] == "30"
    assert attributes["FifoQueue"] == "true"
    assert attributes["ContentBasedDeduplication"] == "true"
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["maxReceiveCount"] == 10
    assert redrive["deadLetterTargetArn"].endswith(":payments-dev-processPayment-dlq.fifo")
    dead = aws.sqs.get_queue_url(QueueName="payments-dev-processPayment-dlq.fifo")["QueueUrl"]
    dead_attributes = aws.sqs.get_queue_attributes(
        QueueUrl=dead, AttributeNames=["MessageRetentionPeriod"]
    )["Attributes"]
    assert dead_attributes["MessageRetentionPeriod"] == "1209600"
    config = aws.lambda_.get_function(FunctionName=WORKER)["Configuration"]
    assert (config["MemorySize"], config["Timeout"]) == (256, 5)
    (mapping,) = mappings(WORKER).values()
    assert mapping["EventSourceArn"] == attributes["QueueArn"]
    assert (mapping["BatchSize"], mapping["FunctionResponseTypes"]) == (
        1,
        ["ReportBatchItemFailures"],
    )
    machine = f"arn:aws:states:{REGION}:{MOTO_ACCOUNT}:stateMachine:process-payment"
    sfn = boto3.client("stepfunctions", region_name=REGION)
    definition = json.loads(sfn.describe_state_machine(stateMachineArn=machine)["definition"])
    queue_url = definition["States"]["SendToQueue"]["Parameters"]["QueueUrl"]
    assert queue_url.endswith(f"/{MOTO_ACCOUNT}/{PAYMENTS}")  # the stack's Ref of the queue
    # the worker's own role: polling its queue, then its statements
    role = config["Role"].rsplit("/", 1)[1]
    (name,) = aws.iam.list_role_policies(RoleName=role)["PolicyNames"]
    statements = aws.iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
    assert statements["Statement"][1] == {
        "Effect": "Allow",
        "Action": POLLING,
        "Resource": [attributes["QueueArn"]],
    }
    assert statements["Statement"][2]["Resource"] == [machine]
    code, out, err, calls = run(capsys, "deploy")
    assert code == 0, err
    assert mutating(calls) == []
    code, out, err, _ = run(capsys, "remove")
    assert code == 0, err
    assert aws.lambda_.list_event_source_mappings()["EventSourceMappings"] == []
    assert aws.sqs.list_queues().get("QueueUrls", []) == []
