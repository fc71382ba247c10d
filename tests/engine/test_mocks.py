"""Mocked Task answers: the mock file's checks and per-invocation lookup."""

from __future__ import annotations

import json
from typing import Any

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


# ---- Step Functions Local's MockConfigFile -------------------------------------------------

# AWS's documentation example (Step Functions developer guide, "Configuration file for mocked
# service integrations"), as it is.
AWS_EXAMPLE: dict[str, Any] = {
    "StateMachines": {
        "LambdaSQSIntegration": {
            "TestCases": {
                "HappyPath": {"LambdaState": "MockedLambdaSuccess", "SQSState": "MockedSQSSuccess"},
                "RetryPath": {"LambdaState": "MockedLambdaRetry", "SQSState": "MockedSQSSuccess"},
                "HybridPath": {"LambdaState": "MockedLambdaSuccess"},
            }
        }
    },
    "MockedResponses": {
        "MockedLambdaSuccess": {
            "0": {"Return": {"StatusCode": 200, "Payload": {"StatusCode": 200, "body": "Hello"}}}
        },
        "LambdaMockedResourceNotReady": {
            "0": {"Throw": {"Error": "Lambda.ResourceNotReadyException", "Cause": "not ready."}}
        },
        "MockedSQSSuccess": {"0": {"Return": {"MD5OfMessageBody": "3bcb", "MessageId": "3bcb"}}},
        "MockedLambdaRetry": {
            "0": {"Throw": {"Error": "Lambda.ResourceNotReadyException", "Cause": "not ready."}},
            "1-2": {"Throw": {"Error": "Lambda.TimeoutException", "Cause": "Lambda timed out."}},
            "3": {"Return": {"StatusCode": 200, "Payload": {"StatusCode": 200, "body": "Hello"}}},
        },
    },
}
LAMBDA_SQS = {
    "StartAt": "LambdaState",
    "States": {
        "LambdaState": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "worker", "Payload.$": "$"},
            "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 3}],
            "Next": "SQSState",
        },
        "SQSState": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sqs:sendMessage",
            "Parameters": {
                "QueueUrl": "https://sqs.us-east-1.amazonaws.com/1/q",
                "MessageBody.$": "$",
            },
            "ResultPath": "$.sent",
            "End": True,
        },
    },
}


def test_the_aws_format_is_recognised_by_its_keys_and_a_test_case_chosen() -> None:
    mocks = TaskMocks.from_config(AWS_EXAMPLE, test_case="RetryPath")
    assert mocks.states == {"LambdaState", "SQSState"}
    answers = [mocks.next_answer("LambdaState") for _ in range(4)]
    assert [a.error if a else None for a in answers] == [
        "Lambda.ResourceNotReadyException",
        "Lambda.TimeoutException",
        "Lambda.TimeoutException",
        None,
    ]
    assert answers[3] is not None and answers[3].returns["Payload"]["body"] == "Hello"
    hybrid = TaskMocks.from_config(AWS_EXAMPLE, test_case="HybridPath")
    assert hybrid.states == {"LambdaState"}  # SQSState runs for real


def test_the_aws_retry_path_runs_with_the_whole_invoke_answer_as_result(runner: Runner) -> None:
    mocks = TaskMocks.from_config(
        AWS_EXAMPLE, machine_names=["LambdaSQSIntegration"], test_case="RetryPath"
    )
    never = ScriptedLambdas(lambda f, e: pytest.fail("the real function must not be called"))
    outcome = runner.run(LAMBDA_SQS, {"in": 1}, never, mocks=mocks)
    assert outcome.status == "SUCCEEDED", outcome.cause
    # Step Functions Local: Return is the Task's result as it is, not wrapped again.
    assert json.loads(outcome.output or "") == {
        "StatusCode": 200,
        "Payload": {"StatusCode": 200, "body": "Hello"},
        "sent": {"MD5OfMessageBody": "3bcb", "MessageId": "3bcb"},
    }
    assert runner.sink.types.count("TaskFailed") == 3


def test_the_aws_format_needs_a_test_case_when_there_are_several() -> None:
    with pytest.raises(MockError) as info:
        TaskMocks.from_config(AWS_EXAMPLE)
    assert "3 test cases" in info.value.message
    assert info.value.hint == "choose one with --test-case HappyPath|HybridPath|RetryPath"
    with pytest.raises(MockError, match="no test case 'Sad'"):
        TaskMocks.from_config(AWS_EXAMPLE, test_case="Sad")


def test_the_state_machine_entry_is_found_by_name_or_is_the_only_one() -> None:
    two = {**AWS_EXAMPLE, "StateMachines": {**AWS_EXAMPLE["StateMachines"], "Other": {
        "TestCases": {"Only": {"X": "MockedSQSSuccess"}}}}}  # fmt: skip
    assert TaskMocks.from_config(two, machine_names=["svc-dev-other", "Other"]).states == {"X"}
    with pytest.raises(MockError) as info:
        TaskMocks.from_config(two, machine_names=["svc-dev-loop", "loop"])
    assert "no state machine entry for 'svc-dev-loop' or 'loop'" in info.value.message
    assert info.value.hint == "entries: LambdaSQSIntegration, Other"


def test_an_undefined_response_name_is_an_error_with_its_line() -> None:
    text = json.dumps(
        {"StateMachines": {"M": {"TestCases": {"T": {"S": "Nowhere"}}}}, "MockedResponses": {}},
        indent=1,
    )
    config, source = load_json(text, "MockConfigFile.json", error=MockError, what="mock file")
    with pytest.raises(MockError) as info:
        TaskMocks.from_config(config, source)
    assert "uses the mocked response 'Nowhere', not defined" in info.value.message
    assert (info.value.file, info.value.line) == ("MockConfigFile.json", 6)


def test_a_state_the_definition_lacks_is_an_error_with_its_line() -> None:
    text = (
        '{\n  "LambdaFunction": {"0": {"Return": 1}},\n  "LambdaFuncton": {"0": {"Return": 1}}\n}'
    )
    config, source = load_json(text, "mock.json", error=MockError, what="mock file")
    mocks = TaskMocks.from_config(config, source)
    definition = {
        "StartAt": "LambdaFunction",
        "States": {
            "LambdaFunction": {"Type": "Task", "Resource": FUNCTION_ARN, "Next": "P"},
            "P": {"Type": "Parallel", "Branches": [
                {"StartAt": "Inner", "States": {"Inner": {"Type": "Pass", "End": True}}}],
                "End": True},
        },
    }  # fmt: skip
    with pytest.raises(MockError) as info:
        mocks.check_states(definition)
    assert info.value.message == (
        "the mock names a state 'LambdaFuncton' that the definition does not have"
    )
    assert (info.value.file, info.value.line) == ("mock.json", 3)
    assert info.value.hint == "Task states: LambdaFunction"
    with pytest.raises(MockError, match="'Inner', a Pass state; only Task states take mocks"):
        TaskMocks.from_config({"Inner": {"0": {"Return": 1}}}).check_states(definition)


def test_test_case_is_refused_for_the_short_format() -> None:
    with pytest.raises(MockError, match="--test-case needs a Step Functions Local mock file"):
        TaskMocks.from_config({"T": {"0": {"Return": 1}}}, test_case="HappyPath")
