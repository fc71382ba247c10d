"""Where Lambda sends a record it is done with, on the local target: an asynchronous
invocation's onSuccess/onFailure destination, a stream mapping's onFailure destination. A queue,
topic or event bus of the folder's local AWS services (through the one boto3 module)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Protocol


class AwsCalls(Protocol):
    """What delivering asks of AWS (tooling.aws.client.AwsClient)."""

    def call(self, service: str, method: str, *, what: str, **params: Any) -> dict[str, Any]: ...


def send_record(aws: AwsCalls, destination: str, record: Mapping[str, Any]) -> None:
    """`record` to the queue, topic or event bus `destination` names, as Lambda sends it: the
    record as the message body, or an event whose detail is the record."""
    _, _, service, region, account, name = destination.split(":", 5)
    body = json.dumps(record)
    if service == "sns":
        aws.call("sns", "publish", what=f"publish to {name}", TopicArn=destination, Message=body)
    elif service == "events":
        condition = str((record.get("requestContext") or {}).get("condition", ""))
        outcome = "Success" if condition == "Success" else "Failure"
        aws.call(
            "events", "put_events", what=f"put an event on {name}",
            Entries=[{"EventBusName": destination, "Source": "lambda", "Detail": body,
                      "DetailType": f"Lambda Function Invocation Result - {outcome}"}],
        )  # fmt: skip
    else:
        url = aws.call(
            "sqs", "get_queue_url", what=f"find queue {name}", QueueName=name,
            QueueOwnerAWSAccountId=account,
        )["QueueUrl"]  # fmt: skip
        aws.call("sqs", "send_message", what=f"send to {name}", QueueUrl=url, MessageBody=body)


def local_sender(
    environment: Mapping[str, str], region: str
) -> Callable[[str, dict[str, Any]], None] | None:
    """A sender to the local AWS services `environment` reaches (AWS_ENDPOINT_URL and the
    credentials handlers get); None without them."""
    url = environment.get("AWS_ENDPOINT_URL")
    if not url or "AWS_ACCESS_KEY_ID" not in environment:
        return None
    from tooling.aws.client import local_endpoint_client

    aws = local_endpoint_client(url, region, dict(environment))

    def send(destination: str, record: dict[str, Any]) -> None:
        send_record(aws, destination, record)

    return send
