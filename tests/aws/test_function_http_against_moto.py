"""Functions' http events deployed with `--target aws` against a moto server: one REST API for
the functions' Lambda proxy methods and a state machine's, a Lambda permission per function,
CORS preflights, a no-op redeploy, remove; and `resources:` naming `ApiGatewayRestApi` (an
authorizer on it, which a function's http event names), the pattern of two field projects
that main refused (issue 15)."""

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
ORDERS = "shop-dev-orders"
HANDLER = """\
import json


def hello(event, context):
    return {"statusCode": 200, "body": json.dumps({"id": event["pathParameters"]["id"]})}
"""
SERVICE = """\
service: shop
provider:
  name: aws
  runtime: python3.12
functions:
  hello:
    handler: handler.hello
    events:
      - http: GET hello/{id}
      - http:
          path: hello
          method: any
          cors: true
          request:
            parameters:
              querystrings:
                q: true
              headers:
                X-Trace: false
  orders:
    handler: handler.hello
    events:
      - http:
          path: orders/{id}
          method: get
          private: true
stepFunctions:
  stateMachines:
    main:
      definition:
        StartAt: Hello
        States:
          Hello: {Type: Task, Resource: {Fn::GetAtt: [hello, Arn]}, End: true}
      events:
        - http: POST orders
"""
AUTHORIZER = """\
resources:
  Resources:
    ApiGatewayAuthorizer:
      Type: AWS::ApiGateway::Authorizer
      DependsOn: [ApiGatewayRestApi]
      Properties:
        Name: cognito
        IdentitySource: method.request.header.Authorization
        RestApiId: {Ref: ApiGatewayRestApi}
        Type: COGNITO_USER_POOLS
        ProviderARNs: [arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_abc]
    Root:
      Type: AWS::SSM::Parameter
      Properties:
        Name: /shop/root
        Type: String
        Value: {Fn::GetAtt: [ApiGatewayRestApi, RootResourceId]}
"""
WITH_AUTHORIZER = """\
      - http:
          path: me
          method: get
          cors: true
          authorizer:
            type: COGNITO_USER_POOLS
            authorizerId: {Ref: ApiGatewayAuthorizer}
            scopes: [email]
"""


class Clients:
    def __init__(self) -> None:
        boto = boto3.Session(region_name=REGION)
        self.apigateway = boto.client("apigateway")
        self.lambda_ = boto.client("lambda")
        self.ssm = boto.client("ssm")
        self.cloudformation = boto.client("cloudformation")

    def api(self, name: str = API) -> dict[str, Any]:
        (api,) = [a for a in self.apigateway.get_rest_apis()["items"] if a["name"] == name]
        return dict(api)

    def methods(self, api_id: str) -> dict[tuple[str, str], dict[str, Any]]:
        resources = self.apigateway.get_resources(restApiId=api_id, embed=["methods"])["items"]
        return {
            (resource["path"], verb): method
            for resource in resources
            for verb, method in (resource.get("resourceMethods") or {}).items()
        }

    def policy(self, function: str) -> list[dict[str, Any]]:
        statements: list[dict[str, Any]] = json.loads(
            self.lambda_.get_policy(FunctionName=function)["Policy"]
        )["Statement"]
        return statements


