"""deploy, plan, remove, info, invoke, run, executions, history, stop, logs: each parses its
options, calls the library and renders. No logic lives here."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from tooling import render, session
from tooling.cli.app import (
    AwsProfileOpt,
    ClockOpt,
    JsonOpt,
    MachineOpt,
    RegionOpt,
    StageOpt,
    TargetOpt,
    app,
    open_target,
    options,
)
from tooling.config.service import ServiceConfig
from tooling.deploy.desired import prepare
from tooling.deploy.executor import ApplyingExecutor, DisplayExecutor, Executor
from tooling.deploy.plan import Change, Plan, describe_deployment, plan_deploy, plan_remove
from tooling.deploy.providers import DeployTarget
from tooling.deploy.record import Record, record_for
from tooling.deploy.targets import deploy_target
from tooling.errors import InputError, NotFound
from tooling.follow import (
    AWS_POLLING,
    LOCAL_POLLING,
    TERMINAL_STATUSES,
    execution_result,
    follow_execution,
    new_execution_name,
    read_input,
)
from tooling.graph.output import check_output, render_execution_graph
from tooling.names import check_execution_name, check_stop_reason
from tooling.statedir import state_path

TimeoutOpt = Annotated[
    float | None,
    typer.Option(
        "--timeout",
        min=0,
        help="Stop following after this many seconds (the execution goes on).",
    ),
]


def _open_deploy(
    stage: str | None, region: str | None, target: str, aws_profile: str | None
) -> tuple[ServiceConfig, DeployTarget, Record]:
    """The service, its deploy target and its record, announced on stderr."""
    service = session.load(options(stage, region, target, aws_profile))
    deploying = deploy_target(service, target)
    render.info(session.banner(service, deploying))
    return service, deploying, record_for(service, deploying.target, deploying.account_id)


def _progress(change: Change) -> None:
    render.info(f"… {change.describe()}")


def _executor(dry_run: bool, target: DeployTarget, record: Record) -> Executor:
    """The display-only executor for --dry-run and plan, else the one that applies."""
    if dry_run:
        return DisplayExecutor()
    return ApplyingExecutor(target, record, on_change=_progress)


def _render_plan(
    plan: Plan, changes: list[Change], target: DeployTarget, stage: str, dry_run: bool,
    json_out: bool,
) -> None:  # fmt: skip
    """`--json`: the plan as data (docs/deploy.md); otherwise one line per change."""
    if json_out:
        render.json_document(
            {
                "target": target.target,
                "stage": stage,
                "region": target.region,
                "account": target.account_id,
                "dryRun": dry_run,
                "changes": [change.to_json() for change in changes],
                "leftAlone": [item.to_json() for item in plan.left_alone],
            }
        )
    else:
        render.changes(changes)


def _deploy(
    stage: str | None,
    region: str | None,
    target: str,
    aws_profile: str | None,
    dry_run: bool,
    json_out: bool,
) -> None:
    service, deploying, record = _open_deploy(stage, region, target, aws_profile)
    for warning in service.warnings:
        render.info(f"warning: {warning}")
    prepared = prepare(service, state_path(service.directory, "build", create=True))
    for diagnostic in prepared.warnings:
        if diagnostic.code != "CONFIG_WARNING":  # service.warnings, printed above
            render.info(diagnostic.render())
    started = time.monotonic()
    plan = plan_deploy(prepared, deploying, record)
    for warning in plan.warnings:
        render.info(f"warning: {warning}")
    changes = _executor(dry_run, deploying, record).run(plan)
    _render_plan(plan, changes, deploying, service.stage, dry_run, json_out)
    if not dry_run and plan.has_changes:
        render.info(f"deployed in {time.monotonic() - started:.1f} s")


@app.command()
def deploy(
    stage: StageOpt = None,
    region: RegionOpt = None,
    target: TargetOpt = "local",
    aws_profile: AwsProfileOpt = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan; change nothing.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Check, package and deploy the service; says what it created, updated or left alone."""
    _deploy(stage, region, target, aws_profile, dry_run, json_out)


