"""What a state machine's role needs for the service integrations its Task states call.

The common request-response integrations get least-privilege grants, from the names the
definition gives (JSONPath `Parameters` or JSONata `Arguments`); the actions and resource forms
are those of the Step Functions developer guide's "IAM policies for integrated services" pages:

- `sqs:sendMessage` -> sqs:SendMessage on the queue of a literal `QueueUrl`
- `sns:publish` -> sns:Publish on a literal `TopicArn` (or `TargetArn`)
- `dynamodb:getItem|putItem|updateItem|deleteItem` -> dynamodb:<Action> on `table/<TableName>`
- `states:startExecution` (and `.waitForTaskToken`) -> states:StartExecution on a literal
  `StateMachineArn`; with `.sync` or `.sync:2` also states:DescribeExecution/StopExecution on
  its executions and events:PutTargets/PutRule/DescribeRule on the managed rule (the guide's
  "IAM policies for AWS Step Functions", Synchronous)
- `events:putEvents` -> events:PutEvents on each `Entries[*].EventBusName` (`default` if absent)

A name chosen at run time (`Key.$`, a `{% %}` expression) grants the action on all of that
service's resources in the service's account and region, with a warning. (AWS's own generated
policies use `"*"` there; the toolkit keeps to the account and region.) Every other call
(`aws-sdk:*`, `.sync` of services other than Step Functions, `.waitForTaskToken` of services
other than Lambda, SQS, SNS and Step Functions,
activities) gets no grant, and a
gap: the deploy warns unless the machine's `iamRoleStatements` allow the call.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from tooling.config.resources import pending_in
from tooling.names import parse_queue_url

_INTEGRATION = re.compile(r"^arn:[\w-]+:states:::(?P<path>.+)$")
_LAMBDA = re.compile(r"^arn:[\w-]+:lambda:[^:]+:[^:]*:function:.+$")
_LAMBDA_INVOKE = ("lambda:invoke", "lambda:invoke.waitForTaskToken")  # tooling.iam's business
_ACTIVITY = re.compile(r"^arn:[\w-]+:states:[a-z0-9-]+:\d{12}:activity:.+$")
_STATE_MACHINE_ARN = re.compile(r"^arn:[\w-]+:states:[a-z0-9-]+:\d{12}:stateMachine:[^:]+(:.+)?$")
_TOPIC_ARN = re.compile(r"^arn:[\w-]+:sns:[a-z0-9-]+:\d{12}:.+$")
_TABLE_ARN = re.compile(r"^arn:[\w-]+:dynamodb:[a-z0-9-]+:\d{12}:table/[\w.-]+$")
_TABLE_NAME = re.compile(r"^[\w.-]{1,255}$")
_EVENT_BUS_ARN = re.compile(r"^arn:[\w-]+:events:[a-z0-9-]+:\d{12}:event-bus/.+$")
_EVENT_BUS_NAME = re.compile(r"^[\w./-]{1,256}$")
# AWS SDK service names whose IAM prefix differs (assumed from the IAM service-prefix list;
# when a name is missing here the warning stays, the safe direction).
_IAM_PREFIX = {
    "sfn": "states",
    "eventbridge": "events",
    "cloudwatchlogs": "logs",
    "emr": "elasticmapreduce",
    "sesv2": "ses",
    "elasticloadbalancingv2": "elasticloadbalancing",
}

Kind = Literal["literal", "dynamic", "absent"]


@dataclass(frozen=True)
class Scope:
    """Where the state machine runs, for ARNs built from names and for run-time wildcards."""

    partition: str
    region: str
    account_id: str

    def arn(self, service: str, resource: str) -> str:
        return f"arn:{self.partition}:{service}:{self.region}:{self.account_id}:{resource}"


@dataclass(frozen=True)
class Gap:
    """A call the generated role does not cover. `action`, when known, is the IAM action whose
    grant in the user's own statements shows the gap is taken care of."""

    state: str
    message: str
    action: str | None


@dataclass
class Permissions:
    grants: dict[str, set[str]] = field(default_factory=dict)  # IAM action -> resources
    warnings: list[str] = field(default_factory=list)  # grants wider than one resource
    gaps: list[Gap] = field(default_factory=list)

    def grant(self, action: str, resource: str) -> None:
        self.grants.setdefault(action, set()).add(resource)

    def statements(self) -> list[dict[str, Any]]:
        return [
            {"Effect": "Allow", "Action": action, "Resource": sorted(resources)}
            for action, resources in sorted(self.grants.items())
        ]


def integration_permissions(
    tasks: Iterable[tuple[str, dict[str, Any]]], scope: Scope
) -> Permissions:
    """Grants, warnings and gaps for every Task state that calls something other than Lambda."""
    permissions = Permissions()
    for name, state in tasks:
        resource = state.get("Resource")
        if not isinstance(resource, str) or _LAMBDA.match(resource):
            continue
        match = _INTEGRATION.match(resource)
        path = match["path"] if match else None
        if path in _LAMBDA_INVOKE:
            continue
        handler = _HANDLERS.get(path or "")
        if handler is not None:
            handler(name, state, scope, permissions)
        else:
            permissions.gaps.append(
                Gap(name, f"state {name!r} calls {resource}", _gap_action(resource, path))
            )
    return permissions


