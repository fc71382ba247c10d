"""Numbers history events as AWS does and hands them to the HistorySink; on a resumed run,
answers the events stored before the crash from the record instead (see replay.py)."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from tooling.engine.ports import Clock, HistorySink
from tooling.engine.replay import (
    ATTEMPT_ENDS,
    RecordedEvent,
    ReplayDiverged,
    ReplayLog,
    SkippedState,
    recorded_output,
    skipped_state,
)

# GetExecutionHistory holds at most 25,000 events per execution (Step Functions quotas).
MAX_EVENTS = 25000
_NOT_RECORDED = object()


class HistoryLimitExceeded(Exception):
    """The execution would write more events than AWS keeps: it fails instead."""


class _Numbering:
    """The execution's event counter, shared by every branch's recorder."""

    __slots__ = ("sink", "clock", "lock", "last_id", "positioned", "replay", "framed")

    def __init__(self, sink: HistorySink, clock: Clock, replay: ReplayLog | None) -> None:
        self.sink = sink
        self.clock = clock
        self.lock = threading.Lock()
        # A sink with append_at keeps each event's position, so that the run can be resumed.
        self.positioned = hasattr(sink, "append_at")
        self.replay = replay if replay else None
        self.last_id = replay.last_id if replay else 0
        self.framed = self.positioned or self.replay is not None  # frames are named only then


class HistoryRecorder:
    """Event ids count from 1, in the order events happen, across all branches.

    previousEventId is the event before in the same thread of work: a recorder made with
    `branch(index, start)` (for one Parallel branch or Map iteration) points its first event at
    `start` and each later one at its own previous event. The first state's StateEntered points
    at 0. (Shapes as in GetExecutionHistory recorded on AWS, see tooling/graph/overlay.py; the
    previousEventId of events after a concurrent group ends is the latest event, not confirmed.)

    Each recorder is one frame of the run: its events have ranks 0, 1, 2... in it, and a branch
    is named after its group's event and its index, so every event has a position that a resumed
    run reaches again (replay.py).
    """

    __slots__ = (
        "_numbering",
        "last_id",
        "last_time",
        "frame",
        "ordinal",
        "replayed_last",
        "framed",
    )

    def __init__(self, sink: HistorySink, clock: Clock, replay: ReplayLog | None = None) -> None:
        self._numbering = _Numbering(sink, clock, replay)
        self.last_id = 0  # the previous event of this recorder's chain
        self.last_time: datetime | None = None  # the timestamp of that event
        self.frame = ""
        self.ordinal = 0  # the rank of this frame's next event
        self.replayed_last = False  # whether that event came from the record
        self.framed = self._numbering.framed  # whether events get positions (kept or replayed)

    def branch(self, index: int, start: int | None = None) -> HistoryRecorder:
        """The recorder of branch or iteration `index` of the group this recorder's latest event
        started; its first event points at `start` (default: the latest event)."""
        recorder = HistoryRecorder.__new__(HistoryRecorder)
        recorder._numbering = self._numbering
        recorder.last_id = self._numbering.last_id if start is None else start
        recorder.last_time = self.last_time
        recorder.frame = (
            f"{self.frame}/{self.ordinal - 1}.{index}" if self._numbering.framed else ""
        )
        recorder.ordinal = 0
        recorder.replayed_last = False
        recorder.framed = self.framed
        return recorder

    def catch_up(self) -> None:
        """Continue this chain from the latest event (after a group of branches ended)."""
        self.last_id = self._numbering.last_id

    # ---- writing ----------------------------------------------------------------------------

    def add(
        self,
        event_type: str,
        details_key: str | None = None,
        details: dict[str, Any] | None = None,
        *,
        previous: int | None = None,
        timestamp: Any = None,
        check_limit: bool = True,
        next_state: Any = _NOT_RECORDED,
        heartbeat: bool = False,
        token: str | None = None,
    ) -> int:
        """Record one event. `next_state` (StateExited), `heartbeat` (a TaskTimedOut for a
        missed heartbeat) and `token` (a callback attempt's first event) are kept with the
        event's position for a resumed run; they are not part of the event."""
        numbering = self._numbering
        position: dict[str, Any] | None = None
        if self.framed:  # else no one needs positions: skip them (the engine's hot path)
            ordinal = self.ordinal
            self.ordinal = ordinal + 1
            if numbering.replay is not None:
                recorded = numbering.replay.get(self.frame, ordinal)
                if recorded is not None:
                    self._replayed(recorded, event_type)
                    return recorded.id
            self.replayed_last = False
            if numbering.positioned:
                position = {"f": self.frame, "o": ordinal}
                if next_state is not _NOT_RECORDED:
                    position["n"] = next_state
                if heartbeat:
                    position["hb"] = True
                if token is not None:
                    position["tok"] = token
        with numbering.lock:
            event_id = numbering.last_id + 1
            if check_limit and event_id >= MAX_EVENTS:
                # The last slot stays free for the ExecutionFailed event. Error name and cause
                # wording not confirmed against a recorded AWS execution.
                raise HistoryLimitExceeded(
                    f"The execution reached the maximum number of history events ({MAX_EVENTS})."
                )
            stamp = timestamp if timestamp is not None else numbering.clock.now()
            event: dict[str, Any] = {
                "timestamp": stamp,
                "type": event_type,
                "id": event_id,
                "previousEventId": self.last_id if previous is None else previous,
            }
            if details_key is not None:
                event[details_key] = details if details is not None else {}
            if position is None:
                numbering.sink.append(event)
            else:
                # `position` is set only when the sink is positioned (it has append_at).
                numbering.sink.append_at(event, position)  # type: ignore[attr-defined]
            numbering.last_id = event_id
        self.last_id = event_id
        self.last_time = stamp
        return event_id

    def _replayed(self, recorded: RecordedEvent, event_type: str) -> None:
        if recorded.type != event_type:
            raise ReplayDiverged(
                f"event #{recorded.id} was {recorded.type}, the resumed run wrote {event_type}"
            )
        self.last_id = recorded.id
        self.last_time = recorded.timestamp
        self.replayed_last = True

    # ---- resuming ---------------------------------------------------------------------------

    @property
    def resuming(self) -> bool:
        """Whether this run continues one that stopped (events may come from the record)."""
        return self._numbering.replay is not None

    def next_recorded(self) -> bool:
        """Whether this frame's next event is in the record: what comes before it happened."""
        replay = self._numbering.replay
        return replay is not None and replay.get(self.frame, self.ordinal) is not None

    def skip_state(self) -> SkippedState | None:
        """For the state entered by this frame's latest event: what it produced, when its
        StateExited is recorded (this recorder then continues after that event)."""
        replay = self._numbering.replay
        if replay is None or not self.replayed_last:
            return None
        found = replay.exit_of(self.frame, self.ordinal - 1)
        if found is None:
            return None
        ordinal, exited = found
        skipped = skipped_state(exited)
        if skipped is not None:
            self.ordinal = ordinal + 1
            self._replayed(exited, exited.type)
        return skipped

    def recorded_attempt(self) -> RecordedEvent | None:
        """The recorded last event of the Task attempt starting at this frame's next event;
        this recorder then continues after it. None when the attempt was in flight (or never
        started): it runs, and its recorded first events are answered from the record."""
        replay = self._numbering.replay
        if replay is None:
            return None
        ordinal = self.ordinal
        while (recorded := replay.get(self.frame, ordinal)) is not None:
            if recorded.type in ATTEMPT_ENDS:
                self.ordinal = ordinal + 1
                self._replayed(recorded, recorded.type)
                return recorded
            if recorded.type.endswith(("StateExited", "StateEntered")):
                return None
            ordinal += 1
        return None

    def recorded_token(self) -> str | None:
        """The task token of the callback attempt starting at this frame's next event, when the
        attempt was recorded (a resumed attempt keeps waiting on the same token)."""
        replay = self._numbering.replay
        recorded = replay.get(self.frame, self.ordinal) if replay is not None else None
        token = recorded.position.get("tok") if recorded is not None else None
        return token if isinstance(token, str) else None

    def replayed_output(self, event_type: str) -> Any:
        """When this frame's next event is a recorded `event_type` (a TaskSubmitted), take it
        and answer its output; otherwise `NOT_RECORDED`."""
        replay = self._numbering.replay
        recorded = replay.get(self.frame, self.ordinal) if replay is not None else None
        if recorded is None or recorded.type != event_type:
            return NOT_RECORDED
        self.ordinal += 1
        self._replayed(recorded, event_type)
        return recorded_output(recorded)

    def stop_resuming(self) -> None:
        """Write every event from here on (the run ends without the record)."""
        self._numbering.replay = None


NOT_RECORDED = _NOT_RECORDED
