"""Deploys: check everything locally, plan the changes against what the target has, then apply.

Nothing reaches the target until the whole service is valid (config, handlers, definitions), so a
broken change leaves the previous deployment running. Each applied resource is recorded at once
in `.tool/deployed/<target>-<stage>.json` (`<target>-<stage>-<region>.json` for a stage's second
region), so an interrupted deploy can simply be run again.

The plan is the same on every target: the function role, one log group per function, the
functions, one role per state machine, the state machines; then deletions of what the record
holds and the service no longer declares. (The local target keeps roles and log groups as
records only.)
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Literal

from tooling import iam
from tooling.backends.base import Backend
from tooling.config.service import ServiceConfig, StateMachineConfig
from tooling.engine import parse_definition
from tooling.errors import BadInput, ConfigError
from tooling.localrt.services import LOCAL_INTEGRATIONS
from tooling.machine_logging import machine_logging, normalized
from tooling.names import partition_for
from tooling.package import Package, build_packages, check_handlers, check_local_runtimes
from tooling.statedir import state_path
from tooling.validate import Diagnostic, Severity, check_or_raise, validate_service

Action = Literal["create", "update", "unchanged", "delete"]
Kind = Literal["role", "log group", "function", "state machine", "queue", "event source mapping"]

# Record keys, in the order resources are created (deleted in the reverse order).
RECORD_KEYS: dict[Kind, str] = {
    "role": "roles",
    "log group": "logGroups",
    "function": "functions",
    "state machine": "stateMachines",
}


@dataclass(frozen=True)
class Change:
    action: Action
    kind: Kind
    name: str
    reasons: tuple[str, ...] = ()

    def describe(self) -> str:
        why = f" ({', '.join(self.reasons)})" if self.reasons else ""
        return f"{self.action:<9} {self.kind} {self.name}{why}"


@dataclass(frozen=True)
class Prepared:
    """A service checked and packaged, ready to be planned against any target."""

    service: ServiceConfig
    package: Package | None  # the service's zip; None when no function uses it
    definitions: dict[str, str]  # key -> definition text as deployed
    warnings: tuple[Diagnostic, ...] = ()  # what `tool validate` warns about; errors stop prepare
    function_packages: dict[str, Package] = field(default_factory=dict)  # function key -> code
    build_dir: Path | None = None

    def package_for(self, key: str) -> Package:
        """The code function `key` deploys: its own artifact or zip, or the service's zip."""
        package = self.function_packages.get(key, self.package)
        assert package is not None, f"no package for function {key}"
        return package


