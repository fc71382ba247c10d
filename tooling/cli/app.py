"""The Typer app, and the options every command shares."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tooling import render, session
from tooling.backends.base import Backend
from tooling.config.service import ServiceConfig

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Deploy, run and follow AWS Step Functions services described by serverless.yml.",
)

StageOpt = Annotated[
    str | None, typer.Option("--stage", "-s", help="Stage (default: provider.stage, then dev).")
]
RegionOpt = Annotated[
    str | None, typer.Option("--region", "-r", help="Region (default: provider.region).")
]
TargetOpt = Annotated[
    str,
    typer.Option(
        "--target",
        "-t",
        envvar="TOOL_TARGET",
        help="Where to act: local (the embedded runtime) or aws.",
    ),
]
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
        help="State machine key in serverless.yml (needed when there are several).",
    ),
]


_params: list[str] = []  # --param KEY=VALUE, accepted anywhere on the line (main moves them)
_config: list[str] = []  # --config NAME, likewise


@app.callback()
def _global(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
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
            help="The service file, when it is not serverless.yml (.yml, .yaml or .json in "
            "the current folder).",
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
) -> session.Options:
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
) -> tuple[ServiceConfig, Backend]:
    """The service and its target, announced on stderr (target, stage, region, account)."""
    session.check_clock(target, clock)  # before any AWS call
    service = session.load(options(stage, region, target, aws_profile))
    backend = session.backend_for(service, target, clock)
    render.info(session.banner(service, backend))
    return service, backend
