"""AWS service integrations the local runtime runs itself (the engine's ServiceIntegrations port):
`arn:aws:states:::sqs:sendMessage` and its `.waitForTaskToken` pattern, on the local queues
(tooling.localrt.queue, in the service folder's `.tool/local.db`), so a state machine can feed
another one's trigger queue.

What AWS records, from LocalStack's recordings of AWS (test_sqs_task_service,
test_task_service_sqs): the result is SendMessage's answer (MD5OfMessageAttributes when there are
attributes, MD5OfMessageBody, MessageId) plus SdkHttpMetadata/SdkResponseMetadata; a missing
MessageBody fails with SQS.AmazonSQSException, a QueueUrl whose host does not resolve with
SQS.SdkClientException. Not confirmed, and chosen here: the error for a queue that does not exist
(SQS.QueueDoesNotExistException), the causes of the other SQS errors, and that a MessageBody that
is not a string is sent as compact JSON.

Accepted and ignored: MessageGroupId and MessageDeduplicationId (the local queues are standard
queues), and the attributes themselves (their MD5 is answered; the queues keep bodies only).
"""

from __future__ import annotations

import base64
import hashlib
import struct
import uuid
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tooling.engine import jsontext
from tooling.engine.errors import StateRuntimeError, StatesError
from tooling.engine.ports import Clock
from tooling.errors import InputError, NotFound
from tooling.localrt.queue import MAX_MESSAGE_BYTES, LocalQueues
from tooling.names import parse_queue_url

SEND_MESSAGE = ("sqs", "sendMessage")
PROVIDED = frozenset({SEND_MESSAGE})

# SendMessage: DelaySeconds 0-900; at most 10 message attributes (SQS API reference).
MAX_DELAY_SECONDS = 900
MAX_MESSAGE_ATTRIBUTES = 10


class LocalIntegrationCatalog:
    """Which integrations the local runtime runs (the parser's question, at deploy time too)."""

    def supports(self, resource_type: str, action: str) -> bool:
        return (resource_type, action) in PROVIDED


LOCAL_INTEGRATIONS = LocalIntegrationCatalog()


class LocalServiceIntegrations(LocalIntegrationCatalog):
    """sqs:sendMessage on the queues in `database` (opened at the first send; a missing file
    has no queues, and is not created)."""

    def __init__(self, database: Path, region: str, clock: Clock) -> None:
        self.database = database
        self.region = region
        self.clock = clock
        self._queues: LocalQueues | None = None

    def close(self) -> None:
        if self._queues is not None:
            self._queues.close()
            self._queues = None

    def call(self, resource_type: str, action: str, parameters: Any) -> Any:
        if (resource_type, action) != SEND_MESSAGE:
            raise StateRuntimeError(f"The integration {resource_type}:{action} is not available.")
        return self.send_message(parameters)

    def send_message(self, parameters: Any) -> dict[str, Any]:
        request_id = str(uuid.uuid4())
        fields = parameters if isinstance(parameters, dict) else {}
        url = _string_field(fields, "QueueUrl", parameters)
        if url is None:
            raise _sqs_error(
                "MissingParameter", "The request must contain the parameter QueueUrl.", request_id
            )
        body = _message_body(fields.get("MessageBody"), request_id)
        delay = _delay_seconds(fields, parameters, request_id)
        attributes = fields.get("MessageAttributes")
        attributes_md5 = _attributes_md5(attributes, request_id) if attributes else None
        queue_arn = queue_arn_from_url(url, self.region)
        size = len(body.encode("utf-8"))
        if size > MAX_MESSAGE_BYTES:
            raise _sqs_error(
                "InvalidParameterValue",
                "One or more parameters are invalid. Reason: Message must be shorter than "
                f"{MAX_MESSAGE_BYTES} bytes.",
                request_id,
            )
        queues = self._open()
        try:
            if queues is None:
                raise NotFound(queue_arn)
            message_id = queues.send_message(queue_arn, body, delay_seconds=delay)
        except NotFound:
            raise StatesError(
                "SQS.QueueDoesNotExistException",
                _cause(
                    "The specified queue does not exist.",
                    "AWS.SimpleQueueService.NonExistentQueue",
                    request_id,
                ),
            ) from None
        except InputError as exc:  # LocalQueues' own size check
            raise _sqs_error("InvalidParameterValue", exc.message, request_id) from None
        answer: dict[str, Any] = {}
        if attributes_md5 is not None:
            answer["MD5OfMessageAttributes"] = attributes_md5
        answer["MD5OfMessageBody"] = hashlib.md5(
            body.encode("utf-8"), usedforsecurity=False
        ).hexdigest()
        answer["MessageId"] = message_id
        return {**answer, **self._sdk_metadata(answer, request_id)}

    def _open(self) -> LocalQueues | None:
        if self._queues is None and self.database.is_file():
            self._queues = LocalQueues(self.database)
        return self._queues

    def _sdk_metadata(self, answer: dict[str, Any], request_id: str) -> dict[str, Any]:
        """The HTTP answer around SendMessage's, as the Step Functions (Java SDK) integration
        reports it: the SQS JSON protocol's headers, the body's length."""
        date = format_datetime(self.clock.now(), usegmt=True)
        length = str(len(jsontext.dumps(answer).encode("utf-8")))
        all_headers = {
            "x-amzn-RequestId": [request_id],
            "connection": ["keep-alive"],
            "Content-Length": [length],
            "Date": [date],
            "Content-Type": ["application/x-amz-json-1.0"],
        }
        headers = {
            "connection": "keep-alive",
            "Content-Length": length,
            "Content-Type": "application/x-amz-json-1.0",
            "Date": date,
            "x-amzn-RequestId": request_id,
        }
        return {
            "SdkHttpMetadata": {
                "AllHttpHeaders": all_headers,
                "HttpHeaders": headers,
                "HttpStatusCode": 200,
            },
            "SdkResponseMetadata": {"RequestId": request_id},
        }


