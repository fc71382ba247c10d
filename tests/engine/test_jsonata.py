"""JSONata mode: {% %} expressions, $states, AWS's extra functions, QueryEvaluationError."""

from __future__ import annotations

from typing import Any

import pytest

from tooling.engine import parse_definition
from tooling.errors import DefinitionError

from .fakes import FUNCTION_ARN, Runner, ScriptedLambdas, details, ok, raised


def jsonata(**named: dict[str, Any]) -> dict[str, Any]:
    return {"QueryLanguage": "JSONata", "StartAt": next(iter(named)), "States": named}


def test_output_reads_states_input_and_context(runner: Runner) -> None:
    definition = jsonata(
        A={
            "Type": "Pass",
            "Output": {
                "sum": "{% $states.input.a + $states.input.b %}",
                "state": "{% $states.context.State.Name %}",
                "kept": "plain",
            },
            "End": True,
        }
    )
    assert runner.run(definition, {"a": 1, "b": 2}).output == '{"sum":3,"state":"A","kept":"plain"}'


def test_task_arguments_result_and_output(runner: Runner) -> None:
    lambdas = ScriptedLambdas(lambda f, e: ok({"doubled": e["n"] * 2}))
    definition = jsonata(
        T={
            "Type": "Task",
            "Resource": FUNCTION_ARN,
            "Arguments": {"n": "{% $states.input.value %}"},
            "Output": "{% $merge([$states.input, $states.result]) %}",
            "Assign": {"last": "{% $states.result.doubled %}"},
            "End": True,
        }
    )
    outcome = runner.run(definition, {"value": 4}, lambdas)
    assert outcome.output == '{"value":4,"doubled":8}'
    assert lambdas.calls[0][1] == {"n": 4}
    assert details(runner.sink.events[-2])["assignedVariables"] == {"last": "8"}


def test_catch_output_sees_the_error_output(runner: Runner) -> None:
    lambdas = ScriptedLambdas(lambda f, e: raised("Bad", "no"))
    definition = jsonata(
        T={
            "Type": "Task",
            "Resource": FUNCTION_ARN,
            "Catch": [
                {
                    "ErrorEquals": ["States.ALL"],
                    "Output": {"error": "{% $states.errorOutput.Error %}"},
                    "Next": "D",
                }
            ],
            "End": True,
        },
        D={"Type": "Succeed"},
    )
    assert runner.run(definition, {}, lambdas).output == '{"error":"Bad"}'


def test_choice_condition_and_rule_output(runner: Runner) -> None:
    definition = jsonata(
        C={
            "Type": "Choice",
            "Choices": [
                {"Condition": "{% $states.input.n > 1 %}", "Output": {"big": True}, "Next": "D"}
            ],
            "Default": "D",
        },
        D={"Type": "Succeed"},
    )
    assert runner.run(definition, {"n": 5}).output == '{"big":true}'
    assert Runner().run(definition, {"n": 0}).output == '{"n":0}'


def test_condition_must_be_boolean(runner: Runner) -> None:
    definition = jsonata(
        C={
            "Type": "Choice",
            "Choices": [{"Condition": "{% 'yes' %}", "Next": "D"}],
            "Default": "D",
        },
        D={"Type": "Succeed"},
    )
    outcome = runner.run(definition, {})
    assert outcome.error == "States.QueryEvaluationError"
    assert "Expected 'boolean', but was 'string'" in (outcome.cause or "")


def test_undefined_result_is_a_query_evaluation_error_with_its_event(runner: Runner) -> None:
    definition = jsonata(A={"Type": "Pass", "Output": {"v": "{% $nope %}"}, "End": True})
    outcome = runner.run(definition, {})
    assert outcome.error == "States.QueryEvaluationError"
    assert outcome.cause == (
        "An error occurred while executing the state 'A' (entered at the event id #2). "
        "The JSONata expression '$nope' specified for the field 'Output/v' returned nothing "
        "(undefined)."
    )
    assert runner.sink.types == [
        "ExecutionStarted",
        "PassStateEntered",
        "EvaluationFailed",
        "ExecutionFailed",
    ]
    assert details(runner.sink.events[2])["state"] == "A"


def test_evaluation_errors_are_catchable(runner: Runner) -> None:
    definition = jsonata(
        M={
            "Type": "Map",
            "Items": "{% 'not a list' %}",
            "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
            "Catch": [{"ErrorEquals": ["States.QueryEvaluationError"], "Next": "D"}],
            "End": True,
        },
        D={"Type": "Succeed"},
    )
    outcome = runner.run(definition, {})
    assert outcome.status == "SUCCEEDED"
    assert "Expected 'array', but was 'string'" in (outcome.output or "")


def test_map_items_and_item_selector(runner: Runner) -> None:
    definition = jsonata(
        M={
            "Type": "Map",
            "Items": "{% $states.input.list %}",
            "ItemSelector": {
                "v": "{% $states.context.Map.Item.Value * 10 %}",
                "i": "{% $states.context.Map.Item.Index %}",
            },
            "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
            "End": True,
        }
    )
    assert runner.run(definition, {"list": [1, 2]}).output == '[{"v":10,"i":0},{"v":20,"i":1}]'


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("$partition([1,2,3], 2)", "[[1,2],[3]]"),
        ("$range(0, 6, 3)", "[0,3,6]"),
        ("$hash('input data', 'MD5')", '"812f45842bc6d66ee14572ce20db8e86"'),
        ("$parse('{\"a\":[1]}')", '{"a":[1]}'),
        ("$length($uuid())", "36"),
        ("$random() < 1", "true"),
    ],
)
def test_aws_functions(runner: Runner, expression: str, expected: str) -> None:
    definition = jsonata(A={"Type": "Pass", "Output": "{% " + expression + " %}", "End": True})
    assert runner.run(definition, {}).output == expected


def test_wait_seconds_expression_moves_the_clock(runner: Runner) -> None:
    definition = jsonata(W={"Type": "Wait", "Seconds": "{% $states.input.s %}", "End": True})
    runner.run(definition, {"s": 7})
    assert runner.clock.sleeps == [7]


def test_fail_error_and_cause_expressions(runner: Runner) -> None:
    definition = jsonata(
        F={
            "Type": "Fail",
            "Error": "{% $states.input.e %}",
            "Cause": "{% 'because ' & $states.input.e %}",
        }
    )
    outcome = runner.run(definition, {"e": "Broken"})
    assert (outcome.error, outcome.cause) == ("Broken", "because Broken")


def test_bad_expression_is_a_definition_error() -> None:
    with pytest.raises(DefinitionError, match="is not a valid JSONata expression"):
        parse_definition(jsonata(A={"Type": "Pass", "Output": "{% $states.input. %}", "End": True}))


def test_per_state_query_language(runner: Runner) -> None:
    definition = {
        "StartAt": "A",
        "States": {
            "A": {
                "Type": "Pass",
                "QueryLanguage": "JSONata",
                "Output": "{% $states.input.x * 2 %}",
                "Next": "B",
            },
            "B": {"Type": "Pass", "Parameters": {"doubled.$": "$"}, "End": True},
        },
    }
    assert runner.run(definition, {"x": 21}).output == '{"doubled":42}'


def test_nulls_from_the_input_survive_and_undefined_members_are_dropped(runner: Runner) -> None:
    definition = jsonata(
        A={
            "Type": "Pass",
            "Output": "{% {'all': $states.input, 'gone': $states.input.nope, 'n': null} %}",
            "End": True,
        }
    )
    assert runner.run(definition, {"a": None, "b": [1, None]}).output == (
        '{"all":{"a":null,"b":[1,null]},"n":null}'
    )
