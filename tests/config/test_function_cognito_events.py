"""Functions' cognitoUserPool events, read as Serverless v3 reads them
(tooling/config/function_cognito_events.py): the pool Serverless would make goes into the stack
of `resources:` with the triggers in its LambdaConfig, merged under an entry of `resources:`
with the same logical id; `existing` pools are not changed (a warning)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tooling.config.function_cognito_events import pool_logical_id
from tooling.config.resources import StackValues
from tooling.config.service import ServiceConfig, load_service

ARN = "arn:aws:lambda:us-east-1:000000000000:function:auth-dev-"
BASE = """\
service: auth
provider:
  name: aws
  runtime: python3.12
functions:
  signUp:
    handler: handler.work
    events:
      - cognitoUserPool: {pool: Users Pool, trigger: PreSignUp}
      - cognitoUserPool: {pool: Users Pool, trigger: CustomEmailSender, kmsKeyId: KEY}
  message:
    handler: handler.work
    events:
      - cognitoUserPool:
          pool: Users Pool
          trigger: CustomMessage
"""
KEY = "arn:aws:kms:us-east-1:000000000000:key/abc"


def load(tmp_path: Path, yml: str, **kwargs: Any) -> ServiceConfig:
    (tmp_path / "serverless.yml").write_text(yml.replace("KEY", KEY))
    (tmp_path / "handler.py").write_text("def work(event, context):\n    return event\n")
    return load_service(tmp_path, env={}, **kwargs)


def test_the_pool_serverless_makes_is_in_the_stack_with_its_triggers(tmp_path: Path) -> None:
    outputs = {"ToolAttCognitoUserPoolUsersPoolArn": "arn:aws:cognito-idp:us-east-1:1:userpool/x"}
    svc = load(tmp_path, BASE, resource_values=StackValues(outputs))
    assert svc.problems == ()
    assert pool_logical_id("Users Pool") == "CognitoUserPoolUsersPool"
    assert svc.resources is not None
    assert svc.resources.resources["CognitoUserPoolUsersPool"] == {
        "Type": "AWS::Cognito::UserPool",
        "Properties": {
            "UserPoolName": "Users Pool",
            "LambdaConfig": {
                "PreSignUp": ARN + "signUp",
                "CustomEmailSender": {"LambdaArn": ARN + "signUp", "LambdaVersion": "V1_0"},
                "KMSKeyID": KEY,
                "CustomMessage": ARN + "message",
            },
        },
    }
    events = svc.functions["signUp"].events.cognito
    assert [(e.pool, e.trigger, e.pool_arn) for e in events] == [
        ("Users Pool", "PreSignUp", outputs["ToolAttCognitoUserPoolUsersPoolArn"]),
        ("Users Pool", "CustomEmailSender", outputs["ToolAttCognitoUserPoolUsersPoolArn"]),
    ]


def test_an_entry_of_resources_with_the_pools_logical_id_is_merged_over_it(
    tmp_path: Path,
) -> None:
    yml = BASE + (
        "resources:\n  Resources:\n    CognitoUserPoolUsersPool:\n"
        "      Type: AWS::Cognito::UserPool\n"
        "      Properties:\n        UserPoolName: mine\n        UsernameAttributes: [email]\n"
    )
    svc = load(tmp_path, yml)
    assert svc.resources is not None
    properties = svc.resources.resources["CognitoUserPoolUsersPool"]["Properties"]
    assert properties["UserPoolName"] == "mine"
    assert properties["UsernameAttributes"] == ["email"]
    assert properties["LambdaConfig"]["PreSignUp"] == ARN + "signUp"


def test_an_existing_pool_is_not_changed_and_says_so(tmp_path: Path) -> None:
    yml = BASE.replace("trigger: CustomMessage", "trigger: CustomMessage\n          existing: true")
    svc = load(tmp_path, yml)
    assert svc.functions["message"].events.cognito == ()
    assert svc.resources is not None
    assert "CustomMessage" not in str(svc.resources.resources)
    assert any(
        w.startswith("serverless.yml:15:11: function 'message': the CustomMessage trigger of the "
                     "existing user pool 'Users Pool' is not deployed")
        for w in svc.warnings
    )  # fmt: skip


@pytest.mark.parametrize(
    ("event", "message", "line"),
    [
        ("{pool: Users, trigger: OnSignUp}", "trigger 'OnSignUp' is not one Cognito calls", 9),
        ("{pool: 'a/b', trigger: PreSignUp}", "pool 'a/b' is not a user pool name", 9),
        ("{pool: Users, trigger: PreSignUp, lambda: x}", "key `lambda` is not one", 9),
        ("{pool: Users, trigger: CustomSMSSender}", "needs kmsKeyId", 9),
        ("users", "a cognitoUserPool event is a mapping", 9),
    ],
)
def test_what_serverless_refuses_is_a_problem_at_its_line(
    tmp_path: Path, event: str, message: str, line: int
) -> None:
    yml = (
        "service: auth\nprovider:\n  name: aws\n  runtime: python3.12\nfunctions:\n  f:\n"
        f"    handler: handler.work\n    events:\n      - cognitoUserPool: {event}\n"
    )
    svc = load(tmp_path, yml)
    (problem,) = svc.problems
    assert message in problem.message and problem.line == line, problem.render()


def test_the_triggers_of_a_function_with_an_alias_name_the_alias(tmp_path: Path) -> None:
    """Serverless' resolveLambdaTarget: a function with provisionedConcurrency is its pool's
    trigger through its `provisioned` alias."""
    yml = BASE.replace("    handler: handler.work\n", "    handler: handler.work\n"
                       "    provisionedConcurrency: 1\n", 1)  # fmt: skip
    svc = load(tmp_path, yml)
    assert svc.resources is not None
    config = svc.resources.resources["CognitoUserPoolUsersPool"]["Properties"]["LambdaConfig"]
    assert config["PreSignUp"] == ARN + "signUp:provisioned"
    assert config["CustomMessage"] == ARN + "message"
