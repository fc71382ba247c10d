from __future__ import annotations

import json
from typing import Any

import pytest

from tooling.engine import parse_definition
from tooling.engine.model import ABSENT, ChoiceState, Fixed, TaskState
from tooling.errors import DefinitionError
from tooling.sourcemap import load_json

from .fakes import FUNCTION_ARN

TYPO_DEFINITION = """{
  "StartAt": "LambdaFunction",
  "States": {
    "LambdaFunction": {
      "Type": "Task",
      "Resource": "FUNCTION_ARN",
      "Next": "ChoiseState"
    },
    "ChoiceState": {"Type": "Choice", "Choices": [
      {"Variable": "$.x", "NumericEquals": 1, "Next": "Done"}
    ], "Default": "Done"},
    "Done": {"Type": "Succeed"}
  }
}""".replace("FUNCTION_ARN", FUNCTION_ARN)


def parse_text(text: str) -> Any:
    definition, source = load_json(text, "machine.asl.json", DefinitionError)
    return parse_definition(definition, source)


def test_unknown_next_names_line_column_and_suggestion() -> None:
    with pytest.raises(DefinitionError) as info:
        parse_text(TYPO_DEFINITION)
    err = info.value
    assert err.message == (
        'States.LambdaFunction.Next names "ChoiseState", which is not a state; '
        'did you mean "ChoiceState"?'
    )
    assert (err.file, err.line, err.column) == ("machine.asl.json", 7, 15)


def test_valid_definition_compiles_states() -> None:
    machine = parse_text(TYPO_DEFINITION.replace("ChoiseState", "ChoiceState"))
    assert machine.start_at == "LambdaFunction"
    assert isinstance(machine.states["LambdaFunction"], TaskState)
    assert isinstance(machine.states["ChoiceState"], ChoiceState)


def minimal(**state: Any) -> dict[str, Any]:
    return {"StartAt": "A", "States": {"A": state, "B": {"Type": "Succeed"}}}


@pytest.mark.parametrize(
    ("definition", "fragment"),
    [
        ({"States": {"A": {"Type": "Succeed"}}}, "missing 'StartAt'"),
        ({"StartAt": "A"}, "missing 'States'"),
        ({"StartAt": "Z", "States": {"A": {"Type": "Succeed"}}}, 'StartAt names "Z"'),
        (minimal(Type="Sleep", End=True), '"Sleep" is not a state type'),
        (minimal(Type="Pass"), 'needs either "Next" or "End": true'),
        (minimal(Type="Pass", Next="B", End=True), "has both Next and End"),
        (minimal(Type="Choice", Choices=[]), "Choices must be a non-empty list"),
        (
            minimal(Type="Choice", Choices=[{"Variable": "$.a", "Next": "B"}]),
            "exactly one comparison operator",
        ),
        (
            minimal(
                Type="Choice", Choices=[{"Variable": "$.a", "NumericEquals": "1", "Next": "B"}]
            ),
            "wrong type",
        ),
        (
            minimal(Type="Choice", Choices=[{"Variable": "$.a", "IsNull": True, "Next": "b"}]),
            'did you mean "B"',
        ),
        (minimal(Type="Wait", End=True), "exactly one of Seconds"),
        (minimal(Type="Wait", Seconds=-1, End=True), "Seconds must be an integer >= 0"),
        (minimal(Type="Pass", InputPath=3, End=True), "InputPath must be a JSONPath string"),
        (minimal(Type="Pass", ResultPath="$.a[*]", End=True), "must be a reference path"),
        (minimal(Type="Pass", Parameters={"a.$": "nope"}, End=True), "is not a JSONPath"),
        (
            minimal(Type="Pass", Parameters={"a.$": "States.Hashh($.a, 'MD5')"}, End=True),
            "States.Hashh is not an intrinsic function",
        ),
        (minimal(Type="Pass", Output="{% 1 %}", End=True), "not valid in JSONPath mode"),
        (
            {
                "QueryLanguage": "JSONata",
                "StartAt": "A",
                "States": {"A": {"Type": "Pass", "Parameters": {}, "End": True}},
            },
            "not valid in JSONata mode",
        ),
        (
            {
                "QueryLanguage": "JSONata",
                "StartAt": "A",
                "States": {"A": {"Type": "Pass", "QueryLanguage": "JSONPath", "End": True}},
            },
            "cannot use JSONPath when the state machine uses JSONata",
        ),
        (minimal(Type="Pass", Assign={"a-b": 1}, End=True), "'a-b' is not a valid variable name"),
        (minimal(Type="Map", End=True), "missing 'ItemProcessor'"),
        (minimal(Type="Parallel", End=True), "Branches must be a non-empty list"),
        (minimal(Type="Pass", Bogus=1, End=True), "field 'Bogus' is not valid in a Pass state"),
        (minimal(Type="Fail", Error="E", ErrorPath="$.e"), "both Error and ErrorPath"),
    ],
)
def test_invalid_definitions_are_rejected(definition: dict[str, Any], fragment: str) -> None:
    with pytest.raises(DefinitionError) as info:
        parse_definition(definition)
    assert fragment in info.value.message


