"""What stopped real serverless.yml projects in the field test (bench/field_test.py) on the AWS
target, each reproduced on a small service of our own, against the moto server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from tooling.cli import main

from .conftest import MOTO_ACCOUNT, REGION

# moto's CloudFormation skips (with a Python warning) types it has no model for: the wait
# condition handle that holds Outputs alone, and a bucket policy.
pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse:UserWarning")

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


PER_FUNCTION = """\
service: perfn
plugins:
  - serverless-iam-roles-per-function
custom:
  serverless-iam-roles-per-function:
    defaultInherit: false
provider:
  name: aws
  runtime: python3.12
  iam:
    role:
      statements:
        - {Effect: Allow, Action: [sqs:SendMessage], Resource: "*"}
functions:
  reader:
    handler: handler.hello
    iamRoleStatements:
      - Effect: Allow
        Action: [dynamodb:GetItem]
        Resource: !Sub arn:aws:dynamodb:${AWS::Region}:${AWS::AccountId}:table/orders
  inheriting:
    handler: handler.hello
    iamRoleStatementsInherit: true
    iamRoleStatements:
      - {Effect: Allow, Action: [s3:GetObject], Resource: "arn:aws:s3:::bucket/*"}
  plain:
    handler: handler.hello
"""


def role_policy(iam: Any, role: str) -> dict[str, Any]:
    names = iam.list_role_policies(RoleName=role)["PolicyNames"]
    assert len(names) == 1, names
    document = iam.get_role_policy(RoleName=role, PolicyName=names[0])["PolicyDocument"]
    return document if isinstance(document, dict) else json.loads(document)


def actions(policy: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for statement in policy["Statement"]:
        listed = statement["Action"]
        found.update([listed] if isinstance(listed, str) else listed)
    return found


def test_per_function_roles_as_serverless_iam_roles_per_function_makes_them(
    aws_env: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A function with `iamRoleStatements` (the plugin named in `plugins:`) gets a role of its
    own, `<service>-<stage>-<key>-<region>-lambdaRole`: its log group, the provider's
    statements only when inherited, then its own; the others share the service's role. It used
    to get the service's role, without its statements (AccessDenied at run time)."""
    folder_with(tmp_path, monkeypatch, PER_FUNCTION)
    code, _, err = run(capsys, "deploy")
    assert code == 0, err
    iam = boto3.client("iam", region_name=REGION)
    lam = boto3.client("lambda", region_name=REGION)

    def role_of(function: str) -> str:
        arn = lam.get_function_configuration(FunctionName=f"perfn-dev-{function}")["Role"]
        return str(arn.rsplit("/", 1)[1])

    assert role_of("reader") == "perfn-dev-reader-us-east-1-lambdaRole"
    reader = role_policy(iam, "perfn-dev-reader-us-east-1-lambdaRole")
    assert actions(reader) == {"logs:CreateLogStream", "logs:PutLogEvents", "dynamodb:GetItem"}
    table = f"arn:aws:dynamodb:{REGION}:{MOTO_ACCOUNT}:table/orders"
    assert any(s["Resource"] == table for s in reader["Statement"])
    inheriting = role_policy(iam, role_of("inheriting"))
    assert actions(inheriting) == {
        "logs:CreateLogStream", "logs:PutLogEvents", "sqs:SendMessage", "s3:GetObject"
    }  # fmt: skip
    assert role_of("plain") == "perfn-dev-us-east-1-lambdaRole"
    shared = role_policy(iam, "perfn-dev-us-east-1-lambdaRole")
    assert actions(shared) == {"logs:CreateLogStream", "logs:PutLogEvents", "sqs:SendMessage"}
    assert "perfn-dev-reader" not in json.dumps(shared)  # only the shared functions' log groups

    code, _, err = run(capsys, "remove")
    assert code == 0, err
    names = {r["RoleName"] for r in iam.list_roles()["Roles"]}
    assert not {n for n in names if n.startswith("perfn-")}


