"""deploy, invoke, run, executions, history, logs: each parses its options, calls the library
and renders. No logic lives here."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tooling import render, session
from tooling.cli.app import JsonOpt, MachineOpt, RegionOpt, StageOpt, TargetOpt, app, options
from tooling.deploy import Recorder, apply_plan, plan_deploy, prepare
from tooling.follow import (
    TERMINAL_STATUSES,
    execution_result,
    follow_execution,
    new_execution_name,
    read_input,
)
from tooling.names import check_execution_name


@app.command()
def deploy(
    stage: StageOpt = None,
    region: RegionOpt = None,
    target: TargetOpt = "local",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan; change nothing.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Check, package and deploy the service; says what it created, updated or left alone."""
    service = session.load(options(stage, region, target))
    for warning in service.warnings:
        render.info(f"warning: {warning}")
    backend = session.backend_for(service, target)
    render.info(session.banner(service, backend))
    prepared = prepare(service, service.directory / ".tool" / "build")
    recorder = Recorder(
        service.directory / ".tool" / "deployed" / f"{backend.target}-{service.stage}.json", service
    )
    plan = plan_deploy(prepared, backend, recorder)
    if not dry_run:
        apply_plan(plan, on_step=lambda change: render.info(f"… {change.describe()}"))
    if json_out:
        render.json_document(
            {
                "target": backend.target,
                "stage": service.stage,
                "region": backend.region,
                "dryRun": dry_run,
                "changes": [
                    {"action": c.action, "kind": c.kind, "name": c.name, "reasons": list(c.reasons)}
                    for c in plan.changes
                ],
            }
        )
    else:
        render.changes(plan.changes)


@app.command()
def invoke(
    input: Annotated[str, typer.Option("--input", "-i", help="JSON input file, or - for stdin.")],
    state_machine: MachineOpt = None,
    name: Annotated[
        str | None, typer.Option("--name", help="Execution name (default: a new UUID).")
    ] = None,
    no_wait: Annotated[bool, typer.Option("--no-wait", help="Start and return at once.")] = False,
    stage: StageOpt = None,
    region: RegionOpt = None,
    target: TargetOpt = "local",
    json_out: JsonOpt = False,
) -> None:
    """Start an execution of a deployed state machine and follow it to its end."""
    service = session.load(options(stage, region, target))
    machine = session.pick_state_machine(service, state_machine)
    text = read_input(input)
    execution_name = name if name is not None else new_execution_name()
    check_execution_name(execution_name)
    backend = session.backend_for(service, target)
    render.info(session.banner(service, backend))
    started = backend.start_execution(machine.arn, execution_name, text)
    arn = started["executionArn"]
    render.info(f"execution {execution_name} of {machine.name}")
    if no_wait:
        if json_out:
            render.json_document(
                {"executionArn": arn, "startDate": started["startDate"].isoformat()}
            )
        else:
            render.data(arn)
        return
    printer = render.EventPrinter()
    followed = follow_execution(backend, arn, on_event=printer, on_log=render.log_line)
    _finish(followed.description, followed.events, json_out)


def _finish(
    description: dict[str, object], events: list[dict[str, object]], json_out: bool
) -> None:
    if json_out:
        render.json_document(execution_result(description, events))  # type: ignore[arg-type]
    else:
        render.execution_outcome(description)  # type: ignore[arg-type]
    if description["status"] != "SUCCEEDED":
        raise typer.Exit(1)


@app.command()
def run(
    definition: Annotated[
        Path, typer.Argument(help="State machine definition (JSON) to run as is.")
    ],
    input: Annotated[str, typer.Option("--input", "-i", help="JSON input file, or - for stdin.")],
    stage: StageOpt = None,
    region: RegionOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Run a definition file without deploying it. Lambda tasks use this folder's serverless.yml."""
    from tooling.adhoc import run_definition

    text = read_input(input)
    description, events = run_definition(
        definition,
        text,
        options(stage, region),
        on_event=None if json_out else render.EventPrinter(),
    )
    _finish(description, events, json_out)


@app.command()
def executions(
    state_machine: MachineOpt = None,
    stage: StageOpt = None,
    region: RegionOpt = None,
    target: TargetOpt = "local",
    json_out: JsonOpt = False,
) -> None:
    """List executions, newest first."""
    service = session.load(options(stage, region, target))
    backend = session.backend_for(service, target)
    machine_arn = session.pick_state_machine(service, state_machine).arn if state_machine else None
    items = backend.list_executions(machine_arn)
    if json_out:
        render.json_document(
            {
                "executions": [
                    {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in i.items()}
                    for i in items
                ]
            }
        )
        return
    render.table(
        [
            [
                i["name"],
                i["status"],
                i["startDate"].isoformat(timespec="seconds"),
                i["stateMachineArn"].rsplit(":", 1)[1],
            ]
            for i in items
        ],
        ["NAME", "STATUS", "STARTED", "STATE MACHINE"],
    )


@app.command()
def history(
    execution: Annotated[str, typer.Argument(help="Execution name or ARN.")],
    stage: StageOpt = None,
    region: RegionOpt = None,
    target: TargetOpt = "local",
    json_out: JsonOpt = False,
) -> None:
    """Show an execution's history (and its result once it has ended)."""
    service = session.load(options(stage, region, target))
    backend = session.backend_for(service, target)
    arn = backend.resolve_execution(execution)
    description = backend.describe_execution(arn)
    events = backend.history_since(arn, 0)
    if json_out:
        render.json_document(execution_result(description, events))
        return
    printer = render.EventPrinter(stream=None)
    for event in events:
        render.data(printer.line(event))
    if description["status"] in TERMINAL_STATUSES:
        render.execution_outcome(description)
    else:
        render.info(f"execution {description['name']} is {description['status']}")


@app.command()
def logs(
    function: Annotated[
        str, typer.Argument(help="Function key in serverless.yml, or its deployed name.")
    ],
    stage: StageOpt = None,
    region: RegionOpt = None,
    target: TargetOpt = "local",
) -> None:
    """Print what a deployed function printed, oldest first."""
    service = session.load(options(stage, region, target))
    backend = session.backend_for(service, target)
    name = service.functions[function].name if function in service.functions else function
    if backend.find_function(name) is None:
        from tooling.errors import NotFound

        raise NotFound(f"function {function!r} is not deployed", hint="run `tool deploy` first")
    entries, _ = backend.function_logs(name)
    for entry in entries:
        render.data(f"{entry['timestamp'].isoformat(timespec='milliseconds')}  {entry['message']}")
