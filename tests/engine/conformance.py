"""Run the recorded-AWS conformance corpus (../shared/conformance) in this process.

Checks each case as the corpus's run.py does with --events (status, output, error, cause present,
event types; as a multiset when the case says "unordered"), but calls the engine directly.
`python -m tests.engine.conformance [FILTER...]` prints failures and per-group figures.
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tooling.engine import ExecutionInfo, parse_definition, run_execution
from tooling.engine.clock import VirtualClock
from tooling.engine.ports import LambdaResponse
from tooling.errors import ToolError

REPO = Path(__file__).resolve().parents[2]
CASES = REPO.parent / "shared" / "conformance" / "cases"
_REGION = "us-east-1"
_ACCOUNT = "123456789012"


class _NoLambdas:
    def invoke(self, function: str, payload: str, *, timeout_seconds: float | None = None) -> Any:
        return LambdaResponse(payload=payload)

    def invoke_event(self, function: str, payload: str) -> LambdaResponse:
        raise AssertionError("no conformance case calls a function asynchronously")


class _Events:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def append(self, event: dict[str, Any]) -> None:
        self.events.append(event)


def run_case_definition(
    definition: Any, input_value: Any, machine_type: str = "STANDARD"
) -> dict[str, Any]:
    """The `tool run --json` shape for one execution: status, output, error, cause, events."""
    info = ExecutionInfo(
        execution_arn=f"arn:aws:states:{_REGION}:{_ACCOUNT}:execution:conformance:case",
        name="case",
        state_machine_arn=f"arn:aws:states:{_REGION}:{_ACCOUNT}:stateMachine:conformance",
        state_machine_name="conformance",
        role_arn=f"arn:aws:iam::{_ACCOUNT}:role/conformance",
        state_machine_type=machine_type,
    )
    try:
        machine = parse_definition(definition)
    except ToolError as exc:
        return {"status": "INVALID_DEFINITION", "error": None, "cause": str(exc), "events": []}
    sink = _Events()
    outcome = run_execution(
        machine,
        json.dumps(input_value),
        info=info,
        clock=VirtualClock(),
        lambdas=_NoLambdas(),
        history=sink,
    )
    return {
        "status": outcome.status,
        "output": None if outcome.output is None else json.loads(outcome.output),
        "error": outcome.error,
        "cause": outcome.cause,
        "events": [{"type": e["type"]} for e in sink.events],
    }


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def _difference(expected: Any, actual: Any, at: str = "") -> str | None:
    """Where two JSON values first differ (1 == 1.0, true != 1, key order ignored)."""
    if _kind(expected) != _kind(actual):
        return f"{at or '/'}: expected {json.dumps(expected)[:120]} got {json.dumps(actual)[:120]}"
    if isinstance(expected, dict):
        if set(expected) != set(actual):
            return f"{at or '/'}: keys {sorted(expected)} != {sorted(actual)}"
        for key in expected:
            found = _difference(expected[key], actual[key], f"{at}/{key}")
            if found:
                return found
        return None
    if isinstance(expected, list):
        if len(expected) != len(actual):
            return f"{at or '/'}: length {len(expected)} != {len(actual)}"
        for i, (a, b) in enumerate(zip(expected, actual, strict=True)):
            found = _difference(a, b, f"{at}/{i}")
            if found:
                return found
        return None
    if expected != actual:
        return f"{at or '/'}: expected {json.dumps(expected)[:120]} got {json.dumps(actual)[:120]}"
    return None


def _remove(document: Any, pointer: str) -> Any:
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.lstrip("/").split("/")]
    node = document
    for part in parts[:-1]:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return document
    if isinstance(node, dict):
        node.pop(parts[-1], None)
    elif isinstance(node, list) and parts[-1].isdigit() and int(parts[-1]) < len(node):
        node[int(parts[-1])] = None
    return document


def _cause_matches(expected: str, actual: str | None, placeholders: list[str]) -> bool:
    """Equal, with the corpus's masking tokens (e.g. <json-input:1>) as wildcards."""
    if actual is None:
        return False
    if not placeholders:
        return expected == actual
    tokens = sorted(set(placeholders), key=len, reverse=True)
    pieces = re.split("(" + "|".join(re.escape(t) for t in tokens) + ")", expected)
    pattern = "".join(".*?" if p in tokens else re.escape(p) for p in pieces)
    return re.fullmatch(pattern, actual, flags=re.S) is not None


