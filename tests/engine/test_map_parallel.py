"""Parallel and Map: outputs, history events and their details, Retry/Catch, failure tolerance."""

from __future__ import annotations

from typing import Any

from .fakes import Runner, details


def pass_processor(**fields: Any) -> dict[str, Any]:
    return {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True, **fields}}}


def failing_processor() -> dict[str, Any]:
    return {
        "StartAt": "Check",
        "States": {
            "Check": {
                "Type": "Choice",
                "Choices": [{"Variable": "$", "NumericEquals": 2, "Next": "Boom"}],
                "Default": "Keep",
            },
            "Boom": {"Type": "Fail", "Error": "ItemFailed", "Cause": "two"},
            "Keep": {"Type": "Pass", "End": True},
        },
    }


def machine(state: dict[str, Any]) -> dict[str, Any]:
    return {"StartAt": "S", "States": {"S": state}}


def test_parallel_runs_each_branch_on_the_same_input(runner: Runner) -> None:
    definition = machine(
        {
            "Type": "Parallel",
            "Branches": [pass_processor(Result="a"), pass_processor(ResultPath="$.b", Result=2)],
            "ResultSelector": {"first.$": "$[0]", "second.$": "$[1].b"},
            "ResultPath": "$.out",
            "End": True,
        }
    )
    outcome = runner.run(definition, {"x": 1})
    assert outcome.status == "SUCCEEDED"
    assert outcome.output == '{"x":1,"out":{"first":"a","second":2}}'
    assert runner.sink.types == [
        "ExecutionStarted",
        "ParallelStateEntered",
        "ParallelStateStarted",
        "PassStateEntered",
        "PassStateExited",
        "PassStateEntered",
        "PassStateExited",
        "ParallelStateSucceeded",
        "ParallelStateExited",
        "ExecutionSucceeded",
    ]


def test_parallel_branch_failure_is_the_branch_error_and_can_be_caught(runner: Runner) -> None:
    failing = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Oops", "Cause": "c"}}}
    definition = {
        "StartAt": "S",
        "States": {
            "S": {
                "Type": "Parallel",
                "Branches": [pass_processor(), failing],
                "Retry": [{"ErrorEquals": ["Oops"], "MaxAttempts": 1, "IntervalSeconds": 2}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "T"}],
                "End": True,
            },
            "T": {"Type": "Pass", "End": True},
        },
    }
    outcome = runner.run(definition, {"k": 1})
    assert outcome.output == '{"k":1,"error":{"Error":"Oops","Cause":"c"}}'
    assert runner.sink.types.count("ParallelStateStarted") == 2  # one retry
    assert runner.sink.types.count("ParallelStateFailed") == 1  # once, after the retries
    assert runner.clock.sleeps == [2]


def test_map_items_selector_context_and_event_details(runner: Runner) -> None:
    definition = machine(
        {
            "Type": "Map",
            "ItemsPath": "$.list",
            "ItemSelector": {
                "value.$": "$$.Map.Item.Value",
                "index.$": "$$.Map.Item.Index",
                "k.$": "$.k",
            },
            "ItemProcessor": pass_processor(),
            "End": True,
        }
    )
    outcome = runner.run(definition, {"k": "K", "list": ["a", "b"]})
    assert outcome.output == ('[{"value":"a","index":0,"k":"K"},{"value":"b","index":1,"k":"K"}]')
    events = runner.sink.events
    by_type = {e["type"]: e for e in events}
    assert details(by_type["MapStateStarted"]) == {"length": 2}
    iterations = [details(e) for e in events if e["type"] == "MapIterationStarted"]
    assert iterations == [{"name": "S", "index": 0}, {"name": "S", "index": 1}]
    assert runner.sink.types[-3:] == ["MapStateSucceeded", "MapStateExited", "ExecutionSucceeded"]


