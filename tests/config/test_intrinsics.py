from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from tooling.config.intrinsics import (
    FunctionTarget,
    IntrinsicContext,
    function_logical_id,
    resolve_intrinsics,
    resolve_with_report,
)
from tooling.errors import DefinitionError
from tooling.names import partition_for
from tooling.sourcemap import load_json

HELLO_ARN = "arn:aws:lambda:eu-west-1:123456789012:function:svc-dev-hello"
CONTEXT = IntrinsicContext(
    functions={
        "hello": FunctionTarget("svc-dev-hello", HELLO_ARN),
        "say-bye": FunctionTarget(
            "svc-dev-say-bye", "arn:aws:lambda:eu-west-1:123456789012:function:svc-dev-say-bye"
        ),
    },
    region="eu-west-1",
    account_id="123456789012",
    stack_name="svc-dev",
    other_resources=frozenset({"MyQueue"}),
)


def resolved(value: Any) -> Any:
    result, warnings = resolve_intrinsics(value, CONTEXT)
    assert warnings == []
    return result


@pytest.mark.parametrize(
    ("key", "logical_id"),
    [
        ("hello", "HelloLambdaFunction"),
        ("hello-world", "HelloDashworldLambdaFunction"),
        ("my_fn", "MyUnderscorefnLambdaFunction"),
        ("Already", "AlreadyLambdaFunction"),
    ],
)
def test_function_logical_id(key: str, logical_id: str) -> None:
    assert function_logical_id(key) == logical_id


@pytest.mark.parametrize(
    "value",
    [
        {"Fn::GetAtt": ["hello", "Arn"]},
        {"Fn::GetAtt": ["HelloLambdaFunction", "Arn"]},
        {"Fn::GetAtt": "hello.Arn"},
        {"Fn::Sub": "${hello.Arn}"},
        {"Fn::Sub": "${HelloLambdaFunction.Arn}"},
        {"Fn::Join": [":", ["arn:aws:lambda:eu-west-1:123456789012:function", {"Ref": "hello"}]]},
        "arn:#{AWS::Partition}:lambda:#{AWS::Region}:#{AWS::AccountId}:function:svc-dev-hello",
    ],
)
def test_forms_that_give_the_function_arn(value: Any) -> None:
    assert resolved({"Resource": value}) == {"Resource": HELLO_ARN}


def test_ref_gives_the_function_name_and_pseudo_parameters() -> None:
    assert resolved({"Ref": "hello"}) == "svc-dev-hello"
    assert resolved({"Ref": "SayDashbyeLambdaFunction"}) == "svc-dev-say-bye"
    assert resolved({"Ref": "AWS::Region"}) == "eu-west-1"
    assert resolved({"Ref": "AWS::StackName"}) == "svc-dev"


def test_sub_with_variables_map_and_escapes() -> None:
    value = {
        "Fn::Sub": [
            "${Fn}@${AWS::AccountId}/${!Literal}/${hello}",
            {"Fn": {"Fn::GetAtt": ["say-bye", "Arn"]}},
        ]
    }
    assert resolved(value) == (
        "arn:aws:lambda:eu-west-1:123456789012:function:svc-dev-say-bye@123456789012"
        "/${Literal}/svc-dev-hello"
    )


def test_nested_intrinsics_inside_a_definition() -> None:
    definition: dict[str, Any] = {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Task", "Resource": {"Fn::GetAtt": ["hello", "Arn"]}, "End": True},
            "B": {"Type": "Pass", "Result": {"region": "#{AWS::Region}", "n": 1}, "End": True},
        },
    }
    result = resolved(definition)
    assert result["States"]["A"]["Resource"] == HELLO_ARN
    assert result["States"]["B"]["Result"] == {"region": "eu-west-1", "n": 1}
    assert definition["States"]["A"]["Resource"] == {"Fn::GetAtt": ["hello", "Arn"]}  # untouched


