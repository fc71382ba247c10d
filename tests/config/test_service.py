from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tooling.config.service import load_service
from tooling.errors import ConfigError, DefinitionError

ASL: dict[str, Any] = {
    "Comment": "A Retry example of the Amazon States Language using an AWS Lambda Function",
    "StartAt": "LambdaFunction",
    "States": {
        "LambdaFunction": {
            "Type": "Task",
            "Resource": {"Fn::GetAtt": ["hello", "Arn"]},
            "ResultPath": "$.taskresult",
            "Next": "ChoiceState",
        },
        "ChoiceState": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.taskresult.value1", "StringEquals": "value1", "Next": "Done"}
            ],
            "Default": "LambdaFunction",
        },
        "Done": {"Type": "Succeed"},
    },
}

SEED_YML = """\
service: hello-loop
frameworkVersion: '3'
plugins:
  - serverless-step-functions
provider:
  name: aws
  runtime: python3.12
  stage: ${opt:stage, 'dev'}
  region: ${opt:region, 'us-east-1'}
  memorySize: 128
  timeout: 10
functions:
  hello:
    handler: handler.lambda_handler
stepFunctions:
  stateMachines:
    loop:
      name: ${self:service}-${sls:stage}-loop
      type: STANDARD
      definition: ${file(statemachine.asl.json)}
"""


def write(directory: Path, files: dict[str, str]) -> Path:
    for name, content in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return directory


def seed(tmp_path: Path, yml: str = SEED_YML, **extra: str) -> Path:
    return write(
        tmp_path,
        {"serverless.yml": yml, "statemachine.asl.json": json.dumps(ASL, indent=2), **extra},
    )


def load(directory: Path, **kwargs: Any):
    kwargs.setdefault("env", {})
    return load_service(directory, **kwargs)


# -- the seed service ---------------------------------------------------------------------------


def test_seed_service_loads_with_names_and_arns(tmp_path: Path) -> None:
    service = load(seed(tmp_path))
    assert (service.service, service.stage, service.region) == ("hello-loop", "dev", "us-east-1")
    assert service.account_id == "000000000000"
    assert service.config_file == tmp_path / "serverless.yml"
    hello = service.functions["hello"]
    assert hello.name == "hello-loop-dev-hello"
    assert hello.arn == "arn:aws:lambda:us-east-1:000000000000:function:hello-loop-dev-hello"
    assert (hello.handler_file, hello.handler_function) == ("handler.py", "lambda_handler")
    assert (hello.runtime, hello.memory_size, hello.timeout) == ("python3.12", 128, 10)
    loop = service.state_machines["loop"]
    assert loop.name == "hello-loop-dev-loop"
    assert loop.type == "STANDARD"
    assert loop.arn == "arn:aws:states:us-east-1:000000000000:stateMachine:hello-loop-dev-loop"
    assert loop.definition["States"]["LambdaFunction"]["Resource"] == hello.arn
    assert loop.definition["States"]["ChoiceState"] == ASL["States"]["ChoiceState"]
    assert service.warnings == ()


def test_definition_source_points_into_the_asl_file(tmp_path: Path) -> None:
    loop = load(seed(tmp_path)).state_machines["loop"]
    assert loop.source is not None and loop.source.file == "statemachine.asl.json"
    text = (tmp_path / "statemachine.asl.json").read_text().splitlines()
    position = loop.source.positions["/States/ChoiceState/Default"]
    assert text[position.line - 1][position.column - 1 :].startswith('"LambdaFunction"')


def test_stage_region_and_account_come_from_arguments(tmp_path: Path) -> None:
    service = load(seed(tmp_path), stage="prod", region="eu-west-1", account_id="123456789012")
    assert (service.stage, service.region) == ("prod", "eu-west-1")
    assert service.functions["hello"].arn == (
        "arn:aws:lambda:eu-west-1:123456789012:function:hello-loop-prod-hello"
    )
    assert service.state_machines["loop"].name == "hello-loop-prod-loop"


