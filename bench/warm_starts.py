"""Cold and warm Lambda starts on the local runtime, and how an execution's worker starts.

    .venv/bin/python bench/warm_starts.py [--runs 20]

1. One invocation of the example's handler (`handler.lambda_handler`), median of `--runs`:
   - cold: a new runtime process each time (the interpreter, the bootstrap, the handler's
     import), as every invocation was before warm environments; the yardstick of this part;
   - warm: the environment kept (frozen) from the invocation before, as Lambda reuses it;
   - cold, runtime started ahead: the process started before the invocation (as the resident
     runtime's spare worker does for the function the last run started first), so only the
     handler's own import (the Init phase) and the call remain.
   The same for a Node.js handler when `node` is on PATH.
2. The example's execution (5 Lambda calls), from StartExecution to its end as seen by the
   starter, deployed to the local target in a temporary folder, median of `--runs`:
   - a worker process started with exec (`TOOL_RESIDENT=0`): Python's start-up and the
     worker's imports before the first state; the yardstick of this part;
   - a worker forked by the folder's resident runtime (its spare, with the runtime process of
     the last run's first function started).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from tooling.backends.local import LocalBackend
from tooling.localrt.lambda_runner import FunctionSpec, LocalLambdaRunner, prestart
from tooling.localrt.resident import ResidentRuntime

ROOT = Path(__file__).resolve().parents[1]
SEED_FILES = ("serverless.yml", "handler.py", "statemachine.asl.json", "in.json")
TOOL = str(Path(sys.executable).with_name("tool"))
MACHINE_ARN = "arn:aws:states:us-east-1:000000000000:stateMachine:hello-loop-dev-loop"
EVENT = json.dumps({"key1": "value1", "key2": "value2", "key3": "value3"})
NODE_HANDLER = "exports.handler = async (event) => ({ count: 1, value1: event.key1 });\n"


def spec(code_dir: Path, handler: str, runtime: str) -> FunctionSpec:
    return FunctionSpec(
        name="bench-dev-hello",
        arn="arn:aws:lambda:us-east-1:000000000000:function:bench-dev-hello",
        handler=handler,
        runtime=runtime,
        memory_size=128,
        timeout=10,
        environment={},
        code_dir=code_dir,
        region="us-east-1",
    )


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def invocations(fn: FunctionSpec, runs: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"cold": [], "warm": [], "cold, runtime started ahead": []}
    for _ in range(runs):
        times["cold"].append(timed(lambda: LocalLambdaRunner().invoke(fn, EVENT)))
    with LocalLambdaRunner(warm=True) as runner:
        runner.invoke(fn, EVENT)
        for _ in range(runs):
            times["warm"].append(timed(lambda: runner.invoke(fn, EVENT)))
    for _ in range(runs):
        owner = uuid.uuid4().hex
        prestart(fn, owner=owner)
        time.sleep(0.3)  # it loads while nothing waits for it
        with LocalLambdaRunner(warm=True, owner=owner) as runner:
            times["cold, runtime started ahead"].append(timed(lambda: runner.invoke(fn, EVENT)))
    return times


def execution(backend: LocalBackend, input_text: str) -> float:
    started = time.perf_counter()
    arn = backend.start_execution(MACHINE_ARN, str(uuid.uuid4()), input_text)["executionArn"]
    while backend.describe_execution(arn)["status"] == "RUNNING":
        backend.wait_for_change(arn, 0.01)
    return time.perf_counter() - started


def executions(service: Path, runs: int) -> dict[str, list[float]]:
    input_text = (service / "in.json").read_text()
    times: dict[str, list[float]] = {"worker started with exec": [], "forked, resident": []}
    os.environ["TOOL_RESIDENT"] = "0"
    direct = LocalBackend(service, "us-east-1")
    del os.environ["TOOL_RESIDENT"]
    resident = LocalBackend(service, "us-east-1")
    execution(direct, input_text)
    execution(resident, input_text)  # starts the resident runtime
    execution(resident, input_text)
    for _ in range(runs):  # interleaved
        times["worker started with exec"].append(execution(direct, input_text))
        time.sleep(0.3)  # the resident runtime forks its next spare a moment after each start
        times["forked, resident"].append(execution(resident, input_text))
    return times


def show(title: str, times: dict[str, list[float]]) -> None:
    yardstick = statistics.median(next(iter(times.values())))
    print(title)
    for name, values in times.items():
        median = statistics.median(values)
        print(
            f"  {name:<32} {median * 1000:8.1f} ms  (fastest {min(values) * 1000:6.1f})"
            f"  {median / yardstick:5.2f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    print(f"median of {args.runs} runs; ratio to the first line of each part; load average "
          f"{os.getloadavg()[0]:.2f}")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="warm-starts-") as folder:
        code = Path(folder) / "code"
        code.mkdir()
        shutil.copy(ROOT / "handler.py", code / "handler.py")
        show(
            "one invocation, Python (handler.lambda_handler)",
            invocations(spec(code, "handler.lambda_handler", "python3.12"), args.runs),
        )
        if shutil.which("node"):
            (code / "index.js").write_text(NODE_HANDLER)
            show(
                "one invocation, Node.js",
                invocations(spec(code, "index.handler", "nodejs20.x"), args.runs),
            )
        service = Path(folder) / "service"
        service.mkdir()
        for name in SEED_FILES:
            shutil.copy(ROOT / name, service / name)
        subprocess.run([TOOL, "deploy"], cwd=service, check=True, capture_output=True)
        try:
            show("the example's execution (5 Lambda calls)", executions(service, args.runs))
        finally:
            ResidentRuntime(service / ".tool").stop()


if __name__ == "__main__":
    main()
