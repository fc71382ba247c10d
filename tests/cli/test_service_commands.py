"""CLI behaviour a new user meets first: deploy, info, invoke, executions, logs (local target)."""

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tooling.backends.local import LocalBackend
from tooling.cli import main
from tooling.follow import follow_execution

BANNER = "hello-loop · target local · stage dev · us-east-1 · account 000000000000"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_info_lists_the_trigger_queues_that_deploy_created(service: Path, capsys):
    code, out, err = run(capsys, "deploy")
    assert code == 0, err
    # "create    log group /aws/lambda/..." -> ("log group", "/aws/lambda/...")
    created = {
        (" ".join(words[1:-1]), words[-1])
        for words in (line.split() for line in out.splitlines())
        if words[0] == "create"
    }
    code, out, err = run(capsys, "info", "--json")
    assert code == 0, err
    listed = {(r["kind"], r["name"]) for r in json.loads(out)["resources"]}
    assert ("queue", "hello-loop-dev-loop-trigger") in listed
    assert ("queue", "hello-loop-dev-loop-trigger-dlq") in listed
    # Everything deploy created, and nothing else.
    assert created == listed


def test_logs_of_a_function_not_in_serverless_yml_names_the_known_ones(service: Path, capsys):
    assert run(capsys, "deploy")[0] == 0
    code, out, err = run(capsys, "logs", "helo")
    assert (code, out) == (2, "")
    assert err.splitlines()[-1] == "error: no function 'helo' in serverless.yml (known: hello)"


def test_logs_by_deployed_name_and_before_any_run(service: Path, capsys):
    code, _, err = run(capsys, "logs", "hello")
    assert code == 2
    assert "function 'hello' is not deployed on the local target (run `tool deploy` first)" in err
    assert run(capsys, "deploy")[0] == 0
    code, out, err = run(capsys, "logs", "hello-loop-dev-hello")
    assert (code, out) == (0, "")
    assert err.splitlines() == [BANNER, "no log lines from hello-loop-dev-hello yet"]


def test_executions_says_when_there_are_none(service: Path, capsys):
    assert run(capsys, "deploy")[0] == 0
    code, out, err = run(capsys, "executions")
    assert (code, out) == (0, "")
    assert "no executions yet" in err
    code, out, _ = run(capsys, "executions", "--json")
    assert json.loads(out) == {"executions": []}


def test_invoke_graph_with_an_unknown_extension_does_not_suggest_a_missing_option(
    service: Path, capsys
):
    code, _, err = run(capsys, "invoke", "--input", "in.json", "--graph", "run.txt")
    assert code == 2
    assert "--format" not in err
    assert "use an extension .svg, .png, .dot, .mmd or .md" in err


@pytest.mark.parametrize(
    "args",
    [
        ("invoke", "--input", "latin1.json"),
        ("run", "statemachine.asl.json", "--input", "latin1.json"),
        ("run", "latin1.json", "--input", "in.json"),
        ("run", "statemachine.asl.json", "--input", "in.json", "--mock", "latin1.json"),
        ("send", "--input", "latin1.json"),
        ("graph", "latin1.json"),
    ],
)
def test_a_file_that_is_not_utf8_is_bad_input_not_an_internal_error(
    service: Path, capsys, args: tuple[str, ...]
):
    (service / "latin1.json").write_bytes('{"name": "Zoë"}'.encode("latin-1"))
    code, out, err = run(capsys, *args)
    assert (code, out) == (2, "")
    assert err.splitlines()[-1] == (
        "error: latin1.json: not UTF-8 text (byte 12: invalid continuation byte) (save it as UTF-8)"
    )


def test_validate_reports_a_file_that_is_not_utf8(service: Path, capsys):
    (service / "latin1.json").write_bytes('{"name": "Zoë"}'.encode("latin-1"))
    code, out, _ = run(capsys, "validate", "latin1.json", "--json")
    assert code == 2
    (diagnostic,) = json.loads(out)["diagnostics"]
    assert (diagnostic["code"], diagnostic["file"]) == ("FILE_UNREADABLE", "latin1.json")
    assert diagnostic["message"].startswith("not UTF-8 text")


def test_invoke_refuses_graph_with_no_wait_before_starting(service: Path, capsys):
    assert run(capsys, "deploy")[0] == 0
    code, out, err = run(capsys, "invoke", "-i", "in.json", "--no-wait", "--graph", "run.dot")
    assert (code, out) == (2, "")
    assert "--no-wait does not wait" in err
    code, out, _ = run(capsys, "executions", "--json")
    assert json.loads(out) == {"executions": []}


def test_run_outside_a_service_names_the_reference_it_cannot_resolve(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
):
    root = Path(__file__).resolve().parents[2]
    monkeypatch.chdir(tmp_path)  # no serverless.yml here
    code, out, err = run(
        capsys, "run", str(root / "statemachine.asl.json"), "--input", str(root / "in.json")
    )
    assert (code, out) == (2, "")
    assert err == (
        f"error: {root / 'statemachine.asl.json'}:7:19: state 'LambdaFunction': Resource "
        '{"Fn::GetAtt": ["hello", "Arn"]} needs serverless.yml to resolve '
        "(run `tool run` in the service folder, or write the function's ARN)\n"
    )


