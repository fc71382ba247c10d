"""Service integrations run on the local AWS services (the moto server of tooling.localaws.manager)
through tooling.aws.client, answered and failed as Step Functions answers and fails them.

Answers. Optimized integrations answer the API's response in PascalCase plus, for DynamoDB, SNS
and SQS, the SdkHttpMetadata / SdkResponseMetadata of the Java SDK v1 client Step Functions uses
(header sets as LocalStack recorded them on AWS: test_dynamodb_task_service, test_sns_task_service,
test_sqs_task_service); EventBridge putEvents answers Entries and FailedEntryCount only, and fails
with EventBridge.FailedEntry (the answer as cause) when an entry failed. AWS SDK integrations
answer the response alone (test_aws_sdk_task_service); S3 object bodies as text.

Errors (AWS guide "Handling errors in service integrations" / "AWS SDK service integrations", and
the same recordings): an optimized integration fails with `<Service>.<Exception>`, the exception
being the one the service's model names for the error code (`DynamoDB.ConditionalCheckFailed-
Exception`, `SNS.NotFoundException`), else the SDK's base exception (`DynamoDB.AmazonDynamoDB-
Exception` for a ValidationException), and the Java SDK v1 cause `<message> (Service:
AmazonDynamoDBv2; Status Code: 400; Error Code: <code>; Request ID: <id>; Proxy: null)`. An aws-sdk
integration fails with `<Service>.<Exception>`, the service name in the AWS SDK for Java v2's
PascalCase (DynamoDb, S3, SecretsManager, Sfn, AcmPca), the exception always ending in "Exception"
(S3.NoSuchKeyException), unmodeled errors as `<Service>.<Service>Exception`
(DynamoDb.DynamoDbException), and the cause `<message> (Service: DynamoDb, Status Code: 400,
Request ID: <id>)` (S3 adds `, Extended Request ID: <id>`).
"""

from __future__ import annotations

import binascii
import json
import re
import threading
import uuid
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any

from tooling.aws.errors import ParametersRefused, ServiceErrorAnswer, ServiceUnreachable
from tooling.engine.errors import StateRuntimeError, StatesError
from tooling.engine.ports import Clock, JobOutcome
from tooling.localaws.catalog import OPTIMIZED, Optimized, aws_sdk_operation
from tooling.localaws.manager import LocalAwsServices

if TYPE_CHECKING:
    from tooling.aws.client import AwsClient, SdkAnswer


def java_v2_service_name(service_id: str) -> str:
    """The AWS SDK for Java v2's PascalCase name of a service id: "DynamoDB" -> "DynamoDb",
    "Secrets Manager" -> "SecretsManager", "SNS" -> "Sns", "S3" -> "S3"."""
    words = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", service_id)
    return "".join(word[:1].upper() + word[1:].lower() for word in words)


