"""Deploys: check everything locally, plan the changes against what the target has, then apply.

Nothing reaches the target until the whole service is valid (config, handlers, definitions), so a
broken change leaves the previous deployment running. Each applied resource is recorded at once
in `.tool/deployed/<target>-<stage>.json`, so an interrupted deploy can simply be run again.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Literal

from tooling.backends.base import Backend
from tooling.config.service import ServiceConfig, StateMachineConfig
from tooling.engine import StateMachine, parse_definition
from tooling.errors import BadInput
from tooling.package import Package, build_package, check_handlers

Action = Literal["create", "update", "unchanged", "delete"]


@dataclass(frozen=True)
class Change:
    action: Action
    kind: Literal["function", "state machine"]
    name: str
    reasons: tuple[str, ...] = ()

    def describe(self) -> str:
        why = f" ({', '.join(self.reasons)})" if self.reasons else ""
        return f"{self.action:<9} {self.kind} {self.name}{why}"


@dataclass(frozen=True)
class Prepared:
    """A service checked and packaged, ready to be planned against any target."""

    service: ServiceConfig
    package: Package
    machines: dict[str, StateMachine]
    definitions: dict[str, str]  # key -> definition text as deployed


@dataclass
class DeployPlan:
    changes: list[Change]
    steps: list[tuple[Change, Callable[[], None]]] = field(default_factory=list)

    @property
    def has_changes(self) -> bool:
        return any(change.action != "unchanged" for change in self.changes)


def function_role_arn(service: ServiceConfig) -> str:
    # Serverless names the shared function role <service>-<stage>-<region>-lambdaRole.
    name = f"{service.service}-{service.stage}-{service.region}-lambdaRole"
    return f"arn:aws:iam::{service.account_id}:role/{name}"


def state_machine_role_arn(service: ServiceConfig, machine: StateMachineConfig) -> str:
    name = f"{service.service}-{service.stage}-{service.region}-{machine.key}-sfnRole"
    return f"arn:aws:iam::{service.account_id}:role/{name[:64]}"


def prepare(service: ServiceConfig, build_dir: Path) -> Prepared:
    """Every local check, then the package. Raises BadInput before anything is changed."""
    check_handlers(service)
    machines: dict[str, StateMachine] = {}
    definitions: dict[str, str] = {}
    for key, machine in service.state_machines.items():
        machines[key] = parse_definition(machine.definition, machine.source)
        definitions[key] = json.dumps(machine.definition, indent=2)
    package = build_package(service, build_dir)
    return Prepared(service, package, machines, definitions)


def _function_config(service: ServiceConfig, key: str) -> dict[str, Any]:
    fn = service.functions[key]
    return {
        "Handler": fn.handler,
        "Runtime": fn.runtime,
        "MemorySize": fn.memory_size,
        "Timeout": fn.timeout,
        "Environment": {"Variables": dict(fn.environment)},
        "Role": function_role_arn(service),
    }


def _config_differences(current: dict[str, Any], desired: dict[str, Any]) -> list[str]:
    differences = []
    for key, value in desired.items():
        have = current.get(key)
        if key == "Environment":
            have = {"Variables": dict((have or {}).get("Variables", {}))}
        if have != value:
            differences.append(key)
    return differences


class Recorder:
    """What this toolkit deployed for one target and stage, written after each resource."""

    def __init__(self, path: Path, service: ServiceConfig) -> None:
        self.path = path
        self.data: dict[str, Any] = {
            "schemaVersion": 1,
            "service": service.service,
            "stage": service.stage,
            "region": service.region,
            "functions": [],
            "stateMachines": [],
        }
        if path.exists():
            self.data.update(json.loads(path.read_text()))

    def names(self, kind: str) -> list[str]:
        return list(self.data[kind])

    def add(self, kind: str, name: str) -> None:
        if name not in self.data[kind]:
            self.data[kind].append(name)
            self._write()

    def discard(self, kind: str, name: str) -> None:
        if name in self.data[kind]:
            self.data[kind].remove(name)
            self._write()

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, suffix=".tmp")
        with os.fdopen(fd, "w") as handle:
            json.dump(self.data, handle, indent=2, sort_keys=True)
        os.replace(tmp, self.path)


def plan_deploy(prepared: Prepared, backend: Backend, recorder: Recorder) -> DeployPlan:
    service = prepared.service
    plan = DeployPlan(changes=[])

    def add(change: Change, step: Callable[[], None]) -> None:
        plan.changes.append(change)
        plan.steps.append((change, step))

    for key, fn in service.functions.items():
        desired = _function_config(service, key)
        current = backend.find_function(fn.name)
        name = fn.name
        if current is None:

            def create(name: str = name, desired: dict[str, Any] = desired) -> None:
                backend.create_function(name, desired, prepared.package)
                recorder.add("functions", name)

            add(Change("create", "function", name), create)
            continue
        reasons = []
        code_changed = current.get("CodeSha256") != prepared.package.sha256
        if code_changed:
            reasons.append("code changed")
        config_changes = _config_differences(current, desired)
        if config_changes:
            reasons.append("configuration changed: " + ", ".join(config_changes))
        if not reasons:
            add(Change("unchanged", "function", name), partial(recorder.add, "functions", name))
            continue

        def update(
            name: str = name,
            desired: dict[str, Any] = desired,
            code: bool = code_changed,
            config: bool = bool(config_changes),
        ) -> None:
            if code:
                backend.update_function_code(name, prepared.package)
            if config:
                backend.update_function_configuration(name, desired)
            recorder.add("functions", name)

        add(Change("update", "function", name, tuple(reasons)), update)

    for key, machine in service.state_machines.items():
        definition = prepared.definitions[key]
        role = state_machine_role_arn(service, machine)
        current = backend.find_state_machine(machine.arn)
        if current is None:

            def create_machine(
                machine: StateMachineConfig = machine,
                definition: str = definition,
                role: str = role,
            ) -> None:
                backend.create_state_machine(machine.name, definition, role, machine.type)
                recorder.add("stateMachines", machine.arn)

            add(Change("create", "state machine", machine.name), create_machine)
            continue
        if current.get("type", "STANDARD") != machine.type:
            raise BadInput(
                f"state machine {machine.name} is {current.get('type')} on the {backend.target} "
                f"target and serverless.yml now says {machine.type}; a type cannot change in place",
                file=str(service.config_file.name),
                hint="run `tool remove` and deploy again, or give the machine a new name",
            )
        reasons = []
        if json.loads(current["definition"]) != machine.definition:
            reasons.append("definition changed")
        if current.get("roleArn") != role:
            reasons.append("role changed")
        if not reasons:
            unchanged = Change("unchanged", "state machine", machine.name)
            add(unchanged, partial(recorder.add, "stateMachines", machine.arn))
            continue

        def update_machine(
            machine: StateMachineConfig = machine, definition: str = definition, role: str = role
        ) -> None:
            backend.update_state_machine(machine.arn, definition, role)
            recorder.add("stateMachines", machine.arn)

        add(Change("update", "state machine", machine.name, tuple(reasons)), update_machine)

    wanted_functions = {fn.name for fn in service.functions.values()}
    for name in recorder.names("functions"):
        if name not in wanted_functions:

            def delete_function(name: str = name) -> None:
                backend.delete_function(name)
                recorder.discard("functions", name)

            add(
                Change("delete", "function", name, ("no longer in serverless.yml",)),
                delete_function,
            )
    wanted_machines = {m.arn for m in service.state_machines.values()}
    for arn in recorder.names("stateMachines"):
        if arn not in wanted_machines:

            def delete_machine(arn: str = arn) -> None:
                backend.delete_state_machine(arn)
                recorder.discard("stateMachines", arn)

            name = arn.rsplit(":", 1)[1]
            add(
                Change("delete", "state machine", name, ("no longer in serverless.yml",)),
                delete_machine,
            )
    return plan


def apply_plan(plan: DeployPlan, on_step: Callable[[Change], None] | None = None) -> None:
    for change, step in plan.steps:
        if on_step is not None and change.action != "unchanged":
            on_step(change)
        step()
