from __future__ import annotations

import json
import random
from typing import Any

import pytest

from tooling.engine import StatesError
from tooling.engine.ports import LambdaResponse, TaskTimedOut

from .fakes import FUNCTION_ARN, INFO, Runner, ScriptedLambdas, details, ok, raised

SEED_DEFINITION: dict[str, Any] = {
    "Comment": "A Retry example of the Amazon States Language using an AWS Lambda Function",
    "StartAt": "LambdaFunction",
    "States": {
        "LambdaFunction": {
            "Type": "Task",
            "Resource": FUNCTION_ARN,
            "ResultPath": "$.taskresult",
            "Retry": [
                {
                    "ErrorEquals": ["CustomError"],
                    "IntervalSeconds": 1,
                    "MaxAttempts": 2,
                    "BackoffRate": 2.0,
                },
                {
                    "ErrorEquals": ["States.TaskFailed"],
                    "IntervalSeconds": 30,
                    "MaxAttempts": 2,
                    "BackoffRate": 2.0,
                },
                {
                    "ErrorEquals": ["States.ALL"],
                    "IntervalSeconds": 5,
                    "MaxAttempts": 5,
                    "BackoffRate": 2.0,
                },
            ],
            "Next": "ChoiceState",
        },
        "ChoiceState": {
            "Type": "Choice",
            "Choices": [
                {
                    "Variable": "$.taskresult.value1",
                    "StringEquals": "value1",
                    "Next": "SuccessState",
                },
                {"Variable": "$.taskresult.count", "NumericLessThan": 5, "Next": "LambdaFunction"},
            ],
            "Default": "FailState",
        },
        "SuccessState": {"Type": "Succeed"},
        "FailState": {"Type": "Fail", "Cause": "Invalid response.", "Error": "ErrorA"},
    },
}
SEED_INPUT = {"key1": "value1", "key2": "value2", "key3": "value3"}


def seed_handler(function: str, event: dict[str, Any]) -> LambdaResponse:
    """The seed's lambda_handler, same logic (its print calls left out).

    With no taskresult, count is set to 0 and then incremented, so the first call already
    answers count 1 and the fifth call answers the final result: five calls in all.
    """
    taskresult = event.get("taskresult")
    count = 0 if taskresult is None else taskresult.get("count")
    count = 0 if count is None else count + 1
    if count < 5:
        return ok({"count": count, "value1": "ThereIsNoSpoon"})
    return ok({"value1": event["key1"], "value2": event["key2"], "count": count})


def test_seed_machine_output_calls_and_history(runner: Runner) -> None:
    lambdas = ScriptedLambdas(seed_handler)
    outcome = runner.run(SEED_DEFINITION, SEED_INPUT, lambdas)

    assert outcome.status == "SUCCEEDED"
    assert outcome.output == (
        '{"key1":"value1","key2":"value2","key3":"value3",'
        '"taskresult":{"value1":"value1","value2":"value2","count":5}}'
    )
    assert [call[1].get("taskresult", {}).get("count") for call in lambdas.calls] == [
        None,
        1,
        2,
        3,
        4,
    ]
    assert all(call[0] == FUNCTION_ARN for call in lambdas.calls)
    loop = [
        "TaskStateEntered",
        "LambdaFunctionScheduled",
        "LambdaFunctionStarted",
        "LambdaFunctionSucceeded",
        "TaskStateExited",
        "ChoiceStateEntered",
        "ChoiceStateExited",
    ]
    assert runner.sink.types == [
        "ExecutionStarted",
        *loop * 5,
        "SucceedStateEntered",
        "SucceedStateExited",
        "ExecutionSucceeded",
    ]
    events = runner.sink.events
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    # AWS: ExecutionStarted and the first StateEntered point at 0, the rest at the event before.
    assert [e["previousEventId"] for e in events] == [0, 0, *range(2, len(events))]
    assert runner.clock.sleeps == []


