"""Fakes for the engine's ports: a recording history sink and scripted Lambda invokers."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from tooling.engine import ExecutionInfo, ExecutionOutcome, parse_definition, run_execution
from tooling.engine.clock import VirtualClock
from tooling.engine.ports import LambdaResponse

REGION = "us-east-1"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:123456789012:function:worker"
INFO = ExecutionInfo(
    execution_arn=f"arn:aws:states:{REGION}:123456789012:execution:machine:run-1",
    name="run-1",
    state_machine_arn=f"arn:aws:states:{REGION}:123456789012:stateMachine:machine",
    state_machine_name="machine",
    role_arn="arn:aws:iam::123456789012:role/machine-role",
)


class RecordingSink:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def append(self, event: dict[str, Any]) -> None:
        self.events.append(event)

    @property
    def types(self) -> list[str]:
        return [e["type"] for e in self.events]


class ScriptedLambdas:
    """Answers each call with `handler(function, event)`; records every call."""

    def __init__(self, handler: Callable[[str, Any], LambdaResponse]) -> None:
        self.handler = handler
        self.calls: list[tuple[str, Any, float | None]] = []

    def invoke(
        self, function: str, payload: str, *, timeout_seconds: float | None = None
    ) -> LambdaResponse:
        event = json.loads(payload)
        self.calls.append((function, event, timeout_seconds))
        return self.handler(function, event)

    def invoke_event(self, function: str, payload: str) -> LambdaResponse:
        """Asynchronous: the handler runs (its answer is dropped), the caller gets a request id."""
        event = json.loads(payload)
        self.calls.append((function, event, None))
        self.handler(function, event)
        return LambdaResponse(payload="", request_id=f"event-{len(self.calls)}")


def ok(value: Any) -> LambdaResponse:
    """A successful Python-runtime answer (json.dumps with its default spacing)."""
    return LambdaResponse(payload=json.dumps(value))


def raised(error_type: str, message: str) -> LambdaResponse:
    body = {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": "req-1",
        "stackTrace": [],
    }
    return LambdaResponse(payload=json.dumps(body), function_error="Unhandled")


class Runner:
    def __init__(self) -> None:
        self.clock = VirtualClock(datetime(2024, 1, 1, tzinfo=UTC))
        self.sink = RecordingSink()

    def run(
        self,
        definition: dict[str, Any],
        data: Any = None,
        lambdas: Any = None,
        **kwargs: Any,
    ) -> ExecutionOutcome:
        mocks = kwargs.get("mocks")
        machine = parse_definition(
            definition, mocked=mocks.states if mocks else (), provided=kwargs.get("services")
        )
        return run_execution(
            machine,
            json.dumps({} if data is None else data),
            info=INFO,
            clock=self.clock,
            lambdas=lambdas or ScriptedLambdas(lambda f, e: ok(e)),
            history=self.sink,
            **kwargs,
        )


def details(event: dict[str, Any]) -> dict[str, Any]:
    """The single *EventDetails member of an event."""
    found = [v for k, v in event.items() if k.endswith("EventDetails")]
    assert len(found) == 1, event
    return found[0]
