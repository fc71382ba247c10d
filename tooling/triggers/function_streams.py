"""`tool worker` on the local target: functions' `stream` events, as Lambda's stream pollers run
them (docs "Using Lambda with DynamoDB", "... with Kinesis Data Streams").

Per deployed event source mapping of a DynamoDB or Kinesis stream (tooling.deploy.
local_event_providers), each shard of the stream in the folder's local AWS services is read in
order and the function invoked with a batch in Lambda's event shape. The shard's position (the
last record handled) is committed in the runtime's SQLite file only after the function answered:
a worker killed at any point loses nothing, the batch is handed over again (at least once, as on
AWS). A function error retries the batch from the same record; with ReportBatchItemFailures, from
the lowest failed record. After maximumRetryAttempts retries, or once a record is older than
maximumRecordAgeInSeconds, the batch is discarded and an invocation record goes to the onFailure
queue or topic, as Lambda does. Records a filter pattern does not match are passed over without
an invocation. LATEST and AT_TIMESTAMP pass over the records older than the mapping or the
timestamp. With bisectBatchOnFunctionError a batch the function fails with an error is split in
two and its first half retried alone, without using a retry (Lambda's rule). Not honoured
locally (said once when the worker starts): tumblingWindowInSeconds, parallelizationFactor (one
batch per shard at a time) and the batching window (a batch is what one read returns).
"""

from __future__ import annotations

import base64
import contextlib
import json
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from tooling.config.service import ServiceConfig
from tooling.config.sqs_events import REPORT_BATCH_ITEM_FAILURES
from tooling.errors import ToolError
from tooling.triggers.function_queues import (
    MAPPING_KIND,
    Answer,
    EventFilter,
    Invoke,
    SqsCalls,
    _failure_reason,
    _LocalInvoker,
    failed_items,
)
from tooling.triggers.poller_threads import run_in_threads

RETRY_PAUSE_SECONDS = 1.0  # between tries of a failed batch (Lambda backs off too)
IDLE_SECONDS = 1.0  # between reads of a shard with nothing new (Lambda: about once a second)
STREAM_SERVICES = ("dynamodb", "kinesis")


class PositionStore(Protocol):
    """Where shard positions are committed (tooling.localrt.event_store.EventStore)."""

    def stream_position(self, mapping: str, shard: str) -> tuple[str | None, int, int]: ...

    def commit_stream_position(
        self, mapping: str, shard: str, sequence: str | None, attempts: int, size: int = 0
    ) -> None: ...


@dataclass(frozen=True)
class StreamMapping:
    """One deployed event source mapping of a stream, as ListEventSourceMappings describes it,
    and when it was made (a LATEST mapping reads what came after)."""

    name: str  # "<table or stream> -> <function>"
    key: str  # its positions' key: a mapping made again starts again
    stream_arn: str
    function_arn: str
    batch_size: int
    starting_position: str
    starting_after: float  # records that arrived before this (epoch seconds) are passed over
    maximum_retry_attempts: int  # -1: until the record expires
    maximum_record_age: int  # -1: no limit
    report_failures: bool
    filter_patterns: tuple[str, ...]
    on_failure: str | None
    enabled: bool
    unhonoured: tuple[str, ...]  # settings the local poller does not apply
    bisect: bool = False  # BisectBatchOnFunctionError

    @property
    def service(self) -> str:
        return self.stream_arn.split(":")[2]

    @staticmethod
    def from_document(name: str, document: Mapping[str, Any], created: datetime) -> StreamMapping:
        filters = (document.get("FilterCriteria") or {}).get("Filters") or []
        position = str(document.get("StartingPosition") or "TRIM_HORIZON")
        after = 0.0
        if position == "LATEST":
            after = created.timestamp()
        elif position == "AT_TIMESTAMP" and document.get("StartingPositionTimestamp"):
            after = datetime.fromisoformat(str(document["StartingPositionTimestamp"])).timestamp()
        unhonoured = [
            label
            for key, label, default in (
                ("TumblingWindowInSeconds", "tumblingWindowInSeconds", 0),
                ("ParallelizationFactor", "parallelizationFactor", 1),
                ("MaximumBatchingWindowInSeconds", "batchWindow", 0),
            )
            if document.get(key) not in (None, default)
        ]
        destination = ((document.get("DestinationConfig") or {}).get("OnFailure") or {}).get(
            "Destination"
        )
        return StreamMapping(
            name=name,
            key=f"{document.get('UUID', name)} {created.isoformat()}",
            stream_arn=str(document["EventSourceArn"]),
            function_arn=str(document["FunctionArn"]),
            batch_size=int(document.get("BatchSize") or 100),
            starting_position=position,
            starting_after=after,
            maximum_retry_attempts=_number(document.get("MaximumRetryAttempts"), -1),
            maximum_record_age=_number(document.get("MaximumRecordAgeInSeconds"), -1),
            report_failures=REPORT_BATCH_ITEM_FAILURES
            in (document.get("FunctionResponseTypes") or []),
            filter_patterns=tuple(str(f.get("Pattern", "")) for f in filters),
            on_failure=str(destination) if destination else None,
            enabled=document.get("State", "Enabled") == "Enabled",
            unhonoured=tuple(unhonoured),
            bisect=bool(document.get("BisectBatchOnFunctionError")),
        )


