"""How a found resource differs from its model, in the target API's own terms.

Both targets answer look-ups in boto3's shapes (GetRole, GetFunction, DescribeStateMachine,
GetQueueAttributes, ...), so each comparison is written once and used by every target's
provider; a target passes what it does not keep (the local runtime keeps no log delivery or
message retention).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from tooling import iam
from tooling.deploy.models import (
    DEFAULT_EPHEMERAL_MB,
    SNAP_START_OFF,
    EventSourceMapping,
    Function,
    LogGroup,
    Queue,
    Role,
    Stack,
    StateMachine,
)
from tooling.deploy.providers import TAG_SERVICE, TAG_STAGE, Diff, Found
from tooling.errors import BadInput
from tooling.machine_logging import normalized


def role_diff(role: Role, found: Found) -> Diff:
    """`found`: GetRole's Role, plus "InlinePolicies" {name: document} and "ManagedPolicies"."""
    spec = role.spec
    parts: list[tuple[str, tuple[str, ...]]] = []
    if found.get("AssumeRolePolicyDocument") != spec.trust_policy:
        parts.append(("trust policy changed", ("AssumeRolePolicyDocument",)))
    if iam.toolkit_policies(found.get("InlinePolicies", {})) != spec.inline_policies:
        parts.append(("policy changed", ("InlinePolicies",)))
    if sorted(found.get("ManagedPolicies", [])) != sorted(spec.managed_policies):
        parts.append(("managed policies changed", ("ManagedPolicies",)))
    return Diff.of(*parts)


def log_group_diff(group: LogGroup, found: Found) -> Diff:
    """`found`: a DescribeLogGroups entry."""
    if found.get("retentionInDays") == group.retention_days:
        return Diff()
    return Diff.of(("retention changed", ("retentionInDays",)))


def function_diff(function: Function, found: Found) -> Diff:
    """`found`: GetFunction's Configuration."""
    parts: list[tuple[str, tuple[str, ...]]] = []
    if function.code is not None and found.get("CodeSha256") != function.code.sha256:
        parts.append(("code changed", ("CodeSha256",)))
    if function.image is not None and found.get("ImageUri") != function.image.uri:
        parts.append(("image changed", ("ImageUri",)))
    changed = configuration_differences(function, found)
    if changed:
        parts.append(("configuration changed: " + ", ".join(changed), tuple(changed)))
    if found.get("ReservedConcurrentExecutions") != function.settings.reserved_concurrency:
        parts.append(("reserved concurrency changed", ("ReservedConcurrentExecutions",)))
    if invoke_config(found.get("EventInvokeConfig")) != function.settings.event_invoke_config():
        parts.append(("asynchronous invocation settings changed", ("EventInvokeConfig",)))
    return Diff.of(*parts)


def invoke_config(found: Any) -> dict[str, Any] | None:
    """GetFunctionEventInvokeConfig's answer in the shape the deploy sends it."""
    if not isinstance(found, dict):
        return None
    config: dict[str, Any] = {
        "DestinationConfig": {
            which: {"Destination": target["Destination"]}
            for which, target in (found.get("DestinationConfig") or {}).items()
            if isinstance(target, dict) and target.get("Destination")
        }
    }
    for key in ("MaximumEventAgeInSeconds", "MaximumRetryAttempts"):
        if found.get(key) is not None:
            config[key] = found[key]
    return config


TOOLKIT_TAGS = (TAG_SERVICE, TAG_STAGE)  # the toolkit's own, for ownership


def configuration_differences(function: Function, found: Found) -> list[str]:
    differences = []
    for key, value in function.configuration().items():
        if _configured(key, found) != value:
            differences.append(key)
    if "SnapStart" not in function.configuration() and _configured("SnapStart", found) not in (
        None,
        SNAP_START_OFF,
    ):  # snapStart taken away
        differences.append("SnapStart")
    if list(found.get("Architectures") or ["x86_64"]) != function.architectures:
        differences.append("Architectures")
    user_tags = {k: v for k, v in (found.get("Tags") or {}).items() if k not in TOOLKIT_TAGS}
    if user_tags != function.settings.tag_map:
        differences.append("Tags")
    return differences


