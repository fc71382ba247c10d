"""Intrinsic functions (JSONPath states): syntax, known names, arity and literal argument types.

Arguments are string literals ('...'), numbers, true/false/null, paths, or nested calls. Only
literal arguments can be type-checked here; paths and nested calls are checked at run time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tooling.validate.diagnostics import did_you_mean
from tooling.validate.paths import PathError, parse_path

_NAME = re.compile(r"States\.[A-Za-z0-9]+")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")

# name -> (min args, max args or None for any). AWS "Intrinsic functions" page.
ARITY: dict[str, tuple[int, int | None]] = {
    "States.Format": (1, None),
    "States.StringToJson": (1, 1),
    "States.JsonToString": (1, 1),
    "States.Array": (0, None),
    "States.ArrayPartition": (2, 2),
    "States.ArrayContains": (2, 2),
    "States.ArrayRange": (3, 3),
    "States.ArrayGetItem": (2, 2),
    "States.ArrayLength": (1, 1),
    "States.ArrayUnique": (1, 1),
    "States.Base64Encode": (1, 1),
    "States.Base64Decode": (1, 1),
    "States.Hash": (2, 2),
    "States.JsonMerge": (3, 3),
    "States.MathRandom": (2, 3),
    "States.MathAdd": (2, 2),
    "States.StringSplit": (2, 2),
    "States.UUID": (0, 0),
}
HASH_ALGORITHMS = ("MD5", "SHA-1", "SHA-256", "SHA-384", "SHA-512")

# Expected type of each literal argument by position ("*" = the rest); None = anything.
_ARG_TYPES: dict[str, tuple[str | None, ...]] = {
    "States.Format": ("string", "*"),
    "States.StringToJson": ("string",),
    "States.ArrayPartition": ("array", "integer"),
    "States.ArrayContains": ("array", None),
    "States.ArrayRange": ("integer", "integer", "integer"),
    "States.ArrayGetItem": ("array", "integer"),
    "States.ArrayLength": ("array",),
    "States.ArrayUnique": ("array",),
    "States.Base64Encode": ("string",),
    "States.Base64Decode": ("string",),
    "States.Hash": (None, "string"),
    "States.JsonMerge": ("object", "object", "boolean"),
    "States.MathRandom": ("integer", "integer", "integer"),
    "States.MathAdd": ("number", "number"),
    "States.StringSplit": ("string", "string"),
}


class IntrinsicError(ValueError):
    """`code` is INTRINSIC_SYNTAX, INTRINSIC_UNKNOWN, INTRINSIC_ARITY or INTRINSIC_ARGUMENT."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class _Literal:
    value: Any


@dataclass
class _Path:
    text: str


@dataclass
class _Call:
    name: str
    args: list[Any] = field(default_factory=list)


def looks_like_intrinsic(text: str) -> bool:
    return text.startswith("States.")


def check_intrinsic(text: str) -> None:
    """Raise IntrinsicError when `text` is not a valid intrinsic function call."""
    parser = _Parser(text)
    call = parser.call()
    parser.skip_ws()
    if parser.i != len(text):
        raise IntrinsicError("INTRINSIC_SYNTAX", f"unexpected text after the call in '{text}'")
    _check_call(call)


