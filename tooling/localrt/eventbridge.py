"""The local target's EventBridge, run by `tool worker` (tooling.triggers.local_events): fire due
schedules, deliver execution status-change notifications.

Schedules. Each poll, for every enabled schedule (an EventBridge rule with a schedule
expression, or a Scheduler schedule) the latest tick due at or before now is fired once: one
execution, named after the rule and the tick (`<rule>-<YYYYMMDDTHHMMSSZ>`), with the tick's
event as input (or the target's Input/InputPath/InputTransformer); a function target (a
function's `schedule` event) is invoked asynchronously with that input, at least once as
EventBridge invokes Lambda. Several workers, or a worker
killed between starting the execution and recording the tick, start it once: the name is
unique per state machine and the input is the same, so the second start is refused as
ExecutionAlreadyExists (or answered idempotently) and the tick is recorded then. Ticks that came
due while no worker ran are not caught up: only the latest one is fired, if it is not older than
the target's retry window (MaximumEventAgeInSeconds, 24 hours unless the retryPolicy says
otherwise); the earlier ones are counted and said. EventBridge itself never runs a rule for a
time it was not running (a disabled rule does not catch up either).

Notifications. Each poll, every execution of a notified state machine that reached a status the
rule matches (since the rule was deployed) is delivered once per target: to a local queue (the
toolkit's SQS queues), a local function (run asynchronously, as EventBridge invokes Lambda), a
local state machine (an execution named after the event, so it starts once), or a topic, stream,
delivery stream or queue of the folder's local AWS services (tooling.localaws). A target that
does not exist locally is recorded as not delivered, and said once. Delivery is at least once to
queues, functions, topics and streams (a worker killed between delivering and recording delivers
again), as EventBridge's own.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from tooling.config.events import EXECUTION_STATUSES
from tooling.config.schedule_expressions import (
    CronExpression,
    ScheduleExpression,
    latest_fire_at_or_before,
    parse_schedule_expression,
)
from tooling.errors import ToolError
from tooling.localrt.destinations import (
    async_tries,
    destination_for,
    invocation_record,
    send_record,
)
from tooling.localrt.event_input import (
    scheduled_event,
    select,
    status_change_event,
    target_input,
)
from tooling.localrt.event_store import EventRecord, EventStore
from tooling.localrt.functions import spec_from_record
from tooling.localrt.lambda_runner import LocalLambdaRunner
from tooling.localrt.queue import LocalQueues
from tooling.localrt.store import ExecutionRecord, Store

if TYPE_CHECKING:
    from tooling.aws.client import AwsClient

# What the local target delivers status-change notifications to (deploy warns about the others):
# its own queues, functions and state machines, and the local AWS services' topics and streams.
LOCALLY_DELIVERED = frozenset({"sqs", "lambda", "stepFunctions", "sns", "kinesis", "firehose"})
DEFAULT_MAXIMUM_EVENT_AGE = timedelta(hours=24)  # EventBridge's default retry window
POLL_SECONDS = 1.0
ALREADY_EXISTS = "ExecutionAlreadyExists"
MAX_EXECUTION_NAME = 80
# How far back a notification scan looks past the last one: runs that ended while it read.
SCAN_OVERLAP = timedelta(seconds=60)
TERMINAL = frozenset(EXECUTION_STATUSES) - {"RUNNING"}


class Starter(Protocol):
    """StartExecution and DescribeExecution on the local target (tooling.triggers.starters'
    BackendStarter): errors carry AWS's code in `code`."""

    def start_execution(
        self, state_machine_arn: str, name: str, input: str
    ) -> Mapping[str, Any]: ...

    def describe_execution(self, execution_arn: str) -> Mapping[str, Any]: ...


Clock = Callable[[], datetime]
Say = Callable[[str], None]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def tick_execution_name(schedule_name: str, tick: datetime) -> str:
    stamp = tick.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    prefix = schedule_name[: MAX_EXECUTION_NAME - len(stamp) - 1]
    return f"{prefix}-{stamp}"


