"""`resources:` on the local target: the same stack, created through CloudFormation in the
folder's local AWS services, its values in the definitions, IAM statements and environment
(issue 14); types the local services cannot create are named, never dropped silently."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tooling.cli import main
from tooling.localaws.manager import LocalAwsServices

from .helpers import ACCOUNT, REGION, client, endpoint

pytestmark = pytest.mark.slow  # end-to-end: `make test` runs it, `make test-fast` does not

TABLE = "shop-dev-orders"
TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{TABLE}"
SERVERLESS = """\
service: shop
provider:
  name: aws
  runtime: python3.12
  environment:
    TABLE: !Ref Orders
  iam:
    role:
      statements:
        - Effect: Allow
          Action: dynamodb:GetItem
          Resource: !GetAtt Orders.Arn
functions:
  reader:
    handler: handler.read
stepFunctions:
  stateMachines:
    main:
      definition:
        StartAt: Save
        States:
          Save:
            Type: Task
            Resource: arn:aws:states:::dynamodb:putItem
            Parameters:
              TableName: !Ref Orders
              Item: {id: {S.$: $.id}}
            ResultPath: null
            Next: Read
          Read:
            Type: Task
            Resource: !GetAtt reader.Arn
            End: true
resources:
  - Resources:
      Orders:
        Type: AWS::DynamoDB::Table
        Properties:
          TableName: ${self:service}-${sls:stage}-orders
          BillingMode: PAY_PER_REQUEST
          AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
          KeySchema: [{AttributeName: id, KeyType: HASH}]
  - Resources:
      Alarm:
        Type: AWS::CloudWatch::Alarm
        Properties:
          Namespace: AWS/States
          MetricName: ExecutionsFailed
          Dimensions: [{Name: StateMachineArn, Value: !Ref MainStepFunctionsStateMachine}]
"""
HANDLER = """import os

import boto3


def read(event, context):
    table = os.environ["TABLE"]
    answer = boto3.client("dynamodb").get_item(TableName=table, Key={"id": {"S": event["id"]}})
    return {"table": table, "item": answer.get("Item")}
