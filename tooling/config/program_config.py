"""serverless.ts, .js, .mjs and .cjs: configurations written as programs, read as Serverless
reads them (lib/configuration/read.js): the module's default export, else the module itself,
which must be a plain object; its JSON form is the configuration, whose `${...}` variables are
then resolved like a YAML file's.

Serverless runs them with Node.js (`.ts` through tsx). The toolkit does the same with the
`node` on PATH; a `.ts` file is first bundled with esbuild (the project's, else the one on
PATH, as for TypeScript handlers), its npm packages left to Node.js to load from the project's
node_modules. Nothing is written: the bundle goes to Node.js through a pipe. The program runs
in the service folder with the caller's environment, less AWS credentials (a configuration has
no use for them, and the toolkit reads AWS itself). It is bounded: `PROGRAM_SECONDS` to run,
`MAX_OUTPUT` bytes of configuration, `MAX_DEPTH` levels of nesting.

A program has no lines to point at for what it made: problems in its configuration name the
file and the key (e.g. `serverless.ts: /functions/hello/handler`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tooling.errors import ConfigError

PROGRAM_CONFIG_EXTENSIONS = (".js", ".mjs", ".cjs", ".ts")
PROGRAM_SECONDS = 60.0  # a bundle and a run of a large configuration on a slow machine
MAX_OUTPUT = 16 * 1024 * 1024
MAX_DEPTH = 200  # as for YAML (tooling.config.yaml_loader)
CREDENTIALS = frozenset({"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"})

# Loads the module (a bundle from stdin, compiled as if it were the file, or the file itself
# through import(), which takes CommonJS and ES modules alike) and prints its JSON form.
_LOADER = r"""
const Module = require('module');
const path = require('path');
const { pathToFileURL } = require('url');
const [mode, file] = process.argv.slice(1);
async function load() {
  if (mode === 'bundle') {
    const code = require('fs').readFileSync(0, 'utf8');
    const loaded = new Module(file, null);
    loaded.filename = file;
    loaded.paths = Module._nodeModulePaths(path.dirname(file));
    loaded._compile(code, file);
    return loaded.exports;
  }
  return import(pathToFileURL(file).href);
}
load().then((content) => {
  const config = (content && content.default) || content;
  const object = config !== null && typeof config === 'object';
  const proto = object ? Object.getPrototypeOf(config) : 0;
  if (proto !== Object.prototype && proto !== null) {
    const what = config instanceof Promise ? 'a Promise' : typeof config;
    process.stderr.write('TOOL_NOT_PLAIN ' + what);
    process.exit(3);
  }
  process.stdout.write(JSON.stringify(config));
}).catch((error) => {
  process.stderr.write(String((error && error.stack) || error));
  process.exit(4);
});
"""
# esbuild's first error: "✘ [ERROR] message\n\n    file.ts:3:12:" (its default log format).
_ESBUILD_ERROR = re.compile(
    r"\[ERROR\] (?P<message>.+?)\n\s*\n\s*(?P<file>[^\s:]+):(?P<line>\d+):(?P<column>\d+):"
)
_STACK_AT = re.compile(r"\((?P<file>[^()]+):(?P<line>\d+):(?P<column>\d+)\)")


def is_program(name: str) -> bool:
    return Path(name).suffix in PROGRAM_CONFIG_EXTENSIONS


def esbuild_in(directory: Path, search_path: str | None = None) -> Path | None:
    """The esbuild of the project's node_modules (in the service folder, never above it), else
    the one on `search_path` (default PATH; Serverless v4 carries its own, so its projects often
    have none)."""
    candidate = directory / "node_modules" / ".bin" / "esbuild"
    try:
        resolved = candidate.resolve(strict=True)
    except OSError:
        on_path = shutil.which("esbuild", path=search_path)
        return Path(on_path) if on_path else None
    return resolved if os.access(resolved, os.X_OK) else None


def find_node(env: Mapping[str, str]) -> str | None:
    return shutil.which("node", path=env.get("PATH", os.environ.get("PATH")))


def program_env(env: Mapping[str, str]) -> dict[str, str]:
    """The environment a configuration program runs in: the caller's, less AWS credentials."""
    return {k: v for k, v in env.items() if k not in CREDENTIALS}


