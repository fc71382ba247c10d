"""Intrinsic functions: every States.* function of the Amazon States Language.

Calls are parsed once into a small tree; arguments are literals, paths or nested calls.
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
from dataclasses import dataclass
from typing import Any

from tooling.engine import jsontext
from tooling.engine.errors import INTRINSIC_FAILURE, StateRuntimeError
from tooling.engine.jsonpath import JsonPath, PathNotFound, PathSyntaxError

# Escaped braces in string literals must stay literal in States.Format: mark them while parsing.
_OPEN, _CLOSE = "\ue000", "\ue001"
_NAME = re.compile(r"States\.[A-Za-z0-9]+")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


class IntrinsicSyntaxError(ValueError):
    pass


@dataclass(frozen=True)
class _Literal:
    value: Any


@dataclass(frozen=True)
class _PathArg:
    path: JsonPath


@dataclass(frozen=True)
class IntrinsicCall:
    name: str
    args: tuple[Any, ...]
    text: str

    def evaluate(self, data: Any, context: Any) -> Any:
        values = [_arg_value(a, data, context, self.text) for a in self.args]
        return _FUNCTIONS[self.name](values, self.args, self.text)


def _arg_value(arg: Any, data: Any, context: Any, text: str) -> Any:
    if isinstance(arg, _Literal):
        value = arg.value
        return _unmark(value) if isinstance(value, str) else value
    if isinstance(arg, _PathArg):
        try:
            return arg.path.read(data, context)
        except PathNotFound:
            raise StateRuntimeError(
                f"The JSONPath {arg.path.text} specified in the intrinsic function {text} "
                "could not be found in the input.",
                error=INTRINSIC_FAILURE,
            ) from None
    return arg.evaluate(data, context)


def _unmark(text: str) -> str:
    return text.replace(_OPEN, "{").replace(_CLOSE, "}")


def parse_intrinsic(text: str) -> IntrinsicCall:
    parser = _Parser(text)
    call = parser.call()
    parser.skip_ws()
    if parser.i != len(text):
        raise IntrinsicSyntaxError(f"unexpected text after the call in '{text}'")
    return call


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0

    def skip_ws(self) -> None:
        while self.i < len(self.text) and self.text[self.i] == " ":
            self.i += 1

    def call(self) -> IntrinsicCall:
        start = self.i
        m = _NAME.match(self.text, self.i)
        if not m or m.end() >= len(self.text) or self.text[m.end()] != "(":
            raise IntrinsicSyntaxError(f"'{self.text}' is not an intrinsic function call")
        name = m.group()
        if name not in _FUNCTIONS:
            raise IntrinsicSyntaxError(
                f"{name} is not an intrinsic function (known: {', '.join(SUPPORTED)})"
            )
        self.i = m.end() + 1
        args: list[Any] = []
        self.skip_ws()
        if self.peek() == ")":
            self.i += 1
        else:
            while True:
                self.skip_ws()
                args.append(self.arg())
                self.skip_ws()
                c = self.peek()
                self.i += 1
                if c == ")":
                    break
                if c != ",":
                    raise IntrinsicSyntaxError(f"expected ',' or ')' in '{self.text}'")
        return IntrinsicCall(name, tuple(args), self.text[start : self.i])

    def peek(self) -> str:
        return self.text[self.i] if self.i < len(self.text) else ""

    def arg(self) -> Any:
        c = self.peek()
        if c == "'":
            return _Literal(self.string())
        if c == "$":
            return _PathArg(self.path())
        if self.text.startswith("States.", self.i):
            return self.call()
        for word, value in (("true", True), ("false", False), ("null", None)):
            if self.text.startswith(word, self.i):
                self.i += len(word)
                return _Literal(value)
        m = _NUMBER.match(self.text, self.i)
        if m:
            self.i = m.end()
            return _Literal(json.loads(m.group()))
        raise IntrinsicSyntaxError(f"unexpected argument at position {self.i + 1} in '{self.text}'")

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
        raise IntrinsicSyntaxError(f"unterminated string in '{self.text}'")

    def path(self) -> JsonPath:
        start, depth, quote = self.i, 0, None
        while self.i < len(self.text):
            c = self.text[self.i]
            if quote:
                if c == quote:
                    quote = None
            elif c in "'\"" and depth:
                quote = c
            elif c == "[":
                depth += 1
            elif c == "]":
                depth -= 1
            elif c in ",)" and depth == 0:
                break
            self.i += 1
        try:
            return JsonPath(self.text[start : self.i].strip())
        except PathSyntaxError as exc:
            raise IntrinsicSyntaxError(str(exc)) from None


def _fail(text: str, message: str) -> StateRuntimeError:
    return StateRuntimeError(message, error=INTRINSIC_FAILURE)


# Argument rules follow the AWS guide ("Intrinsic functions"); the corpus records no failing
# calls, so the failure messages below are not AWS's exact wording.


def _count(values: list[Any], text: str, expected: int, minimum: int | None = None) -> None:
    low = expected if minimum is None else minimum
    if not low <= len(values) <= expected:
        wanted = str(expected) if minimum is None else f"{minimum} to {expected}"
        raise _fail(text, f"{text} takes {wanted} argument(s) but was given {len(values)}.")


_CHECKS: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "boolean": lambda v: isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "integer": lambda v: _as_int(v) is not None,
}


def _need(value: Any, kind: str, text: str, position: int) -> Any:
    if not _CHECKS[kind](value):
        raise _fail(
            text,
            f"The argument {position} of {text} must be a {kind}, but was: {jsontext.dumps(value)}",
        )
    return _as_int(value) if kind == "integer" else value


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


def _format(values: list[Any], args: tuple[Any, ...], text: str) -> str:
    if not values or not isinstance(values[0], str):
        raise _fail(text, f"The first argument of {text} must be a string.")
    template = args[0].value if isinstance(args[0], _Literal) else values[0]
    pieces = template.split("{}")
    if len(pieces) - 1 != len(values) - 1:
        raise _fail(
            text,
            f"Number of arguments in {text} do not match the occurrences of {{}}",
        )
    out = [pieces[0]]
    for value, piece in zip(values[1:], pieces[1:], strict=True):
        out.append(_java_text(value))
        out.append(piece)
    return _unmark("".join(out))


def _string_to_json(values: list[Any], args: tuple[Any, ...], text: str) -> Any:
    _count(values, text, 1)
    _need(values[0], "string", text, 1)
    try:
        return json.loads(values[0]) if values[0].strip() else None
    except json.JSONDecodeError:
        raise _fail(text, f"The argument of {text} is not valid JSON: {values[0]}") from None


def _json_to_string(values: list[Any], args: tuple[Any, ...], text: str) -> str:
    _count(values, text, 1)
    return jsontext.dumps(values[0])


def _array(values: list[Any], args: tuple[Any, ...], text: str) -> list[Any]:
    return values


def _array_partition(values: list[Any], args: tuple[Any, ...], text: str) -> list[Any]:
    _count(values, text, 2)
    array = _need(values[0], "array", text, 1)
    size = _need(values[1], "integer", text, 2)
    if size <= 0:
        raise _fail(text, f"The chunk size of {text} must be greater than 0, but was {size}.")
    return [array[i : i + size] for i in range(0, len(array), size)]


def _array_contains(values: list[Any], args: tuple[Any, ...], text: str) -> bool:
    _count(values, text, 2)
    array = _need(values[0], "array", text, 1)
    return any(_same(item, values[1]) for item in array)


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


def _array_range(values: list[Any], args: tuple[Any, ...], text: str) -> list[int]:
    _count(values, text, 3)
    start = _need(values[0], "integer", text, 1)
    end = _need(values[1], "integer", text, 2)
    step = _need(values[2], "integer", text, 3)
    if step == 0:
        raise _fail(text, f"The step of {text} cannot be 0.")
    out = list(range(start, end + (1 if step > 0 else -1), step))
    if len(out) > 1000:
        raise _fail(text, f"{text} cannot produce more than 1000 items.")
    return out


def _array_get_item(values: list[Any], args: tuple[Any, ...], text: str) -> Any:
    _count(values, text, 2)
    array = _need(values[0], "array", text, 1)
    index = _need(values[1], "integer", text, 2)
    if not 0 <= index < len(array):
        raise _fail(text, f"The index {index} is out of bounds for {text}.")
    return array[index]


def _array_length(values: list[Any], args: tuple[Any, ...], text: str) -> int:
    _count(values, text, 1)
    return len(_need(values[0], "array", text, 1))


def _array_unique(values: list[Any], args: tuple[Any, ...], text: str) -> list[Any]:
    _count(values, text, 1)
    out: list[Any] = []
    for item in _need(values[0], "array", text, 1):
        if not any(_same(item, seen) for seen in out):
            out.append(item)
    return out


_MAX_TEXT = 10000  # Base64 and Hash take at most 10,000 characters (AWS guide)


def _limited(value: Any, text: str) -> str:
    value = _need(value, "string", text, 1)
    if len(value) > _MAX_TEXT:
        raise _fail(text, f"The input of {text} is longer than {_MAX_TEXT} characters.")
    return value


def _base64_encode(values: list[Any], args: tuple[Any, ...], text: str) -> str:
    _count(values, text, 1)
    return base64.b64encode(_limited(values[0], text).encode()).decode("ascii")


def _base64_decode(values: list[Any], args: tuple[Any, ...], text: str) -> str:
    _count(values, text, 1)
    try:
        return base64.b64decode(_limited(values[0], text), validate=True).decode()
    except (ValueError, binascii.Error):
        raise _fail(text, f"The argument of {text} is not valid Base64.") from None


_HASHES = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384"}
_HASHES["SHA-512"] = "sha512"


def _hash(values: list[Any], args: tuple[Any, ...], text: str) -> str:
    _count(values, text, 2)
    data = _limited(values[0], text)
    algorithm = values[1]
    if algorithm not in _HASHES:
        raise _fail(text, f"The hash algorithm of {text} must be one of {', '.join(_HASHES)}.")
    return hashlib.new(_HASHES[algorithm], data.encode()).hexdigest()


def _json_merge(values: list[Any], args: tuple[Any, ...], text: str) -> dict[str, Any]:
    _count(values, text, 3)
    first = _need(values[0], "object", text, 1)
    second = _need(values[1], "object", text, 2)
    deep = _need(values[2], "boolean", text, 3)
    if deep:
        # AWS guide: only the shallow mode exists, the third argument must be false.
        raise _fail(
            text, f"{text} supports only the shallow merge: its third argument must be false."
        )
    return {**first, **second}


def _math_random(values: list[Any], args: tuple[Any, ...], text: str) -> int:
    _count(values, text, 3, minimum=2)
    start = _need(values[0], "integer", text, 1)
    end = _need(values[1], "integer", text, 2)
    rng = random.Random(_need(values[2], "integer", text, 3)) if len(values) == 3 else random
    if end <= start:
        raise _fail(text, f"The end of {text} must be greater than its start.")
    return rng.randrange(start, end)


def _java_round(value: float) -> int:
    """Java's Math.round (half up): AWS rounds MathAdd's arguments this way (recorded)."""
    return math.floor(value + 0.5)


def _math_add(values: list[Any], args: tuple[Any, ...], text: str) -> int:
    _count(values, text, 2)
    first = _need(values[0], "number", text, 1)
    second = _need(values[1], "number", text, 2)
    return _java_round(first) + _java_round(second)


def _string_split(values: list[Any], args: tuple[Any, ...], text: str) -> list[str]:
    """Splits on any of the delimiter's characters and drops empty pieces (recorded on AWS)."""
    _count(values, text, 2)
    string = _need(values[0], "string", text, 1)
    delimiters = _need(values[1], "string", text, 2)
    if not delimiters:
        return [string] if string else []
    pattern = "[" + re.escape(delimiters) + "]"
    return [piece for piece in re.split(pattern, string) if piece]


def _uuid(values: list[Any], args: tuple[Any, ...], text: str) -> str:
    _count(values, text, 0)
    return str(uuid.uuid4())


_FUNCTIONS: dict[str, Callable[[list[Any], tuple[Any, ...], str], Any]] = {
    "States.Format": _format,
    "States.StringToJson": _string_to_json,
    "States.JsonToString": _json_to_string,
    "States.Array": _array,
    "States.ArrayPartition": _array_partition,
    "States.ArrayContains": _array_contains,
    "States.ArrayRange": _array_range,
    "States.ArrayGetItem": _array_get_item,
    "States.ArrayLength": _array_length,
    "States.ArrayUnique": _array_unique,
    "States.Base64Encode": _base64_encode,
    "States.Base64Decode": _base64_decode,
    "States.Hash": _hash,
    "States.JsonMerge": _json_merge,
    "States.MathRandom": _math_random,
    "States.MathAdd": _math_add,
    "States.StringSplit": _string_split,
    "States.UUID": _uuid,
}
SUPPORTED = tuple(_FUNCTIONS)
