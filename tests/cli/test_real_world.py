"""The refusals of real serverless.yml files that a user would not expect (issue "Real-world
serverless.yml", "Why"), each on a small service of its own, through the real CLI (local
target)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tooling.cli import main

pytestmark = pytest.mark.slow  # end-to-end: `make test` runs it, `make test-fast` does not

HANDLER = "def hello(event, context):\n    return {'ok': True, 'event': event}\n"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def make(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str]) -> Path:
    folder = tmp_path / "svc"
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    monkeypatch.chdir(folder)
    return folder


def one_task(resource: object, **state: object) -> str:
    task = {"Type": "Task", "Resource": resource, "End": True, **state}
    return json.dumps({"StartAt": "T", "States": {"T": task}}, indent=2)


GETATT = {"Fn::GetAtt": ["hello", "Arn"]}
YML = """\
service: rw
provider:
  name: aws
  runtime: python3.12
functions:
  hello:
    handler: handler.hello
stepFunctions:
  stateMachines:
    main:
      definition: ${file(machine.json)}
"""


def test_ref_to_a_function_as_task_resource_runs(tmp_path, monkeypatch, capsys):
    make(
        tmp_path,
        monkeypatch,
        {"serverless.yml": YML, "handler.py": HANDLER, "machine.json": one_task({"Ref": "hello"})},
    )
    code, _, err = run(capsys, "deploy")
    assert code == 0, err
    (tmp_path / "in.json").write_text('{"x": 1}')
    code, out, err = run(capsys, "invoke", "--input", str(tmp_path / "in.json"))
    assert code == 0, err
    assert json.loads(out) == {"ok": True, "event": {"x": 1}}


def test_event_invocation_answers_202_and_the_handler_still_runs(tmp_path, monkeypatch, capsys):
    handler = (
        "import time\n"
        "def hello(event, context):\n"
        "    time.sleep(0.5)\n"
        "    print('async handler ran', event['n'])\n"
        "    raise ValueError('fails after the task went on')\n"
    )
    params = {"FunctionName": "rw-dev-hello", "InvocationType": "Event", "Payload": {"n.$": "$.n"}}
    machine = one_task("arn:aws:states:::lambda:invoke", Parameters=params)
    make(
        tmp_path,
        monkeypatch,
        {"serverless.yml": YML, "handler.py": handler, "machine.json": machine},
    )
    assert run(capsys, "deploy")[0] == 0
    (tmp_path / "in.json").write_text('{"n": 42}')
    code, out, err = run(capsys, "invoke", "--input", str(tmp_path / "in.json"))
    assert code == 0, err  # the function's failure is not the execution's
    result = json.loads(out)
    assert (result["StatusCode"], result["Payload"]) == (202, "")
    lines: list[str] = []
    for _ in range(200):  # the worker waits for the asynchronous call before it exits
        code, out, err = run(capsys, "logs", "hello")
        lines = out.splitlines()
        if any("async handler ran 42" in line for line in lines):
            break
        time.sleep(0.1)
    assert any("async handler ran 42" in line for line in lines), lines
    assert any("ValueError" in line for line in lines), lines


def test_wait_for_task_token_with_the_whole_context_plans_and_validates(
    tmp_path, monkeypatch, capsys
):
    params = {"FunctionName": "rw-dev-hello", "Payload": {"ExecutionContext.$": "$$"}}
    machine = one_task("arn:aws:states:::lambda:invoke.waitForTaskToken", Parameters=params)
    make(
        tmp_path,
        monkeypatch,
        {"serverless.yml": YML, "handler.py": HANDLER, "machine.json": machine},
    )
    code, out, err = run(capsys, "validate")
    assert code == 0 and out == "", out
    code, _, err = run(capsys, "plan")
    assert code == 0, err


def test_no_terminal_state_is_missing_end_state_for_validate_and_deploy(
    tmp_path, monkeypatch, capsys
):
    loop = {
        "StartAt": "A",
        "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Next": "A"}},
    }
    make(
        tmp_path,
        monkeypatch,
        {"serverless.yml": YML, "handler.py": HANDLER, "machine.json": json.dumps(loop, indent=2)},
    )
    code, out, _ = run(capsys, "validate")
    assert code == 2
    assert out.splitlines() == [
        "machine.json:3:13: error MISSING_END_STATE: Workflow has no terminal state: end a state "
        'with "End": true, or add a Succeed or Fail state'
    ]
    code, _, err = run(capsys, "deploy")
    assert code == 2
    assert "machine.json:3:13: MISSING_END_STATE: Workflow has no terminal state" in err


STATEMENT_YML = """\
service: rw
provider:
  name: aws
  runtime: python3.12
  iam:
    role:
      statements:
        - Effect: Allow
          Action: dynamodb:PutItem
          Resource: !GetAtt OrdersTable.Arn
