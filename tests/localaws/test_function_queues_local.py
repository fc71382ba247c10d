"""Functions' `sqs` events on the local target: `tool worker` polls the queue in the folder's
local AWS services and invokes the function with Lambda's SQS event; a batch is deleted only
after the function answered, so a worker SIGKILLed mid-batch loses nothing (issue 15)."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tooling.backends.local import LocalBackend
from tooling.cli import main
from tooling.localaws.manager import LocalAwsServices

from .helpers import ACCOUNT, REGION, client, endpoint

pytestmark = pytest.mark.slow  # end-to-end: `make test` runs it, `make test-fast` does not

DURABLE = Path(__file__).resolve().parents[1] / "localrt" / "test_durable_runs.py"
QUEUE = "jobs-dev-jobs"
DEAD = "jobs-dev-jobs-dlq"
SERVERLESS = """\
service: jobs
provider:
  name: aws
  runtime: python3.12
functions:
  work:
    handler: handler.work
    timeout: 3
    environment:
      SEEN: {seen}
      BLOCK: {block}
    events:
      - sqs:
          arn: !GetAtt Jobs.Arn
          batchSize: 10
          functionResponseType: ReportBatchItemFailures
resources:
  Resources:
    Dead:
      Type: AWS::SQS::Queue
      Properties:
        QueueName: {dead}
    Jobs:
      Type: AWS::SQS::Queue
      Properties:
        QueueName: {queue}
        VisibilityTimeout: 3
        RedrivePolicy:
          deadLetterTargetArn: !GetAtt Dead.Arn
          maxReceiveCount: 2
"""
HANDLER = """import json
import os
import time


def work(event, context):
    failed = []
    for record in event["Records"]:
        with open(os.environ["SEEN"], "a") as seen:
            seen.write(json.dumps(record) + "\\n")
        if record["body"] == "bad":
            failed.append({"itemIdentifier": record["messageId"]})
    if os.path.exists(os.environ["BLOCK"]):
        time.sleep(60)  # until the test kills the worker (the function's timeout ends it)
    if any(r["body"] == "crash" for r in event["Records"]):
        raise RuntimeError("crash")
    return {"batchItemFailures": failed}
