"""The crash bench (bench/crash_faults.py), small: a few executions, a few SIGKILLs at random
moments, then every execution must end as an uninterrupted run would, with nothing stuck, lost,
duplicated or left running. The kill moments vary from run to run; the figures must not. No
timing is asserted."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.slow  # end-to-end: `make test` runs it, `make test-fast` does not

BENCH = Path(__file__).resolve().parents[2] / "bench" / "crash_faults.py"


def load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("crash_faults_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="Linux /proc only")
def test_random_sigkills_leave_nothing_stuck_lost_duplicated_wrong_or_running(
    tmp_path: Path,
) -> None:
    bench = load_bench()
    report = bench.run(tmp_path, executions=6, kills=5, seed=3, log=lambda _: None)
    assert sum(report.kills.values()) >= 5
    assert (report.expected, report.ended) == (6, 6), report.problems
    assert report.stuck == 0, report.problems
    assert report.lost_messages == 0, report.problems
    assert report.duplicates == 0, report.problems
    assert report.wrong_outputs == 0, report.problems
    assert report.orphans == 0, report.problems
    assert report.passed
