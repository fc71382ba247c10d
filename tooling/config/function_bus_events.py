"""A function's `eventBridge` and `cloudwatchEvent` events, read as Serverless v3 reads them
(lib/plugins/aws/package/compile/events/event-bridge and cloud-watch-event.js, CloudFormation
mode, v3's default): an EventBridge rule with an event pattern (or, for `eventBridge`, a schedule
expression) targeting the function.

`eventBridge`: `pattern` or `schedule` (one is required), `eventBus` (a name, an ARN or an
intrinsic; a name other than `default` is a bus Serverless creates, an ARN or intrinsic names
one that exists), `input` (a mapping), `inputPath`, `inputTransformer`, `retryPolicy`
(`maximumEventAge`, `maximumRetryAttempts`), `deadLetterQueueArn`, `enabled`, `name`,
`description`. `cloudwatchEvent`: `event` (the pattern), `input`, `inputPath`,
`inputTransformer`, `description`, `name`, `enabled`, on the default bus. What Serverless refuses
is a problem at its line; a key it does not know is a warning. tooling.config.function_events
dispatches to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tooling.config.events import (
    UNRESOLVED,
    EventsReader,
    InputTransformer,
    Location,
)
from tooling.config.schedule_expressions import ScheduleExpression
from tooling.sourcemap import pointer_join

DEFAULT_BUS = "default"
EVENT_BRIDGE_KEYS = frozenset(
    {
        "eventBus", "schedule", "name", "description", "enabled", "pattern", "input", "inputPath",
        "inputTransformer", "retryPolicy", "deadLetterQueueArn",
    }
)  # fmt: skip
CLOUDWATCH_EVENT_KEYS = frozenset(
    {"event", "input", "inputPath", "inputTransformer", "description", "name", "enabled"}
)
# serverless-step-functions' keys for a state machine's eventBridge / cloudwatchEvent event.
MACHINE_EVENT_KEYS = frozenset(
    {"event", "enabled", "input", "inputPath", "inputTransformer", "description", "name",
     "eventBusName", "iamRole", "deadLetterConfig", "retryPolicy"}
)  # fmt: skip
# Serverless' eventBridge `pattern` schema: the top-level keys of an event it allows.
PATTERN_KEYS = frozenset(
    {"version", "id", "detail-type", "source", "account", "time", "region", "resources",
     "detail", "$or"}
)  # fmt: skip
# EventBridge CreateEventBus Name: 1-256 of [/\.\-_A-Za-z0-9] (partner buses hold a '/').
_BUS_NAME = re.compile(r"^[/.\-_A-Za-z0-9]{1,256}$")
_BUS_ARN = re.compile(r"^arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus/(?P<name>.+)$")
_SCHEDULE = re.compile(r"^(?:cron|rate)\(.+\)$")
SERVERLESS_RETRY_LIMITS = {  # Serverless' keys -> PutTargets RetryPolicy's, with their bounds
    "maximumEventAge": ("MaximumEventAgeInSeconds", 60, 86400),
    "maximumRetryAttempts": ("MaximumRetryAttempts", 0, 185),
}


@dataclass(frozen=True)
class BusEvent:
    """One `eventBridge` or `cloudwatchEvent` event of a function."""

    kind: str  # "eventBridge" or "cloudwatchEvent"
    number: int  # eventBridge: the event's 1-based place in `events`; cloudwatchEvent: its count
    pattern: dict[str, Any] | None = None
    schedule: ScheduleExpression | None = None
    event_bus: str = DEFAULT_BUS  # the bus's name
    creates_bus: bool = False  # a bus named (not by ARN or intrinsic): Serverless creates it
    input: str | None = None
    input_path: str | None = None
    input_transformer: InputTransformer | None = None
    retry_policy: dict[str, int] | None = None
    dead_letter_arn: str | None = None
    enabled: bool = True
    name: str | None = None
    description: str | None = None
    location: Location = (None, None, None)
    role: str | None = None  # a state machine's event: the user's role (none is generated)


@dataclass
class BusEventReader(EventsReader):
    """Reads a function's `eventBridge` and `cloudwatchEvent` events (`machine_key` is the
    function's key)."""

    cloudwatch_count: int = 0
    owner: str = "function"  # or "state machine"

    @property
    def subject(self) -> str:
        return f"{self.owner} '{self.machine_key}'"

    def event_bridge(self, value: Any, at: str) -> BusEvent | None:
        index = int(at.rsplit("/", 2)[-2]) + 1  # Serverless numbers by place in `events`
        if not self._mapping(value, at, "eventBridge", "pattern: {source: [my.app]}"):
            return None
        self._unknown(value, at, EVENT_BRIDGE_KEYS, "eventBridge")
        pattern = value.get("pattern")
        schedule_text = value.get("schedule")
        if pattern is None and schedule_text is None:
            self.problem(
                at,
                "an eventBridge event needs a `pattern` or a `schedule` (Serverless refuses it "
                "without either)",
                hint="e.g. `pattern: {source: [my.app]}` or `schedule: rate(10 minutes)`",
            )
            return None
        schedule = None
        if schedule_text is not None:
            where = pointer_join(at, "schedule")
            if not isinstance(schedule_text, str) or not _SCHEDULE.match(schedule_text):
                self.problem(where, "schedule must be a rate(...) or cron(...) expression")
                return None
            schedule = self._expression(schedule_text, where)
            if schedule is None:
                return None
        if pattern is not None and not self._pattern(pattern, pointer_join(at, "pattern"), True):
            return None
        bus, creates = DEFAULT_BUS, False
        if value.get("eventBus") is not None:
            found = self._bus(value["eventBus"], pointer_join(at, "eventBus"))
            if found is None:
                return None
            bus, creates = found
        if schedule is not None and bus != DEFAULT_BUS:
            self.problem(
                pointer_join(at, "schedule"),
                f"a schedule runs on the default event bus only (EventBridge refuses "
                f"ScheduleExpression on bus {bus!r})",
                hint="drop `eventBus`, or use `pattern` on that bus",
            )
            return None
        common = self._common(value, at, "eventBridge")
        if common is None:
            return None
        retry = None
        if value.get("retryPolicy") is not None:
            retry = self._retry_policy(
                value["retryPolicy"], pointer_join(at, "retryPolicy"), SERVERLESS_RETRY_LIMITS
            )
            if retry is None:
                return None
        dead_letter = None
        if value.get("deadLetterQueueArn") is not None:
            where = pointer_join(at, "deadLetterQueueArn")
            dead_letter = self._arn_value(value["deadLetterQueueArn"], where, "sqs",
                                          "deadLetterQueueArn")  # fmt: skip
            if dead_letter is None:
                return None
        return BusEvent(
            kind="eventBridge",
            number=index,
            pattern=pattern,
            schedule=schedule,
            event_bus=bus,
            creates_bus=creates,
            retry_policy=retry,
            dead_letter_arn=dead_letter,
            location=self.location(at),
            **common,
        )

    def cloudwatch_event(self, value: Any, at: str) -> BusEvent | None:
        if not self._mapping(value, at, "cloudwatchEvent", "event: {source: [aws.ec2]}"):
            return None
        self._unknown(value, at, CLOUDWATCH_EVENT_KEYS, "cloudwatchEvent")
        pattern = value.get("event")
        if pattern is None:
            self.problem(
                at,
                "a cloudwatchEvent event needs an `event` pattern (without one EventBridge "
                "refuses the rule)",
                hint="e.g. `event: {source: [aws.ec2]}`",
            )
            return None
        if not self._pattern(pattern, pointer_join(at, "event"), False):
            return None
        common = self._common(value, at, "cloudwatchEvent")
        if common is None:
            return None
        self.cloudwatch_count += 1
        return BusEvent(
            kind="cloudwatchEvent",
            number=self.cloudwatch_count,
            pattern=pattern,
            location=self.location(at),
            **common,
        )

    def state_machine_event(self, kind: str, value: Any, at: str, number: int) -> BusEvent | None:
        """A state machine's `eventBridge` or `cloudwatchEvent` event, in the plugin's syntax
        (lib/deploy/events/cloudWatchEvent): `event` (the pattern, required), `eventBusName`
        (a bus that exists; the plugin creates none), `iamRole`, `deadLetterConfig` (a queue
        ARN), `retryPolicy` (`maximumEventAgeInSeconds`, `maximumRetryAttempts`), `input`,
        `inputPath`, `inputTransformer`, `name`, `description`, `enabled`. `number` counts the
        machine's eventBridge and cloudwatchEvent events, as the plugin numbers them."""
        if not isinstance(value, dict):
            self.problem(at, f"a {kind} event must be a mapping (the plugin refuses it)",
                         hint="e.g. `event: {source: [my.app]}`")  # fmt: skip
            return None
        for key in value:
            if key not in MACHINE_EVENT_KEYS:
                self.warn(
                    pointer_join(at, key),
                    f"{kind} key `{key}` is not used by serverless-step-functions (ignored)",
                )
        if value.get("event") is None:
            self.problem(at, f'a {kind} event needs an "event" pattern (the plugin refuses it '
                         "without one)", hint="e.g. `event: {source: [my.app]}`")  # fmt: skip
            return None
        if not self._pattern(value["event"], pointer_join(at, "event"), False):
            return None
        common = self._common(value, at, kind)
        if common is None:
            return None
        bus = DEFAULT_BUS
        if value.get("eventBusName") is not None:
            found = self._bus(value["eventBusName"], pointer_join(at, "eventBusName"))
            if found is None:
                return None
            bus = found[0]
        role = None
        if value.get("iamRole") is not None:
            role = self._arn_value(value["iamRole"], pointer_join(at, "iamRole"), "iam", "iamRole")
            if role is None:
                return None
        dead_letter = None
        if value.get("deadLetterConfig") is not None:
            where = pointer_join(at, "deadLetterConfig")
            dead_letter = self._arn_value(value["deadLetterConfig"], where, "sqs",
                                          "deadLetterConfig")  # fmt: skip
            if dead_letter is None:
                return None
        retry = None
        if value.get("retryPolicy") is not None:
            retry = self._retry_policy(value["retryPolicy"], pointer_join(at, "retryPolicy"))
        return BusEvent(
            kind=kind,
            number=number,
            pattern=value["event"],
            event_bus=bus,
            retry_policy=retry,
            dead_letter_arn=dead_letter,
            role=role,
            location=self.location(at),
            **common,
        )

    # -- parts ----------------------------------------------------------------------------------

    def _mapping(self, value: Any, at: str, kind: str, example: str) -> bool:
        if isinstance(value, dict):
            return True
        self.problem(at, f"a {kind} event must be a mapping", hint=f"e.g. `{example}`")
        return False

    def _unknown(self, value: dict[str, Any], at: str, known: frozenset[str], kind: str) -> None:
        for key in value:
            if key not in known:
                self.warn(
                    pointer_join(at, key),
                    f"{kind} key `{key}` is unknown to Serverless (ignored)",
                )

    def _pattern(self, value: Any, at: str, strict: bool) -> bool:
        if not isinstance(value, dict) or not value:
            self.problem(at, "an event pattern must be a non-empty mapping",
                         hint="e.g. `source: [my.app]`")  # fmt: skip
            return False
        for key in value:
            if strict and key not in PATTERN_KEYS:
                self.problem(
                    pointer_join(at, key),
                    f"pattern key `{key}` is not one Serverless allows (it refuses the file)",
                    hint="use " + ", ".join(sorted(PATTERN_KEYS)),
                )
                return False
        return True

    def _bus(self, value: Any, at: str) -> tuple[str, bool] | None:
        """The bus's name, and whether Serverless creates it (a plain name that is not
        `default`)."""
        given_as_intrinsic = isinstance(value, dict)
        resolved = self.resolve(value, at, "eventBus") if given_as_intrinsic else value
        if resolved is UNRESOLVED:
            return None
        if not isinstance(resolved, str) or not resolved:
            self.problem(at, "eventBus must be a bus name or ARN")
            return None
        if resolved.startswith("arn"):
            match = _BUS_ARN.match(resolved)
            if match is None:
                self.problem(at, f"eventBus {resolved!r} is not an EventBridge event bus ARN")
                return None
            return match["name"], False
        if not _BUS_NAME.match(resolved):
            self.problem(
                at,
                f"eventBus {resolved!r} is not a valid event bus name",
                hint="use 1-256 letters, digits, '.', '-', '_' or '/'",
            )
            return None
        return resolved, not given_as_intrinsic and resolved != DEFAULT_BUS

    def _common(self, value: dict[str, Any], at: str, kind: str) -> dict[str, Any] | None:
        given = [key for key in ("input", "inputPath", "inputTransformer") if value.get(key)]
        if len(given) > 1:
            self.problem(
                pointer_join(at, given[1]),
                f"a {kind} event takes one of input, inputPath and inputTransformer, not several "
                "(Serverless refuses it)",
            )
            return None
        enabled = value.get("enabled", True)
        if not isinstance(enabled, bool):
            self.problem(pointer_join(at, "enabled"), "`enabled` must be true or false")
            return None
        name = None
        if value.get("name") is not None:
            name = self._rule_name(value["name"], pointer_join(at, "name"))
            if name is None:
                return None
        description = value.get("description")
        if description is not None and (not isinstance(description, str)
                                        or len(description) > 512):  # fmt: skip
            self.problem(pointer_join(at, "description"),
                         "a rule description is text of at most 512 characters")  # fmt: skip
            return None
        inputs = self.target_inputs(value, at)
        if inputs is None:
            return None
        input_text, input_path, transformer = inputs
        return {
            "input": input_text,
            "input_path": input_path,
            "input_transformer": transformer,
            "enabled": enabled,
            "name": name,
            "description": description,
        }


