"""The composition root: which service, which stage, which target, for one CLI command."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from tooling.backends.base import Backend
from tooling.backends.local import LocalBackend
from tooling.config.external import ExternalSources
from tooling.config.intrinsics import ResourceValues
from tooling.config.resources import StackValues
from tooling.config.service import ServiceConfig, StateMachineConfig, load_service, load_settings
from tooling.errors import BadInput, NotFound
from tooling.names import LOCAL_ACCOUNT_ID
from tooling.statedir import state_dir
from tooling.triggers.queues import LocalTriggerQueue, TriggerQueue, local_queues

if TYPE_CHECKING:
    from tooling.aws.client import AwsClient


@dataclass(frozen=True)
class Options:
    stage: str | None = None
    region: str | None = None
    target: str = "local"
    directory: Path = Path(".")
    aws_profile: str | None = None
    params: tuple[str, ...] = ()  # --param KEY=VALUE, as given
    config: str | None = None  # --config NAME: another service file in the folder


TARGETS = ("local", "aws")


def load(options: Options, resource_values: ResourceValues | None = None) -> ServiceConfig:
    """The service as the target sees it: on AWS its ARNs name the real account (asked from
    STS with the region and profile read first), and `${ssm:}`, `${cf:}`, `${s3:}` are read from
    the target (AWS, or the folder's local AWS services). `resource_values` gives `Ref` and
    `Fn::GetAtt` of `resources:` entries (tooling.deploy.phases passes the stack's outputs); by
    default they are placeholders ("known after the stack is deployed")."""
    if options.target not in TARGETS:
        raise BadInput(
            f"unknown target {options.target!r}", hint="use --target local or --target aws"
        )
    instance_id = str(int(time.time() * 1000))  # ${sls:instanceId}: one per command
    values = resource_values if resource_values is not None else StackValues(verb="deployed")
    settings = load_settings(
        options.directory.resolve(),
        stage=options.stage,
        region=options.region,
        options=_cli_options(options),
        env=os.environ,
        config_file=options.config,
        params=parse_params(options.params),
    )
    if options.target == "aws":
        from tooling.aws.variables import AwsVariables

        client = aws_client(settings)
        account = client.account_id()

        def client_for(region: str | None) -> AwsClient:
            return aws_client(replace(settings, region=region or settings.region))

        external: ExternalSources = AwsVariables(
            client_for, f"AWS account {account}", "with your AWS credentials: "
        )
        return _load(options, account, instance_id, external, values)
    local = _LocalVariablesWhenUsed(settings.directory, settings.region)
    return _load(options, None, instance_id, local, values)


class _LocalVariablesWhenUsed:
    """The local AWS services' reader of `${ssm:}`, `${cf:}` and `${s3:}`, built at the first
    such variable: building it loads boto3, a cost every local command would pay otherwise."""

    def __init__(self, directory: Path, region: str) -> None:
        self.directory = directory
        self.region = region
        self._reader: ExternalSources | None = None

    def reader(self) -> ExternalSources:
        if self._reader is None:
            from tooling.localaws.manager import LocalAwsServices
            from tooling.localaws.variables import LocalAwsVariables

            services = LocalAwsServices(state_dir(self.directory))
            self._reader = LocalAwsVariables(services, self.region)
        return self._reader

    def resolve(self, kind: str, address: str, params: tuple[str, ...]) -> Any:
        return self.reader().resolve(kind, address, params)

    def missing_reason(self, kind: str, address: str) -> str:
        return self.reader().missing_reason(kind, address)

    def how_to_set(self, kind: str, address: str) -> str:
        return str(getattr(self.reader(), "how_to_set")(kind, address))  # noqa: B009

    layers_needed = False  # the local runtime runs functions without their layers


def parse_params(values: tuple[str, ...]) -> dict[str, str]:
    """`--param KEY=VALUE` values (Serverless v3: the value's trailing spaces are dropped; a
    value without `=` or an empty key or value is refused)."""
    params: dict[str, str] = {}
    for item in values:
        key, equals, value = item.partition("=")
        if not equals or not key or not value.rstrip():
            raise BadInput(
                f'invalid --param value "{item}"',
                hint="use --param KEY=VALUE, e.g. --param domain=example.com",
            )
        params[key] = value.rstrip()
    return params


def _cli_options(options: Options) -> dict[str, str]:
    return {
        key: value
        for key, value in (
            ("stage", options.stage),
            ("region", options.region),
            ("aws-profile", options.aws_profile),
            ("config", options.config),
        )
        if value is not None
    }


def _load(
    options: Options,
    account_id: str | None,
    instance_id: str,
    external: ExternalSources,
    resource_values: ResourceValues,
) -> ServiceConfig:
    return load_service(
        options.directory.resolve(),
        stage=options.stage,
        region=options.region,
        options=_cli_options(options),
        env=os.environ,
        config_file=options.config,
        params=parse_params(options.params),
        instance_id=instance_id,
        external=external,
        resource_values=resource_values,
        account_id=account_id or LOCAL_ACCOUNT_ID,
    )


_aws_clients: dict[tuple[str | None, ...], AwsClient] = {}


class _AwsSettings(Protocol):
    """What picks the AWS client: a loaded service, or its settings read first."""

    @property
    def region(self) -> str: ...
    @property
    def profile(self) -> str | None: ...
    @property
    def profile_from_option(self) -> bool: ...


def aws_profile(service: _AwsSettings) -> str | None:
    """The profile the AWS client uses. `--aws-profile` always (botocore: an explicit profile
    replaces the environment's keys). `provider.profile` only when AWS_ACCESS_KEY_ID and
    AWS_SECRET_ACCESS_KEY are not both set: Serverless v3 applies the environment's keys after
    provider.profile (lib/plugins/aws/provider.js getCredentials), and botocore prefers them to
    a profile that was not given explicitly; so a CI job with keys in its environment does not
    need the developer's profile in ~/.aws/config."""
    if service.profile is None or service.profile_from_option:
        return service.profile
    if os.environ.get("AWS_ACCESS_KEY_ID") and os.environ.get("AWS_SECRET_ACCESS_KEY"):
        return None
    return service.profile


def aws_client(service: _AwsSettings) -> AwsClient:
    """One AWS client per region, profile and endpoint, shared by the commands of a process."""
    from tooling.aws.client import AwsClient, AwsSettings

    settings = AwsSettings(region=service.region, profile=aws_profile(service))
    key = (
        settings.region,
        settings.profile,
        os.environ.get("AWS_ENDPOINT_URL"),
        os.environ.get("AWS_PROFILE"),
        os.environ.get("AWS_ACCESS_KEY_ID"),
    )
    if key not in _aws_clients:
        _aws_clients[key] = AwsClient(settings)
    return _aws_clients[key]


CLOCKS = ("real", "virtual")


def check_clock(target: str, clock: str) -> None:
    """A virtual clock exists only where the toolkit runs the executions itself."""
    if clock not in CLOCKS:
        raise BadInput(f"unknown clock {clock!r}", hint="use --clock real or --clock virtual")
    if clock != "real" and target != "local":
        raise BadInput(
            f"--clock {clock} works on the local target only", hint="AWS runs on AWS's own clock"
        )


def backend_for(service: ServiceConfig, target: str = "local", clock: str = "real") -> Backend:
    """The target's backend; `clock` is the clock executions started through it run on."""
    check_clock(target, clock)
    if target == "local":
        return LocalBackend(service.directory, service.region, clock)
    if target == "aws":
        from tooling.backends.aws import AwsBackend

        return AwsBackend(service, aws_client(service))
    raise BadInput(f"unknown target {target!r}", hint="use --target local or --target aws")


def open_trigger_queue(
    service: ServiceConfig, machine: StateMachineConfig, target: str
) -> TriggerQueue:
    """The state machine's (first) trigger queue on `target`, as `tool deploy` created it."""
    trigger = machine.sqs_triggers[0]
    if target == "local":
        queue = LocalTriggerQueue(trigger, local_queues(service.directory))
        return queue.require_deployed(service.region)
    if target == "aws":
        from tooling.triggers.aws_queue import AwsTriggerQueue
        from tooling.triggers.trigger_function import trigger_function_name

        return AwsTriggerQueue(
            trigger, aws_client(service), trigger_function_name(service, machine)
        )
    raise BadInput(f"unknown target {target!r}", hint="use --target local or --target aws")


class Announced(Protocol):
    target: str
    region: str
    account_id: str


def banner(service: ServiceConfig, backend: Announced) -> str:
    text = (
        f"{service.service} · target {backend.target} · stage {service.stage} · "
        f"{backend.region} · account {backend.account_id}"
    )
    if backend.target == "aws":
        profile = aws_profile(service)
        if profile:
            text += f" · profile {profile}"
        elif service.profile:
            text += f" · keys from the environment (provider.profile {service.profile} unused)"
        endpoint = os.environ.get("AWS_ENDPOINT_URL")
        if endpoint:
            text += f" · endpoint {endpoint}"
    return text


def pick_state_machine(service: ServiceConfig, key: str | None) -> StateMachineConfig:
    machines = service.state_machines
    if key is not None:
        if key in machines:
            return machines[key]
        by_name = [m for m in machines.values() if m.name == key]
        if by_name:
            return by_name[0]
        raise NotFound(
            f"no state machine {key!r} in {service.config_file.name}",
            hint="known: " + (", ".join(sorted(machines)) or "none"),
        )
    if len(machines) == 1:
        return next(iter(machines.values()))
    if not machines:
        raise BadInput(
            f"{service.config_file.name} declares no state machine",
            hint="add one under stepFunctions.stateMachines",
        )
    raise BadInput(
        f"{service.config_file.name} declares {len(machines)} state machines",
        hint="choose one with --state-machine " + "|".join(sorted(machines)),
    )
