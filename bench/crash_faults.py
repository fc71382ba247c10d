"""Crash faults on the local runtime: SIGKILL at random moments, then let it settle. Prints figures.

    .venv/bin/python bench/crash_faults.py [--executions 200] [--kills 60] [--seed 1]

Scenario: a service with one state machine that waits, retries, calls Lambda functions and runs
a Map (Pass, Task with Retry, Wait, Map of Tasks, Task). Half of the executions are started by
hand (StartExecution on the local target), half from its SQS trigger queue by `tool worker`
processes. While they run, the bench SIGKILLs, at random moments, an execution's owner (its
worker process), a handler process, a `tool worker`, the folder's resident runtime (which forks
workers, tooling/localrt/resident.py) or its spare worker, until it has killed `--kills` times;
a killed `tool worker` is started again, a killed resident runtime by the next start. A process
looks at the executions once a second, as a user running `tool executions` would. Then the
killing stops and the runtime settles: the queue drains and every execution ends. It reports:

  expected         executions that must exist: one per start by hand, one per message
  ended            of those, the ones that ended (and how: succeeded or not)
  stuck            RUNNING after the settling time
  lost messages    messages without an execution (and not dead-lettered), or left on the queue
  duplicates       executions that are not expected (a second run for a name cannot exist: the
                   name is unique), plus histories that show two runs: ids not 1..n, two
                   ExecutionStarted, events after the end
  wrong outputs    ended executions whose status or output differ from an uninterrupted run
                   of the same input (the definition run in this process, handlers called
                   directly, on a virtual clock)
  orphans          processes of the service left running (workers, handlers, what handlers
                   started, spare workers) once everything ended and the resident runtime
                   was stopped

Required: stuck 0, lost 0, duplicates 0, wrong outputs 0, orphans 0. A killed handler is a
failed Lambda invocation (Runtime.ExitError), as on AWS; the definition retries it, so the
outcome does not change. Waits are short (1 s) to keep the run to a few minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tooling.backends.local import RESIDENT_ENTRY, LocalBackend
from tooling.engine import ExecutionInfo, parse_definition, run_execution
from tooling.engine.clock import VirtualClock
from tooling.engine.ports import LambdaResponse
from tooling.localrt.process_tree import MARKER, process_alive
from tooling.localrt.queue import LocalQueues
from tooling.localrt.resident import ResidentRuntime
from tooling.localrt.services import LOCAL_INTEGRATIONS

REGION = "us-east-1"
SERVICE = "crash-bench"
MACHINE = f"{SERVICE}-dev-pipeline"
MACHINE_ARN = f"arn:aws:states:{REGION}:000000000000:stateMachine:{MACHINE}"
QUEUE_KEY = f"arn:aws:sqs:{REGION}:000000000000:{MACHINE}-trigger"
TOOL = Path(sys.executable).with_name("tool")
TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}

CONFIG = f"""\
service: {SERVICE}
provider:
  name: aws
  runtime: python3.12
  region: {REGION}
  timeout: 60
package:
  patterns:
    - '!**'
    - handler.py
functions:
  step:
    handler: handler.step
  square:
    handler: handler.square
stepFunctions:
  stateMachines:
    pipeline:
      name: {MACHINE}
      definition: ${{file(pipeline.asl.json)}}
      events:
        - sqs:
            queue: {MACHINE}-trigger
            visibilityTimeout: 10
            maxReceiveCount: 50
"""

HANDLERS = """\
class Flaky(Exception):
    pass


def step(event, context):
    if event["try"] < event["flaky"]:
        raise Flaky(f"try {event['try']}")
    return {"total": sum(event["values"])}


def square(event, context):
    return {"square": event["value"] * event["value"]}
