"""package: build the service's package as `tool deploy` does, and show what goes in."""

from __future__ import annotations

from typing import Annotated

import typer

from tooling import render, session
from tooling.cli.app import JsonOpt, RegionOpt, StageOpt, app, options


@app.command("package")
def package(
    list_files: Annotated[
        bool, typer.Option("--list", help="Print every file the package holds, one a line.")
    ] = False,
    stage: StageOpt = None,
    region: RegionOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Build the package that deploy uploads (.tool/build/<service>.zip) and show its files."""
    from tooling.package import build_package, check_handlers
    from tooling.statedir import state_path

    service = session.load(options(stage, region))
    check_handlers(service)
    built = build_package(service, state_path(service.directory, "build"))
    for warning in built.warnings:
        render.info(warning.render())
    if json_out:
        render.json_document(
            {
                "path": str(built.path),
                "codeSha256": built.sha256,
                "size": built.size,
                "files": list(built.files),
                "warnings": [{"file": w.file, "message": w.message} for w in built.warnings],
            }
        )
        return
    if list_files:
        for name in built.files:
            render.data(name)
        return
    render.data(str(built.path))
    render.info(f"{len(built.files)} files, {built.size:,} bytes, CodeSha256 {built.sha256}")