@dataclass
class DeployPlan:
    changes: list[Change]
    steps: list[tuple[Change, Callable[[], None]]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def has_changes(self) -> bool:
        return any(change.action != "unchanged" for change in self.changes)

    def add(self, change: Change, step: Callable[[], None]) -> None:
        self.changes.append(change)
        self.steps.append((change, step))


def function_role_arn(service: ServiceConfig) -> str:
    custom = iam.custom_function_role(service)
    if custom:
        return custom
    return _role_arn(service, iam.function_role_name(service))


def state_machine_role_arn(service: ServiceConfig, machine: StateMachineConfig) -> str:
    if machine.role:  # the user's own role (`role:`): nothing is generated for the machine
        return machine.role
    return _role_arn(service, iam.state_machine_role_name(service, machine))


def _role_arn(service: ServiceConfig, name: str) -> str:
    return f"arn:{partition_for(service.region)}:iam::{service.account_id}:role/{name}"


def prepare(service: ServiceConfig, build_dir: Path, target: str = "local") -> Prepared:
    """Every local check, then the package. Raises BadInput before anything is changed.

    For the local target the definitions must also be ones the local engine runs (it refuses,
    with their line, what it does not run yet); AWS runs whatever `tool validate` accepts.
    """
    diagnostics = validate_service(service)
    check_or_raise(diagnostics)
    check_handlers(service)
    if target == "local":
        check_local_runtimes(service)
    definitions: dict[str, str] = {}
    for key, machine in service.state_machines.items():
        if target == "local":  # Lambda, and the integrations the local runtime provides
            parse_definition(machine.definition, machine.source, provided=LOCAL_INTEGRATIONS)
        definitions[key] = json.dumps(machine.definition, indent=2)
    log_retention_days(service)  # checked here, before anything changes
    packages = build_packages(service, build_dir)
    warnings = tuple(d for d in diagnostics if d.severity is Severity.WARNING)
    built = [packages.service, *packages.functions.values()]
    packed = dict.fromkeys(  # what a package holds that may surprise: secrets on request, links
        Diagnostic(Severity.WARNING, "PACKAGE_FILE", w.message, w.file, None, None, "")
        for package in built
        if package is not None
        for w in package.warnings
    )
    return Prepared(
        service,
        packages.service,
        definitions,
        warnings + tuple(packed),
        packages.functions,
        build_dir,
    )


def log_retention_days(service: ServiceConfig) -> int | None:
    value = service.provider.get("logRetentionInDays")
    if value is None:
        return None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(
            f"provider.logRetentionInDays must be a number of days (got {value!r})",
            file=service.config_file.name,
            hint="e.g. 14; CloudWatch accepts 1, 3, 5, 7, 14, 30, 60, 90, ...",
        )
    return value


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


def role_differences(current: dict[str, Any], spec: iam.RoleSpec) -> list[str]:
    """What differs between a role as `Backend.find_role` answers and as the service wants it."""
    differences = []
    if current.get("AssumeRolePolicyDocument") != spec.trust_policy:
        differences.append("trust policy changed")
    if current.get("InlinePolicies", {}) != spec.inline_policies:
        differences.append("policy changed")
    if sorted(current.get("ManagedPolicies", [])) != sorted(spec.managed_policies):
        differences.append("managed policies changed")
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
            **{key: [] for key in RECORD_KEYS.values()},
        }
        if path.exists():
            self.data.update(json.loads(path.read_text()))

    def names(self, kind: str) -> list[str]:
        return list(self.data.get(kind, []))

    def add(self, kind: str, name: str) -> None:
        names = self.data.setdefault(kind, [])
        if name not in names:
            names.append(name)
            self._write()

    def discard(self, kind: str, name: str) -> None:
        if name in self.data.get(kind, []):
            self.data[kind].remove(name)
            self._write()

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, suffix=".tmp")
        with os.fdopen(fd, "w") as handle:
            json.dump(self.data, handle, indent=2, sort_keys=True)
        os.replace(tmp, self.path)


def recorder_for(service: ServiceConfig, backend: Backend) -> Recorder:
    """The record of this target, stage and region. `<target>-<stage>.json` holds the region the
    stage was first deployed to; another region of the same stage gets its own
    `<target>-<stage>-<region>.json`, so deploying or removing it never plans the deletion of
    the first region's resources."""
    first = state_path(service.directory, "deployed", f"{backend.target}-{service.stage}.json")
    regional = state_path(
        service.directory, "deployed", f"{backend.target}-{service.stage}-{service.region}.json"
    )
    if regional.exists() or _recorded_region(first) not in (None, service.region):
        return Recorder(regional, service)
    return Recorder(first, service)


def _recorded_region(path: Path) -> str | None:
    if not path.exists():
        return None
    region = json.loads(path.read_text()).get("region")
    return str(region) if region is not None else None


@dataclass(frozen=True)
class DesiredNames:
    """The physical names the service wants on the target, by record key."""

    roles: dict[str, iam.RoleSpec]
    log_groups: dict[str, int | None]  # name -> retention in days
    functions: dict[str, str]  # name -> function key
    machines: dict[str, StateMachineConfig]  # ARN -> machine


def desired_names(service: ServiceConfig) -> DesiredNames:
    roles: dict[str, iam.RoleSpec] = {}
    if iam.custom_function_role(service) is None and service.functions:
        spec = iam.function_role(service)
        roles[spec.name] = spec
    for machine in service.state_machines.values():
        if machine.role:
            continue
        spec = iam.state_machine_role(service, machine)
        roles[spec.name] = spec
    retention = log_retention_days(service)
    log_groups = {iam.function_log_group(fn.name): retention for fn in service.functions.values()}
    for machine in service.state_machines.values():
        logging = machine_logging(service, machine)
        if logging is not None and logging.log_group is not None:
            log_groups[logging.log_group] = retention
    return DesiredNames(
        roles=roles,
        log_groups=log_groups,
        functions={fn.name: key for key, fn in service.functions.items()},
        machines={m.arn: m for m in service.state_machines.values()},
    )


