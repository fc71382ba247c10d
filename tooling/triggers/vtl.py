"""API Gateway's mapping templates (Velocity, VTL) for `tool serve`, on airspeed-ext (the
Velocity engine LocalStack keeps for AWS parity: undefined references print nothing, string
literals keep their backslashes, as API Gateway's Velocity does).

The variables are API Gateway's (its "mapping template reference"): `$input` (`body`,
`json(path)`, `path(path)`, `params()`, `params(name)`: path, then query string, then header),
`$util` (`escapeJavaScript`, `parseJson`, `urlEncode`, `urlDecode`, `base64Encode`,
`base64Decode`), `$context` (requestId, stage, httpMethod, resourcePath, identity.*,
authorizer.*, ...) and `$stageVariables`. Values behave as Velocity's Java objects do: strings
have Java's String methods (`replaceAll` with Java's regex and `$1` replacements, `split`
dropping trailing empty strings, ...), maps `get`, `keySet`, `size`, ..., lists `size`, `get`,
...; nothing else of Python is reachable (no `_` names, no Python methods).

A template is untrusted input, so a render is bounded: the template's size, the text any one
output or string may reach, the iterations of one `#foreach` and the blocks one render may
evaluate. A failure of any kind is a `TemplateFailure` (API Gateway answers 500 "Internal server
error"), except a body `$input.json`/`$input.path` cannot read as JSON: `BadRequestBody`
(API Gateway's 400 "Could not parse request body into json").

airspeed offers no hooks for bounds, so this module wraps four of its internals once, at import
(`_install_bounds`): attribute lookup (the allow-list above), text streams (the output bound),
block evaluation (the loop and step bounds) and the `+`/`*` operators (string growth).
"""

from __future__ import annotations

import base64
import binascii
import contextvars
import json
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import quote_plus, unquote_plus

import airspeed  # type: ignore[import-untyped]  # airspeed-ext ships no types
import regex
from airspeed import operators

from tooling.engine.jsonpath import JsonPath, PathNotFound, PathSyntaxError

# API Gateway's quota for one mapping template is 300 KB (not confirmed: docs/engine.md).
MAX_TEMPLATE_CHARS = 300 * 1024
# No text a template makes (its output, a string it builds) passes API Gateway's 10 MB payload.
MAX_TEXT_CHARS = 10 * 1024 * 1024
# Iterations of one #foreach (API Gateway's limit, 1,000: not confirmed) and blocks (loop
# bodies, branches, macro bodies) one render may evaluate: nested loops stay bounded.
MAX_LOOP_ITERATIONS = 1000
MAX_BLOCKS = 100_000
REGEX_SECONDS = 1.0  # one use of a template's regex (matches, replaceAll, split)


class TemplateFailure(Exception):
    """The template could not be rendered: API Gateway answers 500."""


class BadRequestBody(Exception):
    """`$input.json`/`$input.path` on a body that is not JSON: API Gateway answers 400."""


@dataclass
class TemplateInput:
    """What a template sees: the payload (the request's body, or the integration's answer for a
    response template), the method request's parameters and the context."""

    body: str = ""
    path_params: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)  # names as sent
    # A body that is not JSON is an error for a JSON content type, its own text for another
    # (what Serverless' form template reads with `$input.path('$')`).
    json_body: bool = True
    context: Mapping[str, Any] = field(default_factory=dict)
    stage_variables: Mapping[str, str] = field(default_factory=dict)


@dataclass
class ResponseOverride:
    """What a response template set in `$context.responseOverride` (`status`, `header.<name>`):
    API Gateway answers with them instead of the integration response's."""

    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)


def render(template: str, given: TemplateInput, override: ResponseOverride | None = None) -> str:
    """The template's output for `given`; for a response template, `override` receives what it
    set in `$context.responseOverride`."""
    if len(template) > MAX_TEMPLATE_CHARS:
        raise TemplateFailure(
            f"the template has {len(template)} characters, over API Gateway's "
            f"{MAX_TEMPLATE_CHARS} (300 KB)"
        )
    try:
        compiled = _compile(template)
    except RecursionError:
        raise TemplateFailure("the template nests too deeply") from None
    except Exception as exc:  # airspeed's syntax errors
        raise TemplateFailure(f"template syntax: {_first_line(exc)}") from None
    context = dict(given.context)
    overrides: dict[str, Any] = {"status": None, "header": {}}
    if override is not None:
        context["responseOverride"] = overrides
    namespace = {
        "input": _Input(given),
        "util": _Util(),
        "context": context,
        "stageVariables": dict(given.stage_variables),
    }
    with _budget():
        try:
            output = str(compiled.merge(namespace))
        except RecursionError:
            raise TemplateFailure("the template recurses too deeply") from None
        except Exception as exc:
            cause = _root_cause(exc)
            if isinstance(cause, BadRequestBody):
                raise cause from None
            if isinstance(cause, TemplateFailure):
                raise cause from None
            raise TemplateFailure(f"{type(cause).__name__}: {_first_line(cause)}") from None
    if override is not None:
        _read_override(overrides, override)
    return output


