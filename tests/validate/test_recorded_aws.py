"""No false alarm on definitions real AWS accepted and ran: the recorded conformance corpus
(../shared/conformance, 832 definitions recorded against AWS) must get no error at all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tooling.validate import validate_definition

CASES = Path(__file__).resolve().parents[2].parent / "shared" / "conformance" / "cases"


@pytest.mark.skipif(not CASES.is_dir(), reason="the shared conformance corpus is not here")
def test_definitions_aws_ran_have_no_error() -> None:
    checked = 0
    wrong: list[str] = []
    for path in sorted(CASES.rglob("*.json")):
        definition = json.loads(path.read_text())["definition"]
        errors = [d for d in validate_definition(definition) if d.is_error]
        checked += 1
        if errors:
            wrong.append(f"{path.relative_to(CASES)}: {errors[0].code} {errors[0].message}")
    assert checked > 800
    assert wrong == []
