"""A state machine's `events` (`schedule`, `http`), `alarms` and `notifications`, read in the
serverless-step-functions plugin's syntax (lib/deploy/events/schedule, lib/deploy/events/
apiGateway, lib/deploy/stepFunctions/compileAlarms.js and compileNotifications.js, v3.30).

What the plugin refuses is a problem at its line (it blocks validate, plan and deploy; remove and
info still work). What the plugin accepts and the toolkit does not do is a warning with its key
and line, never dropped silently. Where the plugin itself only logs and deploys nothing (a
malformed `alarms` or `notifications`, notifications of an EXPRESS machine), so does the toolkit,
with a warning at the line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self, TypeGuard

from tooling.config.api_keys import ApiKeys, read_api_keys
from tooling.config.rest_authorizers import Authorization, RestAuthorizer, read_authorization
from tooling.config.schedule_expressions import (
    ExpressionError,
    ScheduleExpression,
    parse_schedule_expression,
)
from tooling.errors import BadInput, ConfigError, Where
from tooling.sourcemap import pointer_join

Location = tuple[str | None, int | None, int | None]

SCHEDULE_KEYS = frozenset(
    {
        "rate", "enabled", "input", "inputPath", "inputTransformer", "name", "description",
        "role", "method", "timezone", "retryPolicy",
    }
)  # fmt: skip
# retryPolicy's keys in the plugin's syntax -> PutTargets RetryPolicy's, with their bounds.
RETRY_LIMITS = {
    "maximumEventAgeInSeconds": ("MaximumEventAgeInSeconds", 60, 86400),
    "maximumRetryAttempts": ("MaximumRetryAttempts", 0, 185),
}
METHOD_EVENT_BUS = "eventBus"
METHOD_SCHEDULER = "scheduler"
# EventBridge PutRule Name: 1-64 of [.-_A-Za-z0-9]; Scheduler CreateSchedule Name: 1-64 of
# [0-9a-zA-Z-_.].
_RULE_NAME = re.compile(r"^[.\-_A-Za-z0-9]{1,64}$")
MAX_RULE_DESCRIPTION = 512
MAX_TARGET_INPUT = 8192  # PutTargets Input: at most 8192 characters

HTTP_KEYS = frozenset(
    {
        "path", "method", "cors", "private", "request", "response", "responses", "authorizer",
        "iamRole", "action", "timeoutInMillis", "integration",
    }
)  # fmt: skip
HTTP_METHODS = ("get", "post", "put", "patch", "options", "head", "delete", "any")
# Step Functions actions an http event may name (`action`); the plugin passes any string on.
HTTP_ACTIONS = ("StartExecution", "StartSyncExecution", "DescribeExecution", "StopExecution")
DEFAULT_CORS_HEADERS = (
    "Content-Type",
    "X-Amz-Date",
    "Authorization",
    "X-Api-Key",
    "X-Amz-Security-Token",
    "X-Amz-User-Agent",
)
CORS_KEYS = frozenset(
    {"origin", "origins", "headers", "methods", "allowCredentials", "maxAge", "cacheControl"}
)
# API Gateway integration timeout: 50 ms to 29 s.
MIN_TIMEOUT_MILLIS, MAX_TIMEOUT_MILLIS = 50, 29_000

CLOUDWATCH_METRICS = {
    "executionsTimedOut": "ExecutionsTimedOut",
    "executionsFailed": "ExecutionsFailed",
    "executionsAborted": "ExecutionsAborted",
    "executionThrottled": "ExecutionThrottled",
    "executionsSucceeded": "ExecutionsSucceeded",
}
ALARM_DESCRIPTIONS = {
    "executionsTimedOut": "executions timed out",
    "executionsFailed": "executions failed",
    "executionsAborted": "executions were aborted",
    "executionThrottled": "execution were throttled",
    "executionsSucceeded": "executions succeeded",
}
TREAT_MISSING_DATA = ("missing", "ignore", "breaching", "notBreaching")
ALARMS_KEYS = frozenset({"topics", "metrics", "nameTemplate", "treatMissingData", "period"})
ALARM_METRIC_KEYS = frozenset({"metric", "logicalId", "alarmName", "treatMissingData", "period"})
TOPIC_KEYS = ("ok", "alarm", "insufficientData")
NAME_TEMPLATE_VARIABLES = ("stateMachineName", "cloudWatchMetricName", "metricName")
MAX_ALARM_NAME = 255

EXECUTION_STATUSES = ("ABORTED", "FAILED", "RUNNING", "SUCCEEDED", "TIMED_OUT")
NOTIFICATION_TARGETS = ("sns", "sqs", "kinesis", "firehose", "lambda", "stepFunctions")
# The ARN service each kind of target names.
TARGET_SERVICES = {
    "sns": "sns",
    "sqs": "sqs",
    "kinesis": "kinesis",
    "firehose": "firehose",
    "lambda": "lambda",
    "stepFunctions": "states",
}
_ARN = re.compile(r"^arn:(?P<partition>aws[a-z-]*):(?P<service>[a-z0-9-]+):(?P<region>[a-z0-9-]*):")


@dataclass(frozen=True)
class InputTransformer:
    """EventBridge's InputTransformer: JSON paths into the event, and a template using them."""

    paths: dict[str, str]
    template: str

    def to_api(self) -> dict[str, Any]:
        answer: dict[str, Any] = {"InputTemplate": self.template}
        if self.paths:
            answer["InputPathsMap"] = dict(self.paths)
        return answer


@dataclass(frozen=True)
class ScheduleEvent:
    """`events: - schedule:` of a state machine."""

    number: int  # 1-based among the machine's schedules, as the plugin numbers them
    expression: ScheduleExpression
    enabled: bool = True
    input: str | None = None  # JSON text
    input_path: str | None = None
    input_transformer: InputTransformer | None = None
    name: str | None = None
    description: str | None = None
    role: str | None = None  # the user's role (no role is generated)
    method: str = METHOD_EVENT_BUS
    timezone: str | None = None  # scheduler only
    retry_policy: dict[str, int] | None = None  # eventBus only: the target's RetryPolicy
    location: Location = (None, None, None)


@dataclass(frozen=True)
class Cors:
    origin: str  # the Access-Control-Allow-Origin value (`origins` joined with ",")
    headers: tuple[str, ...]
    methods: tuple[str, ...]
    allow_credentials: bool
    max_age: int | None = None
    cache_control: str | None = None  # functions' http events (Serverless' Cache-Control)
    # The preflight always says Access-Control-Allow-Credentials (the plugin); Serverless'
    # own preflight for functions says it only when it is true.
    credentials_always: bool = True