def _read_override(overrides: Mapping[str, Any], into: ResponseOverride) -> None:
    status = overrides.get("status")
    try:
        code = int(status) if status is not None and not isinstance(status, bool) else None
    except (TypeError, ValueError):
        code = None
    if code is not None and not 100 <= code <= 599:
        raise TemplateFailure(f"$context.responseOverride.status {status!r} is not a status code")
    into.status = code
    headers = overrides.get("header")
    if isinstance(headers, Mapping):
        into.headers = {str(k): _text(v) for k, v in headers.items() if v is not None}


@lru_cache(maxsize=64)
def _compile(template: str) -> Any:
    compiled = airspeed.Template(template)
    compiled.ensure_compiled()
    return compiled


def _root_cause(exc: BaseException) -> BaseException:
    seen = 0
    while exc.__cause__ is not None and seen < 50:
        exc = exc.__cause__
        seen += 1
    return exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


# -- $input ---------------------------------------------------------------------------------


class _Input:
    """`$input`: the payload and the method request's parameters."""

    def __init__(self, given: TemplateInput) -> None:
        self.body = given.body
        self._given = given
        self._parsed: Any = None
        self._was_parsed = False

    def _data(self) -> Any:
        if not self._was_parsed:
            text = self.body
            try:
                self._parsed = json.loads(text) if text.strip() else {}
            except ValueError as exc:
                if self._given.json_body:
                    message = f"Could not parse request body into json: {exc}"
                    raise BadRequestBody(message) from None
                self._parsed = text
            self._was_parsed = True
        return self._parsed

    def path(self, expression: Any) -> Any:
        """The value the JSONPath selects (null when nothing is there)."""
        try:
            compiled = JsonPath(str(expression))
        except PathSyntaxError as exc:
            raise TemplateFailure(f"$input.path: {exc}") from None
        try:
            return compiled.find(self._data())
        except PathNotFound:
            return None

    def json(self, expression: Any) -> str:
        """The value the JSONPath selects, as JSON text ("" when nothing is there)."""
        value = self.path(expression)
        if value is None:
            return ""
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    def params(self, name: Any = None) -> Any:
        given = self._given
        if name is None:
            return {
                "path": dict(given.path_params),
                "querystring": dict(given.query),
                "header": dict(given.headers),
            }
        key = str(name)
        if key in given.path_params:
            return given.path_params[key]
        if key in given.query:
            return given.query[key]
        lowered = key.lower()
        for header, value in given.headers.items():
            if header.lower() == lowered:
                return value
        return ""


# -- $util ----------------------------------------------------------------------------------

_JS_ESCAPES = {'"': '\\"', "'": "\\'", "\\": "\\\\", "/": "\\/", "\b": "\\b", "\f": "\\f",
               "\n": "\\n", "\r": "\\r", "\t": "\\t"}  # fmt: skip


class _Util:
    """`$util`."""

    def escapeJavaScript(self, value: Any) -> str:  # noqa: N802 - API Gateway's name
        """As Apache Commons Lang's StringEscapeUtils.escapeJavaScript (API Gateway's): quotes,
        backslash, slash and control characters escaped, anything past ASCII as \\uXXXX."""
        if value is None:
            return ""
        out = []
        for char in _text(value):
            escaped = _JS_ESCAPES.get(char)
            if escaped is not None:
                out.append(escaped)
            elif ord(char) < 32 or ord(char) > 0x7E:
                out.extend(f"\\u{unit:04X}" for unit in _utf16(char))
            else:
                out.append(char)
        return "".join(out)

    def parseJson(self, value: Any) -> Any:  # noqa: N802
        try:
            return json.loads(_text(value))
        except ValueError as exc:
            raise TemplateFailure(f"$util.parseJson: not JSON: {exc}") from None

    def urlEncode(self, value: Any) -> str:  # noqa: N802
        """Java's URLEncoder (UTF-8): letters, digits and `.-*_` kept, space as `+`."""
        return quote_plus(_text(value), safe="*").replace("~", "%7E")

    def urlDecode(self, value: Any) -> str:  # noqa: N802
        return unquote_plus(_text(value))

    def base64Encode(self, value: Any) -> str:  # noqa: N802
        return base64.b64encode(_text(value).encode("utf-8")).decode("ascii")

    def base64Decode(self, value: Any) -> str:  # noqa: N802
        try:
            return base64.b64decode(_text(value), validate=True).decode("utf-8", "replace")
        except (binascii.Error, ValueError) as exc:
            raise TemplateFailure(f"$util.base64Decode: {exc}") from None


