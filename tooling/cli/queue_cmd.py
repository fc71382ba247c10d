"""send, worker, queue, queue redrive: the SQS trigger from the command line."""

from __future__ import annotations

import dataclasses
import json
import sys
import threading
from pathlib import Path
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
    options,
)
from tooling.config.service import ServiceConfig, StateMachineConfig
from tooling.config.triggers import SqsTrigger
from tooling.errors import BadInput, InputError
from tooling.triggers.poller import WorkerStats, run_workers
from tooling.triggers.queues import TriggerQueue, open_trigger_queue
from tooling.triggers.start_from_messages import MessageResult, Outcome, check_body
from tooling.triggers.starters import BackendStarter

queue_app = typer.Typer(
    help="Show the trigger queues: depth, in-flight and dead-lettered messages (with reasons)."
)
app.add_typer(queue_app, name="queue")


def _load(
    stage: str | None, region: str | None, target: str, aws_profile: str | None
) -> ServiceConfig:
    opts = dataclasses.replace(options(stage, region, target), aws_profile=aws_profile)
    return session.load(opts)


def _trigger_of(machine: StateMachineConfig, service: ServiceConfig) -> SqsTrigger:
    if not machine.sqs_triggers:
        raise BadInput(
            f"state machine '{machine.key}' has no sqs trigger",
            file=service.config_file.name,
            hint="add `events: [{sqs: {queue: NAME}}]` under it in serverless.yml (docs/sqs.md)",
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
            hint="add `events: [{sqs: {queue: NAME}}]` under one (docs/sqs.md)",
        )
    return machines


def _read_body(path: str) -> str:
    """The message body as is: unlike `invoke`, a body that is not JSON may be sent (it is
    rejected by the trigger and ends in the dead-letter queue)."""
    if path == "-":
        return sys.stdin.read()
    file = Path(path)
    if not file.is_file():
        raise InputError(f"{path}: no such file", hint="pass a file with --input, or - for stdin")
    return file.read_text(encoding="utf-8")


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
    service = _load(stage, region, target, aws_profile)
    machine = session.pick_state_machine(service, state_machine)
    trigger = _trigger_of(machine, service)
    body = _read_body(input)
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
    """Poll the trigger queues and start one execution per message (the execution name is the
    message id, so a message delivered twice still runs once). Ctrl-C stops."""
    service = _load(stage, region, target, aws_profile)
    machines = _triggered(service, state_machine)
    backend = session.backend_for(service, target)
    render.info(session.banner(service, backend))
    stop = threading.Event()
    totals: dict[str, WorkerStats] = {}

    def serve(machine: StateMachineConfig) -> None:
        queue = open_trigger_queue(service, machine, target)
        totals[machine.key] = run_workers(
            queue,
            lambda: BackendStarter(session.backend_for(service, target)),
            machine.arn,
            concurrency=concurrency,
            once=once,
            stop=stop,
            on_result=_print_result,
        )

    threads = [threading.Thread(target=serve, args=(m,), daemon=True) for m in machines]
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
    summary = {
        key: {"received": s.received, **{o.value: s.outcomes[o] for o in Outcome}}
        for key, s in totals.items()
    }
    if json_out:
        render.json_document({"stateMachines": summary})
        return
    for key, numbers in summary.items():
        render.data(f"{key}: " + ", ".join(f"{name} {value}" for name, value in numbers.items()))


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


@queue_app.command()
def redrive(
    state_machine: MachineOpt = None,
    stage: StageOpt = None,
    region: RegionOpt = None,
    target: TargetOpt = "local",
    aws_profile: AwsProfileOpt = None,
) -> None:
    """Move dead-lettered messages back to their queue, to be tried again."""
    service = _load(stage, region, target, aws_profile)
    for queue in _queues(service, state_machine, target):
        moved = queue.redrive()
        render.data(f"{queue.trigger.queue_name}: {moved} message(s) moved back")
