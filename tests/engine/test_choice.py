from __future__ import annotations

from typing import Any

import pytest

from tooling.engine import parse_definition
from tooling.engine.errors import StateRuntimeError
from tooling.engine.model import ChoiceState


def condition(rule: dict[str, Any]) -> Any:
    machine = parse_definition(
        {
            "StartAt": "C",
            "States": {
                "C": {"Type": "Choice", "Choices": [{**rule, "Next": "D"}]},
                "D": {"Type": "Succeed"},
            },
        }
    )
    state = machine.states["C"]
    assert isinstance(state, ChoiceState)
    return state.choices[0].condition


def matches(rule: dict[str, Any], data: Any) -> bool:
    return condition(rule).matches(data, {"State": {"Name": "C"}})


@pytest.mark.parametrize(
    ("operator", "expected", "value", "result"),
    [
        ("StringEquals", "b", "b", True),
        ("StringEquals", "b", 1, False),
        ("StringLessThan", "b", "a", True),
        ("StringGreaterThan", "b", "a", False),
        ("StringLessThanEquals", "b", "b", True),
        ("StringGreaterThanEquals", "b", "c", True),
        ("NumericEquals", 1, 1.0, True),
        ("NumericEquals", 1, "1", False),
        ("NumericEquals", 1, True, False),
        ("NumericLessThan", 5, 4, True),
        ("NumericGreaterThan", 5, 4, False),
        ("NumericLessThanEquals", 5, 5, True),
        ("NumericGreaterThanEquals", 5, 4.5, False),
        ("BooleanEquals", True, True, True),
        ("BooleanEquals", True, 1, False),
        ("TimestampEquals", "2024-01-01T00:00:00Z", "2024-01-01T01:00:00+01:00", True),
        ("TimestampLessThan", "2024-01-01T00:00:00Z", "2023-12-31T23:59:59.999999999Z", True),
        ("TimestampGreaterThan", "2024-01-01T00:00:00Z", "2024-01-01 00:00:01Z", False),
        ("TimestampLessThanEquals", "2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z", True),
        ("TimestampGreaterThanEquals", "2024-01-01T00:00:00Z", "2023-01-01T00:00:00Z", False),
        ("StringMatches", "log-*.txt", "log-2024.txt", True),
        ("StringMatches", "log-\\*.txt", "log-2024.txt", False),
        ("StringMatches", "log-\\*.txt", "log-*.txt", True),
    ],
)
def test_comparisons(operator: str, expected: Any, value: Any, result: bool) -> None:
    assert matches({"Variable": "$.v", operator: expected}, {"v": value}) is result


def test_path_variants_compare_two_input_values() -> None:
    rule = {"Variable": "$.a", "NumericLessThanPath": "$.b"}
    assert matches(rule, {"a": 1, "b": 2}) is True
    assert matches(rule, {"a": 3, "b": 2}) is False
    assert matches({"Variable": "$.a", "StringEqualsPath": "$$.State.Name"}, {"a": "C"}) is True


@pytest.mark.parametrize(
    ("operator", "value", "result"),
    [
        ("IsNull", None, True),
        ("IsNumeric", 1.5, True),
        ("IsNumeric", "1", False),
        ("IsString", "", True),
        ("IsBoolean", False, True),
        ("IsTimestamp", "2024-01-01T00:00:00Z", True),
        ("IsTimestamp", "2024-01-01T00:00:00", False),
    ],
)
def test_type_tests(operator: str, value: Any, result: bool) -> None:
    assert matches({"Variable": "$.v", operator: True}, {"v": value}) is result
    assert matches({"Variable": "$.v", operator: False}, {"v": value}) is (not result)


def test_is_present() -> None:
    assert matches({"Variable": "$.v", "IsPresent": True}, {"v": None}) is True
    assert matches({"Variable": "$.v", "IsPresent": True}, {}) is False
    assert matches({"Variable": "$.v", "IsPresent": False}, {}) is True


def test_and_or_not() -> None:
    rule = {
        "And": [
            {"Variable": "$.n", "NumericGreaterThan": 0},
            {
                "Or": [
                    {"Not": {"Variable": "$.s", "IsPresent": True}},
                    {"Variable": "$.s", "StringEquals": "x"},
                ]
            },
        ]
    }
    assert matches(rule, {"n": 1, "s": "x"}) is True
    assert matches(rule, {"n": 1}) is True
    assert matches(rule, {"n": 1, "s": "y"}) is False
    assert matches(rule, {"n": 0}) is False


def test_missing_variable_is_a_runtime_error() -> None:
    with pytest.raises(StateRuntimeError) as info:
        matches({"Variable": "$.v", "NumericEquals": 1}, {})
    assert info.value.error == "States.Runtime"
    assert "$.v" in (info.value.cause or "")
