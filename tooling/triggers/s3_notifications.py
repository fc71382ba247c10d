"""`tool worker` on the local target: functions' `s3` events, as S3 and Lambda deliver them.

The local AWS services append each S3 event a bucket's notification configuration sends to a
function to an outbox (tooling.localaws.s3_events); here they are delivered in order, each
invoked with the event S3 sends (Records[].s3.bucket/object, eventName such as
ObjectCreated:Put, eventSource aws:s3). The cursor moves past an event only after its invocation
ended: a worker killed at any point delivers it again (at least once, as S3 and Lambda's
asynchronous invocation are). A function error is tried again as Lambda retries an asynchronous
invocation (the function's maximumRetryAttempts, else twice; without Lambda's waits); then the
event is dropped with a line saying so. The invocation record goes to the function's onSuccess or
onFailure destination when it has one.
One worker delivers at a time (a lock in the services' folder).
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

from tooling.config.service import ServiceConfig
from tooling.localaws.s3_events import DELIVERY_LOCK_FILE, Cursor, Outbox
from tooling.localrt.destinations import async_tries, destination_for, invocation_record
from tooling.names import function_name_from_identifier
from tooling.triggers.function_queues import Answer

POLL_SECONDS = 0.5

Invoke = Callable[[str, str], Answer]
# The function's asynchronous invocation settings (EventInvokeConfig), by its ARN
ConfigOf = Callable[[str], Mapping[str, Any] | None]
Send = Callable[[str, dict[str, Any]], None]  # (destination ARN, invocation record)


@dataclass(frozen=True)
class S3Delivery:
    function_arn: str
    event_name: str
    bucket: str
    key: str
    error: str | None  # the function's last error when every attempt failed
    attempts: int = 1


def deliver_pending(
    data_dir: Path,
    invoke: Invoke,
    config_of: ConfigOf = lambda arn: None,
    send: Send | None = None,
) -> list[S3Delivery]:
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
            delivered.append(_deliver(entry, invoke, config_of, send))
            cursor.write(after)
        return delivered
    finally:
        os.close(lock_fd)


def _deliver(
    entry: dict[str, Any], invoke: Invoke, config_of: ConfigOf, send: Send | None
) -> S3Delivery:
    arn, event = str(entry["functionArn"]), entry["event"]
    record = (event.get("Records") or [{}])[0]
    s3 = record.get("s3") or {}
    config = config_of(arn)
    tries, attempts = async_tries(config), 0
    while True:
        answer = invoke(arn, json.dumps(event))
        attempts += 1
        error = None if answer.function_error is None else _error_text(answer.payload)
        if error is None or attempts >= tries:
            break
    target = destination_for(config, succeeded=error is None)
    if target is not None:
        result = invocation_record(
            f"{arn}:$LATEST", json.dumps(event), answer.function_error, answer.payload,
            str(uuid.uuid4()), attempts,
        )  # fmt: skip
        if target.split(":")[2:3] == ["lambda"]:
            invoke(target, json.dumps(result))
        elif send is not None:
            send(target, result)
    return S3Delivery(
        function_arn=arn,
        event_name=str(record.get("eventName", "")),
        bucket=str((s3.get("bucket") or {}).get("name", "")),
        key=unquote_plus(str((s3.get("object") or {}).get("key", ""))),
        error=error,
        attempts=attempts,
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

        def config_of(arn: str) -> Mapping[str, Any] | None:
            record = backend.store.get_function(arn)
            return record.config.get("EventInvokeConfig") if record is not None else None

        from tooling.aws.client import local_endpoint_client
        from tooling.localrt.destinations import send_record

        aws = local_endpoint_client(
            services.endpoint(), service.region, services.credentials().environment()
        )
        with _LocalInvoker(backend, services, service.region) as invoke:
            while not stop.is_set():
                pending = deliver_pending(
                    services.data_dir, invoke, config_of, lambda t, r: send_record(aws, t, r)
                )
                for delivery in pending:
                    done.append(delivery)
                    name = function_name_from_identifier(delivery.function_arn)
                    line = (f"s3 {delivery.bucket}/{delivery.key} {delivery.event_name}: "
                            f"invoked {name}")  # fmt: skip
                    if delivery.error:
                        line += f", failed {delivery.attempts} times (dropped): {delivery.error}"
                    say(line)
                if once:
                    break
                stop.wait(POLL_SECONDS)
        return done

    return run
