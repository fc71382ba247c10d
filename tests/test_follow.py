from datetime import UTC, datetime
from typing import Any

from tooling.follow import Polling, execution_result, follow_execution

T0 = datetime(2024, 1, 1, tzinfo=UTC)


class GrowingBackend:
    """An execution whose history grows by one event per poll, with a log line after event 2."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.written = 0

    def describe_execution(self, arn: str) -> dict[str, Any]:
        status = "SUCCEEDED" if self.written >= self.total else "RUNNING"
        return {
            "executionArn": arn,
            "name": "n",
            "status": status,
            "startDate": T0,
            "input": "{}",
            "output": "{}" if status == "SUCCEEDED" else None,
        }

    def history_since(self, arn: str, after_id: int) -> list[dict[str, Any]]:
        events = [
            {"id": i, "previousEventId": i - 1, "type": f"E{i}", "timestamp": T0}
            for i in range(after_id + 1, self.written + 1)
        ]
        if self.written < self.total:
            self.written += 1
        return events

    def execution_logs(
        self, arn: str, after: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        # The log line is written with event 2, and read in the same poll as events 1 and 2.
        if self.written >= 2 and after is None:
            return [{"message": "hello", "afterEventId": 1, "timestamp": T0}], "1"
        return [], after


def test_follow_reports_each_event_once_and_logs_after_their_event():
    backend = GrowingBackend(total=4)
    seen: list[str] = []
    sleeps: list[float] = []
    followed = follow_execution(
        backend,  # type: ignore[arg-type]  # a fake with the calls follow makes
        "arn",
        on_event=lambda e: seen.append(e["type"]),
        on_log=lambda entry: seen.append("log:" + entry["message"]),
        sleep=sleeps.append,
    )
    assert seen == ["E1", "log:hello", "E2", "E3", "E4"]
    assert [e["id"] for e in followed.events] == [1, 2, 3, 4]
    assert followed.description["status"] == "SUCCEEDED"
    assert len(sleeps) >= 3


def test_execution_result_parses_input_and_output_and_dates():
    result = execution_result(
        {
            "executionArn": "a",
            "name": "n",
            "status": "SUCCEEDED",
            "startDate": T0,
            "stopDate": T0,
            "input": '{"k": 1}',
            "output": "[1]",
        },
        [{"id": 1, "type": "ExecutionStarted", "timestamp": T0}],
    )
    assert result["input"] == {"k": 1}
    assert result["output"] == [1]
    assert result["startDate"] == "2024-01-01T00:00:00+00:00"
    assert result["events"][0]["timestamp"] == "2024-01-01T00:00:00+00:00"
    assert result["error"] is None


class StuckBackend:
    """An execution that writes its first event and then stays RUNNING."""

    def __init__(self) -> None:
        self.polls = 0

    def describe_execution(self, arn: str) -> dict[str, Any]:
        self.polls += 1
        return {"executionArn": arn, "name": "n", "status": "RUNNING", "startDate": T0}

    def history_since(self, arn: str, after_id: int) -> list[dict[str, Any]]:
        if after_id == 0:
            return [{"id": 1, "previousEventId": 0, "type": "ExecutionStarted", "timestamp": T0}]
        return []

    def execution_logs(
        self, arn: str, after: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        return [], after


def test_polls_back_off_while_nothing_happens_and_stop_at_the_timeout():
    now = [0.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    backend = StuckBackend()
    followed = follow_execution(
        backend,  # type: ignore[arg-type]  # a fake with the calls follow makes
        "arn",
        sleep=sleep,
        polling=Polling(first=0.5, factor=2.0, maximum=1.0),
        timeout=2.0,
        clock=lambda: now[0],
    )
    # New event -> first interval; then doubling, capped at 1 s; the last wait ends at the
    # deadline, where one more poll is made before giving up.
    assert sleeps == [0.5, 1.0, 0.5]
    assert backend.polls == 4
    assert followed.timed_out
    assert followed.description["status"] == "RUNNING"
    assert [event["id"] for event in followed.events] == [1]


def test_a_zero_timeout_polls_once_and_never_sleeps():
    sleeps: list[float] = []
    followed = follow_execution(
        StuckBackend(),  # type: ignore[arg-type]  # a fake with the calls follow makes
        "arn",
        sleep=sleeps.append,
        timeout=0,
        clock=lambda: 100.0,
    )
    assert sleeps == []
    assert followed.timed_out


def test_polling_interval_resets_when_events_arrive():
    polling = Polling(first=0.5, factor=1.5, maximum=5.0)
    assert polling.next(4.0, progressed=True) == 0.5
    assert polling.next(4.0, progressed=False) == 5.0
    assert polling.next(1.0, progressed=False) == 1.5
