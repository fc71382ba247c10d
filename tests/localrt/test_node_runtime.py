"""Node.js handlers on the local runtime: `node` with Lambda's Node.js contract (async and
callback handlers, CommonJS and ES modules, context, error payloads, timeout, console format)."""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tooling.engine import ExecutionInfo, parse_definition
from tooling.engine.callbacks import InMemoryTaskCallbacks
from tooling.engine.clock import VirtualClock
from tooling.errors import BadInput
from tooling.localrt import runtimes
from tooling.localrt.execute import run_local_execution
from tooling.localrt.lambda_runner import FunctionSpec, Invocation, LocalLambdaRunner
from tooling.localrt.services import LOCAL_INTEGRATIONS

pytestmark = pytest.mark.slow  # end-to-end: `make test` runs it, `make test-fast` does not

needs_node = pytest.mark.skipif(
    shutil.which("node") is None, reason="no `node` on PATH: Node.js handlers cannot run here"
)
REQUEST_ID = "4b0d9a5c-0000-4000-8000-000000000002"
ARN = "arn:aws:lambda:us-east-1:000000000000:function:shop-dev-orders"
MACHINE_ARN = "arn:aws:states:us-east-1:000000000000:stateMachine:m"

HANDLERS = {
    "index.js": """
exports.handler = async (event, context) => {
  console.log('order', event.id);
  return {
    id: event.id,
    functionName: context.functionName,
    requestId: context.awsRequestId,
    arn: context.invokedFunctionArn,
    memory: context.memoryLimitInMB,
    remaining: context.getRemainingTimeInMillis(),
    stage: process.env.STAGE,
    callerSecret: process.env.CALLER_SECRET || null,
    executionEnv: process.env.AWS_EXECUTION_ENV,
  };
};

exports.fails = async (event) => {
  class OrderRejected extends Error {}
  const error = new OrderRejected(`order ${event.id} rejected`);
  error.name = 'OrderRejected';
  throw error;
};

exports.throwsText = async () => { throw 'plain text'; };

exports.sleeps = async () => new Promise((resolve) => setTimeout(resolve, 10000));

exports.withCallback = (event, context, callback) => {
  setTimeout(() => console.log('timer done'), 50);
  callback(null, { called: event.n });
};

exports.noWait = (event, context, callback) => {
  context.callbackWaitsForEmptyEventLoop = false;
  setTimeout(() => console.log('never printed'), 5000);
  callback(null, 'at once');
};
""",
    "esm.mjs": "export const handler = async (event) => ({ esm: event.n * 2 });\n",
    "modern/package.json": '{"type": "module"}\n',
    "modern/app.js": "export const handler = async () => 'module .js';\n",
}


@pytest.fixture
def code_dir(tmp_path: Path) -> Path:
    target = tmp_path / "task"
    for name, text in HANDLERS.items():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        (target / name).write_text(text)
    return target


def spec(code_dir: Path, handler: str, **changes: Any) -> FunctionSpec:
    fields: dict[str, Any] = {
        "name": "shop-dev-orders",
        "arn": ARN,
        "handler": handler,
        "runtime": "nodejs20.x",
        "memory_size": 256,
        "timeout": 3,
        "environment": {"STAGE": "dev"},
        "code_dir": code_dir,
        "region": "us-east-1",
    }
    fields.update(changes)
    return FunctionSpec(**fields)


def invoke(code_dir: Path, handler: str, event: Any = None, **changes: Any) -> Invocation:
    runner = LocalLambdaRunner(new_request_id=lambda: REQUEST_ID)
    return runner.invoke(spec(code_dir, handler, **changes), json.dumps(event or {}))


@needs_node
def test_an_async_handler_answers_with_lambdas_context(
    code_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALLER_SECRET", "must-not-leak")
    invocation = invoke(code_dir, "index.handler", {"id": "o-1"})
    assert invocation.function_error is None
    answer = json.loads(invocation.payload)
    assert 0 < answer.pop("remaining") <= 3000
    assert answer == {
        "id": "o-1",
        "functionName": "shop-dev-orders",
        "requestId": REQUEST_ID,
        "arn": ARN,
        "memory": "256",
        "stage": "dev",
        "callerSecret": None,
        "executionEnv": "AWS_Lambda_nodejs20.x",
    }
    # console.log as the Node.js runtime writes it: time, request id, level, message.
    line = next(line for line in invocation.log.splitlines() if "order" in line)
    assert re.fullmatch(
        rf"\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}Z\t{REQUEST_ID}\tINFO\torder o-1", line
    )


@needs_node
def test_a_thrown_error_answers_lambdas_node_error_payload(code_dir: Path) -> None:
    invocation = invoke(code_dir, "index.fails", {"id": "o-2"})
    assert invocation.function_error == "Unhandled"
    error = json.loads(invocation.payload)
    assert list(error) == ["errorType", "errorMessage", "trace"]
    assert (error["errorType"], error["errorMessage"]) == ("OrderRejected", "order o-2 rejected")
    assert error["trace"][0] == "OrderRejected: order o-2 rejected"
    assert "\tERROR\tInvoke Error \t{" in invocation.log
    text = json.loads(invoke(code_dir, "index.throwsText").payload)
    assert text == {"errorType": "string", "errorMessage": "plain text", "trace": []}


@needs_node
def test_the_function_timeout_is_sandbox_timedout(code_dir: Path) -> None:
    invocation = invoke(code_dir, "index.sleeps", timeout=1)
    assert json.loads(invocation.payload) == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {REQUEST_ID} Error: Task timed out after 1.00 seconds",
    }


