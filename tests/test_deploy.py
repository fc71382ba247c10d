"""The planner and the executors, against an in-memory target whose providers log every change."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tooling.config.service import ServiceConfig, load_service
from tooling.deploy.desired import Prepared, prepare
from tooling.deploy.executor import ApplyingExecutor, DisplayExecutor
from tooling.deploy.local_providers import local_target
from tooling.deploy.models import KINDS, Address, Resource
from tooling.deploy.plan import NotOwned, Plan, plan_deploy, plan_remove
from tooling.deploy.providers import DeployTarget, Description, Diff, Found, Platform
from tooling.deploy.record import Record, record_for
from tooling.errors import BadInput
from tooling.package import build_package

ROOT = Path(__file__).resolve().parents[1]
OURS = {"tool:service": "hello-loop", "tool:stage": "dev"}


class Memory:
    """One in-memory account: resources by address, with their owner's tags."""

    def __init__(self) -> None:
        self.items: dict[Address, tuple[Resource, dict[str, str]]] = {}
        self.calls: list[str] = []
        self.fail_on: str | None = None  # a call that raises (a deploy cut short)


class MemoryProvider:
    def __init__(self, memory: Memory) -> None:
        self.memory = memory

    def _log(self, call: str) -> None:
        if call == self.memory.fail_on:
            raise RuntimeError(f"killed at {call}")
        self.memory.calls.append(call)

    def check(self, resource: Resource) -> None:
        pass

    def find(self, address: Address) -> Found | None:
        item = self.memory.items.get(address)
        return {"model": item[0], "tags": item[1]} if item else None

    def owns(self, address: Address, found: Found) -> bool:
        return bool(found["tags"] == OURS)

    def diff(self, resource: Resource, found: Found) -> Diff:
        have = found["model"]
        changed = [
            f.name
            for f in dataclasses.fields(resource)
            if f.compare and _value(getattr(resource, f.name)) != _value(getattr(have, f.name))
        ]
        return Diff(tuple(f"{name} changed" for name in changed), tuple(changed))

    def create(self, resource: Resource) -> None:
        self._log(f"create {resource.address}")
        self.memory.items[resource.address] = (resource, dict(OURS))

    def update(self, resource: Resource, found: Found, diff: Diff) -> None:
        self._log(f"update {resource.address} {','.join(diff.attributes)}")
        self.memory.items[resource.address] = (resource, dict(OURS))

    def delete(self, address: Address) -> None:
        self._log(f"delete {address}")
        self.memory.items.pop(address, None)

    def describe(self, address: Address, found: Found) -> Description:
        return Description(address.name)


def _value(value: Any) -> Any:
    return getattr(value, "sha256", value)  # a package compares by its content hash


def memory_target(memory: Memory, platform: Platform | None = None) -> DeployTarget:
    provider = MemoryProvider(memory)
    return DeployTarget(
        target="memory",
        region="us-east-1",
        account_id="000000000000",
        platform=platform or Platform(polls_queues=True),
        providers=dict.fromkeys(KINDS, provider),
    )


