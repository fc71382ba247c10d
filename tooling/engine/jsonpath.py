"""JSONPath as Step Functions reads it: one grammar, parsed once, evaluated many times.

`parse_path` is the grammar (also what `tool validate` checks): a *Path* may use wildcards,
slices, unions, filters and `..`; a *Reference Path* names one node (`.name`, `['name']`,
`[index]` only). `$$` starts a context-object path, `$name` a path on a workflow variable.

`JsonPath` compiles a parsed path for evaluation. Definite paths ($.a.b, $.a[0], $['a']) give
one value and fail when nothing is there; indefinite ones give a list, empty when nothing
matches, as the Jayway library AWS uses does. Simple segments are walked here directly; filters
and recursive descent go to jsonpath-ng, parsed once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tooling.engine import jsontext


class PathNotFound(Exception):
    """A definite path selected nothing."""


class PathSyntaxError(ValueError):
    """The text is not a JSONPath. `reason` says why; `position` is the 0-based index of the
    offending character when one is to blame."""

    def __init__(self, text: str, reason: str, position: int | None = None) -> None:
        super().__init__(f"'{text}' is not a JSONPath: {reason}")
        self.text = text
        self.reason = reason
        self.position = position


@dataclass(frozen=True, slots=True)
class _Field:
    name: str


@dataclass(frozen=True, slots=True)
class _Index:
    index: int


@dataclass(frozen=True, slots=True)
class _Wildcard:
    pass


@dataclass(frozen=True, slots=True)
class _Slice:
    start: int | None
    stop: int | None
    step: int | None


@dataclass(frozen=True, slots=True)
class _Union:
    keys: tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class _Descent:
    """`..`: the next segment applies at every depth."""


@dataclass(frozen=True, slots=True)
class _Filter:
    expression: str  # "?(...)"


@dataclass(frozen=True, slots=True)
class _Script:
    expression: str  # "(...)", e.g. (@.length-1)


_Simple = _Field | _Index | _Wildcard | _Slice | _Union  # what JsonPath walks itself
_Segment = _Simple | _Descent | _Filter | _Script

_VARIABLE_HEAD = re.compile(r"\$([^\W\d]\w*)")
_INDEX = re.compile(r"-?\d+")
_SLICE = re.compile(r"(?:-?\d+)?\s*:\s*(?:-?\d+)?(?:\s*:\s*(?:-?\d+)?)?")
_QUOTED = re.compile(r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*\"""")
_BAD_NAME_CHARS = frozenset(" ]'\"()?")


@dataclass(frozen=True, slots=True)
class ParsedPath:
    """A syntactically valid path: where it reads from and its segments."""

    text: str
    context: bool  # $$...
    variable: str | None  # $name...: a workflow variable
    segments: tuple[_Segment, ...]
    body: str  # the text after the head ($, $$ or $name)

    @property
    def reference(self) -> bool:
        """Only single-node segments (.name, ['name'], [index])."""
        return all(type(s) is _Field or type(s) is _Index for s in self.segments)

    @property
    def needs_query_engine(self) -> bool:
        """Filters and `..` are evaluated by jsonpath-ng."""
        return any(type(s) is _Descent or type(s) is _Filter for s in self.segments)


def parse_path(text: object) -> ParsedPath:
    """Parse `text`; raise PathSyntaxError saying why when it is not a JSONPath."""
    if not isinstance(text, str) or not text.startswith("$"):
        raise PathSyntaxError(str(text), "a path must start with '$'", 0)
    context = text.startswith("$$")
    variable = None
    i = 2 if context else 1
    if not context:
        match = _VARIABLE_HEAD.match(text)
        if match:
            variable = match.group(1)
            i = match.end()
    head = i
    segments: list[_Segment] = []
    n = len(text)
    while i < n:
        c = text[i]
        if c == ".":
            if text.startswith("..", i):
                segments.append(_Descent())
                i += 2
                if i >= n:
                    raise PathSyntaxError(text, "'..' must be followed by a name", i)
                if text[i] == "[":
                    continue
            else:
                i += 1
            j = i
            while j < n and text[j] not in ".[":
                j += 1
            name = text[i:j]
            if not name:
                raise PathSyntaxError(text, f"empty name after '.' at character {i}", i)
            if name == "*":
                segments.append(_Wildcard())
            elif not _BAD_NAME_CHARS.isdisjoint(name):
                raise PathSyntaxError(
                    text, f"'{name}' is not a valid name; quote it as ['{name}']", i
                )
            else:
                segments.append(_Field(name))
            i = j
        elif c == "[":
            end = _bracket_end(text, i)
            segments.append(_bracket_segment(text, text[i + 1 : end].strip(), i))
            i = end + 1
        else:
            raise PathSyntaxError(text, f"unexpected '{c}' at character {i + 1}", i)
    return ParsedPath(text, context, variable, tuple(segments), text[head:])


