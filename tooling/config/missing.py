"""The "no value here" marker of variable resolution (distinct from a YAML null)."""

from __future__ import annotations

from typing import Any


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()
