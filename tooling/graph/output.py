"""Formats and files: DOT and Mermaid are text we write; SVG and PNG come from Graphviz's `dot`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from tooling.errors import BadInput, OperationFailed
from tooling.graph.dot import to_dot
from tooling.graph.mermaid import to_mermaid
from tooling.graph.model import Graph, build_graph
from tooling.graph.overlay import RunOverlay, overlay_execution

FORMATS = ("svg", "png", "dot", "mermaid")
_EXTENSIONS = {
    ".svg": "svg",
    ".png": "png",
    ".dot": "dot",
    ".gv": "dot",
    ".mmd": "mermaid",
    ".mermaid": "mermaid",
    ".md": "mermaid",
}
STDOUT_FORMAT = "dot"
DOT_TIMEOUT_SECONDS = 120


def pick_format(path: Path | None, requested: str | None, *, format_option: bool = True) -> str:
    """--format when given, else the output file's extension, else DOT (for stdout).
    `format_option`: whether the command has a --format option to suggest."""
    if requested is not None:
        if requested not in FORMATS:
            raise BadInput(f"unknown format {requested!r}", hint="use one of " + ", ".join(FORMATS))
        return requested
    if path is None:
        return STDOUT_FORMAT
    found = _EXTENSIONS.get(path.suffix.lower())
    if found is None:
        raise BadInput(
            f"cannot tell the format from the file name {path.name!r}",
            hint="use an extension .svg, .png, .dot, .mmd or .md"
            + (", or pass --format" if format_option else ""),
        )
    return found


def render(
    graph: Graph,
    fmt: str,
    *,
    overlay: RunOverlay | None = None,
    title: str | None = None,
    markdown: bool = False,
) -> bytes:
    """The picture in `fmt`; Mermaid inside a ```mermaid fence when `markdown`."""
    if fmt == "mermaid":
        text = to_mermaid(graph, overlay, title)
        return (f"```mermaid\n{text}```\n" if markdown else text).encode()
    dot_text = to_dot(graph, overlay, title)
    if fmt == "dot":
        return dot_text.encode()
    if fmt in ("svg", "png"):
        return run_dot(dot_text, fmt)
    raise BadInput(f"unknown format {fmt!r}", hint="use one of " + ", ".join(FORMATS))


def write(
    graph: Graph,
    path: Path,
    fmt: str,
    *,
    overlay: RunOverlay | None = None,
    title: str | None = None,
) -> None:
    content = render(
        graph, fmt, overlay=overlay, title=title, markdown=path.suffix.lower() == ".md"
    )
    try:
        path.write_bytes(content)
    except OSError as exc:
        raise BadInput(
            f"cannot write {path}: {exc.strerror}", hint="choose another -o path"
        ) from None


def check_output(path: Path, fmt: str | None = None, *, format_option: bool = True) -> str:
    """The format `path` will be written in; BadInput now, before any work, when it cannot be
    (unknown extension, or SVG/PNG without Graphviz). `format_option` as for `pick_format`."""
    chosen = pick_format(path, fmt, format_option=format_option)
    if chosen in ("svg", "png"):
        _dot_program(chosen, format_option=format_option)
    return chosen


def _dot_program(fmt: str, *, format_option: bool = True) -> str:
    program = shutil.which("dot")
    if program is None:
        instead = (
            "use --format dot or --format mermaid"
            if format_option
            else "write a .dot or .mmd file instead"
        )
        raise BadInput(
            f"{fmt} output needs Graphviz's `dot` program, which is not installed",
            hint=f"install it (apt-get install graphviz, or brew install graphviz), or {instead}",
        )
    return program


def run_dot(dot_text: str, fmt: str) -> bytes:
    """Lay out and draw DOT text with Graphviz's `dot` program."""
    program = _dot_program(fmt)
    try:
        done = subprocess.run(
            [program, f"-T{fmt}"],
            input=dot_text.encode(),
            capture_output=True,
            timeout=DOT_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise OperationFailed(
            f"Graphviz's dot did not finish within {DOT_TIMEOUT_SECONDS} s",
            hint="try --format dot or mermaid",
        ) from None
    if done.returncode != 0:
        first = (done.stderr.decode(errors="replace").strip().splitlines() or ["no message"])[0]
        raise OperationFailed(f"Graphviz's dot failed: {first}")
    return done.stdout


def render_execution_graph(
    definition: Any,
    events: list[dict[str, Any]],
    path: Path,
    fmt: str | None = None,
    *,
    title: str | None = None,
) -> None:
    """Write the picture of a run: `definition` (parsed JSON) with `events` (its history, in
    GetExecutionHistory shape, oldest first) laid over it. fmt None: from path's extension."""
    graph = build_graph(definition)
    write(
        graph,
        path,
        pick_format(path, fmt),
        overlay=overlay_execution(graph, events),
        title=title,
    )
