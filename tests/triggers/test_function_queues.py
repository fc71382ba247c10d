"""The local poller of functions' `sqs` events, without a queue: the event Lambda builds, how
an answer settles a batch (docs "Reporting batch item failures"), filters, batching windows."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tooling.triggers.function_queues import (
    Answer,
    FunctionQueuePoller,
    QueueMapping,
    failed_items,
    lambda_sqs_event,
)

ARN = "arn:aws:sqs:us-east-1:000000000000:jobs"
FUNCTION = "arn:aws:lambda:us-east-1:000000000000:function:svc-dev-work"


def message(number: int, body: str = "b") -> dict[str, Any]:
    return {
        "MessageId": f"m{number}",
        "ReceiptHandle": f"h{number}",
        "Body": body,
        "MD5OfBody": "x" * 32,
        "Attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1"},
        "MessageAttributes": {"blob": {"DataType": "Binary", "BinaryValue": b"\x01\x02"}},
        "MD5OfMessageAttributes": "y" * 32,
    }


def test_the_event_is_lambdas_records_shape() -> None:
    (record,) = lambda_sqs_event([message(1)], ARN, "us-east-1")["Records"]
    assert record == {
        "messageId": "m1",
        "receiptHandle": "h1",
        "body": "b",
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1"},
        "messageAttributes": {
            "blob": {
                "binaryValue": "AQI=",
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": "Binary",
            }
        },
        "md5OfBody": "x" * 32,
        "md5OfMessageAttributes": "y" * 32,
        "eventSource": "aws:sqs",
        "eventSourceARN": ARN,
        "awsRegion": "us-east-1",
    }


IDS = ["m1", "m2"]


@pytest.mark.parametrize(
    ("payload", "kept"),
    [
        ("null", set()),  # a null answer: all succeeded
        ("", set()),
        ("{}", set()),
        ('{"batchItemFailures": []}', set()),
        ('{"batchItemFailures": null}', set()),
        ('{"batchItemFailures": [{"itemIdentifier": "m2"}]}', {"m2"}),
        ('{"batchItemFailures": [{"itemIdentifier": ""}]}', None),  # the batch failed
        ('{"batchItemFailures": [{"itemIdentifier": null}]}', None),
        ('{"batchItemFailures": [{"id": "m2"}]}', None),
        ('{"batchItemFailures": [{"itemIdentifier": "m9"}]}', None),
        ("not json", None),
        ("[1]", None),
    ],
)
def test_batch_item_failures_as_lambda_reads_them(payload: str, kept: set[str] | None) -> None:
    assert failed_items(Answer(None, payload), IDS, report_failures=True) == kept


def test_an_error_fails_the_batch_and_without_reporting_an_answer_is_a_success() -> None:
    assert failed_items(Answer("Unhandled", "{}"), IDS, report_failures=True) is None
    partial = '{"batchItemFailures": [{"itemIdentifier": "m2"}]}'
    assert failed_items(Answer(None, partial), IDS, report_failures=False) == set()


class FakeSqs:
    def __init__(self, batches: list[list[dict[str, Any]]]) -> None:
        self.batches = batches
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def call(self, service: str, method: str, *, what: str, **params: Any) -> dict[str, Any]:
        self.calls.append((method, params))
        if method == "get_queue_url":
            return {"QueueUrl": "http://q/jobs"}
        if method == "receive_message":
            return {"Messages": self.batches.pop(0) if self.batches else []}
        return {}


def mapping(**changes: Any) -> QueueMapping:
    settings: dict[str, Any] = {
        "name": "jobs -> work",
        "queue_arn": ARN,
        "function_arn": FUNCTION,
        "batch_size": 10,
        "batching_window": 0,
        "report_failures": True,
        "filter_patterns": (),
        "enabled": True,
    }
    return QueueMapping(**{**settings, **changes})


def test_filtered_out_messages_are_deleted_without_an_invocation() -> None:
    sqs = FakeSqs([])
    invoked: list[Any] = []

    def invoke(arn: str, payload: str) -> Answer:
        invoked.append(json.loads(payload))
        return Answer(None, "null")

    pattern = json.dumps({"body": {"kind": ["order"]}})
    poller = FunctionQueuePoller(mapping(filter_patterns=(pattern,)), sqs, invoke, "us-east-1")
    outcome = poller.process([message(1, '{"kind": "order"}'), message(2, '{"kind": "other"}')])
    assert [r["messageId"] for r in invoked[0]["Records"]] == ["m1"]
    assert (outcome.received, outcome.deleted, outcome.kept) == (2, 2, 0)
    deleted = [p for m, p in sqs.calls if m == "delete_message_batch"]
    assert [e["ReceiptHandle"] for e in deleted[0]["Entries"]] == ["h2", "h1"]


def test_a_batching_window_gathers_receives_until_the_batch_is_full() -> None:
    sqs = FakeSqs([[message(1)], [message(2)], [message(3)]])
    clock = iter([0.0, 1.0, 2.0, 3.0, 4.0])
    poller = FunctionQueuePoller(
        mapping(batch_size=3, batching_window=10), sqs, lambda a, p: Answer(None, ""), "r",
        monotonic=lambda: next(clock),
    )  # fmt: skip
    assert [m["MessageId"] for m in poller.receive(0)] == ["m1", "m2", "m3"]
    waits = [p["WaitTimeSeconds"] for m, p in sqs.calls if m == "receive_message"]
    assert waits == [0, 9, 8]  # what is left of the window


def test_without_a_window_one_receive_makes_the_batch() -> None:
    sqs = FakeSqs([[message(1)], [message(2)]])
    poller = FunctionQueuePoller(mapping(), sqs, lambda a, p: Answer(None, ""), "r")
    assert [m["MessageId"] for m in poller.receive(0)] == ["m1"]


def test_a_mapping_reads_its_deployed_document() -> None:
    document = {
        "EventSourceArn": ARN,
        "FunctionArn": FUNCTION,
        "BatchSize": 5,
        "MaximumBatchingWindowInSeconds": 2,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "FilterCriteria": {"Filters": [{"Pattern": '{"body": {"a": [1]}}'}]},
        "State": "Disabled",
    }
    read = QueueMapping.from_document("jobs -> work", document)
    assert read == mapping(
        batch_size=5,
        batching_window=2,
        filter_patterns=('{"body": {"a": [1]}}',),
        enabled=False,
    )
