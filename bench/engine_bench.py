#!/usr/bin/env python3
"""Speed of the local ASL engine next to moto's executing interpreter, on the same machines.

Workloads (issue 3): a Pass+Choice loop of N iterations (2N+1 states entered), an inline Map over
1,000 items (1+1000), a Parallel of 10 branches x 10 Pass states (1+100). Each output is checked.
Prints state transitions per second for both engines and the ratio ours/moto.

    .venv/bin/python bench/engine_bench.py                  # both engines (moto is dev-only)
    .venv/bin/python bench/engine_bench.py --no-moto --ns 10,100,1000,10000
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tooling.engine import ExecutionInfo, parse_definition, run_execution  # noqa: E402
from tooling.engine.clock import VirtualClock  # noqa: E402

ROLE = "arn:aws:iam::123456789012:role/bench"

# ---- the machines ------------------------------------------------------------------------------


def loop_machine() -> dict[str, Any]:
    return {
        "StartAt": "Increment",
        "States": {
            "Increment": {
                "Type": "Pass",
                "Parameters": {"count.$": "States.MathAdd($.iter.count, 1)"},
                "ResultPath": "$.iter",
                "Next": "Again",
            },
            "Again": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.iter.count", "NumericLessThanPath": "$.n", "Next": "Increment"}
                ],
                "Default": "Done",
            },
            "Done": {"Type": "Succeed"},
        },
    }


def map_machine() -> dict[str, Any]:
    return {
        "StartAt": "EachItem",
        "States": {
            "EachItem": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "MaxConcurrency": 0,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": "Keep",
                    "States": {
                        "Keep": {
                            "Type": "Pass",
                            "Parameters": {"i.$": "$.i", "ok": True},
                            "End": True,
                        }
                    },
                },
                "End": True,
            }
        },
    }


def parallel_machine(branches: int = 10, depth: int = 10) -> dict[str, Any]:
    def branch(b: int) -> dict[str, Any]:
        states: dict[str, Any] = {}
        for k in range(depth):
            state: dict[str, Any] = {
                "Type": "Pass",
                "Result": {"b": b, "k": k},
                "ResultPath": f"$.r{k}",
            }
            if k == depth - 1:
                state["End"] = True
            else:
                state["Next"] = f"S{b}_{k + 1}"
            states[f"S{b}_{k}"] = state
        return {"StartAt": f"S{b}_0", "States": states}

    return {
        "StartAt": "All",
        "States": {
            "All": {
                "Type": "Parallel",
                "Branches": [branch(b) for b in range(branches)],
                "End": True,
            }
        },
    }


Workload = tuple[str, dict[str, Any], Any, int, Callable[[Any], bool]]


def _counted_to(n: int) -> Callable[[Any], bool]:
    return lambda output: bool(output["iter"]["count"] == n)


def workloads(ns: list[int]) -> list[Workload]:
    out: list[Workload] = []
    for n in ns:
        out.append(
            (
                f"loop N={n}",
                loop_machine(),
                {"n": n, "iter": {"count": 0}},
                2 * n + 1,
                _counted_to(n),
            )
        )
    items = {"items": [{"i": i, "s": f"item-{i}"} for i in range(1000)]}
    out.append(
        (
            "map 1000",
            map_machine(),
            items,
            1001,
            lambda o: len(o) == 1000 and o[999] == {"i": 999, "ok": True},
        )
    )
    out.append(
        (
            "parallel 10x10",
            parallel_machine(),
            {"x": 1},
            101,
            lambda o: len(o) == 10 and o[9]["r9"] == {"b": 9, "k": 9},
        )
    )
    return out


# ---- the engines -------------------------------------------------------------------------------


class _Events:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def append(self, event: dict[str, Any]) -> None:
        self.events.append(event)


class _NoLambdas:
    def invoke(self, function: str, payload: str, *, timeout_seconds: float | None = None) -> Any:
        raise AssertionError("the bench machines call no Lambda")

    def invoke_event(self, function: str, payload: str) -> Any:
        raise AssertionError("the bench machines call no Lambda")


_compiled: dict[str, Any] = {}


def run_ours(definition: dict[str, Any], data: Any) -> Any:
    """Parse once per definition (as the local runtime does), run with a full history."""
    key = json.dumps(definition, sort_keys=True)
    machine = _compiled.get(key) or _compiled.setdefault(key, parse_definition(definition))
    info = ExecutionInfo(
        execution_arn="arn:aws:states:us-east-1:123456789012:execution:bench:run",
        name="run",
        state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:bench",
        state_machine_name="bench",
        role_arn=ROLE,
    )
    outcome = run_execution(
        machine,
        json.dumps(data),
        info=info,
        clock=VirtualClock(),
        lambdas=_NoLambdas(),
        history=_Events(),
    )
    if outcome.status != "SUCCEEDED":
        raise RuntimeError(f"{outcome.status}: {outcome.error} {outcome.cause}")
    return json.loads(outcome.output or "null")


def moto_runner() -> Callable[[dict[str, Any], Any], Any]:
    """moto 5.x's executing interpreter, in-process; each run joins the execution's thread."""
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    import boto3
    from moto import mock_aws
    from moto.stepfunctions.parser import utils as moto_utils

    mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
    mock.start()
    client = boto3.client("stepfunctions", region_name="us-east-1")
    machines: dict[str, str] = {}
    names = itertools.count()

    def run(definition: dict[str, Any], data: Any) -> Any:
        key = json.dumps(definition, sort_keys=True)
        if key not in machines:
            machines[key] = client.create_state_machine(
                name=f"bench{len(machines)}", definition=key, roleArn=ROLE
            )["stateMachineArn"]
        threads_before = len(moto_utils.TMP_THREADS)
        arn = client.start_execution(
            stateMachineArn=machines[key], name=f"run{next(names)}", input=json.dumps(data)
        )["executionArn"]
        moto_utils.TMP_THREADS[threads_before].join()
        described = client.describe_execution(executionArn=arn)
        if described["status"] != "SUCCEEDED":
            raise RuntimeError(f"{described['status']}: {described.get('error')}")
        return json.loads(described["output"])

    return run


# ---- measuring ---------------------------------------------------------------------------------


def measure(run: Callable[[dict[str, Any], Any], Any], workload: Workload, runs: int) -> float:
    """Median transitions per second over `runs` warm runs (one cold run first, not counted)."""
    label, definition, data, transitions, check = workload
    times = []
    for attempt in range(runs + 1):
        fresh = json.loads(json.dumps(data))
        started = time.perf_counter()
        output = run(definition, fresh)
        elapsed = time.perf_counter() - started
        if not check(output):
            raise AssertionError(f"{label}: wrong output {json.dumps(output)[:120]}")
        if attempt:
            times.append(elapsed)
    return transitions / statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ns", default="10,100,1000", help="loop sizes (default 10,100,1000)")
    parser.add_argument("--runs", type=int, default=5, help="warm runs for our engine")
    parser.add_argument("--moto-runs", type=int, default=3, help="warm runs for moto")
    parser.add_argument("--no-moto", action="store_true", help="measure our engine only")
    args = parser.parse_args()
    ns = [int(n) for n in args.ns.split(",") if n]
    moto = None if args.no_moto else moto_runner()
    print(f"# python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs")
    header = ["workload", "states", "ours trans/s", "us/trans"]
    if moto:
        header += ["moto trans/s", "ratio"]
    rows = []
    for workload in workloads(ns):
        ours = measure(run_ours, workload, args.runs)
        row = [workload[0], str(workload[3]), f"{ours:,.0f}", f"{1e6 / ours:.1f}"]
        if moto:
            theirs = measure(moto, workload, args.moto_runs)
            row += [f"{theirs:,.0f}", f"{ours / theirs:.1f}x"]
        rows.append(row)
        print("  ".join(row), file=sys.stderr, flush=True)
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
