"""What one execution did, read from its history and laid over the graph: each state's outcome,
how many times each edge was taken, and the failing state's error and cause.

Transitions come from previousEventId: on AWS a state's *StateEntered event points at the
*StateExited event of the state before it, or at the event that started its thread
(ExecutionStarted id 0, ParallelStateStarted, MapIterationStarted). Recorded AWS histories in
LocalStack's snapshots (test_base_scenarios, test_task_lambda) show this; when an id does not
resolve, the nearest earlier event stands in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from tooling.graph.model import END, START, Graph

Outcome = Literal["succeeded", "failed", "caught", "retried", "running"]
# Strongest first: a state shows the worst thing that happened to it in any of its visits.
_OUTCOME_RANK: tuple[Outcome, ...] = ("failed", "caught", "retried", "running", "succeeded")
_EXECUTION_ENDS = {
    "ExecutionSucceeded": "SUCCEEDED",
    "ExecutionFailed": "FAILED",
    "ExecutionTimedOut": "TIMED_OUT",
    "ExecutionAborted": "ABORTED",
}
# Events of a state's own work that end an attempt badly (Lambda, Task, Activity, Parallel, Map).
_ATTEMPT_FAILURES = ("Failed", "TimedOut", "StartFailed", "ScheduleFailed", "SubmitFailed")
# A new attempt after a failure is a retry.
_ATTEMPT_STARTS = ("LambdaFunctionScheduled", "TaskScheduled", "ActivityScheduled")
_IGNORED_FAILURES = ("MapIterationFailed", "MapIterationAborted", "ExecutionFailed")


@dataclass
class StateRun:
    """One state's part in the run."""

    outcome: Outcome
    entered: int = 0
    retries: int = 0
    error: str | None = None
    cause: str | None = None


@dataclass
class RunOverlay:
    status: str  # RUNNING | SUCCEEDED | FAILED | TIMED_OUT | ABORTED
    states: dict[str, StateRun] = field(default_factory=dict)  # by node id; absent: never entered
    edge_counts: dict[int, int] = field(default_factory=dict)  # by edge index in graph.edges
    error: str | None = None
    cause: str | None = None
    unknown_states: list[str] = field(default_factory=list)  # in the history, not in the graph

    def count(self, edge_index: int) -> int:
        return self.edge_counts.get(edge_index, 0)


@dataclass
class _Visit:
    node: str
    retries: int = 0
    failure: tuple[str | None, str | None] | None = None  # the last attempt's error and cause
    ended: Outcome | None = None


def overlay_execution(graph: Graph, events: list[dict[str, Any]]) -> RunOverlay:
    """Lay a history (GetExecutionHistory events, oldest first) over `graph`."""
    return _Reader(graph).read(events)


