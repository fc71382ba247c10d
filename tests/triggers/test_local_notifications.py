"""Status-change notifications on the local target: delivered by `tool worker` to the local
queues, functions and state machines, once per execution, status and target; other targets are
said, not dropped."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tooling.backends.local import LocalBackend
from tooling.cli import main
from tooling.localrt.event_store import EventStore
from tooling.localrt.eventbridge import (
    NotificationDeliverer,
    function_runner,
    local_aws_client,
)
from tooling.localrt.queue import LocalQueues
from tooling.localrt.store import Store
from tooling.names import LOCAL_ACCOUNT_ID
from tooling.triggers.starters import BackendStarter

pytestmark = pytest.mark.slow  # end-to-end: `make test` runs it, `make test-fast` does not

REGION = "us-east-1"
PREFIX = f"arn:aws:states:{REGION}:{LOCAL_ACCOUNT_ID}:stateMachine:"
QUEUE = f"arn:aws:sqs:{REGION}:{LOCAL_ACCOUNT_ID}:n-dev-ok-trigger"

SERVICE = f"""\
service: n
provider:
  name: aws
functions:
  audit:
    handler: audit.main
stepFunctions:
  stateMachines:
    ok:
      definition: {{StartAt: A, States: {{A: {{Type: Pass, End: true}}}}}}
      events:
        - sqs: {{queue: n-dev-ok-trigger}}
      notifications:
        RUNNING:
          - lambda: {{Fn::GetAtt: [audit, Arn]}}
        SUCCEEDED:
          - stepFunctions: {PREFIX}n-dev-after
            inputPath: $.detail
          - sns: arn:aws:sns:{REGION}:{LOCAL_ACCOUNT_ID}:alerts
    bad:
      definition: {{StartAt: F, States: {{F: {{Type: Fail, Error: Oops, Cause: broken}}}}}}
      notifications:
        FAILED:
          - sqs: {QUEUE}
            inputTransformer:
              inputPathsMap: {{error: $.detail.error, name: $.detail.name}}
              inputTemplate: '{{"run": <name>, "error": <error>}}'
    after:
      definition: {{StartAt: A, States: {{A: {{Type: Pass, End: true}}}}}}
