"""What a handler leaves behind: the processes it starts end with its invocation, and what it
prints is capped in bounded memory (issue 12). A real child process per invocation."""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
import tracemalloc
from pathlib import Path

import pytest

from tooling.localrt.lambda_runner import FunctionSpec, Invocation, LocalLambdaRunner

pytestmark = pytest.mark.slow  # end-to-end: `make test` runs it, `make test-fast` does not

FIXTURE_CODE = Path(__file__).parent / "fixtures" / "lambda_code"
MAX_LOG_BYTES = 256 * 1024  # CloudWatch Logs: a log event holds at most 256 KiB


@pytest.fixture
def code_dir(tmp_path: Path) -> Path:
    target = tmp_path / "task"
    shutil.copytree(FIXTURE_CODE, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def invoke(code_dir: Path, handler: str, payload: str = "{}", timeout: int = 30) -> Invocation:
    spec = FunctionSpec(
        name="output-dev-f",
        arn="arn:aws:lambda:us-east-1:123456789012:function:output-dev-f",
        handler=handler,
        runtime="python3.12",
        memory_size=128,
        timeout=timeout,
        environment={},
        code_dir=code_dir,
        region="us-east-1",
    )
    return LocalLambdaRunner().invoke(spec, payload)


def _gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def _eventually_gone(pid: int) -> bool:
    deadline = time.monotonic() + 10
    while not _gone(pid):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)  # leave nothing behind, then fail
            return False
        time.sleep(0.02)
    return True


needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="Linux /proc only")


@needs_proc
@pytest.mark.parametrize("clear_env", [False, True], ids=["marked", "environment-cleared"])
def test_a_daemon_the_handler_started_ends_with_the_invocation(
    code_dir: Path, tmp_path: Path, clear_env: bool
) -> None:
    pid_file = tmp_path / "daemon.pid"
    event = {"pid_file": str(pid_file), "clear_env": clear_env}
    invocation = invoke(code_dir, "handler.daemonize", json.dumps(event))
    assert invocation.function_error is None, invocation.payload
    assert _eventually_gone(int(pid_file.read_text()))


@needs_proc
def test_a_daemon_ends_when_the_function_times_out(code_dir: Path, tmp_path: Path) -> None:
    pid_file = tmp_path / "daemon.pid"
    event = {"pid_file": str(pid_file), "seconds": 60}
    invocation = invoke(code_dir, "handler.daemonize", json.dumps(event), timeout=1)
    assert json.loads(invocation.payload)["errorType"] == "Sandbox.Timedout"
    assert _eventually_gone(int(pid_file.read_text()))


def test_output_is_capped_to_its_head_and_tail_in_bounded_memory(code_dir: Path) -> None:
    tracemalloc.start()
    try:
        invocation = invoke(code_dir, "handler.flood", json.dumps({"lines": 300_000}))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert invocation.function_error is None
    assert peak < 4 * 1024 * 1024  # the handler printed 7.5 MB
    assert len(invocation.log.encode()) < MAX_LOG_BYTES + 2048
    lines = invocation.log.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("START")) + 1
    assert lines[first] == "0 " + "x" * 20 and lines[-3] == "299999 " + "x" * 20
    [note] = [line for line in lines if line.startswith("[tool: ")]
    kept = sum(1 for line in lines if line.endswith("x" * 20))
    dropped = int(note.split()[1].replace(",", ""))
    assert kept + dropped == 300_000  # every line is kept or counted, none cut in two
    assert "256 KiB" in note
