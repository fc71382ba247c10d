"""`tool deploy` on the local target repairs what went missing, and keeps to its own stage."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tooling.cli import main

pytestmark = pytest.mark.slow  # end-to-end: `make test` runs it, `make test-fast` does not

SEED_OUTPUT = {
    "key1": "value1",
    "key2": "value2",
    "key3": "value3",
    "taskresult": {"value1": "value1", "value2": "value2", "count": 5},
}
FUNCTION = "hello-loop-dev-hello"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def invoke(capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    return run(capsys, "invoke", "--input", "in.json", "--clock", "virtual", "--json")


def test_deleted_code_is_planned_and_unpacked_again_by_the_next_deploy(
    service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "deploy")[0] == 0
    shutil.rmtree(service / ".tool" / "code")
    code, out, err = invoke(capsys)
    assert json.loads(out)["status"] == "FAILED"  # what users met before: every run fails

    code, out, err = run(capsys, "plan", "--json")
    assert code == 0, err
    changed = [c for c in json.loads(out)["changes"] if c["action"] != "unchanged"]
    assert [(c["action"], c["name"], c["reasons"], c["attributes"]) for c in changed] == [
        ("update", FUNCTION, ["code missing from .tool/code"], ["Code"])
    ]
    code, out, err = run(capsys, "deploy")
    assert code == 0, err
    assert f"update    function {FUNCTION} (code missing from .tool/code)" in out.splitlines()
    code, out, err = invoke(capsys)
    assert code == 0, err
    assert json.loads(out)["output"] == SEED_OUTPUT
    assert run(capsys, "deploy")[1].splitlines()[-1] == "No changes."


def test_a_lost_local_database_is_deployed_again(
    service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "deploy")[0] == 0
    for path in (service / ".tool").glob("local.db*"):
        path.unlink()
    code, out, err = run(capsys, "deploy")
    assert code == 0, err
    assert f"create    function {FUNCTION} (recorded but missing on the target)" in out
    assert "create    state machine hello-loop-dev-loop (recorded but missing on the target)" in out
    code, out, err = invoke(capsys)
    assert json.loads(out)["output"] == SEED_OUTPUT


def test_a_function_name_two_stages_share_is_the_first_stages(
    service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = service / "serverless.yml"
    config.write_text(
        config.read_text().replace(
            "    handler: handler.lambda_handler\n",
            "    handler: handler.lambda_handler\n    name: shared-hello\n",
        )
    )
    assert run(capsys, "deploy", "--stage", "dev")[0] == 0
    code, out, err = run(capsys, "deploy", "--stage", "prod")
    assert (code, out) == (2, "")
    assert (
        "error: log group /aws/lambda/shared-hello already exists on the local target (account "
        "000000000000) and was not deployed by tool for this service and stage (and 1 more: "
        "function shared-hello); nothing was changed"
    ) in err
    code, out, err = run(capsys, "remove", "--stage", "prod")
    assert code == 0, err
    assert "warning: left function shared-hello alone" in err
    assert "warning: left log group /aws/lambda/shared-hello alone" in err
    code, out, err = run(capsys, "info", "--stage", "dev", "--json")
    assert ("function", "shared-hello") in {
        (r["kind"], r["name"]) for r in json.loads(out)["resources"]
    }


UNRUNNABLE_SERVICE = """\
service: mixed
provider:
  name: aws
  runtime: python3.12
functions:
  py:
    handler: handler.hello
  rb:
    runtime: ruby3.3
    handler: handler.main
stepFunctions:
  stateMachines:
    usePy:
      definition:
        StartAt: T
        States:
          T: {Type: Task, Resource: {Fn::GetAtt: [py, Arn]}, End: true}
    useRb:
      definition:
        StartAt: T
        States:
          T: {Type: Task, Resource: {Fn::GetAtt: [rb, Arn]}, End: true}
"""


def test_a_function_the_machine_cannot_run_is_said_once_and_the_rest_deploys_and_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "serverless.yml").write_text(UNRUNNABLE_SERVICE)
    (tmp_path / "handler.py").write_text("def hello(event, context):\n    return {'ok': 1}\n")
    (tmp_path / "handler.rb").write_text("def main(event:, context:)\n  1\nend\n")
    monkeypatch.chdir(tmp_path)

    code, out, err = run(capsys, "deploy")
    assert code == 0, err
    said = [line for line in err.splitlines() if "ruby3.3" in line]
    assert said == [
        "warning: serverless.yml:9:14: function 'rb': runtime ruby3.3 does not run on the local "
        "target: deployed, but an invocation of it fails with Lambda.InvalidRuntimeException "
        "(the local runtime runs python* and nodejs* functions; deploy this one with --target aws)"
    ]
    code, out, err = run(capsys, "invoke", "-m", "usePy", "--json")
    assert code == 0, err
    assert json.loads(out)["output"] == {"ok": 1}
    code, out, err = run(capsys, "invoke", "-m", "useRb", "--json")
    assert code == 1
    failed = json.loads(out)
    assert failed["status"] == "FAILED"
    assert failed["error"] == "Lambda.InvalidRuntimeException"
    assert "runtime ruby3.3 does not run on the local target" in failed["cause"]


SETTINGS_SERVICE = """\
service: settings
provider:
  name: aws
  runtime: python3.12
functions:
  py:
    handler: handler.hello
    description: d
    tracing: Active
    layers: [arn:aws:lambda:us-east-1:123456789012:layer:deps:3]
    vpc: {securityGroupIds: [sg-1], subnetIds: [subnet-1]}
stepFunctions:
  stateMachines:
    usePy:
      definition:
        StartAt: T
        States:
          T: {Type: Task, Resource: {Fn::GetAtt: [py, Arn]}, End: true}
"""


def test_settings_the_local_runtime_does_not_reproduce_are_said_and_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "serverless.yml").write_text(SETTINGS_SERVICE)
    (tmp_path / "handler.py").write_text("def hello(event, context):\n    return {'ok': 1}\n")
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "deploy")
    assert code == 0, err
    notes = [line for line in err.splitlines() if "function 'py'" in line]
    assert len(notes) == 3
    assert "its layers other than the service's own are not on this machine" in notes[0]
    assert "not in the VPC's subnets" in notes[1]
    assert "sends no X-Ray traces" in notes[2]
    code, out, err = run(capsys, "deploy")  # the settings are kept: nothing to change
    assert out.splitlines()[-1] == "No changes."


def test_remove_leaves_a_retained_state_machine_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`retain: true`: the plugin's DeletionPolicy: Retain keeps the machine through a remove."""
    (tmp_path / "serverless.yml").write_text(
        "service: kept\nprovider: {name: aws, runtime: python3.12}\n"
        "stepFunctions:\n  stateMachines:\n"
        "    kept:\n      retain: true\n"
        "      definition: {StartAt: A, States: {A: {Type: Pass, End: true}}}\n"
        "    gone:\n      definition: {StartAt: A, States: {A: {Type: Pass, End: true}}}\n"
    )
    monkeypatch.chdir(tmp_path)
    assert run(capsys, "deploy")[0] == 0
    code, out, err = run(capsys, "remove", "--json")
    assert code == 0, err
    removed = json.loads(out)
    assert [i["name"] for i in removed["leftAlone"]] == ["kept-dev-kept"]
    assert "left state machine kept-dev-kept alone: it was kept by `retain: true`" in err
    code, out, err = run(capsys, "info", "--json")
    machines = [r["name"] for r in json.loads(out)["resources"] if r["kind"] == "state machine"]
    assert machines == ["kept-dev-kept"]
