"""Numbers history events as AWS does and hands them to the HistorySink."""

from __future__ import annotations

from typing import Any

from tooling.engine.ports import Clock, HistorySink

# GetExecutionHistory holds at most 25,000 events per execution (Step Functions quotas).
MAX_EVENTS = 25000


class HistoryLimitExceeded(Exception):
    """The execution would write more events than AWS keeps: it fails instead."""


class HistoryRecorder:
    """Event ids count from 1; previousEventId is the event before, except that the first
    state's StateEntered points at 0 (as in GetExecutionHistory recorded on AWS)."""

    def __init__(self, sink: HistorySink, clock: Clock) -> None:
        self._sink = sink
        self._clock = clock
        self.last_id = 0

    def add(
        self,
        event_type: str,
        details_key: str | None = None,
        details: dict[str, Any] | None = None,
        *,
        previous: int | None = None,
        timestamp: Any = None,
        check_limit: bool = True,
    ) -> int:
        event_id = self.last_id + 1
        if check_limit and event_id >= MAX_EVENTS:
            # The last slot stays free for the ExecutionFailed event. Error name and cause
            # wording not confirmed against a recorded AWS execution.
            raise HistoryLimitExceeded(
                f"The execution reached the maximum number of history events ({MAX_EVENTS})."
            )
        event: dict[str, Any] = {
            "timestamp": timestamp if timestamp is not None else self._clock.now(),
            "type": event_type,
            "id": event_id,
            "previousEventId": self.last_id if previous is None else previous,
        }
        if details_key is not None:
            event[details_key] = details if details is not None else {}
        self._sink.append(event)
        self.last_id = event_id
        return event_id
