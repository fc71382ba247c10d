"""`tool validate` through the CLI entry point: output forms and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tooling.cli import main

CORPUS = Path(__file__).parent / "corpus"


def test_service_without_problems_exits_0(service_dir: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["validate"]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "ok" in captured.err


def test_files_are_checked_alone_with_compiler_style_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "statemachine.asl.json"
    bad.write_text((CORPUS / "invalid" / "STATE_NEXT_MISSING-1.json").read_text())
    good = tmp_path / "good.json"
    good.write_text((CORPUS / "valid" / "base-jsonata.json").read_text())
    assert main(["validate", "statemachine.asl.json", "good.json"]) == 2
    out = capsys.readouterr().out.splitlines()
    assert out == [
        'statemachine.asl.json:11:15: error STATE_NEXT_MISSING: "Next" names "Wrok", which is '
        'not a state; did you mean "Work"?'
    ]
    assert main(["validate", "good.json"]) == 0


def test_json_output(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = CORPUS / "invalid" / "RETRY_VALUE-1.json"
    assert main(["validate", "--json", str(path)]) == 2
    document = json.loads(capsys.readouterr().out)
    [diagnostic] = document["diagnostics"]
    assert diagnostic["code"] == "RETRY_VALUE"
    assert diagnostic["severity"] == "ERROR"
    assert diagnostic["pointer"] == "/States/Work/Retry/0/MaxAttempts"
    assert diagnostic["line"] and diagnostic["column"]


def test_warnings_alone_exit_0(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "loop.json"
    loop = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "A"}}}
    definition = {
        "StartAt": "M",
        "States": {"M": {"Type": "Map", "ItemProcessor": loop, "End": True}},
    }
    path.write_text(json.dumps(definition, indent=2))
    assert main(["validate", str(path)]) == 0
    assert "warning LOOP_NO_EXIT" in capsys.readouterr().out


def test_broken_json_is_a_located_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "StartAt": "A",\n  "States": {\n}')
    assert main(["validate", str(path)]) == 2
    [line] = capsys.readouterr().out.splitlines()
    assert line.startswith(f"{path}:4:2: error JSON_SYNTAX:")


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["validate", str(tmp_path / "nope.json")]) == 2
    assert "FILE_UNREADABLE" in capsys.readouterr().out


def test_yaml_definition_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "machine.yml"
    path.write_text("StartAt: A\nStates:\n  A:\n    Type: Pass\n    Next: B\n")
    assert main(["validate", str(path)]) == 2
    end, line = capsys.readouterr().out.splitlines()
    assert end.startswith(f"{path}:3:3: error MISSING_END_STATE")
    assert line.startswith(f"{path}:5:11: error STATE_NEXT_MISSING")


def test_service_with_an_error_exits_2(service_dir: Path, capsys: pytest.CaptureFixture) -> None:
    handler = service_dir / "handler.py"
    handler.write_text(handler.read_text().replace("def lambda_handler", "def other"))
    assert main(["validate"]) == 2
    assert "error HANDLER_FUNCTION_MISSING" in capsys.readouterr().out


def test_repeated_keys_are_reported_where_the_kept_one_is(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    path = tmp_path / "twice.json"
    path.write_text(
        '{\n  "StartAt": "A",\n  "States": {\n    "A": {"Type": "Pass", "End": true},\n'
        '    "A": {"Type": "Succeed"}\n  }\n}\n'
    )
    assert main(["validate", str(path)]) == 0
    [line] = capsys.readouterr().out.splitlines()
    assert line.startswith(f"{path}:5:10: warning JSON_DUPLICATE_KEY:")