@dataclass(frozen=True)
class Lookups:
    """What the target has under each desired name (None: nothing), read up front."""

    roles: dict[str, dict[str, Any] | None]
    log_groups: dict[str, dict[str, Any] | None]
    functions: dict[str, dict[str, Any] | None]
    machines: dict[str, dict[str, Any] | None]


LOOKUP_THREADS = 8  # the look-ups are independent round trips; boto3 clients are thread-safe


def look_up(backend: Backend, desired: DesiredNames) -> Lookups:
    """Every look-up of a plan at once, in parallel: a plan costs about one round trip."""
    with ThreadPoolExecutor(max_workers=LOOKUP_THREADS) as pool:
        roles = {name: pool.submit(backend.find_role, name) for name in desired.roles}
        groups = {name: pool.submit(backend.find_log_group, name) for name in desired.log_groups}
        functions = {name: pool.submit(backend.find_function, name) for name in desired.functions}
        machines = {arn: pool.submit(backend.find_state_machine, arn) for arn in desired.machines}
    return Lookups(
        roles={name: future.result() for name, future in roles.items()},
        log_groups={name: future.result() for name, future in groups.items()},
        functions={name: future.result() for name, future in functions.items()},
        machines={arn: future.result() for arn, future in machines.items()},
    )


def plan_deploy(prepared: Prepared, backend: Backend, recorder: Recorder) -> DeployPlan:
    service = prepared.service
    desired = desired_names(service)
    found = look_up(backend, desired)
    plan = DeployPlan(changes=[])
    function_role = iam.function_role_name(service)
    if function_role in desired.roles:
        spec = desired.roles[function_role]
        _plan_role(plan, backend, recorder, spec, found.roles[function_role])
    for name, retention in desired.log_groups.items():
        _plan_log_group(plan, backend, recorder, name, retention, found.log_groups[name])
    for name, key in desired.functions.items():
        _plan_function(plan, backend, recorder, prepared, name, key, found.functions[name])
    for key, machine in service.state_machines.items():
        # A machine with its own role (`role:`) has no generated role to plan or warn about.
        role = desired.roles.get(iam.state_machine_role_name(service, machine))
        if role is not None:
            plan.warnings.extend(f"state machine {machine.name}: {w}" for w in role.warnings)
        logging = machine_logging(service, machine)
        plan.warnings.extend(logging.warnings if logging else ())
        if role is not None:
            _plan_role(plan, backend, recorder, role, found.roles[role.name])
        current = found.machines[machine.arn]
        _plan_state_machine(plan, backend, recorder, prepared, machine, key, current)
    from tooling.triggers.deploy_triggers import plan_triggers  # imports this module

    build_dir = prepared.build_dir or state_path(service.directory, "build")
    plan_triggers(plan, service, backend, recorder, build_dir)
    _plan_deletions(plan, backend, recorder, desired, only_recorded=True)
    return plan


def plan_remove(service: ServiceConfig, backend: Backend, recorder: Recorder) -> DeployPlan:
    """Delete everything of the service: what the record holds, and what exists under the
    service's deterministic names (so a lost record still removes everything)."""
    plan = DeployPlan(changes=[])
    from tooling.triggers.deploy_triggers import plan_trigger_removal  # imports this module

    plan_trigger_removal(plan, service, backend, recorder)  # mappings before what they use
    empty = DesiredNames(roles={}, log_groups={}, functions={}, machines={})
    desired = desired_names(service)
    extra = {
        "stateMachines": list(desired.machines),
        "roles": list(desired.roles),
        "functions": list(desired.functions),
        "logGroups": list(desired.log_groups),
    }
    _plan_deletions(plan, backend, recorder, empty, only_recorded=False, also=extra)
    return plan


