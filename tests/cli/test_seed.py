"""The seed scenario end to end on the local runtime, through the CLI's entry point."""

import json
import re
import uuid
from pathlib import Path

import pytest

from tooling.cli import main

pytestmark = pytest.mark.slow  # end-to-end: `make test` runs it, `make test-fast` does not

SEED_OUTPUT = (
    '{"key1": "value1", "key2": "value2", "key3": "value3", '
    '"taskresult": {"value1": "value1", "value2": "value2", "count": 5}}'
)

# The post's handler, verbatim: the ';' on line 19 is a syntax error.
SEED_HANDLER = """def lambda_handler(event, context):
    print('value1 = ' + event['key1'])
    print('value2 = ' + event['key2'])
    print('value3 = ' + event['key3'])
    taskresult = event.get('taskresult', None)
    if taskresult is None:
        count = 0
    else:
        count = taskresult.get('count', None)
    
    if count is None:
        count = 0
    else:
        count = count +1
        
    if count < 5:
        output = {
            'count' : count,
            'value1' : 'ThereIsNoSpoon';
        }
    else:
        output = { 'value1' : event['key1'],
                    'value2': event['key2'],
                    'count' : count }
    return output
"""


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_deploy_then_invoke_prints_the_seed_output(service: Path, capsys):
    code, out, err = run(capsys, "deploy")
    assert code == 0, err
    assert "create    function hello-loop-dev-hello" in out
    assert "create    state machine hello-loop-dev-loop" in out

    code, out, err = run(capsys, "invoke", "--input", "in.json")
    assert code == 0, err
    assert out == SEED_OUTPUT + "\n"
    assert "hello-loop-dev-hello | value1 = value1" in err
    assert "ExecutionSucceeded" in err


def test_invoke_json_reports_uuid_name_and_the_whole_history(service: Path, capsys):
    assert run(capsys, "deploy")[0] == 0
    code, out, err = run(capsys, "invoke", "--input", "in.json", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["status"] == "SUCCEEDED"
    assert str(uuid.UUID(result["name"])) == result["name"]
    assert result["output"] == json.loads(SEED_OUTPUT)
    types = [event["type"] for event in result["events"]]
    assert types[0] == "ExecutionStarted" and types[-1] == "ExecutionSucceeded"
    # The handler answers count 1, 2, 3, 4 (loop) and then count 5 with value1 == "value1":
    # five calls. (The issue text says six; the seed's code, run as AWS runs it, makes five.)
    assert types.count("LambdaFunctionSucceeded") == 5
    assert types.count("LambdaFunctionScheduled") == 5
    assert [event["id"] for event in result["events"]] == list(range(1, len(types) + 1))


def test_second_deploy_of_unchanged_service_changes_nothing(service: Path, capsys):
    assert run(capsys, "deploy")[0] == 0
    code, out, _ = run(capsys, "deploy")
    assert code == 0
    assert "No changes." in out
    assert "create" not in out and "update" not in out


def test_changed_handler_updates_only_the_function_code(service: Path, capsys):
    assert run(capsys, "deploy")[0] == 0
    (service / "handler.py").write_text((service / "handler.py").read_text() + "\n# changed\n")
    code, out, _ = run(capsys, "deploy")
    assert code == 0
    assert "update    function hello-loop-dev-hello (code changed)" in out
    assert "unchanged state machine hello-loop-dev-loop" in out


def test_verbatim_seed_handler_fails_deploy_with_file_and_line_and_keeps_old_deployment(
    service: Path, capsys
):
    assert run(capsys, "deploy")[0] == 0
    (service / "handler.py").write_text(SEED_HANDLER)
    code, out, err = run(capsys, "deploy")
    assert code == 2
    assert re.search(r"handler\.py:19(:\d+)?: ", err), err
    assert "Traceback" not in err
    code, out, err = run(capsys, "invoke", "--input", "in.json")
    assert code == 0, err
    assert out == SEED_OUTPUT + "\n"


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        (
            lambda d: (d / "serverless.yml").write_text(
                "service: x\nprovider:\n  name: aws\n   bad: [\n"
            ),
            r"serverless\.yml:\d+:\d+: ",
        ),
        (lambda d: (d / "statemachine.asl.json").unlink(), r"statemachine\.asl\.json"),
        (
            lambda d: (d / "statemachine.asl.json").write_text(
                (d / "statemachine.asl.json")
                .read_text()
                .replace('"Next": "ChoiceState"', '"Next": "ChoiseState"')
            ),
            r"statemachine\.asl\.json:\d+:\d+: .*ChoiseState.*ChoiceState",
        ),
    ],
    ids=["broken-yaml", "missing-definition", "next-to-missing-state"],
)
def test_bad_service_fails_deploy_cleanly_and_old_deployment_still_runs(
    service: Path, capsys, breakage, expected
):
    assert run(capsys, "deploy")[0] == 0
    good = {p.name: p.read_text() for p in service.iterdir() if p.is_file()}
    breakage(service)
    code, _, err = run(capsys, "deploy")
    assert code == 2, err
    assert re.search(expected, err), err
    assert "Traceback" not in err
    for name, text in good.items():
        (service / name).write_text(text)
    code, out, err = run(capsys, "invoke", "--input", "in.json")
    assert code == 0, err
    assert out == SEED_OUTPUT + "\n"


