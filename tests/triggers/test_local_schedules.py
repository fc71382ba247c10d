"""Schedules on the local target, fired by `tool worker`'s ScheduleFirer with an injected clock:
one execution per tick, even with two workers racing or a worker killed after starting it;
missed ticks are not caught up; inputs as EventBridge gives them."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tooling.backends.local import LocalBackend
from tooling.cli import main
from tooling.localrt.event_store import EventStore
from tooling.localrt.eventbridge import ScheduleFirer, tick_execution_name
from tooling.localrt.store import ExecutionRecord, Store
from tooling.names import LOCAL_ACCOUNT_ID
from tooling.triggers.starters import BackendStarter

pytestmark = pytest.mark.slow  # end-to-end: `make test` runs it, `make test-fast` does not

REGION = "us-east-1"
MACHINE_ARN = f"arn:aws:states:{REGION}:{LOCAL_ACCOUNT_ID}:stateMachine:clock-dev-tick"
RULE = "clock-dev-TickStepFunctionsEventsRuleSchedule1"


def service_with(folder: Path, events: str) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "serverless.yml").write_text(
        "service: clock\nprovider:\n  name: aws\n"
        "stepFunctions:\n  stateMachines:\n    tick:\n"
        "      definition: {StartAt: A, States: {A: {Type: Pass, End: true}}}\n"
        "      events:\n" + events
    )
    return folder


@pytest.fixture
def deploy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[[str], Path]:
    def deploy(events: str) -> Path:
        folder = service_with(tmp_path / "service", events)
        monkeypatch.chdir(folder)
        assert main(["deploy"]) == 0, capsys.readouterr().err
        capsys.readouterr()
        return folder

    return deploy


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def firer(folder: Path, clock: Clock, said: list[str] | None = None) -> ScheduleFirer:
    """A worker's firer, with its own connections (as another process would have)."""
    backend = LocalBackend(folder, REGION)
    return ScheduleFirer(
        EventStore(backend.store.path),
        BackendStarter(backend),
        region=REGION,
        account=LOCAL_ACCOUNT_ID,
        clock=clock,
        say=(said.append if said is not None else None),
    )


def created(folder: Path, kind: str = "rule", name: str = RULE) -> datetime:
    record = EventStore(folder / ".tool" / "local.db").get(kind, REGION, name)
    assert record is not None
    return record.created


def executions(folder: Path) -> list[ExecutionRecord]:
    return Store(folder / ".tool" / "local.db").list_executions(MACHINE_ARN)


def test_a_due_tick_starts_one_execution_named_after_it(deploy: Callable[[str], Path]) -> None:
    folder = deploy("        - schedule: rate(5 minutes)\n")
    origin = created(folder).replace(microsecond=0)
    clock = Clock(origin + timedelta(minutes=4, seconds=59))
    worker = firer(folder, clock)
    assert worker.fire_due() == []  # not due yet

    clock.now = origin + timedelta(minutes=5, seconds=3)
    (fired,) = worker.fire_due()
    tick = origin + timedelta(minutes=5)
    assert (fired.schedule, fired.tick, fired.started, fired.skipped) == (RULE, tick, True, 0)
    name = tick_execution_name(RULE, tick)
    assert fired.execution_arn == f"{MACHINE_ARN.replace(':stateMachine:', ':execution:')}:{name}"
    (run,) = executions(folder)
    assert run.name == name
    event = json.loads(run.input)  # no input given: the scheduled event itself
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["resources"] == [f"arn:aws:events:{REGION}:{LOCAL_ACCOUNT_ID}:rule/{RULE}"]
    assert event["time"] == tick.strftime("%Y-%m-%dT%H:%M:%SZ")

    assert worker.fire_due() == []  # that tick is done
    clock.now += timedelta(minutes=5)
    (second,) = worker.fire_due()
    assert second.tick == tick + timedelta(minutes=5)
    assert len(executions(folder)) == 2


def _fire_at(worker: ScheduleFirer, barrier: threading.Barrier) -> None:
    barrier.wait()  # both look at the same tick at the same moment
    worker.fire_due()


