"""Plan, then apply: against a recording in-memory target."""

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tooling.config.service import load_service
from tooling.deploy import Prepared, Recorder, apply_plan, plan_deploy, prepare, recorder_for
from tooling.errors import BadInput
from tooling.package import build_package

ROOT = Path(__file__).resolve().parents[1]


class MemoryTarget:
    """Keeps functions and state machines in dicts and records every changing call."""

    target = "memory"
    region = "us-east-1"
    account_id = "000000000000"

    def __init__(self) -> None:
        self.functions: dict[str, dict[str, Any]] = {}
        self.machines: dict[str, dict[str, Any]] = {}
        self.roles: dict[str, dict[str, Any]] = {}
        self.log_groups: dict[str, dict[str, Any]] = {}
        self.calls: list[str] = []

    def owns(self, kind: str, name: str) -> bool:
        return True

    def find_role(self, name: str) -> dict[str, Any] | None:
        return self.roles.get(name)

    def create_role(self, spec: Any) -> None:
        self.calls.append(f"create_role {spec.name}")
        self._put_role(spec)

    def update_role(self, spec: Any, current: dict[str, Any]) -> None:
        self.calls.append(f"update_role {spec.name}")
        self._put_role(spec)

    def _put_role(self, spec: Any) -> None:
        self.roles[spec.name] = {
            "AssumeRolePolicyDocument": spec.trust_policy,
            "InlinePolicies": spec.inline_policies,
            "ManagedPolicies": list(spec.managed_policies),
        }

    def delete_role(self, name: str) -> None:
        self.calls.append(f"delete_role {name}")
        del self.roles[name]

    def find_log_group(self, name: str) -> dict[str, Any] | None:
        return self.log_groups.get(name)

    def create_log_group(self, name: str, retention_days: int | None) -> None:
        self.calls.append(f"create_log_group {name}")
        self.log_groups[name] = {"logGroupName": name, "retentionInDays": retention_days}

    def set_log_retention(self, name: str, retention_days: int | None) -> None:
        self.calls.append(f"set_log_retention {name}")
        self.log_groups[name]["retentionInDays"] = retention_days

    def delete_log_group(self, name: str) -> None:
        self.calls.append(f"delete_log_group {name}")
        del self.log_groups[name]

    def find_function(self, name: str) -> dict[str, Any] | None:
        return self.functions.get(name)

    def create_function(self, name: str, config: dict[str, Any], package: Any) -> None:
        self.calls.append(f"create_function {name}")
        self.functions[name] = {**config, "CodeSha256": package.sha256}

    def update_function_code(self, name: str, package: Any) -> None:
        self.calls.append(f"update_function_code {name}")
        self.functions[name]["CodeSha256"] = package.sha256

    def update_function_configuration(self, name: str, config: dict[str, Any]) -> None:
        self.calls.append(f"update_function_configuration {name}")
        self.functions[name].update(config)

    def delete_function(self, name: str) -> None:
        self.calls.append(f"delete_function {name}")
        del self.functions[name]

    def find_state_machine(self, arn: str) -> dict[str, Any] | None:
        return self.machines.get(arn)

    def create_state_machine(
        self, name: str, definition: str, role_arn: str, type: str
    ) -> dict[str, Any]:
        arn = f"arn:aws:states:us-east-1:000000000000:stateMachine:{name}"
        self.calls.append(f"create_state_machine {name}")
        self.machines[arn] = {"definition": definition, "roleArn": role_arn, "type": type}
        return {"stateMachineArn": arn}

    def update_state_machine(self, arn: str, definition: str, role_arn: str) -> None:
        self.calls.append(f"update_state_machine {arn.rsplit(':', 1)[1]}")
        self.machines[arn].update(definition=definition, roleArn=role_arn)

    def delete_state_machine(self, arn: str) -> None:
        self.calls.append(f"delete_state_machine {arn.rsplit(':', 1)[1]}")
        del self.machines[arn]


