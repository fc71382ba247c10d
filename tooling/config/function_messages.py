"""Problems and warnings of a reader of one function's events, as every such reader says them:
`function '<key>': <message>` at the value's file, line and column."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from tooling.errors import BadInput, ConfigError
from tooling.sourcemap import pointer_join


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

    def _arn_event(
        self,
        value: Any,
        where: str,
        *,
        event: str,
        source: str,
        keys: Collection[str],
        example: str,
        intrinsic_hint: str,
    ) -> dict[str, Any] | None:
        """An event written as an ARN or a mapping with `arn` (sqs, stream), as a mapping; None
        when its shape is wrong (recorded). `event` is "an sqs event", `source` "queue"."""
        spec = {"arn": value} if isinstance(value, str) else value
        if not isinstance(spec, dict):
            self._problem(where, f"{event} is a {source} ARN or a mapping with `arn`", example)
            return None
        if any(str(key) == "Ref" or str(key).startswith("Fn::") for key in spec):
            self._problem(
                where,
                f"{event} is a {source} ARN string or a mapping with `arn`; an intrinsic "
                f"function goes under `arn:`{intrinsic_hint}",
                example,
            )
            return None
        unknown = [key for key in spec if key not in keys]
        if unknown:
            self._problem(
                pointer_join(where, unknown[0]),
                f"unknown key '{unknown[0]}' in {event} (Serverless refuses it)",
                "allowed: " + ", ".join(sorted(keys)),
            )
            return None
        if spec.get("arn") is None:
            self._problem(where, f"{event} needs `arn`, the {source}'s ARN", example)
            return None
        return spec