@dataclass(frozen=True)
class HttpEvent:
    """`events: - http:` of a state machine."""

    path: str  # without leading or trailing "/"; "" is the root
    method: str  # GET, POST, ... or ANY
    action: str = "StartExecution"
    action_given: bool = False  # `action` written: passthrough WHEN_NO_TEMPLATES, as the plugin
    template_kind: str = "default"  # default | lambda_proxy | custom | none
    custom_templates: dict[str, str] = field(default_factory=dict)  # content type -> template
    cors: Cors | None = None
    private: bool = False
    authorization_type: str = "NONE"  # NONE | AWS_IAM | CUSTOM | COGNITO_USER_POOLS
    authorizer_id: str | None = None
    authorization_scopes: tuple[str, ...] = ()
    authorizer: RestAuthorizer | None = None  # one the deploy makes (its name on the API)
    iam_role: str | None = None
    timeout_in_millis: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)  # name -> mapping value
    response_templates: dict[str, str] = field(default_factory=dict)
    responses: tuple[dict[str, Any], ...] = ()  # `responses:` as written (status code -> spec)
    location: Location = (None, None, None)


@dataclass(frozen=True)
class AlarmSpec:
    metric: str  # the plugin's name, e.g. executionsFailed
    cloudwatch_metric: str  # ExecutionsFailed
    logical_id: str
    name: str | None  # alarmName or nameTemplate; None: the toolkit names it
    treat_missing_data: str
    period: int
    description: str


@dataclass(frozen=True)
class AlarmsConfig:
    alarms: tuple[AlarmSpec, ...]
    ok_actions: tuple[str, ...]
    alarm_actions: tuple[str, ...]
    insufficient_data_actions: tuple[str, ...]


@dataclass(frozen=True)
class NotificationTarget:
    status: str  # ABORTED | FAILED | RUNNING | SUCCEEDED | TIMED_OUT
    kind: str  # sns | sqs | kinesis | firehose | lambda | stepFunctions
    arn: str
    index: int  # its place in the status's list (the plugin's target id uses it)
    message_group_id: str | None = None  # sqs FIFO
    partition_key_path: str | None = None  # kinesis
    input_path: str | None = None
    input_transformer: InputTransformer | None = None
    location: Location = (None, None, None)


@dataclass(frozen=True)
class MachineEvents:
    schedules: tuple[ScheduleEvent, ...] = ()
    http: tuple[HttpEvent, ...] = ()
    alarms: AlarmsConfig | None = None
    notifications: tuple[NotificationTarget, ...] = ()
    bus: tuple[Any, ...] = ()  # eventBridge / cloudwatchEvent (tooling.config.function_bus_events)


UNRESOLVED = object()  # what `resolve` answers when it recorded a problem instead


