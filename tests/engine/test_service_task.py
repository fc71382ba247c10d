"""Task states calling other AWS services, answered by mocks (tooling/engine/service_task.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tooling.engine import TaskMocks, parse_definition
from tooling.errors import DefinitionError
from tooling.sourcemap import load_json

from .fakes import Runner, details

GET_ITEM = "arn:aws:states:::dynamodb:getItem"


def machine(resource: str = GET_ITEM, **fields: Any) -> dict[str, Any]:
    task = {
        "Type": "Task",
        "Resource": resource,
        "Parameters": {"TableName": "orders", "Key": {"id": {"S.$": "$.id"}}},
        "End": True,
        **fields,
    }
    return {"StartAt": "Load", "States": {"Load": task}}


def test_without_a_mock_the_local_engine_refuses_it_where_it_is_written() -> None:
    text = json.dumps(machine(), indent=2)
    definition, source = load_json(text, "flow.asl.json", error=DefinitionError, what="x")
    with pytest.raises(DefinitionError) as info:
        parse_definition(definition, source)
    error = info.value
    assert (error.file, error.line) == ("flow.asl.json", 6)
    assert "is not supported yet by the local engine" in str(error)
    assert "tool run --mock FILE" in (error.hint or "")


def test_a_mocked_integration_records_the_request_response_events(runner: Runner) -> None:
    mocks = TaskMocks.from_config({"Load": {"0": {"Return": {"Item": {"n": {"N": "7"}}}}}})
    outcome = runner.run(
        machine(ResultSelector={"n.$": "$.Item.n.N"}, ResultPath="$.loaded"),
        {"id": "a-1"},
        mocks=mocks,
    )
    assert outcome.status == "SUCCEEDED"
    assert json.loads(outcome.output or "") == {"id": "a-1", "loaded": {"n": "7"}}
    events = runner.sink.events
    assert [e["type"] for e in events] == [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]
    assert details(events[2]) == {
        "resourceType": "dynamodb",
        "resource": "getItem",
        "region": "us-east-1",
        "parameters": '{"TableName":"orders","Key":{"id":{"S":"a-1"}}}',
    }
    assert details(events[3]) == {"resourceType": "dynamodb", "resource": "getItem"}
    assert details(events[4]) == {
        "resourceType": "dynamodb",
        "resource": "getItem",
        "output": '{"Item":{"n":{"N":"7"}}}',
        "outputDetails": {"truncated": False},
    }


def test_a_thrown_mock_fails_the_attempt_and_retry_and_catch_apply(runner: Runner) -> None:
    mocks = TaskMocks.from_config(
        {
            "Load": {
                "0": {"Throw": {"Error": "DynamoDB.ProvisionedThroughputExceededException"}},
                "1": {"Throw": {"Error": "DynamoDB.ResourceNotFoundException", "Cause": "gone"}},
            }
        }
    )
    definition = machine(
        Retry=[{"ErrorEquals": ["DynamoDB.ProvisionedThroughputExceededException"]}],
        Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Missing"}],
    )
    definition["States"]["Load"].pop("End")
    definition["States"]["Load"]["Next"] = "Done"
    definition["States"]["Missing"] = {"Type": "Pass", "End": True}
    definition["States"]["Done"] = {"Type": "Succeed"}
    outcome = runner.run(definition, {"id": "a-1"}, mocks=mocks)
    assert json.loads(outcome.output or "") == {
        "Error": "DynamoDB.ResourceNotFoundException",
        "Cause": "gone",
    }
    failed = [details(e) for e in runner.sink.events if e["type"] == "TaskFailed"]
    assert failed == [
        {
            "resourceType": "dynamodb",
            "resource": "getItem",
            "error": "DynamoDB.ProvisionedThroughputExceededException",
        },
        {
            "resourceType": "dynamodb",
            "resource": "getItem",
            "error": "DynamoDB.ResourceNotFoundException",
            "cause": "gone",
        },
    ]


def test_sdk_integrations_name_the_service_as_aws_sdk(runner: Runner) -> None:
    mocks = TaskMocks.from_config({"Load": {"0": {"Return": {"Buckets": []}}}})
    definition = machine("arn:aws:states:::aws-sdk:s3:listBuckets", Parameters={})
    outcome = runner.run(definition, {}, mocks=mocks)
    assert json.loads(outcome.output or "") == {"Buckets": []}
    scheduled = next(e for e in runner.sink.events if e["type"] == "TaskScheduled")
    assert (details(scheduled)["resourceType"], details(scheduled)["resource"]) == (
        "aws-sdk:s3",
        "listBuckets",
    )


def test_jsonata_arguments_are_the_request(runner: Runner) -> None:
    mocks = TaskMocks.from_config({"Load": {"0": {"Return": {"MessageId": "m-1"}}}})
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Load",
        "States": {
            "Load": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage",
                "Arguments": {"QueueUrl": "https://q", "MessageBody": "{% $states.input %}"},
                "Output": "{% $states.result.MessageId %}",
                "End": True,
            }
        },
    }
    outcome = runner.run(definition, {"n": 1}, mocks=mocks)
    assert outcome.output == '"m-1"'
    scheduled = next(e for e in runner.sink.events if e["type"] == "TaskScheduled")
    assert json.loads(details(scheduled)["parameters"]) == {
        "QueueUrl": "https://q",
        "MessageBody": {"n": 1},
    }


@pytest.mark.parametrize(
    "resource",
    [
        "arn:aws:states:::states:startExecution.sync",
        "arn:aws:states:::ecs:runTask.sync",
    ],
)
def test_other_patterns_stay_refused_even_when_mocked(resource: str) -> None:
    with pytest.raises(DefinitionError, match="is not supported yet by the local engine"):
        parse_definition(machine(resource), mocked={"Load"})
