"""The local runtime's state in one SQLite file: functions, state machines, executions, history,
logs, and the task tokens of callback Tasks.

Several processes use it at once (the CLI following a run, the worker running it), so it runs in
WAL mode and every write is a short transaction.

A RUNNING execution always has an owner: the process that runs it, named by a random token and
holding a lease (`lease_until`, renewed by its heartbeat). The row is written with its first
owner in one transaction; a worker claims the lease by its token, and every event and the end of
the run are written only while the token still owns the row, so an owner that was replaced (it
died, or hung past its lease) can no longer write anything (tooling/localrt/ownership.py).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tooling.localrt.sqlite import Database
from tooling.names import unqualified_function_arn

if TYPE_CHECKING:  # the task-token parts load with their first use (the CLI's start-up)
    from tooling.engine.ports import CallbackOutcome, CallbackStatus

SCHEMA_VERSION = 6  # 4: task_tokens; 5: execution owners and leases, event positions;
# 6: activity tasks (task_tokens.activity_arn, input, worker, started)

# Functions and state machines are keyed by ARN: the same name deployed to two regions is two
# resources, as on AWS. (Version 2 keyed them by name; `_migrate` rebuilds such tables.)
_FUNCTIONS_TABLE = """
CREATE TABLE IF NOT EXISTS functions (
    name TEXT NOT NULL,
    arn TEXT PRIMARY KEY,
    config TEXT NOT NULL,          -- JSON: handler, runtime, memory, timeout, environment, role
    code_sha256 TEXT NOT NULL,     -- base64 SHA-256 of the package, as Lambda's CodeSha256
    code_size INTEGER NOT NULL,
    code_dir TEXT NOT NULL,        -- the extracted package
    last_modified TEXT NOT NULL
)"""
_STATE_MACHINES_TABLE = """
CREATE TABLE IF NOT EXISTS state_machines (
    name TEXT NOT NULL,
    arn TEXT PRIMARY KEY,
    definition TEXT NOT NULL,
    type TEXT NOT NULL,
    role_arn TEXT NOT NULL,
    revision_id TEXT NOT NULL,
    creation_date TEXT NOT NULL,
    update_date TEXT
)"""

_SCHEMA = f"""
{_FUNCTIONS_TABLE};
{_STATE_MACHINES_TABLE};
CREATE TABLE IF NOT EXISTS executions (
    arn TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    state_machine_arn TEXT NOT NULL,
    definition TEXT NOT NULL,      -- the definition this run uses, fixed at start
    status TEXT NOT NULL,
    input TEXT NOT NULL,
    output TEXT,
    error TEXT,
    cause TEXT,
    start_date TEXT NOT NULL,
    stop_date TEXT,
    worker_pid INTEGER,            -- the owner's process, once it claimed the lease
    clock TEXT NOT NULL DEFAULT 'real',  -- 'virtual': Wait and Retry intervals take no real time
    owner TEXT,                    -- token of the process that runs it (see the docstring)
    lease_until REAL,              -- epoch seconds: the owner counts as gone after this
    worker_started INTEGER,        -- the owner process's start time (clock ticks since boot)
    resumes INTEGER NOT NULL DEFAULT 0, -- how many times another process took it over
    mocks TEXT                     -- JSON: the mock file, entry and test case (`invoke --mock`)
);
CREATE INDEX IF NOT EXISTS executions_by_machine ON executions (state_machine_arn, start_date);
CREATE INDEX IF NOT EXISTS executions_by_status ON executions (status);
CREATE TABLE IF NOT EXISTS history (
    execution_arn TEXT NOT NULL,
    id INTEGER NOT NULL,
    event TEXT NOT NULL,           -- the event as JSON, timestamp as ISO 8601
    position TEXT,                 -- where the run wrote it, for resuming (engine/replay.py)
    PRIMARY KEY (execution_arn, id)
);
CREATE TABLE IF NOT EXISTS logs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    function_name TEXT NOT NULL,
    execution_arn TEXT,
    after_event_id INTEGER,        -- the history event this output belongs after
    request_id TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    message TEXT NOT NULL          -- one invocation's output (capped), or one line in old files
);
CREATE INDEX IF NOT EXISTS logs_by_function ON logs (function_name, seq);
CREATE INDEX IF NOT EXISTS logs_by_execution ON logs (execution_arn, seq);
CREATE TABLE IF NOT EXISTS task_tokens (
    token TEXT PRIMARY KEY,
    execution_arn TEXT NOT NULL,
    state_name TEXT NOT NULL,
    status TEXT NOT NULL,          -- PENDING, ANSWERED (output or error/cause set), CLOSED
    failed INTEGER NOT NULL DEFAULT 0,
    output TEXT,
    error TEXT,
    cause TEXT,
    heartbeats INTEGER NOT NULL DEFAULT 0,
    created TEXT NOT NULL,
    activity_arn TEXT,             -- an activity Task's attempt, offered to its workers
    input TEXT,
    worker TEXT,                   -- set when a GetActivityTask takes it
    started TEXT
);
"""


def _iso(value: datetime) -> str:
    return value.isoformat()


def _from_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass(frozen=True)
class FunctionRecord:
    name: str
    arn: str
    config: dict[str, Any]
    code_sha256: str
    code_size: int
    code_dir: str
    last_modified: datetime


@dataclass(frozen=True)
class StateMachineRecord:
    name: str
    arn: str
    definition: str
    type: str
    role_arn: str
    revision_id: str
    creation_date: datetime
    update_date: datetime | None


@dataclass(frozen=True)
class ExecutionRecord:
    arn: str
    name: str
    state_machine_arn: str
    definition: str
    status: str
    input: str
    output: str | None
    error: str | None
    cause: str | None
    start_date: datetime
    stop_date: datetime | None
    worker_pid: int | None
    clock: str = "real"
    owner: str | None = None
    lease_until: float | None = None
    worker_started: int | None = None
    resumes: int = 0
    mocks: str | None = None


@dataclass(frozen=True)
class LogRecord:
    seq: int
    function_name: str
    execution_arn: str | None
    after_event_id: int | None
    request_id: str
    timestamp: datetime
    message: str


class Store:
    """Data access for the local runtime. One instance per process; safe across threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.database = Database(path, _SCHEMA)
        self._db = self.database.connection
        self._tx = self.database.transaction
        self._migrate()

    def _migrate(self) -> None:
        """Bring a state file written by an older version up to this schema."""
        with self._tx() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            columns = {row["name"] for row in db.execute("PRAGMA table_info(executions)")}
            for column, declaration in _EXECUTION_COLUMNS_ADDED:
                if column not in columns:  # version 1 had no clock, 1-4 no owners
                    db.execute(f"ALTER TABLE executions ADD COLUMN {column} {declaration}")
            if "position" not in {row["name"] for row in db.execute("PRAGMA table_info(history)")}:
                db.execute("ALTER TABLE history ADD COLUMN position TEXT")
            tokens = {row["name"] for row in db.execute("PRAGMA table_info(task_tokens)")}
            for column in ("activity_arn", "input", "worker", "started"):
                if column not in tokens:  # versions 4 and 5 ran no activity
                    db.execute(f"ALTER TABLE task_tokens ADD COLUMN {column} TEXT")
            db.execute(  # after the columns: an older file gains them first
                "CREATE INDEX IF NOT EXISTS task_tokens_by_activity"
                " ON task_tokens (activity_arn, status)"
            )
            for table, create in (
                ("functions", _FUNCTIONS_TABLE),
                ("state_machines", _STATE_MACHINES_TABLE),
            ):
                if _primary_key(db, table) != ["arn"]:  # versions 1 and 2 keyed them by name
                    _rebuild(db, table, create)
            if version != SCHEMA_VERSION:
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def close(self) -> None:
        self.database.close()

    # functions

    def put_function(self, record: FunctionRecord) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO functions VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    record.name,
                    record.arn,
                    json.dumps(record.config, sort_keys=True),
                    record.code_sha256,
                    record.code_size,
                    record.code_dir,
                    _iso(record.last_modified),
                ),
            )

    def get_function(self, arn: str) -> FunctionRecord | None:
        """The function an ARN names; a version's or alias's ARN names the function (the local
        runtime has no versions: they run its current code)."""
        unqualified = unqualified_function_arn(arn) if ":function:" in arn else arn
        row = self._db().execute("SELECT * FROM functions WHERE arn = ?", (unqualified,)).fetchone()
        return _function(row) if row else None

    def list_functions(self) -> list[FunctionRecord]:
        rows = self._db().execute("SELECT * FROM functions ORDER BY name, arn").fetchall()
        return [_function(row) for row in rows]

    def delete_function(self, arn: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM functions WHERE arn = ?", (arn,))

    # state machines

    def put_state_machine(self, record: StateMachineRecord) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO state_machines VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record.name,
                    record.arn,
                    record.definition,
                    record.type,
                    record.role_arn,
                    record.revision_id,
                    _iso(record.creation_date),
                    _iso(record.update_date) if record.update_date else None,
                ),
            )

    def get_state_machine(self, arn: str) -> StateMachineRecord | None:
        row = self._db().execute("SELECT * FROM state_machines WHERE arn = ?", (arn,)).fetchone()
        return _state_machine(row) if row else None

    def list_state_machines(self) -> list[StateMachineRecord]:
        rows = self._db().execute("SELECT * FROM state_machines ORDER BY name, arn").fetchall()
        return [_state_machine(row) for row in rows]

    def delete_state_machine(self, arn: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM state_machines WHERE arn = ?", (arn,))

    # executions

    def insert_execution(self, record: ExecutionRecord) -> ExecutionRecord:
        """Insert a new execution (with its first owner and lease); if the ARN exists already,
        return the existing one instead."""
        with self._tx() as db:
            row = db.execute("SELECT * FROM executions WHERE arn = ?", (record.arn,)).fetchone()
            if row:
                return _execution(row)
            db.execute(
                "INSERT INTO executions (arn, name, state_machine_arn, definition, status, input,"
                " output, error, cause, start_date, stop_date, worker_pid, clock, owner,"
                " lease_until, worker_started, resumes, mocks)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record.arn,
                    record.name,
                    record.state_machine_arn,
                    record.definition,
                    record.status,
                    record.input,
                    record.output,
                    record.error,
                    record.cause,
                    _iso(record.start_date),
                    _iso(record.stop_date) if record.stop_date else None,
                    record.worker_pid,
                    record.clock,
                    record.owner,
                    record.lease_until,
                    record.worker_started,
                    record.resumes,
                    record.mocks,
                ),
            )
        return record

    def forget_unstarted(self, arn: str, owner: str) -> bool:
        """Delete an execution whose worker could not be started (nothing of it ran: no
        event, still owned by the starter's token). True when it was deleted."""
        with self._tx() as db:
            deleted = db.execute(
                "DELETE FROM executions WHERE arn = ? AND owner = ? AND status = 'RUNNING'"
                " AND NOT EXISTS (SELECT 1 FROM history WHERE execution_arn = ?)",
                (arn, owner, arn),
            ).rowcount
        return bool(deleted)

    # ownership (see the module docstring)

    def claim_execution(
        self, arn: str, owner: str, *, pid: int, started: int | None, lease_until: float
    ) -> bool:
        """The worker started for `owner` takes up the lease: False when another owner has
        replaced it in the meantime, or the execution is no longer running."""
        with self._tx() as db:
            claimed = db.execute(
                "UPDATE executions SET worker_pid = ?, worker_started = ?, lease_until = ?"
                " WHERE arn = ? AND owner = ? AND status = 'RUNNING'",
                (pid, started, lease_until, arn, owner),
            ).rowcount
        return bool(claimed)

    def renew_lease(self, arn: str, owner: str, lease_until: float) -> bool:
        """The owner's heartbeat. False once it no longer owns a running execution."""
        with self._tx() as db:
            renewed = db.execute(
                "UPDATE executions SET lease_until = ? WHERE arn = ? AND owner = ?"
                " AND status = 'RUNNING'",
                (lease_until, arn, owner),
            ).rowcount
        return bool(renewed)

    def take_over(self, arn: str, gone: str | None, owner: str, lease_until: float) -> bool:
        """Replace the owner `gone` (dead, or past its lease) by `owner`, a worker about to be
        started. False when someone else replaced it first or the run has ended."""
        with self._tx() as db:
            taken = db.execute(
                "UPDATE executions SET owner = ?, lease_until = ?, worker_pid = NULL,"
                " worker_started = NULL, resumes = resumes + 1"
                " WHERE arn = ? AND owner IS ? AND status = 'RUNNING'",
                (owner, lease_until, arn, gone),
            ).rowcount
        return bool(taken)

    def get_execution(self, arn: str) -> ExecutionRecord | None:
        row = self._db().execute("SELECT * FROM executions WHERE arn = ?", (arn,)).fetchone()
        return _execution(row) if row else None

    def find_executions_by_name(self, name: str) -> list[ExecutionRecord]:
        rows = (
            self._db()
            .execute("SELECT * FROM executions WHERE name = ? ORDER BY start_date", (name,))
            .fetchall()
        )
        return [_execution(row) for row in rows]

    def list_executions(
        self, state_machine_arn: str | None = None, status: str | None = None
    ) -> list[ExecutionRecord]:
        sql = "SELECT * FROM executions WHERE 1 = 1"
        args: list[str] = []
        if state_machine_arn:
            sql += " AND state_machine_arn = ?"
            args.append(state_machine_arn)
        if status:
            sql += " AND status = ?"
            args.append(status)
        rows = self._db().execute(sql + " ORDER BY start_date DESC, rowid DESC", args).fetchall()
        return [_execution(row) for row in rows]

    def finish_execution(
        self,
        arn: str,
        *,
        status: str,
        output: str | None,
        error: str | None,
        cause: str | None,
        stop_date: datetime,
        owner: str | None = None,
    ) -> bool:
        """Close a RUNNING execution (only while `owner` owns it, when given). True when it
        was closed here."""
        sql = (
            "UPDATE executions SET status = ?, output = ?, error = ?, cause = ?, stop_date = ?"
            " WHERE arn = ? AND status = 'RUNNING'"
        )
        args: list[Any] = [status, output, error, cause, _iso(stop_date), arn]
        if owner is not None:
            sql += " AND owner = ?"
            args.append(owner)
        with self._tx() as db:
            return bool(db.execute(sql, args).rowcount)

    def fail_execution(
        self,
        arn: str,
        *,
        error: str,
        cause: str,
        stop_date: datetime,
        owner: str | None,
    ) -> bool:
        """Close a RUNNING execution as FAILED with its ExecutionFailed event, in one
        transaction, while `owner` (None: whoever) owns it. For runs the engine could not end
        itself (the worker failed, or the run cannot be resumed). True when it was closed."""
        with self._tx() as db:
            sql = (
                "UPDATE executions SET status = 'FAILED', output = NULL, error = ?, cause = ?,"
                " stop_date = ? WHERE arn = ? AND status = 'RUNNING'"
            )
            args: list[Any] = [error, cause, _iso(stop_date), arn]
            if owner is not None:
                sql += " AND owner = ?"
                args.append(owner)
            if not db.execute(sql, args).rowcount:
                return False
            _append_closing_event(
                db,
                arn,
                "ExecutionFailed",
                "executionFailedEventDetails",
                {"error": error, "cause": cause},
                stop_date,
            )
        return True

    def abort_execution(
        self, arn: str, *, error: str | None, cause: str | None, stop_date: datetime
    ) -> ExecutionRecord | None:
        """StopExecution: claim a RUNNING execution as ABORTED and append its ExecutionAborted
        event, in one transaction. None when the execution was not running (nothing changes)."""
        with self._tx() as db:
            claimed = db.execute(
                "UPDATE executions SET status = 'ABORTED', output = NULL, error = ?, cause = ?,"
                " stop_date = ? WHERE arn = ? AND status = 'RUNNING'",
                (error, cause, _iso(stop_date), arn),
            ).rowcount
            if not claimed:
                return None
            details: dict[str, str] = {}
            if error is not None:
                details["error"] = error
            if cause is not None:
                details["cause"] = cause
            _append_closing_event(
                db, arn, "ExecutionAborted", "executionAbortedEventDetails", details, stop_date
            )
            row = db.execute("SELECT * FROM executions WHERE arn = ?", (arn,)).fetchone()
        return _execution(row)

    # history

    def append_event(
        self,
        execution_arn: str,
        event: dict[str, Any],
        position: dict[str, Any] | None = None,
        owner: str | None = None,
    ) -> bool:
        """Append one event (with its position in the run, for resuming). With `owner`, only
        while that owner runs the execution; without, unless the execution was stopped
        (ExecutionAborted stays last). False when the event was refused."""
        text = json.dumps(event, default=_json_default)
        where = json.dumps(position, separators=(",", ":")) if position is not None else None
        with self._tx() as db:
            if owner is None:
                inserted = db.execute(
                    "INSERT INTO history (execution_arn, id, event, position) SELECT ?, ?, ?, ?"
                    " WHERE NOT EXISTS"
                    " (SELECT 1 FROM executions WHERE arn = ? AND status = 'ABORTED')",
                    (execution_arn, event["id"], text, where, execution_arn),
                ).rowcount
            else:
                inserted = db.execute(
                    "INSERT INTO history (execution_arn, id, event, position) SELECT ?, ?, ?, ?"
                    " WHERE EXISTS (SELECT 1 FROM executions"
                    " WHERE arn = ? AND status = 'RUNNING' AND owner = ?)",
                    (execution_arn, event["id"], text, where, execution_arn, owner),
                ).rowcount
        return bool(inserted)

    def positioned_events(
        self, execution_arn: str
    ) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
        """Every event of the execution with its position (None for events written by an older
        version, or by `tool stop`), in id order."""
        rows = (
            self._db()
            .execute(
                "SELECT event, position FROM history WHERE execution_arn = ? ORDER BY id",
                (execution_arn,),
            )
            .fetchall()
        )
        return [
            (_event(row["event"]), json.loads(row["position"]) if row["position"] else None)
            for row in rows
        ]

    def events(
        self, execution_arn: str, after_id: int = 0, limit: int = 1000
    ) -> list[dict[str, Any]]:
        rows = (
            self._db()
            .execute(
                "SELECT event FROM history WHERE execution_arn = ? AND id > ? ORDER BY id LIMIT ?",
                (execution_arn, after_id, limit),
            )
            .fetchall()
        )
        return [_event(row["event"]) for row in rows]

    def last_event_id(self, execution_arn: str) -> int:
        row = (
            self._db()
            .execute(
                "SELECT MAX(id) AS last FROM history WHERE execution_arn = ?", (execution_arn,)
            )
            .fetchone()
        )
        return int(row["last"] or 0)

    # task tokens (the callback pattern): the execution's worker issues and polls them, other
    # processes answer them (`tool task ...`, handlers through the loopback endpoint)

    def add_task_token(
        self, token: str, execution_arn: str, state_name: str, created: datetime
    ) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO task_tokens (token, execution_arn, state_name, status, created)"
                " VALUES (?, ?, ?, 'PENDING', ?)",
                (token, execution_arn, state_name, _iso(created)),
            )

    def task_token_status(self, token: str) -> CallbackStatus:
        from tooling.engine.ports import CallbackOutcome, CallbackStatus

        row = self._db().execute("SELECT * FROM task_tokens WHERE token = ?", (token,)).fetchone()
        if row is None or row["status"] != "ANSWERED":
            return CallbackStatus(None, int(row["heartbeats"]) if row else 0)
        outcome = CallbackOutcome(
            output=row["output"], failed=bool(row["failed"]), error=row["error"], cause=row["cause"]
        )
        return CallbackStatus(outcome, int(row["heartbeats"]))

    def close_task_token(self, token: str) -> None:
        with self._tx() as db:
            db.execute("UPDATE task_tokens SET status = 'CLOSED' WHERE token = ?", (token,))

    def answer_task_token(self, token: str, outcome: CallbackOutcome) -> None:
        """SendTaskSuccess/SendTaskFailure. Raises TaskTokenError as AWS answers."""
        from tooling.engine.callbacks import check_output, check_token

        check_token(token)
        if outcome.output is not None:
            check_output(outcome.output)
        with self._tx() as db:
            self._pending_token(db, token)
            db.execute(
                "UPDATE task_tokens SET status = 'ANSWERED', failed = ?, output = ?, error = ?,"
                " cause = ? WHERE token = ?",
                (int(outcome.failed), outcome.output, outcome.error, outcome.cause, token),
            )

    def schedule_activity(self, token: str, activity_arn: str, input_text: str) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE task_tokens SET activity_arn = ?, input = ?"
                " WHERE token = ? AND activity_arn IS NULL",
                (activity_arn, input_text, token),
            )

    def activity_worker(self, token: str) -> str | None:
        row = (
            self._db()
            .execute("SELECT worker, started FROM task_tokens WHERE token = ?", (token,))
            .fetchone()
        )
        return None if row is None or row["started"] is None else str(row["worker"] or "")

    def claim_activity_task(
        self, activity_arn: str, worker: str, now: datetime
    ) -> tuple[str, str] | None:
        """GetActivityTask: the oldest attempt of the activity that no worker took, of a running
        execution (or of `tool run`, which keeps no row), taken for `worker` in one transaction
        (of two workers asking at once, one gets it)."""
        with self._tx() as db:
            row = db.execute(
                "SELECT t.token, t.input FROM task_tokens t"
                " LEFT JOIN executions e ON e.arn = t.execution_arn"
                " WHERE t.activity_arn = ? AND t.status = 'PENDING' AND t.started IS NULL"
                " AND (e.status IS NULL OR e.status = 'RUNNING')"
                " ORDER BY t.created, t.rowid LIMIT 1",
                (activity_arn,),
            ).fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE task_tokens SET worker = ?, started = ? WHERE token = ?",
                (worker, _iso(now), row["token"]),
            )
            return str(row["token"]), str(row["input"] or "{}")

    def heartbeat_task_token(self, token: str) -> None:
        """SendTaskHeartbeat. Raises TaskTokenError as AWS answers."""
        from tooling.engine.callbacks import check_token

        check_token(token)
        with self._tx() as db:
            self._pending_token(db, token)
            db.execute(
                "UPDATE task_tokens SET heartbeats = heartbeats + 1 WHERE token = ?", (token,)
            )

    @staticmethod
    def _pending_token(db: sqlite3.Connection, token: str) -> None:
        from tooling.engine.callbacks import gone, unknown

        row = db.execute(
            "SELECT t.status, e.status AS run FROM task_tokens t"
            " LEFT JOIN executions e ON e.arn = t.execution_arn WHERE t.token = ?",
            (token,),
        ).fetchone()
        if row is None:
            raise unknown(token)
        # A token is gone once answered or closed, or when its execution is no longer running
        # (tokens of `tool run`, which keeps no execution row, count as running).
        if row["status"] != "PENDING" or row["run"] not in (None, "RUNNING"):
            raise gone()

    # logs

    def append_log(
        self,
        *,
        function_name: str,
        request_id: str,
        timestamp: datetime,
        message: str,
        execution_arn: str | None = None,
        after_event_id: int | None = None,
    ) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO logs (function_name, execution_arn, after_event_id, request_id,"
                " timestamp, message) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    function_name,
                    execution_arn,
                    after_event_id,
                    request_id,
                    _iso(timestamp),
                    message,
                ),
            )

    def logs(
        self,
        *,
        function_name: str | None = None,
        execution_arn: str | None = None,
        after_seq: int = 0,
    ) -> list[LogRecord]:
        sql = "SELECT * FROM logs WHERE seq > ?"
        args: list[Any] = [after_seq]
        if function_name:
            sql += " AND function_name = ?"
            args.append(function_name)
        if execution_arn:
            sql += " AND execution_arn = ?"
            args.append(execution_arn)
        rows = self._db().execute(sql + " ORDER BY seq", args).fetchall()
        return [
            LogRecord(
                seq=row["seq"],
                function_name=row["function_name"],
                execution_arn=row["execution_arn"],
                after_event_id=row["after_event_id"],
                request_id=row["request_id"],
                timestamp=datetime.fromisoformat(row["timestamp"]),
                message=row["message"],
            )
            for row in rows
        ]


