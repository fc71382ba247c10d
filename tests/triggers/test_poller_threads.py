"""tool worker's one-thread-per-poller runner (tooling/triggers/poller_threads.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from tooling.triggers.poller_threads import run_in_threads


def test_every_item_runs_and_what_they_record_is_returned() -> None:
    def body(item: int, record: Callable[[int], None]) -> None:
        record(item * 10)

    assert sorted(run_in_threads([1, 2, 3], body, threading.Event())) == [10, 20, 30]


def test_the_first_error_stops_the_others_and_is_raised() -> None:
    stop = threading.Event()
    stopped: list[int] = []

    def body(item: int, record: Callable[[int], None]) -> None:
        if item == 0:
            raise RuntimeError("poller 0 broke")
        stop.wait(30)  # ends only because the failing one sets `stop`
        stopped.append(item)

    with pytest.raises(RuntimeError, match="poller 0 broke"):
        run_in_threads([0, 1, 2], body, stop)
    assert stop.is_set() and sorted(stopped) == [1, 2]
