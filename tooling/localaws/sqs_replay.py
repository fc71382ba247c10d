"""SQS messages deleted before a restart of the local AWS services stay deleted after it.

A journaled DeleteMessage names a receipt handle, which a replay cannot rebuild (the replayed
message was never received): replayed as it was, it would fail and the message would come back,
to be processed again. So every message moto adds to a queue is numbered, per queue, in the
order it arrives (SendMessage, or a delivery from SNS or EventBridge inside the services); a
replay runs the same changes in the same order, so it numbers the same messages the same way.
The journal keeps, for each DeleteMessage(Batch), the number and body digest of each message its
receipt handles named, looked up before the delete runs; a replay deletes the messages with
those numbers and digests from moto's queue instead of replaying the request. A message moved
to a dead-letter queue by a receive (receives are not journaled) is back in its source queue
after a restart: its deletion from the dead-letter queue matches no message there (the digest
check), and nothing else is deleted in its place.

Works with SQS's JSON protocol and its query protocol.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlparse

DELETES = frozenset({"DeleteMessage", "DeleteMessageBatch"})
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/sqs/")
_BATCH_HANDLE = re.compile(r"DeleteMessageBatchRequestEntry\.(\d+)\.ReceiptHandle")
_installed = False


def install() -> None:
    """Number the messages moto adds to each queue (once per process)."""
    global _installed
    if _installed:
        return
    _installed = True
    from moto.sqs.models import Queue

    original = Queue.add_message

    def add_numbered(self: Any, message: Any) -> None:
        # Numbered before moto may drop it as a FIFO duplicate: a replay, whose timestamps are
        # all new, may drop more, and the numbers of the others still match.
        self.tool_added = getattr(self, "tool_added", 0) + 1
        message.tool_number = self.tool_added
        original(self, message)

    setattr(Queue, "add_message", add_numbered)  # noqa: B010 - a method replaced on the class


def request_fields(content_type: str, body: bytes) -> dict[str, Any]:
    """The request's parameters: the JSON body, or the query protocol's form."""
    if "json" in content_type:
        try:
            parsed = json.loads(body or b"{}")
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    form = parse_qs(body.decode("utf-8", errors="replace"))
    fields: dict[str, Any] = {key: values[0] for key, values in form.items()}
    batch = sorted(
        (int(match.group(1)), value)
        for key, value in fields.items()
        if (match := _BATCH_HANDLE.fullmatch(key))
    )
    if batch:
        fields["Entries"] = [{"ReceiptHandle": handle} for _, handle in batch]
    return fields


def _receipt_handles(fields: dict[str, Any]) -> list[str]:
    if "ReceiptHandle" in fields:
        return [str(fields["ReceiptHandle"])]
    entries = fields.get("Entries")
    if not isinstance(entries, list):
        return []
    return [
        str(entry["ReceiptHandle"])
        for entry in entries
        if isinstance(entry, dict) and "ReceiptHandle" in entry
    ]


def _queue(fields: dict[str, Any], authorization: str) -> Any:
    """moto's queue the request's QueueUrl names (account and name from its path, the region
    from the request's credential scope), or None."""
    from moto.sqs.models import sqs_backends

    parts = [part for part in urlparse(str(fields.get("QueueUrl", ""))).path.split("/") if part]
    scope = _SCOPE.search(authorization)
    if len(parts) < 2 or scope is None or parts[-2] not in sqs_backends:
        return None
    return sqs_backends[parts[-2]][scope.group(1)].queues.get(parts[-1])


def deleted_messages(fields: dict[str, Any], authorization: str) -> list[list[Any]]:
    """[number, body digest] of each message the request's receipt handles name, taken before
    the request deletes them."""
    queue = _queue(fields, authorization)
    if queue is None:
        return []
    found = []
    for handle in _receipt_handles(fields):
        for message in list(queue._messages):
            if message.had_receipt_handle(handle) and hasattr(message, "tool_number"):
                found.append([message.tool_number, message.body_md5])
                break
    return found


def delete_again(fields: dict[str, Any], authorization: str, deleted: list[list[Any]]) -> int:
    """In a replay: delete the messages with these numbers and digests; how many matched."""
    queue = _queue(fields, authorization)
    wanted = {(int(number), str(digest)) for number, digest in deleted}
    if queue is None or not wanted:
        return 0
    kept, matched = [], 0
    for message in queue._messages:
        if (getattr(message, "tool_number", None), message.body_md5) in wanted:
            queue.pending_messages.discard(message)
            matched += 1
        else:
            kept.append(message)
    queue._messages = kept
    return matched
