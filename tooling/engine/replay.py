"""Resuming an execution from its recorded history (the local runtime's crash recovery).

A resumed run re-runs the definition from the start against the events stored so far. Every
event has a *position*: the frame that wrote it (the execution itself, or one Parallel branch or
Map iteration, named by the path of group events and indexes that leads to it) and its rank in
that frame. Within a frame the run is sequential and deterministic, so the events a frame writes
again come at the same positions as before the crash: the recorder answers those from the record
instead of writing them (history.py), and numbering continues after the last stored id.

Three shortcuts keep a resumed run from repeating work or drifting from what was recorded:
- a state whose StateExited is stored is not run again: its output, assigned variables and next
  state come from the record (so an intrinsic such as States.UUID is not evaluated twice);
- a Task attempt whose last event (TaskSucceeded, LambdaFunctionFailed, ...) is stored answers
  from it; an attempt that was in flight runs again (at-least-once, as a Lambda invocation is on
  AWS), keeping its stored TaskScheduled/TaskStarted/TaskSubmitted events, its task token, and
  the job a `.sync` Task had started;
- sleeps (Wait, Retry intervals) count from the stored event they follow, so a Wait resumes with
  the time it has left.

The engine stays pure: the runtime hands in the stored events with their positions.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tooling.engine import jsontext
from tooling.engine.errors import TIMEOUT, HeartbeatTimedOut, StatesError

# The last event of a Task attempt, by type: what the attempt answered.
_SUCCEEDED = frozenset({"LambdaFunctionSucceeded", "TaskSucceeded", "ActivitySucceeded"})
_FAILED = frozenset({"LambdaFunctionFailed", "TaskFailed", "ActivityFailed"})
_TIMED_OUT = frozenset({"LambdaFunctionTimedOut", "TaskTimedOut", "ActivityTimedOut"})
ATTEMPT_ENDS = _SUCCEEDED | _FAILED | _TIMED_OUT


class ReplayDiverged(Exception):  # noqa: N818 - a condition of the run, raised to its top
    """A resumed run wrote an event other than the one stored at the same position: the run is
    not deterministic there (the definition changed, or it reads the time or a random value in
    a way the record does not pin down)."""


@dataclass(frozen=True)
class RecordedEvent:
    event: dict[str, Any]
    position: dict[str, Any]

    @property
    def id(self) -> int:
        return int(self.event["id"])

    @property
    def type(self) -> str:
        return str(self.event["type"])

    @property
    def timestamp(self) -> datetime:
        stamp = self.event["timestamp"]
        assert isinstance(stamp, datetime)
        return stamp

    def details(self) -> dict[str, Any]:
        for key, value in self.event.items():
            if key.endswith("EventDetails") and isinstance(value, dict):
                return value
        return {}


@dataclass(frozen=True)
class SkippedState:
    """A state that ended before the crash, as its StateExited event recorded it."""

    output: Any
    assigned: dict[str, Any] | None
    next: str | None


class ReplayLog:
    """The stored events of one execution, by position."""

    def __init__(self, recorded: Iterable[tuple[dict[str, Any], dict[str, Any]]]) -> None:
        self.events: dict[tuple[str, int], RecordedEvent] = {}
        self.last_id = 0
        self.last_timestamp: datetime | None = None
        for event, position in recorded:
            item = RecordedEvent(event, position)
            self.events[(str(position["f"]), int(position["o"]))] = item
            self.last_id = max(self.last_id, item.id)
            if self.last_timestamp is None or item.timestamp > self.last_timestamp:
                self.last_timestamp = item.timestamp
        # Each StateEntered's StateExited, in the same frame (a frame runs one state at a time).
        self.exits: dict[tuple[str, int], tuple[str, int]] = {}
        open_states: dict[str, int] = {}
        for frame, ordinal in sorted(self.events):
            kind = self.events[(frame, ordinal)].type
            if kind.endswith("StateEntered"):
                open_states[frame] = ordinal
            elif kind.endswith("StateExited") and frame in open_states:
                self.exits[(frame, open_states.pop(frame))] = (frame, ordinal)

    def __len__(self) -> int:
        return len(self.events)

    def get(self, frame: str, ordinal: int) -> RecordedEvent | None:
        return self.events.get((frame, ordinal))

    def exit_of(self, frame: str, entered: int) -> tuple[int, RecordedEvent] | None:
        """The StateExited of the state entered at `entered`, with its rank."""
        key = self.exits.get((frame, entered))
        if key is None:
            return None
        return key[1], self.events[key]


def skipped_state(exited: RecordedEvent) -> SkippedState | None:
    """What a recorded StateExited says the state produced (None: it does not say enough)."""
    if "n" not in exited.position:
        return None
    details = exited.details()
    assigned = details.get("assignedVariables")
    return SkippedState(
        output=jsontext.loads(details["output"]),
        assigned=(
            {name: jsontext.loads(text) for name, text in assigned.items()} if assigned else None
        ),
        next=exited.position["n"],
    )


def attempt_answer(ended: RecordedEvent) -> Any:
    """The task result a recorded attempt ended with; raises the StatesError it failed with."""
    details = ended.details()
    if ended.type in _FAILED:
        raise StatesError(details.get("error"), details.get("cause"))
    if ended.type in _TIMED_OUT:
        if ended.position.get("hb"):
            raise HeartbeatTimedOut()
        raise StatesError(details.get("error", TIMEOUT), details.get("cause"))
    output = details.get("output")
    if ended.type == "LambdaFunctionSucceeded":
        # The function's payload as Lambda returned it (an empty payload is null).
        return json.loads(output) if output and output.strip() else None
    return jsontext.loads(output) if output is not None else None


def recorded_output(event: RecordedEvent) -> Any:
    output = event.details().get("output")
    return jsontext.loads(output) if output is not None else None
