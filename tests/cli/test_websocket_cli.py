"""A service with functions' `websocket` events on the local target: `tool deploy` records its
WebSocket API (as apigatewayv2 would answer for it) and says, once, that `tool serve` does not
accept WebSocket connections; the functions deploy; `tool info` lists the API; a
redeploy changes nothing; `tool remove` deletes the record (issue 15)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tooling.cli import main

HANDLER = "def hello(event, context):\n    return {'statusCode': 200}\n"
SERVICE = """\
service: chat
provider:
  name: aws
  runtime: python3.12
functions:
  hello:
    handler: handler.hello
    events:
      - websocket: $connect
      - websocket:
          route: send
          routeResponseSelectionExpression: $default
"""


def test_a_websocket_api_on_the_local_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "handler.py").write_text(HANDLER)
    (tmp_path / "serverless.yml").write_text(SERVICE)
    monkeypatch.chdir(tmp_path)
    assert main(["deploy"]) == 0
    captured = capsys.readouterr()
    assert "create    websocket api dev-chat-websockets" in captured.out
    said = [line for line in captured.err.splitlines() if "not served" in line]
    assert len(said) == 1 and "tool serve" in said[0]

    assert main(["info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert "websocket api" in json.dumps(info)
    assert "dev-chat-websockets" in json.dumps(info)

    assert main(["deploy"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "No changes."

    assert main(["remove"]) == 0
    assert "delete    websocket api dev-chat-websockets" in capsys.readouterr().out
