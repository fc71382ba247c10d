"""Functions' `eventBridge` and `cloudwatchEvent` events: read as Serverless v3 reads them
(what it refuses is a problem at its line), deployed locally as rules (a bus the service names
as a record too) with the permission that lets each invoke the function, the rules with a
pattern said at deploy as not delivered locally, and an eventBridge `schedule` fired by `tool
worker`'s ScheduleFirer (an injected clock)."""

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


def service(folder: Path, events: str) -> Path:
    return recording_service(folder, events, service="shop", function="react", handler="react")


def test_events_are_read_with_their_bus_and_place(tmp_path: Path) -> None:
    folder = service(
        tmp_path,
        "      - schedule: rate(1 hour)\n"
        "      - eventBridge:\n          eventBus: orders\n"
        "          pattern: {source: [shop]}\n          retryPolicy: {maximumRetryAttempts: 3}\n"
        "      - eventBridge:\n"
        "          eventBus: arn:aws:events:us-east-1:123456789012:event-bus/theirs\n"
        "          pattern: {source: [x]}\n          deadLetterQueueArn: "
        "arn:aws:sqs:us-east-1:123456789012:dlq\n"
        "      - cloudwatchEvent:\n          event: {source: [aws.ec2]}\n"
        "          input: '{\"a\": 1}'\n"
        "          unknownKey: 1\n",
    )
    svc = load_service(folder, env={})
    assert svc.problems == ()
    bus = svc.functions["react"].events.bus
    assert [(e.kind, e.number, e.event_bus, e.creates_bus) for e in bus] == [
        ("eventBridge", 2, "orders", True),
        ("eventBridge", 3, "theirs", False),
        ("cloudwatchEvent", 1, "default", False),
    ]
    assert bus[0].retry_policy == {"MaximumRetryAttempts": 3}
    assert bus[1].dead_letter_arn == "arn:aws:sqs:us-east-1:123456789012:dlq"
    assert bus[2].input == '{"a": 1}'
    assert any("cloudwatchEvent key `unknownKey` is unknown" in w for w in svc.warnings)
    assert not any("not supported by the toolkit" in w for w in svc.warnings)


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ("      - eventBridge: {enabled: true}\n", "needs a `pattern` or a `schedule`"),
        ("      - eventBridge: {schedule: every day}\n", "rate(...) or cron(...)"),
        (
            "      - eventBridge: {pattern: {source: [a]}, input: {a: 1}, inputPath: $.x}\n",
            "one of input, inputPath and inputTransformer",
        ),
        ("      - eventBridge: {pattern: {sauce: [a]}}\n", "pattern key `sauce`"),
        (
            "      - eventBridge: {schedule: rate(1 hour), eventBus: mine}\n",
            "default event bus only",
        ),
        (
            "      - eventBridge: {pattern: {source: [a]}, retryPolicy: {maximumEventAge: 5}}\n",
            "retryPolicy.maximumEventAge must be a number from 60 to 86400",
        ),
        ("      - cloudwatchEvent: {description: x}\n", "needs an `event` pattern"),
        ("      - eventBridge: {pattern: {source: [a]}, name: 'a b'}\n", "not a valid"),
    ],
)
def test_what_serverless_refuses_is_refused_at_its_line(
    tmp_path: Path, event: str, message: str
) -> None:
    (refused,) = load_service(service(tmp_path, event), env={}).problems
    assert refused.line == 11 and message in refused.message
    assert "function 'react'" in refused.message


@pytest.mark.slow
def test_local_deploy_records_the_rules_and_says_what_is_not_delivered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = service(
        tmp_path / "svc",
        "      - eventBridge:\n          eventBus: orders\n          pattern: {source: [shop]}\n"
        "      - eventBridge:\n          schedule: rate(5 minutes)\n          input: {job: tidy}\n",
    )
    monkeypatch.chdir(folder)
    assert main(["deploy"]) == 0
    err = capsys.readouterr().err
    said = [line for line in err.splitlines() if line.startswith("warning:") and "rule" in line]
    (line,) = said  # the schedule is fired locally: nothing to say about it
    assert "serverless.yml:12:" in line and "orders/shop-dev-react-rule-1" in line
    assert "not invoked" in line

    backend = LocalBackend(folder, REGION)
    events = EventStore(backend.store.path)
    on_bus = events.get("rule", REGION, "orders/shop-dev-react-rule-1")
    assert on_bus is not None and on_bus.document["EventBusName"] == "orders"
    assert events.get("event bus", REGION, "orders") is not None
    rule = events.get("rule", REGION, "shop-dev-react-rule-2")
    assert rule is not None
    now = [rule.created.replace(microsecond=0) + timedelta(minutes=5, seconds=1)]
    notes: list[str] = []
    firer = ScheduleFirer(
        events,
        BackendStarter(backend),
        region=REGION,
        account=LOCAL_ACCOUNT_ID,
        clock=lambda: now[0],
        say=notes.append,
        run_function=function_runner(backend.store, REGION, notes.append),
    )
    (fired,) = firer.fire_due()
    assert fired.schedule == "shop-dev-react-rule-2"
    seen = folder / "seen.jsonl"
    deadline = time.monotonic() + 60
    while not seen.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [json.loads(line) for line in seen.read_text().splitlines()] == [{"job": "tidy"}]

    assert main(["remove"]) == 0
    assert events.get("rule", REGION, "orders/shop-dev-react-rule-1") is None
    assert events.get("event bus", REGION, "orders") is None


