"""ItemBatcher: how a Distributed Map groups its items into the inputs of its child executions.

Each child receives `{"BatchInput": ..., "Items": [...]}` (BatchInput only when the state sets
one), as the AWS ItemBatcher guide shows. Items are taken in order; a batch closes when it holds
MaxItemsPerBatch items or when one more item would make the child's input larger than
MaxInputBytesPerBatch. No batch is ever larger than 256 KiB, a child execution's input limit.
"""

from __future__ import annotations

from typing import Any

from tooling.engine import jsontext
from tooling.engine.dataflow import MAX_PAYLOAD_BYTES
from tooling.engine.errors import StateRuntimeError


def form_batches(
    items: list[Any],
    max_items: int | None,
    max_bytes: int | None,
    batch_input: Any,
    has_batch_input: bool,
) -> list[dict[str, Any]]:
    """The child inputs, in item order. An item too large to fit in a batch on its own fails
    with States.Runtime (error and cause not confirmed against AWS)."""
    limit = MAX_PAYLOAD_BYTES if max_bytes is None else min(max_bytes, MAX_PAYLOAD_BYTES)
    envelope: dict[str, Any] = {"BatchInput": batch_input} if has_batch_input else {}
    # Size of the child input with no item: {"BatchInput":...,"Items":[]}
    empty_size = _size({**envelope, "Items": []})
    batches: list[list[Any]] = []
    current: list[Any] = []
    size = empty_size
    for index, item in enumerate(items):
        item_size = _size(item)
        added = item_size + (1 if current else 0)  # the comma before every item but the first
        full = max_items is not None and len(current) >= max_items
        if current and (full or size + added > limit):
            batches.append(current)
            current, size, added = [], empty_size, item_size
        if size + added > limit:
            raise StateRuntimeError(
                f"The item at index {index} ({item_size} bytes) does not fit in a batch of at "
                f"most {limit} bytes (MaxInputBytesPerBatch)."
            )
        current.append(item)
        size += added
    if current:
        batches.append(current)
    return [{**envelope, "Items": batch} for batch in batches]


def _size(value: Any) -> int:
    """Bytes of the value as compact JSON in UTF-8 (how the engine measures every payload)."""
    return len(jsontext.dumps(value).encode())
