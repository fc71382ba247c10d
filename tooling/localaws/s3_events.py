"""S3 event notifications to functions, in the local AWS services.

moto matches a bucket's notification configuration against each object change (event type,
prefix and suffix rules) and builds the event S3 sends (moto.s3.notifications.send_event); for a
Lambda destination it then calls moto's own Lambda. `install` makes that call append the event to
DATA_DIR/s3-events.jsonl instead (one line per function and event, in one `write`, before the
request's answer leaves), and `tool worker` delivers the lines in order
(tooling.triggers.s3_notifications), keeping how far it got in DATA_DIR/s3-events.cursor.

It is installed after the journal's replay, so replayed requests notify no one again. A server
killed after appending an event and before journaling its request leaves an event whose object a
restart does not bring back (S3 itself delivers at least once).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus, unquote_plus

OUTBOX_FILE = "s3-events.jsonl"
CURSOR_FILE = "s3-events.cursor"
DELIVERY_LOCK_FILE = "s3-events.lock"
MAX_LINE_BYTES = 1 << 20  # an event is a few hundred bytes; anything larger is not one of ours


class Outbox:
    """The append-only file of S3 events waiting for `tool worker`."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / OUTBOX_FILE
        self._fd: int | None = None

    def repair(self) -> None:
        """Drop a last line a crash cut short (the server does it before appending again)."""
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        keep = data.rfind(b"\n") + 1
        if keep != len(data):
            with self.path.open("r+b") as file:
                file.truncate(keep)
                os.fsync(file.fileno())

    def append(self, entry: dict[str, Any]) -> None:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        data = (json.dumps(entry, separators=(",", ":")) + "\n").encode("utf-8")
        written = os.write(self._fd, data)  # one write: whole, or cut short by a crash
        while written < len(data):
            written += os.write(self._fd, data[written:])

    def size(self) -> int:
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    def entries_from(self, offset: int) -> Iterator[tuple[int, dict[str, Any]]]:
        """(the offset after it, the entry) for each whole line from `offset` on; a line still
        being written (no newline yet) is left for the next read."""
        if not self.path.exists():
            return
        with self.path.open("rb") as file:
            file.seek(offset)
            while True:
                line = file.readline(MAX_LINE_BYTES + 1)
                if not line.endswith(b"\n"):
                    return
                offset += len(line)
                yield offset, json.loads(line)


class Cursor:
    """How far `tool worker` delivered: an offset into the outbox, replaced atomically."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / CURSOR_FILE

    def read(self) -> int:
        try:
            return int(json.loads(self.path.read_text())["offset"])
        except (FileNotFoundError, ValueError, KeyError, TypeError):
            return 0

    def write(self, offset: int) -> None:
        temporary = self.path.with_name(f".{CURSOR_FILE}.{os.getpid()}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as file:
            json.dump({"offset": offset}, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, self.path)


def complete_record(event: dict[str, Any], account_id: str) -> dict[str, Any]:
    """moto's record, with the fields S3 sends that moto leaves out (AWS' "Event message
    structure"): who made the change, the request's ids, the bucket's owner, a sequencer; and
    the key URL-encoded as S3 encodes it."""
    records = []
    for record in event.get("Records") or []:
        s3 = dict(record.get("s3") or {})
        bucket = {**(s3.get("bucket") or {}), "ownerIdentity": {"principalId": account_id}}
        obj = {**(s3.get("object") or {}), "sequencer": f"{uuid.uuid1().int >> 64:016X}"}
        # moto encodes "/" too (quote_plus); S3 keeps it: "uploads/red+flower.jpg"
        obj["key"] = quote_plus(unquote_plus(str(obj.get("key", ""))), safe="/")
        records.append(
            {
                **record,
                "userIdentity": {"principalId": f"AWS:{account_id}"},
                "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                "responseElements": {
                    "x-amz-request-id": uuid.uuid4().hex[:16].upper(),
                    "x-amz-id-2": uuid.uuid4().hex,
                },
                "s3": {**s3, "bucket": bucket, "object": obj},
            }
        )
    return {"Records": records}


def install(data_dir: Path) -> None:
    """From now on, S3 notifications to Lambda functions go to the outbox."""
    from moto.s3 import notifications

    outbox = Outbox(data_dir)
    outbox.repair()

    def to_outbox(account_id: str, event_body: Any, fn_arn: str, region_name: str) -> None:
        outbox.append({"functionArn": fn_arn, "event": complete_record(event_body, account_id)})

    notifications._invoke_awslambda = to_outbox
