"""Warm starts, as Lambda reuses execution environments: an environment serves later
invocations of the same function configuration, one at a time, with its module-level state;
concurrent invocations get environments of their own; one that timed out or crashed is
discarded; what an invocation started ends with it, the runtime process stays (frozen)."""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tooling.localrt.lambda_runner import FunctionSpec, Invocation, LocalLambdaRunner

FIXTURE_CODE = Path(__file__).parent / "fixtures" / "lambda_code"
ARN = "arn:aws:lambda:us-east-1:123456789012:function:warm-dev-f"

needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="Linux /proc only")


@pytest.fixture
def code_dir(tmp_path: Path) -> Path:
    target = tmp_path / "task"
    shutil.copytree(FIXTURE_CODE, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


@pytest.fixture
def runner() -> Iterator[LocalLambdaRunner]:
    with LocalLambdaRunner(warm=True) as warm:
        yield warm


def spec(code_dir: Path, handler: str = "handler.count_calls", **changes: Any) -> FunctionSpec:
    fields: dict[str, Any] = {
        "name": "warm-dev-f",
        "arn": ARN,
        "handler": handler,
        "runtime": "python3.12",
        "memory_size": 128,
        "timeout": 30,
        "environment": {"STAGE": "dev"},
        "code_dir": code_dir,
        "region": "us-east-1",
    }
    fields.update(changes)
    return FunctionSpec(**fields)


def answer(invocation: Invocation) -> Any:
    assert invocation.function_error is None, invocation.payload
    return json.loads(invocation.payload)


def state(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return None


def gone(pid: int) -> bool:
    deadline = time.monotonic() + 10
    while state(pid) not in (None, "Z", "X"):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_module_level_state_survives_between_warm_invocations(
    runner: LocalLambdaRunner, code_dir: Path
) -> None:
    first, second, third = (answer(runner.invoke(spec(code_dir), "{}")) for _ in range(3))

    assert [first["calls"], second["calls"], third["calls"]] == [1, 2, 3]
    assert first["pid"] == second["pid"] == third["pid"]
    assert first["stream"] == third["stream"]  # one log stream per environment, as on Lambda


def test_only_a_cold_start_reports_its_init_phase(
    runner: LocalLambdaRunner, code_dir: Path
) -> None:
    cold = runner.invoke(spec(code_dir), "{}")
    warm = runner.invoke(spec(code_dir), "{}")

    assert cold.log.startswith("module imported\nSTART RequestId: ")
    assert re.search(r"\tInit Duration: [\d.]+ ms\t\n$", cold.log)
    assert warm.log.startswith("START RequestId: ")
    assert "Init Duration" not in warm.log
    assert re.search(r"\tMax Memory Used: \d+ MB\t\n$", warm.log)


def test_without_warm_every_invocation_is_a_cold_start(code_dir: Path) -> None:
    runner = LocalLambdaRunner()
    first = answer(runner.invoke(spec(code_dir), "{}"))
    second = answer(runner.invoke(spec(code_dir), "{}"))

    assert (first["calls"], second["calls"]) == (1, 1)
    assert first["pid"] != second["pid"]


def test_another_configuration_gets_another_environment(
    runner: LocalLambdaRunner, code_dir: Path
) -> None:
    first = answer(runner.invoke(spec(code_dir), "{}"))
    changed = answer(runner.invoke(spec(code_dir, environment={"STAGE": "prod"}), "{}"))
    again = answer(runner.invoke(spec(code_dir), "{}"))

    assert changed["calls"] == 1 and changed["pid"] != first["pid"]
    assert again["calls"] == 2 and again["pid"] == first["pid"]


def test_concurrent_invocations_get_environments_of_their_own(
    runner: LocalLambdaRunner, code_dir: Path
) -> None:
    answers: list[Any] = []

    def call() -> None:
        answers.append(answer(runner.invoke(spec(code_dir), json.dumps({"seconds": 0.5}))))

    threads = [threading.Thread(target=call) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    later = answer(runner.invoke(spec(code_dir), "{}"))

    assert len({a["pid"] for a in answers}) == 3
    assert [a["calls"] for a in answers] == [1, 1, 1]
    # Each ran once; the next invocation reuses one of them. Their threads have ended (a
    # runtime dies with the thread that started it: the warm ones must not).
    assert later["pid"] in {a["pid"] for a in answers} and later["calls"] == 2


def test_a_timed_out_environment_is_discarded(runner: LocalLambdaRunner, code_dir: Path) -> None:
    first = answer(runner.invoke(spec(code_dir, timeout=1), "{}"))
    timed_out = runner.invoke(spec(code_dir, timeout=1), json.dumps({"seconds": 5}))
    after = answer(runner.invoke(spec(code_dir, timeout=1), "{}"))

    assert json.loads(timed_out.payload)["errorType"] == "Sandbox.Timedout"
    assert gone(first["pid"])
    assert after["calls"] == 1 and after["pid"] != first["pid"]


def test_a_crashed_environment_is_discarded(runner: LocalLambdaRunner, code_dir: Path) -> None:
    fn = spec(code_dir, handler="handler.exit_three")
    crashed = runner.invoke(fn, "{}")
    again = runner.invoke(fn, "{}")

    assert json.loads(crashed.payload)["errorType"] == "Runtime.ExitError"
    assert "module imported" in again.log  # a cold start: the module was imported again


def test_a_handlers_error_keeps_the_environment(runner: LocalLambdaRunner, code_dir: Path) -> None:
    first = answer(runner.invoke(spec(code_dir), "{}"))
    failed = runner.invoke(spec(code_dir), json.dumps({"fail": True}))
    after = answer(runner.invoke(spec(code_dir), "{}"))

    assert json.loads(failed.payload)["errorMessage"] == "failed at call 2"
    assert after == {**first, "calls": 3}


@needs_proc
def test_what_an_invocation_started_ends_with_it_and_the_runtime_stays_frozen(
    runner: LocalLambdaRunner, code_dir: Path
) -> None:
    fn = spec(code_dir, handler="handler.start_sleeper")
    first = answer(runner.invoke(fn, "{}"))

    assert gone(first["child"])
    assert state(first["pid"]) == "T"  # the environment is frozen between invocations
    second = answer(runner.invoke(fn, "{}"))
    assert second["pid"] == first["pid"]
    assert gone(second["child"])
    # The runtime reaped the child ended after the first invocation: no zombie is left.
    assert state(first["child"]) is None


@needs_proc
def test_background_threads_do_not_run_while_the_environment_is_frozen(
    runner: LocalLambdaRunner, code_dir: Path
) -> None:
    fn = spec(code_dir, handler="handler.tick_in_background")
    started = answer(runner.invoke(fn, json.dumps({"start": True, "seconds": 0.2})))
    time.sleep(1.0)  # about 100 ticks, were the thread running
    later = answer(runner.invoke(fn, "{}"))

    assert started["ticks"] >= 5
    assert later["ticks"] - started["ticks"] < 50


@needs_proc
def test_closing_the_runner_ends_its_environments(code_dir: Path) -> None:
    with LocalLambdaRunner(warm=True) as runner:
        first = answer(runner.invoke(spec(code_dir), "{}"))
    assert gone(first["pid"])


def test_an_init_error_is_not_kept(runner: LocalLambdaRunner, code_dir: Path) -> None:
    (code_dir / "broken.py").write_text("raise RuntimeError('no init')\n")
    fn = spec(code_dir, handler="broken.handler")
    for _ in range(2):
        failed = runner.invoke(fn, "{}")
        assert json.loads(failed.payload)["errorType"] == "RuntimeError"
        assert "INIT_REPORT" in failed.log


needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="no `node` on PATH")

NODE_HANDLER = """
const { spawn } = require('child_process');
let calls = 0;
exports.count = async (event) => {
  calls += 1;
  const call = calls;
  if (event.timer) setTimeout(() => console.log('timer of call', call), 10);
  if (event.wait) await new Promise((resolve) => setTimeout(resolve, event.wait));
  if (event.fail) throw new Error(`failed at call ${calls}`);
  return { calls, pid: process.pid };
};
exports.sleeper = async () => {
  const child = spawn('sleep', ['600'], { stdio: 'ignore' });
  return { child: child.pid, pid: process.pid };
};
"""


@pytest.fixture
def node_code(tmp_path: Path) -> Path:
    target = tmp_path / "node"
    target.mkdir()
    (target / "index.js").write_text(NODE_HANDLER)
    return target


def node_spec(code_dir: Path, handler: str) -> FunctionSpec:
    return spec(code_dir, handler=handler, runtime="nodejs20.x")


@needs_node
def test_a_node_environment_keeps_its_module_state(
    runner: LocalLambdaRunner, node_code: Path
) -> None:
    fn = node_spec(node_code, "index.count")
    first, failed, third = (
        runner.invoke(fn, json.dumps(event)) for event in ({}, {"fail": True}, {})
    )

    assert answer(first)["calls"] == 1
    assert json.loads(failed.payload)["errorMessage"] == "failed at call 2"
    assert answer(third) == {"calls": 3, "pid": answer(first)["pid"]}


@needs_node
def test_a_node_callback_left_pending_resumes_in_the_next_invocation(
    runner: LocalLambdaRunner, node_code: Path
) -> None:
    fn = node_spec(node_code, "index.count")
    first = runner.invoke(fn, json.dumps({"timer": True}))
    time.sleep(0.1)  # the timer is due: it would have run, were the process not frozen
    second = runner.invoke(fn, json.dumps({"wait": 100}))

    assert answer(first)["calls"] == 1 and "timer of call" not in first.log
    assert "timer of call 1" in second.log  # it ran once the environment thawed


@needs_proc
@needs_node
def test_what_a_node_invocation_started_ends_with_it(
    runner: LocalLambdaRunner, node_code: Path
) -> None:
    fn = node_spec(node_code, "index.sleeper")
    first = answer(runner.invoke(fn, "{}"))
    assert gone(first["child"])
    assert state(first["pid"]) == "T"
    second = answer(runner.invoke(fn, "{}"))
    assert second["pid"] == first["pid"] and gone(second["child"])