def _plan_role(
    plan: DeployPlan,
    backend: Backend,
    recorder: Recorder,
    spec: iam.RoleSpec,
    current: dict[str, Any] | None,
) -> None:
    record = partial(recorder.add, "roles", spec.name)
    if current is not None:
        _check_owner(backend, recorder, "role", spec.name)
    if current is None:

        def create() -> None:
            backend.create_role(spec)
            record()

        plan.add(Change("create", "role", spec.name), create)
        return
    reasons = role_differences(current, spec)
    if not reasons:
        plan.add(Change("unchanged", "role", spec.name), record)
        return

    def update() -> None:
        backend.update_role(spec, current)
        record()

    plan.add(Change("update", "role", spec.name, tuple(reasons)), update)


def _plan_log_group(
    plan: DeployPlan,
    backend: Backend,
    recorder: Recorder,
    name: str,
    retention: int | None,
    current: dict[str, Any] | None,
) -> None:
    record = partial(recorder.add, "logGroups", name)
    if current is not None:
        _check_owner(backend, recorder, "log group", name)
    if current is None:

        def create() -> None:
            backend.create_log_group(name, retention)
            record()

        plan.add(Change("create", "log group", name), create)
        return
    if current.get("retentionInDays") == retention:
        plan.add(Change("unchanged", "log group", name), record)
        return

    def update() -> None:
        backend.set_log_retention(name, retention)
        record()

    plan.add(Change("update", "log group", name, ("retention changed",)), update)


def _plan_function(
    plan: DeployPlan,
    backend: Backend,
    recorder: Recorder,
    prepared: Prepared,
    name: str,
    key: str,
    current: dict[str, Any] | None,
) -> None:
    desired = _function_config(prepared.service, key)
    package = prepared.package_for(key)
    record = partial(recorder.add, "functions", name)
    if current is not None:
        _check_owner(backend, recorder, "function", name)
    if current is None:

        def create() -> None:
            backend.create_function(name, desired, package)
            record()

        plan.add(Change("create", "function", name), create)
        return
    reasons = []
    code_changed = current.get("CodeSha256") != package.sha256
    if code_changed:
        reasons.append("code changed")
    config_changes = _config_differences(current, desired)
    if config_changes:
        reasons.append("configuration changed: " + ", ".join(config_changes))
    if not reasons:
        plan.add(Change("unchanged", "function", name), record)
        return

    def update() -> None:
        if code_changed:
            backend.update_function_code(name, package)
        if config_changes:
            backend.update_function_configuration(name, desired)
        record()

    plan.add(Change("update", "function", name, tuple(reasons)), update)


def _plan_state_machine(
    plan: DeployPlan,
    backend: Backend,
    recorder: Recorder,
    prepared: Prepared,
    machine: StateMachineConfig,
    key: str,
    current: dict[str, Any] | None,
) -> None:
    service = prepared.service
    definition = prepared.definitions[key]
    role = state_machine_role_arn(service, machine)
    wanted_logging = machine_logging(service, machine)
    logging = {"logging": wanted_logging.configuration()} if wanted_logging else {}
    record = partial(recorder.add, "stateMachines", machine.arn)
    if current is not None:
        _check_owner(backend, recorder, "state machine", machine.arn)
    if current is None:

        def create() -> None:
            backend.create_state_machine(machine.name, definition, role, machine.type, **logging)
            record()

        plan.add(Change("create", "state machine", machine.name), create)
        return
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
    desired_logging = normalized(wanted_logging.configuration() if wanted_logging else None)
    if normalized(current.get("loggingConfiguration")) != desired_logging:
        reasons.append("logging changed")
        logging = {
            "logging": wanted_logging.configuration() if wanted_logging else {"level": "OFF"}
        }
    if not reasons:
        plan.add(Change("unchanged", "state machine", machine.name), record)
        return

    def update() -> None:
        backend.update_state_machine(machine.arn, definition, role, **logging)
        record()

    plan.add(Change("update", "state machine", machine.name, tuple(reasons)), update)


def _check_owner(backend: Backend, recorder: Recorder, kind: Kind, name: str) -> None:
    """A resource found under the service's name but not in the record must carry the
    toolkit's tags for this service and stage (a record lost or made elsewhere); otherwise it
    is someone else's and the deploy stops before changing anything."""
    if name in recorder.names(RECORD_KEYS[kind]) or backend.owns(kind, name):
        return
    shown = name.rsplit(":", 1)[1] if kind == "state machine" else name
    raise BadInput(
        f"{kind} {shown} already exists on the {backend.target} target (account "
        f"{backend.account_id}) and was not deployed by tool for this service and stage",
        hint="delete it, deploy another stage, or give the resource another name in serverless.yml",
    )


