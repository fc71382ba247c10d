"""The providers of functions' aliases (tooling.deploy.function_alias_resources).

AWS: GetAlias, the configuration of the version it points at, and the alias's provisioned
concurrency (GetProvisionedConcurrencyConfig). A change of the function's code or
configuration publishes a version (PublishVersion, after the function's own update: the alias
needs the function) and moves the alias to it; a deploy that publishes and is stopped before
the alias moved leaves the alias on the old version, which the next deploy finds different
and moves (PublishVersion answers the version already published when $LATEST has not changed
since). An alias takes no tags: it is the toolkit's when its function is. Versions stay when
an alias moves or goes, as Serverless retains them; they go with the function.

Locally: a record of the alias and its provisioned concurrency. The local runtime has no
versions: an alias or version ARN invokes the function's current code, and there are no
provisioned environments (said at deploy)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from tooling.config.machine_settings import EXACT_VERSION
from tooling.deploy.function_alias_resources import (
    INVOKE_CONFIG_CHANGED,
    PROVISIONED_CHANGED,
    VERSION_CHANGED,
    function_alias_diff,
    function_version_diff,
    version_differences,
)
from tooling.deploy.local_event_providers import _Records
from tooling.deploy.models import (
    Address,
    Function,
    FunctionAlias,
    FunctionVersion,
    Kind,
    StateMachine,
)
from tooling.deploy.providers import Description, Diff, Found
from tooling.errors import NotFound

if TYPE_CHECKING:
    from tooling.aws.client import AwsClient
    from tooling.deploy.aws_context import AwsContext


def latest_version(aws: AwsClient, function: str) -> Found | None:
    """The configuration of the function's last published version (ListVersionsByFunction),
    or None when it has none (or no function)."""
    last: Found | None = None
    try:
        for page in aws.pages(
            "lambda", "list_versions_by_function",
            what=f"list the versions of function {function}", FunctionName=function,
        ):  # fmt: skip
            for version in page.get("Versions", []):
                number = str(version.get("Version"))
                if number.isdigit() and (last is None or int(number) > int(last["Version"])):
                    last = dict(version)
    except NotFound:
        return None
    return last


def publish(aws: AwsClient, name: str) -> str:
    """A version of the function as it is now (the one published last when nothing changed
    since), once Lambda has made it ready."""
    answer = aws.call(
        "lambda", "publish_version", what=f"publish a version of function {name}",
        FunctionName=name,
    )  # fmt: skip
    version = str(answer["Version"])
    if answer.get("State") not in (None, "Active"):
        aws.wait(
            "lambda", "function_active_v2",
            what=f"wait for version {version} of function {name} to become active",
            FunctionName=name, Qualifier=version,
        )  # fmt: skip
    return version


def with_exact_versions(aws: AwsClient, machine: StateMachine) -> tuple[StateMachine, list[str]]:
    """`machine` with each `<ARN>:EXACT_VERSION` of its definition (useExactVersion) replaced
    by the number of the function's last published version, when that version holds the
    function as it is deployed; the names of the functions whose version is still to be
    published (their placeholders stay)."""
    if not machine.exact_versions:
        return machine, []
    text = json.dumps(machine.definition)
    pending = []
    for function in machine.exact_versions:
        latest = latest_version(aws, function.name)
        if latest is None or version_differences(function, latest):
            pending.append(function.name)
            continue
        text = text.replace(
            f':function:{function.name}:{EXACT_VERSION}"',
            f':function:{function.name}:{latest["Version"]}"',
        )
    return replace(machine, definition=json.loads(text)), pending


class AwsFunctionVersions:
    def __init__(self, context: AwsContext) -> None:
        self.c = context

    def check(self, resource: FunctionVersion) -> None:
        pass

    def find(self, address: Address) -> Found | None:
        return latest_version(self.c.aws, address.name)

    def owns(self, address: Address, found: Found) -> bool:
        return True  # a version takes no tags; its function's ownership is checked with it

    def diff(self, resource: FunctionVersion, found: Found) -> Diff:
        return function_version_diff(resource, found)

    def create(self, resource: FunctionVersion) -> None:
        publish(self.c.aws, resource.function.name)

    def update(self, resource: FunctionVersion, found: Found, diff: Diff) -> None:
        publish(self.c.aws, resource.function.name)

    def delete(self, address: Address) -> None:
        pass  # versions stay (as the plugin's and Serverless' are retained) until the function goes

    def describe(self, address: Address, found: Found) -> Description:
        return Description(str(found.get("FunctionArn", "")), f"version {found.get('Version')}")


def _split(address: Address) -> tuple[str, str]:
    function, alias = address.name.rsplit(":", 1)
    return function, alias


class AwsFunctionAliases:
    def __init__(self, context: AwsContext, pin: Callable[[Function], Function]) -> None:
        self.c = context
        self.pin = pin  # a container image given by tag, pinned to its digest now

    def check(self, resource: FunctionAlias) -> None:
        pass

    def find(self, address: Address) -> Found | None:
        function, alias = _split(address)
        aws = self.c.aws
        found = aws.find(
            "lambda", "get_alias", what=f"look up alias {alias} of function {function}",
            FunctionName=function, Name=alias,
        )  # fmt: skip
        if found is None:
            return None
        version = str(found.get("FunctionVersion"))
        published = aws.find(
            "lambda", "get_function", what=f"look up version {version} of function {function}",
            FunctionName=function, Qualifier=version,
        )  # fmt: skip
        configuration = None
        if published is not None:
            image = (published.get("Code") or {}).get("ImageUri")
            configuration = {**published["Configuration"], "ImageUri": image}
        provisioned = aws.find(
            "lambda", "get_provisioned_concurrency_config",
            what=f"look up the provisioned concurrency of {function}:{alias}",
            FunctionName=function, Qualifier=alias,
        )  # fmt: skip
        requested = (provisioned or {}).get("RequestedProvisionedConcurrentExecutions")
        invoke_config = aws.find(
            "lambda", "get_function_event_invoke_config",
            what=f"look up the asynchronous invocation settings of {function}:{alias}",
            FunctionName=function, Qualifier=alias,
        )  # fmt: skip
        return {
            **found,
            "EventInvokeConfig": invoke_config,
            "VersionConfiguration": configuration or {},
            "ProvisionedConcurrentExecutions": requested or None,
        }

    def owns(self, address: Address, found: Found) -> bool:
        return True  # it takes no tags; its function's ownership is checked with the function

    def diff(self, resource: FunctionAlias, found: Found) -> Diff:
        return function_alias_diff(replace(resource, function=self.pin(resource.function)), found)

    def _publish(self, resource: FunctionAlias) -> str:
        return publish(self.c.aws, resource.function.name)

    def _provision(self, resource: FunctionAlias) -> None:
        name, alias = resource.function.name, resource.alias
        if resource.provisioned_concurrency:
            self.c.aws.call(
                "lambda", "put_provisioned_concurrency_config",
                what=f"provision concurrency for {name}:{alias}", FunctionName=name,
                Qualifier=alias, ProvisionedConcurrentExecutions=resource.provisioned_concurrency,
            )  # fmt: skip
            return
        with contextlib.suppress(NotFound):
            self.c.aws.call(
                "lambda", "delete_provisioned_concurrency_config",
                what=f"remove the provisioned concurrency of {name}:{alias}",
                FunctionName=name, Qualifier=alias,
            )  # fmt: skip

    def create(self, resource: FunctionAlias) -> None:
        name = resource.function.name
        version = self._publish(resource)
        self.c.aws.call(
            "lambda", "create_alias", what=f"create alias {resource.alias} of function {name}",
            FunctionName=name, Name=resource.alias, FunctionVersion=version,
        )  # fmt: skip
        if resource.provisioned_concurrency:
            self._provision(resource)
        if resource.event_invoke_config is not None:
            self._invoke_config(resource)

    def _invoke_config(self, resource: FunctionAlias) -> None:
        """The asynchronous invocation settings on the alias (PutFunctionEventInvokeConfig
        replaces them), or none (DeleteFunctionEventInvokeConfig)."""
        name, alias = resource.function.name, resource.alias
        if resource.event_invoke_config is None:
            with contextlib.suppress(NotFound):
                self.c.aws.call(
                    "lambda", "delete_function_event_invoke_config",
                    what=f"remove the asynchronous invocation settings of {name}:{alias}",
                    FunctionName=name, Qualifier=alias,
                )  # fmt: skip
            return
        self.c.aws.call(
            "lambda", "put_function_event_invoke_config",
            what=f"set the asynchronous invocation settings of {name}:{alias}",
            FunctionName=name, Qualifier=alias, **resource.event_invoke_config,
        )  # fmt: skip

    def update(self, resource: FunctionAlias, found: Found, diff: Diff) -> None:
        name = resource.function.name
        if VERSION_CHANGED in diff.attributes:
            version = self._publish(resource)
            self.c.aws.call(
                "lambda", "update_alias",
                what=f"point alias {resource.alias} of function {name} at version {version}",
                FunctionName=name, Name=resource.alias, FunctionVersion=version,
            )  # fmt: skip
        if PROVISIONED_CHANGED in diff.attributes:
            self._provision(resource)
        if INVOKE_CONFIG_CHANGED in diff.attributes:
            self._invoke_config(resource)

    def delete(self, address: Address) -> None:
        function, alias = _split(address)
        with contextlib.suppress(NotFound):  # its provisioned concurrency goes with it
            self.c.aws.call(
                "lambda", "delete_alias", what=f"delete alias {alias} of function {function}",
                FunctionName=function, Name=alias,
            )  # fmt: skip

    def describe(self, address: Address, found: Found) -> Description:
        return Description(str(found.get("AliasArn", "")), _details(found))


def _details(found: Found) -> str:
    details = f"version {found.get('FunctionVersion')}"
    if found.get("ProvisionedConcurrentExecutions"):
        details += f", provisioned concurrency {found['ProvisionedConcurrentExecutions']}"
    return details


class LocalFunctionAliases(_Records):
    kind: Kind = "function alias"

    def check(self, resource: FunctionAlias) -> list[str]:
        what = (
            f"provisioned concurrency ({resource.provisioned_concurrency})"
            if resource.provisioned_concurrency
            else "SnapStart"
        )
        return [
            f"function {resource.function.name}: {what} and its alias {resource.alias} are "
            "recorded, not reproduced locally: the local runtime publishes no versions and "
            "keeps no provisioned or snapshotted environments; the alias (and any version) "
            "invokes the function's current code"
        ]

    def find(self, address: Address) -> Found | None:
        return self._find(address)

    def diff(self, resource: FunctionAlias, found: Found) -> Diff:
        return function_alias_diff(resource, found)

    def create(self, resource: FunctionAlias) -> None:
        document: dict[str, Any] = {
            "AliasArn": resource.address.arn,
            "Name": resource.alias,
            "FunctionVersion": "$LATEST",  # no versions locally: the current code
            "ProvisionedConcurrentExecutions": resource.provisioned_concurrency,
        }
        self._put(resource.address, document)

    def update(self, resource: FunctionAlias, found: Found, diff: Diff) -> None:
        self.create(resource)

    def describe(self, address: Address, found: Found) -> Description:
        return Description(str(found.get("AliasArn", "")), _details(found) + " (recorded)")
