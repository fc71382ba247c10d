"""The plan is data: what is desired, compared with what the target has, as a list of changes.

`plan_deploy` looks every desired resource up (in parallel where the target allows), refuses
before anything changes when one of them exists without being the toolkit's, diffs the rest, and
adds a sweeper's deletions of what the record holds and the service no longer declares. `plan_
remove` plans the deletion of everything the service deployed, and lists what it leaves alone.
Changes come in dependency order: a resource after what it needs; deletions in reverse.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

from tooling.config.service import ServiceConfig
from tooling.deploy.desired import Prepared, desired_resources
from tooling.deploy.models import Address, Resource
from tooling.deploy.providers import DeployTarget, Diff, Found
from tooling.deploy.record import Record
from tooling.errors import BadInput

Action = Literal["create", "update", "unchanged", "delete"]

NO_LONGER_DECLARED = "no longer in serverless.yml"
REMOVED = "tool remove"
GONE = "recorded but missing on the target"
NOT_OURS = "not deployed by tool for this service and stage"
RETAINED = "kept by `retain: true` (the plugin's DeletionPolicy: Retain)"


@dataclass(frozen=True)
class Change:
    """One entry of a plan (`tool plan --json` prints a list of these, see docs/deploy.md)."""

    action: Action
    address: Address
    reasons: tuple[str, ...] = ()
    attributes: tuple[str, ...] = ()  # the target's names of what differs
    depends_on: tuple[Address, ...] = ()

    @property
    def kind(self) -> str:
        return self.address.kind

    @property
    def name(self) -> str:
        return self.address.name

    def describe(self) -> str:
        why = f" ({', '.join(self.reasons)})" if self.reasons else ""
        return f"{self.action:<9} {self.kind} {self.name}{why}"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "action": self.action,
            "reasons": list(self.reasons),
            "attributes": list(self.attributes),
            "dependsOn": [address.to_json() for address in self.depends_on],
        }


@dataclass(frozen=True)
class Step:
    """A change and what applying it needs: the model (none for a deletion), what was found."""

    change: Change
    resource: Resource | None = None
    found: Found | None = None
    diff: Diff = field(default_factory=Diff)


@dataclass(frozen=True)
class LeftAlone:
    address: Address
    reason: str

    def describe(self) -> str:
        return f"left {self.address} alone: it was {self.reason}"

    def to_json(self) -> dict[str, str]:
        return {**self.address.to_json(), "reason": self.reason}


@dataclass
class Plan:
    steps: list[Step]
    warnings: list[str] = field(default_factory=list)
    left_alone: list[LeftAlone] = field(default_factory=list)

    @property
    def changes(self) -> list[Change]:
        return [step.change for step in self.steps]

    @property
    def has_changes(self) -> bool:
        return any(change.action != "unchanged" for change in self.changes)


class NotOwned(BadInput):
    """A resource under the service's name exists and is someone else's (exit 2)."""


@dataclass(frozen=True)
class Lookup:
    found: Found | None
    owned: bool  # recorded, or found and recognised by its provider


def look_up(
    target: DeployTarget, addresses: Iterable[Address], record: Record
) -> dict[Address, Lookup]:
    """Every look-up at once: on AWS a plan costs about one round trip, whatever its size."""

    def one(address: Address) -> Lookup:
        provider = target.provider(address.kind)
        found = provider.find(address)
        recorded = record.holds(address)
        owned = recorded or (found is not None and provider.owns(address, found))
        return Lookup(found, owned)

    unique = list(dict.fromkeys(addresses))
    if target.lookup_threads <= 1:
        return {address: one(address) for address in unique}
    with ThreadPoolExecutor(max_workers=target.lookup_threads) as pool:
        futures = {address: pool.submit(one, address) for address in unique}
    return {address: future.result() for address, future in futures.items()}


def dependency_order(
    addresses: Sequence[Address], dependencies: dict[Address, tuple[Address, ...]]
) -> list[Address]:
    """`addresses` with each one after those it depends on; otherwise in the given order."""
    wanted = set(addresses)
    placed: list[Address] = []
    done: set[Address] = set()
    waiting = list(addresses)
    while waiting:
        for address in waiting:
            needs = [d for d in dependencies.get(address, ()) if d in wanted and d != address]
            if all(d in done for d in needs):
                break
        else:  # a cycle: cannot happen with the models' dependencies; keep the given order
            address = waiting[0]
        waiting.remove(address)
        placed.append(address)
        done.add(address)
    return placed


def plan_deploy(prepared: Prepared, target: DeployTarget, record: Record) -> Plan:
    desired = desired_resources(prepared.service, target.platform, prepared)
    return plan_resources(desired.resources, target, record, list(desired.warnings))


def plan_resources(
    resources: Sequence[Resource],
    target: DeployTarget,
    record: Record,
    warnings: list[str] | None = None,
    *,
    sweep: bool = True,
) -> Plan:
    """`resources` against what the target has; with `sweep`, the deletion of what the record
    holds besides (a plan of some resources only, e.g. the `resources:` stack, sweeps nothing)."""
    by_address = {resource.address: resource for resource in resources}
    order = dependency_order(list(by_address), {a: r.dependencies() for a, r in by_address.items()})
    warnings = list(warnings or [])
    for address in order:
        warnings.extend(target.provider(address.kind).check(by_address[address]) or ())
    swept = [e for e in record.entries() if sweep and e.address not in by_address]
    found = look_up(target, [*order, *(entry.address for entry in swept)], record)
    _refuse_foreign(target, [a for a in order if found[a].found is not None and not found[a].owned])

    plan = Plan(steps=[], warnings=warnings)
    for address in order:
        resource = by_address[address]
        current = found[address].found
        needs = resource.dependencies()
        if current is None:
            reasons: tuple[str, ...] = (GONE,) if record.holds(address) else ()
            plan.steps.append(Step(Change("create", address, reasons, (), needs), resource))
            continue
        diff = target.provider(address.kind).diff(resource, current)
        action: Action = "update" if diff else "unchanged"
        change = Change(action, address, diff.reasons, diff.attributes, needs)
        plan.steps.append(Step(change, resource, current, diff))
    # The sweeper: what the record holds and the service no longer declares.
    dependencies = {entry.address: entry.depends_on for entry in swept}
    for address in reversed(dependency_order([e.address for e in swept], dependencies)):
        reasons = (NO_LONGER_DECLARED,)
        if found[address].found is None:
            reasons = (NO_LONGER_DECLARED, GONE)
        change = Change("delete", address, reasons, (), dependencies[address])
        plan.steps.append(Step(change, found=found[address].found))
    return plan


def _refuse_foreign(target: DeployTarget, foreign: list[Address]) -> None:
    if not foreign:
        return
    first = foreign[0]
    others = ", ".join(map(str, foreign[1:]))
    more = f" (and {len(foreign) - 1} more: {others})" if others else ""
    raise NotOwned(
        f"{first} already exists on the {target.target} target (account {target.account_id}) "
        f"and was not deployed by tool for this service and stage{more}; nothing was changed",
        hint="it may belong to someone else: delete it yourself if it is unused, deploy another "
        "stage, or give the resource another name in serverless.yml",
    )


def _everything(
    service: ServiceConfig, target: DeployTarget, record: Record
) -> tuple[list[Address], dict[Address, tuple[Address, ...]]]:
    """Every resource the service has or had on the target: what it declares (its names),
    then what the record holds besides; and what each depends on."""
    dependencies = {
        resource.address: resource.dependencies()
        for resource in desired_resources(service, target.platform).resources
    }
    for entry in record.entries():
        dependencies.setdefault(entry.address, entry.depends_on)
    return list(dependencies), dependencies


def plan_remove(service: ServiceConfig, target: DeployTarget, record: Record) -> Plan:
    """Delete everything of the service: what the record holds, and what exists under the
    service's names and is the toolkit's (so a lost record still removes everything). Anything
    else under those names is left alone, and said so."""
    candidates, dependencies = _everything(service, target, record)
    found = look_up(target, candidates, record)
    plan = Plan(steps=[])
    retained = {m.name for m in service.state_machines.values() if m.retain}
    for address in reversed(dependency_order(candidates, dependencies)):
        lookup = found[address]
        if address.kind == "state machine" and address.name in retained:
            if lookup.found is not None:
                plan.left_alone.append(LeftAlone(address, RETAINED))
            continue
        if record.holds(address):
            reasons = (REMOVED,) if lookup.found is not None else (REMOVED, GONE)
        elif lookup.found is None:
            continue
        elif lookup.owned:
            reasons = (REMOVED,)
        else:
            plan.left_alone.append(LeftAlone(address, NOT_OURS))
            continue
        change = Change("delete", address, reasons, (), dependencies.get(address, ()))
        plan.steps.append(Step(change, found=lookup.found))
    plan.warnings.extend(item.describe() for item in plan.left_alone)
    return plan


@dataclass(frozen=True)
class Deployed:
    """One line of `tool info`: a resource of the service that exists on the target now, or a
    resource inside one (a table of the `resources:` stack)."""

    kind: str
    name: str
    arn: str
    details: str
    api_key: dict[str, Any] | None = field(default=None, hash=False)  # an API key's, for info


def describe_deployment(
    service: ServiceConfig, target: DeployTarget, record: Record
) -> tuple[list[Deployed], list[LeftAlone]]:
    """What of the service exists on the target now, in deploy order; and what exists under its
    names without being the toolkit's."""
    candidates, _ = _everything(service, target, record)
    found = look_up(target, candidates, record)
    deployed: list[Deployed] = []
    foreign: list[LeftAlone] = []
    for address in candidates:
        lookup = found[address]
        if lookup.found is None:
            continue
        if not lookup.owned:
            foreign.append(LeftAlone(address, NOT_OURS))
            continue
        description = target.provider(address.kind).describe(address, lookup.found)
        deployed.append(Deployed(address.kind, address.name, description.arn, description.details,
                                 description.api_key))  # fmt: skip
        deployed.extend(Deployed(m.kind, m.name, m.arn, m.details) for m in description.members)
    return deployed, foreign