@dataclass
class EventsReader:
    """Reads one state machine's events, alarms and notifications.

    `at(pointer)` gives file/line/column keyword arguments, `resolve(value, pointer, what)` the
    value with its intrinsics resolved (or UNRESOLVED, the problem recorded already);
    warnings and problems are collected in the lists handed in."""

    machine_key: str
    machine_name: str
    machine_type: str
    logical_id: str
    stage: str
    region: str
    pointer: str  # JSON pointer of the state machine
    at: Callable[[str], Where]
    resolve: Callable[[Any, str, str], Any]
    warnings: list[str]
    problems: list[BadInput]
    directory: Path
    # authorizers the service's http events make: logical id -> name (rest_authorizers)
    made_authorizers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def for_function(
        cls,
        function_key: str,
        at: Callable[[str], Where],
        resolve: Callable[[Any, str, str], Any],
        warnings: list[str],
        problems: list[BadInput],
    ) -> Self:
        """A reader of one function's events (`machine_key` is the function's key; the other
        state-machine fields are unused)."""
        return cls(
            machine_key=function_key, machine_name="", machine_type="", logical_id="", stage="",
            region="", pointer="", at=at, resolve=resolve, warnings=warnings, problems=problems,
            directory=Path("."),
        )  # fmt: skip

    def where(self, pointer: str) -> str:
        kw = self.at(pointer)
        return ":".join(str(p) for p in (kw["file"], kw["line"], kw["column"]) if p is not None)

    def location(self, pointer: str) -> Location:
        kw = self.at(pointer)
        return (kw["file"], kw["line"], kw["column"])

    @property
    def subject(self) -> str:
        """Who the events belong to, as messages name it."""
        return f"state machine '{self.machine_key}'"

    def warn(self, pointer: str, text: str) -> None:
        self.warnings.append(f"{self.where(pointer)}: {self.subject}: {text}")

    def problem(self, pointer: str, text: str, hint: str | None = None) -> None:
        self.problems.append(ConfigError(f"{self.subject}: {text}", hint=hint, **self.at(pointer)))

    # -- entry ----------------------------------------------------------------------------------

    def read(self, spec: Mapping[str, Any]) -> MachineEvents:
        schedules: list[ScheduleEvent] = []
        http: list[HttpEvent] = []
        events = spec.get("events")
        events_at = pointer_join(self.pointer, "events")
        if isinstance(events, list):
            for index, event in enumerate(events):
                where = pointer_join(events_at, index)
                if not isinstance(event, dict):
                    continue
                if "schedule" in event:
                    parsed = self._schedule(event["schedule"], where, len(schedules) + 1)
                    if parsed is not None:
                        schedules.append(parsed)
                elif "http" in event:
                    found = self._http(event["http"], pointer_join(where, "http"))
                    if found is not None:
                        http.append(found)
                elif len(event) == 1 and not {"sqs", "eventBridge", "cloudwatchEvent"} & set(event):
                    kind = next(iter(event))
                    self.warn(
                        where,
                        f"`{kind}` events are not supported by the toolkit yet (ignored; "
                        "the toolkit deploys schedule, http, eventBridge, cloudwatchEvent and "
                        "sqs events)",
                    )
        self._check_routes(http)
        alarms = None
        if spec.get("alarms") is not None:
            alarms = self._alarms(spec["alarms"], pointer_join(self.pointer, "alarms"))
        notifications: tuple[NotificationTarget, ...] = ()
        if spec.get("notifications") is not None:
            notifications = self._notifications(
                spec["notifications"], pointer_join(self.pointer, "notifications")
            )
        return MachineEvents(tuple(schedules), tuple(http), alarms, notifications)

    # -- schedule -------------------------------------------------------------------------------

    def _schedule(self, value: Any, where: str, number: int) -> ScheduleEvent | None:
        at = pointer_join(where, "schedule")
        if isinstance(value, str):
            expression = self._expression(value, at)
            if expression is None:
                return None
            return ScheduleEvent(number, expression, location=self.location(at))
        if not isinstance(value, dict):
            self.problem(
                at,
                "a schedule event must be a rate/cron string or a mapping with `rate`",
                hint="e.g. `- schedule: rate(10 minutes)`",
            )
            return None
        for key in value:
            if key not in SCHEDULE_KEYS:
                self.warn(
                    pointer_join(at, key),
                    f"schedule key `{key}` is not used by serverless-step-functions (ignored)",
                )
        if "rate" not in value:
            self.problem(
                at,
                'a schedule event needs a "rate" (a rate or cron expression)',
                hint="e.g. `rate: rate(10 minutes)` or `rate: cron(0 12 * * ? *)`",
            )
            return None
        expression = self._expression(value["rate"], pointer_join(at, "rate"))
        if expression is None:
            return None
        method = value.get("method", METHOD_EVENT_BUS)
        if method not in (METHOD_EVENT_BUS, METHOD_SCHEDULER):
            self.warn(
                pointer_join(at, "method"),
                f"schedule method {method!r} is read as `eventBus` (the plugin makes an "
                "EventBridge rule for anything but `scheduler`)",
            )
            method = METHOD_EVENT_BUS
        given = [key for key in ("input", "inputPath", "inputTransformer") if value.get(key)]
        if len(given) > 1:
            self.problem(
                pointer_join(at, given[1]),
                "a schedule takes one of input, inputPath and inputTransformer, not several",
            )
            return None
        scheduler = method == METHOD_SCHEDULER
        for key in ("inputPath", "inputTransformer"):
            if scheduler and value.get(key):
                self.problem(
                    pointer_join(at, key),
                    f'"{key}" is not supported with "scheduler" mode (the plugin refuses it)',
                )
                return None
        if value.get("timezone") and not scheduler:
            self.problem(
                pointer_join(at, "timezone"),
                '"timezone" is only supported with "scheduler" mode',
                hint="add `method: scheduler`",
            )
            return None
        enabled = value.get("enabled", True)
        if not isinstance(enabled, bool):
            self.problem(pointer_join(at, "enabled"), "schedule `enabled` must be true or false")
            return None
        name = self._rule_name(value.get("name"), pointer_join(at, "name"))
        description = value.get("description")
        if description is not None and (
            not isinstance(description, str) or len(description) > MAX_RULE_DESCRIPTION
        ):
            self.problem(
                pointer_join(at, "description"),
                f"a schedule description is text of at most {MAX_RULE_DESCRIPTION} characters",
            )
            return None
        role = None
        if value.get("role") is not None:
            role = self._arn_value(value["role"], pointer_join(at, "role"), "iam", "schedule role")
            if role is None:
                return None
        timezone = value.get("timezone")
        if timezone is not None and not self._timezone(timezone, pointer_join(at, "timezone")):
            return None
        retry = None
        if value.get("retryPolicy") is not None:
            if scheduler:
                self.warn(
                    pointer_join(at, "retryPolicy"),
                    "retryPolicy applies to EventBridge rules only; the plugin does not pass "
                    "it to a scheduler schedule (ignored)",
                )
            else:
                retry = self._retry_policy(value["retryPolicy"], pointer_join(at, "retryPolicy"))
        inputs = self.target_inputs(value, at)
        if inputs is None:
            return None
        input_text, input_path, transformer = inputs
        return ScheduleEvent(
            number=number,
            expression=expression,
            enabled=enabled,
            input=input_text,
            input_path=input_path,
            input_transformer=transformer,
            name=name,
            description=description,
            role=role,
            method=method,
            timezone=timezone,
            retry_policy=retry,
            location=self.location(at),
        )

    def target_inputs(
        self, value: Mapping[str, Any], at: str
    ) -> tuple[str | None, str | None, InputTransformer | None] | None:
        """A rule target's `input` (JSON text), `inputPath` and `inputTransformer` as the
        event gives them; None when one is wrong (the problem recorded at its line)."""
        transformer = None
        if value.get("inputTransformer"):
            transformer = self._transformer(
                value["inputTransformer"], pointer_join(at, "inputTransformer")
            )
            if transformer is None:
                return None
        input_text = None
        if value.get("input") is not None:
            input_text = self._input(value["input"], pointer_join(at, "input"))
            if input_text is None:
                return None
        input_path = value.get("inputPath") or None
        if input_path is not None and not _json_path_like(input_path):
            self.problem(
                pointer_join(at, "inputPath"),
                f"inputPath {input_path!r} is not a JSON path into the event",
                hint="e.g. `inputPath: '$.detail'`",
            )
            return None
        return input_text, input_path, transformer

    def route(self, value: Mapping[str, Any], at: str, example: str) -> tuple[str, str] | None:
        """An http event's path (without leading or trailing "/") and method (upper case), as
        API Gateway takes them; None when one is wrong (the problem recorded at its line)."""
        path = value.get("path")
        if not isinstance(path, str):
            self.problem(at, 'an http event needs a "path"', hint=f"e.g. `path: {example}`")
            return None
        path = path.strip().removeprefix("/").removesuffix("/")
        bad = next((part for part in path.split("/") if path and not _path_part(part)), None)
        if bad is not None:
            self.problem(
                pointer_join(at, "path"),
                f"path part {bad!r} is not a valid API Gateway path part",
                hint="use letters, digits, ._-~ and {parameters} such as {id} or {proxy+}",
            )
            return None
        method = value.get("method")
        if not isinstance(method, str) or method.lower() not in HTTP_METHODS:
            self.problem(
                pointer_join(at, "method") if "method" in value else at,
                f"http method {method!r} is not one API Gateway takes",
                hint="use " + ", ".join(HTTP_METHODS),
            )
            return None
        return path, method.upper()

    def _expression(self, value: Any, at: str) -> ScheduleExpression | None:
        if not isinstance(value, str):
            self.problem(at, "a schedule expression must be text such as rate(10 minutes)")
            return None
        try:
            return parse_schedule_expression(value)
        except ExpressionError as exc:
            kw = _at_offset(self.at(at), value, exc.offset, self.directory)
            self.problems.append(
                ConfigError(
                    f"{self.subject}: schedule {value!r}: {exc.message}",
                    hint=exc.hint,
                    **kw,
                )
            )
            return None

    def _rule_name(self, value: Any, at: str) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or not _RULE_NAME.match(value):
            self.problem(
                at,
                f"schedule name {value!r} is not a valid EventBridge name",
                hint="use 1-64 letters, digits, '.', '-' or '_'",
            )
            return None
        return value

    def _timezone(self, value: Any, at: str) -> bool:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(str(value))
        except (ZoneInfoNotFoundError, ValueError):
            self.problem(
                at,
                f"timezone {value!r} is not an IANA time zone",
                hint="e.g. America/New_York or Europe/Paris",
            )
            return False
        return True

    def _retry_policy(
        self, value: Any, at: str, limits: Mapping[str, tuple[str, int, int]] = RETRY_LIMITS
    ) -> dict[str, int] | None:
        """A rule target's RetryPolicy from the event's `retryPolicy`, its keys as `limits`
        names them (the plugin's, or Serverless' for functions)."""
        if not isinstance(value, dict):
            self.problem(at, "retryPolicy must be a mapping")
            return None
        policy: dict[str, int] = {}
        for key, item in value.items():
            if key not in limits:
                self.warn(pointer_join(at, key), f"retryPolicy key `{key}` is unknown (ignored)")
                continue
            name, low, high = limits[key]
            if isinstance(item, bool) or not isinstance(item, int) or not low <= item <= high:
                self.problem(
                    pointer_join(at, key),
                    f"retryPolicy.{key} must be a number from {low} to {high}",
                )
                return None
            policy[name] = item
        return policy or None

    def _transformer(self, value: Any, at: str) -> InputTransformer | None:
        if not isinstance(value, dict) or not isinstance(value.get("inputTemplate"), str):
            self.problem(
                at,
                "inputTransformer needs an inputTemplate (text) and may have inputPathsMap",
                hint="e.g. inputPathsMap: {time: '$.time'} and inputTemplate: '{\"time\": <time>}'",
            )
            return None
        paths = value.get("inputPathsMap") or {}
        if not isinstance(paths, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in paths.items()
        ):
            self.problem(
                pointer_join(at, "inputPathsMap"),
                "inputPathsMap maps names to JSON paths (text to text)",
            )
            return None
        for key in value:
            if key not in ("inputPathsMap", "inputTemplate"):
                self.warn(pointer_join(at, key), f"inputTransformer key `{key}` is unknown")
        return InputTransformer(dict(paths), value["inputTemplate"])

    def _input(self, value: Any, at: str) -> str | None:
        """The target's Input: JSON text (a mapping is written as JSON, as the plugin does)."""
        if isinstance(value, str):
            try:
                json.loads(value)
            except ValueError:
                self.problem(
                    at,
                    "a schedule's input must be JSON (EventBridge refuses other text)",
                    hint="write a mapping under `input:`, or JSON text",
                )
                return None
            text = value
        else:
            text = json.dumps(value, separators=(",", ":"))
        if len(text) > MAX_TARGET_INPUT:
            self.problem(at, f"the input is over EventBridge's {MAX_TARGET_INPUT} characters")
            return None
        return text

    def _arn_value(self, value: Any, at: str, service: str, what: str) -> str | None:
        resolved = self.resolve(value, at, f"{what}")
        if resolved is UNRESOLVED:
            return None
        match = _ARN.match(resolved) if isinstance(resolved, str) else None
        if match is None or match["service"] != service:
            self.problem(at, f"{what} {resolved!r} is not an {service} ARN")
            return None
        return str(resolved)

    # -- http -----------------------------------------------------------------------------------

    def _http(self, value: Any, at: str) -> HttpEvent | None:
        if isinstance(value, str):
            method_word, _, path_word = value.partition(" ")
            value = {"method": method_word, "path": path_word}
        if not isinstance(value, dict):
            self.problem(
                at,
                "an http event must be `METHOD path` or a mapping with path and method",
                hint="e.g. `- http: {path: orders, method: post}`",
            )
            return None
        for key in value:
            if key not in HTTP_KEYS:
                self.warn(
                    pointer_join(at, key),
                    f"http key `{key}` is not used by serverless-step-functions (ignored)",
                )
        route = self.route(value, at, "orders/create")
        if route is None:
            return None
        path, method = route
        if value.get("integration") is not None:
            self.warn(
                pointer_join(at, "integration"),
                "http `integration` is not used by serverless-step-functions for state "
                "machines (ignored: the integration is always Step Functions')",
            )
        action = value.get("action", "StartExecution")
        if action not in HTTP_ACTIONS:
            self.problem(
                pointer_join(at, "action"),
                f"http action {action!r} is not a Step Functions action the toolkit deploys",
                hint="use " + ", ".join(HTTP_ACTIONS),
            )
            return None
        if action == "StartSyncExecution" and self.machine_type != "EXPRESS":
            self.problem(
                pointer_join(at, "action"),
                "StartSyncExecution runs EXPRESS state machines only (Step Functions answers "
                "StateMachineTypeNotSupported)",
                hint="set `type: EXPRESS` or use the default StartExecution",
            )
            return None
        kind, custom = self._request(value, at, "action" in value)
        if kind is None:
            return None
        cors = None
        if value.get("cors"):
            cors = self._cors(value["cors"], pointer_join(at, "cors"), method)
            if cors is None:
                return None
        authorization = self._authorizer(value.get("authorizer"), pointer_join(at, "authorizer"))
        if authorization is None:
            return None
        iam_role = None
        if value.get("iamRole") is not None:
            iam_role = self._arn_value(
                value["iamRole"], pointer_join(at, "iamRole"), "iam", "iamRole"
            )
            if iam_role is None:
                return None
        timeout = value.get("timeoutInMillis")
        if timeout is not None and (
            isinstance(timeout, bool)
            or not isinstance(timeout, int)
            or not MIN_TIMEOUT_MILLIS <= timeout <= MAX_TIMEOUT_MILLIS
        ):
            self.problem(
                pointer_join(at, "timeoutInMillis"),
                f"timeoutInMillis must be {MIN_TIMEOUT_MILLIS} to {MAX_TIMEOUT_MILLIS} "
                "(API Gateway's integration timeout)",
            )
            return None
        private = value.get("private", False)
        if not isinstance(private, bool):
            self.problem(pointer_join(at, "private"), "http `private` must be true or false")
            return None
        response = value.get("response") or {}
        responses = value.get("responses")
        headers = response.get("headers") if isinstance(response, dict) else None
        templates = response.get("template") if isinstance(response, dict) else None
        if (headers is not None and not _text_map(headers)) or (
            templates is not None and not _text_map(templates)
        ):
            self.problem(
                pointer_join(at, "response"),
                "response.headers and response.template map names to text",
            )
            return None
        kept_responses: tuple[dict[str, Any], ...] = ()
        if responses is not None:
            if not isinstance(responses, dict):
                self.problem(pointer_join(at, "responses"), "`responses` must be a mapping")
                return None
            kept_responses = tuple(
                {"key": str(key), **(spec if isinstance(spec, dict) else {})}
                for key, spec in responses.items()
            )
        return HttpEvent(
            path=path,
            method=method,
            action=action,
            action_given="action" in value,
            template_kind=kind,
            custom_templates=custom,
            cors=cors,
            private=private,
            authorization_type=authorization.type,
            authorizer_id=authorization.authorizer_id,
            authorization_scopes=authorization.scopes,
            authorizer=authorization.authorizer,
            iam_role=iam_role,
            timeout_in_millis=timeout,
            response_headers=dict(headers or {}),
            response_templates=dict(templates or {}),
            responses=kept_responses,
            location=self.location(at),
        )

    def _request(
        self, value: Mapping[str, Any], at: str, has_action: bool
    ) -> tuple[str | None, dict[str, str]]:
        request = value.get("request")
        if request is None:
            return ("none" if has_action else "default"), {}
        where = pointer_join(at, "request")
        if not isinstance(request, dict):
            self.problem(where, "http `request` must be a mapping")
            return None, {}
        for key in request:
            if key == "schemas":
                self.warn(
                    pointer_join(where, key),
                    "request schemas (API Gateway request validation) are not deployed by the "
                    "toolkit yet (ignored: requests are not validated)",
                )
            elif key != "template":
                self.warn(pointer_join(where, key), f"request key `{key}` is unknown (ignored)")
        template = request.get("template")
        if template is None:
            return ("none" if has_action else "default"), {}
        if template == "lambda_proxy":
            return "lambda_proxy", {}
        if not _text_map(template):
            self.problem(
                pointer_join(where, "template"),
                "request.template is `lambda_proxy` or a mapping of content types to templates",
            )
            return None, {}
        return "custom", dict(template)

    def _cors(self, value: Any, at: str, method: str) -> Cors | None:
        if value is True:
            return Cors("*", DEFAULT_CORS_HEADERS, ("OPTIONS", method), False)
        if not isinstance(value, dict):
            self.problem(at, "http `cors` is true or a mapping")
            return None
        for key in value:
            if key not in CORS_KEYS:
                self.warn(pointer_join(at, key), f"cors key `{key}` is unknown (ignored)")
        if value.get("cacheControl") is not None:
            self.warn(
                pointer_join(at, "cacheControl"),
                "cors.cacheControl is not used by serverless-step-functions (ignored)",
            )
        if value.get("origin") and value.get("origins"):
            self.problem(
                at,
                'use "origin" or "origins" to configure CORS, not both (the plugin refuses it)',
            )
            return None
        headers = value.get("headers", list(DEFAULT_CORS_HEADERS))
        if not isinstance(headers, list) or not all(isinstance(h, str) for h in headers):
            self.problem(pointer_join(at, "headers"), "CORS headers must be a list of names")
            return None
        methods = list(value.get("methods") or [])
        for extra in ("OPTIONS", method):
            if extra not in methods:
                methods.append(extra)
        origins = value.get("origins")
        origin = ",".join(origins) if isinstance(origins, list) and origins else None
        max_age = value.get("maxAge")
        if max_age is not None and (
            isinstance(max_age, bool) or not isinstance(max_age, int) or max_age <= 0
        ):
            self.problem(pointer_join(at, "maxAge"), "maxAge should be an integer over 0")
            return None
        return Cors(
            origin=origin or str(value.get("origin") or "*"),
            headers=tuple(headers),
            methods=tuple(str(m) for m in methods),
            allow_credentials=bool(value.get("allowCredentials")),
            max_age=max_age,
        )

    def _authorizer(self, value: Any, at: str) -> Authorization | None:
        """The method's authorization, as the plugin's getAuthorizer and getMethodAuthorization
        give it (tooling.config.rest_authorizers)."""

        def resolve(raw: Any, where: str) -> Any:
            answer = self.resolve(raw, where, "authorizer")
            return None if answer is UNRESOLVED else answer

        return read_authorization(self, value, at, resolve, plugin=True, made=self.made_authorizers)

    def _check_routes(self, events: list[HttpEvent]) -> None:
        seen: dict[tuple[str, str], HttpEvent] = {}
        for event in events:
            route = (event.path, event.method)
            if route in seen:
                file, line, column = event.location
                self.problems.append(
                    ConfigError(
                        f"state machine '{self.machine_key}': two http events are "
                        f"{event.method} /{event.path}",
                        file=file,
                        line=line,
                        column=column,
                        hint="give each path and method one event",
                    )
                )
            seen[route] = event

    # -- alarms ---------------------------------------------------------------------------------

    def _alarms(self, value: Any, at: str) -> AlarmsConfig | None:
        """As compileAlarms.js: a malformed configuration deploys no alarm (the plugin logs it);
        unknown metrics are skipped with a warning."""

        def malformed(where: str, why: str) -> None:
            self.warn(
                where,
                f"alarms config is malformed ({why}); no alarm is deployed for this state "
                "machine (the plugin does the same)",
            )

        if not isinstance(value, dict):
            malformed(at, "it must be a mapping")
            return None
        for key in value:
            if key not in ALARMS_KEYS:
                malformed(pointer_join(at, key), f"unknown key `{key}`")
                return None
        topics = value.get("topics")
        if not isinstance(topics, dict) or not any(topics.get(k) for k in TOPIC_KEYS):
            malformed(pointer_join(at, "topics"), "topics needs one of ok, alarm, insufficientData")
            return None
        for key in topics:
            if key not in TOPIC_KEYS:
                malformed(pointer_join(pointer_join(at, "topics"), key), f"unknown topic `{key}`")
                return None
        metrics = value.get("metrics")
        if not isinstance(metrics, list) or not metrics:
            malformed(pointer_join(at, "metrics"), "metrics must be a list of at least one")
            return None
        default_missing = value.get("treatMissingData", "missing")
        if not self._missing_data(default_missing, pointer_join(at, "treatMissingData")):
            return None
        default_period = value.get("period", 60)
        if not self._period(default_period, pointer_join(at, "period")):
            return None
        actions: dict[str, tuple[str, ...]] = {}
        for key in TOPIC_KEYS:
            if topics.get(key) is None:
                actions[key] = ()
                continue
            arn = self._arn_value(
                topics[key], pointer_join(pointer_join(at, "topics"), key), "sns", "alarm topic"
            )
            if arn is None:
                return None
            actions[key] = (arn,)
        template = value.get("nameTemplate")
        if template is not None and not self._name_template(
            template, pointer_join(at, "nameTemplate")
        ):
            template = None
        specs: list[AlarmSpec] = []
        seen: set[str] = set()
        for index, metric in enumerate(metrics):
            where = pointer_join(pointer_join(at, "metrics"), index)
            if isinstance(metric, str):
                metric = {"metric": metric}
            if not isinstance(metric, dict) or not isinstance(metric.get("metric"), str):
                malformed(where, "a metric is a name or a mapping with `metric`")
                return None
            for key in metric:
                if key not in ALARM_METRIC_KEYS:
                    malformed(pointer_join(where, key), f"unknown metric key `{key}`")
                    return None
            name = metric["metric"]
            if name not in CLOUDWATCH_METRICS:
                self.warn(
                    where,
                    f"alarms.metrics has an invalid metric {name!r}; no alarm is deployed for it "
                    "(supported: " + ", ".join(CLOUDWATCH_METRICS) + ")",
                )
                continue
            if json.dumps(metric, sort_keys=True) in seen:
                continue
            seen.add(json.dumps(metric, sort_keys=True))
            missing = metric.get("treatMissingData", default_missing)
            period = metric.get("period", default_period)
            if not self._missing_data(missing, pointer_join(where, "treatMissingData")):
                return None
            if not self._period(period, pointer_join(where, "period")):
                return None
            cloudwatch = CLOUDWATCH_METRICS[name]
            alarm_name = metric.get("alarmName")
            if alarm_name is None and template is not None:
                alarm_name = _fill_template(
                    template,
                    {
                        "stateMachineName": self.machine_name,
                        "cloudWatchMetricName": cloudwatch,
                        "metricName": name,
                    },
                )
            if alarm_name is not None and (
                not isinstance(alarm_name, str) or not 1 <= len(alarm_name) <= MAX_ALARM_NAME
            ):
                self.problem(where, f"alarm name {alarm_name!r} must be 1-255 characters")
                return None
            specs.append(
                AlarmSpec(
                    metric=name,
                    cloudwatch_metric=cloudwatch,
                    logical_id=str(
                        metric.get("logicalId") or f"{self.logical_id}{cloudwatch}Alarm"
                    ),
                    name=alarm_name,
                    treat_missing_data=missing,
                    period=period,
                    description=f"{self.machine_name}[{self.stage}][{self.region}]: "
                    f"{ALARM_DESCRIPTIONS[name]}",
                )
            )
        return AlarmsConfig(
            tuple(specs), actions["ok"], actions["alarm"], actions["insufficientData"]
        )

    def _missing_data(self, value: Any, at: str) -> TypeGuard[str]:
        if value in TREAT_MISSING_DATA:
            return True
        self.problem(
            at,
            f"treatMissingData {value!r} is not one CloudWatch takes",
            hint="use " + ", ".join(TREAT_MISSING_DATA),
        )
        return False

    def _period(self, value: Any, at: str) -> TypeGuard[int]:
        # CloudWatch: 10, 30 or a multiple of 60 seconds (AWS/States metrics are per minute).
        whole = isinstance(value, int) and not isinstance(value, bool) and value > 0
        if whole and (value in (10, 30) or value % 60 == 0):
            return True
        self.problem(
            at,
            f"alarm period {value!r} must be 10, 30 or a multiple of 60 seconds (CloudWatch)",
        )
        return False

    def _name_template(self, template: Any, at: str) -> bool:
        if not isinstance(template, str):
            self.warn(at, "alarms.nameTemplate must be text (ignored)")
            return False
        unknown = [
            v for v in re.findall(r"\$\[([^\][]*)\]", template) if v not in NAME_TEMPLATE_VARIABLES
        ]
        if unknown:
            self.warn(
                at,
                f"alarms.nameTemplate: variable {unknown[0]!r} is not one of "
                + ", ".join(NAME_TEMPLATE_VARIABLES)
                + " (the template is ignored, as the plugin does)",
            )
            return False
        return True

    # -- notifications --------------------------------------------------------------------------

    def _notifications(self, value: Any, at: str) -> tuple[NotificationTarget, ...]:
        def malformed(where: str, why: str) -> tuple[NotificationTarget, ...]:
            self.warn(
                where,
                f"notifications config is malformed ({why}); no notification is deployed for "
                "this state machine (the plugin does the same)",
            )
            return ()

        if not isinstance(value, dict):
            return malformed(at, "it must be a mapping of execution statuses")
        if self.machine_type == "EXPRESS":
            self.warn(
                at,
                "notifications are not supported on Express Workflows (not deployed, as the "
                "plugin does)",
            )
            return ()
        for status in value:
            if status not in EXECUTION_STATUSES:
                return malformed(pointer_join(at, status), f"unknown status `{status}`")
        targets: list[NotificationTarget] = []
        for status in EXECUTION_STATUSES:
            entries = value.get(status)
            if entries is None:
                continue
            where = pointer_join(at, status)
            if not isinstance(entries, list):
                return malformed(where, f"{status} must be a list of targets")
            for index, entry in enumerate(entries):
                item_at = pointer_join(where, index)
                if not isinstance(entry, dict):
                    return malformed(item_at, "a target is a mapping such as `sns: ARN`")
                kinds = [k for k in NOTIFICATION_TARGETS if k in entry]
                extra = [
                    k
                    for k in entry
                    if k not in NOTIFICATION_TARGETS and k not in ("inputPath", "inputTransformer")
                ]
                if len(kinds) != 1 or extra:
                    return malformed(
                        item_at,
                        "a target names one of "
                        + ", ".join(NOTIFICATION_TARGETS)
                        + (f" (unknown key `{extra[0]}`)" if extra else ""),
                    )
                target = self._target(status, kinds[0], entry, item_at, index)
                if target is None:
                    return ()
                targets.append(target)
        return tuple(targets)

    def _target(
        self, status: str, kind: str, entry: Mapping[str, Any], at: str, index: int
    ) -> NotificationTarget | None:
        spec = entry[kind]
        where = pointer_join(at, kind)
        group = partition_key = None
        if isinstance(spec, dict) and "arn" in spec and kind in ("sqs", "kinesis"):
            if kind == "sqs":
                group = spec.get("messageGroupId")
                if not isinstance(group, str | int) or isinstance(group, bool):
                    self.problem(where, "an sqs target with `arn` needs a messageGroupId")
                    return None
                group = str(group)
            else:
                partition_key = spec.get("partitionKeyPath")
            spec, where = spec["arn"], pointer_join(where, "arn")
        arn = self._arn_value(spec, where, TARGET_SERVICES[kind], f"{kind} target")
        if arn is None:
            return None
        transformer = None
        if entry.get("inputTransformer") is not None:
            transformer = self._transformer(
                entry["inputTransformer"], pointer_join(at, "inputTransformer")
            )
            if transformer is None:
                return None
        input_path = entry.get("inputPath")
        if input_path is not None and (
            not isinstance(input_path, str) or not _json_path_like(input_path)
        ):
            self.problem(
                pointer_join(at, "inputPath"), f"inputPath {input_path!r} is not a JSON path"
            )
            return None
        return NotificationTarget(
            status=status,
            kind=kind,
            arn=arn,
            index=index,
            message_group_id=group,
            partition_key_path=partition_key,
            input_path=input_path,
            input_transformer=transformer,
            location=self.location(where),
        )


