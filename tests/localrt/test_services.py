"""sqs:sendMessage on the local queues (tooling/localrt/services.py), with a real SQLite file."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tooling.engine import ExecutionInfo, parse_definition, run_execution
from tooling.engine.clock import VirtualClock
from tooling.engine.errors import StateRuntimeError, StatesError
from tooling.engine.ports import JobOutcome
from tooling.follow import follow_execution
from tooling.localrt.callbacks import StoreTaskCallbacks
from tooling.localrt.queue import MAX_MESSAGE_BYTES, LocalQueues
from tooling.localrt.services import (
    LOCAL_INTEGRATIONS,
    LocalServiceIntegrations,
    queue_arn_from_url,
)
from tooling.localrt.store import StateMachineRecord, Store

REGION = "us-east-1"
ACCOUNT = "000000000000"
QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders"
QUEUE_URL = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/orders"
START = datetime(2024, 4, 18, 6, 37, 9, tzinfo=UTC)


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "local.db"
    queues = LocalQueues(path)
    queues.create_queue(QUEUE_ARN)
    queues.close()
    return path


@pytest.fixture
def sqs(database: Path) -> Iterator[LocalServiceIntegrations]:
    integrations = LocalServiceIntegrations(database, REGION, VirtualClock(START))
    yield integrations
    integrations.close()


def receive(database: Path) -> list[dict[str, Any]]:
    queues = LocalQueues(database)
    try:
        return queues.receive_messages(QUEUE_ARN, 10)
    finally:
        queues.close()


def failure(sqs: LocalServiceIntegrations, parameters: Any) -> StatesError:
    with pytest.raises(StatesError) as info:
        sqs.call("sqs", "sendMessage", parameters)
    return info.value


def test_a_sent_message_can_be_received_with_its_md5(
    sqs: LocalServiceIntegrations, database: Path
) -> None:
    answer = sqs.call("sqs", "sendMessage", {"QueueUrl": QUEUE_URL, "MessageBody": "hello"})
    (message,) = receive(database)
    assert message["Body"] == "hello"
    assert message["MessageId"] == answer["MessageId"]
    md5 = hashlib.md5(b"hello", usedforsecurity=False).hexdigest()
    assert answer["MD5OfMessageBody"] == md5 == message["MD5OfBody"]
    # The shape AWS records (LocalStack's test_sqs_task_service snapshot).
    assert list(answer) == [
        "MD5OfMessageBody",
        "MessageId",
        "SdkHttpMetadata",
        "SdkResponseMetadata",
    ]
    request_id = answer["SdkResponseMetadata"]["RequestId"]
    headers = answer["SdkHttpMetadata"]["HttpHeaders"]
    assert headers == {
        "connection": "keep-alive",
        "Content-Length": "106",
        "Content-Type": "application/x-amz-json-1.0",
        "Date": "Thu, 18 Apr 2024 06:37:09 GMT",
        "x-amzn-RequestId": request_id,
    }
    assert answer["SdkHttpMetadata"]["AllHttpHeaders"]["Date"] == [headers["Date"]]
    assert answer["SdkHttpMetadata"]["HttpStatusCode"] == 200


def test_a_body_that_is_not_a_string_is_sent_as_compact_json(
    sqs: LocalServiceIntegrations, database: Path
) -> None:
    body = {"order": 7, "items": ["a", "é"]}
    sqs.call("sqs", "sendMessage", {"QueueUrl": QUEUE_URL, "MessageBody": body})
    (message,) = receive(database)
    assert message["Body"] == '{"order":7,"items":["a","é"]}'


def test_message_attributes_answer_their_md5_as_sqs_computes_it(
    sqs: LocalServiceIntegrations,
) -> None:
    attributes = {
        "b": {"DataType": "Number", "StringValue": "5"},
        "a": {"DataType": "String", "StringValue": "Hello"},
        "c": {"DataType": "Binary", "BinaryValue": "AAE="},
    }
    answer = sqs.call(
        "sqs",
        "sendMessage",
        {"QueueUrl": QUEUE_URL, "MessageBody": "x", "MessageAttributes": attributes},
    )
    # moto's SQS computes the same digest for these attributes.
    assert answer["MD5OfMessageAttributes"] == "7a73040797ea110e47156539282078b3"
    assert answer["SdkHttpMetadata"]["HttpHeaders"]["Content-Length"] == "166"


def test_delay_seconds_hides_the_message(sqs: LocalServiceIntegrations, database: Path) -> None:
    sqs.call("sqs", "sendMessage", {"QueueUrl": QUEUE_URL, "MessageBody": "x", "DelaySeconds": 900})
    assert receive(database) == []
    error = failure(sqs, {"QueueUrl": QUEUE_URL, "MessageBody": "x", "DelaySeconds": 901})
    assert error.error == "SQS.AmazonSQSException"
    with pytest.raises(StateRuntimeError, match="'DelaySeconds' must be an INTEGER"):
        sqs.call(
            "sqs", "sendMessage", {"QueueUrl": QUEUE_URL, "MessageBody": "x", "DelaySeconds": "1"}
        )


def test_a_missing_queue_fails_with_queue_does_not_exist(sqs: LocalServiceIntegrations) -> None:
    url = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/nope"
    error = failure(sqs, {"QueueUrl": url, "MessageBody": "x"})
    assert error.error == "SQS.QueueDoesNotExistException"
    assert (error.cause or "").startswith(
        "The specified queue does not exist. (Service: AmazonSQS;"
    )


def test_a_host_that_is_not_sqs_fails_as_an_unresolvable_host(
    sqs: LocalServiceIntegrations,
) -> None:
    error = failure(sqs, {"QueueUrl": "http://no-such-queue-1", "MessageBody": "x"})
    assert (error.error, error.cause) == (
        "SQS.SdkClientException",
        "Unable to execute HTTP request: no-such-queue-1: Name or service not known",
    )


def test_a_null_body_is_a_missing_parameter(sqs: LocalServiceIntegrations) -> None:
    error = failure(sqs, {"QueueUrl": QUEUE_URL, "MessageBody": None})
    assert error.error == "SQS.AmazonSQSException"
    assert (error.cause or "").startswith(
        "The request must contain the parameter MessageBody. (Service: AmazonSQS; "
        "Status Code: 400; Error Code: MissingParameter; Request ID: "
    )


def test_a_body_over_the_size_limit_is_refused(
    sqs: LocalServiceIntegrations, database: Path
) -> None:
    error = failure(sqs, {"QueueUrl": QUEUE_URL, "MessageBody": "x" * (MAX_MESSAGE_BYTES + 1)})
    assert error.error == "SQS.AmazonSQSException"
    assert "Error Code: InvalidParameterValue" in (error.cause or "")
    assert receive(database) == []


def test_without_a_state_file_no_queue_exists_and_none_is_created(tmp_path: Path) -> None:
    missing = tmp_path / ".tool" / "local.db"
    sqs = LocalServiceIntegrations(missing, REGION, VirtualClock(START))
    assert failure(sqs, {"QueueUrl": QUEUE_URL, "MessageBody": "x"}).error == (
        "SQS.QueueDoesNotExistException"
    )
    assert not missing.parent.exists()


@pytest.mark.parametrize(
    "url, arn",
    [
        (QUEUE_URL, QUEUE_ARN),
        (f"https://sqs.eu-west-1.amazonaws.com/{ACCOUNT}/q", f"arn:aws:sqs:eu-west-1:{ACCOUNT}:q"),
        (
            f"https://eu-west-1.queue.amazonaws.com/{ACCOUNT}/q",
            f"arn:aws:sqs:eu-west-1:{ACCOUNT}:q",
        ),
        (f"https://queue.amazonaws.com/{ACCOUNT}/q", f"arn:aws:sqs:us-east-1:{ACCOUNT}:q"),
        (
            f"https://sqs.cn-north-1.amazonaws.com.cn/{ACCOUNT}/q",
            f"arn:aws-cn:sqs:cn-north-1:{ACCOUNT}:q",
        ),
        (f"http://localhost:4566/{ACCOUNT}/q", f"arn:aws:sqs:ap-south-1:{ACCOUNT}:q"),
        (
            f"http://localhost:4566/queue/eu-west-1/{ACCOUNT}/q",
            f"arn:aws:sqs:eu-west-1:{ACCOUNT}:q",
        ),
        (
            f"http://sqs.eu-west-1.localhost.localstack.cloud:4566/{ACCOUNT}/q",
            f"arn:aws:sqs:eu-west-1:{ACCOUNT}:q",
        ),
    ],
)
def test_queue_urls_name_the_queue_by_its_arn(url: str, arn: str) -> None:
    # Without a region in the URL, the execution's region (here ap-south-1).
    assert queue_arn_from_url(url, "ap-south-1") == arn


def test_wait_for_task_token_is_answered_through_the_store(database: Path) -> None:
    """The execution sends its token in the message; a consumer reads it from the queue and
    answers through the store, as `tool task success` or a handler would."""
    store = Store(database)
    clock = VirtualClock(START)
    callbacks = StoreTaskCallbacks(store, clock)
    sqs = LocalServiceIntegrations(database, REGION, clock)

    class ConsumedQueue:
        poll_seconds = sqs.poll_seconds

        def supports(self, resource_type: str, action: str) -> bool:
            return sqs.supports(resource_type, action)

        def call(self, resource_type: str, action: str, parameters: Any) -> Any:
            answer = sqs.call(resource_type, action, parameters)
            (message,) = receive(database)
            body = json.loads(message["Body"])
            callbacks.send_success(body["token"], json.dumps({"done": body["order"]}))
            return answer

        def job_outcome(self, resource_type: str, action: str, submitted: Any) -> JobOutcome | None:
            raise AssertionError("no .sync task here")

    definition = {
        "StartAt": "Send",
        "States": {
            "Send": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {
                    "QueueUrl": QUEUE_URL,
                    "MessageBody": {"order.$": "$.order", "token.$": "$$.Task.Token"},
                },
                "End": True,
            }
        },
    }
    events: list[dict[str, Any]] = []

    class Sink:
        def append(self, event: dict[str, Any]) -> None:
            events.append(event)

    arn = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:m:run"
    info = ExecutionInfo(arn, "run", f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:m", "m", "")
    outcome = run_execution(
        parse_definition(definition, provided=LOCAL_INTEGRATIONS),
        '{"order": 7}',
        info=info,
        clock=clock,
        lambdas=None,  # type: ignore[arg-type]  # no Lambda task here
        history=Sink(),
        callbacks=callbacks,
        services=ConsumedQueue(),
    )
    sqs.close()
    assert (outcome.status, outcome.output) == ("SUCCEEDED", '{"done":7}')
    types = [e["type"] for e in events]
    assert types[2:6] == ["TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded"]
    submitted = json.loads(events[4]["taskSubmittedEventDetails"]["output"])
    assert set(submitted) >= {"MD5OfMessageBody", "MessageId", "SdkHttpMetadata"}


# states:startExecution on the state machines of the same file

PASS_MACHINE = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:echo"


@pytest.fixture
def states(tmp_path: Path) -> Iterator[LocalServiceIntegrations]:
    """A service folder whose `.tool/local.db` holds one state machine, `echo` (a Pass)."""
    database = tmp_path / ".tool" / "local.db"
    database.parent.mkdir()
    store = Store(database)
    definition = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    store.put_state_machine(
        StateMachineRecord("echo", PASS_MACHINE, definition, "STANDARD", "role", "1", START, None)
    )
    store.close()
    integrations = LocalServiceIntegrations(database, REGION, VirtualClock(START), pause_seconds=0)
    yield integrations
    integrations.close()


def start_failure(states: LocalServiceIntegrations, parameters: Any) -> StatesError:
    with pytest.raises(StatesError) as info:
        states.call("states", "startExecution", parameters)
    return info.value


def child_input(states: LocalServiceIntegrations, name: str) -> str:
    backend = states.local_target()
    assert backend is not None
    record = backend.store.get_execution(
        f"{PASS_MACHINE.replace('stateMachine', 'execution')}:{name}"
    )
    assert record is not None
    return record.input


@pytest.mark.parametrize(
    ("given", "passed"),
    [
        (None, "{}"),
        ({"a": [1, "x"]}, '{"a":[1,"x"]}'),
        ('{"b": 2}', '{"b": 2}'),
        ([1], "[1]"),
    ],
    ids=["null", "object", "json-text", "array"],
)
def test_the_input_reaches_the_child_as_json_text(
    states: LocalServiceIntegrations, given: Any, passed: str
) -> None:
    answer = states.call(
        "states", "startExecution", {"StateMachineArn": PASS_MACHINE, "Input": given, "Name": "n"}
    )
    assert answer["ExecutionArn"] == f"arn:aws:states:{REGION}:{ACCOUNT}:execution:echo:n"
    assert list(answer) == ["ExecutionArn", "SdkHttpMetadata", "SdkResponseMetadata", "StartDate"]
    assert child_input(states, "n") == passed


def test_without_a_name_the_child_gets_a_uuid(states: LocalServiceIntegrations) -> None:
    answer = states.call("states", "startExecution", {"StateMachineArn": PASS_MACHINE})
    name = answer["ExecutionArn"].rsplit(":", 1)[1]
    assert len(name) == 36 and name.count("-") == 4


@pytest.mark.parametrize(
    ("parameters", "error"),
    [
        ({}, "StepFunctions.ValidationException"),
        ({"StateMachineArn": "echo"}, "StepFunctions.InvalidArnException"),
        (
            {"StateMachineArn": PASS_MACHINE, "Input": "not json"},
            "StepFunctions.InvalidExecutionInputException",
        ),
        ({"StateMachineArn": PASS_MACHINE, "Name": "a b"}, "StepFunctions.InvalidNameException"),
        (
            {"StateMachineArn": PASS_MACHINE + "x"},
            "StepFunctions.StateMachineDoesNotExistException",
        ),
    ],
)
def test_refused_starts_fail_with_the_service_error(
    states: LocalServiceIntegrations, parameters: dict[str, Any], error: str
) -> None:
    failed = start_failure(states, parameters)
    assert failed.error == error
    assert "(Service: AWSStepFunctions; Status Code: 400; Error Code: " in (failed.cause or "")


def test_a_name_that_is_not_a_string_cannot_be_sent(states: LocalServiceIntegrations) -> None:
    with pytest.raises(StateRuntimeError):
        states.call("states", "startExecution", {"StateMachineArn": PASS_MACHINE, "Name": 3})


def test_without_a_state_file_no_state_machine_exists(tmp_path: Path) -> None:
    database = tmp_path / ".tool" / "local.db"
    integrations = LocalServiceIntegrations(database, REGION, VirtualClock(START))
    failed = start_failure(integrations, {"StateMachineArn": PASS_MACHINE})
    assert failed.error == "StepFunctions.StateMachineDoesNotExistException"
    assert not database.exists()


def test_job_outcome_describes_the_ended_child(states: LocalServiceIntegrations) -> None:
    answer = states.call(
        "states",
        "startExecution",
        {"StateMachineArn": PASS_MACHINE, "Input": {"k": 1}, "Name": "j"},
    )
    backend = states.local_target()
    assert backend is not None
    follow_execution(backend, answer["ExecutionArn"])  # the child's worker is a process of its own
    parsed = states.job_outcome("states", "startExecution.sync:2", answer)
    assert parsed is not None and parsed.error is None
    assert parsed.result["Output"] == {"k": 1}
    assert parsed.result["Input"] == {"k": 1}
    assert parsed.result["Status"] == "SUCCEEDED"
    assert list(parsed.result) == sorted(parsed.result)
    text = states.job_outcome("states", "startExecution.sync", answer)
    assert text is not None and text.result["Output"] == '{"k":1}'
