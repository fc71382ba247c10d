"""Functions' `websocket` events deployed with `--target aws` against a moto server: one
WebSocket API (API Gateway v2, ProtocolType WEBSOCKET) named as Serverless names it, with the
service's stage auto-deployed, a route per event with its function's AWS_PROXY integration, a
`$default` route response, a REQUEST authorizer on `$connect`, Lambda permissions scoped to the
API's ARN and `execute-api:ManageConnections` in the functions' role; `tool info` lists the
wss:// URL; a no-op redeploy makes no mutating call; a change; remove (issue 15)."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from .cli_runs import stopped_at
from .conftest import MOTO_ACCOUNT, REGION
from .test_http_api_against_moto import Clients, mutating, run

API = "dev-chat-websockets"
CONNECT_ARN = f"arn:aws:lambda:{REGION}:{MOTO_ACCOUNT}:function:chat-dev-connect"
MESSAGE_ARN = f"arn:aws:lambda:{REGION}:{MOTO_ACCOUNT}:function:chat-dev-message"
AUTH_ARN = f"arn:aws:lambda:{REGION}:{MOTO_ACCOUNT}:function:chat-dev-auth"
HANDLER = "def hello(event, context):\n    return {'statusCode': 200}\n"
SERVICE = """\
service: chat
provider:
  name: aws
  runtime: python3.12
functions:
  connect:
    handler: handler.hello
    events:
      - websocket:
          route: $connect
          authorizer:
            name: auth
            identitySource: [route.request.header.Auth]
      - websocket: $disconnect
  message:
    handler: handler.hello
    events:
      - websocket: $default
      - websocket:
          route: send
          routeResponseSelectionExpression: $default
  auth:
    handler: handler.hello