def retry_rules(*rules: dict[str, Any], key: str = "Retry") -> dict[str, Any]:
    extra: dict[str, Any] = {key: list(rules)}
    return minimal(Type="Task", Resource=FUNCTION_ARN, End=True, **extra)


@pytest.mark.parametrize("key", ["Retry", "Catch"])
def test_states_all_must_be_alone_and_last(key: str) -> None:
    extra = {"Next": "B"} if key == "Catch" else {}
    alone = {"ErrorEquals": ["States.ALL", "X"], **extra}
    not_last = [{"ErrorEquals": ["States.ALL"], **extra}, {"ErrorEquals": ["X"], **extra}]
    for rules in ([alone], not_last):
        with pytest.raises(DefinitionError, match="States.ALL must appear alone and in the last"):
            parse_definition(retry_rules(*rules, key=key))


def test_catch_target_is_checked_with_suggestion() -> None:
    with pytest.raises(DefinitionError) as info:
        parse_definition(retry_rules({"ErrorEquals": ["X"], "Next": "b"}, key="Catch"))
    assert (
        info.value.message
        == 'States.A.Catch[0].Next names "b", which is not a state; did you mean "B"?'
    )


def test_retrier_field_types_are_checked() -> None:
    with pytest.raises(DefinitionError, match="BackoffRate must be a number >= 1.0"):
        parse_definition(retry_rules({"ErrorEquals": ["X"], "BackoffRate": 0.5}))
    with pytest.raises(DefinitionError, match="MaxAttempts must be an integer >= 0"):
        parse_definition(retry_rules({"ErrorEquals": ["X"], "MaxAttempts": "3"}))


@pytest.mark.parametrize(
    ("definition", "fragment"),
    [
        (
            minimal(
                Type="Map",
                ItemReader={"Resource": "arn:aws:states:::s3:getObject"},
                ItemProcessor={"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
                End=True,
            ),
            "ItemReader is not supported yet",
        ),
        (
            minimal(Type="Task", Resource="arn:aws:states:::sqs:sendMessage", End=True),
            "not supported yet",
        ),
        (
            minimal(Type="Task", Resource=FUNCTION_ARN, HeartbeatSeconds=5, End=True),
            "not supported yet",
        ),
    ],
)
def test_features_not_supported_yet_are_rejected_clearly(
    definition: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(DefinitionError) as info:
        parse_definition(definition)
    assert fragment in info.value.message


def test_error_location_points_at_the_bad_field() -> None:
    text = json.dumps(minimal(Type="Pass", End=True, ResultPath="$.a[*]"), indent=2)
    with pytest.raises(DefinitionError) as info:
        parse_text(text)
    line = text.splitlines().index('      "ResultPath": "$.a[*]"') + 1
    assert (info.value.line, info.value.column) == (line, 21)
    assert info.value.render().startswith(f"machine.asl.json:{line}:21: States.A.ResultPath")


def test_lambda_invoke_needs_function_name() -> None:
    definition = minimal(
        Type="Task", Resource="arn:aws:states:::lambda:invoke", End=True, Parameters={"Payload": 1}
    )
    with pytest.raises(DefinitionError, match="needs Parameters.FunctionName"):
        parse_definition(definition)


def processor() -> dict[str, Any]:
    return {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


@pytest.mark.parametrize(
    ("state", "fragment"),
    [
        (
            {"Type": "Map", "ItemProcessor": processor(), "Iterator": processor(), "End": True},
            "both ItemProcessor and Iterator",
        ),
        (
            {
                "Type": "Map",
                "ItemProcessor": {**processor(), "ProcessorConfig": {"Mode": "FAST"}},
                "End": True,
            },
            "Mode must be INLINE or DISTRIBUTED",
        ),
        (
            {
                "Type": "Map",
                "ItemProcessor": processor(),
                "MaxConcurrency": 2,
                "MaxConcurrencyPath": "$.m",
                "End": True,
            },
            "both MaxConcurrency and MaxConcurrencyPath",
        ),
        (
            {
                "Type": "Map",
                "ItemProcessor": processor(),
                "ToleratedFailurePercentage": 150,
                "End": True,
            },
            "between 0 and 100",
        ),
        (
            {
                "Type": "Map",
                "ItemProcessor": processor(),
                "ItemSelector": {},
                "Parameters": {},
                "End": True,
            },
            "both Parameters and ItemSelector",
        ),
        (
            {
                "Type": "Map",
                "ItemProcessor": {"StartAt": "X", "States": {"P": {"Type": "Pass", "End": True}}},
                "End": True,
            },
            'names "X", which is not a state',
        ),
        (
            {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "P", "States": {"P": {"Type": "Pass", "Next": "Outside"}}}
                ],
                "End": True,
            },
            'Next names "Outside"',
        ),
        (
            {
                "Type": "Parallel",
                "Branches": [processor()],
                "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": -1}],
                "End": True,
            },
            "MaxAttempts must be an integer >= 0",
        ),
    ],
)
def test_map_and_parallel_definitions_are_checked(state: dict[str, Any], fragment: str) -> None:
    with pytest.raises(DefinitionError) as info:
        parse_definition({"StartAt": "S", "States": {"S": state, "Outside": {"Type": "Succeed"}}})
    assert fragment in info.value.message