def _path_part(part: str) -> bool:
    # API Gateway CreateResource PathPart: a literal, {name} or {name+}.
    return bool(re.fullmatch(r"[A-Za-z0-9._~:@!$&'()*+,;=-]+|\{[A-Za-z0-9._-]+\+?\}", part))


def _text_map(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    )


def _json_path_like(value: str) -> bool:
    return value == "$" or value.startswith("$.") or value.startswith("$[")


def _fill_template(template: str, values: Mapping[str, str]) -> str:
    for name, value in values.items():
        template = template.replace(f"$[{name}]", value)
    return template


def _at_offset(kw: Where, text: str, offset: int, directory: Path) -> Where:
    """The location of character `offset` of a string value, when the value stands on its line
    as written (plain or quoted); otherwise the value's own location."""
    file, line, column = kw.get("file"), kw.get("line"), kw.get("column")
    if not (file and line and column) or offset <= 0:
        return kw
    try:
        source = (directory / str(file)).read_text().splitlines()[line - 1]
    except (OSError, IndexError, UnicodeDecodeError):
        return kw
    for skip in (0, 1):  # plain, or after an opening quote
        start = column - 1 + skip
        if source[start : start + len(text)] == text:
            return {**kw, "column": start + 1 + offset}
    return kw


API_GATEWAY_KEYS_USED = frozenset(
    {"timeoutInMillis", "shouldStartNameWithService", "restApiId", "restApiRootResourceId",
     "restApiResources", "apiKeys", "usagePlan", "binaryMediaTypes", "minimumCompressionSize",
     "apiKeySourceType"}
)  # fmt: skip
MAX_COMPRESSION_SIZE = 10_485_760  # API Gateway's minimumCompressionSize (bytes)
API_KEY_SOURCES = ("HEADER", "AUTHORIZER")
_MEDIA_TYPE = re.compile(r"^\S+/\S+$")  # Serverless' schema for binaryMediaTypes
ENDPOINT_TYPES = ("EDGE", "REGIONAL", "PRIVATE")


