"""One trigger's queue and dead-letter queue, the same way on every target.

The CLI's send/worker/queue commands and the bench talk to a `TriggerQueue`; the local runtime's
is below, the AWS one sits over `tooling/aws`'s SQS calls (tooling.triggers.aws_queue);
`tooling.session.open_trigger_queue` picks the target's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from tooling.config.triggers import SqsTrigger
from tooling.errors import NotFound
from tooling.localrt.queue import DeadLetter, LocalQueues, QueueDepth
from tooling.statedir import state_path


class TriggerQueue(Protocol):
    trigger: SqsTrigger

    def send(self, bodies: list[str]) -> list[str]:
        """Message ids, in order."""
        ...

    def receive(self, max_messages: int, wait_seconds: int = 0) -> list[dict[str, Any]]:
        """sqs.receive_message(...)["Messages"] items, with Attributes.ApproximateReceiveCount."""
        ...

    def delete(self, receipt_handles: list[str]) -> None:
        """Delete these deliveries (their messages are done)."""
        ...

    def fail(self, receipt_handle: str, reason: str, *, retry_now: bool) -> None:
        """This delivery failed: keep the reason where the target can, and with `retry_now`
        make the message visible again at once instead of after the visibility timeout."""
        ...

    def depth(self) -> QueueDepth: ...

    def dead_letters(self) -> list[DeadLetter]: ...

    def redrive(self) -> int:
        """Move dead letters back to the queue; how many moved."""
        ...


@dataclass(frozen=True)
class LocalQueueSpec:
    """One queue of a trigger as the local runtime keeps it. Queues are regional, so the local
    runtime stores each one under its ARN (`key`); `name` is how the user knows it."""

    name: str
    key: str
    visibility_timeout: float
    dead_letter_queue: str | None = None  # the dead-letter queue's key
    max_receive_count: int | None = None

    @property
    def attributes(self) -> dict[str, Any]:
        return {
            "visibility_timeout": self.visibility_timeout,
            "dead_letter_queue": self.dead_letter_queue,
            "max_receive_count": self.max_receive_count,
        }


def local_queue_specs(trigger: SqsTrigger) -> tuple[LocalQueueSpec, LocalQueueSpec]:
    """The trigger's dead-letter queue and queue, in the order they must be created."""
    # An `arn:` queue's dead-letter queue is not ours to know; locally it gets one like ours.
    dead_name = trigger.dead_letter_queue_name or f"{trigger.queue_name}-dlq"
    dead_key = trigger.dead_letter_queue_arn or f"{trigger.queue_arn}-dlq"
    dead_letter = LocalQueueSpec(dead_name, dead_key, trigger.visibility_timeout)
    queue = LocalQueueSpec(
        trigger.queue_name,
        trigger.queue_arn,
        trigger.visibility_timeout,
        dead_letter_queue=dead_key,
        max_receive_count=trigger.max_receive_count,
    )
    return dead_letter, queue


def adopt_unkeyed_queues(queues: LocalQueues, specs: tuple[LocalQueueSpec, ...]) -> None:
    """State files written before queues were keyed by ARN hold them under their bare names
    (one region's worth); they move to their keys, messages and dead letters included."""
    for spec in specs:
        queues.rename_queue(spec.name, spec.key)


@dataclass
class LocalTriggerQueue:
    """A trigger's queues in the local runtime's SQLite file, where `tool deploy` made them."""

    trigger: SqsTrigger
    queues: LocalQueues

    def __post_init__(self) -> None:
        self.dead_letter_spec, self.spec = local_queue_specs(self.trigger)
        adopt_unkeyed_queues(self.queues, (self.dead_letter_spec, self.spec))

    def create(self) -> LocalTriggerQueue:
        """Create both queues (or bring their attributes up to date), as `tool deploy` does."""
        for spec in (self.dead_letter_spec, self.spec):
            self.queues.create_queue(spec.key, **spec.attributes)
        return self

    def require_deployed(self, region: str) -> LocalTriggerQueue:
        if self.queues.get_queue(self.spec.key) is None:
            raise NotFound(
                f"queue {self.spec.name!r} is not deployed in {region} on the local target",
                hint=f"run `tool deploy --region {region}` first",
            )
        return self

    def send(self, bodies: list[str]) -> list[str]:
        return self.queues.send_messages(self.spec.key, bodies)

    def receive(self, max_messages: int, wait_seconds: int = 0) -> list[dict[str, Any]]:
        return self.queues.receive_messages(self.spec.key, max_messages)

    def delete(self, receipt_handles: list[str]) -> None:
        self.queues.delete_messages(self.spec.key, receipt_handles)

    def fail(self, receipt_handle: str, reason: str, *, retry_now: bool) -> None:
        self.queues.record_failure(
            self.spec.key, receipt_handle, reason, visible_in=0 if retry_now else None
        )

    def depth(self) -> QueueDepth:
        return self.queues.depth(self.spec.key)

    def dead_letters(self) -> list[DeadLetter]:
        return self.queues.dead_letters(self.dead_letter_spec.key)

    def redrive(self) -> int:
        return self.queues.redrive(self.dead_letter_spec.key, self.spec.key)


def local_queues(service_dir: Path) -> LocalQueues:
    """The queues in the local runtime's own SQLite file, next to its executions."""
    return LocalQueues(state_path(service_dir, "local.db"))
