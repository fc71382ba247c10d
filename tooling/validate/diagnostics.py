"""The diagnostic model: what is wrong, how bad, and exactly where (file, line, column, pointer)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tooling.errors import DefinitionError
from tooling.sourcemap import SourceMap


class Severity(StrEnum):
    ERROR = "ERROR"  # AWS would reject the definition (or the service cannot run)
    WARNING = "WARNING"  # AWS accepts it, but it is a trap


@dataclass(frozen=True)
class Diagnostic:
    severity: Severity
    code: str  # stable, e.g. STATE_NEXT_MISSING
    message: str  # what is wrong and how to fix it
    file: str | None
    line: int | None
    column: int | None
    pointer: str  # JSON pointer (RFC 6901) of the offending node; "" is the document

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def location(self) -> str:
        parts = [str(p) for p in (self.file, self.line, self.column) if p is not None]
        return ":".join(parts)

    def render(self) -> str:
        """`file:line:col: error CODE: message`, like a compiler."""
        where = self.location()
        text = f"{self.severity.value.lower()} {self.code}: {self.message}"
        return f"{where}: {text}" if where else text

    def to_json(self) -> dict[str, Any]:
        return {
            "severity": self.severity.value,
            "code": self.code,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "pointer": self.pointer,
        }


class Collector:
    """Gathers diagnostics about one document, placing each with the document's source map."""

    def __init__(self, source: SourceMap | None, file: str | None = None) -> None:
        self.source = source
        self.file = source.file if source is not None else file
        self.items: list[Diagnostic] = []

    def add(self, severity: Severity, pointer: str, code: str, message: str) -> None:
        pos = self.source.locate(pointer) if self.source is not None else None
        self.items.append(
            Diagnostic(
                severity=severity,
                code=code,
                message=message,
                file=self.file,
                line=pos.line if pos else None,
                column=pos.column if pos else None,
                pointer=pointer,
            )
        )

    def error(self, pointer: str, code: str, message: str) -> None:
        self.add(Severity.ERROR, pointer, code, message)

    def warning(self, pointer: str, code: str, message: str) -> None:
        self.add(Severity.WARNING, pointer, code, message)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """'; did you mean "X"?' for the closest choice (a case-only difference first), or ""."""
    choices = sorted(choices)
    same = [c for c in choices if c.lower() == word.lower()]
    close = same or difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f'; did you mean "{close[0]}"?' if close else ""


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)


def sort_key(diagnostic: Diagnostic) -> tuple[str, int, int, str]:
    return (
        diagnostic.file or "",
        diagnostic.line or 0,
        diagnostic.column or 0,
        diagnostic.code,
    )


def check_or_raise(diagnostics: Sequence[Diagnostic]) -> None:
    """Raise DefinitionError (exit 2) for the first error, located, with a count of the others.

    Warnings never raise: `tool deploy` and `tool run` call this before doing anything."""
    errors = sorted((d for d in diagnostics if d.is_error), key=sort_key)
    if not errors:
        return
    first = errors[0]
    others = len(errors) - 1
    hint = "run `tool validate` to see every problem"
    if others:
        hint = f"{others} more error{'s' if others > 1 else ''}; {hint}"
    message = first.message
    own_hint = _TRAILING_HINT.match(message)
    if own_hint:  # one parenthesis, not two in a row: "... (fix X; run `tool validate` ...)"
        message, hint = own_hint["message"], f"{own_hint['hint']}; {hint}"
    raise DefinitionError(
        f"{first.code}: {message}",
        file=first.file,
        line=first.line,
        column=first.column,
        hint=hint,
    )


_TRAILING_HINT = re.compile(r"(?P<message>.*\S) \((?P<hint>[^()]*)\)$", re.DOTALL)