def _number(value: Any, default: int) -> int:
    return default if value is None else int(value)


@dataclass(frozen=True)
class StreamRecord:
    """One record as Lambda hands it to the function, with what the poller needs of it."""

    sequence: str
    arrival: float  # epoch seconds
    event: dict[str, Any]  # the record of event.Records


def _epoch(value: Any) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    return float(value or 0)


class StreamReader(Protocol):
    """Reads one stream's shards (DynamoDB Streams or Kinesis)."""

    def shards(self) -> list[str]: ...

    def read(self, shard: str, after: str | None, limit: int) -> list[StreamRecord]: ...


@dataclass
class DynamoDBStreamReader:
    """A table's stream, through DynamoDB Streams' API; records in Lambda's DynamoDB event shape
    (the GetRecords record, eventVersion 1.1, epoch-second creation times, eventSourceARN)."""

    aws: SqsCalls
    stream_arn: str
    region: str

    def shards(self) -> list[str]:
        answer = self.aws.call(
            "dynamodbstreams", "describe_stream", what=f"describe stream {self.stream_arn}",
            StreamArn=self.stream_arn,
        )  # fmt: skip
        return [s["ShardId"] for s in answer["StreamDescription"].get("Shards") or []]

    def read(self, shard: str, after: str | None, limit: int) -> list[StreamRecord]:
        start: dict[str, Any] = (
            {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after}
            if after
            else {"ShardIteratorType": "TRIM_HORIZON"}
        )
        iterator = self.aws.call(
            "dynamodbstreams", "get_shard_iterator", what=f"read stream {self.stream_arn}",
            StreamArn=self.stream_arn, ShardId=shard, **start,
        )["ShardIterator"]  # fmt: skip
        answer = self.aws.call(
            "dynamodbstreams", "get_records", what=f"read stream {self.stream_arn}",
            ShardIterator=iterator, Limit=min(limit, 1000),
        )  # fmt: skip
        return [self._record(raw) for raw in answer.get("Records") or []]

    def _record(self, raw: Mapping[str, Any]) -> StreamRecord:
        change = dict(raw.get("dynamodb") or {})
        created = _epoch(change.get("ApproximateCreationDateTime"))
        change["ApproximateCreationDateTime"] = float(int(created))  # whole seconds, as AWS
        event = {
            "eventID": raw.get("eventID"),
            "eventName": raw.get("eventName"),
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": self.region,
            "dynamodb": change,
            "eventSourceARN": self.stream_arn,
        }
        return StreamRecord(str(change["SequenceNumber"]), created, event)


