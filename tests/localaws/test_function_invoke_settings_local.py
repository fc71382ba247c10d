"""A function's maximumRetryAttempts, destinations and reservedConcurrency on the local target:
an asynchronous invocation (lambda:invoke with InvocationType Event) is retried as the
function says, then its invocation record goes to the onFailure queue or the onSuccess
function; a reserved concurrency of 0 throttles a synchronous call (issue 15)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tooling.cli import main
from tooling.localaws.manager import LocalAwsServices

from .helpers import client, endpoint
from .test_function_queues_local import durable_helpers

pytestmark = pytest.mark.slow  # end-to-end: `make test` runs it, `make test-fast` does not

SERVERLESS = """\
service: later
provider:
  name: aws
  runtime: python3.12
functions:
  work:
    handler: handler.work
    maximumRetryAttempts: 1
    environment:
      SEEN: {seen}
    destinations:
      onSuccess: after
      onFailure:
        arn: !GetAtt Failed.Arn
        type: sqs
  after:
    handler: handler.after
    environment:
      SEEN: {seen}
  closed:
    handler: handler.work
    reservedConcurrency: 0
    environment:
      SEEN: {seen}
stepFunctions:
  stateMachines:
    fire:
      definition:
        StartAt: Fire
        States:
          Fire:
            Type: Task
            Resource: arn:aws:states:::lambda:invoke
            Parameters:
              FunctionName: later-dev-work
              InvocationType: Event
              Payload.$: $
            End: true
    closed:
      definition:
        StartAt: Call
        States:
          Call:
            Type: Task
            Resource: !GetAtt closed.Arn
            End: true
resources:
  Resources:
    Failed:
      Type: AWS::SQS::Queue
      Properties:
        QueueName: later-dev-failed
"""
HANDLER = """import json
import os


def work(event, context):
    with open(os.environ["SEEN"], "a") as seen:
        seen.write(json.dumps({"work": event}) + "\\n")
    if event.get("fail"):
        raise RuntimeError("no")
    return {"done": event}


def after(event, context):
    with open(os.environ["SEEN"], "a") as seen:
        seen.write(json.dumps({"after": event}) + "\\n")
"""


@pytest.fixture
def later(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "later"
    folder.mkdir()
    (folder / "serverless.yml").write_text(SERVERLESS.format(seen=folder / "seen.jsonl"))
    (folder / "handler.py").write_text(HANDLER)
    monkeypatch.chdir(folder)
    assert main(["deploy"]) == 0
    yield folder
    durable_helpers()._stop_everything(folder)
    LocalAwsServices(folder / ".tool").stop()


def seen(folder: Path) -> list[dict[str, Any]]:
    path = folder / "seen.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def failed_records(folder: Path) -> list[dict[str, Any]]:
    sqs = client(endpoint(LocalAwsServices(folder / ".tool")), "sqs")
    url = sqs.get_queue_url(QueueName="later-dev-failed")["QueueUrl"]
    answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in answer.get("Messages", [])]


def invoke(folder: Path, machine: str, data: dict[str, Any]) -> int:
    (folder / "in.json").write_text(json.dumps(data))
    return main(["invoke", "--name", machine, "--input", str(folder / "in.json")])


def test_a_failing_asynchronous_call_is_retried_then_recorded_on_failure(later: Path) -> None:
    assert invoke(later, "fire", {"fail": True}) == 0  # the execution does not wait for it
    received: list[dict[str, Any]] = []

    def arrived() -> bool:
        received.extend(failed_records(later))
        return bool(received)

    assert durable_helpers()._wait_until(arrived, 60)
    assert [r["work"] for r in seen(later)] == [{"fail": True}, {"fail": True}]  # 1 retry
    (record,) = received
    context = record["requestContext"]
    assert (context["condition"], context["approximateInvokeCount"]) == ("RetriesExhausted", 2)
    assert context["functionArn"].endswith(":function:later-dev-work:$LATEST")
    assert record["requestPayload"] == {"fail": True}
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["responsePayload"]["errorType"] == "RuntimeError"


def test_a_succeeding_asynchronous_call_sends_its_record_to_the_on_success_function(
    later: Path,
) -> None:
    assert invoke(later, "fire", {"n": 1}) == 0
    assert durable_helpers()._wait_until(lambda: any("after" in r for r in seen(later)), 60)
    (record,) = [r["after"] for r in seen(later) if "after" in r]
    assert record["requestContext"]["condition"] == "Success"
    assert record["responsePayload"] == {"done": {"n": 1}}
    assert [r for r in seen(later) if "work" in r] == [{"work": {"n": 1}}]


def test_a_reserved_concurrency_of_zero_throttles_a_synchronous_call(
    later: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert invoke(later, "closed", {}) == 1
    assert "Lambda.TooManyRequestsException" in capsys.readouterr().err
    assert seen(later) == []
