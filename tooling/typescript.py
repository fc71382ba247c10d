"""TypeScript handlers, built as Serverless' build plugins build them: one bundle per handler.

Lambda's Node.js runtime loads `.js`, `.mjs` or `.cjs` files. A Serverless project whose
handlers are `.ts` files has them built by a plugin (serverless-esbuild,
serverless-plugin-typescript, serverless-webpack, serverless-bundle) or by Serverless v4 itself
(`build.esbuild`, on unless set to false; v3 deployed them unbuilt, which Lambda cannot load,
so the toolkit builds them whatever `frameworkVersion` says). The toolkit runs no plugin; it
builds each such handler the way serverless-esbuild does by default, with the esbuild of the
project's own `node_modules` (installed with `npm ci`, as Serverless needs for its plugins),
else the one on PATH: the
handler's file and what it imports bundled into one CommonJS file at the handler's path with
`.js`, for the function's Node.js version, `aws-sdk` (v2, which the older runtimes provide)
left out. Each such function gets a package of its own holding that file. The plugins' build
options (webpack configurations, `build.esbuild` settings) are not read.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

from tooling.config import runtimes
from tooling.config.program_config import esbuild_in
from tooling.config.service import FunctionConfig, ServiceConfig
from tooling.errors import HandlerError
from tooling.statedir import inside

BUILD_SECONDS = 300.0  # a bundle of a large project on a slow machine


def typescript_source(service: ServiceConfig, function: FunctionConfig) -> str | None:
    """The `.ts` file (relative to the service folder) a Node.js handler names, when its
    handler has no JavaScript file of its own."""
    if function.runtime_family != runtimes.NODEJS or function.package_artifact is not None:
        return None
    base = function.handler_file.removesuffix(".js")
    for ext in runtimes.NODE_EXTENSIONS:
        if ext and (service.directory / (base + ext)).is_file():
            return None
    source = base + ".ts"
    return source if (service.directory / source).is_file() else None


def built_name(function: FunctionConfig) -> str:
    """Where the bundle stands in the package: the handler's path with `.js`."""
    return function.handler_file.removesuffix(".js") + ".js"


def find_esbuild(service: ServiceConfig) -> Path | None:
    """The esbuild of the project's node_modules, else the one on PATH."""
    return esbuild_in(service.directory)


def check_buildable(service: ServiceConfig, function: FunctionConfig, source: str) -> Path:
    """The esbuild that builds a `.ts` handler: the service must name what builds it, and an
    esbuild must be installed; otherwise one line says what to do."""
    where = f"function '{function.key}', handler {function.handler}"
    if service.typescript_build is None:
        raise HandlerError(
            f"handler file {source} is TypeScript, and Lambda's Node.js runtime loads .js, .mjs "
            f"or .cjs ({where}; `build.esbuild: false` turns off the build that Serverless v4, "
            "and the toolkit, make of .ts handlers)",
            file=source,
            hint="drop `esbuild: false` from `build:`, compile the handler into the folder "
            "first, or point package.artifact at the built zip",
        )
    esbuild = find_esbuild(service)
    if esbuild is None:
        raise HandlerError(
            f"handler file {source} is TypeScript, built for Serverless by "
            f"{service.typescript_build}; the toolkit builds it with esbuild, and neither "
            f"node_modules/.bin/esbuild nor an esbuild on PATH is installed ({where})",
            file=source,
            hint="install the project's packages (npm ci; add esbuild to devDependencies if "
            "they lack it) or esbuild itself (npm install -g esbuild), or compile the handler "
            "into the folder first",
        )
    return esbuild


def build_bundle(
    service: ServiceConfig, function: FunctionConfig, source: str, out_dir: Path
) -> tuple[Path, tuple[str, ...]]:
    """Bundle the handler's source into `<out_dir>/typescript/<function key>/<handler path>.js`;
    the bundle, and the service's files it was built from (what `tool invoke` watches for
    edits; modules of node_modules are not among them)."""
    esbuild = check_buildable(service, function, source)
    target = inside(out_dir / "typescript" / function.key, built_name(function))
    target.parent.mkdir(parents=True, exist_ok=True)
    metafile = target.parent / "meta.json"
    version = re.match(r"nodejs(\d+)", function.runtime)
    command = [
        str(esbuild),
        source,
        "--bundle",
        "--platform=node",
        f"--target=node{version.group(1) if version else '18'}",
        "--format=cjs",
        "--external:aws-sdk",
        f"--outfile={target}",
        f"--metafile={metafile}",
        "--log-level=error",
    ]
    environment = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    try:
        done = subprocess.run(
            command,
            cwd=service.directory,
            env=environment,
            capture_output=True,
            text=True,
            timeout=BUILD_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise HandlerError(
            f"esbuild could not build {source} (function '{function.key}'): {exc}", file=source
        ) from None
    if done.returncode != 0 or not target.is_file():
        lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
        # esbuild's own errors start with "✘ [ERROR]"; a broken install throws an Error.
        first = next((line for line in lines if "error" in line.lower()), None)
        first = first or (lines[0] if lines else f"exit status {done.returncode}")
        raise HandlerError(
            f"esbuild could not build {source} (function '{function.key}'): {first.strip()}",
            file=source,
            hint=f"run `node_modules/.bin/esbuild {source} --bundle --platform=node` to see why",
        )
    return target, _inputs(service, metafile, source)


def _inputs(service: ServiceConfig, metafile: Path, source: str) -> tuple[str, ...]:
    try:
        inputs = json.loads(metafile.read_text()).get("inputs", {})
    except (OSError, ValueError, AttributeError):
        inputs = {}
    found = {source}
    for name in inputs if isinstance(inputs, dict) else ():
        path = (service.directory / name).resolve()
        if path.is_relative_to(service.directory.resolve()) and "node_modules" not in path.parts:
            found.add(path.relative_to(service.directory.resolve()).as_posix())
    return tuple(sorted(found))
