"""REST API authorizers the http events make, deployed with `--target aws` against a moto
server (issue 15): a TOKEN authorizer calling a function of the service, shared by a function's
event and a state machine's, a REQUEST one and a Cognito one; the methods name them, the
authorizer function gets a Lambda permission for the API's authorizers (none with
`managedExternally`), a redeploy with nothing changed changes nothing, a changed or dropped
authorizer is updated or deleted, `remove` deletes it all; a deploy stopped between the
authorizer and the methods is finished by the next one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from .cli_runs import mutating, service_folder, stopped_at
from .cli_runs import recorded as run
from .conftest import MOTO_ACCOUNT, REGION

API = "dev-shop"
AUTH_ARN = f"arn:aws:lambda:{REGION}:{MOTO_ACCOUNT}:function:shop-dev-auth"
POOL = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_abc"
HANDLER = """\
def auth(event, context):
    return {"principalId": "u", "policyDocument": {"Version": "2012-10-17", "Statement": []}}


def hello(event, context):
    return {"statusCode": 200, "body": "hi"}
"""
SERVICE = f"""\
service: shop
provider:
  name: aws
  runtime: python3.12
functions:
  auth:
    handler: handler.auth
  hello:
    handler: handler.hello
    events:
      - http: {{path: hello, method: get, authorizer: auth}}
      - http: {{path: legacy, method: get, integration: lambda, authorizer: auth}}
      - http:
          path: hello/{{id}}
          method: get
          authorizer:
            name: auth
      - http:
          path: req
          method: post
          authorizer:
            name: requester
            arn: {AUTH_ARN}
            type: request
            resultTtlInSeconds: 0
            identitySource: method.request.header.X-Key, method.request.querystring.k
            managedExternally: true
      - http:
          path: me
          method: get
          authorizer: {{arn: '{POOL}', name: pool, scopes: [email]}}
      - http:
          path: ref
          method: get
          authorizer: {{type: TOKEN, authorizerId: {{Ref: AuthApiGatewayAuthorizer}}}}
stepFunctions:
  stateMachines:
    main:
      definition:
        StartAt: Done
        States:
          Done: {{Type: Pass, End: true}}
      events:
        - http: {{path: orders, method: post, authorizer: auth}}
