"""RFC 3339 timestamps as Step Functions requires them (uppercase T and Z, a real date)."""

from __future__ import annotations

import re
from datetime import datetime

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
)


def is_timestamp(text: object) -> bool:
    if not isinstance(text, str):
        return False
    match = _RFC3339.match(text)
    if not match:
        return False
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    try:
        datetime(year, month, day, hour, minute, min(second, 59))  # leap second 60 allowed
    except ValueError:
        return False
    return second <= 60
