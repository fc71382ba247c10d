"""Intrinsic functions: every States.* function of the Amazon States Language.

`parse_intrinsic` is the one parser (the engine evaluates its tree; `tool validate` checks it
statically); `RULES` is the one table of names, arity and argument types both use. A call's
arguments are literals, paths or nested calls.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import random
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tooling.engine import jsontext
from tooling.engine.errors import INTRINSIC_FAILURE, StateRuntimeError
from tooling.engine.jsonpath import (
    JsonPath,
    ParsedPath,
    PathNotFound,
    PathSyntaxError,
    parse_path,
)

# Escaped braces in string literals must stay literal in States.Format: mark them while parsing.
_OPEN, _CLOSE = "\ue000", "\ue001"
_NAME = re.compile(r"States\.[A-Za-z0-9]+")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
_INTEGER = re.compile(r"-?\d+")


class IntrinsicSyntaxError(ValueError):
    """The text is not a valid call. `reason` says why, `position` is the 0-based index where
    parsing stopped; `unknown_name` is set when the only fault is a function that does not exist."""

    def __init__(
        self, text: str, reason: str, position: int, unknown_name: str | None = None
    ) -> None:
        if unknown_name:
            message = f"{unknown_name} is not an intrinsic function (known: {', '.join(RULES)})"
        else:
            message = f"{reason} in '{text}'"
        super().__init__(message)
        self.text = text
        self.reason = reason
        self.position = position
        self.unknown_name = unknown_name


@dataclass(frozen=True, slots=True)
class Literal:
    value: Any  # strings keep escaped braces marked; see literal_text
    source: str  # as written (strings: between the quotes, escapes kept)
    position: int


@dataclass(frozen=True, slots=True)
class PathArgument:
    path: ParsedPath
    position: int
    compiled: JsonPath | None  # None when parsed for static checks only


@dataclass(frozen=True, slots=True)
class IntrinsicCall:
    name: str
    args: tuple[Literal | PathArgument | IntrinsicCall, ...]
    text: str
    position: int
    rule: IntrinsicRule = field(repr=False, compare=False)

    def evaluate(self, data: Any, context: Any) -> Any:
        values = [_arg_value(a, data, context, self.text) for a in self.args]
        return self.rule.apply(self.rule.checked(values, self.text), self.args, self.text)


Argument = Literal | PathArgument | IntrinsicCall


def _arg_value(arg: Argument, data: Any, context: Any, text: str) -> Any:
    if isinstance(arg, Literal):
        return literal_text(arg.value) if isinstance(arg.value, str) else arg.value
    if isinstance(arg, PathArgument):
        assert arg.compiled is not None, "parsed with compile_paths=False"
        try:
            return arg.compiled.read(data, context)
        except PathNotFound:
            raise StateRuntimeError(
                f"The JSONPath {arg.path.text} specified in the intrinsic function {text} "
                "could not be found in the input.",
                error=INTRINSIC_FAILURE,
            ) from None
    return arg.evaluate(data, context)


def literal_text(text: str) -> str:
    """A string literal's value with its escaped braces restored."""
    return text.replace(_OPEN, "{").replace(_CLOSE, "}")


def parse_intrinsic(text: str, *, compile_paths: bool = True) -> IntrinsicCall:
    """Parse a call such as States.Format('{}', $.a). Names must exist; arity and argument
    types are checked when the call is evaluated (`RULES`). `compile_paths=False` skips
    compiling path arguments for evaluation (syntax is still checked)."""
    parser = _Parser(text, compile_paths)
    call = parser.call()
    parser.skip_ws()
    if parser.i != len(text):
        raise parser.fail("unexpected text after the call")
    return call


