"""Handlers reach the folder's local AWS services with their own SDK (and never with the caller's
credentials); `tool local` and `tool remove` start and stop the services."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tooling.cli import main
from tooling.localaws.manager import LocalAwsServices

from .helpers import Endpoint, client, create_table, endpoint

pytestmark = pytest.mark.slow  # end-to-end: `make test` runs it, `make test-fast` does not

SERVERLESS = """service: shop
provider:
  name: aws
  runtime: python3.12
  region: us-east-1
functions:
  reader:
    handler: handler.read
"""
HANDLER = """import os

import boto3


def read(event, context):
    answer = boto3.client("dynamodb").get_item(TableName="orders", Key={"id": {"S": event["id"]}})
    return {
        "item": answer.get("Item"),
        "keyId": os.environ.get("AWS_ACCESS_KEY_ID"),
        "endpoint": os.environ.get("AWS_ENDPOINT_URL"),
    }
"""
FLOW = {
    "StartAt": "Save",
    "States": {
        "Save": {
            "Type": "Task",
            "Resource": "arn:aws:states:::dynamodb:putItem",
            "Parameters": {"TableName": "orders", "Item": {"id": {"S.$": "$.id"}, "n": {"N": "5"}}},
            "ResultPath": None,
            "Next": "Read",
        },
        "Read": {
            "Type": "Task",
            "Resource": "arn:aws:lambda:us-east-1:000000000000:function:shop-dev-reader",
            "End": True,
        },
    },
}


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    folder = tmp_path / "shop"
    folder.mkdir()
    (folder / "serverless.yml").write_text(SERVERLESS)
    (folder / "handler.py").write_text(HANDLER)
    (folder / "flow.asl.json").write_text(json.dumps(FLOW))
    (folder / "in.json").write_text('{"id": "o-1"}')
    monkeypatch.chdir(folder)
    # The caller's own credentials: a handler must never see them.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "CALLERKEY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "caller-secret")
    services = LocalAwsServices(folder / ".tool")
    yield folder, services
    services.stop()


def test_a_python_handler_reads_what_the_integration_wrote(
    shop: tuple[Path, LocalAwsServices], capsys: pytest.CaptureFixture[str]
) -> None:
    _, services = shop
    create_table(endpoint(services), "orders")
    assert main(["run", "flow.asl.json", "-i", "in.json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["item"] == {"id": {"S": "o-1"}, "n": {"N": "5"}}
    assert result["endpoint"] == services.endpoint()
    assert result["keyId"].startswith("ASIA")  # made for the run, not the caller's CALLERKEY


def test_tool_local_status_start_stop_reset(
    shop: tuple[Path, LocalAwsServices], capsys: pytest.CaptureFixture[str]
) -> None:
    _, services = shop
    assert main(["local", "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["running"] is False
    assert main(["local", "start"]) == 0
    url = capsys.readouterr().out.strip()
    create_table(Endpoint(url, services.credentials()), "orders")
    assert main(["local", "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert (status["running"], status["endpoint"], status["journalEntries"]) == (True, url, 1)
    assert main(["local", "stop"]) == 0
    assert capsys.readouterr().out.startswith("stopped (pid ")
    assert services.running() is None and services.has_data()
    assert main(["local", "reset"]) == 0
    capsys.readouterr()
    assert not services.has_data()


def test_tool_remove_stops_the_local_services_and_keeps_their_data(
    shop: tuple[Path, LocalAwsServices], capsys: pytest.CaptureFixture[str]
) -> None:
    _, services = shop
    create_table(endpoint(services), "orders")
    assert main(["deploy"]) == 0
    capsys.readouterr()
    assert main(["remove"]) == 0
    err = capsys.readouterr().err
    assert "stopped the local AWS services" in err
    assert services.running() is None
    assert client(endpoint(services), "dynamodb").list_tables()["TableNames"] == ["orders"]
