"""The one module that talks to AWS: every boto3 call of the toolkit goes through `AwsClient`.

It owns client creation (the standard credential chain, plus the service's profile and region;
botocore itself honours AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>), retries (tenacity, with
an injected sleep), waiters (botocore's waiter definitions, polled here so the sleep stays
injected), paginators, and turning botocore's errors into the toolkit's own. Nothing else imports
boto3 or botocore.
"""

from __future__ import annotations

import base64
import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any, cast

import boto3
import botocore.exceptions
import botocore.session
from botocore import xform_name
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.model import (
    ListShape,
    MapShape,
    OperationModel,
    ServiceModel,
    Shape,
    StructureShape,
)
from botocore.response import StreamingBody
from tenacity import Retrying, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_exponential

from tooling.aws.errors import (
    AwsAccessDenied,
    AwsOperationFailed,
    AwsRejected,
    AwsSetupError,
    ParametersRefused,
    ServiceErrorAnswer,
    ServiceUnreachable,
)
from tooling.errors import AlreadyExists, BadInput, NotFound, ToolError

USER_AGENT = "tool/0.1"

# IAM is eventually consistent: a role created a moment ago may not be assumable yet. These are
# the messages Lambda and Step Functions answer with meanwhile (Lambda: InvalidParameterValue-
# Exception; Step Functions: "Neither the global service principal states.amazonaws.com, nor the
# regional one is authorized to assume the provided role." as quoted in go-to-k/cdkd PR #950;
# the log-destination wording is from aws-samples/aws-genai-llm-chatbot issue #661).
IAM_PROPAGATION_MESSAGES = re.compile(
    r"role defined for the function cannot be assumed by Lambda"
    r"|authorized to assume the provided role"
    r"|not authorized to access the Log Destination"
    r"|execution role does not have permissions to call",
    re.IGNORECASE,
)
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
        "ProvisionedThroughputExceededException",
    }
)
# Lambda answers this while an earlier update of the same function is still being applied.
CONFLICT_CODES = frozenset({"ResourceConflictException"})
# AWS-side hiccups (HTTP 5xx), worth another try.
TRANSIENT_CODES = frozenset(
    {
        "InternalFailure",
        "InternalServerError",
        "InternalError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "ServiceException",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)
# A dropped or timed-out connection (not a refused one: a wrong endpoint should fail at once).
TRANSIENT_NETWORK_ERRORS = (
    botocore.exceptions.ConnectionClosedError,
    botocore.exceptions.ReadTimeoutError,
    botocore.exceptions.ConnectTimeoutError,
)

NOT_FOUND_CODES = frozenset(
    {
        "ResourceNotFoundException",
        "NoSuchEntity",
        "StateMachineDoesNotExist",
        "ExecutionDoesNotExist",
        "NotFoundException",
        "ParameterNotFound",  # SSM
        "NoSuchKey",  # S3
        "NoSuchBucket",  # S3
        "NotFound",  # SNS: no such topic
        "AWS.SimpleQueueService.NonExistentQueue",
        "QueueDoesNotExist",
        "ImageNotFoundException",  # ECR
        "RepositoryNotFoundException",  # ECR
        "ProvisionedConcurrencyConfigNotFoundException",  # Lambda
    }
)
ALREADY_EXISTS_CODES = frozenset(
    {
        "ExecutionAlreadyExists",
        "EntityAlreadyExists",
        "StateMachineAlreadyExists",
        "ResourceAlreadyExistsException",
    }
)
ACCESS_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "ExpiredToken",
        "ExpiredTokenException",
        "AuthFailure",
        "SignatureDoesNotMatch",
        "MissingAuthenticationToken",
    }
)
REJECTED_CODES = frozenset(
    {
        "ValidationException",
        "ValidationError",
        "InvalidParameterValueException",
        "InvalidParameterException",
        "InvalidRequestContentException",
        "InvalidDefinition",
        "InvalidArn",
        "InvalidName",
        "InvalidExecutionInput",
        "InvalidOutput",  # SendTaskSuccess: the output is not JSON
        "InvalidToken",  # SendTask*: a malformed task token
        "InvalidLoggingConfiguration",
        "MalformedPolicyDocument",
        "MalformedPolicyDocumentException",
        "LimitExceeded",
        "CodeStorageExceededException",
        "RequestEntityTooLargeException",
    }
)

