"""`tool run` and `tool deploy` read a definition once: the syntax tree `tool validate` checks is
the tree the engine compiles (tooling.asl; issue 17)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tooling.cli import main


def spy(
    monkeypatch: pytest.MonkeyPatch, module: Any, name: str, seen: list[tuple[str, Any]]
) -> None:
    """Record the tree (first argument) each call of `module.name` gets."""
    real: Callable[..., Any] = getattr(module, name)

    def recorded(tree: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append((name, tree))
        return real(tree, *args, **kwargs)

    monkeypatch.setattr(module, name, recorded)


def test_tool_run_compiles_the_tree_it_validated(
    service: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import tooling.adhoc as adhoc

    seen: list[tuple[str, Any]] = []
    spy(monkeypatch, adhoc, "validate_tree", seen)
    spy(monkeypatch, adhoc, "compile_definition", seen)
    mock = {"LambdaFunction": {"0": {"Return": {"value1": "value1", "count": 1}}}}
    (service / "mock.json").write_text(json.dumps(mock))
    code = main(["run", "statemachine.asl.json", "-i", "in.json", "--mock", "mock.json", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads(out)["status"] == "SUCCEEDED"
    assert [name for name, _ in seen] == ["validate_tree", "compile_definition"]
    assert seen[0][1] is seen[1][1]


def test_tool_deploy_compiles_the_tree_it_validated(
    service: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import tooling.deploy.local_providers as providers
    import tooling.validate.service as checks

    seen: list[tuple[str, Any]] = []
    spy(monkeypatch, checks, "validate_tree", seen)
    spy(monkeypatch, providers, "compile_definition", seen)
    code = main(["deploy"])
    _, err = capsys.readouterr()
    assert code == 0, err
    assert [name for name, _ in seen] == ["validate_tree", "compile_definition"]
    assert seen[0][1] is seen[1][1]
