"""Running a plan: for real, recording after each resource, or for display only (--dry-run).

Both take the same plan and answer the changes they made (or would make), so `tool plan`,
`tool deploy --dry-run` and `tool deploy` print the same thing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from tooling.deploy.plan import Change, Plan
from tooling.deploy.providers import DeployTarget
from tooling.deploy.record import Record

OnChange = Callable[[Change], None]


class Executor(Protocol):
    def run(self, plan: Plan) -> list[Change]: ...


class ApplyingExecutor:
    """Applies each change through its provider, in the plan's order, and records each resource
    as soon as it is made, updated or found unchanged (adopted), and forgets each one as soon as
    it is deleted. Killed at any point, a deploy run again picks up where this one stopped."""

    def __init__(
        self, target: DeployTarget, record: Record, on_change: OnChange | None = None
    ) -> None:
        self.target = target
        self.record = record
        self.on_change = on_change

    def run(self, plan: Plan) -> list[Change]:
        for step in plan.steps:
            change = step.change
            if self.on_change is not None and change.action != "unchanged":
                self.on_change(change)
            provider = self.target.provider(change.address.kind)
            if change.action == "delete":
                provider.delete(change.address)
                self.record.discard(change.address)
                continue
            resource = step.resource
            assert resource is not None, "only a deletion has no model"
            if change.action == "create":
                provider.create(resource)
            elif change.action == "update":
                assert step.found is not None
                provider.update(resource, step.found, step.diff)
            self.record.add(resource)
        return plan.changes


class DisplayExecutor:
    """Changes nothing and records nothing: answers the plan's changes, for display."""

    def __init__(self, on_change: OnChange | None = None) -> None:
        self.on_change = on_change

    def run(self, plan: Plan) -> list[Change]:
        if self.on_change is not None:
            for change in plan.changes:
                if change.action != "unchanged":
                    self.on_change(change)
        return plan.changes
