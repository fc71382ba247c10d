"""The compiled form of a state machine definition: what the interpreter runs.

Built by tooling.engine.compiler from the definition's syntax tree (tooling.asl). Everything
that depends on the query language or the kind of Task is decided there: each state carries
its data flow (`JsonPathFlow` or `JsonataFlow`, tooling.engine.dataflow), a Task its invoker
(tooling.engine.tasks), a dynamic number the way it is found. A field the definition does not
set is `ABSENT`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from tooling.engine.compiled import (
    ABSENT,
    AtPath,
    Catcher,
    ChoiceRule,
    Dynamic,
    Evaluated,
    Fixed,
    Retrier,
    Template,
)
from tooling.engine.dataflow import DataFlow
from tooling.engine.tasks import TaskInvoker

__all__ = [
    "ABSENT",
    "AtPath",
    "Catcher",
    "ChoiceRule",
    "Dynamic",
    "Evaluated",
    "Fixed",
    "Retrier",
    "Template",
]


# ---- states -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class State:
    name: str
    flow: DataFlow
    next: str | None = None  # the state after this one; None: the block ends here (End: true)
    end: bool = False

    event_prefix: ClassVar[str] = ""  # "Pass", "Task", ... : history events <prefix>StateEntered
    can_block: ClassVar[bool] = False  # whether running it may wait (a Task, a Wait, a Retry)


@dataclass(frozen=True)
class PassState(State):
    result: Any = ABSENT  # JSONPath Result, when no Parameters take its place
    event_prefix: ClassVar[str] = "Pass"


@dataclass(frozen=True)
class SucceedState(State):
    end: bool = True
    event_prefix: ClassVar[str] = "Succeed"


@dataclass(frozen=True)
class ChoiceState(State):
    choices: tuple[ChoiceRule, ...] = ()
    default: str | None = None
    event_prefix: ClassVar[str] = "Choice"


@dataclass(frozen=True)
class WaitFor:
    """How long a Wait state waits: `seconds` from when it was entered (Seconds, SecondsPath),
    or until `timestamp` (Timestamp, TimestampPath), each found as `Dynamic` says."""

    seconds: Dynamic | None = None
    timestamp: Dynamic | None = None  # Fixed holds (epoch seconds, nanoseconds)


@dataclass(frozen=True)
class WaitState(State):
    wait: WaitFor = field(default_factory=WaitFor)
    event_prefix: ClassVar[str] = "Wait"
    can_block: ClassVar[bool] = True


@dataclass(frozen=True)
class FailState(State):
    end: bool = True
    error: Fixed | Evaluated = Fixed(None)  # Fixed: a string, or None when absent
    cause: Fixed | Evaluated = Fixed(None)
    event_prefix: ClassVar[str] = "Fail"


@dataclass(frozen=True)
class RetryingState(State):
    """Task, Parallel and Map: attempts with Retry, failures with Catch."""

    retry: tuple[Retrier, ...] = ()
    catch: tuple[Catcher, ...] = ()


@dataclass(frozen=True)
class TaskState(RetryingState):
    invoker: TaskInvoker = field(kw_only=True)  # how each attempt runs (tooling.engine.tasks)
    timeout_seconds: Dynamic | None = None
    heartbeat_seconds: Dynamic | None = None
    event_prefix: ClassVar[str] = "Task"
    can_block: ClassVar[bool] = True


@dataclass(frozen=True)
class Processor:
    """A Parallel branch or a Map's ItemProcessor: states run in their own scope."""

    start_at: str
    states: dict[str, State]
    # Whether running it may wait on something (a Task, a Wait, a Retry interval, at any depth):
    # only then does running its branches at once change anything.
    can_block: bool = False


@dataclass(frozen=True)
class ParallelState(RetryingState):
    branches: tuple[Processor, ...] = ()
    event_prefix: ClassVar[str] = "Parallel"


@dataclass(frozen=True)
class ItemBatcher:
    """A Distributed Map's ItemBatcher: each child execution gets a batch of items."""

    max_items_per_batch: Dynamic | None = None
    max_input_bytes_per_batch: Dynamic | None = None
    batch_input: Template = ABSENT  # JSONPath payload template or JSONata template


@dataclass(frozen=True)
class MapState(RetryingState):
    processor: Processor = field(default_factory=lambda: Processor("", {}))
    distributed: bool = False
    items: AtPath | Evaluated | None = None  # ItemsPath; JSONata Items; None: the input
    item_selector: Template = ABSENT  # ItemSelector, or the legacy Parameters
    max_concurrency: Dynamic | None = None
    tolerated_failure_count: Dynamic | None = None
    tolerated_failure_percentage: Dynamic | None = None
    label: str | None = None
    item_batcher: ItemBatcher | None = None
    event_prefix: ClassVar[str] = "Map"


@dataclass(frozen=True)
class StateMachine:
    start_at: str
    states: dict[str, State]
    definition: Any = field(repr=False, compare=False, default=None)
    comment: str | None = None
    timeout_seconds: int | None = None  # the execution fails with States.Timeout after this
