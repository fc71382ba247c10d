"""A Step Functions stand-in with StartExecution's name rules (API reference, notes 2.4)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:loop"


class FakeClientError(Exception):
    """Shaped like botocore's ClientError: the code is in response["Error"]["Code"]."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(f"An error occurred ({code}): {message}")
        self.response = {"Error": {"Code": code, "Message": message}}


@dataclass
class FakeStepFunctions:
    executions: dict[str, dict[str, Any]] = field(default_factory=dict)  # by execution ARN
    start_calls: int = 0
    failures: list[str] = field(default_factory=list)  # codes raised by the next calls, in order
    describe_failures: list[str] = field(default_factory=list)

    def start_execution(self, state_machine_arn: str, name: str, input: str) -> dict[str, Any]:
        self.start_calls += 1
        if self.failures:
            raise FakeClientError(self.failures.pop(0))
        arn = state_machine_arn.replace(":stateMachine:", ":execution:") + ":" + name
        existing = self.executions.get(arn)
        if existing is not None:
            # Idempotent only while the first run is RUNNING and the input is the same.
            if existing["status"] == "RUNNING" and existing["input"] == input:
                return {"executionArn": arn, "startDate": existing["startDate"]}
            raise FakeClientError("ExecutionAlreadyExists", f"Execution Already Exists: '{arn}'")
        self.executions[arn] = {"status": "RUNNING", "input": input, "startDate": "t0"}
        return {"executionArn": arn, "startDate": "t0"}

    def describe_execution(self, execution_arn: str) -> dict[str, Any]:
        if self.describe_failures:
            raise FakeClientError(self.describe_failures.pop(0))
        existing = self.executions.get(execution_arn)
        if existing is None:
            raise FakeClientError("ExecutionDoesNotExist")
        return {"executionArn": execution_arn, **existing}

    def finish_all(self) -> None:
        for execution in self.executions.values():
            execution["status"] = "SUCCEEDED"
