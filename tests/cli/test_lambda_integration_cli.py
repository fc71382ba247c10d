"""A function's http event with `integration: lambda` and one with `async: true` on the local
target: `tool deploy` records them, `tool serve`'s API invokes a real handler with the event
Serverless' request template makes and answers through the integration responses (issue 15)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pytest

from tooling.cli import main
from tooling.config.service import load_service
from tooling.triggers.http_api import Request, open_local_api

pytestmark = pytest.mark.slow  # end-to-end: `make test` runs it, `make test-fast` does not

HANDLER = """\
import json
import pathlib
import time


def cakes(event, context):
    if event["body"].get("name") == "old":
        raise ValueError("[409] cake " + event["path"]["id"] + " exists")
    return {"id": event["path"]["id"], "name": event["body"]["name"], "q": event["query"],
            "stage": event["stage"], "method": event["method"]}


def later(event, context):
    gate = pathlib.Path(event["body"]["gate"])
    for _ in range(600):  # until the test opens the gate (at most 30 s)
        if gate.exists():
            break
        time.sleep(0.05)
    pathlib.Path(event["body"]["to"]).write_text(json.dumps(event["body"]))
"""
SERVICE = """\
service: bakery
provider:
  name: aws
  runtime: python3.12
functions:
  cakes:
    handler: handler.cakes
    events:
      - http:
          path: cakes/{id}
          method: put
          integration: lambda
          response:
            headers: {X-Kind: "'cake'"}
            statusCodes:
              200: {pattern: ''}
              409:
                pattern: '.*\\[409\\].*'
                template: '{"conflict": "$input.path(''$.errorMessage'')"}'
  later:
    handler: handler.later
    events:
      - http: {path: later, method: post, async: true}
"""


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    service = tmp_path / "bakery"
    service.mkdir()
    (service / "serverless.yml").write_text(SERVICE)
    (service / "handler.py").write_text(HANDLER)
    monkeypatch.chdir(service)
    return service


def request(method: str, path: str, body: Mapping[str, object]) -> Request:
    route, _, query = path.partition("?")
    given = dict([query.split("=")]) if query else {}
    return Request(method, route, given, {"content-type": "application/json"},
                   json.dumps(body).encode())  # fmt: skip


def test_serve_answers_the_lambda_integration_and_async(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["deploy"]) == 0, capsys.readouterr().err
    api = open_local_api(load_service(folder, env={}))
    try:
        assert api.notes() == []
        made = api.handle(request("PUT", "/dev/cakes/c1?size=2", {"name": "lemon"}))
        assert made.status == 200, made.body
        assert json.loads(made.body) == {"id": "c1", "name": "lemon", "q": {"size": "2"},
                                         "stage": "dev", "method": "PUT"}  # fmt: skip
        assert made.headers["X-Kind"] == "cake"
        conflict = api.handle(request("PUT", "/dev/cakes/c2", {"name": "old"}))
        assert conflict.status == 409
        assert json.loads(conflict.body) == {"conflict": "[409] cake c2 exists"}
        done, gate = folder / "done.json", folder / "gate"
        body = {"to": str(done), "gate": str(gate)}
        queued = api.handle(request("POST", "/dev/later", body))
        assert (queued.status, queued.body) == (200, "")  # answered while the function waits
        gate.touch()
        for thread in api.background:
            thread.join(60)
        assert json.loads(done.read_text()) == body
    finally:
        api.close()