def test_seed_history_details(runner: Runner) -> None:
    runner.run(SEED_DEFINITION, SEED_INPUT, ScriptedLambdas(seed_handler))
    events = runner.sink.events
    assert details(events[0]) == {
        "input": json.dumps(SEED_INPUT),
        "inputDetails": {"truncated": False},
        "roleArn": INFO.role_arn,
    }
    assert details(events[1]) == {
        "name": "LambdaFunction",
        "input": '{"key1":"value1","key2":"value2","key3":"value3"}',
        "inputDetails": {"truncated": False},
    }
    assert details(events[2]) == {
        "resource": FUNCTION_ARN,
        "input": '{"key1":"value1","key2":"value2","key3":"value3"}',
        "inputDetails": {"truncated": False},
    }
    assert "lambdaFunctionStartedEventDetails" not in events[3]
    assert details(events[3 + 1]) == {
        "output": json.dumps({"count": 1, "value1": "ThereIsNoSpoon"}),
        "outputDetails": {"truncated": False},
    }
    assert details(events[5])["output"] == (
        '{"key1":"value1","key2":"value2","key3":"value3",'
        '"taskresult":{"count":1,"value1":"ThereIsNoSpoon"}}'
    )
    assert details(events[-1])["output"] == details(events[-2])["output"]


def test_fail_state_ends_with_its_error_and_cause(runner: Runner) -> None:
    outcome = runner.run(
        {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "Cause": "C"}}}
    )
    assert (outcome.status, outcome.output, outcome.error, outcome.cause) == (
        "FAILED",
        None,
        "E",
        "C",
    )
    assert runner.sink.types == ["ExecutionStarted", "FailStateEntered", "ExecutionFailed"]
    assert details(runner.sink.events[-1]) == {"error": "E", "cause": "C"}


def test_fail_state_paths_read_the_input(runner: Runner) -> None:
    definition = {
        "StartAt": "F",
        "States": {"F": {"Type": "Fail", "ErrorPath": "$.e", "CausePath": "$$.State.Name"}},
    }
    outcome = runner.run(definition, {"e": "Boom"})
    assert (outcome.error, outcome.cause) == ("Boom", "F")


def test_pass_parameters_result_path_and_output_path(runner: Runner) -> None:
    definition = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Pass",
                "InputPath": "$.in",
                "Parameters": {"fixed": 1, "copied.$": "$.a", "name.$": "$$.Execution.Name"},
                "ResultPath": "$.in.made",
                "OutputPath": "$.in",
                "End": True,
            }
        },
    }
    outcome = runner.run(definition, {"in": {"a": [1, 2]}, "other": True})
    assert json.loads(outcome.output or "") == {
        "a": [1, 2],
        "made": {"fixed": 1, "copied": [1, 2], "name": "run-1"},
    }


def test_result_path_does_not_change_the_input_object(runner: Runner) -> None:
    definition = {
        "StartAt": "P",
        "States": {
            "P": {"Type": "Pass", "Result": 1, "ResultPath": "$.x.y", "Next": "Q"},
            "Q": {"Type": "Pass", "End": True},
        },
    }
    outcome = runner.run(definition, {"x": {"z": 0}})
    assert json.loads(outcome.output or "") == {"x": {"z": 0, "y": 1}}
    assert details(runner.sink.events[1])["input"] == '{"x":{"z":0}}'


def test_missing_input_path_is_a_runtime_error_with_aws_wording(runner: Runner) -> None:
    definition = {
        "StartAt": "X",
        "States": {"X": {"Type": "Pass", "InputPath": "$.foo", "End": True}},
    }
    outcome = runner.run(definition, {})
    assert outcome.error == "States.Runtime"
    assert outcome.cause == (
        "An error occurred while executing the state 'X' (entered at the event id #2). "
        "Invalid path '$.foo' : No results for path: $['foo']"
    )


def test_missing_parameters_path_names_the_field_and_input(runner: Runner) -> None:
    definition = {
        "StartAt": "X",
        "States": {"X": {"Type": "Pass", "Parameters": {"v.$": "$.nope"}, "End": True}},
    }
    outcome = runner.run(definition, {"a": 1})
    assert outcome.cause == (
        "An error occurred while executing the state 'X' (entered at the event id #2). "
        "The JSONPath '$.nope' specified for the field 'v.$' could not be found "
        "in the input '{\"a\":1}'"
    )


