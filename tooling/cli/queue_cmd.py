"""send, worker, queue, queue redrive: the SQS trigger from the command line."""

import dataclasses
import json
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tooling import render
from tooling.cli import explain_interrupt
from tooling.cli.app import (
    AwsProfileOpt,
    DataOpt,
    InputOpt,
    JsonOpt,
    MachineOpt,
    PathOpt,
    RegionOpt,
    StageOpt,
    TargetOpt,
    app,
    open_target,
)
from tooling.errors import BadInput, InputError

if TYPE_CHECKING:
    from tooling.backends.base import Backend
    from tooling.config.service import ServiceConfig, StateMachineConfig
    from tooling.config.triggers import SqsTrigger
    from tooling.triggers.queues import TriggerQueue
    from tooling.triggers.start_from_messages import MessageResult

queue_app = typer.Typer(
    help="Show the trigger queues: depth, in-flight and dead-lettered messages (with reasons)."
)
app.add_typer(queue_app, name="queue")


def _load(
    stage: str | None, region: str | None, target: str, aws_profile: str | None
) -> "ServiceConfig":
    """The service, with the target line on stderr (as every command acting on a target)."""
    service, _ = open_target(stage, region, target, aws_profile)
    return service


def _trigger_of(machine: "StateMachineConfig", service: "ServiceConfig") -> "SqsTrigger":
    if not machine.sqs_triggers:
        raise BadInput(
            f"state machine '{machine.key}' has no sqs trigger",
            file=service.config_file.name,
            hint="add `events: [{sqs: {queue: NAME}}]` under it in serverless.yml; see docs/sqs.md",
        )
    return machine.sqs_triggers[0]


def _triggered(service: "ServiceConfig", key: str | None) -> "list[StateMachineConfig]":
    from tooling import session

    if key is not None:
        machine = session.pick_state_machine(service, key)
        _trigger_of(machine, service)
        return [machine]
    machines = [m for m in service.state_machines.values() if m.sqs_triggers]
    if not machines:
        raise BadInput(
            f"no state machine in {service.config_file.name} has an sqs trigger",
            file=service.config_file.name,
            hint="add `events: [{sqs: {queue: NAME}}]` under one; see docs/sqs.md",
        )
    return machines


def _read_body(input: str | None, data: str | None, path: str | None, raw: bool) -> str:
    """The message body, checked as `invoke` checks an input (JSON, YAML converted, bounded),
    unless --raw sends a file's text as it is (SQS bodies are Unicode text): a body that is not
    JSON is rejected by the trigger and ends in the dead-letter queue."""
    from tooling.inputs import read_bounded_text, read_execution_input

    if not raw:
        return read_execution_input(input, data=data, path=path)
    if data is not None:
        return data
    if input is None and path is None:
        raise InputError("--raw sends a file as it is", hint="give the file with --input FILE")
    return read_bounded_text(input if input is not None else str(path), "--input").text