ORDER_FLOW = """{
  "StartAt": "Notify",
  "States": {
    "Notify": {
      "Type": "Task",
      "Resource": "arn:aws:states:::glue:startJobRun",
      "Parameters": {"JobName": "orders", "Arguments.$": "$"},
      "ResultSelector": {"id.$": "$.JobRunId"},
      "End": true
    }
  }
}
"""


def test_run_answers_other_services_from_the_mock_file_only(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "flow.asl.json").write_text(ORDER_FLOW)
    (tmp_path / "in.json").write_text('{"order": 1}')
    (tmp_path / "mocks.json").write_text('{"Notify": {"0": {"Return": {"JobRunId": "m-1"}}}}')
    code, out, err = run(capsys, "run", "flow.asl.json", "-i", "in.json", "--mock", "mocks.json")
    assert (code, out) == (0, '{"id": "m-1"}\n'), err
    code, out, err = run(capsys, "run", "flow.asl.json", "-i", "in.json")
    assert (code, out) == (2, "")
    assert err.startswith(
        'error: flow.asl.json:6:19: States.Notify.Resource "arn:aws:states:::glue:startJobRun"'
        " is not supported yet by the local engine (the local runtime calls Lambda functions,"
        " sqs:sendMessage, states:startExecution and the integrations of the local AWS services"
        " (docs/engine.md) only: answer this state from a mock file (`tool run --mock FILE`"
    )


SLOW_HANDLER = """import os
import time


def lambda_handler(event, context):
    with open({pid_file!r}, "w") as out:
        out.write(str(os.getpid()))
    time.sleep(60)  # only the stop can end it this soon
    return {{"value1": "value1"}}
"""


def _process_gone(pid: int) -> bool:
    """Whether `pid` has ended (a zombie waiting for a parent outside the test counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, IndexError):
        return True


def _wait_until(condition: Callable[[], bool], seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_stop_aborts_a_run_in_a_handler_and_ends_its_processes(service: Path, capsys):
    pid_file = service / "handler.pid"
    (service / "handler.py").write_text(SLOW_HANDLER.format(pid_file=str(pid_file)))
    config = service / "serverless.yml"
    config.write_text(config.read_text().replace("timeout: 10", "timeout: 120"))
    assert run(capsys, "deploy")[0] == 0
    code, out, err = run(capsys, "invoke", "-i", "in.json", "--no-wait", "--execution-name", "slow")
    assert code == 0, err
    arn = out.strip()
    assert _wait_until(lambda: pid_file.exists() and pid_file.read_text() != "")
    handler_pid = int(pid_file.read_text())
    backend = LocalBackend(service, "us-east-1")
    store = backend.store
    record = store.get_execution(arn)
    assert record is not None and record.worker_pid is not None
    events_before = store.events(arn)

    code, out, err = run(
        capsys, "stop", "slow", "--error", "Manual", "--cause", "by test", "--json"
    )
    assert code == 0, err
    assert json.loads(out)["status"] == "ABORTED"
    assert _process_gone(record.worker_pid)
    assert _wait_until(lambda: _process_gone(handler_pid))

    code, out, _ = run(capsys, "history", "slow", "--json")
    result = json.loads(out)
    assert (result["status"], result["error"], result["cause"]) == ("ABORTED", "Manual", "by test")
    last = result["events"][-1]
    assert last["type"] == "ExecutionAborted"
    assert last["id"] == events_before[-1]["id"] + 1 == len(result["events"])
    assert last["previousEventId"] == events_before[-1]["id"]
    assert last["executionAbortedEventDetails"] == {"error": "Manual", "cause": "by test"}
    code, out, _ = run(capsys, "executions", "--json")
    assert [e["status"] for e in json.loads(out)["executions"]] == ["ABORTED"]

    # Following the stopped run ends at once with its status; `tool invoke` exits 1 on it.
    followed = follow_execution(backend, arn)
    assert followed.description["status"] == "ABORTED"
    assert followed.events[-1]["type"] == "ExecutionAborted"

    # Stopping it again is not an error and changes nothing.
    code, out, err = run(capsys, "stop", "slow")
    assert code == 0, err
    assert "execution slow is ABORTED" in err
    assert len(store.events(arn)) == len(result["events"])


def test_stop_of_an_unknown_execution_or_with_a_long_cause_is_bad_input(service: Path, capsys):
    assert run(capsys, "deploy")[0] == 0
    code, out, err = run(capsys, "stop", "nope")
    assert (code, out) == (2, "")
    assert "no execution named 'nope'" in err
    code, out, err = run(capsys, "stop", "nope", "--cause", "x" * 32769)
    assert (code, out) == (2, "")
    assert err.splitlines()[-1] == (
        "error: --cause is 32769 characters; Step Functions accepts at most 32768 (shorten --cause)"
    )
    code, _, err = run(capsys, "stop", "nope", "--error", "e" * 257)
    assert code == 2
    assert "--error is 257 characters; Step Functions accepts at most 256" in err
