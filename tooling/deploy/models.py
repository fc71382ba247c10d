"""What a service deploys, as data: one frozen model per kind of resource.

Each model has an `address` (its kind and the name it is known by) and names the resources it
needs (`dependencies`): the planner creates those first and deletes them last. A model says what
the service wants; how a target makes it so is its provider's business (tooling.deploy.providers).
No I/O here.

Adding a kind: a model here, a provider per target, and one line in tooling.deploy.desired.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, get_args

from tooling.config.function_images import FunctionImage
from tooling.config.function_settings import EPHEMERAL_STORAGE, FunctionSettings
from tooling.config.http_api_events import EXISTING_HTTP_API
from tooling.iam import RoleSpec
from tooling.package import Package

Kind = Literal[
    "role",
    "log group",
    "function",
    "state machine",
    "queue",
    "event source mapping",
    "stack",
    "rule",
    "event bus",
    "topic",
    "subscription",
    "schedule",
    "schedule group",
    "rest api",
    "http api",
    "websocket api",
    "function url",
    "function alias",
    "function version",
    "alarm",
    "permission",
    "bucket",
    "bucket notification",
    "api key",
    "usage plan",
    "layer",
]
KINDS: tuple[Kind, ...] = get_args(Kind)  # every kind (a record names only these)


@dataclass(frozen=True, order=True)
class Address:
    """Which resource: its kind and the name it is known by (unique per kind and target).

    `arn` is kept where the name alone does not find the resource: a state machine's or a
    queue's ARN; for an event source mapping, the ARN of its queue (its name is
    "<queue> -> <function>")."""

    kind: Kind
    name: str
    arn: str | None = field(default=None, compare=False)

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "name": self.name}


def mapping_name(queue_name: str, function_name: str) -> str:
    return f"{queue_name} -> {function_name}"


def mapping_function(address: Address) -> str:
    """The function an event source mapping's address names (after " -> ")."""
    return address.name.rsplit(" -> ", 1)[1]


@dataclass(frozen=True)
class Role:
    """An IAM role with its trust policy, inline and managed policies (local: a record)."""

    KIND: ClassVar[Kind] = "role"
    spec: RoleSpec

    @property
    def address(self) -> Address:
        return Address(self.KIND, self.spec.name)

    def dependencies(self) -> tuple[Address, ...]:
        return ()


@dataclass(frozen=True)
class LogGroup:
    """A CloudWatch Logs group (local: a record)."""

    KIND: ClassVar[Kind] = "log group"
    name: str
    retention_days: int | None

    @property
    def address(self) -> Address:
        return Address(self.KIND, self.name)

    def dependencies(self) -> tuple[Address, ...]:
        return ()


DEFAULT_EPHEMERAL_MB = EPHEMERAL_STORAGE[0]  # Lambda's /tmp when none is set
SNAP_START_ON = {"ApplyOn": "PublishedVersions"}  # snapStart: true (Serverless functions.js)
SNAP_START_OFF = {"ApplyOn": "None"}


@dataclass(frozen=True)
class Function:
    """A Lambda function: its settings, and its code once packaged (None when only its
    identity is needed, as for `tool remove`)."""

    KIND: ClassVar[Kind] = "function"
    name: str
    handler: str
    runtime: str
    memory_size: int
    timeout: int
    environment: dict[str, str]
    role_arn: str
    code: Package | None
    needs: tuple[Address, ...] = ()  # its generated role and its log group
    key: str | None = field(default=None, compare=False)  # functions.<key>; None: the toolkit's
    declared_in: str = field(default="serverless.yml", compare=False)  # for messages
    # (file, line, column) of its runtime, where a message about the runtime points
    runtime_location: tuple[str | None, int | None, int | None] = field(
        default=(None, None, None), compare=False
    )
    settings: FunctionSettings = FunctionSettings()  # description, tracing, layers, vpc, tags
    image: FunctionImage | None = None  # a container image function (no code, handler, runtime)

    @property
    def address(self) -> Address:
        return Address(self.KIND, self.name)

    def dependencies(self) -> tuple[Address, ...]:
        return self.needs

    def configuration(self) -> dict[str, Any]:
        """Lambda's CreateFunction/UpdateFunctionConfiguration settings, each written out (its
        default when serverless.yml sets none), so that a setting removed is reset."""
        settings = self.settings
        vpc = settings.vpc
        if self.image is not None:  # Lambda takes no handler, runtime or layers for an image
            code: dict[str, Any] = {"ImageConfig": self.image.image_config()}
        else:
            code = {
                "Handler": self.handler,
                "Runtime": self.runtime,
                "Layers": list(settings.layers),
            }
        return {
            **code,
            "MemorySize": self.memory_size,
            "Timeout": self.timeout,
            "Environment": {"Variables": dict(self.environment)},
            "Role": self.role_arn,
            "Description": settings.description,
            "TracingConfig": {"Mode": settings.tracing or "PassThrough"},
            "KMSKeyArn": settings.kms_key_arn or "",  # "": Lambda's own key
            "VpcConfig": {
                "SubnetIds": list(vpc.subnet_ids) if vpc else [],
                "SecurityGroupIds": list(vpc.security_group_ids) if vpc else [],
            },
            "EphemeralStorage": {"Size": settings.ephemeral_storage or DEFAULT_EPHEMERAL_MB},
            # only when set: not every runtime takes it (a removed one is reset by the provider)
            **({"SnapStart": SNAP_START_ON} if settings.snap_start else {}),
        }

    @property
    def architectures(self) -> list[str]:
        """CreateFunction/UpdateFunctionCode's Architectures (not a configuration setting)."""
        return [self.settings.architecture]