"""


class Clients:
    def __init__(self) -> None:
        boto = boto3.Session(region_name=REGION)
        self.apigateway = boto.client("apigateway")
        self.lambda_ = boto.client("lambda")

    def api_id(self) -> str:
        (api,) = [a for a in self.apigateway.get_rest_apis()["items"] if a["name"] == API]
        return str(api["id"])

    def authorizers(self, api_id: str) -> dict[str, dict[str, Any]]:
        items = self.apigateway.get_authorizers(restApiId=api_id)["items"]
        return {a["name"]: a for a in items}

    def methods(self, api_id: str) -> dict[tuple[str, str], dict[str, Any]]:
        resources = self.apigateway.get_resources(restApiId=api_id, embed=["methods"])["items"]
        return {
            (resource["path"], verb): method
            for resource in resources
            for verb, method in (resource.get("resourceMethods") or {}).items()
        }

    def source_arns(self, function: str) -> list[str]:
        policy = json.loads(self.lambda_.get_policy(FunctionName=function)["Policy"])
        return [s["Condition"]["ArnLike"]["AWS:SourceArn"] for s in policy["Statement"]]


@pytest.fixture
def shop(aws_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return service_folder(tmp_path, monkeypatch, {"handler.py": HANDLER, "serverless.yml": SERVICE})


def test_authorizers_deploy_redeploy_change_and_remove(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err, calls = run(capsys, "plan", "--target", "aws", "--json")
    assert code == 0, err
    assert mutating(calls) == []
    planned = {(c["kind"], c["name"]): c for c in json.loads(out)["changes"]}
    assert {"kind": "function", "name": "shop-dev-auth"} in planned[("rest api", API)]["dependsOn"]
    permission = planned[("permission", f"{API} authorizers -> {AUTH_ARN}")]
    assert permission["dependsOn"] == [
        {"kind": "rest api", "name": API},
        {"kind": "function", "name": "shop-dev-auth"},
    ]

    code, out, err, calls = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    ops = mutating(calls)
    # the function before its authorizer, the authorizers before the methods naming them
    assert ops.index("CreateFunction") < ops.index("CreateAuthorizer") < ops.index("PutMethod")
    clients = Clients()
    api_id = clients.api_id()
    authorizers = clients.authorizers(api_id)
    assert set(authorizers) == {"auth", "requester", "pool"}  # `auth` once for three events
    auth = authorizers["auth"]
    assert auth["type"] == "TOKEN"
    assert auth["authorizerUri"] == (
        f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{AUTH_ARN}/invocations"
    )
    assert auth["identitySource"] == "method.request.header.Authorization"
    assert auth["authorizerResultTtlInSeconds"] == 300
    requester = authorizers["requester"]
    assert (requester["type"], requester["authorizerResultTtlInSeconds"]) == ("REQUEST", 0)
    assert requester["identitySource"] == (
        "method.request.header.X-Key, method.request.querystring.k"
    )
    assert (authorizers["pool"]["type"], authorizers["pool"]["providerARNs"]) == (
        "COGNITO_USER_POOLS", [POOL],
    )  # fmt: skip
    methods = clients.methods(api_id)
    for key in (("/hello", "GET"), ("/hello/{id}", "GET"), ("/orders", "POST"), ("/ref", "GET"),
                ("/legacy", "GET")):  # fmt: skip
        assert (methods[key]["authorizationType"], methods[key]["authorizerId"]) == (
            "CUSTOM", auth["id"],
        ), key  # fmt: skip
    assert methods[("/req", "POST")]["authorizerId"] == requester["id"]
    me = methods[("/me", "GET")]
    assert (me["authorizationType"], me["authorizerId"], me["authorizationScopes"]) == (
        "COGNITO_USER_POOLS", authorizers["pool"]["id"], ["email"],
    )  # fmt: skip
    # one permission for the authorizer function (managedExternally: none for `requester`,
    # though it calls the same function)
    assert clients.source_arns("shop-dev-auth") == [
        f"arn:aws:execute-api:{REGION}:{MOTO_ACCOUNT}:{api_id}/authorizers/*"
    ]

    code, out, err, calls = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    assert out.splitlines()[-1] == "No changes."
    assert mutating(calls) == []
    code, out, err, _ = run(capsys, "info", "--target", "aws")
    assert code == 0, err
    assert "authorizers: " in out and "auth (TOKEN)" in out and "pool (COGNITO_USER_POOLS)" in out

    changed = SERVICE.replace("resultTtlInSeconds: 0", "resultTtlInSeconds: 60")
    changed = changed.replace(
        f"      - http:\n          path: me\n          method: get\n"
        f"          authorizer: {{arn: '{POOL}', name: pool, scopes: [email]}}\n",
        "",
    )
    (shop / "serverless.yml").write_text(changed)
    code, out, err, calls = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    assert "authorizers changed: pool, requester" in out, out
    assert mutating(calls).count("UpdateAuthorizer") == 1
    assert mutating(calls).count("DeleteAuthorizer") == 1
    authorizers = clients.authorizers(api_id)
    assert set(authorizers) == {"auth", "requester"}
    assert authorizers["requester"]["authorizerResultTtlInSeconds"] == 60
    assert authorizers["requester"]["id"] == requester["id"]  # changed in place, found by name
    code, out, err, calls = run(capsys, "deploy", "--target", "aws")
    assert mutating(calls) == []

    code, out, err, _ = run(capsys, "remove", "--target", "aws")
    assert code == 0, err
    assert [a for a in clients.apigateway.get_rest_apis()["items"] if a["name"] == API] == []
    assert clients.lambda_.list_functions()["Functions"] == []


def test_a_deploy_stopped_before_the_methods_is_finished_by_the_next(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The deploy stops (as if killed) once the authorizers exist and before any method: the
    next deploy finds them by name (makes no second one) and puts the methods naming them."""
    with stopped_at("put_method"):
        code, _, err, _ = run(capsys, "deploy", "--target", "aws")
    assert code == 1, err
    clients = Clients()
    api_id = clients.api_id()
    assert set(clients.authorizers(api_id)) == {"auth", "requester", "pool"}
    assert clients.methods(api_id) == {}

    code, out, err, calls = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    assert "CreateAuthorizer" not in mutating(calls)
    authorizers = clients.authorizers(api_id)
    assert len(clients.apigateway.get_authorizers(restApiId=api_id)["items"]) == 3
    assert clients.methods(api_id)[("/hello", "GET")]["authorizerId"] == authorizers["auth"]["id"]
    assert clients.source_arns("shop-dev-auth") == [
        f"arn:aws:execute-api:{REGION}:{MOTO_ACCOUNT}:{api_id}/authorizers/*"
    ]
    code, _, err, calls = run(capsys, "deploy", "--target", "aws")
    assert mutating(calls) == []
    code, _, err, _ = run(capsys, "remove", "--target", "aws")
    assert code == 0, err


