"""JSONPath as Step Functions evaluates it, compiled once per definition.

Definite paths ($.a.b, $.a[0], $['a']) give one value and fail when nothing is there; indefinite
ones (wildcards, slices, unions, filters, `..`) give a list, empty when nothing matches, as the
Jayway library AWS uses does. Simple segments are walked here directly; filters and recursive
descent go to jsonpath-ng, parsed once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from jsonpath_ng.ext import parse as _ng_parse

from tooling.engine import jsontext


class PathNotFound(Exception):
    """A definite path selected nothing."""


class PathSyntaxError(ValueError):
    """The path text is not a JSONPath the engine understands."""


@dataclass(frozen=True)
class _Field:
    name: str


@dataclass(frozen=True)
class _Index:
    index: int


@dataclass(frozen=True)
class _Wildcard:
    pass


@dataclass(frozen=True)
class _Slice:
    start: int | None
    stop: int | None
    step: int | None


@dataclass(frozen=True)
class _Union:
    keys: tuple[str | int, ...]


_Segment = _Field | _Index | _Wildcard | _Slice | _Union


_VARIABLE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


class UndefinedVariable(PathNotFound):
    """A `$name` path read a variable that no state has assigned."""


class JsonPath:
    """A compiled path. `context` paths ($$...) read the context object instead of the input;
    variable paths ($name...) read the variable `name` (Assign)."""

    __slots__ = ("text", "context", "variable", "definite", "_segments", "_ng", "normalized")

    def __init__(self, text: str) -> None:
        if not isinstance(text, str) or not text.startswith("$"):
            raise PathSyntaxError(f"'{text}' is not a JSONPath (it must start with '$')")
        self.text = text
        self.context = text.startswith("$$")
        self.variable: str | None = None
        body = text[2:] if self.context else text[1:]
        if not self.context:
            m = _VARIABLE.match(text)
            if m:
                self.variable = m.group(1)
                body = text[m.end() :]
        self._ng = None
        self._segments: tuple[_Segment, ...] = ()
        if ".." in body or "[?" in body or "[ ?" in body:
            try:
                self._ng = _ng_parse("$" + body)
            except Exception as exc:  # jsonpath-ng raises several types for bad syntax
                raise PathSyntaxError(f"'{text}' is not a valid JSONPath: {exc}") from None
            self.definite = False
        else:
            self._segments = tuple(_parse_segments(text, body))
            self.definite = all(isinstance(s, _Field | _Index) for s in self._segments)
        self.normalized = "$" + "".join(_normalize(s) for s in self._segments)

    @property
    def is_root(self) -> bool:
        """Plain "$": the whole input."""
        return not self._segments and not self.context and self._ng is None and not self.variable

    @property
    def is_reference(self) -> bool:
        """A Reference Path: definite, on the input, no `..`/wildcards (what ResultPath allows)."""
        return self.definite and not self.context and self._ng is None and not self.variable

    def read(self, data: Any, env: Any) -> Any:
        """find() on the right source: the input, the context object ($$) or a variable.

        `env` is an env.Env, or a plain dict taken as the context object (no variables).
        """
        if self.context:
            return self.find(env if isinstance(env, dict) else env.context)
        if self.variable is not None:
            variables = {} if isinstance(env, dict) else env.variables
            if self.variable not in variables:
                raise UndefinedVariable(self.text)
            return self.find(variables[self.variable])
        return self.find(data)

    def find(self, data: Any) -> Any:
        """The value (definite paths) or list of values (indefinite ones) the path selects."""
        if self._ng is not None:
            return [m.value for m in self._ng.find(data)]
        if self.definite:
            for seg in self._segments:
                if isinstance(seg, _Field):
                    if not isinstance(data, dict) or seg.name not in data:
                        raise PathNotFound(self.text)
                    data = data[seg.name]
                else:
                    if not isinstance(data, list) or not -len(data) <= seg.index < len(data):  # type: ignore[union-attr]
                        raise PathNotFound(self.text)
                    data = data[seg.index]  # type: ignore[union-attr]
            return data
        values = [data]
        for seg in self._segments:
            values = [out for value in values for out in _step(seg, value)]
        return values

    def exists(self, data: Any) -> bool:
        try:
            found = self.find(data)
        except PathNotFound:
            return False
        return self.definite or bool(found)

    def set(self, data: Any, value: Any) -> Any:
        """A copy of `data` with `value` placed at this reference path (copies only the spine)."""
        return _set(data, self._segments, value, self.text)

    def __repr__(self) -> str:
        return f"JsonPath({self.text!r})"


def _step(seg: _Segment, value: Any) -> list[Any]:
    if isinstance(seg, _Field):
        return [value[seg.name]] if isinstance(value, dict) and seg.name in value else []
    if isinstance(seg, _Index):
        if isinstance(value, list) and -len(value) <= seg.index < len(value):
            return [value[seg.index]]
        return []
    if isinstance(seg, _Wildcard):
        if isinstance(value, dict):
            return list(value.values())
        return list(value) if isinstance(value, list) else []
    if isinstance(seg, _Slice):
        return value[seg.start : seg.stop : seg.step] if isinstance(value, list) else []
    out = []
    for key in seg.keys:
        out.extend(_step(_Field(key) if isinstance(key, str) else _Index(key), value))
    return out


_MISSING = object()


def _set(data: Any, segments: tuple[_Segment, ...], value: Any, text: str) -> Any:
    if not segments:
        return value
    seg, rest = segments[0], segments[1:]
    if isinstance(seg, _Field):
        if data is _MISSING:
            data = {}
        elif not isinstance(data, dict):
            raise PathNotFound(text)
        copy = dict(data)
        copy[seg.name] = _set(data.get(seg.name, _MISSING), rest, value, text)
        return copy
    if isinstance(seg, _Index):
        if not isinstance(data, list) or not -len(data) <= seg.index < len(data):
            raise PathNotFound(text)
        copy_list = list(data)
        copy_list[seg.index] = _set(data[seg.index], rest, value, text)
        return copy_list
    raise PathNotFound(text)


def _normalize(seg: _Segment) -> str:
    if isinstance(seg, _Field):
        return f"['{seg.name}']"
    if isinstance(seg, _Index):
        return f"[{seg.index}]"
    if isinstance(seg, _Wildcard):
        return "[*]"
    if isinstance(seg, _Slice):
        parts = ["" if v is None else str(v) for v in (seg.start, seg.stop)]
        return f"[{parts[0]}:{parts[1]}]"
    return "[" + ",".join(f"'{k}'" if isinstance(k, str) else str(k) for k in seg.keys) + "]"


def _parse_segments(text: str, body: str) -> list[_Segment]:
    segments: list[_Segment] = []
    i, n = 0, len(body)
    while i < n:
        c = body[i]
        if c == ".":
            j = i + 1
            while j < n and body[j] not in ".[":
                j += 1
            name = body[i + 1 : j]
            if not name:
                raise PathSyntaxError(f"'{text}' is not a valid JSONPath (empty name after '.')")
            segments.append(_Wildcard() if name == "*" else _Field(name))
            i = j
        elif c == "[":
            j, inner = _bracket(text, body, i)
            segments.append(_parse_bracket(text, inner.strip()))
            i = j
        else:
            raise PathSyntaxError(f"'{text}' is not a valid JSONPath (unexpected '{c}')")
    return segments


def _bracket(text: str, body: str, start: int) -> tuple[int, str]:
    i, quote = start + 1, None
    while i < len(body):
        c = body[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif c == "]":
            return i + 1, body[start + 1 : i]
        i += 1
    raise PathSyntaxError(f"'{text}' is not a valid JSONPath (missing ']')")


def _parse_bracket(text: str, inner: str) -> _Segment:
    if inner == "*":
        return _Wildcard()
    parts = [p.strip() for p in _split_commas(inner)]
    keys: list[str | int] = []
    for part in parts:
        if len(part) >= 2 and part[0] == part[-1] and part[0] in "'\"":
            keys.append(part[1:-1].replace("\\" + part[0], part[0]))
        elif ":" in part and len(parts) == 1:
            bounds = [b.strip() for b in part.split(":")]
            if len(bounds) > 3:
                raise PathSyntaxError(f"'{text}' is not a valid JSONPath (bad slice '{part}')")
            try:
                nums = [int(b) if b else None for b in bounds] + [None] * (3 - len(bounds))
            except ValueError:
                raise PathSyntaxError(
                    f"'{text}' is not a valid JSONPath (bad slice '{part}')"
                ) from None
            return _Slice(nums[0], nums[1], nums[2])
        else:
            try:
                keys.append(int(part))
            except ValueError:
                raise PathSyntaxError(
                    f"'{text}' is not a valid JSONPath (bad index '{part}')"
                ) from None
    if len(keys) == 1:
        return _Field(keys[0]) if isinstance(keys[0], str) else _Index(keys[0])
    return _Union(tuple(keys))


def _split_commas(inner: str) -> list[str]:
    parts, quote, start = [], None, 0
    for i, c in enumerate(inner):
        if quote:
            if c == quote and inner[i - 1] != "\\":
                quote = None
        elif c in "'\"":
            quote = c
        elif c == ",":
            parts.append(inner[start:i])
            start = i + 1
    parts.append(inner[start:])
    return parts


def describe(value: Any) -> str:
    """A value as AWS quotes it in runtime error causes (strings bare, the rest as JSON)."""
    return value if isinstance(value, str) else jsontext.dumps(value)
