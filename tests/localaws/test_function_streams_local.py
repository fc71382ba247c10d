"""Functions' `stream` events on the local target: `tool worker` reads the DynamoDB stream or the
Kinesis stream in the folder's local AWS services and invokes the function with Lambda's event;
a shard's position is committed only after the function answered, so a worker SIGKILLed
mid-batch hands the batch over again and loses nothing (issue 15)."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tooling.cli import main
from tooling.localaws.manager import LocalAwsServices

from .helpers import ACCOUNT, REGION, client, endpoint
from .test_function_queues_local import durable_helpers

pytestmark = pytest.mark.slow  # end-to-end: `make test` runs it, `make test-fast` does not

TABLE = "feeds-dev-orders"
FUNCTION = "feeds-dev-work"
SERVERLESS = """\
service: feeds
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
      - stream:
          type: dynamodb
          arn: !GetAtt Orders.StreamArn
          batchSize: 10
          maximumRetryAttempts: 1
          functionResponseType: ReportBatchItemFailures
          destinations:
            onFailure: {{arn: !GetAtt Failed.Arn, type: sqs}}
      - stream: arn:aws:kinesis:{region}:{account}:stream/clicks
resources:
  Resources:
    Failed:
      Type: AWS::SQS::Queue
      Properties:
        QueueName: feeds-dev-failed
    Orders:
      Type: AWS::DynamoDB::Table
      Properties:
        TableName: {table}
        BillingMode: PAY_PER_REQUEST
        AttributeDefinitions: [{{AttributeName: id, AttributeType: S}}]
        KeySchema: [{{AttributeName: id, KeyType: HASH}}]
        StreamSpecification: {{StreamViewType: NEW_AND_OLD_IMAGES}}
"""
HANDLER = """import json
import os
import time


def work(event, context):
    with open(os.environ["SEEN"], "a") as seen:
        seen.write(json.dumps(event) + "\\n")
    if os.path.exists(os.environ["BLOCK"]):
        time.sleep(60)  # until the test kills the worker (the function's timeout ends it)
    failed = []
    for record in event["Records"]:
        image = record.get("dynamodb", {}).get("NewImage", {})
        if image.get("kind", {}).get("S") == "crash":
            raise RuntimeError("crash")
        if image.get("kind", {}).get("S") == "bad":
            failed.append({"itemIdentifier": record["dynamodb"]["SequenceNumber"]})
    return {"batchItemFailures": failed}