def allows(statements: Iterable[Mapping[str, Any]], action: str) -> bool:
    """Whether an Allow statement's Action (wildcards included) names `action`."""
    for statement in statements:
        if statement.get("Effect") != "Allow":
            continue
        patterns = statement.get("Action")
        patterns = [patterns] if isinstance(patterns, str) else patterns
        if not isinstance(patterns, list):
            continue
        for pattern in patterns:
            if isinstance(pattern, str) and fnmatch.fnmatchcase(action.lower(), pattern.lower()):
                return True
    return False


def _gap_action(resource: str, path: str | None) -> str | None:
    """The IAM action of the API a resource calls: `aws-sdk:s3:getObject` -> s3:GetObject,
    `ecs:runTask.sync` -> ecs:RunTask. None for activities and anything unknown."""
    if path is None or _ACTIVITY.match(resource):
        return None
    parts = path.split(":")
    if parts[0] == "aws-sdk" and len(parts) >= 3:
        service, api = parts[1], parts[2]
    elif len(parts) >= 2:
        service, api = parts[0], parts[1].split(".")[0]
    else:
        return None
    if not api:
        return None
    return f"{_IAM_PREFIX.get(service, service)}:{api[0].upper()}{api[1:]}"


# -- reading Parameters / Arguments -----------------------------------------------------------


