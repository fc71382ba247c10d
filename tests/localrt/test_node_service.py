"""A Node.js service end to end on the local target: `tool deploy`, then `tool invoke`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tooling.cli import main

pytestmark = pytest.mark.slow  # end-to-end: `make test` runs it, `make test-fast` does not

SERVERLESS = """service: shop
provider:
  name: aws
  runtime: nodejs22.x
  region: us-east-1
functions:
  reserve:
    handler: src/orders.reserve
  slow:
    handler: src/orders.slow
    timeout: 1
stepFunctions:
  stateMachines:
    order:
      definition:
        StartAt: Reserve
        States:
          Reserve:
            Type: Task
            Resource: arn:aws:states:::lambda:invoke
            Parameters:
              FunctionName: { "Fn::GetAtt": [reserve, Arn] }
              Payload:
                id.$: $.id
                attempt.$: $$.State.RetryCount
            OutputPath: $.Payload
            Retry:
              - ErrorEquals: [StockBusy]
                IntervalSeconds: 1
                MaxAttempts: 3
            Next: Slow
          Slow:
            Type: Task
            Resource: { "Fn::GetAtt": [slow, Arn] }
            ResultPath: $.slow
            Catch:
              - ErrorEquals: [Sandbox.Timedout]
                ResultPath: $.timedOut
                Next: Done
            End: true
          Done:
            Type: Pass
            End: true
"""
ORDERS = """
exports.reserve = async (event, context) => {
  console.log('reserving', event.id, 'attempt', event.attempt);
  if (event.attempt < 2) {
    const error = new Error(`stock busy for ${event.id}`);
    error.name = 'StockBusy';
    throw error;
  }
  return { id: event.id, reservedBy: context.functionName };
};

exports.slow = async () => new Promise((resolve) => setTimeout(resolve, 5000));
"""


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "shop"
    (folder / "src").mkdir(parents=True)
    (folder / "serverless.yml").write_text(SERVERLESS)
    (folder / "src" / "orders.js").write_text(ORDERS)
    (folder / "in.json").write_text('{"id": "o-1"}')
    monkeypatch.chdir(folder)
    return folder


@pytest.mark.skipif(shutil.which("node") is None, reason="no `node` on PATH")
def test_deploy_then_invoke_a_node_service(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["deploy"]) == 0, capsys.readouterr().err
    capsys.readouterr()
    assert main(["invoke", "--input", "in.json", "--clock", "virtual", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    output = json.loads(result["output"]) if isinstance(result["output"], str) else result["output"]
    assert output["id"] == "o-1" and output["reservedBy"] == "shop-dev-reserve"
    assert output["timedOut"]["Error"] == "Sandbox.Timedout"
    failed = [e for e in result["events"] if e["type"] == "TaskFailed"]
    assert [e["taskFailedEventDetails"]["error"] for e in failed] == ["StockBusy", "StockBusy"]
    assert main(["logs", "reserve"]) == 0
    logs = capsys.readouterr().out
    assert "\tINFO\treserving o-1 attempt 2" in logs


def test_without_node_deploy_says_so_with_the_fix_and_a_run_fails_clearly(
    shop: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert main(["deploy"]) == 0  # the rest of the service deploys
    err = capsys.readouterr().err
    assert "serverless.yml:4:12: function 'reserve': runtime nodejs22.x needs Node.js" in err
    assert "install Node.js" in err
    assert main(["invoke", "--input", "in.json", "--json", "--clock", "virtual"]) == 1
    run = json.loads(capsys.readouterr().out)
    assert run["error"] == "Lambda.InvalidRuntimeException", run["cause"]
    assert "needs Node.js: no `node` on PATH" in run["cause"]
