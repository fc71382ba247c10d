"""Functions' http events on the local target: `tool deploy` records the routes in the service's
REST API, `tool serve` invokes the function (a real handler process) with API Gateway's proxy
event and answers with its result; a template naming `ApiGatewayRestApi` and an authorizer
of it deploys, the authorizer left out and said (issue 15)."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
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


def pid(event, context):
    import os

    return {"statusCode": 200, "body": str(os.getpid())}
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
  pid:
    handler: handler.pid
    events:
      - http: GET pid
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


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc; PR_SET_PDEATHSIG is Linux's")
def test_a_killed_server_leaves_no_function_running(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """SIGKILL of `tool serve` while a function's warm environment waits for the next request:
    the environment's process ends with it (nothing is left running)."""
    assert main(["deploy"]) == 0, capsys.readouterr().err
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    entry = "import sys; from tooling.cli import main; sys.exit(main())"
    server = subprocess.Popen(
        [sys.executable, "-c", entry, "serve", "--port", str(port)],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(400):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/dev/pid", timeout=30) as r:
                    handler = int(r.read())
                break
            except urllib.error.URLError:
                time.sleep(0.05)
        else:
            raise AssertionError("tool serve did not answer")
        assert Path(f"/proc/{handler}").exists()  # the warm environment waits
    finally:
        server.kill()
        server.wait(timeout=10)
    for _ in range(100):
        if not Path(f"/proc/{handler}").exists():
            break
        time.sleep(0.05)
    assert not Path(f"/proc/{handler}").exists()


def test_a_shared_rest_api_is_served_as_the_services_own_locally(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """provider.apiGateway.restApiId: only AWS has the other service's API; the local target
    keeps one of its own for the service, and `tool serve` answers its routes."""
    service = tmp_path / "web"
    service.mkdir()
    (service / "handler.py").write_text(HANDLER)
    (service / "serverless.yml").write_text(
        "service: web\nprovider:\n  name: aws\n  runtime: python3.12\n  apiGateway:\n"
        "    restApiId: abc123\n    restApiRootResourceId: root1\n"
        "    restApiResources: {/users: res1}\n"
        "functions:\n  hello:\n    handler: handler.hello\n    events:\n"
        "      - http: GET users/{id}\n"
    )
    monkeypatch.chdir(service)
    assert main(["deploy"]) == 0, capsys.readouterr().err
    capsys.readouterr()
    api = open_local_api(load_service(service, env={}))
    server = make_server(api, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        status, _, body = call(server, "GET", "/dev/users/7")
    finally:
        server.shutdown()
        server.server_close()
        api.close()
    assert status == 200, body
    assert json.loads(body)["id"] == "7"
    assert main(["deploy"]) == 0
    assert "No changes." in capsys.readouterr().out
    assert main(["remove"]) == 0
    assert "delete    rest api dev-web (tool remove)" in capsys.readouterr().out
