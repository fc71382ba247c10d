"""Numbers history events as AWS does and hands them to the HistorySink."""

from __future__ import annotations

import threading
from typing import Any

from tooling.engine.ports import Clock, HistorySink

# GetExecutionHistory holds at most 25,000 events per execution (Step Functions quotas).
MAX_EVENTS = 25000


class HistoryLimitExceeded(Exception):
    """The execution would write more events than AWS keeps: it fails instead."""


class _Numbering:
    """The execution's event counter, shared by every branch's recorder."""

    __slots__ = ("sink", "clock", "lock", "last_id")

    def __init__(self, sink: HistorySink, clock: Clock) -> None:
        self.sink = sink
        self.clock = clock
        self.lock = threading.Lock()
        self.last_id = 0


class HistoryRecorder:
    """Event ids count from 1, in the order events happen, across all branches.

    previousEventId is the event before in the same thread of work: a recorder made with
    `chain(start)` (for one Parallel branch or Map iteration) points its first event at `start`
    and each later one at its own previous event. The first state's StateEntered points at 0.
    (Shapes as in GetExecutionHistory recorded on AWS, see tooling/graph/overlay.py; the
    previousEventId of events after a concurrent group ends is the latest event, not confirmed.)
    """

    __slots__ = ("_numbering", "last_id")

    def __init__(self, sink: HistorySink, clock: Clock) -> None:
        self._numbering = _Numbering(sink, clock)
        self.last_id = 0  # the previous event of this recorder's chain

    def chain(self, start: int | None = None) -> HistoryRecorder:
        """A recorder sharing these ids whose first event points at `start` (default: the
        latest event)."""
        recorder = HistoryRecorder.__new__(HistoryRecorder)
        recorder._numbering = self._numbering
        recorder.last_id = self._numbering.last_id if start is None else start
        return recorder

    def catch_up(self) -> None:
        """Continue this chain from the latest event (after a group of branches ended)."""
        self.last_id = self._numbering.last_id

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
        numbering = self._numbering
        with numbering.lock:
            event_id = numbering.last_id + 1
            if check_limit and event_id >= MAX_EVENTS:
                # The last slot stays free for the ExecutionFailed event. Error name and cause
                # wording not confirmed against a recorded AWS execution.
                raise HistoryLimitExceeded(
                    f"The execution reached the maximum number of history events ({MAX_EVENTS})."
                )
            event: dict[str, Any] = {
                "timestamp": timestamp if timestamp is not None else numbering.clock.now(),
                "type": event_type,
                "id": event_id,
                "previousEventId": self.last_id if previous is None else previous,
            }
            if details_key is not None:
                event[details_key] = details if details is not None else {}
            numbering.sink.append(event)
            numbering.last_id = event_id
        self.last_id = event_id
        return event_id
