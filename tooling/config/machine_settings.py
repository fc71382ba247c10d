"""State machine settings of serverless-step-functions (3.30) that are not the definition's own:
`configureTaskTimeouts` (configureTaskTimeouts.js) and `encryptionConfig` (the schema's
defaults and compileStateMachines.js), read as the plugin reads them."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from tooling.config.intrinsics import function_logical_id

# Serverless' own default timeout, which the plugin mirrors when neither the function nor the
# provider gives one (its SERVERLESS_DEFAULT_TIMEOUT_SECONDS).
SERVERLESS_DEFAULT_TIMEOUT = 6
LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
ENCRYPTION_TYPES = ("AWS_OWNED_KEY", "CUSTOMER_MANAGED_KMS_KEY")
ENCRYPTION_KEYS = ("KmsDataKeyReusePeriodSeconds", "KmsKeyId", "Type")
REUSE_SECONDS = (60, 900)  # StepFunctions EncryptionConfiguration.kmsDataKeyReusePeriodSeconds
# What the plugin grants the generated role for kmsKeyArns and encryptionConfig.KmsKeyId
KMS_KEY_ARNS_ACTIONS = (
    "kms:Decrypt", "kms:Encrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey",
)  # fmt: skip
ENCRYPTION_KEY_ACTIONS = ("kms:Decrypt", "kms:Encrypt")


def _function_key(
    reference: Any, timeouts: Mapping[str, Any], by_id: Mapping[str, str]
) -> str | None:
    """The function a `Ref` or `Fn::GetAtt` names, by key or by logical id (as the plugin's
    getFunctionKeyFromRef); None for anything else (an ARN written out, a name)."""
    if not isinstance(reference, dict):
        return None
    named: Any = None
    if isinstance(reference.get("Ref"), str):
        named = reference["Ref"]
    else:
        target = reference.get("Fn::GetAtt")
        if isinstance(target, str):  # `!GetAtt hello.Arn` written as one string
            target = target.split(".", 1)
        if isinstance(target, list) and target and isinstance(target[0], str):
            named = target[0]
    if named is None:
        return None
    return named if named in timeouts else by_id.get(named)


def _task_states(
    states: Any, path: tuple[Any, ...]
) -> Iterator[tuple[tuple[Any, ...], dict[str, Any]]]:
    """(path, state) of every Task, through Parallel branches and Map processors."""
    if not isinstance(states, dict):
        return
    for name, state in states.items():
        if not isinstance(state, dict):
            continue
        here = (*path, name)
        if state.get("Type") == "Task":
            yield here, state
        elif state.get("Type") == "Parallel" and isinstance(state.get("Branches"), list):
            for index, branch in enumerate(state["Branches"]):
                if isinstance(branch, dict):
                    yield from _task_states(
                        branch.get("States"), (*here, "Branches", index, "States")
                    )
        elif state.get("Type") == "Map":
            wrapper = "ItemProcessor" if "ItemProcessor" in state else "Iterator"
            inner = state.get(wrapper)
            if isinstance(inner, dict):
                yield from _task_states(inner.get("States"), (*here, wrapper, "States"))


# The qualifier a definition's reference to a function carries with `useExactVersion: true`
# until the deploy knows the version it names (tooling.deploy.function_alias_providers).
EXACT_VERSION = "toolExactVersion"


def exact_versions(definition: Any, arns: Mapping[str, str]) -> tuple[Any, tuple[str, ...]]:
    """`useExactVersion: true` (the plugin's convertToFunctionVersion): each `Ref` or
    `Fn::GetAtt` of one of the service's functions (`arns`: key -> ARN) anywhere in the
    definition names the function's published version, written `<ARN>:EXACT_VERSION` until the
    deploy knows it. Returns the definition and the keys of the functions it names."""
    by_id = {function_logical_id(key): key for key in arns}
    named: dict[str, None] = {}

    def walk(value: Any) -> Any:
        key = _function_key(value, arns, by_id) if isinstance(value, dict) else None
        if key is not None and len(value) == 1:
            named[key] = None
            return f"{arns[key]}:{EXACT_VERSION}"
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    return walk(definition), tuple(named)


def configure_task_timeouts(
    definition: Any, timeouts: Mapping[str, int]
) -> tuple[Any, list[tuple[tuple[Any, ...], str]]]:
    """`configureTaskTimeouts: true`: each Task invoking one of the service's functions (its
    `Resource`, or `Parameters.FunctionName` of lambda:invoke, as a Ref or Fn::GetAtt) gets
    `TimeoutSeconds` = the function's timeout unless it has TimeoutSeconds(Path) already. A
    longer TimeoutSeconds than the function's is kept, with a warning (path, message)."""
    if not isinstance(definition, dict) or not isinstance(definition.get("States"), dict):
        return definition, []
    result = copy.deepcopy(definition)
    by_id = {function_logical_id(key): key for key in timeouts}
    warnings: list[tuple[tuple[Any, ...], str]] = []
    for path, state in _task_states(result["States"], ("States",)):
        resource = state.get("Resource")
        if isinstance(resource, str) and resource.startswith(LAMBDA_INVOKE):
            parameters = state.get("Parameters")
            reference = parameters.get("FunctionName") if isinstance(parameters, dict) else None
        else:
            reference = resource
        key = _function_key(reference, timeouts, by_id)
        if key is None:
            continue
        limit = timeouts[key]
        if "TimeoutSeconds" not in state and "TimeoutSecondsPath" not in state:
            state["TimeoutSeconds"] = limit
        elif isinstance(state.get("TimeoutSeconds"), int) and state["TimeoutSeconds"] > limit:
            warnings.append((
                (*path, "TimeoutSeconds"),
                f"task {path[-1]!r}: TimeoutSeconds ({state['TimeoutSeconds']} s) is longer than "
                f"function '{key}''s timeout ({limit} s): the function fails first",
            ))  # fmt: skip
    return result, warnings


