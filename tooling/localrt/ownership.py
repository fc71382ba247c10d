"""Who runs a RUNNING execution, and taking it over when that process is gone.

On AWS an execution carries on when a host dies. Locally each execution has an owner: a worker
process named by a random token, holding a lease in the execution's row (store.py). The row is
inserted with its first owner's token and a short lease, in one transaction, before the worker is
started; the worker claims the lease (recording its pid) and renews it every HEARTBEAT_SECONDS.
Every event it writes, and the end of the run, go in only while its token still owns the row.

An owner counts as gone when its lease has expired, or when its process no longer runs (checked
through /proc, start time included, so a reused pid is not mistaken for it). Any runtime process
that looks at the execution then (a `tool` command reading it, `tool worker`, a follower) takes
it over: a new token replaces the old one in one compare-and-set transaction (so two lookers
cannot both win), the old owner's handler processes are ended, and a new worker resumes the run
from its stored history (tooling/engine/replay.py). A killed process leaves at worst an
execution that the next look resumes; it never leaves one that nobody will run.
"""

from __future__ import annotations

import uuid

from tooling.localrt.process_tree import process_alive
from tooling.localrt.store import ExecutionRecord

# A worker being started has this long to claim its lease (Python's start-up on a loaded
# machine takes seconds; only a start killed before its worker existed waits this long).
CLAIM_SECONDS = 15.0
# A claimed lease lasts this long unless renewed; the heartbeat renews it well before.
LEASE_SECONDS = 30.0
HEARTBEAT_SECONDS = 5.0


def new_owner() -> str:
    return uuid.uuid4().hex


def owner_is_live(record: ExecutionRecord, now: float) -> bool:
    """Whether the execution's owner may still run it (only meaningful while RUNNING)."""
    if record.owner is None or record.lease_until is None or record.lease_until <= now:
        return False
    if record.worker_pid is None:
        return True  # a worker is being started: its claim window is the lease
    return process_alive(record.worker_pid, record.worker_started)
