"""The local runtime's EventBridge, Scheduler, API Gateway and CloudWatch alarm records, and the
bookkeeping of `tool worker` (schedule ticks fired, notifications delivered), in tables of their
own in the runtime's SQLite file (`.tool/local.db`).

Each resource is kept as a JSON document in the shape the AWS API answers a look-up with
(DescribeRule + its targets, GetSchedule, GetResources, DescribeAlarms, a policy statement), so
the planner compares both targets the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tooling.localrt.sqlite import Database

_SCHEMA = """
CREATE TABLE IF NOT EXISTS event_resources (
    kind TEXT NOT NULL,          -- rule, schedule, schedule group, rest api, alarm, permission
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    document TEXT NOT NULL,      -- JSON, in the AWS API's shape
    created TEXT NOT NULL,       -- a rate schedule counts its periods from here
    PRIMARY KEY (kind, region, name)
);
CREATE TABLE IF NOT EXISTS schedule_ticks (
    schedule TEXT NOT NULL,      -- the rule's or schedule's ARN
    tick TEXT NOT NULL,          -- the time it fired for (ISO 8601, UTC)
    execution_arn TEXT NOT NULL,
    fired TEXT NOT NULL,
    PRIMARY KEY (schedule, tick)
);
CREATE TABLE IF NOT EXISTS notification_deliveries (
    rule_arn TEXT NOT NULL,
    execution_arn TEXT NOT NULL,
    status TEXT NOT NULL,
    target_id TEXT NOT NULL,
    delivered TEXT NOT NULL,
    outcome TEXT NOT NULL,
    PRIMARY KEY (rule_arn, execution_arn, status, target_id)
);
CREATE TABLE IF NOT EXISTS notification_watermarks (
    rule_arn TEXT PRIMARY KEY,
    seen_until TEXT NOT NULL     -- executions that changed before this were all looked at
);
CREATE TABLE IF NOT EXISTS stream_positions (
    mapping TEXT NOT NULL,       -- an event source mapping of a stream, as it was created
    shard TEXT NOT NULL,
    sequence TEXT NOT NULL,      -- the last record handled ('' : none yet)
    attempts INTEGER NOT NULL,   -- failed tries of the batch after it
    size INTEGER NOT NULL,       -- records in the next batch at most (bisected), 0: batch size
    PRIMARY KEY (mapping, shard)
)"""


@dataclass(frozen=True)
class EventRecord:
    kind: str
    region: str
    name: str
    document: dict[str, Any]
    created: datetime


class EventStore:
    """Data access for the event tables. One instance per process; safe across threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.database = Database(path, _SCHEMA)
        self._db = self.database.connection
        self._tx = self.database.transaction

    def close(self) -> None:
        self.database.close()

    # -- resources ------------------------------------------------------------------------------

    def put(
        self,
        kind: str,
        region: str,
        name: str,
        document: dict[str, Any],
        *,
        now: datetime,
        restart: bool = False,
    ) -> None:
        """Create or replace; `created` is kept unless `restart` (a new schedule expression)."""
        text = json.dumps(document, sort_keys=True)
        with self._tx() as db:
            row = db.execute(
                "SELECT created FROM event_resources WHERE kind = ? AND region = ? AND name = ?",
                (kind, region, name),
            ).fetchone()
            created = now.isoformat() if row is None or restart else row["created"]
            db.execute(
                "INSERT OR REPLACE INTO event_resources VALUES (?, ?, ?, ?, ?)",
                (kind, region, name, text, created),
            )

    def get(self, kind: str, region: str, name: str) -> EventRecord | None:
        row = (
            self._db()
            .execute(
                "SELECT * FROM event_resources WHERE kind = ? AND region = ? AND name = ?",
                (kind, region, name),
            )
            .fetchone()
        )
        return _record(row) if row else None

    def delete(self, kind: str, region: str, name: str) -> None:
        with self._tx() as db:
            db.execute(
                "DELETE FROM event_resources WHERE kind = ? AND region = ? AND name = ?",
                (kind, region, name),
            )

    def all(self, kind: str, region: str | None = None) -> list[EventRecord]:
        query = "SELECT * FROM event_resources WHERE kind = ?"
        params: tuple[str, ...] = (kind,)
        if region is not None:
            query += " AND region = ?"
            params = (kind, region)
        rows = self._db().execute(query + " ORDER BY name", params).fetchall()
        return [_record(row) for row in rows]

    # -- schedule ticks -------------------------------------------------------------------------

    def tick_fired(self, schedule: str, tick: datetime) -> bool:
        row = (
            self._db()
            .execute(
                "SELECT 1 FROM schedule_ticks WHERE schedule = ? AND tick = ?",
                (schedule, _utc(tick)),
            )
            .fetchone()
        )
        return row is not None

    def record_tick(self, schedule: str, tick: datetime, execution_arn: str, now: datetime) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT OR IGNORE INTO schedule_ticks VALUES (?, ?, ?, ?)",
                (schedule, _utc(tick), execution_arn, now.isoformat()),
            )

    def last_tick(self, schedule: str) -> datetime | None:
        row = (
            self._db()
            .execute("SELECT MAX(tick) AS tick FROM schedule_ticks WHERE schedule = ?", (schedule,))
            .fetchone()
        )
        return datetime.fromisoformat(row["tick"]) if row and row["tick"] else None

    def ticks(self, schedule: str) -> list[tuple[datetime, str]]:
        rows = (
            self._db()
            .execute(
                "SELECT tick, execution_arn FROM schedule_ticks WHERE schedule = ? ORDER BY tick",
                (schedule,),
            )
            .fetchall()
        )
        return [(datetime.fromisoformat(row["tick"]), row["execution_arn"]) for row in rows]

    # -- notifications --------------------------------------------------------------------------

    def delivered(self, rule_arn: str, execution_arn: str, status: str, target_id: str) -> bool:
        row = (
            self._db()
            .execute(
                "SELECT 1 FROM notification_deliveries WHERE rule_arn = ? AND execution_arn = ?"
                " AND status = ? AND target_id = ?",
                (rule_arn, execution_arn, status, target_id),
            )
            .fetchone()
        )
        return row is not None

    def record_delivery(
        self,
        rule_arn: str,
        execution_arn: str,
        status: str,
        target_id: str,
        outcome: str,
        now: datetime,
    ) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT OR IGNORE INTO notification_deliveries VALUES (?, ?, ?, ?, ?, ?)",
                (rule_arn, execution_arn, status, target_id, now.isoformat(), outcome),
            )

    def deliveries(self, rule_arn: str) -> list[dict[str, str]]:
        rows = (
            self._db()
            .execute(
                "SELECT * FROM notification_deliveries WHERE rule_arn = ? ORDER BY delivered",
                (rule_arn,),
            )
            .fetchall()
        )
        return [dict(row) for row in rows]

    def watermark(self, rule_arn: str) -> datetime | None:
        row = (
            self._db()
            .execute(
                "SELECT seen_until FROM notification_watermarks WHERE rule_arn = ?", (rule_arn,)
            )
            .fetchone()
        )
        return datetime.fromisoformat(row["seen_until"]) if row else None

    def set_watermark(self, rule_arn: str, seen_until: datetime) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO notification_watermarks VALUES (?, ?)",
                (rule_arn, seen_until.isoformat()),
            )

    # -- stream positions (tooling.triggers.function_streams) ------------------------------------

    def stream_position(self, mapping: str, shard: str) -> tuple[str | None, int, int]:
        """The last record of the shard the mapping handled (None: none yet), how many times
        the batch after it failed, and the most records its next batch takes (0: no limit)."""
        row = (
            self._db()
            .execute(
                "SELECT sequence, attempts, size FROM stream_positions"
                " WHERE mapping = ? AND shard = ?",
                (mapping, shard),
            )
            .fetchone()
        )
        if row is None:
            return None, 0, 0
        return (row["sequence"] or None), int(row["attempts"]), int(row["size"])

    def commit_stream_position(
        self, mapping: str, shard: str, sequence: str | None, attempts: int, size: int = 0
    ) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO stream_positions VALUES (?, ?, ?, ?, ?)",
                (mapping, shard, sequence or "", attempts, size),
            )


def _record(row: Any) -> EventRecord:
    return EventRecord(
        kind=row["kind"],
        region=row["region"],
        name=row["name"],
        document=json.loads(row["document"]),
        created=datetime.fromisoformat(row["created"]),
    )


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()