SHARED = """\
service: shop
provider:
  name: aws
  runtime: python3.12
  apiGateway:
    restApiId: API_ID
functions:
  auth:
    handler: handler.auth
  hello:
    handler: handler.hello
    events:
      - http: {path: hello, method: get, authorizer: auth}
"""


def test_authorizers_on_a_shared_rest_api_are_marked_and_only_theirs_touched(
    aws_env: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """On another service's API (provider.apiGateway.restApiId) the toolkit's authorizer
    carries its marker (`authType`); the other service's authorizers are left alone, one of the
    same name stops the deploy; remove deletes only the toolkit's."""
    clients = Clients()
    other = clients.apigateway.create_rest_api(name="dev-other")["id"]
    theirs = clients.apigateway.create_authorizer(
        restApiId=other, name="theirs", type="TOKEN", authorizerUri=f"arn:aws:apigateway:{REGION}:"
        f"lambda:path/2015-03-31/functions/{AUTH_ARN}/invocations",
        identitySource="method.request.header.Authorization",
    )["id"]  # fmt: skip
    folder = service_folder(
        tmp_path, monkeypatch,
        {"handler.py": HANDLER, "serverless.yml": SHARED.replace("API_ID", other)},
    )  # fmt: skip
    code, _, err, _ = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    authorizers = clients.authorizers(other)
    assert set(authorizers) == {"auth", "theirs"}
    assert authorizers["auth"]["authType"] == "tool:shop:dev"
    method = clients.methods(other)[("/hello", "GET")]
    assert (method["authorizationType"], method["authorizerId"]) == (
        "CUSTOM", authorizers["auth"]["id"],
    )  # fmt: skip
    assert clients.source_arns("shop-dev-auth") == [
        f"arn:aws:execute-api:{REGION}:{MOTO_ACCOUNT}:{other}/authorizers/*"
    ]
    code, out, err, calls = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    assert mutating(calls) == []

    code, _, err, _ = run(capsys, "remove", "--target", "aws")
    assert code == 0, err
    assert set(clients.authorizers(other)) == {"theirs"}
    assert clients.authorizers(other)["theirs"]["id"] == theirs

    named_like_theirs = f"authorizer: {{name: theirs, arn: '{AUTH_ARN}'}}"
    (folder / "serverless.yml").write_text(
        SHARED.replace("API_ID", other).replace("authorizer: auth", named_like_theirs)
    )
    code, _, err, calls = run(capsys, "deploy", "--target", "aws")
    assert code == 2
    assert "authorizer theirs of REST API" in err and "is not the toolkit's" in err
    assert mutating(calls) == []  # stopped before anything changed


NAMED_IN_RESOURCES = """\
service: shop
provider:
  name: aws
  runtime: python3.12
functions:
  auth:
    handler: handler.auth
  hello:
    handler: handler.hello
    events:
      - http: {path: hello, method: get, authorizer: auth}
resources:
  Resources:
    AuthorizerId:
      Type: AWS::SSM::Parameter
      Properties:
        Name: /shop/authorizer
        Type: String
        Value: {Ref: AuthApiGatewayAuthorizer}
"""


def test_resources_naming_an_authorizer_by_serverless_logical_id(
    aws_env: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`Ref: AuthApiGatewayAuthorizer` (as Serverless' template names `authorizer: auth`):
    the API and that authorizer are made before the stack, whose template gets its id."""
    service_folder(
        tmp_path, monkeypatch, {"handler.py": HANDLER, "serverless.yml": NAMED_IN_RESOURCES}
    )
    code, out, err, calls = run(capsys, "plan", "--target", "aws", "--json")
    assert code == 0, err
    assert mutating(calls) == []
    planned = {(c["kind"], c["name"]): c for c in json.loads(out)["changes"]}
    assert planned[("rest api", API)]["action"] == "create"
    code, out, err, calls = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    ops = mutating(calls)
    assert ops.index("CreateAuthorizer") < ops.index("CreateChangeSet")
    assert ops.count("CreateAuthorizer") == 1
    clients = Clients()
    api_id = clients.api_id()
    auth = clients.authorizers(api_id)["auth"]
    ssm = boto3.client("ssm", region_name=REGION)
    assert ssm.get_parameter(Name="/shop/authorizer")["Parameter"]["Value"] == auth["id"]
    assert clients.methods(api_id)[("/hello", "GET")]["authorizerId"] == auth["id"]
    code, out, err, calls = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    assert mutating(calls) == []
    code, _, err, _ = run(capsys, "remove", "--target", "aws")
    assert code == 0, err
    assert [a for a in clients.apigateway.get_rest_apis()["items"] if a["name"] == API] == []