@dataclass(frozen=True)
class ApiSettings:
    """The REST API the state machines' http events share (provider-level settings)."""

    name: str  # provider.apiName, or <stage>-<service> (Serverless' naming)
    endpoint_type: str = "EDGE"
    vpc_endpoint_ids: tuple[str, ...] = ()
    timeout_in_millis: int | None = None  # provider.apiGateway.timeoutInMillis
    api_keys: ApiKeys = ApiKeys()  # provider.apiGateway.apiKeys and usagePlan
    # provider.apiGateway.restApiId: an existing REST API (another service's) the http events
    # go on, on AWS; its restApiRootResourceId and restApiResources (service path -> id).
    rest_api_id: str | None = None
    root_resource_id: str | None = None
    predefined_resources: tuple[tuple[str, str], ...] = ()
    # provider.apiGateway's settings of the API itself (Serverless' compileRestApi)
    binary_media_types: tuple[str, ...] = ()
    minimum_compression_size: int | None = None
    api_key_source: str = "HEADER"


def read_api_settings(
    provider: Mapping[str, Any],
    *,
    service: str,
    stage: str,
    has_http_events: bool,
    at: Callable[[str], Where],
    warnings: list[str],
    problems: list[BadInput],
) -> ApiSettings:
    """provider.apiName, endpointType, vpcEndpointIds and apiGateway, as the plugin's compileRest-
    Api and Serverless' naming read them. Keys the toolkit does not deploy are warnings."""

    def where(pointer: str) -> str:
        kw = at(pointer)
        return ":".join(str(p) for p in (kw["file"], kw["line"], kw["column"]) if p is not None)

    gateway = provider.get("apiGateway") or {}
    if not isinstance(gateway, dict):
        gateway = {}
    for key in gateway:
        if key not in API_GATEWAY_KEYS_USED:
            warnings.append(
                f"{where(pointer_join('/provider/apiGateway', key))}: provider.apiGateway.{key} "
                "is not deployed by the toolkit yet (ignored; see README, serverless.yml)"
            )
    shared = _shared_api(gateway, at=at, problems=problems)
    own = _api_own_settings(gateway, at=at, problems=problems)
    if own and shared.get("rest_api_id"):
        first = next(k for k in ("binaryMediaTypes", "minimumCompressionSize",
                                 "apiKeySourceType") if k in gateway)  # fmt: skip
        warnings.append(
            f"{where(pointer_join('/provider/apiGateway', first))}: provider.apiGateway.{first} "
            "sets up the service's own REST API; with restApiId the API is another's and is left "
            "as it is (ignored, as Serverless makes no API then)"
        )
        own = {}
    name = provider.get("apiName")
    if not isinstance(name, str) or not name:
        name = (
            f"{service}-{stage}"
            if gateway.get("shouldStartNameWithService")
            else f"{stage}-{service}"
        )
    endpoint = provider.get("endpointType", "EDGE")
    if not isinstance(endpoint, str) or endpoint.upper() not in ENDPOINT_TYPES:
        problems.append(
            ConfigError(
                f"provider.endpointType must be one of {', '.join(ENDPOINT_TYPES)} "
                f"(got {endpoint!r})",
                **at("/provider/endpointType"),
            )
        )
        endpoint = "EDGE"
    endpoint = endpoint.upper()
    vpc_ids = provider.get("vpcEndpointIds") or []
    if vpc_ids and endpoint != "PRIVATE":
        problems.append(
            ConfigError(
                "provider.vpcEndpointIds are only available for private APIs",
                hint="set provider.endpointType: PRIVATE",
                **at("/provider/vpcEndpointIds"),
            )
        )
    timeout = gateway.get("timeoutInMillis")
    if timeout is not None and (
        isinstance(timeout, bool)
        or not isinstance(timeout, int)
        or not MIN_TIMEOUT_MILLIS <= timeout <= MAX_TIMEOUT_MILLIS
    ):
        problems.append(
            ConfigError(
                f"provider.apiGateway.timeoutInMillis must be {MIN_TIMEOUT_MILLIS} to "
                f"{MAX_TIMEOUT_MILLIS}",
                **at("/provider/apiGateway/timeoutInMillis"),
            )
        )
        timeout = None
    api_keys = _api_keys(gateway, service=service, stage=stage,
                         has_http_events=has_http_events, at=at, where=where,
                         warnings=warnings, problems=problems)  # fmt: skip
    return ApiSettings(
        name=name,
        endpoint_type=endpoint,
        vpc_endpoint_ids=tuple(str(v) for v in vpc_ids) if isinstance(vpc_ids, list) else (),
        timeout_in_millis=timeout,
        api_keys=api_keys,
        **shared,
        **own,
    )