def test_defaults_when_provider_says_nothing(tmp_path: Path) -> None:
    yml = "service: s\nprovider:\n  name: aws\nfunctions:\n  f:\n    handler: src/app.main\n"
    service = load(write(tmp_path, {"serverless.yml": yml}))
    f = service.functions["f"]
    assert (service.stage, service.region) == ("dev", "us-east-1")
    assert (f.runtime, f.memory_size, f.timeout) == ("python3.12", 1024, 6)
    assert (f.handler_file, f.handler_function) == ("src/app.py", "main")
    assert service.state_machines == {}
    assert service.profile is None


def test_dotted_module_handler_maps_to_a_nested_file(tmp_path: Path) -> None:
    yml = "service: s\nprovider: {name: aws}\nfunctions:\n  f:\n    handler: pkg.mod.run\n"
    assert (
        load(write(tmp_path, {"serverless.yml": yml})).functions["f"].handler_file == "pkg/mod.py"
    )


def test_custom_names_environment_and_profile(tmp_path: Path) -> None:
    yml = """\
service: s
provider:
  name: aws
  profile: work
  environment:
    SHARED: one
    OVERRIDE: provider
    DROPPED: null
functions:
  f:
    name: custom-fn
    handler: h.run
    memorySize: '256'
    environment:
      OVERRIDE: function
      FLAG: true
      NUM: 3
stepFunctions:
  stateMachines:
    m:
      name: custom-machine
      type: EXPRESS
      definition:
        StartAt: A
        States:
          A: {Type: Task, Resource: !GetAtt f.Arn, End: true}
"""
    service = load(write(tmp_path, {"serverless.yml": yml}))
    f = service.functions["f"]
    assert f.name == "custom-fn"
    assert f.memory_size == 256
    assert f.environment == {"SHARED": "one", "OVERRIDE": "function", "FLAG": "true", "NUM": "3"}
    assert service.profile == "work"
    machine = service.state_machines["m"]
    assert (machine.name, machine.type) == ("custom-machine", "EXPRESS")
    assert machine.definition["States"]["A"]["Resource"] == f.arn


def test_inline_definition_source_is_rebased_onto_serverless_yml(tmp_path: Path) -> None:
    yml = """\
service: s
provider: {name: aws}
functions:
  f: {handler: h.run}
stepFunctions:
  stateMachines:
    m:
      definition:
        StartAt: A
        States:
          A: {Type: Pass, End: true}
"""
    machine = load(write(tmp_path, {"serverless.yml": yml})).state_machines["m"]
    assert machine.source is not None and machine.source.file == "serverless.yml"
    assert machine.source.positions[""].line == 9
    assert machine.source.positions["/States/A/Type"].line == 11
    assert "/stepFunctions" not in "".join(machine.source.positions)


def test_definition_from_a_yaml_file_address(tmp_path: Path) -> None:
    yml = SEED_YML.replace(
        "${file(statemachine.asl.json)}", "${file(machines.yml):loop.definition}"
    )
    machines = (
        "loop:\n  definition:\n    StartAt: A\n    States:\n      A:\n"
        "        Type: Task\n        Resource: !GetAtt hello.Arn\n        End: true\n"
    )
    service = load(seed(tmp_path, yml, **{"machines.yml": machines}))
    machine = service.state_machines["loop"]
    assert machine.definition["States"]["A"]["Resource"] == service.functions["hello"].arn
    assert machine.source is not None and machine.source.file == "machines.yml"
    assert machine.source.positions["/States/A/Resource"].line == 7


