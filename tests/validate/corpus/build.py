"""Writes the validation corpus: valid definitions, and invalid ones that each break one rule.

Run `python tests/validate/corpus/build.py` after changing a case; the files and
expected.json are committed (the benchmark runs other checkers over the same files).
Each invalid case is a valid base with one mutation; expected.json names the diagnostic code
and the JSON pointer of the node it must point at.
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:work"

BASE_P: dict[str, Any] = {
    "Comment": "JSONPath base: a task in a loop with a Choice",
    "StartAt": "Start",
    "States": {
        "Start": {"Type": "Pass", "Result": {"n": 1}, "ResultPath": "$.init", "Next": "Work"},
        "Work": {
            "Type": "Task",
            "Resource": LAMBDA,
            "Parameters": {"value.$": "$.init.n", "label": "fixed"},
            "ResultPath": "$.result",
            "TimeoutSeconds": 30,
            "Retry": [
                {
                    "ErrorEquals": ["States.TaskFailed"],
                    "IntervalSeconds": 1,
                    "MaxAttempts": 2,
                    "BackoffRate": 2.0,
                }
            ],
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}],
            "Next": "Decide",
        },
        "Decide": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.result.ok", "BooleanEquals": True, "Next": "Done"},
                {"Variable": "$.result.count", "NumericLessThan": 3, "Next": "Pause"},
            ],
            "Default": "Failed",
        },
        "Pause": {"Type": "Wait", "Seconds": 1, "Next": "Work"},
        "Done": {"Type": "Succeed"},
        "Failed": {"Type": "Fail", "Error": "WorkFailed", "Cause": "the work failed"},
    },
}

BASE_A: dict[str, Any] = {
    "Comment": "JSONata base: the same loop with variables",
    "QueryLanguage": "JSONata",
    "StartAt": "Start",
    "States": {
        "Start": {"Type": "Pass", "Output": {"n": 1}, "Assign": {"count": 0}, "Next": "Work"},
        "Work": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Arguments": {"FunctionName": LAMBDA, "Payload": "{% $states.input %}"},
            "Output": "{% $states.result.Payload %}",
            "TimeoutSeconds": 30,
            "Retry": [{"ErrorEquals": ["States.TaskFailed"], "MaxAttempts": 2}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Failed"}],
            "Next": "Decide",
        },
        "Decide": {
            "Type": "Choice",
            "Choices": [
                {"Condition": "{% $states.input.ok %}", "Next": "Done"},
                {
                    "Condition": "{% $count < 3 %}",
                    "Assign": {"count": "{% $count + 1 %}"},
                    "Next": "Pause",
                },
            ],
            "Default": "Failed",
        },
        "Pause": {"Type": "Wait", "Seconds": 1, "Next": "Work"},
        "Done": {"Type": "Succeed"},
        "Failed": {"Type": "Fail", "Error": "WorkFailed", "Cause": "{% 'the work failed' %}"},
    },
}

BASE_NESTED_P: dict[str, Any] = {
    "Comment": "JSONPath base with Parallel and Map",
    "StartAt": "Fan",
    "States": {
        "Fan": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "Left", "States": {"Left": {"Type": "Pass", "End": True}}},
                {
                    "StartAt": "Right",
                    "States": {
                        "Right": {"Type": "Task", "Resource": LAMBDA, "Next": "RightDone"},
                        "RightDone": {"Type": "Succeed"},
                    },
                },
            ],
            "ResultPath": "$.fan",
            "Next": "Each",
        },
        "Each": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "MaxConcurrency": 2,
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": "Item",
                "States": {"Item": {"Type": "Task", "Resource": LAMBDA, "End": True}},
            },
            "ResultPath": "$.each",
            "End": True,
        },
    },
}

BASE_NESTED_A: dict[str, Any] = {
    "Comment": "JSONata base with Parallel and Map",
    "QueryLanguage": "JSONata",
    "StartAt": "Fan",
    "States": {
        "Fan": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "Left", "States": {"Left": {"Type": "Pass", "End": True}}},
                {"StartAt": "Right", "States": {"Right": {"Type": "Succeed"}}},
            ],
            "Output": "{% $states.result %}",
            "Next": "Each",
        },
        "Each": {
            "Type": "Map",
            "Items": "{% $states.input.items %}",
            "MaxConcurrency": 2,
            "ItemProcessor": {
                "StartAt": "Item",
                "States": {
                    "Item": {
                        "Type": "Task",
                        "Resource": "arn:aws:states:::lambda:invoke",
                        "Arguments": {"FunctionName": LAMBDA, "Payload": "{% $states.input %}"},
                        "End": True,
                    }
                },
            },
            "End": True,
        },
    },
}


def _parts(pointer: str) -> list[str]:
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]


def _parent(doc: Any, pointer: str) -> tuple[Any, Any]:
    *head, last = _parts(pointer)
    node = doc
    for part in head:
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node, (int(last) if isinstance(node, list) else last)


def put(pointer: str, value: Any) -> Callable[[Any], None]:
    def apply(doc: Any) -> None:
        node, key = _parent(doc, pointer)
        node[key] = copy.deepcopy(value)

    return apply


def drop(pointer: str) -> Callable[[Any], None]:
    def apply(doc: Any) -> None:
        node, key = _parent(doc, pointer)
        del node[key]

    return apply


def rename(pointer: str, new: str) -> Callable[[Any], None]:
    """Rename a key, keeping its place in the object."""

    def apply(doc: Any) -> None:
        node, key = _parent(doc, pointer)
        items = [(new if k == key else k, v) for k, v in node.items()]
        node.clear()
        node.update(items)

    return apply


def both(*steps: Callable[[Any], None]) -> Callable[[Any], None]:
    def apply(doc: Any) -> None:
        for step in steps:
            step(doc)

    return apply


W = "/States/Work"
S = "/States/Start"
D = "/States/Decide"
PA = "/States/Pause"
F = "/States/Failed"
R0 = "/States/Decide/Choices/0"

# (code, base, mutation, pointer the diagnostic must point at)
INVALID: list[tuple[str, dict[str, Any], Callable[[Any], None], str]] = [
    # structure
    ("FIELD_MISSING", BASE_P, drop("/StartAt"), ""),
    ("FIELD_MISSING", BASE_A, drop("/StartAt"), ""),
    ("FIELD_MISSING", BASE_P, drop(f"{W}/Resource"), W),
    ("FIELD_MISSING", BASE_P, drop(f"{D}/Choices"), D),
    ("FIELD_MISSING", BASE_NESTED_P, drop("/States/Fan/Branches"), "/States/Fan"),
    ("FIELD_MISSING", BASE_NESTED_A, drop("/States/Each/ItemProcessor"), "/States/Each"),
    ("FIELD_MISSING", BASE_P, drop(f"{W}/Catch/0/Next"), f"{W}/Catch/0"),
    ("FIELD_MISSING", BASE_A, drop(f"{D}/Choices/0/Condition"), f"{D}/Choices/0"),
    ("FIELD_MISSING", BASE_P, drop(f"{W}/Retry/0/ErrorEquals"), f"{W}/Retry/0"),
    ("FIELD_MISSING", BASE_P, drop("/States/Done/Type"), "/States/Done"),
    ("FIELD_TYPE", BASE_P, put("/States", []), "/States"),
    ("FIELD_TYPE", BASE_P, put(f"{W}/Parameters", "value"), f"{W}/Parameters"),
    ("FIELD_TYPE", BASE_A, put(f"{W}/Arguments", 5), f"{W}/Arguments"),
    ("FIELD_TYPE", BASE_P, put(f"{W}/Retry", {"ErrorEquals": ["X"]}), f"{W}/Retry"),
    ("FIELD_TYPE", BASE_A, put(f"{F}/Error", 42), f"{F}/Error"),
    ("FIELD_TYPE", BASE_A, put(f"{W}/TimeoutSeconds", "thirty"), f"{W}/TimeoutSeconds"),
    ("FIELD_TYPE", BASE_NESTED_A, put("/States/Each/Items", "items"), "/States/Each/Items"),
    ("FIELD_TYPE", BASE_P, put(f"{S}/ResultPath", 5), f"{S}/ResultPath"),
    ("FIELD_UNKNOWN", BASE_P, put("/Timeout", 5), "/Timeout"),
    ("FIELD_UNKNOWN", BASE_P, put(f"{W}/Retries", []), f"{W}/Retries"),
    ("FIELD_UNKNOWN", BASE_A, put(f"{W}/Retries", []), f"{W}/Retries"),
    ("FIELD_UNKNOWN", BASE_P, put("/States/Done/Next", "Failed"), "/States/Done/Next"),
    ("FIELD_UNKNOWN", BASE_P, put(f"{W}/Retry/0/Backoff", 2), f"{W}/Retry/0/Backoff"),
    ("FIELD_UNKNOWN", BASE_A, put(f"{W}/Catch/0/Then", "Done"), f"{W}/Catch/0/Then"),
    (
        "FIELD_UNKNOWN",
        BASE_NESTED_P,
        put("/States/Fan/Branches/0/End", True),
        "/States/Fan/Branches/0/End",
    ),
    ("FIELD_UNKNOWN", BASE_A, put(f"{D}/Choices/0/Otherwise", 1), f"{D}/Choices/0/Otherwise"),
    ("FIELD_QUERY_LANGUAGE", BASE_A, put(f"{W}/ResultPath", "$.r"), f"{W}/ResultPath"),
    ("FIELD_QUERY_LANGUAGE", BASE_A, put(f"{W}/Parameters", {"a": 1}), f"{W}/Parameters"),
    ("FIELD_QUERY_LANGUAGE", BASE_A, put(f"{S}/InputPath", "$.x"), f"{S}/InputPath"),
    ("FIELD_QUERY_LANGUAGE", BASE_P, put(f"{W}/Arguments", {"a": 1}), f"{W}/Arguments"),
    ("FIELD_QUERY_LANGUAGE", BASE_P, put(f"{S}/Output", {"a": 1}), f"{S}/Output"),
    (
        "FIELD_QUERY_LANGUAGE",
        BASE_A,
        put(f"{D}/Choices/0/Variable", "$.ok"),
        f"{D}/Choices/0/Variable",
    ),
    (
        "FIELD_QUERY_LANGUAGE",
        BASE_P,
        put(f"{D}/Choices/0/Condition", "{% true %}"),
        f"{D}/Choices/0/Condition",
    ),
    (
        "FIELD_QUERY_LANGUAGE",
        BASE_A,
        put(f"{W}/Catch/0/ResultPath", "$.e"),
        f"{W}/Catch/0/ResultPath",
    ),
    (
        "FIELD_QUERY_LANGUAGE",
        BASE_NESTED_A,
        put("/States/Each/ItemsPath", "$.items"),
        "/States/Each/ItemsPath",
    ),
    ("QUERY_LANGUAGE_INVALID", BASE_P, put("/QueryLanguage", "JsonPath"), "/QueryLanguage"),
    ("QUERY_LANGUAGE_INVALID", BASE_A, put(f"{S}/QueryLanguage", "jsonata"), f"{S}/QueryLanguage"),
    (
        "QUERY_LANGUAGE_MIXED",
        BASE_A,
        put("/States/Done/QueryLanguage", "JSONPath"),
        "/States/Done/QueryLanguage",
    ),
    ("STATE_TYPE_INVALID", BASE_P, put("/States/Done/Type", "Success"), "/States/Done/Type"),
    ("STATE_TYPE_INVALID", BASE_A, put(f"{PA}/Type", "Sleep"), f"{PA}/Type"),
    (
        "STATES_EMPTY",
        BASE_NESTED_P,
        put("/States/Fan/Branches/0/States", {}),
        "/States/Fan/Branches/0/States",
    ),
    (
        "STATE_NAME_INVALID",
        BASE_P,
        both(rename("/States/Done", "D" * 81), put(f"{R0}/Next", "D" * 81)),
        "/States/" + "D" * 81,
    ),
    (
        "STATE_NAME_DUPLICATE",
        BASE_NESTED_P,
        both(
            rename("/States/Fan/Branches/0/States/Left", "Each"),
            put("/States/Fan/Branches/0/StartAt", "Each"),
        ),
        "/States/Each",
    ),
    (
        "STATE_NAME_DUPLICATE",
        BASE_NESTED_A,
        both(
            rename("/States/Each/ItemProcessor/States/Item", "Fan"),
            put("/States/Each/ItemProcessor/StartAt", "Fan"),
        ),
        "/States/Each/ItemProcessor/States/Fan",
    ),
    # transitions
    ("START_AT_MISSING", BASE_P, put("/StartAt", "start"), "/StartAt"),
    (
        "START_AT_MISSING",
        BASE_NESTED_A,
        put("/States/Fan/Branches/1/StartAt", "Rigth"),
        "/States/Fan/Branches/1/StartAt",
    ),
    ("STATE_NEXT_MISSING", BASE_P, put(f"{S}/Next", "Wrok"), f"{S}/Next"),
    ("STATE_NEXT_MISSING", BASE_A, put(f"{PA}/Next", "work"), f"{PA}/Next"),
    ("STATE_NEXT_MISSING", BASE_P, put(f"{D}/Choices/1/Next", "Pauze"), f"{D}/Choices/1/Next"),
    (
        "STATE_NEXT_MISSING",
        BASE_NESTED_P,
        put("/States/Fan/Branches/1/States/Right/Next", "Each"),
        "/States/Fan/Branches/1/States/Right/Next",
    ),
    ("CHOICE_DEFAULT_MISSING", BASE_P, put(f"{D}/Default", "Fail"), f"{D}/Default"),
    ("CHOICE_DEFAULT_MISSING", BASE_A, put(f"{D}/Default", "Failure"), f"{D}/Default"),
    ("CATCH_NEXT_MISSING", BASE_P, put(f"{W}/Catch/0/Next", "Failled"), f"{W}/Catch/0/Next"),
    ("CATCH_NEXT_MISSING", BASE_A, put(f"{W}/Catch/0/Next", "Oops"), f"{W}/Catch/0/Next"),
    ("STATE_UNREACHABLE", BASE_P, put("/States/Orphan", {"Type": "Succeed"}), "/States/Orphan"),
    (
        "STATE_UNREACHABLE",
        BASE_A,
        put("/States/Orphan", {"Type": "Pass", "End": True}),
        "/States/Orphan",
    ),
    (
        "STATE_UNREACHABLE",
        BASE_NESTED_P,
        put("/States/Each/ItemProcessor/States/Extra", {"Type": "Succeed"}),
        "/States/Each/ItemProcessor/States/Extra",
    ),
    (
        "MISSING_END_STATE",
        BASE_P,
        both(
            put("/States/Done", {"Type": "Pass", "Next": "Work"}),
            put("/States/Failed", {"Type": "Pass", "Next": "Start"}),
            put("/States/Orphan", {"Type": "Pass", "Next": "Work"}),  # not reported as well
        ),
        "/States",
    ),
    (
        "MISSING_END_STATE",
        BASE_A,
        both(
            put("/States/Done", {"Type": "Pass", "Next": "Work"}),
            put("/States/Failed", {"Type": "Pass", "Next": "Start"}),
        ),
        "/States",
    ),
    ("STATE_END_MISSING", BASE_P, drop(f"{S}/Next"), S),
    ("STATE_END_MISSING", BASE_NESTED_A, drop("/States/Each/End"), "/States/Each"),
    ("STATE_NEXT_AND_END", BASE_P, put(f"{PA}/End", True), f"{PA}/End"),
    ("STATE_NEXT_AND_END", BASE_A, put(f"{S}/End", True), f"{S}/End"),
    ("STATE_END_INVALID", BASE_NESTED_P, put("/States/Each/End", False), "/States/Each/End"),
    # choice rules
    ("CHOICE_RULE_OPERATOR", BASE_P, drop(f"{R0}/BooleanEquals"), R0),
    ("CHOICE_RULE_OPERATOR", BASE_P, put(f"{R0}/StringEquals", "yes"), R0),
    (
        "CHOICE_RULE_OPERATOR",
        BASE_P,
        rename(f"{R0}/BooleanEquals", "BoolEquals"),
        f"{R0}/BoolEquals",
    ),
    (
        "CHOICE_RULE_OPERATOR",
        BASE_P,
        put(R0, {"Not": {"Variable": "$.a", "IsPresent": True}, "Variable": "$.a", "Next": "Done"}),
        f"{R0}/Variable",
    ),
    (
        "CHOICE_NEXT_NESTED",
        BASE_P,
        put(
            R0,
            {
                "And": [
                    {"Variable": "$.a", "IsPresent": True, "Next": "Done"},
                    {"Variable": "$.b", "IsPresent": True},
                ],
                "Next": "Done",
            },
        ),
        f"{R0}/And/0/Next",
    ),
    ("CHOICE_RULE_NEXT", BASE_P, drop(f"{D}/Choices/1/Next"), f"{D}/Choices/1"),
    ("CHOICE_RULE_NEXT", BASE_A, drop(f"{D}/Choices/1/Next"), f"{D}/Choices/1"),
    ("CHOICES_EMPTY", BASE_P, put(f"{D}/Choices", []), f"{D}/Choices"),
    ("CHOICES_EMPTY", BASE_A, put(f"{D}/Choices", []), f"{D}/Choices"),
    (
        "CHOICE_OPERAND_TYPE",
        BASE_P,
        put(f"{D}/Choices/1/NumericLessThan", "3"),
        f"{D}/Choices/1/NumericLessThan",
    ),
    ("CHOICE_OPERAND_TYPE", BASE_P, put(f"{R0}/BooleanEquals", "true"), f"{R0}/BooleanEquals"),
    (
        "CHOICE_OPERAND_TYPE",
        BASE_P,
        put(
            R0, {"Variable": "$.when", "TimestampLessThan": "2026-13-01T00:00:00Z", "Next": "Done"}
        ),
        f"{R0}/TimestampLessThan",
    ),
    (
        "CHOICE_OPERAND_TYPE",
        BASE_P,
        put(R0, {"Variable": "$.s", "StringEquals": 5, "Next": "Done"}),
        f"{R0}/StringEquals",
    ),
    (
        "CHOICE_OPERAND_TYPE",
        BASE_P,
        put(R0, {"Variable": "$.s", "IsNull": "yes", "Next": "Done"}),
        f"{R0}/IsNull",
    ),
    (
        "PATH_INVALID",
        BASE_P,
        put(f"{D}/Choices/1/Variable", "result.count"),
        f"{D}/Choices/1/Variable",
    ),
    ("PATH_INVALID", BASE_P, put(f"{W}/InputPath", "$.a["), f"{W}/InputPath"),
    (
        "PATH_INVALID",
        BASE_P,
        put(f"{W}/Parameters/value.$", "$..[?(@.x>1]"),
        f"{W}/Parameters/value.$",
    ),
    ("PATH_INVALID", BASE_P, put(f"{W}/OutputPath", "$.a b"), f"{W}/OutputPath"),
    (
        "PATH_INVALID",
        BASE_NESTED_P,
        put("/States/Each/ItemsPath", "$.items."),
        "/States/Each/ItemsPath",
    ),
    ("REFERENCE_PATH_INVALID", BASE_P, put(f"{W}/ResultPath", "$.results[*]"), f"{W}/ResultPath"),
    (
        "REFERENCE_PATH_INVALID",
        BASE_P,
        put(f"{D}/Choices/1/Variable", "$..count"),
        f"{D}/Choices/1/Variable",
    ),
    (
        "REFERENCE_PATH_INVALID",
        BASE_P,
        put(f"{S}/ResultPath", "$$.Execution.Id"),
        f"{S}/ResultPath",
    ),
    (
        "REFERENCE_PATH_INVALID",
        BASE_P,
        put(
            f"{D}/Choices/1",
            {
                "Variable": "$.result.count",
                "NumericLessThanPath": "$.limits[?(@.x)]",
                "Next": "Pause",
            },
        ),
        f"{D}/Choices/1/NumericLessThanPath",
    ),
    (
        "REFERENCE_PATH_INVALID",
        BASE_P,
        both(drop(f"{PA}/Seconds"), put(f"{PA}/SecondsPath", "$.waits[0:2]")),
        f"{PA}/SecondsPath",
    ),
    (
        "PAYLOAD_DOLLAR_VALUE",
        BASE_P,
        put(f"{W}/Parameters/value.$", "init.n"),
        f"{W}/Parameters/value.$",
    ),
    ("PAYLOAD_DOLLAR_VALUE", BASE_P, put(f"{W}/Parameters/value.$", 5), f"{W}/Parameters/value.$"),
    (
        "PAYLOAD_DOLLAR_VALUE",
        BASE_P,
        put(f"{W}/ResultSelector", {"out.$": {"a": 1}}),
        f"{W}/ResultSelector/out.$",
    ),
    (
        "PAYLOAD_DOLLAR_VALUE",
        BASE_NESTED_P,
        put("/States/Each/ItemSelector", {"v.$": "value"}),
        "/States/Each/ItemSelector/v.$",
    ),
    (
        "PAYLOAD_DUPLICATE_FIELD",
        BASE_P,
        put(f"{W}/Parameters/label.$", "$.label"),
        f"{W}/Parameters/label.$",
    ),
    (
        "PAYLOAD_DUPLICATE_FIELD",
        BASE_NESTED_P,
        put("/States/Each/ItemSelector", {"v": 1, "v.$": "$$.Map.Item.Value"}),
        "/States/Each/ItemSelector/v.$",
    ),
    (
        "INTRINSIC_UNKNOWN",
        BASE_P,
        put(f"{W}/Parameters/value.$", "States.Formatt('{}', $.a)"),
        f"{W}/Parameters/value.$",
    ),
    (
        "INTRINSIC_UNKNOWN",
        BASE_P,
        put(f"{S}/Parameters", {"id.$": "States.Uuid()"}),
        f"{S}/Parameters/id.$",
    ),
    (
        "INTRINSIC_ARITY",
        BASE_P,
        put(f"{W}/Parameters/value.$", "States.StringToJson($.a, $.b)"),
        f"{W}/Parameters/value.$",
    ),
    (
        "INTRINSIC_ARITY",
        BASE_P,
        put(f"{W}/Parameters/value.$", "States.Format('{} and {}', $.a)"),
        f"{W}/Parameters/value.$",
    ),
    (
        "INTRINSIC_ARITY",
        BASE_P,
        put(f"{W}/Parameters/value.$", "States.ArrayRange(1, 9)"),
        f"{W}/Parameters/value.$",
    ),
    (
        "INTRINSIC_ARGUMENT",
        BASE_P,
        put(f"{W}/Parameters/value.$", "States.MathAdd($.a, 'one')"),
        f"{W}/Parameters/value.$",
    ),
    (
        "INTRINSIC_ARGUMENT",
        BASE_P,
        put(f"{W}/Parameters/value.$", "States.Hash($.a, 'SHA-999')"),
        f"{W}/Parameters/value.$",
    ),
    (
        "INTRINSIC_ARGUMENT",
        BASE_P,
        put(f"{W}/Parameters/value.$", "States.JsonMerge($.a, $.b, true)"),
        f"{W}/Parameters/value.$",
    ),
    (
        "INTRINSIC_SYNTAX",
        BASE_P,
        put(f"{W}/Parameters/value.$", "States.Format('{}', $.a"),
        f"{W}/Parameters/value.$",
    ),
    (
        "INTRINSIC_SYNTAX",
        BASE_P,
        both(drop(f"{F}/Cause"), put(f"{F}/CausePath", "States.Format('x' $.a)")),
        f"{F}/CausePath",
    ),
    (
        "JSONATA_SYNTAX",
        BASE_A,
        put(f"{D}/Choices/0/Condition", "{% $states.input.ok = %}"),
        f"{D}/Choices/0/Condition",
    ),
    ("JSONATA_SYNTAX", BASE_A, put(f"{W}/Output", "{% $states.result.Payload"), f"{W}/Output"),
    (
        "JSONATA_SYNTAX",
        BASE_A,
        put(f"{W}/Arguments/Payload", "{% $states.input[ %}"),
        f"{W}/Arguments/Payload",
    ),
    ("JSONATA_SYNTAX", BASE_A, put(f"{S}/Assign/count", "{% (1 + %}"), f"{S}/Assign/count"),
    ("JSONATA_SYNTAX", BASE_NESTED_A, put("/States/Each/Items", "{%  %}"), "/States/Each/Items"),
    ("JSONATA_SYNTAX", BASE_A, put(f"{F}/Cause", "{% 'unterminated %}"), f"{F}/Cause"),
    # retry / catch
    (
        "STATES_ALL_NOT_LAST",
        BASE_P,
        put(f"{W}/Retry", [{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["States.Timeout"]}]),
        f"{W}/Retry/0/ErrorEquals/0",
    ),
    (
        "STATES_ALL_NOT_LAST",
        BASE_A,
        put(
            f"{W}/Catch",
            [
                {"ErrorEquals": ["States.ALL"], "Next": "Failed"},
                {"ErrorEquals": ["States.Timeout"], "Next": "Failed"},
            ],
        ),
        f"{W}/Catch/0/ErrorEquals/0",
    ),
    (
        "STATES_ALL_NOT_ALONE",
        BASE_P,
        put(f"{W}/Catch/0/ErrorEquals", ["States.ALL", "Custom"]),
        f"{W}/Catch/0/ErrorEquals/0",
    ),
    (
        "STATES_ALL_NOT_ALONE",
        BASE_A,
        put(f"{W}/Retry/0/ErrorEquals", ["States.TaskFailed", "States.ALL"]),
        f"{W}/Retry/0/ErrorEquals/1",
    ),
    ("ERROR_EQUALS_EMPTY", BASE_P, put(f"{W}/Retry/0/ErrorEquals", []), f"{W}/Retry/0/ErrorEquals"),
    (
        "ERROR_EQUALS_EMPTY",
        BASE_A,
        put(f"{W}/Catch/0/ErrorEquals", "States.ALL"),
        f"{W}/Catch/0/ErrorEquals",
    ),
    ("RETRY_VALUE", BASE_P, put(f"{W}/Retry/0/MaxAttempts", -1), f"{W}/Retry/0/MaxAttempts"),
    ("RETRY_VALUE", BASE_P, put(f"{W}/Retry/0/BackoffRate", 0.5), f"{W}/Retry/0/BackoffRate"),
    ("RETRY_VALUE", BASE_P, put(f"{W}/Retry/0/IntervalSeconds", 0), f"{W}/Retry/0/IntervalSeconds"),
    ("RETRY_VALUE", BASE_A, put(f"{W}/Retry/0/MaxDelaySeconds", 0), f"{W}/Retry/0/MaxDelaySeconds"),
    (
        "RETRY_VALUE",
        BASE_A,
        put(f"{W}/Retry/0/JitterStrategy", "RANDOM"),
        f"{W}/Retry/0/JitterStrategy",
    ),
    ("RETRY_VALUE", BASE_A, put(f"{W}/Retry/0/MaxAttempts", 1.5), f"{W}/Retry/0/MaxAttempts"),
    # task fields
    (
        "FIELDS_EXCLUSIVE",
        BASE_P,
        put(f"{W}/TimeoutSecondsPath", "$.timeout"),
        f"{W}/TimeoutSecondsPath",
    ),
    (
        "FIELDS_EXCLUSIVE",
        BASE_P,
        both(put(f"{W}/HeartbeatSeconds", 5), put(f"{W}/HeartbeatSecondsPath", "$.hb")),
        f"{W}/HeartbeatSecondsPath",
    ),
    ("FIELDS_EXCLUSIVE", BASE_P, put(f"{F}/ErrorPath", "$.error"), f"{F}/ErrorPath"),
    (
        "FIELDS_EXCLUSIVE",
        BASE_NESTED_P,
        put("/States/Each/MaxConcurrencyPath", "$.max"),
        "/States/Each/MaxConcurrencyPath",
    ),
    (
        "FIELDS_EXCLUSIVE",
        BASE_NESTED_P,
        put(
            "/States/Each/Iterator", {"StartAt": "Other", "States": {"Other": {"Type": "Succeed"}}}
        ),
        "/States/Each/Iterator",
    ),
    ("TIMEOUT_HEARTBEAT", BASE_P, put(f"{W}/HeartbeatSeconds", 30), f"{W}/HeartbeatSeconds"),
    ("TIMEOUT_HEARTBEAT", BASE_A, put(f"{W}/HeartbeatSeconds", 60), f"{W}/HeartbeatSeconds"),
    ("FIELD_VALUE", BASE_P, put(f"{W}/TimeoutSeconds", 0), f"{W}/TimeoutSeconds"),
    ("FIELD_VALUE", BASE_P, put("/Version", "2.0"), "/Version"),
    (
        "FIELD_VALUE",
        BASE_NESTED_P,
        put("/States/Each/ToleratedFailurePercentage", 150),
        "/States/Each/ToleratedFailurePercentage",
    ),
    (
        "FIELD_VALUE",
        BASE_NESTED_P,
        put("/States/Each/MaxConcurrency", -1),
        "/States/Each/MaxConcurrency",
    ),
    ("FIELD_VALUE", BASE_NESTED_A, put("/States/Fan/Branches", []), "/States/Fan/Branches"),
    (
        "FIELD_VALUE",
        BASE_NESTED_A,
        put("/States/Each/ItemProcessor/ProcessorConfig", {"Mode": "PARALLEL"}),
        "/States/Each/ItemProcessor/ProcessorConfig/Mode",
    ),
    ("FIELD_VALUE", BASE_P, put(f"{PA}/Seconds", -5), f"{PA}/Seconds"),
    ("RESOURCE_INVALID", BASE_P, put(f"{W}/Resource", "work"), f"{W}/Resource"),
    (
        "RESOURCE_INVALID",
        BASE_P,
        put(f"{W}/Resource", "arn:aws:lambda:us-east-1:123:function:w"),
        f"{W}/Resource",
    ),
    (
        "RESOURCE_INVALID",
        BASE_A,
        put(f"{W}/Resource", "arn:aws:states:lambda:invoke"),
        f"{W}/Resource",
    ),
    # wait
    ("WAIT_FIELDS", BASE_P, put(f"{PA}/Timestamp", "2026-01-01T00:00:00Z"), f"{PA}/Timestamp"),
    ("WAIT_FIELDS", BASE_A, drop(f"{PA}/Seconds"), PA),
    ("WAIT_FIELDS", BASE_P, drop(f"{PA}/Seconds"), PA),
    (
        "TIMESTAMP_INVALID",
        BASE_P,
        both(drop(f"{PA}/Seconds"), put(f"{PA}/Timestamp", "2026-01-01 00:00:00")),
        f"{PA}/Timestamp",
    ),
    (
        "TIMESTAMP_INVALID",
        BASE_A,
        both(drop(f"{PA}/Seconds"), put(f"{PA}/Timestamp", "2026-02-30T00:00:00Z")),
        f"{PA}/Timestamp",
    ),
    (
        "TIMESTAMP_INVALID",
        BASE_P,
        both(drop(f"{PA}/Seconds"), put(f"{PA}/Timestamp", "2026-01-01t00:00:00z")),
        f"{PA}/Timestamp",
    ),
    # JSONata-specific shapes
    (
        "FIELD_QUERY_LANGUAGE",
        BASE_A,
        both(drop(f"{F}/Error"), put(f"{F}/ErrorPath", "$.e")),
        f"{F}/ErrorPath",
    ),
    ("FIELD_QUERY_LANGUAGE", BASE_A, put(f"{PA}/SecondsPath", "$.s"), f"{PA}/SecondsPath"),
    ("FIELD_QUERY_LANGUAGE", BASE_A, put(f"{W}/ResultSelector", {"a": 1}), f"{W}/ResultSelector"),
    (
        "FIELD_TYPE",
        BASE_A,
        put(f"{D}/Choices/0/Condition", "$states.input.ok"),
        f"{D}/Choices/0/Condition",
    ),
    (
        "FIELD_VALUE",
        BASE_NESTED_A,
        put("/States/Each/ToleratedFailurePercentage", 101),
        "/States/Each/ToleratedFailurePercentage",
    ),
    ("FIELD_UNKNOWN", BASE_A, put("/States/Done/Assign", {"x": 1}), "/States/Done/Assign"),
    (
        "JSONATA_SYNTAX",
        BASE_NESTED_A,
        put("/States/Fan/Output", "{% $states.result[0 %}"),
        "/States/Fan/Output",
    ),
    ("JSONATA_SYNTAX", BASE_A, put(f"{PA}/Seconds", "{% $count * %}"), f"{PA}/Seconds"),
    (
        "RESOURCE_INVALID",
        BASE_NESTED_A,
        put("/States/Each/ItemProcessor/States/Item/Resource", "lambda:invoke"),
        "/States/Each/ItemProcessor/States/Item/Resource",
    ),
    (
        "STATE_END_MISSING",
        BASE_NESTED_A,
        drop("/States/Fan/Branches/0/States/Left/End"),
        "/States/Fan/Branches/0/States/Left",
    ),
    (
        "FIELD_UNKNOWN",
        BASE_NESTED_P,
        put("/States/Each/ItemProcessor/ProcessorConfig/Executiontype", "EXPRESS"),
        "/States/Each/ItemProcessor/ProcessorConfig/Executiontype",
    ),
    (
        "FIELD_UNKNOWN",
        BASE_NESTED_A,
        both(
            put("/States/Each/ItemProcessor/ProcessorConfig", {"Mode": "DISTRIBUTED"}),
            put("/States/Each/ItemBatcher", {"MaxItemsPerBatch": 10, "MaxItems": 10}),
        ),
        "/States/Each/ItemBatcher/MaxItems",
    ),
    # variables
    ("ASSIGN_NAME_INVALID", BASE_A, put(f"{S}/Assign", {"1count": 0}), f"{S}/Assign/1count"),
    ("ASSIGN_NAME_INVALID", BASE_A, put(f"{S}/Assign", {"my-count": 0}), f"{S}/Assign/my-count"),
    (
        "ASSIGN_NAME_INVALID",
        BASE_P,
        put(f"{S}/Assign", {"bad name.$": "$.a"}),
        f"{S}/Assign/bad name.$",
    ),
    ("ASSIGN_NAME_INVALID", BASE_A, put(f"{S}/Assign", {"x" * 81: 1}), f"{S}/Assign/{'x' * 81}"),
]

VALID: list[tuple[str, dict[str, Any], Callable[[Any], None]]] = [
    ("base-jsonpath", BASE_P, lambda d: None),
    ("base-jsonata", BASE_A, lambda d: None),
    ("nested-jsonpath", BASE_NESTED_P, lambda d: None),
    ("nested-jsonata", BASE_NESTED_A, lambda d: None),
    (
        "intrinsics",
        BASE_P,
        put(
            f"{W}/Parameters",
            {
                "a.$": "States.Format('Hello {}, you are {}', $.name, $.age)",
                "b.$": "States.Array($.a, 'x', 3, States.UUID())",
                "c.$": "States.ArrayRange(1, 9, 2)",
                "d.$": "States.Hash($.data, 'SHA-256')",
                "e.$": "States.MathRandom(1, 100)",
                "f.$": "States.JsonMerge($.a, $.b, false)",
                "g.$": "States.StringSplit($.csv, ',')",
                "h.$": "States.ArrayGetItem($.list, 0)",
                "i.$": "States.Base64Encode($.text)",
                "j.$": "States.JsonToString($$.Execution.Input)",
            },
        ),
    ),
    (
        "context-paths",
        BASE_P,
        put(f"{W}/Parameters", {"exec.$": "$$.Execution.Id", "token.$": "$$.Task.Token"}),
    ),
    (
        "result-selector",
        BASE_P,
        put(f"{W}/ResultSelector", {"payload.$": "$.Payload", "fixed": [1, 2, {"k": "v"}]}),
    ),
    ("result-path-null", BASE_P, put(f"{W}/ResultPath", None)),
    (
        "paths-indefinite",
        BASE_P,
        both(put(f"{W}/InputPath", "$.items[?(@.price < 10)]"), put(f"{W}/OutputPath", "$..name")),
    ),
    (
        "choice-compound",
        BASE_P,
        put(
            R0,
            {
                "And": [
                    {"Variable": "$.a", "IsPresent": True},
                    {
                        "Or": [
                            {"Variable": "$.b", "StringMatches": "log-*.txt"},
                            {"Not": {"Variable": "$.c", "NumericGreaterThanEquals": 10}},
                        ]
                    },
                ],
                "Next": "Done",
            },
        ),
    ),
    (
        "choice-paths",
        BASE_P,
        put(
            R0, {"Variable": "$.when", "TimestampLessThanEqualsPath": "$.deadline", "Next": "Done"}
        ),
    ),
    (
        "choice-timestamp",
        BASE_P,
        put(
            R0,
            {
                "Variable": "$.when",
                "TimestampEquals": "2026-01-31T12:00:00.5+02:00",
                "Next": "Done",
            },
        ),
    ),
    (
        "wait-timestamp",
        BASE_P,
        both(drop(f"{PA}/Seconds"), put(f"{PA}/Timestamp", "2026-03-01T00:00:00Z")),
    ),
    ("wait-seconds-path", BASE_P, both(drop(f"{PA}/Seconds"), put(f"{PA}/SecondsPath", "$.w"))),
    (
        "wait-timestamp-path",
        BASE_P,
        both(drop(f"{PA}/Seconds"), put(f"{PA}/TimestampPath", "$.until")),
    ),
    ("wait-jsonata-expr", BASE_A, put(f"{PA}/Seconds", "{% $count * 2 %}")),
    (
        "fail-paths",
        BASE_P,
        both(
            drop(f"{F}/Error"),
            drop(f"{F}/Cause"),
            put(f"{F}/ErrorPath", "$.error.Error"),
            put(f"{F}/CausePath", "States.Format('failed: {}', $.why)"),
        ),
    ),
    (
        "retry-full",
        BASE_P,
        put(
            f"{W}/Retry",
            [
                {
                    "ErrorEquals": ["Lambda.ServiceException", "Lambda.TooManyRequestsException"],
                    "IntervalSeconds": 2,
                    "MaxAttempts": 6,
                    "BackoffRate": 2,
                    "MaxDelaySeconds": 60,
                    "JitterStrategy": "FULL",
                },
                {"ErrorEquals": ["States.ALL"], "MaxAttempts": 0},
            ],
        ),
    ),
    ("heartbeat", BASE_P, put(f"{W}/HeartbeatSeconds", 10)),
    (
        "timeout-path",
        BASE_P,
        both(drop(f"{W}/TimeoutSeconds"), put(f"{W}/TimeoutSecondsPath", "$.timeout")),
    ),
    (
        "lambda-invoke",
        BASE_P,
        both(
            put(f"{W}/Resource", "arn:aws:states:::lambda:invoke"),
            put(f"{W}/Parameters", {"FunctionName": LAMBDA, "Payload.$": "$"}),
        ),
    ),
    (
        "wait-for-token",
        BASE_P,
        both(
            put(f"{W}/Resource", "arn:aws:states:::sqs:sendMessage.waitForTaskToken"),
            put(
                f"{W}/Parameters",
                {
                    "QueueUrl": "https://sqs.us-east-1.amazonaws.com/1/q",
                    "MessageBody": {"token.$": "$$.Task.Token"},
                },
            ),
        ),
    ),
    (
        "jsonpath-variables",
        BASE_P,
        both(
            put(f"{S}/Assign", {"total": 0, "first.$": "$.a"}),
            put(f"{W}/Parameters/total.$", "$total"),
        ),
    ),
    (
        "mixed-languages",
        BASE_P,
        put(
            "/States/Done",
            {"Type": "Succeed", "QueryLanguage": "JSONata", "Output": "{% $states.input.result %}"},
        ),
    ),
    ("jsonata-choice-output", BASE_A, put(f"{D}/Choices/0/Output", {"ok": "{% true %}"})),
    (
        "jsonata-timeout-expr",
        BASE_A,
        both(put(f"{W}/TimeoutSeconds", "{% 30 + 1 %}"), put(f"{W}/HeartbeatSeconds", 10)),
    ),
    ("jsonata-catch-output", BASE_A, put(f"{W}/Catch/0/Output", "{% $states.errorOutput %}")),
    (
        "map-distributed",
        BASE_NESTED_P,
        both(
            put(
                "/States/Each/ItemProcessor/ProcessorConfig",
                {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
            ),
            put("/States/Each/ToleratedFailurePercentage", 5),
            put("/States/Each/Label", "Items"),
        ),
    ),
    (
        "map-iterator-legacy",
        BASE_NESTED_P,
        both(
            drop("/States/Each/ItemProcessor"),
            put(
                "/States/Each/Iterator",
                {"StartAt": "Item", "States": {"Item": {"Type": "Pass", "End": True}}},
            ),
        ),
    ),
    (
        "map-distributed-s3",
        BASE_NESTED_P,
        both(
            drop("/States/Each/ItemsPath"),
            put(
                "/States/Each/ItemProcessor/ProcessorConfig",
                {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            ),
            put(
                "/States/Each/ItemReader",
                {
                    "Resource": "arn:aws:states:::s3:getObject",
                    "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
                    "Parameters": {"Bucket": "my-bucket", "Key": "items.csv"},
                },
            ),
            put("/States/Each/ItemBatcher", {"MaxItemsPerBatch": 10}),
            put(
                "/States/Each/ResultWriter",
                {
                    "Resource": "arn:aws:states:::s3:putObject",
                    "Parameters": {"Bucket": "my-bucket", "Prefix": "results"},
                },
            ),
        ),
    ),
    (
        "map-item-selector",
        BASE_NESTED_P,
        put(
            "/States/Each/ItemSelector",
            {"index.$": "$$.Map.Item.Index", "value.$": "$$.Map.Item.Value"},
        ),
    ),
    (
        "parallel-retry-catch",
        BASE_NESTED_P,
        both(
            put("/States/Fan/Retry", [{"ErrorEquals": ["States.BranchFailed"], "MaxAttempts": 1}]),
            put("/States/Fan/Catch", [{"ErrorEquals": ["States.ALL"], "Next": "Each"}]),
        ),
    ),
    ("timeout-top-level", BASE_P, both(put("/TimeoutSeconds", 3600), put("/Version", "1.0"))),
    (
        "pass-parameters",
        BASE_P,
        put(f"{S}/Parameters", {"greeting.$": "States.Format('hi {}', $.name)"}),
    ),
    ("cfn-resource", BASE_P, put(f"{W}/Resource", {"Fn::GetAtt": ["hello", "Arn"]})),
]


def main() -> None:
    for sub in ("valid", "invalid"):
        shutil.rmtree(HERE / sub, ignore_errors=True)
        (HERE / sub).mkdir()
    expected: dict[str, dict[str, str]] = {}
    counts: dict[str, int] = {}
    for code, base, mutate, pointer in INVALID:
        doc = copy.deepcopy(base)
        mutate(doc)
        counts[code] = counts.get(code, 0) + 1
        name = f"invalid/{code}-{counts[code]}.json"
        (HERE / name).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        expected[name] = {"code": code, "pointer": pointer}
    for name, base, mutate in VALID:
        doc = copy.deepcopy(base)
        mutate(doc)
        (HERE / f"valid/{name}.json").write_text(json.dumps(doc, indent=2) + "\n", "utf-8")
    (HERE / "expected.json").write_text(json.dumps(expected, indent=2) + "\n", encoding="utf-8")
    print(f"{len(INVALID)} invalid, {len(VALID)} valid")


if __name__ == "__main__":
    main()
