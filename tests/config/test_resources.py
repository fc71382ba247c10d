"""`resources:` read as Serverless v3 reads it (map form, list form merged like lodash `_.merge`,
`extensions`), checked with its lines, turned into the template the toolkit deploys; values read
back from the stack's Outputs (tooling.config.resources)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tooling.config.resources import (
    PENDING,
    Reference,
    ServiceTarget,
    StackValues,
    merged,
    pending_in,
    stack_template,
)
from tooling.config.service import load_service

BASE = """\
service: shop
provider:
  name: aws
  runtime: python3.12
functions:
  save:
    handler: handler.save
"""
TABLE = """\
    Orders:
      Type: AWS::DynamoDB::Table
      Properties:
        TableName: ${self:service}-${sls:stage}-orders
        BillingMode: PAY_PER_REQUEST
        KeySchema: [{AttributeName: id, KeyType: HASH}]
        AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
"""


def write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).write_text(text)
    (folder / "handler.py").write_text("def save(event, context):\n    return event\n")
    return folder


def load(folder: Path, **kwargs: Any) -> Any:
    return load_service(folder, env={}, **kwargs)


def test_the_map_form_is_read_with_variables_resolved(tmp_path: Path) -> None:
    svc = load(write(tmp_path, {"serverless.yml": BASE + "resources:\n  Resources:\n" + TABLE}))
    assert svc.warnings == ()  # resources: is deployed now: no "not supported" warning
    assert svc.resources is not None
    table = svc.resources.template["Resources"]["Orders"]
    assert table["Properties"]["TableName"] == "shop-dev-orders"
    assert svc.resource_ids == frozenset({"Orders"})
    assert svc.stack is not None and svc.stack.name == "shop-dev"


def test_the_list_form_merges_its_fragments_like_lodash_merge(tmp_path: Path) -> None:
    yml = BASE + (
        "resources:\n"
        "  - ${file(table.yml)}\n"
        "  - Resources:\n"
        "      Orders:\n"
        "        Properties:\n"
        "          BillingMode: PROVISIONED\n"
        "    Outputs:\n"
        "      OrdersName: {Value: !Ref Orders}\n"
        "  - ${file(topic.yml)}\n"
    )
    files = {
        "serverless.yml": yml,
        "table.yml": "Resources:\n" + TABLE,
        "topic.yml": "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n",
    }
    svc = load(write(tmp_path, files))
    assert svc.resources is not None
    resources = svc.resources.template["Resources"]
    assert list(resources) == ["Orders", "Topic"]
    # a later fragment changes what an earlier one set, and keeps the rest (a deep merge)
    assert resources["Orders"]["Properties"]["BillingMode"] == "PROVISIONED"
    assert resources["Orders"]["Properties"]["TableName"] == "shop-dev-orders"
    assert svc.resources.template["Outputs"] == {"OrdersName": {"Value": {"Ref": "Orders"}}}
    assert svc.resource_ids == frozenset({"Orders", "Topic"})


def test_lists_merge_by_index_and_empty_fragments_are_skipped() -> None:
    value, _, problems = merged(
        [
            {"Resources": {"A": {"Type": "T", "DependsOn": ["X", "Y"]}}},
            None,
            {"Resources": {"A": {"DependsOn": ["Z"]}}},
        ]
    )
    assert problems == []
    assert value == {"Resources": {"A": {"Type": "T", "DependsOn": ["Z", "Y"]}}}


def test_a_fragment_that_is_not_a_mapping_is_a_problem_at_its_line(tmp_path: Path) -> None:
    yml = BASE + "resources:\n  - ${file(table.yml)}\n  - 3\n"
    svc = load(write(tmp_path, {"serverless.yml": yml, "table.yml": "Resources:\n" + TABLE}))
    assert [(p.message, p.line) for p in svc.problems] == [
        (
            "resources[1] must be a mapping (got int): Serverless refuses a non-object item in "
            "the resources list",
            10,
        )
    ]


def test_extensions_apply_as_serverless_applies_them(tmp_path: Path) -> None:
    yml = (
        BASE + "resources:\n  Resources:\n" + TABLE + "  extensions:\n"
        "    Orders:\n"
        "      DeletionPolicy: Retain\n"
        "      Properties: {TableClass: STANDARD}\n"
        "    SaveLambdaFunction:\n"
        "      Properties: {MemorySize: 256}\n"
    )
    svc = load(write(tmp_path, {"serverless.yml": yml}))
    assert svc.resources is not None
    table = svc.resources.template["Resources"]["Orders"]
    assert table["DeletionPolicy"] == "Retain"
    assert table["Properties"]["TableClass"] == "STANDARD"
    assert table["Properties"]["BillingMode"] == "PAY_PER_REQUEST"
    assert "extensions" not in svc.resources.template
    assert svc.warnings == (
        "serverless.yml:22:7: resources.extensions.SaveLambdaFunction: SaveLambdaFunction is "
        "deployed by the toolkit without CloudFormation, so this extension is not applied "
        "(ignored)",
    )


@pytest.mark.parametrize(
    ("extra", "message", "where"),
    [
        (
            "    Bad:\n      Type: AWS::SNS::Topic\n      Properites: {}\n",
            "resources.Resources.Bad: unknown key 'Properites' (CloudFormation refuses it)",
            (19, 19),  # positions are those of values, as for every unknown key
        ),
        (
            "    NoType:\n      Properties: {}\n",
            "resources.Resources.NoType has no Type",
            (18, 7),
        ),
        (
            "    Policy:\n      Type: AWS::IAM::Policy\n      Properties:\n"
            "        Roles: [!Ref Missing]\n",
            "Ref in resources.Resources.Policy names 'Missing', which is not a resource of "
            "resources: nor a function or state machine of this service",
            (20, 17),
        ),
        (
            "    Sub:\n      Type: AWS::SNS::Subscription\n      Properties:\n"
            "        Endpoint: !GetAtt SaveLambdaFunction.Version\n",
            "Fn::GetAtt SaveLambdaFunction.Version: the toolkit deploys SaveLambdaFunction "
            "without CloudFormation and knows only its Arn",
            (20, 19),
        ),
    ],
)
def test_what_cloudformation_would_refuse_is_a_problem_at_its_line(
    tmp_path: Path, extra: str, message: str, where: tuple[int, int]
) -> None:
    yml = BASE + "resources:\n  Resources:\n" + TABLE + extra
    svc = load(write(tmp_path, {"serverless.yml": yml}))
    assert [(p.message, (p.line, p.column)) for p in svc.problems] == [(message, where)]


def test_references_from_the_service_are_recorded_and_read_from_the_stack(tmp_path: Path) -> None:
    yml = BASE.replace(
        "  runtime: python3.12\n",
        "  runtime: python3.12\n  environment:\n    TABLE: !Ref Orders\n"
        "    TABLE_ARN: ${self:resources.Outputs.OrdersArn.Value}\n",
    ) + ("resources:\n  Resources:\n" + TABLE + "  Outputs:\n    OrdersArn:\n"
         "      Value: !GetAtt Orders.Arn\n")  # fmt: skip
    folder = write(tmp_path, {"serverless.yml": yml})
    outputs = {
        "ToolRefOrders": "shop-dev-orders",
        "ToolAttOrdersArn": "arn:aws:dynamodb:us-east-1:1:table/shop-dev-orders",
    }
    svc = load(folder, resource_values=StackValues(outputs))
    assert svc.problems == ()
    assert svc.functions["save"].environment == {
        "TABLE": "shop-dev-orders",
        "TABLE_ARN": "arn:aws:dynamodb:us-east-1:1:table/shop-dev-orders",
    }
    assert svc.resource_references == (Reference("Orders"), Reference("Orders", "Arn"))


def test_values_not_known_yet_are_placeholders_that_say_so(tmp_path: Path) -> None:
    yml = BASE.replace(
        "  runtime: python3.12\n", "  runtime: python3.12\n  environment:\n    T: !Ref Orders\n"
    ) + ("resources:\n  Resources:\n" + TABLE)
    svc = load(
        write(tmp_path, {"serverless.yml": yml}), resource_values=StackValues(verb="created")
    )
    value = svc.functions["save"].environment["T"]
    assert value == "<Orders: known after the stack is created>"
    assert PENDING.fullmatch(value) and pending_in({"a": [value]}) == ["Orders"]
    # without a coming change, a value the stack does not give is a problem at its line
    svc = load(write(tmp_path, {"serverless.yml": yml}), resource_values=StackValues({}))
    assert [(p.line, p.column) for p in svc.problems] == [(6, 8)]


def test_the_template_names_the_service_by_its_values_and_outputs_what_is_read() -> None:
    template = {
        "Resources": {
            "Topic": {"Type": "AWS::SNS::Topic", "Condition": "IsProd"},
            "Alarm": {
                "Type": "AWS::CloudWatch::Alarm",
                "DependsOn": ["MainStepFunctionsStateMachine", "Topic"],
                "Properties": {
                    "Dimensions": [{"Value": {"Ref": "MainStepFunctionsStateMachine"}}],
                    "AlarmActions": [{"Ref": "Topic"}],
                    "Description": {"Fn::Sub": "${SaveLambdaFunction.Arn} and ${Topic}"},
                    "Other": {"Fn::GetAtt": ["SaveLambdaFunction", "Arn"]},
                },
            },
        }
    }
    from tooling.config.resources import ResourcesConfig

    targets = {
        "SaveLambdaFunction": ServiceTarget("shop-dev-save", {"Arn": "arn:fn"}),
        "MainStepFunctionsStateMachine": ServiceTarget("arn:sm", {"Arn": "arn:sm"}),
    }
    out = stack_template(ResourcesConfig(template), targets, (Reference("Topic", "TopicName"),))
    alarm = out["Resources"]["Alarm"]
    assert alarm["DependsOn"] == ["Topic"]
    assert alarm["Properties"] == {
        "Dimensions": [{"Value": "arn:sm"}],
        "AlarmActions": [{"Ref": "Topic"}],
        "Description": {"Fn::Sub": "arn:fn and ${Topic}"},
        "Other": "arn:fn",
    }
    assert out["Outputs"] == {
        "ToolAttTopicTopicName": {
            "Value": {"Fn::GetAtt": ["Topic", "TopicName"]},
            "Condition": "IsProd",
        }
    }


def test_output_keys_are_alphanumeric_and_distinct() -> None:
    assert Reference("Db").output_key == "ToolRefDb"
    assert Reference("Db", "Arn").output_key == "ToolAttDbArn"
    dotted = Reference("Db", "Endpoint.Address").output_key
    assert dotted.isalnum() and dotted != Reference("Db", "EndpointAddress").output_key


def test_stack_settings_come_from_the_provider(tmp_path: Path) -> None:
    yml = BASE.replace(
        "  runtime: python3.12\n",
        "  runtime: python3.12\n  stackName: shop-resources\n  stackTags: {team: a}\n"
        "  stackParameters:\n    - {ParameterKey: Env, ParameterValue: dev}\n"
        "  stackPolicy: []\n",
    ) + ("resources:\n  Parameters:\n    Env: {Type: String}\n  Resources:\n" + TABLE)
    svc = load(write(tmp_path, {"serverless.yml": yml}))
    assert svc.stack is not None
    assert (svc.stack.name, dict(svc.stack.tags), dict(svc.stack.parameters)) == (
        "shop-resources",
        {"team": "a"},
        {"Env": "dev"},
    )
    assert svc.warnings == (
        "serverless.yml:9:16: provider.stackPolicy is not applied to the stack of resources: "
        "yet (ignored)",
    )


def test_roles_and_log_destinations_from_resources_come_from_the_stack(tmp_path: Path) -> None:
    yml = (
        BASE.replace(
            "  runtime: python3.12\n",
            "  runtime: python3.12\n  iam:\n    role: !GetAtt FunctionRole.Arn\n",
        )
        + "stepFunctions:\n  stateMachines:\n    main:\n"
        "      role: !GetAtt MachineRole.Arn\n"
        "      loggingConfig:\n        level: ALL\n"
        "        destinations: [!GetAtt Logs.Arn]\n"
        "      definition: {StartAt: P, States: {P: {Type: Pass, End: true}}}\n"
        "resources:\n  Resources:\n"
        "    FunctionRole: {Type: AWS::IAM::Role}\n"
        "    MachineRole: {Type: AWS::IAM::Role}\n"
        "    Logs: {Type: AWS::Logs::LogGroup}\n"
    )
    arn = "arn:aws:iam::000000000000:role/"
    outputs = {
        "ToolAttFunctionRoleArn": arn + "fn",
        "ToolAttMachineRoleArn": arn + "sm",
        "ToolAttLogsArn": "arn:aws:logs:us-east-1:000000000000:log-group:shop-logs:*",
    }
    svc = load(write(tmp_path, {"serverless.yml": yml}), resource_values=StackValues(outputs))
    assert svc.problems == ()
    assert svc.provider["iam"]["role"] == arn + "fn"
    machine = svc.state_machines["main"]
    assert machine.role == arn + "sm"
    assert machine.logging_config["destinations"] == [outputs["ToolAttLogsArn"]]
    # the function role is the user's: the template may not name Serverless' generated one
    assert svc.resources is not None and "IamRoleLambdaExecution" not in str(svc.resources)


ROLES = """\
    FunctionRole: {Type: AWS::IAM::Role}
    OtherRole: {Type: AWS::IAM::Role}