def read_program(directory: Path, name: str, env: Mapping[str, str]) -> Any:
    """The configuration `directory/name` makes, as JSON data; ConfigError when it cannot be
    run or makes no plain object."""
    node = find_node(env)
    if node is None:
        raise ConfigError(
            f"{name} is a program, which Serverless runs with Node.js to get the configuration, "
            "and there is no `node` on PATH",
            file=name,
            hint="install Node.js, or write the configuration out once: "
            f"`npx serverless print --config {name} > serverless.yml`",
        )
    path = (directory / name).resolve()
    clean_env = program_env(env)
    bundle = bundle_typescript(directory, name, clean_env) if path.suffix == ".ts" else None
    try:
        done = subprocess.run(
            [node, "--enable-source-maps", "-e", _LOADER, "bundle" if bundle else "file",
             str(path)],
            input=bundle, capture_output=True, cwd=directory, env=clean_env,
            timeout=PROGRAM_SECONDS, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        raise ConfigError(
            f"{name} did not make its configuration in {PROGRAM_SECONDS:.0f} s", file=name
        ) from None
    stderr = done.stderr.decode("utf-8", errors="replace")
    if done.returncode == 3:
        what = stderr.removeprefix("TOOL_NOT_PLAIN ").strip()
        raise ConfigError(
            f"{name} exports {what}, and Serverless expects a plain object (the configuration)",
            file=name,
            hint="export the configuration object itself (module.exports = {...} or "
            "export default {...})",
        )
    if done.returncode != 0:
        raise _run_error(name, stderr, path)
    if len(done.stdout) > MAX_OUTPUT:
        raise ConfigError(
            f"{name} made a configuration of {len(done.stdout)} bytes; the toolkit reads at "
            f"most {MAX_OUTPUT}",
            file=name,
        )
    try:
        config = json.loads(done.stdout)
    except ValueError:
        raise ConfigError(f"{name} printed no configuration", file=name) from None
    check_depth(config, name)
    return config


def bundle_typescript(directory: Path, name: str, env: Mapping[str, str]) -> bytes:
    esbuild = esbuild_in(directory, env.get("PATH"))
    if esbuild is None:
        raise ConfigError(
            f"{name} is TypeScript: Serverless builds it before running it, and the toolkit "
            "builds it with esbuild, which is neither in the project's node_modules nor on PATH",
            file=name,
            hint="`npm install --save-dev esbuild` in the service folder",
        )
    try:
        done = subprocess.run(
            [str(esbuild), name, "--bundle", "--platform=node", "--format=cjs",
             "--packages=external", "--sourcemap=inline", "--log-level=error", "--color=false"],
            capture_output=True, cwd=directory, env=dict(env), timeout=PROGRAM_SECONDS,
            check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        raise ConfigError(f"{name}: esbuild took over {PROGRAM_SECONDS:.0f} s", file=name) from None
    if done.returncode != 0:
        text = done.stderr.decode("utf-8", errors="replace")
        found = _ESBUILD_ERROR.search(text)
        if found:
            raise ConfigError(
                f"{name} does not build: {found['message']}",
                file=found["file"],
                line=int(found["line"]),
                column=int(found["column"]) + 1,
            )
        first = next((line for line in text.splitlines() if line.strip()), "esbuild failed")
        raise ConfigError(f"{name} does not build: {first.strip()}", file=name)
    return done.stdout


def _run_error(name: str, stderr: str, path: Path) -> ConfigError:
    """The program's error: its message, at the first line of the service's own files that
    the stack names."""
    message = first_message(stderr)
    where: dict[str, Any] = stack_location(stderr, path.parent) or {"file": name}
    return ConfigError(
        f"{name} failed while making the configuration: "
        + (message[:500] or "it exited with an error"),
        **where,
        hint="fix the program (Serverless would fail on it too), or install what it imports "
        "(`npm ci`)",
    )


def first_message(stderr: str) -> str:
    """The error's message: the first line of a Node.js error that is not a stack frame."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    return next((line.strip() for line in lines if not line.lstrip().startswith("at ")), "")


def stack_location(stderr: str, folder: Path) -> dict[str, Any] | None:
    """file/line/column of the first stack frame in `folder`'s own files (not node_modules)."""
    for found in _STACK_AT.finditer(stderr):
        spot = Path(found["file"].removeprefix("file://"))
        if spot.is_absolute() and spot.is_relative_to(folder) and "node_modules" not in spot.parts:
            return {
                "file": spot.relative_to(folder).as_posix(),
                "line": int(found["line"]),
                "column": int(found["column"]),
            }
    return None


def check_depth(value: Any, name: str) -> None:
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ConfigError(f"{name} nests deeper than {MAX_DEPTH} levels", file=name)
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