class LocalAwsIntegrations:
    """Calls of the local AWS services for the engine (ServiceIntegrations' `call`); the server
    is started at the first call, and again if it stopped since."""

    poll_seconds = 1.0

    def __init__(self, services: LocalAwsServices, region: str, clock: Clock) -> None:
        self.services = services
        self.region = region
        self.clock = clock
        self._client: AwsClient | None = None
        self._client_url = ""
        self._lock = threading.Lock()

    def call(self, resource_type: str, action: str, parameters: Any) -> dict[str, Any]:
        optimized = OPTIMIZED.get((resource_type, action))
        if optimized is not None:
            return self._call_optimized(optimized, parameters)
        sdk = aws_sdk_operation(resource_type, action)
        if sdk is None:
            raise StateRuntimeError(f"The integration {resource_type}:{action} is not available.")
        return self._call_aws_sdk(*sdk, parameters)

    def job_outcome(self, resource_type: str, action: str, submitted: Any) -> JobOutcome | None:
        raise StateRuntimeError(f"The integration {resource_type}:{action} is not available.")

    # -- the two kinds ---------------------------------------------------------------------

    def _call_optimized(self, integration: Optimized, parameters: Any) -> dict[str, Any]:
        try:
            answer = self._sdk_call(integration.service, integration.operation, parameters)
        except ServiceErrorAnswer as error:
            exception = _exception_name(error.modeled) if error.modeled else None
            raise StatesError(
                f"{integration.error_prefix}.{exception or integration.base_exception}",
                f"{error.message} (Service: {integration.sdk_service}; Status Code: "
                f"{error.status}; Error Code: {error.code}; Request ID: "
                f"{error.request_id or uuid.uuid4()}; Proxy: null)",
            ) from None
        except ServiceUnreachable as error:
            raise StatesError(
                f"{integration.error_prefix}.SdkClientException",
                f"Unable to execute HTTP request: {error}",
            ) from None
        result = dict(answer.result)
        if integration.service == "events":
            if result.get("FailedEntryCount"):
                raise StatesError("EventBridge.FailedEntry", _compact(result))
            return result
        if integration.metadata:
            result.update(self._sdk_metadata(integration.metadata, result, answer))
        return dict(sorted(result.items()))

    def _call_aws_sdk(self, service: str, operation: str, parameters: Any) -> dict[str, Any]:
        from tooling.aws.client import sdk_service_id

        try:
            answer = self._sdk_call(service, operation, parameters)
        except ServiceErrorAnswer as error:
            name = java_v2_service_name(sdk_service_id(service) or service)
            exception = _exception_name(error.modeled) if error.modeled else f"{name}Exception"
            details = [
                f"Service: {name}",
                f"Status Code: {error.status}",
                f"Request ID: {error.request_id or uuid.uuid4()}",
            ]
            if error.host_id:
                details.append(f"Extended Request ID: {error.host_id}")
            raise StatesError(
                f"{name}.{exception}", f"{error.message} ({', '.join(details)})"
            ) from None
        except ServiceUnreachable as error:
            name = java_v2_service_name(sdk_service_id(service) or service)
            raise StatesError(
                f"{name}.SdkClientException", f"Unable to execute HTTP request: {error}"
            ) from None
        return dict(sorted(answer.result.items()))

    # -- plumbing --------------------------------------------------------------------------

    def _sdk_call(self, service: str, operation: str, parameters: Any) -> SdkAnswer:
        params = parameters if isinstance(parameters, dict) else {}
        try:
            try:
                return self._aws_client().sdk_call(service, operation, params)
            except ServiceUnreachable:
                # The server is gone (killed, stopped): the request never reached it, so it
                # is sent once more to a server started again.
                return self._aws_client(renew=True).sdk_call(service, operation, params)
        except ParametersRefused as refused:
            raise StateRuntimeError(
                f"The Parameters '{_compact(parameters)}' could not be used to start the Task: "
                f"[{refused.reason}]"
            ) from None

    def _aws_client(self, renew: bool = False) -> AwsClient:
        from tooling.aws.client import local_endpoint_client

        with self._lock:
            if self._client is None or renew:
                url = self.services.endpoint()
                if self._client is None or url != self._client_url:
                    self._client = local_endpoint_client(
                        url, self.region, self.services.credentials().environment()
                    )
                    self._client_url = url
            return self._client

    def _sdk_metadata(self, kind: str, result: dict[str, Any], answer: SdkAnswer) -> dict[str, Any]:
        """SdkHttpMetadata and SdkResponseMetadata as the Java SDK v1 reports the HTTP answer."""
        request_id = answer.request_id or str(uuid.uuid4())
        date = format_datetime(self.clock.now(), usegmt=True)
        body = _compact(result).encode("utf-8")
        if kind == "xml":  # the XML body's length, as the service sent it
            length = answer.headers.get("content-length", str(len(body)))
            headers = [
                ("x-amzn-RequestId", request_id),
                ("connection", "keep-alive"),
                ("Content-Length", length),
                ("Date", date),
                ("Content-Type", "text/xml"),
            ]
        elif kind == "dynamodb":
            headers = [
                ("Server", "Server"),
                ("Connection", "keep-alive"),
                ("x-amzn-RequestId", request_id),
                ("x-amz-crc32", str(binascii.crc32(body))),
                ("Content-Length", str(len(body))),
                ("Date", date),
                ("Content-Type", "application/x-amz-json-1.0"),
            ]
        else:  # the JSON protocol (SQS)
            headers = [
                ("x-amzn-RequestId", request_id),
                ("connection", "keep-alive"),
                ("Content-Length", str(len(body))),
                ("Date", date),
                ("Content-Type", "application/x-amz-json-1.0"),
            ]
        return {
            "SdkHttpMetadata": {
                "AllHttpHeaders": {name: [value] for name, value in headers},
                "HttpHeaders": dict(sorted(headers, key=lambda header: header[0].lower())),
                "HttpStatusCode": answer.status,
            },
            "SdkResponseMetadata": {"RequestId": request_id},
        }


def _exception_name(shape: str) -> str:
    return shape if shape.endswith("Exception") else f"{shape}Exception"


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
