"""Functions' `eventBridge` and `cloudwatchEvent` events as resource models (a source in
tooling.deploy.desired's SOURCES), named and shaped as Serverless v3 makes them: per event an
EventBridge rule (an event pattern or a schedule, on the default bus or the event's) targeting
the function, the statement in the function's resource policy that lets the rule invoke it
(Serverless' AWS::Lambda::Permission, principal events.amazonaws.com), and, for an `eventBus`
given by name, the bus (Serverless' AWS::Events::EventBus), once per bus.

Names: an `eventBridge` rule without `name` is `<function name>-rule-<n>` (n its place in the
function's `events`), hashed past 64 characters as Serverless hashes it; its target's id is
`<rule>-target`. A `cloudwatchEvent` rule without `name` would get a name from CloudFormation;
it is made deterministic: `<service>-<stage>-<Function>EventsRuleCloudWatchEvent<n>`, its target
id Serverless' `<function key>CloudWatchEvent`.

A state machine's eventBridge / cloudwatchEvent events (the plugin's syntax) make a rule each
on the default bus or the named one (which must exist, as the plugin creates none), targeting
the machine through a role allowed to StartExecution on it only, as the plugin's
`<Machine>EventToStepFunctionsRole`. A bus `resources:` declares puts its rules after the stack.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

from tooling import iam
from tooling.config.function_bus_events import BusEvent
from tooling.config.intrinsics import normalized_name
from tooling.config.service import FunctionConfig, ServiceConfig, StateMachineConfig
from tooling.deploy.event_resources import (
    MAX_RULE_NAME,
    MAX_TARGET_ID,
    Contribution,
    _Context,
    _trust,
    capped,
)
from tooling.deploy.function_alias_resources import target_needs
from tooling.deploy.models import (
    DEFAULT_EVENT_BUS,
    Address,
    EventBus,
    Permission,
    Resource,
    Role,
    Rule,
    RuleTarget,
    permission_name,
)
from tooling.names import partition_for

EVENTS_POLICY = "tool-events"
STATES_SOURCE = "aws.states"  # execution status changes, which `tool worker` delivers


def _hash_name(name: str, suffix: str) -> str:
    """Serverless' hashName (event-bridge/utils.js)."""
    digest = hashlib.md5(name.encode(), usedforsecurity=False).hexdigest()
    return f"{name[: 31 - len(suffix)]}{digest}-{suffix}"


def event_bridge_rule_name(function: FunctionConfig, number: int) -> str:
    """Serverless' makeAndHashRuleName."""
    suffix = f"rule-{number}"
    name = f"{function.name}-{suffix}"
    return name if len(name) <= MAX_RULE_NAME else _hash_name(name, suffix)


def event_bridge_target_id(rule_name: str) -> str:
    """Serverless' makeEventBusTargetId."""
    target_id = f"{rule_name}-target"
    return target_id if len(target_id) <= MAX_TARGET_ID else _hash_name(target_id, "target")


def cloudwatch_rule_name(service: ServiceConfig, function: FunctionConfig, number: int) -> str:
    logical = f"{normalized_name(function.key)}EventsRuleCloudWatchEvent{number}"
    return capped(f"{service.service}-{service.stage}-{logical}", MAX_RULE_NAME)


def _events_arn(service: ServiceConfig, resource: str) -> str:
    partition = partition_for(service.region)
    return f"arn:{partition}:events:{service.region}:{service.account_id}:{resource}"


def bus_rule_arn(service: ServiceConfig, bus: str, name: str) -> str:
    on = "" if bus == DEFAULT_EVENT_BUS else f"{bus}/"
    return _events_arn(service, f"rule/{on}{name}")


def function_bus_rules(context: _Context) -> Contribution:
    service = context.service
    resources: list[Resource] = []
    warnings: list[str] = []
    buses: dict[str, EventBus] = {}
    for fn in service.functions.values():
        function = Address("function", fn.name)
        for event in fn.events.bus:
            needs: list[Address] = [function]
            in_stack = _bus_in_stack(context, event.event_bus)
            if in_stack is not None:
                needs.append(in_stack)  # `resources:` declares it: the stack makes it
            elif event.creates_bus:
                bus = buses.get(event.event_bus)
                if bus is None:
                    bus = EventBus(
                        event.event_bus, _events_arn(service, f"event-bus/{event.event_bus}")
                    )
                    buses[bus.name] = bus
                    resources.append(bus)
                needs.append(bus.address)
            rule = _rule(service, fn, event, tuple(needs))
            permission = Permission(permission_name(rule.address.name, fn.target_arn),
                                    fn.target_arn, rule.arn, needs=target_needs(fn))  # fmt: skip
            resources.append(permission)
            resources.append(replace(rule, needs=(*rule.needs, permission.address)))
            if event.pattern is not None and not context.platform.matches_event_patterns:
                warnings.append(_not_matched(f"function '{fn.key}'", event, rule))
    return resources, warnings


def _rule(
    service: ServiceConfig, fn: FunctionConfig, event: BusEvent, needs: tuple[Address, ...]
) -> Rule:
    if event.kind == "eventBridge":
        name = event.name or event_bridge_rule_name(fn, event.number)
        target_id = event_bridge_target_id(name)
    else:
        name = event.name or cloudwatch_rule_name(service, fn, event.number)
        target_id = capped(f"{fn.key}CloudWatchEvent", MAX_TARGET_ID)
    transformer = event.input_transformer.to_api() if event.input_transformer else None
    target = RuleTarget(
        id=target_id,
        arn=fn.target_arn,
        input=event.input,
        input_path=event.input_path,
        input_transformer=transformer,
        retry_policy=event.retry_policy,
        dead_letter_arn=event.dead_letter_arn,
    )
    return Rule(
        name=name,
        arn=bus_rule_arn(service, event.event_bus, name),
        targets=(target,),
        schedule_expression=event.schedule.text if event.schedule else None,
        event_pattern=event.pattern,
        enabled=event.enabled,
        description=event.description,
        needs=needs,
        declared_in=event.location,
        event_bus=event.event_bus,
    )


