"""run_local_execution: the one place the local runtime wires the engine to its ports."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from tooling.engine import ExecutionInfo, parse_definition
from tooling.engine.callbacks import InMemoryTaskCallbacks
from tooling.engine.clock import VirtualClock
from tooling.localrt.execute import run_local_execution
from tooling.localrt.services import LOCAL_INTEGRATIONS

MACHINE_ARN = "arn:aws:states:eu-west-1:000000000000:stateMachine:m"


class Sink:
    def __init__(self) -> None:
        self.events: list[dict[str, object]] = []

    def append(self, event: dict[str, object]) -> None:
        self.events.append(event)


def test_a_run_needs_no_state_file_until_a_task_reaches_for_one(tmp_path: Path) -> None:
    definition = {
        "StartAt": "Send",
        "States": {
            "Send": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage",
                "Parameters": {
                    "QueueUrl": "https://sqs.eu-west-1.amazonaws.com/000000000000/jobs",
                    "MessageBody": "hi",
                },
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Done"}],
                "End": True,
            },
            "Done": {"Type": "Pass", "End": True},
        },
    }
    clock = VirtualClock(datetime(2024, 1, 1, tzinfo=UTC))
    sink = Sink()
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
        history=sink,
        callbacks=InMemoryTaskCallbacks(clock),
        functions=lambda arn: None,
        database=tmp_path / "local.db",
        waits_for_tokens=False,
    )
    # Nothing deployed here: the queue does not exist, which the Catch takes.
    assert outcome.status == "SUCCEEDED"
    assert json.loads(outcome.output or "")["Error"] == "SQS.QueueDoesNotExistException"
    scheduled = next(e for e in sink.events if e["type"] == "TaskScheduled")
    assert scheduled["taskScheduledEventDetails"]["region"] == "eu-west-1"  # type: ignore[index]  # event: dict[str, object]
    assert not (tmp_path / "local.db").exists()
