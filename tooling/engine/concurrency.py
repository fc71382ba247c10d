"""Running a Parallel state's branches or a Map state's iterations side by side.

`run_jobs` hands jobs to at most `limit` workers. The clock supplies the workers
(`run_workers`: real threads for the system clock, simulated ones for the virtual clock);
when concurrency would change nothing, they run one after another in the calling thread.
The first failure that is not tolerated stops the rest: no new job starts, and running ones
stop at their next state boundary (see `StopSignal`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from tooling.engine.ports import Clock

# AWS: "In this mode, the Map state supports up to 40 concurrent iterations" (Step Functions
# guide, "Using Map state in Inline mode"). Distributed Map children are capped the same here.
# Parallel branches have no documented limit; the same cap keeps the thread count sensible.
MAX_WORKERS = 40


class BranchStopped(Exception):  # noqa: N818 - a signal, not an error
    """A sibling branch or iteration failed: this one stops at its next state boundary."""


class StopSignal:
    """Set when a group must stop; setting it also stops every group nested inside."""

    __slots__ = ("event", "_children", "_lock")

    def __init__(self) -> None:
        self.event = threading.Event()
        self._children: list[StopSignal] = []
        self._lock = threading.Lock()

    def child(self) -> StopSignal:
        signal = StopSignal()
        with self._lock:
            self._children.append(signal)
            stopped = self.event.is_set()
        if stopped:
            signal.set()
        return signal

    def set(self) -> None:
        with self._lock:
            self.event.set()
            children = list(self._children)
        for child in children:
            child.set()

    def is_set(self) -> bool:
        return self.event.is_set()


def run_jobs(
    count: int,
    job: Callable[[int, StopSignal], Any],
    *,
    limit: int,
    stop: StopSignal,
    clock: Clock | None,
    concurrent: bool,
    on_failure: Callable[[int, BaseException], bool],
) -> list[Any]:
    """Run `job(index, stop)` for index 0..count-1; their results in index order.

    `limit` bounds how many run at once (0: no bound but MAX_WORKERS); `clock` runs them side
    by side when `concurrent` (None: one after another in the calling thread). A job that raises is
    passed to `on_failure`, which says whether it is tolerated (then the job's result stays
    None); the first one that is not sets `stop` and is re-raised once all workers ended.
    """
    results: list[Any] = [None] * count
    state = {"next": 0}
    failures: list[BaseException] = []
    lock = threading.Lock()

    def worker() -> None:
        while True:
            with lock:
                index = state["next"]
                if index >= count or stop.is_set():
                    return
                state["next"] = index + 1
            try:
                results[index] = job(index, stop)
            except BranchStopped:
                continue
            except BaseException as exc:  # noqa: BLE001 - handed to the parent thread
                with lock:
                    if failures or on_failure(index, exc):
                        continue
                    failures.append(exc)
                stop.set()

    workers = min(limit or MAX_WORKERS, MAX_WORKERS, count)
    if concurrent and workers > 1 and clock is not None:
        clock.run_workers(worker, workers)
    else:
        worker()
    if failures:
        raise failures[0]
    return results
