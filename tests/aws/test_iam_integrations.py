"""What a state machine's generated role allows for other services' integrations, and what it
warns about (tooling.iam_integrations through tooling.iam.state_machine_role)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tooling import iam
from tooling.config.service import load_service
from tooling.iam_integrations import Scope, allows, integration_permissions

ACCOUNT = "123456789012"
REGION = "us-east-1"
SQS_URL = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/jobs"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts"
CHILD = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:child"


def role_for(
    tmp_path: Path, definition: dict[str, Any], **machine: Any
) -> tuple[list[dict[str, Any]], tuple[str, ...]]:
    """(statements of the generated policy, warnings) for one machine with `definition`."""
    config = {
        "service": "svc",
        "provider": {"name": "aws", "runtime": "python3.12", "region": REGION},
        "functions": {"one": {"handler": "handler.one"}},
        "stepFunctions": {"stateMachines": {"main": {"definition": definition, **machine}}},
        "resources": {"Resources": {"Jobs": {"Type": "AWS::SQS::Queue"}}},
    }
    (tmp_path / "serverless.yml").write_text(yaml.safe_dump(config))
    service = load_service(tmp_path, env={}, account_id=ACCOUNT)
    spec = iam.state_machine_role(service, service.state_machines["main"])
    policy = spec.inline_policies.get(iam.STATE_MACHINE_POLICY_NAME, {"Statement": []})
    return policy["Statement"], spec.warnings


def one_task(resource: str, **fields: Any) -> dict[str, Any]:
    state = {"Type": "Task", "Resource": resource, **fields, "End": True}
    return {"StartAt": "Call", "States": {"Call": state}}


def grants(statements: list[dict[str, Any]]) -> dict[str, list[str]]:
    assert all(statement["Effect"] == "Allow" for statement in statements)
    return {statement["Action"]: statement["Resource"] for statement in statements}


# -- literal targets ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "arn"),
    [
        (SQS_URL, f"arn:aws:sqs:{REGION}:{ACCOUNT}:jobs"),
        (
            f"https://sqs.eu-west-1.amazonaws.com/{ACCOUNT}/jobs.fifo",
            f"arn:aws:sqs:eu-west-1:{ACCOUNT}:jobs.fifo",
        ),
        (f"https://sqs.us-east-2.api.aws/{ACCOUNT}/dual", f"arn:aws:sqs:us-east-2:{ACCOUNT}:dual"),
        (
            f"https://sqs-fips.us-gov-west-1.amazonaws.com/{ACCOUNT}/gov",
            f"arn:aws-us-gov:sqs:us-gov-west-1:{ACCOUNT}:gov",
        ),
        (
            f"https://sqs.cn-north-1.amazonaws.com.cn/{ACCOUNT}/cn",
            f"arn:aws-cn:sqs:cn-north-1:{ACCOUNT}:cn",
        ),
        (
            f"https://eu-west-2.queue.amazonaws.com/{ACCOUNT}/legacy",
            f"arn:aws:sqs:eu-west-2:{ACCOUNT}:legacy",
        ),
        (
            f"https://queue.amazonaws.com/{ACCOUNT}/oldest",
            f"arn:aws:sqs:us-east-1:{ACCOUNT}:oldest",
        ),
        (
            "https://sqs.us-east-1.amazonaws.com/210987654321/theirs",
            f"arn:aws:sqs:{REGION}:210987654321:theirs",
        ),
    ],
)
def test_send_message_grants_the_queue_of_a_literal_url(tmp_path: Path, url: str, arn: str):
    definition = one_task(
        "arn:aws:states:::sqs:sendMessage", Parameters={"QueueUrl": url, "MessageBody.$": "$"}
    )
    statements, warnings = role_for(tmp_path, definition)
    assert statements == [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": [arn]}]
    assert warnings == ()


@pytest.mark.parametrize(
    ("field", "value"),
    [("TopicArn", TOPIC), ("TargetArn", f"arn:aws:sns:{REGION}:{ACCOUNT}:endpoint/GCM/app/1")],
)
def test_publish_grants_the_topic_or_target(tmp_path: Path, field: str, value: str):
    definition = one_task("arn:aws:states:::sns:publish", Parameters={field: value, "Message": "m"})
    statements, warnings = role_for(tmp_path, definition)
    assert grants(statements) == {"sns:Publish": [value]}
    assert warnings == ()


@pytest.mark.parametrize("api", ["getItem", "putItem", "updateItem", "deleteItem"])
def test_dynamodb_item_calls_grant_that_action_on_the_table(tmp_path: Path, api: str):
    definition = one_task(
        f"arn:aws:states:::dynamodb:{api}", Parameters={"TableName": "orders", "Key": {}}
    )
    statements, warnings = role_for(tmp_path, definition)
    action = "dynamodb:" + api[0].upper() + api[1:]
    assert grants(statements) == {action: [f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders"]}
    assert warnings == ()


def test_a_table_named_by_its_arn_is_granted_as_is(tmp_path: Path):
    table = f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/elsewhere"
    definition = one_task("arn:aws:states:::dynamodb:getItem", Parameters={"TableName": table})
    statements, _ = role_for(tmp_path, definition)
    assert grants(statements) == {"dynamodb:GetItem": [table]}


@pytest.mark.parametrize("pattern", ["", ".waitForTaskToken"])
def test_start_execution_grants_the_named_state_machine(tmp_path: Path, pattern: str):
    definition = one_task(
        f"arn:aws:states:::states:startExecution{pattern}",
        Parameters={"StateMachineArn": CHILD, "Input.$": "$"},
    )
    statements, warnings = role_for(tmp_path, definition)
    assert grants(statements) == {"states:StartExecution": [CHILD]}
    assert warnings == ()


@pytest.mark.parametrize("pattern", [".sync", ".sync:2"])
def test_start_execution_sync_also_grants_watching_the_child(tmp_path: Path, pattern: str):
    definition = one_task(
        f"arn:aws:states:::states:startExecution{pattern}",
        Parameters={"StateMachineArn": CHILD, "Input.$": "$"},
    )
    statements, warnings = role_for(tmp_path, definition)
    executions = [f"arn:aws:states:{REGION}:{ACCOUNT}:execution:child:*"]
    rule = [
        f"arn:aws:events:{REGION}:{ACCOUNT}:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule"
    ]
    assert grants(statements) == {
        "states:StartExecution": [CHILD],
        "states:DescribeExecution": executions,
        "states:StopExecution": executions,
        "events:PutTargets": rule,
        "events:PutRule": rule,
        "events:DescribeRule": rule,
    }
    assert warnings == ()


def test_start_execution_sync_of_a_run_time_child_watches_every_execution(tmp_path: Path):
    definition = one_task(
        "arn:aws:states:::states:startExecution.sync:2",
        Parameters={"StateMachineArn.$": "$.child"},
    )
    statements, warnings = role_for(tmp_path, definition)
    found = grants(statements)
    assert found["states:StartExecution"] == [f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:*"]
    assert found["states:DescribeExecution"] == [f"arn:aws:states:{REGION}:{ACCOUNT}:execution:*"]
    assert len(warnings) == 1 and "picks its state machine at run time" in warnings[0]


def test_put_events_grants_each_named_bus_and_the_default_one(tmp_path: Path):
    other = "arn:aws:events:eu-west-1:210987654321:event-bus/shared"
    definition = one_task(
        "arn:aws:states:::events:putEvents",
        Parameters={
            "Entries": [
                {"Detail": {}, "DetailType": "a", "Source": "s"},
                {"Detail": {}, "DetailType": "b", "Source": "s", "EventBusName": "orders"},
                {"Detail": {}, "DetailType": "c", "Source": "s", "EventBusName": other},
            ]
        },
    )
    statements, warnings = role_for(tmp_path, definition)
    assert grants(statements) == {
        "events:PutEvents": [
            other,
            f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default",
            f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/orders",
        ]
    }
    assert warnings == ()


# -- targets chosen at run time -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "fields", "action", "wildcard", "what"),
    [
        (
            "sqs:sendMessage",
            {"Parameters": {"QueueUrl.$": "$.queue", "MessageBody": "m"}},
            "sqs:SendMessage",
            f"arn:aws:sqs:{REGION}:{ACCOUNT}:*",
            "queue",
        ),
        (
            "sns:publish",
            {"Arguments": {"TopicArn": "{% $states.input.topic %}", "Message": "m"}},
            "sns:Publish",
            f"arn:aws:sns:{REGION}:{ACCOUNT}:*",
            "topic",
        ),
        (
            "dynamodb:putItem",
            {"Parameters": {"TableName.$": "$.table", "Item": {}}},
            "dynamodb:PutItem",
            f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/*",
            "table",
        ),
        (
            "states:startExecution",
            {"Arguments": "{% {'StateMachineArn': $states.input.arn} %}"},
            "states:StartExecution",
            f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:*",
            "state machine",
        ),
        (
            "events:putEvents",
            {"Parameters": {"Entries.$": "$.entries"}},
            "events:PutEvents",
            f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/*",
            "event bus",
        ),
        (
            "events:putEvents",
            {"Arguments": {"Entries": [{"EventBusName": "{% $bus %}", "Detail": {}}]}},
            "events:PutEvents",
            f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/*",
            "event bus",
        ),
    ],
)
def test_a_target_chosen_at_run_time_grants_the_account_and_region_with_a_warning(
    tmp_path: Path, resource: str, fields: dict[str, Any], action: str, wildcard: str, what: str
):
    definition = one_task(f"arn:aws:states:::{resource}", **fields)
    statements, warnings = role_for(tmp_path, definition)
    assert grants(statements) == {action: [wildcard]}
    assert warnings == (
        f"state 'Call' picks its {what} at run time; its role may call {action} on every "
        f"{what} of account {ACCOUNT} in {REGION}",
    )


def test_jsonata_literals_are_literal(tmp_path: Path):
    definition = {
        "QueryLanguage": "JSONata",
        **one_task(
            "arn:aws:states:::sqs:sendMessage",
            Arguments={"QueueUrl": SQS_URL, "MessageBody": "{% $states.input %}"},
        ),
    }
    statements, warnings = role_for(tmp_path, definition)
    assert grants(statements) == {"sqs:SendMessage": [f"arn:aws:sqs:{REGION}:{ACCOUNT}:jobs"]}
    assert warnings == ()


# -- where the states are -----------------------------------------------------------------------


def test_states_in_parallel_branches_and_map_processors_are_covered(tmp_path: Path):
    send = {
        "Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage",
        "Parameters": {"QueueUrl": SQS_URL, "MessageBody": "m"},
        "End": True,
    }
    publish = {
        "Type": "Task",
        "Resource": "arn:aws:states:::sns:publish",
        "Parameters": {"TopicArn": TOPIC, "Message": "m"},
        "End": True,
    }
    definition = {
        "StartAt": "Fan",
        "States": {
            "Fan": {
                "Type": "Parallel",
                "Branches": [{"StartAt": "Send", "States": {"Send": send}}],
                "Next": "Each",
            },
            "Each": {
                "Type": "Map",
                "ItemProcessor": {"StartAt": "Publish", "States": {"Publish": publish}},
                "Next": "Legacy",
            },
            "Legacy": {
                "Type": "Map",
                "Iterator": {
                    "StartAt": "Get",
                    "States": {
                        "Get": {
                            "Type": "Task",
                            "Resource": "arn:aws:states:::dynamodb:getItem",
                            "Parameters": {"TableName": "t", "Key": {}},
                            "End": True,
                        }
                    },
                },
                "End": True,
            },
        },
    }
    statements, warnings = role_for(tmp_path, definition)
    assert grants(statements) == {
        "dynamodb:GetItem": [f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/t"],
        "sns:Publish": [TOPIC],
        "sqs:SendMessage": [f"arn:aws:sqs:{REGION}:{ACCOUNT}:jobs"],
    }
    assert warnings == ()


def test_lambda_comes_first_then_integrations_then_logging(tmp_path: Path):
    definition = {
        "StartAt": "Invoke",
        "States": {
            "Invoke": {
                "Type": "Task",
                "Resource": {"Fn::GetAtt": ["one", "Arn"]},
                "Next": "Send",
            },
            "Send": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage",
                "Parameters": {"QueueUrl": SQS_URL, "MessageBody": "m"},
                "Next": "Send again",
            },
            "Send again": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage",
                "Parameters": {"QueueUrl": SQS_URL + "2", "MessageBody": "m"},
                "End": True,
            },
        },
    }
    statements, _ = role_for(tmp_path, definition, loggingConfig={"level": "ERROR"})
    assert [statement["Action"] for statement in statements[:2]] == [
        "lambda:InvokeFunction",
        "sqs:SendMessage",
    ]
    assert statements[1]["Resource"] == [
        f"arn:aws:sqs:{REGION}:{ACCOUNT}:jobs",
        f"arn:aws:sqs:{REGION}:{ACCOUNT}:jobs2",
    ]
    assert "logs:CreateLogDelivery" in statements[2]["Action"]


# -- what the generated role does not cover -----------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "fields", "needs"),
    [
        (
            "arn:aws:states:::aws-sdk:s3:getObject",
            {"Parameters": {"Bucket": "b", "Key": "k"}},
            "s3:GetObject",
        ),
        ("arn:aws:states:::ecs:runTask.sync", {"Parameters": {}}, "ecs:RunTask"),
        (
            "arn:aws:states:::aws-sdk:sfn:describeExecution",
            {"Parameters": {"ExecutionArn": "x"}},
            "states:DescribeExecution",
        ),
    ],
)
def test_other_integrations_get_no_grant_and_a_warning_until_the_statements_allow_them(
    tmp_path: Path, resource: str, fields: dict[str, Any], needs: str
):
    statements, warnings = role_for(tmp_path, one_task(resource, **fields))
    assert statements == []
    assert warnings == (
        f"state 'Call' calls {resource}; the generated role allows none of it, so on AWS the "
        f"call fails with AccessDenied: allow {needs} and whatever else it needs under "
        "stepFunctions.stateMachines.main.iamRoleStatements",
    )
    service, action = needs.split(":")
    own = {"Effect": "Allow", "Action": [f"{service}:{action[:3]}*"], "Resource": "*"}
    statements, warnings = role_for(tmp_path, one_task(resource, **fields), iamRoleStatements=[own])
    assert statements == [own]
    assert warnings == ()


def test_an_activity_gets_a_warning_that_names_no_action(tmp_path: Path):
    activity = f"arn:aws:states:{REGION}:{ACCOUNT}:activity:approve"
    own = [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
    statements, warnings = role_for(tmp_path, one_task(activity), iamRoleStatements=own)
    assert statements == own
    assert warnings == (
        f"state 'Call' calls {activity}; the generated role allows none of it, so on AWS the "
        "call fails with AccessDenied: allow what it needs under "
        "stepFunctions.stateMachines.main.iamRoleStatements",
    )


@pytest.mark.parametrize(
    ("resource", "parameters", "message"),
    [
        (
            "sqs:sendMessage",
            {"QueueUrl": "jobs", "MessageBody": "m"},
            "state 'Call': cannot tell the queue from QueueUrl 'jobs'",
        ),
        (
            "sqs:sendMessage",
            {"QueueUrl": {"Ref": "Jobs"}, "MessageBody": "m"},
            "state 'Call': cannot tell the queue from QueueUrl {'Ref': 'Jobs'}",
        ),
        (
            "sns:publish",
            {"PhoneNumber": "+15555550100", "Message": "m"},
            "state 'Call' names no topic (TopicArn or TargetArn)",
        ),
        (
            "events:putEvents",
            {"Entries": [{"EventBusName": "a b"}]},
            "state 'Call': cannot tell the event bus from EventBusName 'a b'",
        ),
        (
            "states:startExecution",
            {"StateMachineArn": "child"},
            "state 'Call': cannot tell the state machine from StateMachineArn 'child'",
        ),
    ],
)
def test_a_target_that_cannot_be_told_gets_no_grant_and_a_warning(
    tmp_path: Path, resource: str, parameters: dict[str, Any], message: str
):
    definition = one_task(f"arn:aws:states:::{resource}", Parameters=parameters)
    statements, warnings = role_for(tmp_path, definition)
    assert statements == []
    (warning,) = warnings
    assert warning.startswith(message + "; the generated role allows none of it")


# -- the machine's own statements ---------------------------------------------------------------


def test_iam_role_statements_are_appended_to_the_generated_policy(tmp_path: Path):
    own = [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/*"},
        {"Effect": "Deny", "Action": "sqs:SendMessage", "Resource": "*"},
    ]
    definition = one_task(
        "arn:aws:states:::sqs:sendMessage", Parameters={"QueueUrl": SQS_URL, "MessageBody": "m"}
    )
    statements, _ = role_for(tmp_path, definition, iamRoleStatements=own)
    assert statements == [
        {
            "Effect": "Allow",
            "Action": "sqs:SendMessage",
            "Resource": [f"arn:aws:sqs:{REGION}:{ACCOUNT}:jobs"],
        },
        *own,
    ]


def test_a_machine_without_tasks_gets_just_its_own_statements(tmp_path: Path):
    own = [{"Effect": "Allow", "Action": "xray:PutTraceSegments", "Resource": "*"}]
    statements, warnings = role_for(
        tmp_path, {"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}, iamRoleStatements=own
    )
    assert statements == own
    assert warnings == ()


def test_allows_reads_wildcards_case_insensitively_and_only_allow_statements():
    statements: list[dict[str, Any]] = [
        {"Effect": "Deny", "Action": "sqs:*", "Resource": "*"},
        {"Effect": "Allow", "Action": ["S3:Get*"], "Resource": "*"},
    ]
    assert allows(statements, "s3:GetObject")
    assert not allows(statements, "s3:PutObject")
    assert not allows(statements, "sqs:SendMessage")


def test_lambda_tasks_are_left_to_the_function_grants():
    scope = Scope("aws", REGION, ACCOUNT)
    tasks: list[tuple[str, dict[str, Any]]] = [
        ("A", {"Resource": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f"}),
        ("B", {"Resource": "arn:aws:states:::lambda:invoke", "Parameters": {}}),
        ("C", {"Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken"}),
    ]
    permissions = integration_permissions(tasks, scope)
    assert (permissions.grants, permissions.warnings, permissions.gaps) == ({}, [], [])


def test_the_sqs_and_sns_callback_forms_get_the_same_one_action(tmp_path: Path):
    statements, warnings = role_for(
        tmp_path,
        one_task(
            "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            Parameters={"QueueUrl": SQS_URL, "MessageBody": {"token.$": "$$.Task.Token"}},
        ),
    )
    assert statements == [
        {
            "Effect": "Allow",
            "Action": "sqs:SendMessage",
            "Resource": ["arn:aws:sqs:us-east-1:123456789012:jobs"],
        }
    ]
    assert warnings == ()
