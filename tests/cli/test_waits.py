"""A run that sleeps (a Wait state, a Retry interval) on the real clock says so: what, until
when, and how to skip it. One line in a pipe; redrawn in place on a terminal."""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tooling import render
from tooling.cli import main

pytestmark = pytest.mark.slow  # end-to-end: `make test` runs it, `make test-fast` does not

HINT = "--clock virtual makes waits instant"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


NOTICE: dict[str, Any] = {
    "state": "LambdaFunction",
    "kind": "Retry",
    "seconds": 30,
    "until": "2024-01-01T12:00:30+00:00",
    "error": "States.TaskFailed",
    "retry": 1,
    "maxAttempts": 2,
}


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_in_a_pipe_each_wait_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    pipe = io.StringIO()
    progress = render.Progress()
    progress.show(NOTICE, pipe)
    progress.show(NOTICE, pipe)  # the same wait, seen again at the next poll
    progress.show(None, pipe)
    until = datetime.fromisoformat(NOTICE["until"]).astimezone().strftime("%H:%M:%S")
    assert pipe.getvalue() == (
        f"waiting: retrying LambdaFunction after States.TaskFailed (retry 1 of 2) at {until} "
        f"(30 s; {HINT})\n"
    )


def test_on_a_terminal_the_line_counts_down_in_place_and_goes_away(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    terminal = Terminal()
    until = datetime.fromisoformat(NOTICE["until"])
    progress = render.Progress(clock=lambda: until.timestamp() - 12)
    progress.show(NOTICE, terminal)
    drawn = terminal.getvalue()
    assert drawn.startswith("\r\x1b[2K\x1b[2mwaiting: retrying LambdaFunction")
    assert "(12 s left; --clock virtual makes waits instant)" in drawn
    assert not drawn.endswith("\n")  # it stays on its line, to be redrawn
    progress.show(None, terminal)
    assert terminal.getvalue().endswith("\r\x1b[2K")  # erased


def test_colours_only_on_a_terminal_and_never_with_no_color(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert render.paint("FAILED", "31", Terminal()) == "\x1b[31mFAILED\x1b[0m"
    assert render.paint("FAILED", "31", io.StringIO()) == "FAILED"
    monkeypatch.setenv("NO_COLOR", "1")
    assert render.paint("FAILED", "31", Terminal()) == "FAILED"


def with_wait(service: Path, seconds: int) -> None:
    definition = json.loads((service / "statemachine.asl.json").read_text())
    definition["StartAt"] = "Pause"
    definition["States"]["Pause"] = {"Type": "Wait", "Seconds": seconds, "Next": "LambdaFunction"}
    (service / "statemachine.asl.json").write_text(json.dumps(definition))


def test_run_says_what_it_waits_for(service: Path, capsys) -> None:
    with_wait(service, 1)
    code, _, err = run(capsys, "run", "statemachine.asl.json", "-i", "in.json")
    assert code == 0, err
    (line,) = [line for line in err.splitlines() if line.startswith("waiting:")]
    assert line.startswith("waiting: Wait state Pause at ")
    assert line.endswith(f"(1 s; {HINT})")
    # The line comes between the state's entry and what follows it.
    lines = err.splitlines()
    assert "WaitStateEntered" in lines[lines.index(line) - 1]
    code, _, err = run(
        capsys, "run", "statemachine.asl.json", "-i", "in.json", "--clock", "virtual"
    )
    assert code == 0 and "waiting:" not in err


def test_run_says_when_it_retries(service: Path, capsys, tmp_path: Path) -> None:
    (service / "handler.py").write_text(
        "import os\n"
        "class CustomError(Exception):\n    pass\n"
        "def lambda_handler(event, context):\n"
        "    if not os.path.exists(event['marker']):\n"
        "        open(event['marker'], 'w').close()\n"
        "        raise CustomError('not yet')\n"
        "    return {'value1': 'value1', 'count': 5}\n"
    )
    marker = tmp_path / "called-once"
    code, _, err = run(
        capsys, "run", "statemachine.asl.json", "-d", json.dumps({"marker": str(marker)})
    )
    assert code == 0, err
    (line,) = [line for line in err.splitlines() if line.startswith("waiting:")]
    assert line.startswith("waiting: retrying LambdaFunction after CustomError (retry 1 of 2) at ")
    assert line.endswith(f"(1 s; {HINT})")


def test_invoke_says_what_the_worker_waits_for(service: Path, capsys) -> None:
    with_wait(service, 2)
    assert run(capsys, "deploy")[0] == 0
    code, _, err = run(capsys, "invoke", "-i", "in.json")
    assert code == 0, err
    (line,) = [line for line in err.splitlines() if line.startswith("waiting:")]
    assert line.startswith("waiting: Wait state Pause at ") and line.endswith(f"(2 s; {HINT})")
