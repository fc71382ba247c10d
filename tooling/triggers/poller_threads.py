"""One thread per poller (a queue's mapping, a stream's shard) for `tool worker`: each runs
until `stop`; the first error stops the others and is raised in the caller."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

Item = TypeVar("Item")
Outcome = TypeVar("Outcome")


def run_in_threads(
    items: Sequence[Item],
    body: Callable[[Item, Callable[[Outcome], None]], None],
    stop: threading.Event,
) -> list[Outcome]:
    """Runs `body(item, record)` for each item in its own thread; returns what they recorded."""
    outcomes: list[Outcome] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def record(outcome: Outcome) -> None:
        with lock:
            outcomes.append(outcome)

    def guarded(item: Item) -> None:
        try:
            body(item, record)
        except BaseException as exc:  # stop the others too, and raise it in the caller
            errors.append(exc)
            stop.set()

    threads = [threading.Thread(target=guarded, args=(item,), daemon=True) for item in items]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(0.2)
    if errors:
        raise errors[0]
    return outcomes
