"""AWS naming rules and ARNs, shared by both targets."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from tooling.errors import InputError

LOCAL_ACCOUNT_ID = "000000000000"
MAX_INPUT_BYTES = 262_144  # StartExecution's input limit (256 KiB, UTF-8)

# StartExecution `name`: 1-80 characters; no whitespace, brackets, wildcards, the listed
# punctuation, or control characters (API reference, StartExecution; "Quotas" page).
_FORBIDDEN_NAME_CHARS = re.compile(
    r"[\s<>{}\[\]?*\"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f\ufffe\uffff\ud800-\udfff]"
)


# Names built from serverless.yml keys, checked when the service is loaded, before anything is
# created or written (they also become file names under .tool/):
# - `service`: CloudFormation's stack name rule for `<service>-<stage>` (letters, digits, '-';
#   starting with a letter; 128 characters), the name Serverless deploys the service as; its
#   own schema (`serviceName`, '^[a-zA-Z][0-9a-zA-Z-]+$') only warns by default.
# - stage: Serverless' `stage` schema, '^[a-zA-Z0-9-]+$'.
# - region: AWS region codes (`us-east-1`, `us-gov-west-1`, `cn-north-1`, `us-isob-east-1`).
# - function keys: Serverless' `functionName` schema, '^[a-zA-Z0-9-_]+$'.
# - state machine keys: IAM's role name characters, '[\w+=,.@-]' (the generated role is
#   `<service>-<stage>-<region>-<key>-sfnRole`).
# Names given in full are checked against AWS's rules where they are read: Lambda function
# names (1-64 of [a-zA-Z0-9-_]), state machine names (1-80, no whitespace, brackets, wildcards
# or "#%\^|~`$&,;:/"), SQS queue names (1-80 of [A-Za-z0-9_-], `.fifo` for FIFO queues). Names
# built from the keys above are valid by construction: IAM role names (1-64 of [\w+=,.@-], cut
# to 64 with a digest) and log groups `/aws/lambda/<function>` (1-512 of [.-_/#A-Za-z0-9]);
# tests/test_name_rules.py checks that against IAM_ROLE_NAME and LOG_GROUP_NAME.
SERVICE_NAME = re.compile(r"^[a-zA-Z][0-9a-zA-Z-]*$")
MAX_STACK_NAME = 128  # CloudFormation stack names: the service's `<service>-<stage>`
STAGE_NAME = re.compile(r"^[a-zA-Z0-9-]+$")
REGION_NAME = re.compile(r"^[a-z]{2,}(?:-[a-z]+)+-[0-9]{1,2}$")
FUNCTION_KEY = re.compile(r"^[a-zA-Z0-9-_]+$")
STATE_MACHINE_KEY = re.compile(r"^[\w+=,.@-]+$", re.ASCII)
LAMBDA_FUNCTION_NAME = re.compile(r"^[a-zA-Z0-9-_]{1,64}$")
IAM_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$", re.ASCII)
LOG_GROUP_NAME = re.compile(r"^[.\-_/#A-Za-z0-9]{1,512}$")


@dataclass(frozen=True)
class NameProblem:
    message: str
    hint: str


def service_name_problem(service: str, stage: str) -> NameProblem | None:
    if not SERVICE_NAME.fullmatch(service):
        return NameProblem(
            f"service name {service!r} is not a valid name: AWS stack names (which Serverless "
            "builds from it) allow letters, digits and '-', starting with a letter",
            "e.g. `service: my-service`",
        )
    if len(service) + 1 + len(stage) > MAX_STACK_NAME:
        return NameProblem(
            f"service name {service!r} with stage {stage!r} is longer than "
            f"{MAX_STACK_NAME} characters, AWS's limit for the stack name `<service>-<stage>`",
            "shorten the service name",
        )
    return None


def stage_problem(stage: str) -> NameProblem | None:
    if STAGE_NAME.fullmatch(stage):
        return None
    return NameProblem(
        f"stage {stage!r} is not a valid stage name: Serverless allows letters, digits and '-'",
        "e.g. dev, prod, pr-42",
    )


def region_problem(region: str) -> NameProblem | None:
    if REGION_NAME.fullmatch(region):
        return None
    return NameProblem(
        f"region {region!r} is not an AWS region code", "e.g. us-east-1, eu-west-1, us-gov-west-1"
    )


def function_key_problem(key: str) -> NameProblem | None:
    if FUNCTION_KEY.fullmatch(key):
        return None
    return NameProblem(
        f"function key {key!r} is not a valid function name: Serverless allows letters, digits, "
        "'-' and '_'",
        "rename the key under `functions:`",
    )


def state_machine_key_problem(key: str) -> NameProblem | None:
    if STATE_MACHINE_KEY.fullmatch(key):
        return None
    return NameProblem(
        f"state machine key {key!r} cannot be part of an IAM role name (its generated role is "
        "named after it): IAM allows letters, digits and '_+=,.@-'",
        "rename the key under `stepFunctions.stateMachines:`",
    )


def check_execution_name(name: str) -> None:
    if not 1 <= len(name) <= 80:
        raise InputError(
            f"execution name {name!r} is {len(name)} characters long; AWS allows 1 to 80",
            hint="choose a shorter --execution-name, or leave it out to get a fresh UUID",
        )
    bad = _FORBIDDEN_NAME_CHARS.search(name)
    if bad:
        raise InputError(
            f"execution name {name!r} contains {bad.group()!r}, which AWS does not allow",
            hint="use letters, digits, '-' and '_'",
        )


def check_input_size(text: str, source: str) -> None:
    size = len(text.encode("utf-8"))
    if size > MAX_INPUT_BYTES:
        raise InputError(
            f"{source}: the input is {size} bytes; "
            f"Step Functions accepts at most {MAX_INPUT_BYTES}",
            hint="pass a smaller document, e.g. a reference to data stored elsewhere",
        )


# StopExecution's length constraints (API reference, in characters).
MAX_STOP_ERROR_CHARS = 256
MAX_STOP_CAUSE_CHARS = 32_768


def check_stop_reason(error: str | None, cause: str | None) -> None:
    """StopExecution's error and cause limits, checked before anything is stopped."""
    for option, value, limit in (
        ("--error", error, MAX_STOP_ERROR_CHARS),
        ("--cause", cause, MAX_STOP_CAUSE_CHARS),
    ):
        if value is not None and len(value) > limit:
            raise InputError(
                f"{option} is {len(value)} characters; Step Functions accepts at most {limit}",
                hint=f"shorten {option}",
            )