_EXECUTION_COLUMNS_ADDED = (
    ("clock", "TEXT NOT NULL DEFAULT 'real'"),
    ("owner", "TEXT"),
    ("lease_until", "REAL"),
    ("worker_started", "INTEGER"),
    ("resumes", "INTEGER NOT NULL DEFAULT 0"),
    ("mocks", "TEXT"),  # before `tool invoke --mock`
)


def _append_closing_event(
    db: sqlite3.Connection,
    arn: str,
    event_type: str,
    details_key: str,
    details: dict[str, str],
    timestamp: datetime,
) -> None:
    """Append the event that closes an execution the engine did not end itself."""
    last = db.execute(
        "SELECT MAX(id) AS last FROM history WHERE execution_arn = ?", (arn,)
    ).fetchone()["last"]
    event = {
        "timestamp": timestamp,
        "type": event_type,
        "id": int(last or 0) + 1,
        "previousEventId": int(last or 0),
        details_key: details,
    }
    db.execute(
        "INSERT INTO history (execution_arn, id, event) VALUES (?, ?, ?)",
        (arn, event["id"], json.dumps(event, default=_json_default)),
    )


def _primary_key(db: sqlite3.Connection, table: str) -> list[str]:
    columns = [row for row in db.execute(f"PRAGMA table_info({table})") if row["pk"]]
    return [row["name"] for row in sorted(columns, key=lambda row: row["pk"])]


