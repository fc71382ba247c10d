"""Keys written twice in one JSON object: the parser keeps the last one, silently dropping the
first (a second state with the same name replaces the first one)."""

from __future__ import annotations

import json
from typing import Any

from tooling.sourcemap import SourceMap, pointer_join
from tooling.validate.diagnostics import Collector, Diagnostic


class _Object(dict[str, Any]):
    duplicates: tuple[str, ...] = ()


def _object(pairs: list[tuple[str, Any]]) -> _Object:
    result = _Object(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        repeated: list[str] = []
        for key, _ in pairs:
            if key in seen:
                repeated.append(key)
            seen.add(key)
        result.duplicates = tuple(repeated)
    return result


def duplicate_keys(text: str, source: SourceMap) -> list[Diagnostic]:
    """A warning for each repeated key, at its last occurrence (the one that is kept).

    AWS's handling of repeated keys is not confirmed, hence a warning rather than an error."""
    out = Collector(source)
    _walk(json.loads(text, object_pairs_hook=_object), "", out)
    return out.items


def _walk(value: Any, pointer: str, out: Collector) -> None:
    if isinstance(value, _Object):
        for key in value.duplicates:
            out.warning(
                pointer_join(pointer, key),
                "JSON_DUPLICATE_KEY",
                f'"{key}" appears more than once in this object; only the last one is kept',
            )
        for key, item in value.items():
            _walk(item, pointer_join(pointer, key), out)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _walk(item, pointer_join(pointer, index), out)
