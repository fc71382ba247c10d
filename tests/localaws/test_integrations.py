"""Service integrations run for real on the folder's local AWS services, answered and failed as
Step Functions answers and fails them (names, causes and shapes from LocalStack's recordings of
AWS; see tooling/localaws/integrations.py)."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tooling.engine import ExecutionInfo, ExecutionOutcome, TaskMocks, parse_definition
from tooling.engine.callbacks import InMemoryTaskCallbacks
from tooling.engine.clock import SystemClock
from tooling.errors import DefinitionError
from tooling.localaws.integrations import java_v2_service_name
from tooling.localaws.manager import LocalAwsServices
from tooling.localrt.execute import run_local_execution
from tooling.localrt.services import LOCAL_INTEGRATIONS

from .helpers import ACCOUNT, REGION, Endpoint, client, create_table, endpoint

pytestmark = pytest.mark.slow  # end-to-end: `make test` runs it, `make test-fast` does not

MACHINE_ARN = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:m"
JAVA_V1_CAUSE = re.compile(
    r"^(?P<message>.*) \(Service: (?P<service>\w+); Status Code: (?P<status>\d+); Error Code: "
    r"(?P<code>\w+); Request ID: \S+; Proxy: null\)$"
)
JAVA_V2_CAUSE = re.compile(
    r"^(?P<message>.*) \(Service: (?P<service>\w+), Status Code: (?P<status>\d+), Request ID: "
    r"[^,)]+(?:, Extended Request ID: [^)]+)?\)$"
)


class Sink:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def append(self, event: dict[str, Any]) -> None:
        self.events.append(event)

    def details(self, kind: str) -> list[dict[str, Any]]:
        key = kind[0].lower() + kind[1:] + "EventDetails"
        return [event[key] for event in self.events if event["type"] == kind]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A service folder whose local AWS services run for the whole module."""
    folder = tmp_path_factory.mktemp("service")
    services = LocalAwsServices(folder / ".tool")
    services.endpoint()
    yield folder
    services.stop()


@pytest.fixture(scope="module")
def url(folder: Path) -> Endpoint:
    return endpoint(LocalAwsServices(folder / ".tool"))


def run(
    folder: Path,
    definition: dict[str, Any],
    value: Any = None,
    *,
    mocks: TaskMocks | None = None,
    callbacks: InMemoryTaskCallbacks | None = None,
    sink: Sink | None = None,
) -> ExecutionOutcome:
    clock = SystemClock()
    return run_local_execution(
        parse_definition(
            definition, mocked=mocks.states if mocks else (), provided=LOCAL_INTEGRATIONS
        ),
        json.dumps(value if value is not None else {}),
        info=ExecutionInfo(
            execution_arn=MACHINE_ARN.replace("stateMachine", "execution") + ":e",
            name="e",
            state_machine_arn=MACHINE_ARN,
            state_machine_name="m",
            role_arn="",
            start_time=clock.now(),
        ),
        clock=clock,
        clock_kind="real",
        history=sink if sink is not None else Sink(),
        callbacks=callbacks or InMemoryTaskCallbacks(clock, poll_seconds=0.05),
        functions=lambda arn: None,
        database=folder / ".tool" / "local.db",
        waits_for_tokens=False,
        mocks=mocks,
    )


