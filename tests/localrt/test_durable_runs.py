"""Durable local runs (issue 12): whatever process is killed, every execution ends, no message is
lost, no handler process outlives its invocation.

Each test is one scenario of the issue, run with real processes (execution workers, handler
sandboxes, `tool worker`). They wait for things to happen with a generous bound and never assert
on how long anything took; leases are expired with an injected clock.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tooling import session
from tooling.backends.local import LocalBackend
from tooling.cli import main
from tooling.errors import ToolError
from tooling.localrt.queue import LocalQueues
from tooling.triggers.poller import run_workers
from tooling.triggers.queues import LocalTriggerQueue
from tooling.triggers.starters import BackendStarter

pytestmark = pytest.mark.slow  # end-to-end: `make test` runs it, `make test-fast` does not

REGION = "us-east-1"
MACHINE_ARN = f"arn:aws:states:{REGION}:000000000000:stateMachine:durable-dev-flow"
HOUR = 3600.0

CONFIG = """\
service: durable
provider:
  name: aws
  runtime: python3.12
  region: us-east-1
  memorySize: 128
  timeout: 60
package:
  patterns:
    - '!**'
    - handler.py
functions:
  work:
    handler: handler.work
  chatty:
    handler: handler.chatty
  spawner:
    handler: handler.spawner
stepFunctions:
  stateMachines:
    flow:
      name: durable-dev-flow
      definition: ${file(flow.asl.json)}
      events:
        - sqs:
            queue: durable-dev-flow-trigger
            maxReceiveCount: 2
    chatty:
      name: durable-dev-chatty
      definition: ${file(chatty.asl.json)}
    spawner:
      name: durable-dev-spawner
      definition: ${file(spawner.asl.json)}
"""

HANDLERS = """\
import os
import subprocess
import sys
import time


def work(event, context):
    return {"n": event.get("n", 0) + 1}


def chatty(event, context):
    for index in range(event["lines"]):
        print(f"line {index}")
    return {"printed": event["lines"]}


def spawner(event, context):
    # A grandchild in a session of its own (setsid before it runs), as daemons do.
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True
    )
    with open(event["pid_file"], "w") as out:
        out.write(f"{os.getpid()} {child.pid}")
    time.sleep(event.get("sleep", 0))
    return {"spawned": True}