class _Parser:
    def __init__(self, text: str, compile_paths: bool) -> None:
        self.text = text
        self.i = 0
        self.compile_paths = compile_paths

    def fail(self, reason: str) -> IntrinsicSyntaxError:
        return IntrinsicSyntaxError(self.text, reason, self.i)

    def skip_ws(self) -> None:
        while self.i < len(self.text) and self.text[self.i] in " \t":
            self.i += 1

    def peek(self) -> str:
        return self.text[self.i] if self.i < len(self.text) else ""

    def call(self) -> IntrinsicCall:
        start = self.i
        match = _NAME.match(self.text, self.i)
        if not match:
            raise self.fail(f"expected a function name at character {self.i + 1}")
        name = match.group()
        self.i = match.end()
        self.skip_ws()
        if self.peek() != "(":
            raise self.fail(f"expected '(' after {name}")
        if name not in RULES:
            raise IntrinsicSyntaxError(self.text, "unknown function", start, unknown_name=name)
        self.i += 1
        args: list[Argument] = []
        self.skip_ws()
        if self.peek() == ")":
            self.i += 1
            return IntrinsicCall(name, (), self.text[start : self.i], start, RULES[name])
        while True:
            self.skip_ws()
            args.append(self.arg())
            self.skip_ws()
            c = self.peek()
            if c == ")":
                self.i += 1
                return IntrinsicCall(
                    name, tuple(args), self.text[start : self.i], start, RULES[name]
                )
            if c != ",":
                raise self.fail("expected ',' or ')'" if c else "missing ')'")
            self.i += 1

    def arg(self) -> Argument:
        start = self.i
        c = self.peek()
        if c == "'":
            value = self.string()
            return Literal(value, self.text[start + 1 : self.i - 1], start)
        if c == "$":
            return self.path()
        if self.text.startswith("States.", self.i):
            return self.call()
        for word, constant in (("true", True), ("false", False), ("null", None)):
            if self.text.startswith(word, self.i):
                self.i += len(word)
                return Literal(constant, word, start)
        match = _NUMBER.match(self.text, self.i)
        if match:
            self.i = match.end()
            number = match.group()
            return Literal(
                int(number) if _INTEGER.fullmatch(number) else float(number), number, start
            )
        raise self.fail(f"unexpected argument at character {self.i + 1}")

    def string(self) -> str:
        out: list[str] = []
        self.i += 1
        while self.i < len(self.text):
            c = self.text[self.i]
            if c == "\\" and self.i + 1 < len(self.text):
                nxt = self.text[self.i + 1]
                out.append({"{": _OPEN, "}": _CLOSE}.get(nxt, nxt))
                self.i += 2
                continue
            if c == "'":
                self.i += 1
                return "".join(out)
            out.append(c)
            self.i += 1
        raise self.fail("unterminated string")

    def path(self) -> PathArgument:
        start, depth, quote = self.i, 0, ""
        while self.i < len(self.text):
            c = self.text[self.i]
            if quote:
                if c == quote:
                    quote = ""
            elif c in "'\"" and depth:
                quote = c
            elif c == "[":
                depth += 1
            elif c == "]":
                depth -= 1
            elif c in ",)" and depth == 0:
                break
            self.i += 1
        text = self.text[start : self.i].strip()
        try:
            parsed = parse_path(text)
            return PathArgument(parsed, start, JsonPath(parsed) if self.compile_paths else None)
        except PathSyntaxError as exc:
            self.i = start
            raise self.fail(f"'{text}' is not a valid path ({exc.reason})") from None


def _fail(message: str) -> StateRuntimeError:
    return StateRuntimeError(message, error=INTRINSIC_FAILURE)


# Argument rules follow the AWS guide ("Intrinsic functions"); the corpus records no failing
# calls, so the failure messages below are not AWS's exact wording.

Apply = Callable[[list[Any], tuple[Argument, ...], str], Any]


@dataclass(frozen=True, slots=True)
class IntrinsicRule:
    """How many arguments a function takes and of which type ("string", "integer", "number",
    "boolean", "array", "object", or None for any), by position; later positions take any."""

    minimum: int
    maximum: int | None  # None: no limit
    arg_types: tuple[str | None, ...]
    apply: Apply

    def checked(self, values: list[Any], text: str) -> list[Any]:
        """`values`, changed in place, once their count and types are right (integral floats
        become ints)."""
        count = len(values)
        if count < self.minimum or (self.maximum is not None and count > self.maximum):
            raise _fail(f"{text} takes {self.wanted()} argument(s) but was given {count}.")
        for index, kind in enumerate(self.arg_types):
            if index == count:
                break
            if kind is None:
                continue
            value = values[index]
            if not _CHECKS[kind](value):
                raise _fail(
                    f"The argument {index + 1} of {text} must be "
                    f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}, "
                    f"but was: {jsontext.dumps(value)}"
                )
            if kind == "integer" and type(value) is not int:
                values[index] = _as_int(value)
        return values

    def wanted(self) -> str:
        if self.maximum is None:
            return f"at least {self.minimum}"
        if self.minimum == self.maximum:
            return str(self.minimum)
        return f"{self.minimum} to {self.maximum}"


