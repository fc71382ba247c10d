"""Nested executions on the local target: states:startExecution (request-response, .sync,
.sync:2) from `tool run` and from a deployed state machine, starting the example service's seed
(`hello-loop-dev-loop`) in its own worker process."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tooling.backends.local import LocalBackend
from tooling.cli import main
from tooling.follow import follow_execution

pytestmark = pytest.mark.slow  # end-to-end: `make test` runs it, `make test-fast` does not

SEED = "arn:aws:states:us-east-1:000000000000:stateMachine:hello-loop-dev-loop"
FAILING = "arn:aws:states:us-east-1:000000000000:stateMachine:hello-loop-dev-failing"
SEED_INPUT = {"key1": "value1", "key2": "value2", "key3": "value3"}
SEED_OUTPUT = {**SEED_INPUT, "taskresult": {"value1": "value1", "value2": "value2", "count": 5}}


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def parent(pattern: str, machine_arn: str = SEED, **task: Any) -> dict[str, Any]:
    parameters = {"StateMachineArn": machine_arn, "Input.$": "$", "Name": "child-1"}
    state = {
        "Type": "Task",
        "Resource": f"arn:aws:states:::states:startExecution{pattern}",
        "Parameters": parameters,
        "End": True,
        **task,
    }
    return {"StartAt": "Start", "States": {"Start": state}}


def run_parent(
    service: Path, capsys: pytest.CaptureFixture[str], definition: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    (service / "parent.asl.json").write_text(json.dumps(definition))
    code, out, err = run(capsys, "run", "parent.asl.json", "--input", "in.json", "--json")
    assert out, err
    return code, json.loads(out)


def child(service: Path, arn: str) -> dict[str, Any]:
    backend = LocalBackend(service, "us-east-1")
    return follow_execution(backend, arn).description


@pytest.fixture
def deployed(service: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """The example service with a second state machine, `failing`, deployed locally."""
    failing = {
        "StartAt": "Fail",
        "States": {"Fail": {"Type": "Fail", "Error": "Nope", "Cause": "no"}},
    }
    (service / "failing.asl.json").write_text(json.dumps(failing))
    config = (service / "serverless.yml").read_text()
    config += "    failing:\n      definition: ${file(failing.asl.json)}\n"
    (service / "serverless.yml").write_text(config)
    code, _, err = run(capsys, "deploy")
    assert code == 0, err
    return service


def test_request_response_answers_the_arn_and_the_child_runs_on(
    deployed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, result = run_parent(deployed, capsys, parent(""))
    assert (code, result["status"]) == (0, "SUCCEEDED")
    output = result["output"]
    arn = "arn:aws:states:us-east-1:000000000000:execution:hello-loop-dev-loop:child-1"
    assert output["ExecutionArn"] == arn
    assert isinstance(output["StartDate"], int)
    assert output["SdkHttpMetadata"]["HttpStatusCode"] == 200
    assert list(output) == sorted(output)
    types = [event["type"] for event in result["events"]]
    assert types[2:5] == ["TaskScheduled", "TaskStarted", "TaskSucceeded"]
    assert result["events"][2]["taskScheduledEventDetails"]["resource"] == "startExecution"
    description = child(deployed, arn)
    assert description["status"] == "SUCCEEDED"
    assert json.loads(str(description["input"])) == SEED_INPUT
    assert json.loads(str(description["output"])) == SEED_OUTPUT


@pytest.mark.parametrize(
    ("pattern", "as_text"), [(".sync", True), (".sync:2", False)], ids=["sync", "sync2"]
)
def test_sync_returns_the_child_description(
    deployed: Path, capsys: pytest.CaptureFixture[str], pattern: str, as_text: bool
) -> None:
    code, result = run_parent(deployed, capsys, parent(pattern))
    assert (code, result["status"]) == (0, "SUCCEEDED")
    output = result["output"]
    assert output["Status"] == "SUCCEEDED"
    assert output["Name"] == "child-1"
    assert output["StateMachineArn"] == SEED
    if as_text:
        assert json.loads(output["Output"]) == SEED_OUTPUT
        assert json.loads(output["Input"]) == SEED_INPUT
    else:
        assert (output["Output"], output["Input"]) == (SEED_OUTPUT, SEED_INPUT)
    assert output["StopDate"] >= output["StartDate"]
    events = result["events"]
    types = [event["type"] for event in events]
    assert types[2:6] == ["TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded"]
    submitted = json.loads(events[4]["taskSubmittedEventDetails"]["output"])
    assert submitted["ExecutionArn"] == output["ExecutionArn"]
    assert events[4]["taskSubmittedEventDetails"]["resource"] == "startExecution" + pattern


def test_a_failed_child_fails_the_sync_task_with_task_failed(
    deployed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, result = run_parent(deployed, capsys, parent(".sync", FAILING))
    assert (code, result["status"], result["error"]) == (1, "FAILED", "States.TaskFailed")
    cause = json.loads(result["cause"])
    assert (cause["Status"], cause["Error"], cause["Cause"]) == ("FAILED", "Nope", "no")
    assert "Output" not in cause


def test_a_missing_state_machine_fails_and_catch_takes_it(
    deployed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = SEED.replace("dev-loop", "dev-nothing")
    code, result = run_parent(deployed, capsys, parent("", missing))
    error = "StepFunctions.StateMachineDoesNotExistException"
    assert (code, result["status"], result["error"]) == (1, "FAILED", error)
    assert result["cause"].startswith(f"State Machine Does Not Exist: '{missing}' (Service: ")
    catch = [{"ErrorEquals": [error], "ResultPath": "$.failure", "Next": "Recovered"}]
    definition = parent(".sync:2", missing, Catch=catch)
    del definition["States"]["Start"]["End"]
    definition["States"]["Start"]["Next"] = "Recovered"
    definition["States"]["Recovered"] = {"Type": "Pass", "End": True}
    code, result = run_parent(deployed, capsys, definition)
    assert (code, result["status"]) == (0, "SUCCEEDED")
    assert result["output"]["failure"]["Error"] == error


def test_a_name_in_use_fails_with_execution_already_exists(
    deployed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_parent(deployed, capsys, parent(".sync"))[1]["status"] == "SUCCEEDED"
    code, result = run_parent(deployed, capsys, parent(".sync"))
    assert (code, result["error"]) == (1, "StepFunctions.ExecutionAlreadyExistsException")


def test_a_deployed_state_machine_runs_a_nested_execution(
    service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (service / "parent.asl.json").write_text(json.dumps(parent(".sync:2")))
    config = (service / "serverless.yml").read_text()
    config += "    parent:\n      definition: ${file(parent.asl.json)}\n"
    (service / "serverless.yml").write_text(config)
    code, _, err = run(capsys, "deploy")
    assert code == 0, err
    code, out, err = run(
        capsys, "invoke", "--state-machine", "parent", "--input", "in.json", "--json"
    )
    assert code == 0, err
    assert json.loads(out)["output"]["Output"] == SEED_OUTPUT


def test_before_deploy_no_state_machine_exists(
    service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, result = run_parent(service, capsys, parent(""))
    assert (code, result["error"]) == (1, "StepFunctions.StateMachineDoesNotExistException")


def test_wait_for_task_token_starts_the_child_then_waits_for_the_token(
    deployed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    definition = parent(".waitForTaskToken", TimeoutSeconds=30)
    definition["States"]["Start"]["Parameters"]["Input"] = {"token.$": "$$.Task.Token"}
    del definition["States"]["Start"]["Parameters"]["Input.$"]
    (deployed / "parent.asl.json").write_text(json.dumps(definition))
    code, out, err = run(
        capsys, "run", "parent.asl.json", "--input", "in.json", "--clock", "virtual", "--json"
    )
    result = json.loads(out)
    assert (code, result["error"]) == (1, "States.Timeout"), err
    events = result["events"]
    types = [event["type"] for event in events]
    assert types[2:6] == ["TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskTimedOut"]
    submitted = events[4]["taskSubmittedEventDetails"]
    assert submitted["resource"] == "startExecution.waitForTaskToken"
    started = child(deployed, json.loads(submitted["output"])["ExecutionArn"])
    assert set(json.loads(str(started["input"]))) == {"token"}


def test_stopping_a_parent_stops_its_sync_child(
    service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    waiting = {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 60, "End": True}}}
    child_machine = "arn:aws:states:us-east-1:000000000000:stateMachine:hello-loop-dev-waiting"
    (service / "waiting.asl.json").write_text(json.dumps(waiting))
    (service / "parent.asl.json").write_text(json.dumps(parent(".sync", child_machine)))
    config = (service / "serverless.yml").read_text()
    config += "    waiting:\n      definition: ${file(waiting.asl.json)}\n"
    config += "    parent:\n      definition: ${file(parent.asl.json)}\n"
    (service / "serverless.yml").write_text(config)
    assert run(capsys, "deploy")[0] == 0
    code, out, err = run(
        capsys,
        "invoke",
        "--state-machine",
        "parent",
        "-i",
        "in.json",
        "--no-wait",
        "--execution-name",
        "p",
    )
    assert code == 0, err
    parent_arn = out.strip()
    backend = LocalBackend(service, "us-east-1")
    deadline = time.monotonic() + 30
    while not any(e["type"] == "TaskSubmitted" for e in backend.history_since(parent_arn, 0)):
        assert time.monotonic() < deadline, "the parent never started its child"
        time.sleep(0.05)
    child_arn = f"{child_machine.replace(':stateMachine:', ':execution:')}:child-1"
    assert backend.describe_execution(child_arn)["status"] == "RUNNING"

    code, _, err = run(capsys, "stop", "p")
    assert code == 0, err
    assert backend.describe_execution(parent_arn)["status"] == "ABORTED"
    assert backend.describe_execution(child_arn)["status"] == "ABORTED"
    assert backend.history_since(child_arn, 0)[-1]["type"] == "ExecutionAborted"