"""


@pytest.fixture
def feeds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "feeds"
    folder.mkdir()
    config = SERVERLESS.format(
        seen=folder / "seen.jsonl", block=folder / "block", table=TABLE, region=REGION,
        account=ACCOUNT,
    )  # fmt: skip
    (folder / "serverless.yml").write_text(config)
    (folder / "handler.py").write_text(HANDLER)
    monkeypatch.chdir(folder)
    services = LocalAwsServices(folder / ".tool")
    client(endpoint(services), "kinesis").create_stream(StreamName="clicks", ShardCount=1)
    assert main(["deploy"]) == 0
    yield folder
    durable_helpers()._stop_everything(folder)
    LocalAwsServices(folder / ".tool").stop()


def aws(folder: Path, service: str) -> Any:
    return client(endpoint(LocalAwsServices(folder / ".tool")), service)


def put(folder: Path, key: str, kind: str = "ok") -> None:
    aws(folder, "dynamodb").put_item(TableName=TABLE, Item={"id": {"S": key}, "kind": {"S": kind}})


def batches(folder: Path) -> list[list[dict[str, Any]]]:
    path = folder / "seen.jsonl"
    lines = path.read_text().splitlines() if path.exists() else []
    return [json.loads(line)["Records"] for line in lines]


def keys(batch: list[dict[str, Any]]) -> list[str]:
    return [r["dynamodb"]["Keys"]["id"]["S"] for r in batch]


def failed_messages(folder: Path) -> list[dict[str, Any]]:
    sqs = aws(folder, "sqs")
    url = sqs.get_queue_url(QueueName="feeds-dev-failed")["QueueUrl"]
    answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in answer.get("Messages", [])]


def test_a_worker_killed_mid_batch_hands_the_batch_over_again_and_then_moves_on(
    feeds: Path,
) -> None:
    helpers = durable_helpers()
    (feeds / "block").write_text("")
    put(feeds, "precious")
    worker = subprocess.Popen(
        [sys.executable, "-c", "import sys; from tooling.cli import main; sys.exit(main())",
         "worker"],
        cwd=feeds, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert helpers._wait_until(lambda: len(batches(feeds)) == 1, 60)  # the function runs
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)
    (feeds / "block").unlink()
    assert main(["worker", "--once"]) == 0  # the position was not committed: the same batch
    assert [keys(b) for b in batches(feeds)] == [["precious"], ["precious"]]
    put(feeds, "next")
    assert main(["worker", "--once"]) == 0  # committed after the function answered
    assert [keys(b) for b in batches(feeds)][2:] == [["next"]]
    assert main(["worker", "--once"]) == 0
    assert len(batches(feeds)) == 3


def test_the_function_gets_lambdas_dynamodb_and_kinesis_events(
    feeds: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    put(feeds, "a")
    aws(feeds, "kinesis").put_record(StreamName="clicks", Data=b"hello", PartitionKey="p1")
    capsys.readouterr()
    assert main(["worker", "--once"]) == 0
    err = capsys.readouterr().err
    assert f"{TABLE} -> {FUNCTION}: 1 record(s), done" in err
    assert f"clicks -> {FUNCTION}: 1 record(s), done" in err
    by_source = {b[0]["eventSource"]: b[0] for b in batches(feeds)}
    table = aws(feeds, "dynamodb").describe_table(TableName=TABLE)["Table"]
    record = by_source["aws:dynamodb"]
    assert set(record) == {
        "eventID", "eventName", "eventVersion", "eventSource", "awsRegion", "dynamodb",
        "eventSourceARN",
    }  # fmt: skip
    assert (record["eventName"], record["eventVersion"]) == ("INSERT", "1.1")
    assert (record["awsRegion"], record["eventSourceARN"]) == (REGION, table["LatestStreamArn"])
    change = record["dynamodb"]
    assert change["Keys"] == {"id": {"S": "a"}}
    assert change["NewImage"] == {"id": {"S": "a"}, "kind": {"S": "ok"}}
    assert change["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert isinstance(change["ApproximateCreationDateTime"], float)
    assert isinstance(change["SequenceNumber"], str) and isinstance(change["SizeBytes"], int)
    clicks = by_source["aws:kinesis"]
    assert clicks["eventName"] == "aws:kinesis:record" and clicks["eventVersion"] == "1.0"
    assert clicks["eventSourceARN"] == f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/clicks"
    assert clicks["invokeIdentityArn"] == (
        f"arn:aws:iam::{ACCOUNT}:role/feeds-dev-{REGION}-lambdaRole"
    )
    data = clicks["kinesis"]
    assert base64.b64decode(data["data"]) == b"hello"
    assert (data["partitionKey"], data["kinesisSchemaVersion"]) == ("p1", "1.0")
    assert clicks["eventID"] == f"shardId-000000000000:{data['sequenceNumber']}"
    assert isinstance(data["approximateArrivalTimestamp"], float)


def test_a_reported_failure_is_retried_from_it_and_exhausted_retries_reach_on_failure(
    feeds: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for key, kind in (("one", "ok"), ("two", "bad"), ("three", "ok")):
        put(feeds, key, kind)
    assert main(["worker", "--once"]) == 0
    # the first try, then from the failed record: maximumRetryAttempts 1, then discarded
    assert [keys(b) for b in batches(feeds)] == [
        ["one", "two", "three"],
        ["two", "three"],
    ]
    err = capsys.readouterr().err
    assert (
        "retry attempts exhausted (the function reported failed items (batchItemFailures)): "
        "2 record(s) sent to feeds-dev-failed"
    ) in err
    (message,) = failed_messages(feeds)
    assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert message["requestContext"]["approximateInvokeCount"] == 2
    info = message["DDBStreamBatchInfo"]
    assert info["batchSize"] == 2 and info["streamArn"].startswith(
        f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{TABLE}/stream/"
    )
    put(feeds, "four")
    assert main(["worker", "--once"]) == 0
    assert [keys(b) for b in batches(feeds)][2:] == [["four"]]


def test_a_function_error_retries_the_whole_batch(
    feeds: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    put(feeds, "x", "crash")
    assert main(["worker", "--once"]) == 0
    assert [keys(b) for b in batches(feeds)] == [["x"], ["x"]]
    assert "the function failed: RuntimeError" in capsys.readouterr().err
    assert len(failed_messages(feeds)) == 1
