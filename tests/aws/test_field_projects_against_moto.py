"""What stopped real serverless.yml projects in the field test (bench/field_test.py) on the AWS
target, each reproduced on a small service of our own, against the moto server."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from tooling.cli import main

from .conftest import MOTO_ACCOUNT, REGION

MACHINE_ARN = f"arn:aws:states:{REGION}:{MOTO_ACCOUNT}:stateMachine:outs-main"
MACHINE = """\
stepFunctions:
  stateMachines:
    main:
      name: outs-main
      definition:
        StartAt: P
        States:
          P: {Type: Pass, End: true}
"""


def folder_with(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, yml: str) -> Path:
    folder = tmp_path / "svc"
    folder.mkdir()
    (folder / "serverless.yml").write_text(yml)
    (folder / "handler.py").write_text("def hello(event, context):\n    return event\n")
    monkeypatch.chdir(folder)
    return folder


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main([*args, "--target", "aws"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def stack_outputs(name: str) -> dict[str, str]:
    stack = boto3.client("cloudformation", region_name=REGION).describe_stacks(StackName=name)
    return {o["OutputKey"]: o["OutputValue"] for o in stack["Stacks"][0].get("Outputs", [])}


def test_resources_with_outputs_alone_deploy_a_stack_other_services_read(
    aws_env: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`resources: {Outputs: ...}` alone: in Serverless they are outputs of the service's stack
    (another service reads them with ${cf:outs-dev.MachineArn}); the toolkit's stack holds them
    with a resource that creates nothing."""
    yml = (
        "service: outs\nprovider:\n  name: aws\n"
        + MACHINE
        + "resources:\n  Outputs:\n    MachineArn:\n      Value: {Ref: OutsDashmain}\n"
    )
    folder_with(tmp_path, monkeypatch, yml)
    code, _, err = run(capsys, "deploy")
    assert code == 0, err
    assert stack_outputs("outs-dev")["MachineArn"] == MACHINE_ARN
    code, _, err = run(capsys, "remove")
    assert code == 0, err
    stacks = boto3.client("cloudformation", region_name=REGION).list_stacks()["StackSummaries"]
    assert all(
        s["StackStatus"] == "DELETE_COMPLETE" for s in stacks if s["StackName"] == "outs-dev"
    )


ROLE_READING_THE_BUCKET = """\
resources:
  Resources:
    ExecRole:
      Type: AWS::IAM::Role
      Properties:
        AssumeRolePolicyDocument:
          Version: '2012-10-17'
          Statement:
            - {Effect: Allow, Principal: {Service: [lambda.amazonaws.com]}, Action: sts:AssumeRole}
        Policies:
          - PolicyName: artifacts
            PolicyDocument:
              Version: '2012-10-17'
              Statement:
                - Effect: Allow
                  Action: [s3:GetObject]
                  Resource:
                    Fn::Join: ['', ['arn:aws:s3:::', {Ref: ServerlessDeploymentBucket}, '/*']]
"""