def task(resource: str, parameters: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": resource, "Parameters": parameters, **fields}


def output(outcome: ExecutionOutcome) -> Any:
    assert outcome.status == "SUCCEEDED", (outcome.error, outcome.cause)
    return json.loads(outcome.output or "null")


# -- DynamoDB ---------------------------------------------------------------------------------


def test_put_item_then_get_item_round_trips_through_the_table(folder: Path, url: Endpoint) -> None:
    create_table(url, "orders-roundtrip")
    sink = Sink()
    definition = {
        "StartAt": "Put",
        "States": {
            "Put": task(
                "arn:aws:states:::dynamodb:putItem",
                {
                    "TableName": "orders-roundtrip",
                    "Item": {"id": {"S.$": "$.id"}, "total": {"N": "42"}},
                },
                ResultPath="$.put",
                Next="Get",
            ),
            "Get": task(
                "arn:aws:states:::dynamodb:getItem",
                {"TableName": "orders-roundtrip", "Key": {"id": {"S.$": "$.id"}}},
                End=True,
            ),
        },
    }
    result = output(run(folder, definition, {"id": "o-1"}, sink=sink))
    assert result["Item"] == {"id": {"S": "o-1"}, "total": {"N": "42"}}
    assert list(result) == ["Item", "SdkHttpMetadata", "SdkResponseMetadata"]
    metadata = result["SdkHttpMetadata"]
    assert metadata["HttpStatusCode"] == 200
    assert list(metadata["AllHttpHeaders"]) == [
        "Server",
        "Connection",
        "x-amzn-RequestId",
        "x-amz-crc32",
        "Content-Length",
        "Date",
        "Content-Type",
    ]
    body = json.dumps({"Item": result["Item"]}, separators=(",", ":"))
    assert metadata["HttpHeaders"]["Content-Length"] == str(len(body))
    assert result["SdkResponseMetadata"]["RequestId"] == metadata["HttpHeaders"]["x-amzn-RequestId"]
    scheduled = sink.details("TaskScheduled")
    assert [(d["resourceType"], d["resource"]) for d in scheduled] == [
        ("dynamodb", "putItem"),
        ("dynamodb", "getItem"),
    ]
    # The item is really in the table.
    stored = client(url, "dynamodb").get_item(
        TableName="orders-roundtrip", Key={"id": {"S": "o-1"}}
    )
    assert stored["Item"]["total"] == {"N": "42"}


def test_a_conditional_check_failure_is_caught_by_its_aws_name(folder: Path, url: Endpoint) -> None:
    create_table(url, "orders-conditional")
    client(url, "dynamodb").put_item(TableName="orders-conditional", Item={"id": {"S": "o-1"}})
    definition = {
        "StartAt": "Put",
        "States": {
            "Put": task(
                "arn:aws:states:::dynamodb:putItem",
                {
                    "TableName": "orders-conditional",
                    "Item": {"id": {"S": "o-1"}},
                    "ConditionExpression": "attribute_not_exists(id)",
                },
                Catch=[
                    {
                        "ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"],
                        "Next": "Duplicate",
                    }
                ],
                End=True,
            ),
            "Duplicate": {"Type": "Pass", "End": True},
        },
    }
    caught = output(run(folder, definition))
    assert caught["Error"] == "DynamoDB.ConditionalCheckFailedException"
    cause = JAVA_V1_CAUSE.match(caught["Cause"])
    assert cause is not None, caught["Cause"]
    assert cause.group("message", "service", "status", "code") == (
        "The conditional request failed",
        "AmazonDynamoDBv2",
        "400",
        "ConditionalCheckFailedException",
    )


def test_dynamodb_errors_the_model_does_not_name_are_the_sdk_base_exception(
    folder: Path, url: Endpoint
) -> None:
    missing_table = {
        "StartAt": "Get",
        "States": {
            "Get": task(
                "arn:aws:states:::dynamodb:getItem",
                {"TableName": "no-such-table", "Key": {"id": {"S": "x"}}},
                End=True,
            )
        },
    }
    outcome = run(folder, missing_table)
    assert (outcome.status, outcome.error) == ("FAILED", "DynamoDB.ResourceNotFoundException")
    no_item = {
        "StartAt": "Put",
        "States": {"Put": task("arn:aws:states:::dynamodb:putItem", {"TableName": "t"}, End=True)},
    }
    outcome = run(folder, no_item)
    assert (outcome.status, outcome.error) == ("FAILED", "DynamoDB.AmazonDynamoDBException")
    assert outcome.cause is not None
    assert outcome.cause.startswith(
        "1 validation error detected: Value null at 'item' failed to satisfy constraint: "
        "Member must not be null (Service: AmazonDynamoDBv2; Status Code: 400; Error Code: "
        "ValidationException;"
    )


