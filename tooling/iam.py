"""Least-privilege IAM, generated from the service: who may assume each role, and what it may do.

- The function role may write its functions' logs, plus `provider.iam.role.statements`
  (and the legacy `provider.iamRoleStatements`) and `provider.iam.role.managedPolicies`.
- Each state machine role may invoke exactly the Lambda functions its definition names (Task
  `Resource` ARNs and `arn:aws:states:::lambda:invoke` integrations' `FunctionName`). A
  qualified reference (`name:alias`, `name:3`) adds `ARN:*` for that function. The common
  request-response integrations of other services get their own grants
  (tooling.iam_integrations); the machine's `iamRoleStatements` are appended. A machine with
  `role` gets no generated role at all.
- Trust policies name the service principal and, for Step Functions, pin the caller to this
  account's state machines (AWS's confused-deputy advice).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from tooling.asl import Definition, parse
from tooling.config.function_settings import (
    DESTINATION_ACTIONS,
    MACHINE_XRAY_ACTIONS,
    VPC_POLICY,
    XRAY_STATEMENT,
)
from tooling.config.machine_settings import ENCRYPTION_KEY_ACTIONS, KMS_KEY_ARNS_ACTIONS
from tooling.config.service import FunctionConfig, ServiceConfig, StateMachineConfig
from tooling.iam_integrations import Gap, Scope, allows, integration_permissions
from tooling.machine_logging import machine_logging
from tooling.names import partition_for

POLICY_VERSION = "2012-10-17"
# Every inline policy the toolkit writes on its roles is named "tool-...": the others on them
# (an AWS::IAM::Policy of the `resources:` stack attached to the function role, as Serverless
# templates do, or one added by hand) are not the toolkit's, and it leaves them alone.
TOOLKIT_POLICY_PREFIX = "tool-"
FUNCTION_POLICY_NAME = "tool-function"
STATE_MACHINE_POLICY_NAME = "tool-state-machine"
LAMBDA_INVOKE_INTEGRATIONS = (
    "arn:{partition}:states:::lambda:invoke",
    "arn:{partition}:states:::lambda:invoke.waitForTaskToken",
)
MAX_ROLE_NAME = 64  # IAM CreateRole RoleName
# What a state machine's role needs to log to CloudWatch Logs (Step Functions developer guide,
# "IAM policies for logging to CloudWatch Logs"; the same list appears in many public policies).
LOG_DELIVERY_ACTIONS = (
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
)


@dataclass(frozen=True)
class RoleSpec:
    """A role as the toolkit wants it: name, trust policy, inline and managed policies."""

    name: str
    trust_policy: dict[str, Any]
    inline_policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    managed_policies: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    def arn(self, partition: str, account_id: str) -> str:
        return f"arn:{partition}:iam::{account_id}:role/{self.name}"


def lambda_trust_policy() -> dict[str, Any]:
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def states_trust_policy(partition: str, region: str, account_id: str) -> dict[str, Any]:
    # aws:SourceAccount + aws:SourceArn guard against the cross-service confused deputy. This is
    # the condition the Step Functions console puts on the roles it makes (seen in exported
    # console-made roles: ArnLike arn:aws:states:<region>:<account>:stateMachine:*).
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "states.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account_id},
                    "ArnLike": {
                        "aws:SourceArn": f"arn:{partition}:states:{region}:{account_id}:"
                        "stateMachine:*"
                    },
                },
            }
        ],
    }


def toolkit_policies(inline: Mapping[str, Any]) -> dict[str, Any]:
    """The inline policies of a role that the toolkit wrote (see TOOLKIT_POLICY_PREFIX)."""
    return {name: doc for name, doc in inline.items() if name.startswith(TOOLKIT_POLICY_PREFIX)}


def role_name(*parts: str) -> str:
    """`<parts joined by ->`, cut to IAM's 64 characters with a short digest to stay unique."""
    name = "-".join(parts)
    if len(name) <= MAX_ROLE_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: MAX_ROLE_NAME - 9]}-{digest}"


def function_role_name(service: ServiceConfig) -> str:
    # Serverless names the shared function role <service>-<stage>-<region>-lambdaRole, or
    # provider.iam.role.name (checked by the loader).
    named = _role_settings(service).get("name")
    if isinstance(named, str) and named:
        return named
    return role_name(service.service, service.stage, service.region, "lambdaRole")


def state_machine_role_name(service: ServiceConfig, machine: StateMachineConfig) -> str:
    return role_name(service.service, service.stage, service.region, machine.key, "sfnRole")