"""


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalAwsServices]:
    folder = tmp_path / "shop"
    folder.mkdir()
    (folder / "serverless.yml").write_text(SERVERLESS)
    (folder / "handler.py").write_text(HANDLER)
    (folder / "in.json").write_text('{"id": "o-1"}')
    monkeypatch.chdir(folder)
    services = LocalAwsServices(folder / ".tool")
    yield services
    services.stop()


def test_the_stack_is_created_in_the_local_services_and_read_back(
    shop: LocalAwsServices, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["deploy"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines()[0] == "create    stack shop-dev"
    # CloudWatch alarms are not among moto's CloudFormation types: said, by name
    assert (
        "warning: resources: left out on the local target: Alarm (AWS::CloudWatch::Alarm: the "
        "local AWS services (moto) cannot create it); the rest of resources: is deployed"
    ) in captured.err
    url = endpoint(shop)
    assert client(url, "dynamodb").describe_table(TableName=TABLE)["Table"]["TableArn"] == (
        TABLE_ARN
    )
    stack = client(url, "cloudformation").describe_stacks(StackName="shop-dev")["Stacks"][0]
    assert {t["Key"]: t["Value"] for t in stack["Tags"]} == {
        "tool:service": "shop",
        "tool:stage": "dev",
    }
    # the definition, the environment and the IAM statement hold the table's values
    assert main(["invoke", "--input", "in.json"]) == 0, capsys.readouterr().err
    result = json.loads(capsys.readouterr().out)
    assert result == {"table": TABLE, "item": {"id": {"S": "o-1"}}}
    roles = json.loads((Path(".tool") / "local-resources.json").read_text())
    assert TABLE_ARN in json.dumps(roles)

    # stopped and started again (the services replay their journal), nothing to do
    shop.stop()
    assert main(["deploy"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines()[0] == "unchanged stack shop-dev", captured.err
    assert captured.out.splitlines()[-1] == "No changes."

    assert main(["remove"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[-1] == "delete    stack shop-dev (tool remove)"
    assert lines.index("delete    state machine shop-dev-main (tool remove)") < len(lines) - 1
    assert client(endpoint(shop), "dynamodb").list_tables()["TableNames"] == []


def test_a_value_the_local_services_cannot_make_is_an_error(
    shop: LocalAwsServices, capsys: pytest.CaptureFixture[str]
) -> None:
    text = SERVERLESS.replace(
        "    TABLE: !Ref Orders\n", "    TABLE: !Ref Orders\n    ALARM: !Ref Alarm\n"
    )
    Path("serverless.yml").write_text(text)
    assert main(["deploy"]) == 2
    err = capsys.readouterr().err.splitlines()[-1]
    assert err.startswith(
        "error: the service reads the value of Alarm (AWS::CloudWatch::Alarm) from resources: in "
        "serverless.yml, and the local AWS services cannot create it"
    )
    assert shop.running() is None  # refused before the services were needed


def test_the_local_type_list_is_the_installed_motos() -> None:
    from moto.cloudformation.parsing import get_model_map

    from tooling.deploy.local_stack import MOTO_TYPES
    from tooling.localaws.moto_fixes import ADDED_TYPES

    installed = {t for t in get_model_map() if t.startswith("AWS::")} - {"AWS::SERVICE::RESOURCE"}
    assert installed - ADDED_TYPES == MOTO_TYPES  # moto_fixes may have added its own by now


def test_what_names_a_type_left_out_is_left_out_too() -> None:
    from tooling.deploy.local_stack import local_template
    from tooling.deploy.models import Stack

    stack = Stack(
        name="s-dev",
        template={
            "Resources": {
                "Topic": {"Type": "AWS::SNS::Topic"},
                "Sub": {
                    "Type": "AWS::SNS::Subscription",
                    "Properties": {"TopicArn": {"Ref": "Topic"}},
                },
                "Policy": {
                    "Type": "AWS::IAM::Policy",
                    "Properties": {"PolicyDocument": {"Fn::Sub": "${Sub}"}},
                },
                "Allow": {"Type": "AWS::Lambda::Permission", "Properties": {}},
            },
            "Outputs": {
                "SubArn": {"Value": {"Ref": "Sub"}},
                "ToolRefTopic": {"Value": {"Ref": "Topic"}},
            },
        },
    )
    template, warnings = local_template(stack)
    assert list(template["Resources"]) == ["Topic"]
    assert list(template["Outputs"]) == ["ToolRefTopic"]
    assert warnings == [
        "resources: left out on the local target: Sub (AWS::SNS::Subscription: the local AWS "
        "services (moto) cannot create it), Allow (AWS::Lambda::Permission: only AWS uses it: "
        "the local runtime invokes the functions itself), Policy (AWS::IAM::Policy: it names "
        "Sub); the rest of resources: is deployed (outputs left out too: SubArn)"
    ]
    assert stack.template["Resources"]["Sub"]  # the model itself is left as it is


def test_a_policy_on_a_role_outside_the_template_is_left_out_locally() -> None:
    """The function role lives in the local runtime, not in the local AWS services: a policy
    the template attaches to it is left out, said; one on a role of the template stays."""
    from tooling.deploy.local_stack import local_template
    from tooling.deploy.models import Stack

    document = {"Version": "2012-10-17", "Statement": []}
    stack = Stack(
        name="s-dev",
        template={
            "Resources": {
                "Own": {"Type": "AWS::IAM::Role", "Properties": {}},
                "OnOwn": {
                    "Type": "AWS::IAM::Policy",
                    "Properties": {"Roles": [{"Ref": "Own"}], "PolicyDocument": document},
                },
                "OnService": {
                    "Type": "AWS::IAM::Policy",
                    "Properties": {
                        "Roles": ["s-dev-us-east-1-lambdaRole"],
                        "PolicyDocument": document,
                    },
                },
            },
        },
    )
    template, warnings = local_template(stack)
    assert list(template["Resources"]) == ["Own", "OnOwn"]
    assert warnings == [
        "resources: left out on the local target: OnService (AWS::IAM::Policy: it attaches to a "
        "role the local AWS services do not hold; the local runtime keeps the service's roles "
        "itself and enforces no IAM); the rest of resources: is deployed"
    ]
