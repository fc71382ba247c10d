"""Where a picture's definition and run come from: a definition file, the service's state
machines, or a deployed execution on either target."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tooling import session
from tooling.backends.base import Backend
from tooling.config.service import ServiceConfig
from tooling.errors import BadInput, DefinitionError
from tooling.sourcemap import SourceMap, load_json, read_text


@dataclass(frozen=True)
class Machine:
    name: str
    definition: Any
    source: SourceMap | None


@dataclass(frozen=True)
class Run:
    description: dict[str, Any]  # DescribeExecution
    events: list[dict[str, Any]]  # GetExecutionHistory events, oldest first


def from_file(path: Path) -> Machine:
    if not path.is_file():
        raise DefinitionError(f"{path}: no such file", hint="pass the path of a JSON definition")
    definition, source = load_json(
        read_text(path, str(path), DefinitionError),
        str(path),
        error=DefinitionError,
        what="definition JSON",
    )
    return Machine(path.stem, definition, source)


def from_service(service: ServiceConfig, key: str | None) -> Machine:
    machine = session.pick_state_machine(service, key)
    return Machine(machine.name, machine.definition, machine.source)


def read_run(backend: Backend, name_or_arn: str) -> Run:
    arn = backend.resolve_execution(name_or_arn)
    return Run(backend.describe_execution(arn), backend.history_since(arn, 0))


def machine_of_run(service: ServiceConfig, backend: Backend, run: Run) -> Machine:
    """The definition the run's state machine has now: as deployed, else as in serverless.yml."""
    arn = run.description["stateMachineArn"]
    for machine in service.state_machines.values():
        if machine.arn == arn:
            return Machine(machine.name, machine.definition, machine.source)
    deployed = backend.find_state_machine(arn)
    if deployed is not None and isinstance(deployed.get("definition"), str):
        return Machine(str(deployed.get("name", arn)), json.loads(deployed["definition"]), None)
    raise DefinitionError(
        f"the state machine of execution {run.description['name']!r} is neither in "
        f"{service.config_file.name} nor deployed: {arn}",
        hint="pass its definition file: tool graph DEFINITION --execution NAME",
    )


def run_title(machine: Machine, run: Run) -> str:
    return f"{machine.name} · execution {run.description['name']} · {run.description['status']}"


def choose(
    definition: Path | None,
    state_machine: str | None,
    execution: str | None,
    options: session.Options,
    on_target: Callable[[ServiceConfig, Backend], None] | None = None,
) -> tuple[Machine, Run | None]:
    """What `tool graph` draws: a definition file or the service's machine, and maybe a run.
    `on_target` is told the service and target a run was read from."""
    if definition is not None and state_machine is not None:
        raise BadInput("pass a DEFINITION file or --state-machine, not both")
    if definition is not None and execution is None:
        return from_file(definition), None  # no serverless.yml needed
    service = session.load(options)
    if execution is None:
        return from_service(service, state_machine), None
    backend = session.backend_for(service, options.target)
    run = read_run(backend, execution)  # its errors name the target themselves
    if on_target is not None:
        on_target(service, backend)
    if definition is not None:
        return from_file(definition), run
    if state_machine is not None:
        return from_service(service, state_machine), run
    return machine_of_run(service, backend, run), run
