"""Histories for the overlay tests: real ones from the engine (scripted Lambda answers, virtual
clock) and hand-made ones shaped like AWS's for states the local engine does not run."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from tooling.engine import ExecutionInfo, parse_definition, run_execution
from tooling.engine.clock import VirtualClock
from tooling.engine.ports import LambdaResponse

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:worker"
INFO = ExecutionInfo(
    execution_arn="arn:aws:states:us-east-1:123456789012:execution:machine:run-1",
    name="run-1",
    state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:machine",
    state_machine_name="machine",
    role_arn="arn:aws:iam::123456789012:role/machine-role",
)


def ok(value: Any) -> LambdaResponse:
    return LambdaResponse(payload=json.dumps(value))


def raised(error_type: str, message: str = "boom") -> LambdaResponse:
    body = {"errorMessage": message, "errorType": error_type, "stackTrace": []}
    return LambdaResponse(payload=json.dumps(body), function_error="Unhandled")


class _Scripted:
    def __init__(self, answer: Callable[[Any], LambdaResponse]) -> None:
        self.answer = answer

    def invoke(
        self, function: str, payload: str, *, timeout_seconds: float | None = None
    ) -> LambdaResponse:
        return self.answer(json.loads(payload))

    def invoke_event(self, function: str, payload: str) -> LambdaResponse:
        raise AssertionError("the histories drawn here make no asynchronous Lambda calls")


class _Sink:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def append(self, event: dict[str, Any]) -> None:
        self.events.append(event)


def engine_history(
    definition: dict[str, Any], answer: Callable[[Any], LambdaResponse], data: Any = None
) -> list[dict[str, Any]]:
    """Run `definition` in the engine; every Lambda call is answered by `answer(event)`."""
    sink = _Sink()
    run_execution(
        parse_definition(definition),
        json.dumps({} if data is None else data),
        info=INFO,
        clock=VirtualClock(datetime(2024, 1, 1, tzinfo=UTC)),
        lambdas=_Scripted(answer),
        history=sink,
    )
    return sink.events


def answers(*responses: LambdaResponse) -> Callable[[Any], LambdaResponse]:
    """Answer the calls with `responses`, in order."""
    pending: Iterator[LambdaResponse] = iter(responses)
    return lambda _event: next(pending)


class HandMade:
    """Builds an AWS-shaped history event by event; each method answers the new event's id."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.add("ExecutionStarted", previous=0, executionStartedEventDetails={"input": "{}"})

    def add(self, type_: str, *, previous: int | None = None, **details: Any) -> int:
        event_id = len(self.events) + 1
        pointed = event_id - 1 if previous is None else previous
        event = {"id": event_id, "previousEventId": pointed, "type": type_, **details}
        self.events.append(event)
        return event_id

    def entered(self, prefix: str, name: str, previous: int | None = None) -> int:
        return self.add(
            f"{prefix}StateEntered", previous=previous, stateEnteredEventDetails={"name": name}
        )

    def exited(self, prefix: str, name: str, previous: int | None = None) -> int:
        return self.add(
            f"{prefix}StateExited", previous=previous, stateExitedEventDetails={"name": name}
        )

    def passes(self, name: str, previous: int | None = None) -> int:
        return self.exited("Pass", name, self.entered("Pass", name, previous))