"""

# A killed handler process fails its invocation (Runtime.ExitError), as on AWS: retried.
KILLED = {
    "ErrorEquals": ["Runtime.ExitError", "Lambda.Unknown"],
    "IntervalSeconds": 1,
    "MaxAttempts": 50,
    "BackoffRate": 1.0,
}


def _task(function: str, **fields: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": {"Fn::GetAtt": [function, "Arn"]}, **fields}


PIPELINE = {
    "StartAt": "Prepare",
    "States": {
        "Prepare": {
            "Type": "Pass",
            "Parameters": {"id.$": "$.id", "values.$": "$.values", "pause.$": "$.pause"},
            "Next": "First",
        },
        "First": _task(
            "step",
            Parameters={"values.$": "$.values", "flaky": 1, "try.$": "$$.State.RetryCount"},
            Retry=[
                {"ErrorEquals": ["Flaky"], "IntervalSeconds": 1, "MaxAttempts": 3},
                KILLED,
            ],
            ResultPath="$.first",
            Next="Pause",
        ),
        "Pause": {"Type": "Wait", "SecondsPath": "$.pause", "Next": "Each"},
        "Each": {
            "Type": "Map",
            "ItemsPath": "$.values",
            "MaxConcurrency": 2,
            "ItemProcessor": {
                "StartAt": "Square",
                "States": {
                    "Square": _task("square", Parameters={"value.$": "$"}, Retry=[KILLED], End=True)
                },
            },
            "ResultPath": "$.squares",
            "Next": "Last",
        },
        "Last": _task(
            "step",
            Parameters={"values.$": "$.squares[*].square", "flaky": 0, "try": 0},
            Retry=[KILLED],
            ResultPath="$.last",
            End=True,
        ),
    },
}


def execution_input(index: int) -> str:
    return json.dumps({"id": index, "values": [index % 7 + 1, index % 5 + 2, 3], "pause": 1})


# -- the service ----------------------------------------------------------------------------------


def make_service(directory: Path) -> None:
    (directory / "serverless.yml").write_text(CONFIG)
    (directory / "handler.py").write_text(HANDLERS)
    (directory / "pipeline.asl.json").write_text(json.dumps(PIPELINE, indent=2))
    done = subprocess.run([str(TOOL), "deploy"], cwd=directory, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"tool deploy failed: {done.stderr}")


class DirectLambdas:
    """The service's handlers called in this process: the uninterrupted yardstick."""

    def __init__(self, directory: Path) -> None:
        spec = importlib.util.spec_from_file_location(
            "crash_bench_handler", directory / "handler.py"
        )
        assert spec is not None and spec.loader is not None
        self.module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(self.module)

    def invoke(
        self, function: str, payload: str, *, timeout_seconds: float | None = None
    ) -> LambdaResponse:
        handler = getattr(self.module, function.rsplit("-", 1)[1])
        try:
            return LambdaResponse(json.dumps(handler(json.loads(payload), None)))
        except Exception as exc:  # noqa: BLE001 - a handler's error, as Lambda reports it
            error = {"errorType": type(exc).__name__, "errorMessage": str(exc)}
            return LambdaResponse(json.dumps(error), function_error="Unhandled")

    def invoke_event(self, function: str, payload: str) -> LambdaResponse:
        raise AssertionError("the bench's state machine calls its functions synchronously")


def uninterrupted(directory: Path, backend: LocalBackend, input_text: str) -> tuple[str, Any]:
    record = backend.store.get_state_machine(MACHINE_ARN)
    assert record is not None
    machine = parse_definition(json.loads(record.definition), provided=LOCAL_INTEGRATIONS)
    info = ExecutionInfo(
        execution_arn=f"{MACHINE_ARN.replace(':stateMachine:', ':execution:')}:yardstick",
        name="yardstick",
        state_machine_arn=MACHINE_ARN,
        state_machine_name=MACHINE,
        role_arn=record.role_arn,
    )
    outcome = run_execution(
        machine,
        input_text,
        info=info,
        clock=VirtualClock(),
        lambdas=DirectLambdas(directory),
        history=_Discard(),
    )
    return outcome.status, json.loads(outcome.output) if outcome.output else None


class _Discard:
    def append(self, event: dict[str, Any]) -> None:
        pass


