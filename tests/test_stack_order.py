"""When the service reads values from its `resources:` stack, the stack is deployed first
(tooling/deploy/desired.py); what in it needs a service resource to exist already is said."""

from __future__ import annotations

from pathlib import Path

from tooling.config.resources import StackValues
from tooling.config.service import load_service
from tooling.deploy.desired import before_the_stack, desired_resources
from tooling.deploy.models import Address, Role, Stack
from tooling.deploy.providers import Platform

CONFIG = """service: shop
provider:
  name: aws
  runtime: python3.12
  environment:
    TABLE: { Ref: Orders }
functions:
  work:
    handler: handler.main
resources:
  Resources:
    Orders:
      Type: AWS::DynamoDB::Table
      Properties:
        BillingMode: PAY_PER_REQUEST
        KeySchema: [{ AttributeName: id, KeyType: HASH }]
        AttributeDefinitions: [{ AttributeName: id, AttributeType: S }]
    SendPolicy:
      Type: AWS::IAM::Policy
      Properties:
        PolicyName: send
        Roles: [{ Ref: IamRoleLambdaExecution }]
        PolicyDocument:
          Version: "2012-10-17"
          Statement: [{ Effect: Allow, Action: sns:Publish, Resource: "*" }]
"""


PERMISSION = """\
    Invoke:
      Type: AWS::Lambda::Permission
      Properties:
        Action: lambda:InvokeFunction
        FunctionName: { Ref: WorkLambdaFunction }
        Principal: events.amazonaws.com
"""


def desired(tmp_path: Path, config: str) -> tuple[tuple[str, ...], Stack]:
    (tmp_path / "serverless.yml").write_text(config)
    (tmp_path / "handler.py").write_text("def main(event, context):\n    return 1\n")
    # As tool deploy loads it before the stack exists: its values are placeholders.
    service = load_service(tmp_path, env={}, resource_values=StackValues(verb="deployed"))
    found = desired_resources(service, Platform(runs_cloudformation=True))
    [stack] = [r for r in found.resources if isinstance(r, Stack)]
    return found.warnings, stack


def test_the_function_role_a_stack_read_first_names_is_deployed_before_it(tmp_path: Path) -> None:
    warnings, stack = desired(tmp_path, CONFIG)
    assert stack.needs == (Address("role", "shop-dev-us-east-1-lambdaRole"),)
    assert not any("is deployed before the functions" in w for w in warnings), warnings


READS_THE_STACK = CONFIG.replace(
    "functions:",
    "  iamRoleStatements:\n"
    "    - { Effect: Allow, Action: dynamodb:GetItem, Resource: { Fn::GetAtt: [Orders, Arn] } }"
    "\nfunctions:",
    1,
)


def test_a_role_whose_policy_reads_the_stack_goes_first_without_those_statements(
    tmp_path: Path,
) -> None:
    (tmp_path / "serverless.yml").write_text(READS_THE_STACK)
    (tmp_path / "handler.py").write_text("def main(event, context):\n    return 1\n")
    service = load_service(tmp_path, env={}, resource_values=StackValues(verb="deployed"))
    found = desired_resources(service, Platform(runs_cloudformation=True))
    [stack] = [r for r in found.resources if isinstance(r, Stack)]
    role_address = Address("role", "shop-dev-us-east-1-lambdaRole")
    assert stack.needs == (role_address,)
    assert not any("is deployed before the functions" in w for w in found.warnings)
    [role] = [r for r in found.resources if isinstance(r, Role) and r.address == role_address]
    whole = [s["Action"] for p in role.spec.inline_policies.values() for s in p["Statement"]]
    first = before_the_stack(role)
    assert isinstance(first, Role)
    early = [s["Action"] for p in first.spec.inline_policies.values() for s in p["Statement"]]
    assert "dynamodb:GetItem" in whole and "dynamodb:GetItem" not in early
    assert ["logs:CreateLogStream", "logs:PutLogEvents"] in early


def test_a_permission_on_a_function_in_a_stack_read_first_is_said(tmp_path: Path) -> None:
    warnings, stack = desired(tmp_path, CONFIG + PERMISSION)
    assert any(
        "is deployed before the functions and state machines" in w
        and "Invoke names WorkLambdaFunction" in w
        for w in warnings
    ), warnings