@dataclass(frozen=True)
class FiredTick:
    schedule: str  # the rule's or schedule's name
    tick: datetime
    execution_arn: str
    started: bool  # False: another worker (or an earlier run of this one) had started it
    skipped: int = 0  # earlier ticks missed while no worker ran


@dataclass(frozen=True)
class _Due:
    """One enabled schedule, read from a rule or a Scheduler schedule."""

    name: str
    arn: str
    expression: ScheduleExpression
    timezone: str | None
    created: datetime
    targets: tuple[dict[str, Any], ...]
    scheduler: bool


def _schedules(events: EventStore, region: str) -> list[_Due]:
    found: list[_Due] = []
    for record in events.all("rule", region):
        doc = record.document
        if not doc.get("ScheduleExpression") or doc.get("State") != "ENABLED":
            continue
        found.append(
            _Due(doc["Name"], doc["Arn"], parse_schedule_expression(doc["ScheduleExpression"]),
                 None, record.created, tuple(doc.get("Targets") or ()), False)
        )  # fmt: skip
    for record in events.all("schedule", region):
        doc = record.document
        if doc.get("State") != "ENABLED":
            continue
        found.append(
            _Due(doc["Name"], doc["Arn"], parse_schedule_expression(doc["ScheduleExpression"]),
                 doc.get("ScheduleExpressionTimezone"), record.created, (doc["Target"],), True)
        )  # fmt: skip
    return found


def _in_zone(expression: ScheduleExpression, timezone: str | None) -> Callable[..., Any]:
    """latest_fire_at_or_before, with a cron expression read in `timezone` (Scheduler's
    ScheduleExpressionTimezone): wall-clock times there, compared in UTC."""
    if timezone is None or timezone == "UTC" or not isinstance(expression, CronExpression):
        return latest_fire_at_or_before
    zone = ZoneInfo(timezone)

    def in_zone(
        expr: ScheduleExpression, now: datetime, *, created: datetime, since: datetime
    ) -> tuple[datetime | None, int]:
        def wall(moment: datetime) -> datetime:
            return moment.astimezone(zone).replace(tzinfo=UTC)

        tick, skipped = latest_fire_at_or_before(
            expr, wall(now), created=wall(created), since=wall(since)
        )
        if tick is None:
            return None, 0
        return tick.replace(tzinfo=zone).astimezone(UTC), skipped

    return in_zone


class ScheduleFirer:
    def __init__(
        self,
        events: EventStore,
        starter: Starter,
        *,
        region: str,
        account: str,
        clock: Clock = _utc_now,
        say: Say | None = None,
        run_function: Callable[[str, str], None] | None = None,
    ) -> None:
        self.events = events
        self.starter = starter
        self.region = region
        self.account = account
        self.clock = clock
        self.say = say or (lambda _: None)
        self.run_function = run_function  # a function target, invoked asynchronously

    def fire_due(self) -> list[FiredTick]:
        now = self.clock()
        fired: list[FiredTick] = []
        for due in _schedules(self.events, self.region):
            since = max(self.events.last_tick(due.arn) or due.created, due.created)
            latest = _in_zone(due.expression, due.timezone)
            tick, skipped = latest(due.expression, now, created=due.created, since=since)
            if tick is None or self.events.tick_fired(due.arn, tick):
                continue
            age = _maximum_age(due.targets)
            if now - tick > age:
                self.say(
                    f"schedule {due.name}: the tick of {tick:%Y-%m-%d %H:%M:%S}Z is older than "
                    f"{age} (no worker ran then); not fired"
                )
                self.events.record_tick(due.arn, tick, "", now)
                continue
            fired.append(self._fire(due, tick, skipped, now))
        return fired

    def _fire(self, due: _Due, tick: datetime, skipped: int, now: datetime) -> FiredTick:
        if skipped:
            self.say(
                f"schedule {due.name}: {skipped} earlier tick(s) came due while no worker ran; "
                "not fired (EventBridge does not catch up)"
            )
        event = scheduled_event(due.arn, tick, account=self.account, region=self.region)
        name = tick_execution_name(due.name, tick)
        started = True
        execution_arn = ""
        for target in due.targets:
            arn = str(target["Arn"])
            text = "{}" if due.scheduler and target.get("Input") is None else None
            payload = text or target_input(target, event, rule_name=due.name, rule_arn=due.arn)
            if ":lambda:" in arn and ":function:" in arn and self.run_function is not None:
                # At least once, as EventBridge invokes Lambda: a worker killed between the
                # invocation and the tick's record invokes it again.
                self.run_function(arn, payload)
                execution_arn = execution_arn or arn
                continue
            if ":states:" not in arn or ":stateMachine:" not in arn:
                self.say(f"schedule {due.name}: target {arn} is not run locally; skipped")
                continue
            execution_arn = f"{arn.replace(':stateMachine:', ':execution:')}:{name}"
            started = start_once(self.starter, arn, name, payload, execution_arn) and started
        self.events.record_tick(due.arn, tick, execution_arn, now)
        return FiredTick(due.name, tick, execution_arn, started, skipped)


