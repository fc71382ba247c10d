"""Frames: the thread of work a block of states runs in.

The execution runs in the top frame; each Parallel branch and Map iteration runs in a frame of
its own, made explicitly by the runner that starts it: its history chain (a HistoryRecorder,
whose events have positions in that frame, see replay.py), the stop signal its siblings' failure
sets, and its variables (a copy of the enclosing ones; a distributed Map's children start with
none).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

from tooling.engine.concurrency import BranchStopped, StopSignal, run_jobs
from tooling.engine.context import ExecutionContext
from tooling.engine.history import HistoryRecorder
from tooling.engine.model import Processor
from tooling.engine.ports import Clock


class Frame(NamedTuple):
    history: HistoryRecorder
    variables: dict[str, Any]
    stop: StopSignal | None = None  # set in a branch or iteration: a sibling failed


def run_group(
    frame: Frame,
    clock: Clock,
    count: int,
    job: Callable[[int, StopSignal], Any],
    limit: int,
    concurrent: bool,
    on_failure: Callable[[int, BaseException], bool] | None = None,
) -> list[Any]:
    """Run the `count` branches or iterations of one Parallel or Map state started in `frame`;
    a failure that is not tolerated stops the others and is re-raised."""
    stop = frame.stop.child() if frame.stop is not None else StopSignal()
    try:
        results = run_jobs(
            count,
            job,
            limit=limit,
            stop=stop,
            clock=clock,
            concurrent=concurrent,
            on_failure=on_failure or _not_tolerated,
        )
    finally:
        frame.history.catch_up()
    if stop.is_set():  # no failure here: an enclosing branch's sibling failed
        raise BranchStopped()
    return results


def _not_tolerated(index: int, failure: BaseException) -> bool:
    return False


class Blocks(Protocol):
    """What the Parallel and Map runners need of the interpreter: the execution's context, and
    running a branch's or iteration's states in its frame."""

    @property
    def context(self) -> ExecutionContext: ...

    def run_processor(self, frame: Frame, processor: Processor, data: Any) -> Any: ...