def test_update_and_delete_item(folder: Path, url: Endpoint) -> None:
    create_table(url, "orders-update")
    client(url, "dynamodb").put_item(
        TableName="orders-update", Item={"id": {"S": "o-1"}, "n": {"N": "1"}}
    )
    key = {"id": {"S": "o-1"}}
    definition = {
        "StartAt": "Update",
        "States": {
            "Update": task(
                "arn:aws:states:::dynamodb:updateItem",
                {
                    "TableName": "orders-update",
                    "Key": key,
                    "UpdateExpression": "SET n = n + :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                    "ReturnValues": "UPDATED_NEW",
                },
                ResultSelector={"Attributes.$": "$.Attributes"},
                ResultPath="$.updated",
                Next="Delete",
            ),
            "Delete": task(
                "arn:aws:states:::dynamodb:deleteItem",
                {"TableName": "orders-update", "Key": key},
                ResultPath=None,
                End=True,
            ),
        },
    }
    result = output(run(folder, definition))
    assert result["updated"] == {"Attributes": {"n": {"N": "2"}}}
    assert "Item" not in client(url, "dynamodb").get_item(TableName="orders-update", Key=key)


def test_aws_sdk_dynamodb_answers_without_metadata_and_names_errors_the_v2_way(
    folder: Path, url: Endpoint
) -> None:
    create_table(url, "orders-sdk")
    definition = {
        "StartAt": "Put",
        "States": {
            "Put": task(
                "arn:aws:states:::aws-sdk:dynamodb:putItem",
                {"TableName": "orders-sdk", "Item": {"id": {"S": "o-1"}}},
                ResultPath="$.put",
                Next="Query",
            ),
            "Query": task(
                "arn:aws:states:::aws-sdk:dynamodb:query",
                {
                    "TableName": "orders-sdk",
                    "KeyConditionExpression": "id = :id",
                    "ExpressionAttributeValues": {":id": {"S": "o-1"}},
                },
                ResultPath="$.query",
                Next="Missing",
            ),
            "Missing": task(
                "arn:aws:states:::aws-sdk:dynamodb:getItem",
                {"TableName": "no-such-table", "Key": {"id": {"S": "o-1"}}},
                Catch=[{"ErrorEquals": ["DynamoDb.ResourceNotFoundException"], "Next": "Done"}],
                ResultPath="$.missing",
                End=True,
            ),
            "Done": {"Type": "Pass", "End": True},
        },
    }
    result = output(run(folder, definition))
    assert result["Error"] == "DynamoDb.ResourceNotFoundException"
    cause = JAVA_V2_CAUSE.match(result["Cause"])
    assert cause is not None and cause.group("service", "status") == ("DynamoDb", "400")


def test_aws_sdk_put_item_answers_an_empty_object(folder: Path, url: Endpoint) -> None:
    create_table(url, "orders-sdk-empty")
    definition = {
        "StartAt": "Put",
        "States": {
            "Put": task(
                "arn:aws:states:::aws-sdk:dynamodb:putItem",
                {"TableName": "orders-sdk-empty", "Item": {"id": {"S": "o-1"}}},
                End=True,
            )
        },
    }
    assert output(run(folder, definition)) == {}
    query = {
        "StartAt": "Scan",
        "States": {
            "Scan": task(
                "arn:aws:states:::aws-sdk:dynamodb:scan",
                {"TableName": "orders-sdk-empty"},
                End=True,
            )
        },
    }
    assert output(run(folder, query)) == {
        "Count": 1,
        "Items": [{"id": {"S": "o-1"}}],
        "ScannedCount": 1,
    }


# -- SNS, SQS, EventBridge ----------------------------------------------------------------------