def _not_matched(subject: str, event: BusEvent, rule: Rule) -> str:
    """What the local target does not deliver of a pattern rule, said once per event. `tool
    worker` delivers execution status changes (pattern source aws.states on the default bus,
    naming the machines in detail.stateMachineArn) as it delivers notifications, matched on
    status and stateMachineArn only."""
    file, line, column = event.location
    where = ":".join(str(p) for p in (file, line, column) if p is not None)
    said = f"{where}: {subject}: {event.kind} rule {rule.address.name}: "
    pattern = event.pattern or {}
    detail = pattern.get("detail") if isinstance(pattern.get("detail"), dict) else {}
    if (
        pattern.get("source") == [STATES_SOURCE]
        and event.event_bus == DEFAULT_EVENT_BUS
        and detail
        and detail.get("stateMachineArn")
    ):
        other = sorted(set(detail) - {"status", "stateMachineArn"})
        return said + (
            "locally `tool worker` delivers the service's execution status changes to its target, "
            "changes, matched on detail.status and detail.stateMachineArn only"
            + (f" (detail keys {', '.join(other)} are not matched locally)" if other else "")
        )
    return said + (
        "deployed as a record on this target: nothing puts events on a local bus, so its "
        "target is not invoked by this rule here (it is on AWS)"
    )


def _bus_in_stack(context: _Context, bus: str) -> Address | None:
    """The stack, when `resources:` declares the event bus `bus` (AWS::Events::EventBus with
    that Name) and this target deploys the stack: rules on it come after it."""
    service = context.service
    if bus == DEFAULT_EVENT_BUS or service.resources is None or service.stack is None:
        return None
    if not context.platform.runs_cloudformation:
        return None
    for spec in service.resources.resources.values():
        if not isinstance(spec, dict) or spec.get("Type") != "AWS::Events::EventBus":
            continue
        properties = spec.get("Properties")
        if isinstance(properties, dict) and properties.get("Name") == bus:
            return Address("stack", service.stack.name)
    return None


# -- state machines' eventBridge / cloudwatchEvent events (serverless-step-functions) ----------


def machine_bus_role(service: ServiceConfig, machine: StateMachineConfig) -> iam.RoleSpec:
    """What EventBridge assumes to start this machine from its rules, and nothing else (the
    plugin's `<Machine>EventToStepFunctionsRole`)."""
    statement = {
        "Sid": "StartThisStateMachine",
        "Effect": "Allow",
        "Action": "states:StartExecution",
        "Resource": machine.arn,
    }
    return iam.RoleSpec(
        name=iam.role_name(service.service, service.stage, service.region, machine.key, "events"),
        trust_policy=_trust("events.amazonaws.com"),
        inline_policies={EVENTS_POLICY: {"Version": iam.POLICY_VERSION, "Statement": [statement]}},
    )


def machine_bus_rule_name(service: ServiceConfig, machine: StateMachineConfig, number: int) -> str:
    logical = f"{normalized_name(machine.key)}EventsRuleCloudWatchEvent{number}"
    return capped(f"{service.service}-{service.stage}-{logical}", MAX_RULE_NAME)


def machine_bus_rules(context: _Context) -> Contribution:
    """Per eventBridge / cloudwatchEvent event of a state machine: an EventBridge rule (on the
    default bus or the event's, which must exist: the plugin creates none) targeting the machine
    through a role allowed to StartExecution on it only (or the event's `iamRole`)."""
    service = context.service
    resources: list[Resource] = []
    warnings: list[str] = []
    for machine in service.state_machines.values():
        events: tuple[BusEvent, ...] = machine.events.bus
        if not events:
            continue
        machine_address = Address("state machine", machine.name, machine.arn)
        role_arn, role_needs = "", tuple[Address, ...]()
        if any(event.role is None for event in events):
            spec = machine_bus_role(service, machine)
            role = Role(spec)
            resources.append(role)
            role_arn = spec.arn(partition_for(service.region), service.account_id)
            role_needs = (role.address,)
        for event in events:
            name = event.name or machine_bus_rule_name(service, machine, event.number)
            transformer = event.input_transformer.to_api() if event.input_transformer else None
            target = RuleTarget(
                id=capped(f"{machine.key}CloudWatchEvent", MAX_TARGET_ID),
                arn=machine.arn,
                role_arn=event.role or role_arn,
                input=event.input,
                input_path=event.input_path,
                input_transformer=transformer,
                retry_policy=event.retry_policy,
                dead_letter_arn=event.dead_letter_arn,
            )
            needs = (*(role_needs if event.role is None else ()), machine_address)
            in_stack = _bus_in_stack(context, event.event_bus)
            rule = Rule(
                name=name,
                arn=bus_rule_arn(service, event.event_bus, name),
                targets=(target,),
                event_pattern=event.pattern,
                enabled=event.enabled,
                description=event.description,
                needs=(*needs, in_stack) if in_stack is not None else needs,
                declared_in=event.location,
                event_bus=event.event_bus,
            )
            resources.append(rule)
            if not context.platform.matches_event_patterns:
                warnings.append(_not_matched(f"state machine '{machine.key}'", event, rule))
    return resources, warnings
