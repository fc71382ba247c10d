"""AWS service integrations the local runtime runs itself (the engine's ServiceIntegrations port):
`arn:aws:states:::sqs:sendMessage` and its `.waitForTaskToken` pattern, on the local queues
(tooling.localrt.queue, in the service folder's `.tool/local.db`), so a state machine can feed
another one's trigger queue; and `arn:aws:states:::states:startExecution` (request-response,
`.sync`, `.sync:2`) on the state machines deployed there, started as `tool invoke` starts them
(LocalBackend, a detached worker process per execution).

What AWS records, from LocalStack's recordings of AWS (test_sqs_task_service,
test_task_service_sqs): the result is SendMessage's answer (MD5OfMessageAttributes when there are
attributes, MD5OfMessageBody, MessageId) plus SdkHttpMetadata/SdkResponseMetadata; a missing
MessageBody fails with SQS.AmazonSQSException, a QueueUrl whose host does not resolve with
SQS.SdkClientException. Not confirmed, and chosen here: the error for a queue that does not exist
(SQS.QueueDoesNotExistException), the causes of the other SQS errors, and that a MessageBody that
is not a string is sent as compact JSON.

Accepted and ignored: MessageGroupId and MessageDeduplicationId (the local queues are standard
queues), and the attributes themselves (their MD5 is answered; the queues keep bodies only).

startExecution, from LocalStack's recordings of AWS (test_start_execution*, test_callback's
test_start_execution_sync*): the result is ExecutionArn, SdkHttpMetadata, SdkResponseMetadata,
StartDate; `.sync` answers the child's DescribeExecution in PascalCase (Input and Output as JSON
text), `.sync:2` the same with Input and Output as JSON; a child that does not succeed fails the
Task with States.TaskFailed and that description (with Error and Cause) as the cause. An Input that
is null or absent starts the child with `{}`, any other non-string as compact JSON (LocalStack's
implementation). Not confirmed, and chosen here: dates as epoch milliseconds, the error names and
causes of refused starts (StepFunctions.<Code>Exception with the Java SDK's message format), that a
string Input is passed as it is, and the key order of the answers (alphabetical, as recorded).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import struct
import time
import uuid
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from tooling.backends.local import LocalBackend
from tooling.engine import jsontext
from tooling.engine.callbacks import REAL_PAUSE_SECONDS
from tooling.engine.errors import StateRuntimeError, StatesError
from tooling.engine.ports import Clock, JobOutcome
from tooling.errors import AlreadyExists, InputError, NotFound
from tooling.localaws.catalog import runs_locally
from tooling.localaws.manager import LocalAwsServices
from tooling.localrt.queue import MAX_MESSAGE_BYTES, LocalQueues
from tooling.names import check_execution_name, parse_queue_url

if TYPE_CHECKING:
    from tooling.localaws.integrations import LocalAwsIntegrations

SEND_MESSAGE = ("sqs", "sendMessage")
START_EXECUTION = ("states", "startExecution")
SYNC, SYNC_JSON = "startExecution.sync", "startExecution.sync:2"
PROVIDED = frozenset(
    {
        SEND_MESSAGE,
        ("sqs", "sendMessage.waitForTaskToken"),
        START_EXECUTION,
        ("states", "startExecution.waitForTaskToken"),
        ("states", SYNC),
        ("states", SYNC_JSON),
    }
)

# How often a .sync Task looks at its child, measured on the parent's clock.
JOB_POLL_SECONDS = 0.2
_STATE_MACHINE_ARN = re.compile(r"arn:[\w-]+:states:[a-z0-9-]+:\d{12}:stateMachine:[^:]+")

# SendMessage: DelaySeconds 0-900; at most 10 message attributes (SQS API reference).
MAX_DELAY_SECONDS = 900
MAX_MESSAGE_ATTRIBUTES = 10


class LocalIntegrationCatalog:
    """Which integrations the local runtime runs (the parser's question, at deploy time too):
    its own, and those of the local AWS services (tooling.localaws.catalog)."""

    def supports(self, resource_type: str, action: str) -> bool:
        return (resource_type, action) in PROVIDED or runs_locally(resource_type, action)


LOCAL_INTEGRATIONS = LocalIntegrationCatalog()


class LocalServiceIntegrations(LocalIntegrationCatalog):
    """sqs:sendMessage on the queues in `database`, states:startExecution on its state machines
    (opened at the first call; a missing file has neither, and is not created). Child executions
    run on a clock of the kind `child_clock` ("real" or "virtual"), each from its own start."""

    poll_seconds = JOB_POLL_SECONDS

    def __init__(
        self,
        database: Path,
        region: str,
        clock: Clock,
        child_clock: str = "real",
        pause_seconds: float = REAL_PAUSE_SECONDS,
    ) -> None:
        self.database = database
        self.region = region
        self.clock = clock
        self.child_clock = child_clock
        self.pause_seconds = pause_seconds  # real time given to the child between two looks
        self._queues: LocalQueues | None = None
        self._backend: LocalBackend | None = None
        self._aws: LocalAwsIntegrations | None = None

    def local_aws(self) -> LocalAwsIntegrations:
        """The integrations of the service folder's local AWS services (started when called)."""
        if self._aws is None:
            from tooling.localaws.integrations import LocalAwsIntegrations

            services = LocalAwsServices(self.database.parent)
            self._aws = LocalAwsIntegrations(services, self.region, self.clock)
        return self._aws

    def close(self) -> None:
        if self._queues is not None:
            self._queues.close()
            self._queues = None
        if self._backend is not None:
            self._backend.store.close()
            self._backend = None

    def call(self, resource_type: str, action: str, parameters: Any) -> Any:
        if (resource_type, action) == SEND_MESSAGE:
            return self.send_message(parameters)
        if (resource_type, action) == START_EXECUTION:
            return self.start_execution(parameters)
        if runs_locally(resource_type, action):
            return self.local_aws().call(resource_type, action, parameters)
        raise StateRuntimeError(f"The integration {resource_type}:{action} is not available.")

    def job_outcome(self, resource_type: str, action: str, submitted: Any) -> JobOutcome | None:
        if resource_type != "states" or action not in (SYNC, SYNC_JSON):
            raise StateRuntimeError(f"The integration {resource_type}:{action} is not available.")
        backend = self.local_target()
        assert backend is not None  # the child was started through it
        try:
            child = backend.describe_execution(submitted["ExecutionArn"])
        except NotFound:
            # The child's record is gone (its state file was reset): nothing left to wait for.
            gone = f"the child execution {submitted['ExecutionArn']} is gone"
            return JobOutcome(error="States.TaskFailed", cause=gone)
        if child["status"] == "RUNNING":
            if self.pause_seconds:
                time.sleep(self.pause_seconds)  # let the child's worker run (virtual clocks)
            return None
        description = _describe_child(child, parse_payloads=action == SYNC_JSON)
        if child["status"] == "SUCCEEDED":
            return JobOutcome(result=description)
        return JobOutcome(error="States.TaskFailed", cause=jsontext.dumps(description))

    def start_execution(self, parameters: Any) -> dict[str, Any]:
        """StartExecution of a deployed state machine; the child runs in its own worker."""
        request_id = str(uuid.uuid4())
        fields = parameters if isinstance(parameters, dict) else {}
        machine_arn = _string_field(fields, "StateMachineArn", parameters)
        if machine_arn is None:
            raise _sfn_error(
                "ValidationException",
                "1 validation error detected: Value null at 'stateMachineArn' failed to satisfy "
                "constraint: Member must not be null",
                request_id,
            )
        name = _string_field(fields, "Name", parameters)
        if name is None:
            name = str(uuid.uuid4())
        input_text = _execution_input(fields.get("Input"), request_id)
        if not _STATE_MACHINE_ARN.fullmatch(machine_arn):
            raise _sfn_error("InvalidArn", f"Invalid Arn: '{machine_arn}'", request_id)
        try:
            check_execution_name(name)
        except InputError:
            raise _sfn_error("InvalidName", f"Invalid Name: '{name}'", request_id) from None
        backend = self.local_target()
        try:
            if backend is None:
                raise NotFound(machine_arn)
            started = backend.start_execution(machine_arn, name, input_text)
        except NotFound:
            raise _sfn_error(
                "StateMachineDoesNotExist",
                f"State Machine Does Not Exist: '{machine_arn}'",
                request_id,
            ) from None
        except AlreadyExists as exc:
            raise _sfn_error("ExecutionAlreadyExists", exc.message, request_id) from None
        except InputError as exc:  # the backend's own size check
            raise _sfn_error("InvalidExecutionInput", exc.message, request_id) from None
        start_date: datetime = started["startDate"]
        body = {"executionArn": started["executionArn"], "startDate": start_date.timestamp()}
        return {
            "ExecutionArn": started["executionArn"],
            **self._sdk_metadata(body, request_id),
            "StartDate": _epoch_millis(start_date),
        }

    def local_target(self) -> LocalBackend | None:
        """The local target of the service folder that holds `database`."""
        if self._backend is None and self.database.is_file():
            service_dir = self.database.parent.parent
            self._backend = LocalBackend(service_dir, self.region, clock=self.child_clock)
        return self._backend

    def send_message(self, parameters: Any) -> dict[str, Any]:
        request_id = str(uuid.uuid4())
        fields = parameters if isinstance(parameters, dict) else {}
        url = _string_field(fields, "QueueUrl", parameters)
        if url is None:
            raise _sqs_error(
                "MissingParameter", "The request must contain the parameter QueueUrl.", request_id
            )
        if self._is_local_aws_queue(url):
            return self.local_aws().call("sqs", "sendMessage", parameters)
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

    def _is_local_aws_queue(self, url: str) -> bool:
        """Whether a QueueUrl names a queue of the local AWS services rather than a trigger
        queue: a trigger queue of that name wins; otherwise an SQS or loopback URL (as those
        services answer CreateQueue) does, while the services hold data (a queue of theirs
        exists only then; without, the queue does not exist and no server is started)."""
        address = parse_queue_url(url)
        arn = address.arn(self.region) if address is not None else None
        queues = self._open()
        if arn is not None and queues is not None and queues.get_queue(arn) is not None:
            return False
        if not LocalAwsServices(self.database.parent).has_data():
            return False
        return arn is not None or urlsplit(url).hostname in ("127.0.0.1", "localhost", "::1")

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


def _execution_input(value: Any, request_id: str) -> str:
    """The child's input text: `{}` for none, a string as it is (it must be JSON), anything else
    as compact JSON."""
    if value is None:
        return "{}"
    if not isinstance(value, str):
        return jsontext.dumps(value)
    try:
        json.loads(value)
    except ValueError:
        raise _sfn_error(
            "InvalidExecutionInput",
            f"Invalid State Machine Execution Input: '{value}'",
            request_id,
        ) from None
    return value


def _epoch_millis(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


def _describe_child(child: dict[str, Any], *, parse_payloads: bool) -> dict[str, Any]:
    """DescribeExecution as the .sync integration hands it on: PascalCase keys in alphabetical
    order, dates in epoch milliseconds; with .sync:2 Input and Output parsed from their text."""

    def payload(text: str) -> Any:
        return json.loads(text) if parse_payloads else text

    description: dict[str, Any] = {
        "ExecutionArn": child["executionArn"],
        "Input": payload(child["input"]),
        "InputDetails": {"Included": True},
        "Name": child["name"],
        "StartDate": _epoch_millis(child["startDate"]),
        "StateMachineArn": child["stateMachineArn"],
        "Status": child["status"],
    }
    if "stopDate" in child:
        description["StopDate"] = _epoch_millis(child["stopDate"])
    if "output" in child:
        description["Output"] = payload(child["output"])
        description["OutputDetails"] = {"Included": True}
    if "error" in child:
        description["Error"] = child["error"]
    if "cause" in child:
        description["Cause"] = child["cause"]
    return dict(sorted(description.items()))


def _sfn_error(code: str, message: str, request_id: str) -> StatesError:
    """A refused StartExecution, named and worded as the SQS errors are (not confirmed)."""
    return StatesError(
        f"StepFunctions.{code}Exception"
        if not code.endswith("Exception")
        else f"StepFunctions.{code}",
        _cause(message, code, request_id, service="AWSStepFunctions"),
    )


def _cause(message: str, code: str, request_id: str, service: str = "AmazonSQS") -> str:
    """A service error as the Step Functions integration words it (the Java SDK's format)."""
    return (
        f"{message} (Service: {service}; Status Code: 400; Error Code: {code}; "
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