def _bracket_segment(text: str, inner: str, at: int) -> _Segment:
    if not inner:
        raise PathSyntaxError(text, f"empty brackets at character {at + 1}", at)
    if inner == "*":
        return _Wildcard()
    if inner.startswith("?"):
        _check_filter(text, inner, at)
        return _Filter(inner)
    if inner.startswith("("):
        _check_balanced(text, inner, at)
        return _Script(inner)
    if _INDEX.fullmatch(inner):
        return _Index(int(inner))
    if _QUOTED.fullmatch(inner):
        return _Field(_unquote(inner))
    if _SLICE.fullmatch(inner):
        bounds = [b.strip() for b in inner.split(":")] + [""]
        start, stop, step = (int(b) if b else None for b in bounds[:3])
        return _Slice(start, stop, step)
    parts = [p.strip() for p in _split_commas(inner)]
    if all(_INDEX.fullmatch(p) or _QUOTED.fullmatch(p) for p in parts):
        return _Union(tuple(_unquote(p) if p[0] in "'\"" else int(p) for p in parts))
    raise PathSyntaxError(text, f"'[{inner}]' is not a valid index, name, slice or filter", at)


def _unquote(quoted: str) -> str:
    return quoted[1:-1].replace("\\" + quoted[0], quoted[0])


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
    raise PathSyntaxError(text, f"'[' at character {start + 1} is never closed", start)


def _check_filter(text: str, inner: str, at: int) -> None:
    body = inner[1:].strip()
    if not (body.startswith("(") and body.endswith(")")):
        raise PathSyntaxError(text, f"the filter '[{inner}]' must be written [?(...)]", at)
    if not body[1:-1].strip():
        raise PathSyntaxError(text, f"the filter '[{inner}]' is empty", at)
    _check_balanced(text, body, at)


def _check_balanced(text: str, expression: str, at: int) -> None:
    depth, quote = 0, ""
    for c in expression:
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
                raise PathSyntaxError(text, f"unbalanced ')' in '{expression}'", at)
    if depth or quote:
        raise PathSyntaxError(text, f"unbalanced parentheses or quotes in '{expression}'", at)


def _split_commas(inner: str) -> list[str]:
    parts, quote, start = [], "", 0
    for i, c in enumerate(inner):
        if quote:
            if c == quote and inner[i - 1] != "\\":
                quote = ""
        elif c in "'\"":
            quote = c
        elif c == ",":
            parts.append(inner[start:i])
            start = i + 1
    parts.append(inner[start:])
    return parts


class UndefinedVariable(PathNotFound):
    """A `$name` path read a variable that no state has assigned."""


class JsonPath:
    """A compiled path. `context` paths ($$...) read the context object instead of the input;
    variable paths ($name...) read the variable `name` (Assign)."""

    __slots__ = ("text", "context", "variable", "definite", "_segments", "_ng", "normalized")

    def __init__(self, text: str | ParsedPath) -> None:
        parsed = text if isinstance(text, ParsedPath) else parse_path(text)
        self.text = parsed.text
        self.context = parsed.context
        self.variable = parsed.variable
        self._ng = None
        self._segments: tuple[_Simple, ...] = ()
        if parsed.needs_query_engine:
            from jsonpath_ng.ext.parser import parse as _ng_parse  # slow to import: when needed

            try:
                self._ng = _ng_parse("$" + parsed.body)
            except Exception as exc:  # jsonpath-ng raises several types for bad syntax
                raise PathSyntaxError(self.text, f"not supported by the engine: {exc}") from None
            self.definite = False
        else:
            for seg in parsed.segments:
                if type(seg) is _Script:
                    # jsonpath-ng has no script expressions; AWS's Jayway does (not verified).
                    raise PathSyntaxError(
                        self.text,
                        f"script expressions such as '[{seg.expression}]' are not supported "
                        "by the local engine",
                    )
            self._segments = parsed.segments  # type: ignore[assignment]  # no ..,filter,script
            self.definite = parsed.reference
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
                    # A definite path holds only _Field and _Index segments (set in __init__).
                    if not isinstance(data, list) or not -len(data) <= seg.index < len(data):  # type: ignore[union-attr]
                        raise PathNotFound(self.text)
                    data = data[seg.index]  # type: ignore[union-attr]  # an _Index, as above
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


def _step(seg: _Simple, value: Any) -> list[Any]:
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


def _set(data: Any, segments: tuple[_Simple, ...], value: Any, text: str) -> Any:
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


def _normalize(seg: _Simple) -> str:
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


def describe(value: Any) -> str:
    """A value as AWS quotes it in runtime error causes (strings bare, the rest as JSON)."""
    return value if isinstance(value, str) else jsontext.dumps(value)
