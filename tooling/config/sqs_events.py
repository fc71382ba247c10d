"""A function's `sqs` events, read as Serverless v3 reads them (lib/plugins/aws/package/compile/
events/sqs.js, v3.38): `- sqs: <queue ARN>` or a mapping {arn, batchSize, maximumBatchingWindow,
enabled, functionResponseType, filterPatterns, maximumConcurrency}. Serverless does not create
the queue: it exists, or is in `resources:`. What Serverless' schema or Lambda refuses is a
problem at its line (it blocks validate, plan and deploy; remove and info still work).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tooling.config.events import UNRESOLVED
from tooling.config.function_messages import FunctionMessages
from tooling.config.resources import pending_in
from tooling.errors import BadInput, Where
from tooling.sourcemap import pointer_join

Location = tuple[str | None, int | None, int | None]
Locate = Callable[[str], Where]
# resolve(value, pointer, what): intrinsics resolved, or UNRESOLVED (a problem was recorded).
Resolve = Callable[[Any, str, str], Any]

SQS_KEYS = frozenset(
    {
        "arn", "batchSize", "maximumBatchingWindow", "enabled", "functionResponseType",
        "filterPatterns", "maximumConcurrency",
    }
)  # fmt: skip
SQS_DEFAULT_BATCH_SIZE = 10  # Serverless' default (and Lambda's for SQS)
REPORT_BATCH_ITEM_FAILURES = "ReportBatchItemFailures"
_QUEUE_ARN = re.compile(r"^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]{1,80}$")
MAX_FIFO_BATCH_SIZE = 10  # Lambda: "For FIFO queues, the maximum is 10"


@dataclass(frozen=True)
class SqsEvent:
    """Lambda polling one queue for the function (an event source mapping)."""

    queue_arn: str  # may hold a placeholder until the `resources:` stack is deployed
    batch_size: int = SQS_DEFAULT_BATCH_SIZE
    maximum_batching_window: int = 0
    enabled: bool = True
    function_response_types: tuple[str, ...] = ()
    filter_patterns: tuple[str, ...] = ()  # each the JSON text of one FilterCriteria pattern
    maximum_concurrency: int | None = None
    location: Location = (None, None, None)

    @property
    def queue_name(self) -> str:
        """The name in the ARN; the whole placeholder while the ARN is not known yet."""
        if pending_in(self.queue_arn):
            return self.queue_arn
        return self.queue_arn.rsplit(":", 1)[-1]

    @property
    def fifo(self) -> bool:
        return self.queue_name.endswith(".fifo")


@dataclass
class SqsEventReader(FunctionMessages):
    """Reads the `sqs` events of one function (tooling.config.function_events dispatches)."""

    function_key: str
    at: Locate
    resolve: Resolve
    problems: list[BadInput]
    # The function's timeout, and the visibility timeout of the queue an `arn` names, when the
    # service declares that queue (None: not known here)
    function_timeout: int | None = None
    visibility_of: Callable[[Any], int | None] = lambda arn: None
    seen: list[str] = field(default_factory=list)  # the queues read so far

    def read(self, value: Any, where: str) -> SqsEvent | None:
        """One `sqs` event (`value` at `where`), or None when it has a problem (recorded)."""
        spec = self._arn_event(
            value, where, event="an sqs event", source="queue", keys=SQS_KEYS,
            example=_SQS_EG, intrinsic_hint=" (Serverless finds no ARN otherwise)",
        )  # fmt: skip
        if spec is None:
            return None
        arn_at = pointer_join(where, "arn")
        arn = self.resolve(spec["arn"], arn_at, f"function '{self.function_key}': sqs arn")
        if arn is UNRESOLVED:
            return None
        if not isinstance(arn, str) or not (_QUEUE_ARN.match(arn) or pending_in(arn)):
            self._problem(
                arn_at,
                f"sqs arn {json.dumps(arn)} is not the ARN of an SQS queue",
                "a queue ARN, or `Fn::GetAtt: [<queue in resources:>, Arn]` (`Ref` of a queue "
                "is its URL, not its ARN)",
            )
            return None
        if arn in self.seen:
            self._problem(
                arn_at,
                f"a second sqs event on {arn}: Lambda keeps one mapping per queue and function "
                "(ResourceConflictException)",
                "keep one sqs event per queue",
            )
            return None
        ok = True

        def number(key: str, default: int | None, low: int, high: int) -> int | None:
            nonlocal ok
            if spec.get(key) is None:
                return default
            value = spec[key]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                self._problem(
                    pointer_join(where, key),
                    f"sqs {key} must be a whole number from {low} to {high} (got "
                    f"{json.dumps(value)})",
                    None,
                )
                ok = False
                return default
            return value

        batch = number("batchSize", None, 1, 10_000)
        batch_size = batch or SQS_DEFAULT_BATCH_SIZE  # `batchSize || 10`
        window = number("maximumBatchingWindow", 0, 0, 300) or 0
        concurrency = number("maximumConcurrency", None, 2, 1000)
        enabled = spec.get("enabled", True)
        if not isinstance(enabled, bool):
            self._problem(pointer_join(where, "enabled"), "sqs enabled must be true or false", None)
            ok = False
        response = spec.get("functionResponseType")
        if response is not None and response != REPORT_BATCH_ITEM_FAILURES:
            self._problem(
                pointer_join(where, "functionResponseType"),
                f"sqs functionResponseType must be {REPORT_BATCH_ITEM_FAILURES} (got "
                f"{json.dumps(response)})",
                None,
            )
            ok = False
        patterns = self._filter_patterns(spec.get("filterPatterns"), where)
        if patterns is None:
            ok = False
        fifo = arn.endswith(".fifo")
        if fifo and batch_size > MAX_FIFO_BATCH_SIZE:
            self._problem(
                pointer_join(where, "batchSize"),
                f"sqs batchSize {batch_size}: Lambda takes at most 10 messages per batch from "
                "a FIFO queue",
                None,
            )
            ok = False
        elif batch_size > 10 and window < 1:
            self._problem(
                pointer_join(where, "batchSize"),
                f"sqs batchSize {batch_size} is above 10, which Lambda allows only with a "
                "batching window",
                "add `maximumBatchingWindow: 1` (seconds) or use batchSize 10 or less",
            )
            ok = False
        visibility = self.visibility_of(spec["arn"])
        timeout = self.function_timeout
        if visibility is not None and timeout is not None and timeout > visibility:
            self._problem(
                arn_at,
                f"the queue's visibility timeout ({visibility} s) is shorter than the function's "
                f"timeout ({timeout} s): Lambda refuses the event source mapping",
                "raise the queue's VisibilityTimeout (AWS advises 6 times the function's "
                "timeout) or lower the function's timeout",
            )
            ok = False
        if not ok:
            return None
        self.seen.append(arn)
        return SqsEvent(
            queue_arn=arn,
            batch_size=batch_size,
            maximum_batching_window=window,
            enabled=enabled,
            function_response_types=(response,) if response else (),
            filter_patterns=patterns or (),
            maximum_concurrency=concurrency,
            location=self._location(where),
        )

    def _filter_patterns(self, value: Any, where: str) -> tuple[str, ...] | None:
        if value is None:
            return ()
        at = pointer_join(where, "filterPatterns")
        if not isinstance(value, list) or not all(isinstance(p, dict) for p in value):
            self._problem(
                at,
                "sqs filterPatterns must be a list of event patterns (mappings)",
                "e.g. `filterPatterns: [{body: {kind: [order]}}]`",
            )
            return None
        # Lambda: at most 5 filters per event source mapping (a quota that can be raised).
        return tuple(json.dumps(pattern, separators=(",", ":")) for pattern in value)

    def _location(self, pointer: str) -> Location:
        kw = self.at(pointer)
        return kw["file"], kw["line"], kw["column"]


_SQS_EG = "e.g. `- sqs: {arn: !GetAtt Jobs.Arn, batchSize: 5}`"