class _Reader:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.overlay = RunOverlay(status="RUNNING")
        self.by_id: dict[int, dict[str, Any]] = {}
        self.visit_of_event: dict[int, _Visit] = {}  # event id -> the visit it belongs to
        self.open: list[_Visit] = []
        self.visits: list[_Visit] = []

    def read(self, events: list[dict[str, Any]]) -> RunOverlay:
        previous: dict[str, Any] | None = None
        for event in events:
            event_id = event.get("id")
            if isinstance(event_id, int):
                self.by_id[event_id] = event
            self.take(event, previous)
            previous = event
        self.finish()
        return self.overlay

    # ---- events ---------------------------------------------------------------------------

    def take(self, event: dict[str, Any], previous: dict[str, Any] | None) -> None:
        kind = str(event.get("type", ""))
        before = self.before(event, previous)
        if kind.endswith("StateEntered"):
            self.entered(event, before)
        elif kind.endswith("StateExited"):
            self.exited(event, before)
        elif kind in _EXECUTION_ENDS:
            self.execution_ended(event, _EXECUTION_ENDS[kind])
        else:
            self.state_work(event, kind, before)

    def before(
        self, event: dict[str, Any], previous: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        """The event this one follows: by previousEventId, else the one listed before it."""
        pointed = event.get("previousEventId")
        if isinstance(pointed, int) and pointed in self.by_id:
            return self.by_id[pointed]
        if pointed == 0:
            return None
        return previous

    def entered(self, event: dict[str, Any], before: dict[str, Any] | None) -> None:
        name = _details(event, "stateEnteredEventDetails").get("name")
        from_visit = None
        if before is not None and str(before.get("type", "")).endswith("StateExited"):
            from_visit = self.visit_of_event.get(int(before["id"]))
        node = self.resolve(str(name), from_visit)
        if node is None:
            self.overlay.unknown_states.append(str(name))
            return
        self.count_transition(from_visit, node)
        visit = _Visit(node)
        self.visits.append(visit)
        self.open.append(visit)
        self.remember(event, visit)
        if self.graph.node(node).kind == "Fail":
            # A Fail state has no exit event: it ends its branch (or the run) where it is entered.
            self.count_end(node)

    def exited(self, event: dict[str, Any], before: dict[str, Any] | None) -> None:
        name = _details(event, "stateExitedEventDetails").get("name")
        visit = self.visit_for(before, str(name))
        if visit is None:
            return
        self.remember(event, visit)
        if visit in self.open:
            self.open.remove(visit)
        if visit.failure is not None:
            visit.ended = "caught"  # left through a Catch: the next Entered counts that edge
            return
        visit.ended = "retried" if visit.retries else "succeeded"
        self.count_end(visit.node)

    def state_work(self, event: dict[str, Any], kind: str, before: dict[str, Any] | None) -> None:
        visit = self.visit_for(before, None)
        if visit is None:
            return
        self.remember(event, visit)
        if kind in _ATTEMPT_STARTS and visit.failure is not None:
            visit.retries += 1
            visit.failure = None
        elif kind.endswith(_ATTEMPT_FAILURES) and kind not in _IGNORED_FAILURES:
            details = _error_details(event)
            visit.failure = (details.get("error"), details.get("cause"))

    def execution_ended(self, event: dict[str, Any], status: str) -> None:
        self.overlay.status = status
        details = _error_details(event)
        self.overlay.error = details.get("error")
        self.overlay.cause = details.get("cause")
        if status == "SUCCEEDED":
            return
        for visit in self.open:
            visit.ended = "failed"
            if visit.failure is None:
                visit.failure = (self.overlay.error, self.overlay.cause)
        self.open.clear()

    # ---- lookups --------------------------------------------------------------------------

    def remember(self, event: dict[str, Any], visit: _Visit) -> None:
        if isinstance(event.get("id"), int):
            self.visit_of_event[event["id"]] = visit

    def visit_for(self, before: dict[str, Any] | None, name: str | None) -> _Visit | None:
        """The open visit an event belongs to: the one its previous event belongs to, else the
        latest open visit (of the state called `name`, when given)."""
        if before is not None and isinstance(before.get("id"), int):
            found = self.visit_of_event.get(before["id"])
            if (
                found is not None
                and found in self.open
                and (name is None or self.graph.node(found.node).name == name)
            ):
                return found
        for visit in reversed(self.open):
            if name is None or self.graph.node(visit.node).name == name:
                return visit
        return None

    def resolve(self, name: str, from_visit: _Visit | None) -> str | None:
        """The node of a state name; when names repeat (in branches), the one reachable from
        the state the run came from."""
        candidates = [n.id for n in self.graph.states_named(name)]
        if len(candidates) > 1 and from_visit is not None:
            source = self.graph.exit_of[from_visit.node]
            reachable = [c for c in candidates if self.graph.edges_between(source, c)]
            candidates = reachable or candidates
        return candidates[0] if candidates else None

    # ---- counting -------------------------------------------------------------------------

    def count_transition(self, from_visit: _Visit | None, node: str) -> None:
        if from_visit is not None:
            source = self.graph.exit_of[from_visit.node]
            indexes = self.graph.edges_between(source, node)
            caught = [i for i in indexes if self.graph.edges[i].kind == "catch"]
            plain = [i for i in indexes if self.graph.edges[i].kind != "catch"]
            # Several rules of a Choice may lead to the same state; the history cannot tell which
            # matched, so the first one in the definition gets the count.
            chosen = (caught or plain) if from_visit.ended == "caught" else (plain or caught)
            if chosen:
                self.bump(chosen[0])
                return
        entries = self.graph.edges_into(node, ("start", "branch"))
        if entries:
            self.bump(entries[0])

    def count_end(self, node: str) -> None:
        exits = self.graph.edges_from(self.graph.exit_of[node], ("end",))
        if exits:
            self.bump(exits[0])

    def bump(self, edge_index: int) -> None:
        self.overlay.edge_counts[edge_index] = self.overlay.edge_counts.get(edge_index, 0) + 1

    def finish(self) -> None:
        for visit in self.visits:
            outcome: Outcome = visit.ended or "running"
            run = self.overlay.states.get(visit.node)
            if run is None:
                run = self.overlay.states[visit.node] = StateRun(outcome)
            elif _OUTCOME_RANK.index(outcome) < _OUTCOME_RANK.index(run.outcome):
                run.outcome = outcome
            run.entered += 1
            run.retries += visit.retries
            if visit.failure is not None and outcome in ("failed", "caught"):
                run.error, run.cause = visit.failure
        # Start and End: the run started, and ended well or badly.
        for node in self.graph.nodes:
            if node.kind == START and self.visits:
                self.overlay.states[node.id] = StateRun("succeeded", entered=1)
            elif node.kind == END and self.overlay.status != "RUNNING":
                ended: Outcome = "succeeded" if self.overlay.status == "SUCCEEDED" else "failed"
                self.overlay.states[node.id] = StateRun(ended, entered=1)


def _details(event: dict[str, Any], key: str) -> dict[str, Any]:
    value = event.get(key)
    return value if isinstance(value, dict) else {}


def _error_details(event: dict[str, Any]) -> dict[str, Any]:
    """The error and cause of any *EventDetails that has them."""
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, dict) and "error" in value:
            return value
    return {}