def test_wait_seconds_path_and_timestamp_use_the_clock(runner: Runner) -> None:
    definition = {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Wait", "SecondsPath": "$.s", "Next": "B"},
            "B": {"Type": "Wait", "Timestamp": "2024-01-01T00:01:00Z", "Next": "C"},
            "C": {"Type": "Wait", "Seconds": 3, "End": True},
        },
    }
    outcome = runner.run(definition, {"s": 10})
    assert outcome.status == "SUCCEEDED"
    assert runner.clock.sleeps == [10, 50, 3]


@pytest.mark.parametrize(
    ("value", "detail"),
    [
        (1.5, "The SecondsPath parameter cannot be parsed as a long value: $.s == 1.5"),
        (-1, "The SecondsPath parameter references a negative value: $.s == -1"),
    ],
)
def test_wait_seconds_path_rejects_bad_values(runner: Runner, value: float, detail: str) -> None:
    definition = {
        "StartAt": "W",
        "States": {"W": {"Type": "Wait", "SecondsPath": "$.s", "End": True}},
    }
    outcome = runner.run(definition, {"s": value})
    assert outcome.error == "States.Runtime"
    assert outcome.cause and outcome.cause.endswith(detail)


def test_choice_without_match_or_default_fails(runner: Runner) -> None:
    definition = {
        "StartAt": "C",
        "States": {
            "C": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "D"}],
            },
            "D": {"Type": "Succeed"},
        },
    }
    outcome = runner.run(definition, {"n": 2})
    assert (outcome.status, outcome.error) == ("FAILED", "States.NoChoiceMatched")


def test_state_output_over_256_kib_is_data_limit_exceeded(runner: Runner) -> None:
    definition = {
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Result": "a" * 262144, "End": True}},
    }
    outcome = runner.run(definition)
    assert outcome.error == "States.DataLimitExceeded"
    assert runner.sink.types == ["ExecutionStarted", "PassStateEntered", "ExecutionFailed"]


# ---- Task: retries, catches, timeouts -------------------------------------------------------


def task(**fields: Any) -> dict[str, Any]:
    return {
        "StartAt": "T",
        "States": {
            "T": {"Type": "Task", "Resource": FUNCTION_ARN, "End": True, **fields},
            "Handled": {"Type": "Pass", "End": True},
        },
    }


def failing(times: int, error_type: str = "CustomError") -> ScriptedLambdas:
    def handler(function: str, event: Any) -> LambdaResponse:
        if len(lambdas.calls) <= times:
            return raised(error_type, "boom")
        return ok({"done": True})

    lambdas = ScriptedLambdas(handler)
    return lambdas


def test_retry_backoff_sleeps_on_the_clock(runner: Runner) -> None:
    retry = [
        {"ErrorEquals": ["CustomError"], "IntervalSeconds": 1, "BackoffRate": 2, "MaxAttempts": 2}
    ]
    lambdas = failing(2)
    outcome = runner.run(task(Retry=retry), {}, lambdas)
    assert outcome.status == "SUCCEEDED"
    assert runner.clock.sleeps == [1, 2]
    assert len(lambdas.calls) == 3
    assert runner.sink.types.count("LambdaFunctionFailed") == 2
    assert runner.sink.types.count("TaskStateEntered") == 1


def test_retry_gives_up_after_max_attempts(runner: Runner) -> None:
    retry = [
        {"ErrorEquals": ["CustomError"], "IntervalSeconds": 1, "BackoffRate": 2, "MaxAttempts": 2}
    ]
    outcome = runner.run(task(Retry=retry), {}, failing(5))
    assert (outcome.status, outcome.error) == ("FAILED", "CustomError")
    assert runner.clock.sleeps == [1, 2]


def test_retry_defaults_and_max_delay_cap(runner: Runner) -> None:
    retry = [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 3, "MaxDelaySeconds": 5}]
    runner.run(task(Retry=retry), {}, failing(10))
    assert runner.clock.sleeps == [3, 5, 5]  # MaxAttempts 3 by default, 3*2=6 and 12 capped at 5


