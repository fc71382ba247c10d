"""send, worker, queue, queue redrive: the SQS trigger from the command line."""

from __future__ import annotations

import dataclasses
import json
import threading
from typing import Annotated

import typer

from tooling import render, session
from tooling.cli.app import (
    AwsProfileOpt,
    JsonOpt,
    MachineOpt,
    RegionOpt,
    StageOpt,
    TargetOpt,
    app,
    open_target,
)
from tooling.config.service import ServiceConfig, StateMachineConfig
from tooling.config.triggers import SqsTrigger
from tooling.errors import BadInput
from tooling.follow import read_input_text
from tooling.session import open_trigger_queue
from tooling.triggers.local_events import local_event_loop
from tooling.triggers.poller import WorkerStats, run_workers
from tooling.triggers.queues import TriggerQueue
from tooling.triggers.start_from_messages import MessageResult, Outcome, check_body
from tooling.triggers.starters import BackendStarter

queue_app = typer.Typer(
    help="Show the trigger queues: depth, in-flight and dead-lettered messages (with reasons)."
)
app.add_typer(queue_app, name="queue")


def _load(
    stage: str | None, region: str | None, target: str, aws_profile: str | None
) -> ServiceConfig:
    """The service, with the target line on stderr (as every command acting on a target)."""
    service, _ = open_target(stage, region, target, aws_profile)
    return service


def _trigger_of(machine: StateMachineConfig, service: ServiceConfig) -> SqsTrigger:
    if not machine.sqs_triggers:
        raise BadInput(
            f"state machine '{machine.key}' has no sqs trigger",
            file=service.config_file.name,
            hint="add `events: [{sqs: {queue: NAME}}]` under it in serverless.yml; see docs/sqs.md",
        )
    return machine.sqs_triggers[0]


def _triggered(service: ServiceConfig, key: str | None) -> list[StateMachineConfig]:
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


def _read_body(path: str) -> str:
    """The message body as is: unlike `invoke`, a body that is not JSON may be sent (it is
    rejected by the trigger and ends in the dead-letter queue). SQS bodies are Unicode text."""
    return read_input_text(path, "pass a file with --input, or - for stdin")[0]


@app.command()
def send(
    input: Annotated[str, typer.Option("--input", "-i", help="Message body file, or - (stdin).")],
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
    """Put messages on a state machine's trigger queue; each one starts one execution."""
    body = _read_body(input)  # before any call to the target
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


def _print_result(result: MessageResult) -> None:
    line = f"{result.outcome.value:<15} {result.message_id}"
    if result.reason:
        line += f"  {result.reason}"
    render.info(line)


@app.command()
def worker(
    state_machine: MachineOpt = None,
    once: Annotated[
        bool, typer.Option("--once", help="Stop when the queue has nothing left to deliver.")
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
    local target it also fires due schedules and delivers status-change notifications.
    Ctrl-C stops."""
    service = _load(stage, region, target, aws_profile)
    # on the local target: schedules and notifications (on AWS, EventBridge runs them)
    events = local_event_loop(service, render.info) if target == "local" else None
    has_sqs = any(m.sqs_triggers for m in service.state_machines.values())
    machines = _triggered(service, state_machine) if events is None or has_sqs else []
    stop = threading.Event()
    totals: dict[str, WorkerStats] = {}
    crashed: list[BaseException] = []

    def serve(machine: StateMachineConfig) -> None:
        try:
            queue = open_trigger_queue(service, machine, target)
            totals[machine.key] = run_workers(
                queue,
                lambda: BackendStarter(session.backend_for(service, target)),
                machine.arn,
                concurrency=concurrency,
                once=once,
                stop=stop,
                on_result=_print_result,
                housekeeping=session.backend_for(service, target).resume_stalled,
            )
        except BaseException as exc:  # the others stop too, and the command fails with it
            crashed.append(exc)
            stop.set()

    threads = [threading.Thread(target=serve, args=(m,), daemon=True) for m in machines]
    if events is not None:
        threads.append(threading.Thread(target=events, args=(stop, once), daemon=True))
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(0.2)
    except KeyboardInterrupt:
        render.info("stopping: finishing the batches in hand…")
        stop.set()
        for thread in threads:
            thread.join()
    if crashed:  # a crashed worker exits non-zero (1), so that a supervisor restarts it
        raise crashed[0]
    summary = {
        key: {"received": s.received, **{o.json_key: s.outcomes[o] for o in Outcome}}
        for key, s in totals.items()
    }
    if json_out:
        render.json_document({"stateMachines": summary})
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


def _queues(service: ServiceConfig, key: str | None, target: str) -> list[TriggerQueue]:
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
    report = []
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
