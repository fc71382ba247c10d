"""SQS-triggered starts under faults, on the local target. Prints figures; not a unit test.

    .venv/bin/python bench/sqs_faults.py [--messages 2000] [--throughput-messages 2000]

Scenario: N messages on a trigger queue, 2% of them not JSON, 5% of them a second send of another
message's body. Two worker processes drain the queue; one is SIGKILLed in the middle of a batch
(after starting some of the batch's executions, before deleting any of its messages) and started
again. Then it reports:

  valid          messages whose body is a JSON document (each is a distinct SQS message)
  executions     executions of the state machine that exist afterwards
  duplicates     executions beyond one per valid message: a second run for a message id, or a
                 run not named after a sent message. Two sends of the same body are two messages
                 with two message ids, so they are two executions by design, not duplicates.
  dead-lettered  messages in the dead-letter queue (must be exactly the invalid ones)
  lost           valid messages without an execution, invalid ones not in the dead-letter queue,
                 and anything still on the queue

Required: executions = valid, duplicates 0, lost 0, dead-lettered = invalid.

The restarted worker runs with its clock one visibility timeout ahead: it behaves as if it came
back after the killed worker's messages timed out (and it also takes over messages the other
worker still holds, so some messages are processed by two workers at once: more redelivery).

Executions are not run by worker processes here: each one is recorded as started and closed as
SUCCEEDED at once (what a one-Pass-state machine does), so a redelivered message meets a closed
execution and takes the ExecutionAlreadyExists -> DescribeExecution path. Start throughput thus
measures receive + StartExecution + delete on the local target, not running the executions.
`--run-executions` uses the real local runtime instead (one worker process per execution).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tooling.backends.local import LocalBackend
from tooling.config.triggers import SqsTrigger
from tooling.localrt.queue import LocalQueues
from tooling.localrt.resident import ResidentRuntime
from tooling.localrt.store import StateMachineRecord, Store
from tooling.triggers.poller import run_workers
from tooling.triggers.queues import LocalTriggerQueue
from tooling.triggers.start_from_messages import MessageResult, check_body
from tooling.triggers.starters import BackendStarter

REGION = "us-east-1"
MACHINE_NAME = "bench-sqs-faults"
QUEUE = "bench-trigger"
VISIBILITY_TIMEOUT = 30
MAX_RECEIVE_COUNT = 5
DEFINITION = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}})
SCRIPT = Path(__file__).resolve()


class InstantLocalBackend(LocalBackend):
    """The local target, with each execution closed as SUCCEEDED (output = input) at once
    instead of being run by a worker process."""

    def __init__(self, service_dir: Path, region: str) -> None:
        super().__init__(service_dir, region)
        self.resident = None  # no resident runtime to fork workers either

    def _spawn_worker(self, arn: str, name: str, owner: str, reservation: object = None) -> None:
        record = self.store.get_execution(arn)
        output = record.input if record else None
        self.store.finish_execution(
            arn,
            status="SUCCEEDED",
            output=output,
            error=None,
            cause=None,
            stop_date=datetime.now(UTC),
        )


def trigger() -> SqsTrigger:
    return SqsTrigger(
        queue_name=QUEUE,
        queue_arn=f"arn:aws:sqs:{REGION}:000000000000:{QUEUE}",
        managed=True,
        dead_letter_queue_name=f"{QUEUE}-dlq",
        dead_letter_queue_arn=f"arn:aws:sqs:{REGION}:000000000000:{QUEUE}-dlq",
        batch_size=10,
        visibility_timeout=VISIBILITY_TIMEOUT,
        max_receive_count=MAX_RECEIVE_COUNT,
    )


def setup(directory: Path) -> tuple[LocalBackend, LocalTriggerQueue]:
    backend = LocalBackend(directory, REGION)
    role = "arn:aws:iam::000000000000:role/bench"
    now = datetime.now(UTC)
    backend.store.put_state_machine(
        StateMachineRecord(
            MACHINE_NAME, machine_arn(backend), DEFINITION, "STANDARD", role, "1", now, None
        )
    )
    queue = LocalTriggerQueue(trigger(), LocalQueues(directory / ".tool" / "local.db")).create()
    return backend, queue


def machine_arn(backend: LocalBackend) -> str:
    return f"arn:aws:states:{REGION}:{backend.account_id}:stateMachine:{MACHINE_NAME}"


# -- the worker process ---------------------------------------------------------------------------


def worker_main(args: argparse.Namespace) -> int:
    """One worker process: READY, wait for GO on stdin, drain the queue, print SUMMARY."""
    directory = Path(args.dir)
    skew = args.clock_skew
    queues = LocalQueues(directory / ".tool" / "local.db", clock=lambda: time.time() + skew)
    queue = LocalTriggerQueue(trigger(), queues)
    backend_type = LocalBackend if args.run_executions else InstantLocalBackend
    arn = f"arn:aws:states:{REGION}:000000000000:stateMachine:{MACHINE_NAME}"
    print("READY", flush=True)
    if sys.stdin.readline().strip() != "GO":
        return 1
    started = 0

    def on_result(result: MessageResult) -> None:
        nonlocal started
        started += result.outcome.ok
        if args.pause_after and started == args.pause_after:
            print("PAUSED", flush=True)  # in the middle of a batch: nothing of it deleted yet
            sys.stdin.readline()  # until killed

    stats = run_workers(
        queue,
        lambda: BackendStarter(backend_type(directory, REGION)),
        arn,
        once=True,
        on_result=on_result,
    )
    summary = {"received": stats.received, **{o.value: n for o, n in stats.outcomes.items()}}
    print("SUMMARY " + json.dumps(summary), flush=True)
    return 0


@dataclass
class Worker:
    process: subprocess.Popen[str]
    name: str

    @classmethod
    def launch(
        cls, directory: Path, name: str, *, pause_after: int = 0, clock_skew: float = 0,
        run_executions: bool = False,
    ) -> Worker:  # fmt: skip
        command = [
            sys.executable, str(SCRIPT), "_worker", "--dir", str(directory),
            "--pause-after", str(pause_after), "--clock-skew", str(clock_skew),
        ]  # fmt: skip
        if run_executions:
            command.append("--run-executions")
        process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=directory
        )
        worker = cls(process, name)
        worker.expect("READY")
        return worker

    def expect(self, word: str) -> None:
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if line != word:
            raise RuntimeError(f"worker {self.name}: expected {word}, got {line!r}")

    def go(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write("GO\n")
        self.process.stdin.flush()

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def summary(self) -> dict[str, int]:
        assert self.process.stdout is not None
        lines = self.process.stdout.read().splitlines()
        if self.process.wait() != 0:
            raise RuntimeError(
                f"worker {self.name} failed with exit code {self.process.returncode}"
            )
        for line in lines:
            if line.startswith("SUMMARY "):
                return dict(json.loads(line.removeprefix("SUMMARY ")))
        raise RuntimeError(f"worker {self.name} printed no summary")


# -- the fault scenario ---------------------------------------------------------------------------


@dataclass
class FaultReport:
    sent: int
    valid: int
    invalid: int
    same_body_resends: int
    executions: int
    duplicates: int
    dead_lettered: int
    dead_lettered_are_the_invalid_ones: bool
    lost: int
    left_on_queue: int
    killed_after_starts: int
    worker_summaries: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return (
            self.executions == self.valid
            and self.duplicates == 0
            and self.lost == 0
            and self.dead_lettered == self.invalid
            and self.dead_lettered_are_the_invalid_ones
        )


def message_bodies(total: int, rng: random.Random) -> tuple[list[str], int, int]:
    """`total` bodies in random order: 2% not JSON, 5% a second send of an earlier valid body."""
    invalid = max(1, total * 2 // 100)
    resends = max(1, total * 5 // 100)
    unique = total - invalid - resends
    valid = [json.dumps({"order": n, "items": [n, n + 1]}) for n in range(unique)]
    bad = [rng.choice(['{"order": ', "not json", "{'single': 'quotes'}", "NaN"]) + f" #{n}"
           for n in range(invalid)]  # fmt: skip
    again = [rng.choice(valid) for _ in range(resends)]
    bodies = valid + bad + again
    rng.shuffle(bodies)
    return bodies, invalid, resends


def run_fault_scenario(
    directory: Path,
    total: int = 2000,
    *,
    kill_after: int | None = None,
    seed: int = 7,
    run_executions: bool = False,
    log: Callable[[str], None] = lambda _: None,
) -> FaultReport:
    backend, queue = setup(directory)
    bodies, invalid, resends = message_bodies(total, random.Random(seed))
    ids = queue.send(bodies)
    valid_ids = {i for i, b in zip(ids, bodies, strict=True) if _is_json(b)}
    invalid_ids = set(ids) - valid_ids
    log(f"sent {len(ids)} messages ({len(valid_ids)} valid, {len(invalid_ids)} not JSON)")

    # Mid-batch: a start that is not the last of its batch of 10.
    kill_after = kill_after or max(5, (total // 4) // 10 * 10 + 5)
    first = Worker.launch(directory, "A", pause_after=kill_after, run_executions=run_executions)
    other = Worker.launch(directory, "B", run_executions=run_executions)
    first.go()
    # B starts once A holds its batch: were both let go together, B could drain the queue
    # before A received anything (seen on a loaded machine), and nothing would be killed mid-batch.
    first.expect("PAUSED")
    other.go()
    first.kill()
    log(f"SIGKILLed worker A after {kill_after} starts, in the middle of a batch")
    again = Worker.launch(
        directory, "A-restarted", clock_skew=VISIBILITY_TIMEOUT + 1, run_executions=run_executions
    )
    again.go()
    summaries = {"B": other.summary(), "A-restarted": again.summary()}

    store = Store(directory / ".tool" / "local.db")
    names = [e.name for e in store.list_executions(machine_arn(backend))]
    distinct = set(names)
    duplicates = (len(names) - len(distinct)) + len(distinct - valid_ids)
    dead = {letter.message_id for letter in queue.dead_letters()}
    depth = queue.depth()
    left = depth.visible + depth.in_flight
    lost = len(valid_ids - distinct) + len(invalid_ids - dead) + left
    return FaultReport(
        sent=len(ids),
        valid=len(valid_ids),
        invalid=len(invalid_ids),
        same_body_resends=resends,
        executions=len(names),
        duplicates=duplicates,
        dead_lettered=len(dead),
        dead_lettered_are_the_invalid_ones=dead == invalid_ids,
        lost=lost,
        left_on_queue=left,
        killed_after_starts=kill_after,
        worker_summaries=summaries,
    )


def _is_json(body: str) -> bool:
    return check_body(body) is None


# -- throughput -----------------------------------------------------------------------------------


def measure_throughput(directory: Path, messages: int, workers: int, run_executions: bool) -> float:
    """Executions started per second by `workers` processes draining `messages` messages."""
    backend, queue = setup(directory)
    queue.send([json.dumps({"n": n}) for n in range(messages)])
    launched = [
        Worker.launch(directory, f"W{n}", run_executions=run_executions) for n in range(workers)
    ]
    begin = time.perf_counter()
    for worker in launched:
        worker.go()
    for worker in launched:
        worker.summary()
    elapsed = time.perf_counter() - begin
    started = len(Store(directory / ".tool" / "local.db").list_executions(machine_arn(backend)))
    if started != messages:
        raise RuntimeError(f"{started} executions for {messages} messages")
    return started / elapsed


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    worker = sub.add_parser("_worker", help="(internal) one worker process")
    worker.add_argument("--dir", required=True)
    worker.add_argument("--pause-after", type=int, default=0)
    worker.add_argument("--clock-skew", type=float, default=0)
    worker.add_argument("--run-executions", action="store_true")
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--throughput-messages", type=int, default=2000)
    parser.add_argument("--run-executions", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "_worker":
        return worker_main(args)

    with tempfile.TemporaryDirectory(prefix="sqs-faults-") as tmp:
        try:
            report = run_fault_scenario(
                Path(tmp), args.messages, run_executions=args.run_executions, log=print
            )
        finally:  # --run-executions: the folder's resident runtime, before the folder goes
            ResidentRuntime(Path(tmp) / ".tool").stop()
    print()
    for key, value in asdict(report).items():
        if key != "worker_summaries":
            print(f"  {key:<36} {value}")
    for name, summary in report.worker_summaries.items():
        print(f"  worker {name:<29} {summary}")
    print(f"  {'required figures hold':<36} {report.passed}")
    print()
    for count in (1, 4):
        with tempfile.TemporaryDirectory(prefix="sqs-throughput-") as tmp:
            try:
                rate = measure_throughput(
                    Path(tmp), args.throughput_messages, count, args.run_executions
                )
            finally:
                ResidentRuntime(Path(tmp) / ".tool").stop()
        print(f"  start throughput, {count} worker(s): {rate:8.1f} executions/s "
              f"({args.throughput_messages} messages, {os.cpu_count()} CPUs)")  # fmt: skip
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