def subscribed_queue(url: Endpoint, topic_arn: str, name: str) -> str:
    sqs = client(url, "sqs")
    queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    client(url, "sns").subscribe(
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    return queue_url


def receive(url: Endpoint, queue_url: str, timeout: float = 20.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = client(url, "sqs").receive_message(QueueUrl=queue_url, WaitTimeSeconds=1)
        if messages.get("Messages"):
            return [message["Body"] for message in messages["Messages"]]
    return []


def test_sns_publish_reaches_the_topic(folder: Path, url: Endpoint) -> None:
    topic = client(url, "sns").create_topic(Name="orders")["TopicArn"]
    queue_url = subscribed_queue(url, topic, "orders-copy")
    definition = {
        "StartAt": "Publish",
        "States": {
            "Publish": task(
                "arn:aws:states:::sns:publish",
                {"TopicArn": topic, "Message.$": "$"},
                End=True,
            )
        },
    }
    result = output(run(folder, definition, {"order": 7}))
    assert list(result) == ["MessageId", "SdkHttpMetadata", "SdkResponseMetadata"]
    assert result["SdkHttpMetadata"]["HttpHeaders"]["Content-Type"] == "text/xml"
    assert [json.loads(body) for body in receive(url, queue_url)] == [{"order": 7}]


def test_sns_publish_to_a_missing_topic_fails_with_aws_name(folder: Path) -> None:
    definition = {
        "StartAt": "Publish",
        "States": {
            "Publish": task(
                "arn:aws:states:::sns:publish",
                {"TopicArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:nowhere", "Message": "hi"},
                End=True,
            )
        },
    }
    outcome = run(folder, definition)
    assert (outcome.status, outcome.error) == ("FAILED", "SNS.NotFoundException")
    cause = JAVA_V1_CAUSE.match(outcome.cause or "")
    assert cause is not None and cause.group("service", "status", "code") == (
        "AmazonSNS",
        "404",
        "NotFound",
    )


def test_sns_publish_wait_for_task_token_carries_the_token(folder: Path, url: Endpoint) -> None:
    topic = client(url, "sns").create_topic(Name="approvals")["TopicArn"]
    queue_url = subscribed_queue(url, topic, "approvals-copy")
    clock = SystemClock()
    callbacks = InMemoryTaskCallbacks(clock, poll_seconds=0.05)
    definition = {
        "StartAt": "Ask",
        "States": {
            "Ask": task(
                "arn:aws:states:::sns:publish.waitForTaskToken",
                {"TopicArn": topic, "Message": {"token.$": "$$.Task.Token", "order.$": "$.id"}},
                TimeoutSeconds=60,
                End=True,
            )
        },
    }

    def approve() -> None:
        for body in receive(url, queue_url):
            message = json.loads(body)
            callbacks.send_success(message["token"], json.dumps({"approved": message["order"]}))

    approver = threading.Thread(target=approve)
    approver.start()
    sink = Sink()
    outcome = run(folder, definition, {"id": "o-9"}, callbacks=callbacks, sink=sink)
    approver.join()
    assert output(outcome) == {"approved": "o-9"}
    submitted = sink.details("TaskSubmitted")
    assert submitted[0]["resource"] == "publish.waitForTaskToken"
    assert "MessageId" in json.loads(submitted[0]["output"])


def test_sqs_send_message_reaches_a_queue_of_the_local_services(
    folder: Path, url: Endpoint
) -> None:
    queue_url = client(url, "sqs").create_queue(QueueName="jobs")["QueueUrl"]
    aws_style = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/jobs"
    definition = {
        "StartAt": "Loopback",
        "States": {
            "Loopback": task(
                "arn:aws:states:::sqs:sendMessage",
                {"QueueUrl": queue_url, "MessageBody": {"n": 1}},
                ResultPath="$.first",
                Next="AwsStyle",
            ),
            "AwsStyle": task(
                "arn:aws:states:::sqs:sendMessage",
                {"QueueUrl": aws_style, "MessageBody": "two"},
                End=True,
            ),
        },
    }
    result = output(run(folder, definition))
    assert set(result) == {
        "MD5OfMessageBody",
        "MessageId",
        "SdkHttpMetadata",
        "SdkResponseMetadata",
    }
    bodies: list[str] = []
    for _ in range(10):
        bodies += receive(url, queue_url, timeout=2)
        if len(bodies) == 2:
            break
    assert sorted(bodies) == sorted(['{"n":1}', "two"])


def test_events_put_events_and_a_failed_entry(folder: Path) -> None:
    definition: dict[str, Any] = {
        "StartAt": "Put",
        "States": {
            "Put": task(
                "arn:aws:states:::events:putEvents",
                {
                    "Entries": [
                        {"Detail": {"order": 1}, "DetailType": "OrderPlaced", "Source": "shop"}
                    ]
                },
                End=True,
            )
        },
    }
    result = output(run(folder, definition))
    assert result["FailedEntryCount"] == 0 and len(result["Entries"]) == 1
    assert set(result["Entries"][0]) == {"EventId"}
    definition["States"]["Put"]["Parameters"]["Entries"][0].pop("Source")
    outcome = run(folder, definition)
    assert (outcome.status, outcome.error) == ("FAILED", "EventBridge.FailedEntry")
    assert json.loads(outcome.cause or "")["FailedEntryCount"] == 1


# -- aws-sdk: S3, Secrets Manager, SSM --------------------------------------------------------


def test_aws_sdk_s3_put_and_get_object(folder: Path, url: Endpoint) -> None:
    client(url, "s3").create_bucket(Bucket="reports")
    definition = {
        "StartAt": "Put",
        "States": {
            "Put": task(
                "arn:aws:states:::aws-sdk:s3:putObject",
                {"Bucket": "reports", "Key": "r.json", "Body.$": "$"},
                ResultPath="$.put",
                Next="Get",
            ),
            "Get": task(
                "arn:aws:states:::aws-sdk:s3:getObject",
                {"Bucket": "reports", "Key": "r.json"},
                Next="Missing",
                ResultPath="$.get",
            ),
            "Missing": task(
                "arn:aws:states:::aws-sdk:s3:getObject",
                {"Bucket": "reports", "Key": "none"},
                Catch=[{"ErrorEquals": ["S3.NoSuchKeyException"], "Next": "Done"}],
                End=True,
            ),
            "Done": {"Type": "Pass", "End": True},
        },
    }
    sink = Sink()
    result = output(run(folder, definition, {"Dict": "Value"}, sink=sink))
    got = json.loads(sink.details("TaskSucceeded")[1]["output"])
    assert got["Body"] == '{"Dict":"Value"}'
    assert got["ContentLength"] == len('{"Dict":"Value"}')
    put = json.loads(sink.details("TaskSucceeded")[0]["output"])
    assert put["ETag"] == '"49e31cee5aec8faf3345893addb14346"'  # as AWS recorded for this body
    assert result["Error"] == "S3.NoSuchKeyException"
    cause = JAVA_V2_CAUSE.match(result["Cause"])
    assert cause is not None and cause.group("service", "status") == ("S3", "404")


def test_aws_sdk_secrets_manager_and_ssm(folder: Path, url: Endpoint) -> None:
    client(url, "secretsmanager").create_secret(Name="db", SecretString="s3cr3t")
    client(url, "ssm").put_parameter(Name="/app/mode", Value="fast", Type="String")
    definition = {
        "StartAt": "Secret",
        "States": {
            "Secret": task(
                "arn:aws:states:::aws-sdk:secretsmanager:getSecretValue",
                {"SecretId": "db"},
                ResultSelector={"value.$": "$.SecretString"},
                ResultPath="$.secret",
                Next="Parameter",
            ),
            "Parameter": task(
                "arn:aws:states:::aws-sdk:ssm:getParameter",
                {"Name": "/app/mode"},
                ResultSelector={"value.$": "$.Parameter.Value"},
                ResultPath="$.parameter",
                Next="MissingSecret",
            ),
            "MissingSecret": task(
                "arn:aws:states:::aws-sdk:secretsmanager:getSecretValue",
                {"SecretId": "nope"},
                Catch=[
                    {
                        "ErrorEquals": ["SecretsManager.ResourceNotFoundException"],
                        "ResultPath": "$.missing",
                        "Next": "MissingParameter",
                    }
                ],
                Next="MissingParameter",
            ),
            "MissingParameter": task(
                "arn:aws:states:::aws-sdk:ssm:getParameter",
                {"Name": "/nope"},
                Catch=[
                    {
                        "ErrorEquals": ["Ssm.ParameterNotFoundException"],
                        "ResultPath": "$.missingParameter",
                        "Next": "Done",
                    }
                ],
                End=True,
            ),
            "Done": {"Type": "Pass", "End": True},
        },
    }
    result = output(run(folder, definition))
    assert result["secret"] == {"value": "s3cr3t"}
    assert result["parameter"] == {"value": "fast"}
    assert result["missing"]["Error"] == "SecretsManager.ResourceNotFoundException"
    assert result["missingParameter"]["Error"] == "Ssm.ParameterNotFoundException"


def test_a_field_the_api_lacks_fails_the_state_at_run_time(folder: Path) -> None:
    definition = {
        "StartAt": "Get",
        "States": {
            "Get": task(
                "arn:aws:states:::aws-sdk:ssm:getParameter",
                {"Name": "/x", "Colour": "red"},
                End=True,
            )
        },
    }
    outcome = run(folder, definition)
    assert (outcome.status, outcome.error) == ("FAILED", "States.Runtime")
    assert "The field 'Colour' is not supported by Step Functions" in (outcome.cause or "")


# -- what decides whether the services are called -----------------------------------------------


def test_a_mock_wins_over_the_real_call(tmp_path: Path) -> None:
    definition = {
        "StartAt": "Get",
        "States": {
            "Get": task(
                "arn:aws:states:::dynamodb:getItem",
                {"TableName": "nowhere", "Key": {"id": {"S": "x"}}},
                End=True,
            )
        },
    }
    mocks = TaskMocks.from_config({"Get": {"0": {"Return": {"Item": {"id": {"S": "mocked"}}}}}})
    assert output(run(tmp_path, definition, mocks=mocks)) == {"Item": {"id": {"S": "mocked"}}}
    # Nothing was started for a run that every mock answered.
    assert not (tmp_path / ".tool" / "aws").exists()


@pytest.mark.parametrize(
    ("resource", "hint"),
    [
        ("arn:aws:states:::aws-sdk:dynamodb:putItemm", "local AWS services"),
        ("arn:aws:states:::aws-sdk:glue:startJobRun", "local AWS services"),
        ("arn:aws:states:::dynamodb:putItem.waitForTaskToken", "local AWS services"),
        ("arn:aws:states:::aws-sdk:s3:getObject.sync", "runs .sync for states:startExecution only"),
    ],
)
def test_what_the_local_services_cannot_run_is_refused_where_it_is_written(
    resource: str, hint: str
) -> None:
    definition = {
        "StartAt": "X",
        "States": {"X": task(resource, {"token.$": "$$.Task.Token"}, End=True)},
    }
    with pytest.raises(DefinitionError, match="is not supported yet by the local engine") as info:
        parse_definition(definition, provided=LOCAL_INTEGRATIONS)
    assert hint in (info.value.hint or "")


@pytest.mark.parametrize(
    ("service_id", "name"),
    [
        ("DynamoDB", "DynamoDb"),
        ("SFN", "Sfn"),
        ("S3", "S3"),
        ("Secrets Manager", "SecretsManager"),
        ("ACM PCA", "AcmPca"),
        ("SNS", "Sns"),
        ("EventBridge", "EventBridge"),
        ("CloudWatch Logs", "CloudWatchLogs"),
    ],
)
def test_service_names_follow_the_java_sdk_v2(service_id: str, name: str) -> None:
    assert java_v2_service_name(service_id) == name
