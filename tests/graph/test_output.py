import json
import shutil
from pathlib import Path

import pytest

from tooling.errors import BadInput
from tooling.graph import (
    build_graph,
    check_output,
    pick_format,
    render,
    render_execution_graph,
    write,
)
from tooling.graph.output import run_dot

from . import svg
from .histories import FUNCTION, answers, engine_history, ok

ROOT = Path(__file__).resolve().parents[2]
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")


@pytest.mark.parametrize(
    ("name", "requested", "expected"),
    [
        ("machine.svg", None, "svg"),
        ("machine.PNG", None, "png"),
        ("machine.gv", None, "dot"),
        ("machine.dot", None, "dot"),
        ("machine.mmd", None, "mermaid"),
        ("README.md", None, "mermaid"),
        ("machine.svg", "dot", "dot"),  # --format wins over the extension
        (None, None, "dot"),  # stdout
        (None, "mermaid", "mermaid"),
    ],
)
def test_the_format_follows_the_flag_then_the_extension(
    name: str | None, requested: str | None, expected: str
) -> None:
    assert pick_format(Path(name) if name else None, requested) == expected


def test_unknown_formats_and_extensions_are_bad_input() -> None:
    with pytest.raises(BadInput, match="unknown format 'jpeg'"):
        pick_format(None, "jpeg")
    with pytest.raises(BadInput) as caught:
        pick_format(Path("machine.txt"), None)
    assert "--format" in (caught.value.hint or "")


def test_hints_suggest_format_only_where_the_command_has_the_option(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # `tool invoke --graph FILE` has no --format: its hints must not send the user there.
    with pytest.raises(BadInput) as caught:
        check_output(Path("run.txt"), format_option=False)
    assert caught.value.hint == "use an extension .svg, .png, .dot, .mmd or .md"
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` there
    with pytest.raises(BadInput) as caught:
        check_output(tmp_path / "run.svg", format_option=False)
    assert "--format" not in (caught.value.hint or "")
    assert "write a .dot or .mmd file instead" in (caught.value.hint or "")


def test_without_graphviz_svg_fails_with_one_line_saying_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` there
    with pytest.raises(BadInput) as caught:
        run_dot("digraph { a }", "svg")
    line = caught.value.render()
    # `tool invoke --graph run.png` can refuse before it starts the execution.
    with pytest.raises(BadInput, match="Graphviz"):
        check_output(tmp_path / "run.png")
    assert check_output(tmp_path / "run.mmd") == "mermaid"
    assert "\n" not in line
    assert "Graphviz" in line
    assert "apt-get install graphviz" in line
    # DOT and Mermaid still work without it.
    graph = build_graph(json.loads((ROOT / "statemachine.asl.json").read_text()))
    assert render(graph, "dot").startswith(b"digraph")
    assert render(graph, "mermaid").startswith(b"flowchart TD")


def test_markdown_files_get_a_mermaid_fence(tmp_path: Path) -> None:
    graph = build_graph(json.loads((ROOT / "statemachine.asl.json").read_text()))
    write(graph, tmp_path / "machine.md", "mermaid")
    text = (tmp_path / "machine.md").read_text()
    assert text.startswith("```mermaid\nflowchart TD\n")
    assert text.endswith("\n```\n")


def test_an_unwritable_path_is_bad_input(tmp_path: Path) -> None:
    graph = build_graph(json.loads((ROOT / "statemachine.asl.json").read_text()))
    with pytest.raises(BadInput, match="cannot write"):
        write(graph, tmp_path / "missing-folder" / "machine.dot", "dot")


@needs_dot
def test_render_execution_graph_writes_the_run_picture(tmp_path: Path) -> None:
    definition = {
        "StartAt": "Work",
        "States": {"Work": {"Type": "Task", "Resource": FUNCTION, "End": True}},
    }
    events = engine_history(definition, answers(ok({})))
    render_execution_graph(definition, events, tmp_path / "run.svg", title="run-1")
    nodes, edges = svg.parse((tmp_path / "run.svg").read_bytes())
    assert any("outcome-succeeded" in n.classes and "Work" in n.texts for n in nodes.values())
    assert sorted(e.texts for e in edges.values()) == [("×1",), ("×1",)]
    render_execution_graph(definition, events, tmp_path / "run.txt", "png")
    assert (tmp_path / "run.txt").read_bytes().startswith(b"\x89PNG")
