"""`tool graph` through the CLI's entry point, on a copy of the example service."""

import json
import shutil
from pathlib import Path

import pytest

from tooling.cli import main
from tooling.graph.style import OUTCOME_PAINT

from . import svg

SEED_STATES = ("LambdaFunction", "ChoiceState", "SuccessState", "FailState")
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def by_label(document: bytes) -> tuple[dict[str, svg.Drawn], dict[tuple[str, str], svg.Drawn]]:
    """Nodes by the name they show, edges by the names of their ends."""
    nodes, edges = svg.parse(document)
    names = {title: drawn.texts[0] for title, drawn in nodes.items() if drawn.texts}
    named_edges = {}
    for title, drawn in edges.items():
        source, target = title.split("->")
        named_edges[(names.get(source, source), names.get(target, target))] = drawn
    return {names[t]: d for t, d in nodes.items() if t in names}, named_edges


@needs_dot
def test_graph_writes_an_svg_of_the_service_machine(service: Path, capsys) -> None:
    code, out, err = run(capsys, "graph", "-o", "machine.svg")
    assert code == 0, err
    assert out == ""
    assert "machine.svg" in err
    texts = svg.all_text((service / "machine.svg").read_bytes())
    for name in ("Start", "End", *SEED_STATES):
        assert name in texts


def test_graph_prints_dot_or_mermaid_without_graphviz(
    service: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(service))  # no `dot` on PATH
    code, out, err = run(capsys, "graph")
    assert code == 0, err
    assert out.startswith("digraph state_machine {")
    code, out, err = run(capsys, "graph", "--format", "mermaid")
    assert code == 0, err
    assert "flowchart TD" in out
    code, out, err = run(capsys, "graph", "-o", "machine.svg")
    assert code == 2
    assert err.count("\n") == 1
    assert "apt-get install graphviz" in err


def test_graph_draws_a_definition_file_without_a_service(tmp_path: Path, capsys, monkeypatch):
    root = Path(__file__).resolve().parents[2]
    shutil.copy(root / "statemachine.asl.json", tmp_path / "machine.asl.json")
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "graph", "machine.asl.json", "-o", "machine.mmd")
    assert code == 0, err
    text = (tmp_path / "machine.mmd").read_text()
    for name in SEED_STATES:
        assert f"<b>{name}</b>" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("graph", "-f", "png"), "png output is binary"),
        (("graph", "nowhere.json"), "nowhere.json: no such file"),
        (("graph", "statemachine.asl.json", "--state-machine", "loop"), "not both"),
        (("graph", "-o", "machine.jpeg"), "cannot tell the format"),
        (("graph", "--execution", "no-such-run"), "no execution named 'no-such-run'"),
    ],
)
def test_bad_requests_are_one_line_and_exit_2(service: Path, capsys, args, message) -> None:
    code, _, err = run(capsys, *args)
    assert code == 2
    assert message in err
    assert err.count("\n") == 1


@needs_dot
def test_the_run_graph_counts_the_loop_and_colours_the_outcomes(service: Path, capsys) -> None:
    code, _, err = run(capsys, "deploy")
    assert code == 0, err
    code, out, err = run(capsys, "invoke", "--input", "in.json", "--json")
    assert code == 0, err
    result = json.loads(out)
    entered = [
        e["stateEnteredEventDetails"]["name"]
        for e in result["events"]
        if e["type"].endswith("StateEntered")
    ]
    # The seed's handler answers count 1..5; the fifth answer carries value1 and ends the loop.
    calls = entered.count("LambdaFunction")
    assert calls == 5
    assert entered[-1] == "SuccessState"

    code, _, err = run(capsys, "graph", "--execution", result["name"], "-o", "run.svg")
    assert code == 0, err
    document = (service / "run.svg").read_bytes()
    nodes, edges = by_label(document)
    # Each LambdaFunction exit enters ChoiceState; all but the last go back round the loop.
    assert edges[("LambdaFunction", "ChoiceState")].texts == (f"×{calls}",)
    assert edges[("ChoiceState", "LambdaFunction")].texts == (
        "$.taskresult.count < 5",
        f"×{calls - 1}",
    )
    assert edges[("ChoiceState", "SuccessState")].texts[-1] == "×1"
    assert "taken" in edges[("ChoiceState", "SuccessState")].classes
    assert "not-taken" in edges[("ChoiceState", "FailState")].classes
    success, fail = nodes["SuccessState"], nodes["FailState"]
    assert "outcome-succeeded" in success.classes
    assert success.fill == OUTCOME_PAINT["succeeded"].fill
    assert "outcome-never-entered" in fail.classes
    assert fail.fill == OUTCOME_PAINT["never entered"].fill
    assert f"succeeded · {calls} visits" in nodes["LambdaFunction"].texts
    assert f"hello-loop-dev-loop · execution {result['name']} · SUCCEEDED" in svg.all_text(document)


def test_graph_of_a_run_names_the_target_it_read_the_run_from(service: Path, capsys) -> None:
    assert run(capsys, "deploy")[0] == 0
    assert run(capsys, "invoke", "--input", "in.json", "--execution-name", "seen")[0] == 0
    code, out, err = run(capsys, "graph", "--execution", "seen", "-f", "mermaid")
    assert code == 0, err
    assert err.splitlines()[0] == (
        "hello-loop · target local · stage dev · us-east-1 · account 000000000000"
    )
    assert out.startswith("---")
    # --aws-profile is accepted as on every command that can act on AWS.
    code, _, err = run(capsys, "graph", "-f", "dot", "--aws-profile", "p")
    assert code == 0, err
