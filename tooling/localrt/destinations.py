"""Where Lambda sends a record it is done with, on the local target: an asynchronous
invocation's onSuccess/onFailure destination, a stream mapping's onFailure destination. A queue,
topic or event bus of the folder's local AWS services (through the one boto3 module)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

DEFAULT_ASYNC_RETRIES = 2  # Lambda's, for an asynchronous invocation


def async_tries(config: Mapping[str, Any] | None) -> int:
    """How many times an asynchronous invocation runs at most, with the function's
    EventInvokeConfig (PutFunctionEventInvokeConfig's settings)."""
    retries = (config or {}).get("MaximumRetryAttempts")
    return 1 + (DEFAULT_ASYNC_RETRIES if retries is None else int(retries))


def destination_for(config: Mapping[str, Any] | None, *, succeeded: bool) -> str | None:
    """The onSuccess or onFailure destination of an EventInvokeConfig, if it has one."""
    destinations = (config or {}).get("DestinationConfig") or {}
    target = (destinations.get("OnSuccess" if succeeded else "OnFailure") or {}).get("Destination")
    return str(target) if target else None


def invocation_record(
    function_arn: str,
    request_payload: str,
    function_error: str | None,
    response_payload: str,
    request_id: str,
    attempts: int,
) -> dict[str, Any]:
    """What Lambda sends to an asynchronous invocation's destination (docs "Capturing records
    of Lambda asynchronous invocations"); `function_arn` qualified ($LATEST)."""
    response: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
    if function_error is not None:
        response["functionError"] = function_error
    moment = datetime.now(UTC)
    return {
        "version": "1.0",
        "timestamp": moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z",
        "requestContext": {
            "requestId": request_id,
            "functionArn": function_arn,
            "condition": "Success" if function_error is None else "RetriesExhausted",
            "approximateInvokeCount": attempts,
        },
        "requestPayload": _json_or_text(request_payload),
        "responseContext": response,
        "responsePayload": _json_or_text(response_payload),
    }


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text) if text.strip() else None
    except ValueError:
        return text


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
