"""Mocked Task answers: the mock file's checks and per-invocation lookup."""

from __future__ import annotations

import pytest

from tooling.engine import MockError, TaskMocks
from tooling.sourcemap import load_json

from .fakes import FUNCTION_ARN, Runner, ScriptedLambdas, ok


def test_ranges_pick_the_answer_for_each_invocation() -> None:
    mocks = TaskMocks.from_config({"T": {"0": {"Return": 1}, "1-2": {"Throw": {"Error": "E"}}}})
    answers = [mocks.next_answer("T") for _ in range(4)]
    assert answers[0] is not None and answers[0].returns == 1
    assert [a.error if a else None for a in answers[1:]] == ["E", "E", None]
    assert mocks.covers("T") and not mocks.covers("Other")


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ([], "must be an object"),
        ({"T": {}}, "must be an object of invocation numbers"),
        ({"T": {"first": {"Return": 1}}}, "'first' is not an invocation number"),
        ({"T": {"3-1": {"Return": 1}}}, "ends before it starts"),
        ({"T": {"0": {"Answer": 1}}}, '{"Return": value}'),
        ({"T": {"0": {"Throw": {"Cause": "c"}}}}, "Throw needs an Error string"),
    ],
)
def test_bad_mock_files_are_rejected(config: object, fragment: str) -> None:
    with pytest.raises(MockError) as info:
        TaskMocks.from_config(config)
    assert fragment in info.value.message


def test_errors_point_at_the_bad_line() -> None:
    text = '{\n  "T": {\n    "x": {"Return": 1}\n  }\n}'
    config, source = load_json(text, "mocks.json", error=MockError, what="mock file")
    with pytest.raises(MockError) as info:
        TaskMocks.from_config(config, source)
    assert (info.value.file, info.value.line) == ("mocks.json", 3)


def test_an_invocation_without_an_answer_fails_the_execution(runner: Runner) -> None:
    definition = {
        "StartAt": "T",
        "States": {"T": {"Type": "Task", "Resource": FUNCTION_ARN, "End": True}},
    }
    mocks = TaskMocks.from_config({"T": {"1": {"Return": 1}}})
    outcome = runner.run(definition, {}, ScriptedLambdas(lambda f, e: ok(e)), mocks=mocks)
    assert outcome.error == "States.Runtime"
    assert "has no answer for this invocation" in (outcome.cause or "")


def test_mocks_work_for_lambda_invoke_too(runner: Runner) -> None:
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "worker", "Payload.$": "$"},
                "OutputPath": "$.Payload",
                "End": True,
            }
        },
    }
    mocks = TaskMocks.from_config({"T": {"0": {"Return": {"mocked": True}}}})
    outcome = runner.run(definition, {}, ScriptedLambdas(lambda f, e: ok(e)), mocks=mocks)
    assert outcome.output == '{"mocked":true}'
