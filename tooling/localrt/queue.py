"""SQS-like queues for the local runtime, in the same SQLite file as the rest of its state.

What it keeps of SQS (standard queues): messages are durable; a receive hides them for the
visibility timeout and hands out a receipt handle that is valid until the next receive; only the
latest receipt handle deletes; a message received `maxReceiveCount` times without being deleted is
moved to the dead-letter queue at its next receive (with the same message id). On top of SQS, the
reason of the last failed attempt is stored with the message and carried into the dead-letter
queue, so `tool queue` can show why a message was set aside.

Several worker processes share the queues: every change is one `BEGIN IMMEDIATE` transaction, so
two receives never hand out the same message while it is invisible.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tooling.errors import InputError, NotFound
from tooling.localrt.sqlite import Database

DEFAULT_VISIBILITY_TIMEOUT = 30  # SQS CreateQueue default
MAX_RECEIVE_BATCH = 10  # SQS ReceiveMessage MaxNumberOfMessages: 1-10
# SQS raised its message size limit from 256 KiB to 1 MiB on 2026-01-29 (AWS Compute Blog,
# "More room to build: serverless services now support payloads up to 1 MB").
MAX_MESSAGE_BYTES = 1_048_576

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sqs_queues (
    name TEXT PRIMARY KEY,
    visibility_timeout REAL NOT NULL,
    dead_letter_queue TEXT,            -- RedrivePolicy.deadLetterTargetArn, by name
    max_receive_count INTEGER,         -- RedrivePolicy.maxReceiveCount
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sqs_messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    message_id TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL,
    md5_of_body TEXT NOT NULL,
    sent_at REAL NOT NULL,
    visible_at REAL NOT NULL,          -- hidden until then (in flight once received)
    receive_count INTEGER NOT NULL DEFAULT 0,
    first_received_at REAL,
    receipt_handle TEXT,               -- of the latest receive
    last_error TEXT,                   -- why the latest attempt failed (a local extension)
    source_queue TEXT,                 -- set while in a dead-letter queue
    dead_lettered_at REAL
);
CREATE INDEX IF NOT EXISTS sqs_messages_ready ON sqs_messages (queue, visible_at, seq);
"""


@dataclass(frozen=True)
class QueueInfo:
    name: str
    visibility_timeout: float
    dead_letter_queue: str | None
    max_receive_count: int | None


@dataclass(frozen=True)
class QueueDepth:
    visible: int  # ApproximateNumberOfMessages
    in_flight: int  # ApproximateNumberOfMessagesNotVisible


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    body: str
    receive_count: int
    reason: str
    source_queue: str | None
    dead_lettered_at: float | None


