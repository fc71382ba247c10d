from __future__ import annotations

import hashlib
import multiprocessing
from pathlib import Path

import pytest

from tooling.errors import InputError, NotFound
from tooling.localrt.queue import MAX_MESSAGE_BYTES, LocalQueues


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def queues(tmp_path: Path, clock: Clock) -> LocalQueues:
    queues = LocalQueues(tmp_path / "local.db", clock=clock)
    queues.create_queue("jobs-dlq")
    queues.create_queue(
        "jobs", visibility_timeout=60, dead_letter_queue="jobs-dlq", max_receive_count=3
    )
    return queues


def test_send_receive_delete_in_receive_message_shape(queues: LocalQueues) -> None:
    message_id = queues.send_message("jobs", '{"a": 1}')
    (message,) = queues.receive_messages("jobs", 10)
    assert message["MessageId"] == message_id
    assert message["Body"] == '{"a": 1}'
    assert message["MD5OfBody"] == hashlib.md5(b'{"a": 1}').hexdigest()
    assert message["Attributes"]["ApproximateReceiveCount"] == "1"
    assert message["Attributes"]["SentTimestamp"] == "1700000000000"
    assert queues.delete_message("jobs", message["ReceiptHandle"]) is True
    assert queues.depth("jobs").visible == queues.depth("jobs").in_flight == 0


def test_a_delayed_message_shows_after_its_delay(queues: LocalQueues, clock: Clock) -> None:
    message_id = queues.send_message("jobs", "{}", delay_seconds=10)
    assert queues.receive_messages("jobs", 10) == []
    clock.now += 10
    assert [m["MessageId"] for m in queues.receive_messages("jobs", 10)] == [message_id]


def test_a_received_message_hides_for_the_visibility_timeout(queues, clock) -> None:
    queues.send_message("jobs", "{}")
    (first,) = queues.receive_messages("jobs", 10)
    assert queues.receive_messages("jobs", 10) == []
    assert (queues.depth("jobs").visible, queues.depth("jobs").in_flight) == (0, 1)
    clock.now += 59.9
    assert queues.receive_messages("jobs", 10) == []
    clock.now += 0.1
    (second,) = queues.receive_messages("jobs", 10)
    assert second["MessageId"] == first["MessageId"]
    assert second["ReceiptHandle"] != first["ReceiptHandle"]
    assert second["Attributes"]["ApproximateReceiveCount"] == "2"
    # Only the latest receipt handle deletes.
    assert queues.delete_message("jobs", first["ReceiptHandle"]) is False
    assert queues.delete_message("jobs", second["ReceiptHandle"]) is True


def test_messages_come_in_send_order_up_to_the_batch_size(queues: LocalQueues) -> None:
    ids = queues.send_messages("jobs", [f'{{"n": {n}}}' for n in range(12)])
    batch = queues.receive_messages("jobs", 10)
    assert [m["MessageId"] for m in batch] == ids[:10]
    assert [m["MessageId"] for m in queues.receive_messages("jobs", 10)] == ids[10:]
    with pytest.raises(ValueError):
        queues.receive_messages("jobs", 11)


def test_after_max_receive_count_the_next_receive_dead_letters_it_with_the_reason(
    queues, clock
) -> None:
    message_id = queues.send_message("jobs", "not json")
    for attempt in range(3):
        (message,) = queues.receive_messages("jobs", 1)
        assert message["Attributes"]["ApproximateReceiveCount"] == str(attempt + 1)
        reason = f"bad body #{attempt}"
        queues.record_failure("jobs", message["ReceiptHandle"], reason, visible_in=0)
    assert queues.receive_messages("jobs", 1) == []  # moved instead of delivered a 4th time
    (letter,) = queues.dead_letters("jobs-dlq")
    assert (letter.message_id, letter.body) == (message_id, "not json")
    assert letter.reason == "bad body #2"
    assert (letter.receive_count, letter.source_queue) == (3, "jobs")
    assert letter.dead_lettered_at == clock.now


def test_without_a_recorded_reason_the_receive_count_is_the_reason(queues, clock) -> None:
    queues.send_message("jobs", "{}")
    for _ in range(3):
        queues.receive_messages("jobs", 1)
        clock.now += 60
    queues.receive_messages("jobs", 1)
    (letter,) = queues.dead_letters("jobs-dlq")
    assert letter.reason == "received 3 times without being deleted"


def test_change_visibility_and_stale_handles(queues: LocalQueues) -> None:
    queues.send_message("jobs", "{}")
    (message,) = queues.receive_messages("jobs", 1)
    assert queues.change_message_visibility("jobs", message["ReceiptHandle"], 0) is True
    (again,) = queues.receive_messages("jobs", 1)
    assert queues.change_message_visibility("jobs", message["ReceiptHandle"], 0) is False
    assert queues.record_failure("jobs", again["ReceiptHandle"], "why") is True
    assert queues.depth("jobs").in_flight == 1  # a reason alone does not change visibility