def test_malformed_input_file_names_file_line_and_column(service: Path, capsys):
    assert run(capsys, "deploy")[0] == 0
    (service / "bad.json").write_text('{\n  "key1": "value1",\n}\n')
    code, out, err = run(capsys, "invoke", "--input", "bad.json")
    assert code == 2
    assert out == ""
    assert "bad.json:3:1: invalid JSON input" in err


def test_name_already_used_is_a_clear_error(service: Path, capsys):
    assert run(capsys, "deploy")[0] == 0
    assert run(capsys, "invoke", "--input", "in.json", "--execution-name", "first-run")[0] == 0
    code, _, err = run(capsys, "invoke", "--input", "in.json", "--execution-name", "first-run")
    assert code == 2
    assert "Execution Already Exists" in err


def test_invalid_execution_name_is_rejected_before_starting(service: Path, capsys):
    assert run(capsys, "deploy")[0] == 0
    code, _, err = run(capsys, "invoke", "--input", "in.json", "--execution-name", "has space")
    assert code == 2
    assert "not allow" in err


def test_invoke_before_deploy_says_to_deploy(service: Path, capsys):
    code, _, err = run(capsys, "invoke", "--input", "in.json")
    assert code == 2
    assert "tool deploy" in err


def test_executions_history_and_logs_after_a_run(service: Path, capsys):
    assert run(capsys, "deploy")[0] == 0
    code, out, _ = run(
        capsys, "invoke", "--input", "in.json", "--execution-name", "run-1", "--json"
    )
    assert code == 0
    code, out, _ = run(capsys, "executions", "--json")
    assert [e["name"] for e in json.loads(out)["executions"]] == ["run-1"]
    code, out, _ = run(capsys, "history", "run-1", "--json")
    assert json.loads(out)["events"][-1]["type"] == "ExecutionSucceeded"
    code, out, _ = run(capsys, "logs", "hello")
    assert code == 0
    assert out.count("value1 = value1") == 5
    assert "START RequestId:" in out


