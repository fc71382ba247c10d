from __future__ import annotations

from pathlib import Path
from typing import Any

from tooling.config.triggers import SqsTrigger
from tooling.localrt.queue import LocalQueues
from tooling.triggers.poller import process_batch, run_workers
from tooling.triggers.queues import LocalTriggerQueue
from tooling.triggers.start_from_messages import Outcome

from .fakes import MACHINE, FakeStepFunctions


class Clock:
    now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def trigger(**overrides: int) -> SqsTrigger:
    settings = {"batch_size": 10, "visibility_timeout": 60, "max_receive_count": 3, **overrides}
    return SqsTrigger(
        queue_name="jobs",
        queue_arn="arn:aws:sqs:us-east-1:123456789012:jobs",
        managed=True,
        dead_letter_queue_name="jobs-dlq",
        dead_letter_queue_arn="arn:aws:sqs:us-east-1:123456789012:jobs-dlq",
        **settings,
    )


def make_queue(tmp_path: Path, clock: Clock | None = None, **overrides: int) -> LocalTriggerQueue:
    queues = LocalQueues(tmp_path / "local.db", clock=clock or Clock())
    return LocalTriggerQueue(trigger(**overrides), queues).create()


def test_once_starts_valid_messages_and_dead_letters_the_bad_one(tmp_path: Path) -> None:
    queue = make_queue(tmp_path)
    good = queue.send(['{"n": 1}', '{"n": 2}'])
    (bad,) = queue.send(["{nope"])
    fake = FakeStepFunctions()
    stats = run_workers(queue, lambda: fake, MACHINE, once=True, sleep=lambda _: None)
    assert sorted(arn.rsplit(":", 1)[1] for arn in fake.executions) == sorted(good)
    assert stats.outcomes[Outcome.STARTED] == 2
    assert stats.outcomes[Outcome.REJECTED] == 3  # maxReceiveCount deliveries, then the DLQ
    (letter,) = queue.dead_letters()
    assert letter.message_id == bad
    assert "not a JSON document" in letter.reason
    assert (queue.depth().visible, queue.depth().in_flight) == (0, 0)


def test_a_failed_start_stays_hidden_until_the_visibility_timeout(tmp_path: Path) -> None:
    clock = Clock()
    queue = make_queue(tmp_path, clock)
    (message_id,) = queue.send(["{}"])
    fake = FakeStepFunctions(failures=["StateMachineDoesNotExist"])
    run_workers(queue, lambda: fake, MACHINE, once=True, sleep=lambda _: None)
    assert fake.executions == {}
    assert queue.depth().in_flight == 1
    clock.now += 60
    run_workers(queue, lambda: fake, MACHINE, once=True, sleep=lambda _: None)
    assert [arn.rsplit(":", 1)[1] for arn in fake.executions] == [message_id]
    assert queue.depth().in_flight == 0


def test_a_redelivered_message_whose_run_exists_is_deleted_without_a_second_run(
    tmp_path: Path,
) -> None:
    clock = Clock()
    queue = make_queue(tmp_path, clock)
    queue.send(["{}"])
    fake = FakeStepFunctions()
    # A worker starts the execution, then dies before deleting the message.
    first = queue.receive(10)
    fake.start_execution(MACHINE, first[0]["MessageId"], "{}")
    fake.finish_all()
    clock.now += 60
    result = process_batch(queue, fake, MACHINE, queue.receive(10), sleep=lambda _: None)
    assert result.results[0].outcome is Outcome.ALREADY_STARTED
    assert fake.start_calls == 2 and len(fake.executions) == 1
    assert (queue.depth().visible, queue.depth().in_flight) == (0, 0)


def test_several_threads_start_each_message_once(tmp_path: Path) -> None:
    queue = make_queue(tmp_path)
    ids = queue.send([f'{{"n": {n}}}' for n in range(100)])
    fake = FakeStepFunctions()
    stats = run_workers(
        queue, lambda: fake, MACHINE, concurrency=4, once=True, sleep=lambda _: None
    )
    assert sorted(arn.rsplit(":", 1)[1] for arn in fake.executions) == sorted(ids)
    assert stats.received == 100


def test_a_nested_body_is_rejected_alone_and_the_batch_goes_on(tmp_path: Path) -> None:
    queue = make_queue(tmp_path)
    (nested,) = queue.send(["[" * 10_000 + "]" * 10_000])
    (good,) = queue.send(['{"n": 1}'])
    fake = FakeStepFunctions()
    stats = run_workers(queue, lambda: fake, MACHINE, once=True, sleep=lambda _: None)
    assert [arn.rsplit(":", 1)[1] for arn in fake.executions] == [good]
    assert stats.outcomes[Outcome.STARTED] == 1
    (letter,) = queue.dead_letters()
    assert letter.message_id == nested
    assert "nests too deeply" in letter.reason


def test_an_unexpected_error_fails_its_message_alone(tmp_path: Path) -> None:
    queue = make_queue(tmp_path)
    first, second = queue.send(['{"n": 1}', '{"n": 2}'])
    fake = FakeStepFunctions()
    real_start = fake.start_execution

    def start(state_machine_arn: str, name: str, input: str) -> dict[str, Any]:
        if name == first:
            raise KeyError("a bug")
        return real_start(state_machine_arn, name, input)

    fake.start_execution = start  # type: ignore[method-assign]  # one start that fails
    stats = run_workers(queue, lambda: fake, MACHINE, once=True, sleep=lambda _: None)
    assert [arn.rsplit(":", 1)[1] for arn in fake.executions] == [second]
    assert stats.outcomes[Outcome.FAILED] == 1
    assert queue.depth().in_flight == 1  # delivered again after its visibility timeout


def test_housekeeping_runs_first_and_then_every_few_seconds(tmp_path: Path) -> None:
    queue = make_queue(tmp_path)
    queue.send(['{"n": 1}', '{"n": 2}', '{"n": 3}'])
    now = [0.0]
    calls: list[float] = []

    def housekeeping() -> None:
        calls.append(now[0])

    def receive(max_messages: int, wait_seconds: int = 0) -> list[dict[str, object]]:
        now[0] += 3.0  # each receive takes three seconds
        return LocalTriggerQueue.receive(queue, 1, wait_seconds)

    queue.receive = receive  # type: ignore[method-assign]  # a slow receive
    run_workers(
        queue,
        FakeStepFunctions,
        MACHINE,
        once=True,
        sleep=lambda _: None,
        housekeeping=housekeeping,
        monotonic=lambda: now[0],
    )
    assert calls == [0.0, 6.0]