def test_a_template_naming_the_deployment_bucket_gets_it_as_in_serverless(
    aws_env: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Serverless' stack holds ServerlessDeploymentBucket (and its TLS-only policy) unless
    provider.deploymentBucket names a bucket; a role in resources: granting access to it is
    common."""
    folder = folder_with(tmp_path, monkeypatch, "service: outs\nprovider:\n  name: aws\n" + MACHINE)
    (folder / "serverless.yml").write_text(
        "service: outs\nprovider:\n  name: aws\n" + MACHINE + ROLE_READING_THE_BUCKET
    )
    code, _, err = run(capsys, "deploy")
    assert code == 0, err
    cfn = boto3.client("cloudformation", region_name=REGION)
    body = cfn.get_template(StackName="outs-dev")["TemplateBody"]
    template = body if isinstance(body, dict) else json.loads(body)
    bucket = template["Resources"]["ServerlessDeploymentBucket"]
    policy = template["Resources"]["ServerlessDeploymentBucketPolicy"]
    assert bucket["Type"] == "AWS::S3::Bucket"
    assert policy["Properties"]["Bucket"] == {"Ref": "ServerlessDeploymentBucket"}
    statement = policy["Properties"]["PolicyDocument"]["Statement"][0]
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": False}}
    made = cfn.describe_stack_resources(StackName="outs-dev")["StackResources"]
    assert "ServerlessDeploymentBucket" in {r.get("LogicalResourceId") for r in made}

    (folder / "serverless.yml").write_text(
        "service: outs\nprovider:\n  name: aws\n  deploymentBucket:\n    name: my-artifacts\n"
        + MACHINE
        + ROLE_READING_THE_BUCKET
    )
    code, out, err = run(capsys, "plan")
    assert code == 2 and out == ""
    assert "names 'ServerlessDeploymentBucket'" in err
    assert "provider.deploymentBucket" in err


IMPORTING = """\
service: imports
provider:
  name: aws
  runtime: python3.12
  environment:
    POOL: !ImportValue shared-dev-UserPoolId
functions:
  hello:
    handler: handler.hello
stepFunctions:
  stateMachines:
    main:
      definition:
        StartAt: P
        States:
          P:
            Type: Pass
            Result:
              table:
                Fn::ImportValue: !Sub "shared-${AWS::Region}-TableName"
            End: true
"""


def test_fn_import_value_reads_what_another_stack_exports(
    aws_env: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`Fn::ImportValue` (environment, definitions): the value another stack exports, as
    CloudFormation gives it; an export no stack makes is refused at its line, before anything
    changes."""
    folder_with(tmp_path, monkeypatch, IMPORTING)
    code, out, err = run(capsys, "plan")
    assert code == 2 and out == ""
    assert "serverless.yml:20:34: Fn::ImportValue 'shared-us-east-1-TableName'" in err
    assert "no stack exports shared-us-east-1-TableName in us-east-1, AWS account" in err

    def export(stack: str, name: str, value: str) -> None:
        outputs = {"Out": {"Value": value, "Export": {"Name": name}}}
        template = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}, "Outputs": outputs}
        cfn = boto3.client("cloudformation", region_name=REGION)
        cfn.create_stack(StackName=stack, TemplateBody=json.dumps(template))

    export("tables", f"shared-{REGION}-TableName", "shared-table")
    code, out, err = run(capsys, "plan")
    assert code == 2
    assert "error: serverless.yml:6:11: " in err
    assert "environment variable POOL: Fn::ImportValue 'shared-dev-UserPoolId'" in err

    export("pools", "shared-dev-UserPoolId", "us-east-1_pool")
    code, _, err = run(capsys, "deploy")
    assert code == 0, err
    lam = boto3.client("lambda", region_name=REGION)
    environment = lam.get_function_configuration(FunctionName="imports-dev-hello")["Environment"]
    assert environment["Variables"]["POOL"] == "us-east-1_pool"
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = f"arn:aws:states:{REGION}:{MOTO_ACCOUNT}:stateMachine:imports-dev-main"
    definition = json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"])
    assert definition["States"]["P"]["Result"] == {"table": "shared-table"}


ACTIVITIES = """\
service: acts
provider:
  name: aws
stepFunctions:
  activities:
    - approval
  stateMachines:
    main:
      definition:
        StartAt: Ask
        States:
          Ask:
            Type: Task
            Resource: {Ref: ApprovalStepFunctionsActivity}
            End: true
"""


def test_activities_are_deployed_as_the_plugin_deploys_them(
    aws_env: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`stepFunctions.activities`: an AWS::StepFunctions::Activity per name in the service's
    stack (`<Name>StepFunctionsActivity`, its ARN output), which definitions name with Ref."""
    folder_with(tmp_path, monkeypatch, ACTIVITIES)
    code, _, err = run(capsys, "deploy")
    assert code == 0, err
    cfn = boto3.client("cloudformation", region_name=REGION)
    body = cfn.get_template(StackName="acts-dev")["TemplateBody"]
    template = body if isinstance(body, dict) else json.loads(body)
    assert template["Resources"]["ApprovalStepFunctionsActivity"] == {
        "Type": "AWS::StepFunctions::Activity",
        "Properties": {"Name": "approval"},
    }
    assert template["Outputs"]["ApprovalStepFunctionsActivityArn"]["Value"] == {
        "Ref": "ApprovalStepFunctionsActivity"
    }
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = f"arn:aws:states:{REGION}:{MOTO_ACCOUNT}:stateMachine:acts-dev-main"
    definition = json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"])
    activity = f"arn:aws:states:{REGION}:{MOTO_ACCOUNT}:activity:approval"
    assert definition["States"]["Ask"]["Resource"] == activity
    assert [a["activityArn"] for a in sfn.list_activities()["activities"]] == [activity]

    code, _, err = run(capsys, "remove")
    assert code == 0, err
    assert sfn.list_activities()["activities"] == []