def _rebuild(db: sqlite3.Connection, table: str, create: str) -> None:
    """Give `table` the schema in `create`, keeping its rows. SQLite cannot change a primary key
    in place: create a new table, copy, drop the old one, rename. The caller's transaction makes
    the four steps one."""
    staging = f"{table}_v{SCHEMA_VERSION}"
    db.execute(f"DROP TABLE IF EXISTS {staging}")
    db.execute(create.replace(f"EXISTS {table} (", f"EXISTS {staging} (", 1))
    columns = ", ".join(row["name"] for row in db.execute(f"PRAGMA table_info({table})"))
    db.execute(f"INSERT INTO {staging} ({columns}) SELECT {columns} FROM {table}")
    db.execute(f"DROP TABLE {table}")
    db.execute(f"ALTER TABLE {staging} RENAME TO {table}")


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    raise TypeError(f"cannot store {type(value).__name__} in a history event")


def _event(text: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(text)
    stamp = event.get("timestamp")
    if isinstance(stamp, dict) and "$datetime" in stamp:
        event["timestamp"] = datetime.fromisoformat(stamp["$datetime"])
    return event


def _function(row: sqlite3.Row) -> FunctionRecord:
    return FunctionRecord(
        name=row["name"],
        arn=row["arn"],
        config=json.loads(row["config"]),
        code_sha256=row["code_sha256"],
        code_size=row["code_size"],
        code_dir=row["code_dir"],
        last_modified=datetime.fromisoformat(row["last_modified"]),
    )


def _state_machine(row: sqlite3.Row) -> StateMachineRecord:
    return StateMachineRecord(
        name=row["name"],
        arn=row["arn"],
        definition=row["definition"],
        type=row["type"],
        role_arn=row["role_arn"],
        revision_id=row["revision_id"],
        creation_date=datetime.fromisoformat(row["creation_date"]),
        update_date=_from_iso(row["update_date"]),
    )


def _execution(row: sqlite3.Row) -> ExecutionRecord:
    return ExecutionRecord(
        arn=row["arn"],
        name=row["name"],
        state_machine_arn=row["state_machine_arn"],
        definition=row["definition"],
        status=row["status"],
        input=row["input"],
        output=row["output"],
        error=row["error"],
        cause=row["cause"],
        start_date=datetime.fromisoformat(row["start_date"]),
        stop_date=_from_iso(row["stop_date"]),
        worker_pid=row["worker_pid"],
        clock=row["clock"],
        owner=row["owner"],
        lease_until=row["lease_until"],
        worker_started=row["worker_started"],
        resumes=row["resumes"],
        mocks=row["mocks"],
    )
