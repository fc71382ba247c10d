"""Intrinsic functions (States.Format, States.StringToJson, States.JsonToString, States.Array).

Calls are parsed once into a small tree; arguments are literals, paths or nested calls.
"""

from __future__ import annotations

import json
import re
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

SUPPORTED = ("States.Format", "States.StringToJson", "States.JsonToString", "States.Array")


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
            return arg.path.find(context if arg.path.context else data)
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
                f"intrinsic function {name} is not supported yet "
                f"(supported: {', '.join(SUPPORTED)})"
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
        out.append(value if isinstance(value, str) else jsontext.dumps(value))
        out.append(piece)
    return _unmark("".join(out))


def _string_to_json(values: list[Any], args: tuple[Any, ...], text: str) -> Any:
    if len(values) != 1 or not isinstance(values[0], str):
        raise _fail(text, f"{text} takes exactly one string argument.")
    try:
        return json.loads(values[0]) if values[0].strip() else None
    except json.JSONDecodeError:
        raise _fail(text, f"The argument of {text} is not valid JSON: {values[0]}") from None


def _json_to_string(values: list[Any], args: tuple[Any, ...], text: str) -> str:
    if len(values) != 1:
        raise _fail(text, f"{text} takes exactly one argument.")
    return jsontext.dumps(values[0])


def _array(values: list[Any], args: tuple[Any, ...], text: str) -> list[Any]:
    return values


_FUNCTIONS: dict[str, Callable[[list[Any], tuple[Any, ...], str], Any]] = {
    "States.Format": _format,
    "States.StringToJson": _string_to_json,
    "States.JsonToString": _json_to_string,
    "States.Array": _array,
}