def state_machine_bus_events(reader: EventsReader, spec: Any) -> tuple[BusEvent, ...]:
    """A state machine's eventBridge and cloudwatchEvent events, read with `reader`'s place,
    resolver, warnings and problems (tooling.config.events reads its other events)."""
    events = spec.get("events") if isinstance(spec, dict) else None
    if not isinstance(events, list):
        return ()
    bus_reader = BusEventReader(**{f: getattr(reader, f) for f in _READER_FIELDS},
                                owner="state machine")  # fmt: skip
    found: list[BusEvent] = []
    for index, event in enumerate(events):
        if not isinstance(event, dict) or len(event) != 1:
            continue
        kind = next(iter(event))
        if kind not in MACHINE_BUS_KINDS:
            continue
        at = pointer_join(pointer_join(pointer_join(reader.pointer, "events"), index), kind)
        parsed = bus_reader.state_machine_event(kind, event[kind], at, len(found) + 1)
        if parsed is not None:
            found.append(parsed)
    return tuple(found)


MACHINE_BUS_KINDS = ("eventBridge", "cloudwatchEvent")
_READER_FIELDS = ("machine_key", "machine_name", "machine_type", "logical_id", "stage", "region",
                  "pointer", "at", "resolve", "warnings", "problems", "directory")  # fmt: skip