def _api_own_settings(
    gateway: Mapping[str, Any], *, at: Callable[[str], Where], problems: list[BadInput]
) -> dict[str, Any]:
    """binaryMediaTypes, minimumCompressionSize and apiKeySourceType, as Serverless' schema
    checks them and compileRestApi sets them (BinaryMediaTypes, MinimumCompressionSize,
    ApiKeySourceType upper-cased)."""
    own: dict[str, Any] = {}
    types = gateway.get("binaryMediaTypes")
    if types is not None:
        if not isinstance(types, list) or not all(
            isinstance(t, str) and _MEDIA_TYPE.match(t) for t in types
        ):
            problems.append(ConfigError(
                "provider.apiGateway.binaryMediaTypes must be a list of media types "
                "(type/subtype, e.g. image/png or */*)",
                **at("/provider/apiGateway/binaryMediaTypes"),
            ))  # fmt: skip
        else:
            own["binary_media_types"] = tuple(dict.fromkeys(types))
    size = gateway.get("minimumCompressionSize")
    if size is not None:
        if (
            isinstance(size, bool)
            or not isinstance(size, int)
            or not (0 <= size <= MAX_COMPRESSION_SIZE)
        ):
            problems.append(ConfigError(
                f"provider.apiGateway.minimumCompressionSize must be 0 to {MAX_COMPRESSION_SIZE} "
                "bytes",
                **at("/provider/apiGateway/minimumCompressionSize"),
            ))  # fmt: skip
        else:
            own["minimum_compression_size"] = size
    source = gateway.get("apiKeySourceType")
    if source is not None:
        if not isinstance(source, str) or source.upper() not in API_KEY_SOURCES:
            problems.append(ConfigError(
                "provider.apiGateway.apiKeySourceType must be HEADER or AUTHORIZER",
                **at("/provider/apiGateway/apiKeySourceType"),
            ))  # fmt: skip
        else:
            own["api_key_source"] = source.upper()
    return own


