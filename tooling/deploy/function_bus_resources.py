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
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

from tooling.config.function_bus_events import BusEvent
from tooling.config.intrinsics import normalized_name
from tooling.config.service import FunctionConfig, ServiceConfig
from tooling.deploy.event_resources import (
    MAX_RULE_NAME,
    MAX_TARGET_ID,
    Contribution,
    _Context,
    capped,
)
from tooling.deploy.models import (
    DEFAULT_EVENT_BUS,
    Address,
    EventBus,
    Permission,
    Resource,
    Rule,
    RuleTarget,
    permission_name,
)
from tooling.names import partition_for

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
            if event.creates_bus:
                bus = buses.get(event.event_bus)
                if bus is None:
                    bus = EventBus(
                        event.event_bus, _events_arn(service, f"event-bus/{event.event_bus}")
                    )
                    buses[bus.name] = bus
                    resources.append(bus)
                needs.append(bus.address)
            rule = _rule(service, fn, event, tuple(needs))
            permission = Permission(permission_name(rule.address.name, fn.arn), fn.arn, rule.arn,
                                    needs=(function,))  # fmt: skip
            resources.append(permission)
            resources.append(replace(rule, needs=(*rule.needs, permission.address)))
            if event.pattern is not None and not context.platform.matches_event_patterns:
                warnings.append(_not_matched(fn, event, rule))
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
        arn=fn.arn,
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


def _not_matched(fn: FunctionConfig, event: BusEvent, rule: Rule) -> str:
    """What the local target does not deliver of a pattern rule, said once per event. `tool
    worker` delivers execution status changes (pattern source aws.states on the default bus,
    naming the machines in detail.stateMachineArn) as it delivers notifications, matched on
    status and stateMachineArn only."""
    file, line, column = event.location
    where = ":".join(str(p) for p in (file, line, column) if p is not None)
    said = f"{where}: function '{fn.key}': {event.kind} rule {rule.address.name}: "
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
            "locally `tool worker` invokes the function with the service's execution status "
            "changes, matched on detail.status and detail.stateMachineArn only"
            + (f" (detail keys {', '.join(other)} are not matched locally)" if other else "")
        )
    return said + (
        "deployed as a record on this target: nothing puts events on a local bus, so the "
        "function is not invoked by this rule here (it is on AWS)"
    )
