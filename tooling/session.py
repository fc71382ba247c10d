"""The composition root: which service, which stage, which target, for one CLI command."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tooling.backends.base import Backend
from tooling.backends.local import LocalBackend
from tooling.config.service import ServiceConfig, StateMachineConfig, load_service
from tooling.errors import BadInput, NotFound


@dataclass(frozen=True)
class Options:
    stage: str | None = None
    region: str | None = None
    target: str = "local"
    directory: Path = Path(".")


def load(options: Options) -> ServiceConfig:
    cli_options = {
        key: value
        for key, value in (("stage", options.stage), ("region", options.region))
        if value is not None
    }
    return load_service(
        options.directory.resolve(),
        stage=options.stage,
        region=options.region,
        options=cli_options,
        env=os.environ,
    )


TARGETS = ("local", "aws")


def backend_for(service: ServiceConfig, target: str = "local") -> Backend:
    if target == "local":
        return LocalBackend(service.directory, service.region)
    if target not in TARGETS:
        raise BadInput(f"unknown target {target!r}", hint="use --target local or --target aws")
    raise BadInput("the aws target is not available yet", hint="use --target local (the default)")


def banner(service: ServiceConfig, backend: Backend) -> str:
    return (
        f"{service.service} · target {backend.target} · stage {service.stage} · "
        f"{backend.region} · account {backend.account_id}"
    )


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
