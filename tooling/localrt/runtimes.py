"""What the local runtime runs each Lambda runtime with: the interpreter, the bootstrap file
(lambda_bootstrap.py for Python, node_bootstrap.cjs for Node.js, both speaking the runner's
protocol) and the variables Lambda's image of that runtime sets.

Python functions run with the toolkit's own interpreter; Node.js functions with the `node` found
on PATH (Lambda's image of nodejs20.x has Node.js 20; a different local major version is used as
it is). Other runtimes do not run locally.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tooling.errors import BadInput

RUNTIME_DIR = Path(__file__).parent
PYTHON_BOOTSTRAP = RUNTIME_DIR / "lambda_bootstrap.py"
NODE_BOOTSTRAP = RUNTIME_DIR / "node_bootstrap.cjs"
NODE_INSTALL_HINT = (
    "install Node.js (https://nodejs.org, or your package manager) so that `node` is on PATH, "
    "or deploy this function with --target aws"
)


@dataclass(frozen=True)
class LocalRuntime:
    """How one invocation's process starts: `command` + the runner's two descriptors."""

    interpreter: str
    command: tuple[str, ...]
    variables: tuple[tuple[str, str], ...] = ()


def node_executable() -> str | None:
    return shutil.which("node")


def why_not_here(runtime: str) -> tuple[str, str] | None:
    """None when this machine runs a function of `runtime`; else what stops it and the fix.
    A container image function has no runtime ("")."""
    if runtime == "":
        return (
            "a container image function does not run on the local target (it would need Docker)",
            "the local runtime runs .zip functions (python*, nodejs*); deploy this one with "
            "--target aws",
        )
    if runtime.startswith("python"):
        return None
    if runtime.startswith("nodejs"):
        if node_executable() is None:
            return f"runtime {runtime} needs Node.js: no `node` on PATH", NODE_INSTALL_HINT
        return None
    return (
        f"runtime {runtime} does not run on the local target",
        "the local runtime runs python* and nodejs* functions; deploy this one with --target aws",
    )


def check_runs_here(
    runtime: str,
    *,
    function: str = "",
    file: str | None = None,
    line: int | None = None,
    column: int | None = None,
) -> None:
    """Whether this machine runs a function of `runtime` (Node.js needs `node` on PATH);
    BadInput with the fix when it does not."""
    reason = why_not_here(runtime)
    if reason is not None:
        who = f"function '{function}': " if function else ""
        raise BadInput(f"{who}{reason[0]}", file=file, line=line, column=column, hint=reason[1])


def local_runtime(
    runtime: str, python: str, task_root: Path, layer_dirs: Sequence[Path] = ()
) -> LocalRuntime:
    """The process that runs a function of `runtime` here; BadInput when there is none."""
    check_runs_here(runtime)
    if runtime.startswith("python"):
        # -S: no `site` (its .pth files cost every cold start); the runner passes the
        # runtime's site-packages for the bootstrap to put last on sys.path.
        return LocalRuntime(python, (python, "-I", "-S", "-u", str(PYTHON_BOOTSTRAP)))
    node = node_executable()
    assert node is not None  # checked above
    # Lambda's NODE_PATH: /opt/nodejs/node<major>/node_modules and /opt/nodejs/node_modules
    # (the layers'), then /var/runtime and /var/task: the local stand-ins.
    major = runtime.removeprefix("nodejs").split(".")[0]
    layers = [
        str(layer / "nodejs" / folder / "node_modules")
        for layer in reversed(layer_dirs)
        for folder in (f"node{major}", "")
    ]
    node_path = ":".join([*layers, str(RUNTIME_DIR), str(task_root)])
    return LocalRuntime(node, (node, str(NODE_BOOTSTRAP)), (("NODE_PATH", node_path),))
