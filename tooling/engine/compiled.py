"""The pieces compiled states are made of: fields a definition may leave out (`ABSENT`), values
found at run time (`Fixed`, `AtPath`, `Evaluated`), retriers, catchers and Choice rules."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, Final, Literal

from tooling.engine.jsonpath import JsonPath

if TYPE_CHECKING:
    from tooling.engine.choice import Condition
    from tooling.engine.jsonata_eval import Expression


class Absent(Enum):
    """A field the definition does not set (distinct from one set to null)."""

    ABSENT = "absent"

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Final = Absent.ABSENT
Unset = Literal[Absent.ABSENT]

# A payload template: a constant, or a tooling.engine.payload.Dynamic built at parse time
# (JSONPath); a constant or a tooling.engine.jsonata_eval.Template (JSONata).
Template = Any


# ---- values found at run time -------------------------------------------------------------------


@dataclass(frozen=True)
class Fixed:
    """A number written in the definition."""

    value: Any


@dataclass(frozen=True)
class AtPath:
    """A value read from the state's input (after InputPath) at a reference path: `...Path`."""

    path: JsonPath


@dataclass(frozen=True)
class Evaluated:
    """A value computed by the state's data flow: a JSONata template (`{% %}` inside), or in
    JSONPath a path-or-intrinsic field such as ErrorPath."""

    template: Any


Dynamic = Fixed | AtPath | Evaluated


# ---- Retry and Catch ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Retrier:
    errors: tuple[str, ...]
    interval_seconds: float = 1
    max_attempts: int = 3
    backoff_rate: float = 2.0
    max_delay_seconds: float | None = None
    jitter: str = "NONE"


@dataclass(frozen=True)
class Catcher:
    errors: tuple[str, ...]
    next: str
    result_path: JsonPath | None  # None: ResultPath null, the error output is dropped
    assign: Template = ABSENT  # JSONPath payload template or JSONata template
    output: Template = ABSENT  # JSONata Output


@dataclass(frozen=True)
class ChoiceRule:
    condition: Condition | Expression | bool  # JSONata: an Expression, or true/false
    next: str
    assign: Template = ABSENT
    output: Template = ABSENT  # JSONata Output