@needs_node
def test_a_callback_handler_answers_once_the_event_loop_is_empty(code_dir: Path) -> None:
    invocation = invoke(code_dir, "index.withCallback", {"n": 4})
    assert json.loads(invocation.payload) == {"called": 4}
    assert "\tINFO\ttimer done" in invocation.log  # the timer ran before the answer
    at_once = invoke(code_dir, "index.noWait")
    assert json.loads(at_once.payload) == "at once"
    assert "never printed" not in at_once.log


@needs_node
@pytest.mark.parametrize(
    ("handler", "answer"), [("esm.handler", {"esm": 6}), ("modern/app.handler", "module .js")]
)
def test_es_modules_load_as_on_lambda(code_dir: Path, handler: str, answer: Any) -> None:
    invocation = invoke(code_dir, handler, {"n": 3})
    assert (invocation.function_error, json.loads(invocation.payload)) == (None, answer)


@needs_node
def test_a_missing_module_is_an_import_error_of_the_init_phase(code_dir: Path) -> None:
    invocation = invoke(code_dir, "nothere.handler")
    error = json.loads(invocation.payload)
    assert error["errorType"] == "Runtime.ImportModuleError"
    assert error["errorMessage"].startswith("Error: Cannot find module 'nothere'")
    assert (
        "INIT_REPORT" in invocation.log
        and "\tundefined\tERROR\tUncaught Exception" in invocation.log
    )


@needs_node
def test_in_a_run_the_error_name_drives_retry_and_the_timeout_catch(code_dir: Path) -> None:
    (code_dir / "flaky.js").write_text(
        """
const fs = require('fs');
const path = require('path');
exports.handler = async () => {
  const counter = path.join(__dirname, 'calls');
  const calls = fs.existsSync(counter) ? Number(fs.readFileSync(counter, 'utf8')) + 1 : 1;
  fs.writeFileSync(counter, String(calls));
  if (calls < 3) {
    const error = new Error('stock service busy');
    error.name = 'StockBusy';
    throw error;
  }
  return { calls };
};
"""
    )
    functions = {
        ARN: spec(code_dir, "flaky.handler"),
        ARN + "-slow": spec(code_dir, "index.sleeps", name="shop-dev-orders-slow", timeout=1),
    }
    definition = {
        "StartAt": "Reserve",
        "States": {
            "Reserve": {
                "Type": "Task",
                "Resource": ARN,
                "Retry": [{"ErrorEquals": ["StockBusy"], "IntervalSeconds": 5, "MaxAttempts": 3}],
                "ResultPath": "$.reserved",
                "Next": "Slow",
            },
            "Slow": {
                "Type": "Task",
                "Resource": ARN + "-slow",
                "Catch": [
                    {
                        "ErrorEquals": ["Sandbox.Timedout"],
                        "ResultPath": "$.timedOut",
                        "Next": "Done",
                    }
                ],
                "End": True,
            },
            "Done": {"Type": "Pass", "End": True},
        },
    }
    clock = VirtualClock(datetime(2024, 1, 1, tzinfo=UTC))
    events: list[dict[str, Any]] = []

    class Sink:
        def append(self, event: dict[str, Any]) -> None:
            events.append(event)

    outcome = run_local_execution(
        parse_definition(definition, provided=LOCAL_INTEGRATIONS),
        "{}",
        info=ExecutionInfo(
            execution_arn=MACHINE_ARN.replace("stateMachine", "execution") + ":e",
            name="e",
            state_machine_arn=MACHINE_ARN,
            state_machine_name="m",
            role_arn="",
            start_time=clock.now(),
        ),
        clock=clock,
        clock_kind="virtual",
        history=Sink(),
        callbacks=InMemoryTaskCallbacks(clock),
        functions=functions.get,
        database=code_dir.parent / ".tool" / "local.db",
        waits_for_tokens=False,
    )
    assert outcome.status == "SUCCEEDED", (outcome.error, outcome.cause)
    result = json.loads(outcome.output or "")
    assert result["reserved"] == {"calls": 3}
    assert result["timedOut"]["Error"] == "Sandbox.Timedout"
    failures = [
        e["lambdaFunctionFailedEventDetails"] for e in events if e["type"] == "LambdaFunctionFailed"
    ]
    assert [f["error"] for f in failures] == ["StockBusy", "StockBusy", "Sandbox.Timedout"]
    assert json.loads(failures[0]["cause"])["errorMessage"] == "stock service busy"


def test_without_node_a_nodejs_function_is_refused_with_the_fix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(runtimes, "node_executable", lambda: None)
    with pytest.raises(BadInput) as info:
        runtimes.check_runs_here("nodejs20.x", function="orders", file="serverless.yml")
    assert (
        info.value.message
        == "function 'orders': runtime nodejs20.x needs Node.js: no `node` on PATH"
    )
    assert "install Node.js" in (info.value.hint or "")
    with pytest.raises(BadInput):
        LocalLambdaRunner().invoke(spec(tmp_path, "index.handler"), "{}")
    runtimes.check_runs_here("python3.12")  # Python needs nothing more
    with pytest.raises(BadInput, match="does not run on the local target"):
        runtimes.check_runs_here("java21")