def queue_arn_from_url(url: str, region: str) -> str:
    """The local key (ARN) of the queue a QueueUrl names (the forms tooling.names reads; a URL
    without a region means the execution's). A host that is no SQS endpoint fails as the Java
    SDK fails for a host that does not resolve (SQS.SdkClientException)."""
    address = parse_queue_url(url)
    if address is None:
        host = urlsplit(url).hostname or url
        raise StatesError(
            "SQS.SdkClientException",
            f"Unable to execute HTTP request: {host}: Name or service not known",
        )
    arn = address.arn(region)
    if arn is None:
        # No account and name to look up: the queue cannot exist.
        raise StatesError(
            "SQS.QueueDoesNotExistException",
            _cause(
                "The specified queue does not exist.",
                "AWS.SimpleQueueService.NonExistentQueue",
                str(uuid.uuid4()),
            ),
        )
    return arn


def _string_field(fields: dict[str, Any], name: str, parameters: Any) -> str | None:
    value = fields.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _parameters_refused(parameters, f"The value for the field '{name}' must be a STRING")
    return value


def _message_body(value: Any, request_id: str) -> str:
    """The body as sent: a string as it is, anything else as compact JSON."""
    body = value if isinstance(value, str) else None if value is None else jsontext.dumps(value)
    if not body:
        # Recorded on AWS for a null MessageBody; an empty string is assumed to fail the same way.
        raise _sqs_error(
            "MissingParameter", "The request must contain the parameter MessageBody.", request_id
        )
    return body


def _delay_seconds(fields: dict[str, Any], parameters: Any, request_id: str) -> int:
    value = fields.get("DelaySeconds", 0)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _parameters_refused(
            parameters, "The value for the field 'DelaySeconds' must be an INTEGER"
        )
    if not 0 <= value <= MAX_DELAY_SECONDS:
        raise _sqs_error(
            "InvalidParameterValue",
            f"Value {value} for parameter DelaySeconds is invalid. Reason: must be between 0 and "
            f"{MAX_DELAY_SECONDS}, if provided.",
            request_id,
        )
    return value


def _attributes_md5(attributes: Any, request_id: str) -> str:
    """MD5OfMessageAttributes, computed as the SQS developer guide describes it: per attribute
    in name order, the length-prefixed name, data type, a transport byte (1 string/number,
    2 binary) and the length-prefixed value. The attributes themselves are not kept: the local
    queues store bodies only."""
    if not isinstance(attributes, dict) or len(attributes) > MAX_MESSAGE_ATTRIBUTES:
        raise _sqs_error(
            "InvalidParameterValue",
            f"MessageAttributes must be an object of at most {MAX_MESSAGE_ATTRIBUTES} attributes.",
            request_id,
        )
    digest = hashlib.md5(usedforsecurity=False)
    for name in sorted(attributes):
        attribute = attributes[name]
        data_type = attribute.get("DataType") if isinstance(attribute, dict) else None
        if not isinstance(data_type, str) or not data_type:
            raise _sqs_error(
                "InvalidParameterValue",
                f"The message attribute '{name}' must contain a non-empty attribute type.",
                request_id,
            )
        if data_type.startswith("Binary"):
            value = attribute.get("BinaryValue")
            raw = base64.b64decode(value) if isinstance(value, str) else None
            transport = 2
        else:
            value = attribute.get("StringValue")
            raw = value.encode("utf-8") if isinstance(value, str) else None
            transport = 1
        if raw is None:
            raise _sqs_error(
                "InvalidParameterValue",
                f"The message attribute '{name}' must contain a non-empty message attribute value.",
                request_id,
            )
        for part in (name.encode("utf-8"), data_type.encode("utf-8")):
            digest.update(struct.pack(">I", len(part)) + part)
        digest.update(bytes([transport]) + struct.pack(">I", len(raw)) + raw)
    return digest.hexdigest()


def _cause(message: str, code: str, request_id: str) -> str:
    """An SQS error as the Step Functions integration words it (the Java SDK's message format)."""
    return (
        f"{message} (Service: AmazonSQS; Status Code: 400; Error Code: {code}; "
        f"Request ID: {request_id}; Proxy: null)"
    )


def _sqs_error(code: str, message: str, request_id: str) -> StatesError:
    return StatesError("SQS.AmazonSQSException", _cause(message, code, request_id))


def _parameters_refused(parameters: Any, reason: str) -> StateRuntimeError:
    # Step Functions' wording for parameters it cannot send; recalled, not confirmed.
    return StateRuntimeError(
        f"The Parameters '{jsontext.dumps(parameters)}' could not be used to start the Task: "
        f"[{reason}]"
    )