class LocalQueues:
    """The queues in one SQLite file. One instance per process; safe across threads."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.clock = clock
        self.database = Database(path, _SCHEMA)
        self._db = self.database.connection
        self._tx = self.database.transaction

    def close(self) -> None:
        self.database.close()

    # queues

    def create_queue(
        self,
        name: str,
        *,
        visibility_timeout: float = DEFAULT_VISIBILITY_TIMEOUT,
        dead_letter_queue: str | None = None,
        max_receive_count: int | None = None,
    ) -> bool:
        """Create the queue, or bring its attributes up to date. True when it was created."""
        if (dead_letter_queue is None) != (max_receive_count is None):
            raise ValueError("a redrive policy needs both a dead-letter queue and a count")
        with self._tx() as db:
            if dead_letter_queue is not None and not _exists(db, dead_letter_queue):
                raise NotFound(f"dead-letter queue {dead_letter_queue!r} does not exist")
            created = not _exists(db, name)
            db.execute(
                "INSERT INTO sqs_queues VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET"
                " visibility_timeout = excluded.visibility_timeout,"
                " dead_letter_queue = excluded.dead_letter_queue,"
                " max_receive_count = excluded.max_receive_count",
                (name, visibility_timeout, dead_letter_queue, max_receive_count, self.clock()),
            )
        return created

    def delete_queue(self, name: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM sqs_messages WHERE queue = ?", (name,))
            db.execute("DELETE FROM sqs_queues WHERE name = ?", (name,))

    def rename_queue(self, old: str, new: str) -> bool:
        """Move queue `old`, its messages and every reference to it, to `new`, unless `new`
        exists already or `old` does not. True when it moved."""
        with self._tx() as db:
            if not _exists(db, old) or _exists(db, new):
                return False
            db.execute("UPDATE sqs_queues SET name = ? WHERE name = ?", (new, old))
            db.execute(
                "UPDATE sqs_queues SET dead_letter_queue = ? WHERE dead_letter_queue = ?",
                (new, old),
            )
            db.execute("UPDATE sqs_messages SET queue = ? WHERE queue = ?", (new, old))
            db.execute(
                "UPDATE sqs_messages SET source_queue = ? WHERE source_queue = ?", (new, old)
            )
        return True

    def get_queue(self, name: str) -> QueueInfo | None:
        row = self._db().execute("SELECT * FROM sqs_queues WHERE name = ?", (name,)).fetchone()
        return _queue(row) if row else None

    def list_queues(self) -> list[QueueInfo]:
        rows = self._db().execute("SELECT * FROM sqs_queues ORDER BY name").fetchall()
        return [_queue(row) for row in rows]

    def _require(self, db: sqlite3.Connection, name: str) -> QueueInfo:
        row = db.execute("SELECT * FROM sqs_queues WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise NotFound(
                f"queue {name!r} does not exist on the local target",
                hint="declare an `sqs` event on the state machine and run `tool deploy`",
            )
        return _queue(row)

    # messages

    def send_message(self, queue: str, body: str, *, delay_seconds: float = 0) -> str:
        """Put one message on the queue (hidden for `delay_seconds`, as SQS's DelaySeconds);
        its new message id."""
        return self.send_messages(queue, [body], delay_seconds=delay_seconds)[0]

    def send_messages(
        self, queue: str, bodies: Iterable[str], *, delay_seconds: float = 0
    ) -> list[str]:
        """Put several messages on the queue in one transaction (all or none)."""
        rows = []
        now = self.clock()
        for body in bodies:
            size = len(body.encode("utf-8"))
            if size > MAX_MESSAGE_BYTES:
                raise InputError(
                    f"the message is {size} bytes; SQS accepts at most {MAX_MESSAGE_BYTES}",
                    hint="send a reference to the data instead",
                )
            digest = hashlib.md5(body.encode("utf-8"), usedforsecurity=False).hexdigest()
            rows.append((queue, str(uuid.uuid4()), body, digest, now, now + delay_seconds))
        with self._tx() as db:
            self._require(db, queue)
            db.executemany(
                "INSERT INTO sqs_messages (queue, message_id, body, md5_of_body, sent_at,"
                " visible_at) VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
        return [row[1] for row in rows]

    def receive_messages(
        self, queue: str, max_messages: int = 1, visibility_timeout: float | None = None
    ) -> list[dict[str, Any]]:
        """Up to `max_messages` visible messages, hidden for the visibility timeout; each in
        sqs.receive_message's shape (MessageId, ReceiptHandle, MD5OfBody, Body, Attributes)."""
        if not 1 <= max_messages <= MAX_RECEIVE_BATCH:
            raise ValueError(f"max_messages must be 1-{MAX_RECEIVE_BATCH}")
        received: list[dict[str, Any]] = []
        with self._tx() as db:
            info = self._require(db, queue)
            hide = info.visibility_timeout if visibility_timeout is None else visibility_timeout
            now = self.clock()
            while len(received) < max_messages:
                rows = db.execute(
                    "SELECT * FROM sqs_messages WHERE queue = ? AND visible_at <= ?"
                    " ORDER BY seq LIMIT ?",
                    (queue, now, max_messages - len(received)),
                ).fetchall()
                if not rows:
                    break
                for row in rows:
                    if (
                        info.dead_letter_queue is not None
                        and info.max_receive_count is not None
                        and row["receive_count"] >= info.max_receive_count
                    ):
                        _move_to_dead_letters(db, row, info, now)
                        continue
                    handle = f"{row['message_id']}#{uuid.uuid4().hex}"
                    count = row["receive_count"] + 1
                    db.execute(
                        "UPDATE sqs_messages SET receive_count = ?, receipt_handle = ?,"
                        " visible_at = ?, first_received_at = COALESCE(first_received_at, ?)"
                        " WHERE seq = ?",
                        (count, handle, now + hide, now, row["seq"]),
                    )
                    received.append(
                        {
                            "MessageId": row["message_id"],
                            "ReceiptHandle": handle,
                            "MD5OfBody": row["md5_of_body"],
                            "Body": row["body"],
                            "Attributes": {
                                "ApproximateReceiveCount": str(count),
                                "SentTimestamp": str(int(row["sent_at"] * 1000)),
                                "ApproximateFirstReceiveTimestamp": str(
                                    int((row["first_received_at"] or now) * 1000)
                                ),
                            },
                        }
                    )
        return received

    def delete_message(self, queue: str, receipt_handle: str) -> bool:
        """Delete the message if `receipt_handle` is its latest; a stale handle changes nothing
        (SQS answers success then too). True when a message was deleted."""
        with self._tx() as db:
            cursor = db.execute(
                "DELETE FROM sqs_messages"
                " WHERE queue = ? AND message_id = ? AND receipt_handle = ?",
                (queue, _message_id(receipt_handle), receipt_handle),
            )
        return cursor.rowcount == 1

    def delete_messages(self, queue: str, receipt_handles: Iterable[str]) -> int:
        """DeleteMessageBatch: one transaction; how many were deleted (stale handles are not)."""
        deleted = 0
        with self._tx() as db:
            for handle in receipt_handles:
                cursor = db.execute(
                    "DELETE FROM sqs_messages"
                    " WHERE queue = ? AND message_id = ? AND receipt_handle = ?",
                    (queue, _message_id(handle), handle),
                )
                deleted += cursor.rowcount
        return deleted

    def change_message_visibility(self, queue: str, receipt_handle: str, seconds: float) -> bool:
        """Hide the message for `seconds` from now (0: visible again at once)."""
        return self._update_in_flight(queue, receipt_handle, seconds, reason=None)

    def record_failure(
        self, queue: str, receipt_handle: str, reason: str, *, visible_in: float | None = None
    ) -> bool:
        """Remember why this delivery failed; with `visible_in`, also change its visibility."""
        return self._update_in_flight(queue, receipt_handle, visible_in, reason=reason)

    def _update_in_flight(
        self, queue: str, receipt_handle: str, seconds: float | None, reason: str | None
    ) -> bool:
        sets: list[str] = []
        args: list[float | str] = []
        if seconds is not None:
            sets.append("visible_at = ?")
            args.append(self.clock() + seconds)
        if reason is not None:
            sets.append("last_error = ?")
            args.append(reason)
        if not sets:
            return False
        with self._tx() as db:
            cursor = db.execute(
                f"UPDATE sqs_messages SET {', '.join(sets)}"
                " WHERE queue = ? AND message_id = ? AND receipt_handle = ?",
                (*args, queue, _message_id(receipt_handle), receipt_handle),
            )
        return cursor.rowcount == 1

    # looking and redriving

    def depth(self, queue: str) -> QueueDepth:
        now = self.clock()
        row = (
            self._db()
            .execute(
                "SELECT SUM(visible_at <= ?) AS visible, SUM(visible_at > ?) AS hidden"
                " FROM sqs_messages WHERE queue = ?",
                (now, now, queue),
            )
            .fetchone()
        )
        return QueueDepth(visible=int(row["visible"] or 0), in_flight=int(row["hidden"] or 0))

    def dead_letters(self, dead_letter_queue: str, limit: int | None = None) -> list[DeadLetter]:
        rows = (
            self._db()
            .execute(
                "SELECT * FROM sqs_messages WHERE queue = ? ORDER BY seq LIMIT ?",
                (dead_letter_queue, -1 if limit is None else limit),
            )
            .fetchall()
        )
        return [
            DeadLetter(
                message_id=row["message_id"],
                body=row["body"],
                receive_count=row["receive_count"],
                reason=row["last_error"] or "no reason recorded",
                source_queue=row["source_queue"],
                dead_lettered_at=row["dead_lettered_at"],
            )
            for row in rows
        ]

    def redrive(self, dead_letter_queue: str, to_queue: str | None = None) -> int:
        """Move every visible message of the dead-letter queue back to the queue it came from
        (or `to_queue`), with its receive count reset. How many moved."""
        with self._tx() as db:
            self._require(db, dead_letter_queue)
            now = self.clock()
            rows = db.execute(
                "SELECT seq, source_queue FROM sqs_messages WHERE queue = ? AND visible_at <= ?",
                (dead_letter_queue, now),
            ).fetchall()
            moved = 0
            for row in rows:
                target = to_queue or row["source_queue"]
                if target is None or not _exists(db, target):
                    continue
                db.execute(
                    "UPDATE sqs_messages SET queue = ?, visible_at = ?, receive_count = 0,"
                    " receipt_handle = NULL, first_received_at = NULL, last_error = NULL,"
                    " source_queue = NULL, dead_lettered_at = NULL WHERE seq = ?",
                    (target, now, row["seq"]),
                )
                moved += 1
        return moved


def _move_to_dead_letters(
    db: sqlite3.Connection, row: sqlite3.Row, info: QueueInfo, now: float
) -> None:
    reason = row["last_error"] or (f"received {row['receive_count']} times without being deleted")
    db.execute(
        "UPDATE sqs_messages SET queue = ?, source_queue = ?, dead_lettered_at = ?,"
        " last_error = ?, visible_at = ?, receipt_handle = NULL WHERE seq = ?",
        (info.dead_letter_queue, info.name, now, reason, now, row["seq"]),
    )


def _exists(db: sqlite3.Connection, name: str) -> bool:
    return db.execute("SELECT 1 FROM sqs_queues WHERE name = ?", (name,)).fetchone() is not None


def _message_id(receipt_handle: str) -> str:
    return receipt_handle.split("#", 1)[0]


def _queue(row: sqlite3.Row) -> QueueInfo:
    return QueueInfo(
        name=row["name"],
        visibility_timeout=row["visibility_timeout"],
        dead_letter_queue=row["dead_letter_queue"],
        max_receive_count=row["max_receive_count"],
    )