def test_run_executes_a_definition_without_deploying(service: Path, capsys):
    code, out, err = run(capsys, "run", "statemachine.asl.json", "--input", "in.json", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["output"] == json.loads(SEED_OUTPUT)
    code, out, _ = run(capsys, "executions", "--json")
    assert json.loads(out) == {"executions": []}  # nothing was deployed or recorded


def test_bad_input_shows_a_traceback_only_with_debug(service: Path, capsys):
    (service / "bad.json").write_text("{")
    code, _, err = run(capsys, "invoke", "--input", "bad.json")
    assert code == 2 and "Traceback" not in err
    code, _, err = run(capsys, "invoke", "--input", "bad.json", "--debug")
    assert code == 2 and "Traceback" in err


def test_unknown_option_is_a_usage_error(service: Path, capsys):
    code, _, err = run(capsys, "invoke", "--input", "in.json", "--bogus")
    assert code == 2
    assert "--bogus" in err


def test_invoke_writes_the_run_picture_with_graph(service: Path, capsys):
    assert run(capsys, "deploy")[0] == 0
    code, out, err = run(capsys, "invoke", "--input", "in.json", "--graph", "run.dot")
    assert code == 0, err
    assert out == SEED_OUTPUT + "\n"
    picture = (service / "run.dot").read_text()
    assert "SuccessState" in picture and "×4" in picture  # the loop back to LambdaFunction


def test_invoke_with_unknown_graph_format_fails_before_starting(service: Path, capsys):
    assert run(capsys, "deploy")[0] == 0
    code, _, err = run(capsys, "invoke", "--input", "in.json", "--graph", "run.xyz")
    assert code == 2
    code, out, _ = run(capsys, "executions", "--json")
    assert json.loads(out) == {"executions": []}


def test_run_with_virtual_clock_and_mock_retries_on_the_seed_schedule(service: Path, capsys):
    (service / "mock.json").write_text(
        json.dumps(
            {
                "LambdaFunction": {
                    "0-1": {"Throw": {"Error": "CustomError", "Cause": "not yet"}},
                    "2": {"Return": {"value1": "value1", "value2": "value2", "count": 5}},
                }
            }
        )
    )
    code, out, err = run(
        capsys, "run", "statemachine.asl.json", "--input", "in.json", "--mock", "mock.json",
        "--clock", "virtual", "--json",
    )  # fmt: skip
    assert code == 0, err
    result = json.loads(out)
    assert result["output"]["taskresult"]["count"] == 5
    from datetime import datetime

    scheduled = [
        datetime.fromisoformat(e["timestamp"])
        for e in result["events"]
        if e["type"] in ("LambdaFunctionScheduled", "TaskScheduled")
    ]
    gaps = [(b - a).total_seconds() for a, b in zip(scheduled, scheduled[1:], strict=False)]
    assert gaps == [1.0, 2.0]


def test_run_rejects_a_broken_mock_file_with_its_line(service: Path, capsys):
    (service / "mock.json").write_text('{\n  "LambdaFunction": [\n')
    code, _, err = run(
        capsys, "run", "statemachine.asl.json", "--input", "in.json", "--mock", "mock.json"
    )
    assert code == 2
    assert "mock.json:3:" in err


def test_invoke_with_virtual_clock_retries_without_waiting(service: Path, capsys):
    # A handler that fails twice with CustomError, then answers like the seed's last call.
    (service / "handler.py").write_text(
        "import os\n\n"
        "class CustomError(Exception):\n    pass\n\n"
        "def lambda_handler(event, context):\n"
        "    marker = '/tmp/' + context.function_name + '-' + event['run']\n"
        "    tries = int(open(marker).read()) if os.path.exists(marker) else 0\n"
        "    open(marker, 'w').write(str(tries + 1))\n"
        "    if tries < 2:\n        raise CustomError('not yet')\n"
        "    return {'value1': 'value1', 'value2': 'value2', 'count': 5}\n"
    )
    run_id = str(uuid.uuid4())
    (service / "retry.json").write_text(
        json.dumps({"key1": "value1", "key2": "v", "key3": "v", "run": run_id})
    )
    assert run(capsys, "deploy")[0] == 0
    code, out, err = run(capsys, "invoke", "--input", "retry.json", "--clock", "virtual", "--json")
    assert code == 0, err
    events = json.loads(out)["events"]
    from datetime import datetime

    scheduled = [
        datetime.fromisoformat(e["timestamp"])
        for e in events
        if e["type"] == "LambdaFunctionScheduled"
    ]
    gaps = [(b - a).total_seconds() for a, b in zip(scheduled, scheduled[1:], strict=False)]
    assert len(gaps) == 2
    assert gaps[0] >= 1.0 and gaps[1] >= 2.0  # the seed's CustomError rule: 1 s, then 2 s
    assert gaps[0] < 1.5 and gaps[1] < 2.5  # simulated, plus the handler's own run time


def test_virtual_clock_is_refused_on_aws(service: Path, capsys):
    code, _, err = run(
        capsys, "invoke", "--input", "in.json", "--clock", "virtual", "--target", "aws"
    )
    assert code == 2
    assert "local target only" in err
