"""The trigger Lambda function: an SQS event source mapping (with ReportBatchItemFailures) calls
it with a batch of messages; it starts one execution per message and reports the messages that
must be delivered again.

Shipped inside `tooling` with no user code: it needs only the standard library, boto3 (in every
Python Lambda runtime) and `start_from_messages`. Configuration: STATE_MACHINE_ARN.
One JSON log line per message that did not start a run, so `tool queue` can show the reason.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from tooling.triggers.start_from_messages import (
    MessageResult,
    Outcome,
    QueueMessage,
    start_from_messages,
)

STATE_MACHINE_ARN_VARIABLE = "STATE_MACHINE_ARN"
LOG_MARKER = "tool-trigger"  # every log line of ours starts with it, for filter_log_events


class Boto3Starter:
    """The Starter port over a boto3 Step Functions client (its ClientErrors carry the code)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def start_execution(self, state_machine_arn: str, name: str, input: str) -> Mapping[str, Any]:
        answer: Mapping[str, Any] = self.client.start_execution(
            stateMachineArn=state_machine_arn, name=name, input=input
        )
        return answer

    def describe_execution(self, execution_arn: str) -> Mapping[str, Any]:
        answer: Mapping[str, Any] = self.client.describe_execution(executionArn=execution_arn)
        return answer


_starter: Boto3Starter | None = None


def _default_starter() -> Boto3Starter:
    global _starter
    if _starter is None:  # one client per container, reused by later invocations
        import boto3

        _starter = Boto3Starter(boto3.client("stepfunctions"))
    return _starter


def log_result(result: MessageResult) -> None:
    if result.outcome is not Outcome.STARTED:
        print(LOG_MARKER, json.dumps(result.log_record(), sort_keys=True), flush=True)


def handle(event: Mapping[str, Any], context: Any = None, starter: Any = None) -> dict[str, Any]:
    """The Lambda handler: `tooling.triggers.lambda_handler.handle`."""
    state_machine_arn = os.environ[STATE_MACHINE_ARN_VARIABLE]
    messages = [QueueMessage.from_lambda_record(r) for r in event.get("Records", [])]
    result = start_from_messages(
        starter or _default_starter(), state_machine_arn, messages, on_result=log_result
    )
    return result.lambda_response()
