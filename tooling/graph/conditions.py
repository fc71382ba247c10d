"""Short, readable text for a Choice rule, used as the label of its edge."""

from __future__ import annotations

import json
from typing import Any

_RELATIONS = {
    "Equals": "==",
    "LessThan": "<",
    "GreaterThan": ">",
    "LessThanEquals": "<=",
    "GreaterThanEquals": ">=",
}
_FAMILIES = ("String", "Numeric", "Boolean", "Timestamp")
_TYPE_TESTS = {
    "IsNull": "null",
    "IsPresent": "present",
    "IsNumeric": "numeric",
    "IsString": "a string",
    "IsBoolean": "a boolean",
    "IsTimestamp": "a timestamp",
}
MAX_LENGTH = 120


def describe_rule(rule: Any) -> str:
    """`$.count < 5`, `$.a == "x" and not ($.b is null)`, or a JSONata rule's Condition as is."""
    text = _describe(rule)
    return text if len(text) <= MAX_LENGTH else text[: MAX_LENGTH - 1] + "…"


def _describe(rule: Any) -> str:
    if not isinstance(rule, dict):
        return "?"
    condition = rule.get("Condition")
    if isinstance(condition, str):  # JSONata: "{% ... %}"
        return _strip_jsonata(condition)
    for operator, joiner in (("And", " and "), ("Or", " or ")):
        children = rule.get(operator)
        if isinstance(children, list):
            return joiner.join(_grouped(child) for child in children) or operator
    if "Not" in rule:
        return f"not {_grouped(rule['Not'])}"
    variable = rule.get("Variable", "?")
    for key, value in rule.items():
        comparison = _comparison(str(variable), key, value)
        if comparison is not None:
            return comparison
    return str(variable)


def _grouped(rule: Any) -> str:
    text = _describe(rule)
    compound = isinstance(rule, dict) and ("And" in rule or "Or" in rule)
    return f"({text})" if compound else text


def _comparison(variable: str, key: str, value: Any) -> str | None:
    if key in _TYPE_TESTS:
        negation = "" if value is True else "not "
        return f"{variable} is {negation}{_TYPE_TESTS[key]}"
    if key == "StringMatches":
        return f"{variable} matches {json.dumps(value)}"
    if key == "StringMatchesPath":
        return f"{variable} matches {value}"
    for family in _FAMILIES:
        if not key.startswith(family):
            continue
        relation = key[len(family) :]
        by_path = relation.endswith("Path")
        symbol = _RELATIONS.get(relation[:-4] if by_path else relation)
        if symbol is None:
            return None
        operand = str(value) if by_path else json.dumps(value, ensure_ascii=False)
        return f"{variable} {symbol} {operand}"
    return None


def _strip_jsonata(condition: str) -> str:
    text = condition.strip()
    if text.startswith("{%") and text.endswith("%}"):
        text = text[2:-2].strip()
    return text
