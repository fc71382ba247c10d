"""Start an execution and follow it through its history until it ends; the same on every target."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tooling.backends.base import Backend

TERMINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})


def new_execution_name() -> str:
    return str(uuid.uuid4())


@dataclass
class Followed:
    description: dict[str, Any]
    events: list[dict[str, Any]] = field(default_factory=list)
    timed_out: bool = False  # stopped following at the timeout; the execution goes on


@dataclass(frozen=True)
class Polling:
    """Wait `first` seconds between polls, growing by `factor` up to `maximum` while nothing
    new happens; back to `first` as soon as new events arrive."""

    first: float = 0.05
    factor: float = 1.5
    maximum: float = 1.0

    def next(self, current: float, progressed: bool) -> float:
        return self.first if progressed else min(current * self.factor, self.maximum)


LOCAL_POLLING = Polling(first=0.05, factor=1.5, maximum=1.0)
# AWS: DescribeExecution and GetExecutionHistory are throttled per account (token buckets);
# start at half a second and settle at five (Serverless polls at a fixed 5 s).
AWS_POLLING = Polling(first=0.5, factor=1.5, maximum=5.0)


def follow_execution(
    backend: Backend,
    execution_arn: str,
    *,
    on_event: Callable[[dict[str, Any]], None] | None = None,
    on_log: Callable[[dict[str, Any]], None] | None = None,
    on_wait: Callable[[dict[str, Any] | None], None] | None = None,
    sleep: Callable[[float], None] | None = None,
    polling: Polling = LOCAL_POLLING,
    timeout: float | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Followed:
    """Poll until the execution ends (or `timeout` seconds pass), reporting each new event
    once and each handler log line right after the event it belongs to. `on_wait` hears, at
    each poll, what the run sleeps through (a Wait state or Retry interval), or None. Between
    polls it sleeps with `sleep`, by default the backend's `wait_for_change` (which returns as
    soon as the local worker says the run ended)."""
    if sleep is None:

        def sleep(seconds: float) -> None:
            backend.wait_for_change(execution_arn, seconds)

    followed = Followed(description={})
    deadline = None if timeout is None else clock() + timeout
    interval = polling.first
    last_id = 0
    log_cursor: str | None = None
    pending_logs: list[dict[str, Any]] = []

    def flush_logs(up_to: int | None) -> None:
        while pending_logs and (
            up_to is None or (pending_logs[0].get("afterEventId") or 0) <= up_to
        ):
            entry = pending_logs.pop(0)
            if on_log is not None:
                on_log(entry)

    while True:
        # Status first: once it reads terminal, every event was already written. Logs before
        # history: a log line names an event written before it, so that event is in this read.
        description = backend.describe_execution(execution_arn)
        logs, log_cursor = backend.execution_logs(execution_arn, log_cursor)
        pending_logs.extend(logs)
        seen_before = last_id
        for event in backend.history_since(execution_arn, last_id):
            followed.events.append(event)
            last_id = event["id"]
            flush_logs(last_id - 1)
            if on_event is not None:
                on_event(event)
        flush_logs(last_id)
        if description["status"] in TERMINAL_STATUSES:
            flush_logs(None)
            if on_wait is not None:
                on_wait(None)
            followed.description = description
            return followed
        if on_wait is not None:
            on_wait(backend.current_wait(execution_arn))
        interval = polling.next(interval, progressed=last_id > seen_before)
        wait = interval
        if deadline is not None:
            left = deadline - clock()
            if left <= 0:
                flush_logs(None)
                if on_wait is not None:
                    on_wait(None)
                followed.description = description
                followed.timed_out = True
                return followed
            wait = min(interval, left)  # one last poll right at the deadline
        sleep(wait)


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _parsed(text: str | None) -> Any:
    return json.loads(text) if text is not None else None


def json_safe_event(event: dict[str, Any]) -> dict[str, Any]:
    return {key: _iso(value) for key, value in event.items()}


def execution_result(description: dict[str, Any], events: list[dict[str, Any]]) -> dict[str, Any]:
    """The one JSON object `--json` prints: describe_execution's fields plus the history."""
    return {
        "executionArn": description["executionArn"],
        "name": description["name"],
        "status": description["status"],
        "startDate": _iso(description.get("startDate")),
        "stopDate": _iso(description.get("stopDate")),
        "input": _parsed(description.get("input")),
        "output": _parsed(description.get("output")),
        "error": description.get("error"),
        "cause": description.get("cause"),
        "events": [json_safe_event(event) for event in events],
    }
