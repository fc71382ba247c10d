"""One SQLite file shared by several processes (the CLI, execution workers, queue workers).

WAL mode lets readers go on while one process writes; every write is a short BEGIN IMMEDIATE
transaction, so writers queue on the lock instead of failing half-way.

A state file that SQLite cannot use (damaged, not a database, read-only, locked too long) is
reported as one line that names the file and says what to do, not as a database traceback.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tooling.errors import OperationFailed
from tooling.statedir import private_file

BUSY_TIMEOUT_SECONDS = 60


class StateFileError(OperationFailed):
    """The local state file cannot be used as it is."""


def state_file_error(path: Path, exc: sqlite3.Error) -> StateFileError | None:
    """What a failure of SQLite on `path` means to the user (None: a bug of ours, not the
    file's state)."""
    shown = _shown(path)
    text = str(exc)
    lowered = text.lower()
    if "not a database" in lowered or "malformed" in lowered:
        return StateFileError(
            f"the local state file {shown} is not a SQLite database, or is damaged ({text})",
            hint=f"move it away (`mv {shown} {shown}.broken`): the next command starts an empty "
            "one, without the deployments and executions it held",
        )
    if "readonly" in lowered or "read-only" in lowered:
        return StateFileError(
            f"the local state file {shown} is read-only ({text})",
            hint=f"make {shown} and its folder writable by you (`chmod u+w`)",
        )
    if "unable to open" in lowered or "disk i/o" in lowered:
        return StateFileError(
            f"cannot use the local state file {shown} ({text})",
            hint="check that its folder exists and is writable, and that the disk is healthy",
        )
    if "database or disk is full" in lowered:
        return StateFileError(
            f"cannot write the local state file {shown}: the disk is full",
            hint="free some space and run the command again",
        )
    if "locked" in lowered or "busy" in lowered:
        return StateFileError(
            f"the local state file {shown} stayed locked by another process for "
            f"{BUSY_TIMEOUT_SECONDS} s ({text})",
            hint="look for a stuck `tool` process and end it",
        )
    return None


def _shown(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return str(path)


@contextmanager
def translated(path: Path) -> Iterator[None]:
    """Turn SQLite's errors about the file's state into StateFileError."""
    try:
        yield
    except sqlite3.Error as exc:
        error = state_file_error(path, exc)
        if error is None:
            raise
        raise error from exc


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
            with translated(self.path):
                db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
                db.row_factory = sqlite3.Row
                db.execute("PRAGMA journal_mode = WAL")
                db.execute("PRAGMA synchronous = NORMAL")
            self._local.db = db
        return db

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        db = self.connection()
        with translated(self.path):
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None