_CHECKS: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "boolean": lambda v: isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "integer": lambda v: _as_int(v) is not None,
}


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _java_text(value: Any) -> str:
    """How States.Format writes a non-string argument: Java's toString of the JSON value
    (recorded on AWS: {"Arg1": 1, "Arg2": []} is written {Arg1=1, Arg2=[]})."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_java_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_java_text(v) for v in value) + "]"
    return jsontext.dumps(value)


def _format(values: list[Any], args: tuple[Argument, ...], text: str) -> str:
    first = args[0]
    template = first.value if isinstance(first, Literal) else values[0]
    pieces = template.split("{}")
    if len(pieces) - 1 != len(values) - 1:
        raise _fail(f"Number of arguments in {text} do not match the occurrences of {{}}")
    out = [pieces[0]]
    for value, piece in zip(values[1:], pieces[1:], strict=True):
        out.append(_java_text(value))
        out.append(piece)
    return literal_text("".join(out))


def _string_to_json(values: list[Any], args: tuple[Argument, ...], text: str) -> Any:
    try:
        return json.loads(values[0]) if values[0].strip() else None
    except json.JSONDecodeError:
        raise _fail(f"The argument of {text} is not valid JSON: {values[0]}") from None


def _json_to_string(values: list[Any], args: tuple[Argument, ...], text: str) -> str:
    return jsontext.dumps(values[0])


def _array(values: list[Any], args: tuple[Argument, ...], text: str) -> list[Any]:
    return values


def _array_partition(values: list[Any], args: tuple[Argument, ...], text: str) -> list[Any]:
    array, size = values
    if size <= 0:
        raise _fail(f"The chunk size of {text} must be greater than 0, but was {size}.")
    return [array[i : i + size] for i in range(0, len(array), size)]


def _array_contains(values: list[Any], args: tuple[Argument, ...], text: str) -> bool:
    return any(_same(item, values[1]) for item in values[0])


def _same(a: Any, b: Any) -> bool:
    """JSON equality (true is not 1; 1 is 1.0)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return (
        type(a) is type(b)
        and a == b
        or (isinstance(a, int | float) and isinstance(b, int | float) and a == b)
    )


def _array_range(values: list[Any], args: tuple[Argument, ...], text: str) -> list[int]:
    start, end, step = values
    if step == 0:
        raise _fail(f"The step of {text} cannot be 0.")
    out = list(range(start, end + (1 if step > 0 else -1), step))
    if len(out) > 1000:
        raise _fail(f"{text} cannot produce more than 1000 items.")
    return out


def _array_get_item(values: list[Any], args: tuple[Argument, ...], text: str) -> Any:
    array, index = values
    if not 0 <= index < len(array):
        raise _fail(f"The index {index} is out of bounds for {text}.")
    return array[index]


def _array_length(values: list[Any], args: tuple[Argument, ...], text: str) -> int:
    return len(values[0])


def _array_unique(values: list[Any], args: tuple[Argument, ...], text: str) -> list[Any]:
    out: list[Any] = []
    for item in values[0]:
        if not any(_same(item, seen) for seen in out):
            out.append(item)
    return out


_MAX_TEXT = 10000  # Base64 and Hash take at most 10,000 characters (AWS guide)


def _limited(value: str, text: str) -> str:
    if len(value) > _MAX_TEXT:
        raise _fail(f"The input of {text} is longer than {_MAX_TEXT} characters.")
    return value


def _base64_encode(values: list[Any], args: tuple[Argument, ...], text: str) -> str:
    return base64.b64encode(_limited(values[0], text).encode()).decode("ascii")