def _check_call(call: _Call) -> None:
    low, high = ARITY[call.name]
    count = len(call.args)
    if count < low or (high is not None and count > high):
        want = f"{low}" if low == high else f"{low} or more" if high is None else f"{low}-{high}"
        raise IntrinsicError(
            "INTRINSIC_ARITY",
            f"{call.name} takes {want} argument{'s' if want != '1' else ''}, not {count}",
        )
    types = _ARG_TYPES.get(call.name, ())
    for index, arg in enumerate(call.args):
        if isinstance(arg, _Call):
            _check_call(arg)
            continue
        if not isinstance(arg, _Literal):
            continue
        expected = types[index] if index < len(types) else None
        if expected == "*" or (index >= len(types) and types and types[-1] == "*"):
            expected = None
        if expected is not None and not _is_type(arg.value, expected):
            raise IntrinsicError(
                "INTRINSIC_ARGUMENT",
                f"argument {index + 1} of {call.name} must be {_article(expected)} {expected},"
                f" not {_type_name(arg.value)}",
            )
    literals = [a.value if isinstance(a, _Literal) else None for a in call.args]
    algorithm = literals[1] if call.name == "States.Hash" else None
    if isinstance(algorithm, str) and algorithm not in HASH_ALGORITHMS:
        raise IntrinsicError(
            "INTRINSIC_ARGUMENT",
            f"States.Hash algorithm '{algorithm}' is not one of {', '.join(HASH_ALGORITHMS)}",
        )
    if call.name == "States.JsonMerge" and literals[2] is True:
        raise IntrinsicError(
            "INTRINSIC_ARGUMENT",
            "States.JsonMerge supports only a shallow merge: its third argument must be false",
        )
    if call.name == "States.Format" and isinstance(literals[0], str):
        holes = literals[0].replace("\\{", "").replace("\\}", "").count("{}")
        if holes != count - 1:
            raise IntrinsicError(
                "INTRINSIC_ARITY",
                f"States.Format's template has {holes} '{{}}' but {count - 1} value"
                f"{'s' if count != 2 else ''} follow it",
            )


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _is_type(value: Any, expected: str) -> bool:
    if expected == "string":
        return isinstance(value, str)
    if expected == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if expected == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if expected == "boolean":
        return isinstance(value, bool)
    return False  # arrays and objects are never literals


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value}"
    return f"the string '{value}'"


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0

    def fail(self, message: str) -> IntrinsicError:
        return IntrinsicError("INTRINSIC_SYNTAX", f"{message} in '{self.text}'")

    def skip_ws(self) -> None:
        while self.i < len(self.text) and self.text[self.i] in " \t":
            self.i += 1

    def peek(self) -> str:
        return self.text[self.i] if self.i < len(self.text) else ""

    def call(self) -> _Call:
        match = _NAME.match(self.text, self.i)
        if not match:
            raise self.fail(f"expected a function name at character {self.i + 1}")
        name = match.group()
        self.i = match.end()
        self.skip_ws()
        if self.peek() != "(":
            raise self.fail(f"expected '(' after {name}")
        if name not in ARITY:
            raise IntrinsicError(
                "INTRINSIC_UNKNOWN",
                f"{name} is not an intrinsic function{did_you_mean(name, ARITY)}",
            )
        self.i += 1
        call = _Call(name)
        self.skip_ws()
        if self.peek() == ")":
            self.i += 1
            return call
        while True:
            self.skip_ws()
            call.args.append(self.arg())
            self.skip_ws()
            c = self.peek()
            if c == ")":
                self.i += 1
                return call
            if c != ",":
                raise self.fail("expected ',' or ')'" if c else "missing ')'")
            self.i += 1

    def arg(self) -> Any:
        c = self.peek()
        if c == "'":
            return _Literal(self.string())
        if c == "$":
            return self.path()
        if self.text.startswith("States.", self.i):
            return self.call()
        for word, value in (("true", True), ("false", False), ("null", None)):
            if self.text.startswith(word, self.i):
                self.i += len(word)
                return _Literal(value)
        match = _NUMBER.match(self.text, self.i)
        if match:
            self.i = match.end()
            number = float(match.group())
            return _Literal(int(number) if re.fullmatch(r"-?\d+", match.group()) else number)
        raise self.fail(f"unexpected argument at character {self.i + 1}")

    def string(self) -> str:
        out: list[str] = []
        self.i += 1
        while self.i < len(self.text):
            c = self.text[self.i]
            if c == "\\" and self.i + 1 < len(self.text):
                out.append(c + self.text[self.i + 1])
                self.i += 2
                continue
            if c == "'":
                self.i += 1
                return "".join(out)
            out.append(c)
            self.i += 1
        raise self.fail("unterminated string")

    def path(self) -> _Path:
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
            parse_path(text)
        except PathError as exc:
            raise self.fail(f"'{text}' is not a valid path ({exc})") from None
        return _Path(text)
