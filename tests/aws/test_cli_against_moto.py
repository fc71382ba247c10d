"""The real CLI against a moto server on loopback: deploy, redeploy, updates, invoke, remove."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tooling.aws.client import ApiCall

from .cli_runs import mutating
from .cli_runs import recorded as run
from .conftest import MOTO_ACCOUNT, REGION

FUNCTION = "hello-loop-dev-hello"
MACHINE = "hello-loop-dev-loop"
FUNCTION_ROLE = "hello-loop-dev-us-east-1-lambdaRole"
MACHINE_ROLE = "hello-loop-dev-us-east-1-loop-sfnRole"
LOG_GROUP = f"/aws/lambda/{FUNCTION}"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{MOTO_ACCOUNT}:function:{FUNCTION}"
MACHINE_ARN = f"arn:aws:states:{REGION}:{MOTO_ACCOUNT}:stateMachine:{MACHINE}"


def deploy(capsys: pytest.CaptureFixture[str]) -> tuple[str, list[ApiCall]]:
    code, out, err, calls = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    return out, calls


@pytest.fixture
def deployed(aws_env: str, service: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    deploy(capsys)
    return service


def test_first_deploy_creates_every_resource_with_its_configuration(
    aws_env: str, service: Path, aws: Any, capsys: pytest.CaptureFixture[str]
):
    code, out, err, calls = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    # The service's SQS trigger (docs/sqs.md) adds its own resources after these.
    assert out.splitlines()[:5] == [
        f"create    role {FUNCTION_ROLE}",
        f"create    log group {LOG_GROUP}",
        f"create    function {FUNCTION}",
        f"create    role {MACHINE_ROLE}",
        f"create    state machine {MACHINE}",
    ]
    assert f"target aws · stage dev · {REGION} · account {MOTO_ACCOUNT}" in err
    assert mutating(calls)[:7] == [
        "CreateRole",
        "PutRolePolicy",
        "CreateLogGroup",
        "CreateFunction",
        "CreateRole",
        "PutRolePolicy",
        "CreateStateMachine",
    ]

    config = aws.lambda_.get_function(FunctionName=FUNCTION)["Configuration"]
    assert config["Handler"] == "handler.lambda_handler"
    assert config["Runtime"] == "python3.12"
    assert (config["MemorySize"], config["Timeout"]) == (128, 10)
    assert config["Role"] == f"arn:aws:iam::{MOTO_ACCOUNT}:role/{FUNCTION_ROLE}"

    machine = aws.sfn.describe_state_machine(stateMachineArn=MACHINE_ARN)
    assert machine["roleArn"] == f"arn:aws:iam::{MOTO_ACCOUNT}:role/{MACHINE_ROLE}"
    definition = json.loads(machine["definition"])
    assert definition["States"]["LambdaFunction"]["Resource"] == FUNCTION_ARN

    trust = aws.iam.get_role(RoleName=FUNCTION_ROLE)["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}
    trust = aws.iam.get_role(RoleName=MACHINE_ROLE)["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Service": "states.amazonaws.com"}
    assert trust["Statement"][0]["Condition"]["StringEquals"] == {"aws:SourceAccount": MOTO_ACCOUNT}

    groups = aws.logs.describe_log_groups(logGroupNamePrefix=LOG_GROUP)["logGroups"]
    assert [g["logGroupName"] for g in groups] == [LOG_GROUP]


def test_state_machine_role_may_invoke_only_the_referenced_function(deployed: Path, aws: Any):
    assert aws.iam.list_role_policies(RoleName=MACHINE_ROLE)["PolicyNames"] == [
        "tool-state-machine"
    ]
    policy = aws.iam.get_role_policy(RoleName=MACHINE_ROLE, PolicyName="tool-state-machine")
    assert policy["PolicyDocument"]["Statement"] == [
        {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": [FUNCTION_ARN]}
    ]
    attached = aws.iam.list_attached_role_policies(RoleName=MACHINE_ROLE)["AttachedPolicies"]
    assert attached == []


def test_function_role_may_only_write_its_own_logs(deployed: Path, aws: Any):
    policy = aws.iam.get_role_policy(RoleName=FUNCTION_ROLE, PolicyName="tool-function")
    assert policy["PolicyDocument"]["Statement"] == [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [
                f"arn:aws:logs:{REGION}:{MOTO_ACCOUNT}:log-group:{LOG_GROUP}:*",
            ],
        }
    ]


def test_second_deploy_changes_nothing_and_makes_no_mutating_call(
    deployed: Path, capsys: pytest.CaptureFixture[str]
):
    out, calls = deploy(capsys)
    assert out.splitlines()[-1] == "No changes."
    assert all(line.startswith("unchanged") for line in out.splitlines()[:-1])
    assert calls, "the plan reads what exists"
    assert mutating(calls) == []


def test_dry_run_and_plan_print_the_plan_and_change_nothing(
    aws_env: str, service: Path, aws: Any, capsys: pytest.CaptureFixture[str]
):
    for command in (["deploy", "--dry-run"], ["plan"]):
        code, out, err, calls = run(capsys, *command, "--target", "aws")
        assert code == 0, err
        assert f"create    function {FUNCTION}" in out
        assert mutating(calls) == []
    assert aws.lambda_.list_functions()["Functions"] == []


def test_changed_handler_uploads_the_code_only(
    deployed: Path, aws: Any, capsys: pytest.CaptureFixture[str]
):
    before = aws.lambda_.get_function(FunctionName=FUNCTION)["Configuration"]["CodeSha256"]
    handler = deployed / "handler.py"
    handler.write_text(handler.read_text() + "\n# changed\n")
    out, calls = deploy(capsys)
    assert mutating(calls) == ["UpdateFunctionCode"]
    assert f"update    function {FUNCTION} (code changed)" in out
    after = aws.lambda_.get_function(FunctionName=FUNCTION)["Configuration"]["CodeSha256"]
    assert after != before


def test_changed_definition_updates_the_state_machine_only(
    deployed: Path, aws: Any, capsys: pytest.CaptureFixture[str]
):
    asl = deployed / "statemachine.asl.json"
    asl.write_text(asl.read_text().replace('"Invalid response."', '"Bad response."'))
    out, calls = deploy(capsys)
    assert mutating(calls) == ["UpdateStateMachine"]
    assert f"update    state machine {MACHINE} (definition changed)" in out
    definition = json.loads(
        aws.sfn.describe_state_machine(stateMachineArn=MACHINE_ARN)["definition"]
    )
    assert definition["States"]["FailState"]["Cause"] == "Bad response."


def test_changed_configuration_updates_the_function_configuration_only(
    deployed: Path, aws: Any, capsys: pytest.CaptureFixture[str]
):
    config = deployed / "serverless.yml"
    config.write_text(config.read_text().replace("timeout: 10", "timeout: 20"))
    _, calls = deploy(capsys)
    assert mutating(calls) == ["UpdateFunctionConfiguration"]
    assert aws.lambda_.get_function(FunctionName=FUNCTION)["Configuration"]["Timeout"] == 20


def test_remove_deletes_everything_of_the_service_and_nothing_else(
    deployed: Path, aws: Any, capsys: pytest.CaptureFixture[str]
):
    # Someone else's function and role in the same account must survive.
    other_role = aws.iam.create_role(
        RoleName="someone-elses-role", AssumeRolePolicyDocument=json.dumps({"Statement": []})
    )["Role"]["Arn"]
    aws.lambda_.create_function(
        FunctionName="someone-elses-function",
        Runtime="python3.12",
        Role=other_role,
        Handler="h.h",
        Code={"ZipFile": (deployed / ".tool" / "build").glob("*.zip").__next__().read_bytes()},
    )
    code, out, err, calls = run(capsys, "remove", "--target", "aws")
    assert code == 0, err
    assert "delete    state machine hello-loop-dev-loop (tool remove)" in out

    functions = [f["FunctionName"] for f in aws.lambda_.list_functions()["Functions"]]
    assert functions == ["someone-elses-function"]
    roles = [r["RoleName"] for r in aws.iam.list_roles()["Roles"]]
    assert roles == ["someone-elses-role"]
    assert aws.sfn.list_state_machines()["stateMachines"] == []
    assert aws.logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/")["logGroups"] == []
    recorded = json.loads((deployed / ".tool" / "deployed" / "aws-dev.json").read_text())
    assert recorded["resources"] == []

    code, out, err, calls = run(capsys, "remove", "--target", "aws")
    assert code == 0, err
    assert out == "Nothing of hello-loop (dev) to remove.\n"
    assert mutating(calls) == []


def test_remove_without_a_record_still_finds_the_service_by_its_names(
    deployed: Path, aws: Any, capsys: pytest.CaptureFixture[str]
):
    (deployed / ".tool" / "deployed" / "aws-dev.json").unlink()
    code, _, err, _ = run(capsys, "remove", "--target", "aws")
    assert code == 0, err
    assert aws.lambda_.list_functions()["Functions"] == []
    assert aws.iam.list_roles()["Roles"] == []


def test_info_lists_what_is_deployed(deployed: Path, capsys: pytest.CaptureFixture[str]):
    code, out, err, calls = run(capsys, "info", "--target", "aws", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["account"] == MOTO_ACCOUNT
    assert {(r["kind"], r["name"]) for r in result["resources"]} == {
        ("role", FUNCTION_ROLE),
        ("role", MACHINE_ROLE),
        ("log group", LOG_GROUP),
        ("function", FUNCTION),
        ("state machine", MACHINE),
        # The SQS trigger's resources (docs/sqs.md).
        ("queue", "hello-loop-dev-loop-trigger-dlq"),
        ("queue", "hello-loop-dev-loop-trigger"),
        ("role", "hello-loop-dev-us-east-1-loop-sqsRole"),
        ("log group", "/aws/lambda/hello-loop-dev-loop-sqs-trigger"),
        ("function", "hello-loop-dev-loop-sqs-trigger"),
        ("event source mapping", "hello-loop-dev-loop-trigger -> hello-loop-dev-loop-sqs-trigger"),
    }
    assert mutating(calls) == []


def _result_shape(result: dict[str, Any]) -> tuple[list[str], set[str]]:
    event_keys = {"id", "type", "timestamp", "previousEventId"}
    assert all(event_keys <= set(event) for event in result["events"])
    return sorted(result), {type(result[key]).__name__ for key in ("executionArn", "name")}


def test_invoke_json_has_the_same_shape_as_on_the_local_target(
    deployed: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    # moto runs no Lambda code; this setting makes its executions end at once, as FAILED.
    monkeypatch.setenv("SF_EXECUTION_HISTORY_TYPE", "FAILURE")
    code, out, err, calls = run(capsys, "invoke", "--target", "aws", "--input", "in.json", "--json")
    assert code == 1, err  # the execution failed
    on_aws = json.loads(out)
    assert on_aws["status"] == "FAILED"
    assert on_aws["input"] == json.loads((deployed / "in.json").read_text())
    assert on_aws["executionArn"].startswith(
        f"arn:aws:states:{REGION}:{MOTO_ACCOUNT}:execution:{MACHINE}:"
    )
    assert [call.operation for call in calls if call.operation == "StartExecution"] == [
        "StartExecution"
    ]

    assert run(capsys, "deploy")[0] == 0
    code, out, err, _ = run(capsys, "invoke", "--input", "in.json", "--json")
    assert code == 0, err
    on_local = json.loads(out)
    assert _result_shape(on_aws) == _result_shape(on_local)


def test_invoke_stops_following_at_the_timeout_and_says_so(
    deployed: Path, capsys: pytest.CaptureFixture[str]
):
    # moto leaves executions RUNNING by default: only the timeout ends the follow.
    code, out, err, calls = run(
        capsys, "invoke", "--target", "aws", "--input", "in.json", "--json", "--timeout", "0"
    )
    assert code == 1
    assert json.loads(out)["status"] == "RUNNING"
    assert "stopped following after 0 s" in err
    history_reads = [c for c in calls if c.operation == "GetExecutionHistory"]
    assert len(history_reads) == 1


def test_executions_and_history_on_aws(deployed: Path, capsys: pytest.CaptureFixture[str]):
    code, out, err, _ = run(
        capsys, "invoke", "--target", "aws", "--input", "in.json", "--execution-name", "run-1",
        "--timeout", "0",
    )  # fmt: skip
    code, out, err, _ = run(capsys, "executions", "--target", "aws", "--json")
    assert code == 0, err
    assert [e["name"] for e in json.loads(out)["executions"]] == ["run-1"]
    code, out, err, _ = run(capsys, "history", "run-1", "--target", "aws", "--json")
    assert code == 0, err
    assert json.loads(out)["name"] == "run-1"
    assert json.loads(out)["events"][0]["type"] == "ExecutionStarted"


def test_stop_on_aws_is_one_stop_execution_call(deployed: Path, capsys: pytest.CaptureFixture[str]):
    # moto leaves executions RUNNING by default, so there is one to stop.
    code, out, err, _ = run(
        capsys,
        "invoke",
        "--target",
        "aws",
        "--input",
        "in.json",
        "--execution-name",
        "run-1",
        "--no-wait",
    )
    assert code == 0, err
    code, out, err, calls = run(
        capsys, "stop", "run-1", "--target", "aws", "--error", "Manual", "--cause", "c", "--json"
    )
    assert code == 0, err
    assert json.loads(out)["status"] == "ABORTED"
    assert mutating(calls) == ["StopExecution"]
    code, out, err, _ = run(capsys, "stop", "run-2", "--target", "aws")
    assert (code, out) == (2, "")
    assert "no execution named 'run-2'" in err


def test_invoke_before_deploy_is_one_clear_line_and_exit_2(
    aws_env: str, service: Path, capsys: pytest.CaptureFixture[str]
):
    code, out, err, _ = run(capsys, "invoke", "--target", "aws", "--input", "in.json")
    assert code == 2
    assert out == ""
    error_lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1
    assert MACHINE in error_lines[0] and "tool deploy --target aws" in error_lines[0]


def test_unknown_profile_is_bad_input(
    aws_env: str, service: Path, capsys: pytest.CaptureFixture[str]
):
    code, _, err, calls = run(capsys, "info", "--target", "aws", "--aws-profile", "nope")
    assert code == 2
    assert "nope" in err and "--aws-profile" in err
    assert calls == []


def test_a_failed_deploy_can_be_run_again(
    aws_env: str, service: Path, aws: Any, capsys: pytest.CaptureFixture[str]
):
    """A deploy cut short after the roles leaves a record; the next run finishes the job."""
    # The function role exists already (as if the previous run stopped right after it).
    code, _, err, _ = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    aws.lambda_.delete_function(FunctionName=FUNCTION)
    aws.sfn.delete_state_machine(stateMachineArn=MACHINE_ARN)
    out, calls = deploy(capsys)
    assert sorted(mutating(calls)) == ["CreateFunction", "CreateStateMachine"]
    assert f"unchanged role {FUNCTION_ROLE}" in out


LOGGING = """      loggingConfig:
        level: ALL
        includeExecutionData: true
