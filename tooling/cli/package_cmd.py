"""package: build the service's packages as `tool deploy` does, and show what goes in."""

from typing import Annotated, Any

import typer

from tooling import render
from tooling.cli.app import JsonOpt, RegionOpt, StageOpt, app, options


@app.command("package")
def package(
    list_files: Annotated[
        bool, typer.Option("--list", help="Print every file the packages hold, one a line.")
    ] = False,
    stage: StageOpt = None,
    region: RegionOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Build the packages deploy uploads (.tool/build/) and show their files."""
    from tooling import session
    from tooling.package import build_layer_package, build_packages, check_handlers
    from tooling.statedir import state_path

    service = session.load(options(stage, region))
    check_handlers(service)
    build = state_path(service.directory, "build", create=True)
    built = build_packages(service, build)
    packages: dict[str, dict[str, Any]] = {}  # by path: a package several functions share
    for key, layer in service.layers.items():  # the service's own layers: a zip each
        item = build_layer_package(service, layer, build)
        packages[str(item.path)] = {
            "path": str(item.path),
            "codeSha256": item.sha256,
            "size": item.size,
            "functions": [],
            "layer": key,
            "files": list(item.files),
            "warnings": [{"file": w.file, "message": w.message} for w in item.warnings],
        }
        for warning in item.warnings:
            render.info(warning.render())
    for key, item in built.functions.items():
        entry = packages.setdefault(
            str(item.path),
            {
                "path": str(item.path),
                "codeSha256": item.sha256,
                "size": item.size,
                "functions": [],
                "files": list(item.files),
                "warnings": [{"file": w.file, "message": w.message} for w in item.warnings],
            },
        )
        entry["functions"].append(key)
        if entry["functions"] == [key]:
            for warning in item.warnings:
                render.info(warning.render())
    if json_out:
        render.json_document({"packages": list(packages.values())})
        return
    if not packages:
        render.info("the service has no function: nothing to package")
        return
    several = len(packages) > 1
    for entry in packages.values():
        if not list_files:
            render.data(entry["path"])
            render.info(
                f"{entry['path']}: {len(entry['files'])} files, {entry['size']:,} bytes, "
                f"CodeSha256 {entry['codeSha256']} "
                + (
                    f"(layer: {entry['layer']})"
                    if "layer" in entry
                    else f"(functions: {', '.join(entry['functions'])})"
                )  # fmt: skip
            )
            continue
        for name in entry["files"]:
            # With several packages, each line names its package first.
            render.data(f"{entry['path']}: {name}" if several else name)