# CloudFormation answers a missing stack or change set with a ValidationError whose message says
# so ("Stack with id X does not exist", "ChangeSet [X] does not exist").
_DOES_NOT_EXIST = re.compile(r"\bdoes not exist\b")

# The operations that only read. Everything else changes something (what the tests count).
_READ_ONLY_PREFIXES = ("Get", "List", "Describe", "Filter", "Validate", "Lookup")


def is_mutating(operation: str) -> bool:
    """Whether an API operation (e.g. "UpdateFunctionCode") can change anything."""
    return not operation.startswith(_READ_ONLY_PREFIXES)


@dataclass(frozen=True)
class ApiCall:
    service: str  # botocore service name, e.g. "lambda"
    operation: str  # API operation name, e.g. "GetFunction"


_call_listeners: list[Callable[[ApiCall], None]] = []


@contextmanager
def recording_calls() -> Iterator[list[ApiCall]]:
    """Every API call made by any AwsClient while the block runs, in order (for tests and
    for counting calls)."""
    calls: list[ApiCall] = []
    _call_listeners.append(calls.append)
    try:
        yield calls
    finally:
        _call_listeners.remove(calls.append)


def _announce_call(model: OperationModel, **_: Any) -> None:
    call = ApiCall(model.service_model.service_name, model.name)
    for listener in list(_call_listeners):
        listener(call)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: first wait `first_wait` seconds, doubling up to `max_wait`."""

    attempts: int = 12  # about a minute in all: IAM usually propagates within seconds
    first_wait: float = 0.5
    max_wait: float = 8.0


@dataclass(frozen=True)
class AwsSettings:
    region: str
    profile: str | None = None
    endpoint_url: str | None = None  # set: every client talks to it (the local AWS services)
    validate_parameters: bool = True  # False: the service, not botocore, judges the request


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def error_message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", "")).strip()


def is_retryable(error: BaseException) -> bool:
    """IAM propagation, throttling, update-in-progress conflicts and AWS-side hiccups pass
    with time. (botocore's own retries are off, so every wait goes through the injected
    sleep.)"""
    if isinstance(error, TRANSIENT_NETWORK_ERRORS):
        return True
    if not isinstance(error, ClientError):
        return False
    code = error_code(error)
    if code in THROTTLING_CODES or code in CONFLICT_CODES or code in TRANSIENT_CODES:
        return True
    return bool(IAM_PROPAGATION_MESSAGES.search(error_message(error)))


class AwsClient:
    """boto3 clients for one profile and region, with retries, waiters and error translation."""

    def __init__(
        self,
        settings: AwsSettings,
        *,
        session: boto3.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.settings = settings
        self.sleep = sleep
        self.retry = retry or RetryPolicy()
        self._session = session
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()  # sessions are not thread-safe; the clients they make are
        self._account_id: str | None = None

    # -- clients ------------------------------------------------------------------------------

    @property
    def session(self) -> boto3.Session:
        if self._session is None:
            try:
                self._session = boto3.Session(
                    profile_name=self.settings.profile, region_name=self.settings.region
                )
            except botocore.exceptions.BotoCoreError as exc:
                raise translate_botocore(exc, "open the AWS session", self.settings) from None
        return self._session

    def client(self, service: str) -> Any:
        """The cached boto3 client for `service`; each call it makes is announced."""
        with self._lock:
            return self._client(service)

    def _client(self, service: str) -> Any:
        if service not in self._clients:
            # boto3-stubs types client() per literal service name; ours is a runtime string.
            make_client: Callable[..., Any] = self.session.client
            try:
                client = make_client(
                    service,
                    region_name=self.settings.region,
                    endpoint_url=self.settings.endpoint_url,
                    config=Config(
                        user_agent_extra=USER_AGENT,
                        # No botocore retries: `_with_retries` owns them all (see is_retryable).
                        retries={"mode": "standard", "total_max_attempts": 1},
                        connect_timeout=10,
                        read_timeout=70,
                        parameter_validation=self.settings.validate_parameters,
                    ),
                )
            except botocore.exceptions.BotoCoreError as exc:
                raise translate_botocore(
                    exc, f"create the {service} client", self.settings
                ) from None
            client.meta.events.register("before-call.*.*", _announce_call)
            self._clients[service] = client
        return self._clients[service]

    def account_id(self) -> str:
        if self._account_id is None:
            answer = self.call("sts", "get_caller_identity", what="identify the AWS account")
            self._account_id = str(answer["Account"])
        return self._account_id

    # -- calls --------------------------------------------------------------------------------

    def call(self, service: str, method: str, *, what: str, **params: Any) -> dict[str, Any]:
        """`client.<method>(**params)` with retries; failures become ToolErrors naming `what`."""
        try:
            return self._with_retries(service, method, params)
        except ClientError as exc:
            raise translate_client_error(exc, what) from None
        except botocore.exceptions.BotoCoreError as exc:
            raise translate_botocore(exc, what, self.settings) from None

    def image_digest(self, uri: str) -> str:
        """An ECR image URI with a tag (`latest` when none), as the same image by digest
        (DescribeImages; Serverless v3 resolveImageUriAndShaFromUri reads it the same way)."""
        registry_host, _, rest = uri.partition("/")
        repository, _, tag = rest.partition(":")
        try:
            answer = self.call(
                "ecr", "describe_images", what=f"find container image {uri} in ECR",
                registryId=registry_host.split(".")[0], repositoryName=repository,
                imageIds=[{"imageTag": tag or "latest"}],
            )  # fmt: skip
        except NotFound as exc:
            raise BadInput(
                f"container image {uri} is not in ECR: {exc.message}",
                hint="push the image first (`docker push`), or fix its repository or tag in "
                "serverless.yml",
            ) from None
        return f"{registry_host}/{repository}@{answer['imageDetails'][0]['imageDigest']}"

    def find(self, service: str, method: str, *, what: str, **params: Any) -> dict[str, Any] | None:
        """Like `call`, but None when AWS says the resource does not exist."""
        try:
            return self.call(service, method, what=what, **params)
        except NotFound:
            return None

    def pages(self, service: str, method: str, *, what: str, **params: Any) -> Iterator[Any]:
        """Each page of a paginated operation (botocore's paginator)."""
        paginator = self.client(service).get_paginator(method)
        try:
            yield from paginator.paginate(**params)
        except ClientError as exc:
            raise translate_client_error(exc, what) from None
        except botocore.exceptions.BotoCoreError as exc:
            raise translate_botocore(exc, what, self.settings) from None

    def wait(self, service: str, waiter_name: str, *, what: str, **params: Any) -> dict[str, Any]:
        """Poll botocore's waiter `waiter_name` (e.g. function_active_v2) with our own sleep.

        Returns the last response once the waiter's success acceptor matches."""
        config = self.client(service).get_waiter(waiter_name).config
        method = xform_name(config.operation)
        last_reason = ""
        for attempt in range(config.max_attempts):
            try:
                response: dict[str, Any] = self._with_retries(service, method, params)
            except ClientError as exc:
                response = cast(dict[str, Any], exc.response)  # a TypedDict, a dict at run time
            except botocore.exceptions.BotoCoreError as exc:
                raise translate_botocore(exc, what, self.settings) from None
            for acceptor in config.acceptors:
                if not acceptor.matcher_func(response):
                    continue
                if acceptor.state == "success":
                    return response
                if acceptor.state == "failure":
                    raise AwsOperationFailed(
                        f"{what}: AWS reports the wait for {waiter_name} failed "
                        f"({_describe_response(response)})",
                        hint="see the resource in the AWS console for the reason, fix it and "
                        "run the command again",
                    )
                break  # "retry": poll again
            else:
                if "Error" in response:
                    code, message = response["Error"].get("Code"), response["Error"].get("Message")
                    raise AwsOperationFailed(f"{what} failed: {code}: {message}")
            last_reason = _describe_response(response)
            if attempt + 1 < config.max_attempts:
                self.sleep(config.delay)
        raise AwsOperationFailed(
            f"{what}: still not ready after {config.max_attempts} checks ({last_reason})",
            hint="AWS is slow to settle; run the command again in a minute",
        )

    def wait_until(
        self,
        service: str,
        method: str,
        *,
        what: str,
        until: Callable[[dict[str, Any]], bool],
        delay: float,
        max_attempts: int,
        on_poll: Callable[[dict[str, Any]], None] | None = None,
        **params: Any,
    ) -> dict[str, Any]:
        """Call `method` every `delay` seconds (the injected sleep) until `until(answer)`; the
        caller judges success or failure from the answer returned. `on_poll` sees each answer
        (e.g. to print progress). Errors are translated as for `call`."""
        answer: dict[str, Any] = {}
        for attempt in range(max_attempts):
            answer = self.call(service, method, what=what, **params)
            if on_poll is not None:
                on_poll(answer)
            if until(answer):
                return answer
            if attempt + 1 < max_attempts:
                self.sleep(delay)
        raise AwsOperationFailed(
            f"{what}: still not done after {max_attempts} checks, {max_attempts * delay:.0f} s",
            hint="AWS goes on by itself; run the command again later to see where it stands",
        )

    # -- JSON in, JSON out (the local service integrations) ----------------------------------

    def sdk_call(self, service: str, operation: str, params: dict[str, Any]) -> SdkAnswer:
        """One call of API `operation` (e.g. "PutItem"), once, without retries, with JSON-ready
        parameters and answer: parameter names match the model's members whatever their case,
        a non-string given for a string or blob member is sent as compact JSON; the answer's
        structure members are PascalCase, bodies are text, other blobs base64, timestamps ISO
        8601. Raises ServiceErrorAnswer for the service's error answer, ServiceUnreachable when
        the endpoint refuses the connection and ParametersRefused for a field the model lacks.
        """
        model = self.client(service).meta.service_model.operation_model(operation)
        request = _request_value(params, model.input_shape, "") if model.input_shape else {}
        missing = _missing_required(request, model.input_shape)
        if missing:
            raise ServiceErrorAnswer(
                code="ValidationException",
                message=f"{len(missing)} validation error{'s' if len(missing) > 1 else ''} "
                "detected: "
                + "; ".join(
                    f"Value null at '{name[:1].lower()}{name[1:]}' failed to satisfy "
                    "constraint: Member must not be null"
                    for name in missing
                ),
                status=400,
                request_id="",
            )
        try:
            response = getattr(self.client(service), xform_name(operation))(**request)
        except ClientError as exc:
            metadata = exc.response.get("ResponseMetadata", {})
            code = error_code(exc)
            raise ServiceErrorAnswer(
                code=code,
                message=error_message(exc),
                status=int(metadata.get("HTTPStatusCode", 400)),
                request_id=str(metadata.get("RequestId", "")),
                host_id=metadata.get("HostId") or None,
                modeled=_modeled_errors(self.client(service).meta.service_model).get(code),
            ) from None
        except botocore.exceptions.EndpointConnectionError as exc:
            raise ServiceUnreachable(str(exc)) from None
        metadata = response.pop("ResponseMetadata", {})
        result = _response_value(response, model.output_shape) if model.output_shape else {}
        return SdkAnswer(
            result=result,
            status=int(metadata.get("HTTPStatusCode", 200)),
            request_id=str(metadata.get("RequestId", "")),
            headers={str(k).lower(): str(v) for k, v in metadata.get("HTTPHeaders", {}).items()},
        )

    def _with_retries(self, service: str, method: str, params: dict[str, Any]) -> dict[str, Any]:
        operation = getattr(self.client(service), method)

        def attempt() -> dict[str, Any]:
            answer: dict[str, Any] = operation(**params)
            answer.pop("ResponseMetadata", None)
            return answer

        retrying = Retrying(
            retry=retry_if_exception(is_retryable),
            stop=stop_after_attempt(self.retry.attempts),
            wait=wait_exponential(
                multiplier=self.retry.first_wait, min=self.retry.first_wait, max=self.retry.max_wait
            ),
            sleep=self.sleep,
            reraise=True,
        )
        return retrying(attempt)


@dataclass(frozen=True)
class SdkAnswer:
    result: dict[str, Any]  # JSON-ready
    status: int
    request_id: str
    headers: dict[str, str]  # the HTTP answer's headers, names in lower case


def local_endpoint_client(url: str, region: str, credentials: dict[str, str]) -> AwsClient:
    """A client for a local endpoint: the given stand-in credentials, nothing read from the
    caller's profiles, config files or AWS_* variables, no retries, the service validates."""
    isolated = botocore.session.Session(
        session_vars={
            "profile": (None, None, None, None),
            "config_file": (None, None, os.devnull, None),
            "credentials_file": (None, None, os.devnull, None),
        }
    )
    isolated.set_credentials(
        credentials["AWS_ACCESS_KEY_ID"],
        credentials["AWS_SECRET_ACCESS_KEY"],
        credentials.get("AWS_SESSION_TOKEN"),
    )
    return AwsClient(
        AwsSettings(region=region, endpoint_url=url, validate_parameters=False),
        session=boto3.Session(botocore_session=isolated, region_name=region),
        retry=RetryPolicy(attempts=1),
    )


@lru_cache(maxsize=64)
def _service_model(service: str) -> ServiceModel | None:
    session = botocore.session.get_session()
    try:
        return session.get_service_model(service)
    except botocore.exceptions.UnknownServiceError:
        return None


def sdk_operation(service: str, action: str) -> str | None:
    """The API operation an SDK action names (`putItem` -> `PutItem`), or None when `service`
    (a botocore name) has no such operation."""
    model = _service_model(service)
    if model is None:
        return None
    wanted = action.lower()
    for name in model.operation_names:
        if name.lower() == wanted:
            return str(name)
    return None


def sdk_service_id(service: str) -> str | None:
    """The service's id in the AWS models (e.g. "DynamoDB", "Secrets Manager")."""
    model = _service_model(service)
    return str(model.service_id) if model is not None else None


def _modeled_errors(model: ServiceModel) -> dict[str, str]:
    """Error code -> the name of the error shape the model declares for it."""
    found: dict[str, str] = {}
    for shape in model.error_shapes:
        found[shape.name] = shape.name
        code = shape.metadata.get("error", {}).get("code")
        if code:
            found[str(code)] = shape.name
    return found


def _compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _request_value(value: Any, shape: Shape, path: str) -> Any:
    kind = shape.type_name
    # botocore makes a StructureShape, ListShape or MapShape for these type names.
    if kind == "structure":
        if not isinstance(value, dict):
            return value
        fields = cast(StructureShape, shape).members
        members = {name.lower(): name for name in fields}
        request: dict[str, Any] = {}
        for key, item in value.items():
            name = key if key in fields else members.get(str(key).lower())
            if name is None:
                where = f"{path}.{key}" if path else str(key)
                raise ParametersRefused(f"The field '{where}' is not supported by Step Functions")
            request[name] = _request_value(item, fields[name], name)
        return request
    if kind == "list" and isinstance(value, list):
        member = cast(ListShape, shape).member
        return [_request_value(item, member, path) for item in value]
    if kind == "map" and isinstance(value, dict):
        value_shape = cast(MapShape, shape).value
        return {k: _request_value(v, value_shape, path) for k, v in value.items()}
    if kind == "string" and value is not None and not isinstance(value, str):
        return _compact_json(value)
    if kind == "blob" and value is not None and not isinstance(value, bytes):
        return (value if isinstance(value, str) else _compact_json(value)).encode("utf-8")
    return value


def _missing_required(request: Any, shape: Shape | None) -> list[str]:
    if shape is None or not isinstance(request, dict):
        return []
    required = getattr(shape, "required_members", [])
    return [name for name in required if request.get(name) is None]


def _response_value(value: Any, shape: Shape | None) -> Any:
    if isinstance(value, StreamingBody):
        return value.read().decode("utf-8", errors="replace")
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime | date):
        return value.isoformat()
    kind = shape.type_name if shape is not None else None
    if isinstance(value, dict):
        if kind == "structure":
            members = cast(StructureShape, shape).members
            return {
                key[:1].upper() + key[1:]: _response_value(item, members.get(key))
                for key, item in value.items()
            }
        inner = cast(MapShape, shape).value if kind == "map" else None
        return {key: _response_value(item, inner) for key, item in value.items()}
    if isinstance(value, list):
        inner = cast(ListShape, shape).member if kind == "list" else None
        return [_response_value(item, inner) for item in value]
    return value


