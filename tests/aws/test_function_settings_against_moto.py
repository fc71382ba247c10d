"""A function's description, architecture, tracing, layers, VPC, /tmp size and tags, and a state
machine's tags and tracing, deploy as Serverless and the plugin deploy them, against a moto
server: the settings, the roles' X-Ray statements and VPC policy, no mutating call on a no-op
redeploy, and tags changed by tagging alone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from tooling.aws.client import is_mutating, recording_calls
from tooling.cli import main

from .conftest import MOTO_ACCOUNT, REGION

SERVICE = """\
service: settings
provider:
  name: aws
  runtime: python3.12
  region: us-east-1
  architecture: arm64
  tracing:
    lambda: true
  tags:
    team: data
  vpc:
    securityGroupIds: [SG]
    subnetIds: [SUBNET]
functions:
  work:
    handler: handler.work
    description: does the work
    ephemeralStorageSize: 2048
    layers:
      - LAYER
    tags:
      cost: low
  plain:
    handler: handler.work
    architecture: x86_64
    tracing: PassThrough
    vpc: false
stepFunctions:
  stateMachines:
    flow:
      tracingConfig: {enabled: true}
      tags: {flow: main}
      definition:
        StartAt: W
        States:
          W: {Type: Task, Resource: {Fn::GetAtt: [work, Arn]}, End: true}
"""


def run(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code = main(list(args))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


@pytest.fixture
def service(aws_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # AWS's managed policies (AWSLambdaVPCAccessExecutionRole): moto loads them when asked, into
    # the IAM backend it makes at the next call after aws_env's reset.
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    session = boto3.Session(region_name=REGION)
    ec2: Any = session.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="fn", Description="fn", VpcId=vpc)["GroupId"]
    lambda_: Any = session.client("lambda")
    layer = lambda_.publish_layer_version(
        LayerName="deps", Content={"ZipFile": b"PK\x05\x06" + b"\0" * 18}
    )
    text = (
        SERVICE.replace("SG", group).replace("SUBNET", subnet)
        .replace("LAYER", layer["LayerVersionArn"])
    )  # fmt: skip
    (tmp_path / "serverless.yml").write_text(text)
    (tmp_path / "handler.py").write_text("def work(event, context):\n    return event\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_settings_deploy_and_a_no_op_redeploy_changes_nothing(
    service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "deploy", "--target", "aws")
    session = boto3.Session(region_name=REGION)
    lambda_: Any = session.client("lambda")
    work = lambda_.get_function(FunctionName="settings-dev-work")
    config = work["Configuration"]
    assert config["Description"] == "does the work"
    assert config["Architectures"] == ["arm64"]
    assert config["TracingConfig"] == {"Mode": "Active"}
    assert [layer["Arn"] for layer in config["Layers"]] == [
        f"arn:aws:lambda:{REGION}:{MOTO_ACCOUNT}:layer:deps:1"
    ]
    assert len(config["VpcConfig"]["SubnetIds"]) == 1
    assert config["EphemeralStorage"] == {"Size": 2048}
    assert {k: v for k, v in work["Tags"].items() if not k.startswith("tool:")} == {
        "team": "data",
        "cost": "low",
    }
    plain = lambda_.get_function(FunctionName="settings-dev-plain")["Configuration"]
    assert plain["Architectures"] == ["x86_64"]
    assert plain["TracingConfig"] == {"Mode": "PassThrough"}
    assert not (plain.get("VpcConfig") or {}).get("SubnetIds")

    iam: Any = session.client("iam")
    role = "settings-dev-us-east-1-lambdaRole"
    attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [
        "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
    ]
    names = iam.list_role_policies(RoleName=role)["PolicyNames"]
    document = iam.get_role_policy(RoleName=role, PolicyName=names[0])["PolicyDocument"]
    actions = [s["Action"] for s in document["Statement"]]
    assert ["xray:PutTraceSegments", "xray:PutTelemetryRecords"] in actions

    sfn: Any = session.client("stepfunctions")
    machine = f"arn:aws:states:{REGION}:{MOTO_ACCOUNT}:stateMachine:settings-dev-flow"
    described = sfn.describe_state_machine(stateMachineArn=machine)
    assert described["tracingConfiguration"] == {"enabled": True}
    tags = sfn.list_tags_for_resource(resourceArn=machine)["tags"]
    assert {t["key"]: t["value"] for t in tags if not t["key"].startswith("tool:")} == {
        "team": "data",
        "flow": "main",
    }
    machine_role = "settings-dev-us-east-1-flow-sfnRole"
    names = iam.list_role_policies(RoleName=machine_role)["PolicyNames"]
    document = iam.get_role_policy(RoleName=machine_role, PolicyName=names[0])["PolicyDocument"]
    assert any("xray:GetSamplingRules" in s["Action"] for s in document["Statement"])

    with recording_calls() as calls:
        out = run(capsys, "deploy", "--target", "aws")
    assert out.splitlines()[-1] == "No changes."
    assert [c for c in calls if is_mutating(c.operation)] == []


def test_a_tag_edit_is_a_tagging_call_only(
    service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "deploy", "--target", "aws")
    yml = service / "serverless.yml"
    yml.write_text(yml.read_text().replace("      cost: low\n", "      owner: ana\n"))
    plan = json.loads(run(capsys, "plan", "--target", "aws", "--json"))
    changed = [c for c in plan["changes"] if c["action"] != "unchanged"]
    assert [(c["name"], c["attributes"]) for c in changed] == [("settings-dev-work", ["Tags"])]
    with recording_calls() as calls:
        run(capsys, "deploy", "--target", "aws")
    assert [c.operation for c in calls if is_mutating(c.operation)] == [
        "UntagResource",
        "TagResource",
    ]
    tags = (
        boto3.Session(region_name=REGION)
        .client("lambda")
        .list_tags(Resource=f"arn:aws:lambda:{REGION}:{MOTO_ACCOUNT}:function:settings-dev-work")[
            "Tags"
        ]
    )
    assert {k: v for k, v in tags.items() if not k.startswith("tool:")} == {
        "team": "data",
        "owner": "ana",
    }


def test_a_latest_layer_deploys_as_its_highest_version(
    aws_env: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """serverless-latest-layer-version's `:latest`, looked up with ListLayerVersions by ARN."""
    lambda_: Any = boto3.Session(region_name=REGION).client("lambda")
    for _ in range(2):
        lambda_.publish_layer_version(
            LayerName="deps", Content={"ZipFile": b"PK\x05\x06" + b"\0" * 18}
        )
    (tmp_path / "serverless.yml").write_text(
        "service: latest\nplugins:\n  - serverless-latest-layer-version\n"
        f"provider:\n  name: aws\n  runtime: python3.12\n  region: {REGION}\n"
        "functions:\n  work:\n    handler: handler.work\n    layers:\n"
        "      - arn:aws:lambda:${self:provider.region}:#{AWS::AccountId}:layer:deps:latest\n"
    )
    (tmp_path / "handler.py").write_text("def work(event, context):\n    return event\n")
    monkeypatch.chdir(tmp_path)
    run(capsys, "deploy", "--target", "aws")
    config = lambda_.get_function(FunctionName="latest-dev-work")["Configuration"]
    assert [layer["Arn"] for layer in config["Layers"]] == [
        f"arn:aws:lambda:{REGION}:{MOTO_ACCOUNT}:layer:deps:2"
    ]


