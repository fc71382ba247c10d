"""A service with functions' `httpApi` events on the local target: `tool deploy` records its
HTTP API, `tool info` lists it, `tool serve` answers its routes at the root of the loopback URL
(the `$default` stage) next to the REST API's `/<stage>/` ones, invoking real handler
processes with payload format 2.0, and `tool remove` deletes it (issue 15)."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tooling.cli import main
from tooling.config.service import load_service
from tooling.triggers.http_api import ApiServer, make_server
from tooling.triggers.served_apis import open_served_apis

HANDLER = """\
import json


def hello(event, context):
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "cookies": ["seen=1"],
        "body": json.dumps({"version": event["version"], "route": event["routeKey"],
                            "id": (event.get("pathParameters") or {}).get("id"),
                            "q": event.get("queryStringParameters")}),
    }


def plain(event, context):
    return {"path": event["rawPath"]}


def rest(event, context):
    return {"statusCode": 200, "body": event["resource"]}
"""
SERVICE = """\
service: web
provider:
  name: aws
  runtime: python3.12
  httpApi:
    cors: true
functions:
  hello:
    handler: handler.hello
    events:
      - httpApi: 'GET /users/{id}'
  plain:
    handler: handler.plain
    events:
      - httpApi: '*'
  rest:
    handler: handler.rest
    events:
      - http: GET old
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
    capsys.readouterr()
    apis = open_served_apis(load_service(folder, env={}))
    server = make_server(apis, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        apis.close()


def call(
    server: ApiServer, method: str, path: str, headers: dict[str, str] | None = None
) -> tuple[int, http.client.HTTPMessage, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=30)
    try:
        connection.request(method, path, headers={"Host": "localhost", **(headers or {})})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def test_serve_answers_the_http_api_routes(served: ApiServer) -> None:
    status, headers, body = call(served, "GET", "/users/42?q=1", {"Origin": "http://x.test"})
    assert status == 200
    assert json.loads(body) == {"version": "2.0", "route": "GET /users/{id}", "id": "42",
                                "q": {"q": "1"}}  # fmt: skip
    assert headers.get_all("Set-Cookie") == ["seen=1"]
    assert headers["Access-Control-Allow-Origin"] == "*"
    status, headers, body = call(served, "POST", "/any/where")
    assert (status, json.loads(body)) == (200, {"path": "/any/where"})  # $default, no statusCode
    assert headers["Content-Type"] == "application/json"
    status, _, body = call(served, "GET", "/dev/old")  # the REST API, under its stage
    assert (status, body) == (200, b"/old")


def test_info_and_remove(served: ApiServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "http api" in out and "dev-web" in out and "2 route(s)" in out
    assert main(["remove"]) == 0, capsys.readouterr().err
    capsys.readouterr()
    assert main(["info"]) == 0
    assert "http api" not in capsys.readouterr().out


URL_HANDLER = """\
import os


def gateway(event, context):
    return {"path": event["rawPath"], "route": event["routeKey"], "version": event["version"]}


def caller(event, context):
    return {"endpoint": os.environ["ENDPOINT"], "param": event["url"]}
"""
URL_SERVICE = """\
service: pay
provider:
  name: aws
  runtime: python3.12
functions:
  gateway:
    handler: handler.gateway
    url:
      cors: true
  caller:
    handler: handler.caller
    environment:
      ENDPOINT: !GetAtt GatewayLambdaFunctionUrl.FunctionUrl
stepFunctions:
  stateMachines:
    main:
      definition:
        StartAt: Call
        States:
          Call:
            Type: Task
            Resource: {Fn::GetAtt: [caller, Arn]}
            Parameters:
              url: {Fn::GetAtt: [GatewayLambdaFunctionUrl, FunctionUrl]}
            End: true
"""
LOCAL_URL = "http://127.0.0.1:3000/lambda-url/pay-dev-gateway/"


def test_a_function_url_locally(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Locally `Fn::GetAtt <Fn>LambdaFunctionUrl.FunctionUrl` is the loopback URL `tool serve`
    answers the function at (serve's default port), in an environment and a definition."""
    service = tmp_path / "pay"
    service.mkdir()
    (service / "serverless.yml").write_text(URL_SERVICE)
    (service / "handler.py").write_text(URL_HANDLER)
    monkeypatch.chdir(service)
    assert main(["deploy"]) == 0, capsys.readouterr().err
    capsys.readouterr()
    assert main(["info"]) == 0
    assert LOCAL_URL in capsys.readouterr().out
    assert main(["invoke", "--data", "{}"]) == 0
    assert json.loads(capsys.readouterr().out) == {"endpoint": LOCAL_URL, "param": LOCAL_URL}

    apis = open_served_apis(load_service(service, env={}))
    server = make_server(apis, 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        status, headers, body = call(
            server, "GET", "/lambda-url/pay-dev-gateway/orders/7?x=1", {"Origin": "http://a.test"}
        )
        assert status == 200
        assert json.loads(body) == {"path": "/orders/7", "route": "$default", "version": "2.0"}
        assert headers["Access-Control-Allow-Origin"] == "*"
        status, _, _ = call(server, "GET", "/lambda-url/nobody/")
        assert status == 404
    finally:
        server.shutdown()
        server.server_close()
        apis.close()
    assert main(["remove"]) == 0