def check_case(case: dict[str, Any], strict_cause: bool = False) -> str | None:
    """None when the engine matches the recording, else the first problem found."""
    try:
        result = run_case_definition(
            case["definition"], case.get("input", {}), case.get("state_machine_type", "STANDARD")
        )
    except Exception as exc:  # noqa: BLE001 - a crash is a failed case, reported as such
        return f"engine raised {type(exc).__name__}: {exc}"
    expected = case["expected"]
    problems = []
    if result["status"] != expected["status"]:
        problems.append(
            f"status {result['status']} != {expected['status']} "
            f"[{result.get('error')}: {str(result.get('cause'))[:200]}]"
        )
    else:
        if expected["status"] == "SUCCEEDED" and "output" in expected:
            want = json.loads(json.dumps(expected["output"]))
            got = result["output"]
            for pointer in case.get("ignore_paths", []):
                want, got = _remove(want, pointer), _remove(got, pointer)
            found = _difference(want, got)
            if found:
                problems.append(f"output differs at {found}")
        if expected["status"] in ("FAILED", "TIMED_OUT"):
            if result["error"] != expected.get("error"):
                problems.append(f"error {result['error']!r} != {expected.get('error')!r}")
            if expected.get("cause") is not None and not result["cause"]:
                problems.append("cause missing")
            elif strict_cause and expected.get("cause") is not None:
                placeholders = case.get("cause_placeholders", [])
                if not _cause_matches(expected["cause"], result["cause"], placeholders):
                    problems.append(f"cause {result['cause']!r} != {expected['cause']!r}")
    if "expected_event_types" in case:
        got_types = [e["type"] for e in result["events"]]
        want_types = case["expected_event_types"]
        if case.get("event_order") == "unordered":
            same = sorted(got_types) == sorted(want_types)
        else:
            same = got_types == want_types
        if not same:
            problems.append(f"event types differ: expected {want_types} got {got_types}")
    return "; ".join(problems) or None


@dataclass
class Report:
    passed: dict[str, int]
    total: dict[str, int]
    failures: dict[str, str]

    @property
    def overall(self) -> float:
        return sum(self.passed.values()) / max(1, sum(self.total.values()))

    def ratio(self, group: str) -> float:
        return self.passed[group] / self.total[group]


def run_corpus(
    root: Path = CASES, filters: tuple[str, ...] = (), strict_cause: bool = False
) -> Report:
    passed: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    failures: dict[str, str] = {}
    for path in sorted(root.glob("*/*.json")):
        case_id = f"{path.parent.name}/{path.stem}"
        if filters and not any(f in case_id for f in filters):
            continue
        group = path.parent.name
        total[group] += 1
        problem = check_case(json.loads(path.read_text(encoding="utf-8")), strict_cause)
        if problem is None:
            passed[group] += 1
        else:
            failures[case_id] = problem
    return Report(passed, total, failures)


def main(argv: list[str]) -> int:
    strict = "--strict-cause" in argv
    report = run_corpus(
        filters=tuple(a for a in argv if not a.startswith("--")), strict_cause=strict
    )
    for case_id, problem in report.failures.items():
        print(f"FAIL {case_id}: {problem[:600]}")
    for group in sorted(report.total):
        print(f"{group:20} {report.passed[group]:4}/{report.total[group]:4}")
    print(f"{sum(report.passed.values())} passed, {len(report.failures)} failed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
