"""JSONPath syntax for `tool validate`: the engine's grammar (`tooling.engine.jsonpath`), with
its failures turned into the validator's PathError. Nothing is compiled or evaluated here."""

from __future__ import annotations

from tooling.engine.jsonpath import ParsedPath, PathSyntaxError
from tooling.engine.jsonpath import parse_path as _parse

PathInfo = ParsedPath  # .context, .variable, .reference


class PathError(ValueError):
    """The text is not a valid JSONPath; the message says why."""


def parse_path(text: str) -> PathInfo:
    """Check `text`'s syntax; raise PathError with the reason when it is not a JSONPath."""
    try:
        return _parse(text)
    except PathSyntaxError as exc:
        raise PathError(exc.reason) from None