"""


def durable_helpers() -> ModuleType:
    """tests/localrt/test_durable_runs.py: its waiting and cleaning helpers."""
    spec = importlib.util.spec_from_file_location("durable_runs_helpers", DURABLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def jobs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "jobs"
    folder.mkdir()
    config = SERVERLESS.format(
        seen=folder / "seen.jsonl", block=folder / "block", queue=QUEUE, dead=DEAD
    )
    (folder / "serverless.yml").write_text(config)
    (folder / "handler.py").write_text(HANDLER)
    monkeypatch.chdir(folder)
    assert main(["deploy"]) == 0
    yield folder
    durable_helpers()._stop_everything(folder)
    LocalAwsServices(folder / ".tool").stop()


def sqs(folder: Path) -> Any:
    return client(endpoint(LocalAwsServices(folder / ".tool")), "sqs")


def queue_url(folder: Path, name: str = QUEUE) -> str:
    return str(sqs(folder).get_queue_url(QueueName=name)["QueueUrl"])


def depth(folder: Path, name: str = QUEUE) -> tuple[int, int]:
    """(visible, in flight) messages."""
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    answer = sqs(folder).get_queue_attributes(
        QueueUrl=queue_url(folder, name), AttributeNames=names
    )
    return int(answer["Attributes"][names[0]]), int(answer["Attributes"][names[1]])


def seen(folder: Path) -> list[dict[str, Any]]:
    path = folder / "seen.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_the_function_gets_lambdas_sqs_event_and_the_batch_is_deleted(
    jobs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sqs(jobs).send_message(
        QueueUrl=queue_url(jobs),
        MessageBody='{"n": 1}',
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "order"}},
    )
    capsys.readouterr()
    assert main(["worker", "--once"]) == 0
    err = capsys.readouterr().err
    assert f"{QUEUE} -> jobs-dev-work: 1 message(s), 1 done" in err
    (record,) = seen(jobs)
    assert record["body"] == '{"n": 1}'
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == f"arn:aws:sqs:{REGION}:{ACCOUNT}:{QUEUE}"
    assert record["awsRegion"] == REGION
    assert record["md5OfBody"] == hashlib.md5(b'{"n": 1}').hexdigest()
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert {"SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} <= set(
        record["attributes"]
    )
    assert record["messageAttributes"] == {
        "kind": {
            "stringValue": "order",
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "String",
        }
    }
    assert {"messageId", "receiptHandle", "md5OfMessageAttributes"} <= set(record)
    assert depth(jobs) == (0, 0)


def test_reported_item_failures_stay_and_reach_the_dead_letter_queue(
    jobs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = queue_url(jobs)
    for body in ("good", "bad"):
        sqs(jobs).send_message(QueueUrl=url, MessageBody=body)
    assert main(["worker", "--once"]) == 0
    assert "1 kept for another try" in capsys.readouterr().err
    assert depth(jobs) == (0, 1)  # the bad one, invisible until its visibility timeout
    helpers = durable_helpers()
    # received twice (maxReceiveCount 2), then SQS moves it to the dead-letter queue
    for _receive in (2, 3):
        assert helpers._wait_until(lambda: depth(jobs)[0] == 1 or depth(jobs, DEAD)[0] == 1, 20)
        assert main(["worker", "--once"]) == 0
        if depth(jobs, DEAD)[0] == 1:
            break
    assert depth(jobs) == (0, 0)
    assert depth(jobs, DEAD)[0] == 1
    assert [r["body"] for r in seen(jobs)].count("bad") == 2


def test_a_function_error_keeps_the_whole_batch(
    jobs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = queue_url(jobs)
    for body in ("one", "crash"):
        sqs(jobs).send_message(QueueUrl=url, MessageBody=body)
    assert main(["worker", "--once"]) == 0
    err = capsys.readouterr().err
    assert "2 message(s), 0 done, 2 kept for another try: the function failed: RuntimeError" in err
    assert depth(jobs) == (0, 2)


def test_a_worker_killed_mid_batch_loses_nothing(jobs: Path) -> None:
    helpers = durable_helpers()
    (jobs / "block").write_text("")
    sqs(jobs).send_message(QueueUrl=queue_url(jobs), MessageBody="precious")
    worker = subprocess.Popen(
        [sys.executable, "-c", "import sys; from tooling.cli import main; sys.exit(main())",
         "worker"],
        cwd=jobs, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert helpers._wait_until(lambda: len(seen(jobs)) == 1, 60)  # the function is running
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)
    (jobs / "block").unlink()
    # nothing was deleted: the message comes back after its visibility timeout
    assert helpers._wait_until(lambda: depth(jobs) == (1, 0), 30)
    assert main(["worker", "--once"]) == 0
    bodies = [r["body"] for r in seen(jobs)]
    assert bodies == ["precious", "precious"]
    assert seen(jobs)[1]["attributes"]["ApproximateReceiveCount"] == "2"
    assert depth(jobs) == (0, 0)


def test_remove_deletes_the_mapping_and_the_worker_has_nothing_to_poll(
    jobs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["info"]) == 0
    assert f"{QUEUE} -> jobs-dev-work" in capsys.readouterr().out
    assert main(["deploy"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "No changes."
    assert main(["remove"]) == 0
    assert f"delete    event source mapping {QUEUE} -> jobs-dev-work" in capsys.readouterr().out


# -- serverless-lift's queue construct: the bboure pattern, locally ---------------------------

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
          Action: [states:SendTaskSuccess, states:SendTaskFailure]
          Resource: [!Ref ProcessPayment]
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
            ResultSelector:
              fulfilment.$: $.Payload
            ResultPath: $.result
            End: true
"""
LIFT_HANDLER = """import json

import boto3


def process_payment(event, context):
    client = boto3.client("stepfunctions")
    for record in event["Records"]:
        body = json.loads(record["body"])
        output = {"paid": body["order"]["total"], "group": record["attributes"]["MessageGroupId"]}
        client.send_task_success(taskToken=body["token"], output=json.dumps(output))
    return {"batchItemFailures": []}


def fulfill(event, context):
    return {"shipped": event["order"]["id"], "paid": event["paymentResult"]["paid"]}
"""
PAYMENTS = "payments-dev-processPayment.fifo"


@pytest.fixture
def payments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "payments"
    folder.mkdir()
    (folder / "serverless.yml").write_text(LIFT)
    (folder / "handler.py").write_text(LIFT_HANDLER)
    monkeypatch.chdir(folder)
    yield folder
    durable_helpers()._stop_everything(folder)
    LocalAwsServices(folder / ".tool").stop()


def test_a_lift_queue_worker_answers_the_task_token_of_an_execution(
    payments: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    helpers = durable_helpers()
    assert main(["deploy"]) == 0, capsys.readouterr().err
    capsys.readouterr()
    order = json.dumps({"order": {"id": "o-1", "total": 30}})
    assert main(["invoke", "--data", order, "--no-wait", "--json"]) == 0
    arn = json.loads(capsys.readouterr().out)["executionArn"]
    # the execution sent its message (with its task token) to the construct's FIFO queue
    assert helpers._wait_until(lambda: depth(payments, PAYMENTS)[0] == 1, 60)
    assert main(["worker", "--once"]) == 0
    assert f"{PAYMENTS} -> payments-dev-processPaymentWorker: 1 message(s), 1 done" in (
        capsys.readouterr().err
    )
    assert helpers._wait_until(helpers._ended(payments, arn), 60)
    described = LocalBackend(payments, REGION).describe_execution(arn)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {
        "order": {"id": "o-1", "total": 30},
        "paymentResult": {"paid": 30, "group": "payment"},
        "result": {"fulfilment": {"shipped": "o-1", "paid": 30}},
    }
    assert depth(payments, PAYMENTS) == (0, 0)
