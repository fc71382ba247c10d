"""`tool worker` on the local target: functions' `sqs` events, as Lambda's SQS poller runs them.

Per deployed event source mapping (tooling.deploy.local_event_providers), the queue in the
folder's local AWS services is polled and the function invoked with a batch in Lambda's SQS
event shape (docs "Using Lambda with Amazon SQS"). A batch is deleted only after the function
answered without error: a worker killed at any point loses nothing, the messages come back after
their visibility timeout (at least once, as on AWS). With ReportBatchItemFailures, only the
messages the function names are kept; a malformed answer fails the whole batch, as Lambda does.
Messages a filter pattern does not match are deleted without an invocation, as Lambda does.
"""

from __future__ import annotations

import base64
import contextlib
import json
import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from tooling.config.service import ServiceConfig
from tooling.config.sqs_events import REPORT_BATCH_ITEM_FAILURES
from tooling.errors import ToolError
from tooling.triggers.poller_threads import run_in_threads

if TYPE_CHECKING:
    from tooling.backends.local import LocalBackend
    from tooling.localaws.manager import LocalAwsServices
    from tooling.localrt.lambda_runner import LocalLambdaRunner

MAX_RECEIVE = 10  # SQS ReceiveMessage MaxNumberOfMessages
LONG_POLL_SECONDS = 20  # SQS ReceiveMessage WaitTimeSeconds maximum
IDLE_SECONDS = 1.0  # between polls of a queue that does not exist (yet)
MAPPING_KIND = "event source mapping"


@dataclass(frozen=True)
class QueueMapping:
    """One deployed event source mapping, as ListEventSourceMappings describes it."""

    name: str  # "<queue> -> <function>"
    queue_arn: str
    function_arn: str
    batch_size: int
    batching_window: int
    report_failures: bool
    filter_patterns: tuple[str, ...]
    enabled: bool

    @staticmethod
    def from_document(name: str, document: Mapping[str, Any]) -> QueueMapping:
        filters = (document.get("FilterCriteria") or {}).get("Filters") or []
        return QueueMapping(
            name=name,
            queue_arn=str(document["EventSourceArn"]),
            function_arn=str(document["FunctionArn"]),
            batch_size=int(document.get("BatchSize") or 10),
            batching_window=int(document.get("MaximumBatchingWindowInSeconds") or 0),
            report_failures=REPORT_BATCH_ITEM_FAILURES
            in (document.get("FunctionResponseTypes") or []),
            filter_patterns=tuple(str(f.get("Pattern", "")) for f in filters),
            enabled=document.get("State", "Enabled") == "Enabled",
        )


class SqsCalls(Protocol):
    """What the poller asks of SQS (tooling.aws.client.AwsClient)."""

    def call(self, service: str, method: str, *, what: str, **params: Any) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Answer:
    """How the function answered a batch: its error (None: it returned) and its payload."""

    function_error: str | None
    payload: str


Invoke = Callable[[str, str], Answer]  # (function ARN, event JSON) -> its answer


@dataclass(frozen=True)
class BatchOutcome:
    mapping: str
    received: int
    deleted: int  # processed (and filtered out): gone from the queue
    kept: int  # left for another receive (and the dead-letter queue after maxReceiveCount)
    reason: str = ""  # why messages were kept


def lambda_sqs_event(
    messages: Iterable[Mapping[str, Any]], queue_arn: str, region: str
) -> dict[str, Any]:
    """ReceiveMessage's messages as Lambda hands them to a function (event.Records)."""
    return {"Records": [_record(m, queue_arn, region) for m in messages]}