def log_group_arn(service: ServiceConfig, log_group: str) -> str:
    partition = partition_for(service.region)
    return f"arn:{partition}:logs:{service.region}:{service.account_id}:log-group:{log_group}"


def function_log_group(function_name: str) -> str:
    return f"/aws/lambda/{function_name}"


def custom_function_role(service: ServiceConfig) -> str | None:
    """The ARN of a role the user brings (`provider.iam.role: <name or ARN>`, or the legacy
    `provider.role`), in which case the toolkit creates no function role."""
    iam = service.provider.get("iam")
    role = iam.get("role") if isinstance(iam, dict) else None
    if role is None:
        role = service.provider.get("role")
    if not isinstance(role, str) or not role:
        return None
    if role.startswith("arn:"):
        return role
    return f"arn:{partition_for(service.region)}:iam::{service.account_id}:role/{role}"


def function_role(service: ServiceConfig) -> RoleSpec:
    """The service's role, for the functions without a role of their own."""
    log_resources = sorted(
        log_group_arn(service, function_log_group(fn.name)) + ":*"
        for fn in service.functions.values()
        if fn.uses_service_role
    )
    statements: list[dict[str, Any]] = []
    if log_resources:
        statements.append(
            {
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": log_resources,
            }
        )
    shared = [fn for fn in service.functions.values() if fn.uses_service_role]
    statements.extend(_provider_statements(service))
    statements.extend(_settings_statements(shared))
    statements.extend(queue_polling_statements(shared))
    statements.extend(stream_reading_statements(shared))
    if service.websocket is not None and shared:
        statements.append(_manage_connections(service))
    policies = {FUNCTION_POLICY_NAME: _policy(statements)} if statements else {}
    return RoleSpec(
        name=function_role_name(service),
        trust_policy=lambda_trust_policy(),
        inline_policies=policies,
        managed_policies=tuple(
            sorted({*_managed_policies(service), *_settings_policies(service, shared)})
        ),
    )


def _manage_connections(service: ServiceConfig) -> dict[str, Any]:
    """What Serverless adds to its role with websocket events: answering the API's clients
    (ApiGatewayManagementApi's PostToConnection, GetConnection, DeleteConnection). Serverless
    grants it on every API of every account and region; here this account and region's."""
    partition = partition_for(service.region)
    return {
        "Effect": "Allow",
        "Action": ["execute-api:ManageConnections"],
        "Resource": [
            f"arn:{partition}:execute-api:{service.region}:{service.account_id}:*/@connections/*"
        ],
    }