@app.command()
def send(
    input: InputOpt = None,
    path: PathOpt = None,
    data: DataOpt = None,
    raw: Annotated[
        bool,
        typer.Option(
            "--raw",
            help="Send the body as it is, even if it is not JSON (to try the dead-letter path).",
        ),
    ] = False,
    state_machine: MachineOpt = None,
    count: Annotated[
        int, typer.Option("--count", "-n", min=1, help="Send the body this many times (load).")
    ] = 1,
    stage: StageOpt = None,
    region: RegionOpt = None,
    target: TargetOpt = "local",
    aws_profile: AwsProfileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Put messages on a state machine's trigger queue; each one starts one execution.

    The body is the input as `invoke` takes it (--input/--path/--data; none: {})."""
    from tooling import session
    from tooling.session import open_trigger_queue
    from tooling.triggers.start_from_messages import check_body

    body = _read_body(input, data, path, raw)  # before any call to the target
    service = _load(stage, region, target, aws_profile)
    machine = session.pick_state_machine(service, state_machine)
    trigger = _trigger_of(machine, service)
    problem = check_body(body)
    if problem:
        render.info(
            f"warning: {problem}; the trigger will reject it, and after "
            f"{trigger.max_receive_count} receives it goes to the dead-letter queue"
        )
    queue = open_trigger_queue(service, machine, target)
    ids = queue.send([body] * count)
    render.info(f"sent {len(ids)} message(s) to {trigger.queue_name} for {machine.name}")
    if json_out:
        render.json_document({"queue": trigger.queue_name, "messageIds": ids})
    else:
        for message_id in ids:
            render.data(message_id)


def _print_result(result: "MessageResult") -> None:
    line = f"{result.outcome.value:<15} {result.message_id}"
    if result.reason:
        line += f"  {result.reason}"
    render.info(line)


@app.command()
def worker(
    state_machine: MachineOpt = None,
    once: Annotated[
        bool,
        typer.Option(
            "--once",
            help="Stop when the queue has nothing left to deliver and the executions it "
            "started have ended.",
        ),
    ] = False,
    no_wait: Annotated[
        bool,
        typer.Option("--no-wait", help="With --once: do not wait for the executions to end."),
    ] = False,
    concurrency: Annotated[
        int, typer.Option("--concurrency", "-c", min=1, help="Polling threads per queue.")
    ] = 1,
    stage: StageOpt = None,
    region: RegionOpt = None,
    target: TargetOpt = "local",
    aws_profile: AwsProfileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Poll the trigger queues and start one execution per message; fire due schedules.

    The execution name is the message id, so a message delivered twice still runs once. On the
    local target it also fires due schedules, delivers status-change notifications, polls the
    queues of the functions' sqs events, reads their DynamoDB and Kinesis streams and delivers
    their s3 events, invoking the functions.
    Each execution's outcome is printed as it ends; --once waits for the executions it started
    (unless --no-wait).
    Ctrl-C stops."""
    from tooling import session
    from tooling.session import open_trigger_queue
    from tooling.triggers.function_queues import local_function_queues
    from tooling.triggers.function_streams import local_function_streams
    from tooling.triggers.local_events import local_event_loop
    from tooling.triggers.poller import WorkerStats, run_workers
    from tooling.triggers.s3_notifications import local_s3_events
    from tooling.triggers.start_from_messages import Outcome
    from tooling.triggers.starters import BackendStarter

    service, backend = open_target(stage, region, target, aws_profile)
    # on the local target: schedules and notifications (on AWS, EventBridge runs them), and the
    # functions' sqs events (on AWS, Lambda polls)
    events = local_event_loop(service, render.info) if target == "local" else None
    function_queues = local_function_queues(service, render.info) if target == "local" else None
    s3_events = local_s3_events(service, render.info) if target == "local" else None
    streams = local_function_streams(service, render.info) if target == "local" else None
    has_sqs = any(m.sqs_triggers for m in service.state_machines.values())
    others = any(x is not None for x in (events, function_queues, s3_events, streams))
    machines = _triggered(service, state_machine) if not others or has_sqs else []
    stop = threading.Event()
    totals: dict[str, WorkerStats] = {}
    crashed: list[BaseException] = []
    outcomes = OutcomeWatcher(backend)

    def on_result(result: "MessageResult") -> None:
        _print_result(result)
        if result.outcome is Outcome.STARTED and result.execution_arn:
            outcomes.watch(result.execution_arn)

    def serve(machine: "StateMachineConfig") -> None:
        try:
            queue = open_trigger_queue(service, machine, target)
            totals[machine.key] = run_workers(
                queue,
                lambda: BackendStarter(session.backend_for(service, target)),
                machine.arn,
                concurrency=concurrency,
                once=once,
                stop=stop,
                on_result=on_result,
                housekeeping=session.backend_for(service, target).resume_stalled,
            )
        except BaseException as exc:  # the others stop too, and the command fails with it
            crashed.append(exc)
            stop.set()

    threads = [threading.Thread(target=serve, args=(m,), daemon=True) for m in machines]
    if events is not None:
        threads.append(threading.Thread(target=events, args=(stop, once), daemon=True))

    def guarded(job: Callable[[threading.Event, bool], object]) -> Callable[[], None]:
        """`job(stop, once)` as a thread's target: a crash stops the others and fails the
        command with it."""

        def run() -> None:
            try:
                job(stop, once)
            except BaseException as exc:
                crashed.append(exc)
                stop.set()

        return run

    for job in (function_queues, s3_events, streams):  # polled queues, S3 events, shards
        if job is not None:
            threads.append(threading.Thread(target=guarded(job), daemon=True))
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(0.2)
                outcomes.poll()
        while once and not no_wait and outcomes.pending:  # see the executions it started end
            outcomes.wait()
            outcomes.poll()
    except KeyboardInterrupt:
        render.info("stopping: finishing the batches in hand…")
        stop.set()
        for thread in threads:
            thread.join()
        outcomes.poll()
        if outcomes.pending:
            raise explain_interrupt(
                f"stopped; {len(outcomes.pending)} execution(s) go on "
                f"(`tool executions{_flag(backend)}` lists them)"
            ) from None
    if crashed:  # a crashed worker exits non-zero (1), so that a supervisor restarts it
        raise crashed[0]
    summary = {
        key: {"received": s.received, **{o.json_key: s.outcomes[o] for o in Outcome}}
        for key, s in totals.items()
    }
    if json_out:
        render.json_document({"stateMachines": summary, "ended": outcomes.counts})
    else:
        for key, numbers in summary.items():
            render.data(
                f"{key}: " + ", ".join(f"{name} {value}" for name, value in numbers.items())
            )
    failed = sum(s.outcomes[Outcome.FAILED] for s in totals.values())
    if failed:  # the operation failed for these: exit 1 (rejected bodies are a normal outcome)
        render.info(
            f"{failed} message(s) could not start an execution and stay on the queue "
            "(the reasons are above)"
        )
        raise typer.Exit(1)


def _flag(backend: "Backend") -> str:
    return "" if backend.target == "local" else f" --target {backend.target}"


class OutcomeWatcher:
    """The executions a worker started, each reported once as it ends: name, status and, for
    a failure, the error and cause (one line)."""

    def __init__(self, backend: "Backend") -> None:
        self.backend = backend
        # DescribeExecution per pending run: gently on AWS, whose API is throttled per account.
        self.interval = 0.5 if backend.target == "local" else 2.0
        self.lock = threading.Lock()
        self.pending: list[str] = []
        self.counts: dict[str, int] = {}
        self.last_poll = 0.0

    def watch(self, execution_arn: str) -> None:
        with self.lock:
            self.pending.append(execution_arn)

    def wait(self) -> None:
        time.sleep(max(0.0, self.last_poll + self.interval - time.monotonic()))

    def poll(self) -> None:
        from tooling.follow import TERMINAL_STATUSES

        if time.monotonic() - self.last_poll < self.interval:
            return
        self.last_poll = time.monotonic()
        with self.lock:
            watched = list(self.pending)
        for arn in watched:
            description = self.backend.describe_execution(arn)
            status = description["status"]
            if status not in TERMINAL_STATUSES:
                continue
            with self.lock:
                self.pending.remove(arn)
                self.counts[status] = self.counts.get(status, 0) + 1
            line = f"{status.lower():<15} {description['name']}"
            if description.get("error"):
                line += f"  {description['error']}"
            if description.get("cause"):
                line += f": {render.readable_cause(str(description['cause']))}"
            render.info(render.paint(line, render.status_colour(status), sys.stderr))


def _queues(service: "ServiceConfig", key: str | None, target: str) -> "list[TriggerQueue]":
    from tooling.session import open_trigger_queue

    return [open_trigger_queue(service, m, target) for m in _triggered(service, key)]


@queue_app.callback(invoke_without_command=True)
def show(
    ctx: typer.Context,
    state_machine: MachineOpt = None,
    stage: StageOpt = None,
    region: RegionOpt = None,
    target: TargetOpt = "local",
    aws_profile: AwsProfileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Depth, in-flight and dead-lettered messages of each trigger queue."""
    if ctx.invoked_subcommand is not None:
        # `tool queue --target aws redrive`: the subcommand takes what it was not given itself.
        ctx.obj = _GroupOptions(state_machine, stage, region, target, aws_profile)
        return
    service = _load(stage, region, target, aws_profile)
    report: list[dict[str, Any]] = []
    for queue in _queues(service, state_machine, target):
        depth = queue.depth()
        report.append(
            {
                "queue": queue.trigger.queue_name,
                "visible": depth.visible,
                "inFlight": depth.in_flight,
                "deadLetters": [
                    {
                        "messageId": letter.message_id,
                        "receiveCount": letter.receive_count,
                        "reason": letter.reason,
                        "body": letter.body,
                    }
                    for letter in queue.dead_letters()
                ],
            }
        )
    if json_out:
        render.json_document({"queues": report})
        return
    for item in report:
        letters = item["deadLetters"]
        render.data(
            f"{item['queue']}: {item['visible']} waiting, {item['inFlight']} in flight, "
            f"{len(letters)} dead-lettered"
        )
        for letter in letters:
            body = json.dumps(letter["body"])
            body = body if len(body) <= 60 else body[:59] + "…"
            render.data(
                f"  {letter['messageId']}  received {letter['receiveCount']}x  "
                f"{letter['reason']}  body {body}"
            )


@dataclasses.dataclass(frozen=True)
class _GroupOptions:
    state_machine: str | None
    stage: str | None
    region: str | None
    target: str
    aws_profile: str | None


@queue_app.command()
def redrive(
    ctx: typer.Context,
    state_machine: MachineOpt = None,
    stage: StageOpt = None,
    region: RegionOpt = None,
    target: TargetOpt = "local",
    aws_profile: AwsProfileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Move dead-lettered messages back to their queue, to be tried again."""
    group = ctx.obj if isinstance(ctx.obj, _GroupOptions) else None
    if group is not None:
        state_machine = state_machine or group.state_machine
        stage = stage or group.stage
        region = region or group.region
        aws_profile = aws_profile or group.aws_profile
        if getattr(ctx.get_parameter_source("target"), "name", None) == "DEFAULT":
            target = group.target
    service = _load(stage, region, target, aws_profile)
    moved = {
        queue.trigger.queue_name: queue.redrive()
        for queue in _queues(service, state_machine, target)
    }
    if json_out:
        render.json_document({"moved": moved})
        return
    for name, count in moved.items():
        render.data(f"{name}: {count} message(s) moved back")