def _describe_response(response: dict[str, Any]) -> str:
    config = response.get("Configuration") or {}
    parts = [
        f"{key}={config[key]}"
        for key in ("State", "StateReasonCode", "LastUpdateStatus", "LastUpdateStatusReason")
        if config.get(key)
    ]
    if "Error" in response:
        parts.append(f"{response['Error'].get('Code')}: {response['Error'].get('Message')}")
    return ", ".join(parts) or "no details"


def translate_client_error(error: ClientError, what: str) -> ToolError:
    """One line: what failed, AWS's reason, and what to do."""
    code = error_code(error)
    message = error_message(error) or "no message"
    text = f"{what} failed: {code}: {message}"
    if code in NOT_FOUND_CODES or (code == "ValidationError" and _DOES_NOT_EXIST.search(message)):
        return NotFound(text, hint="check the name, stage and region; run `tool deploy` first")
    if code in ALREADY_EXISTS_CODES:
        return AlreadyExists(text, hint="choose another name, or remove the existing resource")
    if code in ACCESS_CODES:
        return AwsAccessDenied(
            text,
            code=code,
            hint="check the credentials in use (--aws-profile, AWS_PROFILE) and that they "
            "allow this action",
        )
    if code in THROTTLING_CODES:
        return AwsOperationFailed(
            text, code=code, hint="AWS kept throttling the requests; run the command again later"
        )
    if code in CONFLICT_CODES:
        return AwsOperationFailed(
            text, code=code, hint="another update of this resource is in progress; run again"
        )
    if IAM_PROPAGATION_MESSAGES.search(message):
        return AwsOperationFailed(
            text,
            code=code,
            hint="the new IAM role did not become usable in time; run the command again",
        )
    if code in REJECTED_CODES:
        return AwsRejected(text, code=code, hint="fix the value named above and run again")
    return AwsOperationFailed(text, code=code, hint="run again with --debug for details")


