"""Runs and logs after the fact: `tool logs` filters and follows, `tool history` shows the
handlers' output and re-attaches to a running execution, `tool worker` tells each outcome."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tooling import function_logs
from tooling.backends.local import LocalBackend
from tooling.cli import main
from tooling.errors import InputError

pytestmark = pytest.mark.slow  # end-to-end: `make test` runs it, `make test-fast` does not


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def two_runs(service: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    assert run(capsys, "deploy")[0] == 0
    assert run(capsys, "invoke", "-i", "in.json", "--execution-name", "first")[0] == 0
    assert run(capsys, "invoke", "-d", '{"key1": "value1", "key2": "second", "key3": "c"}',
               "--execution-name", "second")[0] == 0  # fmt: skip
    return service


def messages(out: str) -> list[str]:
    return [line.split("  ", 1)[1] for line in out.splitlines()]


def test_logs_takes_the_function_as_sls_writes_it(two_runs: Path, capsys) -> None:
    positional = run(capsys, "logs", "hello")
    assert positional[0] == 0
    assert run(capsys, "logs", "-f", "hello") == positional
    assert run(capsys, "logs", "--function", "hello-loop-dev-hello") == positional
    code, _, err = run(capsys, "logs", "hello", "-f", "other")
    assert code == 2 and "two functions given" in err


def test_logs_filter_keeps_the_lines_containing_the_text(two_runs: Path, capsys) -> None:
    code, out, _ = run(capsys, "logs", "hello", "--filter", "value2 = second")
    assert code == 0
    assert messages(out) == ["value2 = second"] * 5


def test_logs_of_one_execution(two_runs: Path, capsys) -> None:
    code, out, err = run(capsys, "logs", "--execution", "second", "--filter", "value2")
    assert code == 0, err
    assert messages(out) == ["value2 = second"] * 5
    code, out, _ = run(capsys, "logs", "-e", "first")
    assert sum(line.endswith("value2 = value2") for line in out.splitlines()) == 5
    assert "second" not in out


def test_logs_since(two_runs: Path, capsys) -> None:
    everything = run(capsys, "logs")[1]  # every function of the service: here the one
    assert (
        len(everything.splitlines()) == 2 * 5 * 6
    )  # 2 runs x 5 calls x (3 lines + START/END/REPORT)
    assert run(capsys, "logs", "--since", "1h")[1] == everything
    code, out, err = run(capsys, "logs", "--since", "2999-01-01T00:00:00+00:00")
    assert (code, out) == (0, "")
    assert err.splitlines()[-1] == "no log lines from hello-loop-dev-hello match"
    code, _, err = run(capsys, "logs", "--since", "yesterday-ish")
    assert code == 2 and "--since 'yesterday-ish' is neither a duration nor" in err


def test_logs_json_is_one_object(two_runs: Path, capsys) -> None:
    code, out, _ = run(capsys, "logs", "--json", "--filter", "value1")
    events = json.loads(out)["events"]
    assert len(events) == 10
    assert {e["functionName"] for e in events} == {"hello-loop-dev-hello"}
    assert all(e["message"] == "value1 = value1" for e in events)
    code, out, err = run(capsys, "logs", "--json", "--tail")
    assert (code, out) == (2, "") and "--tail does not end" in err


def test_logs_tail_follows_new_lines_until_ctrl_c(
    two_runs: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = LocalBackend(two_runs, "us-east-1")
    naps: list[float] = []

    def nap(seconds: float) -> None:
        naps.append(seconds)
        if len(naps) == 1:  # something new arrives while the command waits
            backend.store.append_log(
                function_name="hello-loop-dev-hello",
                request_id="r",
                timestamp=datetime.now(UTC),
                message="a late line",
            )
        else:
            raise KeyboardInterrupt

    monkeypatch.setattr(time, "sleep", nap)  # tooling.function_logs' time.sleep
    code, out, err = run(capsys, "logs", "-t", "--filter", "late")
    assert code == 130
    assert messages(out) == ["a late line"]
    assert err.splitlines()[-1] == "stopped following the logs"
    assert naps == [function_logs.TAIL_INTERVAL_SECONDS] * 2


def test_parse_since() -> None:
    now = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert function_logs.parse_since("10m", now) == datetime(2024, 5, 1, 11, 50, tzinfo=UTC)
    assert function_logs.parse_since("2h ago", now) == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert function_logs.parse_since("1d", now) == datetime(2024, 4, 30, 12, 0, tzinfo=UTC)
    assert function_logs.parse_since("2024-05-01T09:30:00+00:00") == datetime(
        2024, 5, 1, 9, 30, tzinfo=UTC
    )
    with pytest.raises(InputError):
        function_logs.parse_since("soon")


class _OneEntryPerCall:
    """A target that stores each invocation's output as one entry of several lines."""

    target = "local"

    def function_logs(self, name: str, after: str | None) -> tuple[list[dict[str, Any]], str]:
        if after:
            return [], after
        stamp = datetime(2024, 1, 1, tzinfo=UTC)
        return [{"timestamp": stamp, "message": "one\ntwo\nthree"}], "1"


def test_an_entry_of_several_lines_is_filtered_line_by_line() -> None:
    sources = function_logs.LogSources(_OneEntryPerCall(), ["f"])  # type: ignore[arg-type]  # fake
    lines = function_logs.read(sources, function_logs.LogQuery(text="two"))
    assert [line.message for line in lines] == ["two"]


def test_history_shows_the_handlers_output_in_place(two_runs: Path, capsys) -> None:
    code, out, _ = run(capsys, "history", "second")
    assert code == 0
    lines = out.splitlines()
    started = [i for i, line in enumerate(lines) if "LambdaFunctionStarted" in line]
    assert len(started) == 5
    for index in started:
        assert lines[index + 2] == "      hello-loop-dev-hello | value2 = second"
        assert "LambdaFunctionSucceeded" in lines[index + 4]
    assert lines[-1].startswith('{"key1": "value1", "key2": "second"')


def test_history_follow_reattaches_to_a_running_execution(service: Path, capsys) -> None:
    definition = json.loads((service / "statemachine.asl.json").read_text())
    definition["StartAt"] = "Pause"
    definition["States"]["Pause"] = {"Type": "Wait", "Seconds": 1, "Next": "LambdaFunction"}
    (service / "statemachine.asl.json").write_text(json.dumps(definition))
    assert run(capsys, "deploy")[0] == 0
    code, out, _ = run(capsys, "invoke", "-i", "in.json", "--no-wait", "--execution-name", "bg")
    assert code == 0
    code, out, err = run(capsys, "history", "bg")
    assert "execution bg is RUNNING (`tool history --follow bg` follows it)" in err
    code, out, err = run(capsys, "history", "--follow", "bg")
    assert code == 0, err
    assert "hello-loop-dev-hello | value1 = value1" in err
    assert "ExecutionSucceeded" in err
    assert json.loads(out)["taskresult"]["count"] == 5


def test_worker_tells_each_execution_outcome(service: Path, capsys) -> None:
    assert run(capsys, "deploy")[0] == 0
    code, out, _ = run(capsys, "send", "-i", "in.json")
    good = out.strip()
    code, out, _ = run(capsys, "send", "-d", '{"key1": "nope", "key2": "b", "key3": "c"}')
    bad = out.strip()
    code, out, err = run(capsys, "worker", "--once", "--json")
    assert code == 0, err
    assert f"succeeded       {good}" in err.splitlines()
    assert f"failed          {bad}  ErrorA: Invalid response." in err.splitlines()
    assert json.loads(out)["ended"] == {"SUCCEEDED": 1, "FAILED": 1}
