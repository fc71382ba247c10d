from datetime import UTC, datetime, timedelta

import pytest

from tooling.engine.callbacks import TaskTokenError, new_token
from tooling.engine.ports import CallbackOutcome
from tooling.localrt.store import SCHEMA_VERSION, ExecutionRecord, FunctionRecord, Store

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _execution(arn: str = "arn:x:execution:m:e1", input: str = "{}") -> ExecutionRecord:
    return ExecutionRecord(
        arn=arn,
        name=arn.rsplit(":", 1)[1],
        state_machine_arn="arn:aws:states:us-east-1:0:stateMachine:m",
        definition="{}",
        status="RUNNING",
        input=input,
        output=None,
        error=None,
        cause=None,
        start_date=T0,
        stop_date=None,
        worker_pid=None,
    )


def test_insert_execution_returns_existing_record_for_same_arn(tmp_path):
    store = Store(tmp_path / "db.sqlite")
    first = store.insert_execution(_execution(input='{"a": 1}'))
    second = store.insert_execution(_execution(input='{"a": 2}'))
    assert second.input == first.input == '{"a": 1}'
    assert second is not first


def test_finish_only_changes_a_running_execution(tmp_path):
    store = Store(tmp_path / "db.sqlite")
    store.insert_execution(_execution())
    store.finish_execution(
        "arn:x:execution:m:e1",
        status="SUCCEEDED",
        output="{}",
        error=None,
        cause=None,
        stop_date=T0,
    )
    store.finish_execution(
        "arn:x:execution:m:e1", status="FAILED", output=None, error="E", cause="C", stop_date=T0
    )
    record = store.get_execution("arn:x:execution:m:e1")
    assert record is not None
    assert (record.status, record.output, record.error) == ("SUCCEEDED", "{}", None)


def test_history_round_trips_events_with_datetimes_in_order(tmp_path):
    store = Store(tmp_path / "db.sqlite")
    arn = "arn:x:execution:m:e1"
    for i in range(1, 4):
        store.append_event(
            arn,
            {
                "id": i,
                "previousEventId": i - 1,
                "type": "T",
                "timestamp": T0 + timedelta(seconds=i),
            },
        )
    events = store.events(arn, after_id=1)
    assert [e["id"] for e in events] == [2, 3]
    assert events[0]["timestamp"] == T0 + timedelta(seconds=2)
    assert store.last_event_id(arn) == 3


def test_state_survives_reopening(tmp_path):
    Store(tmp_path / "db.sqlite").insert_execution(_execution())
    assert Store(tmp_path / "db.sqlite").get_execution("arn:x:execution:m:e1") is not None


def test_logs_filter_by_function_and_execution(tmp_path):
    store = Store(tmp_path / "db.sqlite")
    store.append_log(
        function_name="f",
        request_id="r1",
        timestamp=T0,
        message="one",
        execution_arn="e1",
        after_event_id=4,
    )
    store.append_log(
        function_name="g", request_id="r2", timestamp=T0, message="two", execution_arn="e2"
    )
    assert [r.message for r in store.logs(function_name="f")] == ["one"]
    assert [r.after_event_id for r in store.logs(execution_arn="e1")] == [4]
    first = store.logs()[0].seq
    assert [r.message for r in store.logs(after_seq=first)] == ["two"]


def test_a_version_1_state_file_gains_the_clock_column(tmp_path):
    import sqlite3

    path = tmp_path / "db.sqlite"
    old = sqlite3.connect(path)
    old.execute(
        "CREATE TABLE executions (arn TEXT PRIMARY KEY, name TEXT NOT NULL,"
        " state_machine_arn TEXT NOT NULL, definition TEXT NOT NULL, status TEXT NOT NULL,"
        " input TEXT NOT NULL, output TEXT, error TEXT, cause TEXT, start_date TEXT NOT NULL,"
        " stop_date TEXT, worker_pid INTEGER)"
    )
    old.execute(
        "INSERT INTO executions VALUES ('arn:x:execution:m:old', 'old', 'arn:m', '{}',"
        " 'SUCCEEDED', '{}', '{}', NULL, NULL, '2024-01-01T00:00:00+00:00', NULL, NULL)"
    )
    old.execute("PRAGMA user_version = 1")
    old.commit()
    old.close()
    store = Store(path)
    record = store.get_execution("arn:x:execution:m:old")
    assert record is not None and record.clock == "real"
    store.insert_execution(_execution(arn="arn:x:execution:m:new"))
    assert store._db().execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def _function(region: str, name: str = "f") -> FunctionRecord:
    return FunctionRecord(
        name=name,
        arn=f"arn:aws:lambda:{region}:000000000000:function:{name}",
        config={"Handler": "handler.hello"},
        code_sha256="sha",
        code_size=1,
        code_dir=f"/code/{region}",
        last_modified=T0,
    )


