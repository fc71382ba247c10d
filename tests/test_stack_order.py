"""When the service reads values from its `resources:` stack, the stack is deployed first
(tooling/deploy/desired.py); what in it needs a service resource to exist already is said."""

from __future__ import annotations

from pathlib import Path

from tooling.config.service import load_service
from tooling.deploy.desired import desired_resources
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


def test_a_policy_on_the_service_role_in_a_stack_deployed_first_is_said(tmp_path: Path) -> None:
    (tmp_path / "serverless.yml").write_text(CONFIG)
    (tmp_path / "handler.py").write_text("def main(event, context):\n    return 1\n")
    service = load_service(tmp_path, env={})
    warnings = desired_resources(service, Platform(runs_cloudformation=True)).warnings
    assert any(
        "is deployed before the functions and state machines" in w
        and "SendPolicy names IamRoleLambdaExecution" in w
        for w in warnings
    ), warnings