@app.command()
def plan(
    stage: StageOpt = None,
    region: RegionOpt = None,
    target: TargetOpt = "local",
    aws_profile: AwsProfileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Print what `tool deploy` would create, update or delete; change nothing."""
    _deploy(stage, region, target, aws_profile, True, json_out)


@app.command()
def remove(
    stage: StageOpt = None,
    region: RegionOpt = None,
    target: TargetOpt = "local",
    aws_profile: AwsProfileOpt = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what would be deleted; delete nothing.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Delete everything the service deployed on the target (and nothing else)."""
    service, deploying, record = _open_deploy(stage, region, target, aws_profile)
    removal = plan_remove(service, deploying, record)
    for warning in removal.warnings:
        render.info(f"warning: {warning}")
    changes = _executor(dry_run, deploying, record).run(removal)
    if not dry_run:
        for line in deploying.release():
            render.info(line)
    if changes or json_out:
        _render_plan(removal, changes, deploying, service.stage, dry_run, json_out)
    else:
        render.data(f"Nothing of {service.service} ({service.stage}) to remove.")


@app.command()
def info(
    stage: StageOpt = None,
    region: RegionOpt = None,
    target: TargetOpt = "local",
    aws_profile: AwsProfileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """List what of the service is deployed on the target."""
    service, deploying, record = _open_deploy(stage, region, target, aws_profile)
    found, foreign = describe_deployment(service, deploying, record)
    for item in foreign:
        render.info(f"warning: {item.address} exists and was {item.reason}")
    if json_out:
        render.json_document(
            {
                "service": service.service,
                "target": deploying.target,
                "stage": service.stage,
                "region": deploying.region,
                "account": deploying.account_id,
                "resources": [
                    {"kind": d.kind, "name": d.name, "arn": d.arn, "details": d.details}
                    for d in found
                ],
            }
        )
        return
    if not found:
        render.info(f"nothing deployed (run `tool deploy{_target_flag(deploying.target)}`)")
        return
    render.table(
        [[d.kind, d.name, d.details, d.arn] for d in found], ["KIND", "NAME", "DETAILS", "ARN"]
    )


@app.command()
def invoke(
    input: Annotated[str, typer.Option("--input", "-i", help="JSON input file, or - for stdin.")],
    state_machine: MachineOpt = None,
    name: Annotated[
        str | None, typer.Option("--name", help="Execution name (default: a new UUID).")
    ] = None,
    no_wait: Annotated[bool, typer.Option("--no-wait", help="Start and return at once.")] = False,
    timeout: TimeoutOpt = None,
    clock: ClockOpt = "real",
    graph: Annotated[
        Path | None,
        typer.Option(
            "--graph", help="Write the run's picture here when it ends (.svg .png .dot .mmd)."
        ),
    ] = None,
    stage: StageOpt = None,
    region: RegionOpt = None,
    target: TargetOpt = "local",
    aws_profile: AwsProfileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Start an execution of a deployed state machine and follow it to its end."""
    if no_wait and graph is not None:
        raise InputError(
            "--graph draws the run when it ends, and --no-wait does not wait for that",
            hint="drop one of them; `tool graph --execution NAME -o FILE` draws it later",
        )
    text = read_input(input)
    execution_name = name if name is not None else new_execution_name()
    check_execution_name(execution_name)
    graph_format = (  # fail before starting
        check_output(graph, format_option=False) if graph is not None else None
    )
    service, backend = open_target(stage, region, target, aws_profile, clock)
    machine = session.pick_state_machine(service, state_machine)
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
    try:
        followed = follow_execution(
            backend,
            arn,
            on_event=printer,
            on_log=render.log_line,
            polling=LOCAL_POLLING if backend.target == "local" else AWS_POLLING,
            timeout=timeout,
        )
    except KeyboardInterrupt:
        render.info(
            f"stopped following; execution {execution_name} goes on "
            f"(`tool history {execution_name} --target {backend.target}` shows it)"
        )
        raise typer.Exit(130) from None
    if followed.timed_out:
        render.info(
            f"stopped following after {timeout:g} s; execution {execution_name} is still "
            f"{followed.description['status']} "
            f"(`tool history {execution_name} --target {backend.target}` shows it later)"
        )
    if graph is not None:
        render_execution_graph(machine.definition, followed.events, graph, graph_format)
        render.info(f"wrote {graph}")
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
    clock: ClockOpt = "real",
    mock: Annotated[
        Path | None,
        typer.Option("--mock", help='Task answers by state, e.g. {"Task": {"0": {"Return": 1}}}.'),
    ] = None,
    machine_type: Annotated[
        str, typer.Option("--type", help="STANDARD or EXPRESS (as the machine would be deployed).")
    ] = "STANDARD",
    stage: StageOpt = None,
    region: RegionOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Run a definition file without deploying it. Lambda tasks use this folder's serverless.yml."""
    from tooling.adhoc import load_mocks, run_definition

    text = read_input(input)
    description, events = run_definition(
        definition,
        text,
        options(stage, region),
        on_event=None if json_out else render.EventPrinter(),
        clock_kind=clock,
        mocks=load_mocks(mock) if mock is not None else None,
        machine_type=machine_type,
    )
    _finish(description, events, json_out)


@app.command()
def executions(
    state_machine: MachineOpt = None,
    stage: StageOpt = None,
    region: RegionOpt = None,
    target: TargetOpt = "local",
    aws_profile: AwsProfileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """List executions, newest first."""
    service, backend = open_target(stage, region, target, aws_profile)
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
    if not items:
        render.info("no executions yet (`tool invoke --input FILE` starts one)")
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
    aws_profile: AwsProfileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Show an execution's history (and its result once it has ended)."""
    service, backend = open_target(stage, region, target, aws_profile)
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
def stop(
    execution: Annotated[str, typer.Argument(help="Execution name or ARN.")],
    error: Annotated[
        str | None, typer.Option("--error", help="Error code to record (at most 256 characters).")
    ] = None,
    cause: Annotated[
        str | None,
        typer.Option("--cause", help="Why it was stopped (at most 32768 characters)."),
    ] = None,
    stage: StageOpt = None,
    region: RegionOpt = None,
    target: TargetOpt = "local",
    aws_profile: AwsProfileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Stop a running execution: it ends ABORTED, its history with ExecutionAborted.

    A Lambda call in flight is not waited for.
    Local target: its handler process is killed. AWS: it runs to its end, its result dropped.
    Executions the run started with states:startExecution.sync are stopped too; others go on.
    An execution that has ended already is left as it is (exit 0)."""
    check_stop_reason(error, cause)
    service, backend = open_target(stage, region, target, aws_profile)
    arn = backend.resolve_execution(execution)
    stopped = backend.stop_execution(arn, error=error, cause=cause)
    description = backend.describe_execution(arn)
    if json_out:
        render.json_document(
            {
                "executionArn": arn,
                "status": description["status"],
                "stopDate": stopped["stopDate"].isoformat(),
            }
        )
        return
    render.info(f"execution {description['name']} is {description['status']}")


@app.command()
def logs(
    function: Annotated[
        str, typer.Argument(help="Function key in serverless.yml, or its deployed name.")
    ],
    stage: StageOpt = None,
    region: RegionOpt = None,
    target: TargetOpt = "local",
    aws_profile: AwsProfileOpt = None,
) -> None:
    """Print what a deployed function printed, oldest first."""
    service, backend = open_target(stage, region, target, aws_profile)
    declared = {fn.name: key for key, fn in service.functions.items()}
    if function not in service.functions and function not in declared:
        raise NotFound(
            f"no function {function!r} in {service.config_file.name}",
            hint="known: " + (", ".join(sorted(service.functions)) or "none"),
        )
    name = service.functions[function].name if function in service.functions else function
    if backend.find_function(name) is None:
        raise NotFound(
            f"function {function!r} is not deployed on the {backend.target} target",
            hint=f"run `tool deploy{_target_flag(backend.target)}` first",
        )
    entries, _ = backend.function_logs(name)
    if not entries:
        render.info(f"no log lines from {name} yet")
    for entry in entries:
        render.data(f"{entry['timestamp'].isoformat(timespec='milliseconds')}  {entry['message']}")


def _target_flag(target: str) -> str:
    """` --target aws` when the command acted on AWS: the hint's command must act there too."""
    return "" if target == "local" else f" --target {target}"