"""


def _task(function: str, fields: dict[str, Any]) -> dict[str, Any]:
    return {"Type": "Task", "Resource": {"Fn::GetAtt": [function, "Arn"]}, **fields}


FLOW = {
    "StartAt": "First",
    "States": {
        "First": _task("work", {"InputPath": "$.start", "ResultPath": "$.first", "Next": "Pause"}),
        "Pause": {"Type": "Wait", "SecondsPath": "$.wait", "Next": "Second"},
        "Second": _task("work", {"InputPath": "$.first", "ResultPath": "$.second", "End": True}),
    },
}
CHATTY = {"StartAt": "Talk", "States": {"Talk": _task("chatty", {"End": True})}}
SPAWNER = {"StartAt": "Spawn", "States": {"Spawn": _task("spawner", {"End": True})}}


@pytest.fixture
def durable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "durable"
    folder.mkdir()
    (folder / "serverless.yml").write_text(CONFIG)
    (folder / "handler.py").write_text(HANDLERS)
    (folder / "flow.asl.json").write_text(json.dumps(FLOW))
    (folder / "chatty.asl.json").write_text(json.dumps(CHATTY))
    (folder / "spawner.asl.json").write_text(json.dumps(SPAWNER))
    monkeypatch.chdir(folder)
    assert main(["deploy"]) == 0
    yield folder
    _stop_everything(folder)


def _stop_everything(folder: Path) -> None:
    """Leave no worker of this test running (they would outlive the temporary folder)."""
    try:
        backend = LocalBackend(folder, REGION)
    except ToolError:
        return  # the test broke the state file on purpose
    for record in backend.store.list_executions(status="RUNNING"):
        backend.stop_execution(record.arn)
    for entry in Path("/proc").glob("[0-9]*"):  # what a failed test may have left running
        try:
            inside = os.readlink(entry / "cwd").startswith(str(folder))
        except OSError:
            continue
        if inside and int(entry.name) != os.getpid():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(entry.name), signal.SIGKILL)


def _machine(key: str) -> str:
    return f"arn:aws:states:{REGION}:000000000000:stateMachine:durable-dev-{key}"


def _wait_until(condition: Callable[[], bool], seconds: float = 60.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _gone(pid: int) -> bool:
    """Whether `pid` has ended (a zombie counts as ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def _status(folder: Path, arn: str) -> str:
    return str(LocalBackend(folder, REGION).describe_execution(arn)["status"])


def _ended(folder: Path, arn: str) -> Callable[[], bool]:
    return lambda: _status(folder, arn) != "RUNNING"


def _history(folder: Path, arn: str) -> list[dict[str, Any]]:
    return LocalBackend(folder, REGION).history_since(arn, 0)


def _assert_whole_history(events: list[dict[str, Any]], last_type: str) -> None:
    """Ids 1..n without a gap or a repeat, one start, one end, and the end last."""
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    types = [e["type"] for e in events]
    assert types.count("ExecutionStarted") == 1
    assert types[-1] == last_type
    assert sum(t.startswith("Execution") for t in types) == 2


def _expired_backend(folder: Path) -> LocalBackend:
    """A runtime process that looks an hour later: every lease has expired by then."""
    backend = LocalBackend(folder, REGION)
    backend.wall_clock = lambda: time.time() + HOUR
    return backend


# --- 1. Starting is atomic ------------------------------------------------------------------------


def test_a_worker_that_cannot_start_leaves_no_execution_behind(durable: Path, capsys) -> None:
    (durable / "in.json").write_text('{"start": {"n": 1}, "wait": 0}')
    (durable / ".tool" / "workers").write_text("not a folder")
    code = main(
        ["invoke", "--state-machine", "flow", "--input", "in.json", "--execution-name", "x"]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert "internal error" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: cannot start the worker process of execution x"), err
    # Nothing half-applied: no execution, so nothing says RUNNING without running.
    assert LocalBackend(durable, REGION).store.find_executions_by_name("x") == []


def test_a_start_whose_spawn_fails_does_not_lose_the_message(durable: Path, capsys) -> None:
    (durable / "in.json").write_text('{"start": {"n": 1}, "wait": 0}')
    assert main(["send", "--state-machine", "flow", "--input", "in.json"]) == 0
    message_id = capsys.readouterr().out.strip()
    (durable / ".tool" / "workers").write_text("not a folder")
    assert main(["worker", "--once", "--state-machine", "flow", "--json"]) == 1
    capsys.readouterr()
    backend = LocalBackend(durable, REGION)
    assert backend.store.find_executions_by_name(message_id) == []
    # Deliverable again once the folder is usable and the visibility timeout has passed.
    (durable / ".tool" / "workers").unlink()
    _drain_later(durable)
    arn = backend.resolve_execution(message_id)
    assert _wait_until(_ended(durable, arn))
    assert _status(durable, arn) == "SUCCEEDED"


def _drain_later(folder: Path, hours: float = 1.0) -> None:
    """Run the trigger's poller as a `tool worker` an hour from now would."""
    service = session.load(session.Options(directory=folder))
    trigger = service.state_machines["flow"].sqs_triggers[0]
    queues = LocalQueues(folder / ".tool" / "local.db", clock=lambda: time.time() + hours * HOUR)
    backend = _expired_backend(folder)
    run_workers(LocalTriggerQueue(trigger, queues), lambda: BackendStarter(backend), MACHINE_ARN,
                once=True)  # fmt: skip


_KILLED_START = """
import os, signal, sys
from pathlib import Path
from tooling.backends.local import LocalBackend

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

LocalBackend._spawn_worker = die
backend = LocalBackend(Path(sys.argv[1]), "us-east-1")
backend.start_execution(sys.argv[2], sys.argv[3], sys.argv[4])
"""


def _start_and_die(folder: Path, name: str, input_text: str) -> None:
    """A process that starts an execution and is SIGKILLed right after recording it."""
    process = subprocess.run(
        [sys.executable, "-c", _KILLED_START, str(folder), MACHINE_ARN, name, input_text],
        capture_output=True,
        text=True,
    )
    assert process.returncode == -signal.SIGKILL, process.stderr


def test_a_start_killed_before_its_worker_exists_is_resumed(durable: Path) -> None:
    input_text = '{"start": {"n": 1}, "wait": 0}'
    _start_and_die(durable, "orphan", input_text)
    arn = f"{MACHINE_ARN.replace(':stateMachine:', ':execution:')}:orphan"
    assert LocalBackend(durable, REGION).describe_execution(arn)["status"] == "RUNNING"
    # The next process that looks after the start's lease expired takes the execution over.
    listed = _expired_backend(durable).list_executions()
    assert [(e["name"], e["status"]) for e in listed] == [("orphan", "RUNNING")]
    assert _wait_until(_ended(durable, arn))
    description = LocalBackend(durable, REGION).describe_execution(arn)
    assert description["status"] == "SUCCEEDED"
    assert json.loads(description["output"])["second"] == {"n": 3}
    _assert_whole_history(_history(durable, arn), "ExecutionSucceeded")


def test_a_redelivered_message_resumes_an_execution_whose_start_was_killed(durable: Path) -> None:
    # `tool worker` recorded the execution and was killed before its worker started and before
    # the message was deleted: the message comes back after its visibility timeout.
    input_text = '{"start": {"n": 5}, "wait": 0}'
    (durable / "in.json").write_text(input_text)
    assert main(["send", "--state-machine", "flow", "--input", "in.json"]) == 0
    queues = LocalQueues(durable / ".tool" / "local.db")
    service = session.load(session.Options(directory=durable))
    trigger = service.state_machines["flow"].sqs_triggers[0]
    queue = LocalTriggerQueue(trigger, queues)
    [message] = queue.receive(1)
    _start_and_die(durable, message["MessageId"], message["Body"])

    _drain_later(durable)

    assert queue.depth().visible == queue.depth().in_flight == 0  # the message is done
    arn = LocalBackend(durable, REGION).resolve_execution(message["MessageId"])
    assert _wait_until(_ended(durable, arn))
    description = LocalBackend(durable, REGION).describe_execution(arn)
    assert description["status"] == "SUCCEEDED"
    assert json.loads(description["output"])["second"] == {"n": 7}


# --- 2. Executions resume -------------------------------------------------------------------------


def _worker_pid(folder: Path, arn: str) -> int | None:
    record = LocalBackend(folder, REGION).store.get_execution(arn)
    return record.worker_pid if record else None


def _kill_worker_during_the_wait(folder: Path, arn: str) -> None:
    """SIGKILL the execution's worker once it has entered its Wait state; return once it is
    gone. Only the store is read: nothing here resumes the execution."""

    def waiting() -> bool:
        return any(e["type"] == "WaitStateEntered" for e in _history(folder, arn))

    assert _wait_until(waiting)
    pid = _worker_pid(folder, arn)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    assert _wait_until(lambda: _gone(pid))


def test_sigkill_during_a_wait_resumes_and_succeeds_with_the_same_output(durable: Path) -> None:
    backend = LocalBackend(durable, REGION)
    input_text = '{"start": {"n": 10}, "wait": 2}'
    calm = backend.start_execution(MACHINE_ARN, "calm", input_text)["executionArn"]
    killed = backend.start_execution(MACHINE_ARN, "killed", input_text)["executionArn"]
    _kill_worker_during_the_wait(durable, killed)

    # Right away, and without reading the history: the execution runs again.
    listed = {e["name"]: e["status"] for e in LocalBackend(durable, REGION).list_executions()}
    assert listed["killed"] == "RUNNING"
    assert _wait_until(_ended(durable, calm)) and _wait_until(_ended(durable, killed))
    assert _status(durable, killed) == "SUCCEEDED"
    expected = LocalBackend(durable, REGION).describe_execution(calm)["output"]
    assert LocalBackend(durable, REGION).describe_execution(killed)["output"] == expected

    events = _history(durable, killed)
    _assert_whole_history(events, "ExecutionSucceeded")
    types = [e["type"] for e in events]
    assert types == [e["type"] for e in _history(durable, calm)]
    # The first Task ran once: its result came from the record, not from a second call.
    assert types.count("LambdaFunctionScheduled") == 2
    entered = next(e for e in events if e["type"] == "WaitStateEntered")
    exited = next(e for e in events if e["type"] == "WaitStateExited")
    assert (exited["timestamp"] - entered["timestamp"]).total_seconds() >= 2
    for event in events[1:]:
        assert 0 <= event["previousEventId"] < event["id"]


def test_the_resident_runtime_resumes_a_run_whose_worker_died_with_no_command_looking(
    durable: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As AWS carries on an execution whose host died: here no command reads the execution
    after its worker is killed (the store is read directly, which resumes nothing), and the
    folder's resident runtime, which started the worker, resumes it by itself."""
    monkeypatch.setenv("TOOL_RESIDENT_SWEEP_SECONDS", "0.5")
    store = LocalBackend(durable, REGION).store
    arn = LocalBackend(durable, REGION).start_execution(
        MACHINE_ARN, "alone", '{"start": {"n": 10}, "wait": 2}'
    )["executionArn"]
    _kill_worker_during_the_wait(durable, arn)

    def ended() -> bool:
        record = store.get_execution(arn)
        return record is not None and record.status != "RUNNING"

    assert _wait_until(ended, seconds=30)
    record = store.get_execution(arn)
    assert record is not None and record.status == "SUCCEEDED" and record.resumes == 1
    _assert_whole_history(_history(durable, arn), "ExecutionSucceeded")


# --- 3. Handler process trees die with their invocation -------------------------------------------


def _spawned_pids(pid_file: Path) -> tuple[int, int]:
    handler, grandchild = pid_file.read_text().split()
    return int(handler), int(grandchild)


def test_a_setsid_grandchild_dies_with_its_invocation(durable: Path) -> None:
    pid_file = durable / "spawned.pid"
    backend = LocalBackend(durable, REGION)
    arn = backend.start_execution(
        _machine("spawner"), "spawn", json.dumps({"pid_file": str(pid_file)})
    )["executionArn"]
    assert _wait_until(_ended(durable, arn))
    assert _status(durable, arn) == "SUCCEEDED"
    handler, grandchild = _spawned_pids(pid_file)
    assert _wait_until(lambda: _gone(handler) and _gone(grandchild), 10)


def test_handlers_do_not_outlive_a_killed_worker(durable: Path) -> None:
    pid_file = durable / "spawned.pid"
    backend = LocalBackend(durable, REGION)
    arn = backend.start_execution(
        _machine("spawner"), "doomed", json.dumps({"pid_file": str(pid_file), "sleep": 600})
    )["executionArn"]
    assert _wait_until(lambda: pid_file.exists() and len(pid_file.read_text().split()) == 2)
    handler, grandchild = _spawned_pids(pid_file)
    pid = _worker_pid(durable, arn)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    assert _wait_until(lambda: _gone(handler), 10)  # with its worker
    LocalBackend(durable, REGION).list_executions()  # the process that takes the run over
    assert _wait_until(lambda: _gone(grandchild), 10)
    LocalBackend(durable, REGION).stop_execution(arn)


def test_a_stop_ends_what_the_handler_started_in_its_own_session(durable: Path) -> None:
    pid_file = durable / "spawned.pid"
    backend = LocalBackend(durable, REGION)
    arn = backend.start_execution(
        _machine("spawner"), "stopped", json.dumps({"pid_file": str(pid_file), "sleep": 600})
    )["executionArn"]
    assert _wait_until(lambda: pid_file.exists() and len(pid_file.read_text().split()) == 2)
    handler, grandchild = _spawned_pids(pid_file)
    backend.stop_execution(arn)
    assert _status(durable, arn) == "ABORTED"
    assert _wait_until(lambda: _gone(handler) and _gone(grandchild), 10)


# --- 4. Bounded output ----------------------------------------------------------------------------


def test_300000_lines_are_stored_capped_in_one_write(durable: Path) -> None:
    backend = LocalBackend(durable, REGION)
    arn = backend.start_execution(_machine("chatty"), "talk", '{"lines": 300000}')["executionArn"]
    assert _wait_until(_ended(durable, arn), 120)
    assert _status(durable, arn) == "SUCCEEDED"
    rows = backend.store.logs(execution_arn=arn)
    assert len(rows) == 1  # one write for the invocation
    lines, _ = backend.execution_logs(arn)
    text = "\n".join(line["message"] for line in lines)
    assert len(text.encode()) <= 300 * 1024
    assert "line 0" in text and "line 299999" in text
    [note] = [line["message"] for line in lines if "dropped" in line["message"]]
    assert "lines" in note and "256 KiB" in note
    function_lines, _ = backend.function_logs("durable-dev-chatty")
    assert [line["message"] for line in function_lines] == [line["message"] for line in lines]


# --- 5. Bad messages are dead-lettered, never fatal -----------------------------------------------


def test_a_deeply_nested_message_is_dead_lettered_alone(durable: Path, capsys) -> None:
    # Straight onto the queue, as another producer would (`tool send` may refuse such a body).
    service = session.load(session.Options(directory=durable))
    queue = LocalTriggerQueue(
        service.state_machines["flow"].sqs_triggers[0], LocalQueues(durable / ".tool" / "local.db")
    )
    queue.send(["[" * 10_000 + "]" * 10_000])
    (durable / "good.json").write_text('{"start": {"n": 1}, "wait": 0}')
    assert main(["send", "--state-machine", "flow", "--input", "good.json"]) == 0
    capsys.readouterr()
    for _ in range(3):  # maxReceiveCount is 2: the third receive moves it to the dead letters
        assert main(["worker", "--once", "--state-machine", "flow", "--json"]) == 0
    out = capsys.readouterr().out
    totals = [document["stateMachines"]["flow"] for document in _documents(out)]
    assert sum(t["started"] for t in totals) == 1
    assert sum(t["rejected"] for t in totals) == 2
    assert main(["queue", "--state-machine", "flow", "--json"]) == 0
    [queue] = json.loads(capsys.readouterr().out)["queues"]
    assert (queue["visible"], queue["inFlight"]) == (0, 0)
    [letter] = queue["deadLetters"]
    assert letter["body"].startswith("[[[")
    assert "nests" in letter["reason"]
    [good] = LocalBackend(durable, REGION).list_executions()
    assert _wait_until(_ended(durable, good["executionArn"]))
    assert _status(durable, good["executionArn"]) == "SUCCEEDED"


def _documents(text: str) -> list[Any]:
    """The JSON documents printed one after another."""
    decoder, found, at = json.JSONDecoder(), [], 0
    while text[at:].strip():
        document, at = decoder.raw_decode(text, at + len(text[at:]) - len(text[at:].lstrip()))
        found.append(document)
    return found


def test_a_redelivery_is_not_counted_as_a_start(durable: Path, capsys) -> None:
    (durable / "in.json").write_text('{"start": {"n": 1}, "wait": 30}')
    assert main(["send", "--state-machine", "flow", "--input", "in.json"]) == 0
    queues = LocalQueues(durable / ".tool" / "local.db")
    service = session.load(session.Options(directory=durable))
    queue = LocalTriggerQueue(service.state_machines["flow"].sqs_triggers[0], queues)
    [message] = queue.receive(1)  # a worker that started it, then died before deleting it
    LocalBackend(durable, REGION).start_execution(
        MACHINE_ARN, message["MessageId"], message["Body"]
    )
    later = LocalQueues(durable / ".tool" / "local.db", clock=lambda: time.time() + HOUR)
    stats = run_workers(
        LocalTriggerQueue(queue.trigger, later),
        lambda: BackendStarter(LocalBackend(durable, REGION)),
        MACHINE_ARN,
        once=True,
    )
    assert stats.received == 1
    assert {o.value: n for o, n in stats.outcomes.items() if n} == {"already-started": 1}


def test_a_worker_thread_that_crashes_exits_non_zero(
    durable: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: object, max_messages: int, wait_seconds: int = 0) -> list[Any]:
        raise RuntimeError("the queue broke")

    monkeypatch.setattr(LocalTriggerQueue, "receive", broken)
    code = main(["worker", "--once", "--state-machine", "flow"])
    err = capsys.readouterr().err
    assert code == 1
    assert "the queue broke" in err


def _tool(*args: str) -> subprocess.CompletedProcess[str]:
    """`tool` in a process of its own (nothing of this process's state shared)."""
    command = [str(Path(sys.executable).with_name("tool")), *args]
    return subprocess.run(command, capture_output=True, text=True)


def test_a_corrupted_state_file_is_one_clear_line(durable: Path) -> None:
    (durable / ".tool" / "local.db").write_bytes(b"this is not a database" * 100)
    for name in ("local.db-wal", "local.db-shm"):
        (durable / ".tool" / name).unlink(missing_ok=True)
    done = _tool("executions")
    assert (done.returncode, done.stdout) == (1, "")
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("error: the local state file .tool/local.db is not a SQLite"), line
    assert "mv .tool/local.db .tool/local.db.broken" in line