def test_unknown_function_suggests_the_closest_name_with_position() -> None:
    text = '{\n  "States": {\n    "A": {"Resource": {"Fn::GetAtt": ["helo", "Arn"]}}\n  }\n}'
    definition, source = load_json(text, "statemachine.asl.json")
    with pytest.raises(DefinitionError) as caught:
        resolve_intrinsics(definition, CONTEXT, source)
    err = caught.value
    assert "'helo'" in err.message
    assert err.hint == "did you mean 'hello'?"
    assert (err.file, err.line) == ("statemachine.asl.json", 3)


def test_unknown_attribute_is_an_error() -> None:
    with pytest.raises(DefinitionError, match="only the Arn attribute"):
        resolve_intrinsics({"Fn::GetAtt": ["hello", "Version"]}, CONTEXT)


def test_unsupported_intrinsic_is_an_error() -> None:
    with pytest.raises(DefinitionError, match="Fn::GetAZs is not supported"):
        resolve_intrinsics({"Fn::GetAZs": ""}, CONTEXT)


def test_resource_from_resources_section_is_left_with_a_warning() -> None:
    value = {"QueueUrl": {"Ref": "MyQueue"}}
    result, warnings = resolve_intrinsics(value, CONTEXT)
    assert result == value
    assert len(warnings) == 1 and "MyQueue" in warnings[0]


@pytest.mark.parametrize(
    ("region", "partition"),
    [("us-east-1", "aws"), ("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov")],
)
def test_partition_for(region: str, partition: str) -> None:
    assert partition_for(region) == partition


def test_a_join_holding_an_unknown_resources_value_is_left_whole() -> None:
    """A `resources:` value with no stack yet inside Fn::Join (directly, or through an import
    of the service's own export, as a real IAM statement has it): the whole Join is left as
    written and reported once, not refused as "values must be a list of strings"."""
    context = replace(CONTEXT, own_exports={"svc-dev-QueueArn": {"Fn::GetAtt": ["MyQueue", "Arn"]}})
    for item in ({"Fn::GetAtt": ["MyQueue", "Arn"]}, {"Fn::ImportValue": "svc-dev-QueueArn"}):
        join = {"Fn::Join": ["", ["x:", {"Fn::Sub": "${AWS::Region}"}, item]]}
        report = resolve_with_report({"Resource": join}, context)
        assert report.value == {"Resource": join}
        assert [u.pointer for u in report.unresolved] == ["/Resource"]
        assert "MyQueue" in report.unresolved[0].message


def test_an_import_of_the_services_own_export_is_the_exported_value() -> None:
    """`Fn::ImportValue` of a name the service's own `resources:` Outputs export: the value of
    that output (CloudFormation would refuse an import from the stack being made; Serverless
    users import their own exports in functions, deployed after the stack)."""
    context = replace(CONTEXT, own_exports={"svc-dev-Fn": {"Ref": "hello"}})
    result, warnings = resolve_intrinsics({"Fn::ImportValue": "svc-dev-Fn"}, context)
    assert (result, warnings) == ("svc-dev-hello", [])


class Pending:
    """A stack about to be created: its values are placeholders (tooling.config.resources)."""

    def ref(self, logical_id: str) -> str:
        return f"<{logical_id}: known after the stack is created>"

    def get_att(self, logical_id: str, attribute: str) -> str:
        return f"<{logical_id}.{attribute}: known after the stack is created>"


def test_select_split_base64_and_find_in_map_as_cloudformation_computes_them() -> None:
    context = replace(CONTEXT, mappings={"Stages": {"dev": {"Memory": "256", "Tags": ["a", "b"]}}})
    arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders"
    value = {
        "Table": {"Fn::Select": [1, {"Fn::Split": ["/", arn]}]},
        "First": {"Fn::Select": ["0", ["x", "y"]]},
        "Encoded": {"Fn::Base64": {"Fn::Sub": "${AWS::Region}"}},
        "Memory": {"Fn::FindInMap": ["Stages", "dev", "Memory"]},
        "Tags": {"Fn::FindInMap": ["Stages", {"Fn::Sub": "dev"}, "Tags"]},
    }
    result, warnings = resolve_intrinsics(value, context)
    assert warnings == []
    assert result == {
        "Table": "orders",
        "First": "x",
        "Encoded": "ZXUtd2VzdC0x",
        "Memory": "256",
        "Tags": ["a", "b"],
    }


