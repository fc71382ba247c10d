"""REST API authorizers on the local target, end to end (issue 15): `tool deploy` records the
authorizer with the REST API, `tool serve` runs the authorizer function (a real handler) before
a function's route and a state machine's, answering 401, 403 or the route with the
authorizer's context; `tool remove` takes it away."""

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


def auth(event, context):
    token = event["authorizationToken"]
    if token == "expired":
        raise Exception("Unauthorized")
    effect = "Allow" if token.startswith("good") else "Deny"
    return {
        "principalId": "user-" + token,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect,
                           "Resource": event["methodArn"]}],
        },
        "context": {"tenant": "acme", "admin": True},
    }


def legacy(event, context):  # the Lambda (non-proxy) integration: the template's event
    return {"principalId": event["principalId"], "tenant": event["enhancedAuthContext"]["tenant"]}


def hello(event, context):
    return {"statusCode": 200, "body": json.dumps(event["requestContext"].get("authorizer"))}
"""
SERVICE = """\
service: web
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
      - http: {path: open, method: get}
  legacy:
    handler: handler.legacy
    events:
      - http: {path: legacy, method: get, integration: lambda, authorizer: auth}
stepFunctions:
  stateMachines:
    main:
      definition:
        StartAt: Done
        States:
          Done: {Type: Pass, End: true}
      events:
        - http: {path: orders, method: post, authorizer: auth}
"""


@pytest.fixture
def served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[ApiServer]:
    folder = tmp_path / "web"
    folder.mkdir()
    (folder / "serverless.yml").write_text(SERVICE)
    (folder / "handler.py").write_text(HANDLER)
    monkeypatch.chdir(folder)
    assert main(["deploy"]) == 0, capsys.readouterr().err
    api = open_local_api(load_service(folder, env={}))
    assert api.notes() == []  # the authorizer is the service's: run, not just said
    server = make_server(api, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        api.close()


def call(server: ApiServer, method: str, path: str, token: str | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=60)
    headers = {"Host": "localhost"}
    if token is not None:
        headers["Authorization"] = token
    try:
        connection.request(method, path, body=b"{}" if method == "POST" else None,
                           headers=headers)  # fmt: skip
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_serve_runs_the_authorizer_before_the_routes(
    served: ApiServer, capsys: pytest.CaptureFixture[str]
) -> None:
    status, body = call(served, "GET", "/dev/hello", "good-1")
    assert status == 200, body
    assert json.loads(body) == {"principalId": "user-good-1", "tenant": "acme", "admin": "true"}
    status, body = call(served, "GET", "/dev/hello", "bad")
    assert status == 403
    assert json.loads(body)["Message"].startswith("User is not authorized to access this resource")
    assert call(served, "GET", "/dev/hello")[0] == 401
    assert call(served, "GET", "/dev/hello", "expired") == (401, b'{"message": "Unauthorized"}')
    assert call(served, "GET", "/dev/open")[0] == 200  # no authorizer on this route
    status, body = call(served, "GET", "/dev/legacy", "good-3")  # its template's $context
    assert status == 200, body
    assert json.loads(body) == {"principalId": "user-good-3", "tenant": "acme"}
    assert call(served, "GET", "/dev/legacy")[0] == 401
    status, body = call(served, "POST", "/dev/orders", "good-2")  # the state machine's route
    assert status == 200, body
    assert "executionArn" in json.loads(body)
    assert call(served, "POST", "/dev/orders")[0] == 401

    assert main(["deploy"]) == 0
    assert "No changes." in capsys.readouterr().out
    assert main(["remove"]) == 0
    assert "delete    rest api dev-web (tool remove)" in capsys.readouterr().out


def test_a_gateway_response_alone_in_resources_deploys_locally(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The pattern of services with authorizers (a gateway response adding CORS headers to
    authorizer failures): `tool serve` answers the API itself, so the stack holds nothing;
    main refused the deploy ("none of resources: ... can be created")."""
    folder = tmp_path / "web"
    folder.mkdir()
    (folder / "serverless.yml").write_text(
        SERVICE + "resources:\n  Resources:\n    GatewayResponse:\n"
        "      Type: AWS::ApiGateway::GatewayResponse\n"
        "      Properties:\n"
        "        ResponseType: EXPIRED_TOKEN\n"
        "        RestApiId: {Ref: ApiGatewayRestApi}\n"
        "        StatusCode: '401'\n"
    )
    (folder / "handler.py").write_text(HANDLER)
    monkeypatch.chdir(folder)
    assert main(["deploy"]) == 0, capsys.readouterr().err
    assert (
        "GatewayResponse (AWS::ApiGateway::GatewayResponse: the local target keeps the REST "
        "API itself" in capsys.readouterr().err
    )
    assert main(["remove"]) == 0


def test_an_authorizer_naming_no_function_is_one_line_and_remove_still_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "web"
    folder.mkdir()
    (folder / "serverless.yml").write_text(
        SERVICE.replace("authorizer: auth}", "authorizer: nosuch}")
    )
    (folder / "handler.py").write_text(HANDLER)
    monkeypatch.chdir(folder)
    assert main(["plan"]) == 2
    err = capsys.readouterr().err
    assert "serverless.yml:11:54:" in err and "authorizer function 'nosuch' does not exist" in err
    assert "internal error" not in err
    assert main(["info"]) == 0
    assert main(["remove"]) == 0
