"""Functions' http events on the local target: `tool deploy` records the routes in the service's
REST API, `tool serve` invokes the function (a real handler process) with API Gateway's proxy
event and answers with its result; a template naming `ApiGatewayRestApi` and an authorizer
of it deploys, the authorizer left out and said (issue 15)."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tooling.cli import main
from tooling.config.service import load_service
from tooling.triggers.http_api import ApiServer, make_server, open_local_api

pytestmark = pytest.mark.slow  # end-to-end: `make test` runs it, `make test-fast` does not

HANDLER = """\
import json


def hello(event, context):
    print("hello", event["pathParameters"]["id"])
    body = {"id": event["pathParameters"]["id"], "q": event["queryStringParameters"],
            "method": event["httpMethod"], "resource": event["resource"]}
    return {"statusCode": 200, "headers": {"X-From": "hello"}, "body": json.dumps(body)}


def boom(event, context):
    raise ValueError("boom")
"""
SERVICE = """\
service: web
provider:
  name: aws
  runtime: python3.12
functions:
  hello:
    handler: handler.hello
    events:
      - http: GET users/{id}
      - http:
          path: me
          method: get
          cors: true
          authorizer:
            type: COGNITO_USER_POOLS
            authorizerId: {Ref: ApiGatewayAuthorizer}
  boom:
    handler: handler.boom
    events:
      - http: POST boom
resources:
  Resources:
    Table:
      Type: AWS::DynamoDB::Table
      Properties:
        TableName: web-users
        BillingMode: PAY_PER_REQUEST
        AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
        KeySchema: [{AttributeName: id, KeyType: HASH}]
    ApiGatewayAuthorizer:
      Type: AWS::ApiGateway::Authorizer
      DependsOn: [ApiGatewayRestApi]
      Properties:
        Name: cognito
        IdentitySource: method.request.header.Authorization
        RestApiId: {Ref: ApiGatewayRestApi}
        Type: COGNITO_USER_POOLS
        ProviderARNs: [arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_abc]
"""


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    service = tmp_path / "web"
    service.mkdir()
    (service / "serverless.yml").write_text(SERVICE)
    (service / "handler.py").write_text(HANDLER)
    monkeypatch.chdir(service)
    return service


@pytest.fixture
def served(folder: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[ApiServer]:
    assert main(["deploy"]) == 0, capsys.readouterr().err
    err = capsys.readouterr().err
    assert (
        "ApiGatewayAuthorizer (AWS::ApiGateway::Authorizer: the local target keeps the REST API "
        "itself, and `tool serve` applies no authorizer or gateway response; its value is "
        "'local-ApiGatewayAuthorizer')" in err
    )
    api = open_local_api(load_service(folder, env={}))
    assert api.notes() == [
        "GET /me: COGNITO_USER_POOLS authorization (authorizer local-ApiGatewayAuthorizer) is "
        "not checked locally"
    ]
    server = make_server(api, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        api.close()


def call(server: ApiServer, method: str, path: str) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=30)
    try:
        connection.request(method, path, headers={"Host": "localhost"})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_serve_invokes_the_function_with_the_proxy_event(
    served: ApiServer, capsys: pytest.CaptureFixture[str]
) -> None:
    status, headers, body = call(served, "GET", "/dev/users/42?q=x")
    assert status == 200, body
    assert headers["X-From"] == "hello"
    assert json.loads(body) == {"id": "42", "q": {"q": "x"}, "method": "GET",
                                "resource": "/users/{id}"}  # fmt: skip
    status, _, body = call(served, "POST", "/dev/boom")
    assert (status, json.loads(body)) == (502, {"message": "Internal server error"})
    status, headers, _ = call(served, "OPTIONS", "/dev/me")
    assert status == 200
    assert headers["Access-Control-Allow-Methods"] == "OPTIONS,GET"
    assert main(["logs", "hello"]) == 0
    assert "hello 42" in capsys.readouterr().out


def test_remove_deletes_the_routes_and_the_stack(
    served: ApiServer, folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["deploy"]) == 0
    assert "No changes." in capsys.readouterr().out
    assert main(["remove"]) == 0
    out = capsys.readouterr().out
    assert "delete    rest api dev-web (tool remove)" in out
    assert "delete    stack web-dev (tool remove)" in out
