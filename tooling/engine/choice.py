"""Choice rules: comparison operators, their ...Path variants, And/Or/Not and the Is* tests."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tooling.asl.timestamps import parse_timestamp
from tooling.engine.errors import StateRuntimeError
from tooling.engine.jsonpath import JsonPath, PathNotFound


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _string_matches(value: str, pattern: str) -> bool:
    return _wildcard_regex(pattern).fullmatch(value) is not None


_REGEX_CACHE: dict[str, re.Pattern[str]] = {}


def _wildcard_regex(pattern: str) -> re.Pattern[str]:
    """`*` matches any run of characters; `\\*` and `\\\\` are a literal star and backslash."""
    found = _REGEX_CACHE.get(pattern)
    if found is None:
        out, i = [], 0
        while i < len(pattern):
            c = pattern[i]
            if c == "\\" and i + 1 < len(pattern):
                out.append(re.escape(pattern[i + 1]))
                i += 2
                continue
            out.append(".*" if c == "*" else re.escape(c))
            i += 1
        found = _REGEX_CACHE[pattern] = re.compile("".join(out), re.DOTALL)
    return found


# operator family -> (type check on both sides, comparison key)
_Kind = tuple[Callable[[Any], bool], Callable[[Any], Any]]
_KINDS: dict[str, _Kind] = {
    "String": (lambda v: isinstance(v, str), lambda v: v),
    "Numeric": (_is_number, lambda v: v),
    "Boolean": (lambda v: isinstance(v, bool), lambda v: v),
    "Timestamp": (lambda v: parse_timestamp(v) is not None, parse_timestamp),
}
_RELATIONS: dict[str, Callable[[Any, Any], bool]] = {
    "Equals": lambda a, b: a == b,
    "LessThan": lambda a, b: a < b,
    "GreaterThan": lambda a, b: a > b,
    "LessThanEquals": lambda a, b: a <= b,
    "GreaterThanEquals": lambda a, b: a >= b,
}

COMPARISONS: dict[str, tuple[str, str]] = {
    f"{kind}{rel}": (kind, rel)
    for kind in _KINDS
    for rel in _RELATIONS
    if not (kind == "Boolean" and rel != "Equals")
}
TYPE_TESTS: dict[str, Callable[[Any], bool]] = {
    "IsNull": lambda v: v is None,
    "IsNumeric": _is_number,
    "IsString": lambda v: isinstance(v, str),
    "IsBoolean": lambda v: isinstance(v, bool),
    "IsTimestamp": lambda v: parse_timestamp(v) is not None,
}


class Condition:
    def matches(self, data: Any, context: Any) -> bool:
        raise NotImplementedError


@dataclass(frozen=True)
class And(Condition):
    conditions: tuple[Condition, ...]

    def matches(self, data: Any, context: Any) -> bool:
        return all(c.matches(data, context) for c in self.conditions)


@dataclass(frozen=True)
class Or(Condition):
    conditions: tuple[Condition, ...]

    def matches(self, data: Any, context: Any) -> bool:
        return any(c.matches(data, context) for c in self.conditions)


@dataclass(frozen=True)
class Not(Condition):
    condition: Condition

    def matches(self, data: Any, context: Any) -> bool:
        return not self.condition.matches(data, context)


def _read(path: JsonPath, data: Any, context: Any) -> Any:
    try:
        return path.read(data, context)
    except PathNotFound:
        # Wording from AWS as far as known; not confirmed against a recorded execution.
        raise StateRuntimeError(
            f"Invalid path '{path.text}': The choice state's condition path references "
            "an invalid value."
        ) from None


@dataclass(frozen=True)
class Compare(Condition):
    variable: JsonPath
    operator: str
    expected: Any  # a constant, or a JsonPath for the ...Path operators
    by_path: bool

    def matches(self, data: Any, context: Any) -> bool:
        value = _read(self.variable, data, context)
        other = _read(self.expected, data, context) if self.by_path else self.expected
        if self.operator == "StringMatches":
            return (
                isinstance(value, str) and isinstance(other, str) and _string_matches(value, other)
            )
        kind, rel = COMPARISONS[self.operator]
        accepts, key = _KINDS[kind]
        if not (accepts(value) and accepts(other)):
            return False
        return _RELATIONS[rel](key(value), key(other))


@dataclass(frozen=True)
class TypeTest(Condition):
    variable: JsonPath
    operator: str
    expected: bool

    def matches(self, data: Any, context: Any) -> bool:
        try:
            value = self.variable.read(data, context)
        except PathNotFound:
            return self.operator == "IsPresent" and not self.expected
        if self.operator == "IsPresent":
            present = self.variable.definite or bool(value)
            return present == self.expected
        return TYPE_TESTS[self.operator](value) == self.expected


def accepts_constant(operator: str, value: Any) -> bool:
    """Whether `value` has the type the definition needs for this operator's constant."""
    if operator == "StringMatches":
        return isinstance(value, str)
    kind, _ = COMPARISONS[operator]
    if kind == "Timestamp":
        return isinstance(value, str)
    return _KINDS[kind][0](value)