def _shared_api(
    gateway: Mapping[str, Any], *, at: Callable[[str], Where], problems: list[BadInput]
) -> dict[str, Any]:
    """restApiId, restApiRootResourceId and restApiResources as Serverless reads them
    (provider.js getApiGatewayRestApiId, ...; resources.js): ids as text, intrinsics resolved
    before; restApiResources maps a path ("/users" or "users") to an existing resource's id."""

    def text(key: str) -> str | None:
        value = gateway.get(key)
        if value is None:
            return None
        if isinstance(value, str) and value.strip():
            return value.strip()
        problems.append(
            ConfigError(
                f"provider.apiGateway.{key} must be an id (text, or an intrinsic such as "
                f"Fn::ImportValue giving one); got {value!r}",
                **at(pointer_join("/provider/apiGateway", key)),
            )
        )
        return None

    rest_api_id = text("restApiId")
    root = text("restApiRootResourceId")
    resources = gateway.get("restApiResources")
    predefined: list[tuple[str, str]] = []
    if resources is not None and not isinstance(resources, dict):
        problems.append(
            ConfigError(
                "provider.apiGateway.restApiResources must be a mapping of paths to the ids of "
                f"existing resources (e.g. /users: abc123); got {type(resources).__name__}",
                **at("/provider/apiGateway/restApiResources"),
            )
        )
    elif isinstance(resources, dict):
        for path, resource_id in resources.items():
            pointer = pointer_join("/provider/apiGateway/restApiResources", str(path))
            if not isinstance(resource_id, str) or not resource_id.strip():
                problems.append(
                    ConfigError(
                        f"provider.apiGateway.restApiResources[{path!r}] must be the id of an "
                        f"existing resource (text); got {resource_id!r}",
                        **at(pointer),
                    )
                )
                continue
            predefined.append((str(path).strip("/"), resource_id.strip()))
    if rest_api_id is None and (root is not None or predefined):
        key = "restApiRootResourceId" if root is not None else "restApiResources"
        problems.append(
            ConfigError(
                f"provider.apiGateway.{key} needs provider.apiGateway.restApiId (the API those "
                "resources belong to)",
                hint="add restApiId, or drop this key to let the toolkit make the REST API",
                **at(pointer_join("/provider/apiGateway", key)),
            )
        )
    return {
        "rest_api_id": rest_api_id,
        "root_resource_id": root if rest_api_id else None,
        "predefined_resources": tuple(predefined) if rest_api_id else (),
    }


def _api_keys(
    gateway: Mapping[str, Any],
    *,
    service: str,
    stage: str,
    has_http_events: bool,
    at: Callable[[str], Where],
    where: Callable[[str], str],
    warnings: list[str],
    problems: list[BadInput],
) -> ApiKeys:
    """Serverless compiles keys and usage plans only with the REST API of http events."""
    used = [key for key in ("apiKeys", "usagePlan") if gateway.get(key) is not None]
    if not used:
        return ApiKeys()
    pointer = pointer_join("/provider/apiGateway", used[0])
    if gateway.get("restApiId") is not None:
        warnings.append(
            f"{where(pointer)}: provider.apiGateway.{' and '.join(used)} not deployed: "
            "the toolkit does not make keys or usage plans on a shared REST API (restApiId)"
        )
        return ApiKeys()
    if not has_http_events:
        warnings.append(
            f"{where(pointer)}: provider.apiGateway.{' and '.join(used)} not deployed: no "
            "function or state machine has an http event, so there is no REST API (Serverless "
            "makes no key or usage plan either)"
        )
        return ApiKeys()
    return read_api_keys(gateway, service=service, stage=stage, at=at, problems=problems)