def _configured(key: str, found: Found) -> Any:
    """GetFunctionConfiguration's value of `key`, in the shape the deploy sends it (a setting
    Lambda leaves out when unset is its default)."""
    have = found.get(key)
    if key == "Environment":
        return {"Variables": dict((have or {}).get("Variables", {}))}
    if key in ("Description", "KMSKeyArn"):
        return have or ""
    if key == "TracingConfig":
        return {"Mode": (have or {}).get("Mode") or "PassThrough"}
    if key == "Layers":  # [{"Arn": ..., "CodeSize": ...}]
        return [layer["Arn"] if isinstance(layer, dict) else layer for layer in have or []]
    if key == "VpcConfig":  # VpcId and Ipv6AllowedForDualStack come with it
        have = have or {}
        return {name: list(have.get(name) or []) for name in ("SubnetIds", "SecurityGroupIds")}
    if key == "SnapStart":  # with OptimizationStatus, Lambda's own
        return {"ApplyOn": (have or {}).get("ApplyOn") or "None"} if have is not None else None
    if key == "EphemeralStorage":
        return {"Size": (have or {}).get("Size") or DEFAULT_EPHEMERAL_MB}
    if key == "ImageConfig":  # GetFunctionConfiguration: ImageConfigResponse.ImageConfig
        have = (found.get("ImageConfigResponse") or {}).get("ImageConfig") or {}
        return {k: v for k, v in have.items() if v not in (None, [], "")}  # set ones only
    return have


AWS_OWNED_ENCRYPTION = {"type": "AWS_OWNED_KEY"}  # what a machine has when none is given


def _encryption(configuration: dict[str, Any] | None) -> dict[str, Any]:
    """An encryptionConfiguration, comparable: the key and its period count for a customer's
    key only."""
    configuration = configuration or AWS_OWNED_ENCRYPTION
    if configuration.get("type") != "CUSTOMER_MANAGED_KMS_KEY":
        return AWS_OWNED_ENCRYPTION
    return {k: configuration.get(k) for k in ("type", "kmsKeyId", "kmsDataKeyReusePeriodSeconds")}


def state_machine_diff(
    machine: StateMachine, found: Found, target: str, *, keeps_logging: bool = True
) -> Diff:
    """`found`: DescribeStateMachine's answer. A type cannot change in place: BadInput."""
    if found.get("type", "STANDARD") != machine.type:
        raise BadInput(
            f"state machine {machine.name} is {found.get('type')} on the {target} target and "
            f"serverless.yml now says {machine.type}; a type cannot change in place",
            file=machine.declared_in,
            hint="run `tool remove` and deploy again, or give the machine a new name",
        )
    parts: list[tuple[str, tuple[str, ...]]] = []
    if json.loads(found["definition"]) != machine.definition:
        parts.append(("definition changed", ("definition",)))
    if found.get("roleArn") != machine.role_arn:
        parts.append(("role changed", ("roleArn",)))
    if keeps_logging and normalized(found.get("loggingConfiguration")) != normalized(
        machine.logging
    ):
        parts.append(("logging changed", ("loggingConfiguration",)))
    if keeps_logging:  # the local target keeps no logging, tracing or tags of a machine
        if bool((found.get("tracingConfiguration") or {}).get("enabled")) != machine.tracing:
            parts.append(("tracing changed", ("tracingConfiguration",)))
        if _encryption(found.get("encryptionConfiguration")) != _encryption(machine.encryption):
            parts.append(("encryption changed", ("encryptionConfiguration",)))
        user_tags = {k: v for k, v in (found.get("tags") or {}).items() if k not in TOOLKIT_TAGS}
        if user_tags != dict(machine.tags):
            parts.append(("tags changed", ("tags",)))
    return Diff.of(*parts)


def queue_attributes(queue: Queue) -> dict[str, str]:
    """The queue's SQS attributes as SetQueueAttributes takes them."""
    attributes = {"VisibilityTimeout": str(queue.visibility_timeout)}
    if queue.retention_seconds is not None:
        attributes["MessageRetentionPeriod"] = str(queue.retention_seconds)
    if queue.dead_letter is not None:
        redrive = {
            "deadLetterTargetArn": queue.dead_letter.arn,
            "maxReceiveCount": queue.max_receive_count,
        }
        attributes["RedrivePolicy"] = json.dumps(redrive, separators=(",", ":"))
    return attributes


def queue_diff(queue: Queue, found: Found, *, kept: tuple[str, ...] | None = None) -> Diff:
    """`found`: GetQueueAttributes' Attributes. `kept`: the attributes the target keeps (all
    when None)."""
    wanted = queue_attributes(queue)
    if kept is not None:
        wanted = {key: value for key, value in wanted.items() if key in kept}
    changed = [
        key
        for key, value in wanted.items()
        if _queue_value(key, found.get(key)) != _queue_value(key, value)
    ]
    if queue.dead_letter is None and found.get("RedrivePolicy"):
        changed.append("RedrivePolicy")
    return Diff(tuple(f"{key} changed" for key in changed), tuple(changed))