def start_once(
    starter: Starter, machine_arn: str, name: str, payload: str, execution_arn: str
) -> bool:
    """Start the execution named `name`; True when this call started it, False when it had been
    started already (by another worker, or before a crash)."""
    try:
        starter.start_execution(machine_arn, name, payload)
    except Exception as exc:  # the Starter's errors carry AWS's code (tooling.triggers.starters)
        if getattr(exc, "code", None) != ALREADY_EXISTS:
            raise
        starter.describe_execution(execution_arn)  # it exists: started before
        return False
    return True


def _maximum_age(targets: tuple[dict[str, Any], ...]) -> timedelta:
    ages: list[int] = [
        age
        for t in targets
        if (age := (t.get("RetryPolicy") or {}).get("MaximumEventAgeInSeconds"))
    ]
    return timedelta(seconds=min(ages)) if ages else DEFAULT_MAXIMUM_EVENT_AGE


@dataclass(frozen=True)
class Delivery:
    rule: str
    execution_arn: str
    status: str
    target: str
    outcome: str  # "delivered", or why not


@dataclass
class _Notified:
    record: EventRecord
    statuses: frozenset[str]
    machines: tuple[str, ...]


def _notification_rules(events: EventStore, region: str) -> list[_Notified]:
    found = []
    for record in events.all("rule", region):
        doc = record.document
        if not doc.get("EventPattern") or doc.get("State") != "ENABLED":
            continue
        if doc.get("EventBusName", "default") != "default":
            continue  # status changes go to the default bus only
        pattern = json.loads(doc["EventPattern"])
        if pattern.get("source") != ["aws.states"]:
            continue
        detail = pattern.get("detail") or {}
        found.append(
            _Notified(
                record,
                frozenset(detail.get("status") or EXECUTION_STATUSES),
                tuple(detail.get("stateMachineArn") or ()),
            )
        )
    return found


