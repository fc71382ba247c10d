"""Variables (Assign) in JSONPath and JSONata: what `$` means, scopes, and when values appear."""

from __future__ import annotations

from typing import Any

from .fakes import Runner, details


def states(**named: dict[str, Any]) -> dict[str, Any]:
    return {"StartAt": next(iter(named)), "States": named}


def test_assign_reads_the_state_result_and_shows_in_the_exited_event(runner: Runner) -> None:
    definition = states(
        A={
            "Type": "Pass",
            "Result": {"answer": 42},
            "Assign": {"x.$": "$.answer", "lit": "$.no"},
            "Next": "B",
        },
        B={"Type": "Pass", "Parameters": {"x.$": "$x", "lit.$": "$lit"}, "End": True},
    )
    outcome = runner.run(definition, {})
    assert outcome.output == '{"x":42,"lit":"$.no"}'
    exited = details(runner.sink.events[2])
    assert exited["assignedVariables"] == {"x": "42", "lit": '"$.no"'}
    assert exited["assignedVariablesDetails"] == {"truncated": False}


def test_reads_in_a_state_see_values_from_before_its_own_assign(runner: Runner) -> None:
    definition = states(
        A={"Type": "Pass", "Assign": {"n": 1}, "Next": "B"},
        B={
            "Type": "Pass",
            "Parameters": {"seen.$": "$n"},
            "Assign": {"n": 2, "old.$": "$n"},
            "Next": "C",
        },
        C={
            "Type": "Pass",
            "Parameters": {"n.$": "$n", "old.$": "$old", "input.$": "$"},
            "End": True,
        },
    )
    assert runner.run(definition, {}).output == '{"n":2,"old":1,"input":{"seen":1}}'


def test_inner_scopes_read_outer_variables_but_do_not_leak_assignments(runner: Runner) -> None:
    inner = {
        "StartAt": "I",
        "States": {
            "I": {"Type": "Pass", "Parameters": {"x.$": "$x"}, "Assign": {"inner": 1}, "End": True}
        },
    }
    definition = states(
        A={"Type": "Pass", "Assign": {"x": "outer"}, "Next": "M"},
        M={"Type": "Map", "ItemProcessor": inner, "Next": "C"},
        C={
            "Type": "Choice",
            "Choices": [{"Variable": "$inner", "IsPresent": True, "Next": "Leaked"}],
            "Default": "Done",
        },
        Leaked={"Type": "Fail", "Error": "Leaked"},
        Done={"Type": "Succeed"},
    )
    outcome = runner.run(definition, [1, 2])
    assert outcome.status == "SUCCEEDED"
    assert outcome.output == '[{"x":"outer"},{"x":"outer"}]'


def test_choice_state_assign_applies_with_the_matching_rules_assign(runner: Runner) -> None:
    definition = states(
        C={
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.v", "NumericEquals": 1, "Assign": {"rule": "one"}, "Next": "End"}
            ],
            "Assign": {"state": "always", "v.$": "$.v"},
            "Default": "End",
        },
        End={
            "Type": "Pass",
            "Parameters": {"state.$": "$state", "v.$": "$v", "input.$": "$"},
            "End": True,
        },
    )
    assert runner.run(definition, {"v": 2}).output == '{"state":"always","v":2,"input":{"v":2}}'
    matched = Runner()
    definition["States"]["End"]["Parameters"]["rule.$"] = "$rule"
    assert matched.run(definition, {"v": 1}).output == (
        '{"state":"always","v":1,"input":{"v":1},"rule":"one"}'
    )


def test_catcher_assign_reads_the_error_output(runner: Runner) -> None:
    failing = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "Cause": "why"}}}
    definition = states(
        P={
            "Type": "Parallel",
            "Branches": [failing],
            "Catch": [
                {
                    "ErrorEquals": ["States.ALL"],
                    "Assign": {"err.$": "$.Error"},
                    "ResultPath": None,
                    "Next": "T",
                }
            ],
            "End": True,
        },
        T={"Type": "Pass", "Parameters": {"err.$": "$err"}, "End": True},
    )
    assert runner.run(definition, {}).output == '{"err":"E"}'


def test_jsonata_and_jsonpath_states_share_variables(runner: Runner) -> None:
    definition = states(
        A={
            "Type": "Pass",
            "QueryLanguage": "JSONata",
            "Assign": {"total": "{% 1 + 2 %}"},
            "Next": "B",
        },
        B={"Type": "Pass", "Parameters": {"total.$": "$total"}, "End": True},
    )
    assert runner.run(definition, {}).output == '{"total":3}'


def test_undefined_variable_in_a_path_is_a_runtime_error(runner: Runner) -> None:
    definition = states(A={"Type": "Pass", "InputPath": "$missing", "End": True})
    outcome = runner.run(definition, {})
    assert outcome.error == "States.Runtime"
    assert "$missing" in (outcome.cause or "")
