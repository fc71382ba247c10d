from datetime import UTC, datetime, timedelta

from tooling.localrt.store import ExecutionRecord, Store

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
    assert store._db().execute("PRAGMA user_version").fetchone()[0] == 2