def test_ref_to_a_function_in_a_definition_gives_its_arn_as_the_plugin_does(
    tmp_path: Path,
) -> None:
    # serverless-step-functions lib/utils/aws.js resolveLambdaFunctionName: a definition's
    # {Ref: fn} (key or logical id) becomes the function's ARN; nested in Fn::Join it stays
    # CloudFormation's Ref, the name.
    asl = {
        "StartAt": "A",
        "States": {
            "A": {
                "Type": "Pass",
                "Result": {
                    "byId": {"Ref": "HelloLambdaFunction"},
                    "byKey": {"Ref": "hello"},
                    "joined": {"Fn::Join": ["/", ["x", {"Ref": "hello"}]]},
                },
                "End": True,
            }
        },
    }
    service = load(seed(tmp_path, **{"statemachine.asl.json": json.dumps(asl)}))
    arn = service.functions["hello"].arn
    assert service.state_machines["loop"].definition["States"]["A"]["Result"] == {
        "byId": arn,
        "byKey": arn,
        "joined": "x/hello-loop-dev-hello",
    }


# -- warnings and errors ------------------------------------------------------------------------


def test_a_normal_file_gives_no_warnings(tmp_path: Path) -> None:
    yml = (
        SEED_YML
        + """\
custom:
  anything: goes
package:
  patterns: ['!docs/**']
resources:
  Resources:
    Q: {Type: AWS::SQS::Queue}
"""
    )
    assert load(seed(tmp_path, yml)).warnings == ()  # resources: is deployed as a stack


def test_unknown_keys_outside_state_machines_are_warnings(tmp_path: Path) -> None:
    yml = (
        SEED_YML.replace("  memorySize: 128\n", "  memorySise: 128\n").replace(
            "    handler: handler.lambda_handler\n",
            "    handler: handler.lambda_handler\n    colour: blue\n",
        )
        + "extra: 1\n"
    )
    service = load(seed(tmp_path, yml))
    assert len(service.warnings) == 3
    provider_warning = next(w for w in service.warnings if "memorySise" in w)
    assert provider_warning.startswith("serverless.yml:10:")
    assert "did you mean 'memorySize'?" in provider_warning
    assert any("colour" in w and "function 'hello'" in w for w in service.warnings)
    assert any("'extra'" in w and "top level" in w for w in service.warnings)


def test_unknown_key_in_a_state_machine_is_an_error(tmp_path: Path) -> None:
    yml = SEED_YML.replace("      type: STANDARD\n", "      typ: STANDARD\n")
    with pytest.raises(ConfigError) as caught:
        load(seed(tmp_path, yml))
    err = caught.value
    assert "unknown key 'typ'" in err.message
    assert err.hint == "did you mean 'type'?"
    assert (err.file, err.line) == ("serverless.yml", 19)


def test_bad_state_machine_type(tmp_path: Path) -> None:
    yml = SEED_YML.replace("type: STANDARD", "type: standard")
    with pytest.raises(ConfigError, match="not STANDARD or EXPRESS") as caught:
        load(seed(tmp_path, yml))
    assert caught.value.line == 19


def test_missing_definition(tmp_path: Path) -> None:
    yml = SEED_YML.replace("      definition: ${file(statemachine.asl.json)}\n", "")
    with pytest.raises(ConfigError, match="has no definition"):
        load(seed(tmp_path, yml))


def test_broken_asl_json_is_a_definition_error_in_that_file(tmp_path: Path) -> None:
    broken = '{\n  "StartAt": "A",\n  "States": {\n    "A": {"Type": "Pass" "End": true}\n  }\n}\n'
    with pytest.raises(DefinitionError) as caught:
        load(seed(tmp_path, **{"statemachine.asl.json": broken}))
    err = caught.value
    assert (err.file, err.line, err.column) == ("statemachine.asl.json", 4, 26)


def test_getatt_of_a_missing_function_suggests_one(tmp_path: Path) -> None:
    asl = json.dumps(ASL, indent=2).replace('"hello"', '"helo"')
    with pytest.raises(DefinitionError) as caught:
        load(seed(tmp_path, **{"statemachine.asl.json": asl}))
    err = caught.value
    assert err.hint == "did you mean 'hello'?"
    assert err.file == "statemachine.asl.json"
    lines = asl.splitlines()
    assert err.line == next(i for i, line in enumerate(lines, 1) if "Fn::GetAtt" in line)


def test_missing_serverless_yml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path)
    assert "serverless.yml not found" in caught.value.message
    assert "service folder" in (caught.value.hint or "")