@pytest.fixture
def shop(aws_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return service_folder(tmp_path, monkeypatch, {"handler.py": HANDLER, "serverless.yml": SERVICE})


def test_function_routes_share_the_rest_api_with_the_state_machines(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err, calls = run(capsys, "plan", "--target", "aws", "--json")
    assert code == 0, err
    assert mutating(calls) == []
    planned = {(c["kind"], c["name"]): c for c in json.loads(out)["changes"]}
    assert planned[("rest api", API)]["dependsOn"] == [
        {"kind": "role", "name": "shop-dev-us-east-1-apiGateway"},
        {"kind": "state machine", "name": "shop-dev-main"},
        {"kind": "function", "name": HELLO},
        {"kind": "function", "name": ORDERS},
    ]
    permission = planned[("permission", f"{API} -> {HELLO_ARN}")]
    assert permission["action"] == "create"
    assert permission["dependsOn"] == [
        {"kind": "rest api", "name": API},
        {"kind": "function", "name": HELLO},
    ]

    code, out, err, _ = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    api = Clients().api()
    clients = Clients()
    methods = clients.methods(api["id"])
    assert set(methods) == {
        ("/hello/{id}", "GET"),
        ("/hello", "ANY"),
        ("/hello", "OPTIONS"),
        ("/orders/{id}", "GET"),
        ("/orders", "POST"),
    }
    proxy = methods[("/hello/{id}", "GET")]["methodIntegration"]
    assert proxy["type"] == "AWS_PROXY"
    assert proxy["httpMethod"] == "POST"
    assert proxy["uri"] == (
        f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{HELLO_ARN}/invocations"
    )
    assert methods[("/hello", "ANY")]["requestParameters"] == {
        "method.request.querystring.q": True,
        "method.request.header.X-Trace": False,
    }
    assert methods[("/orders/{id}", "GET")]["apiKeyRequired"] is True
    assert methods[("/orders", "POST")]["methodIntegration"]["type"] == "AWS"  # the machine's
    preflight = methods[("/hello", "OPTIONS")]["methodIntegration"]["integrationResponses"]["200"]
    allow = preflight["responseParameters"]
    assert allow["method.response.header.Access-Control-Allow-Methods"] == (
        "'OPTIONS,DELETE,GET,HEAD,PATCH,POST,PUT'"
    )
    assert "X-Amzn-Trace-Id" in allow["method.response.header.Access-Control-Allow-Headers"]
    assert "method.response.header.Access-Control-Allow-Credentials" not in allow
    (statement,) = clients.policy(HELLO)
    assert statement["Principal"] == {"Service": "apigateway.amazonaws.com"}
    assert statement["Action"] == "lambda:InvokeFunction"
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == (
        f"arn:aws:execute-api:{REGION}:{MOTO_ACCOUNT}:{api['id']}/*/*"
    )
    assert [s["Condition"]["ArnLike"]["AWS:SourceArn"] for s in clients.policy(ORDERS)] == [
        f"arn:aws:execute-api:{REGION}:{MOTO_ACCOUNT}:{api['id']}/*/*"
    ]

    code, out, err, calls = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    assert out.splitlines()[-1] == "No changes."
    assert mutating(calls) == []

    code, out, err, _ = run(capsys, "remove", "--target", "aws")
    assert code == 0, err
    assert [a for a in clients.apigateway.get_rest_apis()["items"] if a["name"] == API] == []
    assert clients.lambda_.list_functions()["Functions"] == []


def test_resources_naming_the_rest_api_and_an_authorizer_of_it(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The two field projects' pattern: an authorizer in `resources:` on `ApiGatewayRestApi`,
    named by a function's http event. The API exists before the stack (its id in the
    template), the methods come after it (the authorizer's id read from the stack)."""
    config = shop / "serverless.yml"
    text = SERVICE.replace(
        "      - http: GET hello/{id}\n", "      - http: GET hello/{id}\n" + WITH_AUTHORIZER
    )
    config.write_text(text + AUTHORIZER)
    code, out, err, calls = run(capsys, "plan", "--target", "aws")
    assert code == 0, err
    assert mutating(calls) == []

    code, out, err, calls = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    clients = Clients()
    api = clients.api()
    ops = mutating(calls)
    assert ops.index("CreateRestApi") < ops.index("CreateChangeSet") < ops.index("PutMethod")
    assert ops.count("CreateRestApi") == 1
    root = next(r for r in clients.apigateway.get_resources(restApiId=api["id"])["items"]
                if r["path"] == "/")  # fmt: skip
    assert clients.ssm.get_parameter(Name="/shop/root")["Parameter"]["Value"] == root["id"]
    template = clients.cloudformation.get_template(StackName="shop-dev")["TemplateBody"]
    template = json.loads(template) if isinstance(template, str) else template
    authorizer = template["Resources"]["ApiGatewayAuthorizer"]
    assert authorizer["Properties"]["RestApiId"] == api["id"]
    assert "DependsOn" not in authorizer  # the API is not in the stack
    method = clients.methods(api["id"])[("/me", "GET")]
    assert method["authorizationType"] == "COGNITO_USER_POOLS"
    assert method["authorizationScopes"] == ["email"]

    code, out, err, calls = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    assert out.splitlines()[-1] == "No changes."
    assert mutating(calls) == []

    code, out, err, _ = run(capsys, "remove", "--target", "aws")
    assert code == 0, err
    assert [a for a in clients.apigateway.get_rest_apis()["items"] if a["name"] == API] == []
    stacks = clients.cloudformation.list_stacks()["StackSummaries"]
    assert {s["StackStatus"] for s in stacks if s["StackName"] == "shop-dev"} <= {"DELETE_COMPLETE"}


def test_nothing_is_made_before_the_stack_when_a_check_fails(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = SERVICE.replace(
        "      - http: GET hello/{id}\n", "      - http: GET hello/{id}\n" + WITH_AUTHORIZER
    )
    (shop / "serverless.yml").write_text(text + AUTHORIZER)
    (shop / "handler.py").write_text("def other(event, context):\n    return {}\n")
    code, out, err, calls = run(capsys, "deploy", "--target", "aws")
    assert code == 2, err
    assert "hello" in err
    assert mutating(calls) == []


GATEWAY_RESPONSE = """\
resources:
  Resources:
    GatewayResponseDefault4XX:
      Type: AWS::ApiGateway::GatewayResponse
      Properties:
        ResponseParameters:
          gatewayresponse.header.Access-Control-Allow-Origin: "'*'"
        ResponseType: DEFAULT_4XX
        RestApiId: {Ref: ApiGatewayRestApi}
"""


@pytest.mark.filterwarnings("ignore:Tried to parse AWS")  # moto skips the gateway response
def test_a_template_naming_the_api_and_nothing_the_service_reads(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Serverless users' CORS gateway response on `ApiGatewayRestApi`: the service reads no
    value from the stack, so the whole API (methods and deployment) comes before the stack,
    which holds the API's id (moto's CloudFormation skips the gateway response itself)."""
    (shop / "serverless.yml").write_text(SERVICE + GATEWAY_RESPONSE)
    code, out, err, calls = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    ops = mutating(calls)
    assert ops.index("CreateRestApi") < ops.index("PutMethod") < ops.index("CreateChangeSet")
    clients = Clients()
    api = clients.api()
    template = clients.cloudformation.get_template(StackName="shop-dev")["TemplateBody"]
    template = json.loads(template) if isinstance(template, str) else template
    response = template["Resources"]["GatewayResponseDefault4XX"]["Properties"]
    assert response["RestApiId"] == api["id"]
    code, out, err, calls = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    assert mutating(calls) == []
    code, out, err, _ = run(capsys, "remove", "--target", "aws")
    assert code == 0, err
    lines = out.splitlines()
    assert lines.index("delete    stack shop-dev (tool remove)") < lines.index(
        f"delete    rest api {API} (tool remove)"
    )


def test_the_plan_says_the_api_is_made_before_the_stack(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = SERVICE.replace(
        "      - http: GET hello/{id}\n", "      - http: GET hello/{id}\n" + WITH_AUTHORIZER
    )
    (shop / "serverless.yml").write_text(text + AUTHORIZER)
    code, out, err, calls = run(capsys, "plan", "--target", "aws", "--json")
    assert code == 0, err
    assert mutating(calls) == []
    planned = {(c["kind"], c["name"]): c for c in json.loads(out)["changes"]}
    assert planned[("rest api", API)]["reasons"] == [
        "made before the stack (resources: names ApiGatewayRestApi), its methods after",
        "uses values known after the stack is created: ApiGatewayAuthorizer",
    ]
    stack = planned[("stack", "shop-dev")]
    assert stack["action"] == "create"


LAMBDA_INTEGRATION = """\
service: shop
provider:
  name: aws
  runtime: python3.12
functions:
  hello:
    handler: handler.hello
    events:
      - http:
          path: cakes
          method: post
          integration: lambda
          cors: true
          request:
            parameters: {headers: {X-Trace: false}}
            template:
              application/x-www-form-urlencoded: null
          response:
            headers: {X-Kind: "'cake'"}
            statusCodes:
              201: {pattern: ''}
              409: {pattern: '.*exists.*', template: '{"conflict": true}'}
      - http: {path: later, method: post, async: true}
"""


def test_the_lambda_integration_and_async_deploy_as_serverless_compiles_them(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tooling.config.function_http_integrations import (
        DEFAULT_JSON_TEMPLATE,
        DEFAULT_STATUS_CODES,
    )

    (shop / "serverless.yml").write_text(LAMBDA_INTEGRATION)
    code, out, err, _ = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    clients = Clients()
    api = clients.api()
    methods = clients.methods(api["id"])
    cakes = methods[("/cakes", "POST")]
    integration = cakes["methodIntegration"]
    assert integration["type"] == "AWS"
    assert integration["uri"] == (
        f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{HELLO_ARN}/invocations"
    )
    assert integration["passthroughBehavior"] == "NEVER"
    assert integration["requestTemplates"] == {
        "application/json": DEFAULT_JSON_TEMPLATE.replace("extraCognitoPoolClaims", "")
    }
    assert integration["requestParameters"] == {
        "integration.request.header.X-Trace": "method.request.header.X-Trace"
    }
    responses = integration["integrationResponses"]
    assert set(responses) == {"201", "409"}
    assert responses["409"]["selectionPattern"] == ".*exists.*"
    assert responses["409"]["responseTemplates"] == {"application/json": '{"conflict": true}'}
    assert responses["201"]["responseParameters"] == {
        "method.response.header.Access-Control-Allow-Origin": "'*'",
        "method.response.header.X-Kind": "'cake'",
    }
    assert set(cakes["methodResponses"]) == {"201", "409"}
    assert cakes["methodResponses"]["409"]["responseParameters"] == {
        "method.response.header.Access-Control-Allow-Origin": True,
        "method.response.header.X-Kind": True,
    }
    later = methods[("/later", "POST")]["methodIntegration"]
    assert later["type"] == "AWS"
    assert later["requestParameters"] == {
        "integration.request.header.X-Amz-Invocation-Type": "'Event'"
    }
    assert set(later["integrationResponses"]) == set(DEFAULT_STATUS_CODES)

    code, out, err, calls = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    assert out.splitlines()[-1] == "No changes."
    assert mutating(calls) == []

    # a changed response is put again; the rest stays
    (shop / "serverless.yml").write_text(LAMBDA_INTEGRATION.replace("'cake'", "'pie'"))
    code, out, err, calls = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    assert "PutIntegrationResponse" in mutating(calls)
    cakes = clients.methods(api["id"])[("/cakes", "POST")]
    assert (
        cakes["methodIntegration"]["integrationResponses"]["201"]["responseParameters"][
            "method.response.header.X-Kind"
        ]
        == "'pie'"
    )

    code, out, err, _ = run(capsys, "remove", "--target", "aws")
    assert code == 0, err
    assert [a for a in clients.apigateway.get_rest_apis()["items"] if a["name"] == API] == []


OTHER_INTEGRATIONS = """\
service: shop
provider:
  name: aws
  runtime: python3.12
functions:
  hello:
    handler: handler.hello
    events:
      - http:
          path: files/{proxy+}
          method: any
          integration: http-proxy
          request:
            uri: https://example.com/{proxy}
            parameters: {paths: {proxy: true}}
      - http:
          path: items
          method: get
          integration: http
          request: {uri: 'https://example.com/items', method: post}
          response: {statusCodes: {200: {pattern: ''}, 404: {pattern: '404'}}}
      - http:
          path: ping
          method: get
          integration: mock
          request: {template: {application/json: '{"statusCode": 200}'}}
          response: {statusCodes: {200: {pattern: '', template: pong}}}
"""


def test_http_http_proxy_and_mock_deploy_as_serverless_compiles_them(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (shop / "serverless.yml").write_text(OTHER_INTEGRATIONS)
    code, out, err, _ = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    clients = Clients()
    methods = clients.methods(clients.api()["id"])
    proxy = methods[("/files/{proxy+}", "ANY")]["methodIntegration"]
    assert (proxy["type"], proxy["uri"], proxy["httpMethod"]) == (
        "HTTP_PROXY", "https://example.com/{proxy}", "ANY")  # fmt: skip
    assert proxy["requestParameters"] == {
        "integration.request.path.proxy": "method.request.path.proxy"
    }
    http = methods[("/items", "GET")]["methodIntegration"]
    assert (http["type"], http["httpMethod"]) == ("HTTP", "POST")
    assert set(http["integrationResponses"]) == {"200", "404"}
    mock = methods[("/ping", "GET")]["methodIntegration"]
    assert mock["type"] == "MOCK"
    assert mock["requestTemplates"] == {"application/json": '{"statusCode": 200}'}
    assert mock["integrationResponses"]["200"]["responseTemplates"] == {"application/json": "pong"}

    code, out, err, calls = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    assert out.splitlines()[-1] == "No changes."
    assert mutating(calls) == []
    code, out, err, _ = run(capsys, "remove", "--target", "aws")
    assert code == 0, err


def test_the_rest_api_s_own_settings_deploy_and_change_in_place(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """provider.apiGateway.binaryMediaTypes, minimumCompressionSize and apiKeySourceType, as
    Serverless' compileRestApi sets them; a change is one UpdateRestApi."""
    yml = shop / "serverless.yml"
    yml.write_text(
        yml.read_text().replace(
            "  runtime: python3.12\n",
            "  runtime: python3.12\n  apiGateway:\n    binaryMediaTypes: [image/png, '*/*']\n"
            "    minimumCompressionSize: 1024\n    apiKeySourceType: authorizer\n",
        )
    )
    code, _, err, _ = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    apigateway: Any = boto3.Session(region_name=REGION).client("apigateway")
    (api,) = [a for a in apigateway.get_rest_apis()["items"] if a["name"] == API]
    assert sorted(api["binaryMediaTypes"]) == ["*/*", "image/png"]
    assert api["minimumCompressionSize"] == 1024 and api["apiKeySource"] == "AUTHORIZER"

    code, out, err, calls = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    assert out.splitlines()[-1] == "No changes." and mutating(calls) == []

    yml.write_text(
        yml.read_text()
        .replace("[image/png, '*/*']", "[image/jpeg]")
        .replace("    minimumCompressionSize: 1024\n", "")
        .replace("apiKeySourceType: authorizer", "apiKeySourceType: HEADER")
    )
    code, _, err, calls = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    assert "UpdateRestApi" in mutating(calls) and "CreateRestApi" not in mutating(calls)
    api = apigateway.get_rest_api(restApiId=api["id"])
    assert api["binaryMediaTypes"] == ["image/jpeg"]
    assert api.get("minimumCompressionSize") is None and api["apiKeySource"] == "HEADER"
    code, out, err, calls = run(capsys, "deploy", "--target", "aws")
    assert code == 0 and mutating(calls) == []
