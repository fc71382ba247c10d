"""The one timestamp grammar of the States Language: what a Wait state's Timestamp, its
TimestampPath value and the Choice rules' Timestamp operators accept, in `tool validate` and in
the engine alike.

AWS (Wait state guide): "Timestamps must conform to the RFC3339 profile of ISO 8601, with the
further restrictions that an uppercase T must separate the date and time portions, and an
uppercase Z must denote that a numeric time zone offset is not present". The recorded runs of
the conformance corpus accept 2, 6 and 9 fraction digits and refuse a space for the T and a
missing offset. So: `YYYY-MM-DDThh:mm:ss`, an optional fraction of 1 to 9 digits (nanoseconds,
the run-time parser's precision), then `Z` or `+hh:mm`/`-hh:mm` (at most 18 hours), a real date
and time (no leap second). Not confirmed: lower-case `t`/`z` and leap seconds at run time
(docs/engine.md, "Not confirmed").
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

_PATTERN = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})"
)


def parse_timestamp(text: object) -> tuple[int, int] | None:
    """(epoch seconds, nanoseconds) of a valid timestamp string, else None. Sorts correctly."""
    if not isinstance(text, str):
        return None
    m = _PATTERN.fullmatch(text)
    if not m:
        return None
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    offset = m.group(8)
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


def is_timestamp(text: object) -> bool:
    return parse_timestamp(text) is not None
