"""The CloudFormation models tooling/localaws/moto_fixes.py adds to moto (the tests' stand-in
for AWS and the local AWS services): an API Gateway authorizer, Cognito user pools and SES
configuration sets, created, named by Ref/Fn::GetAtt in outputs, and deleted with the stack."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

REGION = "us-east-1"

TEMPLATE = {
    "Parameters": {"Api": {"Type": "String"}},
    "Resources": {
        "Pool": {"Type": "AWS::Cognito::UserPool", "Properties": {"UserPoolName": "users"}},
        "Client": {
            "Type": "AWS::Cognito::UserPoolClient",
            "Properties": {"UserPoolId": {"Ref": "Pool"}, "ClientName": "web"},
        },
        "Domain": {
            "Type": "AWS::Cognito::UserPoolDomain",
            "Properties": {"UserPoolId": {"Ref": "Pool"}, "Domain": "my-login"},
        },
        "Authorizer": {
            "Type": "AWS::ApiGateway::Authorizer",
            "Properties": {
                "RestApiId": {"Ref": "Api"},
                "Name": "cognito",
                "Type": "COGNITO_USER_POOLS",
                "IdentitySource": "method.request.header.Authorization",
                "ProviderARNs": [{"Fn::GetAtt": ["Pool", "Arn"]}],
            },
        },
    },
    "Outputs": {
        "PoolId": {"Value": {"Ref": "Pool"}},
        "PoolArn": {"Value": {"Fn::GetAtt": ["Pool", "Arn"]}},
        "ProviderName": {"Value": {"Fn::GetAtt": ["Pool", "ProviderName"]}},
        "ClientId": {"Value": {"Ref": "Client"}},
        "Domain": {"Value": {"Ref": "Domain"}},
        "AuthorizerId": {"Value": {"Ref": "Authorizer"}},
    },
}


def test_authorizers_and_user_pools_are_created_and_deleted_with_the_stack(
    aws_env: str,
) -> None:
    session = boto3.Session(region_name=REGION)
    apigateway: Any = session.client("apigateway")
    cognito: Any = session.client("cognito-idp")
    cloudformation: Any = session.client("cloudformation")
    api = apigateway.create_rest_api(name="svc")["id"]
    cloudformation.create_stack(
        StackName="svc",
        TemplateBody=json.dumps(TEMPLATE),
        Parameters=[{"ParameterKey": "Api", "ParameterValue": api}],
    )
    stack = cloudformation.describe_stacks(StackName="svc")["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}

    pool = cognito.describe_user_pool(UserPoolId=outputs["PoolId"])["UserPool"]
    assert pool["Name"] == "users" and outputs["PoolArn"] == pool["Arn"]
    assert outputs["ProviderName"] == f"cognito-idp.{REGION}.amazonaws.com/{pool['Id']}"
    clients = cognito.list_user_pool_clients(UserPoolId=pool["Id"])["UserPoolClients"]
    assert [c["ClientId"] for c in clients] == [outputs["ClientId"]]
    assert outputs["Domain"] == "my-login"
    authorizer = apigateway.get_authorizer(restApiId=api, authorizerId=outputs["AuthorizerId"])
    assert authorizer["type"] == "COGNITO_USER_POOLS"
    assert authorizer["providerARNs"] == [pool["Arn"]]

    cloudformation.delete_stack(StackName="svc")
    assert cognito.list_user_pools(MaxResults=10)["UserPools"] == []
    assert apigateway.get_authorizers(restApiId=api)["items"] == []
    # An unknown domain is described as empty, as AWS describes it.
    assert cognito.describe_user_pool_domain(Domain="my-login")["DomainDescription"] == {}


def test_a_resource_the_backend_refuses_refuses_the_stack_with_the_reason(aws_env: str) -> None:
    cloudformation: Any = boto3.Session(region_name=REGION).client("cloudformation")
    with pytest.raises(ClientError) as refused:
        cloudformation.create_stack(
            StackName="svc",
            TemplateBody=json.dumps(TEMPLATE),
            Parameters=[{"ParameterKey": "Api", "ParameterValue": "no-such-api"}],
        )
    error = refused.value.response["Error"]
    assert error["Code"] == "ValidationError"
    assert error["Message"].startswith("AWS::ApiGateway::Authorizer svc-Authorizer-")
    assert "Invalid Rest API Id specified (the resource failed)" in error["Message"]


SES_TEMPLATE = {
    "Resources": {
        "Mail": {"Type": "AWS::SES::ConfigurationSet", "Properties": {"Name": "mail"}},
        "Bounces": {
            "Type": "AWS::SES::ConfigurationSetEventDestination",
            "Properties": {
                "ConfigurationSetName": {"Ref": "Mail"},
                "EventDestination": {
                    "Name": "bounces",
                    "Enabled": True,
                    "MatchingEventTypes": ["bounce"],
                    "SnsDestination": {"TopicARN": f"arn:aws:sns:{REGION}:123456789012:t"},
                },
            },
        },
        "Pool": {
            "Type": "AWS::Cognito::UserPool",
            "Properties": {
                "UserPoolName": "users",
                "EmailConfiguration": {"ConfigurationSet": {"Ref": "Mail"}},
            },
        },
    },
    "Outputs": {"Set": {"Value": {"Ref": "Mail"}}, "Pool": {"Value": {"Ref": "Pool"}}},
}


def test_ses_configuration_sets_are_created_and_deleted_with_the_stack(aws_env: str) -> None:
    session = boto3.Session(region_name=REGION)
    ses: Any = session.client("ses")
    cloudformation: Any = session.client("cloudformation")
    cloudformation.create_stack(StackName="mail", TemplateBody=json.dumps(SES_TEMPLATE))
    stack = cloudformation.describe_stacks(StackName="mail")["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert outputs["Set"] == "mail"
    described = ses.describe_configuration_set(
        ConfigurationSetName="mail", ConfigurationSetAttributeNames=["eventDestinations"]
    )
    assert [d["Name"] for d in described["EventDestinations"]] == ["bounces"]
    cloudformation.delete_stack(StackName="mail")
    assert ses.list_configuration_sets()["ConfigurationSets"] == []