def test_only_the_first_matching_retrier_counts(runner: Runner) -> None:
    retry = [
        {"ErrorEquals": ["CustomError"], "MaxAttempts": 1},
        {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 7},
    ]
    outcome = runner.run(task(Retry=retry), {}, failing(5))
    assert outcome.error == "CustomError"
    assert runner.clock.sleeps == [1]


def test_full_jitter_uses_the_injected_random(runner: Runner) -> None:
    retry = [
        {
            "ErrorEquals": ["States.ALL"],
            "IntervalSeconds": 4,
            "MaxAttempts": 2,
            "JitterStrategy": "FULL",
        }
    ]
    runner.run(task(Retry=retry), {}, failing(5), random=random.Random(7))
    expected_rng = random.Random(7)
    assert runner.clock.sleeps == [expected_rng.uniform(0, 4), expected_rng.uniform(0, 8)]


def test_catch_puts_error_output_at_result_path(runner: Runner) -> None:
    catch = [{"ErrorEquals": ["States.TaskFailed"], "Next": "Handled", "ResultPath": "$.error"}]
    definition = task(Catch=catch)
    outcome = runner.run(definition, {"keep": 1}, failing(1, "ValueError"))
    assert outcome.status == "SUCCEEDED"
    output = json.loads(outcome.output or "")
    assert output["keep"] == 1
    assert output["error"]["Error"] == "ValueError"
    assert json.loads(output["error"]["Cause"])["errorMessage"] == "boom"
    assert runner.sink.types[-5:] == [
        "LambdaFunctionFailed",
        "TaskStateExited",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ]


def test_lambda_failure_cause_is_the_payload_verbatim(runner: Runner) -> None:
    lambdas = failing(1, "CustomError")
    outcome = runner.run(task(), {}, lambdas)
    assert outcome.error == "CustomError"
    assert outcome.cause == json.dumps(
        {"errorMessage": "boom", "errorType": "CustomError", "requestId": "req-1", "stackTrace": []}
    )
    assert details(runner.sink.events[4]) == {"error": outcome.error, "cause": outcome.cause}


def test_lambda_error_without_error_type_is_lambda_unknown(runner: Runner) -> None:
    lambdas = ScriptedLambdas(
        lambda f, e: LambdaResponse(
            '{"errorMessage":"Task timed out after 3.00 seconds"}', "Unhandled"
        )
    )
    assert runner.run(task(), {}, lambdas).error == "Lambda.Unknown"


def test_runtime_errors_are_not_caught_by_states_all(runner: Runner) -> None:
    catch = [{"ErrorEquals": ["States.ALL"], "Next": "Handled"}]
    outcome = runner.run(task(InputPath="$.missing", Catch=catch), {})
    assert (outcome.status, outcome.error) == ("FAILED", "States.Runtime")


def test_service_errors_from_the_invoker_are_catchable(runner: Runner) -> None:
    def handler(function: str, event: Any) -> LambdaResponse:
        raise StatesError("Lambda.ResourceNotFoundException", "Function not found")

    catch = [{"ErrorEquals": ["States.ALL"], "Next": "Handled"}]
    outcome = runner.run(task(Catch=catch), {}, ScriptedLambdas(handler))
    assert json.loads(outcome.output or "") == {
        "Error": "Lambda.ResourceNotFoundException",
        "Cause": "Function not found",
    }


def timing_out(function: str, event: Any) -> LambdaResponse:
    raise TaskTimedOut()


def test_task_timeout_is_states_timeout(runner: Runner) -> None:
    lambdas = ScriptedLambdas(timing_out)
    outcome = runner.run(task(TimeoutSeconds=5), {}, lambdas)
    assert (outcome.status, outcome.error, outcome.cause) == ("FAILED", "States.Timeout", None)
    assert lambdas.calls[0][2] == 5
    assert details(runner.sink.events[2])["timeoutInSeconds"] == 5
    assert runner.sink.types[-2:] == ["LambdaFunctionTimedOut", "ExecutionFailed"]
    assert details(runner.sink.events[-2]) == {"error": "States.Timeout"}


