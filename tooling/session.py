"""The composition root: which service, which stage, which target, for one CLI command."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from tooling.backends.base import Backend
from tooling.backends.local import LocalBackend
from tooling.config.service import ServiceConfig, StateMachineConfig, load_service
from tooling.errors import BadInput, NotFound
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


TARGETS = ("local", "aws")


def load(options: Options) -> ServiceConfig:
    """The service as the target sees it. On AWS, ARNs need the real account: the service is
    loaded once for its region and profile, the account asked from STS, then loaded again."""
    if options.target not in TARGETS:
        raise BadInput(
            f"unknown target {options.target!r}", hint="use --target local or --target aws"
        )
    service = _load(options)
    if options.target == "aws":
        account = aws_client(service).account_id()
        if account != service.account_id:
            service = _load(options, account_id=account)
    return service


def _load(options: Options, account_id: str | None = None) -> ServiceConfig:
    cli_options = {
        key: value
        for key, value in (
            ("stage", options.stage),
            ("region", options.region),
            ("aws-profile", options.aws_profile),
        )
        if value is not None
    }
    extra = {"account_id": account_id} if account_id else {}
    return load_service(
        options.directory.resolve(),
        stage=options.stage,
        region=options.region,
        options=cli_options,
        env=os.environ,
        **extra,
    )


_aws_clients: dict[tuple[str | None, ...], AwsClient] = {}


def aws_client(service: ServiceConfig) -> AwsClient:
    """One AWS client per region, profile and endpoint, shared by the commands of a process."""
    from tooling.aws.client import AwsClient, AwsSettings

    settings = AwsSettings(region=service.region, profile=service.profile)
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
        if service.profile:
            text += f" · profile {service.profile}"
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
