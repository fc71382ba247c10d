import json
import shutil
from pathlib import Path

import pytest

from tooling.graph.dot import to_dot
from tooling.graph.model import build_graph
from tooling.graph.output import run_dot
from tooling.graph.overlay import overlay_execution
from tooling.graph.style import OUTCOME_PAINT, TYPE_PAINT

from . import svg
from .histories import FUNCTION, answers, engine_history, raised

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "data"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")


def seed() -> dict:
    return json.loads((ROOT / "statemachine.asl.json").read_text())


@needs_dot
def test_names_and_labels_with_quotes_backslashes_and_markup_survive() -> None:
    name = 'Say "hi" <now> & \\ then'
    definition = {
        "StartAt": name,
        "States": {
            name: {
                "Type": "Choice",
                "Choices": [{"Variable": "$.a", "StringEquals": 'x"\\y', "Next": "B"}],
                "Default": "B",
            },
            "B": {"Type": "Succeed"},
        },
    }
    texts = svg.all_text(run_dot(to_dot(build_graph(definition), title=f"{name}!"), "svg"))
    assert name in texts
    assert f"{name}!" in texts
    assert '$.a == "x\\"\\\\y"' in texts


@needs_dot
def test_the_seed_svg_shows_every_state_start_and_end() -> None:
    document = run_dot(to_dot(build_graph(seed()), title="hello-loop-dev-loop"), "svg")
    texts = svg.all_text(document)
    for name in ("Start", "End", "LambdaFunction", "ChoiceState", "SuccessState", "FailState"):
        assert name in texts
    assert '$.taskresult.value1 == "value1"' in texts
    assert "$.taskresult.count < 5" in texts
    assert "Default" in texts
    assert any(line.startswith("Retry: CustomError;") for line in texts)


@needs_dot
def test_shapes_and_colours_follow_the_state_type() -> None:
    graph = build_graph(seed())
    nodes, _ = svg.parse(run_dot(to_dot(graph), "svg"))
    by_name = {graph.node(title).name: drawn for title, drawn in nodes.items()}
    assert by_name["LambdaFunction"].fill == TYPE_PAINT["Task"].fill
    assert by_name["ChoiceState"].fill == TYPE_PAINT["Choice"].fill
    assert by_name["FailState"].fill == TYPE_PAINT["Fail"].fill
    assert "type-choice" in by_name["ChoiceState"].classes


@needs_dot
def test_catch_edges_are_dashed_and_name_their_errors() -> None:
    graph = build_graph(json.loads((DATA / "every_type.asl.json").read_text()))
    document = run_dot(to_dot(graph), "svg")
    _, edges = svg.parse(document)
    fetch = graph.states_named("Fetch")[0].id
    recover = graph.states_named("Recover")[0].id
    edge = edges[f"{fetch}->{recover}"]
    assert "kind-catch" in edge.classes
    assert edge.texts == ("catch", "CustomError, States.Timeout")
    assert 'stroke-dasharray="5,2"' in _edge_markup(document, f"{fetch}&#45;&gt;{recover}")


@needs_dot
def test_a_failed_run_shows_the_failing_state_with_its_error_and_cause() -> None:
    definition = {
        "StartAt": "Work",
        "States": {"Work": {"Type": "Task", "Resource": FUNCTION, "End": True}},
    }
    events = engine_history(definition, answers(raised("KeyError", "'key1'")))
    graph = build_graph(definition)
    overlay = overlay_execution(graph, events)
    document = run_dot(to_dot(graph, overlay, title="run"), "svg")
    nodes, edges = svg.parse(document)
    assert any(line.startswith("FAILED: KeyError — {") for line in svg.all_text(document))
    work = graph.states_named("Work")[0].id
    assert nodes[work].fill == OUTCOME_PAINT["failed"].fill
    assert "outcome-failed" in nodes[work].classes
    assert "Error: KeyError" in nodes[work].texts
    assert any(line.startswith("Cause: {") and "key1" in line for line in nodes[work].texts)
    end = next(n.id for n in graph.nodes if n.kind == "End")
    assert edges[f"{work}->{end}"].texts == ()  # never taken: no count
    assert "not-taken" in edges[f"{work}->{end}"].classes


def _edge_markup(document: bytes, title: str) -> str:
    text = document.decode()
    start = text.index(f"<title>{title}</title>")
    return text[start : text.index("</g>", start)]
