"""serverless-lift's `constructs:`, desugared as Lift compiles them into ordinary configuration.

Only the `queue` construct (Lift src/constructs/aws/Queue.ts, docs/queue.md): an SQS queue and
its dead-letter queue, which become entries of `resources:` (deployed with the service's stack),
and a worker function `<id>Worker` (or the function `worker:` names) with an `sqs` event on the
queue. From Lift:
- names `<stackName>-<id>` and `<stackName>-<id>-dlq` (`.fifo` appended to both with `fifo`);
- the dead-letter queue keeps messages 14 days; the queue sends a message there after
  `maxRetries` receives (default 3);
- the visibility timeout is 6 times the worker's `timeout` (Lift reads the worker's own, 6 when
  it has none) plus `maxBatchingWindow`; `delay` is the queue's DelaySeconds;
- `fifo: true` makes both queues FIFO, the queue with content-based deduplication;
- the worker's event: batchSize (default 1), maximumBatchingWindow (maxBatchingWindow, default
  0), maximumConcurrency (maxConcurrency) and ReportBatchItemFailures;
- every function of the service may send to the queue (sqs:SendMessage on the service's role)
  unless `lift: {automaticPermissions: false}`;
- `${construct:<id>.queueUrl|queueArn|dlqUrl|dlqArn}` is a CloudFormation reference to a queue.
The queues' logical ids are the toolkit's (`<Id>Queue`, `<Id>Dlq`); Lift's are made by the CDK.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tooling.config.intrinsics import normalized_name
from tooling.errors import BadInput, ConfigError, Where
from tooling.sourcemap import pointer_join

LIFT_PLUGIN = "serverless-lift"
QUEUE = "queue"
# Lift's queue schema (QUEUE_DEFINITION), and `extensions` (every construct takes it).
QUEUE_KEYS = frozenset(
    {
        "type", "worker", "maxRetries", "alarm", "batchSize", "maxBatchingWindow",
        "maxConcurrency", "fifo", "delay", "encryption", "encryptionKey", "extensions",
    }
)  # fmt: skip
EXTENSIONS = ("queue", "dlq")
DEFAULT_MAX_RETRIES = 3
DEFAULT_BATCH_SIZE = 1
LIFT_DEFAULT_TIMEOUT = 6  # Lift's own default for the worker's timeout (Serverless')
DEAD_LETTER_RETENTION_SECONDS = 1_209_600  # 14 days
MAX_QUEUE_NAME = 80
# `${construct:<id>.<variable>}`: the queue it names (its logical id's suffix) and whether the
# value is the queue's ARN (Fn::GetAtt) or its URL (Ref).
VARIABLES = {
    "queueUrl": ("Queue", False),
    "queueArn": ("Queue", True),
    "dlqUrl": ("Dlq", False),
    "dlqArn": ("Dlq", True),
}
Locate = Callable[[str], Where]


def logical_id(construct_id: str, part: str) -> str:
    """The logical id of a construct's queue (`part` "Queue") or dead-letter queue ("Dlq")."""
    return re.sub(r"[^A-Za-z0-9]", "", normalized_name(construct_id)) + part


def construct_reference(constructs: Any, address: str) -> tuple[Any, str | None]:
    """The value of `${construct:<address>}` (a Ref or Fn::GetAtt of the queue), or (None, why
    not) for what Lift would refuse."""
    construct_id, _, variable = address.rpartition(".")
    if not construct_id:
        return None, f"'{address}' is not <construct id>.<variable>"
    spec = constructs.get(construct_id) if isinstance(constructs, dict) else None
    if not isinstance(spec, dict):
        known = ", ".join(sorted(constructs)) if isinstance(constructs, dict) else "none"
        return None, f"no construct '{construct_id}' under constructs: (defined: {known})"
    if spec.get("type") != QUEUE:
        return None, (
            f"construct '{construct_id}' is of type {json.dumps(spec.get('type'))}, which the "
            "toolkit does not deploy (it deploys Lift's `queue`)"
        )
    if variable not in VARIABLES:
        return None, (
            f"construct '{construct_id}' has no variable '{variable}' (a queue has "
            + ", ".join(VARIABLES)
            + ")"
        )
    part, arn = VARIABLES[variable]
    target = logical_id(construct_id, part)
    return ({"Fn::GetAtt": [target, "Arn"]} if arn else {"Ref": target}), None


