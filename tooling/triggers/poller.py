"""`tool worker`: poll a trigger's queue and start executions through `start_from_messages`.

A message is deleted only after its execution is known to exist, so a worker killed at any point
loses nothing: the message comes back after its visibility timeout and its second start is a
no-op (the execution name is the message id).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tooling.triggers.queues import TriggerQueue
from tooling.triggers.start_from_messages import (
    BatchResult,
    MessageResult,
    Outcome,
    QueueMessage,
    Starter,
    start_from_messages,
)

MAX_RECEIVE = 10  # SQS ReceiveMessage MaxNumberOfMessages
IDLE_WAIT_SECONDS = 1.0  # between empty polls of a local queue (AWS long-polls instead)
HOUSEKEEPING_SECONDS = 5.0  # how often the target's housekeeping runs while polling
ONCE_RECHECK_SECONDS = 1.0  # upper bound of a wait for a busy thread (woken earlier)
LONG_POLL_SECONDS = 20  # SQS ReceiveMessage WaitTimeSeconds maximum


@dataclass
class WorkerStats:
    received: int = 0
    outcomes: dict[Outcome, int] = field(default_factory=lambda: dict.fromkeys(Outcome, 0))
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, result: BatchResult, received: int) -> None:
        with self._lock:
            self.received += received
            for item in result.results:
                self.outcomes[item.outcome] += 1


def process_batch(
    queue: TriggerQueue,
    starter: Starter,
    state_machine_arn: str,
    messages: list[dict[str, object]],
    *,
    sleep: Callable[[float], None] = time.sleep,
    on_result: Callable[[MessageResult], None] | None = None,
) -> BatchResult:
    """Start executions for received messages, then delete the ones that are done and record
    why the others failed (rejected ones are made visible again at once, so they reach the
    dead-letter queue after maxReceiveCount receives without waiting out the timeout)."""
    handles = [str(m["ReceiptHandle"]) for m in messages]
    result = start_from_messages(
        starter,
        state_machine_arn,
        [QueueMessage.from_sqs_message(m) for m in messages],
        sleep=sleep,
        on_result=on_result,
    )
    done = []
    for handle, item in zip(handles, result.results, strict=True):
        if item.outcome.ok:
            done.append(handle)
        else:
            retry_now = item.outcome is Outcome.REJECTED
            queue.fail(handle, item.reason or item.outcome.value, retry_now=retry_now)
    if done:
        queue.delete(done)
    return result


def run_workers(
    queue: TriggerQueue,
    make_starter: Callable[[], Starter],
    state_machine_arn: str,
    *,
    concurrency: int = 1,
    once: bool = False,
    stop: threading.Event | None = None,
    on_result: Callable[[MessageResult], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    housekeeping: Callable[[], object] | None = None,
    monotonic: Callable[[], float] = time.monotonic,
) -> WorkerStats:
    """Poll with `concurrency` threads until `stop` is set or, with `once`, until the queue has
    nothing visible and no thread is busy. `housekeeping` (the local target: resume executions
    whose worker died) runs first and then every HOUSEKEEPING_SECONDS, in one thread at a time."""
    stop = stop or threading.Event()
    housekeeping_lock = threading.Lock()
    housekeeping_due = [monotonic()]

    def keep_house() -> None:
        if housekeeping is None or not housekeeping_lock.acquire(blocking=False):
            return
        try:
            if monotonic() >= housekeeping_due[0]:
                housekeeping_due[0] = monotonic() + HOUSEKEEPING_SECONDS
                housekeeping()
        finally:
            housekeeping_lock.release()

    stats = WorkerStats()
    changed = threading.Condition()
    busy = 0  # threads between a receive and the end of its batch
    finished = 0  # batches finished so far: each may have made messages visible again
    batch = min(queue.trigger.batch_size, MAX_RECEIVE)
    wait = 0 if once else LONG_POLL_SECONDS

    errors: list[BaseException] = []

    def guarded() -> None:
        try:
            loop()
        except BaseException as exc:  # stop the others too, and raise it in the caller
            errors.append(exc)
            stop.set()

    def loop() -> None:
        nonlocal busy, finished
        starter = make_starter()
        while not stop.is_set():
            keep_house()
            with changed:
                busy += 1
                seen = finished
            messages: list[dict[str, object]] = []
            try:
                messages = queue.receive(batch, wait_seconds=wait)
                if messages:
                    result = process_batch(
                        queue, starter, state_machine_arn, messages, sleep=sleep,
                        on_result=on_result,
                    )  # fmt: skip
                    stats.add(result, len(messages))
            finally:
                with changed:
                    busy -= 1
                    if messages:
                        finished += 1
                    changed.notify_all()
            if messages:
                continue
            if not once:
                stop.wait(IDLE_WAIT_SECONDS)
                continue
            with changed:
                # Empty, and no batch ended since we looked: done unless one is still running,
                # in which case wait for it (it may release a rejected message).
                if finished == seen:
                    if busy == 0:
                        return
                    changed.wait(ONCE_RECHECK_SECONDS)

    threads = [threading.Thread(target=guarded, daemon=True) for _ in range(max(1, concurrency))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return stats