@dataclass(frozen=True)
class Encryption:
    """EncryptionConfiguration as CreateStateMachine takes it."""

    type: str
    kms_key_id: str | None = None
    reuse_seconds: int | None = None

    def api(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type}
        if self.type == "CUSTOMER_MANAGED_KMS_KEY":
            body["kmsKeyId"] = self.kms_key_id
            body["kmsDataKeyReusePeriodSeconds"] = self.reuse_seconds
        return body


def read_encryption(
    value: Any, problem: Callable[[str, str], None], resolve_key: Callable[[Any], Any]
) -> Encryption | None:
    """`encryptionConfig` (Type, KmsKeyId, KmsDataKeyReusePeriodSeconds, with the plugin's
    defaults AWS_OWNED_KEY, '' and 900); `problem(key, message)` for what the plugin's schema
    or Step Functions refuses; `resolve_key` turns KmsKeyId (a Fn::Sub text) into the key."""
    if not isinstance(value, dict):
        problem(
            "", "encryptionConfig must be a mapping (Type, KmsKeyId, KmsDataKeyReusePeriodSeconds)"
        )
        return None
    for key in value:
        if key not in ENCRYPTION_KEYS:
            problem(str(key), f"encryptionConfig key `{key}` is not one the plugin allows "
                    f"({', '.join(ENCRYPTION_KEYS)})")  # fmt: skip
            return None
    kind = value.get("Type", "AWS_OWNED_KEY")
    if kind not in ENCRYPTION_TYPES:
        problem("Type", f"encryptionConfig.Type must be {' or '.join(ENCRYPTION_TYPES)}")
        return None
    if kind == "AWS_OWNED_KEY":
        return Encryption(kind)
    seconds = value.get("KmsDataKeyReusePeriodSeconds", 900)
    if (
        isinstance(seconds, bool)
        or not isinstance(seconds, int)
        or not (REUSE_SECONDS[0] <= seconds <= REUSE_SECONDS[1])
    ):
        low, high = REUSE_SECONDS
        problem("KmsDataKeyReusePeriodSeconds", "encryptionConfig.KmsDataKeyReusePeriodSeconds "
                f"must be {low} to {high} (Step Functions' range)")  # fmt: skip
        return None
    written = value.get("KmsKeyId")
    if not isinstance(written, str) or not written:
        problem("KmsKeyId", "encryptionConfig.KmsKeyId is needed with CUSTOMER_MANAGED_KMS_KEY "
                "(a key's ARN, alias ARN or id)")  # fmt: skip
        return None
    key_id = resolve_key({"Fn::Sub": written})  # the plugin passes it through Fn::Sub
    if not isinstance(key_id, str):
        return None
    return Encryption(kind, key_id, seconds)
