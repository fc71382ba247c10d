"""A function's `events`, read as Serverless v3 reads them: one reader per event type.

`READERS` maps an event type to its reader; a type with none is warned about at its line (the
function deploys without it), never dropped silently. The readers: `sqs`
(tooling.config.sqs_events), `http` (tooling.config.function_http_events), `schedule`
(tooling.config.function_schedule_events), `eventBridge` and `cloudwatchEvent`
(tooling.config.function_bus_events), `sns` (tooling.config.function_sns_events), `s3`
(tooling.config.function_s3_events), `cognitoUserPool` (tooling.config.function_cognito_events),
`httpApi` (tooling.config.http_api_events), `stream` (tooling.config.function_stream_events)
and `websocket` (tooling.config.websocket_events).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tooling.config.events import ScheduleEvent
from tooling.config.function_bus_events import BusEvent, BusEventReader
from tooling.config.function_cognito_events import CognitoEvent, CognitoEventReader
from tooling.config.function_http_events import FunctionHttpEvent, HttpEventReader
from tooling.config.function_messages import FunctionMessages
from tooling.config.function_s3_events import S3Event, S3EventReader
from tooling.config.function_schedule_events import ScheduleEventReader
from tooling.config.function_sns_events import SnsEvent, SnsEventReader
from tooling.config.function_stream_events import StreamEvent, StreamEventReader
from tooling.config.http_api_events import HttpApiEvent, HttpApiEventReader
from tooling.config.sqs_events import Locate, Resolve, SqsEvent, SqsEventReader
from tooling.config.websocket_events import WebsocketEvent, WebsocketEventReader
from tooling.errors import BadInput
from tooling.sourcemap import pointer_join

__all__ = ["READERS", "FunctionEvents", "FunctionEventsReader", "FunctionHttpEvent", "SqsEvent"]


@dataclass(frozen=True)
class FunctionEvents:
    sqs: tuple[SqsEvent, ...] = ()
    http: tuple[FunctionHttpEvent, ...] = ()
    schedules: tuple[ScheduleEvent, ...] = ()
    bus: tuple[BusEvent, ...] = ()  # eventBridge, then cloudwatchEvent events
    sns: tuple[SnsEvent, ...] = ()
    s3: tuple[S3Event, ...] = ()
    streams: tuple[StreamEvent, ...] = ()
    cognito: tuple[CognitoEvent, ...] = ()
    http_api: tuple[HttpApiEvent, ...] = ()
    websocket: tuple[WebsocketEvent, ...] = ()


@dataclass
class FunctionEventsReader(FunctionMessages):
    """Reads one function's `events` list."""

    function_key: str
    at: Locate
    resolve: Resolve
    warnings: list[str]
    problems: list[BadInput]
    function_timeout: int | None = None  # what the sqs reader checks queues against
    visibility_of: Callable[[Any], int | None] = lambda arn: None
    provider_buckets: Any = None  # provider.s3, the buckets the s3 reader names by key
    found: dict[str, list[Any]] = field(default_factory=dict)
    # the REST API authorizers the service's http events make: logical id -> name
    made_authorizers: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.sqs_events = SqsEventReader(
            self.function_key,
            self.at,
            self.resolve,
            self.problems,
            function_timeout=self.function_timeout,
            visibility_of=self.visibility_of,
        )
        self.http_events = HttpEventReader.for_function(
            self.function_key, self.at, self.resolve, self.warnings, self.problems
        )
        self.http_events.made_authorizers = self.made_authorizers
        self.schedule_events = ScheduleEventReader.for_function(
            self.function_key, self.at, self.resolve, self.warnings, self.problems
        )
        self.bus_events = BusEventReader.for_function(
            self.function_key, self.at, self.resolve, self.warnings, self.problems
        )
        self.sns_events = SnsEventReader(
            self.function_key, self.at, self.resolve, self.warnings, self.problems
        )
        self.cognito_events = CognitoEventReader(
            self.function_key, self.at, self.resolve, self.warnings, self.problems
        )
        self.http_api_events = HttpApiEventReader(
            self.function_key, self.at, self.warnings, self.problems
        )
        self.websocket_events = WebsocketEventReader(self.function_key, self.at, self.problems)
        self.s3_events = S3EventReader(
            self.function_key, self.at, self.resolve, self.warnings, self.problems,
            provider_buckets=self.provider_buckets if isinstance(self.provider_buckets, dict)
            else {},
        )  # fmt: skip
        self.stream_events = StreamEventReader(
            self.function_key, self.at, self.resolve, self.warnings, self.problems
        )

    def read(self, events: Any, pointer: str) -> FunctionEvents:
        if events is None:
            return FunctionEvents()
        if not isinstance(events, list):
            self._problem(pointer, "events must be a list", "e.g. `events: [{sqs: <queue ARN>}]`")
            return FunctionEvents()
        for index, event in enumerate(events):
            where = pointer_join(pointer, index)
            if not isinstance(event, dict) or len(event) != 1:
                self._problem(
                    where,
                    "each event must be a mapping of one event type to its settings",
                    "e.g. `- sqs: arn:aws:sqs:us-east-1:123456789012:jobs`",
                )
                continue
            kind = str(next(iter(event)))
            reader = READERS.get(kind)
            if reader is None:
                self._warn(
                    where,
                    f"`{kind}` events of functions are not supported by the toolkit yet "
                    f"(ignored; it deploys {', '.join(sorted(READERS))} events)",
                )
                continue
            parsed = reader(self, event[kind], pointer_join(where, kind))
            if parsed is not None:
                self.found.setdefault(kind, []).append(parsed)
        return FunctionEvents(
            sqs=tuple(self.found.get("sqs", ())),
            http=tuple(self.found.get("http", ())),
            schedules=tuple(e for group in self.found.get("schedule", ()) for e in group),
            bus=(*self.found.get("eventBridge", ()), *self.found.get("cloudwatchEvent", ())),
            sns=tuple(self.found.get("sns", ())),
            s3=tuple(self.found.get("s3", ())),
            streams=tuple(self.found.get("stream", ())),
            cognito=tuple(self.found.get("cognitoUserPool", ())),
            http_api=tuple(self.found.get("httpApi", ())),
            websocket=tuple(self.found.get("websocket", ())),
        )


# One reader per event type; a new type of function event adds a line here.
READERS: dict[str, Callable[[FunctionEventsReader, Any, str], Any]] = {
    "sqs": lambda reader, value, where: reader.sqs_events.read(value, where),
    "http": lambda reader, value, where: reader.http_events.function_http(value, where),
    "schedule": lambda reader, value, where: reader.schedule_events.function_schedules(
        value, where
    ),
    "eventBridge": lambda reader, value, where: reader.bus_events.event_bridge(value, where),
    "cloudwatchEvent": lambda reader, value, where: reader.bus_events.cloudwatch_event(
        value, where
    ),
    "sns": lambda reader, value, where: reader.sns_events.read(value, where),
    "s3": lambda reader, value, where: reader.s3_events.read(value, where),
    "stream": lambda reader, value, where: reader.stream_events.read(value, where),
    "cognitoUserPool": lambda reader, value, where: reader.cognito_events.read(value, where),
    "httpApi": lambda reader, value, where: reader.http_api_events.read(value, where),
    "websocket": lambda reader, value, where: reader.websocket_events.read(value, where),
}
