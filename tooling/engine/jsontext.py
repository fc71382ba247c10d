"""JSON text as Step Functions writes it in history and outputs: compact, non-ASCII kept as is."""

from __future__ import annotations

import json
from typing import Any

_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def dumps(value: Any) -> str:
    return _encoder.encode(value)


def loads(text: str) -> Any:
    return json.loads(text)