def _base64_decode(values: list[Any], args: tuple[Argument, ...], text: str) -> str:
    try:
        return base64.b64decode(_limited(values[0], text), validate=True).decode()
    except (ValueError, binascii.Error):
        raise _fail(f"The argument of {text} is not valid Base64.") from None


_HASHES = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384"}
_HASHES["SHA-512"] = "sha512"
HASH_ALGORITHMS = tuple(_HASHES)


def _hash(values: list[Any], args: tuple[Argument, ...], text: str) -> str:
    data = _limited(values[0], text)
    algorithm = values[1]
    if algorithm not in _HASHES:
        raise _fail(f"The hash algorithm of {text} must be one of {', '.join(_HASHES)}.")
    return hashlib.new(_HASHES[algorithm], data.encode()).hexdigest()


def _json_merge(values: list[Any], args: tuple[Argument, ...], text: str) -> dict[str, Any]:
    first, second, deep = values
    if deep:
        # AWS guide: only the shallow mode exists, the third argument must be false.
        raise _fail(f"{text} supports only the shallow merge: its third argument must be false.")
    return {**first, **second}


def _math_random(values: list[Any], args: tuple[Argument, ...], text: str) -> int:
    start, end = values[0], values[1]
    rng = random.Random(values[2]) if len(values) == 3 else random
    if end <= start:
        raise _fail(f"The end of {text} must be greater than its start.")
    return rng.randrange(start, end)


def _java_round(value: float) -> int:
    """Java's Math.round (half up): AWS rounds MathAdd's arguments this way (recorded)."""
    return math.floor(value + 0.5)


def _math_add(values: list[Any], args: tuple[Argument, ...], text: str) -> int:
    return _java_round(values[0]) + _java_round(values[1])


def _string_split(values: list[Any], args: tuple[Argument, ...], text: str) -> list[str]:
    """Splits on any of the delimiter's characters and drops empty pieces (recorded on AWS)."""
    string, delimiters = values
    if not delimiters:
        return [string] if string else []
    pattern = "[" + re.escape(delimiters) + "]"
    return [piece for piece in re.split(pattern, string) if piece]


def _uuid(values: list[Any], args: tuple[Argument, ...], text: str) -> str:
    return str(uuid.uuid4())


_S, _I, _A = "string", "integer", "array"
# name -> arity and argument types (AWS guide, "Intrinsic functions"), then the implementation.
RULES: dict[str, IntrinsicRule] = {
    "States.Format": IntrinsicRule(1, None, (_S,), _format),
    "States.StringToJson": IntrinsicRule(1, 1, (_S,), _string_to_json),
    "States.JsonToString": IntrinsicRule(1, 1, (None,), _json_to_string),
    "States.Array": IntrinsicRule(0, None, (), _array),
    "States.ArrayPartition": IntrinsicRule(2, 2, (_A, _I), _array_partition),
    "States.ArrayContains": IntrinsicRule(2, 2, (_A, None), _array_contains),
    "States.ArrayRange": IntrinsicRule(3, 3, (_I, _I, _I), _array_range),
    "States.ArrayGetItem": IntrinsicRule(2, 2, (_A, _I), _array_get_item),
    "States.ArrayLength": IntrinsicRule(1, 1, (_A,), _array_length),
    "States.ArrayUnique": IntrinsicRule(1, 1, (_A,), _array_unique),
    "States.Base64Encode": IntrinsicRule(1, 1, (_S,), _base64_encode),
    "States.Base64Decode": IntrinsicRule(1, 1, (_S,), _base64_decode),
    "States.Hash": IntrinsicRule(2, 2, (_S, _S), _hash),
    "States.JsonMerge": IntrinsicRule(3, 3, ("object", "object", "boolean"), _json_merge),
    "States.MathRandom": IntrinsicRule(2, 3, (_I, _I, _I), _math_random),
    "States.MathAdd": IntrinsicRule(2, 2, ("number", "number"), _math_add),
    "States.StringSplit": IntrinsicRule(2, 2, (_S, _S), _string_split),
    "States.UUID": IntrinsicRule(0, 0, (), _uuid),
}
SUPPORTED = tuple(RULES)