def test_branches_are_compiled_with_their_own_states() -> None:
    machine = parse_definition(
        {
            "StartAt": "S",
            "States": {
                "S": {"Type": "Parallel", "Branches": [processor(), processor()], "End": True}
            },
        }
    )
    # states maps names to the base State type; "S" is the Parallel or Map built above.
    branches = machine.states["S"].branches  # type: ignore[attr-defined]
    assert [b.start_at for b in branches] == ["P", "P"]
    assert branches[0].states["P"] is not branches[1].states["P"]


def batched_map(batcher: Any, mode: str = "DISTRIBUTED", **fields: Any) -> dict[str, Any]:
    return {
        "StartAt": "S",
        "States": {
            "S": {
                "Type": "Map",
                "ItemProcessor": {**processor(), "ProcessorConfig": {"Mode": mode}},
                "ItemBatcher": batcher,
                "End": True,
                **fields,
            }
        },
    }


def test_item_batcher_compiles_its_limits_and_batch_input() -> None:
    machine = parse_definition(
        batched_map({"MaxItemsPerBatchPath": "$.n", "MaxInputBytesPerBatch": 1024})
    )
    # states maps names to the base State type; "S" is the Parallel or Map built above.
    batcher = machine.states["S"].item_batcher  # type: ignore[attr-defined]
    assert batcher.max_items_per_batch.path.text == "$.n"
    assert batcher.max_input_bytes_per_batch == Fixed(1024)
    assert batcher.batch_input is ABSENT
    jsonata = parse_definition(
        batched_map(
            {"MaxItemsPerBatch": "{% $states.input.n %}", "BatchInput": {"a": "{% 1 %}"}},
            QueryLanguage="JSONata",
        )
    )
    # "S" is the Map built above (states maps names to the base State type).
    assert jsonata.states["S"].item_batcher.batch_input is not ABSENT  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("definition", "fragment"),
    [
        (
            batched_map({"MaxItemsPerBatch": 2}, mode="INLINE"),
            "ItemBatcher needs a Distributed Map",
        ),
        (batched_map({"BatchInput": {}}), "needs MaxItemsPerBatch or MaxInputBytesPerBatch"),
        (
            batched_map({"MaxItemsPerBatch": 2, "MaxItemsPerBatchPath": "$.n"}),
            "has both MaxItemsPerBatch and MaxItemsPerBatchPath",
        ),
        (batched_map({"MaxItemsPerBatch": 0}), "MaxItemsPerBatch must be an integer >= 1"),
        (batched_map({"MaxItemsPerBatch": "2"}), "MaxItemsPerBatch must be an integer >= 1"),
        (
            batched_map({"MaxInputBytesPerBatch": 262145}),
            "MaxInputBytesPerBatch must be at most 262144",
        ),
        (batched_map({"MaxItemsPerBatchPath": "$.a[*]"}), "MaxItemsPerBatchPath"),
        (batched_map([2]), "ItemBatcher must be an object"),
        (
            batched_map({"MaxItemsPerBatchPath": "$.n"}, QueryLanguage="JSONata"),
            "field 'MaxItemsPerBatchPath' is not valid in JSONata mode",
        ),
        (batched_map({"MaxItems": 2}), "field 'MaxItems' is not valid in an ItemBatcher"),
        (
            batched_map({"MaxItemsPerBatch": 2, "BatchInput": {"a.$": "$.b[?("}}),
            "States.S.ItemBatcher.BatchInput.a.$",
        ),
    ],
)
def test_item_batcher_definitions_are_checked(definition: dict[str, Any], fragment: str) -> None:
    with pytest.raises(DefinitionError) as info:
        parse_definition(definition)
    assert fragment in info.value.message


def test_item_batcher_errors_point_at_the_field() -> None:
    text = json.dumps(batched_map({"MaxInputBytesPerBatch": 0}), indent=2)
    with pytest.raises(DefinitionError) as info:
        parse_text(text)
    line = text.splitlines().index('        "MaxInputBytesPerBatch": 0') + 1
    assert (info.value.line, info.value.column) == (line, 34)
