"""Functions' `httpApi` events deployed with `--target aws` against a moto server: one HTTP API
(API Gateway v2) with its `$default` stage, a route per event with its function's AWS_PROXY
integration (payload format 2.0, or provider.httpApi.payload), JWT authorizers, CORS, a Lambda
permission per function scoped to the API's ARN; a no-op redeploy, a change, remove; and routes
added to an existing API (`provider.httpApi.id`), removed without touching the API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from .cli_runs import mutating, service_folder
from .cli_runs import recorded as run
from .conftest import MOTO_ACCOUNT, REGION

API = "dev-shop"
HELLO = "shop-dev-hello"
HELLO_ARN = f"arn:aws:lambda:{REGION}:{MOTO_ACCOUNT}:function:{HELLO}"
ADMIN_ARN = f"arn:aws:lambda:{REGION}:{MOTO_ACCOUNT}:function:shop-dev-admin"
HANDLER = "def hello(event, context):\n    return {'ok': True}\n"
SERVICE = """\
service: shop
provider:
  name: aws
  runtime: python3.12
  httpApi:
    cors: true
    metrics: true
    authorizers:
      staff:
        identitySource: $request.header.Authorization
        issuerUrl: https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc
        audience: client1
functions:
  hello:
    handler: handler.hello
    events:
      - httpApi: 'GET /hello/{id}'
      - httpApi: '*'
  admin:
    handler: handler.hello
    events:
      - httpApi:
          method: post
          path: /admin
          authorizer:
            name: staff
            scopes: [admin]
      - httpApi:
          method: delete
          path: /admin
          authorizer: {type: aws_iam}