def test_a_kms_key_deploys_and_a_no_op_redeploy_changes_nothing(
    aws_env: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    kms: Any = boto3.Session(region_name=REGION).client("kms")
    key = kms.create_key()["KeyMetadata"]["Arn"]
    (tmp_path / "serverless.yml").write_text(
        f"service: sealed\nprovider:\n  name: aws\n  runtime: python3.12\n  region: {REGION}\n"
        f"  kmsKeyArn: {key}\nfunctions:\n  work:\n    handler: handler.work\n"
    )
    (tmp_path / "handler.py").write_text("def work(event, context):\n    return event\n")
    monkeypatch.chdir(tmp_path)
    run(capsys, "deploy", "--target", "aws")
    lambda_: Any = boto3.Session(region_name=REGION).client("lambda")
    assert lambda_.get_function(FunctionName="sealed-dev-work")["Configuration"]["KMSKeyArn"] == key
    with recording_calls() as calls:
        out = run(capsys, "deploy", "--target", "aws")
    assert out.splitlines()[-1] == "No changes."
    assert [c for c in calls if is_mutating(c.operation)] == []
    yml = tmp_path / "serverless.yml"
    yml.write_text(yml.read_text().replace(f"  kmsKeyArn: {key}\n", ""))
    run(capsys, "deploy", "--target", "aws")
    config = lambda_.get_function(FunctionName="sealed-dev-work")["Configuration"]
    assert not config.get("KMSKeyArn")
