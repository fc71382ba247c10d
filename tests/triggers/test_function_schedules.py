"""Functions' `schedule` events: read as Serverless reads them, deployed as a rule (or a
Scheduler schedule) with the permission that lets it invoke the function, and fired locally by
`tool worker`'s ScheduleFirer (an injected clock): the function invoked with the tick's event or
the input given."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path

import pytest

from tooling.backends.local import LocalBackend
from tooling.cli import main
from tooling.config.service import load_service
from tooling.localrt.event_store import EventStore
from tooling.localrt.eventbridge import ScheduleFirer, function_runner
from tooling.names import LOCAL_ACCOUNT_ID
from tooling.triggers.starters import BackendStarter

from .recording_service import recording_service

REGION = "us-east-1"
RULE = "clock-dev-TickEventsRuleSchedule1"


def service(folder: Path, events: str) -> Path:
    return recording_service(folder, events, service="clock", function="tick", handler="tick")


def test_schedules_are_read_and_numbered_per_function(tmp_path: Path) -> None:
    folder = service(
        tmp_path,
        "      - schedule: rate(5 minutes)\n"
        "      - schedule:\n          rate: ['cron(0 12 * * ? *)', rate(1 hour)]\n"
        "          input: {job: nightly}\n          role: arn:aws:iam::123456789012:role/x\n",
    )
    svc = load_service(folder, env={})
    schedules = svc.functions["tick"].events.schedules
    assert [(s.number, s.expression.text, s.input) for s in schedules] == [
        (1, "rate(5 minutes)", None),
        (2, "cron(0 12 * * ? *)", '{"job":"nightly"}'),
        (3, "rate(1 hour)", '{"job":"nightly"}'),
    ]
    assert any("schedule key `role` is unknown to Serverless" in w for w in svc.warnings)


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ("      - schedule: every day\n", "schedule 'every day'"),
        (
            "      - schedule: {rate: [rate(1 hour), rate(2 hours)], name: one}\n",
            "a name cannot be given to more than one rate expression",
        ),
        ("      - schedule: {rate: rate(1 hour), timezone: Europe/Paris}\n", "scheduler"),
    ],
)
def test_what_serverless_refuses_is_refused_at_its_line(
    tmp_path: Path, event: str, message: str
) -> None:
    (refused,) = load_service(service(tmp_path, event), env={}).problems
    assert refused.line == 11 and message in refused.message
    assert "function 'tick'" in refused.message


@pytest.mark.slow
def test_a_due_tick_invokes_the_function_locally(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = service(
        tmp_path / "svc",
        "      - schedule: rate(5 minutes)\n"
        "      - schedule: {rate: rate(1 hour), input: {job: hourly}, enabled: false}\n",
    )
    monkeypatch.chdir(folder)
    assert main(["deploy"]) == 0, capsys.readouterr().err
    backend = LocalBackend(folder, REGION)
    events = EventStore(backend.store.path)
    rule = events.get("rule", REGION, RULE)
    assert rule is not None
    assert rule.document["Targets"][0]["Arn"].endswith(":function:clock-dev-tick")
    said: list[str] = []
    now = [rule.created.replace(microsecond=0) + timedelta(minutes=5, seconds=1)]
    firer = ScheduleFirer(
        events,
        BackendStarter(backend),
        region=REGION,
        account=LOCAL_ACCOUNT_ID,
        clock=lambda: now[0],
        say=said.append,
        run_function=function_runner(backend.store, REGION, said.append),
    )
    (fired,) = firer.fire_due()  # the hourly one is disabled
    assert fired.schedule == RULE and fired.execution_arn.endswith(":function:clock-dev-tick")
    ticks = folder / "seen.jsonl"
    deadline = time.monotonic() + 60
    while not ticks.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    (event,) = [json.loads(line) for line in ticks.read_text().splitlines()]
    assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"
    assert event["resources"] == [f"arn:aws:events:{REGION}:{LOCAL_ACCOUNT_ID}:rule/{RULE}"]
    assert firer.fire_due() == []  # that tick is done
