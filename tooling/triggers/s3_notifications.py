"""`tool worker` on the local target: functions' `s3` events, as S3 and Lambda deliver them.

The local AWS services append each S3 event a bucket's notification configuration sends to a
function to an outbox (tooling.localaws.s3_events); here they are delivered in order, each
invoked with the event S3 sends (Records[].s3.bucket/object, eventName such as
ObjectCreated:Put, eventSource aws:s3). The cursor moves past an event only after its invocation
ended: a worker killed at any point delivers it again (at least once, as S3 and Lambda's
asynchronous invocation are). A function error is tried again, twice, as Lambda retries an
asynchronous invocation (without its waits); then the event is dropped with a line saying so.
One worker delivers at a time (a lock in the services' folder).
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

from tooling.config.service import ServiceConfig
from tooling.localaws.s3_events import DELIVERY_LOCK_FILE, Cursor, Outbox
from tooling.triggers.function_queues import Answer

ASYNC_ATTEMPTS = 3  # Lambda: an asynchronous invocation that fails is retried twice
POLL_SECONDS = 0.5

Invoke = Callable[[str, str], Answer]


@dataclass(frozen=True)
class S3Delivery:
    function_arn: str
    event_name: str
    bucket: str
    key: str
    error: str | None  # the function's last error when every attempt failed


def deliver_pending(data_dir: Path, invoke: Invoke) -> list[S3Delivery]:
    """Deliver what the outbox holds past the cursor; [] when another worker is delivering."""
    lock_fd = os.open(data_dir / DELIVERY_LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return []
        outbox, cursor = Outbox(data_dir), Cursor(data_dir)
        offset = cursor.read()
        if offset > outbox.size():  # the services were reset: a new outbox
            offset = 0
        delivered: list[S3Delivery] = []
        for after, entry in outbox.entries_from(offset):
            delivered.append(_deliver(entry, invoke))
            cursor.write(after)
        return delivered
    finally:
        os.close(lock_fd)


def _deliver(entry: dict[str, Any], invoke: Invoke) -> S3Delivery:
    arn, event = str(entry["functionArn"]), entry["event"]
    record = (event.get("Records") or [{}])[0]
    s3 = record.get("s3") or {}
    error: str | None = None
    for _ in range(ASYNC_ATTEMPTS):
        answer = invoke(arn, json.dumps(event))
        error = None if answer.function_error is None else _error_text(answer.payload)
        if error is None:
            break
    return S3Delivery(
        function_arn=arn,
        event_name=str(record.get("eventName", "")),
        bucket=str((s3.get("bucket") or {}).get("name", "")),
        key=unquote_plus(str((s3.get("object") or {}).get("key", ""))),
        error=error,
    )


def _error_text(payload: str) -> str:
    try:
        answer = json.loads(payload)
    except ValueError:
        return payload[:200]
    if isinstance(answer, dict):
        return f"{answer.get('errorType', 'Error')}: {answer.get('errorMessage', '')}"
    return str(answer)[:200]


def local_s3_events(
    service: ServiceConfig, say: Callable[[str], None]
) -> Callable[[threading.Event, bool], list[S3Delivery]] | None:
    """What `tool worker` runs on the local target for the functions' `s3` events; None when
    the service has none."""
    if not any(fn.events.s3 for fn in service.functions.values()):
        return None
    from tooling.backends.local import LocalBackend
    from tooling.localaws.manager import LocalAwsServices
    from tooling.triggers.function_queues import _LocalInvoker

    backend = LocalBackend(service.directory, service.region)

    def run(stop: threading.Event, once: bool) -> list[S3Delivery]:
        services = LocalAwsServices(backend.store.path.parent)
        if not services.has_data():
            say("s3 events: the local AWS services hold no bucket yet (deploy first)")
            return []
        done: list[S3Delivery] = []
        with _LocalInvoker(backend, services, service.region) as invoke:
            while not stop.is_set():
                for delivery in deliver_pending(services.data_dir, invoke):
                    done.append(delivery)
                    name = delivery.function_arn.rsplit(":", 1)[-1]
                    line = (f"s3 {delivery.bucket}/{delivery.key} {delivery.event_name}: "
                            f"invoked {name}")  # fmt: skip
                    if delivery.error:
                        line += f", failed {ASYNC_ATTEMPTS} times (dropped): {delivery.error}"
                    say(line)
                if once:
                    break
                stop.wait(POLL_SECONDS)
        return done

    return run
