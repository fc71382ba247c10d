"""A handler that prints a lot, on the local runtime: time to store it, memory. Prints figures.

    .venv/bin/python bench/handler_output.py [--lines 300000] [--megabytes 300]

Two executions of a one-Task state machine: the handler prints `--lines` short lines, then
`--megabytes` MB in 1 MB lines. For each: the execution's wall time (start to SUCCEEDED), the
execution worker's peak resident memory (its ru_maxrss, the worker run as this script's child),
the rows and bytes its output took in `.tool/local.db`, and the time `tool logs` takes to print
the function's log. The yardstick is the same handler run without printing anything.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tooling.backends.local import LocalBackend

REGION = "us-east-1"
TOOL = Path(sys.executable).with_name("tool")
MACHINE_ARN = f"arn:aws:states:{REGION}:000000000000:stateMachine:output-bench-dev-talk"

CONFIG = """\
service: output-bench
provider:
  name: aws
  runtime: python3.12
  region: us-east-1
  timeout: 900
package:
  patterns:
    - '!**'
    - handler.py
functions:
  talk:
    handler: handler.talk
stepFunctions:
  stateMachines:
    talk:
      name: output-bench-dev-talk
      definition:
        StartAt: Talk
        States:
          Talk:
            Type: Task
            Resource:
              Fn::GetAtt: [talk, Arn]
            End: true
"""

HANDLER = """\
import sys


def talk(event, context):
    for index in range(event.get("lines", 0)):
        print(f"line {index}")
    block = "x" * (1024 * 1024 - 1) + "\\n"
    for _ in range(event.get("megabytes", 0)):
        sys.stdout.write(block)
    return {"done": True}
"""


class ChildWorkers(LocalBackend):
    """The local target, its execution worker run as this process's child (for its rusage)."""

    spawned: list[subprocess.Popen[bytes]] = []

    def __init__(self, service_dir: Path, region: str) -> None:
        super().__init__(service_dir, region)
        self.resident = None  # the worker is this process's child, not the resident runtime's

    def _spawn_worker(self, arn: str, name: str, owner: str, reservation: object = None) -> None:
        command = [sys.executable, "-m", "tooling.localrt.worker", str(self.store.path), arn, owner]
        self.spawned.append(subprocess.Popen(command, cwd=self.service_dir))


def measure(directory: Path, name: str, event: dict[str, int]) -> dict[str, float]:
    backend = ChildWorkers(directory, REGION)
    store = backend.store
    rows_before = len(store.logs())
    began = time.perf_counter()
    arn = backend.start_execution(MACHINE_ARN, name, json.dumps(event))["executionArn"]
    worker = backend.spawned[-1]
    _, status, usage = os.wait4(worker.pid, 0)
    elapsed = time.perf_counter() - began
    record = store.get_execution(arn)
    assert record is not None and record.status == "SUCCEEDED", record
    rows = store.logs()[rows_before:]
    peak_kb = usage.ru_maxrss // 1024 if sys.platform == "darwin" else usage.ru_maxrss
    began = time.perf_counter()
    logs = subprocess.run([str(TOOL), "logs", "talk"], cwd=directory, capture_output=True)
    logs_seconds = time.perf_counter() - began
    return {
        "seconds": elapsed,
        "worker_peak_mb": peak_kb / 1024,
        "rows": len(rows),
        "stored_kb": sum(len(r.message.encode()) for r in rows) / 1024,
        "logs_seconds": logs_seconds,
        "logs_stdout_kb": len(logs.stdout) / 1024,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=300_000)
    parser.add_argument("--megabytes", type=int, default=300)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="handler-output-") as tmp:
        directory = Path(tmp)
        (directory / "serverless.yml").write_text(CONFIG)
        (directory / "handler.py").write_text(HANDLER)
        deployed = subprocess.run([str(TOOL), "deploy"], cwd=directory, capture_output=True)
        if deployed.returncode != 0:
            raise RuntimeError(deployed.stderr.decode())
        rows = [
            ("silent (yardstick)", measure(directory, "silent", {})),
            (f"{args.lines:,} short lines", measure(directory, "lines", {"lines": args.lines})),
            (
                f"{args.megabytes} MB",
                measure(directory, "megabytes", {"megabytes": args.megabytes}),
            ),
        ]
        db_mb = (directory / ".tool" / "local.db").stat().st_size / 1024 / 1024
    print(f"{'handler prints':<22} {'run s':>7} {'worker peak MB':>15} {'log rows':>9} "
          f"{'stored KiB':>11} {'tool logs s':>12}")  # fmt: skip
    for label, figures in rows:
        print(
            f"{label:<22} {figures['seconds']:>7.2f} {figures['worker_peak_mb']:>15.1f} "
            f"{figures['rows']:>9} {figures['stored_kb']:>11.1f} {figures['logs_seconds']:>12.2f}"
        )
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"local.db after all three: {db_mb:.1f} MB; this script's own peak: {own:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
