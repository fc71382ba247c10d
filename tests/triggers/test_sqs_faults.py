"""The fault bench (bench/sqs_faults.py) at 200 messages: SIGKILL mid-batch loses nothing and
starts nothing twice. No timing is asserted."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.slow  # end-to-end: `make test` runs it, `make test-fast` does not

BENCH = Path(__file__).resolve().parents[2] / "bench" / "sqs_faults.py"


def load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sqs_faults_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def test_sigkill_in_the_middle_of_a_batch_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    bench = load_bench()
    report = bench.run_fault_scenario(tmp_path, 200, kill_after=5)
    # 2% not JSON; 5% second sends of a valid body, which are valid messages of their own.
    assert (report.sent, report.invalid, report.same_body_resends) == (200, 4, 10)
    assert report.valid == 196
    assert report.executions == report.valid
    assert report.duplicates == 0
    assert report.lost == 0 and report.left_on_queue == 0
    assert report.dead_lettered == report.invalid
    assert report.dead_lettered_are_the_invalid_ones
    # The killed batch came back: the restarted worker found executions already started by the
    # killed one (5 starts in, nothing deleted) and did not start them again.
    restarted = report.worker_summaries["A-restarted"]
    assert restarted["already-started"] >= 1
    assert report.passed