def test_one_function_name_in_two_regions_is_two_functions(tmp_path):
    store = Store(tmp_path / "db.sqlite")
    east, west = _function("us-east-1"), _function("eu-west-1")
    store.put_function(east)
    store.put_function(west)
    assert store.get_function(east.arn) == east
    assert store.get_function(west.arn) == west
    store.delete_function(west.arn)
    assert store.get_function(west.arn) is None
    assert store.list_functions() == [east]


# The version 2 tables keyed by name, as that version created them.
_VERSION_2_TABLES = (
    "CREATE TABLE functions (name TEXT PRIMARY KEY, arn TEXT NOT NULL, config TEXT NOT NULL,"
    " code_sha256 TEXT NOT NULL, code_size INTEGER NOT NULL, code_dir TEXT NOT NULL,"
    " last_modified TEXT NOT NULL)",
    "CREATE TABLE state_machines (name TEXT PRIMARY KEY, arn TEXT NOT NULL UNIQUE,"
    " definition TEXT NOT NULL, type TEXT NOT NULL, role_arn TEXT NOT NULL,"
    " revision_id TEXT NOT NULL, creation_date TEXT NOT NULL, update_date TEXT)",
)
_V2_FUNCTION_ARN = "arn:aws:lambda:us-east-1:000000000000:function:f"
_V2_MACHINE_ARN = "arn:aws:states:us-east-1:000000000000:stateMachine:m"


def _version_2_file(path, *function_arns: str) -> None:
    import sqlite3

    old = sqlite3.connect(path)
    for statement in _VERSION_2_TABLES:
        old.execute(statement)
    for index, arn in enumerate(function_arns):
        old.execute(
            "INSERT INTO functions VALUES (?, ?, '{\"Handler\": \"h.h\"}', 'sha', 7, '/code',"
            " '2024-01-01T00:00:00+00:00')",
            (f"f{index}" if index else "f", arn),
        )
    old.execute(
        "INSERT INTO state_machines VALUES ('m', ?, '{}', 'STANDARD', 'arn:role', 'rev',"
        " '2024-01-01T00:00:00+00:00', NULL)",
        (_V2_MACHINE_ARN,),
    )
    old.execute("PRAGMA user_version = 2")
    old.commit()
    old.close()


def test_a_version_2_state_file_is_keyed_by_arn_and_keeps_its_deployments(tmp_path):
    path = tmp_path / "db.sqlite"
    _version_2_file(path, _V2_FUNCTION_ARN)
    store = Store(path)
    function = store.get_function(_V2_FUNCTION_ARN)
    assert function is not None
    assert (function.name, function.code_size, function.config) == ("f", 7, {"Handler": "h.h"})
    machine = store.get_state_machine(_V2_MACHINE_ARN)
    assert machine is not None and (machine.name, machine.role_arn) == ("m", "arn:role")
    assert store._db().execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    # The same names in another region now sit beside the old rows instead of replacing them.
    store.put_function(_function("eu-west-1"))
    assert [f.arn.split(":")[3] for f in store.list_functions()] == ["eu-west-1", "us-east-1"]
    store.close()
    reopened = Store(path)
    assert len(reopened.list_functions()) == 2
    assert reopened.get_state_machine(_V2_MACHINE_ARN) == machine