def test_redrive_moves_dead_letters_back_with_a_fresh_receive_count(queues, clock) -> None:
    message_id = queues.send_message("jobs", "x")
    for _ in range(4):
        for message in queues.receive_messages("jobs", 1):
            queues.record_failure("jobs", message["ReceiptHandle"], "bad", visible_in=0)
    assert len(queues.dead_letters("jobs-dlq")) == 1
    assert queues.redrive("jobs-dlq") == 1
    assert queues.dead_letters("jobs-dlq") == []
    (message,) = queues.receive_messages("jobs", 1)
    assert message["MessageId"] == message_id
    assert message["Attributes"]["ApproximateReceiveCount"] == "1"


def test_queues_and_in_flight_state_survive_a_restart(tmp_path: Path, queues, clock) -> None:
    queues.send_messages("jobs", ["{}", "[]"])
    (taken,) = queues.receive_messages("jobs", 1)
    queues.close()
    reopened = LocalQueues(tmp_path / "local.db", clock=clock)
    assert reopened.get_queue("jobs") is not None
    assert (reopened.depth("jobs").visible, reopened.depth("jobs").in_flight) == (1, 1)
    clock.now += 60
    ids = {m["MessageId"] for m in reopened.receive_messages("jobs", 10)}
    assert taken["MessageId"] in ids and len(ids) == 2


def test_create_queue_is_idempotent_and_updates_attributes(queues: LocalQueues) -> None:
    assert queues.create_queue("jobs", visibility_timeout=5) is False
    info = queues.get_queue("jobs")
    assert info is not None
    assert (info.visibility_timeout, info.dead_letter_queue, info.max_receive_count) == (
        5,
        None,
        None,
    )
    assert [q.name for q in queues.list_queues()] == ["jobs", "jobs-dlq"]
    queues.delete_queue("jobs")
    assert queues.get_queue("jobs") is None


def test_errors(queues: LocalQueues) -> None:
    with pytest.raises(NotFound, match="queue 'nope' does not exist"):
        queues.send_message("nope", "{}")
    with pytest.raises(InputError, match="SQS accepts at most"):
        queues.send_message("jobs", "x" * (MAX_MESSAGE_BYTES + 1))
    with pytest.raises(NotFound, match="dead-letter queue 'missing'"):
        queues.create_queue("other", dead_letter_queue="missing", max_receive_count=1)


def _drain(path: str, out: multiprocessing.Queue[list[str]]) -> None:
    queues = LocalQueues(Path(path))
    taken: list[str] = []
    while batch := queues.receive_messages("jobs", 10):
        taken.extend(m["MessageId"] for m in batch)
    out.put(taken)


def test_concurrent_processes_never_receive_the_same_hidden_message(tmp_path: Path) -> None:
    queues = LocalQueues(tmp_path / "local.db")
    queues.create_queue("jobs", visibility_timeout=3600)
    sent = queues.send_messages("jobs", [f'{{"n": {n}}}' for n in range(400)])
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    workers = [
        context.Process(target=_drain, args=(str(tmp_path / "local.db"), out)) for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    taken = [out.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join()
    every = [message_id for part in taken for message_id in part]
    assert sorted(every) == sorted(sent)  # each message exactly once


def test_delete_messages_in_one_batch_skips_stale_handles(queues: LocalQueues, clock) -> None:
    queues.send_messages("jobs", ["{}", "[]", "1"])
    batch = queues.receive_messages("jobs", 10)
    clock.now += 60
    (again, *_) = queues.receive_messages("jobs", 1)  # the first message's handle is now stale
    handles = [m["ReceiptHandle"] for m in batch]
    assert queues.delete_messages("jobs", handles) == 2
    assert queues.delete_messages("jobs", [again["ReceiptHandle"]]) == 1
    assert queues.depth("jobs") == queues.depth("jobs").__class__(visible=0, in_flight=0)


def test_rename_moves_messages_dead_letters_and_references(
    queues: LocalQueues, clock: Clock
) -> None:
    doomed = queues.send_message("jobs", "{}")
    for _ in range(4):  # three receives without a delete; the fourth moves it aside
        queues.receive_messages("jobs", 10)
        clock.now += 61
    waiting = queues.send_message("jobs", "{}")
    assert queues.rename_queue("jobs-dlq", "q/jobs-dlq")
    assert queues.rename_queue("jobs", "q/jobs")
    assert [q.name for q in queues.list_queues()] == ["q/jobs", "q/jobs-dlq"]
    jobs = queues.get_queue("q/jobs")
    assert jobs is not None and jobs.dead_letter_queue == "q/jobs-dlq"
    (letter,) = queues.dead_letters("q/jobs-dlq")
    assert (letter.message_id, letter.source_queue) == (doomed, "q/jobs")
    assert [m["MessageId"] for m in queues.receive_messages("q/jobs", 10)] == [waiting]
    assert queues.redrive("q/jobs-dlq") == 1  # back to its source queue, by its new name
    assert queues.depth("q/jobs").visible == 1


def test_rename_leaves_an_existing_target_alone(queues: LocalQueues) -> None:
    queues.send_message("jobs", "{}")
    assert not queues.rename_queue("jobs", "jobs-dlq")
    assert not queues.rename_queue("missing", "elsewhere")
    assert queues.depth("jobs").visible == 1
