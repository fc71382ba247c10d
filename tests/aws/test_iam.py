"""Generated IAM: the functions a definition invokes, trust policies, provider statements."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tooling import iam
from tooling.config.service import ServiceConfig, load_service
from tooling.deploy.desired import desired_resources, function_role_arn
from tooling.deploy.models import Role
from tooling.deploy.providers import Platform
from tooling.errors import ConfigError

ACCOUNT = "123456789012"
PREFIX = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:"


def make_service(
    tmp_path: Path, definition: dict[str, Any], provider: dict[str, Any] | None = None
) -> ServiceConfig:
    config = {
        "service": "svc",
        "provider": {"name": "aws", "runtime": "python3.12", **(provider or {})},
        "functions": {
            "one": {"handler": "handler.one"},
            "two": {"handler": "handler.two"},
            "three": {"handler": "handler.three"},
        },
        "stepFunctions": {"stateMachines": {"main": {"definition": definition}}},
    }
    (tmp_path / "serverless.yml").write_text(yaml.safe_dump(config))
    return load_service(tmp_path, env={}, account_id=ACCOUNT)


def task(resource: Any, **extra: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": resource, "End": True, **extra}


def machine_policy(service: ServiceConfig) -> dict[str, Any] | None:
    spec = iam.state_machine_role(service, service.state_machines["main"])
    return spec.inline_policies.get(iam.STATE_MACHINE_POLICY_NAME)


def invokable(service: ServiceConfig) -> list[str]:
    policy = machine_policy(service)
    assert policy is not None
    (statement,) = policy["Statement"]
    assert statement["Action"] == "lambda:InvokeFunction"
    assert statement["Effect"] == "Allow"
    return list(statement["Resource"])


def test_a_task_arn_grants_that_function_only(tmp_path: Path):
    service = make_service(
        tmp_path, {"StartAt": "A", "States": {"A": task({"Fn::GetAtt": ["one", "Arn"]})}}
    )
    assert invokable(service) == [PREFIX + "svc-dev-one"]


def test_lambda_invoke_integrations_and_nested_states_are_found(tmp_path: Path):
    definition = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "Branches": [
                    {
                        "StartAt": "B",
                        "States": {
                            "B": task(
                                "arn:aws:states:::lambda:invoke",
                                Parameters={"FunctionName": "svc-dev-two:live", "Payload.$": "$"},
                            )
                        },
                    }
                ],
                "Next": "M",
            },
            "M": {
                "Type": "Map",
                "ItemProcessor": {
                    "StartAt": "I",
                    "States": {
                        "I": task(
                            "arn:aws:states:::lambda:invoke.waitForTaskToken",
                            Parameters={"FunctionName": f"{ACCOUNT}:function:svc-dev-one"},
                        )
                    },
                },
                "End": True,
            },
        },
    }
    service = make_service(tmp_path, definition)
    assert invokable(service) == [
        PREFIX + "svc-dev-one",
        PREFIX + "svc-dev-two",
        PREFIX + "svc-dev-two:*",  # the definition invokes an alias of it
    ]


def test_a_function_chosen_at_run_time_grants_the_service_functions_with_a_warning(
    tmp_path: Path,
):
    service = make_service(
        tmp_path,
        {
            "StartAt": "A",
            "States": {
                "A": task(
                    "arn:aws:states:::lambda:invoke", Parameters={"FunctionName.$": "$.which"}
                )
            },
        },
    )
    spec = iam.state_machine_role(service, service.state_machines["main"])
    assert sorted(invokable(service)) == sorted(
        PREFIX + f"svc-dev-{key}" for key in ("one", "two", "three")
    )
    assert spec.warnings and "run time" in spec.warnings[0]


def test_a_machine_without_tasks_gets_no_policy_at_all(tmp_path: Path):
    service = make_service(tmp_path, {"StartAt": "A", "States": {"A": {"Type": "Succeed"}}})
    assert machine_policy(service) is None


def test_trust_policies_name_the_service_principals(tmp_path: Path):
    service = make_service(tmp_path, {"StartAt": "A", "States": {"A": {"Type": "Succeed"}}})
    machine_trust = iam.state_machine_role(service, service.state_machines["main"]).trust_policy
    (statement,) = machine_trust["Statement"]
    assert statement["Principal"] == {"Service": "states.amazonaws.com"}
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Condition"]["ArnLike"]["aws:SourceArn"] == (
        f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:*"
    )
    (statement,) = iam.function_role(service).trust_policy["Statement"]
    assert statement["Principal"] == {"Service": "lambda.amazonaws.com"}


def test_function_role_gets_each_function_log_group_and_provider_statements(tmp_path: Path):
    statement = {
        "Effect": "Allow",
        "Action": ["s3:GetObject"],
        "Resource": "arn:aws:s3:::bucket/*",
    }
    service = make_service(
        tmp_path,
        {"StartAt": "A", "States": {"A": {"Type": "Succeed"}}},
        provider={
            "iam": {
                "role": {
                    "statements": [statement],
                    "managedPolicies": ["arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess"],
                }
            }
        },
    )
    spec = iam.function_role(service)
    logs, custom = spec.inline_policies[iam.FUNCTION_POLICY_NAME]["Statement"]
    assert logs["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert logs["Resource"] == [
        f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/svc-dev-{key}:*"
        for key in ("one", "three", "two")
    ]
    assert custom == statement
    assert spec.managed_policies == ("arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess",)


def test_provider_statements_may_reference_the_service_functions(tmp_path: Path):
    service = make_service(
        tmp_path,
        {"StartAt": "A", "States": {"A": {"Type": "Succeed"}}},
        provider={
            "iamRoleStatements": [
                {
                    "Effect": "Allow",
                    "Action": "lambda:InvokeFunction",
                    "Resource": {"Fn::GetAtt": ["two", "Arn"]},
                }
            ]
        },
    )
    statements = iam.function_role(service).inline_policies[iam.FUNCTION_POLICY_NAME]["Statement"]
    assert statements[-1]["Resource"] == PREFIX + "svc-dev-two"


@pytest.mark.parametrize(
    "statement",
    [
        {"Action": "s3:GetObject", "Resource": "*"},
        {"Effect": "Allow", "Action": "s3:GetObject"},
        {"Effect": "Maybe", "Action": "s3:GetObject", "Resource": "*"},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": {"Ref": "NotThere"}},
    ],
)
def test_bad_provider_statements_are_config_errors(tmp_path: Path, statement: dict[str, Any]):
    service = make_service(
        tmp_path,
        {"StartAt": "A", "States": {"A": {"Type": "Succeed"}}},
        provider={"iam": {"role": {"statements": [statement]}}},
    )
    # A problem for validate/plan/deploy, with its line; the role (what remove needs) is still
    # computed, without the bad statement.
    (problem,) = service.problems
    assert isinstance(problem, ConfigError) and problem.exit_code == 2
    assert problem.file == "serverless.yml" and problem.line is not None
    statements = iam.function_role(service).inline_policies[iam.FUNCTION_POLICY_NAME]["Statement"]
    assert statement not in statements


def test_a_role_the_user_brings_replaces_the_generated_function_role(tmp_path: Path):
    service = make_service(
        tmp_path,
        {"StartAt": "A", "States": {"A": {"Type": "Succeed"}}},
        provider={"iam": {"role": f"arn:aws:iam::{ACCOUNT}:role/existing-role"}},
    )
    assert function_role_arn(service) == f"arn:aws:iam::{ACCOUNT}:role/existing-role"
    roles = [r.spec.name for r in desired_resources(service, Platform()).resources
             if isinstance(r, Role)]  # fmt: skip
    assert roles == [iam.state_machine_role_name(service, service.state_machines["main"])]


def test_the_generated_function_role_takes_the_name_serverless_is_given(tmp_path: Path):
    """provider.iam.role.name names the generated role (Serverless v3), also for the
    IamRoleLambdaExecution a `resources:` template names."""
    service = make_service(
        tmp_path,
        {"StartAt": "A", "States": {"A": {"Type": "Succeed"}}},
        provider={"iam": {"role": {"name": "shop-dev-lambda-role", "statements": []}}},
    )
    assert iam.function_role_name(service) == "shop-dev-lambda-role"
    assert function_role_arn(service) == f"arn:aws:iam::{ACCOUNT}:role/shop-dev-lambda-role"
    roles = [r.spec.name for r in desired_resources(service, Platform()).resources
             if isinstance(r, Role)]  # fmt: skip
    assert "shop-dev-lambda-role" in roles


@pytest.mark.parametrize("name", ["", "has space", "x" * 65, "rôle", 42])
def test_a_role_name_iam_would_refuse_is_refused_with_its_line(tmp_path: Path, name: Any):
    with pytest.raises(ConfigError, match="is not an IAM role name") as caught:
        make_service(
            tmp_path,
            {"StartAt": "A", "States": {"A": {"Type": "Succeed"}}},
            provider={"iam": {"role": {"name": name}}},
        )
    assert caught.value.file == "serverless.yml" and caught.value.line is not None


def test_long_role_names_are_cut_to_64_characters_and_stay_distinct():
    first = iam.role_name("a" * 40, "dev", "us-east-1", "first-machine", "sfnRole")
    second = iam.role_name("a" * 40, "dev", "us-east-1", "second-machine", "sfnRole")
    assert len(first) == len(second) == 64
    assert first != second
    assert iam.role_name("short", "dev") == "short-dev"


def test_policies_are_valid_json_documents(tmp_path: Path):
    service = make_service(
        tmp_path, {"StartAt": "A", "States": {"A": task({"Fn::GetAtt": ["one", "Arn"]})}}
    )
    policy = machine_policy(service)
    assert json.loads(json.dumps(policy))["Version"] == "2012-10-17"