functions:
  hello:
    handler: handler.hello
stepFunctions:
  stateMachines:
    main:
      definition: ${file(machine.json)}
resources:
  Resources:
    OrdersTable:
      Type: AWS::DynamoDB::Table
"""


def test_iam_statement_naming_a_resources_entry(tmp_path, monkeypatch, capsys):
    # The statement's table comes from the stack of resources: (issue 15): validate and plan
    # say so instead of refusing it, and nothing blocks info or remove.
    folder = make(
        tmp_path,
        monkeypatch,
        {
            "serverless.yml": YML,
            "handler.py": HANDLER,
            "machine.json": one_task(GETATT),
        },
    )
    assert run(capsys, "deploy")[0] == 0  # a good deploy first
    (folder / "serverless.yml").write_text(STATEMENT_YML)
    code, out, err = run(capsys, "validate")
    assert code == 0, out + err
    code, out, err = run(capsys, "plan")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "create    stack rw-dev"
    assert (
        "update    role rw-dev-us-east-1-lambdaRole (policy changed, uses values known after the "
        "stack is created: OrdersTable.Arn)" in lines
    )
    code, _, err = run(capsys, "info")
    assert code == 0, err
    code, out, err = run(capsys, "remove")
    assert code == 0, err
    assert "delete    function rw-dev-hello" in out


def test_state_machine_logical_ids_resolve_in_statements(tmp_path, monkeypatch, capsys):
    yml = (
        YML.replace(
            "  runtime: python3.12\n",
            "  runtime: python3.12\n"
            "  iam:\n    role:\n      statements:\n"
            "        - {Effect: Allow, Action: states:StartExecution, "
            "Resource: !Ref MainStepFunctionsStateMachine}\n"
            "        - {Effect: Allow, Action: states:DescribeStateMachine, "
            "Resource: !GetAtt [Named, Arn]}\n"
            "  environment:\n    MACHINE_NAME: !GetAtt [Named, Name]\n",
        )
        + "    other:\n      name: named\n      definition: ${file(machine.json)}\n"
    )
    make(
        tmp_path,
        monkeypatch,
        {"serverless.yml": yml, "handler.py": HANDLER, "machine.json": one_task(GETATT)},
    )
    code, out, err = run(capsys, "validate")
    assert code == 0, out + err
    from tooling import iam, session

    service = session.load(session.Options(directory=Path.cwd()))
    statements = iam.function_role(service).inline_policies[iam.FUNCTION_POLICY_NAME]["Statement"]
    assert statements[-2]["Resource"] == (
        "arn:aws:states:us-east-1:000000000000:stateMachine:rw-dev-main"
    )
    assert statements[-1]["Resource"] == "arn:aws:states:us-east-1:000000000000:stateMachine:named"
    assert service.functions["hello"].environment["MACHINE_NAME"] == "named"


def test_unknown_name_in_a_statement_suggests_a_real_one(tmp_path, monkeypatch, capsys):
    yml = YML.replace(
        "  runtime: python3.12\n",
        "  runtime: python3.12\n  iam:\n    role:\n      statements:\n"
        "        - {Effect: Allow, Action: states:StartExecution, "
        "Resource: !Ref MainStepFunctionStateMachine}\n",
    )
    make(
        tmp_path,
        monkeypatch,
        {"serverless.yml": yml, "handler.py": HANDLER, "machine.json": one_task(GETATT)},
    )
    code, out, _ = run(capsys, "validate")
    assert code == 2
    assert "did you mean 'MainStepFunctionsStateMachine'?" in out
    assert "serverless.yml:8:" in out


def test_errors_in_a_definition_two_files_deep_point_into_that_file(tmp_path, monkeypatch, capsys):
    yml = YML.replace(
        "  stateMachines:\n    main:\n      definition: ${file(machine.json)}\n",
        "  stateMachines: ${file(sm.yml)}\n",
    )
    definition = (
        "StartAt: A\nStates:\n  A:\n    Type: Pass\n    Next: Nowhere\n  B:\n    Type: Succeed\n"
    )
    make(
        tmp_path,
        monkeypatch,
        {
            "serverless.yml": yml,
            "handler.py": HANDLER,
            "sm.yml": "main:\n  definition: ${file(def.yml)}\n",
            "def.yml": definition,
        },
    )
    code, out, _ = run(capsys, "validate")
    assert code == 2
    assert out.splitlines()[0].startswith("def.yml:5:11: error STATE_NEXT_MISSING")
    code, _, err = run(capsys, "deploy")
    assert code == 2
    assert "def.yml:5:11" in err


def test_a_service_with_no_function_deploys_from_a_folder_holding_only_its_yml(
    tmp_path, monkeypatch, capsys
):
    yml = (
        "service: nofn\nprovider:\n  name: aws\nstepFunctions:\n  stateMachines:\n    m:\n"
        "      definition:\n        StartAt: A\n        States:\n"
        "          A: {Type: Pass, End: true}\n"
    )
    folder = make(tmp_path, monkeypatch, {"serverless.yml": yml})
    code, out, err = run(capsys, "deploy")
    assert code == 0, err
    assert "create    state machine nofn-dev-m" in out
    assert not (folder / ".tool" / "build" / "nofn.zip").exists()  # nothing to package


def test_every_config_warning_is_printed_once(tmp_path, monkeypatch, capsys):
    yml = YML + "custm:\n  x: 1\n"  # a misspelled key: a config warning
    make(
        tmp_path,
        monkeypatch,
        {"serverless.yml": yml, "handler.py": HANDLER, "machine.json": one_task(GETATT)},
    )
    for command in ("plan", "deploy"):
        code, _, err = run(capsys, command)
        assert code == 0, err
        assert err.count("unknown key 'custm'") == 1, err


def test_forms_serverless_accepts_are_accepted(tmp_path, monkeypatch, capsys):
    yml = """\
