"""The embedded local runtime as a target: SQLite state under `.tool/`, executions run by a
detached worker process, answers in boto3's shapes."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tooling.engine.callbacks import TaskTokenError
from tooling.engine.ports import CallbackOutcome
from tooling.errors import AlreadyExists, InputError, NotFound, OperationFailed, ToolError
from tooling.localrt.store import ExecutionRecord, FunctionRecord, StateMachineRecord, Store
from tooling.localrt.waits import read_notice
from tooling.names import (
    LOCAL_ACCOUNT_ID,
    check_execution_name,
    check_input_size,
    check_stop_reason,
    execution_arn,
    function_arn,
    state_machine_arn,
)

if TYPE_CHECKING:  # types only: the deploy code stays unloaded when a run starts
    from tooling.iam import RoleSpec
    from tooling.package import Package

STATE_DIR = ".tool"


def state_dir(service_dir: Path) -> Path:
    return service_dir / STATE_DIR


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
        return True
    return waited == 0


WORKER_STOP_GRACE_SECONDS = 5.0


def _end_worker(pid: int) -> None:
    """End a stopped execution's worker: SIGTERM lets it kill its handler sandboxes, SIGKILL
    follows if it has not exited within the grace period. The worker leads its own process
    group (start_new_session), so the signal reaches everything it started in that group."""
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
        self.store = Store(self.root / "local.db")
        self.clock = clock  # the clock the executions started here run on

    def _in_region(self, arn: str) -> bool:
        """Whether a resource ARN (arn:partition:service:region:...) is in this backend's region;
        one state file holds every region's resources, as one account does."""
        return arn.split(":")[3:4] == [self.region]

    # roles and log groups: nothing enforces them locally, so they are records only

    def _records_path(self) -> Path:
        return self.root / "local-resources.json"

    def _records(self) -> dict[str, dict[str, Any]]:
        path = self._records_path()
        data = json.loads(path.read_text()) if path.exists() else {}
        return {"roles": data.get("roles", {}), "logGroups": data.get("logGroups", {})}

    def _save_records(self, records: dict[str, dict[str, Any]]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        path = self._records_path()
        tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex}.tmp")
        tmp.write_text(json.dumps(records, indent=2, sort_keys=True))
        os.replace(tmp, path)

    def find_role(self, name: str) -> dict[str, Any] | None:
        return self._records()["roles"].get(name)

    def create_role(self, spec: RoleSpec) -> None:
        records = self._records()
        records["roles"][spec.name] = {
            "RoleName": spec.name,
            "Arn": f"arn:aws:iam::{self.account_id}:role/{spec.name}",
            "AssumeRolePolicyDocument": spec.trust_policy,
            "InlinePolicies": spec.inline_policies,
            "ManagedPolicies": list(spec.managed_policies),
        }
        self._save_records(records)

    def update_role(self, spec: RoleSpec, current: dict[str, Any]) -> None:
        self.create_role(spec)

    def delete_role(self, name: str) -> None:
        records = self._records()
        if records["roles"].pop(name, None) is not None:
            self._save_records(records)

    def _log_group_key(self, groups: dict[str, Any], name: str) -> str | None:
        """The key of this region's log group `name`. Log groups are regional; older state files
        keyed them by name alone, so match on the stored name and ARN, not on the key."""
        for key, group in groups.items():
            if group.get("logGroupName") == name and self._in_region(group.get("arn", "")):
                return key
        return None

    def find_log_group(self, name: str) -> dict[str, Any] | None:
        groups = self._records()["logGroups"]
        key = self._log_group_key(groups, name)
        return groups[key] if key is not None else None

    def create_log_group(self, name: str, retention_days: int | None) -> None:
        records = self._records()
        arn = f"arn:aws:logs:{self.region}:{self.account_id}:log-group:{name}:*"
        group: dict[str, Any] = {"logGroupName": name, "arn": arn}
        if retention_days is not None:
            group["retentionInDays"] = retention_days
        key = self._log_group_key(records["logGroups"], name)
        if key is not None:
            del records["logGroups"][key]
        records["logGroups"][arn] = group
        self._save_records(records)

    def set_log_retention(self, name: str, retention_days: int | None) -> None:
        self.create_log_group(name, retention_days)

    def delete_log_group(self, name: str) -> None:
        records = self._records()
        key = self._log_group_key(records["logGroups"], name)
        if key is not None:
            del records["logGroups"][key]
            self._save_records(records)

    def owns(self, kind: str, name: str) -> bool:
        return True  # only the toolkit writes the local target

    # functions

    def _function_arn(self, name: str) -> str:
        """Functions are regional: the same name in another region is another function."""
        return function_arn(self.region, self.account_id, name)

    def find_function(self, name: str) -> dict[str, Any] | None:
        record = self.store.get_function(self._function_arn(name))
        return _function_configuration(record) if record else None

    def install_code(self, package: Package) -> Path:
        """Extract the package once per content hash; deployed code never changes under a run."""
        digest = hashlib.sha256(package.sha256.encode()).hexdigest()[:24]
        target = self.root / "code" / digest
        if not target.is_dir():
            staging = target.with_name(f"{digest}.{uuid.uuid4().hex}.tmp")
            with zipfile.ZipFile(package.path) as archive:
                archive.extractall(staging)
            try:
                staging.rename(target)
            except OSError:  # another deploy installed the same code first
                shutil.rmtree(staging, ignore_errors=True)
        return target

    def create_function(self, name: str, config: dict[str, Any], package: Package) -> None:
        self._put_function(name, config, package)

    def update_function_code(self, name: str, package: Package) -> None:
        record = self._require_function(name)
        self._put_function(name, record.config, package)

    def update_function_configuration(self, name: str, config: dict[str, Any]) -> None:
        record = self._require_function(name)
        self.store.put_function(
            FunctionRecord(
                name=name,
                arn=record.arn,
                config=config,
                code_sha256=record.code_sha256,
                code_size=record.code_size,
                code_dir=record.code_dir,
                last_modified=_now(),
            )
        )

    def _put_function(self, name: str, config: dict[str, Any], package: Package) -> None:
        code_dir = self.install_code(package)
        self.store.put_function(
            FunctionRecord(
                name=name,
                arn=self._function_arn(name),
                config=config,
                code_sha256=package.sha256,
                code_size=package.size,
                code_dir=str(code_dir),
                last_modified=_now(),
            )
        )

    def _require_function(self, name: str) -> FunctionRecord:
        record = self.store.get_function(self._function_arn(name))
        if record is None:
            raise NotFound(
                f"function {name!r} is not deployed in {self.region}",
                hint=f"run `tool deploy --region {self.region}` first",
            )
        return record

    def delete_function(self, name: str) -> None:
        self.store.delete_function(self._function_arn(name))

    # state machines

    def find_state_machine(self, arn: str) -> dict[str, Any] | None:
        record = self.store.get_state_machine(arn)
        return _describe_state_machine(record) if record else None

    def create_state_machine(
        self,
        name: str,
        definition: str,
        role_arn: str,
        type: str,
        logging: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        arn = state_machine_arn(self.region, self.account_id, name)
        now = _now()
        self.store.put_state_machine(
            StateMachineRecord(
                name=name,
                arn=arn,
                definition=definition,
                type=type,
                role_arn=role_arn,
                revision_id=str(uuid.uuid4()),
                creation_date=now,
                update_date=None,
            )
        )
        return {"stateMachineArn": arn, "creationDate": now}

    def update_state_machine(
        self, arn: str, definition: str, role_arn: str, logging: dict[str, Any] | None = None
    ) -> None:
        record = self.store.get_state_machine(arn)
        if record is None:
            raise NotFound(f"state machine {arn} is not deployed", hint="run `tool deploy` first")
        self.store.put_state_machine(
            StateMachineRecord(
                name=record.name,
                arn=arn,
                definition=definition,
                type=record.type,
                role_arn=role_arn,
                revision_id=str(uuid.uuid4()),
                creation_date=record.creation_date,
                update_date=_now(),
            )
        )

    def delete_state_machine(self, arn: str) -> None:
        self.store.delete_state_machine(arn)

    def list_state_machines(self) -> list[dict[str, Any]]:
        return [
            {
                "stateMachineArn": r.arn,
                "name": r.name,
                "type": r.type,
                "creationDate": r.creation_date,
            }
            for r in self.store.list_state_machines()
            if self._in_region(r.arn)
        ]

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
            mocks=mocks,
        )
        stored = self.store.insert_execution(record)
        if stored is not record:
            # StartExecution is idempotent for a RUNNING execution started with the same input.
            if stored.status == "RUNNING" and stored.input == input:
                return {"executionArn": stored.arn, "startDate": stored.start_date}
            raise AlreadyExists(
                f"Execution Already Exists: '{arn}'",
                hint="names are unique per state machine; omit --execution-name to get a UUID",
            )
        self._spawn_worker(arn, name)
        return {"executionArn": arn, "startDate": record.start_date}

    def _spawn_worker(self, arn: str, name: str) -> None:
        log_dir = self.root / "workers"
        log_dir.mkdir(parents=True, exist_ok=True)
        with open(log_dir / f"{name}.log", "ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "tooling.localrt.worker", str(self.store.path), arn],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,  # the run goes on if the CLI is interrupted
                cwd=self.service_dir,
            )
        self.store.set_worker(arn, process.pid)

    def _require_execution(self, arn: str) -> ExecutionRecord:
        record = self.store.get_execution(arn)
        if record is None:
            raise NotFound(
                f"execution {arn} does not exist on the local target",
                hint="`tool executions` lists them",
            )
        if record.status == "RUNNING" and record.worker_pid and not _pid_alive(record.worker_pid):
            # Re-read first: the worker may have finished between the two reads.
            record = self.store.get_execution(arn) or record
            if record.status == "RUNNING":
                self.store.finish_execution(
                    arn,
                    status="FAILED",
                    output=None,
                    error="Local.WorkerDied",
                    cause=(
                        f"the local worker process {record.worker_pid} ended without finishing "
                        f"the execution; see {STATE_DIR}/workers/{record.name}.log"
                    ),
                    stop_date=_now(),
                )
                record = self.store.get_execution(arn) or record
        return record

    def stop_execution(
        self, execution_arn: str, error: str | None = None, cause: str | None = None
    ) -> dict[str, Any]:
        check_stop_reason(error, cause)
        record = self._require_execution(execution_arn)
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
            _end_worker(record.worker_pid)
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
        try:
            self.store.answer_task_token(task_token, CallbackOutcome(output=output))
        except TaskTokenError as exc:
            raise _token_refused("send task success", exc) from None

    def send_task_failure(self, task_token: str, error: str | None, cause: str | None) -> None:
        outcome = CallbackOutcome(failed=True, error=error, cause=cause)
        try:
            self.store.answer_task_token(task_token, outcome)
        except TaskTokenError as exc:
            raise _token_refused("send task failure", exc) from None

    def send_task_heartbeat(self, task_token: str) -> None:
        try:
            self.store.heartbeat_task_token(task_token)
        except TaskTokenError as exc:
            raise _token_refused("send task heartbeat", exc) from None

    def function_logs(
        self, function_name: str, after: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        records = self.store.logs(function_name=function_name, after_seq=int(after or 0))
        # Log groups are regional: keep the lines of this region's runs of the function.
        events = [
            {"timestamp": r.timestamp, "message": r.message}
            for r in records
            if r.execution_arn is None or self._in_region(r.execution_arn)
        ]
        return events, str(records[-1].seq) if records else after

    def execution_logs(
        self, execution_arn: str, after: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        records = self.store.logs(execution_arn=execution_arn, after_seq=int(after or 0))
        events = [
            {
                "timestamp": r.timestamp,
                "message": r.message,
                "functionName": r.function_name,
                "afterEventId": r.after_event_id,
            }
            for r in records
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


def _function_configuration(record: FunctionRecord) -> dict[str, Any]:
    config = record.config
    return {
        "FunctionName": record.name,
        "FunctionArn": record.arn,
        "Runtime": config["Runtime"],
        "Role": config["Role"],
        "Handler": config["Handler"],
        "CodeSize": record.code_size,
        "Timeout": config["Timeout"],
        "MemorySize": config["MemorySize"],
        "LastModified": record.last_modified.isoformat(),
        "CodeSha256": record.code_sha256,
        "Version": "$LATEST",
        "Environment": {"Variables": dict(config.get("Environment", {}).get("Variables", {}))},
        "State": "Active",
        "LastUpdateStatus": "Successful",
        "PackageType": "Zip",
    }


def _describe_state_machine(record: StateMachineRecord) -> dict[str, Any]:
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