@pytest.mark.slow
def test_a_state_machines_pattern_rule_is_a_local_record_said_not_delivered(
    service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = service / "serverless.yml"
    config.write_text(
        config.read_text().replace(
            "      events:\n",
            "      events:\n        - eventBridge:\n            event: {source: [shop]}\n",
        )
    )
    assert main(["deploy"]) == 0
    said = [line for line in capsys.readouterr().err.splitlines() if "warning:" in line]
    assert any(
        "state machine 'loop': eventBridge rule hello-loop-dev-LoopEventsRuleCloudWatchEvent1"
        in line
        and "not invoked" in line
        for line in said
    ), said
    events = EventStore(LocalBackend(service, REGION).store.path)
    rule = events.get("rule", REGION, "hello-loop-dev-LoopEventsRuleCloudWatchEvent1")
    assert rule is not None
    assert rule.document["Targets"][0]["Arn"].endswith(":stateMachine:hello-loop-dev-loop")


STATUS_SERVICE = """\
service: n
provider:
  name: aws
  runtime: python3.12
functions:
  audit:
    handler: audit.main
    events:
      - eventBridge:
          pattern:
            source: [aws.states]
            detail:
              status: [SUCCEEDED]
              stateMachineArn: [arn:aws:states:us-east-1:{account}:stateMachine:n-dev-ok]
      - eventBridge:
          eventBus: elsewhere
          pattern:
            source: [aws.states]
            detail:
              stateMachineArn: [arn:aws:states:us-east-1:{account}:stateMachine:n-dev-ok]
stepFunctions:
  stateMachines:
    ok:
      definition: {{StartAt: A, States: {{A: {{Type: Pass, End: true}}}}}}
"""


@pytest.mark.slow
def test_status_changes_reach_a_function_whose_default_bus_pattern_names_the_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tooling.localrt.eventbridge import NotificationDeliverer, local_aws_client
    from tooling.localrt.queue import LocalQueues

    folder = tmp_path / "service"
    folder.mkdir()
    (folder / "serverless.yml").write_text(STATUS_SERVICE.format(account=LOCAL_ACCOUNT_ID))
    (folder / "audit.py").write_text(
        "def main(event, context):\n    print('audit', event['detail']['status'])\n"
    )
    monkeypatch.chdir(folder)
    assert main(["deploy"]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning:" in line]
    assert any("n-dev-audit-rule-1" in w and "matched on detail.status" in w for w in warnings)
    assert any("elsewhere/n-dev-audit-rule-2" in w and "not invoked" in w for w in warnings)
    backend = LocalBackend(folder, REGION)
    prefix = f"arn:aws:states:{REGION}:{LOCAL_ACCOUNT_ID}:stateMachine:"
    run = backend.start_execution(prefix + "n-dev-ok", "first", "{}")["executionArn"]
    for _ in range(400):
        if backend.describe_execution(run)["status"] != "RUNNING":
            break
        time.sleep(0.05)
    said: list[str] = []
    worker = NotificationDeliverer(
        EventStore(backend.store.path),
        backend.store,
        BackendStarter(backend),
        LocalQueues(backend.store.path),
        REGION,
        LOCAL_ACCOUNT_ID,
        say=said.append,
        run_function=function_runner(backend.store, REGION, said.append),
        local_aws=local_aws_client(folder / ".tool", REGION),
    )
    delivered = worker.deliver_pending()
    # the default bus's rule only: status changes never reach another bus
    assert [(d.status, d.outcome) for d in delivered] == [("SUCCEEDED", "delivered")]
    for _ in range(200):  # the function runs on its own thread, as Lambda's async invoke
        lines = [r.message for r in backend.store.logs(function_name="n-dev-audit", after_seq=0)]
        if lines:
            break
        time.sleep(0.05)
    assert "audit SUCCEEDED" in lines
