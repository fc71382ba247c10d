import pytest

from tooling.errors import DefinitionError
from tooling.sourcemap import load_json
from tooling.validate.diagnostics import Collector, Diagnostic, Severity, check_or_raise


def _diag(severity: Severity, code: str, line: int | None) -> Diagnostic:
    return Diagnostic(severity, code, "what is wrong", "sm.json", line, 3, "/x")


def test_render_looks_like_a_compiler_message() -> None:
    diagnostic = _diag(Severity.ERROR, "STATE_NEXT_MISSING", 14)
    assert diagnostic.render() == "sm.json:14:3: error STATE_NEXT_MISSING: what is wrong"
    warning = Diagnostic(Severity.WARNING, "LOOP_NO_EXIT", "loops", None, None, None, "")
    assert warning.render() == "warning LOOP_NO_EXIT: loops"


def test_json_form_has_every_field() -> None:
    assert _diag(Severity.WARNING, "C", 2).to_json() == {
        "severity": "WARNING",
        "code": "C",
        "message": "what is wrong",
        "file": "sm.json",
        "line": 2,
        "column": 3,
        "pointer": "/x",
    }


def test_collector_places_diagnostics_with_the_source_map() -> None:
    _, source = load_json('{\n  "a": {\n    "b": 1\n  }\n}', "f.json")
    out = Collector(source)
    out.error("/a/b", "X", "m")
    out.warning("/a/missing", "Y", "m")  # falls back to the nearest known ancestor
    assert [(d.line, d.column, d.file) for d in out.items] == [(3, 10, "f.json"), (2, 8, "f.json")]


def test_check_or_raise_reports_the_first_error_and_counts_the_others() -> None:
    check_or_raise([_diag(Severity.WARNING, "W", 1)])  # warnings never raise
    with pytest.raises(DefinitionError) as caught:
        check_or_raise(
            [_diag(Severity.ERROR, "LATER", 9), _diag(Severity.ERROR, "FIRST", 2),
             _diag(Severity.ERROR, "ALSO", 5), _diag(Severity.WARNING, "W", 1)]
        )  # fmt: skip
    error = caught.value
    assert (error.file, error.line, error.column) == ("sm.json", 2, 3)
    assert error.message == "FIRST: what is wrong"
    assert error.hint is not None and error.hint.startswith("2 more errors")
    assert error.exit_code == 2


def test_check_or_raise_folds_the_diagnostics_own_hint_into_one_parenthesis() -> None:
    diagnostic = Diagnostic(
        Severity.ERROR, "HANDLER_SYNTAX", "invalid syntax (fix the Python syntax)", "handler.py",
        2, 19, "",
    )  # fmt: skip
    with pytest.raises(DefinitionError) as caught:
        check_or_raise([diagnostic])
    assert caught.value.render() == (
        "handler.py:2:19: HANDLER_SYNTAX: invalid syntax "
        "(fix the Python syntax; run `tool validate` to see every problem)"
    )