"""


def uri(arn: str) -> str:
    return f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{arn}/invocations"


def no_op_redeploy_then_remove(capsys: pytest.CaptureFixture[str], clients: Clients) -> None:
    """A redeploy with nothing changed makes no call that changes anything; remove deletes."""
    code, _, err, calls = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    assert mutating(calls) == []
    code, _, err, _ = run(capsys, "remove", "--target", "aws")
    assert code == 0, err
    assert clients.apis(API) == []


@pytest.fixture
def chat(aws_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "chat"
    folder.mkdir()
    (folder / "handler.py").write_text(HANDLER)
    (folder / "serverless.yml").write_text(SERVICE)
    monkeypatch.chdir(folder)
    return folder


def test_a_websocket_api_deployed_redeployed_changed_and_removed(
    chat: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err, calls = run(capsys, "plan", "--target", "aws", "--json")
    assert code == 0, err
    assert mutating(calls) == []
    planned = {(c["kind"], c["name"]): c for c in json.loads(out)["changes"]}
    assert planned[("websocket api", API)]["action"] == "create"

    code, out, err, _ = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    clients = Clients()
    (api,) = clients.apis(API)
    assert api["ProtocolType"] == "WEBSOCKET"
    assert api["RouteSelectionExpression"] == "$request.body.action"
    assert api["Description"] == "Serverless Websockets"
    assert api["Tags"]["tool:service"] == "chat"
    assert api["ApiEndpoint"] == f"wss://{api['ApiId']}.execute-api.{REGION}.amazonaws.com"
    api_id = api["ApiId"]
    (stage,) = clients.v2.get_stages(ApiId=api_id)["Items"]
    assert (stage["StageName"], stage["AutoDeploy"]) == ("dev", True)
    routes = clients.routes(api_id)
    assert set(routes) == {"$connect", "$disconnect", "$default", "send"}
    assert routes["$default"]["Integration"]["IntegrationType"] == "AWS_PROXY"
    assert routes["$default"]["Integration"]["IntegrationUri"] == uri(MESSAGE_ARN)
    assert routes["send"]["Target"] == routes["$default"]["Target"]  # one per function
    assert routes["send"]["RouteResponseSelectionExpression"] == "$default"
    (authorizer,) = clients.v2.get_authorizers(ApiId=api_id)["Items"]
    assert authorizer["AuthorizerType"] == "REQUEST"
    assert authorizer["AuthorizerUri"] == uri(AUTH_ARN)
    assert authorizer["IdentitySource"] == ["route.request.header.Auth"]
    assert routes["$connect"]["AuthorizationType"] == "CUSTOM"
    assert routes["$connect"]["AuthorizerId"] == authorizer["AuthorizerId"]
    assert routes["$disconnect"]["AuthorizationType"] == "NONE"
    for function in ("chat-dev-connect", "chat-dev-message", "chat-dev-auth"):
        (statement,) = clients.policy(function)
        assert statement["Principal"] == {"Service": "apigateway.amazonaws.com"}
        assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == (
            f"arn:aws:execute-api:{REGION}:{MOTO_ACCOUNT}:{api_id}/*"
        )
    iam = boto3.client("iam", region_name=REGION)
    role = "chat-dev-us-east-1-lambdaRole"
    (policy_name,) = iam.list_role_policies(RoleName=role)["PolicyNames"]
    document = iam.get_role_policy(RoleName=role, PolicyName=policy_name)["PolicyDocument"]
    assert {
        "Effect": "Allow",
        "Action": ["execute-api:ManageConnections"],
        "Resource": [f"arn:aws:execute-api:{REGION}:{MOTO_ACCOUNT}:*/@connections/*"],
    } in document["Statement"]

    code, out, err, _ = run(capsys, "info", "--target", "aws")
    assert code == 0, err
    assert f"wss://{api_id}.execute-api.{REGION}.amazonaws.com/dev" in out

    code, out, err, calls = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    assert out.splitlines()[-1] == "No changes."
    assert mutating(calls) == []

    changed = (
        SERVICE.replace("route: send", "route: post")
        .replace("      - websocket: $disconnect\n", "")
        .replace("  runtime: python3.12\n", "  runtime: python3.12\n  websocketsDescription: x\n")
    )
    (chat / "serverless.yml").write_text(changed)
    code, out, err, _ = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    assert f"update    websocket api {API}" in out
    assert set(clients.routes(api_id)) == {"$connect", "$default", "post"}
    assert clients.apis(API)[0]["Description"] == "x"
    no_op_redeploy_then_remove(capsys, clients)


def test_the_api_name_and_route_selection_from_the_provider(
    chat: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (chat / "serverless.yml").write_text(
        SERVICE.replace(
            "  runtime: python3.12\n",
            "  runtime: python3.12\n  websocketsApiName: chat-sockets\n"
            "  websocketsApiRouteSelectionExpression: $request.body.route\n",
        )
    )
    code, out, err, _ = run(capsys, "deploy", "--target", "aws", "--stage", "prod")
    assert code == 0, err
    (api,) = Clients().apis("chat-sockets")
    assert api["RouteSelectionExpression"] == "$request.body.route"
    (stage,) = Clients().v2.get_stages(ApiId=api["ApiId"])["Items"]
    assert stage["StageName"] == "prod"


def test_resources_naming_the_websocket_api(chat: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`resources:` may name `WebsocketsApi` (Serverless' logical id): the API exists before
    the stack, which gets its id and endpoint; its routes come with the rest of the service."""
    (chat / "serverless.yml").write_text(
        SERVICE + "resources:\n  Resources:\n    ApiId:\n      Type: AWS::SSM::Parameter\n"
        "      Properties:\n        Name: /chat/api\n        Type: String\n"
        "        Value: {Ref: WebsocketsApi}\n"
        "  Outputs:\n    Url:\n      Value: {Fn::GetAtt: [WebsocketsApi, ApiEndpoint]}\n"
    )
    code, out, err, _ = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    assert f"create    websocket api {API}" in out
    clients = Clients()
    (api,) = clients.apis(API)
    ssm = boto3.client("ssm", region_name=REGION)
    assert ssm.get_parameter(Name="/chat/api")["Parameter"]["Value"] == api["ApiId"]
    (stack,) = boto3.client("cloudformation", region_name=REGION).describe_stacks(
        StackName="chat-dev"
    )["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert outputs["Url"] == f"wss://{api['ApiId']}.execute-api.{REGION}.amazonaws.com"
    assert set(clients.routes(api["ApiId"])) == {"$connect", "$disconnect", "$default", "send"}

    no_op_redeploy_then_remove(capsys, clients)


def test_a_deploy_stopped_between_a_route_and_its_response_is_finished_by_the_next(
    chat: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The deploy stops (as if killed) after the `send` route was made and before its route
    response: the next deploy makes the route response and then the route's expression; a
    route that loses `routeResponseSelectionExpression` is made again without it."""
    with stopped_at("create_route_response"):
        code, _, err, _ = run(capsys, "deploy", "--target", "aws")
    assert code == 1, err
    clients = Clients()
    (api,) = clients.apis(API)
    assert "RouteResponseSelectionExpression" not in clients.routes(api["ApiId"])["send"]
    code, out, err, calls = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    assert "CreateRouteResponse" in mutating(calls)
    assert clients.routes(api["ApiId"])["send"]["RouteResponseSelectionExpression"] == "$default"
    code, _, err, calls = run(capsys, "deploy", "--target", "aws")
    assert mutating(calls) == []

    (chat / "serverless.yml").write_text(
        SERVICE.replace("          routeResponseSelectionExpression: $default\n", "")
    )
    code, _, err, _ = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    assert "RouteResponseSelectionExpression" not in clients.routes(api["ApiId"])["send"]
    no_op_redeploy_then_remove(capsys, clients)
