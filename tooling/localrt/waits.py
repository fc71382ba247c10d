"""What a local execution sleeps through now (a Wait state, or the interval before a Retry),
told by its worker to whoever follows it (`tool invoke`, `tool history --follow`).

One small JSON file per execution under `.tool/waits/`, replaced whole (write, then rename)
each time the run starts to sleep and removed when it ends. It is a hint for people: a file
left behind by a killed worker is harmless, since followers show a notice only while its end
lies ahead and the execution is running.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import uuid
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tooling.errors import InputError
from tooling.statedir import inside, private_parents

if TYPE_CHECKING:
    from tooling.engine.ports import WaitNotice


def notice_path(state_dir: Path, execution_arn: str) -> Path:
    """`.tool/waits/<hash of the ARN>.json`, checked to stay inside `.tool` (tooling.statedir)."""
    digest = hashlib.sha256(execution_arn.encode()).hexdigest()[:32]
    return inside(state_dir, "waits", f"{digest}.json")


def notice_dict(notice: WaitNotice) -> dict[str, Any]:
    """The notice as followers read it (boto3-like camelCase keys, `until` as ISO 8601)."""
    return {
        "state": notice.state,
        "kind": notice.kind,
        "seconds": notice.seconds,
        "until": notice.until.isoformat(),
        "error": notice.error,
        "retry": notice.retry,
        "maxAttempts": notice.max_attempts,
    }


class WaitNotices:
    """The worker's side: write each notice of one execution, remove it at the end."""

    def __init__(self, state_dir: Path, execution_arn: str) -> None:
        self.state_dir = state_dir
        self.execution_arn = execution_arn

    def write(self, notice: WaitNotice) -> None:
        try:
            self.path = notice_path(self.state_dir, self.execution_arn)
            private_parents(self.path)
            temporary = self.path.with_name(f"{self.path.name}.{uuid.uuid4().hex}.tmp")
            temporary.write_text(json.dumps(notice_dict(notice)))
            os.replace(temporary, self.path)
        except (OSError, InputError):
            pass  # a notice is a courtesy: never fail the run for it

    def clear(self) -> None:
        with contextlib.suppress(OSError, InputError):
            notice_path(self.state_dir, self.execution_arn).unlink()


def read_notice(state_dir: Path, execution_arn: str, now: datetime) -> dict[str, Any] | None:
    """The execution's current notice, or None (none written, unreadable, or over)."""
    try:
        notice = json.loads(notice_path(state_dir, execution_arn).read_text())
        until = datetime.fromisoformat(notice["until"])
    except (OSError, ValueError, KeyError, TypeError, InputError):
        return None
    return notice if until > now else None
