"""deploy, plan, remove, info, invoke, run, executions, history, stop, logs: each parses its
options, calls the library and renders. No logic lives here.

Each command imports what it uses inside its function: loading this module costs Typer only.
"""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tooling import render
from tooling.cli import explain_interrupt
from tooling.cli.app import (
    AwsProfileOpt,
    ClockOpt,
    DataOpt,
    InputOpt,
    JsonOpt,
    MachineOpt,
    MockOpt,
    PathOpt,
    RegionOpt,
    StageOpt,
    TargetLongOpt,
    TargetOpt,
    TestCaseOpt,
    app,
    open_target,
    options,
)
from tooling.errors import InputError

if TYPE_CHECKING:
    from tooling.backends.base import Backend
    from tooling.config.service import ServiceConfig, StateMachineConfig
    from tooling.deploy.desired import Prepared
    from tooling.deploy.executor import Executor
    from tooling.deploy.plan import Change, Plan
    from tooling.deploy.providers import DeployTarget
    from tooling.deploy.record import Record

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
) -> "tuple[ServiceConfig, DeployTarget, Record]":
    """The service, its deploy target and its record, announced on stderr."""
    from tooling import session
    from tooling.deploy.record import record_for
    from tooling.deploy.targets import deploy_target

    service = session.load(options(stage, region, target, aws_profile))
    deploying = deploy_target(service, target)
    deploying.reporter.listener = _progress_line
    render.info(session.banner(service, deploying))
    return service, deploying, record_for(service, deploying.target, deploying.account_id)


def _progress_line(line: str) -> None:
    render.info(f"  {line}")


def _progress(change: "Change") -> None:
    render.info(f"… {change.describe()}")


def _executor(dry_run: bool, target: "DeployTarget", record: "Record") -> "Executor":
    """The display-only executor for --dry-run and plan, else the one that applies."""
    from tooling.deploy.executor import ApplyingExecutor, DisplayExecutor

    if dry_run:
        return DisplayExecutor()
    return ApplyingExecutor(target, record, on_change=_progress)


def _render_plan(
    plan: "Plan", changes: "list[Change]", target: "DeployTarget", stage: str, dry_run: bool,
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


def _say_diagnostics(prepared: "Prepared") -> None:
    for diagnostic in prepared.warnings:
        if diagnostic.code != "CONFIG_WARNING":  # service.warnings, printed before
            render.info(diagnostic.render())


def _deploy(
    stage: str | None,
    region: str | None,
    target: str,
    aws_profile: str | None,
    dry_run: bool,
    json_out: bool,
) -> None:
    import time

    from tooling import session
    from tooling.deploy import phases
    from tooling.staleness import record_sources
    from tooling.statedir import state_path

    service, deploying, record = _open_deploy(stage, region, target, aws_profile)
    for warning in service.warnings:
        render.info(f"warning: {warning}")
    chosen = options(stage, region, target, aws_profile)
    started = time.monotonic()
    outcome = phases.deploy(
        service,
        lambda values: session.load(chosen, resource_values=values),
        deploying,
        record,
        state_path(service.directory, "build", create=True),
        dry_run=dry_run,
        on_change=_progress,
        on_warning=lambda warning: render.info(f"warning: {warning}"),
        on_prepared=_say_diagnostics,
    )
    if not dry_run:  # what `tool invoke` compares the sources with
        record_sources(outcome.service, deploying.target, _deployed_files(outcome.prepared))
        deploying.warm_up()
    _render_plan(outcome.plan, outcome.changes, deploying, service.stage, dry_run, json_out)
    if not dry_run and any(change.action != "unchanged" for change in outcome.changes):
        render.info(f"deployed in {time.monotonic() - started:.1f} s")


def _deployed_files(prepared: "Prepared") -> tuple[str, ...]:
    packages = [prepared.package, *prepared.function_packages.values()]
    names = {name for package in packages if package for name in (package.sources or package.files)}
    for key, package in prepared.layer_packages.items():  # a layer's files, from its folder
        folder = prepared.service.layers[key].path
        if folder is not None:
            names |= {name if folder == "." else f"{folder}/{name}" for name in package.files}
    return tuple(sorted(names))


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
    from tooling.deploy.plan import plan_remove

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
    from tooling.deploy.plan import describe_deployment

    service, deploying, record = _open_deploy(stage, region, target, aws_profile)
    found, foreign = describe_deployment(service, deploying, record)
    for item in foreign:
        render.info(f"warning: {item.address} exists and was {item.reason}")
    api_keys = [d.api_key for d in found if d.api_key is not None]
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
                "apiKeys": api_keys,
            }
        )
        return
    if not found:
        render.info(f"nothing deployed (run `tool deploy{_flag(deploying.target)}`)")
        return
    render.table(
        [[d.kind, d.name, d.details, d.arn] for d in found], ["KIND", "NAME", "DETAILS", "ARN"]
    )
    if api_keys:  # as `sls info` lists them
        render.data("api keys:")
        for key in api_keys:
            about = f" - {key['description']}" if key.get("description") else ""
            render.data(f"  {key['name']}: {key['value']}{about}")