"""
MACHINE_LOG_GROUP = f"/aws/vendedlogs/states/{MACHINE}-Logs"


def with_logging(service: Path) -> None:
    config = service / "serverless.yml"
    text = config.read_text()
    anchor = "      type: STANDARD\n"
    config.write_text(text.replace(anchor, anchor + LOGGING))


def test_logging_config_makes_a_log_group_and_points_the_machine_at_it(
    aws_env: str, service: Path, aws: Any, capsys: pytest.CaptureFixture[str]
):
    with_logging(service)
    out, _ = deploy(capsys)
    assert f"create    log group {MACHINE_LOG_GROUP}" in out
    logging = aws.sfn.describe_state_machine(stateMachineArn=MACHINE_ARN)["loggingConfiguration"]
    assert logging["level"] == "ALL" and logging["includeExecutionData"] is True
    assert logging["destinations"] == [
        {
            "cloudWatchLogsLogGroup": {
                "logGroupArn": f"arn:aws:logs:{REGION}:{MOTO_ACCOUNT}:log-group:"
                f"{MACHINE_LOG_GROUP}:*"
            }
        }
    ]
    policy = aws.iam.get_role_policy(RoleName=MACHINE_ROLE, PolicyName="tool-state-machine")
    invoke, delivery = policy["PolicyDocument"]["Statement"]
    assert invoke["Resource"] == [FUNCTION_ARN]
    assert "logs:CreateLogDelivery" in delivery["Action"] and delivery["Resource"] == "*"

    out, calls = deploy(capsys)
    assert out.splitlines()[-1] == "No changes."
    assert mutating(calls) == []


def test_turning_logging_off_updates_the_machine_and_deletes_its_log_group(
    aws_env: str, service: Path, aws: Any, capsys: pytest.CaptureFixture[str]
):
    config = service / "serverless.yml"
    original = config.read_text()
    with_logging(service)
    deploy(capsys)
    config.write_text(original)
    out, calls = deploy(capsys)
    assert f"update    state machine {MACHINE} (logging changed)" in out
    assert f"delete    log group {MACHINE_LOG_GROUP} (no longer in serverless.yml)" in out
    assert sorted(mutating(calls)) == ["DeleteLogGroup", "PutRolePolicy", "UpdateStateMachine"]
    logging = aws.sfn.describe_state_machine(stateMachineArn=MACHINE_ARN)["loggingConfiguration"]
    assert logging["level"] == "OFF"
    assert aws.logs.describe_log_groups(logGroupNamePrefix="/aws/vendedlogs/")["logGroups"] == []


def test_logs_prints_the_function_log_group(
    deployed: Path, aws: Any, capsys: pytest.CaptureFixture[str]
):
    aws.logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName="s")
    recent = int(time.time() * 1000)  # CloudWatch (and moto) refuse events over 14 days old
    aws.logs.put_log_events(
        logGroupName=LOG_GROUP,
        logStreamName="s",
        logEvents=[
            {"timestamp": recent, "message": "value1 = value1\n"},
            {"timestamp": recent + 1, "message": "value2 = value2\n"},
        ],
    )
    code, out, err, calls = run(capsys, "logs", "hello", "--target", "aws")
    assert code == 0, err
    assert [line.split("  ", 1)[1] for line in out.splitlines()] == [
        "value1 = value1",
        "value2 = value2",
    ]
    assert mutating(calls) == []


def test_a_deploy_from_another_checkout_adopts_what_the_toolkit_made(
    deployed: Path, capsys: pytest.CaptureFixture[str]
):
    (deployed / ".tool" / "deployed" / "aws-dev.json").unlink()  # e.g. a fresh clone
    out, calls = deploy(capsys)
    assert out.splitlines()[-1] == "No changes."
    assert mutating(calls) == []


def test_a_same_named_resource_of_someone_else_stops_the_deploy(
    aws_env: str, service: Path, aws: Any, capsys: pytest.CaptureFixture[str]
):
    aws.iam.create_role(
        RoleName=FUNCTION_ROLE, AssumeRolePolicyDocument=json.dumps({"Statement": []})
    )
    code, out, err, calls = run(capsys, "deploy", "--target", "aws")
    assert code == 2
    assert f"role {FUNCTION_ROLE} already exists" in err
    assert "not deployed by tool" in err
    assert mutating(calls) == []

    code, out, err, calls = run(capsys, "remove", "--target", "aws")
    assert code == 0, err
    assert f"left role {FUNCTION_ROLE} alone" in err
    assert mutating(calls) == []
    assert aws.iam.get_role(RoleName=FUNCTION_ROLE)["Role"]["RoleName"] == FUNCTION_ROLE


def test_per_service_endpoint_variables_are_honoured(
    aws_env: str, service: Path, aws: Any, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
):  # fmt: skip
    # The catch-all endpoint points nowhere; each service's own variable points at moto.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    for service_id in ("SFN", "LAMBDA", "IAM", "CLOUDWATCH_LOGS", "STS", "SQS"):
        monkeypatch.setenv(f"AWS_ENDPOINT_URL_{service_id}", aws_env)
    out, _ = deploy(capsys)
    assert f"create    state machine {MACHINE}" in out
    assert aws.sfn.describe_state_machine(stateMachineArn=MACHINE_ARN)["name"] == MACHINE


def test_task_commands_make_one_call_each(
    aws_env: str, service: Path, capsys: pytest.CaptureFixture[str]
):
    # moto accepts any token (it answers SendTask* without checking): this shows the calls made.
    (service / "out.json").write_text('{"ok": true}')
    token = "AQCEAAAAKgAAAAMAAAAAAAAAAcallback"
    for args, operation in (
        (("success", token, "--output", "out.json"), "SendTaskSuccess"),
        (("failure", token, "--error", "E", "--cause", "C"), "SendTaskFailure"),
        (("heartbeat", token), "SendTaskHeartbeat"),
    ):
        code, out, err, calls = run(capsys, "task", *args, "--target", "aws", "--json")
        assert code == 0, err
        assert json.loads(out) == {"action": operation, "taskToken": token, "target": "aws"}
        assert [call.operation for call in calls if call.service == "stepfunctions"] == [operation]