@dataclass(frozen=True)
class Layer:
    """A Lambda layer of the service's own `layers:`: its current version is the newest one
    this service and stage published (`owner`), found by the mark its description ends with
    (tooling.deploy.layer_versions); a change of code or settings publishes a new version.
    `code` is None when only its identity is needed (remove, info)."""

    KIND: ClassVar[Kind] = "layer"
    name: str  # LayerName
    key: str  # layers.<key>
    owner: str  # the service and stage, as the mark names them
    code: Package | None
    description: str = ""
    compatible_runtimes: tuple[str, ...] = ()
    compatible_architectures: tuple[str, ...] = ()
    license_info: str = ""
    allowed_accounts: tuple[str, ...] = ()
    retain: bool = False

    @property
    def address(self) -> Address:
        return Address(self.KIND, self.name)

    def dependencies(self) -> tuple[Address, ...]:
        return ()

    def content_hash(self) -> str:
        """What a version holds, as 16 hex digits: its code and every setting it is published
        with (Serverless hashes the template and the zip the same way). The accounts allowed
        to use it are not: they are permissions on the version, changed in place."""
        assert self.code is not None, "a layer is published with its package"
        settings = [
            self.name, self.description, list(self.compatible_runtimes),
            list(self.compatible_architectures), self.license_info, self.retain, self.code.sha256,
        ]  # fmt: skip
        return hashlib.sha256(json.dumps(settings).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class StateMachine:
    """A Step Functions state machine. `definition` is the parsed definition, intrinsics
    resolved; `source` maps its values to serverless.yml/definition lines for messages."""

    KIND: ClassVar[Kind] = "state machine"
    name: str
    arn: str
    type: str  # STANDARD | EXPRESS
    definition: Any
    role_arn: str
    logging: dict[str, Any] | None  # Step Functions' loggingConfiguration; None: no logging
    source: Any = field(default=None, compare=False, repr=False)  # SourceMap | None
    # The definition's syntax tree (tooling.asl), as `tool validate` read it: compiled by the
    # local target's check rather than read again.
    tree: Any = field(default=None, compare=False, repr=False)
    declared_in: str = field(default="serverless.yml", compare=False)  # for messages
    needs: tuple[Address, ...] = ()  # its role, its log group, the functions it calls
    tags: tuple[tuple[str, str], ...] = ()  # the user's (the toolkit adds its own)
    tracing: bool = False  # tracingConfiguration.enabled
    encryption: dict[str, Any] | None = None  # encryptionConfiguration; None: AWS owned key
    # useExactVersion: the functions its definition names as `<ARN>:EXACT_VERSION`, put in
    # place by the provider with the number of the version published from each
    exact_versions: tuple[Function, ...] = field(default=(), hash=False)

    @property
    def address(self) -> Address:
        return Address(self.KIND, self.name, self.arn)

    def dependencies(self) -> tuple[Address, ...]:
        return self.needs

    @property
    def definition_text(self) -> str:
        return json.dumps(self.definition, indent=2)


@dataclass(frozen=True)
class Queue:
    """An SQS standard queue; with `dead_letter`, a redrive policy to that queue after
    `max_receive_count` receives. `retention_seconds` None keeps the target's default."""

    KIND: ClassVar[Kind] = "queue"
    name: str
    arn: str
    visibility_timeout: int
    retention_seconds: int | None = None
    dead_letter: Address | None = None
    max_receive_count: int | None = None

    @property
    def address(self) -> Address:
        return Address(self.KIND, self.name, self.arn)

    def dependencies(self) -> tuple[Address, ...]:
        return (self.dead_letter,) if self.dead_letter is not None else ()


@dataclass(frozen=True)
class EventSourceMapping:
    """Lambda polling a queue for a function: the SQS trigger's (ReportBatchItemFailures) or a
    function's `sqs` event; or reading a DynamoDB or Kinesis stream, a function's `stream`
    event."""

    KIND: ClassVar[Kind] = "event source mapping"
    queue_name: str
    queue_arn: str
    function_name: str
    batch_size: int
    maximum_batching_window: int
    needs: tuple[Address, ...] = ()  # the queue (when the service makes it) and the function
    enabled: bool = True
    function_response_types: tuple[str, ...] = ("ReportBatchItemFailures",)
    filter_patterns: tuple[str, ...] = ()  # the JSON text of each FilterCriteria pattern
    maximum_concurrency: int | None = None  # ScalingConfig.MaximumConcurrency
    # A function's `stream` event (DynamoDB or Kinesis; queue_* name the stream): None is not
    # given, Lambda's default (tooling.config.function_stream_events)
    starting_position: str | None = None  # set for a stream, None for a queue
    starting_position_timestamp: float | None = None
    parallelization_factor: int | None = None
    maximum_retry_attempts: int | None = None
    maximum_record_age: int | None = None
    bisect_batch_on_function_error: bool | None = None
    tumbling_window: int | None = None
    on_failure: str | None = None  # DestinationConfig.OnFailure.Destination

    @property
    def address(self) -> Address:
        return Address(self.KIND, mapping_name(self.queue_name, self.function_name), self.queue_arn)

    def dependencies(self) -> tuple[Address, ...]:
        return self.needs


@dataclass(frozen=True)
class Stack:
    """The CloudFormation stack of the service's `resources:` (one per service and stage).

    `template` is what is sent: the service's own logical ids replaced by their values, plus an
    Output per value the service reads (tooling.config.resources.stack_template). `origins`
    maps "Resources/<id>" to where it is written, for messages."""

    KIND: ClassVar[Kind] = "stack"
    name: str
    template: dict[str, Any] = field(hash=False)
    tags: dict[str, str] = field(default_factory=dict, hash=False)  # provider.stackTags
    parameters: dict[str, str] = field(default_factory=dict, hash=False)
    role_arn: str | None = None  # provider.cfnRole
    notification_arns: tuple[str, ...] = ()
    needs: tuple[Address, ...] = ()  # what the template names of the service, when it goes last
    declared_in: str = field(default="serverless.yml", compare=False)
    origins: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def address(self) -> Address:
        return Address(self.KIND, self.name)

    def dependencies(self) -> tuple[Address, ...]:
        return self.needs


@dataclass(frozen=True)
class RuleTarget:
    """One target of an EventBridge rule, in PutTargets' terms."""

    id: str
    arn: str
    role_arn: str | None = None
    input: str | None = None
    input_path: str | None = None
    input_transformer: dict[str, Any] | None = None  # {InputPathsMap, InputTemplate}
    retry_policy: dict[str, int] | None = None
    sqs_message_group_id: str | None = None
    kinesis_partition_key_path: str | None = None
    dead_letter_arn: str | None = None  # an SQS queue for events it could not deliver

    def to_api(self) -> dict[str, Any]:
        target: dict[str, Any] = {"Id": self.id, "Arn": self.arn}
        if self.role_arn:
            target["RoleArn"] = self.role_arn
        if self.input is not None:
            target["Input"] = self.input
        if self.input_path is not None:
            target["InputPath"] = self.input_path
        if self.input_transformer is not None:
            target["InputTransformer"] = dict(self.input_transformer)
        if self.retry_policy:
            target["RetryPolicy"] = dict(self.retry_policy)
        if self.sqs_message_group_id is not None:
            target["SqsParameters"] = {"MessageGroupId": self.sqs_message_group_id}
        if self.kinesis_partition_key_path is not None:
            target["KinesisParameters"] = {"PartitionKeyPath": self.kinesis_partition_key_path}
        if self.dead_letter_arn is not None:
            target["DeadLetterConfig"] = {"Arn": self.dead_letter_arn}
        return target


DEFAULT_EVENT_BUS = "default"


def rule_address_name(event_bus: str, name: str) -> str:
    """A rule's address: its name on the default bus, "<bus>/<name>" on another (as its ARN's
    resource part); rule names hold no '/'."""
    return name if event_bus == DEFAULT_EVENT_BUS else f"{event_bus}/{name}"


def split_rule_address(address_name: str) -> tuple[str, str]:
    """(event bus, rule name) of a rule's address name."""
    bus, _, name = address_name.rpartition("/")
    return bus or DEFAULT_EVENT_BUS, name


@dataclass(frozen=True)
class Rule:
    """An EventBridge rule on the default bus (or `event_bus`): a schedule
    (`schedule_expression`) or an event pattern (`event_pattern`), and its targets."""

    KIND: ClassVar[Kind] = "rule"
    name: str
    arn: str
    targets: tuple[RuleTarget, ...]
    schedule_expression: str | None = None
    event_pattern: dict[str, Any] | None = None
    enabled: bool = True
    description: str | None = None
    needs: tuple[Address, ...] = ()  # the target role, the state machine
    declared_in: tuple[str | None, int | None, int | None] = field(
        default=(None, None, None), compare=False
    )
    event_bus: str = DEFAULT_EVENT_BUS

    @property
    def address(self) -> Address:
        return Address(self.KIND, rule_address_name(self.event_bus, self.name), self.arn)

    def dependencies(self) -> tuple[Address, ...]:
        return self.needs

    def settings(self) -> dict[str, Any]:
        """PutRule's settings (without Name and Tags)."""
        settings: dict[str, Any] = {"State": "ENABLED" if self.enabled else "DISABLED"}
        if self.schedule_expression is not None:
            settings["ScheduleExpression"] = self.schedule_expression
        if self.event_pattern is not None:
            settings["EventPattern"] = json.dumps(self.event_pattern, sort_keys=True)
        if self.description is not None:
            settings["Description"] = self.description
        return settings


@dataclass(frozen=True)
class EventBus:
    """A custom EventBridge event bus the service creates (a function's `eventBridge` event
    naming a bus, not by ARN, as Serverless creates it); tagged as the toolkit's."""

    KIND: ClassVar[Kind] = "event bus"
    name: str
    arn: str

    @property
    def address(self) -> Address:
        return Address(self.KIND, self.name, self.arn)

    def dependencies(self) -> tuple[Address, ...]:
        return ()


@dataclass(frozen=True)
class Topic:
    """An SNS topic the service creates (a function's `sns` event naming a topic, not by ARN,
    as Serverless creates it); tagged as the toolkit's."""

    KIND: ClassVar[Kind] = "topic"
    name: str
    arn: str
    display_name: str | None = None
    kms_master_key_id: str | None = None

    @property
    def address(self) -> Address:
        return Address(self.KIND, self.name, self.arn)

    def dependencies(self) -> tuple[Address, ...]:
        return ()

    def attributes(self) -> dict[str, str]:
        """CreateTopic's Attributes (what the service sets; SNS adds its own)."""
        attributes: dict[str, str] = {}
        if self.display_name is not None:
            attributes["DisplayName"] = self.display_name
        if self.kms_master_key_id is not None:
            attributes["KmsMasterKeyId"] = self.kms_master_key_id
        return attributes


def subscription_name(topic_name: str, function_name: str) -> str:
    return f"{topic_name} -> {function_name}"


@dataclass(frozen=True)
class Subscription:
    """A function subscribed to an SNS topic (protocol lambda). Its address names the topic and
    the function ("<topic> -> <function>") and keeps the topic's ARN. Subscriptions take no
    tags: one is the toolkit's when its endpoint is the service's function."""

    KIND: ClassVar[Kind] = "subscription"
    topic_name: str
    topic_arn: str
    function_name: str
    function_arn: str
    filter_policy: dict[str, Any] | None = None
    filter_policy_scope: str | None = None
    dead_letter_arn: str | None = None
    needs: tuple[Address, ...] = ()

    @property
    def address(self) -> Address:
        return Address(self.KIND, subscription_name(self.topic_name, self.function_name),
                       self.topic_arn)  # fmt: skip

    def dependencies(self) -> tuple[Address, ...]:
        return self.needs

    def attributes(self) -> dict[str, str]:
        """Its attributes as SNS keeps them ("" for one not set)."""
        return {
            "FilterPolicy": json.dumps(self.filter_policy, sort_keys=True)
            if self.filter_policy is not None
            else "",
            "FilterPolicyScope": self.filter_policy_scope or "",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": self.dead_letter_arn})
            if self.dead_letter_arn
            else "",
        }


@dataclass(frozen=True)
class ScheduleGroup:
    """An EventBridge Scheduler schedule group: the toolkit's schedules live in one of the
    service's and stage's own, whose tags say they are the toolkit's (schedules take no tags)."""

    KIND: ClassVar[Kind] = "schedule group"
    name: str

    @property
    def address(self) -> Address:
        return Address(self.KIND, self.name)

    def dependencies(self) -> tuple[Address, ...]:
        return ()


@dataclass(frozen=True)
class Schedule:
    """An EventBridge Scheduler schedule (`method: scheduler`) starting a state machine."""

    KIND: ClassVar[Kind] = "schedule"
    name: str
    group: str
    expression: str
    timezone: str | None
    enabled: bool
    description: str | None
    target_arn: str
    role_arn: str
    input: str | None
    needs: tuple[Address, ...] = ()

    @property
    def address(self) -> Address:
        return Address(self.KIND, schedule_address_name(self.group, self.name))

    def dependencies(self) -> tuple[Address, ...]:
        return self.needs

    def settings(self) -> dict[str, Any]:
        """CreateSchedule/UpdateSchedule's settings (without Name and GroupName)."""
        target: dict[str, Any] = {"Arn": self.target_arn, "RoleArn": self.role_arn}
        if self.input is not None:
            target["Input"] = self.input
        settings: dict[str, Any] = {
            "ScheduleExpression": self.expression,
            "State": "ENABLED" if self.enabled else "DISABLED",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "Target": target,
        }
        if self.timezone:
            settings["ScheduleExpressionTimezone"] = self.timezone
        if self.description:
            settings["Description"] = self.description
        return settings


# A shared REST API's address keeps its id where an ARN would go: "id:<its id>"
EXISTING_REST_API = "id:"
REST_API_ID = "{rest_api_id}"  # in a Permission's source_arn: the REST API's id
HTTP_API_ID = "{http_api_id}"  # ... and the HTTP API's


def permission_name(rule: str, target: str) -> str:
    return f"{rule} -> {target}"


def permission_sid(name: str) -> str:
    """The statement id of the permission named `name`: letters and digits only (SNS, SQS and
    Lambda all take it); the name holds the rule's, so each service and stage has its own."""
    return "tool" + hashlib.sha256(name.encode()).hexdigest()[:24]


def schedule_address_name(group: str, name: str) -> str:
    return f"{group}/{name}"


@dataclass(frozen=True)
class ApiMethod:
    """One method of a REST API resource, with its integration and responses, in API Gateway's
    terms (PutMethod, PutIntegration, PutMethodResponse, PutIntegrationResponse)."""

    path: str  # "" for the root, else "a/b/{id}"
    http_method: str
    authorization_type: str = "NONE"
    api_key_required: bool = False
    authorizer_id: str | None = None
    authorizer: str | None = None  # the name of one of the API's `authorizers` (its id: found)
    authorization_scopes: tuple[str, ...] = ()
    request_parameters: dict[str, bool] = field(default_factory=dict)  # PutMethod's
    integration: dict[str, Any] = field(default_factory=dict)  # PutIntegration's settings
    method_responses: tuple[dict[str, Any], ...] = ()  # PutMethodResponse's, per status code
    integration_responses: tuple[dict[str, Any], ...] = ()  # PutIntegrationResponse's
    # What `tool serve` needs to answer it locally:
    state_machine_arn: str | None = None
    action: str | None = None  # StartExecution, ...; None for a CORS preflight (MOCK)
    template_kind: str = "default"
    cors_origin: str | None = None
    preflight_headers: dict[str, str] = field(default_factory=dict)
    function_arn: str | None = None  # a function's http event: the Lambda proxy integration's
    declared_in: tuple[str | None, int | None, int | None] = (None, None, None)
    operation_name: str | None = None  # PutMethod's operationName (a shared API's marker)


@dataclass(frozen=True)
class RestApi:
    """An API Gateway REST API with its resources, methods and integrations, deployed to one
    stage."""

    KIND: ClassVar[Kind] = "rest api"
    name: str
    stage: str
    endpoint_type: str
    methods: tuple[ApiMethod, ...]
    vpc_endpoint_ids: tuple[str, ...] = ()
    needs: tuple[Address, ...] = ()  # its role, the state machines it starts
    # Only that it exists matters (no methods, no deployment): the API a `resources:` template
    # names, made before the stack (tooling/deploy/phases.py); the whole API comes later.
    existence_only: bool = False
    # provider.apiGateway.restApiId: on AWS, the methods go on that existing API (under
    # `root_resource_id`, or the resources `predefined_resources` name: service path -> id),
    # which the toolkit never changes or deletes beyond its own methods and the paths it made.
    # The local target keeps an API of its own, by name.
    existing_id: str | None = None
    root_resource_id: str | None = None
    predefined_resources: tuple[tuple[str, str], ...] = ()
    binary_media_types: tuple[str, ...] = ()  # provider.apiGateway.binaryMediaTypes
    minimum_compression_size: int | None = None  # bytes; None: no compression
    api_key_source: str = "HEADER"  # apiKeySourceType
    # The authorizers the http events make: CreateAuthorizer's settings (name, type,
    # authorizerUri or providerARNs, identitySource, ...), found again by name.
    authorizers: tuple[dict[str, Any], ...] = ()
    # where each authorizer is declared (name -> file, line, column), for messages
    authorizer_locations: tuple[tuple[str, tuple[str | None, int | None, int | None]], ...] = field(
        default=(), compare=False
    )

    @property
    def address(self) -> Address:
        """A shared API's id, root resource, restApiResources and the service's paths go where
        an ARN would ("id:<api id>#<root id>#<path>=<id>,...#<path>,..."; API Gateway's path
        parts hold no "#", "," or "="), so a remove knows what it may delete."""
        if self.existing_id is None:
            return Address(self.KIND, self.name)
        predefined = ",".join(f"{path}={rid}" for path, rid in self.predefined_resources)
        parts = (self.existing_id, self.root_resource_id or "", predefined, ",".join(self.paths()))
        return Address(self.KIND, self.name, EXISTING_REST_API + "#".join(parts))

    def dependencies(self) -> tuple[Address, ...]:
        return self.needs

    def paths(self) -> list[str]:
        """Every resource path the methods need, parents first ("" is the root)."""
        paths: set[str] = set()
        for method in self.methods:
            parts = method.path.split("/") if method.path else []
            for end in range(1, len(parts) + 1):
                paths.add("/".join(parts[:end]))
        return sorted(paths, key=lambda p: (p.count("/"), p))


@dataclass(frozen=True)
class ApiKey:
    """An API Gateway API key (provider.apiGateway.apiKeys), found by its name and the
    toolkit's tags (key names are not unique in an account). `value` None: the target generates
    one and keeps it; a value cannot change in place (the key is replaced)."""

    KIND: ClassVar[Kind] = "api key"
    name: str
    value: str | None = None
    description: str | None = None
    customer_id: str | None = None
    enabled: bool = True
    declared_in: tuple[str | None, int | None, int | None] = field(
        default=(None, None, None), compare=False
    )

    @property
    def address(self) -> Address:
        return Address(self.KIND, self.name)

    def dependencies(self) -> tuple[Address, ...]:
        return ()


@dataclass(frozen=True)
class UsagePlan:
    """An API Gateway usage plan on the service's REST API and stage, with its keys (by name);
    `quota` and `throttle` in CreateUsagePlan's shape ({} when unset)."""

    KIND: ClassVar[Kind] = "usage plan"
    name: str
    description: str
    rest_api: str  # the REST API's name
    stage: str
    quota: dict[str, Any] = field(default_factory=dict, hash=False)
    throttle: dict[str, Any] = field(default_factory=dict, hash=False)
    keys: tuple[str, ...] = ()

    @property
    def address(self) -> Address:
        return Address(self.KIND, self.name)

    def dependencies(self) -> tuple[Address, ...]:
        return (Address("rest api", self.rest_api),
                *(Address("api key", key) for key in self.keys))  # fmt: skip


@dataclass(frozen=True)
class HttpApiRoute:
    """A route of an HTTP API with its Lambda proxy integration (AWS_PROXY)."""

    route_key: str  # "GET /users/{id}", "$default"
    function_arn: str
    payload_format: str = "2.0"
    authorization_type: str = "NONE"  # NONE | JWT | AWS_IAM
    authorizer: str | None = None  # the name of one of the API's authorizers
    authorizer_id: str | None = None  # an authorizer of an existing API
    scopes: tuple[str, ...] = ()
    declared_in: tuple[str | None, int | None, int | None] = (None, None, None)


@dataclass(frozen=True)
class HttpApi:
    """An API Gateway v2 HTTP API (ProtocolType HTTP) with its routes, integrations, JWT
    authorizers and `$default` stage (auto-deployed). With `existing_id`, an API made
    elsewhere: only the toolkit's routes and integrations are added to it, and removed."""

    KIND: ClassVar[Kind] = "http api"
    name: str
    routes: tuple[HttpApiRoute, ...]
    cors: dict[str, Any] | None = None  # CorsConfiguration
    authorizers: tuple[dict[str, Any], ...] = ()  # CreateAuthorizer's settings (JWT)
    disable_default_endpoint: bool | None = None
    metrics: bool = False
    existing_id: str | None = None
    needs: tuple[Address, ...] = ()
    existence_only: bool = False  # made before the `resources:` stack that names it

    @property
    def address(self) -> Address:
        if self.existing_id is not None:
            return Address(self.KIND, EXISTING_HTTP_API + self.existing_id)
        return Address(self.KIND, self.name)

    def dependencies(self) -> tuple[Address, ...]:
        return self.needs


@dataclass(frozen=True)
class WebsocketRoute:
    """A route of a WebSocket API with its function's Lambda proxy integration (AWS_PROXY)."""

    route_key: str  # "$connect", "$disconnect", "$default" or a custom key
    function_arn: str
    route_response_selection: str | None = None  # "$default": a `$default` route response
    authorizer: str | None = None  # the name of one of the API's (REQUEST) authorizers
    declared_in: tuple[str | None, int | None, int | None] = (None, None, None)

    @property
    def authorization_type(self) -> str:
        return "CUSTOM" if self.authorizer else "NONE"


@dataclass(frozen=True)
class WebsocketApi:
    """An API Gateway v2 WebSocket API (ProtocolType WEBSOCKET) with its routes, integrations,
    REQUEST authorizers and its stage (named as the service's stage, auto-deployed)."""

    KIND: ClassVar[Kind] = "websocket api"
    name: str
    routes: tuple[WebsocketRoute, ...]
    stage: str
    route_selection: str = "$request.body.action"
    description: str = "Serverless Websockets"
    authorizers: tuple[dict[str, Any], ...] = ()  # CreateAuthorizer's settings (REQUEST)
    needs: tuple[Address, ...] = ()
    existence_only: bool = False  # made before the `resources:` stack that names it

    @property
    def address(self) -> Address:
        return Address(self.KIND, self.name)

    def dependencies(self) -> tuple[Address, ...]:
        return self.needs


@dataclass(frozen=True)
class FunctionUrl:
    """A function's Lambda function URL (CreateFunctionUrlConfig's settings: AuthType, Cors,
    InvokeMode). Known by its function's name; the URL itself is Lambda's choice."""

    KIND: ClassVar[Kind] = "function url"
    function_name: str
    function_arn: str
    settings: dict[str, Any]
    needs: tuple[Address, ...] = ()
    qualifier: str | None = None  # the alias it is on (Serverless' targetAlias), else $LATEST

    @property
    def address(self) -> Address:
        arn = f"{self.function_arn}:{self.qualifier}" if self.qualifier else self.function_arn
        return Address(self.KIND, self.function_name, arn)

    def dependencies(self) -> tuple[Address, ...]:
        return self.needs


@dataclass(frozen=True)
class FunctionAlias:
    """An alias of a function on a version published from it (`provisioned` with its
    provisioned concurrency, `snapstart`), as Serverless makes them. `function` is the function
    as it is deployed: the version the alias points at must hold its code and configuration,
    else a new one is published. Known as "<function name>:<alias>"."""

    KIND: ClassVar[Kind] = "function alias"
    function: Function
    function_arn: str
    alias: str
    provisioned_concurrency: int | None = None
    needs: tuple[Address, ...] = ()
    # PutFunctionEventInvokeConfig's settings on the alias (Serverless puts them there, not on
    # $LATEST, when the function has an alias); None: none
    event_invoke_config: dict[str, Any] | None = field(default=None, hash=False)

    @property
    def address(self) -> Address:
        return Address(self.KIND, f"{self.function.name}:{self.alias}",
                       f"{self.function_arn}:{self.alias}")  # fmt: skip

    def dependencies(self) -> tuple[Address, ...]:
        return self.needs


@dataclass(frozen=True)
class FunctionVersion:
    """The version a state machine with `useExactVersion` names: published from `function` (as
    it is deployed) when the function's last published version does not hold its code and
    configuration. Known by the function's name."""

    KIND: ClassVar[Kind] = "function version"
    function: Function
    function_arn: str
    needs: tuple[Address, ...] = ()

    @property
    def address(self) -> Address:
        return Address(self.KIND, self.function.name, self.function_arn)

    def dependencies(self) -> tuple[Address, ...]:
        return self.needs


@dataclass(frozen=True)
class Alarm:
    """A CloudWatch metric alarm on a state machine's AWS/States metric."""

    KIND: ClassVar[Kind] = "alarm"
    name: str
    settings: dict[str, Any]  # PutMetricAlarm's settings (without AlarmName and Tags)
    needs: tuple[Address, ...] = ()

    @property
    def address(self) -> Address:
        return Address(self.KIND, self.name)

    def dependencies(self) -> tuple[Address, ...]:
        return self.needs


@dataclass(frozen=True)
class Permission:
    """A statement in a target's resource policy letting an EventBridge rule reach it: an SNS
    topic's or SQS queue's policy, or a Lambda function's. Its name is "<rule> -> <target>";
    the statement id is derived from it (`permission_sid`); `target` is the topic's, queue's or
    function's ARN.

    A function's http events give it a Lambda permission for API Gateway instead: `principal`
    apigateway.amazonaws.com, named "<API> -> <function ARN>", `rest_api` the API's name and
    `source_arn` its execute-api ARN with REST_API_ID where the API's id goes (API Gateway
    chooses it; the providers fill it in). A function's s3 events give it one for S3:
    `principal` s3.amazonaws.com, named "<bucket> -> <function ARN>", `source_arn` the bucket's
    ARN and `source_account` its owner."""

    KIND: ClassVar[Kind] = "permission"
    name: str
    target: str
    source_arn: str  # the rule (or the API's execute-api ARN)
    needs: tuple[Address, ...] = ()
    principal: str = "events.amazonaws.com"
    rest_api: str | None = None
    source_account: str | None = None  # an S3 bucket's: its owner (Serverless' SourceAccount)
    # The HTTP (or WebSocket) API's address name, its id going for HTTP_API_ID
    http_api: str | None = None
    # A public function URL's: `lambda:InvokeFunctionUrl` for principal `*`, no source ARN
    function_url_auth_type: str | None = None

    @property
    def address(self) -> Address:
        return Address(self.KIND, self.name, self.target)

    @property
    def sid(self) -> str:
        return permission_sid(self.name)

    @property
    def service(self) -> str:
        return self.target.split(":")[2]

    def dependencies(self) -> tuple[Address, ...]:
        return self.needs

    def statement(self) -> dict[str, Any]:
        """The statement as SNS and SQS policies hold it."""
        action = {"sns": "sns:Publish", "sqs": "sqs:SendMessage"}[self.service]
        return {
            "Sid": self.sid,
            "Effect": "Allow",
            "Principal": {"Service": self.principal},
            "Action": action,
            "Resource": self.target,
            "Condition": {"ArnEquals": {"aws:SourceArn": self.source_arn}},
        }


@dataclass(frozen=True)
class Bucket:
    """An S3 bucket a function's `s3` event creates (Serverless' `S3Bucket<Name>`), tagged as
    the toolkit's; its notifications are `BucketNotification`s."""

    KIND: ClassVar[Kind] = "bucket"
    name: str
    needs: tuple[Address, ...] = ()
    declared_in: str = field(default="serverless.yml", compare=False)

    @property
    def address(self) -> Address:
        return Address(self.KIND, self.name, f"arn:aws:s3:::{self.name}")

    def dependencies(self) -> tuple[Address, ...]:
        return self.needs


S3Rules = tuple[tuple[str, str], ...]  # (prefix|suffix, value) pairs


@dataclass(frozen=True)
class BucketNotification:
    """One function's notifications on one bucket: entries of the bucket's
    LambdaFunctionConfigurations whose Id starts with `id_prefix` (the toolkit's, per function);
    the bucket's other notifications are kept as they are. Its name is "<bucket> -> <function>"
    (`notification_name`); `events` are (event, rules) pairs."""

    KIND: ClassVar[Kind] = "bucket notification"
    bucket: str
    function_arn: str
    events: tuple[tuple[str, S3Rules], ...]
    needs: tuple[Address, ...] = ()

    @property
    def function_name(self) -> str:
        return self.function_arn.rsplit(":", 1)[-1]

    @property
    def address(self) -> Address:
        return Address(self.KIND, notification_name(self.bucket, self.function_name), self.bucket)

    def dependencies(self) -> tuple[Address, ...]:
        return self.needs

    def configurations(self) -> list[dict[str, Any]]:
        """The entries, as GetBucketNotificationConfiguration answers them."""
        entries = []
        for event, rules in self.events:
            entry: dict[str, Any] = {"LambdaFunctionArn": self.function_arn, "Events": [event]}
            if rules:
                entry["Filter"] = {
                    "Key": {"FilterRules": [{"Name": n, "Value": v} for n, v in rules]}
                }
            digest = hashlib.sha256(json.dumps(entry, sort_keys=True).encode()).hexdigest()
            entries.append({"Id": notification_id_prefix(self.function_name) + digest[:16],
                            **entry})  # fmt: skip
        return entries


def notification_name(bucket: str, function_name: str) -> str:
    return f"{bucket} -> {function_name}"


def notification_id_prefix(function_name: str) -> str:
    """The toolkit's Ids on a bucket for one function (":" is in no function's name)."""
    return f"tool:{function_name}:"


Resource = (
    Role
    | LogGroup
    | Function
    | StateMachine
    | Queue
    | EventSourceMapping
    | Stack
    | Rule
    | EventBus
    | Topic
    | Subscription
    | ScheduleGroup
    | Schedule
    | RestApi
    | HttpApi
    | WebsocketApi
    | FunctionUrl
    | FunctionAlias
    | FunctionVersion
    | Alarm
    | Permission
    | Bucket
    | BucketNotification
    | ApiKey
    | UsagePlan
    | Layer
)
