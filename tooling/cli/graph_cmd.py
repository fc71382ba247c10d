"""`tool graph`: the picture of a state machine, and of what one of its runs did."""

import sys
from pathlib import Path
from typing import Annotated

import typer

from tooling import render as console
from tooling.cli.app import AwsProfileOpt, MachineOpt, RegionOpt, StageOpt, TargetOpt, app, options
from tooling.errors import BadInput


@app.command()
def graph(
    definition: Annotated[
        Path | None,
        typer.Argument(help="A definition file (JSON) to draw instead of the service's machine."),
    ] = None,
    state_machine: MachineOpt = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="File to write (default: stdout, dot or mermaid)."),
    ] = None,
    format: Annotated[
        str | None,
        typer.Option(
            "--format", "-f", help="svg, png, dot or mermaid (default: from the -o extension)."
        ),
    ] = None,
    execution: Annotated[
        str | None,
        typer.Option(
            "--execution", "-e", help="Lay this execution's run over the picture (name or ARN)."
        ),
    ] = None,
    stage: StageOpt = None,
    region: RegionOpt = None,
    target: TargetOpt = "local",
    aws_profile: AwsProfileOpt = None,
) -> None:
    """Draw the state machine: Start, End, every state and transition.

    With --execution, colour each state by what the run did and count each edge it took."""
    from tooling import session
    from tooling.graph import build_graph, overlay_execution, pick_format, render, sources, write

    fmt = pick_format(output, format)
    if output is None and fmt == "png":
        raise BadInput("png output is binary", hint="write it to a file with -o FILE.png")
    opts = options(stage, region, target, aws_profile)
    machine, run = sources.choose(
        definition,
        state_machine,
        execution,
        opts,
        on_target=lambda service, backend: console.info(session.banner(service, backend)),
    )
    picture = build_graph(machine.definition, machine.source)
    overlay = overlay_execution(picture, run.events) if run is not None else None
    title = sources.run_title(machine, run) if run is not None else machine.name
    if output is None:
        sys.stdout.buffer.write(render(picture, fmt, overlay=overlay, title=title))
        sys.stdout.flush()
        return
    write(picture, output, fmt, overlay=overlay, title=title)
    console.info(f"wrote {output} ({fmt})")