def test_a_rekeying_that_fails_leaves_the_version_2_file_as_it_was(tmp_path):
    import sqlite3

    import pytest

    path = tmp_path / "db.sqlite"
    _version_2_file(path, _V2_FUNCTION_ARN, _V2_FUNCTION_ARN)  # two names, one ARN: cannot key
    with pytest.raises(sqlite3.IntegrityError):
        Store(path)
    old = sqlite3.connect(path)
    assert old.execute("SELECT COUNT(*) FROM functions").fetchone()[0] == 2
    assert old.execute("PRAGMA user_version").fetchone()[0] == 2
    tables = {row[0] for row in old.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "functions_v3" not in tables
    old.close()


def test_a_version_3_state_file_gains_the_task_tokens_table(tmp_path):
    path = tmp_path / "db.sqlite"
    Store(path).close()
    import sqlite3

    old = sqlite3.connect(path)
    old.execute("DROP TABLE task_tokens")
    old.execute("PRAGMA user_version = 3")
    old.commit()
    old.close()
    store = Store(path)
    assert store._db().execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 6
    token = new_token()
    store.add_task_token(token, "arn:x:execution:m:e1", "T", T0)
    assert store.task_token_status(token).outcome is None


def test_a_version_5_state_file_gains_the_activity_columns(tmp_path):
    path = tmp_path / "db.sqlite"
    Store(path).close()
    import sqlite3

    old = sqlite3.connect(path)
    old.execute("DROP TABLE task_tokens")
    old.execute(
        "CREATE TABLE task_tokens (token TEXT PRIMARY KEY, execution_arn TEXT NOT NULL,"
        " state_name TEXT NOT NULL, status TEXT NOT NULL, failed INTEGER NOT NULL DEFAULT 0,"
        " output TEXT, error TEXT, cause TEXT, heartbeats INTEGER NOT NULL DEFAULT 0,"
        " created TEXT NOT NULL)"
    )
    old.execute("PRAGMA user_version = 5")
    old.commit()
    old.close()
    store = Store(path)
    token = new_token()
    store.add_task_token(token, "arn:x:execution:m:e1", "T", T0)
    store.schedule_activity(token, "arn:aws:states:r:123456789012:activity:a", '{"n":1}')
    taken = store.claim_activity_task("arn:aws:states:r:123456789012:activity:a", "w", T0)
    assert taken == (token, '{"n":1}') and store.activity_worker(token) == "w"
    assert store.claim_activity_task("arn:aws:states:r:123456789012:activity:a", "v", T0) is None


def _refusal(call, *args) -> str:
    with pytest.raises(TaskTokenError) as info:
        call(*args)
    return info.value.code


def test_task_tokens_are_answered_once_and_only_while_the_run_goes_on(tmp_path):
    store = Store(tmp_path / "db.sqlite")
    store.insert_execution(_execution())
    token, other, late = new_token(), new_token(), new_token()
    for each in (token, other, late):
        store.add_task_token(each, "arn:x:execution:m:e1", "T", T0)
    store.heartbeat_task_token(token)
    store.answer_task_token(token, CallbackOutcome(failed=True, error="E", cause="C"))
    status = store.task_token_status(token)
    assert status.heartbeats == 1
    assert status.outcome == CallbackOutcome(failed=True, error="E", cause="C")
    assert _refusal(store.answer_task_token, token, CallbackOutcome(output="1")) == "TaskTimedOut"
    assert _refusal(store.heartbeat_task_token, new_token()) == "TaskDoesNotExist"
    assert _refusal(store.heartbeat_task_token, "short") == "InvalidToken"
    bad = CallbackOutcome(output="{oops")
    assert _refusal(store.answer_task_token, other, bad) == "InvalidOutput"
    store.close_task_token(other)
    assert _refusal(store.heartbeat_task_token, other) == "TaskTimedOut"
    store.finish_execution(
        "arn:x:execution:m:e1", status="ABORTED", output=None, error=None, cause=None, stop_date=T0
    )
    assert _refusal(store.answer_task_token, late, CallbackOutcome(output="1")) == "TaskTimedOut"


def _event(event_id: int, previous: int = 0) -> dict:
    return {
        "timestamp": T0 + timedelta(seconds=event_id),
        "type": "PassStateEntered",
        "id": event_id,
        "previousEventId": previous,
    }


def test_abort_claims_a_running_execution_once_and_appends_execution_aborted_last(tmp_path):
    store = Store(tmp_path / "db.sqlite")
    arn = "arn:x:execution:m:e1"
    store.insert_execution(_execution(arn))
    store.append_event(arn, _event(1))
    store.append_event(arn, _event(2, previous=1))
    stopped_at = T0 + timedelta(minutes=1)
    claimed = store.abort_execution(arn, error="Manual", cause="by hand", stop_date=stopped_at)
    assert claimed is not None
    assert (claimed.status, claimed.error, claimed.cause, claimed.stop_date) == (
        "ABORTED",
        "Manual",
        "by hand",
        stopped_at,
    )
    # A second stop finds nothing running and changes nothing.
    later = stopped_at + timedelta(minutes=1)
    assert store.abort_execution(arn, error="Again", cause=None, stop_date=later) is None
    assert store.events(arn)[-1] == {
        "timestamp": stopped_at,
        "type": "ExecutionAborted",
        "id": 3,
        "previousEventId": 2,
        "executionAbortedEventDetails": {"error": "Manual", "cause": "by hand"},
    }
    assert len(store.events(arn)) == 3


def test_a_worker_finishing_after_the_abort_changes_neither_status_nor_history(tmp_path):
    store = Store(tmp_path / "db.sqlite")
    arn = "arn:x:execution:m:e1"
    store.insert_execution(_execution(arn))
    store.append_event(arn, _event(1))
    assert store.abort_execution(arn, error=None, cause=None, stop_date=T0) is not None
    store.append_event(arn, _event(2, previous=1))  # the worker's next event, too late
    store.finish_execution(
        arn, status="SUCCEEDED", output="{}", error=None, cause=None, stop_date=T0
    )
    record = store.get_execution(arn)
    assert record is not None
    assert (record.status, record.output) == ("ABORTED", None)
    events = store.events(arn)
    assert [e["type"] for e in events] == ["PassStateEntered", "ExecutionAborted"]
    assert events[-1]["executionAbortedEventDetails"] == {}


def test_abort_of_a_finished_execution_keeps_its_result(tmp_path):
    store = Store(tmp_path / "db.sqlite")
    arn = "arn:x:execution:m:e1"
    store.insert_execution(_execution(arn))
    store.finish_execution(
        arn, status="SUCCEEDED", output="{}", error=None, cause=None, stop_date=T0
    )
    assert store.abort_execution(arn, error="E", cause="C", stop_date=T0) is None
    record = store.get_execution(arn)
    assert record is not None
    assert (record.status, record.output, record.error) == ("SUCCEEDED", "{}", None)
    assert store.events(arn) == []


def test_events_of_a_run_without_an_execution_row_still_go_in(tmp_path):
    store = Store(tmp_path / "db.sqlite")
    store.append_event("arn:x:execution:m:adhoc", _event(1))
    assert [e["id"] for e in store.events("arn:x:execution:m:adhoc")] == [1]


# --- owners and leases ----------------------------------------------------------------------------


def _owned(store: Store, arn: str = "arn:x:execution:m:e1", owner: str = "first") -> str:
    record = _execution(arn)
    store.insert_execution(
        ExecutionRecord(**{**record.__dict__, "owner": owner, "lease_until": 100.0})
    )
    return arn


def test_only_the_owner_writes_events_and_ends_the_run(tmp_path):
    store = Store(tmp_path / "db.sqlite")
    arn = _owned(store)
    assert store.claim_execution(arn, "first", pid=42, started=7, lease_until=200.0)
    assert store.append_event(arn, _event(1), {"f": "", "o": 0}, owner="first")
    # Another process took it over (the first one was taken for dead): the first is fenced off.
    assert store.take_over(arn, "first", "second", lease_until=300.0)
    assert not store.append_event(arn, _event(2, previous=1), {"f": "", "o": 1}, owner="first")
    assert not store.renew_lease(arn, "first", 400.0)
    assert not store.finish_execution(
        arn, status="SUCCEEDED", output="{}", error=None, cause=None, stop_date=T0, owner="first"
    )
    assert not store.claim_execution(arn, "first", pid=42, started=7, lease_until=500.0)
    assert store.claim_execution(arn, "second", pid=43, started=8, lease_until=500.0)
    assert store.append_event(arn, _event(2, previous=1), {"f": "", "o": 1}, owner="second")
    record = store.get_execution(arn)
    assert record is not None
    assert (record.owner, record.worker_pid, record.worker_started, record.lease_until) == (
        "second",
        43,
        8,
        500.0,
    )
    assert record.resumes == 1
    assert [position for _, position in store.positioned_events(arn)] == [
        {"f": "", "o": 0},
        {"f": "", "o": 1},
    ]


def test_two_processes_taking_over_the_same_owner_cannot_both_win(tmp_path):
    store = Store(tmp_path / "db.sqlite")
    arn = _owned(store)
    assert store.take_over(arn, "first", "a", lease_until=200.0)
    assert not store.take_over(arn, "first", "b", lease_until=200.0)
    record = store.get_execution(arn)
    assert record is not None and record.owner == "a"


def test_a_start_whose_worker_never_started_is_forgotten_only_if_nothing_ran(tmp_path):
    store = Store(tmp_path / "db.sqlite")
    arn = _owned(store)
    assert not store.forget_unstarted(arn, "someone-else")
    assert store.forget_unstarted(arn, "first")
    assert store.get_execution(arn) is None
    arn = _owned(store)
    store.append_event(arn, _event(1))
    assert not store.forget_unstarted(arn, "first")


def test_fail_execution_closes_the_run_with_its_event(tmp_path):
    store = Store(tmp_path / "db.sqlite")
    arn = _owned(store)
    store.append_event(arn, _event(1))
    assert not store.fail_execution(arn, error="E", cause="C", stop_date=T0, owner="other")
    assert store.fail_execution(arn, error="E", cause="C", stop_date=T0, owner="first")
    events = store.events(arn)
    assert events[-1]["type"] == "ExecutionFailed"
    assert (events[-1]["id"], events[-1]["previousEventId"]) == (2, 1)
    assert events[-1]["executionFailedEventDetails"] == {"error": "E", "cause": "C"}


def test_a_version_4_state_file_gains_owners_and_event_positions(tmp_path):
    import sqlite3

    path = tmp_path / "db.sqlite"
    Store(path).insert_execution(_execution())
    old = sqlite3.connect(path)
    old.executescript(
        "ALTER TABLE executions DROP COLUMN owner; ALTER TABLE executions DROP COLUMN resumes;"
        " ALTER TABLE executions DROP COLUMN lease_until;"
        " ALTER TABLE executions DROP COLUMN worker_started;"
        " ALTER TABLE history DROP COLUMN position; PRAGMA user_version = 4;"
    )
    old.close()
    store = Store(path)
    record = store.get_execution("arn:x:execution:m:e1")
    assert record is not None and (record.owner, record.lease_until, record.resumes) == (
        None,
        None,
        0,
    )
    assert store.append_event(record.arn, _event(1), {"f": "", "o": 0})
    assert store.positioned_events(record.arn)[0][1] == {"f": "", "o": 0}
    assert store._db().execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_a_read_only_state_file_is_one_clear_error(tmp_path):
    import sqlite3

    from tooling.localrt.sqlite import Database, StateFileError

    path = tmp_path / "db.sqlite"
    Store(path).close()
    database = Database(path, "")
    read_only = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    database._local.db = read_only  # as when the file or its folder is not writable
    with pytest.raises(StateFileError) as info, database.transaction() as db:
        db.execute("INSERT INTO logs (function_name, request_id, timestamp, message)"
                   " VALUES ('f', 'r', 't', 'm')")  # fmt: skip
    assert "is read-only" in info.value.message
    assert "chmod u+w" in (info.value.hint or "")