def _machine_for(
    service: "ServiceConfig", state_machine: str | None, name: str | None
) -> "StateMachineConfig":
    """The state machine from --state-machine, or from --name as `sls invoke stepf --name`
    uses it. A --name that is no state machine is refused: AWS CLI users mean the execution."""
    from tooling import session

    if name is None:
        return session.pick_state_machine(service, state_machine)
    machines = service.state_machines
    if name not in machines and not any(m.name == name for m in machines.values()):
        raise InputError(
            f"--name {name!r} is no state machine of {service.config_file.name}: in `tool "
            "invoke`, --name names the state machine, as in `sls invoke stepf`",
            hint=f"to name the execution, use --execution-name {name}; state machines: "
            + (", ".join(sorted(machines)) or "none"),
        )
    if state_machine is not None and session.pick_state_machine(
        service, state_machine
    ) is not session.pick_state_machine(service, name):
        raise InputError(
            f"--name {name!r} and --state-machine {state_machine!r} name different state machines",
            hint="give one of them",
        )
    return session.pick_state_machine(service, name)


def _mock_selection(
    mock: Path, test_case: str | None, names: list[str], definition: Any
) -> dict[str, Any]:
    """The mock file checked against the definition, kept as the worker rebuilds it."""
    from tooling.adhoc import read_mock_file
    from tooling.engine.mocks import TaskMocks

    config, source = read_mock_file(mock)
    mocks = TaskMocks.from_config(config, source, machine_names=names, test_case=test_case)
    mocks.check_states(definition)
    return {"config": config, "machines": names, "testCase": test_case}


def _warn_if_stale(service: "ServiceConfig", backend: "Backend") -> None:
    from tooling.staleness import changed_sources

    changed = changed_sources(service, backend.target)
    if changed:
        shown = ", ".join(changed[:3]) + (
            f" and {len(changed) - 3} more" if len(changed) > 3 else ""
        )
        flag = _target_flag(backend)
        render.info(
            f"warning: {shown} changed since the last deploy; this run uses the deployed code "
            f"(`tool deploy{flag}` first, or `tool invoke{flag} --deploy`)"
        )


