"""Runs one execution of the local runtime to its end, in a process of its own.

`tool invoke` starts it detached, so a run goes on (as on AWS) when the CLI stops following it.
Usage: python -m tooling.localrt.worker DB_PATH EXECUTION_ARN OWNER

OWNER is the token the execution's row was given for this worker (ownership.py): the worker
claims the lease with it, renews it from a heartbeat thread, and writes events and the end of the
run only while the token owns the row. When the execution has events already (an owner before
this one died), the run resumes from them (tooling/engine/replay.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sys
import threading
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tooling.engine import ExecutionInfo, TaskMocks, parse_definition
from tooling.engine.clock import make_clock
from tooling.engine.replay import ReplayLog
from tooling.errors import ToolError
from tooling.localrt.callbacks import StoreTaskCallbacks
from tooling.localrt.execute import run_local_execution, waits_for_tokens
from tooling.localrt.functions import spec_from_record
from tooling.localrt.lambda_runner import FunctionSpec, Invocation, kill_live_sandboxes
from tooling.localrt.ownership import HEARTBEAT_SECONDS, LEASE_SECONDS
from tooling.localrt.process_tree import end_tree, process_start
from tooling.localrt.runtime_hint import write_hint
from tooling.localrt.services import LOCAL_INTEGRATIONS
from tooling.localrt.store import Store
from tooling.localrt.waits import WaitNotices


class OwnershipLost(BaseException):  # noqa: N818 - not an error of the run: it ends the worker
    """Another process owns the execution now (this one was taken for dead), or it was stopped:
    this worker must stop at once and write nothing more. A BaseException, so that the engine
    does not turn it into a failure of the execution."""


class StoreHistory:
    """HistorySink writing each event, with its position, as it happens (followers see the run
    grow), while this worker owns the execution."""

    def __init__(self, store: Store, execution_arn: str, owner: str) -> None:
        self.store = store
        self.execution_arn = execution_arn
        self.owner = owner
        self.last_event_id = 0
        self.last_timestamp: datetime | None = None

    def append(self, event: dict[str, Any]) -> None:
        self.append_at(event, None)

    def append_at(self, event: dict[str, Any], position: dict[str, Any] | None) -> None:
        if not self.store.append_event(self.execution_arn, event, position, self.owner):
            raise OwnershipLost()
        self.last_event_id = event["id"]
        self.last_timestamp = event["timestamp"]


class Heartbeat:
    """Renews the owner's lease; when the lease is gone (taken over, or the run stopped), ends
    this process and its handlers at once."""

    def __init__(self, store: Store, execution_arn: str, owner: str) -> None:
        self.store = store
        self.execution_arn = execution_arn
        self.owner = owner
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, daemon=True)

    def start(self) -> Heartbeat:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopped.set()

    def _beat(self) -> None:
        while not self.stopped.wait(HEARTBEAT_SECONDS):
            try:
                kept = self.store.renew_lease(
                    self.execution_arn, self.owner, time.time() + LEASE_SECONDS
                )
            except Exception:  # noqa: BLE001 - a busy state file: try again at the next beat
                continue
            if not kept and not self.stopped.is_set():
                _end_now(self.owner, 0)


# The connection of the command that had this worker forked (tooling/localrt/resident.py),
# told when the run has ended so that a follower need not wait for its next poll.
_end_channel: socket.socket | None = None


def report_end_to(channel: socket.socket) -> None:
    global _end_channel
    _end_channel = channel


def _report_end() -> None:
    if _end_channel is not None:
        with contextlib.suppress(OSError):  # nobody follows any more: nothing to tell
            _end_channel.send(b".", socket.MSG_DONTWAIT | socket.MSG_NOSIGNAL)


def _end_now(owner: str, code: int) -> None:
    kill_live_sandboxes()
    end_tree(None, f"{owner}/")
    os._exit(code)


def run(store: Store, execution_arn: str, owner: str, heartbeat: Heartbeat | None = None) -> None:
    record = store.get_execution(execution_arn)
    if record is None or record.status != "RUNNING":
        return
    machine_record = store.get_state_machine(record.state_machine_arn)
    history = StoreHistory(store, execution_arn, owner)
    recorded = store.positioned_events(execution_arn)
    replay = None
    if recorded:
        if any(position is None for _, position in recorded):
            # Written by a version of the toolkit that kept no positions: it cannot resume.
            store.fail_execution(
                execution_arn,
                error="Local.WorkerDied",
                cause="the worker running this execution died, and its history was written "
                "by an older version of the toolkit, which the run cannot be resumed from",
                stop_date=datetime.now(UTC),
                owner=owner,
            )
            return
        replay = ReplayLog((event, position) for event, position in recorded if position)
        history.last_event_id = replay.last_id
        history.last_timestamp = replay.last_timestamp

    def keep_logs(spec: FunctionSpec, invocation: Invocation) -> None:
        # One row per invocation: its output is capped already (lambda_runner.py).
        store.append_log(
            function_name=spec.name,
            request_id=invocation.request_id,
            timestamp=datetime.now(UTC),
            message=invocation.log,
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
    # A resumed run's virtual clock goes on from its last event, not from the start.
    resumed_at = replay.last_timestamp if replay is not None else None
    clock = make_clock(record.clock, start=max(record.start_date, resumed_at or record.start_date))
    callbacks = StoreTaskCallbacks(store, clock)
    notices = WaitNotices(store.path.parent, execution_arn)
    hinted: list[str] = []

    def remember_first(spec: FunctionSpec) -> None:
        # The resident runtime's next spare starts this function's runtime ahead.
        if not hinted:
            hinted.append(spec.arn)
            with contextlib.suppress(OSError, ToolError):
                write_hint(store.path.parent, spec.arn, spec.region)

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
        waits_for_tokens=waits_for_tokens(record.definition),
        on_invocation=keep_logs,
        sandbox_owner=owner,
        replay=replay,
        mocks=mocks,
        on_wait=notices.write if record.clock == "real" else None,
        on_cold_start=remember_first,
    )
    notices.clear()
    if heartbeat is not None:
        heartbeat.stop()  # the end below gives the lease up: nothing to renew
    store.finish_execution(
        execution_arn,
        status=outcome.status,
        output=outcome.output,
        error=outcome.error,
        cause=outcome.cause,
        stop_date=history.last_timestamp or datetime.now(UTC),
        owner=owner,
    )
    _report_end()


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


def main(argv: list[str], store: Store | None = None) -> int:
    """Run execution `argv[1]` of store `argv[0]` as owner `argv[2]`. `store`: the store opened
    already (a spare worker of the resident runtime opens it while it waits)."""
    db_path, execution_arn, owner = argv
    signal.signal(signal.SIGTERM, _end_when_stopped)
    store = store if store is not None else Store(Path(db_path))
    started = process_start(os.getpid())
    if not store.claim_execution(
        execution_arn,
        owner,
        pid=os.getpid(),
        started=started,
        lease_until=time.time() + LEASE_SECONDS,
    ):
        return 0  # replaced before it could start (or the run ended): nothing to do
    heartbeat = Heartbeat(store, execution_arn, owner).start()
    try:
        run(store, execution_arn, owner, heartbeat)
    except OwnershipLost:
        heartbeat.stop()
        _end_now(owner, 0)
    except Exception as exc:  # the run must end with a status, whatever went wrong
        traceback.print_exc()
        store.fail_execution(
            execution_arn,
            error="Local.WorkerError",
            cause=f"the local runtime failed: {type(exc).__name__}: {exc}",
            stop_date=datetime.now(UTC),
            owner=owner,
        )
        return 1
    finally:
        heartbeat.stop()
        _wait_for_event_invocations()
        end_tree(None, f"{owner}/")  # nothing a handler started outlives the run
    return 0


def _wait_for_event_invocations() -> None:
    """Asynchronous Lambda invocations (InvocationType Event) run on threads of their own and
    end on their own, after the execution (invoker.py)."""
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