def test_two_workers_racing_start_each_tick_once(deploy: Callable[[str], Path]) -> None:
    folder = deploy("        - schedule: rate(1 minute)\n")
    origin = created(folder).replace(microsecond=0)
    for minute in range(1, 4):
        clock = Clock(origin + timedelta(minutes=minute, seconds=1))
        workers = [firer(folder, clock), firer(folder, clock)]
        barrier = threading.Barrier(2)
        threads = [threading.Thread(target=_fire_at, args=(w, barrier)) for w in workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(executions(folder)) == minute  # one per tick, whoever got there first
    names = sorted(run.name for run in executions(folder))
    assert names == sorted(
        tick_execution_name(RULE, origin + timedelta(minutes=m)) for m in range(1, 4)
    )


def test_a_worker_killed_after_starting_a_tick_does_not_start_it_twice(
    deploy: Callable[[str], Path],
) -> None:
    folder = deploy("        - schedule: {rate: rate(5 minutes), input: {job: nightly}}\n")
    origin = created(folder).replace(microsecond=0)
    tick = origin + timedelta(minutes=5)
    # The first worker started the tick's execution, then died before recording the tick.
    backend = LocalBackend(folder, REGION)
    backend.start_execution(MACHINE_ARN, tick_execution_name(RULE, tick), '{"job":"nightly"}')

    (fired,) = firer(folder, Clock(tick + timedelta(seconds=2))).fire_due()
    assert (fired.tick, fired.started) in ((tick, False), (tick, True))  # idempotent or exists
    assert len(executions(folder)) == 1
    assert EventStore(folder / ".tool" / "local.db").tick_fired(
        f"arn:aws:events:{REGION}:{LOCAL_ACCOUNT_ID}:rule/{RULE}", tick
    )


def test_missed_ticks_are_not_caught_up_and_are_said(deploy: Callable[[str], Path]) -> None:
    folder = deploy("        - schedule: rate(5 minutes)\n")
    origin = created(folder).replace(microsecond=0)
    said: list[str] = []
    (fired,) = firer(folder, Clock(origin + timedelta(hours=1, seconds=30)), said).fire_due()
    assert fired.tick == origin + timedelta(hours=1)
    assert fired.skipped == 11
    assert said == [
        f"schedule {RULE}: 11 earlier tick(s) came due while no worker ran; not fired "
        "(EventBridge does not catch up)"
    ]
    assert len(executions(folder)) == 1


def test_a_tick_older_than_the_retry_window_is_not_fired(deploy: Callable[[str], Path]) -> None:
    folder = deploy(
        "        - schedule:\n            rate: rate(5 minutes)\n"
        "            retryPolicy: {maximumEventAgeInSeconds: 60}\n"
    )
    origin = created(folder).replace(microsecond=0)
    said: list[str] = []
    worker = firer(folder, Clock(origin + timedelta(minutes=7)), said)
    assert worker.fire_due() == []
    assert "is older than 0:01:00 (no worker ran then); not fired" in said[0]
    assert executions(folder) == []


def test_disabled_schedules_do_not_fire(deploy: Callable[[str], Path]) -> None:
    folder = deploy("        - schedule: {rate: rate(1 minute), enabled: false}\n")
    origin = created(folder)
    assert firer(folder, Clock(origin + timedelta(minutes=3))).fire_due() == []


def test_input_transformer_fills_its_template_from_the_event(
    deploy: Callable[[str], Path],
) -> None:
    folder = deploy(
        "        - schedule:\n            rate: rate(1 minute)\n"
        "            inputTransformer:\n"
        "              inputPathsMap: {time: $.time, kind: $.detail-type}\n"
        '              inputTemplate: \'{"at": <time>, "what": "kind <kind>"}\'\n'
    )
    origin = created(folder).replace(microsecond=0)
    firer(folder, Clock(origin + timedelta(minutes=1, seconds=1))).fire_due()
    (run,) = executions(folder)
    tick = origin + timedelta(minutes=1)
    assert json.loads(run.input) == {
        "at": tick.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "what": "kind Scheduled Event",
    }


def test_a_scheduler_cron_is_read_in_its_time_zone(deploy: Callable[[str], Path]) -> None:
    folder = deploy(
        "        - schedule:\n            rate: cron(30 12 * * ? *)\n"
        "            method: scheduler\n            timezone: America/New_York\n"
    )
    name = "clock-dev/clock-dev-TickStepFunctionsSchedulerSchedule1"
    origin = created(folder, "schedule", name)
    day = origin.date() + timedelta(days=2)
    new_york_noon_thirty = datetime(day.year, day.month, day.day, 12, 30)
    from zoneinfo import ZoneInfo

    expected = new_york_noon_thirty.replace(tzinfo=ZoneInfo("America/New_York")).astimezone(UTC)
    (fired,) = firer(folder, Clock(expected + timedelta(seconds=5))).fire_due()
    assert fired.tick == expected
    (run,) = executions(folder)
    assert run.input == "{}"  # a Scheduler target without Input