service:
  name: old-style
provider:
  name: aws
  runtime: python3.12
  package:
    patterns: ['!x']
functions:
  hello:
    handler: handler.hello
stepFunctions:
  stateMachines:
    main:
      definition:
        StartAt: T
        States:
          T:
            Type: Task
            Resource:
              Fn::GetAtt: [hello, Arn]
              InputPath: $.detail
            End: true
"""
    make(tmp_path, monkeypatch, {"serverless.yml": yml, "handler.py": HANDLER})
    code, out, err = run(capsys, "validate")
    assert code == 0, out
    assert "read as `service: old-style`" in out
    assert "InputPath next to Fn::GetAtt is dropped" in out
    assert "stackTags" not in out
    assert "unknown key 'package' in provider" in out and "it belongs in the top level" in out
    code, _, err = run(capsys, "deploy")
    assert code == 0, err


def test_an_empty_state_machines_mapping_is_a_warning(tmp_path, monkeypatch, capsys):
    yml = (
        "service: s\nprovider:\n  name: aws\nfunctions:\n  hello:\n    handler: handler.hello\n"
        "stepFunctions:\n  stateMachines:\n"
    )
    make(tmp_path, monkeypatch, {"serverless.yml": yml, "handler.py": HANDLER})
    code, out, _ = run(capsys, "validate")
    assert code == 0
    assert "stepFunctions.stateMachines is empty: no state machine to deploy" in out
    assert run(capsys, "deploy")[0] == 0


def test_a_dot_slash_python_handler_is_refused_before_it_fails_at_run_time(
    tmp_path, monkeypatch, capsys
):
    yml = YML.replace("handler: handler.hello", "handler: ./src/lambda/scheduler/index.hello")
    make(
        tmp_path,
        monkeypatch,
        {
            "serverless.yml": yml,
            "src/lambda/scheduler/index.py": HANDLER,
            "machine.json": one_task(GETATT),
        },
    )
    code, out, _ = run(capsys, "validate")
    assert code == 2
    assert "serverless.yml:7:14: error CONFIG_INVALID" in out
    assert (
        "write the path from the package root without it: src/lambda/scheduler/index.hello" in out
    )


def test_params_per_stage_and_on_the_command_line(tmp_path, monkeypatch, capsys):
    yml = (
        YML.replace(
            "  runtime: python3.12\n",
            "  runtime: python3.12\n  environment:\n    DOMAIN: ${param:domain}\n"
            "    DEBUG: ${strToBool(${param:debug})}\n",
        )
        + "params:\n  default:\n    domain: default.example\n    debug: 'false'\n"
        + "  prod:\n    domain: prod.example\n"
    )
    make(
        tmp_path,
        monkeypatch,
        {"serverless.yml": yml, "handler.py": HANDLER, "machine.json": one_task(GETATT)},
    )
    from tooling import session

    def environment(*params: str, stage: str | None = None) -> dict[str, str]:
        options = session.Options(stage=stage, directory=Path.cwd(), params=params)
        return session.load(options).functions["hello"].environment

    assert environment() == {"DOMAIN": "default.example", "DEBUG": "false"}
    assert environment(stage="prod")["DOMAIN"] == "prod.example"
    assert environment("domain=cli.example", "debug=1", stage="prod") == {
        "DOMAIN": "cli.example",
        "DEBUG": "true",
    }
    # --param anywhere on the line, as `sls deploy --param="k=v"`
    code, _, err = run(capsys, "plan", "--param", "domain=x.example", "--param=debug=0")
    assert code == 0, err


def test_an_unread_aws_variable_says_how_to_give_the_value(tmp_path, monkeypatch, capsys):
    yml = YML.replace(
        "  runtime: python3.12\n",
        "  runtime: python3.12\n  environment:\n    KEY: ${ssm:/app/key}\n",
    )
    make(
        tmp_path,
        monkeypatch,
        {"serverless.yml": yml, "handler.py": HANDLER, "machine.json": one_task(GETATT)},
    )
    code, out, _ = run(capsys, "validate")
    assert code == 2
    assert "serverless.yml:6:10: error VARIABLE_UNRESOLVED: cannot resolve ${ssm:/app/key}" in out
    # on the local target the value is read from the local AWS services, which hold nothing
    assert "the local AWS services hold nothing yet" in out
    assert "aws ssm put-parameter --type String --name /app/key --value VALUE" in out
    assert "--param NAME=VALUE" in out and "${ssm:/app/key, 'x'}" in out
    (Path.cwd() / "serverless.yml").write_text(
        yml.replace("${ssm:/app/key}", "${ssm:/app/key, 'dev-key'}")
    )
    code, out, _ = run(capsys, "validate")
    assert code == 0
    # the parameter does not exist in the local AWS services: the fallback is the value, as
    # Serverless uses it when SSM has no such parameter (no warning: nothing is left unread)
    assert "fallback" not in out