@dataclass
class KinesisStreamReader:
    """A Kinesis data stream; records in Lambda's Kinesis event shape."""

    aws: SqsCalls
    stream_arn: str
    region: str
    role_arn: str  # invokeIdentityArn: the function's role

    @property
    def stream_name(self) -> str:
        return self.stream_arn.rsplit("/", 1)[-1]

    def shards(self) -> list[str]:
        answer = self.aws.call(
            "kinesis", "list_shards", what=f"list the shards of {self.stream_name}",
            StreamName=self.stream_name,
        )  # fmt: skip
        return [s["ShardId"] for s in answer.get("Shards") or []]

    def read(self, shard: str, after: str | None, limit: int) -> list[StreamRecord]:
        start: dict[str, Any] = (
            {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber": after}
            if after
            else {"ShardIteratorType": "TRIM_HORIZON"}
        )
        iterator = self.aws.call(
            "kinesis", "get_shard_iterator", what=f"read stream {self.stream_name}",
            StreamName=self.stream_name, ShardId=shard, **start,
        )["ShardIterator"]  # fmt: skip
        answer = self.aws.call(
            "kinesis", "get_records", what=f"read stream {self.stream_name}",
            ShardIterator=iterator, Limit=min(limit, 10_000),
        )  # fmt: skip
        return [self._record(shard, raw) for raw in answer.get("Records") or []]

    def _record(self, shard: str, raw: Mapping[str, Any]) -> StreamRecord:
        sequence = str(raw["SequenceNumber"])
        arrival = _epoch(raw.get("ApproximateArrivalTimestamp"))
        data = raw.get("Data") or b""
        event = {
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": raw.get("PartitionKey"),
                "sequenceNumber": sequence,
                "data": base64.b64encode(
                    data if isinstance(data, bytes) else data.encode()
                ).decode(),
                "approximateArrivalTimestamp": round(arrival, 3),
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": f"{shard}:{sequence}",
            "eventName": "aws:kinesis:record",
            "invokeIdentityArn": self.role_arn,
            "awsRegion": self.region,
            "eventSourceARN": self.stream_arn,
        }
        return StreamRecord(sequence, arrival, event)


@dataclass(frozen=True)
class ShardOutcome:
    mapping: str
    shard: str
    records: int
    line: str  # what happened, for the worker's output


@dataclass
class ShardPoller:
    """Reads one shard of one mapping and invokes the function with each batch."""

    mapping: StreamMapping
    shard: str
    reader: StreamReader
    positions: PositionStore
    invoke: Invoke
    send_failure: Callable[[str, dict[str, Any]], None]  # (destination ARN, invocation record)
    now: Callable[[], float] = time.time
    _filter: EventFilter | None = field(default=None, init=False)

    def step(self) -> ShardOutcome | None:
        """One batch: None when the shard has nothing new; otherwise what became of it."""
        mapping = self.mapping
        after, attempts, size = self.positions.stream_position(mapping.key, self.shard)
        read = self.reader.read(self.shard, after, size or mapping.batch_size)
        if not read:
            return None
        last = read[-1].sequence
        batch = [r for r in read if r.arrival >= mapping.starting_after and self._matches(r)]
        if not batch:  # before the starting position, or filtered out: no invocation
            self.positions.commit_stream_position(mapping.key, self.shard, last, 0)
            return ShardOutcome(mapping.name, self.shard, 0, f"{len(read)} record(s) passed over")
        oldest = min(r.arrival for r in batch)
        if mapping.maximum_record_age >= 0 and self.now() - oldest > mapping.maximum_record_age:
            return self._discard(batch, last, attempts, "RecordAgeExceeded", None, "too old")
        sequences = [r.sequence for r in batch]
        answer = self.invoke(
            mapping.function_arn, json.dumps({"Records": [r.event for r in batch]})
        )
        failed = failed_items(answer, sequences, mapping.report_failures)
        if failed is not None and not failed:
            self.positions.commit_stream_position(mapping.key, self.shard, last, 0)
            return ShardOutcome(
                mapping.name, self.shard, len(batch), f"{len(batch)} record(s), done"
            )
        # a failure: retried from the lowest failed record (the whole batch for an error)
        first = 0 if failed is None else min(sequences.index(s) for s in failed)
        checkpoint = after if first == 0 else _before(read, batch[first].sequence)
        reason = (
            _failure_reason(answer)
            if failed is None
            else "the function reported failed items (batchItemFailures)"
        )
        if answer.function_error is not None and mapping.bisect and len(read) > 1:
            # split in two, the first half retried alone; a split uses no retry
            half = (len(read) + 1) // 2
            self.positions.commit_stream_position(mapping.key, self.shard, after, attempts, half)
            return ShardOutcome(
                mapping.name,
                self.shard,
                len(batch),
                f"{len(batch)} record(s), failed: {reason}; split, the first {half} retried",
            )
        attempts += 1
        retries = mapping.maximum_retry_attempts
        if retries >= 0 and attempts > retries:
            return self._discard(
                batch[first:], last, attempts, "RetryAttemptsExhausted", answer, reason
            )
        self.positions.commit_stream_position(mapping.key, self.shard, checkpoint, attempts)
        return ShardOutcome(
            mapping.name,
            self.shard,
            len(batch),
            f"{len(batch)} record(s), failed (try {attempts}): {reason}; retried from record "
            f"{batch[first].sequence}",
        )

    def _matches(self, record: StreamRecord) -> bool:
        if not self.mapping.filter_patterns:
            return True
        if self._filter is None:
            self._filter = EventFilter(self.mapping.filter_patterns)
        subject = dict(record.event)
        if "kinesis" in subject:  # Lambda matches a Kinesis record's data as JSON when it is
            kinesis = dict(subject["kinesis"])
            with contextlib.suppress(ValueError):
                kinesis["data"] = json.loads(base64.b64decode(kinesis["data"]))
            subject["kinesis"] = kinesis
        return self._filter.matches(subject)

    def _discard(
        self,
        records: list[StreamRecord],
        last: str,
        attempts: int,
        condition: str,
        answer: Answer | None,
        reason: str,
    ) -> ShardOutcome:
        """Records Lambda gives up on: an invocation record to onFailure, then past them."""
        mapping = self.mapping
        where = "no onFailure destination, dropped"
        if mapping.on_failure:
            self.send_failure(
                mapping.on_failure, self._invocation_record(records, attempts, condition, answer)
            )
            where = f"sent to {mapping.on_failure.rsplit(':', 1)[-1]}"
        self.positions.commit_stream_position(mapping.key, self.shard, last, 0)
        what = "retry attempts exhausted" if condition == "RetryAttemptsExhausted" else "too old"
        return ShardOutcome(
            mapping.name,
            self.shard,
            len(records),
            f"{what} ({reason}): {len(records)} record(s) {where}",
        )

    def _invocation_record(
        self, records: list[StreamRecord], attempts: int, condition: str, answer: Answer | None
    ) -> dict[str, Any]:
        """What Lambda sends to a stream mapping's onFailure destination (docs "Retaining
        discarded batch records")."""
        mapping = self.mapping
        info_key = "DDBStreamBatchInfo" if mapping.service == "dynamodb" else "KinesisBatchInfo"
        response: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
        if answer is not None and answer.function_error:
            response["functionError"] = answer.function_error
        return {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": mapping.function_arn,
                "condition": condition,
                "approximateInvokeCount": attempts,
            },
            "responseContext": response,
            "version": "1.0",
            "timestamp": _iso(self.now()),
            info_key: {
                "shardId": self.shard,
                "startSequenceNumber": records[0].sequence,
                "endSequenceNumber": records[-1].sequence,
                "approximateArrivalOfFirstRecord": _iso(records[0].arrival),
                "approximateArrivalOfLastRecord": _iso(records[-1].arrival),
                "batchSize": len(records),
                "streamArn": mapping.stream_arn,
            },
        }