def test_missing_service(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="`service` is missing"):
        load(write(tmp_path, {"serverless.yml": "provider:\n  name: aws\n"}))


def test_provider_must_be_aws(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="provider.name must be aws") as caught:
        load(write(tmp_path, {"serverless.yml": "service: s\nprovider:\n  name: azure\n"}))
    assert (caught.value.line, caught.value.column) == (3, 9)


def test_function_without_handler(tmp_path: Path) -> None:
    yml = "service: s\nprovider: {name: aws}\nfunctions:\n  f:\n    timeout: 3\n"
    with pytest.raises(ConfigError, match="function 'f' has no handler"):
        load(write(tmp_path, {"serverless.yml": yml}))


@pytest.mark.parametrize("handler", ["handler", "handler.", "handler.1abc", "a b.c"])
def test_handler_must_be_module_dot_function(tmp_path: Path, handler: str) -> None:
    yml = f"service: s\nprovider: {{name: aws}}\nfunctions:\n  f:\n    handler: '{handler}'\n"
    expected = "is not `module.function`|is not a module path"
    with pytest.raises(ConfigError, match=expected) as caught:
        load(write(tmp_path, {"serverless.yml": yml}))
    assert caught.value.line == 5


def test_env_variable_error_surfaces_from_load_service(tmp_path: Path) -> None:
    yml = SEED_YML.replace(
        "  timeout: 10\n", "  timeout: 10\n  environment:\n    KEY: ${env:API_KEY}\n"
    )
    with pytest.raises(ConfigError, match=r"cannot resolve \$\{env:API_KEY\}"):
        load(seed(tmp_path, yml))
    service = load(seed(tmp_path, yml), env={"API_KEY": "k"})
    assert service.functions["hello"].environment == {"KEY": "k"}


def test_invalid_state_machine_name(tmp_path: Path) -> None:
    yml = SEED_YML.replace("name: ${self:service}-${sls:stage}-loop", "name: 'bad name'")
    with pytest.raises(ConfigError, match="not a valid state machine name"):
        load(seed(tmp_path, yml))


def test_package_patterns_service_and_function_level(tmp_path: Path) -> None:
    yml = (
        SEED_YML.replace(
            "    handler: handler.lambda_handler\n",
            "    handler: handler.lambda_handler\n    package:\n      patterns: ['!big/**']\n",
        )
        + "package:\n  exclude: [tmp/**]\n  patterns: ['!docs/**', 'docs/keep.md']\n"
    )
    service = load(seed(tmp_path, yml))
    assert service.package_patterns == ("!tmp/**", "!docs/**", "docs/keep.md")
    assert service.functions["hello"].package_patterns == ("!big/**",)


def test_missing_serverless_yml_renders_as_one_plain_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path)
    line = caught.value.render()
    assert line.endswith("(run the command in the service folder, the one holding serverless.yml)")
    assert line.count("(") == 1


# -- a state machine's own role, or statements for the generated one ---------------------------


def with_machine_keys(extra: str) -> str:
    """The seed serverless.yml (20 lines: `extra` starts on line 21) with `extra` added to
    the `loop` machine."""
    assert SEED_YML.count("\n") == 20
    return SEED_YML + extra


def test_role_and_iam_role_statements_are_read(tmp_path: Path) -> None:
    statements = """\
      iamRoleStatements:
        - Effect: Allow
          Action: sqs:SendMessage
          Resource: arn:aws:sqs:us-east-1:000000000000:jobs
        - Effect: Allow
          Action: [lambda:InvokeFunction]
          Resource: {"Fn::GetAtt": [hello, Arn]}
"""
    machine = load(seed(tmp_path, with_machine_keys(statements))).state_machines["loop"]
    assert machine.role is None
    assert machine.iam_role_statements == (
        {
            "Effect": "Allow",
            "Action": "sqs:SendMessage",
            "Resource": "arn:aws:sqs:us-east-1:000000000000:jobs",
        },
        {
            "Effect": "Allow",
            "Action": ["lambda:InvokeFunction"],
            "Resource": "arn:aws:lambda:us-east-1:000000000000:function:hello-loop-dev-hello",
        },
    )
    role = "      role: arn:aws:iam::000000000000:role/service-role/mine\n"
    machine = load(seed(tmp_path, with_machine_keys(role))).state_machines["loop"]
    assert machine.role == "arn:aws:iam::000000000000:role/service-role/mine"
    assert machine.iam_role_statements == ()