def test_a_split_of_a_value_the_stack_gives_later_stays_pending() -> None:
    context = replace(CONTEXT, resource_values=Pending())
    value = {"Fn::Select": [1, {"Fn::Split": ["/", {"Fn::GetAtt": ["MyQueue", "Arn"]}]}]}
    result, _ = resolve_intrinsics(value, context)
    assert result == "<MyQueue.Arn: known after the stack is created>"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"Fn::Select": [2, ["a", "b"]]}, "index 2 is out of range: the list has 2 values"),
        ({"Fn::FindInMap": ["Nope", "a", "b"]}, "Mappings of resources: has no 'Nope'"),
        ({"Fn::Split": ["", "a"]}, "Fn::Split needs [delimiter, text]"),
    ],
)
def test_what_cloudformation_refuses_is_an_error(value: Any, message: str) -> None:
    with pytest.raises(DefinitionError) as refused:
        resolve_intrinsics(value, CONTEXT)
    assert message in refused.value.message


CONDITIONS = {
    "IsProd": {"Fn::Equals": [{"Ref": "AWS::Region"}, "eu-west-1"]},
    "IsDev": {"Fn::Not": [{"Condition": "IsProd"}]},
    "Both": {"Fn::And": [{"Condition": "IsProd"}, {"Fn::Equals": ["a", "a"]}]},
    "Either": {"Fn::Or": [{"Condition": "IsDev"}, {"Fn::Equals": ["a", "b"]}]},
    "Loop": {"Condition": "Loop"},
    "Odd": {"Fn::Contains": ["a", "b"]},
}


def test_fn_if_follows_the_conditions_of_resources() -> None:
    context = replace(CONTEXT, conditions=CONDITIONS)
    value = {
        "Memory": {"Fn::If": ["IsProd", 1024, 128]},
        "Name": {"Fn::If": ["IsDev", "dev", {"Fn::Sub": "${AWS::Region}-prod"}]},
        "Both": {"Fn::If": ["Both", "yes", "no"]},
        "Either": {"Fn::If": ["Either", "yes", "no"]},
        "Dropped": {"Fn::If": ["IsProd", {"Ref": "AWS::NoValue"}, "kept"]},
        "List": ["a", {"Fn::If": ["IsProd", {"Ref": "AWS::NoValue"}, "b"]}],
        "Function": {"Fn::If": ["IsProd", {"Fn::GetAtt": ["hello", "Arn"]}, "x"]},
    }
    result, warnings = resolve_intrinsics(value, context)
    assert warnings == []
    assert result["Memory"] == 1024 and result["Name"] == "eu-west-1-prod"
    assert (result["Both"], result["Either"]) == ("yes", "no")
    assert "Dropped" not in result and result["List"] == ["a"]
    assert result["Function"].endswith(":function:svc-dev-hello")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"Fn::If": ["Nope", 1, 2]}, "condition 'Nope', which the Conditions of resources:"),
        ({"Fn::If": ["Loop", 1, 2]}, "Condition Loop refers to itself"),
        ({"Fn::If": ["Odd", 1, 2]}, "condition 'Odd' is not one the toolkit evaluates"),
        ({"Fn::If": ["IsProd", 1]}, "Fn::If needs [condition name, value if true"),
    ],
)
def test_conditions_cloudformation_refuses_are_errors(value: Any, message: str) -> None:
    with pytest.raises(DefinitionError) as refused:
        resolve_intrinsics(value, replace(CONTEXT, conditions=CONDITIONS))
    assert message in refused.value.message