def _queue_value(key: str, value: Any) -> Any:
    if value is None:
        return None
    if key == "RedrivePolicy":  # AWS may answer maxReceiveCount as a number or a string
        policy = json.loads(value)
        return {**policy, "maxReceiveCount": int(policy.get("maxReceiveCount", 0))}
    return str(value)


def mapping_settings(mapping: EventSourceMapping) -> dict[str, Any]:
    """CreateEventSourceMapping settings (without the queue, the function and the tags)."""
    settings: dict[str, Any] = {
        "BatchSize": mapping.batch_size,
        "MaximumBatchingWindowInSeconds": mapping.maximum_batching_window,
        "FunctionResponseTypes": list(mapping.function_response_types),
    }
    if mapping.filter_patterns:
        settings["FilterCriteria"] = {
            "Filters": [{"Pattern": pattern} for pattern in mapping.filter_patterns]
        }
    if mapping.maximum_concurrency is not None:
        settings["ScalingConfig"] = {"MaximumConcurrency": mapping.maximum_concurrency}
    if mapping.starting_position is not None:
        settings.update(_stream_settings(mapping))
    return settings


# UpdateEventSourceMapping cannot change where a mapping starts: a new mapping replaces it.
STARTING_SETTINGS = ("StartingPosition", "StartingPositionTimestamp")


def _stream_settings(mapping: EventSourceMapping) -> dict[str, Any]:
    """A stream's settings, those given only (Lambda's defaults otherwise, as Serverless)."""
    settings: dict[str, Any] = {"StartingPosition": mapping.starting_position}
    if mapping.starting_position_timestamp is not None:
        settings["StartingPositionTimestamp"] = datetime.fromtimestamp(
            mapping.starting_position_timestamp, UTC
        )
    for key, value in (
        ("ParallelizationFactor", mapping.parallelization_factor),
        ("MaximumRetryAttempts", mapping.maximum_retry_attempts),
        ("MaximumRecordAgeInSeconds", mapping.maximum_record_age),
        ("BisectBatchOnFunctionError", mapping.bisect_batch_on_function_error),
        ("TumblingWindowInSeconds", mapping.tumbling_window),
    ):
        if value is not None:
            settings[key] = value
    if mapping.on_failure is not None:
        settings["DestinationConfig"] = {"OnFailure": {"Destination": mapping.on_failure}}
    return settings


def mapping_update(mapping: EventSourceMapping, diff: Diff) -> dict[str, Any]:
    """UpdateEventSourceMapping settings for what `diff` found changed: a filter or a
    concurrency limit taken away is sent empty, which removes it."""
    settings = {**mapping_settings(mapping), "Enabled": mapping.enabled}
    settings.setdefault("FilterCriteria", {})
    if mapping.starting_position is None:
        settings.setdefault("ScalingConfig", {})
    else:  # a setting taken away goes back to Lambda's default
        state = _mapping_state(mapping)
        for key in _STREAM_DEFAULTS:
            settings.setdefault(key, state[key])
        settings.setdefault("DestinationConfig", {"OnFailure": {}})
    return {
        key: value
        for key, value in settings.items()
        if key in diff.attributes and key not in STARTING_SETTINGS
    }


# Lambda's defaults for a stream's settings (what it answers when none was given)
_STREAM_DEFAULTS: dict[str, Any] = {
    "ParallelizationFactor": 1,
    "MaximumRetryAttempts": -1,
    "MaximumRecordAgeInSeconds": -1,
    "BisectBatchOnFunctionError": False,
    "TumblingWindowInSeconds": 0,
}


def _mapping_state(mapping: EventSourceMapping) -> dict[str, Any]:
    state = {
        "BatchSize": mapping.batch_size,
        "MaximumBatchingWindowInSeconds": mapping.maximum_batching_window,
        "FunctionResponseTypes": sorted(mapping.function_response_types),
        "FilterCriteria": sorted((json.loads(p) for p in mapping.filter_patterns), key=json.dumps),
        "Enabled": mapping.enabled,
    }
    if mapping.starting_position is None:
        return {**state, "ScalingConfig": mapping.maximum_concurrency}
    given = _stream_settings(mapping)
    return {
        **state,
        "StartingPosition": mapping.starting_position,
        "StartingPositionTimestamp": mapping.starting_position_timestamp,
        **{key: given.get(key, default) for key, default in _STREAM_DEFAULTS.items()},
        "DestinationConfig": mapping.on_failure,
    }