@dataclass
class Desugared:
    """What `constructs:` adds to the service: `resources:` entries, functions (and events of
    functions), and the statements Lift adds to the service's role."""

    resources: dict[str, Any] = field(default_factory=dict)
    functions: dict[str, tuple[dict[str, Any], str]] = field(default_factory=dict)  # spec, at
    worker_events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # on functions
    statements: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ConstructsReader:
    stack_name: str
    functions: Mapping[str, Any]  # `functions:` as written: the workers given by name
    at: Locate
    warnings: list[str]
    problems: list[BadInput]
    automatic_permissions: bool = True

    def read(self, constructs: Any, pointer: str = "/constructs") -> Desugared:
        out = Desugared()
        if constructs is None:
            return out
        if not isinstance(constructs, dict):
            self._problem(pointer, "constructs: must be a mapping of construct ids", None)
            return out
        for construct_id, spec in constructs.items():
            at = pointer_join(pointer, construct_id)
            if not isinstance(spec, dict):
                self._problem(at, f"construct '{construct_id}' must be a mapping", None)
                continue
            kind = spec.get("type")
            if kind is None:
                self._problem(
                    at,
                    f"construct '{construct_id}' has no `type` (Lift refuses it)",
                    "e.g. `type: queue`",
                )
            elif kind != QUEUE:
                self._problem(
                    pointer_join(at, "type"),
                    f"construct '{construct_id}': type {json.dumps(kind)} is not supported by "
                    "the toolkit (it deploys serverless-lift's `queue` constructs only)",
                    "deploy it with Serverless and Lift, or write its resources under resources:",
                )
            else:
                self._queue(str(construct_id), spec, at, out)
        return out

    def _queue(self, construct_id: str, spec: dict[str, Any], at: str, out: Desugared) -> None:
        what = f"construct '{construct_id}'"
        for key in spec:
            if key not in QUEUE_KEYS:
                self._warn(
                    pointer_join(at, key),
                    f"{what}: unknown key '{key}' (Lift's schema does not allow it; ignored)",
                )
        ok = True

        def number(key: str, default: int | None, low: int, high: int) -> int | None:
            nonlocal ok
            value = spec.get(key)
            if value is None:
                return default
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                self._problem(
                    pointer_join(at, key),
                    f"{what}: {key} must be a whole number from {low} to {high} (got "
                    f"{json.dumps(value)})",
                    None,
                )
                ok = False
                return default
            return value

        worker = spec.get("worker")
        if worker is None:
            self._problem(
                at,
                f"{what}: no 'worker' defined; a queue construct needs a worker function "
                "(Lift refuses it)",
                "add `worker: {handler: src/worker.handler}`",
            )
            return
        fifo = spec.get("fifo") is True
        if "fifo" in spec and not isinstance(spec["fifo"], bool):
            self._problem(pointer_join(at, "fifo"), f"{what}: fifo must be true or false", None)
            ok = False
        window = number("maxBatchingWindow", 0, 0, 300) or 0
        batch = number("batchSize", DEFAULT_BATCH_SIZE, 1, 10_000) or DEFAULT_BATCH_SIZE
        concurrency = number("maxConcurrency", None, 2, 1000)
        retries = number("maxRetries", DEFAULT_MAX_RETRIES, 1, 1000) or DEFAULT_MAX_RETRIES
        delay = number("delay", None, 0, 900)
        if batch > 10 and fifo:
            self._problem(
                pointer_join(at, "batchSize"),
                f"{what}: 'batchSize' must be between 0 and 10 for FIFO queues, '{batch}' given",
                None,
            )
            ok = False
        elif batch > 10 and not window:
            self._problem(
                pointer_join(at, "batchSize"),
                f"{what}: 'maxBatchingWindow' must be greater than 0 for batchSize > 10",
                None,
            )
            ok = False
        if isinstance(worker, str):
            worker_key = worker
            if not isinstance(self.functions.get(worker), dict):
                self._problem(
                    pointer_join(at, "worker"),
                    f"{what}: worker '{worker}' is not a function under functions: (Lift "
                    "refuses it)",
                    "name a function of the service, or write the worker here as a mapping",
                )
                return
            timeout = self.functions[worker].get("timeout")
        elif isinstance(worker, dict):
            worker_key = f"{construct_id}Worker"
            timeout = worker.get("timeout")
        else:
            self._problem(
                pointer_join(at, "worker"),
                f"{what}: worker must be a function (a mapping) or a function's name",
                None,
            )
            return
        if not isinstance(timeout, int) or isinstance(timeout, bool):
            timeout = LIFT_DEFAULT_TIMEOUT
        encryption = self._encryption(spec, at, what)
        if encryption is None:
            ok = False
        if spec.get("alarm") is not None:
            self._warn(
                pointer_join(at, "alarm"),
                f"{what}: the dead-letter alarm (an SNS topic e-mailing {spec['alarm']}) is not "
                "deployed by the toolkit yet (ignored)",
            )
        suffix = ".fifo" if fifo else ""
        name = f"{self.stack_name}-{construct_id}{suffix}"
        dlq_name = f"{self.stack_name}-{construct_id}-dlq{suffix}"
        if len(dlq_name) > MAX_QUEUE_NAME:
            self._problem(
                at,
                f"{what}: the queue name {dlq_name} is longer than SQS's 80 characters",
                "use a shorter construct id (or provider.stackName)",
            )
            ok = False
        if not ok or encryption is None:
            return
        queue_id, dlq_id = logical_id(construct_id, "Queue"), logical_id(construct_id, "Dlq")
        dlq: dict[str, Any] = {
            "QueueName": dlq_name,
            "MessageRetentionPeriod": DEAD_LETTER_RETENTION_SECONDS,
            **encryption,
        }
        queue: dict[str, Any] = {
            "QueueName": name,
            "VisibilityTimeout": timeout * 6 + window,
            "RedrivePolicy": {
                "deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]},
                "maxReceiveCount": retries,
            },
            **encryption,
        }
        if fifo:
            dlq["FifoQueue"] = True
            queue["FifoQueue"] = True
            queue["ContentBasedDeduplication"] = True
        if delay is not None:
            queue["DelaySeconds"] = delay
        entries = {
            dlq_id: {"Type": "AWS::SQS::Queue", "Properties": dlq},
            queue_id: {"Type": "AWS::SQS::Queue", "Properties": queue},
        }
        extensions = spec.get("extensions")
        if isinstance(extensions, dict):
            for key, extension in extensions.items():
                target = {"queue": queue_id, "dlq": dlq_id}.get(str(key))
                if target is None or not isinstance(extension, dict):
                    self._problem(
                        pointer_join(pointer_join(at, "extensions"), key),
                        f"{what}: extensions.{key}: a queue construct extends `queue` and "
                        "`dlq` with a mapping of CloudFormation keys",
                        "e.g. `extensions: {queue: {Properties: {MaximumMessageSize: 1024}}}`",
                    )
                    return
                _merge(entries[target], extension)
        elif extensions is not None:
            self._problem(
                pointer_join(at, "extensions"), f"{what}: extensions must be a mapping", None
            )
            return
        out.resources.update(entries)
        event: dict[str, Any] = {
            "arn": {"Fn::GetAtt": [queue_id, "Arn"]},
            "batchSize": batch,
            "maximumBatchingWindow": window,
            "functionResponseType": "ReportBatchItemFailures",
        }
        if concurrency is not None:
            event["maximumConcurrency"] = concurrency
        if isinstance(worker, dict):
            out.functions[worker_key] = (dict(worker), pointer_join(at, "worker"))
        out.worker_events.setdefault(worker_key, []).append({"sqs": event})
        if self.automatic_permissions:
            out.statements.append(
                {
                    "Effect": "Allow",
                    "Action": ["sqs:SendMessage"],
                    "Resource": [{"Fn::GetAtt": [queue_id, "Arn"]}],
                }
            )

    def _encryption(self, spec: Mapping[str, Any], at: str, what: str) -> dict[str, Any] | None:
        encryption = spec.get("encryption")
        if encryption in (None, ""):
            return {}
        if encryption == "kmsManaged":  # the CDK's QueueEncryption.KMS_MANAGED
            return {"KmsMasterKeyId": "alias/aws/sqs"}
        if encryption == "kms":
            self._problem(
                pointer_join(at, "encryption"),
                f"{what}: encryption 'kms' (a KMS key Lift creates) is not supported by the "
                "toolkit yet",
                "use `encryption: kmsManaged`, or leave it out",
            )
            return None
        self._problem(
            pointer_join(at, "encryption"),
            f"{what}: 'encryption' must be one of 'kms', 'kmsManaged', null, '{encryption}' given",
            None,
        )
        return None

    def _problem(self, pointer: str, message: str, hint: str | None) -> None:
        self.problems.append(ConfigError(message, **self.at(pointer), hint=hint))

    def _warn(self, pointer: str, message: str) -> None:
        kw = self.at(pointer)
        where = ":".join(str(p) for p in (kw["file"], kw["line"], kw["column"]) if p is not None)
        self.warnings.append(f"{where}: {message}")


def _merge(target: dict[str, Any], extension: Mapping[str, Any]) -> None:
    """Lift's extensions: deep-merged into the CloudFormation resource."""
    for key, value in extension.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value