def _settings_statements(functions: list[FunctionConfig]) -> list[dict[str, Any]]:
    """X-Ray's actions when a function traces (Serverless adds them to its role whatever the
    mode; they take no resource-level permission), and what the functions' destinations need."""
    statements = [dict(XRAY_STATEMENT)] if any(fn.settings.tracing for fn in functions) else []
    keys = sorted(
        {fn.settings.kms_key_arn or "" for fn in functions if fn.settings.kms_key_as_text}
    )
    for key in keys:  # Serverless lets its role decrypt a key written as text
        statements.append({"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [key]})
    # destinations' actions, one statement each, as Serverless adds them
    for fn in functions:
        for destination in fn.settings.destinations:
            action = DESTINATION_ACTIONS[destination.type]
            statements.append({"Effect": "Allow", "Action": action, "Resource": destination.arn})
    return statements


def _settings_policies(service: ServiceConfig, functions: list[FunctionConfig]) -> set[str]:
    """AWSLambdaVPCAccessExecutionRole when a function runs in a VPC (its network interfaces),
    as Serverless attaches it."""
    if any(fn.settings.vpc for fn in functions):
        return {VPC_POLICY.format(partition=partition_for(service.region))}
    return set()


def function_own_role(service: ServiceConfig, function: FunctionConfig) -> RoleSpec:
    """The role of a function with `iamRoleStatements` (serverless-iam-roles-per-function): its
    log group's statement, then the statements the loader gathered (the provider's when
    inherited, then its own), X-Ray's when it traces; no managed policy of the provider's, as
    the plugin, but AWSLambdaVPCAccessExecutionRole when it runs in a VPC (not confirmed for
    the plugin; Serverless v4's own per-function roles attach it)."""
    assert function.own_role is not None
    statements: list[dict[str, Any]] = [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [log_group_arn(service, function_log_group(function.name)) + ":*"],
        },
        *queue_polling_statements([function]),
        *stream_reading_statements([function]),
        *function.own_role_statements,
        *_settings_statements([function]),
    ]
    return RoleSpec(
        name=function.own_role,
        trust_policy=lambda_trust_policy(),
        inline_policies={FUNCTION_POLICY_NAME: _policy(statements)},
        managed_policies=tuple(sorted(_settings_policies(service, [function]))),
    )


def queue_polling_statements(functions: Iterable[FunctionConfig]) -> list[dict[str, Any]]:
    """What Lambda needs to poll the queues of these functions' `sqs` events: the statement
    Serverless adds to its role (and serverless-iam-roles-per-function to a function's own)."""
    queues = list(dict.fromkeys(e.queue_arn for f in functions for e in f.events.sqs))
    if not queues:
        return []
    return [
        {
            "Effect": "Allow",
            "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
            "Resource": queues,
        }
    ]


def stream_reading_statements(functions: Iterable[FunctionConfig]) -> list[dict[str, Any]]:
    """What Lambda needs to read the streams of these functions' `stream` events and send a
    failed batch's record to its onFailure destination: the statements Serverless adds (v3
    stream.js), one per kind that is used."""
    events = [e for f in functions for e in f.events.streams]

    def arns(kind: str, *, failure: bool = False) -> list[str]:
        if failure:
            chosen = [e.on_failure for e in events if e.on_failure and e.on_failure_type == kind]
            return list(dict.fromkeys(a for a in chosen if a))
        return list(dict.fromkeys(e.stream_arn for e in events if e.stream_type == kind))

    actions = {
        "dynamodb": ["dynamodb:GetRecords", "dynamodb:GetShardIterator",
                     "dynamodb:DescribeStream", "dynamodb:ListStreams"],
        "kinesis": ["kinesis:GetRecords", "kinesis:GetShardIterator",
                    "kinesis:DescribeStream", "kinesis:ListStreams"],
    }  # fmt: skip
    failure_actions = {"sns": ["sns:Publish"], "sqs": ["sqs:ListQueues", "sqs:SendMessage"]}
    statements = [
        {"Effect": "Allow", "Action": actions[kind], "Resource": arns(kind)}
        for kind in actions
        if arns(kind)
    ]
    statements += [
        {"Effect": "Allow", "Action": failure_actions[kind], "Resource": arns(kind, failure=True)}
        for kind in failure_actions
        if arns(kind, failure=True)
    ]
    return statements


def _role_settings(service: ServiceConfig) -> Mapping[str, Any]:
    iam = service.provider.get("iam")
    role = iam.get("role") if isinstance(iam, dict) else None
    return role if isinstance(role, dict) else {}


def _provider_statements(service: ServiceConfig) -> list[dict[str, Any]]:
    """provider.iam.role.statements and provider.iamRoleStatements, as the loader resolved and
    checked them (with their lines; a statement with a problem is in service.problems)."""
    return list(service.provider_iam_statements)


def _managed_policies(service: ServiceConfig) -> tuple[str, ...]:
    value = _role_settings(service).get("managedPolicies") or service.provider.get(
        "iamManagedPolicies"
    )
    if not isinstance(value, list):
        return ()  # a wrong shape is in service.problems, with its line
    return tuple(sorted({item for item in value if isinstance(item, str) and _is_arn(item)}))


def _is_arn(text: str) -> bool:
    return text.startswith("arn:")


# -- state machines ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FunctionReference:
    arn: str  # unqualified function ARN
    qualified: bool  # the definition names a version or alias of it


def state_machine_role(service: ServiceConfig, machine: StateMachineConfig) -> RoleSpec:
    partition = partition_for(service.region)
    references, warnings = referenced_functions(machine.tree, service)
    resources: set[str] = set()
    for reference in references:
        resources.add(reference.arn)
        if reference.qualified:
            resources.add(reference.arn + ":*")
    statements: list[dict[str, Any]] = []
    if resources:
        statements.append(
            {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": sorted(resources)}
        )
    scope = Scope(partition, service.region, service.account_id)
    integrations = integration_permissions(_task_states(machine.tree), scope)
    statements.extend(integrations.statements())
    warnings.extend(integrations.warnings)
    own = machine.iam_role_statements
    for gap in integrations.gaps:
        if gap.action is None or not allows(own, gap.action):
            warnings.append(_gap_warning(gap, machine))
    if machine_logging(service, machine) is not None:
        # The log-delivery actions take no resource-level permission: "*" is the only choice.
        statements.append(
            {"Effect": "Allow", "Action": list(LOG_DELIVERY_ACTIONS), "Resource": "*"}
        )
    if machine.tracing:  # X-Ray's actions take no resource-level permission
        statements.append(
            {"Effect": "Allow", "Action": list(MACHINE_XRAY_ACTIONS), "Resource": "*"}
        )
    if machine.kms_key_arns:  # as the plugin grants them (compileIamRole.js)
        statements.append(
            {"Effect": "Allow", "Action": list(KMS_KEY_ARNS_ACTIONS),
             "Resource": list(machine.kms_key_arns)}
        )  # fmt: skip
    if machine.encryption is not None and machine.encryption.kms_key_id:
        statements.append(
            {"Effect": "Allow", "Action": list(ENCRYPTION_KEY_ACTIONS),
             "Resource": machine.encryption.kms_key_id}
        )  # fmt: skip
    statements.extend(own)
    policies = {STATE_MACHINE_POLICY_NAME: _policy(statements)} if statements else {}
    return RoleSpec(
        name=state_machine_role_name(service, machine),
        trust_policy=states_trust_policy(partition, service.region, service.account_id),
        inline_policies=policies,
        warnings=tuple(warnings),
    )


def _gap_warning(gap: Gap, machine: StateMachineConfig) -> str:
    needs = f"{gap.action} and whatever else it needs" if gap.action else "what it needs"
    return (
        f"{gap.message}; the generated role allows none of it, so on AWS the call fails with "
        f"AccessDenied: allow {needs} under stepFunctions.stateMachines.{machine.key}."
        "iamRoleStatements"
    )


def referenced_functions(
    definition: Any, service: ServiceConfig
) -> tuple[list[FunctionReference], list[str]]:
    """Every Lambda function a definition (or its syntax tree) invokes, as unqualified ARNs
    (sorted, unique)."""
    partition = partition_for(service.region)
    integrations = {pattern.format(partition=partition) for pattern in LAMBDA_INVOKE_INTEGRATIONS}
    found: dict[str, bool] = {}
    warnings: list[str] = []
    for state_name, state in _task_states(definition):
        resource = state.get("Resource")
        if not isinstance(resource, str):
            continue
        target: str | None = None
        if ":lambda:" in resource and ":function:" in resource:
            target = resource
        elif resource in integrations:
            target = _integration_target(state)
            if target is None:
                # `FunctionName.$` (JSONPath) or a JSONata `{% %}` expression: chosen at run
                # time, so the role may invoke the service's functions.
                warnings.append(
                    f"state {state_name!r} picks its function at run time; its role may "
                    "invoke every function of the service"
                )
                for fn in service.functions.values():
                    found.setdefault(fn.arn, False)
        if target is None:
            continue
        arn, qualified = _unqualified_arn(target, service, partition)
        found[arn] = found.get(arn, False) or qualified
    return [FunctionReference(arn, qualified) for arn, qualified in sorted(found.items())], warnings


def _integration_target(state: dict[str, Any]) -> str | None:
    for key in ("Parameters", "Arguments"):
        block = state.get(key)
        if isinstance(block, dict):
            name = block.get("FunctionName")
            if isinstance(name, str) and not name.startswith("{%"):
                return name
    return None


def _unqualified_arn(identifier: str, service: ServiceConfig, partition: str) -> tuple[str, bool]:
    """(function ARN without qualifier, whether a qualifier was given) for a name, a partial
    ARN (`account:function:name`) or an ARN, as Lambda's FunctionName accepts them."""
    parts = identifier.split(":")
    if parts[0] == "arn" and len(parts) >= 7:
        base = ":".join(parts[:7])
        return base, len(parts) > 7
    if len(parts) >= 3 and parts[1] == "function":
        account, name = parts[0], parts[2]
        arn = f"arn:{partition}:lambda:{service.region}:{account}:function:{name}"
        return arn, len(parts) > 3
    name = parts[0]
    arn = f"arn:{partition}:lambda:{service.region}:{service.account_id}:function:{name}"
    return arn, len(parts) > 1


def _task_states(definition: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every Task state, including those inside Parallel branches and Map processors, of a
    definition or its syntax tree."""
    tree = definition if isinstance(definition, Definition) else parse(definition)
    for node in tree.states():
        if node.type == "Task":
            yield node.name, node.fields


def _policy(statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": POLICY_VERSION, "Statement": statements}
