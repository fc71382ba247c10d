"""One SQLite file shared by several processes (the CLI, execution workers, queue workers).

WAL mode lets readers go on while one process writes; every write is a short BEGIN IMMEDIATE
transaction, so writers queue on the lock instead of failing half-way.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tooling.statedir import private_file

BUSY_TIMEOUT_SECONDS = 60


class Database:
    """A connection per thread to one SQLite file, and transactions on it."""

    def __init__(self, path: Path, schema: str) -> None:
        self.path = path
        private_file(path)  # task tokens and `${env:}` values: the owner's only (0600, 0700)
        self._local = threading.local()
        with self.transaction() as db:
            for statement in filter(str.strip, schema.split(";")):
                db.execute(statement)

    def connection(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            self._local.db = db
        return db

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        db = self.connection()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None
