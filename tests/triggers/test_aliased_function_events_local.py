"""A function with provisionedConcurrency on the local target: its events name its alias (as
on AWS), and the local runtime, which has no versions, runs the function's current code for
them (issue 15)."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path

import pytest

from tooling.backends.local import LocalBackend
from tooling.cli import main
from tooling.localrt.event_store import EventStore
from tooling.localrt.eventbridge import ScheduleFirer, function_runner
from tooling.names import LOCAL_ACCOUNT_ID
from tooling.triggers.starters import BackendStarter

from .recording_service import recording_service

REGION = "us-east-1"
RULE = "clock-dev-TickEventsRuleSchedule1"


@pytest.mark.slow
def test_a_tick_for_the_alias_invokes_the_function_locally(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = recording_service(tmp_path / "svc", "      - schedule: rate(5 minutes)\n",
                               service="clock", function="tick", handler="tick")  # fmt: skip
    yml = folder / "serverless.yml"
    yml.write_text(yml.read_text().replace("    events:\n", "    provisionedConcurrency: 1\n"
                                           "    events:\n"))  # fmt: skip
    monkeypatch.chdir(folder)
    assert main(["deploy"]) == 0, capsys.readouterr().err
    backend = LocalBackend(folder, REGION)
    events = EventStore(backend.store.path)
    rule = events.get("rule", REGION, RULE)
    assert rule is not None
    assert rule.document["Targets"][0]["Arn"].endswith(":function:clock-dev-tick:provisioned")
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
    (fired,) = firer.fire_due()
    assert fired.execution_arn.endswith(":function:clock-dev-tick:provisioned")
    ticks = folder / "seen.jsonl"
    deadline = time.monotonic() + 60
    while not ticks.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    (event,) = [json.loads(line) for line in ticks.read_text().splitlines()]
    assert event["detail-type"] == "Scheduled Event"