def test_legacy_iterator_and_parameters_still_work(runner: Runner) -> None:
    definition = machine(
        {
            "Type": "Map",
            "Parameters": {"v.$": "$$.Map.Item.Value"},
            "Iterator": pass_processor(),
            "End": True,
        }
    )
    assert runner.run(definition, [1, 2]).output == '[{"v":1},{"v":2}]'


def test_map_iteration_failure_fails_the_map_with_the_item_error(runner: Runner) -> None:
    definition = machine(
        {"Type": "Map", "MaxConcurrency": 1, "ItemProcessor": failing_processor(), "End": True}
    )
    outcome = runner.run(definition, [1, 2, 3])
    assert (outcome.status, outcome.error, outcome.cause) == ("FAILED", "ItemFailed", "two")
    assert runner.sink.types[-4:] == [
        "FailStateEntered",
        "MapIterationFailed",
        "MapStateFailed",
        "ExecutionFailed",
    ]
    assert runner.sink.types.count("MapIterationStarted") == 2  # the third item never starts


def test_distributed_map_records_a_map_run_and_tolerates_failures(runner: Runner) -> None:
    definition = machine(
        {
            "Type": "Map",
            "Label": "Fan",
            "ToleratedFailureCount": 1,
            "ItemProcessor": {**failing_processor(), "ProcessorConfig": {"Mode": "DISTRIBUTED"}},
            "End": True,
        }
    )
    outcome = runner.run(definition, [1, 2, 3])
    assert outcome.status == "SUCCEEDED"
    assert outcome.output == '[1,{"Error":"ItemFailed","Cause":"two"},3]'
    # Child executions keep their own history: the parent records the Map Run only.
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
    started = details(runner.sink.events[3])
    assert started["mapRunArn"].startswith(
        "arn:aws:states:us-east-1:123456789012:mapRun:machine/Fan:"
    )


def test_distributed_map_over_the_threshold_fails(runner: Runner) -> None:
    definition = machine(
        {
            "Type": "Map",
            "ToleratedFailurePercentage": 10,
            "ItemProcessor": {**failing_processor(), "ProcessorConfig": {"Mode": "DISTRIBUTED"}},
            "End": True,
        }
    )
    outcome = runner.run(definition, [1, 2, 3])
    assert outcome.error == "States.ExceedToleratedFailureThreshold"
    assert runner.sink.types[-3:] == ["MapRunFailed", "MapStateFailed", "ExecutionFailed"]


def test_max_concurrency_path_must_be_an_integer(runner: Runner) -> None:
    definition = machine(
        {
            "Type": "Map",
            "ItemsPath": "$.items",
            "MaxConcurrencyPath": "$.mc",
            "ItemProcessor": pass_processor(),
            "End": True,
        }
    )
    assert runner.run(definition, {"items": [1], "mc": "2"}).status == "SUCCEEDED"
    outcome = Runner().run(definition, {"items": [1], "mc": "many"})
    assert outcome.error == "States.Runtime"
    assert outcome.cause == (
        "An error occurred while executing the state 'S' (entered at the event id #2). "
        'The MaxConcurrencyPath field refers to value "many" which is not a valid integer: $.mc'
    )


def test_map_over_a_non_array_is_a_runtime_error(runner: Runner) -> None:
    definition = machine({"Type": "Map", "ItemProcessor": pass_processor(), "End": True})
    outcome = runner.run(definition, {"not": "a list"})
    assert outcome.error == "States.Runtime"
    assert 'Map state input must be an array but was: {"not":"a list"}' in (outcome.cause or "")


def test_nested_maps_number_events_in_order(runner: Runner) -> None:
    inner = {"Type": "Map", "ItemProcessor": pass_processor(), "End": True}
    definition = machine(
        {"Type": "Map", "ItemProcessor": {"StartAt": "I", "States": {"I": inner}}, "End": True}
    )
    outcome = runner.run(definition, [[1, 2], [3]])
    assert outcome.output == "[[1,2],[3]]"
    ids = [e["id"] for e in runner.sink.events]
    assert ids == list(range(1, len(ids) + 1))