@dataclass
class NotificationDeliverer:
    events: EventStore
    store: Store
    starter: Starter
    queues: LocalQueues
    region: str
    account: str
    clock: Clock = _utc_now
    say: Say = field(default=lambda _: None)
    run_function: Callable[[str, str], None] | None = None  # (function ARN, payload)
    # The local AWS services' client, None when they hold nothing (so none is started for it).
    local_aws: Callable[[], AwsClient | None] | None = None
    _said: set[str] = field(default_factory=set)

    def deliver_pending(self) -> list[Delivery]:
        deliveries: list[Delivery] = []
        for rule in _notification_rules(self.events, self.region):
            scan_started = self.clock()
            doc = rule.record.document
            created = rule.record.created
            watermark = self.events.watermark(doc["Arn"])
            floor = max(created, (watermark - SCAN_OVERLAP) if watermark else created)
            for machine in rule.machines:
                for execution in self.store.list_executions(machine):
                    for status in self._statuses(execution, rule.statuses, created, floor):
                        deliveries.extend(self._deliver(doc, execution, status))
            self.events.set_watermark(doc["Arn"], scan_started)
        return deliveries

    @staticmethod
    def _statuses(
        execution: ExecutionRecord, wanted: frozenset[str], created: datetime, floor: datetime
    ) -> list[str]:
        statuses = []
        if (
            "RUNNING" in wanted
            and execution.start_date >= created
            and (execution.start_date >= floor or execution.status == "RUNNING")
        ):
            statuses.append("RUNNING")
        stop = execution.stop_date
        ended = execution.status in TERMINAL and stop is not None and stop >= floor
        if ended and execution.status in wanted:
            statuses.append(execution.status)
        return statuses

    def _deliver(
        self, doc: dict[str, Any], execution: ExecutionRecord, status: str
    ) -> list[Delivery]:
        rule_arn = doc["Arn"]
        event = status_change_event(
            execution_arn=execution.arn,
            state_machine_arn=execution.state_machine_arn,
            name=execution.name,
            status=status,
            start_date=execution.start_date,
            stop_date=execution.stop_date,
            input=execution.input,
            output=execution.output,
            error=execution.error,
            cause=execution.cause,
            account=self.account,
            region=self.region,
        )
        done = []
        for target in doc.get("Targets") or []:
            target_id = str(target["Id"])
            if self.events.delivered(rule_arn, execution.arn, status, target_id):
                continue
            payload = target_input(target, event, rule_name=doc["Name"], rule_arn=rule_arn)
            outcome = self._send(target, payload, event["id"], target_id)
            self.events.record_delivery(
                rule_arn, execution.arn, status, target_id, outcome, self.clock()
            )
            done.append(Delivery(doc["Name"], execution.arn, status, str(target["Arn"]), outcome))
        return done

    def _send(self, target: dict[str, Any], payload: str, event_id: str, target_id: str) -> str:
        arn = str(target["Arn"])
        service = arn.split(":")[2]
        if service == "sqs" and self.queues.get_queue(arn) is not None:
            self.queues.send_message(arn, payload)
            return "delivered"
        if service in ("sqs", "sns", "kinesis", "firehose"):
            return self._send_local_aws(service, target, payload, event_id)
        if service == "lambda":
            if self.store.get_function(arn) is None or self.run_function is None:
                return self._not_delivered(arn, "no local function has that ARN")
            self.run_function(arn, payload)
            return "delivered"
        if service == "states":
            if self.store.get_state_machine(arn) is None:
                return self._not_delivered(arn, "no local state machine has that ARN")
            name = str(uuid.uuid5(uuid.UUID(event_id), target_id))
            execution_arn = f"{arn.replace(':stateMachine:', ':execution:')}:{name}"
            start_once(self.starter, arn, name, payload, execution_arn)
            return "delivered"
        return self._not_delivered(arn, f"{service} targets are not delivered locally")

    def _send_local_aws(
        self, service: str, target: dict[str, Any], payload: str, event_id: str
    ) -> str:
        arn = str(target["Arn"])
        client = self.local_aws() if self.local_aws is not None else None
        if client is None:
            return self._not_delivered(arn, "the local AWS services hold nothing (tool local)")
        name = arn.split(":", 5)[5].rsplit("/", 1)[-1]
        what = f"notify {arn}"
        try:
            if service == "sns":
                client.call("sns", "publish", what=what, TopicArn=arn, Message=payload)
            elif service == "kinesis":
                path = (target.get("KinesisParameters") or {}).get("PartitionKeyPath")
                found = select(json.loads(payload), path) if path else None
                key = found if isinstance(found, str) and found else event_id
                client.call(
                    "kinesis", "put_record", what=what, StreamName=name, Data=payload.encode(),
                    PartitionKey=key,
                )  # fmt: skip
            elif service == "firehose":
                client.call(
                    "firehose", "put_record", what=what, DeliveryStreamName=name,
                    Record={"Data": payload.encode()},
                )  # fmt: skip
            else:
                url = client.call(
                    "sqs", "get_queue_url", what=what, QueueName=name,
                    QueueOwnerAWSAccountId=arn.split(":")[4],
                )["QueueUrl"]  # fmt: skip
                group = (target.get("SqsParameters") or {}).get("MessageGroupId")
                extra = {"MessageGroupId": group} if group else {}
                client.call(
                    "sqs", "send_message", what=what, QueueUrl=url, MessageBody=payload, **extra
                )  # fmt: skip
        except ToolError as exc:
            return self._not_delivered(arn, f"the local AWS services refused it: {exc.message}")
        return "delivered"

    def _not_delivered(self, arn: str, why: str) -> str:
        if arn not in self._said:
            self._said.add(arn)
            self.say(f"notification to {arn} not delivered: {why}")
        return f"not delivered: {why}"