"""


@pytest.fixture
def folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Path:
    service = tmp_path / "service"
    service.mkdir()
    (service / "serverless.yml").write_text(SERVICE)
    (service / "audit.py").write_text(
        "import json\n\ndef main(event, context):\n"
        "    print('audit', event['detail']['status'], event['detail']['name'])\n"
    )
    monkeypatch.chdir(service)
    assert main(["deploy"]) == 0
    capsys.readouterr()
    return service


def finished(backend: LocalBackend, arn: str) -> dict[str, object]:
    for _ in range(400):
        described = backend.describe_execution(arn)
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.05)
    raise AssertionError(f"{arn} did not finish")


def deliverer(folder: Path, said: list[str]) -> NotificationDeliverer:
    backend = LocalBackend(folder, REGION)
    return NotificationDeliverer(
        EventStore(backend.store.path),
        backend.store,
        BackendStarter(backend),
        LocalQueues(backend.store.path),
        REGION,
        LOCAL_ACCOUNT_ID,
        say=said.append,
        run_function=function_runner(backend.store, REGION, said.append),
        local_aws=local_aws_client(folder / ".tool", REGION),
    )


def test_notifications_reach_local_targets_once(folder: Path) -> None:
    backend = LocalBackend(folder, REGION)
    ok = backend.start_execution(PREFIX + "n-dev-ok", "first", '{"n": 1}')["executionArn"]
    bad = backend.start_execution(PREFIX + "n-dev-bad", "second", "{}")["executionArn"]
    finished(backend, ok)
    finished(backend, bad)
    said: list[str] = []
    worker = deliverer(folder, said)
    delivered = worker.deliver_pending()
    outcomes = sorted((d.status, d.target.split(":")[2], d.outcome) for d in delivered)
    assert outcomes == [
        ("FAILED", "sqs", "delivered"),
        ("RUNNING", "lambda", "delivered"),
        # the folder's local AWS services hold nothing: no topic can be there
        ("SUCCEEDED", "sns", "not delivered: the local AWS services hold nothing (tool local)"),
        ("SUCCEEDED", "states", "delivered"),
    ]
    assert said == [
        f"notification to arn:aws:sns:{REGION}:{LOCAL_ACCOUNT_ID}:alerts not delivered: the "
        "local AWS services hold nothing (tool local)"
    ]
    assert worker.deliver_pending() == []  # each once
    assert deliverer(folder, []).deliver_pending() == []  # another worker too

    (message,) = LocalQueues(folder / ".tool" / "local.db").receive_messages(QUEUE, 10)
    assert json.loads(message["Body"]) == {"run": "second", "error": "Oops"}

    store = Store(folder / ".tool" / "local.db")
    (after,) = store.list_executions(PREFIX + "n-dev-after")
    detail = json.loads(after.input)  # inputPath $.detail of the status change event
    assert (detail["name"], detail["status"], detail["output"]) == ("first", "SUCCEEDED", '{"n":1}')
    assert detail["executionArn"] == ok and detail["stopDate"] >= detail["startDate"]

    for _ in range(200):  # the audit function runs on its own thread, as Lambda's async invoke
        lines = [r.message for r in store.logs(function_name="n-dev-audit", after_seq=0)]
        if lines:
            break
        time.sleep(0.05)
    assert "audit RUNNING first" in lines


def test_executions_before_the_rule_existed_are_not_notified(folder: Path) -> None:
    backend = LocalBackend(folder, REGION)
    records = EventStore(folder / ".tool" / "local.db")
    rule = records.get("rule", REGION, "n-dev-bad-FAILED-notification")
    assert rule is not None
    bad = backend.start_execution(PREFIX + "n-dev-bad", "old", "{}")["executionArn"]
    finished(backend, bad)
    # as if the rule had been deployed after that run ended
    records.put(
        "rule", REGION, rule.name, rule.document, now=rule.created.replace(year=2100), restart=True
    )
    assert deliverer(folder, []).deliver_pending() == []


def test_a_stream_of_the_local_aws_services_gets_the_event(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import boto3

    from tooling.localaws.manager import LocalAwsServices

    service = tmp_path / "service"
    service.mkdir()
    stream = f"arn:aws:kinesis:{REGION}:{LOCAL_ACCOUNT_ID}:stream/audit"
    (service / "serverless.yml").write_text(
        "service: k\nprovider:\n  name: aws\nstepFunctions:\n  stateMachines:\n    m:\n"
        "      definition: {StartAt: A, States: {A: {Type: Pass, End: true}}}\n"
        "      notifications:\n        SUCCEEDED:\n"
        f"          - kinesis: {{arn: {stream}, partitionKeyPath: $.detail.name}}\n"
    )
    monkeypatch.chdir(service)
    assert main(["deploy"]) == 0
    services = LocalAwsServices(service / ".tool")
    try:
        kinesis = boto3.client(
            "kinesis",
            endpoint_url=services.endpoint(),
            region_name=REGION,
            aws_access_key_id=services.credentials().access_key_id,
            aws_secret_access_key=services.credentials().secret_access_key,
            aws_session_token=services.credentials().session_token,
        )
        kinesis.create_stream(StreamName="audit", ShardCount=1)
        backend = LocalBackend(service, REGION)
        run = backend.start_execution(PREFIX + "k-dev-m", "watched", "{}")["executionArn"]
        finished(backend, run)
        (delivery,) = deliverer(service, []).deliver_pending()
        assert (delivery.status, delivery.outcome) == ("SUCCEEDED", "delivered")
        shard = kinesis.describe_stream(StreamName="audit")["StreamDescription"]["Shards"][0]
        iterator = kinesis.get_shard_iterator(
            StreamName="audit", ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        (record,) = kinesis.get_records(ShardIterator=iterator)["Records"]
        assert record["PartitionKey"] == "watched"
        event = json.loads(record["Data"])
        assert (event["detail-type"], event["detail"]["executionArn"]) == (
            "Step Functions Execution Status Change", run,
        )  # fmt: skip
    finally:
        services.stop()