# -- processes ------------------------------------------------------------------------------------


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def _cwd(pid: int) -> str:
    try:
        return os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return ""


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def service_processes(directory: Path) -> dict[str, list[int]]:
    """Live processes of the service, by kind: workers, handlers, the resident runtime, its
    spares (forked from it, not yet workers), others (what handlers started, `tool worker`s,
    anything else running in the service folder)."""
    found: dict[str, list[int]] = {
        "worker": [], "handler": [], "resident": [], "spare": [], "other": []
    }  # fmt: skip
    root = str(directory)
    owners = {
        record.worker_pid
        for record in LocalBackend(directory, REGION).store.list_executions(status="RUNNING")
    }
    forked: list[int] = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        pid = int(entry.name)
        if not process_alive(pid):
            continue
        command = _read(Path(f"/proc/{pid}/cmdline")).replace(b"\0", b" ").decode(errors="replace")
        marked = f"{MARKER}=".encode() in _read(Path(f"/proc/{pid}/environ"))
        if "tooling.localrt.worker" in command and root in command:
            found["worker"].append(pid)
        elif RESIDENT_ENTRY in command and root in command:
            forked.append(pid)
        elif "lambda_bootstrap.py" in command and marked and _cwd(pid).startswith(root):
            found["handler"].append(pid)
        elif (marked and _cwd(pid).startswith(root)) or _cwd(pid).startswith(root):
            found["other"].append(pid)
    # Workers and spares are forks of the resident runtime (same command line).
    for pid in forked:
        if pid in owners:
            found["worker"].append(pid)
        elif _parent(pid) in forked:
            found["spare"].append(pid)
        elif _parent(pid) == 1 or _parent(pid) not in forked:
            # The resident runtime, or a worker that no RUNNING row names (about to end).
            found["resident" if _is_resident(directory, pid) else "worker"].append(pid)
    return found


def _is_resident(directory: Path, pid: int) -> bool:
    """Whether `pid` holds the folder's resident runtime lock (/proc/locks names the holder)."""
    try:
        inode = (directory / ".tool" / "runtime.lock").stat().st_ino
        locks = Path("/proc/locks").read_text()
    except OSError:
        return False
    return any(
        line.split()[4] == str(pid) and line.split()[5].endswith(f":{inode}")
        for line in locks.splitlines()
        if len(line.split()) > 5
    )


@dataclass
class Pollers:
    """`tool worker` processes draining the trigger queue; killed ones are started again."""

    directory: Path
    count: int
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def keep_up(self) -> None:
        self.processes = [p for p in self.processes if p.poll() is None]
        while len(self.processes) < self.count:
            self.processes.append(
                subprocess.Popen(
                    [str(TOOL), "worker", "--concurrency", "2"],
                    cwd=self.directory,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )

    def stop(self) -> None:
        for process in self.processes:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGINT)  # Ctrl-C: finish the batches in hand
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes = []


# -- the run --------------------------------------------------------------------------------------


@dataclass
class Report:
    expected: int = 0
    by_hand: int = 0
    from_queue: int = 0
    ended: int = 0
    succeeded: int = 0
    stuck: int = 0
    lost_messages: int = 0
    duplicates: int = 0
    wrong_outputs: int = 0
    orphans: int = 0
    kills: Counter[str] = field(default_factory=Counter)
    takeovers: int = 0
    dead_lettered: int = 0
    chaos_seconds: float = 0.0
    settle_seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return (
            self.stuck == self.lost_messages == self.duplicates == 0
            and self.wrong_outputs == self.orphans == 0
            and self.ended == self.expected
            and sum(self.kills.values()) > 0
        )


def _history_problem(events: list[dict[str, Any]]) -> str | None:
    ids = [event["id"] for event in events]
    if ids != list(range(1, len(ids) + 1)):
        return "event ids are not 1..n"
    types = [event["type"] for event in events]
    if types.count("ExecutionStarted") != 1 or types[0] != "ExecutionStarted":
        return "not exactly one ExecutionStarted, first"
    ends = [i for i, t in enumerate(types) if t.startswith("Execution") and i > 0]
    if ends != [len(types) - 1]:
        return "not exactly one end, last"
    if any(not 0 <= e["previousEventId"] < e["id"] for e in events):
        return "a previousEventId does not point back"
    return None


