"""Mermaid output against golden files (reviewed by eye), and parsed by mermaid-js itself when
the checker is installed: `.ci/run` installs mermaid_check/ with npm and sets MERMAID_CHECKER."""

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tooling.graph.mermaid import to_mermaid
from tooling.graph.model import build_graph
from tooling.graph.overlay import overlay_execution

from .histories import FUNCTION, answers, engine_history, ok

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "data"
CHECKER = Path(os.environ.get("MERMAID_CHECKER", Path(__file__).parent / "mermaid_check"))
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"  # rewrite the golden files, then review them


def seed() -> dict:
    definition = json.loads((ROOT / "statemachine.asl.json").read_text())
    definition["States"]["LambdaFunction"]["Resource"] = FUNCTION
    return definition


def seed_run_text() -> str:
    # The seed handler's answers: count 1..4 with ThereIsNoSpoon, then value1 with count 5.
    spoon = [ok({"count": n, "value1": "ThereIsNoSpoon"}) for n in range(1, 5)]
    done = ok({"value1": "value1", "value2": "value2", "count": 5})
    events = engine_history(seed(), answers(*spoon, done), data={"key1": "value1"})
    graph = build_graph(seed())
    return to_mermaid(graph, overlay_execution(graph, events), title="hello-loop-dev-loop · run")


PICTURES: dict[str, Callable[[], str]] = {
    "seed.mmd": lambda: to_mermaid(build_graph(seed()), title="hello-loop-dev-loop"),
    "seed_run.mmd": seed_run_text,
    "every_type.mmd": lambda: to_mermaid(
        build_graph(json.loads((DATA / "every_type.asl.json").read_text()))
    ),
}


@pytest.mark.parametrize("name", sorted(PICTURES))
def test_mermaid_matches_its_reviewed_golden_file(name: str) -> None:
    text = PICTURES[name]()
    golden = DATA / name
    if UPDATE:
        golden.write_text(text)
    assert text == golden.read_text()


def test_the_seed_run_in_mermaid_counts_the_loop() -> None:
    text = seed_run_text()
    assert '-->|"×5"|' in text
    assert '-->|"$.taskresult.count #lt; 5<br/>×4"|' in text


def test_labels_escape_what_mermaid_would_read_as_syntax() -> None:
    definition = {
        "StartAt": 'A "b" <c> #d & e',
        "States": {'A "b" <c> #d & e': {"Type": "Pass", "End": True}},
    }
    text = to_mermaid(build_graph(definition))
    assert "A #quot;b#quot; #lt;c#gt; #35;d #amp; e" in text


def _checker_ready() -> bool:
    return shutil.which("node") is not None and (CHECKER / "node_modules" / "mermaid").is_dir()


@pytest.mark.skipif(not _checker_ready(), reason="mermaid-js checker not installed (.ci/run)")
@pytest.mark.parametrize("name", sorted(PICTURES))
def test_mermaid_js_parses_the_golden_files(name: str) -> None:
    done = subprocess.run(
        ["node", str(CHECKER / "check.mjs"), str(DATA / name)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert '"diagramType":"flowchart-v2"' in done.stdout


@pytest.mark.skipif(not _checker_ready(), reason="mermaid-js checker not installed (.ci/run)")
def test_the_mermaid_js_checker_rejects_broken_text(tmp_path: Path) -> None:
    broken = tmp_path / "broken.mmd"
    broken.write_text('flowchart TD\n  n0("a") -->|"x| n1\n')
    done = subprocess.run(
        ["node", str(CHECKER / "check.mjs"), str(broken)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
