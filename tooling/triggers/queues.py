"""One trigger's queue and dead-letter queue, the same way on every target.

The CLI's send/worker/queue commands and the bench talk to a `TriggerQueue`; the local runtime's
is below, the AWS one sits over `tooling/aws`'s SQS calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from tooling.backends.local import state_dir
from tooling.config.service import ServiceConfig, StateMachineConfig
from tooling.config.triggers import SqsTrigger
from tooling.errors import BadInput
from tooling.localrt.queue import DeadLetter, LocalQueues, QueueDepth


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


@dataclass
class LocalTriggerQueue:
    """A trigger's queues in the local runtime's SQLite file. They are created (or their
    attributes brought up to date) on first use, so no separate deploy step is needed."""

    trigger: SqsTrigger
    queues: LocalQueues

    def __post_init__(self) -> None:
        dead_letter = self.dead_letter_queue_name
        self.queues.create_queue(dead_letter, visibility_timeout=self.trigger.visibility_timeout)
        self.queues.create_queue(
            self.trigger.queue_name,
            visibility_timeout=self.trigger.visibility_timeout,
            dead_letter_queue=dead_letter,
            max_receive_count=self.trigger.max_receive_count,
        )

    @property
    def dead_letter_queue_name(self) -> str:
        # An `arn:` queue's dead-letter queue is not ours to know; locally it gets one like ours.
        return self.trigger.dead_letter_queue_name or f"{self.trigger.queue_name}-dlq"

    def send(self, bodies: list[str]) -> list[str]:
        return self.queues.send_messages(self.trigger.queue_name, bodies)

    def receive(self, max_messages: int, wait_seconds: int = 0) -> list[dict[str, Any]]:
        return self.queues.receive_messages(self.trigger.queue_name, max_messages)

    def delete(self, receipt_handles: list[str]) -> None:
        self.queues.delete_messages(self.trigger.queue_name, receipt_handles)

    def fail(self, receipt_handle: str, reason: str, *, retry_now: bool) -> None:
        self.queues.record_failure(
            self.trigger.queue_name, receipt_handle, reason, visible_in=0 if retry_now else None
        )

    def depth(self) -> QueueDepth:
        return self.queues.depth(self.trigger.queue_name)

    def dead_letters(self) -> list[DeadLetter]:
        return self.queues.dead_letters(self.dead_letter_queue_name)

    def redrive(self) -> int:
        return self.queues.redrive(self.dead_letter_queue_name, self.trigger.queue_name)


def local_queues(service_dir: Path) -> LocalQueues:
    """The queues in the local runtime's own SQLite file, next to its executions."""
    return LocalQueues(state_dir(service_dir) / "local.db")


def open_trigger_queue(
    service: ServiceConfig, machine: StateMachineConfig, target: str
) -> TriggerQueue:
    """The state machine's (first) trigger queue on `target`; local queues are created on first
    use, AWS ones by `tool deploy --target aws`."""
    trigger = machine.sqs_triggers[0]
    if target == "local":
        return LocalTriggerQueue(trigger, local_queues(service.directory))
    if target == "aws":
        from tooling import session
        from tooling.triggers.aws_queue import AwsTriggerQueue
        from tooling.triggers.deploy_triggers import trigger_function_name

        return AwsTriggerQueue(
            trigger, session.aws_client(service), trigger_function_name(service, machine)
        )
    raise BadInput(f"unknown target {target!r}", hint="use --target local or --target aws")