def run(
    directory: Path,
    executions: int,
    kills: int,
    seed: int,
    concurrency: int = 12,
    settle_seconds: float = 300.0,
    log: Any = print,
) -> Report:
    rng = random.Random(seed)
    make_service(directory)
    backend = LocalBackend(directory, REGION)
    queues = LocalQueues(directory / ".tool" / "local.db")
    report = Report(expected=executions, by_hand=executions // 2)
    report.from_queue = executions - report.by_hand
    inputs = {index: execution_input(index) for index in range(executions)}
    yardstick = {index: uninterrupted(directory, backend, text) for index, text in inputs.items()}
    expected_names: dict[str, int] = {}  # execution name -> input index
    pending = list(range(executions))
    rng.shuffle(pending)
    hand_left = report.by_hand
    pollers = Pollers(directory, 2)
    pollers.keep_up()

    began = time.monotonic()
    next_kill = began + rng.uniform(0.5, 1.5)
    next_look = began
    while pending or sum(report.kills.values()) < kills:
        now = time.monotonic()
        running = len(backend.store.list_executions(status="RUNNING"))
        depth = queues.depth(QUEUE_KEY)
        if pending and running + depth.visible < concurrency:
            index = pending.pop()
            if hand_left and (rng.random() < 0.5 or len(pending) < hand_left):
                hand_left -= 1
                name = f"hand-{index}"
                backend.start_execution(MACHINE_ARN, name, inputs[index])
            else:
                [name] = queues.send_messages(QUEUE_KEY, [inputs[index]])
            expected_names[name] = index
        if now >= next_kill:
            kind = _kill_one(directory, backend, pollers, rng)
            if kind:
                report.kills[kind] += 1
            next_kill = now + rng.uniform(0.2, 1.2)
        if now >= next_look:  # as `tool executions` would: resumes what lost its owner
            LocalBackend(directory, REGION).list_executions()
            next_look = now + 1.0
        pollers.keep_up()
        time.sleep(0.05)
    report.chaos_seconds = time.monotonic() - began
    log(f"chaos over: {sum(report.kills.values())} SIGKILLs in {report.chaos_seconds:.0f} s")

    began = time.monotonic()
    while time.monotonic() - began < settle_seconds:
        records = {r.name: r for r in LocalBackend(directory, REGION).store.list_executions()}
        depth = queues.depth(QUEUE_KEY)
        done = all(n in records and records[n].status in TERMINAL for n in expected_names)
        queued_left = depth.visible + depth.in_flight
        if done and queued_left == 0:
            break
        LocalBackend(directory, REGION).list_executions()  # a look resumes what is stalled
        pollers.keep_up()
        time.sleep(1.0)
    pollers.stop()
    report.settle_seconds = time.monotonic() - began
    time.sleep(1.0)  # let the last workers exit
    # The resident runtime stays for the next command, as it should; stopped, it must leave
    # nothing behind (its spare and the spare's runtime process end with it).
    ResidentRuntime(directory / ".tool").stop()
    time.sleep(0.5)

    store = LocalBackend(directory, REGION).store
    records = {r.name: r for r in store.list_executions(MACHINE_ARN)}
    report.takeovers = sum(r.resumes for r in records.values())
    for name, index in expected_names.items():
        record = records.get(name)
        if record is None:
            continue
        if record.status == "RUNNING":
            report.stuck += 1
            report.problems.append(f"{name}: still RUNNING")
            continue
        report.ended += 1
        report.succeeded += record.status == "SUCCEEDED"
        want_status, want_output = yardstick[index]
        got = json.loads(record.output) if record.output else None
        if (record.status, got) != (want_status, want_output):
            report.wrong_outputs += 1
            report.problems.append(
                f"{name}: {record.status} {record.error} {str(record.cause)[:200]} {got}"
            )
        problem = _history_problem(store.events(record.arn, limit=100_000))
        if problem:
            report.duplicates += 1
            report.problems.append(f"{name}: {problem}")
    report.duplicates += len(set(records) - set(expected_names))
    queued = [n for n, i in expected_names.items() if not n.startswith("hand-")]
    dead = {letter.message_id for letter in queues.dead_letters(f"{QUEUE_KEY}-dlq")}
    report.dead_lettered = len(dead)
    depth = queues.depth(QUEUE_KEY)
    report.lost_messages = (
        sum(1 for n in queued if n not in records and n not in dead)
        + depth.visible
        + depth.in_flight
    )
    left = service_processes(directory)
    report.orphans = sum(len(pids) for pids in left.values())
    for kind, pids in left.items():
        for pid in pids:
            report.problems.append(f"orphan {kind} process {pid}")
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    return report


def _kill_one(
    directory: Path, backend: LocalBackend, pollers: Pollers, rng: random.Random
) -> str | None:
    """SIGKILL one process of a random kind (an execution owner, a handler, a `tool worker`,
    the resident runtime, its spare worker); the kind killed, or None when there was nothing of
    any kind to kill."""
    kinds = ["owner", "handler", "tool worker", "resident runtime", "spare"]
    weights = [0.3, 0.3, 0.15, 0.15, 0.1]
    first = rng.choices(kinds, weights)[0]
    for kind in [first] + [k for k in kinds if k != first]:
        victims: list[int] = []
        if kind == "owner":
            for record in backend.store.list_executions(status="RUNNING"):
                if record.worker_pid and process_alive(record.worker_pid, record.worker_started):
                    victims.append(record.worker_pid)
        elif kind == "handler":
            victims = service_processes(directory)["handler"]
        elif kind == "resident runtime":
            victims = service_processes(directory)["resident"]
        elif kind == "spare":
            # Under load a spare is taken as soon as it is forked: look for one a moment.
            deadline = time.monotonic() + 1.0
            while not (victims := service_processes(directory)["spare"]):
                if time.monotonic() > deadline:
                    break
                time.sleep(0.02)
        else:
            victims = [p.pid for p in pollers.processes if p.poll() is None]
        if victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(rng.choice(victims), signal.SIGKILL)
                return kind
    return None


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--executions", type=int, default=200)
    parser.add_argument("--kills", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=12, help="executions running at once")
    parser.add_argument("--settle", type=float, default=300.0, help="seconds to settle, at most")
    args = parser.parse_args(argv)
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="crash-faults-") as tmp:
        report = run(
            Path(tmp), args.executions, args.kills, args.seed, args.concurrency, args.settle
        )
    elapsed = time.monotonic() - began
    kills = ", ".join(f"{n} {kind}" for kind, n in sorted(report.kills.items()))
    rows = [
        ("executions expected", f"{report.expected} ({report.by_hand} by hand, "
                                f"{report.from_queue} from the queue)"),
        ("executions ended", f"{report.ended} ({report.succeeded} succeeded)"),
        ("stuck (RUNNING after settling)", report.stuck),
        ("lost messages", report.lost_messages),
        ("duplicated executions", report.duplicates),
        ("wrong outputs", report.wrong_outputs),
        ("orphan processes", report.orphans),
        ("SIGKILLs", f"{sum(report.kills.values())} ({kills})"),
        ("takeovers (resumed runs)", report.takeovers),
        ("dead-lettered messages", report.dead_lettered),
        ("time", f"{elapsed:.0f} s ({report.chaos_seconds:.0f} s of kills, "
                 f"{report.settle_seconds:.0f} s to settle; {os.cpu_count()} CPUs)"),
    ]  # fmt: skip
    print()
    for label, value in rows:
        print(f"  {label:<32} {value}")
    for problem in report.problems[:20]:
        print(f"  ! {problem}")
    print(f"  {'required figures hold':<32} {report.passed}")
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
