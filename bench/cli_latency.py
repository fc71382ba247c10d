"""How long the `tool` command takes to answer, next to `python -c "import boto3"`.

Runs, in one go and interleaved (so a busy moment of the machine hits every command alike):

    tool --help
    tool validate statemachine.asl.json
    tool run statemachine.asl.json --input in.json      (5 handler calls, not deployed)
    tool invoke --input in.json                         (5 handler calls, deployed demo)
    the same, the folder's resident runtime stopped first (the first invoke in a folder)
    python -c "import boto3"                             (the yardstick)

on a copy of the example service in a temporary folder (deployed once to the local target
first; each command runs once before the timed runs, so the first `invoke` starts the folder's
resident runtime, as a user's first one would; the row "first in the folder" stops it before
each of its runs; after an invoke the next command waits 2 s, so that the resident runtime's
work in the background is not timed with it). Prints the median and the fastest of each, and
the ratio to the boto3 import, with the targets of issue 16: --help and validate under half of
it, invoke no slower than it.

    .venv/bin/python bench/cli_latency.py [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tooling.localrt.resident import ResidentRuntime

ROOT = Path(__file__).resolve().parents[1]
SEED_FILES = ("serverless.yml", "handler.py", "statemachine.asl.json", "in.json")
TOOL = str(Path(sys.executable).with_name("tool"))

FIRST_INVOKE = "tool invoke, first in the folder"
COMMANDS: dict[str, list[str]] = {
    # The folder's resident runtime stopped first: what the first invoke in a folder (or the
    # first after 10 idle minutes) costs, with the resident runtime to start.
    FIRST_INVOKE: [TOOL, "invoke", "--input", "in.json"],
    "tool --help": [TOOL, "--help"],
    "tool validate statemachine.asl.json": [TOOL, "validate", "statemachine.asl.json"],
    "tool run statemachine.asl.json --input in.json": [
        TOOL,
        "run",
        "statemachine.asl.json",
        "--input",
        "in.json",
    ],
    "tool invoke --input in.json": [TOOL, "invoke", "--input", "in.json"],
    'python -c "import boto3"': [sys.executable, "-c", "import boto3"],
}
YARDSTICK = 'python -c "import boto3"'
SETTLE_SECONDS = 2.0
# name -> the largest ratio to the yardstick that meets the target
TARGETS = {
    "tool --help": 0.5,
    "tool validate statemachine.asl.json": 0.5,
    "tool invoke --input in.json": 1.0,
}


# As on a user's machine: Python caches compiled modules (an environment that sets
# PYTHONDONTWRITEBYTECODE would compile the toolkit's sources on every start, while boto3's
# were compiled when pip installed it).
ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=ENV)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="runs of each command")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="cli-latency-") as folder:
        service = Path(folder)
        for name in SEED_FILES:
            shutil.copy(ROOT / name, service / name)
        subprocess.run([TOOL, "deploy"], cwd=service, check=True, capture_output=True, env=ENV)
        for command in COMMANDS.values():  # warm the file cache and .pyc files
            timed(command, service)
        times: dict[str, list[float]] = {name: [] for name in COMMANDS}
        try:
            for _ in range(args.runs):
                for name, command in COMMANDS.items():
                    if name == FIRST_INVOKE:
                        ResidentRuntime(service / ".tool").stop()
                    times[name].append(timed(command, service))
                    if "invoke" in command:
                        # Not in the next command's time: the resident runtime's work after a
                        # start (the next spare; after its own start, the modules it loads idle).
                        time.sleep(SETTLE_SECONDS)
        finally:
            ResidentRuntime(service / ".tool").stop()  # before the folder is deleted
    yardstick = statistics.median(times[YARDSTICK])
    print(
        f"{args.runs} runs each, interleaved; median and fastest wall time, ratio of medians; "
        f"load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after"
    )
    print(f"{'command':<48} {'median':>8} {'fastest':>8} {'ratio':>6}  target")
    for name, values in times.items():
        median = statistics.median(values)
        ratio = median / yardstick
        target = TARGETS.get(name)
        verdict = ""
        if target is not None:
            verdict = f"< {target:g}x {'met' if ratio < target else 'MISSED'}"
        print(
            f"{name:<48} {median * 1000:>6.0f}ms {min(values) * 1000:>6.0f}ms "
            f"{ratio:>5.2f}x  {verdict}"
        )


if __name__ == "__main__":
    main()
