"""`tool validate [DEFINITION ...] [--json]`: check definitions, or the whole service."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tooling import render
from tooling.cli.app import JsonOpt, RegionOpt, StageOpt, app, options

if TYPE_CHECKING:
    from tooling.validate import Diagnostic


@app.command()
def validate(
    definitions: Annotated[
        list[Path] | None,
        typer.Argument(help="Definition files to check alone (default: the whole service)."),
    ] = None,
    stage: StageOpt = None,
    region: RegionOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Check definitions, handlers and serverless.yml; exit 2 when there is an error."""
    from tooling.validate import has_errors, validate_directory, validate_file

    if definitions:
        diagnostics: list[Diagnostic] = []
        for path in definitions:
            diagnostics += validate_file(path, str(path))
        checked = f"{len(definitions)} definition{'s' if len(definitions) > 1 else ''}"
    else:
        diagnostics = validate_directory(options(stage, region))
        checked = "the service"
    if json_out:
        render.json_document({"diagnostics": [d.to_json() for d in diagnostics]})
    else:
        for diagnostic in diagnostics:
            render.data(diagnostic.render())
        errors = sum(1 for d in diagnostics if d.is_error)
        warnings = len(diagnostics) - errors
        if diagnostics:
            render.info(
                f"{errors} error{'s' if errors != 1 else ''}, "
                f"{warnings} warning{'s' if warnings != 1 else ''} in {checked}"
            )
        else:
            render.info(f"ok: no problem found in {checked}")
    if has_errors(diagnostics):
        raise typer.Exit(2)
