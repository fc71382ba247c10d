"""Clocks for the engine: the system's, and a virtual one (sleep moves time at once).

Each clock also runs the workers of a Parallel or Map state (`run_workers`). The system clock
gives each worker a thread. The virtual clock runs them as a discrete-event simulation: worker
threads take turns holding one baton, so exactly one runs at a time and the turns come in a
fixed order; simulated time moves to the earliest wake-up only when every worker is asleep or
waiting. Its runs are therefore deterministic, cost no real time, and still show concurrent
branches sleeping side by side (two branches that each wait 10 s take 10 s, not 20 s).
"""

from __future__ import annotations

import heapq
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def sleep_unless(self, seconds: float, stop: threading.Event) -> None:
        """Sleep, but wake as soon as `stop` is set."""
        if seconds > 0:
            stop.wait(seconds)

    def run_workers(self, worker: Callable[[], None], count: int) -> None:
        """Run `count` copies of `worker` at once, each in its own thread; return when all end."""
        threads = [threading.Thread(target=worker, daemon=True) for _ in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


class _Turn:
    """One thread's place in the virtual clock's schedule."""

    __slots__ = ("waiting_on", "wakeup")

    def __init__(self, lock: threading.RLock) -> None:
        self.waiting_on = 0  # workers still running in the group this thread started
        self.wakeup = threading.Condition(lock)  # notified when this turn gets the baton


class VirtualClock:
    """Starts at a fixed instant; `sleep` moves time forward and records how long was asked."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2024, 1, 1, tzinfo=UTC)
        self._lock = threading.RLock()
        self.sleeps: list[float] = []
        # The schedule, used while workers run: who holds the baton, who may take it next,
        # and who sleeps until when (wake-up time, order of arrival, turn, stop event).
        self._local = threading.local()
        self._holder: _Turn | None = None
        self._ready: deque[_Turn] = deque()
        self._sleepers: list[tuple[datetime, int, _Turn, threading.Event | None]] = []
        self._arrivals = 0

    def now(self) -> datetime:
        return self._now  # replaced whole under the lock, so read without it

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += timedelta(seconds=seconds)

    def sleep(self, seconds: float) -> None:
        self._sleep(seconds, None)

    def sleep_unless(self, seconds: float, stop: threading.Event) -> None:
        """Sleep, but wake (without moving time further) as soon as `stop` is set."""
        self._sleep(seconds, stop)

    def _sleep(self, seconds: float, stop: threading.Event | None) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            if seconds <= 0:
                return
            turn: _Turn | None = getattr(self._local, "turn", None)
            if turn is None or self._holder is not turn:
                # No workers running: nothing else can happen meanwhile.
                self._now += timedelta(seconds=seconds)
                return
            self._arrivals += 1
            wake = self._now + timedelta(seconds=seconds)
            heapq.heappush(self._sleepers, (wake, self._arrivals, turn, stop))
            self._pass_baton()
            self._wait_for(turn)

    def run_workers(self, worker: Callable[[], None], count: int) -> None:
        """Run `count` copies of `worker` as simulated concurrent threads (one at a time)."""
        with self._lock:
            parent: _Turn | None = getattr(self._local, "turn", None)
            if parent is None:
                parent = _Turn(self._lock)
                self._local.turn = parent
            if self._holder is None:
                self._holder = parent
            owns_schedule = self._holder is parent
            if owns_schedule:
                parent.waiting_on = count
                turns = [_Turn(self._lock) for _ in range(count)]
        if not owns_schedule:
            # Another execution's workers are using this clock: run these one after another.
            for _ in range(count):
                worker()
            return
        threads = [
            threading.Thread(target=self._worker, args=(worker, turn, parent), daemon=True)
            for turn in turns
        ]
        for thread in threads:
            thread.start()
        with self._lock:
            self._ready.extend(turns)
            self._pass_baton()
            self._wait_for(parent)
        for thread in threads:
            thread.join()
        with self._lock:
            if not self._ready and not self._sleepers and self._holder is parent:
                # The outermost group has ended: back to plain sleeping.
                self._holder = None

    def _worker(self, worker: Callable[[], None], turn: _Turn, parent: _Turn) -> None:
        self._local.turn = turn
        with self._lock:
            self._wait_for(turn)
        try:
            worker()
        finally:
            with self._lock:
                parent.waiting_on -= 1
                if parent.waiting_on == 0:
                    self._ready.append(parent)
                self._pass_baton()

    def _pass_baton(self) -> None:
        """Hand the baton to the next thread in line (call with the lock held)."""
        stopped = [entry for entry in self._sleepers if entry[3] is not None and entry[3].is_set()]
        if stopped:
            # Sleepers whose branch was stopped wake now, without moving time.
            self._sleepers = [entry for entry in self._sleepers if entry not in stopped]
            heapq.heapify(self._sleepers)
            self._ready.extend(entry[2] for entry in sorted(stopped, key=lambda e: e[1]))
        if not self._ready and self._sleepers:
            wake = self._sleepers[0][0]
            self._now = max(self._now, wake)
            while self._sleepers and self._sleepers[0][0] == wake:
                self._ready.append(heapq.heappop(self._sleepers)[2])
        self._holder = self._ready.popleft() if self._ready else None
        if self._holder is not None:
            self._holder.wakeup.notify()

    def _wait_for(self, turn: _Turn) -> None:
        while self._holder is not turn:
            turn.wakeup.wait()


CLOCK_KINDS = ("real", "virtual")


def make_clock(kind: str = "real", start: datetime | None = None) -> SystemClock | VirtualClock:
    """The clock for `--clock real|virtual`: a virtual clock starts at `start` (default: now)
    and makes Wait states and Retry intervals cost no real time."""
    if kind == "real":
        return SystemClock()
    if kind == "virtual":
        return VirtualClock(start or datetime.now(UTC))
    raise ValueError(f"unknown clock {kind!r} (expected one of {', '.join(CLOCK_KINDS)})")
