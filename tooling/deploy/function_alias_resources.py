"""Functions' versions and aliases as resources: per function with `provisionedConcurrency` or
`snapStart`, the alias Serverless makes (`provisioned` or `snapstart`) on a version published
from the function, and how a found alias compares with the model (Serverless v3
lib/plugins/aws/package/compile/functions.js: an AWS::Lambda::Version whose hash covers the
code and the configuration, so a change of either publishes a new version, and an
AWS::Lambda::Alias on it)."""

from __future__ import annotations

from dataclasses import replace

from tooling.config.service import FunctionConfig
from tooling.deploy.differences import configuration_differences, invoke_config
from tooling.deploy.models import Address, Function, FunctionAlias, FunctionVersion
from tooling.deploy.providers import Diff, Found

VERSION_CHANGED = "FunctionVersion"  # the alias must move to a version published now
PROVISIONED_CHANGED = "ProvisionedConcurrencyConfig"
INVOKE_CONFIG_CHANGED = "EventInvokeConfig"


def function_aliases(
    fn: FunctionConfig, function: Function, publishes_versions: bool
) -> tuple[Function, list[FunctionAlias]]:
    """The alias of `fn` (deployed as `function`), if it has one. Where the target publishes
    versions, the function's asynchronous invocation settings go on the alias, as Serverless
    puts them (compileFunctionEventInvokeConfig's Qualifier), and not on $LATEST (the function
    returned); elsewhere they stay on the function, which its events invoke."""
    alias = fn.settings.target_alias
    if alias is None:
        return function, []
    invoke_config = None
    if publishes_versions:
        invoke_config = function.settings.event_invoke_config()
        unset = replace(function.settings, maximum_retry_attempts=None, maximum_event_age=None,
                        on_success=None, on_failure=None)  # fmt: skip
        function = replace(function, settings=unset)
    return function, [
        FunctionAlias(
            function=function,
            function_arn=fn.arn,
            alias=alias,
            provisioned_concurrency=fn.settings.provisioned_concurrency,
            needs=(function.address,),
            event_invoke_config=invoke_config,
        )
    ]


def target_needs(fn: FunctionConfig) -> tuple[Address, ...]:
    """What a resource invoking `fn` through `fn.target_arn` needs: the function, and its alias
    when it has one."""
    function = Address("function", fn.name)
    alias = fn.settings.target_alias
    if alias is None:
        return (function,)
    return (function, Address("function alias", f"{fn.name}:{alias}"))


def version_differences(function: Function, version: Found) -> list[str]:
    """What of the function's code and configuration the published `version` (its
    GetFunctionConfiguration) does not hold: [] when what names it may stay on it."""
    changed = []
    if function.code is not None and version.get("CodeSha256") != function.code.sha256:
        changed.append("code")
    image = version.get("ImageUri")  # GetFunction's Code.ImageUri of the version, where read
    if function.image is not None and "ImageUri" in version and image != function.image.uri:
        changed.append("image")
    changed.extend(k for k in configuration_differences(function, version) if k != "Tags")
    return changed


def function_version_diff(version: FunctionVersion, found: Found) -> Diff:
    """`found`: the configuration of the function's last published version."""
    changed = version_differences(version.function, found)
    if not changed:
        return Diff()
    return Diff.of((
        f"version {found.get('Version')} is not the function's " + ", ".join(changed)
        + ": a new version is published",
        (VERSION_CHANGED,),
    ))  # fmt: skip


def function_alias_diff(alias: FunctionAlias, found: Found) -> Diff:
    """`found`: GetAlias's answer with `VersionConfiguration` (its version's configuration,
    None where the target publishes no versions) and `ProvisionedConcurrentExecutions`."""
    parts: list[tuple[str, tuple[str, ...]]] = []
    version = found.get("VersionConfiguration")
    if version is not None:
        changed = version_differences(alias.function, version)
        if changed:
            parts.append((
                f"version {found.get('FunctionVersion')} is not the function's "
                + ", ".join(changed) + ": a new version is published",
                (VERSION_CHANGED,),
            ))  # fmt: skip
    if invoke_config(found.get("EventInvokeConfig")) != alias.event_invoke_config:
        parts.append(("asynchronous invocation settings changed", (INVOKE_CONFIG_CHANGED,)))
    have, wanted = found.get("ProvisionedConcurrentExecutions"), alias.provisioned_concurrency
    if have != wanted:
        parts.append((
            f"provisioned concurrency {have or 'none'} -> {wanted or 'none'}",
            (PROVISIONED_CHANGED,),
        ))  # fmt: skip
    return Diff.of(*parts)
