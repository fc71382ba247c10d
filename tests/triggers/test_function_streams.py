"""The local stream poller's batch rules, on a fake shard (tooling/triggers/function_streams.py):
bisectBatchOnFunctionError splits a failing batch without using a retry until the bad record is
alone, then retries it as maximumRetryAttempts says; records too old go to onFailure without an
invocation; filtered and earlier records are passed over (issue 15)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tooling.triggers.function_queues import Answer
from tooling.triggers.function_streams import ShardPoller, StreamMapping, StreamRecord

ARN = "arn:aws:kinesis:us-east-1:000000000000:stream/clicks"
NOW = 1_000_000.0


@dataclass
class Shard:
    records: list[StreamRecord]

    def shards(self) -> list[str]:
        return ["shardId-000000000000"]

    def read(self, shard: str, after: str | None, limit: int) -> list[StreamRecord]:
        start = 0 if after is None else [r.sequence for r in self.records].index(after) + 1
        return self.records[start : start + limit]


@dataclass
class Positions:
    rows: dict[tuple[str, str], tuple[str | None, int, int]] = field(default_factory=dict)

    def stream_position(self, mapping: str, shard: str) -> tuple[str | None, int, int]:
        return self.rows.get((mapping, shard), (None, 0, 0))

    def commit_stream_position(
        self, mapping: str, shard: str, sequence: str | None, attempts: int, size: int = 0
    ) -> None:
        self.rows[(mapping, shard)] = (sequence, attempts, size)


def record(n: int, data: str, arrival: float = NOW) -> StreamRecord:
    event = {"kinesis": {"sequenceNumber": str(n), "data": data}, "eventSource": "aws:kinesis"}
    return StreamRecord(str(n), arrival, event)


def mapping(**document: Any) -> StreamMapping:
    base = {"UUID": "u", "EventSourceArn": ARN, "FunctionArn": "arn:fn", "BatchSize": 4,
            "StartingPosition": "TRIM_HORIZON"}  # fmt: skip
    return StreamMapping.from_document("clicks -> fn", {**base, **document}, datetime.now(UTC))


def poller(
    stream: list[StreamRecord], calls: list[list[str]], sent: list[dict[str, Any]], **doc: Any
) -> ShardPoller:
    def invoke(arn: str, payload: str) -> Answer:
        data = [r["kinesis"]["data"] for r in json.loads(payload)["Records"]]
        calls.append(data)
        if "bad" in data:
            return Answer("Unhandled", json.dumps({"errorType": "Boom", "errorMessage": "bad"}))
        return Answer(None, "null")

    return ShardPoller(
        mapping(**doc), "shardId-000000000000", Shard(stream), Positions(), invoke,
        lambda target, rec: sent.append(rec), now=lambda: NOW,
    )  # fmt: skip


def drain(p: ShardPoller) -> list[str]:
    lines = []
    while (outcome := p.step()) is not None:
        lines.append(outcome.line)
    return lines


def test_bisect_isolates_the_bad_record_without_using_retries() -> None:
    calls: list[list[str]] = []
    sent: list[dict[str, Any]] = []
    stream = [record(n, d) for n, d in enumerate(["a", "b", "bad", "c"], 1)]
    p = poller(
        stream, calls, sent, BisectBatchOnFunctionError=True, MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:0:q"}},
    )  # fmt: skip
    drain(p)
    assert calls == [
        ["a", "b", "bad", "c"],  # fails: split
        ["a", "b"],  # the first half: done
        ["bad", "c"],  # fails: split
        ["bad"],  # alone: fails, no retry left: discarded to onFailure
        ["c"],
    ]
    (failure,) = sent
    assert failure["KinesisBatchInfo"]["batchSize"] == 1
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"


def test_without_bisect_the_whole_batch_is_retried_then_discarded() -> None:
    calls: list[list[str]] = []
    sent: list[dict[str, Any]] = []
    stream = [record(n, d) for n, d in enumerate(["a", "bad"], 1)]
    drain(poller(stream, calls, sent, MaximumRetryAttempts=1))
    assert calls == [["a", "bad"], ["a", "bad"]]
    assert sent == []  # no destination: dropped


def test_too_old_records_are_discarded_without_an_invocation() -> None:
    calls: list[list[str]] = []
    sent: list[dict[str, Any]] = []
    stream = [record(1, "a", arrival=NOW - 120), record(2, "b", arrival=NOW - 90)]
    lines = drain(
        poller(
            stream, calls, sent, MaximumRecordAgeInSeconds=60,
            DestinationConfig={"OnFailure": {"Destination": "arn:aws:sns:us-east-1:0:t"}},
        )
    )  # fmt: skip
    assert calls == []
    assert sent[0]["requestContext"]["condition"] == "RecordAgeExceeded"
    assert "too old" in lines[0]


def test_records_before_the_starting_position_or_filtered_out_are_passed_over() -> None:
    calls: list[list[str]] = []
    stream = [record(1, "a", arrival=0.0), record(2, "b"), record(3, "c")]
    pattern = json.dumps({"kinesis": {"data": ["c"]}})
    p = poller(stream, calls, [], FilterCriteria={"Filters": [{"Pattern": pattern}]})
    drain(p)
    assert calls == [["c"]]
    calls.clear()
    since = datetime.fromtimestamp(1.0, UTC).isoformat()
    latest = poller(
        stream, calls, [], StartingPosition="AT_TIMESTAMP", StartingPositionTimestamp=since
    )
    drain(latest)
    assert calls == [["b", "c"]]