def execution_arn(state_machine_arn: str, name: str) -> str:
    # arn:aws:states:<region>:<account>:stateMachine:<sm> -> ...:execution:<sm>:<name>
    prefix, _, sm_name = state_machine_arn.rpartition(":stateMachine:")
    return f"{prefix}:execution:{sm_name}:{name}"


def state_machine_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:states:{region}:{account}:stateMachine:{name}"


def activity_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:states:{region}:{account}:activity:{name}"


def function_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:lambda:{region}:{account}:function:{name}"


def unqualified_function_arn(arn: str) -> str:
    """A function's ARN without its version or alias (`...:function:f:provisioned` -> `...:f`)."""
    prefix, _, _ = arn.partition(":function:")
    return f"{prefix}:function:{function_name_from_identifier(arn)}"


def function_name_from_identifier(identifier: str) -> str:
    """The function name in a name, partial ARN (`acct:function:name`) or ARN, without qualifier."""
    parts = identifier.split(":")
    if "function" in parts:
        index = parts.index("function")
        if index + 1 < len(parts):
            return parts[index + 1]
    return identifier


# SQS queue URLs. AWS endpoints: https://sqs.<region>.amazonaws.com/<account>/<name> (also
# sqs-fips., the .api.aws dual-stack and .amazonaws.com.cn forms), the legacy
# https://<region>.queue.amazonaws.com/... and https://queue.amazonaws.com/... (AWS "Amazon SQS
# endpoints" page; the legacy forms are what GetQueueUrl used to answer). Local emulators:
# LocalStack's sqs.<region>.localhost.localstack.cloud / <region>.queue.localhost.localstack.cloud
# and http://localhost:<port>/[queue/<region>/]<account>/<name>.
_AWS_QUEUE_HOST = re.compile(
    r"(?:sqs(?:-fips)?\.(?P<region>[a-z0-9-]+)\.(?:amazonaws\.com(?:\.cn)?|api\.aws)"
    r"|(?P<legacy>[a-z0-9-]+)\.queue\.amazonaws\.com(?:\.cn)?"
    r"|queue\.amazonaws\.com)"
)
_EMULATED_QUEUE_HOST = re.compile(
    r"(?:sqs\.(?P<region>[a-z0-9-]+)|(?P<legacy>[a-z0-9-]+)\.queue)\.localhost\.localstack\.cloud"
    r"|localhost|127\.0\.0\.1"
)
_QUEUE_PATH = re.compile(
    r"/(?:queue/(?P<region>[a-z0-9-]+)/)?(?P<account>\d{12})/(?P<name>[\w-]{1,80}(?:\.fifo)?)/?"
)
# Not confirmed in AWS docs: the region-less legacy host served us-east-1 (boto's old endpoint
# table); a queue URL on it is read as us-east-1.
_GLOBAL_QUEUE_HOST_REGION = "us-east-1"


@dataclass(frozen=True)
class QueueAddress:
    """Where a queue URL points."""

    on_aws: bool  # an AWS SQS endpoint, not a local emulator's
    region: str | None  # None: the URL does not say (a loopback emulator URL)
    account: str | None  # None with name: the path is not /<account>/<name>
    name: str | None

    def arn(self, default_region: str) -> str | None:
        if self.account is None or self.name is None:
            return None
        region = self.region or default_region
        return f"arn:{partition_for(region)}:sqs:{region}:{self.account}:{self.name}"


def parse_queue_url(url: str) -> QueueAddress | None:
    """The queue a QueueUrl names; None when its host is not an SQS endpoint."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    region: str | None
    aws = _AWS_QUEUE_HOST.fullmatch(host)
    if aws is not None:
        region = aws["region"] or aws["legacy"] or _GLOBAL_QUEUE_HOST_REGION
    else:
        emulated = _EMULATED_QUEUE_HOST.fullmatch(host)
        if emulated is None:
            return None
        region = emulated["region"] or emulated["legacy"]
    path = _QUEUE_PATH.fullmatch(parts.path)
    if path is None:
        return QueueAddress(aws is not None, region, None, None)
    return QueueAddress(aws is not None, path["region"] or region, path["account"], path["name"])


def partition_for(region: str) -> str:
    """The ARN partition of a region."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"
