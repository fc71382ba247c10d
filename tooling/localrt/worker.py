"""Runs one execution of the local runtime to its end, in a process of its own.

`tool invoke` starts it detached, so a run goes on (as on AWS) when the CLI stops following it.
Usage: python -m tooling.localrt.worker DB_PATH EXECUTION_ARN
"""

from __future__ import annotations

import json
import os
import signal
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tooling.engine import ExecutionInfo, TaskMocks, parse_definition
from tooling.engine.clock import make_clock
from tooling.localrt.callbacks import StoreTaskCallbacks
from tooling.localrt.execute import run_local_execution
from tooling.localrt.functions import spec_from_record
from tooling.localrt.lambda_runner import FunctionSpec, Invocation, kill_live_sandboxes
from tooling.localrt.services import LOCAL_INTEGRATIONS
from tooling.localrt.store import Store
from tooling.localrt.waits import WaitNotices


class StoreHistory:
    """HistorySink writing each event as it happens, so followers see the run grow."""

    def __init__(self, store: Store, execution_arn: str) -> None:
        self.store = store
        self.execution_arn = execution_arn
        self.last_event_id = 0
        self.last_timestamp: datetime | None = None

    def append(self, event: dict[str, Any]) -> None:
        self.store.append_event(self.execution_arn, event)
        self.last_event_id = event["id"]
        self.last_timestamp = event["timestamp"]


def run(store: Store, execution_arn: str) -> None:
    record = store.get_execution(execution_arn)
    if record is None or record.status != "RUNNING":
        return
    machine_record = store.get_state_machine(record.state_machine_arn)
    history = StoreHistory(store, execution_arn)

    def keep_logs(spec: FunctionSpec, invocation: Invocation) -> None:
        now = datetime.now(UTC)
        for line in invocation.log.splitlines():
            store.append_log(
                function_name=spec.name,
                request_id=invocation.request_id,
                timestamp=now,
                message=line,
                execution_arn=execution_arn,
                after_event_id=history.last_event_id,
            )

    def lookup(arn: str) -> FunctionSpec | None:
        function = store.get_function(arn)
        # The handler sees its own function's region (AWS_REGION), which is the ARN's.
        return spec_from_record(function, arn.split(":")[3]) if function else None

    mocks = _mocks(record.mocks)
    machine = parse_definition(
        json.loads(record.definition),
        mocked=mocks.states if mocks else (),
        provided=LOCAL_INTEGRATIONS,
    )
    info = ExecutionInfo(
        execution_arn=execution_arn,
        name=record.name,
        state_machine_arn=record.state_machine_arn,
        state_machine_name=record.state_machine_arn.rsplit(":", 1)[1],
        role_arn=machine_record.role_arn if machine_record else "",
        start_time=record.start_date,
    )
    clock = make_clock(record.clock, start=record.start_date)
    callbacks = StoreTaskCallbacks(store, clock)
    notices = WaitNotices(store.path.parent, execution_arn)
    outcome = run_local_execution(
        machine,
        record.input,
        info=info,
        clock=clock,
        clock_kind=record.clock,
        history=history,
        callbacks=callbacks,
        functions=lookup,
        database=store.path,
        waits_for_tokens=".waitForTaskToken" in record.definition,
        on_invocation=keep_logs,
        mocks=mocks,
        on_wait=notices.write if record.clock == "real" else None,
    )
    notices.clear()
    store.finish_execution(
        execution_arn,
        status=outcome.status,
        output=outcome.output,
        error=outcome.error,
        cause=outcome.cause,
        stop_date=history.last_timestamp or datetime.now(UTC),
    )


def _mocks(text: str | None) -> TaskMocks | None:
    """The Task answers `tool invoke --mock` kept with the execution (checked when it started)."""
    if text is None:
        return None
    kept = json.loads(text)
    return TaskMocks.from_config(
        kept["config"], machine_names=kept["machines"], test_case=kept["testCase"]
    )


def _end_when_stopped(signum: int, frame: object) -> None:
    """`tool stop` sends SIGTERM after it has marked the execution ABORTED: end the handler
    sandboxes (sessions of their own, so the group kill misses them) and exit at once."""
    kill_live_sandboxes()
    os._exit(128 + signum)


def main(argv: list[str]) -> int:
    db_path, execution_arn = argv
    signal.signal(signal.SIGTERM, _end_when_stopped)
    store = Store(Path(db_path))
    try:
        run(store, execution_arn)
    except Exception as exc:  # the run must end with a status, whatever went wrong
        traceback.print_exc()
        store.finish_execution(
            execution_arn,
            status="FAILED",
            output=None,
            error="Local.WorkerError",
            cause=f"the local runtime failed: {type(exc).__name__}: {exc}",
            stop_date=datetime.now(UTC),
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
