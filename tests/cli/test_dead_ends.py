"""No dead ends: each hint names a command that works, and Ctrl-C says what became of the run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tooling.backends.local import LocalBackend
from tooling.cli import main

pytestmark = pytest.mark.slow  # end-to-end: `make test` runs it, `make test-fast` does not


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_failed_tool_run_points_at_a_way_to_the_whole_cause(service: Path, capsys) -> None:
    args = ("run", "statemachine.asl.json", "-d", '{"key2": "no key1"}', "--clock", "virtual")
    code, out, err = run(capsys, *args)
    assert (code, out) == (1, "")
    last = err.splitlines()[-1]
    assert last.startswith("execution ") and " FAILED: KeyError: 'key1' (handler.py:2)" in last
    assert last.endswith("(whole cause: run again with --json)")
    code, out, _ = run(capsys, *args, "--json")  # the hint works: the cause is all there
    assert code == 1
    assert json.loads(json.loads(out)["cause"])["errorType"] == "KeyError"


def test_the_hint_after_a_failed_invoke_works(service: Path, capsys) -> None:
    assert run(capsys, "deploy")[0] == 0
    code, _, err = run(
        capsys, "invoke", "-d", "{}", "--execution-name", "broken", "--clock", "virtual"
    )
    assert code == 1
    assert err.splitlines()[-1].endswith("(whole cause: `tool history broken --json`)")
    code, out, _ = run(capsys, "history", "broken", "--json")
    assert code == 0 and json.loads(out)["error"] == "KeyError"


def test_following_with_a_timeout_names_the_command_to_follow_again(service: Path, capsys):
    definition = json.loads((service / "statemachine.asl.json").read_text())
    definition["StartAt"] = "Pause"
    definition["States"]["Pause"] = {"Type": "Wait", "Seconds": 1, "Next": "LambdaFunction"}
    (service / "statemachine.asl.json").write_text(json.dumps(definition))
    assert run(capsys, "deploy")[0] == 0
    code, _, err = run(capsys, "invoke", "-i", "in.json", "--execution-name", "t", "--timeout", "0")
    assert code == 1
    assert "(`tool history --follow t` follows it again)" in err
    assert run(capsys, "history", "--follow", "t")[0] == 0


# Ctrl-C as on a terminal, even when the tests themselves run with SIGINT ignored (a shell's
# background job, which the child would inherit it from).
AS_ON_A_TERMINAL = "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "


def start(service: Path, *args: str) -> subprocess.Popen[str]:
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = AS_ON_A_TERMINAL + "from tooling.cli import entry_point; entry_point()"
    return subprocess.Popen(
        [sys.executable, "-c", command, *args],
        cwd=service,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )


def interrupt_while_waiting(process: subprocess.Popen[str]) -> tuple[int, str]:
    """Ctrl-C once the run says it waits; the exit code and everything it wrote on stderr."""
    assert process.stderr is not None
    seen = ""
    for line in process.stderr:
        seen += line
        if line.startswith("waiting:"):
            break
    else:
        pytest.fail(f"the run never said it waits:\n{seen}")
    process.send_signal(signal.SIGINT)
    rest = process.stderr.read()
    return process.wait(timeout=60), seen + rest


def long_wait(service: Path) -> None:
    definition = json.loads((service / "statemachine.asl.json").read_text())
    definition["StartAt"] = "Pause"
    definition["States"]["Pause"] = {"Type": "Wait", "Seconds": 600, "Next": "LambdaFunction"}
    (service / "statemachine.asl.json").write_text(json.dumps(definition))


def test_ctrl_c_in_tool_run_says_the_run_stopped(service: Path) -> None:
    long_wait(service)
    code, err = interrupt_while_waiting(start(service, "run", "statemachine.asl.json"))
    assert code == 130
    assert err.splitlines()[-1] == (
        "interrupted: the run stopped here (`tool run` keeps nothing; "
        "`tool invoke` runs a deployed machine that goes on without you)"
    )


def test_ctrl_c_in_tool_invoke_says_the_execution_goes_on(service: Path, capsys) -> None:
    long_wait(service)
    assert run(capsys, "deploy")[0] == 0
    code, err = interrupt_while_waiting(start(service, "invoke", "--execution-name", "goes-on"))
    assert code == 130
    assert err.splitlines()[-1] == (
        "stopped following; execution goes-on goes on: `tool history --follow goes-on` "
        "follows it again, `tool stop goes-on` stops it"
    )
    backend = LocalBackend(service, "us-east-1")
    arn = backend.resolve_execution("goes-on")
    assert backend.describe_execution(arn)["status"] == "RUNNING"
    assert run(capsys, "stop", "goes-on")[0] == 0  # the hint's other command works too
    deadline = time.monotonic() + 30
    while backend.describe_execution(arn)["status"] == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert backend.describe_execution(arn)["status"] == "ABORTED"
