"""Times as the engine writes them: in the context object, and a parsed timestamp as a datetime.
What a timestamp string may be is the States Language's one grammar (tooling.asl.timestamps)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def to_datetime(stamp: tuple[int, int]) -> datetime:
    return datetime.fromtimestamp(stamp[0], UTC) + timedelta(microseconds=stamp[1] // 1000)


def format_context_time(moment: datetime) -> str:
    """How the context object writes times, e.g. 2019-03-26T20:14:13.192Z (milliseconds, UTC)."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
