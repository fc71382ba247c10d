"""The SQS trigger function on AWS: its name, its least-privilege role, and its code package.

Per triggered state machine, an event source mapping hands each batch of queue messages to this
small function (tooling.triggers.lambda_handler), which starts one execution per message.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from tooling import iam
from tooling.config.service import ServiceConfig, StateMachineConfig
from tooling.names import execution_arn
from tooling.package import Package
from tooling.triggers.trigger_package import MODULES, build_trigger_zip

TRIGGER_RUNTIME = "python3.12"
TRIGGER_MEMORY_MB = 128
TRIGGER_POLICY_NAME = "tool-sqs-trigger"
MAX_FUNCTION_NAME = 64  # Lambda CreateFunction FunctionName
TRIGGER_ZIP = "sqs-trigger.zip"


def trigger_function_name(service: ServiceConfig, machine: StateMachineConfig) -> str:
    name = f"{service.service}-{service.stage}-{machine.key}-sqs-trigger"
    if len(name) <= MAX_FUNCTION_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: MAX_FUNCTION_NAME - 9]}-{digest}"


def trigger_role_name(service: ServiceConfig, machine: StateMachineConfig) -> str:
    return iam.role_name(service.service, service.stage, service.region, machine.key, "sqsRole")


def trigger_role(service: ServiceConfig, machine: StateMachineConfig) -> iam.RoleSpec:
    """Receive/delete on this machine's queues, StartExecution on this machine, DescribeExecution
    on its executions (to recognise a redelivered message's run), and its own log group."""
    function = trigger_function_name(service, machine)
    log_group = iam.log_group_arn(service, iam.function_log_group(function))
    statements = [
        {
            "Sid": "ReadTheTriggerQueues",
            "Effect": "Allow",
            # What an SQS event source mapping needs (Lambda developer guide, SQS permissions).
            "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
            "Resource": sorted(t.queue_arn for t in machine.sqs_triggers),
        },
        {
            "Sid": "StartRuns",
            "Effect": "Allow",
            "Action": "states:StartExecution",
            "Resource": machine.arn,
        },
        {
            "Sid": "LookUpRunsOfRedeliveredMessages",
            "Effect": "Allow",
            "Action": "states:DescribeExecution",
            "Resource": execution_arn(machine.arn, "*"),
        },
        {
            "Sid": "WriteItsLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"{log_group}:*",
        },
    ]
    return iam.RoleSpec(
        name=trigger_role_name(service, machine),
        trust_policy=iam.lambda_trust_policy(),
        inline_policies={
            TRIGGER_POLICY_NAME: {"Version": iam.POLICY_VERSION, "Statement": statements}
        },
    )


def trigger_package(build_dir: Path) -> Package:
    """The trigger function's zip (four files of `tooling`, no user code), built in build_dir."""
    path = build_trigger_zip(build_dir / TRIGGER_ZIP)
    data = path.read_bytes()
    digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
    return Package(
        path=path, sha256=digest, files=tuple(f"tooling/{m}" for m in MODULES), size=len(data)
    )