def translate_botocore(
    error: botocore.exceptions.BotoCoreError, what: str, settings: AwsSettings
) -> ToolError:
    profile = f"profile {settings.profile!r}" if settings.profile else "the default credentials"
    if isinstance(error, botocore.exceptions.ProfileNotFound):
        return AwsSetupError(
            f"{what} failed: {error}",
            hint="name a profile from ~/.aws/config with --aws-profile or provider.profile",
        )
    if isinstance(
        error,
        botocore.exceptions.NoCredentialsError
        | botocore.exceptions.PartialCredentialsError
        | botocore.exceptions.CredentialRetrievalError,
    ):
        return AwsSetupError(
            f"{what} failed: no usable AWS credentials ({profile}): {error}",
            hint="set AWS_PROFILE or pass --aws-profile, or run `aws configure` / `aws sso login`",
        )
    if isinstance(error, botocore.exceptions.NoRegionError):
        return AwsSetupError(
            f"{what} failed: no region", hint="set provider.region or pass --region"
        )
    if isinstance(
        error, botocore.exceptions.EndpointConnectionError | botocore.exceptions.ConnectionError
    ):
        return AwsOperationFailed(
            f"{what} failed: cannot reach AWS: {error}",
            hint="check the network, the region and AWS_ENDPOINT_URL",
        )
    return AwsOperationFailed(f"{what} failed: {error}", hint="run again with --debug")