def _found_mapping_state(found: Found) -> dict[str, Any]:
    """A ListEventSourceMappings entry in `_mapping_state`'s terms: what is left out is the
    default (no window, no response types, no filter, no limit)."""
    filters = (found.get("FilterCriteria") or {}).get("Filters") or []
    patterns = []
    for item in filters:
        try:
            patterns.append(json.loads(item.get("Pattern", "")))
        except (TypeError, ValueError):
            patterns.append(item.get("Pattern"))
    state = str(found.get("State", "Enabled"))
    return {
        "BatchSize": found.get("BatchSize"),
        "MaximumBatchingWindowInSeconds": found.get("MaximumBatchingWindowInSeconds") or 0,
        "FunctionResponseTypes": sorted(found.get("FunctionResponseTypes") or []),
        "FilterCriteria": sorted(patterns, key=json.dumps),
        "ScalingConfig": (found.get("ScalingConfig") or {}).get("MaximumConcurrency"),
        "Enabled": state not in ("Disabled", "Disabling"),
        "StartingPosition": found.get("StartingPosition"),
        "StartingPositionTimestamp": _seconds(found.get("StartingPositionTimestamp")),
        **{key: _found(found, key, default) for key, default in _STREAM_DEFAULTS.items()},
        "DestinationConfig": ((found.get("DestinationConfig") or {}).get("OnFailure") or {}).get(
            "Destination"
        ),
    }


def _found(found: Found, key: str, default: Any) -> Any:
    value = found.get(key)
    return default if value is None else value


def _seconds(value: Any) -> float | None:
    """StartingPositionTimestamp as boto3 answers it (a datetime) or as a local record keeps it."""
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, str):
        return datetime.fromisoformat(value).timestamp()
    return float(value) if isinstance(value, int | float) else None


def mapping_diff(mapping: EventSourceMapping, found: Found) -> Diff:
    """`found`: a ListEventSourceMappings entry."""
    wanted = _mapping_state(mapping)
    have = _found_mapping_state(found)
    changed = [key for key, value in wanted.items() if have.get(key) != value]
    return Diff(tuple(f"{key} changed" for key in changed), tuple(changed))


def stack_diff(
    stack: Stack, template: dict[str, Any], found: Found, our_tags: dict[str, str]
) -> Diff:
    """`found`: DescribeStacks' stack plus "TemplateBody" (GetTemplate, Original stage, parsed).
    `template`: what would be sent. Compared as CloudFormation would see them: the template,
    the parameters the service gives (a NoEcho value, answered as "****", cannot be compared
    and counts as the same), the stack's tags (CloudFormation's own `aws:` tags aside), its
    role and notification topics."""
    parts: list[tuple[str, tuple[str, ...]]] = []
    wanted = json.loads(json.dumps(template))
    have = found.get("TemplateBody")
    if not isinstance(have, dict):
        parts.append(("template changed", ("TemplateBody",)))
    elif have != wanted:
        parts.extend(_template_parts(wanted, have))
    given = {p["ParameterKey"]: p.get("ParameterValue") for p in found.get("Parameters") or []}
    changed = [
        key
        for key, value in stack.parameters.items()
        if given.get(key) != value and given.get(key) != "****"
    ]
    if changed:
        parts.append(("parameters changed: " + ", ".join(sorted(changed)), ("Parameters",)))
    tags = {
        tag["Key"]: tag["Value"]
        for tag in found.get("Tags") or []
        if not str(tag["Key"]).startswith("aws:")
    }
    if tags != {**stack.tags, **our_tags}:
        parts.append(("tags changed", ("Tags",)))
    if (found.get("RoleARN") or None) != stack.role_arn:
        parts.append(("role changed", ("RoleARN",)))
    if sorted(found.get("NotificationARNs") or []) != sorted(stack.notification_arns):
        parts.append(("notification topics changed", ("NotificationARNs",)))
    return Diff.of(*parts)


def _template_parts(
    wanted: dict[str, Any], have: dict[str, Any]
) -> list[tuple[str, tuple[str, ...]]]:
    """Which resources were added, changed or removed, and which other sections changed."""
    parts: list[tuple[str, tuple[str, ...]]] = []
    new, old = wanted.get("Resources") or {}, have.get("Resources") or {}
    for label, names in (
        ("resources added", [k for k in new if k not in old]),
        ("resources changed", [k for k in new if k in old and new[k] != old[k]]),
        ("resources removed", [k for k in old if k not in new]),
    ):
        if names:
            parts.append((f"{label}: {', '.join(names)}", ("TemplateBody",)))
    sections = sorted(
        key
        for key in set(wanted) | set(have)
        if key != "Resources" and wanted.get(key) != have.get(key)
    )
    if sections:
        parts.append((f"template changed: {', '.join(sections)}", ("TemplateBody",)))
    return parts