@app.command()
def invoke(
    input: InputOpt = None,
    path: PathOpt = None,
    data: DataOpt = None,
    state_machine: MachineOpt = None,
    name: Annotated[
        str | None,
        typer.Option(
            "--name",
            "-n",
            help="The state machine, as `sls invoke stepf --name` (key or deployed name).",
        ),
    ] = None,
    execution_name: Annotated[
        str | None,
        typer.Option(
            "--execution-name",
            help="Name of the execution (default: a new UUID); AWS CLI's start-execution --name.",
        ),
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
    mock: MockOpt = None,
    test_case: TestCaseOpt = None,
    deploy_first: Annotated[
        bool,
        typer.Option("--deploy", help="Deploy what changed first (as `tool deploy` would)."),
    ] = False,
    stage: StageOpt = None,
    region: RegionOpt = None,
    target: TargetOpt = "local",
    aws_profile: AwsProfileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Start an execution of a deployed state machine and follow it to its end.

    The input comes from --input/--path (JSON or YAML) or --data (inline JSON); none: {}.
    Warns when the sources changed since the last deploy (--deploy deploys them first)."""
    from tooling.follow import new_execution_name
    from tooling.inputs import read_execution_input
    from tooling.names import check_execution_name

    if no_wait and graph is not None:
        raise InputError(
            "--graph draws the run when it ends, and --no-wait does not wait for that",
            hint="drop one of them; `tool graph --execution NAME -o FILE` draws it later",
        )
    if test_case is not None and mock is None:
        raise InputError("--test-case chooses a test case of a mock file", hint="add --mock FILE")
    if mock is not None and target != "local":
        raise InputError(
            "--mock works on the local target only: AWS runs the real integrations",
            hint="drop --mock, or run it locally (--target local)",
        )
    text = read_execution_input(input, data=data, path=path)
    run_name = execution_name if execution_name is not None else new_execution_name()
    check_execution_name(run_name)
    graph_format = None
    if graph is not None:  # fail before starting
        from tooling.graph.output import check_output

        graph_format = check_output(graph, format_option=False)
    if deploy_first:
        import contextlib
        import sys

        with contextlib.redirect_stdout(sys.stderr):  # stdout is for the run's output
            _deploy(stage, region, target, aws_profile, dry_run=False, json_out=False)
    service, backend = open_target(stage, region, target, aws_profile, clock)
    machine = _machine_for(service, state_machine, name)
    mocks_kept = None
    if mock is not None:
        mocks_kept = _mock_selection(
            mock, test_case, [machine.name, machine.key], machine.definition
        )
    if not deploy_first:
        _warn_if_stale(service, backend)
    if mocks_kept is not None:
        import json

        from tooling.backends.local import LocalBackend

        assert isinstance(backend, LocalBackend)  # --mock is refused on other targets above
        started = backend.start_execution(machine.arn, run_name, text, mocks=json.dumps(mocks_kept))
    else:
        started = backend.start_execution(machine.arn, run_name, text)
    arn = started["executionArn"]
    render.info(f"execution {run_name} of {machine.name}")
    if no_wait:
        if json_out:
            render.json_document(
                {"executionArn": arn, "startDate": started["startDate"].isoformat()}
            )
        else:
            render.data(arn)
        return
    followed = _follow(backend, arn, run_name, timeout)
    if graph is not None:
        from tooling.graph.output import render_execution_graph

        render_execution_graph(machine.definition, followed.events, graph, graph_format)
        render.info(f"wrote {graph}")
    _finish(followed.description, followed.events, json_out)


def _follow(backend: "Backend", arn: str, name: str, timeout: float | None) -> Any:
    """Follow a started execution on stderr: events, handler output, what it waits for."""
    from tooling.follow import AWS_POLLING, LOCAL_POLLING, follow_execution

    printer = render.EventPrinter()
    flag = _target_flag(backend)
    try:
        followed = follow_execution(
            backend,
            arn,
            on_event=printer,
            on_log=render.log_line,
            on_wait=render.show_wait,
            polling=LOCAL_POLLING if backend.target == "local" else AWS_POLLING,
            timeout=timeout,
        )
    except KeyboardInterrupt:
        render.show_wait(None)
        raise explain_interrupt(
            f"stopped following; execution {name} goes on: `tool history{flag} --follow {name}` "
            f"follows it again, `tool stop{flag} {name}` stops it"
        ) from None
    if followed.timed_out:
        render.info(
            f"stopped following after {timeout:g} s; execution {name} is still "
            f"{followed.description['status']} (`tool history{flag} --follow {name}` "
            "follows it again)"
        )
    return followed


def _finish(
    description: dict[str, Any],
    events: list[dict[str, Any]],
    json_out: bool,
    whole_cause: str | None = None,
) -> None:
    from tooling.follow import execution_result

    if json_out:
        render.json_document(execution_result(description, events))
    else:
        render.execution_outcome(description, whole_cause)
    if description["status"] != "SUCCEEDED":
        raise typer.Exit(1)


@app.command()
def run(
    definition: Annotated[
        Path, typer.Argument(help="State machine definition (JSON) to run as is.")
    ],
    input: InputOpt = None,
    path: PathOpt = None,
    data: DataOpt = None,
    clock: ClockOpt = "real",
    mock: MockOpt = None,
    test_case: TestCaseOpt = None,
    machine_type: Annotated[
        str, typer.Option("--type", help="STANDARD or EXPRESS (as the machine would be deployed).")
    ] = "STANDARD",
    stage: StageOpt = None,
    region: RegionOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Run a definition file without deploying it. Lambda tasks use this folder's serverless.yml.

    The run is not kept: its history and output are printed here (--json for all of it)."""
    from tooling.adhoc import run_definition
    from tooling.inputs import read_execution_input

    if test_case is not None and mock is None:
        raise InputError("--test-case chooses a test case of a mock file", hint="add --mock FILE")
    text = read_execution_input(input, data=data, path=path)
    quiet = json_out
    try:
        description, events = run_definition(
            definition,
            text,
            options(stage, region),
            on_event=None if quiet else render.EventPrinter(),
            on_log=None if quiet else render.log_line,
            on_wait=None if quiet else render.show_wait,
            clock_kind=clock,
            mock_file=mock,
            test_case=test_case,
            machine_type=machine_type,
        )
    except KeyboardInterrupt:
        render.show_wait(None)
        raise explain_interrupt(
            "interrupted: the run stopped here (`tool run` keeps nothing; "
            "`tool invoke` runs a deployed machine that goes on without you)"
        ) from None
    render.show_wait(None)
    _finish(description, events, json_out, whole_cause="run again with --json")


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
    from tooling import session

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
        render.info(f"no executions yet (`tool invoke{_target_flag(backend)}` starts one)")
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
        colour=(1, render.status_colour),
    )


@app.command()
def history(
    execution: Annotated[str, typer.Argument(help="Execution name or ARN.")],
    follow: Annotated[
        bool,
        typer.Option(
            "--follow", "-f", help="Follow a running execution to its end, as `invoke` does."
        ),
    ] = False,
    stage: StageOpt = None,
    region: RegionOpt = None,
    target: TargetOpt = "local",
    aws_profile: AwsProfileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Show an execution's history with its handlers' output (and its result once it ended).

    With --follow, re-attach to a running execution and follow it to its end."""
    import sys

    from tooling.follow import TERMINAL_STATUSES, execution_result

    service, backend = open_target(stage, region, target, aws_profile)
    arn = backend.resolve_execution(execution)
    if json_out and not follow:
        render.json_document(
            execution_result(backend.describe_execution(arn), backend.history_since(arn, 0))
        )
        return
    if follow:
        name = backend.describe_execution(arn)["name"]
        followed = _follow(backend, arn, name, None)
        _finish(followed.description, followed.events, json_out)
        return
    from tooling.follow import follow_execution

    printer = render.EventPrinter(stream=sys.stdout)
    followed = follow_execution(
        backend,
        arn,
        on_event=printer,
        on_log=lambda entry: render.log_line(entry, sys.stdout),
        timeout=0,  # one read of what is there
    )
    description = followed.description
    if description["status"] in TERMINAL_STATUSES:
        render.execution_outcome(description)
    else:
        flag = _target_flag(backend)
        render.info(
            f"execution {description['name']} is {description['status']} "
            f"(`tool history{flag} --follow {description['name']}` follows it)"
        )


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
    from tooling.names import check_stop_reason

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
    function_arg: Annotated[
        str | None,
        typer.Argument(
            metavar="[FUNCTION]",
            help="Function key in serverless.yml, or its deployed name (default: all of them).",
        ),
    ] = None,
    function: Annotated[
        str | None,
        typer.Option("--function", "-f", help="The function, as `sls logs -f` takes it."),
    ] = None,
    tail: Annotated[
        bool, typer.Option("--tail", "-t", help="Keep printing new lines as they come (Ctrl-C).")
    ] = False,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            "--startTime",
            "--start-time",
            help="Only lines from this time on: 30s, 10m, 2h, 1d ago, or an ISO 8601 time.",
        ),
    ] = None,
    filter_text: Annotated[
        str | None, typer.Option("--filter", help="Only lines containing this text.")
    ] = None,
    execution: Annotated[
        str | None,
        typer.Option(
            "--execution", "-e", help="Only what handlers printed in this execution (local)."
        ),
    ] = None,
    stage: StageOpt = None,
    region: RegionOpt = None,
    target: TargetLongOpt = "local",
    aws_profile: AwsProfileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Print what deployed functions printed, oldest first (Lambda's START/END/REPORT too)."""
    from tooling import function_logs

    if function_arg is not None and function is not None and function_arg != function:
        raise InputError(
            f"two functions given: {function_arg!r} and -f {function!r}", hint="give one"
        )
    if json_out and tail:
        raise InputError(
            "--json prints one object when the command ends, and --tail does not end",
            hint="drop one of them",
        )
    query = function_logs.LogQuery(
        since=function_logs.parse_since(since) if since is not None else None,
        text=filter_text,
    )
    service, backend = open_target(stage, region, target, aws_profile)
    sources = function_logs.sources_for(
        service, backend, function_arg or function, execution, hint_flag=_target_flag(backend)
    )
    lines = function_logs.read(sources, query)
    if json_out:
        render.json_document({"events": [line.to_json() for line in lines]})
        return
    for line in lines:
        render.data(line.render())
    if not tail:
        if not lines:
            render.info(sources.nothing_yet(query))
        return
    try:
        for line in function_logs.follow(sources, query):
            render.data(line.render())
    except KeyboardInterrupt:
        raise explain_interrupt("stopped following the logs") from None


def _target_flag(backend: "Backend") -> str:
    """` --target aws` when the command acted on AWS: the hint's command must act there too."""
    return _flag(backend.target)


def _flag(target: str) -> str:
    return "" if target == "local" else f" --target {target}"
