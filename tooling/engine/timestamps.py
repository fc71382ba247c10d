"""ISO-8601 "extended offset date-time" strings, the only timestamps Step Functions accepts
(a 'T' between date and time, an offset or 'Z', up to nanosecond fractions)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

_PATTERN = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})",
    re.IGNORECASE,  # Java's ISO_OFFSET_DATE_TIME parses case-insensitively
)


def parse_timestamp(text: object) -> tuple[int, int] | None:
    """(epoch seconds, nanoseconds) for a valid timestamp string, else None. Sorts correctly."""
    if not isinstance(text, str):
        return None
    m = _PATTERN.fullmatch(text)
    if not m:
        return None
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    offset = m.group(8).upper()
    if offset == "Z":
        tz = UTC
    else:
        sign = 1 if offset[0] == "+" else -1
        hours, minutes = int(offset[1:3]), int(offset[4:6])
        if hours > 18 or minutes > 59:
            return None
        tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=tz)
    except ValueError:
        return None
    nanos = int((m.group(7) or "").ljust(9, "0"))
    return int(moment.timestamp()), nanos


def to_datetime(stamp: tuple[int, int]) -> datetime:
    return datetime.fromtimestamp(stamp[0], UTC) + timedelta(microseconds=stamp[1] // 1000)


def format_context_time(moment: datetime) -> str:
    """How the context object writes times, e.g. 2019-03-26T20:14:13.192Z (milliseconds, UTC)."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
