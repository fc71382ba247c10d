"""Parallel branches and Map iterations running side by side: MaxConcurrency, stopping the
siblings of a failed branch, and deterministic simulated concurrency on the virtual clock."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from tooling.engine.clock import SystemClock
from tooling.engine.concurrency import MAX_WORKERS, StopSignal, run_jobs
from tooling.engine.ports import LambdaResponse

from .fakes import FUNCTION_ARN, RecordingSink, Runner, ScriptedLambdas, details, ok, raised

# A fake task that waits for its siblings never waits longer than this (only if broken).
SAFETY_TIMEOUT = 10


def waits(seconds: int | None = None, path: str | None = None) -> dict[str, Any]:
    wait: dict[str, Any] = {"Type": "Wait", "Next": "After"}
    if path is not None:
        wait["SecondsPath"] = path
    else:
        wait["Seconds"] = seconds
    return {"StartAt": "Wait", "States": {"Wait": wait, "After": {"Type": "Pass", "End": True}}}


def fails_on_zero(then: dict[str, Any]) -> dict[str, Any]:
    """Items equal to 0 fail at once; the others run `then` (a state named Then)."""
    return {
        "StartAt": "Check",
        "States": {
            "Check": {
                "Type": "Choice",
                "Choices": [{"Variable": "$", "NumericEquals": 0, "Next": "Boom"}],
                "Default": "Then",
            },
            "Boom": {"Type": "Fail", "Error": "ItemFailed", "Cause": "zero"},
            "Then": then,
        },
    }


def task_processor() -> dict[str, Any]:
    return {
        "StartAt": "Work",
        "States": {
            "Work": {"Type": "Task", "Resource": FUNCTION_ARN, "Next": "After"},
            "After": {"Type": "Pass", "End": True},
        },
    }


def map_of(processor: dict[str, Any], max_concurrency: int = 0) -> dict[str, Any]:
    state = {"Type": "Map", "ItemProcessor": processor, "End": True}
    if max_concurrency:
        state["MaxConcurrency"] = max_concurrency
    return {"StartAt": "Each", "States": {"Each": state}}


def elapsed(runner: Runner) -> timedelta:
    events = runner.sink.events
    return events[-1]["timestamp"] - events[0]["timestamp"]


# ---- the virtual clock: simulated concurrency ---------------------------------------------------


def test_parallel_branches_wait_side_by_side_on_the_virtual_clock(runner: Runner) -> None:
    definition = {
        "StartAt": "Both",
        "States": {"Both": {"Type": "Parallel", "Branches": [waits(10), waits(20)], "End": True}},
    }
    outcome = runner.run(definition, {})
    assert outcome.status == "SUCCEEDED"
    assert elapsed(runner) == timedelta(seconds=20)  # one after the other would take 30 s
    exits = [e for e in runner.sink.events if e["type"] == "WaitStateExited"]
    assert [e["timestamp"] - runner.sink.events[0]["timestamp"] for e in exits] == [
        timedelta(seconds=10),
        timedelta(seconds=20),
    ]


@pytest.mark.parametrize(("limit", "seconds"), [(0, 1), (1, 9), (3, 3), (4, 3)])
def test_max_concurrency_sets_how_long_a_map_of_waits_takes(
    runner: Runner, limit: int, seconds: int
) -> None:
    outcome = runner.run(map_of(waits(1), limit), list(range(9)))
    assert outcome.status == "SUCCEEDED"
    assert outcome.output == "[0,1,2,3,4,5,6,7,8]"
    assert elapsed(runner) == timedelta(seconds=seconds)


def test_iteration_events_interleave_in_time_order_and_repeat_exactly() -> None:
    def history() -> list[dict[str, Any]]:
        runner = Runner()
        outcome = runner.run(map_of(waits(path="$")), [3, 1, 2])
        assert outcome.output == "[3,1,2]"
        return runner.sink.events

    first = history()
    finished = [details(e)["index"] for e in first if e["type"] == "MapIterationSucceeded"]
    assert finished == [1, 2, 0]  # in the order their waits end
    assert history() == first  # ids, previousEventIds and timestamps alike


def test_previous_event_ids_chain_within_each_iteration(runner: Runner) -> None:
    runner.run(map_of(waits(path="$")), [2, 1])
    by_id = {e["id"]: e for e in runner.sink.events}
    for event in runner.sink.events:
        if event["type"] == "WaitStateExited":
            pointed = by_id[event["previousEventId"]]
            assert pointed["type"] == "WaitStateEntered"
            assert (
                pointed["stateEnteredEventDetails"]["input"]
                == (event["stateExitedEventDetails"]["output"])
            )


def test_a_failed_iteration_aborts_the_running_ones_and_starts_no_more(runner: Runner) -> None:
    slow = {"Type": "Wait", "Seconds": 100, "End": True}
    outcome = runner.run(map_of(fails_on_zero(slow)), [5, 0, 7])
    assert (outcome.status, outcome.error, outcome.cause) == ("FAILED", "ItemFailed", "zero")
    types = runner.sink.types
    assert types.count("MapIterationStarted") == 2  # item 2 never starts
    aborted = [e for e in runner.sink.events if e["type"] == "MapIterationAborted"]
    assert [details(e) for e in aborted] == [{"name": "Each", "index": 0}]
    assert [
        details(e)["index"] for e in runner.sink.events if e["type"] == "MapIterationFailed"
    ] == [1]
    assert "WaitStateExited" not in types
    assert types[-3:] == ["MapIterationAborted", "MapStateFailed", "ExecutionFailed"]
    assert elapsed(runner) == timedelta(0)  # the 100 s wait was cut short


def test_a_failed_branch_stops_its_parallel_siblings(runner: Runner) -> None:
    failing = {
        "StartAt": "Boom",
        "States": {"Boom": {"Type": "Fail", "Error": "Bad", "Cause": "c"}},
    }
    definition = {
        "StartAt": "Both",
        "States": {"Both": {"Type": "Parallel", "Branches": [waits(100), failing], "End": True}},
    }
    outcome = runner.run(definition, {})
    assert (outcome.status, outcome.error) == ("FAILED", "Bad")
    types = runner.sink.types
    assert "WaitStateEntered" in types
    assert "WaitStateExited" not in types and "PassStateEntered" not in types
    assert types[-2:] == ["ParallelStateFailed", "ExecutionFailed"]
    assert elapsed(runner) == timedelta(0)


def test_stopping_reaches_maps_nested_in_a_stopped_branch(runner: Runner) -> None:
    late_failure = {
        "StartAt": "Later",
        "States": {
            "Later": {"Type": "Wait", "Seconds": 10, "Next": "Boom"},
            "Boom": {"Type": "Fail", "Error": "Late"},
        },
    }
    nested_map = map_of(waits(50))
    nested_map["States"]["Each"]["ItemsPath"] = "$.items"
    definition = {
        "StartAt": "Both",
        "States": {
            "Both": {"Type": "Parallel", "Branches": [nested_map, late_failure], "End": True}
        },
    }
    outcome = runner.run(definition, {"items": [1, 2]})
    assert (outcome.status, outcome.error) == ("FAILED", "Late")
    assert runner.sink.types.count("MapIterationAborted") == 2
    assert "MapStateSucceeded" not in runner.sink.types
    assert elapsed(runner) == timedelta(seconds=10)


def test_retry_intervals_of_concurrent_branches_overlap(runner: Runner) -> None:
    attempts: dict[Any, int] = {}
    lock = threading.Lock()

    def answer(function: str, event: Any) -> LambdaResponse:
        with lock:
            attempts[event] = attempts.get(event, 0) + 1
            first = attempts[event] == 1
        return raised("Flaky", "try again") if first else ok(event)

    processor = task_processor()
    processor["States"]["Work"]["Retry"] = [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 5}]
    outcome = runner.run(map_of(processor), [1, 2, 3], ScriptedLambdas(answer))
    assert outcome.status == "SUCCEEDED"
    assert elapsed(runner) == timedelta(seconds=5)
    assert attempts == {1: 2, 2: 2, 3: 2}


# ---- the system clock: real threads -------------------------------------------------------------


class ConcurrencyProbe:
    """A fake function that counts how many calls run at once; each call waits at a barrier
    until `together` calls are in, so running fewer at once than that breaks the barrier."""

    def __init__(self, together: int) -> None:
        self.barrier = threading.Barrier(together, timeout=SAFETY_TIMEOUT)
        self.lock = threading.Lock()
        self.running = 0
        self.most = 0

    def __call__(self, function: str, event: Any) -> LambdaResponse:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        self.barrier.wait()
        with self.lock:
            self.running -= 1
        return ok(event)


@pytest.mark.parametrize(("limit", "items"), [(3, 9), (0, 6)])
def test_max_concurrency_bounds_the_iterations_running_in_threads(
    runner: Runner, limit: int, items: int
) -> None:
    # Threads that really overlap: the runner's virtual clock is swapped for the real one.
    runner.clock = SystemClock()  # type: ignore[assignment]
    together = limit or items
    probe = ConcurrencyProbe(together)
    outcome = runner.run(
        map_of(task_processor(), limit), list(range(items)), ScriptedLambdas(probe)
    )
    assert outcome.status == "SUCCEEDED"
    assert outcome.output == jsonish(list(range(items)))
    assert probe.most == together


def jsonish(values: list[int]) -> str:
    return "[" + ",".join(str(v) for v in values) + "]"


class SignallingSink(RecordingSink):
    """Sets `seen` when an event of type `watched` is recorded."""

    def __init__(self, watched: str) -> None:
        super().__init__()
        self.watched = watched
        self.seen = threading.Event()

    def append(self, event: dict[str, Any]) -> None:
        super().append(event)
        if event["type"] == self.watched:
            self.seen.set()


def test_a_failure_stops_a_running_thread_at_its_next_state(runner: Runner) -> None:
    # Threads that really overlap: the runner's virtual clock is swapped for the real one.
    runner.clock = SystemClock()  # type: ignore[assignment]
    sink = SignallingSink("MapIterationFailed")
    runner.sink = sink

    def answer(function: str, event: Any) -> LambdaResponse:
        if event == "fail":
            return raised("Broken", "bad item")
        assert sink.seen.wait(SAFETY_TIMEOUT)  # finish only once the other item has failed
        return ok(event)

    outcome = runner.run(map_of(task_processor()), ["slow", "fail"], ScriptedLambdas(answer))
    assert (outcome.status, outcome.error) == ("FAILED", "Broken")
    aborted = [details(e)["index"] for e in sink.events if e["type"] == "MapIterationAborted"]
    assert aborted == [0]
    assert "PassStateEntered" not in sink.types  # the slow item stopped after its Task


# ---- run_jobs -----------------------------------------------------------------------------------


class CountingClock(SystemClock):
    def __init__(self) -> None:
        self.workers: list[int] = []

    def run_workers(self, worker: Callable[[], None], count: int) -> None:
        self.workers.append(count)
        for _ in range(count):
            worker()


def test_run_jobs_caps_the_workers_and_keeps_results_in_order() -> None:
    clock = CountingClock()
    results = run_jobs(
        100,
        lambda index, stop: index * 2,
        limit=0,
        stop=StopSignal(),
        clock=clock,
        concurrent=True,
        on_failure=lambda index, exc: False,
    )
    assert results == [i * 2 for i in range(100)]
    assert clock.workers == [MAX_WORKERS]


def test_run_jobs_runs_in_the_calling_thread_when_concurrency_changes_nothing() -> None:
    clock = CountingClock()
    threads: set[int] = set()

    def job(index: int, stop: StopSignal) -> int:
        threads.add(threading.get_ident())
        return index

    def jobs(limit: int, concurrent: bool) -> list[Any]:
        return run_jobs(
            3,
            job,
            limit=limit,
            concurrent=concurrent,
            stop=StopSignal(),
            clock=clock,
            on_failure=lambda i, e: False,
        )

    assert jobs(limit=0, concurrent=False) == [0, 1, 2]
    assert jobs(limit=1, concurrent=True) == [0, 1, 2]
    assert clock.workers == []
    assert threads == {threading.get_ident()}


def test_run_jobs_stops_after_the_first_untolerated_failure() -> None:
    started: list[int] = []
    stop = StopSignal()

    def job(index: int, signal: StopSignal) -> int:
        started.append(index)
        if index == 1:
            raise ValueError("broken")
        return index

    with pytest.raises(ValueError, match="broken"):
        run_jobs(
            5, job, limit=0, stop=stop, clock=None, concurrent=True, on_failure=lambda i, e: False
        )
    assert started == [0, 1]
    assert stop.is_set()


def test_run_jobs_keeps_going_past_tolerated_failures() -> None:
    def job(index: int, stop: StopSignal) -> int:
        if index % 2:
            raise ValueError(index)
        return index

    results = run_jobs(
        4,
        job,
        limit=0,
        stop=StopSignal(),
        clock=None,
        concurrent=False,
        on_failure=lambda i, e: True,
    )
    assert results == [0, None, 2, None]


def test_a_stop_signal_reaches_children_made_before_and_after_it_is_set() -> None:
    parent = StopSignal()
    before = parent.child()
    parent.set()
    assert before.is_set() and parent.child().is_set()
    assert not StopSignal().is_set()
    called: list[int] = []
    results = run_jobs(
        2,
        lambda index, stop: called.append(index),
        limit=0,
        stop=before,
        clock=None,
        concurrent=False,
        on_failure=lambda i, e: False,
    )
    assert results == [None, None] and called == []  # a stopped group starts nothing
