"""Choice rules: one comparison per rule, Next on top-level rules only, operand types."""

from __future__ import annotations

from typing import Any

from tooling.asl import StateNode
from tooling.asl.fields import COMPARISONS, COMPOUND, JSONATA_RULE, JSONPATH_RULE
from tooling.asl.timestamps import is_timestamp
from tooling.sourcemap import pointer_join
from tooling.validate.diagnostics import Collector, did_you_mean
from tooling.validate.jsonata import is_expression
from tooling.validate.payload import (
    check_assign,
    check_jsonata_string,
    check_jsonata_template,
    check_reference_path,
)
from tooling.validate.rules import Rule


class ChoiceRules(Rule):
    def state(self, state: StateNode) -> None:
        if state.type == "Choice":
            check_choices(self.out, state.fields, state.pointer, state.jsonata)


def check_choices(out: Collector, state: dict[str, Any], pointer: str, jsonata: bool) -> None:
    choices = state.get("Choices")
    at = pointer_join(pointer, "Choices")
    if choices is None:
        out.error(pointer, "FIELD_MISSING", 'a Choice state needs "Choices" (a list of rules)')
        return
    if not isinstance(choices, list) or not choices:
        out.error(at, "CHOICES_EMPTY", '"Choices" must be a non-empty list of rules')
        return
    for index, rule in enumerate(choices):
        rule_at = pointer_join(at, index)
        if jsonata:
            _jsonata_rule(out, rule, rule_at)
        else:
            _jsonpath_rule(out, rule, rule_at, top=True)


def _jsonata_rule(out: Collector, rule: Any, pointer: str) -> None:
    if not isinstance(rule, dict):
        out.error(pointer, "FIELD_TYPE", "a choice rule must be an object")
        return
    for key in rule:
        if key not in JSONATA_RULE:
            at = pointer_join(pointer, key)
            if key in JSONPATH_RULE:
                out.error(
                    at,
                    "FIELD_QUERY_LANGUAGE",
                    f'"{key}" is a JSONPath choice field; JSONata rules test a "Condition" '
                    'such as "{% $states.input.x > 1 %}"',
                )
            else:
                out.error(
                    at,
                    "FIELD_UNKNOWN",
                    f'"{key}" is not allowed in a choice rule{did_you_mean(key, JSONATA_RULE)}',
                )
    _rule_next(out, rule, pointer)
    condition = rule.get("Condition")
    if "Condition" not in rule:
        out.error(pointer, "FIELD_MISSING", 'a JSONata choice rule needs a "Condition"')
    elif isinstance(condition, str) and condition.strip().startswith("{%"):
        check_jsonata_string(out, condition, pointer_join(pointer, "Condition"))
    elif not isinstance(condition, bool):
        out.error(
            pointer_join(pointer, "Condition"),
            "FIELD_TYPE",
            'Condition must be a JSONata expression "{% ... %}" (or true/false)',
        )
    if "Assign" in rule:
        check_assign(out, rule["Assign"], pointer_join(pointer, "Assign"), jsonata=True)
    if "Output" in rule:
        check_jsonata_template(out, rule["Output"], pointer_join(pointer, "Output"))


def _rule_next(out: Collector, rule: dict[str, Any], pointer: str) -> None:
    if "Next" not in rule:
        out.error(pointer, "CHOICE_RULE_NEXT", 'a top-level choice rule needs "Next"')
    elif not isinstance(rule["Next"], str):
        out.error(pointer_join(pointer, "Next"), "FIELD_TYPE", "Next must be a state name")


def _jsonpath_rule(out: Collector, rule: Any, pointer: str, top: bool) -> None:
    if not isinstance(rule, dict):
        out.error(pointer, "FIELD_TYPE", "a choice rule must be an object")
        return
    for key in rule:
        if key not in JSONPATH_RULE:
            at = pointer_join(pointer, key)
            if key in JSONATA_RULE:
                out.error(
                    at,
                    "FIELD_QUERY_LANGUAGE",
                    f'"{key}" belongs to JSONata choice rules; set "QueryLanguage": "JSONata" '
                    'or test a "Variable" with a comparison operator',
                )
            else:
                out.error(
                    at,
                    "CHOICE_RULE_OPERATOR",
                    f'"{key}" is not a comparison operator'
                    f"{did_you_mean(key, [*COMPARISONS, *COMPOUND, 'Variable'])}",
                )
    if top:
        _rule_next(out, rule, pointer)
        if "Assign" in rule:
            check_assign(out, rule["Assign"], pointer_join(pointer, "Assign"), jsonata=False)
    else:
        for key in ("Next", "Assign"):
            if key in rule:
                out.error(
                    pointer_join(pointer, key),
                    "CHOICE_NEXT_NESTED",
                    f'"{key}" is allowed only on top-level choice rules, not inside And/Or/Not',
                )
    compound = [k for k in COMPOUND if k in rule]
    comparisons = [k for k in rule if k in COMPARISONS]
    operators = compound + comparisons
    if len(operators) != 1:
        what = "no" if not operators else f"{len(operators)} ({', '.join(operators)})"
        out.error(
            pointer,
            "CHOICE_RULE_OPERATOR",
            f"a choice rule needs exactly one comparison operator or And/Or/Not; it has {what}",
        )
    if compound:
        if "Variable" in rule:
            out.error(
                pointer_join(pointer, "Variable"),
                "CHOICE_RULE_OPERATOR",
                "And/Or/Not rules do not take a Variable; put it in each nested rule",
            )
        for op in compound:
            _compound(out, rule[op], pointer_join(pointer, op), op)
        return
    if "Variable" not in rule:
        if comparisons:
            out.error(pointer, "FIELD_MISSING", f'the rule with {comparisons[0]} needs "Variable"')
        return
    check_reference_path(out, rule["Variable"], pointer_join(pointer, "Variable"), "Variable")
    for op in comparisons:
        _operand(out, op, rule[op], pointer_join(pointer, op))


def _compound(out: Collector, value: Any, pointer: str, op: str) -> None:
    if op == "Not":
        if not isinstance(value, dict):
            out.error(pointer, "FIELD_TYPE", "Not must hold one rule object")
            return
        _jsonpath_rule(out, value, pointer, top=False)
        return
    if not isinstance(value, list) or not value:
        out.error(pointer, "FIELD_TYPE", f"{op} must be a non-empty list of rules")
        return
    for index, rule in enumerate(value):
        _jsonpath_rule(out, rule, pointer_join(pointer, index), top=False)


def _operand(out: Collector, op: str, value: Any, pointer: str) -> None:
    kind = COMPARISONS[op]
    if kind == "path":
        if isinstance(value, str) and is_expression(value):
            ok = False
        else:
            check_reference_path(out, value, pointer, op)
            return
    elif kind == "string":
        ok = isinstance(value, str)
    elif kind == "number":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif kind == "boolean":
        ok = isinstance(value, bool)
    else:
        ok = is_timestamp(value)
    if not ok:
        want = {
            "string": "a string",
            "number": "a number",
            "boolean": "true or false",
            "timestamp": 'an RFC 3339 timestamp such as "2026-01-31T12:00:00Z"',
            "path": 'a path such as "$.limit"',
        }[kind]
        out.error(
            pointer,
            "CHOICE_OPERAND_TYPE",
            f"{op} compares with {want}, not {_show(value)}",
        )


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f'the string "{value}"'
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value}"
    return "null" if value is None else type(value).__name__