def _record(message: Mapping[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": dict(message.get("Attributes") or {}),
        "messageAttributes": {
            name: _attribute(value)
            for name, value in (message.get("MessageAttributes") or {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
    }
    if message.get("MD5OfMessageAttributes"):
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    record.update(eventSource="aws:sqs", eventSourceARN=queue_arn, awsRegion=region)
    return record


def _attribute(value: Mapping[str, Any]) -> dict[str, Any]:
    """A message attribute in the event's camel case, binary values in base64."""
    out: dict[str, Any] = {}
    if "StringValue" in value:
        out["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        out["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    out["stringListValues"] = list(value.get("StringListValues") or [])
    out["binaryListValues"] = [
        base64.b64encode(item).decode() for item in value.get("BinaryListValues") or []
    ]
    out["dataType"] = value.get("DataType", "String")
    return out


def failed_items(answer: Answer, message_ids: list[str], report_failures: bool) -> set[str] | None:
    """The messages to keep after a batch: None for all of them (the batch failed)."""
    if answer.function_error is not None:
        return None
    if not report_failures:
        return set()
    # Lambda's rules (docs "Reporting batch item failures"): an empty or null answer, or an
    # empty or null batchItemFailures, is a success; an answer that is not JSON, or an item
    # whose identifier is missing, empty or not a message of the batch, fails the batch.
    try:
        response = json.loads(answer.payload) if answer.payload.strip() else None
    except ValueError:
        return None
    if response is None:
        return set()
    if not isinstance(response, dict):
        return None
    failures = response.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return None
    kept: set[str] = set()
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or identifier not in message_ids:
            return None
        kept.add(identifier)
    return kept


class EventFilter:
    """A mapping's filter patterns (EventBridge's pattern syntax, as Lambda applies them to a
    record: `body` is matched as JSON when it is JSON). moto's matcher; read at the first use."""

    def __init__(self, patterns: tuple[str, ...]) -> None:
        from moto.events.models import EventPattern

        self.patterns = [EventPattern.load(pattern) for pattern in patterns]

    def matches(self, record: Mapping[str, Any]) -> bool:
        subject = dict(record)
        with contextlib.suppress(ValueError):
            subject["body"] = json.loads(record.get("body", ""))
        # moto types the event as an EventBridge event; the matcher reads any mapping
        return any(pattern.matches_event(subject) for pattern in self.patterns)  # type: ignore[arg-type]


@dataclass
class FunctionQueuePoller:
    """Polls one mapping's queue and invokes its function with each batch."""

    mapping: QueueMapping
    sqs: SqsCalls
    invoke: Invoke
    region: str
    monotonic: Callable[[], float] = time.monotonic
    _url: str | None = field(default=None, init=False)
    _filter: EventFilter | None = field(default=None, init=False)

    def queue_url(self) -> str | None:
        if self._url is None:
            _, _, _, _, account, name = self.mapping.queue_arn.split(":", 5)
            try:
                answer = self.sqs.call(
                    "sqs", "get_queue_url", what=f"find queue {name}", QueueName=name,
                    QueueOwnerAWSAccountId=account,
                )  # fmt: skip
            except ToolError:
                return None
            self._url = str(answer["QueueUrl"])
        return self._url

    def receive(self, wait_seconds: int) -> list[dict[str, Any]]:
        """Up to a batch: with a batching window, receives until the batch is full or the
        window has passed."""
        url = self.queue_url()
        if url is None:
            return []
        wanted = self.mapping.batch_size
        window = self.mapping.batching_window
        deadline = self.monotonic() + window
        messages: list[dict[str, Any]] = []
        while len(messages) < wanted:
            wait = wait_seconds
            if messages:  # part of a batch: wait for more until the window has passed
                remaining = deadline - self.monotonic()
                if remaining <= 0:
                    break
                wait = min(LONG_POLL_SECONDS, math.ceil(remaining))
            answer = self.sqs.call(
                "sqs", "receive_message", what=f"receive from {self.mapping.name}",
                QueueUrl=url, MaxNumberOfMessages=min(MAX_RECEIVE, wanted - len(messages)),
                WaitTimeSeconds=wait, AttributeNames=["All"], MessageAttributeNames=["All"],
            )  # fmt: skip
            got = list(answer.get("Messages") or [])
            messages.extend(got)
            if not window or not messages:
                break
        return messages

    def process(self, messages: list[dict[str, Any]]) -> BatchOutcome:
        """Invoke the function with `messages`, then delete what is done."""
        url = self.queue_url()
        assert url is not None
        event = lambda_sqs_event(messages, self.mapping.queue_arn, self.region)
        records = event["Records"]
        skipped: list[str] = []
        if self.mapping.filter_patterns:
            if self._filter is None:
                self._filter = EventFilter(self.mapping.filter_patterns)
            matching = [r for r in records if self._filter.matches(r)]
            skipped = [r["receiptHandle"] for r in records if r not in matching]
            records = matching
        reason = ""
        done = list(skipped)
        if records:
            ids = [r["messageId"] for r in records]
            answer = self.invoke(self.mapping.function_arn, json.dumps({"Records": records}))
            kept = failed_items(answer, ids, self.mapping.report_failures)
            if kept is None:
                reason = _failure_reason(answer)
                kept = set(ids)
            elif kept:
                reason = "the function reported these items failed (batchItemFailures)"
            done += [r["receiptHandle"] for r in records if r["messageId"] not in kept]
        self._delete(url, done)
        return BatchOutcome(
            self.mapping.name, len(messages), len(done), len(messages) - len(done), reason
        )

    def _delete(self, url: str, handles: list[str]) -> None:
        for start in range(0, len(handles), MAX_RECEIVE):
            chunk = handles[start : start + MAX_RECEIVE]
            self.sqs.call(
                "sqs", "delete_message_batch", what=f"delete from {self.mapping.name}",
                QueueUrl=url,
                Entries=[{"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(chunk)],
            )  # fmt: skip


def _failure_reason(answer: Answer) -> str:
    if answer.function_error is None:
        return "the function's answer is not a valid batchItemFailures response"
    try:
        error = json.loads(answer.payload)
    except ValueError:
        return f"the function failed ({answer.function_error})"
    if isinstance(error, dict) and error.get("errorType"):
        return f"the function failed: {error['errorType']}: {error.get('errorMessage', '')}"
    return f"the function failed ({answer.function_error})"


def run_pollers(
    pollers: list[FunctionQueuePoller],
    *,
    stop: threading.Event,
    once: bool,
    on_batch: Callable[[BatchOutcome], None],
    on_missing: Callable[[FunctionQueuePoller], None],
) -> list[BatchOutcome]:
    """One thread per mapping, until `stop` or, with `once`, until its queue has nothing visible."""

    def loop(poller: FunctionQueuePoller, record: Callable[[BatchOutcome], None]) -> None:
        said_missing = False
        while not stop.is_set():
            if poller.queue_url() is None:
                if not said_missing:
                    on_missing(poller)
                    said_missing = True
                if once:
                    return
                stop.wait(IDLE_SECONDS)
                continue
            messages = poller.receive(0 if once else LONG_POLL_SECONDS)
            if not messages:
                if once:
                    return
                continue
            outcome = poller.process(messages)
            record(outcome)
            on_batch(outcome)

    return run_in_threads(pollers, loop, stop)


LoopRun = Callable[[threading.Event, bool], list[BatchOutcome]]


def local_function_queues(service: ServiceConfig, say: Callable[[str], None]) -> LoopRun | None:
    """What `tool worker` runs on the local target for the functions' `sqs` events deployed in
    the folder; None when there are none. The functions reach the local AWS services and answer
    task tokens (SendTaskSuccess/Failure/Heartbeat) as the functions of an execution do."""
    from tooling.backends.local import LocalBackend
    from tooling.localrt.event_store import EventStore

    backend = LocalBackend(service.directory, service.region)
    if not backend.store.path.exists():
        return None
    records = EventStore(backend.store.path).all(MAPPING_KIND, service.region)
    mappings = [QueueMapping.from_document(r.name, r.document) for r in records]
    mappings = [m for m in mappings if m.enabled and m.queue_arn.split(":")[2:3] == ["sqs"]]
    if not mappings:
        return None

    def run(stop: threading.Event, once: bool) -> list[BatchOutcome]:
        from tooling.localaws.manager import LocalAwsServices

        services = LocalAwsServices(backend.store.path.parent)
        if not services.has_data():
            for mapping in mappings:
                say(f"{mapping.name}: the local AWS services hold no queue yet (deploy first)")
            return []
        with _LocalInvoker(backend, services, service.region) as invoke:
            from tooling.aws.client import local_endpoint_client

            sqs = local_endpoint_client(
                services.endpoint(), service.region, services.credentials().environment()
            )
            pollers = [FunctionQueuePoller(m, sqs, invoke, service.region) for m in mappings]

            def on_batch(outcome: BatchOutcome) -> None:
                line = f"{outcome.mapping}: {outcome.received} message(s), {outcome.deleted} done"
                if outcome.kept:
                    line += f", {outcome.kept} kept for another try: {outcome.reason}"
                say(line)

            def on_missing(poller: FunctionQueuePoller) -> None:
                say(
                    f"{poller.mapping.name}: queue {poller.mapping.queue_arn} is not in the "
                    "local AWS services (create it under resources:, or with `aws sqs "
                    'create-queue` after `eval "$(tool local env)"`)'
                )

            return run_pollers(
                pollers, stop=stop, once=once, on_batch=on_batch, on_missing=on_missing
            )

    return run


class _LocalInvoker:
    """Invokes deployed local functions with the environment an execution's functions get: the
    local AWS services and a loopback Step Functions endpoint for task tokens."""

    def __init__(self, backend: LocalBackend, services: LocalAwsServices, region: str) -> None:
        self.backend = backend
        self.services = services
        self.region = region
        self.stack = contextlib.ExitStack()

    def __enter__(self) -> Invoke:
        from tooling.engine.clock import make_clock
        from tooling.localaws.manager import handler_environment
        from tooling.localaws.signing import LocalSigning
        from tooling.localrt.callback_endpoint import CallbackEndpoint
        from tooling.localrt.callbacks import StoreTaskCallbacks
        from tooling.localrt.lambda_runner import LocalLambdaRunner

        store = self.backend.store
        tool_dir = store.path.parent
        environment = handler_environment(self.services.endpoint(), self.services.signing().issue())
        signing = LocalSigning.of_folder(tool_dir, create=False)
        callbacks = StoreTaskCallbacks(store, make_clock("real"))
        endpoint = self.stack.enter_context(CallbackEndpoint(callbacks, signing))
        keys = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
        credentials = {k: environment[k] for k in keys if k in environment}
        environment |= endpoint.environment() | credentials
        runner = LocalLambdaRunner(services=environment, warm=True)
        self.stack.callback(runner.close)
        return lambda arn, payload: self._invoke(runner, arn, payload)

    def _invoke(self, runner: LocalLambdaRunner, arn: str, payload: str) -> Answer:
        from tooling.localrt.functions import spec_from_record

        store = self.backend.store
        record = store.get_function(arn)
        if record is None:
            error = {"errorType": "ResourceNotFoundException", "errorMessage": f"no {arn}"}
            return Answer("Unhandled", json.dumps(error))
        spec = spec_from_record(record, self.region)
        invocation = runner.invoke(spec, payload)
        store.append_log(
            function_name=spec.name,
            request_id=invocation.request_id,
            timestamp=datetime.now(UTC),
            message=invocation.log,
        )
        return Answer(invocation.function_error, invocation.payload)

    def __exit__(self, *exc: object) -> None:
        self.stack.close()
