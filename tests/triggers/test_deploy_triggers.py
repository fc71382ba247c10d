from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tooling.config.service import ServiceConfig, load_service
from tooling.deploy.desired import prepare
from tooling.deploy.executor import ApplyingExecutor
from tooling.deploy.local_providers import local_target
from tooling.deploy.plan import (
    Deployed,
    describe_deployment,
    plan_deploy,
    plan_remove,
)
from tooling.deploy.record import Record, record_for
from tooling.localrt.queue import LocalQueues
from tooling.triggers.trigger_function import trigger_function_name, trigger_role

ROOT = Path(__file__).resolve().parents[2]
QUEUE = "hello-loop-dev-loop-trigger"
QUEUE_KEY = f"arn:aws:sqs:us-east-1:000000000000:{QUEUE}"  # local queues are kept by ARN


@pytest.fixture
def service_dir(tmp_path: Path) -> Path:
    for name in ("serverless.yml", "handler.py", "statemachine.asl.json"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def record(service: ServiceConfig) -> Record:
    return record_for(service, "local", service.account_id)


def deploy(directory: Path) -> list[str]:
    service = load_service(directory, env={})
    target = local_target(service)
    plan = plan_deploy(prepare(service, directory / ".tool" / "build"), target, record(service))
    ApplyingExecutor(target, record(service)).run(plan)
    return [c.describe() for c in plan.changes if c.kind == "queue"]


def describe(service: ServiceConfig) -> list[Deployed]:
    found, _ = describe_deployment(service, local_target(service), record(service))
    return found


def test_local_deploy_creates_updates_and_deletes_the_queues(service_dir: Path) -> None:
    assert deploy(service_dir) == [f"create    queue {QUEUE}-dlq", f"create    queue {QUEUE}"]
    queues = LocalQueues(service_dir / ".tool" / "local.db")
    info = queues.get_queue(QUEUE_KEY)
    assert info is not None
    assert (info.dead_letter_queue, info.max_receive_count, info.visibility_timeout) == (
        f"{QUEUE_KEY}-dlq",
        5,
        60,
    )
    assert deploy(service_dir) == [f"unchanged queue {QUEUE}-dlq", f"unchanged queue {QUEUE}"]

    config = service_dir / "serverless.yml"
    config.write_text(config.read_text().replace("maxReceiveCount: 5", "maxReceiveCount: 2"))
    assert deploy(service_dir)[1] == f"update    queue {QUEUE} (RedrivePolicy changed)"
    queue = queues.get_queue(QUEUE_KEY)
    assert queue is not None and queue.max_receive_count == 2

    config.write_text(config.read_text().split("      # Each message")[0])
    assert sorted(deploy(service_dir)) == [
        f"delete    queue {QUEUE} (no longer in serverless.yml)",
        f"delete    queue {QUEUE}-dlq (no longer in serverless.yml)",
    ]
    assert queues.list_queues() == []


def test_remove_deletes_the_local_queues(service_dir: Path) -> None:
    deploy(service_dir)
    service = load_service(service_dir, env={})
    target = local_target(service)
    plan = plan_remove(service, target, record(service))
    assert [c.describe() for c in plan.changes][:2] == [
        f"delete    queue {QUEUE} (tool remove)",
        f"delete    queue {QUEUE}-dlq (tool remove)",
    ]
    ApplyingExecutor(target, record(service)).run(plan)
    assert LocalQueues(service_dir / ".tool" / "local.db").list_queues() == []


def test_trigger_names_fit_aws_limits(service_dir: Path) -> None:
    config = service_dir / "serverless.yml"
    config.write_text(config.read_text().replace("service: hello-loop", "service: " + "s" * 50))
    service = load_service(service_dir, env={})
    machine = service.state_machines["loop"]
    name = trigger_function_name(service, machine)
    assert len(name) == 64 and name.startswith("s" * 40)
    assert len(trigger_role(service, machine).name) <= 64


def test_info_lists_the_local_trigger_queues_that_deploy_created(service_dir: Path) -> None:
    service = load_service(service_dir, env={})
    assert [d for d in describe(service) if d.kind == "queue"] == []

    deploy(service_dir)
    queues = [d for d in describe(service) if d.kind == "queue"]
    assert [(d.name, d.arn, d.details) for d in queues] == [
        (
            f"{QUEUE}-dlq",
            f"arn:aws:sqs:us-east-1:{service.account_id}:{QUEUE}-dlq",
            "visibility 60 s, dead-letter queue",
        ),
        (
            QUEUE,
            f"arn:aws:sqs:us-east-1:{service.account_id}:{QUEUE}",
            "visibility 60 s, dead letters after 5 receives",
        ),
    ]

    target = local_target(service)
    ApplyingExecutor(target, record(service)).run(plan_remove(service, target, record(service)))
    assert describe(service) == []
