"""The Typer app, and the options every command shares.

Start-up stays fast: this module and the command modules import Typer and nothing heavy at
load time; each command imports what it uses inside its function, so `tool --help` loads no
engine, no deploy code and no boto3 (tests/cli/test_startup.py checks it).
"""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from tooling import session
    from tooling.backends.base import Backend
    from tooling.config.service import ServiceConfig

app = typer.Typer(
    add_completion=True,  # --install-completion / --show-completion (bash, zsh, fish)
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help; usage errors are one line (see tooling.cli.main)
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Deploy, run and follow AWS Step Functions services described by serverless.yml.",
)

StageOpt = Annotated[
    str | None, typer.Option("--stage", "-s", help="Stage (default: provider.stage, then dev).")
]
RegionOpt = Annotated[
    str | None, typer.Option("--region", "-r", help="Region (default: provider.region).")
]
_TARGET_HELP = "Where to act: local (the embedded runtime) or aws."
TargetOpt = Annotated[str, typer.Option("--target", "-t", envvar="TOOL_TARGET", help=_TARGET_HELP)]
# `tool logs` keeps -t for --tail, as `sls logs` does.
TargetLongOpt = Annotated[str, typer.Option("--target", envvar="TOOL_TARGET", help=_TARGET_HELP)]
AwsProfileOpt = Annotated[
    str | None,
    typer.Option(
        "--aws-profile",
        envvar="TOOL_AWS_PROFILE",
        help="AWS profile for --target aws (default: provider.profile, then AWS_PROFILE).",
    ),
]
ClockOpt = Annotated[
    str,
    typer.Option(
        "--clock",
        help="real, or virtual: Wait states and Retry intervals take no real time (local only).",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]
MachineOpt = Annotated[
    str | None,
    typer.Option(
        "--state-machine",
        "-m",
        help="State machine key in serverless.yml, or its deployed name (needed when there are "
        "several).",
    ),
]
# The execution input, the ways sls and sam users give it. None of them: {}.
InputOpt = Annotated[
    str | None,
    typer.Option("--input", "-i", help="Input file (JSON, or YAML for .yml/.yaml), - for stdin."),
]
PathOpt = Annotated[
    str | None,
    typer.Option("--path", "-p", help="Input file, JSON or YAML (as `sls invoke stepf --path`)."),
]
DataOpt = Annotated[
    str | None,
    typer.Option("--data", "-d", help='Input as inline JSON, e.g. -d \'{"key1": "v"}\'.'),
]
MockOpt = Annotated[
    Path | None,
    typer.Option(
        "--mock",
        help="Answer Task states from a mock file: Step Functions Local's MockConfigFile, or "
        '{"State": {"0": {"Return": ...}}} (docs/engine.md).',
    ),
]
TestCaseOpt = Annotated[
    str | None,
    typer.Option("--test-case", help="The TestCases entry of a Step Functions Local mock file."),
]


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"tool {version('tooling')}")
        raise typer.Exit()


_params: list[str] = []  # --param KEY=VALUE, accepted anywhere on the line (main moves them)
_config: list[str] = []  # --config NAME, likewise


@app.callback()
def _global(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            help="KEY=VALUE for ${param:KEY} (repeatable); wins over params: in serverless.yml.",
        ),
    ] = None,
    config: Annotated[
        str | None,
        typer.Option(
            "--config",
            help="The service file, when it is not serverless.yml (.yml, .yaml, .json, or a "
            "program: .js, .mjs, .cjs, .ts; in the current folder).",
        ),
    ] = None,
) -> None:
    """Deploy, run and follow AWS Step Functions services described by serverless.yml."""
    _params[:] = param or []
    _config[:] = [config] if config else []


def options(
    stage: str | None,
    region: str | None,
    target: str = "local",
    aws_profile: str | None = None,
) -> "session.Options":
    from tooling import session

    return session.Options(
        stage=stage,
        region=region,
        target=target,
        aws_profile=aws_profile,
        directory=Path.cwd(),
        params=tuple(_params),
        config=_config[0] if _config else None,
    )


def open_target(
    stage: str | None,
    region: str | None,
    target: str,
    aws_profile: str | None,
    clock: str = "real",
) -> "tuple[ServiceConfig, Backend]":
    """The service and its target, announced on stderr (target, stage, region, account)."""
    from tooling import render, session

    session.check_clock(target, clock)  # before any AWS call
    service = session.load(options(stage, region, target, aws_profile))
    backend = session.backend_for(service, target, clock)
    render.info(session.banner(service, backend))
    return service, backend