def test_states_task_failed_does_not_match_timeouts(runner: Runner) -> None:
    catch = [{"ErrorEquals": ["States.TaskFailed"], "Next": "Handled"}]
    outcome = runner.run(task(TimeoutSeconds=5, Catch=catch), {}, ScriptedLambdas(timing_out))
    assert outcome.error == "States.Timeout"
    outcome = Runner().run(
        task(
            TimeoutSecondsPath="$.t", Catch=[{"ErrorEquals": ["States.Timeout"], "Next": "Handled"}]
        ),
        {"t": 9},
        ScriptedLambdas(timing_out),
    )
    assert json.loads(outcome.output or "") == {"Error": "States.Timeout"}


def test_context_object_has_retry_count_in_tasks(runner: Runner) -> None:
    retry = [{"ErrorEquals": ["States.ALL"]}]
    lambdas = failing(1)
    runner.run(
        task(
            Retry=retry,
            Parameters={"retry.$": "$$.State.RetryCount", "start.$": "$$.Execution.StartTime"},
        ),
        {},
        lambdas,
    )
    assert [call[1]["retry"] for call in lambdas.calls] == [0, 1]
    assert lambdas.calls[0][1]["start"] == "2024-01-01T00:00:00.000Z"


# ---- lambda:invoke (optimized integration) ----------------------------------------------------


def invoke_definition(**fields: Any) -> dict[str, Any]:
    return {
        "StartAt": "Invoke",
        "States": {
            "Invoke": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "worker", "Payload.$": "$"},
                "End": True,
                **fields,
            }
        },
    }


def test_lambda_invoke_result_shape_and_events(runner: Runner) -> None:
    lambdas = ScriptedLambdas(lambda f, e: ok({"echo": e}))
    outcome = runner.run(invoke_definition(), {"a": 1}, lambdas)
    assert lambdas.calls == [("worker", {"a": 1}, None)]
    result = json.loads(outcome.output or "")
    assert result["Payload"] == {"echo": {"a": 1}}
    assert result["StatusCode"] == 200
    assert result["ExecutedVersion"] == "$LATEST"
    assert set(result) == {
        "ExecutedVersion",
        "Payload",
        "SdkHttpMetadata",
        "SdkResponseMetadata",
        "StatusCode",
    }
    assert runner.sink.types == [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]
    assert details(runner.sink.events[2]) == {
        "resourceType": "lambda",
        "resource": "invoke",
        "region": "us-east-1",
        "parameters": '{"FunctionName":"worker","Payload":{"a":1}}',
    }
    assert details(runner.sink.events[3]) == {"resourceType": "lambda", "resource": "invoke"}


def test_lambda_invoke_failure_cause_is_compact_json(runner: Runner) -> None:
    lambdas = ScriptedLambdas(lambda f, e: raised("ValueError", "bad"))
    outcome = runner.run(invoke_definition(), {}, lambdas)
    assert outcome.error == "ValueError"
    assert (
        outcome.cause
        == '{"errorMessage":"bad","errorType":"ValueError","requestId":"req-1","stackTrace":[]}'
    )
    assert details(runner.sink.events[4]) == {
        "resourceType": "lambda",
        "resource": "invoke",
        "error": "ValueError",
        "cause": outcome.cause,
    }


def test_lambda_invoke_timeout_event(runner: Runner) -> None:
    outcome = runner.run(invoke_definition(TimeoutSeconds=2), {}, ScriptedLambdas(timing_out))
    assert outcome.error == "States.Timeout"
    assert runner.sink.types[-2] == "TaskTimedOut"
    assert details(runner.sink.events[2])["timeoutInSeconds"] == 2


def test_result_selector_reads_the_task_result(runner: Runner) -> None:
    definition = invoke_definition(ResultSelector={"body.$": "$.Payload.echo"}, ResultPath="$.out")
    outcome = runner.run(definition, {"a": 1}, ScriptedLambdas(lambda f, e: ok({"echo": e})))
    assert json.loads(outcome.output or "") == {"a": 1, "out": {"body": {"a": 1}}}