def _utf16(char: str) -> list[int]:
    data = char.encode("utf-16-be")
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


def _text(value: Any) -> str:
    """A value as Velocity prints it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_text(v) for v in value) + "]"
    return str(value)


# -- Java's methods on strings, maps and lists -------------------------------------------------


def _java_regex(pattern: Any) -> regex.Pattern[str]:
    """A template's regex (the `regex` module: Python's syntax, with a time bound per use, so a
    pattern that backtracks without end on a request's text fails the template instead)."""
    try:
        return regex.compile(_text(pattern))
    except regex.error as exc:
        raise TemplateFailure(f"bad regular expression {pattern!r}: {exc}") from None


def _timed(use: Callable[[], Any]) -> Any:
    try:
        return use()
    except TimeoutError:
        raise TemplateFailure(f"a regular expression ran over {REGEX_SECONDS} s") from None


def _java_replacement(replacement: Any) -> Callable[[regex.Match[str]], str]:
    """Java's Matcher replacement: `$n` is group n, a backslash quotes the next character."""
    text = _text(replacement)

    def expand(match: regex.Match[str]) -> str:
        out, i = [], 0
        while i < len(text):
            char = text[i]
            if char == "\\" and i + 1 < len(text):
                out.append(text[i + 1])
                i += 2
            elif char == "$" and i + 1 < len(text) and text[i + 1].isdigit():
                out.append(match.group(int(text[i + 1])) or "")
                i += 2
            else:
                out.append(char)
                i += 1
        return "".join(out)

    return expand


def _replace_all(value: str, pattern: Any, replacement: Any, count: int = 0) -> str:
    expand = _java_replacement(replacement)
    size = len(value)

    def bounded(match: regex.Match[str]) -> str:
        nonlocal size
        piece = expand(match)
        size += len(piece) - (match.end() - match.start())
        if size > MAX_TEXT_CHARS:
            raise TemplateFailure(f"a string grew past {MAX_TEXT_CHARS} characters")
        return piece

    compiled = _java_regex(pattern)
    return str(_timed(lambda: compiled.sub(bounded, value, count=count, timeout=REGEX_SECONDS)))


def _replace_literal(value: str, old: Any, new: Any) -> str:
    """Java's String.replace: every occurrence of the text, no regex."""
    quoted = _text(new).replace("\\", "\\\\").replace("$", "\\$")
    return _replace_all(value, re.escape(_text(old)), quoted)


def _split(value: str, pattern: Any, limit: int = 0) -> list[str]:
    """Java's String.split: a regex; trailing empty strings dropped when limit is 0."""
    compiled = _java_regex(pattern)
    most = max(limit - 1, 0) if limit > 0 else 0
    parts: list[str] = _timed(lambda: compiled.split(value, maxsplit=most, timeout=REGEX_SECONDS))
    if limit == 0:
        while parts and parts[-1] == "":
            parts.pop()
    return parts


def _index_of(value: Any, item: Any, start: int = 0) -> int:
    if isinstance(value, str):
        return value.find(_text(item), start)
    try:
        return list(value).index(item)
    except ValueError:
        return -1


def _concat(value: str, other: Any) -> str:
    _check_size(len(value) + len(_text(other)))
    return value + _text(other)


STRING_METHODS: dict[str, Callable[..., Any]] = {
    "length": len,
    "isEmpty": lambda s: not s,
    "equals": lambda s, o: s == o,
    "equalsIgnoreCase": lambda s, o: isinstance(o, str) and s.lower() == o.lower(),
    "contains": lambda s, o: _text(o) in s,
    "startsWith": lambda s, o: s.startswith(_text(o)),
    "endsWith": lambda s, o: s.endswith(_text(o)),
    "indexOf": _index_of,
    "lastIndexOf": lambda s, o: s.rfind(_text(o)),
    "substring": lambda s, start, end=None: s[start:end],
    "charAt": lambda s, i: s[i],
    "replace": lambda s, old, new: _replace_literal(s, old, new),
    "replaceAll": _replace_all,
    "replaceFirst": lambda s, p, r: _replace_all(s, p, r, count=1),
    "matches": lambda s, p: (
        _timed(lambda: _java_regex(p).fullmatch(s, timeout=REGEX_SECONDS)) is not None
    ),
    "split": _split,
    "toLowerCase": lambda s: s.lower(),
    "toUpperCase": lambda s: s.upper(),
    "trim": lambda s: s.strip(" \t\n\r\x0b\x0c\x00"),
    "concat": _concat,
    "toString": lambda s: s,
}
MAP_METHODS: dict[str, Callable[..., Any]] = {
    "get": lambda m, k: m.get(k),
    "containsKey": lambda m, k: k in m,
    "containsValue": lambda m, v: v in m.values(),
    "keySet": lambda m: list(m.keys()),
    "values": lambda m: list(m.values()),
    "entrySet": lambda m: [{"key": k, "value": v} for k, v in m.items()],
    "size": len,
    "isEmpty": lambda m: not m,
    "put": lambda m, k, v: m.__setitem__(k, v),
    "remove": lambda m, k: m.pop(k, None),
    "toString": _text,
}
LIST_METHODS: dict[str, Callable[..., Any]] = {
    "size": len,
    "get": lambda items, i: items[i],
    "isEmpty": lambda items: not items,
    "contains": lambda items, v: v in items,
    "indexOf": _index_of,
    "add": lambda items, v: _add(items, v),
    "toString": _text,
}
NUMBER_METHODS: dict[str, Callable[..., Any]] = {
    "toString": _text,
    "intValue": int,
    "longValue": int,
    "doubleValue": float,
}


