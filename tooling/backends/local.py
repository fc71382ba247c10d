"""The embedded local runtime as a target: SQLite state under `.tool/`, executions run by a
detached worker process, answers in boto3's shapes."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tooling.errors import AlreadyExists, InputError, NotFound, OperationFailed, ToolError
from tooling.localrt.ownership import CLAIM_SECONDS, new_owner, owner_is_live
from tooling.localrt.process_tree import end_tree, process_alive
from tooling.localrt.resident import (
    Reservation,
    ResidentRuntime,
    Unanswered,
    WorkerChannel,
)
from tooling.localrt.resident import enabled as resident_enabled
from tooling.localrt.store import ExecutionRecord, FunctionRecord, StateMachineRecord, Store
from tooling.localrt.waits import read_notice
from tooling.names import (
    LOCAL_ACCOUNT_ID,
    check_execution_name,
    check_input_size,
    check_stop_reason,
    execution_arn,
    function_arn,
)
from tooling.processes import is_zombie, spawn_detached, worker_environment
from tooling.statedir import STATE_DIR, state_path
from tooling.statedir import state_dir as state_dir  # re-exported

# The module the folder's resident runtime is started as: tooling.localrt.resident, with the
# take-over of executions whose worker died (tooling/backends/resident.py).
RESIDENT_ENTRY = "tooling.backends.resident"

if TYPE_CHECKING:  # the task-token parts load with their first use (the CLI's start-up)
    from tooling.engine.callbacks import TaskTokenError


def _now() -> datetime:
    return datetime.now(UTC)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A finished child of ours stays a zombie until reaped; it is not alive.
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        # Not ours (workers are detached): a zombie waiting for init to reap it has ended.
        return not is_zombie(pid)
    return waited == 0


WORKER_STOP_GRACE_SECONDS = 5.0


def _end_worker(pid: int, started: int | None = None) -> None:
    """End a stopped execution's worker: SIGTERM lets it kill its handler sandboxes, SIGKILL
    follows if it has not exited within the grace period. The worker leads its own process
    group (start_new_session), so the signal reaches everything it started in that group."""
    if not process_alive(pid, started):
        return  # gone already (its pid may belong to another process now)
    try:
        if os.getpgid(pid) != pid:
            return  # the worker is gone and its pid belongs to another process now
        os.killpg(pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        return
    deadline = time.monotonic() + WORKER_STOP_GRACE_SECONDS
    while _pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    if _pid_alive(pid):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)


class LocalBackend:
    target = "local"

    def __init__(self, service_dir: Path, region: str, clock: str = "real") -> None:
        self.service_dir = service_dir
        self.root = state_dir(service_dir)
        self.region = region
        self.account_id = LOCAL_ACCOUNT_ID
        self.store = Store(state_path(service_dir, "local.db"))
        self.clock = clock  # the clock the executions started here run on
        self.wall_clock = time.time  # what leases are measured against (tests move it)
        # Workers are forked by the folder's resident runtime when it can (TOOL_RESIDENT=0: never).
        self.resident = ResidentRuntime(self.root, RESIDENT_ENTRY) if resident_enabled() else None
        self._channels: dict[str, WorkerChannel] = {}  # the last workers started, by execution

    def _in_region(self, arn: str) -> bool:
        """Whether a resource ARN (arn:partition:service:region:...) is in this backend's region;
        one state file holds every region's resources, as one account does."""
        return arn.split(":")[3:4] == [self.region]

    # functions

    def _function_arn(self, name: str) -> str:
        """Functions are regional: the same name in another region is another function."""
        return function_arn(self.region, self.account_id, name)

    def find_function(self, name: str) -> dict[str, Any] | None:
        record = self.store.get_function(self._function_arn(name))
        return function_configuration(record) if record else None

    # state machines

    def find_state_machine(self, arn: str) -> dict[str, Any] | None:
        record = self.store.get_state_machine(arn)
        return describe_state_machine(record) if record else None

    # executions

    def start_execution(
        self, state_machine_arn: str, name: str, input: str, *, mocks: str | None = None
    ) -> dict[str, Any]:
        """`mocks`: JSON of the mock file, entry and test case its Task states answer from
        (`tool invoke --mock`), kept with the execution for its worker."""
        check_execution_name(name)
        check_input_size(input, "--input")
        machine = self.store.get_state_machine(state_machine_arn)
        if machine is None:
            raise NotFound(
                f"state machine {state_machine_arn} does not exist on the local target",
                hint="run `tool deploy` first",
            )
        arn = execution_arn(state_machine_arn, name)
        # The worker started below; the row is never without an owner.
        owner, reservation = self._new_worker()
        record = ExecutionRecord(
            arn=arn,
            name=name,
            state_machine_arn=state_machine_arn,
            definition=machine.definition,
            status="RUNNING",
            input=input,
            output=None,
            error=None,
            cause=None,
            start_date=_now(),
            stop_date=None,
            worker_pid=None,
            clock=self.clock,
            owner=owner,
            lease_until=self.wall_clock() + CLAIM_SECONDS,
            mocks=mocks,
        )
        stored = self.store.insert_execution(record)
        if stored is not record and reservation is not None:
            reservation.cancel()
        if stored is not record:
            # StartExecution is idempotent for a RUNNING execution started with the same input
            # (then its owner must be live: a gone one is replaced now).
            if stored.status == "RUNNING" and stored.input == input:
                self._keep_running(stored)
                return {
                    "executionArn": stored.arn,
                    "startDate": stored.start_date,
                    "alreadyRunning": True,  # a local extra: `tool worker` counts it apart
                }
            raise AlreadyExists(
                f"Execution Already Exists: '{arn}'",
                hint="names are unique per state machine; omit --execution-name to get a UUID",
            )
        try:
            self._spawn_worker(arn, name, owner, reservation)
        except ToolError:
            # Nothing ran: take the execution back, so that no row says RUNNING without a
            # process to run it (if this process dies first, the lease runs out and the next
            # look resumes it instead).
            self.store.forget_unstarted(arn, owner)
            raise
        return {"executionArn": arn, "startDate": record.start_date}

    def _new_worker(self) -> tuple[str, Reservation | None]:
        """The owner token of a worker about to be started, and the resident runtime's spare
        worker reserved under it (None: the worker will be started here)."""
        if self.resident is not None:
            reservation = self.resident.reserve(self.store.path)
            if reservation is not None:
                return reservation.owner, reservation
        return new_owner(), None

    def _spawn_worker(
        self, arn: str, name: str, owner: str, reservation: Reservation | None = None
    ) -> None:
        """Start the detached worker process that runs (or resumes) execution `arn` as
        `owner`: the reserved spare of the folder's resident runtime, or else a process started
        here. Its output goes to .tool/workers/NAME.log."""
        try:
            log_path = state_path(self.service_dir, "workers", f"{name}.log", create=True)
            with open(log_path, "ab") as log:
                if reservation is not None:
                    try:
                        channel = reservation.start(arn, log.fileno())
                    except Unanswered:
                        # A worker may have been forked as `owner`, or not: a new owner token
                        # makes sure that only the one started below runs the execution.
                        channel = None
                        renewed = new_owner()
                        if not self.store.take_over(
                            arn, owner, renewed, self.wall_clock() + CLAIM_SECONDS
                        ):
                            return  # it ended, or another process took it over
                        owner = renewed
                    if channel is not None:
                        self._keep_channel(arn, channel)
                        return
                # Detached, in a session of its own: the run goes on if the CLI is interrupted,
                # and its handlers find neither the CLI among their ancestors nor the caller's
                # secrets.
                spawn_detached(
                    [sys.executable, "-m", "tooling.localrt.worker", str(self.store.path), arn,
                     owner],
                    env=worker_environment(),
                    cwd=self.service_dir,
                    output=log,
                )  # fmt: skip
        except (OSError, ToolError) as exc:
            if reservation is not None:
                reservation.cancel()  # the spare exits, knowing of no execution
            raise OperationFailed(
                f"cannot start the worker process of execution {name}: {exc}",
                hint=f"{STATE_DIR}/workers must be a writable folder; remove what is in its way",
            ) from exc

    def _keep_channel(self, arn: str, channel: WorkerChannel) -> None:
        """Keep the connections of the last few workers started (a follower waits on them);
        `tool worker` starts thousands."""
        old = self._channels.pop(arn, None)
        if old is not None:
            old.close()
        self._channels[arn] = channel
        while len(self._channels) > 4:
            self._channels.pop(next(iter(self._channels))).close()

    def wait_for_change(self, execution_arn: str, seconds: float) -> None:
        """Sleep `seconds`, or less: until the execution's worker says its run ended, when this
        process started that worker."""
        channel = self._channels.get(execution_arn)
        if channel is None:
            time.sleep(seconds)
        else:
            channel.wait(seconds)

    def _keep_running(self, record: ExecutionRecord) -> ExecutionRecord:
        """A RUNNING execution whose owner is gone (dead, or past its lease) is taken over and
        resumed from its stored history by a new worker (tooling/localrt/ownership.py)."""
        if record.status != "RUNNING" or owner_is_live(record, self.wall_clock()):
            return record
        owner, reservation = self._new_worker()
        if not self.store.take_over(
            record.arn, record.owner, owner, self.wall_clock() + CLAIM_SECONDS
        ):
            if reservation is not None:
                reservation.cancel()
            return self.store.get_execution(record.arn) or record  # someone else did, or it ended
        self._end_owner(record)
        with contextlib.suppress(ToolError):  # else the new lease runs out and the next look
            self._spawn_worker(record.arn, record.name, owner, reservation)  # tries again
        return self.store.get_execution(record.arn) or record

    @staticmethod
    def _end_owner(record: ExecutionRecord) -> None:
        """End what a replaced owner left: its process, if it still runs (hung past its lease),
        and its handlers' processes (they die with their worker; their own children do not)."""
        if (
            record.worker_pid is not None
            and record.worker_started is not None  # else it cannot be told from a reused pid
            and record.worker_pid != os.getpid()
            and process_alive(record.worker_pid, record.worker_started)
        ):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(record.worker_pid, signal.SIGKILL)
        if record.owner is not None:
            end_tree(None, f"{record.owner}/")

    def resume_stalled(self) -> int:
        """Take over every RUNNING execution (of any region) whose owner is gone; how many were
        found so (taken over here, by another process at the same moment, or just ended)."""
        resumed = 0
        for record in self.store.list_executions(status="RUNNING"):
            if self._keep_running(record) is not record:
                resumed += 1
        return resumed

    def _require_execution(self, arn: str, keep_running: bool = True) -> ExecutionRecord:
        record = self.store.get_execution(arn)
        if record is None:
            raise NotFound(
                f"execution {arn} does not exist on the local target",
                hint="`tool executions` lists them",
            )
        return self._keep_running(record) if keep_running else record

    def stop_execution(
        self, execution_arn: str, error: str | None = None, cause: str | None = None
    ) -> dict[str, Any]:
        check_stop_reason(error, cause)
        record = self._require_execution(execution_arn, keep_running=False)
        # Claim first (ABORTED, with ExecutionAborted last): from then on the worker can
        # neither append events nor finish the run, whatever it is doing when it dies.
        stopped = self.store.abort_execution(
            execution_arn, error=error, cause=cause, stop_date=_now()
        )
        if stopped is None:
            # The run had ended already: not an error (StopExecution lists no such error);
            # answering with the run's own stop date is not confirmed against AWS.
            ended = self.store.get_execution(execution_arn) or record
            return {"stopDate": ended.stop_date or _now()}
        if record.worker_pid:
            _end_worker(record.worker_pid, record.worker_started)
        if record.owner is not None:
            end_tree(None, f"{record.owner}/")  # what its handlers started, wherever it went
        for child in self._sync_children(execution_arn):
            # The children's own error and cause on AWS are not confirmed; none are recorded.
            if self.store.get_execution(child) is not None:
                self.stop_execution(child)
        return {"stopDate": stopped.stop_date}

    def _sync_children(self, execution_arn: str) -> list[str]:
        """Executions this one started with states:startExecution.sync (or .sync:2), which a
        stop ends too (the .sync role may StopExecution them). Read from the TaskSubmitted
        events, so a child started in the instant before the worker died is missed."""
        children = []
        for event in self.history_since(execution_arn, 0):
            details = event.get("taskSubmittedEventDetails") or {}
            if details.get("resourceType") == "states" and str(
                details.get("resource", "")
            ).startswith("startExecution.sync"):
                arn = json.loads(details.get("output") or "{}").get("ExecutionArn")
                if isinstance(arn, str):
                    children.append(arn)
        return children

    def describe_execution(self, execution_arn: str) -> dict[str, Any]:
        record = self._require_execution(execution_arn)
        answer: dict[str, Any] = {
            "executionArn": record.arn,
            "stateMachineArn": record.state_machine_arn,
            "name": record.name,
            "status": record.status,
            "startDate": record.start_date,
            "input": record.input,
            "inputDetails": {"included": True},
        }
        if record.stop_date:
            answer["stopDate"] = record.stop_date
        if record.output is not None:
            answer["output"] = record.output
            answer["outputDetails"] = {"included": True}
        if record.error is not None:
            answer["error"] = record.error
        if record.cause is not None:
            answer["cause"] = record.cause
        return answer

    def get_execution_history(
        self, execution_arn: str, next_token: str | None = None, max_results: int = 1000
    ) -> dict[str, Any]:
        self._require_execution(execution_arn)
        after = int(next_token) if next_token else 0
        events = self.store.events(execution_arn, after_id=after, limit=max_results)
        answer: dict[str, Any] = {"events": events}
        if len(events) == max_results:
            answer["nextToken"] = str(events[-1]["id"])
        return answer

    def history_since(self, execution_arn: str, after_id: int) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        while True:
            page = self.store.events(execution_arn, after_id=after_id, limit=1000)
            events.extend(page)
            if len(page) < 1000:
                return events
            after_id = page[-1]["id"]

    def list_executions(self, state_machine_arn: str | None = None) -> list[dict[str, Any]]:
        answer = []
        for record in self.store.list_executions(state_machine_arn):
            if not self._in_region(record.arn):
                continue
            record = self._keep_running(record)
            item: dict[str, Any] = {
                "executionArn": record.arn,
                "stateMachineArn": record.state_machine_arn,
                "name": record.name,
                "status": record.status,
                "startDate": record.start_date,
            }
            if record.stop_date:
                item["stopDate"] = record.stop_date
            answer.append(item)
        return answer

    def current_wait(self, execution_arn: str) -> dict[str, Any] | None:
        return read_notice(self.root, execution_arn, _now())

    def resolve_execution(self, name_or_arn: str) -> str:
        if name_or_arn.startswith("arn:"):
            return self._require_execution(name_or_arn).arn
        found = [
            record
            for record in self.store.find_executions_by_name(name_or_arn)
            if self._in_region(record.arn)
        ]
        if not found:
            raise NotFound(
                f"no execution named {name_or_arn!r} in {self.region} on the local target",
                hint="`tool executions` lists them",
            )
        if len(found) > 1:
            raise NotFound(
                f"{len(found)} executions are named {name_or_arn!r} (one per state machine)",
                hint="pass the execution ARN instead",
            )
        return found[0].arn

    # logs

    # the callback pattern

    def send_task_success(self, task_token: str, output: str) -> None:
        from tooling.engine.callbacks import TaskTokenError
        from tooling.engine.ports import CallbackOutcome

        try:
            self.store.answer_task_token(task_token, CallbackOutcome(output=output))
        except TaskTokenError as exc:
            raise _token_refused("send task success", exc) from None

    def get_activity_task(self, activity_arn: str, worker_name: str) -> dict[str, Any]:
        """Long polling as the local endpoint does it (tooling.localrt.callbacks)."""
        from tooling.localrt.callbacks import long_poll_activity

        return long_poll_activity(
            lambda: self.store.claim_activity_task(activity_arn, worker_name, datetime.now(UTC))
        )

    def send_task_failure(self, task_token: str, error: str | None, cause: str | None) -> None:
        from tooling.engine.callbacks import TaskTokenError
        from tooling.engine.ports import CallbackOutcome

        outcome = CallbackOutcome(failed=True, error=error, cause=cause)
        try:
            self.store.answer_task_token(task_token, outcome)
        except TaskTokenError as exc:
            raise _token_refused("send task failure", exc) from None

    def send_task_heartbeat(self, task_token: str) -> None:
        from tooling.engine.callbacks import TaskTokenError

        try:
            self.store.heartbeat_task_token(task_token)
        except TaskTokenError as exc:
            raise _token_refused("send task heartbeat", exc) from None

    def function_logs(
        self, function_name: str, after: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        records = self.store.logs(function_name=function_name, after_seq=int(after or 0))
        # Log groups are regional: keep the lines of this region's runs of the function. A
        # record holds one invocation's output: one event per line, as before.
        events = [
            {"timestamp": r.timestamp, "message": line}
            for r in records
            if r.execution_arn is None or self._in_region(r.execution_arn)
            for line in r.message.splitlines()
        ]
        return events, str(records[-1].seq) if records else after

    def execution_logs(
        self, execution_arn: str, after: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        records = self.store.logs(execution_arn=execution_arn, after_seq=int(after or 0))
        events = [
            {
                "timestamp": r.timestamp,
                "message": line,
                "functionName": r.function_name,
                "afterEventId": r.after_event_id,
            }
            for r in records
            for line in r.message.splitlines()
        ]
        return events, str(records[-1].seq) if records else after


def _token_refused(what: str, error: TaskTokenError) -> ToolError:
    """The refusal worded as on the AWS target: what failed, the API's error code, its message."""
    text = f"{what} failed: {error.code}: {error.message}"
    if error.bad_input:
        return InputError(text, hint="pass the token exactly as the task received it")
    return OperationFailed(
        text, hint="the task was answered already, timed out, or its execution ended"
    )


def function_configuration(record: FunctionRecord) -> dict[str, Any]:
    config = record.config
    return {
        "FunctionName": record.name,
        "FunctionArn": record.arn,
        # A container image function has no runtime or handler, and its ImageConfig
        **{key: config[key] for key in ("Runtime", "Handler") if key in config},
        **(
            {"ImageConfigResponse": {"ImageConfig": config["ImageConfig"]}}
            if "ImageConfig" in config
            else {}
        ),
        "PackageType": "Image" if "ImageUri" in config else "Zip",
        "Role": config["Role"],
        "CodeSize": record.code_size,
        "Timeout": config["Timeout"],
        "MemorySize": config["MemorySize"],
        "LastModified": record.last_modified.isoformat(),
        "CodeSha256": record.code_sha256,
        "Version": "$LATEST",
        "Environment": {"Variables": dict(config.get("Environment", {}).get("Variables", {}))},
        # Settings a record of an older toolkit lacks read as Lambda's defaults.
        **{
            key: config[key]
            for key in (
                "Description",
                "KMSKeyArn",
                "TracingConfig",
                "Layers",
                "VpcConfig",
                "EphemeralStorage",
                "Architectures",
                "Tags",
            )
            if key in config
        },  # fmt: skip
        "State": "Active",
        "LastUpdateStatus": "Successful",
    }


def describe_state_machine(record: StateMachineRecord) -> dict[str, Any]:
    return {
        "stateMachineArn": record.arn,
        "name": record.name,
        "status": "ACTIVE",
        "definition": record.definition,
        "roleArn": record.role_arn,
        "type": record.type,
        "creationDate": record.creation_date,
        "revisionId": record.revision_id,
    }
