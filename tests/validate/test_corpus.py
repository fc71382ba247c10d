"""The corpus: every invalid definition is reported with exactly its rule's code, at the node
that breaks it (line and column included); every valid one gets no diagnostic at all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tooling.sourcemap import load_json
from tooling.validate import validate_file

CORPUS = Path(__file__).parent / "corpus"
EXPECTED: dict[str, dict[str, str]] = json.loads((CORPUS / "expected.json").read_text())
VALID = sorted((CORPUS / "valid").glob("*.json"))


def test_corpus_size_and_coverage() -> None:
    assert len(EXPECTED) >= 100
    assert len(VALID) >= 30
    invalid_files = {f"invalid/{p.name}" for p in (CORPUS / "invalid").glob("*.json")}
    assert invalid_files == set(EXPECTED)
    # both query languages are represented among the broken definitions
    languages = {
        json.loads((CORPUS / name).read_text()).get("QueryLanguage", "JSONPath")
        for name in EXPECTED
    }
    assert {"JSONPath", "JSONata"} <= languages


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_invalid_definition_is_reported_at_its_node(name: str) -> None:
    expected = EXPECTED[name]
    path = CORPUS / name
    diagnostics = validate_file(path, name)
    assert {d.code for d in diagnostics if d.is_error} == {expected["code"]}
    _, source = load_json(path.read_text(), name)
    position = source.positions[expected["pointer"]]
    hits = [d for d in diagnostics if d.code == expected["code"]]
    assert any(
        (d.pointer, d.file, d.line, d.column)
        == (expected["pointer"], name, position.line, position.column)
        for d in hits
    ), [d.render() for d in hits]
    for diagnostic in diagnostics:
        assert diagnostic.line is not None and diagnostic.column is not None


@pytest.mark.parametrize("path", VALID, ids=[p.stem for p in VALID])
def test_valid_definition_has_no_diagnostic(path: Path) -> None:
    assert [d.render() for d in validate_file(path, path.name)] == []