def _before(read: list[StreamRecord], sequence: str) -> str | None:
    """The record read just before `sequence` (the checkpoint to retry it from)."""
    index = [r.sequence for r in read].index(sequence)
    return read[index - 1].sequence if index > 0 else None


def _iso(seconds: float) -> str:
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def run_shard_pollers(
    pollers: list[ShardPoller],
    *,
    stop: threading.Event,
    once: bool,
    on_outcome: Callable[[ShardOutcome], None],
) -> list[ShardOutcome]:
    """One thread per shard, until `stop` or, with `once`, until the shard has nothing new (or
    its batch keeps failing with retries left only as time goes by: with unlimited retries,
    `once` tries a failing batch once)."""

    def loop(poller: ShardPoller, record: Callable[[ShardOutcome], None]) -> None:
        while not stop.is_set():
            outcome = poller.step()
            if outcome is None:
                if once:
                    return
                stop.wait(IDLE_SECONDS)
                continue
            record(outcome)
            on_outcome(outcome)
            if "failed (try" in outcome.line:
                if once and poller.mapping.maximum_retry_attempts < 0:
                    return
                if not once:
                    stop.wait(RETRY_PAUSE_SECONDS)

    return run_in_threads(pollers, loop, stop)


LoopRun = Callable[[threading.Event, bool], list[ShardOutcome]]