def _plan_deletions(
    plan: DeployPlan,
    backend: Backend,
    recorder: Recorder,
    desired: DesiredNames,
    *,
    only_recorded: bool,
    also: dict[str, list[str]] | None = None,
) -> None:
    """Delete, dependents first, what is recorded (plus `also`) but no longer desired. Names
    that only `also` lists are deleted only if they exist."""
    also = also or {}
    reason = ("no longer in serverless.yml",) if only_recorded else ("tool remove",)

    def candidates(key: str, wanted: Any) -> list[tuple[str, bool]]:
        recorded = recorder.names(key)
        names = recorded + [n for n in also.get(key, []) if n not in recorded]
        return [(name, name in recorded) for name in names if name not in wanted]

    def skip(kind: Kind, name: str, recorded: bool, exists: Callable[[str], Any]) -> bool:
        """Only what the record holds, or what exists and carries the toolkit's tags."""
        if recorded:
            return False
        if exists(name) is None:
            return True
        if backend.owns(kind, name):
            return False
        plan.warnings.append(f"left {kind} {name} alone: it was not deployed by tool")
        return True

    for arn, recorded in candidates("stateMachines", desired.machines):
        if skip("state machine", arn, recorded, backend.find_state_machine):
            continue
        name = arn.rsplit(":", 1)[1]
        step = _deleting(recorder, "stateMachines", arn, partial(backend.delete_state_machine, arn))
        plan.add(Change("delete", "state machine", name, reason), step)
    for name, recorded in candidates("functions", desired.functions):
        if skip("function", name, recorded, backend.find_function):
            continue
        step = _deleting(recorder, "functions", name, partial(backend.delete_function, name))
        plan.add(Change("delete", "function", name, reason), step)
    for name, recorded in candidates("roles", desired.roles):
        if skip("role", name, recorded, backend.find_role):
            continue
        step = _deleting(recorder, "roles", name, partial(backend.delete_role, name))
        plan.add(Change("delete", "role", name, reason), step)
    for name, recorded in candidates("logGroups", desired.log_groups):
        if skip("log group", name, recorded, backend.find_log_group):
            continue
        step = _deleting(recorder, "logGroups", name, partial(backend.delete_log_group, name))
        plan.add(Change("delete", "log group", name, reason), step)


def _deleting(
    recorder: Recorder, key: str, name: str, delete: Callable[[], None]
) -> Callable[[], None]:
    def step() -> None:
        delete()  # backends treat "already gone" as done
        recorder.discard(key, name)

    return step


def apply_plan(plan: DeployPlan, on_step: Callable[[Change], None] | None = None) -> None:
    for change, step in plan.steps:
        if on_step is not None and change.action != "unchanged":
            on_step(change)
        step()


@dataclass(frozen=True)
class Deployed:
    kind: Kind
    name: str
    arn: str
    details: str


def describe_deployment(service: ServiceConfig, backend: Backend) -> list[Deployed]:
    """What of the service exists on the target now (for `tool info`)."""
    desired = desired_names(service)
    lookups = look_up(backend, desired)
    found: list[Deployed] = []
    for name, role in lookups.roles.items():
        if role is not None:
            found.append(Deployed("role", name, str(role.get("Arn", "")), ""))
    for name, group in lookups.log_groups.items():
        if group is not None:
            days = group.get("retentionInDays")
            details = f"retention {days or '∞'}"
            found.append(Deployed("log group", name, str(group.get("arn", "")), details))
    for name, fn in lookups.functions.items():
        if fn is not None:
            details = f"{fn.get('Runtime')} {fn.get('MemorySize')} MB {fn.get('Timeout')} s"
            found.append(Deployed("function", name, str(fn.get("FunctionArn", "")), details))
    for arn, sm in lookups.machines.items():
        if sm is not None:
            name = desired.machines[arn].name
            found.append(Deployed("state machine", name, arn, str(sm.get("type", ""))))
    from tooling.triggers.deploy_triggers import describe_triggers  # imports this module

    return found + describe_triggers(service, backend)
