"""`tool invoke` says when the sources changed since the last deploy (the run uses the deployed
code), and `--deploy` deploys them first."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tooling.cli import main

pytestmark = pytest.mark.slow  # end-to-end: `make test` runs it, `make test-fast` does not

EDITED = "print('value1 = ' + event['key1'])", "print('edited: ' + event['key1'])"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def warnings(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("warning:")]


def test_an_edited_handler_is_named_with_the_command_to_deploy_it(service: Path, capsys) -> None:
    assert run(capsys, "deploy")[0] == 0
    code, _, err = run(capsys, "invoke", "-i", "in.json")
    assert code == 0 and warnings(err) == []
    handler = service / "handler.py"
    handler.write_text(handler.read_text().replace(*EDITED))
    code, _, err = run(capsys, "invoke", "-i", "in.json")
    assert code == 0
    assert warnings(err) == [
        "warning: handler.py changed since the last deploy; this run uses the deployed code "
        "(`tool deploy` first, or `tool invoke --deploy`)"
    ]
    assert "hello-loop-dev-hello | value1 = value1" in err  # the old code ran, as it said


def test_a_touched_file_with_the_same_content_is_no_change(service: Path, capsys) -> None:
    assert run(capsys, "deploy")[0] == 0
    handler = service / "handler.py"
    stat = handler.stat()
    os.utime(handler, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    code, _, err = run(capsys, "invoke", "-i", "in.json")
    assert code == 0 and warnings(err) == []


def test_an_edited_definition_counts_too(service: Path, capsys) -> None:
    assert run(capsys, "deploy")[0] == 0
    definition = service / "statemachine.asl.json"
    data = json.loads(definition.read_text())
    data["Comment"] = "edited"
    definition.write_text(json.dumps(data))
    code, _, err = run(capsys, "invoke", "-i", "in.json")
    assert "warning: statemachine.asl.json changed since the last deploy" in err


def test_invoke_deploy_deploys_first(service: Path, capsys) -> None:
    assert run(capsys, "deploy")[0] == 0
    handler = service / "handler.py"
    handler.write_text(handler.read_text().replace(*EDITED))
    code, out, err = run(capsys, "invoke", "-i", "in.json", "--deploy")
    assert code == 0, err
    assert "update    function hello-loop-dev-hello" in err  # the plan goes to stderr
    assert json.loads(out)["taskresult"]["count"] == 5  # stdout holds the output alone
    assert "hello-loop-dev-hello | edited: value1" in err and warnings(err) == []
    code, _, err = run(capsys, "invoke", "-i", "in.json")
    assert warnings(err) == []
