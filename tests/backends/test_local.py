import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tooling.backends.local import LocalBackend
from tooling.config.service import load_service
from tooling.deploy.local_providers import local_target
from tooling.deploy.models import Address
from tooling.errors import AlreadyExists, InputError, NotFound
from tooling.localrt.process_tree import process_alive, process_start
from tooling.localrt.store import ExecutionRecord, StateMachineRecord

pytestmark = pytest.mark.slow  # end-to-end: `make test` runs it, `make test-fast` does not

ROOT = Path(__file__).resolve().parents[2]
MACHINE = '{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}'


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


@pytest.fixture
def backend(tmp_path: Path) -> LocalBackend:
    return LocalBackend(tmp_path, "us-east-1")


def _running(backend: LocalBackend, machine_arn: str, name: str, input: str, pid: int) -> str:
    """A RUNNING execution owned by process `pid` (its lease good for an hour)."""
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
            owner=f"owner-of-{name}",
            lease_until=time.time() + 3600,
            worker_started=process_start(pid) if process_alive(pid) else 1,
        )
    )
    return arn


def _wait_until_ended(backend: LocalBackend, arn: str) -> dict:
    deadline = time.monotonic() + 60
    while (description := backend.describe_execution(arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "the execution did not end"
        time.sleep(0.05)
    return description


def test_same_name_and_input_while_running_is_idempotent(backend: LocalBackend):
    machine = put_machine(backend, "m", MACHINE)
    arn = _running(backend, machine, "run-1", '{"a": 1}', os.getpid())
    again = backend.start_execution(machine, "run-1", '{"a": 1}')
    assert again["executionArn"] == arn
    with pytest.raises(AlreadyExists, match="Execution Already Exists"):
        backend.start_execution(machine, "run-1", '{"a": 2}')


def test_an_execution_whose_worker_died_is_resumed_instead_of_hanging(backend: LocalBackend):
    machine = put_machine(backend, "m", MACHINE)
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    arn = _running(backend, machine, "run-2", "{}", finished.pid)
    # Reading it is enough: a new worker takes it over and runs it to its end (a worker forked
    # by the resident runtime may have ended this one-state run before the answer is read).
    assert backend.describe_execution(arn)["status"] in ("RUNNING", "SUCCEEDED")
    record = backend.store.get_execution(arn)
    assert record is not None and record.owner != "owner-of-run-2" and record.resumes == 1
    assert _wait_until_ended(backend, arn)["status"] == "SUCCEEDED"


def test_a_dead_run_written_by_an_older_version_fails_with_its_event(backend: LocalBackend):
    machine = put_machine(backend, "m", MACHINE)
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    arn = _running(backend, machine, "old", "{}", finished.pid)
    started = {"id": 1, "previousEventId": 0, "type": "ExecutionStarted"}
    backend.store.append_event(arn, {**started, "timestamp": datetime.now(UTC)})  # no position
    description = _wait_until_ended(backend, arn)
    assert (description["status"], description["error"]) == ("FAILED", "Local.WorkerDied")
    assert [e["type"] for e in backend.history_since(arn, 0)] == [
        "ExecutionStarted",
        "ExecutionFailed",
    ]


def test_start_checks_machine_name_and_input_size(backend: LocalBackend):
    with pytest.raises(NotFound, match="tool deploy"):
        backend.start_execution(
            "arn:aws:states:us-east-1:000000000000:stateMachine:nope", "x", "{}"
        )
    machine = put_machine(backend, "m", MACHINE)
    with pytest.raises(InputError, match="80"):
        backend.start_execution(machine, "x" * 81, "{}")
    with pytest.raises(InputError, match="262144"):
        backend.start_execution(machine, "big", '"' + "x" * 262_144 + '"')


def test_history_pages_carry_a_next_token(backend: LocalBackend):
    machine = put_machine(backend, "m", MACHINE)
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
    machine = put_machine(backend, "m", MACHINE)
    arn = _running(backend, machine, "run-4", "{}", os.getpid())
    assert backend.resolve_execution("run-4") == arn
    assert backend.resolve_execution(arn) == arn
    with pytest.raises(NotFound):
        backend.resolve_execution("other")


# The seed's expected answer (/work/shared/seed): the same in every region.
SEED_OUTPUT = {
    "key1": "value1",
    "key2": "value2",
    "key3": "value3",
    "taskresult": {"value1": "value1", "value2": "value2", "count": 5},
}
FUNCTION = "hello-loop-dev-hello"
STATE_MACHINE = "hello-loop-dev-loop"


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    from tooling.cli import main

    code = main(list(args))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


def _invoke(capsys: pytest.CaptureFixture[str], region: str) -> dict:
    return json.loads(_cli(capsys, "invoke", "--input", "in.json", "--region", region, "--json"))


def test_one_stage_in_two_regions_is_two_functions_and_two_state_machines(service: Path, capsys):
    _cli(capsys, "deploy", "--region", "us-east-1")
    _cli(capsys, "deploy", "--region", "eu-west-1")
    store = LocalBackend(service, "us-east-1").store
    assert sorted(f.arn for f in store.list_functions()) == [
        f"arn:aws:lambda:eu-west-1:000000000000:function:{FUNCTION}",
        f"arn:aws:lambda:us-east-1:000000000000:function:{FUNCTION}",
    ]
    assert sorted(m.arn for m in store.list_state_machines()) == [
        f"arn:aws:states:eu-west-1:000000000000:stateMachine:{STATE_MACHINE}",
        f"arn:aws:states:us-east-1:000000000000:stateMachine:{STATE_MACHINE}",
    ]
    for region in ("us-east-1", "eu-west-1"):
        result = _invoke(capsys, region)
        assert (result["status"], result["output"]) == ("SUCCEEDED", SEED_OUTPUT)
        assert result["executionArn"].split(":")[3] == region
        backend = LocalBackend(service, region)
        listed = json.loads(_cli(capsys, "info", "--region", region, "--json"))["resources"]
        machines = [r["arn"] for r in listed if r["kind"] == "state machine"]
        assert [arn.split(":")[3] for arn in machines] == [region]
        assert [e["executionArn"] for e in backend.list_executions()] == [result["executionArn"]]
        # The function's log lines are this region's run's, not the other region's too.
        run_lines, _ = backend.execution_logs(result["executionArn"])
        function_lines, _ = backend.function_logs(FUNCTION)
        assert run_lines and len(function_lines) == len(run_lines)


def test_remove_in_one_region_leaves_the_other_deployed_and_running(service: Path, capsys):
    _cli(capsys, "deploy", "--region", "us-east-1")
    _cli(capsys, "deploy", "--region", "eu-west-1")
    _cli(capsys, "remove", "--region", "eu-west-1")
    east, west = LocalBackend(service, "us-east-1"), LocalBackend(service, "eu-west-1")
    assert west.find_function(FUNCTION) is None
    kept = east.find_function(FUNCTION)
    assert kept is not None and kept["FunctionArn"].split(":")[3] == "us-east-1"
    group = Address("log group", f"/aws/lambda/{FUNCTION}")
    for region, exists in (("eu-west-1", False), ("us-east-1", True)):
        target = local_target(load_service(service, env={}, region=region))
        assert (target.provider("log group").find(group) is not None) is exists
    assert _invoke(capsys, "us-east-1")["output"] == SEED_OUTPUT
    from tooling.cli import main

    assert main(["invoke", "--input", "in.json", "--region", "eu-west-1"]) == 2
    assert "eu-west-1" in capsys.readouterr().err


def test_a_log_group_recorded_by_name_alone_is_found_in_its_region(tmp_path: Path):
    state = tmp_path / ".tool"
    state.mkdir()
    group = {"logGroupName": "/aws/lambda/f", "arn": "arn:aws:logs:us-east-1:0:log-group:g:*"}
    (state / "local-resources.json").write_text(
        json.dumps({"roles": {}, "logGroups": {"/aws/lambda/f": group}})
    )
    for name in ("serverless.yml", "handler.py", "statemachine.asl.json"):
        (tmp_path / name).write_bytes((ROOT / name).read_bytes())

    def log_groups(region: str) -> Any:
        service = load_service(tmp_path, env={}, region=region)
        return local_target(service).provider("log group")

    address = Address("log group", "/aws/lambda/f")
    assert log_groups("eu-west-1").find(address) is None
    assert log_groups("us-east-1").find(address) == group
    log_groups("us-east-1").delete(address)
    assert log_groups("us-east-1").find(address) is None
