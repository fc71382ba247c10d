"""JSONPath syntax as Step Functions accepts it, checked without evaluating anything.

A *Path* may use any JSONPath (wildcards, slices, unions, filters, `..`); a *Reference Path*
names one node only: `.name`, `['name']` and `[index]` segments. `$$` starts a context-object
path; `$name` starts a path on a workflow variable (JSONPath states may read variables).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_VARIABLE_HEAD = re.compile(r"\$([^\W\d]\w*)")
_INDEX = re.compile(r"-?\d+")
_SLICE = re.compile(r"-?\d*\s*:\s*-?\d*(?:\s*:\s*-?\d*)?")
_QUOTED = re.compile(r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*\"""")


@dataclass(frozen=True)
class PathInfo:
    """What a syntactically valid path is made of."""

    context: bool  # $$...
    variable: str | None  # $name... (a workflow variable)
    reference: bool  # only single-node segments


class PathError(ValueError):
    """The text is not a valid JSONPath; the message says why."""


def parse_path(text: str) -> PathInfo:
    """Check `text`'s syntax; raise PathError with the reason when it is not a JSONPath."""
    if not text.startswith("$"):
        raise PathError("a path must start with '$'")
    context = text.startswith("$$")
    variable = None
    i = 2 if context else 1
    if not context:
        match = _VARIABLE_HEAD.match(text)
        if match:
            variable = match.group(1)
            i = match.end()
    reference = True
    n = len(text)
    while i < n:
        c = text[i]
        if c == ".":
            if text.startswith("..", i):
                reference = False
                i += 2
                if i >= n:
                    raise PathError("'..' must be followed by a name")
                if text[i] == "[":
                    continue
            else:
                i += 1
            j = i
            while j < n and text[j] not in ".[":
                j += 1
            name = text[i:j]
            if not name:
                raise PathError(f"empty name after '.' at character {i}")
            if name == "*":
                reference = False
            elif any(ch in name for ch in " ]'\"()?"):
                raise PathError(f"'{name}' is not a valid name; quote it as ['{name}']")
            i = j
        elif c == "[":
            end = _bracket_end(text, i)
            inner = text[i + 1 : end].strip()
            if not inner:
                raise PathError(f"empty brackets at character {i + 1}")
            if inner == "*":
                reference = False
            elif inner.startswith("?"):
                _check_filter(inner)
                reference = False
            elif inner.startswith("("):
                _check_balanced(inner)
                reference = False
            elif _INDEX.fullmatch(inner) or _QUOTED.fullmatch(inner):
                pass
            elif _SLICE.fullmatch(inner) or all(
                _INDEX.fullmatch(p.strip()) or _QUOTED.fullmatch(p.strip())
                for p in _split_union(inner)
            ):
                reference = False
            else:
                raise PathError(f"'[{inner}]' is not a valid index, name, slice or filter")
            i = end + 1
        else:
            raise PathError(f"unexpected '{c}' at character {i + 1}")
    return PathInfo(context=context, variable=variable, reference=reference)


def _bracket_end(text: str, start: int) -> int:
    depth, quote, i = 0, "", start
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif c == "[":
            depth += 1
        elif c == "]":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise PathError(f"'[' at character {start + 1} is never closed")


def _check_filter(inner: str) -> None:
    body = inner[1:].strip()
    if not (body.startswith("(") and body.endswith(")")):
        raise PathError(f"the filter '[{inner}]' must be written [?(...)]")
    if not body[1:-1].strip():
        raise PathError(f"the filter '[{inner}]' is empty")
    _check_balanced(body)


def _check_balanced(text: str) -> None:
    depth, quote = 0, ""
    for c in text:
        if quote:
            if c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth < 0:
                raise PathError(f"unbalanced ')' in '{text}'")
    if depth or quote:
        raise PathError(f"unbalanced parentheses or quotes in '{text}'")


def _split_union(inner: str) -> list[str]:
    parts, quote, start = [], "", 0
    for i, c in enumerate(inner):
        if quote:
            if c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif c == ",":
            parts.append(inner[start:i])
            start = i + 1
    parts.append(inner[start:])
    return parts
