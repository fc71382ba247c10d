"""`tool graph` reads the definition's syntax tree: a malformed definition gets one located
error, never a crash."""

from __future__ import annotations

from typing import Any

import pytest

from tooling.errors import DefinitionError
from tooling.graph.model import build_graph
from tooling.sourcemap import load_json


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        ({"StartAt": {"a": 1}, "States": {"A": {"Type": "Succeed"}}}, "StartAt names no state"),
        ({"StartAt": ["A"], "States": {"A": {"Type": "Succeed"}}}, "StartAt names no state"),
        (
            {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": {"x": 1}}}},
            "goes to an unknown state",
        ),
    ],
)
def test_a_malformed_target_is_a_located_error(definition: Any, message: str) -> None:
    value, source = load_json(__import__("json").dumps(definition, indent=2), "m.json")
    with pytest.raises(DefinitionError, match=message) as refused:
        build_graph(value, source)
    assert refused.value.file == "m.json" and refused.value.line is not None


def test_retry_notes_survive_a_malformed_error_list() -> None:
    state = {"Type": "Task", "Resource": "r", "Retry": [{"ErrorEquals": 5}], "End": True}
    graph = build_graph({"StartAt": "T", "States": {"T": state}})
    assert graph.states_named("T")[0].notes == ("Retry: 5",)
