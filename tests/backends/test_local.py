import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tooling.backends.local import LocalBackend
from tooling.errors import AlreadyExists, InputError, NotFound
from tooling.localrt.store import ExecutionRecord

MACHINE = '{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}'


@pytest.fixture
def backend(tmp_path: Path) -> LocalBackend:
    return LocalBackend(tmp_path, "us-east-1")


def _running(backend: LocalBackend, machine_arn: str, name: str, input: str, pid: int) -> str:
    arn = f"{machine_arn.replace(':stateMachine:', ':execution:')}:{name}"
    backend.store.insert_execution(
        ExecutionRecord(
            arn=arn,
            name=name,
            state_machine_arn=machine_arn,
            definition=MACHINE,
            status="RUNNING",
            input=input,
            output=None,
            error=None,
            cause=None,
            start_date=datetime.now(UTC),
            stop_date=None,
            worker_pid=pid,
        )
    )
    return arn


def test_same_name_and_input_while_running_is_idempotent(backend: LocalBackend):
    machine = backend.create_state_machine("m", MACHINE, "arn:aws:iam::0:role/r", "STANDARD")[
        "stateMachineArn"
    ]
    arn = _running(backend, machine, "run-1", '{"a": 1}', os.getpid())
    again = backend.start_execution(machine, "run-1", '{"a": 1}')
    assert again["executionArn"] == arn
    with pytest.raises(AlreadyExists, match="Execution Already Exists"):
        backend.start_execution(machine, "run-1", '{"a": 2}')


def test_dead_worker_fails_the_execution_instead_of_hanging(backend: LocalBackend):
    machine = backend.create_state_machine("m", MACHINE, "arn:aws:iam::0:role/r", "STANDARD")[
        "stateMachineArn"
    ]
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    arn = _running(backend, machine, "run-2", "{}", finished.pid)
    description = backend.describe_execution(arn)
    assert description["status"] == "FAILED"
    assert description["error"] == "Local.WorkerDied"
    assert "workers/run-2.log" in description["cause"]


def test_start_checks_machine_name_and_input_size(backend: LocalBackend):
    with pytest.raises(NotFound, match="tool deploy"):
        backend.start_execution(
            "arn:aws:states:us-east-1:000000000000:stateMachine:nope", "x", "{}"
        )
    machine = backend.create_state_machine("m", MACHINE, "arn:aws:iam::0:role/r", "STANDARD")[
        "stateMachineArn"
    ]
    with pytest.raises(InputError, match="80"):
        backend.start_execution(machine, "x" * 81, "{}")
    with pytest.raises(InputError, match="262144"):
        backend.start_execution(machine, "big", '"' + "x" * 262_144 + '"')


def test_history_pages_carry_a_next_token(backend: LocalBackend):
    machine = backend.create_state_machine("m", MACHINE, "arn:aws:iam::0:role/r", "STANDARD")[
        "stateMachineArn"
    ]
    arn = _running(backend, machine, "run-3", "{}", os.getpid())
    for i in range(1, 6):
        backend.store.append_event(
            arn, {"id": i, "previousEventId": i - 1, "type": "T", "timestamp": datetime.now(UTC)}
        )
    first = backend.get_execution_history(arn, max_results=2)
    assert [e["id"] for e in first["events"]] == [1, 2]
    second = backend.get_execution_history(arn, next_token=first["nextToken"], max_results=2)
    assert [e["id"] for e in second["events"]] == [3, 4]
    assert [e["id"] for e in backend.history_since(arn, 2)] == [3, 4, 5]


def test_resolve_execution_by_name_or_arn(backend: LocalBackend):
    machine = backend.create_state_machine("m", MACHINE, "arn:aws:iam::0:role/r", "STANDARD")[
        "stateMachineArn"
    ]
    arn = _running(backend, machine, "run-4", "{}", os.getpid())
    assert backend.resolve_execution("run-4") == arn
    assert backend.resolve_execution(arn) == arn
    with pytest.raises(NotFound):
        backend.resolve_execution("other")
