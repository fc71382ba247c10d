"""Clocks for the engine: the system's, and a virtual one for tests (sleep moves time at once)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class VirtualClock:
    """Starts at a fixed instant; `sleep` moves time forward and records how long was asked."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2024, 1, 1, tzinfo=UTC)
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            if seconds > 0:
                self._now += timedelta(seconds=seconds)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += timedelta(seconds=seconds)


CLOCK_KINDS = ("real", "virtual")


def make_clock(kind: str = "real", start: datetime | None = None) -> SystemClock | VirtualClock:
    """The clock for `--clock real|virtual`: a virtual clock starts at `start` (default: now)
    and makes Wait states and Retry intervals cost no real time."""
    if kind == "real":
        return SystemClock()
    if kind == "virtual":
        return VirtualClock(start or datetime.now(UTC))
    raise ValueError(f"unknown clock {kind!r} (expected one of {', '.join(CLOCK_KINDS)})")
