from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tooling.backends.local import LocalBackend
from tooling.localrt.store import StateMachineRecord
from tooling.triggers.start_from_messages import Outcome, QueueMessage, start_from_messages
from tooling.triggers.starters import BackendStarter

DEFINITION = '{"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": true}}}'
ID = "3f0a8a4e-5555-4a5a-9a9a-000000000001"


ROLE = "arn:aws:iam::0:role/r"


def put_machine(backend: LocalBackend, name: str, definition: str) -> str:
    """A state machine in the local store, as `tool deploy` leaves it; its ARN."""
    arn = f"arn:aws:states:{backend.region}:{backend.account_id}:stateMachine:{name}"
    now = datetime.now(UTC)
    backend.store.put_state_machine(
        StateMachineRecord(
            name, arn, definition, "STANDARD", "arn:aws:iam::0:role/r", "1", now, None
        )
    )
    return arn


class NoRunLocalBackend(LocalBackend):
    """Starts are recorded; no worker process runs them (the test closes them itself)."""

    def __init__(self, service_dir: Path, region: str) -> None:
        super().__init__(service_dir, region)
        self.resident = None  # no resident runtime to fork workers either

    def _spawn_worker(self, arn: str, name: str, owner: str, reservation: object = None) -> None:
        pass


def test_local_backend_redeliveries_never_start_a_second_run(tmp_path: Path) -> None:
    backend = NoRunLocalBackend(tmp_path, "us-east-1")
    machine = put_machine(backend, "m", DEFINITION)
    starter = BackendStarter(backend)

    def deliver(body: str) -> Outcome:
        result = start_from_messages(
            starter, machine, [QueueMessage(ID, body)], sleep=lambda _: None
        )
        return result.results[0].outcome

    assert deliver('{"a": 1}') is Outcome.STARTED
    # Idempotent while RUNNING: the local target says so, and it is not counted as a start.
    assert deliver('{"a": 1}') is Outcome.ALREADY_STARTED
    arn = backend.list_executions()[0]["executionArn"]
    backend.store.finish_execution(
        arn, status="SUCCEEDED", output="{}", error=None, cause=None, stop_date=datetime.now(UTC)
    )
    assert deliver('{"a": 1}') is Outcome.ALREADY_STARTED  # AlreadyExists -> describe -> same
    assert deliver('{"a": 2}') is Outcome.REJECTED
    assert len(backend.list_executions()) == 1


def test_a_missing_state_machine_fails_the_message_for_later(tmp_path: Path) -> None:
    backend = NoRunLocalBackend(tmp_path, "us-east-1")
    missing = "arn:aws:states:us-east-1:000000000000:stateMachine:nope"
    result = start_from_messages(BackendStarter(backend), missing, [QueueMessage(ID, "{}")])
    (item,) = result.results
    assert item.outcome is Outcome.FAILED
    assert item.reason is not None and "StateMachineDoesNotExist" in item.reason