def local_function_streams(service: ServiceConfig, say: Callable[[str], None]) -> LoopRun | None:
    """What `tool worker` runs on the local target for the functions' `stream` events deployed
    in the folder; None when there are none."""
    from tooling.backends.local import LocalBackend
    from tooling.localrt.event_store import EventStore

    backend = LocalBackend(service.directory, service.region)
    if not backend.store.path.exists():
        return None
    events = EventStore(backend.store.path)
    mappings = [
        StreamMapping.from_document(r.name, r.document, r.created)
        for r in events.all(MAPPING_KIND, service.region)
        if str(r.document.get("EventSourceArn", "")).split(":")[2:3]
        in ([s] for s in STREAM_SERVICES)
    ]
    mappings = [m for m in mappings if m.enabled]
    if not mappings:
        return None

    def run(stop: threading.Event, once: bool) -> list[ShardOutcome]:
        from tooling.aws.client import local_endpoint_client
        from tooling.localaws.manager import LocalAwsServices

        services = LocalAwsServices(backend.store.path.parent)
        if not services.has_data():
            for mapping in mappings:
                say(f"{mapping.name}: the local AWS services hold no stream yet (deploy first)")
            return []
        aws = local_endpoint_client(
            services.endpoint(), service.region, services.credentials().environment()
        )
        with _LocalInvoker(backend, services, service.region) as invoke:
            pollers: list[ShardPoller] = []
            for mapping in mappings:
                if mapping.unhonoured:
                    say(f"{mapping.name}: not applied by the local worker: "
                        f"{', '.join(mapping.unhonoured)} (AWS applies them)")  # fmt: skip
                reader = _reader(mapping, aws, backend, service.region)
                try:
                    shards = reader.shards()
                except ToolError as exc:
                    say(f"{mapping.name}: stream {mapping.stream_arn} cannot be read in the "
                        f"local AWS services ({exc}); create it under resources:")  # fmt: skip
                    continue
                pollers += [
                    ShardPoller(mapping, shard, reader, events, invoke, _sender(aws))
                    for shard in shards
                ]

            def on_outcome(outcome: ShardOutcome) -> None:
                say(f"{outcome.mapping}: {outcome.line}")

            return run_shard_pollers(pollers, stop=stop, once=once, on_outcome=on_outcome)

    return run


def _reader(mapping: StreamMapping, aws: SqsCalls, backend: Any, region: str) -> StreamReader:
    if mapping.service == "dynamodb":
        return DynamoDBStreamReader(aws, mapping.stream_arn, region)
    record = backend.store.get_function(mapping.function_arn)
    role = str((record.config if record else {}).get("Role", ""))
    return KinesisStreamReader(aws, mapping.stream_arn, region, role)


def _sender(aws: SqsCalls) -> Callable[[str, dict[str, Any]], None]:
    from tooling.localrt.destinations import send_record

    return lambda destination, record: send_record(aws, destination, record)
