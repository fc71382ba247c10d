"""provider.apiGateway.apiKeys and usagePlan on the local target: `tool deploy` keeps the keys
and plans as records (a generated value kept across deploys), `tool info` lists the values,
and `tool serve` checks `x-api-key` on `private: true` routes as API Gateway does: 403
`{"message":"Forbidden"}` without the value of an enabled key of a plan on the API's stage."""

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

VALUE = "abcdefghijabcdefghij0123"
HANDLER = """\
def hello(event, context):
    key = event["requestContext"]["identity"].get("apiKey", "")
    return {"statusCode": 200, "body": "hi " + key}
"""
SERVICE = """\
service: web
provider:
  name: aws
  runtime: python3.12
  apiGateway:
    apiKeys:
      - generated
      - name: fixed
        value: %(value)s
        description: the fixed one
      - name: off
        value: offoffoffoffoffoffoffoff
        enabled: false
    usagePlan:
      quota: {limit: 100, period: DAY}
functions:
  hello:
    handler: handler.hello
    events:
      - http: {path: secret, method: get, private: true}
      - http: {path: open, method: get}
"""


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    service = tmp_path / "web"
    service.mkdir()
    (service / "serverless.yml").write_text(SERVICE % {"value": VALUE})
    (service / "handler.py").write_text(HANDLER)
    monkeypatch.chdir(service)
    return service


def info_keys(capsys: pytest.CaptureFixture[str]) -> dict[str, dict[str, object]]:
    assert main(["info", "--json"]) == 0
    return {k["name"]: k for k in json.loads(capsys.readouterr().out)["apiKeys"]}


@pytest.fixture
def served(folder: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[ApiServer]:
    assert main(["deploy"]) == 0, capsys.readouterr().err
    capsys.readouterr()
    api = open_local_api(load_service(folder, env={}))
    assert api.notes() == []  # the API key is checked: no "not checked locally" note
    server = make_server(api, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        api.close()


def call(server: ApiServer, path: str, key: str | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=30)
    headers = {"Host": "localhost"} | ({"x-api-key": key} if key is not None else {})
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_deploy_keeps_keys_and_info_lists_their_values(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["deploy"]) == 0
    out = capsys.readouterr().out
    assert "create    api key generated" in out
    assert "create    usage plan web-dev" in out
    keys = info_keys(capsys)
    generated = str(keys["generated"]["value"])
    assert len(generated) == 40 and generated.isalnum()
    assert keys["fixed"]["value"] == VALUE
    assert keys["off"]["enabled"] is False

    assert main(["deploy"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "No changes."
    assert info_keys(capsys)["generated"]["value"] == generated  # kept across deploys

    assert main(["info"]) == 0
    lines = capsys.readouterr().out.splitlines()
    at = lines.index("api keys:")
    assert lines[at + 1 :] == [
        f"  generated: {generated}",
        f"  fixed: {VALUE} - the fixed one",
        "  off: offoffoffoffoffoffoffoff",
    ]

    (folder / "serverless.yml").write_text(SERVICE % {"value": VALUE + "x"})
    assert main(["deploy"]) == 0
    assert "update    api key fixed" in capsys.readouterr().out
    assert info_keys(capsys)["fixed"]["value"] == VALUE + "x"

    assert main(["remove"]) == 0
    out = capsys.readouterr().out
    assert "delete    usage plan web-dev" in out and "delete    api key generated" in out


def test_serve_checks_the_api_key_of_private_routes(
    served: ApiServer, capsys: pytest.CaptureFixture[str]
) -> None:
    forbidden = (403, b'{"message": "Forbidden"}')
    assert call(served, "/dev/secret") == forbidden
    assert call(served, "/dev/secret", "not-a-key-of-this-api") == forbidden
    assert call(served, "/dev/secret", "offoffoffoffoffoffoffoff") == forbidden  # disabled
    assert call(served, "/dev/secret", VALUE) == (200, f"hi {VALUE}".encode())
    assert call(served, "/dev/open") == (200, b"hi ")


def test_a_private_route_without_keys_is_forbidden_and_said(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = SERVICE % {"value": VALUE}
    start, end = text.index("  apiGateway:\n"), text.index("functions:\n")
    (folder / "serverless.yml").write_text(text[:start] + text[end:])
    assert main(["deploy"]) == 0, capsys.readouterr().err
    api = open_local_api(load_service(folder, env={}))
    try:
        assert api.notes() == [
            "GET /secret: private: true and no enabled API key in a usage plan of this API "
            "(provider.apiGateway.apiKeys): every request is answered 403, as API Gateway "
            "answers it"
        ]
        server = make_server(api, 0)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            assert call(server, "/dev/secret", VALUE)[0] == 403
        finally:
            server.shutdown()
            server.server_close()
    finally:
        api.close()
