"""Which service integrations the local AWS services run (no boto3 imported here: the parser asks
at deploy time).

Optimized integrations (arn:aws:states:::<service>:<action>) whose service moto emulates:
DynamoDB getItem/putItem/updateItem/deleteItem (request-response only, as on AWS), SNS publish,
EventBridge putEvents and SQS sendMessage to a queue that is not a trigger queue (request-response
and .waitForTaskToken). AWS SDK integrations (arn:aws:states:::aws-sdk:<service>:<action>) of the
services below, any action their API has (request-response and .waitForTaskToken; AWS runs no
.sync for them).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from tooling.engine.model import MapState, ParallelState, State, StateMachine, TaskState
from tooling.engine.tasks import ServiceTask

WAIT_FOR_TASK_TOKEN = ".waitForTaskToken"


@dataclass(frozen=True)
class Optimized:
    """An optimized integration and how Step Functions (its Java SDK v1 client) names its errors
    and answers."""

    service: str  # botocore's name
    operation: str  # the API operation
    error_prefix: str  # "DynamoDB" in DynamoDB.ConditionalCheckFailedException
    sdk_service: str  # "AmazonDynamoDBv2" in causes: (Service: AmazonDynamoDBv2; ...)
    base_exception: str  # the SDK's exception for errors its model does not name
    metadata: str  # which SdkHttpMetadata the answer carries: "json", "dynamodb", "xml", ""
    wait_for_token: bool  # whether AWS offers .waitForTaskToken for it


def _dynamodb(operation: str) -> Optimized:
    return Optimized(
        "dynamodb",
        operation,
        "DynamoDB",
        "AmazonDynamoDBv2",
        "AmazonDynamoDBException",
        "dynamodb",
        wait_for_token=False,
    )


OPTIMIZED: dict[tuple[str, str], Optimized] = {
    ("dynamodb", "getItem"): _dynamodb("GetItem"),
    ("dynamodb", "putItem"): _dynamodb("PutItem"),
    ("dynamodb", "updateItem"): _dynamodb("UpdateItem"),
    ("dynamodb", "deleteItem"): _dynamodb("DeleteItem"),
    ("sns", "publish"): Optimized(
        "sns", "Publish", "SNS", "AmazonSNS", "AmazonSNSException", "xml", True
    ),
    ("events", "putEvents"): Optimized(
        "events",
        "PutEvents",
        "EventBridge",
        "AmazonEventBridge",
        "AmazonEventBridgeException",
        "",
        True,
    ),
    ("sqs", "sendMessage"): Optimized(
        "sqs", "SendMessage", "SQS", "AmazonSQS", "AmazonSQSException", "json", True
    ),
}

# aws-sdk service names (the AWS SDK for Java v2's, as Step Functions spells them) -> botocore's.
AWS_SDK_SERVICES = {
    "dynamodb": "dynamodb",
    "s3": "s3",
    "sns": "sns",
    "sqs": "sqs",
    "ssm": "ssm",
    "secretsmanager": "secretsmanager",
    "eventbridge": "events",
    "kinesis": "kinesis",
    "kms": "kms",
    "cloudwatch": "cloudwatch",
    "cloudwatchlogs": "logs",
}
AWS_SDK_PREFIX = "aws-sdk:"


def split_pattern(action: str) -> tuple[str, str]:
    """("publish.waitForTaskToken") -> ("publish", ".waitForTaskToken")."""
    if action.endswith(WAIT_FOR_TASK_TOKEN):
        return action[: -len(WAIT_FOR_TASK_TOKEN)], WAIT_FOR_TASK_TOKEN
    return action, ""


def aws_sdk_operation(resource_type: str, action: str) -> tuple[str, str] | None:
    """(botocore service, API operation) of an aws-sdk integration the local services run."""
    if not resource_type.startswith(AWS_SDK_PREFIX):
        return None
    service = AWS_SDK_SERVICES.get(resource_type[len(AWS_SDK_PREFIX) :])
    if service is None:
        return None
    from tooling.aws.client import sdk_operation  # boto3 only when an aws-sdk Task is there

    operation = sdk_operation(service, action)
    return (service, operation) if operation is not None else None


def runs_locally(resource_type: str, action: str) -> bool:
    """Whether the local AWS services run `arn:aws:states:::<resource_type>:<action>`; `action`
    may end with .waitForTaskToken."""
    base, pattern = split_pattern(action)
    optimized = OPTIMIZED.get((resource_type, base))
    if optimized is not None:
        return optimized.wait_for_token or not pattern
    if "." in base:  # .sync and other patterns: none of these services runs a job
        return False
    return aws_sdk_operation(resource_type, base) is not None


def _tasks(states: dict[str, State]) -> Iterator[TaskState]:
    for state in states.values():
        if isinstance(state, TaskState):
            yield state
        elif isinstance(state, ParallelState):
            for branch in state.branches:
                yield from _tasks(branch.states)
        elif isinstance(state, MapState):
            yield from _tasks(state.processor.states)


def uses_local_aws(machine: StateMachine, mocked: frozenset[str] = frozenset()) -> bool:
    """Whether a Task of `machine` not answered by a mock calls the local AWS services.
    sqs:sendMessage does not count: it reaches them only for a queue that is not a trigger
    queue, and such a queue exists only where the services already hold data."""
    for task in _tasks(machine.states):
        invoker = task.invoker
        if not isinstance(invoker, ServiceTask) or task.name in mocked:
            continue
        integration = invoker.integration
        if integration != ("sqs", "sendMessage") and (
            integration in OPTIMIZED or integration[0].startswith(AWS_SDK_PREFIX)
        ):
            return True
    return False