def test_role_may_be_built_with_fn_sub(tmp_path: Path) -> None:
    role = '      role: {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/mine"}\n'
    machine = load(seed(tmp_path, with_machine_keys(role))).state_machines["loop"]
    assert machine.role == "arn:aws:iam::000000000000:role/mine"


@pytest.mark.parametrize(
    ("extra", "message", "where"),
    [
        (
            "      role: arn:aws:iam::000000000000:role/mine\n      iamRoleStatements: []\n",
            "has both role and iamRoleStatements",
            (22, 26),
        ),
        ("      role: mine\n", "role must be the ARN of an IAM role (got mine)", (21, 13)),
        (
            "      role: arn:aws:lambda:us-east-1:000000000000:function:f\n",
            "role must be the ARN of an IAM role",
            (21, 13),
        ),
        (
            "      role: {Fn::GetAtt: [MyRole, Arn]}\n"
            "resources:\n  Resources:\n    MyRole: {Type: 'AWS::IAM::Role'}\n",
            "role: Fn::GetAtt names 'MyRole' from `resources:`, and its Arn is not known",
            (21, 13),
        ),
        (
            "      iamRoleStatements: {Effect: Allow}\n",
            "iamRoleStatements must be a list of IAM statements",
            (21, 26),
        ),
        (
            "      iamRoleStatements:\n        - Effect: Allow\n          Action: s3:GetObject\n",
            "iamRoleStatements[0] has no Resource",
            (22, 11),
        ),
        (
            "      iamRoleStatements:\n"
            "        - {Effect: Allow, Action: s3:GetObject, Resource: '*'}\n"
            "        - Effect: Maybe\n          Action: s3:GetObject\n          Resource: '*'\n",
            "iamRoleStatements[1]: Effect must be Allow or Deny (got 'Maybe')",
            (23, 19),
        ),
        (
            "      iamRoleStatements:\n        - - Effect: Allow\n",
            "iamRoleStatements[0] must be a mapping",
            (22, 11),
        ),
        (
            "      iamRoleStatements:\n"
            "        - Effect: Allow\n"
            "          Action: lambda:InvokeFunction\n"
            "          Resource: {Fn::GetAtt: [helo, Arn]}\n",
            "names 'helo', which is not a function, state machine or resource of this service",
            (24, 34),
        ),
        (
            "      iamRoleStatements:\n"
            "        - Effect: Allow\n"
            "          Action: sqs:SendMessage\n"
            "          Resource: {Fn::GetAtt: [Jobs, Arn]}\n"
            "resources:\n  Resources:\n    Jobs: {Type: 'AWS::SQS::Queue'}\n",
            "iamRoleStatements[0]: Fn::GetAtt names 'Jobs' from `resources:`, and its Arn is not "
            "known",
            (24, 21),
        ),
    ],
)
def test_bad_role_or_statements_are_config_errors_at_their_line(
    tmp_path: Path, extra: str, message: str, where: tuple[int, int]
) -> None:
    # Malformed keys stop the load; what only matters to a deploy (a statement, a reference)
    # is kept in `problems`, which validate/plan/deploy refuse and remove/info do not need.
    try:
        service = load(seed(tmp_path, with_machine_keys(extra)))
    except ConfigError as exc:
        err = exc
    else:
        assert service.problems, "expected a problem"
        err = service.problems[0]
    assert message in err.message
    assert err.exit_code == 2
    assert (err.file, err.line, err.column) == ("serverless.yml", *where)