def function_runner(
    store: Store,
    region: str,
    say: Say,
    local_aws: Callable[[], AwsClient | None] = lambda: None,
) -> Callable[[str, str], None]:
    """Runs a local function on its own thread, as EventBridge invokes Lambda asynchronously;
    what it prints is kept as its logs (`tool logs`). A function error is retried as the
    function's maximumRetryAttempts says (twice by default; at once, without Lambda's waits),
    then the invocation record goes to its onSuccess or onFailure destination, if any."""
    runner = LocalLambdaRunner()

    def run(arn: str, payload: str) -> None:
        record = store.get_function(arn)
        if record is None:
            return
        spec = spec_from_record(record, region)

        def invoke() -> None:
            config = spec.event_invoke_config
            tries, attempts = async_tries(config), 0
            while True:
                try:
                    invocation = runner.invoke(spec, payload)
                except Exception as exc:  # nobody waits for it: say what happened
                    say(f"notification to function {spec.name} failed to run: {exc}")
                    return
                attempts += 1
                now = datetime.now(UTC)
                for line in invocation.log.splitlines():
                    store.append_log(
                        function_name=spec.name, request_id=invocation.request_id,
                        timestamp=now, message=line,
                    )  # fmt: skip
                if invocation.function_error is None or attempts >= tries:
                    break
            target = destination_for(config, succeeded=invocation.function_error is None)
            if target is None:
                return
            result = invocation_record(
                f"{spec.arn}:{spec.version}", payload, invocation.function_error,
                invocation.payload, invocation.request_id, attempts,
            )  # fmt: skip
            if target.split(":")[2:3] == ["lambda"]:
                run(target, json.dumps(result))
                return
            client = local_aws()
            if client is None:
                say(f"{spec.name}: destination {target} is not in the local AWS services: "
                    "the invocation record is dropped")  # fmt: skip
                return
            send_record(client, target, result)

        threading.Thread(target=invoke, name=f"notify-{spec.name}", daemon=False).start()

    return run


@dataclass
class EventLoopStats:
    ticks: list[FiredTick] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)


def run_local_events(
    firer: ScheduleFirer | None,
    deliverer: NotificationDeliverer | None,
    *,
    stop: threading.Event,
    once: bool,
    on_tick: Callable[[FiredTick], None] | None = None,
    on_delivery: Callable[[Delivery], None] | None = None,
    poll_seconds: float = POLL_SECONDS,
) -> EventLoopStats:
    """Poll until `stop` is set; with `once`, one round (what is due or pending now)."""
    stats = EventLoopStats()
    while not stop.is_set():
        for tick in firer.fire_due() if firer else []:
            stats.ticks.append(tick)
            if on_tick:
                on_tick(tick)
        for delivery in deliverer.deliver_pending() if deliverer else []:
            stats.deliveries.append(delivery)
            if on_delivery:
                on_delivery(delivery)
        if once:
            break
        stop.wait(poll_seconds)
    return stats


def local_aws_client(tool_dir: Path, region: str) -> Callable[[], AwsClient | None]:
    """A client of the folder's local AWS services, made (and the services started) only when
    they hold something: a target there cannot exist otherwise."""
    from tooling.localaws.manager import LocalAwsServices

    services = LocalAwsServices(tool_dir)
    made: list[AwsClient] = []

    def client() -> AwsClient | None:
        if not services.has_data():
            return None
        if not made:
            from tooling.aws.client import local_endpoint_client

            url, credentials = services.endpoint(), services.credentials().environment()
            made.append(local_endpoint_client(url, region, credentials))
        return made[0]

    return client