@pytest.fixture
def service_dir(tmp_path: Path) -> Path:
    for name in ("serverless.yml", "handler.py", "statemachine.asl.json"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def deploy(service_dir: Path, target: MemoryTarget, *, dry_run: bool = False) -> list[str]:
    service = load_service(service_dir, env={})
    prepared = prepare(service, service_dir / ".tool" / "build")
    recorder = Recorder(service_dir / ".tool" / "deployed" / "memory-dev.json", service)
    plan = plan_deploy(prepared, target, recorder)  # type: ignore[arg-type]
    if not dry_run:
        apply_plan(plan)
    return [change.describe() for change in plan.changes]


def test_first_deploy_creates_everything_and_records_it(service_dir: Path):
    target = MemoryTarget()
    changes = deploy(service_dir, target)
    assert changes == [
        "create    role hello-loop-dev-us-east-1-lambdaRole",
        "create    log group /aws/lambda/hello-loop-dev-hello",
        "create    function hello-loop-dev-hello",
        "create    role hello-loop-dev-us-east-1-loop-sfnRole",
        "create    state machine hello-loop-dev-loop",
    ]
    recorded = json.loads((service_dir / ".tool" / "deployed" / "memory-dev.json").read_text())
    assert recorded["functions"] == ["hello-loop-dev-hello"]
    assert recorded["stateMachines"] == [
        "arn:aws:states:us-east-1:000000000000:stateMachine:hello-loop-dev-loop"
    ]
    definition = json.loads(next(iter(target.machines.values()))["definition"])
    assert definition["States"]["LambdaFunction"]["Resource"] == (
        "arn:aws:lambda:us-east-1:000000000000:function:hello-loop-dev-hello"
    )


def test_redeploy_of_unchanged_service_makes_no_changing_call(service_dir: Path):
    target = MemoryTarget()
    deploy(service_dir, target)
    target.calls.clear()
    changes = deploy(service_dir, target)
    assert target.calls == []
    assert all(change.startswith("unchanged") for change in changes)


def test_dry_run_changes_nothing_and_writes_no_record(service_dir: Path):
    target = MemoryTarget()
    changes = deploy(service_dir, target, dry_run=True)
    assert changes[0].startswith("create")
    assert target.calls == []
    assert not (service_dir / ".tool" / "deployed" / "memory-dev.json").exists()


def test_configuration_change_updates_configuration_only(service_dir: Path):
    target = MemoryTarget()
    deploy(service_dir, target)
    target.calls.clear()
    config = service_dir / "serverless.yml"
    config.write_text(config.read_text().replace("timeout: 10", "timeout: 20"))
    changes = deploy(service_dir, target)
    assert target.calls == ["update_function_configuration hello-loop-dev-hello"]
    assert "configuration changed: Timeout" in changes[2]


def test_definition_change_updates_the_state_machine_only(service_dir: Path):
    target = MemoryTarget()
    deploy(service_dir, target)
    target.calls.clear()
    asl = service_dir / "statemachine.asl.json"
    asl.write_text(asl.read_text().replace('"Invalid response."', '"Bad response."'))
    deploy(service_dir, target)
    assert target.calls == ["update_state_machine hello-loop-dev-loop"]


def test_removed_state_machine_is_deleted_by_the_next_deploy(service_dir: Path):
    target = MemoryTarget()
    deploy(service_dir, target)
    config = service_dir / "serverless.yml"
    config.write_text(
        config.read_text()
        .replace("    loop:", "    looped:")
        .replace("${sls:stage}-loop", "${sls:stage}-looped")
    )
    target.calls.clear()
    deploy(service_dir, target)
    assert target.calls == [
        "create_role hello-loop-dev-us-east-1-looped-sfnRole",
        "create_state_machine hello-loop-dev-looped",
        "delete_state_machine hello-loop-dev-loop",
        "delete_role hello-loop-dev-us-east-1-loop-sfnRole",
    ]


def test_invalid_definition_stops_before_any_call(service_dir: Path):
    target = MemoryTarget()
    asl = service_dir / "statemachine.asl.json"
    asl.write_text(asl.read_text().replace('"Default": "FailState"', '"Default": "FailStat"'))
    with pytest.raises(BadInput) as caught:
        deploy(service_dir, target)
    assert caught.value.file and caught.value.file.endswith("statemachine.asl.json")
    assert caught.value.line is not None
    assert target.calls == []


def test_type_change_is_refused_before_any_call(service_dir: Path):
    target = MemoryTarget()
    deploy(service_dir, target)
    config = service_dir / "serverless.yml"
    config.write_text(config.read_text().replace("type: STANDARD", "type: EXPRESS"))
    target.calls.clear()
    with pytest.raises(BadInput, match="cannot change in place"):
        deploy(service_dir, target)
    assert target.calls == []


def test_a_second_region_of_the_same_stage_has_its_own_record(service_dir: Path):
    # Deploying dev to eu-west-1 after us-east-1 must not plan deleting us-east-1's resources.
    target = MemoryTarget()
    deploy(service_dir, target)  # us-east-1, recorded in memory-dev.json
    east = load_service(service_dir, env={})
    west = load_service(service_dir, env={}, region="eu-west-1")
    assert recorder_for(east, target).path.name == "memory-dev.json"  # type: ignore[arg-type]
    west_record = recorder_for(west, target)  # type: ignore[arg-type]
    assert west_record.path.name == "memory-dev-eu-west-1.json"
    plan = plan_deploy(prepare(west, service_dir / ".tool" / "build"), target, west_record)  # type: ignore[arg-type]
    assert [c.describe() for c in plan.changes if c.action == "delete"] == []
    assert "create    state machine hello-loop-dev-loop" in [c.describe() for c in plan.changes]
    apply_plan(plan)
    # Each region keeps finding its own record afterwards.
    assert recorder_for(west, target).path.name == "memory-dev-eu-west-1.json"  # type: ignore[arg-type]
    assert recorder_for(east, target).path.name == "memory-dev.json"  # type: ignore[arg-type]


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
    target = MemoryTarget()
    deploy(service_dir, target)
    assert MACHINE_ROLE in target.roles
    give_machine(service_dir, f"      role: {OWN_ROLE}\n")
    target.calls.clear()
    changes = deploy(service_dir, target)
    assert "update    state machine hello-loop-dev-loop (role changed)" in changes
    assert target.calls == [
        "update_state_machine hello-loop-dev-loop",
        f"delete_role {MACHINE_ROLE}",  # the generated role it used before
    ]
    (machine,) = target.machines.values()
    assert machine["roleArn"] == OWN_ROLE
    assert MACHINE_ROLE not in target.roles


def test_role_warnings_reach_the_plan_with_the_machine_name(service_dir: Path):
    # `prepare` parses definitions with the local engine, which refuses non-Lambda resources
    # it cannot run; the plan itself is target-agnostic, so this test prepares by hand.
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
    service = load_service(service_dir, env={})
    package = build_package(service, service_dir / ".tool" / "build")
    definitions = {key: json.dumps(m.definition) for key, m in service.state_machines.items()}
    prepared = Prepared(service, package, definitions)
    recorder = Recorder(service_dir / ".tool" / "deployed" / "memory-dev.json", service)
    plan = plan_deploy(prepared, MemoryTarget(), recorder)  # type: ignore[arg-type]
    assert [w for w in plan.warnings if "s3" in w] == [
        "state machine hello-loop-dev-loop: state 'Read' calls "
        "arn:aws:states:::aws-sdk:s3:getObject; the generated role allows none of it, so on AWS "
        "the call fails with AccessDenied: allow s3:GetObject and whatever else it needs under "
        "stepFunctions.stateMachines.loop.iamRoleStatements"
    ]
