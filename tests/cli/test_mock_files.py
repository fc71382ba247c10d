"""Mock files users already have: Step Functions Local's MockConfigFile, as it is, for `tool
run` and `tool invoke` (local target), next to the short format."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

import pytest

from tooling.backends.local import LocalBackend
from tooling.cli import main

pytestmark = pytest.mark.slow  # end-to-end: `make test` runs it, `make test-fast` does not

# AWS's documentation example (developer guide, "Configuration file for mocked service
# integrations"), adapted to the seed: its Lambda state is LambdaFunction (there is no SQS
# state), the state machine entry is the serverless.yml key, and the successful answer is what
# the seed's handler returns. The RetryPath errors and response names are AWS's.
MOCK_CONFIG = Path(__file__).parent / "data" / "MockConfigFile.json"
SEED_RESULT = {"value1": "value1", "value2": "value2", "count": 5}


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def mock_file(service: Path) -> Path:
    return Path(shutil.copy(MOCK_CONFIG, service / "MockConfigFile.json"))


def scheduled_gaps(events: list[dict[str, object]]) -> list[float]:
    times = [
        datetime.fromisoformat(str(e["timestamp"]))
        for e in events
        if e["type"] == "LambdaFunctionScheduled"
    ]
    return [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]


def test_the_aws_example_runs_the_seeds_retry_path_on_the_virtual_clock(
    service: Path, mock_file: Path, capsys
) -> None:
    code, out, err = run(
        capsys, "run", "statemachine.asl.json", "-i", "in.json", "--json",
        "--mock", "MockConfigFile.json", "--test-case", "RetryPath", "--clock", "virtual",
    )  # fmt: skip
    assert code == 0, err
    result = json.loads(out)
    assert result["status"] == "SUCCEEDED"
    assert result["output"]["taskresult"] == SEED_RESULT
    failures = [
        e["lambdaFunctionFailedEventDetails"]
        for e in result["events"]
        if e["type"] == "LambdaFunctionFailed"
    ]
    assert failures == [
        {"error": "Lambda.ResourceNotReadyException", "cause": "Lambda resource is not ready."},
        {"error": "Lambda.TimeoutException", "cause": "Lambda timed out."},
    ]
    # The seed's States.TaskFailed retrier: 30 s, then 60 s (BackoffRate 2), at no real cost.
    assert scheduled_gaps(result["events"]) == [30.0, 60.0]


def test_the_happy_path_and_the_handler_output_of_an_unmocked_run(
    service: Path, mock_file: Path, capsys
) -> None:
    code, out, err = run(
        capsys, "run", "statemachine.asl.json", "-i", "in.json",
        "--mock", "MockConfigFile.json", "--test-case", "HappyPath",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["taskresult"] == SEED_RESULT
    assert "hello-loop-dev-hello |" not in err  # the handler did not run
    code, _, err = run(capsys, "run", "statemachine.asl.json", "-i", "in.json")
    assert code == 0
    assert err.count("hello-loop-dev-hello | value1 = value1") == 5  # as `invoke` shows it


def test_the_entry_is_found_by_deployed_name_or_is_the_only_one(
    service: Path, mock_file: Path, capsys
) -> None:
    config = json.loads(mock_file.read_text())
    for entry in ("hello-loop-dev-loop", "SomeOtherName"):
        config["StateMachines"] = {entry: config["StateMachines"].popitem()[1]}
        mock_file.write_text(json.dumps(config))
        code, _, err = run(
            capsys, "run", "statemachine.asl.json", "-i", "in.json",
            "--mock", "MockConfigFile.json", "--test-case", "HappyPath",
        )  # fmt: skip
        assert code == 0, (entry, err)
    config["StateMachines"]["another"] = {"TestCases": {"T": {}}}
    mock_file.write_text(json.dumps(config))
    code, _, err = run(capsys, "run", "statemachine.asl.json", "--mock", "MockConfigFile.json")
    assert code == 2
    assert (
        "no state machine entry for 'hello-loop-dev-loop' or 'loop' or 'statemachine.asl'"
        " (entries: SomeOtherName, another)"
    ) in err


def test_a_test_case_must_be_chosen_among_several(service: Path, mock_file: Path, capsys):
    code, out, err = run(capsys, "run", "statemachine.asl.json", "--mock", "MockConfigFile.json")
    assert (code, out) == (2, "")
    assert err.splitlines()[-1] == (
        "error: MockConfigFile.json: state machine 'loop' has 3 test cases "
        "(choose one with --test-case HappyPath|HybridPath|RetryPath)"
    )


def test_a_misspelled_state_is_an_error_with_its_line(service: Path, mock_file: Path, capsys):
    text = mock_file.read_text()
    mock_file.write_text(
        text.replace(
            '"LambdaFunction": "MockedLambdaRetry"', '"LambdaFuncton": "MockedLambdaRetry"'
        )
    )
    code, out, err = run(
        capsys, "run", "statemachine.asl.json", "-i", "in.json",
        "--mock", "MockConfigFile.json", "--test-case", "RetryPath",
    )  # fmt: skip
    assert (code, out) == (2, "")
    assert err.splitlines()[-1] == (
        "error: MockConfigFile.json:9:28: the mock names a state 'LambdaFuncton' that the "
        "definition does not have (Task states: LambdaFunction)"
    )
    short = service / "short.json"
    short.write_text('{\n  "LambdaFuncton": {"0": {"Return": {}}}\n}\n')
    code, _, err = run(capsys, "run", "statemachine.asl.json", "--mock", "short.json")
    assert code == 2 and err.startswith("error: short.json:2:20: the mock names a state")


def test_invoke_takes_the_mock_file_on_the_local_target(service: Path, mock_file: Path, capsys):
    assert run(capsys, "deploy")[0] == 0
    code, out, err = run(
        capsys, "invoke", "-i", "in.json", "--execution-name", "mocked", "--clock", "virtual",
        "--mock", "MockConfigFile.json", "--test-case", "RetryPath",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["taskresult"] == SEED_RESULT
    assert "hello-loop-dev-hello |" not in err
    backend = LocalBackend(service, "us-east-1")
    events = backend.history_since(backend.resolve_execution("mocked"), 0)
    assert [e["type"] for e in events].count("LambdaFunctionFailed") == 2
    assert scheduled_gaps(events) == [30.0, 60.0]
    # A later run without --mock calls the handler again.
    code, _, err = run(capsys, "invoke", "-i", "in.json")
    assert code == 0 and "hello-loop-dev-hello | value1 = value1" in err


def test_invoke_refuses_a_mock_on_aws_and_a_test_case_without_a_mock(service: Path, capsys):
    code, out, err = run(capsys, "invoke", "--target", "aws", "--mock", "x.json")
    assert (code, out) == (2, "")
    assert "--mock works on the local target only" in err
    code, _, err = run(capsys, "invoke", "--test-case", "HappyPath")
    assert code == 2 and "--test-case chooses a test case of a mock file (add --mock FILE)" in err
