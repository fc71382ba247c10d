"""lambda:invoke with InvocationType Event (Lambda answers 202 at once; the function's result and
failure are not the task's), and a .waitForTaskToken task that passes the whole context."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tooling.engine import parse_definition
from tooling.engine.callbacks import InMemoryTaskCallbacks
from tooling.engine.ports import CallbackOutcome
from tooling.errors import DefinitionError
from tooling.validate import validate_definition

from .fakes import Runner, ScriptedLambdas, details, ok, raised

INVOKE = "arn:aws:states:::lambda:invoke"


def event_machine(**parameters: Any) -> dict[str, Any]:
    return {
        "StartAt": "Fire",
        "States": {
            "Fire": {
                "Type": "Task",
                "Resource": INVOKE,
                "Parameters": {
                    "FunctionName": "worker",
                    "InvocationType": "Event",
                    "Payload": {"n.$": "$.n"},
                    **parameters,
                },
                "Next": "After",
            },
            "After": {"Type": "Pass", "End": True},
        },
    }


def test_event_answers_202_with_an_empty_payload_and_goes_on() -> None:
    lambdas = ScriptedLambdas(lambda function, event: ok({"seen": event}))
    runner = Runner()
    outcome = runner.run(event_machine(), {"n": 7}, lambdas)
    assert outcome.status == "SUCCEEDED"
    result = json.loads(outcome.output or "null")
    assert result["StatusCode"] == 202
    assert result["Payload"] == ""
    assert result["SdkHttpMetadata"]["HttpStatusCode"] == 202
    assert result["SdkResponseMetadata"]["RequestId"] == "event-1"
    assert "ExecutedVersion" not in result
    assert lambdas.calls == [("worker", {"n": 7}, None)]  # the function was called, not awaited
    succeeded = [e for e in runner.sink.events if e["type"] == "TaskSucceeded"]
    assert json.loads(details(succeeded[0])["output"]) == result


def test_a_failing_function_does_not_fail_an_event_task() -> None:
    lambdas = ScriptedLambdas(lambda function, event: raised("ValueError", "boom"))
    outcome = Runner().run(event_machine(), {"n": 1}, lambdas)
    assert outcome.status == "SUCCEEDED"
    assert json.loads(outcome.output or "null")["StatusCode"] == 202


def test_request_response_still_waits_for_the_result() -> None:
    lambdas = ScriptedLambdas(lambda function, event: raised("ValueError", "boom"))
    outcome = Runner().run(event_machine(InvocationType="RequestResponse"), {"n": 1}, lambdas)
    assert (outcome.status, outcome.error) == ("FAILED", "ValueError")


def test_dry_run_is_refused_by_the_local_engine_with_its_line() -> None:
    with pytest.raises(DefinitionError, match='InvocationType "DryRun" is not supported yet'):
        parse_definition(event_machine(InvocationType="DryRun"))


def human_approval(payload: dict[str, Any]) -> dict[str, Any]:
    """AWS's human-approval sample: the Lambda gets the whole context, which holds Task.Token."""
    return {
        "StartAt": "Ask",
        "States": {
            "Ask": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {"FunctionName": "ask", "Payload": payload},
                "End": True,
            }
        },
    }


@pytest.mark.parametrize(
    "payload",
    [
        {"ExecutionContext.$": "$$"},
        {"task.$": "$$.Task"},
        {"token.$": "$$.Task.Token"},
        {"text.$": "States.JsonToString($$)"},
    ],
)
def test_passing_the_whole_context_passes_the_token(payload: dict[str, Any]) -> None:
    # plan/deploy (the parser) and validate agree: the context holds Task.Token.
    parse_definition(human_approval(payload))
    assert [d.code for d in validate_definition(human_approval(payload))] == []


@pytest.mark.parametrize("payload", [{"id.$": "$$.Execution.Id"}, {"x.$": "$.Task.Token"}])
def test_a_payload_without_the_token_is_refused_by_both(payload: dict[str, Any]) -> None:
    with pytest.raises(DefinitionError, match="needs Parameters to pass the task token"):
        parse_definition(human_approval(payload))
    assert [d.code for d in validate_definition(human_approval(payload))] == ["TASK_TOKEN_MISSING"]


def test_the_whole_context_reaches_the_function_with_its_token() -> None:
    runner = Runner()
    callbacks = InMemoryTaskCallbacks(runner.clock)
    seen: list[Any] = []

    def ask(function: str, event: Any) -> Any:
        seen.append(event)
        token = event["ExecutionContext"]["Task"]["Token"]
        callbacks.schedule(token, 1, CallbackOutcome(output=json.dumps({"ok": True})))
        return ok({})

    outcome = runner.run(
        human_approval({"ExecutionContext.$": "$$"}),
        {},
        ScriptedLambdas(ask),
        callbacks=callbacks,
    )
    assert outcome.status == "SUCCEEDED", outcome
    assert json.loads(outcome.output or "null") == {"ok": True}
    assert set(seen[0]["ExecutionContext"]) >= {"Execution", "State", "StateMachine", "Task"}