@pytest.fixture
def service_dir(tmp_path: Path) -> Path:
    for name in ("serverless.yml", "handler.py", "statemachine.asl.json"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def load(service_dir: Path, **options: Any) -> ServiceConfig:
    return load_service(service_dir, env={}, **options)


def record_of(service: ServiceConfig) -> Record:
    return record_for(service, "memory", "000000000000")


def deploy(
    service_dir: Path, target: DeployTarget, *, dry_run: bool = False, **options: Any
) -> Plan:
    service = load(service_dir, **options)
    prepared = prepare(service, service_dir / ".tool" / "build")
    record = record_for(service, target.target, target.account_id)
    plan = plan_deploy(prepared, target, record)
    (DisplayExecutor() if dry_run else ApplyingExecutor(target, record)).run(plan)
    return plan


def lines(plan: Plan) -> list[str]:
    return [change.describe() for change in plan.changes]


FIRST_DEPLOY = [
    "create    role hello-loop-dev-us-east-1-lambdaRole",
    "create    log group /aws/lambda/hello-loop-dev-hello",
    "create    function hello-loop-dev-hello",
    "create    role hello-loop-dev-us-east-1-loop-sfnRole",
    "create    state machine hello-loop-dev-loop",
    "create    queue hello-loop-dev-loop-trigger-dlq",
    "create    queue hello-loop-dev-loop-trigger",
]


def test_first_deploy_creates_everything_in_dependency_order_and_records_it(service_dir: Path):
    memory = Memory()
    plan = deploy(service_dir, memory_target(memory))
    assert lines(plan) == FIRST_DEPLOY
    assert memory.calls == [line.replace("create    ", "create ") for line in FIRST_DEPLOY]
    recorded = json.loads((service_dir / ".tool" / "deployed" / "memory-dev.json").read_text())
    assert recorded["schemaVersion"] == 2
    by_name = {(r["kind"], r["name"]): r for r in recorded["resources"]}
    assert by_name[("state machine", "hello-loop-dev-loop")] == {
        "kind": "state machine",
        "name": "hello-loop-dev-loop",
        "arn": "arn:aws:states:us-east-1:000000000000:stateMachine:hello-loop-dev-loop",
        "dependsOn": [
            {"kind": "role", "name": "hello-loop-dev-us-east-1-loop-sfnRole"},
            {"kind": "function", "name": "hello-loop-dev-hello"},
        ],
    }
    machine = memory.items[Address("state machine", "hello-loop-dev-loop")][0]
    assert json.loads(machine.definition_text)["States"]["LambdaFunction"]["Resource"] == (  # type: ignore[union-attr]  # a machine
        "arn:aws:lambda:us-east-1:000000000000:function:hello-loop-dev-hello"
    )


def test_on_aws_the_trigger_adds_its_function_role_log_group_and_mapping(service_dir: Path):
    plan = deploy(service_dir, memory_target(Memory(), Platform()))
    assert lines(plan)[len(FIRST_DEPLOY) :] == [
        "create    role hello-loop-dev-us-east-1-loop-sqsRole",
        "create    log group /aws/lambda/hello-loop-dev-loop-sqs-trigger",
        "create    function hello-loop-dev-loop-sqs-trigger",
        "create    event source mapping hello-loop-dev-loop-trigger -> "
        "hello-loop-dev-loop-sqs-trigger",
    ]


def test_redeploy_of_unchanged_service_makes_no_changing_call(service_dir: Path):
    memory = Memory()
    target = memory_target(memory)
    deploy(service_dir, target)
    memory.calls.clear()
    plan = deploy(service_dir, target)
    assert memory.calls == []
    assert not plan.has_changes


def test_dry_run_changes_nothing_and_writes_no_record(service_dir: Path):
    memory = Memory()
    plan = deploy(service_dir, memory_target(memory), dry_run=True)
    assert lines(plan) == FIRST_DEPLOY
    assert memory.calls == []
    assert not (service_dir / ".tool" / "deployed" / "memory-dev.json").exists()


def test_configuration_change_updates_that_function_only(service_dir: Path):
    memory = Memory()
    target = memory_target(memory)
    deploy(service_dir, target)
    memory.calls.clear()
    config = service_dir / "serverless.yml"
    config.write_text(config.read_text().replace("timeout: 10", "timeout: 20"))
    deploy(service_dir, target)
    assert memory.calls == ["update function hello-loop-dev-hello timeout"]


def test_definition_change_updates_the_state_machine_only(service_dir: Path):
    memory = Memory()
    target = memory_target(memory)
    deploy(service_dir, target)
    memory.calls.clear()
    asl = service_dir / "statemachine.asl.json"
    asl.write_text(asl.read_text().replace('"Invalid response."', '"Bad response."'))
    deploy(service_dir, target)
    assert memory.calls == ["update state machine hello-loop-dev-loop definition"]


def rename_machine(service_dir: Path) -> None:
    config = service_dir / "serverless.yml"
    config.write_text(
        config.read_text()
        .replace("    loop:", "    looped:")
        .replace("${sls:stage}-loop", "${sls:stage}-looped")
    )


def test_the_sweeper_deletes_what_is_no_longer_declared_dependents_first(service_dir: Path):
    memory = Memory()
    target = memory_target(memory)
    deploy(service_dir, target)
    rename_machine(service_dir)
    memory.calls.clear()
    plan = deploy(service_dir, target)
    assert [line for line in lines(plan) if not line.startswith("unchanged")] == [
        "create    role hello-loop-dev-us-east-1-looped-sfnRole",
        "create    state machine hello-loop-dev-looped",
        "create    queue hello-loop-dev-looped-trigger-dlq",
        "create    queue hello-loop-dev-looped-trigger",
        "delete    queue hello-loop-dev-loop-trigger (no longer in serverless.yml)",
        "delete    queue hello-loop-dev-loop-trigger-dlq (no longer in serverless.yml)",
        "delete    state machine hello-loop-dev-loop (no longer in serverless.yml)",
        "delete    role hello-loop-dev-us-east-1-loop-sfnRole (no longer in serverless.yml)",
    ]
    assert len(memory.calls) == 8


def test_invalid_definition_stops_before_any_call(service_dir: Path):
    memory = Memory()
    asl = service_dir / "statemachine.asl.json"
    asl.write_text(asl.read_text().replace('"Default": "FailState"', '"Default": "FailStat"'))
    with pytest.raises(BadInput) as caught:
        deploy(service_dir, memory_target(memory))
    assert caught.value.file and caught.value.file.endswith("statemachine.asl.json")
    assert caught.value.line is not None
    assert memory.calls == []


def test_someone_elses_resource_stops_the_deploy_before_any_change(service_dir: Path):
    memory = Memory()
    target = memory_target(memory)
    service = load(service_dir)
    plan = plan_deploy(
        prepare(service, service_dir / ".tool" / "build"), target, record_of(service)
    )
    queue = next(s.resource for s in plan.steps if s.change.kind == "queue")
    assert queue is not None
    memory.items[queue.address] = (queue, {"owner": "team-b"})
    with pytest.raises(NotOwned) as caught:
        deploy(service_dir, target)
    assert caught.value.message == (
        "queue hello-loop-dev-loop-trigger-dlq already exists on the memory target (account "
        "000000000000) and was not deployed by tool for this service and stage; nothing was "
        "changed"
    )
    assert caught.value.exit_code == 2
    assert memory.calls == []

    removal = plan_remove(service, target, record_of(service))
    assert removal.changes == []
    assert removal.warnings == [
        "left queue hello-loop-dev-loop-trigger-dlq alone: it was not deployed by tool for "
        "this service and stage"
    ]


def test_a_resource_deleted_outside_tool_is_created_again(service_dir: Path):
    memory = Memory()
    target = memory_target(memory)
    deploy(service_dir, target)
    del memory.items[Address("function", "hello-loop-dev-hello")]
    memory.calls.clear()
    plan = deploy(service_dir, target)
    assert [line for line in lines(plan) if not line.startswith("unchanged")] == [
        "create    function hello-loop-dev-hello (recorded but missing on the target)"
    ]
    assert memory.calls == ["create function hello-loop-dev-hello"]


def test_a_deploy_killed_half_way_is_finished_by_running_it_again(service_dir: Path):
    memory = Memory()
    target = memory_target(memory)
    memory.fail_on = "create function hello-loop-dev-hello"
    with pytest.raises(RuntimeError):
        deploy(service_dir, target)
    recorded = json.loads((service_dir / ".tool" / "deployed" / "memory-dev.json").read_text())
    assert [r["name"] for r in recorded["resources"]] == [
        "hello-loop-dev-us-east-1-lambdaRole",
        "/aws/lambda/hello-loop-dev-hello",
    ]
    memory.fail_on = None
    memory.calls.clear()
    plan = deploy(service_dir, target)
    assert memory.calls == [line.replace("create    ", "create ") for line in FIRST_DEPLOY[2:]]
    assert lines(plan)[:2] == [line.replace("create   ", "unchanged") for line in FIRST_DEPLOY[:2]]


def test_a_version_1_record_is_read_and_swept_dependents_first(service_dir: Path):
    memory = Memory()
    target = memory_target(memory)
    deploy(service_dir, target)
    path = service_dir / ".tool" / "deployed" / "memory-dev.json"
    arn = "arn:aws:states:us-east-1:000000000000:stateMachine:hello-loop-dev-loop"
    path.write_text(
        json.dumps(
            {
                "schemaVersion": 1,
                "service": "hello-loop",
                "stage": "dev",
                "region": "us-east-1",
                "roles": [
                    "hello-loop-dev-us-east-1-lambdaRole",
                    "hello-loop-dev-us-east-1-loop-sfnRole",
                ],
                "logGroups": ["/aws/lambda/hello-loop-dev-hello"],
                "functions": ["hello-loop-dev-hello"],
                "stateMachines": [arn],
                "queues": ["hello-loop-dev-loop-trigger-dlq", "hello-loop-dev-loop-trigger"],
            }
        )
    )
    rename_machine(service_dir)
    plan = deploy(service_dir, target)
    assert [line for line in lines(plan) if line.startswith("delete")] == [
        "delete    queue hello-loop-dev-loop-trigger (no longer in serverless.yml)",
        "delete    queue hello-loop-dev-loop-trigger-dlq (no longer in serverless.yml)",
        "delete    state machine hello-loop-dev-loop (no longer in serverless.yml)",
        "delete    role hello-loop-dev-us-east-1-loop-sfnRole (no longer in serverless.yml)",
    ]
    assert json.loads(path.read_text())["schemaVersion"] == 2


def test_a_second_region_of_the_same_stage_has_its_own_record(service_dir: Path):
    # Deploying dev to eu-west-1 after us-east-1 must not plan deleting us-east-1's resources.
    target = memory_target(Memory())
    deploy(service_dir, target)  # us-east-1, recorded in memory-dev.json
    east, west = load(service_dir), load(service_dir, region="eu-west-1")
    assert record_of(east).path.name == "memory-dev.json"
    assert record_of(west).path.name == "memory-dev-eu-west-1.json"
    plan = deploy(service_dir, target, region="eu-west-1")
    assert [line for line in lines(plan) if line.startswith("delete")] == []
    assert record_of(west).path.name == "memory-dev-eu-west-1.json"
    assert record_of(east).path.name == "memory-dev.json"


MACHINE_ROLE = "hello-loop-dev-us-east-1-loop-sfnRole"
OWN_ROLE = "arn:aws:iam::000000000000:role/my-machine-role"


def give_machine(service_dir: Path, line: str) -> None:
    """Add `line` (a key of the `loop` state machine) to serverless.yml."""
    config = service_dir / "serverless.yml"
    text = config.read_text()
    anchor = "      definition: ${file(statemachine.asl.json)}\n"
    assert anchor in text
    config.write_text(text.replace(anchor, anchor + line))


def test_a_machine_with_its_own_role_gets_no_generated_role(service_dir: Path):
    memory = Memory()
    target = memory_target(memory)
    deploy(service_dir, target)
    give_machine(service_dir, f"      role: {OWN_ROLE}\n")
    memory.calls.clear()
    deploy(service_dir, target)
    assert memory.calls == [
        "update state machine hello-loop-dev-loop role_arn,needs",
        f"delete role {MACHINE_ROLE}",  # the generated role it used before
    ]


def test_type_change_is_refused_before_any_change(service_dir: Path):
    target = local_target(load(service_dir))
    deploy(service_dir, target)
    config = service_dir / "serverless.yml"
    config.write_text(config.read_text().replace("type: STANDARD", "type: EXPRESS"))
    before = (service_dir / ".tool" / "deployed" / "local-dev.json").read_text()
    with pytest.raises(BadInput, match="cannot change in place"):
        deploy(service_dir, target)
    assert (service_dir / ".tool" / "deployed" / "local-dev.json").read_text() == before


def test_role_warnings_reach_the_plan_with_the_machine_name(service_dir: Path):
    # The local target refuses this definition (its engine cannot run aws-sdk integrations),
    # so it is planned against a target that runs anything, with a package built by hand.
    (service_dir / "statemachine.asl.json").write_text(
        json.dumps(
            {
                "StartAt": "Read",
                "States": {
                    "Read": {
                        "Type": "Task",
                        "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
                        "Parameters": {"Bucket": "b", "Key": "k"},
                        "End": True,
                    }
                },
            }
        )
    )
    service = load(service_dir)
    prepared = Prepared(service, build_package(service, service_dir / ".tool" / "build"))
    plan = plan_deploy(prepared, memory_target(Memory()), record_of(service))
    assert [w for w in plan.warnings if "s3" in w] == [
        "state machine hello-loop-dev-loop: state 'Read' calls "
        "arn:aws:states:::aws-sdk:s3:getObject; the generated role allows none of it, so on AWS "
        "the call fails with AccessDenied: allow s3:GetObject and whatever else it needs under "
        "stepFunctions.stateMachines.loop.iamRoleStatements"
    ]
