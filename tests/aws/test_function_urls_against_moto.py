"""Functions' `url` deployed with `--target aws` against a moto server: the URL configuration
(AuthType, Cors, InvokeMode), the public permission of a URL without auth
(`lambda:InvokeFunctionUrl` for `*`, FunctionUrlAuthType NONE), and a function whose
environment and a state machine whose definition read `Fn::GetAtt <Fn>LambdaFunctionUrl
.FunctionUrl`: the URL is made first and what reads it gets Lambda's URL (the pattern of the
field project bboure-sqs-ts, issue 15); a no-op redeploy; a change; remove."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from .cli_runs import mutating
from .cli_runs import recorded as run
from .conftest import REGION

HANDLER = "def hello(event, context):\n    return {'ok': True}\n"
SERVICE = """\
service: pay
provider:
  name: aws
  runtime: python3.12
functions:
  gateway:
    handler: handler.hello
    url: true
  admin:
    handler: handler.hello
    url:
      authorizer: aws_iam
      cors:
        allowedOrigins: [https://app.example.com]
        maxAge: 60
  caller:
    handler: handler.hello
    environment:
      ENDPOINT: !GetAtt GatewayLambdaFunctionUrl.FunctionUrl
stepFunctions:
  stateMachines:
    main:
      definition:
        StartAt: Call
        States:
          Call:
            Type: Task
            Resource: {Fn::GetAtt: [caller, Arn]}
            Parameters:
              url: {Fn::GetAtt: [GatewayLambdaFunctionUrl, FunctionUrl]}
            End: true
"""


@pytest.fixture
def pay(aws_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "pay"
    folder.mkdir()
    (folder / "handler.py").write_text(HANDLER)
    (folder / "serverless.yml").write_text(SERVICE)
    monkeypatch.chdir(folder)
    return folder


def test_urls_are_made_before_what_reads_them(
    pay: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err, calls = run(capsys, "deploy", "--target", "aws", "--dry-run")
    assert code == 0, err
    assert mutating(calls) == []
    assert "uses values known after the function URL is created: GatewayLambdaFunctionUrl" in out

    code, out, err, calls = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    operations = mutating(calls)
    assert (
        operations.index("CreateFunctionUrlConfig")
        < [i for i, op in enumerate(operations) if op == "CreateFunction"][-1]
    )  # the gateway and its URL, then the caller
    lambda_ = boto3.client("lambda", region_name=REGION)
    gateway = lambda_.get_function_url_config(FunctionName="pay-dev-gateway")
    assert gateway["AuthType"] == "NONE"
    url = gateway["FunctionUrl"]
    assert url.startswith("https://")
    env = lambda_.get_function_configuration(FunctionName="pay-dev-caller")["Environment"]
    assert env["Variables"]["ENDPOINT"] == url
    sfn = boto3.client("stepfunctions", region_name=REGION)
    (machine,) = sfn.list_state_machines()["stateMachines"]
    definition = json.loads(
        sfn.describe_state_machine(stateMachineArn=machine["stateMachineArn"])["definition"]
    )
    assert definition["States"]["Call"]["Parameters"]["url"] == url
    (statement,) = json.loads(lambda_.get_policy(FunctionName="pay-dev-gateway")["Policy"])[
        "Statement"
    ]
    assert statement["Action"] == "lambda:InvokeFunctionUrl"
    assert statement["Condition"] == {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}
    admin = lambda_.get_function_url_config(FunctionName="pay-dev-admin")
    assert admin["AuthType"] == "AWS_IAM"
    assert admin["Cors"]["AllowOrigins"] == ["https://app.example.com"]
    assert admin["Cors"]["MaxAge"] == 60
    with pytest.raises(lambda_.exceptions.ResourceNotFoundException):
        lambda_.get_policy(FunctionName="pay-dev-admin")

    code, out, err, _ = run(capsys, "info", "--target", "aws")
    assert code == 0, err
    assert url in out

    code, out, err, calls = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    assert out.splitlines()[-1] == "No changes."
    assert mutating(calls) == []

    (pay / "serverless.yml").write_text(SERVICE.replace("      authorizer: aws_iam\n", ""))
    code, out, err, _ = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    assert lambda_.get_function_url_config(FunctionName="pay-dev-admin")["AuthType"] == "NONE"
    assert lambda_.get_function_url_config(FunctionName="pay-dev-gateway")["FunctionUrl"] == url

    code, out, err, _ = run(capsys, "remove", "--target", "aws")
    assert code == 0, err
    assert lambda_.list_functions()["Functions"] == []


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("url: {authorizer: cognito}",
         "serverless.yml:8:23: CONFIG_INVALID: function 'gateway': url authorizer "
         "'cognito' is not `aws_iam`"),
        ("url: {invokeMode: fast}",
         "serverless.yml:8:23: CONFIG_INVALID: function 'gateway': url invokeMode "
         "'fast' is not BUFFERED or RESPONSE_STREAM"),
        ("url: {cors: {origins: [x]}}",
         "serverless.yml:8:27: CONFIG_INVALID: function 'gateway': url cors key "
         "`origins` is unknown"),
    ],
)  # fmt: skip
def test_bad_urls_are_one_line_at_their_place(
    pay: Path, capsys: pytest.CaptureFixture[str], url: str, expected: str
) -> None:
    (pay / "serverless.yml").write_text(SERVICE.replace("url: true", url))
    code, out, err, calls = run(capsys, "deploy", "--target", "aws")
    assert code == 2
    assert expected in err
    assert mutating(calls) == []


def test_resources_naming_a_function_url(pay: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A `resources:` template naming `<Fn>LambdaFunctionUrl`: the URL is made before the
    stack, which gets Lambda's URL."""
    (pay / "serverless.yml").write_text(
        SERVICE + "resources:\n  Resources:\n    Endpoint:\n      Type: AWS::SSM::Parameter\n"
        "      Properties:\n        Name: /pay/endpoint\n        Type: String\n"
        "        Value: {Fn::GetAtt: [GatewayLambdaFunctionUrl, FunctionUrl]}\n"
    )
    code, out, err, _ = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    url = boto3.client("lambda", region_name=REGION).get_function_url_config(
        FunctionName="pay-dev-gateway"
    )["FunctionUrl"]
    ssm = boto3.client("ssm", region_name=REGION)
    assert ssm.get_parameter(Name="/pay/endpoint")["Parameter"]["Value"] == url

    code, out, err, calls = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    assert mutating(calls) == []
    code, out, err, _ = run(capsys, "remove", "--target", "aws")
    assert code == 0, err


def test_a_deploy_stopped_after_the_url_was_made_is_finished_by_the_next(
    pay: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The deploy stops (as if killed) once the URL exists and before its reader is made: the
    next deploy reads the URL Lambda gave and makes the reader with it."""
    from tooling.aws.errors import AwsOperationFailed
    from tooling.deploy.aws_providers import AwsFunctions

    original = AwsFunctions.create

    def stop_at_the_caller(self: AwsFunctions, resource: Any) -> None:
        if resource.name == "pay-dev-caller":
            raise AwsOperationFailed("stopped here", code="Killed")
        original(self, resource)

    monkeypatch.setattr(AwsFunctions, "create", stop_at_the_caller)
    code, out, err, _ = run(capsys, "deploy", "--target", "aws")
    assert code == 1, err
    lambda_ = boto3.client("lambda", region_name=REGION)
    url = lambda_.get_function_url_config(FunctionName="pay-dev-gateway")["FunctionUrl"]
    monkeypatch.setattr(AwsFunctions, "create", original)
    code, out, err, _ = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    env = lambda_.get_function_configuration(FunctionName="pay-dev-caller")["Environment"]
    assert env["Variables"]["ENDPOINT"] == url
    assert lambda_.get_function_url_config(FunctionName="pay-dev-gateway")["FunctionUrl"] == url