def test_per_function_statements_without_the_plugin_are_ignored_as_serverless_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    yml = PER_FUNCTION.replace("plugins:\n  - serverless-iam-roles-per-function\n", "")
    folder_with(tmp_path, monkeypatch, yml)
    code = main(["plan", "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    roles = {c["name"] for c in json.loads(captured.out)["changes"] if c["kind"] == "role"}
    assert roles == {"perfn-dev-us-east-1-lambdaRole"}
    assert "Serverless ignores it unless `plugins:` names that plugin" in captured.err

    key = "k" * 45  # perfn-dev-<key>-us-east-1 is 65 characters: the plugin refuses it
    with_plugin = PER_FUNCTION.replace("  reader:", f"  {key}:")
    (tmp_path / "svc" / "serverless.yml").write_text(with_plugin)
    code = main(["plan"])
    captured = capsys.readouterr()
    assert code == 2
    assert f"function '{key}': role name 'perfn-dev-{key}-us-east-1' is not" in captured.err
    assert "iamRoleStatementsName" in captured.err


def test_the_stack_of_resources_imports_and_exports_values(
    aws_env: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`Fn::ImportValue` inside resources: is CloudFormation's (the stack is made by a change
    set: moto's needed tooling/localaws/moto_fixes.py to import and export there, as AWS does);
    what the stack exports, another service imports."""
    outputs = {"Pool": {"Value": "shared-topic", "Export": {"Name": "shared-TopicName"}}}
    template = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}, "Outputs": outputs}
    boto3.client("cloudformation", region_name=REGION).create_stack(
        StackName="shared", TemplateBody=json.dumps(template)
    )
    yml = (
        "service: outs\nprovider:\n  name: aws\n"
        + MACHINE
        + "resources:\n  Resources:\n    Mine:\n      Type: AWS::SNS::Topic\n"
        "      Properties:\n        TopicName: !ImportValue shared-TopicName\n"
        "  Outputs:\n    MineArn:\n      Value: !Ref Mine\n      Export: {Name: outs-dev-MineArn}\n"
    )
    folder_with(tmp_path, monkeypatch, yml)
    code, _, err = run(capsys, "deploy")
    assert code == 0, err
    exports = boto3.client("cloudformation", region_name=REGION).list_exports()["Exports"]
    mine = {e["Name"]: e["Value"] for e in exports}["outs-dev-MineArn"]
    assert mine == f"arn:aws:sns:{REGION}:{MOTO_ACCOUNT}:shared-topic"


def test_an_export_the_endpoint_lists_without_a_value_is_not_a_crash(
    aws_env: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """moto lists an export of a resource it does not model (an SES template) with no
    Value; AWS always gives one. Reading the other exports goes on (it was `internal error:
    KeyError: 'Value'`), and an import of that export is refused as a missing one."""
    outputs = {
        "Pool": {"Value": {"Ref": "Pool"}, "Export": {"Name": "shared-dev-UserPoolId"}},
        "Table": {"Value": "shared-table", "Export": {"Name": f"shared-{REGION}-TableName"}},
    }
    template = {
        "Resources": {"Pool": {"Type": "AWS::SES::Template"}},
        "Outputs": outputs,
    }
    cfn = boto3.client("cloudformation", region_name=REGION)
    cfn.create_stack(StackName="shared", TemplateBody=json.dumps(template))
    listed = {e["Name"]: e.get("Value") for e in cfn.list_exports()["Exports"]}
    assert listed == {"shared-dev-UserPoolId": None, f"shared-{REGION}-TableName": "shared-table"}
    folder_with(tmp_path, monkeypatch, IMPORTING)
    code, _, err = run(capsys, "plan")
    assert code == 2, err
    assert "Fn::ImportValue 'shared-dev-UserPoolId'" in err
    assert "no stack exports shared-dev-UserPoolId" in err
    assert "internal error" not in err


USER_ROLES = """\
service: roles
provider:
  name: aws
  runtime: python3.12
  region: us-east-1
  iam:
    role: SharedRole
functions:
  shared:
    handler: handler.hello
  own:
    handler: handler.hello
    role: OwnRole
resources:
  Resources:
    SharedRole:
      Type: AWS::IAM::Role
      Properties:
        AssumeRolePolicyDocument: &trust
          Version: '2012-10-17'
          Statement:
            - {Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}
    OwnRole:
      Type: AWS::IAM::Role
      Properties:
        AssumeRolePolicyDocument: *trust
"""


def test_roles_named_by_logical_id_are_the_stacks_roles_and_none_is_generated(
    aws_env: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """provider.iam.role and a function's role written as logical ids of `resources:` roles
    (Serverless: `Fn::GetAtt [id, Arn]`): the functions run with those roles, deployed after
    the stack, and the toolkit generates no function role."""
    folder_with(tmp_path, monkeypatch, USER_ROLES)
    code, _, err = run(capsys, "deploy")
    assert code == 0, err
    session = boto3.Session(region_name=REGION)
    stack_roles = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in session.client("cloudformation").describe_stack_resources(StackName="roles-dev")[
            "StackResources"
        ]
    }
    lambda_: Any = session.client("lambda")
    roles = {
        name: lambda_.get_function(FunctionName=f"roles-dev-{name}")["Configuration"]["Role"]
        for name in ("shared", "own")
    }
    assert roles["shared"].endswith(f":role/{stack_roles['SharedRole']}")
    assert roles["own"].endswith(f":role/{stack_roles['OwnRole']}")
    names = [r["RoleName"] for r in session.client("iam").list_roles()["Roles"]]
    assert "roles-dev-us-east-1-lambdaRole" not in names
    code, _, err = run(capsys, "remove")
    assert code == 0, err


COGNITO = """\
service: auth
provider:
  name: aws
  runtime: python3.12
  region: us-east-1
functions:
  hello:
    handler: handler.hello
    events:
      - cognitoUserPool: {pool: Users, trigger: PreSignUp}
  reader:
    handler: handler.hello
    environment:
      POOL_ID: !Ref CognitoUserPoolUsers
resources:
  Resources:
    CognitoUserPoolUsers:
      Type: AWS::Cognito::UserPool
      Properties:
        UsernameAttributes: [email]
"""


def test_cognito_user_pool_triggers_deploy_as_serverless_deploys_them(
    aws_env: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A cognitoUserPool event: the pool (here the one `resources:` declares with Serverless'
    logical id, merged) calls the function on PreSignUp, and the function lets Cognito invoke
    it from that pool; a redeploy changes nothing, and remove deletes both."""
    folder_with(tmp_path, monkeypatch, COGNITO)
    code, _, err = run(capsys, "deploy")
    assert code == 0, err
    session = boto3.Session(region_name=REGION)
    cognito: Any = session.client("cognito-idp")
    (summary,) = cognito.list_user_pools(MaxResults=10)["UserPools"]
    pool = cognito.describe_user_pool(UserPoolId=summary["Id"])["UserPool"]
    function_arn = f"arn:aws:lambda:{REGION}:{MOTO_ACCOUNT}:function:auth-dev-hello"
    assert pool["LambdaConfig"] == {"PreSignUp": function_arn}
    assert pool["UsernameAttributes"] == ["email"]
    lambda_: Any = session.client("lambda")
    policy = json.loads(lambda_.get_policy(FunctionName="auth-dev-hello")["Policy"])
    (statement,) = policy["Statement"]
    assert statement["Principal"] == {"Service": "cognito-idp.amazonaws.com"}
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == pool["Arn"]
    environment = lambda_.get_function(FunctionName="auth-dev-reader")["Configuration"]
    assert environment["Environment"]["Variables"]["POOL_ID"] == pool["Id"]

    code, out, err = run(capsys, "deploy")
    assert code == 0 and "create" not in err and "update" not in err, err
    code, _, err = run(capsys, "remove")
    assert code == 0, err
    assert cognito.list_user_pools(MaxResults=10)["UserPools"] == []
