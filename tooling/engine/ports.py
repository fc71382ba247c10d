"""What the engine needs from the outside world: time, Lambda invocations and a history sink.

The engine imports no boto3, no SQLite and no CLI; a backend hands it these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait (for real, or by advancing a virtual clock)."""
        ...


@dataclass(frozen=True)
class LambdaResponse:
    """Lambda Invoke's answer: the payload text, and X-Amz-Function-Error when it failed."""

    payload: str
    function_error: str | None = None  # "Unhandled" when the function raised, timed out or crashed
    executed_version: str = "$LATEST"
    request_id: str = ""


class TaskTimedOut(Exception):
    """The Task state's TimeoutSeconds passed before the function answered (States.Timeout)."""


class LambdaInvoker(Protocol):
    def invoke(
        self, function: str, payload: str, *, timeout_seconds: float | None = None
    ) -> LambdaResponse:
        """Invoke `function` (name, partial ARN or ARN, as written in the definition).

        Raises StatesError for service errors (e.g. Lambda.ResourceNotFoundException) and
        TaskTimedOut when `timeout_seconds` (the Task's TimeoutSeconds) passes first.
        """
        ...


class HistorySink(Protocol):
    def append(self, event: dict[str, Any]) -> None:
        """Record one history event, shaped as in GetExecutionHistory (timestamp as datetime)."""
        ...