"""


def test_a_role_written_as_a_logical_id_is_that_resources_role_as_in_serverless(
    tmp_path: Path,
) -> None:
    """Serverless reads a role that is no ARN (provider.iam.role, a function's role) as the
    logical id of a `resources:` role (compile/functions.js compileRole), not as a role name."""
    yml = (
        BASE.replace(
            "  runtime: python3.12\n", "  runtime: python3.12\n  iam:\n    role: FunctionRole\n"
        )
        + "    role: OtherRole\n"
        + "  load:\n    handler: handler.save\n"
        + "  direct:\n    handler: handler.save\n    role: arn:aws:iam::123456789012:role/direct\n"
        + "  generated:\n    handler: handler.save\n    role: IamRoleLambdaExecution\n"
        + "resources:\n  Resources:\n"
        + ROLES
    )
    arn = "arn:aws:iam::000000000000:role/"
    outputs = {"ToolAttFunctionRoleArn": arn + "fn", "ToolAttOtherRoleArn": arn + "other"}
    svc = load(write(tmp_path, {"serverless.yml": yml}), resource_values=StackValues(outputs))
    assert svc.problems == ()
    assert svc.provider["iam"]["role"] == arn + "fn"
    assert svc.functions["save"].role == arn + "other"
    assert svc.functions["direct"].role == "arn:aws:iam::123456789012:role/direct"
    assert svc.functions["load"].role is None and svc.functions["load"].uses_service_role
    assert svc.functions["generated"].role is None
    assert {"FunctionRole", "OtherRole"} <= {r.logical_id for r in svc.resource_references}


def test_a_role_naming_no_resource_is_a_problem_at_its_line(tmp_path: Path) -> None:
    yml = BASE + "    role: MissingRole\n" + "resources:\n  Resources:\n" + ROLES
    svc = load(write(tmp_path, {"serverless.yml": yml}))
    (problem,) = svc.problems
    assert problem.line == 8 and "function 'save': role" in problem.message
    assert "MissingRole" in problem.render()


def test_a_template_naming_serverless_rest_api_says_why_it_cannot(tmp_path: Path) -> None:
    """An authorizer of `resources:` on `ApiGatewayRestApi` (Serverless' REST API for http
    events, in its own stack) in a service with no http event: there is no API to name, and
    the refusal says why and what to do, not "fix the name"."""
    extra = (
        "    Authorizer:\n      Type: AWS::ApiGateway::Authorizer\n"
        "      DependsOn: [ApiGatewayRestApi]\n"
        "      Properties:\n        Name: cognito\n        Type: COGNITO_USER_POOLS\n"
        "        RestApiId: {Ref: ApiGatewayRestApi}\n"
    )
    yml = BASE + "resources:\n  Resources:\n" + TABLE + extra
    svc = load(write(tmp_path, {"serverless.yml": yml}))
    assert sorted(p.line for p in svc.problems) == [19, 23]
    for problem in svc.problems:
        assert "names 'ApiGatewayRestApi'" in problem.message
        assert "this service has no http event" in problem.message
        assert problem.hint is not None and "declare it there yourself" in problem.hint


def test_fn_if_in_the_service_follows_the_conditions_of_resources(tmp_path: Path) -> None:
    """A function's environment choosing by a condition of `resources:`, per stage."""
    yml = BASE.replace(
        "    handler: handler.save\n",
        "    handler: handler.save\n    environment:\n      TIER: !If [IsProd, gold, bronze]\n",
    ) + (
        "resources:\n  Conditions:\n"
        "    IsProd: !Equals ['${sls:stage}', prod]\n"
        "  Resources:\n" + TABLE
    )
    write(tmp_path, {"serverless.yml": yml})
    assert load(tmp_path).functions["save"].environment["TIER"] == "bronze"
    assert load(tmp_path, stage="prod").functions["save"].environment["TIER"] == "gold"