def _add(items: list[Any], value: Any) -> bool:
    if len(items) >= MAX_TEXT_CHARS:
        raise TemplateFailure("a list grew too long")
    items.append(value)
    return True


class _JavaView:
    """What a template may reach on a plain value: map keys and Java's methods, nothing of
    Python's (which would reach its internals: `format`, `__class__`, ...)."""

    __slots__ = ("target",)

    def __init__(self, target: Any) -> None:
        self.target = target

    def __getitem__(self, name: str) -> Any:
        if isinstance(self.target, dict):
            return self.target[name]
        raise TypeError(name)

    def __getattr__(self, name: str) -> Any:
        target = self.target
        if isinstance(target, str):
            methods = STRING_METHODS
        elif isinstance(target, dict):
            methods = MAP_METHODS
        elif isinstance(target, list | tuple | range):
            methods = LIST_METHODS
        else:
            methods = NUMBER_METHODS
        method = methods.get(name)
        if method is None:
            raise AttributeError(name)
        return lambda *args: method(target, *args)


_PLAIN = (str, int, float, dict, list, tuple, range)


# -- bounds ---------------------------------------------------------------------------------


@dataclass
class _Budget:
    blocks: int = 0


_BUDGET: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar("vtl_budget", default=None)


@contextmanager
def _budget() -> Iterator[_Budget]:
    budget = _Budget()
    token = _BUDGET.set(budget)
    try:
        yield budget
    finally:
        _BUDGET.reset(token)


def _check_size(size: int) -> None:
    if size > MAX_TEXT_CHARS:
        raise TemplateFailure(f"the template's text grew past {MAX_TEXT_CHARS} characters")


def _install_bounds() -> None:
    if getattr(operators, "_tool_bounded", False):
        return
    original_lookup = operators.NameOrCall.calculate

    def lookup(self: Any, current: Any, loader: Any, top: Any) -> Any:
        if self.name.startswith("_"):
            return None
        if isinstance(current, _PLAIN) and not isinstance(current, operators.LocalNamespace):
            current = _JavaView(current)
        return original_lookup(self, current, loader, top)

    original_write = operators.StoppableStream.write

    def write(self: Any, text: str) -> None:
        _check_size(self.tell() + len(text))
        original_write(self, text)

    original_block = operators.Block.evaluate_raw

    def block(self: Any, stream: Any, namespace: Any, loader: Any) -> None:
        budget = _BUDGET.get()
        if budget is not None:
            budget.blocks += 1
            if budget.blocks > MAX_BLOCKS:
                raise TemplateFailure(f"the template evaluated over {MAX_BLOCKS} blocks")
            loop = dict.get(namespace, "foreach") if isinstance(namespace, dict) else None
            if isinstance(loop, dict) and int(loop.get("count", 0)) > MAX_LOOP_ITERATIONS:
                raise TemplateFailure(f"a #foreach ran over {MAX_LOOP_ITERATIONS} iterations")
        original_block(self, stream, namespace, loader)

    def add(left: Any, right: Any) -> Any:
        if isinstance(left, str) or isinstance(right, str):
            _check_size(len(_text(left)) + len(_text(right)))
            return _text(left) + _text(right)  # Velocity joins a string and a number
        return left + right

    def multiply(left: Any, right: Any) -> Any:
        if not isinstance(left, int | float) or not isinstance(right, int | float):
            raise TemplateFailure("`*` takes numbers")
        return left * right

    operators.NameOrCall.calculate = lookup
    operators.StoppableStream.write = write
    operators.Block.evaluate_raw = block
    operators.BinaryOperator.OPERATORS["+"] = add
    operators.BinaryOperator.OPERATORS["*"] = multiply
    operators.value_to_string = lambda value: "null" if value is None else _text(value)
    operators._tool_bounded = True


_install_bounds()
