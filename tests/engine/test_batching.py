"""ItemBatcher: how items are grouped (form_batches) and how a Distributed Map runs the batches."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tooling.engine.batching import form_batches
from tooling.engine.errors import StateRuntimeError

from .fakes import Runner, details


def size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":")).encode())


# ---- form_batches -------------------------------------------------------------------------------


def test_batches_by_count_keep_item_order() -> None:
    batches = form_batches([1, 2, 3, 4, 5], 2, None, None, False)
    assert batches == [{"Items": [1, 2]}, {"Items": [3, 4]}, {"Items": [5]}]


def test_a_batch_may_reach_the_byte_limit_but_not_pass_it() -> None:
    items = ["aaaa", "bbbb", "cccc"]
    two = size({"Items": items[:2]})
    assert form_batches(items, None, two, None, False) == [
        {"Items": ["aaaa", "bbbb"]},
        {"Items": ["cccc"]},
    ]
    assert form_batches(items, None, two - 1, None, False) == [{"Items": [i]} for i in items]


def test_the_first_limit_reached_closes_the_batch() -> None:
    items = list(range(10))
    # By count: 3 items per batch; by bytes: room for 5 one-digit items.
    by_bytes = size({"Items": [0, 1, 2, 3, 4]})
    assert [len(b["Items"]) for b in form_batches(items, 3, by_bytes, None, False)] == [
        3,
        3,
        3,
        1,
    ]
    assert [len(b["Items"]) for b in form_batches(items, 6, by_bytes, None, False)] == [5, 5]


def test_batch_input_goes_in_every_batch_and_counts_towards_the_size() -> None:
    batch_input = {"job": "x" * 20}
    limit = size({"BatchInput": batch_input, "Items": [1, 2]})
    batches = form_batches([1, 2, 3], None, limit, batch_input, True)
    assert batches == [
        {"BatchInput": batch_input, "Items": [1, 2]},
        {"BatchInput": batch_input, "Items": [3]},
    ]
    assert list(batches[0]) == ["BatchInput", "Items"]


def test_batches_never_exceed_256_kib_even_without_a_byte_limit() -> None:
    items = ["x" * 100_000 for _ in range(5)]
    batches = form_batches(items, 100, None, None, False)
    assert [len(b["Items"]) for b in batches] == [2, 2, 1]
    assert all(size(b) <= 262144 for b in batches)


def test_an_item_too_large_for_any_batch_is_a_runtime_error() -> None:
    with pytest.raises(StateRuntimeError) as info:
        form_batches(["ok", "far too long"], None, 16, None, False)
    assert info.value.error == "States.Runtime"
    assert info.value.detail == (
        "The item at index 1 (14 bytes) does not fit in a batch of at most 16 bytes "
        "(MaxInputBytesPerBatch)."
    )


def test_no_items_means_no_batch() -> None:
    assert form_batches([], 2, None, {"a": 1}, True) == []


# ---- Distributed Map runs -----------------------------------------------------------------------


def distributed(processor_states: dict[str, Any], **fields: Any) -> dict[str, Any]:
    first = next(iter(processor_states))
    return {
        "StartAt": "S",
        "States": {
            "S": {
                "Type": "Map",
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED"},
                    "StartAt": first,
                    "States": processor_states,
                },
                "End": True,
                **fields,
            }
        },
    }


PASS = {"P": {"Type": "Pass", "End": True}}


def test_each_child_gets_a_batch_with_the_batch_input_and_the_map_returns_their_outputs(
    runner: Runner,
) -> None:
    definition = distributed(
        {
            "Count": {
                "Type": "Pass",
                "Parameters": {"n.$": "States.ArrayLength($.Items)"},
                "End": True,
            }
        },
        InputPath="$.job",
        ItemsPath="$.items",
        ItemBatcher={
            "MaxItemsPerBatch": 2,
            "BatchInput": {"owner.$": "$.owner", "run.$": "$$.Execution.Name", "fixed": 1},
        },
        ResultSelector={"counts.$": "$[*].n"},
    )
    outcome = runner.run(definition, {"job": {"owner": "ann", "items": ["a", "b", "c", "d", "e"]}})
    assert outcome.status == "SUCCEEDED"
    assert outcome.output == '{"counts":[2,2,1]}'
    # The children's events stay out of the parent's history, as for any Distributed Map.
    assert runner.sink.types == [
        "ExecutionStarted",
        "MapStateEntered",
        "MapStateStarted",
        "MapRunStarted",
        "MapRunSucceeded",
        "MapStateSucceeded",
        "MapStateExited",
        "ExecutionSucceeded",
    ]
    assert details(runner.sink.events[2]) == {"length": 5}


def test_child_input_shape(runner: Runner) -> None:
    definition = distributed(
        PASS,
        ItemBatcher={"MaxItemsPerBatch": 3, "BatchInput": {"owner.$": "$.owner"}},
        ItemsPath="$.items",
    )
    outcome = runner.run(definition, {"owner": "ann", "items": [1, 2, 3, 4]})
    assert json.loads(outcome.output or "") == [
        {"BatchInput": {"owner": "ann"}, "Items": [1, 2, 3]},
        {"BatchInput": {"owner": "ann"}, "Items": [4]},
    ]


def test_item_selector_applies_to_each_item_before_batching(runner: Runner) -> None:
    definition = distributed(
        PASS,
        ItemSelector={"i.$": "$$.Map.Item.Index", "v.$": "$$.Map.Item.Value", "k.$": "$.k"},
        ItemsPath="$.items",
        ItemBatcher={"MaxItemsPerBatch": 2},
    )
    outcome = runner.run(definition, {"k": "K", "items": ["a", "b", "c"]})
    assert json.loads(outcome.output or "") == [
        {"Items": [{"i": 0, "v": "a", "k": "K"}, {"i": 1, "v": "b", "k": "K"}]},
        {"Items": [{"i": 2, "v": "c", "k": "K"}]},
    ]


def test_batches_by_bytes_from_paths(runner: Runner) -> None:
    items = ["aaaa", "bbbb", "cccc", "dddd"]
    definition = distributed(
        PASS,
        ItemsPath="$.items",
        ItemBatcher={"MaxItemsPerBatchPath": "$.count", "MaxInputBytesPerBatchPath": "$.bytes"},
    )
    limit = size({"Items": items[:3]})
    outcome = runner.run(definition, {"items": items, "count": 2, "bytes": limit})
    assert json.loads(outcome.output or "") == [{"Items": items[:2]}, {"Items": items[2:]}]
    outcome = Runner().run(definition, {"items": items, "count": 10, "bytes": limit})
    assert json.loads(outcome.output or "") == [{"Items": items[:3]}, {"Items": items[3:]}]


def test_jsonata_limits_and_batch_input_are_expressions(runner: Runner) -> None:
    definition = distributed(
        {
            "P": {
                "Type": "Pass",
                # A state without QueryLanguage uses the top-level one (JSONPath here), also
                # inside a JSONata Map: AWS guide, "Transforming data with JSONata".
                "QueryLanguage": "JSONata",
                "Output": "{% $count($states.input.Items) %}",
                "End": True,
            }
        },
        QueryLanguage="JSONata",
        Items="{% $states.input.items %}",
        ItemBatcher={
            "MaxItemsPerBatch": "{% $states.input.per %}",
            "MaxInputBytesPerBatch": "{% 1000 %}",
            "BatchInput": {
                "who": "{% $states.input.who %}",
                "state": "{% $states.context.State.Name %}",
            },
        },
        Output="{% {'counts': $states.result} %}",
    )
    outcome = runner.run(definition, {"items": [1, 2, 3, 4, 5, 6, 7], "per": 3, "who": "ann"})
    assert outcome.status == "SUCCEEDED"
    assert outcome.output == '{"counts":[3,3,1]}'


def test_jsonata_batch_input_reaches_the_child(runner: Runner) -> None:
    definition = distributed(
        PASS,
        QueryLanguage="JSONata",
        ItemBatcher={"MaxItemsPerBatch": 5, "BatchInput": "{% {'n': $count($states.input)} %}"},
    )
    outcome = runner.run(definition, [1, 2])
    assert outcome.output == '[{"BatchInput":{"n":2},"Items":[1,2]}]'


FAIL_ON_3 = {
    "Check": {
        "Type": "Choice",
        "Choices": [{"Variable": "$.Items[0]", "NumericEquals": 3, "Next": "Boom"}],
        "Default": "Done",
    },
    "Boom": {"Type": "Fail", "Error": "BatchFailed", "Cause": "three"},
    "Done": {"Type": "Pass", "End": True},
}


def test_tolerated_failures_count_batches(runner: Runner) -> None:
    # 5 items in batches of 2: [1,2] [3,4] [5]; the second batch fails (1 of 3 children).
    definition = distributed(
        FAIL_ON_3, ItemBatcher={"MaxItemsPerBatch": 2}, ToleratedFailureCount=1
    )
    outcome = runner.run(definition, [1, 2, 3, 4, 5])
    assert outcome.status == "SUCCEEDED"
    assert json.loads(outcome.output or "") == [
        {"Items": [1, 2]},
        {"Error": "BatchFailed", "Cause": "three"},
        {"Items": [5]},
    ]
    # One failed batch of three is 33.3 %: within 34 %, beyond 33 %.
    within = distributed(
        FAIL_ON_3, ItemBatcher={"MaxItemsPerBatch": 2}, ToleratedFailurePercentage=34
    )
    assert Runner().run(within, [1, 2, 3, 4, 5]).status == "SUCCEEDED"
    beyond = distributed(
        FAIL_ON_3, ItemBatcher={"MaxItemsPerBatch": 2}, ToleratedFailurePercentage=33
    )
    other = Runner()
    outcome = other.run(beyond, [1, 2, 3, 4, 5])
    assert outcome.error == "States.ExceedToleratedFailureThreshold"
    assert other.sink.types[-3:] == ["MapRunFailed", "MapStateFailed", "ExecutionFailed"]


def test_a_failed_batch_fails_the_map_without_tolerance(runner: Runner) -> None:
    # As for any Distributed Map here: no tolerance set means no failure is tolerated.
    definition = distributed(FAIL_ON_3, ItemBatcher={"MaxItemsPerBatch": 2})
    outcome = runner.run(definition, [1, 2, 3, 4, 5])
    assert (outcome.status, outcome.error) == ("FAILED", "States.ExceedToleratedFailureThreshold")


def test_max_concurrency_bounds_the_batches_running_at_once(runner: Runner) -> None:
    wait = {"W": {"Type": "Wait", "Seconds": 1, "End": True}}
    definition = distributed(wait, ItemBatcher={"MaxItemsPerBatch": 2}, MaxConcurrency=2)
    start = runner.clock.now()
    outcome = runner.run(definition, list(range(8)))  # 4 batches, 2 at a time
    assert outcome.status == "SUCCEEDED"
    assert (runner.clock.now() - start).total_seconds() == 2


@pytest.mark.parametrize(
    ("value", "cause"),
    [
        (
            "many",
            'The MaxItemsPerBatchPath field refers to value "many" which is not a valid '
            "integer: $.n",
        ),
        (0, "MaxItemsPerBatch must be a positive integer."),
        (-2, "MaxItemsPerBatch must be a positive integer."),
    ],
)
def test_invalid_max_items_path_values_fail_the_state(value: Any, cause: str) -> None:
    runner = Runner()
    definition = distributed(PASS, ItemsPath="$.items", ItemBatcher={"MaxItemsPerBatchPath": "$.n"})
    outcome = runner.run(definition, {"items": [1], "n": value})
    assert (outcome.status, outcome.error) == ("FAILED", "States.Runtime")
    assert outcome.cause == (
        f"An error occurred while executing the state 'S' (entered at the event id #2). {cause}"
    )
    assert "MapRunStarted" not in runner.sink.types


def test_max_input_bytes_path_cannot_exceed_256_kib(runner: Runner) -> None:
    definition = distributed(
        PASS, ItemsPath="$.items", ItemBatcher={"MaxInputBytesPerBatchPath": "$.b"}
    )
    outcome = runner.run(definition, {"items": [1], "b": 262145})
    assert outcome.error == "States.Runtime"
    assert (outcome.cause or "").endswith("MaxInputBytesPerBatch cannot be greater than 262144.")
    assert Runner().run(definition, {"items": [1], "b": "262144"}).status == "SUCCEEDED"


def test_jsonata_limit_of_the_wrong_type_is_a_query_evaluation_error(runner: Runner) -> None:
    definition = distributed(
        PASS,
        QueryLanguage="JSONata",
        ItemBatcher={"MaxItemsPerBatch": "{% 'two' %}"},
    )
    outcome = runner.run(definition, [1, 2])
    assert outcome.error == "States.QueryEvaluationError"


def test_an_item_larger_than_the_byte_limit_fails_the_map(runner: Runner) -> None:
    definition = distributed(PASS, ItemBatcher={"MaxInputBytesPerBatch": 20})
    outcome = runner.run(definition, ["short", "a string far too long for twenty bytes"])
    assert (outcome.status, outcome.error) == ("FAILED", "States.Runtime")
    assert "The item at index 1 (40 bytes) does not fit in a batch of at most 20 bytes" in (
        outcome.cause or ""
    )