"""


class Clients:
    def __init__(self) -> None:
        boto = boto3.Session(region_name=REGION)
        self.v2 = boto.client("apigatewayv2")
        self.lambda_ = boto.client("lambda")

    def apis(self, name: str = API) -> list[dict[str, Any]]:
        return [a for a in self.v2.get_apis()["Items"] if a["Name"] == name]

    def routes(self, api_id: str) -> dict[str, dict[str, Any]]:
        integrations = {
            i["IntegrationId"]: i for i in self.v2.get_integrations(ApiId=api_id)["Items"]
        }
        found = {}
        for route in self.v2.get_routes(ApiId=api_id)["Items"]:
            integration = integrations[route["Target"].removeprefix("integrations/")]
            found[route["RouteKey"]] = {**route, "Integration": integration}
        return found

    def policy(self, function: str) -> list[dict[str, Any]]:
        statements: list[dict[str, Any]] = json.loads(
            self.lambda_.get_policy(FunctionName=function)["Policy"]
        )["Statement"]
        return statements


@pytest.fixture
def shop(aws_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return service_folder(tmp_path, monkeypatch, {"handler.py": HANDLER, "serverless.yml": SERVICE})


def test_an_http_api_with_routes_authorizers_and_cors(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err, calls = run(capsys, "plan", "--target", "aws", "--json")
    assert code == 0, err
    assert mutating(calls) == []
    planned = {(c["kind"], c["name"]): c for c in json.loads(out)["changes"]}
    assert planned[("http api", API)]["action"] == "create"
    assert planned[("permission", f"{API} -> {HELLO_ARN}")]["dependsOn"] == [
        {"kind": "http api", "name": API},
        {"kind": "function", "name": HELLO},
    ]

    code, out, err, _ = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    clients = Clients()
    (api,) = clients.apis()
    assert api["ProtocolType"] == "HTTP"
    assert api["Tags"]["tool:service"] == "shop"
    assert sorted(api["CorsConfiguration"]["AllowMethods"]) == sorted(
        ["OPTIONS", "GET", "POST", "PUT", "PATCH", "HEAD", "DELETE"]
    )
    assert "X-Amzn-Trace-Id" in api["CorsConfiguration"]["AllowHeaders"]
    (stage,) = clients.v2.get_stages(ApiId=api["ApiId"])["Items"]
    assert stage["StageName"] == "$default"
    assert stage["AutoDeploy"] is True
    routes = clients.routes(api["ApiId"])
    assert set(routes) == {"GET /hello/{id}", "$default", "POST /admin", "DELETE /admin"}
    hello = routes["GET /hello/{id}"]
    assert hello["Integration"]["IntegrationType"] == "AWS_PROXY"
    assert hello["Integration"]["IntegrationUri"] == HELLO_ARN
    assert hello["Integration"]["PayloadFormatVersion"] == "2.0"
    assert routes["$default"]["Target"] == hello["Target"]  # one integration per function
    (authorizer,) = clients.v2.get_authorizers(ApiId=api["ApiId"])["Items"]
    assert authorizer["AuthorizerType"] == "JWT"
    assert authorizer["JwtConfiguration"] == {
        "Audience": ["client1"],
        "Issuer": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc",
    }
    admin = routes["POST /admin"]
    assert admin["AuthorizationType"] == "JWT"
    assert admin["AuthorizerId"] == authorizer["AuthorizerId"]
    assert admin["AuthorizationScopes"] == ["admin"]
    assert routes["DELETE /admin"]["AuthorizationType"] == "AWS_IAM"
    (statement,) = clients.policy(HELLO)
    assert statement["Principal"] == {"Service": "apigateway.amazonaws.com"}
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == (
        f"arn:aws:execute-api:{REGION}:{MOTO_ACCOUNT}:{api['ApiId']}/*"
    )

    code, out, err, _ = run(capsys, "info", "--target", "aws")
    assert code == 0, err
    assert f"https://{api['ApiId']}.execute-api" in out

    code, out, err, calls = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    assert out.splitlines()[-1] == "No changes."
    assert mutating(calls) == []

    changed = SERVICE.replace("'GET /hello/{id}'", "'GET /hi/{id}'").replace("    cors: true\n", "")
    (shop / "serverless.yml").write_text(changed)
    code, out, err, _ = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    assert "update    http api dev-shop" in out
    routes = clients.routes(api["ApiId"])
    assert "GET /hi/{id}" in routes
    assert "GET /hello/{id}" not in routes
    assert not clients.apis()[0].get("CorsConfiguration")

    code, out, err, _ = run(capsys, "remove", "--target", "aws")
    assert code == 0, err
    assert clients.apis() == []


def test_payload_1_0_and_routes_added_to_an_existing_api(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clients = Clients()
    theirs = clients.v2.create_api(Name="theirs", ProtocolType="HTTP")
    integration = clients.v2.create_integration(
        ApiId=theirs["ApiId"], IntegrationType="HTTP_PROXY", IntegrationUri="https://example.com",
        IntegrationMethod="GET", PayloadFormatVersion="1.0",
    )  # fmt: skip
    clients.v2.create_route(
        ApiId=theirs["ApiId"], RouteKey="GET /theirs",
        Target=f"integrations/{integration['IntegrationId']}",
    )  # fmt: skip
    (shop / "serverless.yml").write_text(
        "service: shop\nprovider:\n  name: aws\n  runtime: python3.12\n  httpApi:\n"
        f"    id: {theirs['ApiId']}\n    payload: '1.0'\n"
        "functions:\n  hello:\n    handler: handler.hello\n    events:\n"
        "      - httpApi: 'GET /hello'\n"
    )
    code, out, err, _ = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    routes = clients.routes(theirs["ApiId"])
    assert set(routes) == {"GET /theirs", "GET /hello"}
    assert routes["GET /hello"]["Integration"]["PayloadFormatVersion"] == "1.0"
    (statement,) = clients.policy(HELLO)
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"].endswith(f":{theirs['ApiId']}/*")

    code, out, err, calls = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    assert mutating(calls) == []

    code, out, err, _ = run(capsys, "remove", "--target", "aws")
    assert code == 0, err
    assert set(clients.routes(theirs["ApiId"])) == {"GET /theirs"}
    assert [a["Name"] for a in clients.v2.get_apis()["Items"]] == ["theirs"]


def test_resources_naming_the_http_api(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`resources:` may name `HttpApi` (Serverless' logical id): the API exists before the
    stack, which gets its id and endpoint; its routes come with the rest of the service."""
    (shop / "serverless.yml").write_text(
        SERVICE + "resources:\n  Resources:\n    ApiId:\n      Type: AWS::SSM::Parameter\n"
        "      Properties:\n        Name: /shop/api\n        Type: String\n"
        "        Value: {Ref: HttpApi}\n"
        "  Outputs:\n    Url:\n      Value: {Fn::GetAtt: [HttpApi, ApiEndpoint]}\n"
    )
    code, out, err, _ = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    clients = Clients()
    (api,) = clients.apis()
    ssm = boto3.client("ssm", region_name=REGION)
    assert ssm.get_parameter(Name="/shop/api")["Parameter"]["Value"] == api["ApiId"]
    (stack,) = boto3.client("cloudformation", region_name=REGION).describe_stacks(
        StackName="shop-dev"
    )["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert outputs["Url"] == api["ApiEndpoint"]
    assert set(clients.routes(api["ApiId"])) == {
        "GET /hello/{id}", "$default", "POST /admin", "DELETE /admin",
    }  # fmt: skip
    assert "create    http api dev-shop" in out

    code, out, err, calls = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    assert mutating(calls) == []

    code, out, err, _ = run(capsys, "remove", "--target", "aws")
    assert code == 0, err
    assert clients.apis() == []


def test_a_lambda_request_authorizer(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`type: request` (a function of the service): a REQUEST authorizer calling it, the routes
    naming it CUSTOM, and a permission letting the API invoke the authorizer function."""
    (shop / "serverless.yml").write_text(
        "service: shop\nprovider:\n  name: aws\n  runtime: python3.12\n  httpApi:\n"
        "    authorizers:\n      gate:\n        type: request\n        functionName: auth\n"
        "        identitySource: $request.header.Authorization\n"
        "        enableSimpleResponses: true\n"
        "functions:\n  auth:\n    handler: handler.hello\n"
        "  hello:\n    handler: handler.hello\n    events:\n"
        "      - httpApi: {method: get, path: /hello, authorizer: gate}\n"
    )
    code, out, err, _ = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    clients = Clients()
    (api,) = clients.apis()
    (authorizer,) = clients.v2.get_authorizers(ApiId=api["ApiId"])["Items"]
    assert authorizer["AuthorizerType"] == "REQUEST"
    assert authorizer["AuthorizerUri"] == (
        f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/"
        f"arn:aws:lambda:{REGION}:{MOTO_ACCOUNT}:function:shop-dev-auth/invocations"
    )
    route = clients.routes(api["ApiId"])["GET /hello"]
    assert (route["AuthorizationType"], route["AuthorizerId"]) == (
        "CUSTOM", authorizer["AuthorizerId"],
    )  # fmt: skip
    (statement,) = clients.policy("shop-dev-auth")
    assert statement["Principal"] == {"Service": "apigateway.amazonaws.com"}
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"].endswith(f":{api['ApiId']}/*")

    code, out, err, calls = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    assert mutating(calls) == []
    code, out, err, _ = run(capsys, "remove", "--target", "aws")
    assert code == 0, err


def test_an_existing_api_named_by_an_export(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`provider.httpApi.id: {Fn::ImportValue: ...}`, as Serverless takes it."""
    clients = Clients()
    theirs = clients.v2.create_api(Name="theirs", ProtocolType="HTTP")
    template = {
        "Resources": {"Id": {"Type": "AWS::SSM::Parameter",
                             "Properties": {"Name": "/shared/api", "Type": "String",
                                            "Value": theirs["ApiId"]}}},
        "Outputs": {"Id": {"Value": theirs["ApiId"], "Export": {"Name": "shared-api-id"}}},
    }  # fmt: skip
    boto3.client("cloudformation", region_name=REGION).create_stack(
        StackName="shared", TemplateBody=json.dumps(template)
    )
    (shop / "serverless.yml").write_text(
        "service: shop\nprovider:\n  name: aws\n  runtime: python3.12\n  httpApi:\n"
        "    id: {Fn::ImportValue: shared-api-id}\n"
        "functions:\n  hello:\n    handler: handler.hello\n    events:\n"
        "      - httpApi: 'GET /hello'\n"
    )
    code, out, err, _ = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    assert set(clients.routes(theirs["ApiId"])) == {"GET /hello"}
    assert [a["Name"] for a in clients.v2.get_apis()["Items"]] == ["theirs"]
