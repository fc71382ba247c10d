"""Problems and warnings of a reader of one function's events, as every such reader says them:
`function '<key>': <message>` at the value's file, line and column."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tooling.errors import BadInput, ConfigError


class FunctionMessages:
    """A mixin for readers with `function_key`, `at` (pointer -> file/line/column keyword
    arguments), `warnings` and `problems`."""

    function_key: str
    at: Callable[[str], Any]
    warnings: list[str]
    problems: list[BadInput]

    def _problem(self, pointer: str, message: str, hint: str | None = None) -> None:
        self.problems.append(
            ConfigError(f"function '{self.function_key}': {message}", hint=hint, **self.at(pointer))
        )

    def _warn(self, pointer: str, message: str) -> None:
        kw = self.at(pointer)
        where = ":".join(str(p) for p in (kw["file"], kw["line"], kw["column"]) if p is not None)
        self.warnings.append(f"{where}: function '{self.function_key}': {message}")