def _is_expression(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    text = value.strip()
    return text.startswith("{%") and text.endswith("%}")


def _lookup(block: Mapping[str, Any], key: str, jsonata: bool) -> tuple[Kind, Any]:
    if not jsonata and f"{key}.$" in block:
        return "dynamic", None
    if key not in block:
        return "absent", None
    value = block[key]
    if jsonata and _is_expression(value):
        return "dynamic", None
    return "literal", value


@dataclass(frozen=True)
class _Arguments:
    """A Task state's `Arguments` (JSONata) or `Parameters` (JSONPath)."""

    block: Mapping[str, Any] | None
    jsonata: bool
    dynamic: bool  # the whole of Arguments is one expression

    @classmethod
    def of(cls, state: Mapping[str, Any]) -> _Arguments:
        arguments = state.get("Arguments")
        if _is_expression(arguments):
            return cls(None, True, True)
        if isinstance(arguments, dict):
            return cls(arguments, True, False)
        parameters = state.get("Parameters")
        return cls(parameters if isinstance(parameters, dict) else None, False, False)

    def get(self, key: str) -> tuple[Kind, Any]:
        if self.block is None:
            return ("dynamic" if self.dynamic else "absent"), None
        return _lookup(self.block, key, self.jsonata)


# -- one handler per integration --------------------------------------------------------------


Handler = Callable[[str, dict[str, Any], Scope, Permissions], None]


@dataclass(frozen=True)
class _Target:
    """An integration whose target resource one parameter names."""

    action: str  # IAM action
    what: str  # "queue"
    fields: tuple[str, ...]  # the parameters that may name it; the first present counts
    to_arn: Callable[[str, Scope], str | None]
    everything: Callable[[Scope], str]  # every such resource of the account and region

    def __call__(self, name: str, state: dict[str, Any], scope: Scope, out: Permissions) -> None:
        arguments = _Arguments.of(state)
        for key in self.fields:
            kind, value = arguments.get(key)
            if kind == "dynamic":
                out.grant(self.action, self.everything(scope))
                out.warnings.append(_run_time_warning(name, self.what, self.action, scope))
                return
            if kind == "literal":
                if isinstance(value, str) and pending_in(value):
                    return  # a `resources:` value: the role is made again once it is known
                arn = self.to_arn(value, scope) if isinstance(value, str) else None
                if arn is not None:
                    out.grant(self.action, arn)
                else:
                    message = f"state {name!r}: cannot tell the {self.what} from {key} {value!r}"
                    out.gaps.append(Gap(name, message, self.action))
                return
        names = " or ".join(self.fields)
        out.gaps.append(Gap(name, f"state {name!r} names no {self.what} ({names})", self.action))


def _run_time_warning(state: str, what: str, action: str, scope: Scope) -> str:
    # Same shape as tooling.iam's "picks its function at run time".
    return (
        f"state {state!r} picks its {what} at run time; its role may call {action} on every "
        f"{what} of account {scope.account_id} in {scope.region}"
    )


def _queue_arn(url: str, scope: Scope) -> str | None:
    address = parse_queue_url(url)
    if address is None or not address.on_aws:  # a local emulator's queue is no AWS resource
        return None
    return address.arn(scope.region)


def _topic_arn(value: str, scope: Scope) -> str | None:
    return value if _TOPIC_ARN.match(value) else None


def _table_arn(value: str, scope: Scope) -> str | None:
    # TableName takes a table's name or its ARN (DynamoDB API reference).
    if _TABLE_ARN.match(value):
        return value
    return scope.arn("dynamodb", f"table/{value}") if _TABLE_NAME.match(value) else None


def _state_machine_arn(value: str, scope: Scope) -> str | None:
    return value if _STATE_MACHINE_ARN.match(value) else None


def _event_bus_arn(value: str, scope: Scope) -> str | None:
    # EventBusName takes a bus's name or its ARN (EventBridge PutEvents reference).
    if _EVENT_BUS_ARN.match(value):
        return value
    return scope.arn("events", f"event-bus/{value}") if _EVENT_BUS_NAME.match(value) else None


def _put_events(name: str, state: dict[str, Any], scope: Scope, out: Permissions) -> None:
    action, what = "events:PutEvents", "event bus"
    arguments = _Arguments.of(state)
    kind, entries = arguments.get("Entries")
    dynamic = kind == "dynamic"
    if kind == "absent" or (kind == "literal" and not isinstance(entries, list)):
        out.gaps.append(Gap(name, f"state {name!r}: cannot tell the {what} from Entries", action))
        return
    for entry in entries or []:
        if not isinstance(entry, dict):
            dynamic = True  # an entry given as a whole by an expression
            continue
        bus_kind, bus = _lookup(entry, "EventBusName", arguments.jsonata)
        if bus_kind == "dynamic":
            dynamic = True
        elif bus_kind == "absent":
            out.grant(action, scope.arn("events", "event-bus/default"))
        else:
            arn = _event_bus_arn(bus, scope) if isinstance(bus, str) else None
            if arn is None:
                message = f"state {name!r}: cannot tell the {what} from EventBusName {bus!r}"
                out.gaps.append(Gap(name, message, action))
            else:
                out.grant(action, arn)
    if dynamic:
        out.grant(action, scope.arn("events", "event-bus/*"))
        out.warnings.append(_run_time_warning(name, what, action, scope))


def _dynamodb(action: str) -> _Target:
    return _Target(
        f"dynamodb:{action}",
        "table",
        ("TableName",),
        _table_arn,
        lambda scope: scope.arn("dynamodb", "table/*"),
    )


_START_EXECUTION = _Target(
    "states:StartExecution",
    "state machine",
    ("StateMachineArn",),
    _state_machine_arn,
    lambda s: s.arn("states", "stateMachine:*"),
)
# The EventBridge rule Step Functions manages to learn that a child execution ended.
_SYNC_RULE = "rule/StepFunctionsGetEventsForStepFunctionsExecutionRule"


def _start_execution_sync(name: str, state: dict[str, Any], scope: Scope, out: Permissions) -> None:
    """StartExecution on the child, DescribeExecution/StopExecution on its executions, and the
    managed rule's PutTargets/PutRule/DescribeRule (the guide's Synchronous policy)."""
    _START_EXECUTION(name, state, scope, out)
    kind, value = _Arguments.of(state).get("StateMachineArn")
    if kind == "dynamic":
        executions = scope.arn("states", "execution:*")
    elif kind == "literal" and isinstance(value, str) and _STATE_MACHINE_ARN.match(value):
        prefix, _, rest = value.partition(":stateMachine:")
        executions = f"{prefix}:execution:{rest.split(':')[0]}:*"
    else:
        return  # the StartExecution gap already names the problem
    for action in ("states:DescribeExecution", "states:StopExecution"):
        out.grant(action, executions)
    for action in ("events:PutTargets", "events:PutRule", "events:DescribeRule"):
        out.grant(action, scope.arn("events", _SYNC_RULE))


_HANDLERS: dict[str, Handler] = {
    "sqs:sendMessage": _Target(
        "sqs:SendMessage", "queue", ("QueueUrl",), _queue_arn, lambda s: s.arn("sqs", "*")
    ),
    "sns:publish": _Target(
        "sns:Publish", "topic", ("TopicArn", "TargetArn"), _topic_arn, lambda s: s.arn("sns", "*")
    ),
    "dynamodb:getItem": _dynamodb("GetItem"),
    "dynamodb:putItem": _dynamodb("PutItem"),
    "dynamodb:updateItem": _dynamodb("UpdateItem"),
    "dynamodb:deleteItem": _dynamodb("DeleteItem"),
    "states:startExecution": _START_EXECUTION,
    "events:putEvents": _put_events,
}
# The guide's Asynchronous policy: the callback form needs StartExecution only.
_HANDLERS["states:startExecution.waitForTaskToken"] = _START_EXECUTION
_HANDLERS["states:startExecution.sync"] = _start_execution_sync
_HANDLERS["states:startExecution.sync:2"] = _start_execution_sync
# The callback forms need the same one action (the guide's IAM policies for SQS and SNS).
_HANDLERS["sqs:sendMessage.waitForTaskToken"] = _HANDLERS["sqs:sendMessage"]
_HANDLERS["sns:publish.waitForTaskToken"] = _HANDLERS["sns:publish"]
