"""Load a service folder's serverless.yml into typed, frozen config objects.

Defaults follow Serverless v3/v4 (notes section 1.1-1.3): stage `dev`, region `us-east-1`,
memorySize 1024, timeout 6, deployed function name `<service>-<stage>-<key>`. Unknown keys under a
state machine are an error (serverless-step-functions validates with allowUnknown: false); unknown
keys elsewhere are warnings, and so are the keys Serverless knows that the toolkit does not use.

Some problems only matter to what is deployed (an IAM statement or environment variable naming
what cannot be resolved): they are kept in `ServiceConfig.problems`, so that `tool validate`,
`plan` and `deploy` refuse them with their line while `remove`, `info` and `logs` still work.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

from tooling.asl import Definition, parse
from tooling.config import runtimes
from tooling.config.constructs import LIFT_PLUGIN, ConstructsReader, Desugared
from tooling.config.events import UNRESOLVED, ApiSettings, EventsReader, MachineEvents
from tooling.config.events import read_api_settings as _read_api_settings
from tooling.config.external import ExternalSources, Unwired
from tooling.config.function_bus_events import state_machine_bus_events
from tooling.config.function_cognito_events import generated_pools
from tooling.config.function_events import FunctionEvents, FunctionEventsReader
from tooling.config.function_images import FunctionImage, ImageReader
from tooling.config.function_s3_events import shared_bucket_problems
from tooling.config.function_settings import (
    LATEST_LAYER_PLUGINS,
    FunctionSettings,
    Pending,
    check_layer,
    provider_setting_warnings,
    read_function_settings,
    read_tags,
    unversioned_layer,
    with_resolved,
)
from tooling.config.function_urls import FunctionUrlSettings, read_function_url, url_logical_id
from tooling.config.http_api_events import HttpApiSettings, read_http_api_settings
from tooling.config.iam_statements import STATEMENT_EXAMPLE, statement_problem
from tooling.config.intrinsics import (
    FunctionTarget,
    IntrinsicContext,
    MachineTarget,
    ResourceValues,
    function_logical_id,
    normalized_name,
    resolve_with_report,
    state_machine_logical_id,
)
from tooling.config.layers import LayerConfig, LayerReader, named_layer, own_layer_ref
from tooling.config.machine_settings import (
    Encryption,
    configure_task_timeouts,
    exact_versions,
    read_encryption,
)
from tooling.config.missing import MISSING
from tooling.config.program_config import PROGRAM_CONFIG_EXTENSIONS, is_program, read_program
from tooling.config.resources import (
    HTTP_API_LOGICAL_ID,
    PENDING,
    REST_API_LOGICAL_ID,
    STACK_KEYS_NOT_APPLIED,
    WEBSOCKETS_API_LOGICAL_ID,
    DeployedValues,
    HttpApiIds,
    RecordingValues,
    Reference,
    ResourcesConfig,
    RestApiIds,
    StackSettings,
    merge_into,
    merged,
    pending_in,
    read_resources,
    resource_ids_of,
)
from tooling.config.rest_authorizers import (
    RestAuthorizer,
    check_authorizers,
    made_authorizer_ids,
)
from tooling.config.triggers import SqsTrigger, parse_sqs_triggers
from tooling.config.variables import VariableResolver
from tooling.config.websocket_events import WebsocketSettings, read_websocket_settings
from tooling.config.yaml_loader import load_yaml_file
from tooling.errors import BadInput, ConfigError, DefinitionError, Where
from tooling.names import (
    NameProblem,
    function_key_problem,
    partition_for,
    region_problem,
    service_name_problem,
    stage_problem,
    state_machine_key_problem,
)
from tooling.sourcemap import Position, SourceMap, pointer_join

# The toolkit runs Python handlers; Serverless itself has no default runtime (assumption).
DEFAULT_RUNTIME = "python3.12"
DEFAULT_MEMORY_SIZE = 1024
DEFAULT_TIMEOUT = 6
STATE_MACHINE_TYPES = ("STANDARD", "EXPRESS")
SQS_DEFAULT_VISIBILITY_TIMEOUT = 30  # SQS CreateQueue's default VisibilityTimeout

TOP_LEVEL_KEYS = frozenset(
    {
        "service", "frameworkVersion", "org", "app", "plugins", "provider", "custom",
        "functions", "stepFunctions", "resources", "package", "layers", "outputs", "params",
        "stages", "useDotenv", "configValidationMode", "variablesResolutionMode",
        "deprecationNotificationMode", "disabledDeprecations",
        "unresolvedVariablesNotificationMode",
        "console", "dashboard", "build", "license", "constructs", "lift",
    }
)  # fmt: skip
# The provider keys of Serverless v3's AWS provider schema (lib/plugins/aws/provider.js
# defineProvider, v3.40.0), plus `name`.
SERVERLESS_PROVIDER_KEYS = frozenset(
    {
        "name", "alb", "apiGateway", "apiName", "architecture", "cfnRole", "cloudFront",
        "deploymentBucket", "deploymentPrefix", "disableRollback", "endpointType", "environment",
        "eventBridge", "httpApi", "iam", "iamManagedPolicies", "iamRoleStatements", "ecr",
        "kmsKeyArn", "lambdaHashingVersion", "layers", "logRetentionInDays",
        "logDataProtectionPolicy", "logs", "memorySize", "notificationArns", "profile", "region",
        "role", "rolePermissionsBoundary", "rollbackConfiguration", "runtime", "runtimeManagement",
        "deploymentMethod", "s3", "stage", "stackName", "stackParameters", "stackPolicy",
        "stackTags", "tags", "timeout", "tracing", "vpc", "vpcEndpointIds", "versionFunctions",
        "websocket", "websocketsApiName", "kinesis", "websocketsApiRouteSelectionExpression",
        "websocketsDescription",
    }
)  # fmt: skip
PROVIDER_KEYS_USED = frozenset(
    {
        "name", "runtime", "stage", "region", "profile", "memorySize", "timeout", "environment",
        "iam", "iamRoleStatements", "iamManagedPolicies", "role", "logRetentionInDays",
        "stackName", "stackTags", "stackParameters", "cfnRole", "notificationArns",
        "apiGateway", "apiName", "endpointType", "vpcEndpointIds",
        "architecture", "tracing", "layers", "vpc", "tags", "httpApi", "ecr",
        # read with the functions' websocket events (tooling.config.websocket_events), which
        # say themselves when they are ignored
        "websocketsApiName", "websocketsApiRouteSelectionExpression", "websocketsDescription",
        "logs",  # said per key (tooling.config.function_settings provider_setting_warnings)
        "kmsKeyArn",
    }
)  # fmt: skip
# How Serverless deploys through CloudFormation; the toolkit deploys functions and state machines
# without a stack, and `resources:` in a stack of their own, so these change nothing it deploys
# (stackPolicy, disableRollback and rollbackConfiguration are said to be ignored when there is
# a `resources:` stack; docs: README "serverless.yml").
PROVIDER_KEYS_NO_EFFECT = frozenset(
    {
        "deploymentBucket", "deploymentPrefix", "deploymentMethod", "stackPolicy",
        "disableRollback", "rollbackConfiguration", "lambdaHashingVersion", "versionFunctions",
    }
)  # fmt: skip
PROVIDER_KEYS = SERVERLESS_PROVIDER_KEYS
# The function keys of Serverless v3 (core schema + AWS provider schema).
FUNCTION_KEYS = frozenset(
    {
        "name", "events", "architecture", "awsKmsKeyArn", "condition", "dependsOn",
        "description", "destinations", "disableLogs", "environment", "ephemeralStorageSize",
        "fileSystemConfig", "handler", "image", "kmsKeyArn", "snapStart", "layers",
        "logRetentionInDays", "logDataProtectionPolicy", "maximumEventAge",
        "maximumRetryAttempts", "memorySize", "onError", "package", "provisionedConcurrency",
        "reservedConcurrency", "role", "runtime", "runtimeManagement", "tags", "timeout",
        "tracing", "url", "versionFunction", "vpc",
    }
)  # fmt: skip
FUNCTION_KEYS_USED = frozenset(
    {
        "name", "handler", "runtime", "memorySize", "timeout", "environment", "package",
        "description", "architecture", "tracing", "layers", "vpc", "ephemeralStorageSize", "tags",
        "events", "url", "role", "reservedConcurrency", "maximumRetryAttempts", "maximumEventAge",
        "destinations", "image", "logRetentionInDays", "kmsKeyArn", "provisionedConcurrency",
        "snapStart",
    }
)  # fmt: skip
FUNCTION_KEYS_NO_EFFECT = frozenset({"condition", "dependsOn", "versionFunction"})
# What the warning about a key the toolkit does not use says of it, where "see README" is not
# enough.
UNSUPPORTED_WHY: dict[str, str] = {}
PER_FUNCTION_ROLES = "serverless-iam-roles-per-function"  # its keys read when it is a plugin
PER_FUNCTION_ROLE_KEYS = frozenset(
    {"iamRoleStatements", "iamRoleStatementsName", "iamRoleStatementsInherit",
     "iamPermissionsBoundary"}
)  # fmt: skip
_PER_FUNCTION_ROLE = (
    PER_FUNCTION_ROLES,
    "Serverless ignores it unless `plugins:` names that plugin, and so does the toolkit: the "
    "function gets the service's role, without these statements (add the plugin, or grant "
    "what it needs in provider.iam.role.statements)",
)
# Function keys of well-known plugins: (plugin, what the toolkit deploys without it).
FUNCTION_PLUGIN_KEYS = {
    "iamRoleStatements": _PER_FUNCTION_ROLE,
    "iamRoleStatementsName": _PER_FUNCTION_ROLE,
    "iamRoleStatementsInherit": _PER_FUNCTION_ROLE,
    "iamPermissionsBoundary": _PER_FUNCTION_ROLE,
    "warmup": ("serverless-plugin-warmup", "no warmer is deployed (ignored)"),
}
PACKAGE_KEYS = frozenset(
    {"patterns", "include", "exclude", "individually", "artifact", "excludeDevDependencies", "path"}
)
FUNCTION_PACKAGE_KEYS = frozenset(
    {"patterns", "include", "exclude", "individually", "artifact", "disable"}
)
# Keys written where Serverless does not look for them, and where they belong.
MISPLACED_KEYS = {
    "package": "the top level (`package:`) or a function (`functions.<key>.package`)",
    "handler": "a function (`functions.<key>.handler`)",
    "events": "a function or a state machine",
    "definition": "a state machine (`stepFunctions.stateMachines.<key>.definition`)",
    # The pre-v3 place of API keys: Serverless v3 deploys them only from provider.apiGateway.
    "apiKeys": "provider.apiGateway.apiKeys: Serverless v3 deploys no key from provider.apiKeys",
    "usagePlan": "provider.apiGateway.usagePlan: Serverless v3 reads it only there",
}
# Top-level keys the toolkit reads, and those that change nothing it deploys.
TOP_LEVEL_KEYS_USED = frozenset(
    {
        "service", "provider", "custom", "functions", "stepFunctions", "package", "params",
        "resources", "constructs", "lift", "layers",
        "frameworkVersion", "plugins", "useDotenv", "configValidationMode",
        "variablesResolutionMode", "deprecationNotificationMode", "disabledDeprecations",
        "unresolvedVariablesNotificationMode", "org", "app", "console", "dashboard", "license",
    }
)  # fmt: skip
STEP_FUNCTIONS_KEYS = frozenset({"stateMachines", "activities", "validate", "noOutput"})
# serverless-step-functions compileStateMachines.schema.js (notes 1.3): nothing else is allowed.
STATE_MACHINE_KEYS = frozenset(
    {
        "definition", "name", "id", "type", "role", "iamRoleStatements", "loggingConfig",
        "tracingConfig", "encryptionConfig", "kmsKeyArns", "events", "dependsOn", "alarms",
        "notifications", "tags", "inheritGlobalTags", "retain", "useExactVersion",
        "configureTaskTimeouts",
    }
)  # fmt: skip

STATE_MACHINE_KEYS_USED = frozenset(
    {
        "definition", "name", "id", "type", "role", "iamRoleStatements", "loggingConfig",
        "events", "alarms", "notifications", "tags", "inheritGlobalTags", "tracingConfig",
        "configureTaskTimeouts", "encryptionConfig", "kmsKeyArns", "retain", "useExactVersion",
    }
)  # fmt: skip
STATE_MACHINE_KEYS_NO_EFFECT = frozenset({"dependsOn"})  # CloudFormation ordering only
# CloudWatch Logs' PutRetentionPolicy periods (Serverless v3's awsLogRetentionInDays)
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
)  # fmt: skip
_FUNCTION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # botocore lambda CreateFunction (64 chars)
# botocore stepfunctions `Name` docs: no whitespace, brackets, wildcards, these specials, controls.
_BAD_STATE_MACHINE_NAME = re.compile(r"[\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]")
_ROLE_ARN = re.compile(r"^arn:[\w-]+:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
_DEFINITION_POINTER = re.compile(r"^/stepFunctions/stateMachines/[^/]+/definition(?:/|$)")
# The service files Serverless v3 looks for, in its order (lib/cli/resolve-configuration-path.js):
# the data formats the toolkit reads, then the programs it cannot run.
CONFIG_FILES = ("serverless.yml", "serverless.yaml", "serverless.json")

# What builds a .ts handler when serverless.yml names nothing: Serverless v4 itself.
DEFAULT_TYPESCRIPT_BUILD = "Serverless v4's default esbuild build"


def config_file_name(directory: Path, given: str | None = None) -> str:
    """The service file: `--config NAME` (as Serverless takes it: a .yml, .yaml, .json, or a
    program, .ts/.js/.mjs/.cjs, directly in the service folder), else the first of
    serverless.yml, .yaml, .json, .ts, .js, .mjs, .cjs there."""
    if given is None:
        for name in CONFIG_FILES:
            if (directory / name).is_file():
                return name
        for extension in PROGRAM_CONFIG_EXTENSIONS:
            if (directory / f"serverless{extension}").is_file():
                return f"serverless{extension}"
        return CONFIG_FILES[0]  # not found: the loader says so
    path = Path(given)
    if path.suffix not in (".yml", ".yaml", ".json", *PROGRAM_CONFIG_EXTENSIONS):
        raise BadInput(
            f"invalid --config value {given!r}: unsupported file extension",
            hint="give a .yml, .yaml, .json, .ts, .js, .mjs or .cjs file",
        )
    if len(path.parts) != 1 and (directory / path).resolve().parent != directory.resolve():
        raise BadInput(
            f"invalid --config value {given!r}: the service file must be in the service folder",
            hint="run the command in the folder that holds it (paths and handlers are read "
            "from there), as Serverless requires",
        )
    if not (directory / path).is_file():
        raise BadInput(
            f"invalid --config value {given!r}: no such file in {directory}",
            hint="give the name of a file in the service folder",
        )
    return path.name


@dataclass(frozen=True)
class FunctionConfig:
    key: str
    name: str  # deployed name: functions.<key>.name or <service>-<stage>-<key>
    handler: str  # as written, and as deployed: "handler.lambda_handler", "index.handler", ...
    handler_file: str  # the file it names: "handler.py", "src/index.js", "bootstrap", or ""
    handler_function: str  # "lambda_handler"; "" where the runtime names none
    runtime: str
    memory_size: int
    timeout: int
    environment: dict[str, str]  # provider.environment merged with the function's
    package_patterns: tuple[str, ...]  # the function's own package.patterns
    arn: str  # arn:<partition>:lambda:<region>:<account>:function:<name>
    runtime_family: str = runtimes.PYTHON  # tooling.config.runtimes families
    package_artifact: str | None = None  # a prebuilt zip: the function's, else the service's
    package_individually: bool = False  # a zip of its own (package.individually)
    # (file, line, column) of its runtime, where a message about the runtime points
    runtime_location: tuple[str | None, int | None, int | None] = (None, None, None)
    # A role of its own (serverless-iam-roles-per-function): its name and statements, the
    # provider's included when inherited; None: the service's role.
    own_role: str | None = None
    own_role_statements: tuple[dict[str, Any], ...] = ()
    # The ARN of the user's role for it (`functions.<key>.role`, as Serverless reads it: an
    # ARN, a `resources:` role's logical id, or an intrinsic); None: a role of the toolkit's.
    role: str | None = None
    settings: FunctionSettings = FunctionSettings()  # description, tracing, layers, vpc, tags...
    events: FunctionEvents = FunctionEvents()  # tooling.config.function_events
    url: FunctionUrlSettings | None = None  # `url:` (a Lambda function URL)
    image: FunctionImage | None = None  # a container image function (runtime and handler "")
    log_retention_days: int | None = None  # its own logRetentionInDays (else the provider's)

    @property
    def target_arn(self) -> str:
        """What its events invoke, as Serverless' resolveLambdaTarget: its alias's ARN when it
        has one (`provisioned`, `snapstart`), else its own."""
        alias = self.settings.target_alias
        return f"{self.arn}:{alias}" if alias else self.arn

    @property
    def uses_service_role(self) -> bool:
        """Whether it runs with the service's function role (generated, or provider.iam.role)."""
        return self.own_role is None and self.role is None


@dataclass(frozen=True)
class StateMachineConfig:
    key: str
    name: str  # stateMachines.<key>.name or <service>-<stage>-<key>
    type: str  # STANDARD | EXPRESS
    definition: Any  # variables and intrinsics resolved
    source: SourceMap | None  # positions of `definition`'s values; "" is the definition itself
    arn: str  # arn:<partition>:states:<region>:<account>:stateMachine:<name>
    sqs_triggers: tuple[SqsTrigger, ...] = ()  # events: - sqs (a toolkit extension)
    logging_config: Any = None  # loggingConfig as written (checked by tooling.deploy)
    role: str | None = None  # `role`: the ARN of a role the user brings (no role is generated)
    iam_role_statements: tuple[dict[str, Any], ...] = ()  # added to the generated role's policy
    logical_id: str = ""  # the plugin's CloudFormation logical id (Ref / Fn::GetAtt name it)
    events: MachineEvents = MachineEvents()  # schedule and http events, alarms, notifications
    tags: tuple[tuple[str, str], ...] = ()  # provider.tags (unless not inherited), then its own
    tracing: bool = False  # tracingConfig.enabled (X-Ray)
    encryption: Encryption | None = None  # encryptionConfig
    kms_key_arns: tuple[str, ...] = ()  # kmsKeyArns: keys the generated role may use
    retain: bool = False  # `retain: true`: `tool remove` leaves it (DeletionPolicy: Retain)
    # `useExactVersion: true`: the keys of the functions its definition names by their
    # published version (`<ARN>:EXACT_VERSION` in `definition` until the deploy knows it)
    exact_versions: tuple[str, ...] = ()

    @cached_property
    def tree(self) -> Definition:
        """The definition's syntax tree, read once for `tool validate`, IAM and the engine."""
        return parse(self.definition, self.source)


@dataclass(frozen=True)
class ServiceConfig:
    directory: Path
    config_file: Path
    service: str
    stage: str
    region: str
    account_id: str
    profile: str | None  # --aws-profile, else provider.profile
    provider: dict[str, Any]
    custom: dict[str, Any]
    functions: dict[str, FunctionConfig]
    state_machines: dict[str, StateMachineConfig]
    warnings: tuple[str, ...]  # unknown keys and the like, each with file:line
    package_patterns: tuple[str, ...] = ()  # service-level package.patterns (include/exclude)
    package_artifact: str | None = None  # service-level package.artifact (a prebuilt zip)
    # package.excludeDevDependencies: leave out node_modules that only devDependencies need
    package_exclude_dev_dependencies: bool = True
    provider_iam_statements: tuple[dict[str, Any], ...] = ()  # provider.iam.role.statements
    # ... and the legacy provider.iamRoleStatements, intrinsics resolved
    resource_ids: frozenset[str] = frozenset()  # logical ids under resources.Resources
    problems: tuple[BadInput, ...] = ()  # errors for validate/plan/deploy (not remove/info)
    plugins: tuple[str, ...] = ()
    # What builds .ts handlers for Serverless: a build plugin named in `plugins:`, or v4's
    # `build.esbuild` (None: nothing; the toolkit then refuses them). tooling/typescript.py.
    typescript_build: str | None = None
    profile_from_option: bool = False  # the profile came from --aws-profile, not the file
    resources: ResourcesConfig | None = None  # `resources:`, deployed as a stack of its own
    # the `resources:` values the service reads (Ref / Fn::GetAtt), in the order first asked
    resource_references: tuple[Reference, ...] = ()
    stack: StackSettings | None = None  # how that stack is deployed (None: no `resources:`)
    api: ApiSettings | None = None  # the REST API of the functions' and machines' http events
    # Its ids, once it exists, when `resources:` names it (set by tooling.deploy.phases)
    rest_api_ids: RestApiIds | None = None
    http_api: HttpApiSettings | None = None  # the HTTP API of the functions' httpApi events
    http_api_ids: HttpApiIds | None = None  # its id, once it exists, if `resources:` names it
    websocket: WebsocketSettings | None = None  # the WebSocket API of the websocket events
    websocket_ids: HttpApiIds | None = None  # its id, once it exists, if `resources:` names it
    # the functions' URLs the service reads (`<Key>LambdaFunctionUrl` logical ids), in order
    url_references: tuple[str, ...] = ()
    function_urls: dict[str, str] = field(default_factory=dict)  # logical id -> URL, as loaded
    layers: dict[str, LayerConfig] = field(default_factory=dict)  # top-level `layers:`
    # logical id -> the current version's ARN of each own layer (set by tooling.deploy.phases)
    layer_arns: dict[str, str] = field(default_factory=dict)


def _has_http_events(
    functions: Mapping[str, FunctionConfig], machines: Mapping[str, StateMachineConfig]
) -> bool:
    return any(f.events.http for f in functions.values()) or any(
        m.events.http for m in machines.values()
    )


def load_service(
    directory: Path,
    *,
    stage: str | None = None,
    region: str | None = None,
    options: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    account_id: str = "000000000000",
    config_file: str | None = None,
    params: Mapping[str, str] | None = None,
    instance_id: str | None = None,
    today: date | None = None,
    external: ExternalSources | None = None,
    resource_values: ResourceValues | None = None,
) -> ServiceConfig:
    """Load and validate `<directory>/<config_file>` (by default the first of serverless.yml, ...;
    see `config_file_name`). `env` defaults to os.environ.

    `params` are `--param key=value` values; `instance_id` is `${sls:instanceId}` (Serverless:
    the time in milliseconds, once per command); `today` dates runtime deprecations;
    `external` reads `${ssm:}`/`${cf:}`/`${s3:}`, `resource_values` the `resources:` entries."""
    loader = _Loader(directory, stage, region, options, env, account_id, config_file)
    loader.params = dict(params or {})
    loader.instance_id = instance_id or str(int(time.time() * 1000))
    loader.today = today or date.today()
    loader.external = external
    loader.resource_values = resource_values
    return loader.load()


@dataclass(frozen=True)
class ServiceSettings:
    """Where a service deploys, read before the rest of serverless.yml (which may need AWS to be
    resolved: `${ssm:}`, `${cf:}`, `${s3:}`)."""

    directory: Path
    stage: str
    region: str
    profile: str | None
    profile_from_option: bool


def load_settings(
    directory: Path,
    *,
    stage: str | None = None,
    region: str | None = None,
    options: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    config_file: str | None = None,
    params: Mapping[str, str] | None = None,
) -> ServiceSettings:
    """Stage, region and profile alone: only the values they are made of are resolved."""
    loader = _Loader(directory, stage, region, options, env, "000000000000", config_file)
    loader.params = dict(params or {})
    return loader.settings()


class _Loader:
    def __init__(
        self,
        directory: Path,
        stage: str | None,
        region: str | None,
        options: Mapping[str, str] | None,
        env: Mapping[str, str] | None,
        account_id: str,
        config_file: str | None,
    ) -> None:
        self.directory = Path(directory)
        self.config_file = config_file_name(self.directory, config_file)
        self.options: dict[str, Any] = dict(options or {})
        if stage:
            self.options["stage"] = stage
        if region:
            self.options["region"] = region
        self.env = os.environ if env is None else env
        self.account_id = account_id
        self.warnings: list[str] = []
        self.problems: list[BadInput] = []
        self.params: dict[str, str] = {}
        self.instance_id = ""
        self.today = date.today()
        self.external: ExternalSources | None = None
        self.resource_values: ResourceValues | None = None
        self._desugared = Desugared()
        self._latest_layers = False  # a plugin of LATEST_LAYER_PLUGINS is named
        self._latest_layers_said: set[str] = set()  # layers whose missing version was said
        self._own_layers: dict[str, LayerConfig] = {}  # top-level `layers:`

    # -- entry --------------------------------------------------------------------------------

    def settings(self) -> ServiceSettings:
        self._open()
        profile = self.options.get("aws-profile") or self.vars.resolve("/provider/profile")
        return ServiceSettings(
            directory=self.directory,
            stage=self._text(self.vars.stage(), "/provider/stage", "stage"),
            region=self._text(self.vars.region(), "/provider/region", "region"),
            profile=str(profile) if profile else None,
            profile_from_option=bool(self.options.get("aws-profile")),
        )

    def _open(self) -> tuple[Any, Path]:
        path = self.directory / self.config_file
        if not path.is_file():
            raise ConfigError(
                f"{self.config_file} not found in {self.directory}",
                file=self.config_file,
                hint=f"run the command in the service folder, the one holding {self.config_file}",
            )
        if is_program(self.config_file):
            raw, smap = (
                read_program(self.directory, self.config_file, self.env),
                SourceMap(self.config_file),
            )
        else:
            raw, smap = load_yaml_file(path, self.config_file)
        if not isinstance(raw, dict):
            raise ConfigError(
                f"{self.config_file} must be a mapping of keys (service, provider, ...)",
                file=self.config_file,
                line=1,
                column=1,
            )
        self.smap = smap
        self.vars = self._resolver(raw, smap)
        if raw.get("useDotenv") is True:
            dotenv = self._dotenv(str(self.vars.stage()))
            if dotenv:
                self.env = {**dotenv, **self.env}  # the real environment wins, as in dotenv
                self.vars = self._resolver(raw, smap)
        return raw, path

    def _resolver(self, raw: dict[str, Any], smap: SourceMap) -> VariableResolver:
        return VariableResolver(
            raw,
            smap,
            service_dir=self.directory,
            options=self.options,
            env=self.env,
            account_id=self.account_id,
            error_type_for=_error_type_for,
            params=self.params,
            instance_id=self.instance_id,
            external=self.external,
        )

    def _dotenv(self, stage: str) -> dict[str, str]:
        """`useDotenv: true`: `.env.<stage>`, else `.env`, in the service folder, expanded, for
        `${env:}` (Serverless v3 lib/cli/load-dotenv.js, with dotenv and dotenv-expand)."""
        from dotenv import dotenv_values

        for name in (f".env.{stage}", ".env"):
            path = self.directory / name
            if path.is_file():
                try:
                    values = dotenv_values(path, interpolate=True)
                except (OSError, UnicodeDecodeError) as exc:
                    raise ConfigError(
                        f"cannot read environment variables from {name}: {exc}", file=name
                    ) from None
                return {key: value for key, value in values.items() if value is not None}
        return {}

    def load(self) -> ServiceConfig:
        raw, path = self._open()
        self._check_keys(raw, TOP_LEVEL_KEYS, "", "the top level")
        self._top_level_support(raw)
        given = self.resource_values
        recording = RecordingValues(given)
        self.resource_values = recording
        self._resources_value = self._with_activities(self.vars.resolve("/resources"))

        service = self._service_name(raw)
        provider = self._mapping("/provider", required=True)
        if provider.get("name") != "aws":
            raise ConfigError(
                f"provider.name must be aws (got {provider.get('name')!r})",
                **self._at("/provider/name"),
                hint="set `provider: {name: aws}`",
            )
        self._check_keys(provider, PROVIDER_KEYS, "/provider", "provider")
        self._support(
            provider, "/provider", "provider", PROVIDER_KEYS_USED, PROVIDER_KEYS_NO_EFFECT
        )
        stage = self._text(self.vars.stage(), "/provider/stage", "stage")
        region = self._text(self.vars.region(), "/provider/region", "region")
        self._check_names(service, stage, region)
        custom = self._mapping("/custom")
        package = self._lenient_mapping(self.vars.resolve("/package"), "/package", "package")
        self._check_keys(package, PACKAGE_KEYS, "/package", "package")
        service_patterns = self._patterns(package, "/package")
        service_artifact = self._artifact(package, "/package")
        exclude_dev = package.get("excludeDevDependencies")
        exclude_dev = True if exclude_dev is None else exclude_dev  # as Serverless reads null
        if not isinstance(exclude_dev, bool):
            raise ConfigError(
                "package.excludeDevDependencies must be true or false",
                **self._at("/package/excludeDevDependencies"),
            )
        plugins = self._plugins()
        layer_reader = LayerReader(self.directory, self._at, self._where, self._patterns,
                                   self._artifact)  # fmt: skip
        try:
            self._own_layers = layer_reader.read(self.vars.resolve("/layers"))
        except ConfigError as exc:  # refused by validate/plan/deploy; remove and info go on
            self.problems.append(exc)
        self.warnings.extend(layer_reader.warnings)
        self._desugared = self._constructs(raw, service, stage, provider, plugins)

        functions = self._functions(service, stage, region, provider, package, plugins)
        pools = generated_pools(  # their triggers: the alias a function's events invoke, if any
            self._function_specs[0], {k: f.target_arn for k, f in functions.items()}
        )
        if pools:  # the user pools of cognitoUserPool events, in the stack as in Serverless'
            self._resources_value = _with_fragment(self._resources_value, {"Resources": pools})
        state_machines = self._state_machines(service, stage, region, functions)
        context = self._context(service, stage, region, functions, state_machines)
        provider_statements = self._provider_statements(provider, context)
        provider_statements += self._statements(
            self._desugared.statements or None,
            "/constructs",
            context,
            "serverless-lift's permissions",
        )
        self._provider_role(provider, context)
        self._managed_policies(provider, context)
        for key, function in list(functions.items()):
            functions[key] = self._function_settings_intrinsics(function, context)
            functions[key] = self._function_user_role(functions[key], context)
            functions[key] = self._function_environment(functions[key], context)
            functions[key] = self._function_events(functions[key], context)
        self.problems.extend(shared_bucket_problems((k, f.events.s3) for k, f in functions.items()))
        self._check_routes(functions, state_machines)
        authorizers = used_authorizers(functions, state_machines)
        self.problems.extend(check_authorizers(authorizers, set(functions), self.warnings))
        api = _read_api_settings(
            self._rest_api_ids_resolved(provider, context),
            service=service,
            stage=stage,
            has_http_events=_has_http_events(functions, state_machines),
            at=self._at,
            warnings=self.warnings,
            problems=self.problems,
        )
        timeouts = {key: fn.timeout for key, fn in functions.items()}
        api_context: dict[str, Any] = {
            # what their authorizers invoke: the alias, if any (Serverless' resolveLambdaTarget)
            "function_arns": {key: fn.target_arn for key, fn in functions.items()},
            "service": service,
            "stage": stage,
            "at": self._at,
            "warnings": self.warnings,
            "problems": self.problems,
        }
        http_api = read_http_api_settings(
            self._http_api_id_resolved(provider.get("httpApi"), context),
            {key: fn.events.http_api for key, fn in functions.items()},
            timeouts,
            **api_context,
        )
        websocket = read_websocket_settings(
            provider,
            {key: fn.events.websocket for key, fn in functions.items()},
            timeouts,
            **api_context,
        )
        if PER_FUNCTION_ROLES in plugins:
            self._function_roles(functions, provider, provider_statements, custom, context)
        profile = self.options.get("aws-profile") or provider.get("profile")
        resources = self._resources(functions, state_machines, provider)
        url_ids = {url_logical_id(k) for k, f in functions.items() if f.url is not None}
        stack = self._stack_settings(service, stage, provider, context) if resources else None
        self.warnings.extend(self.vars.warnings)
        return ServiceConfig(
            directory=self.directory,
            config_file=path,
            service=service,
            stage=stage,
            region=region,
            account_id=self.account_id,
            profile=str(profile) if profile else None,
            provider=provider,
            custom=custom,
            functions=functions,
            state_machines=state_machines,
            warnings=tuple(dict.fromkeys(self.warnings)),
            package_patterns=service_patterns,
            package_artifact=service_artifact,
            package_exclude_dev_dependencies=exclude_dev,
            provider_iam_statements=provider_statements,
            resource_ids=frozenset(self._resource_ids()),
            problems=tuple({p.render(): p for p in self.problems}.values()),
            plugins=plugins,
            typescript_build=self._typescript_build(plugins, raw),
            profile_from_option=bool(self.options.get("aws-profile")),
            resources=resources,
            resource_references=tuple(
                ref
                for ref in recording.asked
                if resources and ref.logical_id in resources.resources
            ),
            stack=stack,
            api=api,
            http_api=http_api,
            websocket=websocket,
            url_references=tuple(
                dict.fromkeys(
                    ref.logical_id
                    for ref in recording.asked
                    if ref.attribute == "FunctionUrl" and ref.logical_id in url_ids
                )
            ),
            function_urls=dict(given.urls) if isinstance(given, DeployedValues) else {},
            layers=self._own_layers,
        )

    # -- helpers ------------------------------------------------------------------------------

    def _check_names(self, service: str, stage: str, region: str) -> None:
        """The names every resource name and state file is built from (tooling.names)."""
        for problem, option, pointer in (
            (stage_problem(stage), "stage", "/provider/stage"),
            (region_problem(region), "region", "/provider/region"),
            (service_name_problem(service, stage), None, "/service"),
        ):
            if problem is None:
                continue
            if option is not None and self.options.get(option):
                raise ConfigError(f"--{option}: {problem.message}", hint=problem.hint)
            self._refuse_name(problem, pointer)

    def _refuse_name(self, problem: NameProblem | None, pointer: str) -> None:
        if problem is not None:
            raise ConfigError(problem.message, **self._at(pointer), hint=problem.hint)

    def _at(self, pointer: str) -> Where:
        """file/line/column of the value at `pointer`, following `${file(...)}` values."""
        smap, at = self.vars.origin(pointer)
        return smap.error_kwargs(at)

    def _where(self, pointer: str) -> str:
        kw = self._at(pointer)
        return ":".join(str(p) for p in (kw["file"], kw["line"], kw["column"]) if p is not None)

    def _mapping(self, pointer: str, *, required: bool = False) -> dict[str, Any]:
        value = self.vars.resolve(pointer)
        if value is None and not required:
            return {}
        if not isinstance(value, dict):
            what = pointer[1:].replace("/", ".")
            raise ConfigError(
                f"{what} must be a mapping" + ("" if value is not None else ", and it is missing"),
                **self._at(pointer),
                hint=f"see the Serverless docs for `{what}`",
            )
        return value

    def _lenient_mapping(self, value: Any, pointer: str, what: str) -> dict[str, Any]:
        """A mapping Serverless' schema asks for but does without: another value is a warning
        and is ignored, as Serverless does under its default `configValidationMode: warn`
        (with `error`, it refuses the file)."""
        if value is None or isinstance(value, dict):
            return value or {}
        mode = self.vars.resolve("/configValidationMode")
        message = f"{what} must be a mapping (got {type(value).__name__})"
        if mode == "error":
            raise ConfigError(
                f"{message}; configValidationMode: error refuses it, as Serverless does",
                **self._at(pointer),
                hint=f"write {what.rsplit(': ', 1)[-1]} as a mapping of its settings",
            )
        self.warnings.append(
            f"{self._where(pointer)}: {message}: ignored, as Serverless ignores it (it warns: "
            "Invalid configuration encountered)"
        )
        return {}

    def _text(self, value: Any, pointer: str, what: str) -> str:
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{what} must be a non-empty string", **self._at(pointer))
        return value

    def _check_keys(
        self,
        mapping: Mapping[str, Any],
        allowed: Iterable[str],
        pointer: str,
        where: str,
        plugin_keys: Mapping[str, tuple[str, str]] | None = None,
    ) -> None:
        """Keys Serverless does not know: a warning, with a suggestion only when it is close;
        a key of a well-known plugin says which, and what its absence means."""
        allowed = sorted(allowed)
        for key in mapping:
            if key in allowed:
                continue
            if plugin_keys and key in plugin_keys:
                plugin, consequence = plugin_keys[key]
                self.warnings.append(
                    f"{self._where(pointer_join(pointer, key))}: '{key}' in {where} is read by "
                    f"the plugin {plugin}, which the toolkit does not run: {consequence}"
                )
                continue
            if key in MISPLACED_KEYS:
                guess = f"; it belongs in {MISPLACED_KEYS[str(key)]}"
            else:
                close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.8)
                guess = f"; did you mean '{close[0]}'?" if close else ""
            self.warnings.append(
                f"{self._where(pointer_join(pointer, key))}: unknown key '{key}' in {where}: "
                f"Serverless does not know it either (ignored{guess})"
            )

    def _support(
        self,
        mapping: Mapping[str, Any],
        pointer: str,
        where: str,
        used: frozenset[str],
        no_effect: frozenset[str],
        known: frozenset[str] = SERVERLESS_PROVIDER_KEYS,
    ) -> None:
        """Keys Serverless knows and the toolkit does not use: said, never dropped silently."""
        for key in mapping:
            if key in used or key in no_effect or key not in known:
                continue
            why = UNSUPPORTED_WHY.get(key, "see README, serverless.yml")
            self.warnings.append(
                f"{self._where(pointer_join(pointer, key))}: {where}.{key} is not supported by "
                f"the toolkit yet (ignored; {why})"
            )

    def _top_level_support(self, raw: Mapping[str, Any]) -> None:
        for key in raw:
            if key not in TOP_LEVEL_KEYS or key in TOP_LEVEL_KEYS_USED:
                continue
            what = f"`{key}` is not supported by the toolkit yet (ignored)"
            if key == "build":  # tooling/typescript.py
                what = (
                    "`build` is read only for whether esbuild builds .ts handlers; its options "
                    "are not (the toolkit bundles each handler with esbuild's defaults)"
                )
            self.warnings.append(f"{self._where(pointer_join('', key))}: {what}")

    def _service_name(self, raw: Mapping[str, Any]) -> str:
        service = self.vars.resolve("/service")
        if isinstance(service, dict) and isinstance(service.get("name"), str):
            # Serverless v2 read `service: {name: x}` with a deprecation; v3 refuses it
            # (lib/classes/service.js, SERVICE_OBJECT_NOTATION).
            self.warnings.append(
                f"{self._where('/service')}: `service: {{name: ...}}` is the Serverless v2 "
                "form (v3 refuses it); read as `service: "
                f"{service['name']}`"
            )
            service = service["name"]
        if not isinstance(service, str) or not service.strip():
            raise ConfigError(
                "`service` is missing: name the service",
                **self._at("/service" if "service" in raw else ""),
                hint="add e.g. `service: my-service` at the top of serverless.yml",
            )
        return service

    def _typescript_build(self, plugins: tuple[str, ...], raw: Mapping[str, Any]) -> str | None:
        named = [p for p in plugins if p in runtimes.TYPESCRIPT_PLUGINS]
        if named:
            return named[0]
        build = self.vars.resolve("/build") if "build" in raw else None
        if isinstance(build, dict) and build.get("esbuild", True) is False:
            return None  # v4 then deploys a .ts handler as it is: refused (tooling.typescript)
        # Serverless v4 builds .ts handlers with its own esbuild unless told not to; v3 deployed
        # them as they are, which Lambda cannot load: built here whatever frameworkVersion says.
        return "build.esbuild" if isinstance(build, dict) else DEFAULT_TYPESCRIPT_BUILD

    def _plugins(self) -> tuple[str, ...]:
        plugins = self.vars.resolve("/plugins")
        if isinstance(plugins, dict):
            plugins = plugins.get("modules")
        if isinstance(plugins, list):
            return tuple(str(p) for p in plugins if isinstance(p, str))
        return ()

    def _artifact(self, package: Mapping[str, Any], pointer: str) -> str | None:
        """package.artifact: a zip in the service folder (Serverless also takes S3 URLs)."""
        artifact = package.get("artifact")
        if artifact is None:
            return None
        at = pointer_join(pointer, "artifact")
        if not isinstance(artifact, str) or not artifact:
            raise ConfigError("package.artifact must be the path of a zip file", **self._at(at))
        if artifact.startswith(("s3://", "https://", "http://")):
            raise ConfigError(
                f"package.artifact {artifact!r} is in S3: the toolkit deploys local files only",
                **self._at(at),
                hint="download it and give its path in the service folder",
            )
        path = (self.directory / artifact).resolve()
        if not path.is_relative_to(self.directory.resolve()):
            raise ConfigError(
                f"package.artifact {artifact!r} is outside the service folder",
                **self._at(at),
                hint="build the zip inside the service folder",
            )
        if not path.is_file():
            # Serverless: "Cannot access package artifact at ..." (INVALID_PACKAGE_ARTIFACT_PATH)
            raise ConfigError(
                f"cannot access package artifact at {artifact!r}: no such file",
                **self._at(at),
                hint="build it first, or fix the path (relative to the service folder)",
            )
        return artifact

    def _patterns(self, package: Mapping[str, Any], pointer: str) -> tuple[str, ...]:
        """package.patterns, with the legacy exclude/include lists mapped onto them."""
        patterns: list[str] = []
        for key, prefix in (("exclude", "!"), ("include", ""), ("patterns", "")):
            items = package.get(key) or []
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                raise ConfigError(
                    f"package.{key} must be a list of glob patterns",
                    **self._at(pointer_join(pointer, key)),
                )
            patterns += [prefix + item for item in items]
        return tuple(patterns)

    def _positive_int(self, value: Any, default: int, pointer: str, what: str) -> int:
        if value is None:
            return default
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ConfigError(f"{what} must be a positive whole number", **self._at(pointer))
        return value

    # -- functions ----------------------------------------------------------------------------

    def _functions_value(self) -> tuple[dict[str, Any], dict[str, str]]:
        """`functions:`, and where each function is written. Serverless v3 also takes a list of
        mappings (usually `- ${file(functions.yml)}`), merged with lodash `_.merge`, falsy items
        skipped (lib/classes/service.js mergeArrays)."""
        value = self.vars.resolve("/functions")
        if not isinstance(value, list):
            functions = self._mapping("/functions")
            return functions, {key: pointer_join("/functions", key) for key in functions}
        functions = {}
        pointers: dict[str, str] = {}
        for index, fragment in enumerate(value):
            at = pointer_join("/functions", index)
            if not fragment:
                continue
            if not isinstance(fragment, dict):
                raise ConfigError(
                    f"functions[{index}] must be a mapping of functions (got "
                    f"{type(fragment).__name__}): Serverless refuses a non-object item in the "
                    "functions list",
                    **self._at(at),
                    hint="write each item as a mapping, e.g. - ${file(functions.yml)}",
                )
            for key in fragment:
                pointers[key] = pointer_join(at, key)
            merge_into(functions, fragment)
        return functions, pointers

    def _functions(
        self,
        service: str,
        stage: str,
        region: str,
        provider: Mapping[str, Any],
        service_package: Mapping[str, Any],
        plugins: tuple[str, ...],
    ) -> dict[str, FunctionConfig]:
        functions, pointers = self._functions_value()
        for key, (spec, at) in self._desugared.functions.items():  # Lift's workers
            functions[key], pointers[key] = spec, at
        for key, events in self._desugared.worker_events.items():
            if isinstance(functions.get(key), dict):
                written = functions[key].get("events")
                written = written if isinstance(written, list) else []
                functions[key] = {**functions[key], "events": [*written, *events]}
        self._function_specs = (functions, pointers)
        provider_env = provider.get("environment") or {}
        if not isinstance(provider_env, dict):
            raise ConfigError(
                "provider.environment must be a mapping", **self._at("/provider/environment")
            )
        partition = partition_for(region)
        service_artifact = self._artifact(service_package, "/package")
        result: dict[str, FunctionConfig] = {}
        self._env_pending: dict[str, dict[str, tuple[Any, str]]] = {}
        self._layers_pending: dict[str, list[Pending]] = {}
        self._latest_layers = bool(LATEST_LAYER_PLUGINS & set(plugins))
        for key, spec in functions.items():
            pointer = pointers[key]
            self._refuse_name(function_key_problem(str(key)), pointer)
            if not isinstance(spec, dict):
                raise ConfigError(f"function '{key}' must be a mapping", **self._at(pointer))
            plugin_keys = FUNCTION_PLUGIN_KEYS
            if PER_FUNCTION_ROLES in plugins:  # its keys are read (_function_roles)
                plugin_keys = {k: v for k, v in plugin_keys.items() if v is not _PER_FUNCTION_ROLE}
            known = FUNCTION_KEYS | (
                PER_FUNCTION_ROLE_KEYS if PER_FUNCTION_ROLES in plugins else set()
            )
            self._check_keys(spec, known, pointer, f"function '{key}'", plugin_keys)
            self._support(
                spec,
                pointer,
                f"functions.{key}",
                FUNCTION_KEYS_USED,
                FUNCTION_KEYS_NO_EFFECT,
                FUNCTION_KEYS,
            )
            image = self._image(key, spec, pointer, provider, region)
            handler = spec.get("handler")
            if image is not None:
                runtime, family, runtime_at = "", runtimes.IMAGE, pointer_join(pointer, "image")
                parsed = runtimes.Handler(family=runtimes.IMAGE, module_path="", function="")
                handler = ""
            else:
                runtime, family, runtime_at = self._runtime(key, spec, provider, pointer)
            if handler is None:
                raise ConfigError(
                    f"function '{key}' has no handler",
                    **self._at(pointer),
                    hint="add e.g. `handler: handler.lambda_handler` (file handler.py, "
                    "function lambda_handler), or an `image:`",
                )
            if image is None:
                handler_at = pointer_join(pointer, "handler")
                try:
                    parsed = runtimes.parse_handler(str(handler), family)
                except runtimes.HandlerFormError as exc:
                    raise ConfigError(
                        f"function '{key}' ({runtime}): {exc.message}",
                        **self._at(handler_at),
                        hint=exc.hint,
                    ) from None
            name = spec.get("name") or f"{service}-{stage}-{key}"
            if not isinstance(name, str) or not _FUNCTION_NAME.fullmatch(name):
                raise ConfigError(
                    f"function '{key}': deployed name {name!r} is not a valid Lambda name",
                    **self._at(pointer_join(pointer, "name") if "name" in spec else pointer),
                    hint="use 1-64 letters, digits, '-' or '_'",
                )
            env = spec.get("environment") or {}
            if not isinstance(env, dict):
                raise ConfigError(
                    f"function '{key}': environment must be a mapping",
                    **self._at(pointer_join(pointer, "environment")),
                )
            package_at = pointer_join(pointer, "package")
            package = self._lenient_mapping(
                spec.get("package"), package_at, f"function '{key}': package"
            )
            self._check_keys(package, FUNCTION_PACKAGE_KEYS, package_at, "package")
            artifact, individually, patterns = self._function_package(
                key, package, package_at, service_package, service_artifact
            )
            if family in (runtimes.JAVA, runtimes.DOTNET) and artifact is None:
                self.warnings.append(
                    f"{self._where(pointer)}: function '{key}' ({runtime}) has no "
                    "package.artifact: the toolkit zips the folder as it is, and Lambda needs "
                    "the build (e.g. `package: {artifact: target/app.jar}` or the `dotnet "
                    "lambda package` zip)"
                )
            environment, pending = self._environment(key, provider_env, env, pointer)
            self._env_pending[key] = pending
            result[key] = FunctionConfig(
                key=key,
                name=name,
                handler=str(handler),
                handler_file=_handler_file(parsed),
                handler_function=parsed.function,
                runtime=runtime,
                memory_size=self._positive_int(
                    spec.get("memorySize", provider.get("memorySize")),
                    DEFAULT_MEMORY_SIZE,
                    pointer_join(pointer, "memorySize"),
                    f"function '{key}': memorySize",
                ),
                timeout=self._positive_int(
                    spec.get("timeout", provider.get("timeout")),
                    DEFAULT_TIMEOUT,
                    pointer_join(pointer, "timeout"),
                    f"function '{key}': timeout",
                ),
                environment=environment,
                url=read_function_url(
                    key, spec.get("url"), pointer_join(pointer, "url"), self._at, self.problems
                ),
                package_patterns=patterns,
                arn=f"arn:{partition}:lambda:{region}:{self.account_id}:function:{name}",
                runtime_family=family,
                package_artifact=artifact,
                package_individually=individually,
                runtime_location=self._location(runtime_at),
                settings=self._function_settings(key, spec, pointer, provider),
                image=image,
                log_retention_days=self._retention(key, spec, pointer),
            )
        self.warnings.extend(provider_setting_warnings(provider, self._where))
        for key, function in result.items():
            result[key] = self._function_destinations(function, result)
        if plugins and any(f.runtime_family == runtimes.NODEJS for f in result.values()):
            self._typescript_plugins(plugins)
        if plugins and any(f.runtime_family == runtimes.PYTHON for f in result.values()):
            self._requirements_plugin(plugins)
        return result

    def _retention(self, key: str, spec: Mapping[str, Any], pointer: str) -> int | None:
        """A function's logRetentionInDays: one of the periods CloudWatch Logs takes (Serverless'
        schema, awsLogRetentionInDays)."""
        value = spec.get("logRetentionInDays")
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value not in LOG_RETENTION_DAYS:
            raise ConfigError(
                f"function '{key}': logRetentionInDays {value!r} is not a period CloudWatch Logs "
                "keeps logs for",
                **self._at(pointer_join(pointer, "logRetentionInDays")),
                hint="one of " + ", ".join(str(d) for d in LOG_RETENTION_DAYS),
            )
        return value

    def _image(
        self,
        key: str,
        spec: Mapping[str, Any],
        pointer: str,
        provider: Mapping[str, Any],
        region: str,
    ) -> FunctionImage | None:
        """A container image function's image (tooling.config.function_images); None for a
        .zip function."""
        if spec.get("image") is None:
            return None
        if spec.get("handler") is not None:
            raise ConfigError(
                f"function '{key}': either handler or image (not both) needs to be set, as "
                "Serverless says",
                **self._at(pointer_join(pointer, "handler")),
            )
        for unused in ("runtime", "layers"):
            if spec.get(unused) is not None:
                self.warnings.append(
                    f"{self._where(pointer_join(pointer, unused))}: function '{key}': "
                    f"`{unused}` does not apply to a container image (Lambda takes neither; "
                    "ignored)"
                )
        ecr = provider.get("ecr") or {}
        reader = ImageReader(key, self._at, region, ecr if isinstance(ecr, dict) else {})
        return reader.read(spec["image"], pointer_join(pointer, "image"))

    def _runtime(
        self, key: str, spec: Mapping[str, Any], provider: Mapping[str, Any], pointer: str
    ) -> tuple[str, str, str]:
        runtime = spec.get("runtime") or provider.get("runtime") or DEFAULT_RUNTIME
        if "runtime" in spec:
            at = pointer_join(pointer, "runtime")
        elif provider.get("runtime"):
            at = "/provider/runtime"
        else:
            at = pointer
        family = runtimes.runtime_family(str(runtime))
        if not isinstance(runtime, str) or family is None:
            raise ConfigError(
                f"function '{key}': runtime {runtime!r} is not a Lambda runtime",
                **self._at(at),
                hint="e.g. " + ", ".join(sorted(runtimes.CURRENT_RUNTIMES)[:6]) + ", ...",
            )
        retired = runtimes.deprecation_warning(runtime, self.today)
        if retired is not None:
            self.warnings.append(f"{self._where(at)}: function '{key}': {retired}")
        elif runtime not in runtimes.CURRENT_RUNTIMES:
            self.warnings.append(
                f"{self._where(at)}: function '{key}': runtime {runtime} is not one Lambda "
                "lists for .zip functions; AWS may refuse it"
            )
        return runtime, family, at

    def _location(self, pointer: str) -> tuple[str | None, int | None, int | None]:
        kw = self._at(pointer)
        return kw["file"], kw["line"], kw["column"]

    def _function_package(
        self,
        key: str,
        package: Mapping[str, Any],
        pointer: str,
        service_package: Mapping[str, Any],
        service_artifact: str | None,
    ) -> tuple[str | None, bool, tuple[str, ...]]:
        """(artifact, individually, patterns) as Serverless v3 packages a function
        (lib/plugins/package/lib/package-service.js): its own artifact first; then, with
        `individually`, a zip of its own; else the service's package."""
        if package.get("disable"):
            raise ConfigError(
                f"function '{key}': package.disable is not supported (the function needs code)",
                **self._at(pointer_join(pointer, "disable")),
                hint="give it a package.artifact instead",
            )
        artifact = self._artifact(package, pointer)
        individually = bool(package.get("individually") or service_package.get("individually"))
        patterns = self._patterns(package, pointer)
        if patterns and artifact is None and not individually:
            self.warnings.append(
                f"{self._where(pointer)}: function '{key}': package patterns at function level "
                "apply only with package.individually (as in Serverless); the service-wide "
                "patterns are used"
            )
        if artifact is None and not individually:
            artifact = service_artifact
        return artifact, individually, patterns

    def _typescript_plugins(self, plugins: tuple[str, ...]) -> None:
        builders = [p for p in plugins if p in runtimes.TYPESCRIPT_PLUGINS]
        for plugin in builders:
            self.warnings.append(
                f"{self._where('/plugins')}: plugin {plugin} builds the code for Serverless; the "
                "toolkit runs no plugin: it bundles .ts handlers with the project's esbuild "
                "(node_modules/.bin/esbuild), as serverless-esbuild does by default, without the "
                "plugin's options, and deploys the other files as they are"
            )

    def _requirements_plugin(self, plugins: tuple[str, ...]) -> None:
        requirements = self.directory / "requirements.txt"
        if "serverless-python-requirements" in plugins and requirements.is_file():
            self.warnings.append(
                f"{self._where('/plugins')}: plugin serverless-python-requirements installs "
                "requirements.txt into the package for Serverless; the toolkit runs no plugin, so "
                "the package holds only the folder's files (install them into the folder first, "
                "e.g. `pip install -r requirements.txt -t .`, or deploy them as a layer)"
            )

    def _environment(
        self,
        key: str,
        provider_env: Mapping[str, Any],
        env: Mapping[str, Any],
        pointer: str,
    ) -> tuple[dict[str, str], dict[str, tuple[Any, str]]]:
        """Plain values now; (value, pointer) of those holding an intrinsic, resolved once the
        functions and state machines are known."""
        plain: dict[str, str] = {}
        pending: dict[str, tuple[Any, str]] = {}
        for source, at in (
            (provider_env, "/provider/environment"),
            (env, pointer_join(pointer, "environment")),
        ):
            for name, value in source.items():
                plain.pop(str(name), None)
                pending.pop(str(name), None)
                if value is None:  # Serverless drops null variables (deleteNullEnvVars.js)
                    continue
                if isinstance(value, bool):
                    plain[str(name)] = "true" if value else "false"
                elif isinstance(value, str | int | float):
                    plain[str(name)] = str(value)
                else:
                    pending[str(name)] = (value, pointer_join(at, name))
        return plain, pending

    def _function_settings(
        self,
        key: str,
        spec: Mapping[str, Any],
        pointer: str,
        provider: Mapping[str, Any],
    ) -> FunctionSettings:
        settings, pending = read_function_settings(
            key, spec, pointer, provider, self._at, self._latest_layers
        )
        self._layers_pending[key] = pending
        return settings

    def _function_destinations(
        self, function: FunctionConfig, functions: Mapping[str, FunctionConfig]
    ) -> FunctionConfig:
        """A destination naming a function of the service by its key: that function's ARN, as
        Serverless resolves it (a key the service does not have is refused at its line)."""
        settings = function.settings
        for which in ("on_success", "on_failure"):
            destination = getattr(settings, which)
            if destination is None or destination.arn.startswith("arn:"):
                continue
            target = functions.get(destination.arn)
            if target is None:
                raise ConfigError(
                    f"function '{function.key}': destination {destination.arn!r} is not a "
                    "function of this service",
                    **self._at(destination.pointer),
                    hint="name a function key of this service, or give an ARN; functions: "
                    + ", ".join(sorted(functions)),
                )
            settings = replace(settings, **{which: replace(destination, arn=target.arn)})
        return replace(function, settings=settings)

    def _function_settings_intrinsics(
        self, function: FunctionConfig, context: IntrinsicContext
    ) -> FunctionConfig:
        """Layers and VPC ids written as intrinsics, resolved as CloudFormation would; a layer
        of the service's own top-level `layers:` stays a reference to it until the deploy
        knows its version's ARN (tooling.config.layers)."""
        pending = self._layers_pending.get(function.key) or []
        if not pending:
            return function
        own_ids = frozenset(layer.logical_id for layer in self._own_layers.values())
        settings = function.settings
        for field_name, value, at in pending:
            named = named_layer(value, own_ids) if field_name == "layers" else None
            if named is not None:
                settings = with_resolved(settings, field_name, own_layer_ref(named))
                continue
            what = f"function '{function.key}': {field_name}"
            resolved = self._resolved(value, at, context, what)
            if resolved is _UNRESOLVED:
                continue
            if field_name == "layers" and isinstance(resolved, str):
                resolved = self._latest_layer(function.key, resolved, at)
                if resolved is _UNRESOLVED:
                    continue
            try:
                if field_name == "layers":
                    resolved = check_layer(function.key, resolved, at, self._at)
                elif not isinstance(resolved, str):
                    raise ConfigError(f"{what}: {resolved!r} is no id", **self._at(at))
            except ConfigError as exc:
                self.problems.append(exc)
                continue
            settings = with_resolved(settings, field_name, resolved)
        return replace(function, settings=settings)

    def _latest_layer(self, key: str, layer: str, at: str) -> Any:
        """A layer written `...:latest` (with serverless-latest-layer-version named), as the
        plugin resolves it: the ARN of the layer's highest version in its region. The local
        target has no layers to run, so its reader answers such a layer as written."""
        unversioned = unversioned_layer(layer)
        if unversioned is None or not self._latest_layers:
            return layer
        external = self.external or Unwired()
        found = external.resolve("layer", unversioned, ())
        if found is MISSING and unversioned in self._latest_layers_said:
            return _UNRESOLVED  # said once, at its first line
        self._latest_layers_said.add(unversioned)
        if found is MISSING and not getattr(external, "layers_needed", True):
            self.warnings.append(
                f"{self._where(at)}: function '{key}': layer {layer.strip()!r}: "
                f"{external.missing_reason('layer', unversioned)}; left out on this target, "
                "whose functions run without their layers"
            )
            return _UNRESOLVED
        if found is MISSING:
            how_to_set = getattr(external, "how_to_set", None)
            self.problems.append(
                ConfigError(
                    f"function '{key}': layer {layer.strip()!r}: "
                    f"{external.missing_reason('layer', unversioned)}",
                    **self._at(at),
                    hint=how_to_set("layer", unversioned)
                    if how_to_set is not None
                    else "write the layer's version number in place of latest",
                )
            )
            return _UNRESOLVED
        return found

    def _function_user_role(
        self, function: FunctionConfig, context: IntrinsicContext
    ) -> FunctionConfig:
        specs, pointers = self._function_specs
        spec = specs.get(function.key)
        value = spec.get("role") if isinstance(spec, dict) else None
        if value is None:
            return function
        at = pointer_join(pointers[function.key], "role")
        arn = self._user_role(value, at, context, f"function '{function.key}': role")
        return replace(function, role=arn) if arn is not None else function

    def _user_role(self, value: Any, at: str, context: IntrinsicContext, what: str) -> str | None:
        """A role the user brings, as Serverless v3 reads it (compile/functions.js compileRole):
        an ARN as it is; `IamRoleLambdaExecution`, the generated role (None); another text, the
        logical id of a `resources:` role (`Fn::GetAtt [it, Arn]`); an intrinsic, resolved.
        None, with a problem at its line, when it gives no role ARN."""
        if isinstance(value, str) and value.startswith("arn:"):
            return value
        if value == FUNCTION_ROLE_LOGICAL_ID:
            return None
        if isinstance(value, str):
            value = {"Fn::GetAtt": [value, "Arn"]}
        elif not isinstance(value, dict):
            self.problems.append(
                ConfigError(
                    f"{what} must be a role ARN, the logical id of a role in resources:, or an "
                    f"intrinsic (Fn::GetAtt, Fn::ImportValue, Fn::Sub); got {value!r}",
                    **self._at(at),
                )
            )
            return None
        resolved = self._resolved(value, at, context, what)
        if resolved is _UNRESOLVED:
            return None
        if isinstance(resolved, str) and PENDING.fullmatch(resolved):
            return resolved  # the stack's value, once it is deployed (tooling/deploy/phases.py)
        if not isinstance(resolved, str) or not _ROLE_ARN.fullmatch(resolved):
            self.problems.append(
                ConfigError(f"{what}: {resolved!r} is no IAM role ARN", **self._at(at))
            )
            return None
        return resolved

    def _function_environment(
        self, function: FunctionConfig, context: IntrinsicContext
    ) -> FunctionConfig:
        pending = self._env_pending.get(function.key) or {}
        if not pending:
            return function
        environment = dict(function.environment)
        for name, (value, at) in pending.items():
            resolved = self._resolved(value, at, context, f"environment variable {name}")
            if isinstance(resolved, str | int | float) and not isinstance(resolved, bool):
                environment[name] = str(resolved)
            elif resolved is not _UNRESOLVED:
                self.problems.append(
                    ConfigError(
                        f"function '{function.key}': environment variable {name} must be a "
                        f"string, number or boolean (got {json.dumps(resolved)})",
                        **self._at(at),
                    )
                )
        return replace(function, environment=environment)

    def _function_events(
        self, function: FunctionConfig, context: IntrinsicContext
    ) -> FunctionConfig:
        specs, pointers = self._function_specs
        spec = specs.get(function.key)
        if not isinstance(spec, dict) or spec.get("events") is None:
            return function

        def resolve(value: Any, at: str, what: str) -> Any:
            resolved = self._resolved(value, at, context, what)
            return UNRESOLVED if resolved is _UNRESOLVED else resolved

        reader = FunctionEventsReader(
            function.key,
            self._at,
            resolve,
            self.warnings,
            self.problems,
            function_timeout=function.timeout,
            visibility_of=self._queue_visibility,
            provider_buckets=self._mapping("/provider").get("s3") or {},
            made_authorizers=self._made_authorizers(),
        )
        events = reader.read(spec["events"], pointer_join(pointers[function.key], "events"))
        return replace(function, events=events)

    def _queue_visibility(self, arn: Any) -> int | None:
        """The VisibilityTimeout of the `resources:` queue `Fn::GetAtt [Queue, Arn]` names (SQS'
        default 30 s when it sets none); None for any other value."""
        target = arn.get("Fn::GetAtt") if isinstance(arn, dict) and len(arn) == 1 else None
        if isinstance(target, str):
            target = target.split(".", 1)
        if not isinstance(target, list) or len(target) != 2 or target[1] != "Arn":
            return None
        fragments = self._resources_value
        for fragment in fragments if isinstance(fragments, list) else [fragments]:
            entries = fragment.get("Resources") if isinstance(fragment, dict) else None
            spec = entries.get(target[0]) if isinstance(entries, dict) else None
            if isinstance(spec, dict) and spec.get("Type") == "AWS::SQS::Queue":
                properties = spec.get("Properties") or {}
                value = properties.get("VisibilityTimeout", SQS_DEFAULT_VISIBILITY_TIMEOUT)
                if isinstance(value, str) and value.isdigit():
                    value = int(value)
                return value if isinstance(value, int) and not isinstance(value, bool) else None
        return None

    # -- state machines -----------------------------------------------------------------------

    def _state_machines(
        self, service: str, stage: str, region: str, functions: Mapping[str, FunctionConfig]
    ) -> dict[str, StateMachineConfig]:
        step = self._mapping("/stepFunctions")
        if not step:
            return {}
        self._check_keys(step, STEP_FUNCTIONS_KEYS, "/stepFunctions", "stepFunctions")
        if step.get("stateMachines") is None:
            # The plugin's schema wants an object; Serverless (configValidationMode: warn)
            # warns and the plugin deploys no state machine (lib/yamlParser.js).
            at = "/stepFunctions/stateMachines" if "stateMachines" in step else "/stepFunctions"
            self.warnings.append(
                f"{self._where(at)}: stepFunctions.stateMachines is empty: no state machine to "
                "deploy (Serverless warns the same)"
            )
            return {}
        machines = self._mapping("/stepFunctions/stateMachines", required=True)
        partition = partition_for(region)
        names: dict[str, tuple[str, str, str]] = {}  # key -> (name, arn, logical id)
        for key, spec in machines.items():
            pointer = pointer_join("/stepFunctions/stateMachines", key)
            self._refuse_name(state_machine_key_problem(str(key)), pointer)
            if not isinstance(spec, dict):
                raise ConfigError(f"state machine '{key}' must be a mapping", **self._at(pointer))
            for unknown in (k for k in spec if k not in STATE_MACHINE_KEYS):
                close = difflib.get_close_matches(str(unknown), sorted(STATE_MACHINE_KEYS), n=1)
                raise ConfigError(
                    f"unknown key '{unknown}' in state machine '{key}'",
                    **self._at(pointer_join(pointer, unknown)),
                    hint=f"did you mean '{close[0]}'?"
                    if close
                    else "serverless-step-functions allows only: "
                    + ", ".join(sorted(STATE_MACHINE_KEYS)),
                )
            name = spec.get("name") or f"{service}-{stage}-{key}"
            if not isinstance(name, str) or len(name) > 80 or _BAD_STATE_MACHINE_NAME.search(name):
                raise ConfigError(
                    f"state machine '{key}': name {name!r} is not a valid state machine name",
                    **self._at(pointer_join(pointer, "name") if "name" in spec else pointer),
                    hint="use 1-80 characters: letters, digits, '-' and '_'",
                )
            arn = f"arn:{partition}:states:{region}:{self.account_id}:stateMachine:{name}"
            names[key] = (name, arn, state_machine_logical_id(key, spec))
        context = self._context(service, stage, region, functions, names)
        result: dict[str, StateMachineConfig] = {}
        for key, spec in machines.items():
            pointer = pointer_join("/stepFunctions/stateMachines", key)
            name, arn, logical_id = names[key]
            self._support(
                spec,
                pointer,
                f"stepFunctions.stateMachines.{key}",
                STATE_MACHINE_KEYS_USED,
                STATE_MACHINE_KEYS_NO_EFFECT,
                STATE_MACHINE_KEYS,
            )
            sm_type = spec.get("type") or "STANDARD"
            if sm_type not in STATE_MACHINE_TYPES:
                raise ConfigError(
                    f"state machine '{key}': type {sm_type!r} is not STANDARD or EXPRESS",
                    **self._at(pointer_join(pointer, "type")),
                    hint="use `type: STANDARD` (the default) or `type: EXPRESS`",
                )
            definition, source = self._definition(key, spec, pointer)
            definition = self._task_timeouts(key, spec, pointer, definition, source, functions)
            exact: tuple[str, ...] = ()
            if self._flag(spec, "useExactVersion", pointer, f"state machine '{key}'"):
                arns = {n: fn.arn for n, fn in functions.items() if self._versioned(n, fn)}
                definition, exact = exact_versions(definition, arns)
            definition = self._definition_intrinsics(definition, source, context)
            role, statements = self._machine_iam(key, spec, pointer, context)
            result[key] = StateMachineConfig(
                key=key,
                name=name,
                type=sm_type,
                definition=definition,
                source=source,
                arn=arn,
                logging_config=self._logging_config(key, spec, pointer, context),
                role=role,
                iam_role_statements=statements,
                sqs_triggers=parse_sqs_triggers(
                    spec.get("events"),
                    pointer_join(pointer, "events"),
                    machine_key=key,
                    region=region,
                    account_id=self.account_id,
                    partition=partition,
                    at=self._at,
                ),
                logical_id=logical_id,
                events=self._machine_events(
                    key, name, sm_type, logical_id, spec, pointer, context, stage, region
                ),
                tags=self._machine_tags(key, spec, pointer),
                tracing=self._machine_tracing(key, spec, pointer),
                encryption=self._machine_encryption(key, spec, pointer, context),
                kms_key_arns=self._kms_key_arns(key, spec, pointer, context),
                retain=self._flag(spec, "retain", pointer, f"state machine '{key}'"),
                exact_versions=exact,
            )
        self._check_unique_queues(result)
        return result

    def _machine_tags(
        self, key: str, spec: Mapping[str, Any], pointer: str
    ) -> tuple[tuple[str, str], ...]:
        """provider.tags (unless `inheritGlobalTags: false`), then the machine's `tags`, as the
        plugin tags it (compileStateMachines.js)."""
        provider = self._mapping("/provider")
        sources: list[tuple[Any, str]] = []
        if spec.get("inheritGlobalTags") is not False:
            sources.append((provider.get("tags"), "/provider/tags"))
        sources.append((spec.get("tags"), pointer_join(pointer, "tags")))
        return read_tags(sources, self._at, f"state machine '{key}'")

    def _versioned(self, key: str, fn: FunctionConfig) -> bool:
        """Whether Serverless publishes versions of the function (functions.js: its
        `versionFunction`, else `provider.versionFunctions`, true by default; always with
        `provisionedConcurrency` or `snapStart`), which useExactVersion names."""
        own = self._mapping(pointer_join("/functions", key)).get("versionFunction")
        versioned = self._mapping("/provider").get("versionFunctions") if own is None else own
        return versioned is not False or fn.settings.target_alias is not None

    def _flag(self, spec: Mapping[str, Any], key: str, pointer: str, who: str) -> bool:
        """A true/false setting (the plugin's Joi.boolean), false when not written."""
        value = spec.get(key, False)
        if not isinstance(value, bool):
            raise ConfigError(
                f"{who}: {key} must be true or false", **self._at(pointer_join(pointer, key))
            )
        return value

    def _task_timeouts(
        self,
        key: str,
        spec: Mapping[str, Any],
        pointer: str,
        definition: Any,
        source: SourceMap | None,
        functions: Mapping[str, FunctionConfig],
    ) -> Any:
        """`configureTaskTimeouts: true` (tooling.config.machine_settings)."""
        if not self._flag(spec, "configureTaskTimeouts", pointer, f"state machine '{key}'"):
            return definition
        timeouts = {name: fn.timeout for name, fn in functions.items()}
        definition, notes = configure_task_timeouts(definition, timeouts)
        for path, message in notes:
            at = "/".join(str(part) for part in path[:-1])
            kw = source.error_kwargs("/" + at) if source else self._at(pointer)
            where = ":".join(str(p) for p in (kw["file"], kw["line"], kw["column"]) if p)
            self.warnings.append(f"{where}: state machine '{key}': {message}")
        return definition

    def _machine_encryption(
        self, key: str, spec: Mapping[str, Any], pointer: str, context: IntrinsicContext
    ) -> Encryption | None:
        if spec.get("encryptionConfig") is None:
            return None
        at = pointer_join(pointer, "encryptionConfig")

        def problem(inner: str, message: str) -> None:
            here = pointer_join(at, inner) if inner else at
            self.problems.append(ConfigError(f"state machine '{key}': {message}", **self._at(here)))

        def resolve_key(value: Any) -> Any:
            resolved = self._resolved(
                value, pointer_join(at, "KmsKeyId"), context, f"state machine '{key}': KmsKeyId"
            )
            return None if resolved is _UNRESOLVED else resolved

        return read_encryption(spec["encryptionConfig"], problem, resolve_key)

    def _kms_key_arns(
        self, key: str, spec: Mapping[str, Any], pointer: str, context: IntrinsicContext
    ) -> tuple[str, ...]:
        value = spec.get("kmsKeyArns")
        if value is None:
            return ()
        at = pointer_join(pointer, "kmsKeyArns")
        if not isinstance(value, list):
            raise ConfigError(
                f"state machine '{key}': kmsKeyArns must be a list of KMS key ARNs", **self._at(at)
            )
        arns: list[str] = []
        for index, item in enumerate(value):
            here = pointer_join(at, index)
            arn = self._resolved(item, here, context, f"state machine '{key}': kmsKeyArns")
            if arn is _UNRESOLVED:
                continue
            if not isinstance(arn, str) or not (arn.startswith("arn:") or pending_in(arn)):
                self.problems.append(
                    ConfigError(
                        f"state machine '{key}': kmsKeyArns[{index}] is not an ARN",
                        **self._at(here),
                        hint="e.g. arn:aws:kms:us-east-1:123456789012:key/<id>, or "
                        "{Fn::GetAtt: [MyKey, Arn]}",
                    )
                )
                continue
            arns.append(arn)
        return tuple(arns)

    def _machine_tracing(self, key: str, spec: Mapping[str, Any], pointer: str) -> bool:
        """`tracingConfig: {enabled: true}` (X-Ray), as the plugin passes it on."""
        value = spec.get("tracingConfig")
        if value is None:
            return False
        at = pointer_join(pointer, "tracingConfig")
        if not isinstance(value, dict) or not isinstance(value.get("enabled", False), bool):
            raise ConfigError(
                f"state machine '{key}': tracingConfig must be a mapping with `enabled: true` "
                "or `false`",
                **self._at(at),
            )
        return bool(value.get("enabled", False))

    def _machine_events(
        self,
        key: str,
        name: str,
        sm_type: str,
        logical_id: str,
        spec: Mapping[str, Any],
        pointer: str,
        context: IntrinsicContext,
        stage: str,
        region: str,
    ) -> MachineEvents:
        """schedule and http events, alarms and notifications (tooling.config.events); other
        event kinds are warned about there."""

        def resolve(value: Any, at: str, what: str) -> Any:
            resolved = self._resolved(value, at, context, f"state machine '{key}': {what}")
            return UNRESOLVED if resolved is _UNRESOLVED else resolved

        reader = EventsReader(
            machine_key=key,
            machine_name=name,
            machine_type=sm_type,
            logical_id=logical_id,
            stage=stage,
            region=region,
            pointer=pointer,
            at=self._at,
            resolve=resolve,
            warnings=self.warnings,
            problems=self.problems,
            directory=self.directory,
            made_authorizers=self._made_authorizers(),
        )
        return replace(reader.read(spec), bus=state_machine_bus_events(reader, spec))

    def _made_authorizers(self) -> dict[str, str]:
        """The REST API authorizers the http events make, by Serverless' logical id (which an
        `authorizerId` `Ref` may name), unless `resources:` has that logical id itself."""
        functions = self._function_specs[0]
        machines = self._mapping("/stepFunctions/stateMachines")
        events = [
            spec.get("events")
            for spec in [*functions.values(), *machines.values()]
            if isinstance(spec, dict)
        ]
        made = made_authorizer_ids(events)
        return {key: name for key, name in made.items() if key not in self._resource_ids()}

    def _check_routes(
        self,
        functions: dict[str, FunctionConfig],
        machines: Mapping[str, StateMachineConfig],
    ) -> None:
        """One REST API holds every http event, and a path answers a method once. Serverless
        and the plugin write both events' methods under one logical id, merged: the plugin's
        (run after Serverless') over a function's, a later function's over an earlier one's.
        So the state machine's event answers, or the later function's, and the one it replaces
        is dropped with a warning at its line (each state machine checks its own twice)."""
        winners: dict[tuple[str, str], tuple[str, object]] = {}
        for key, function in functions.items():  # the last one Serverless reads wins
            for event in function.events.http:
                winners[(event.path, event.method)] = (f"function '{key}'", event)
        for key, machine in machines.items():  # the plugin's, merged over them all
            for machine_event in machine.events.http:
                route = (machine_event.path, machine_event.method)
                if route not in winners or winners[route][0].startswith("function"):
                    winners[route] = (f"state machine '{key}'", machine_event)
        for key, function in list(functions.items()):
            kept = []
            for event in function.events.http:
                winner, answering = winners[(event.path, event.method)]
                if answering is event:
                    kept.append(event)
                    continue
                file, line, column = event.location
                where = ":".join(str(p) for p in (file, line, column) if p is not None)
                self.warnings.append(
                    f"{where}: function '{key}': http event {event.method} /{event.path} is "
                    f"answered by {winner}'s (one REST API holds every http event; Serverless "
                    "merges the two methods, the later over the earlier, the plugin's over "
                    "Serverless'): this one is not deployed"
                )
            if len(kept) != len(function.events.http):
                functions[key] = replace(function, events=FunctionEvents(http=tuple(kept)))

    def _context(
        self,
        service: str,
        stage: str,
        region: str,
        functions: Mapping[str, FunctionConfig],
        machines: Mapping[str, Any],
    ) -> IntrinsicContext:
        """What `Ref`/`Fn::GetAtt` may name: the functions, the state machines by the plugin's
        logical ids, pseudo parameters, and `resources:` entries (through `resource_values`)."""
        targets: dict[str, MachineTarget] = {}
        for value in machines.values():
            if isinstance(value, StateMachineConfig):
                targets[value.logical_id] = MachineTarget(value.name, value.arn)
            else:
                name, arn, logical_id = value
                targets[logical_id] = MachineTarget(name, arn)
        return IntrinsicContext(
            functions={
                k: FunctionTarget(f.name, f.arn, f.url is not None) for k, f in functions.items()
            },
            region=region,
            account_id=self.account_id,
            stack_name=f"{service}-{stage}",
            other_resources=frozenset(self._resource_ids()),
            partition=partition_for(region),
            state_machines=targets,
            resource_values=self.resource_values,
            exports=_Exports(self.external or Unwired()),
            own_exports=self._own_exports(),
            mappings=self._mappings(),
            conditions=self._template_section("Conditions"),
        )

    def _mappings(self) -> dict[str, Any]:
        """The `Mappings` of `resources:` (Fn::FindInMap reads them)."""
        return self._template_section("Mappings")

    def _template_section(self, section: str) -> dict[str, Any]:
        """A section of `resources:` (Mappings, Conditions), as merged from its fragments."""
        value = self._resources_value
        if isinstance(value, list):
            value = merged(value)[0]
        found = value.get(section) if isinstance(value, dict) else None
        return found if isinstance(found, dict) else {}

    def _own_exports(self) -> dict[str, Any]:
        """Export names of `resources:` Outputs (written as text) -> each output's Value."""
        value = self._resources_value
        if isinstance(value, list):
            value = merged(value)[0]
        outputs = value.get("Outputs") if isinstance(value, dict) else None
        own: dict[str, Any] = {}
        for output in (outputs or {}).values():
            export = output.get("Export") if isinstance(output, dict) else None
            name = export.get("Name") if isinstance(export, dict) else None
            if isinstance(name, str) and "Value" in output:
                own[name] = output["Value"]
        return own

    def _definition_intrinsics(
        self, definition: Any, source: SourceMap | None, context: IntrinsicContext
    ) -> Any:
        """A definition's intrinsics, as the plugin resolves them: a whole-value Ref of a
        function gives its ARN. A `resources:` value not known yet is a problem at its line."""
        report = resolve_with_report(definition, replace(context, ref_function_as_arn=True), source)
        self.warnings.extend(report.warnings)
        for unresolved in report.unresolved:
            where = source.error_kwargs(unresolved.pointer) if source else {}
            self.problems.append(DefinitionError(unresolved.message, hint=unresolved.hint, **where))
        return report.value

    def _logging_config(
        self, key: str, spec: Mapping[str, Any], pointer: str, context: IntrinsicContext
    ) -> Any:
        """loggingConfig as written, with destinations given as references (`Fn::GetAtt:
        [MyLogGroup, Arn]`, the plugin's documented form) resolved: a `resources:` log group's
        ARN comes from the stack."""
        config = spec.get("loggingConfig")
        if not isinstance(config, dict) or not isinstance(config.get("destinations"), list):
            return config
        at = pointer_join(pointer_join(pointer, "loggingConfig"), "destinations")
        destinations = []
        for index, item in enumerate(config["destinations"]):
            if isinstance(item, dict):
                what = f"state machine '{key}': loggingConfig.destinations[{index}]"
                resolved = self._resolved(item, pointer_join(at, index), context, what)
                item = item if resolved is _UNRESOLVED else resolved
            destinations.append(item)
        return {**config, "destinations": destinations}

    def _machine_iam(
        self, key: str, spec: Mapping[str, Any], pointer: str, context: IntrinsicContext
    ) -> tuple[str | None, tuple[dict[str, Any], ...]]:
        """`role` and `iamRoleStatements`, which serverless-step-functions makes exclusive."""
        if spec.get("role") is not None and spec.get("iamRoleStatements") is not None:
            raise ConfigError(
                f"state machine '{key}' has both role and iamRoleStatements",
                **self._at(pointer_join(pointer, "iamRoleStatements")),
                hint="with `role` the toolkit generates no role to add statements to: "
                "give the statements to your role, or drop `role`",
            )
        role = self._machine_role(key, spec, pointer_join(pointer, "role"), context)
        statements = self._statements(
            spec.get("iamRoleStatements"),
            pointer_join(pointer, "iamRoleStatements"),
            context,
            f"state machine '{key}': iamRoleStatements",
        )
        return role, statements

    def _machine_role(
        self, key: str, spec: Mapping[str, Any], pointer: str, context: IntrinsicContext
    ) -> str | None:
        if spec.get("role") is None:
            return None
        role = self._resolved(spec["role"], pointer, context, f"state machine '{key}': role")
        if role is _UNRESOLVED:
            return None
        if isinstance(role, str) and (_ROLE_ARN.match(role) or pending_in(role)):
            return role  # an ARN, or a role of `resources:` before its stack is deployed
        shown = role if isinstance(role, str) else json.dumps(role)
        name = role if isinstance(role, str) and role and not role.startswith("arn:") else "NAME"
        raise ConfigError(
            f"state machine '{key}': role must be the ARN of an IAM role (got {shown})",
            **self._at(pointer),
            hint=f"e.g. arn:{context.partition}:iam::{self.account_id}:role/{name}",
        )

    def _function_roles(
        self,
        functions: dict[str, FunctionConfig],
        provider: Mapping[str, Any],
        provider_statements: tuple[dict[str, Any], ...],
        custom: Mapping[str, Any],
        context: IntrinsicContext,
    ) -> None:
        """serverless-iam-roles-per-function (src/lib/index.ts, v3.2): a function that has
        `iamRoleStatements` gets a role of its own, named `iamRoleStatementsName` or
        `<service>-<stage>-<key>-<region>-lambdaRole` (without `-lambdaRole` past 64
        characters), with its log statements, the provider's statements when
        `iamRoleStatementsInherit` (or `custom.serverless-iam-roles-per-function.defaultInherit`)
        says so, then its own."""
        specs, pointers = self._function_specs
        settings = custom.get(PER_FUNCTION_ROLES)
        settings = settings if isinstance(settings, dict) else {}
        for key, function in list(functions.items()):
            spec = specs.get(key)
            if not isinstance(spec, dict) or "iamRoleStatements" not in spec:
                continue
            pointer = pointers[key]
            at = pointer_join(pointer, "iamRoleStatements")
            if spec.get("role"):
                raise ConfigError(
                    f"function '{key}' has both role and iamRoleStatements, which "
                    f"{PER_FUNCTION_ROLES} refuses",
                    **self._at(at),
                    hint="keep one of them",
                )
            if _custom_role(provider):
                raise ConfigError(
                    f"function '{key}': {PER_FUNCTION_ROLES} builds its role from the service's "
                    "generated role, and provider.iam.role names a role of yours (the plugin "
                    "fails on it)",
                    **self._at(at),
                    hint="grant the function's statements in your role, or drop provider.iam.role",
                )
            inherit = spec.get("iamRoleStatementsInherit")
            if inherit is None:
                inherit = settings.get("defaultInherit") is True
            own = self._statements(
                spec.get("iamRoleStatements") or [],
                at,
                context,
                f"functions.{key}.iamRoleStatements",
            )
            statements = (*(provider_statements if inherit is True else ()), *own)
            name = spec.get("iamRoleStatementsName") or _own_role_name(
                context.stack_name, key, self.vars.region()
            )
            if not isinstance(name, str) or not _ROLE_NAME.fullmatch(name):
                raise ConfigError(
                    f"function '{key}': role name {name!r} is not an IAM role name (1-64 of "
                    "letters, digits and +=,.@_-)",
                    **self._at(
                        pointer_join(pointer, "iamRoleStatementsName")
                        if "iamRoleStatementsName" in spec
                        else at
                    ),
                    hint="set a shorter one with iamRoleStatementsName, as the plugin asks",
                )
            for boundary_at, boundary in (
                (
                    pointer_join(pointer, "iamPermissionsBoundary"),
                    spec.get("iamPermissionsBoundary"),
                ),
                (
                    f"/custom/{PER_FUNCTION_ROLES}/iamGlobalPermissionsBoundary",
                    settings.get("iamGlobalPermissionsBoundary"),
                ),
            ):
                if boundary:
                    self.warnings.append(
                        f"{self._where(boundary_at)}: permissions boundaries are not applied to "
                        "the roles the toolkit makes yet (ignored)"
                    )
            functions[key] = replace(function, own_role=name, own_role_statements=statements)

    def _provider_statements(
        self, provider: Mapping[str, Any], context: IntrinsicContext
    ) -> tuple[dict[str, Any], ...]:
        """provider.iam.role.statements and the legacy provider.iamRoleStatements, resolved
        here so that their problems carry a line (tooling.iam uses the result)."""
        iam = provider.get("iam")
        role = iam.get("role") if isinstance(iam, dict) else None
        statements: list[dict[str, Any]] = []
        for pointer, value, what in (
            (
                "/provider/iam/role/statements",
                role.get("statements") if isinstance(role, dict) else None,
                "provider.iam.role.statements",
            ),
            (
                "/provider/iamRoleStatements",
                provider.get("iamRoleStatements"),
                "provider.iamRoleStatements",
            ),
        ):
            statements.extend(self._statements(value, pointer, context, what))
        return tuple(statements)

    def _provider_role(self, provider: dict[str, Any], context: IntrinsicContext) -> None:
        """provider.iam.role (or the legacy provider.role) given as an intrinsic: resolved in
        place; one naming a `resources:` role is a problem (its ARN is not known yet)."""
        iam = provider.get("iam")
        if isinstance(iam, dict) and isinstance(iam.get("role"), dict):
            role = iam["role"]
            name = role.get("name")
            if name is not None and not (
                isinstance(name, str) and _IAM_ROLE_NAME.fullmatch(name) is not None
            ):
                raise ConfigError(
                    f"provider.iam.role.name {name!r} is not an IAM role name: 1 to 64 "
                    "letters, digits and +=,.@_-",
                    **self._at("/provider/iam/role/name"),
                    hint="give the function role a valid name, or drop the key for Serverless' "
                    "<service>-<stage>-<region>-lambdaRole",
                )
            if not ({"statements", "managedPolicies", "name", "path", "tags",
                     "permissionsBoundary"} & set(role)):  # fmt: skip
                resolved = self._resolved(role, "/provider/iam/role", context, "provider.iam.role")
                if isinstance(resolved, str):
                    provider["iam"] = {**iam, "role": resolved}
        if isinstance(provider.get("role"), dict):
            resolved = self._resolved(provider["role"], "/provider/role", context, "provider.role")
            if isinstance(resolved, str):
                provider["role"] = resolved
        for holder, pointer, what in (
            (iam if isinstance(iam, dict) else {}, "/provider/iam/role", "provider.iam.role"),
            (provider, "/provider/role", "provider.role"),
        ):
            role = holder.get("role")
            if isinstance(role, str) and not role.startswith("arn:"):
                # Serverless reads a role that is no ARN as the logical id of a `resources:`
                # role (compile/functions.js compileRole: `Fn::GetAtt [role, Arn]`).
                arn = self._user_role(role, pointer, context, what)
                if arn is not None:
                    if holder is provider:
                        provider["role"] = arn
                    else:
                        provider["iam"] = {**provider["iam"], "role": arn}

    def _managed_policies(self, provider: dict[str, Any], context: IntrinsicContext) -> None:
        """provider.iam.role.managedPolicies (legacy provider.iamManagedPolicies): policy ARNs,
        intrinsics resolved in place; a wrong one is a problem at its line."""
        iam = provider.get("iam")
        role = iam.get("role") if isinstance(iam, dict) else None
        for holder, key, pointer, what in (
            (role, "managedPolicies", "/provider/iam/role/managedPolicies",
             "provider.iam.role.managedPolicies"),
            (provider, "iamManagedPolicies", "/provider/iamManagedPolicies",
             "provider.iamManagedPolicies"),
        ):  # fmt: skip
            if not isinstance(holder, dict) or holder.get(key) is None:
                continue
            value = holder[key]
            if not isinstance(value, list):
                self.problems.append(
                    ConfigError(
                        f"{what} must be a list of policy ARNs",
                        **self._at(pointer),
                        hint="e.g. - arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess",
                    )
                )
                continue
            resolved: list[Any] = []
            for index, item in enumerate(value):
                at = pointer_join(pointer, index)
                arn = self._resolved(item, at, context, f"{what}[{index}]")
                if arn is _UNRESOLVED:
                    continue
                if not isinstance(arn, str) or not arn.startswith("arn:"):
                    self.problems.append(
                        ConfigError(
                            f"{what}[{index}] must be a policy ARN (got {json.dumps(arn)})",
                            **self._at(at),
                            hint="e.g. arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess",
                        )
                    )
                    continue
                resolved.append(arn)
            holder[key] = resolved

    def _statements(
        self, value: Any, pointer: str, context: IntrinsicContext, what: str
    ) -> tuple[dict[str, Any], ...]:
        """IAM statements with their intrinsics resolved; a statement with a problem is left
        out and the problem kept (it stops validate/plan/deploy, not remove)."""
        if value is None:
            return ()
        if not isinstance(value, list):
            self.problems.append(
                ConfigError(
                    f"{what} must be a list of IAM statements",
                    **self._at(pointer),
                    hint=STATEMENT_EXAMPLE,
                )
            )
            return ()
        kept: list[dict[str, Any]] = []
        for index, raw in enumerate(value):
            at = pointer_join(pointer, index)
            statement = self._resolved(raw, at, context, f"{what}[{index}]")
            if statement is _UNRESOLVED:
                continue
            problem = statement_problem(statement)
            if problem is not None:
                joiner = ": " if problem.key else " "
                self.problems.append(
                    ConfigError(
                        f"{what}[{index}]{joiner}{problem.message}",
                        **self._at(pointer_join(at, problem.key) if problem.key else at),
                        hint=problem.hint,
                    )
                )
                continue
            kept.append(statement)
        return tuple(kept)

    def _http_api_id_resolved(self, value: Any, context: IntrinsicContext) -> Any:
        """provider.httpApi with its `id` resolved when written as an intrinsic (Serverless
        takes e.g. `Fn::ImportValue` there)."""
        if not isinstance(value, dict) or not isinstance(value.get("id"), dict):
            return value
        where = "/provider/httpApi/id"
        resolved = self._resolved(value["id"], where, context, "provider.httpApi.id")
        return {**value, "id": None if resolved is _UNRESOLVED else resolved}

    def _rest_api_ids_resolved(
        self, provider: Mapping[str, Any], context: IntrinsicContext
    ) -> Mapping[str, Any]:
        """provider with apiGateway's restApiId, restApiRootResourceId and restApiResources'
        ids resolved where written as intrinsics (`Fn::ImportValue` of another service's
        export, most often)."""
        gateway = provider.get("apiGateway")
        if not isinstance(gateway, dict):
            return provider
        resolved = dict(gateway)
        for key in ("restApiId", "restApiRootResourceId"):
            if isinstance(gateway.get(key), dict):
                pointer, what = f"/provider/apiGateway/{key}", f"provider.apiGateway.{key}"
                value = self._resolved(gateway[key], pointer, context, what)
                resolved[key] = None if value is _UNRESOLVED else value
        resources = gateway.get("restApiResources")
        if isinstance(resources, dict):
            ids = dict(resources)
            for path, value in resources.items():
                if isinstance(value, dict):
                    pointer = pointer_join("/provider/apiGateway/restApiResources", str(path))
                    found = self._resolved(value, pointer, context, "restApiResources")
                    ids[path] = None if found is _UNRESOLVED else found
            resolved["restApiResources"] = ids
        return {**provider, "apiGateway": resolved}

    def _resolved(self, value: Any, pointer: str, context: IntrinsicContext, what: str) -> Any:
        """`value` with its intrinsics resolved (CloudFormation's meaning: Ref of a function is
        its name). One naming a `resources:` entry whose value is unknown becomes a problem at
        its line, and _UNRESOLVED is returned."""
        smap, base = self.vars.origin(pointer)
        try:
            report = resolve_with_report(value, context, _rebase(smap, base))
        except DefinitionError as exc:
            self.problems.append(
                ConfigError(
                    f"{what}: {exc.message}",
                    file=exc.file,
                    line=exc.line,
                    column=exc.column,
                    hint=exc.hint,
                )
            )
            return _UNRESOLVED
        self.warnings.extend(report.warnings)
        if report.unresolved:
            first = report.unresolved[0]
            kw = _rebase(smap, base).error_kwargs(first.pointer)
            self.problems.append(ConfigError(f"{what}: {first.message}", hint=first.hint, **kw))
            return _UNRESOLVED
        return report.value

    def _check_unique_queues(self, machines: Mapping[str, StateMachineConfig]) -> None:
        seen: dict[str, str] = {}
        for key, machine in machines.items():
            for trigger in machine.sqs_triggers:
                for name in (trigger.queue_name, trigger.dead_letter_queue_name):
                    if name is None:
                        continue
                    if name in seen:
                        raise ConfigError(
                            f"queue {name!r} is used by two sqs triggers (state machines "
                            f"'{seen[name]}' and '{key}')",
                            **self._at(pointer_join("/stepFunctions/stateMachines", key)),
                            hint="each trigger needs a queue of its own",
                        )
                    seen[name] = key

    def _definition(
        self, key: str, spec: Mapping[str, Any], pointer: str
    ) -> tuple[Any, SourceMap | None]:
        at = pointer_join(pointer, "definition")
        definition = spec.get("definition")
        if definition is None:
            raise ConfigError(
                f"state machine '{key}' has no definition",
                **self._at(pointer),
                hint="add `definition: ${file(statemachine.asl.json)}` or an inline definition",
            )
        smap, base = self.vars.origin(at)
        source: SourceMap | None = _rebase(smap, base)
        if isinstance(definition, str):  # a JSON document given as text
            try:
                definition = json.loads(definition)
            except json.JSONDecodeError as exc:
                raise DefinitionError(
                    f"state machine '{key}': the definition text is not valid JSON ({exc.msg})",
                    **self._at(at),
                    hint="fix the JSON or write the definition as YAML",
                ) from None
            source = None
        if not isinstance(definition, dict):
            raise DefinitionError(
                f"state machine '{key}': the definition must be an object",
                **self._at(at),
                hint="it needs StartAt and States",
            )
        return definition, source

    def _constructs(
        self,
        raw: Mapping[str, Any],
        service: str,
        stage: str,
        provider: Mapping[str, Any],
        plugins: tuple[str, ...],
    ) -> Desugared:
        """serverless-lift's `constructs:` as resources, functions and events
        (tooling.config.constructs); the resources join `resources:`."""
        if raw.get("constructs") is None:
            return Desugared()
        if LIFT_PLUGIN not in plugins:
            self.warnings.append(
                f"{self._where('/constructs')}: `constructs` is read by the plugin "
                f"{LIFT_PLUGIN}, which `plugins:` does not name: nothing is deployed for it "
                "(as Serverless does)"
            )
            return Desugared()
        functions, _ = self._functions_value()
        lift = self.vars.resolve("/lift")
        reader = ConstructsReader(
            stack_name=str(provider.get("stackName") or f"{service}-{stage}"),
            functions=functions,
            at=self._at,
            warnings=self.warnings,
            problems=self.problems,
            automatic_permissions=not (
                isinstance(lift, dict) and lift.get("automaticPermissions") is False
            ),
        )
        desugared = reader.read(self.vars.resolve("/constructs"))
        if desugared.resources:
            self._resources_value = _with_fragment(
                self._resources_value, {"Resources": desugared.resources}
            )
        return desugared

    def _with_activities(self, resources: Any) -> Any:
        """`stepFunctions.activities`: the plugin adds an `AWS::StepFunctions::Activity` per name
        to the service's stack (`<Name>StepFunctionsActivity`, with an output
        `<Name>StepFunctionsActivityArn` unless `noOutput`; lib/deploy/stepFunctions/
        compileActivities.js); the toolkit adds them to the stack of `resources:`, where
        `Ref`/`Fn::GetAtt` of them resolve like any entry. An entry of `resources:` with the
        same logical id wins, as Serverless merges `resources:` last."""
        step = self.vars.resolve("/stepFunctions")
        if not isinstance(step, dict) or step.get("activities") in (None, []):
            return resources
        activities = step["activities"]
        at = "/stepFunctions/activities"
        if not isinstance(activities, list):
            raise ConfigError(
                "stepFunctions.activities must be a list of activity names (the plugin refuses "
                "it: activities property is not an array)",
                **self._at(at),
                hint="e.g. activities: [approval, ocrDone]",
            )
        entries: dict[str, Any] = {}
        outputs: dict[str, Any] = {}
        for index, name in enumerate(activities):
            if (
                not isinstance(name, str)
                or not 1 <= len(name) <= 80
                or _BAD_STATE_MACHINE_NAME.search(name)
            ):
                raise ConfigError(
                    f"stepFunctions.activities[{index}]: {name!r} is not an activity name",
                    **self._at(pointer_join(at, index)),
                    hint="1-80 characters: no whitespace, brackets, wildcards or the "
                    "punctuation Step Functions refuses in names",
                )
            logical_id = f"{normalized_name(name)}StepFunctionsActivity"
            entries[logical_id] = {
                "Type": "AWS::StepFunctions::Activity",
                "Properties": {"Name": name},
            }
            if not step.get("noOutput"):
                outputs[f"{logical_id}Arn"] = {
                    "Description": "Current StateMachine Arn",  # the plugin's words
                    "Value": {"Ref": logical_id},
                }
        fragment: dict[str, Any] = {"Resources": entries}
        if outputs:
            fragment["Outputs"] = outputs
        return _with_fragment(resources, fragment)

    def _resource_ids(self) -> list[str]:
        return resource_ids_of(self._resources_value)

    # -- resources: (a CloudFormation stack of its own) -------------------------------------

    def _resources(
        self,
        functions: Mapping[str, FunctionConfig],
        machines: Mapping[str, StateMachineConfig],
        provider: Mapping[str, Any],
    ) -> ResourcesConfig | None:
        """`resources:` read and checked; its problems kept for validate/plan/deploy."""
        service_ids: dict[str, frozenset[str]] = {}
        for key in functions:
            service_ids[function_logical_id(key)] = frozenset({"Arn"})
            service_ids[f"{normalized_name(key)}LogGroup"] = frozenset({"Arn"})
        for machine in machines.values():
            service_ids[machine.logical_id] = frozenset({"Arn", "Name"})
        for layer in self._own_layers.values():  # published before the stack (phases.py)
            service_ids[layer.logical_id] = frozenset({"LayerVersionArn"})
        if any(f.uses_service_role for f in functions.values()) and not _custom_role(provider):
            service_ids[FUNCTION_ROLE_LOGICAL_ID] = frozenset({"Arn"})
        for key, function in functions.items():  # serverless-iam-roles-per-function's
            if function.own_role is not None:
                service_ids[f"{normalized_name(key)}{FUNCTION_ROLE_LOGICAL_ID}"] = frozenset(
                    {"Arn"}
                )
        gateway = provider.get("apiGateway")
        shared = isinstance(gateway, dict) and gateway.get("restApiId") is not None
        if _has_http_events(functions, machines) and not shared:  # made before the stack
            service_ids[REST_API_LOGICAL_ID] = frozenset({"RootResourceId"})
            for _, authorizer in used_authorizers(functions, machines):  # made with it
                if not authorizer.reference:
                    service_ids[authorizer.logical_id] = frozenset({"AuthorizerId"})
        for key, function in functions.items():
            if function.url is not None:  # made before what reads it (tooling/deploy/phases.py)
                service_ids[url_logical_id(key)] = frozenset({"FunctionUrl", "FunctionArn"})
        http_api = provider.get("httpApi")
        if any(f.events.http_api for f in functions.values()) and not (
            isinstance(http_api, dict) and http_api.get("id")
        ):  # the toolkit makes it before the stack, as the REST API
            service_ids[HTTP_API_LOGICAL_ID] = frozenset({"ApiId", "ApiEndpoint"})
        if any(f.events.websocket for f in functions.values()):  # made before it too
            service_ids[WEBSOCKETS_API_LOGICAL_ID] = frozenset({"ApiId", "ApiEndpoint"})
        bucket = provider.get("deploymentBucket")
        own_bucket = isinstance(bucket, str) or (isinstance(bucket, dict) and "name" in bucket)
        config, problems, warnings = read_resources(
            self._resources_value, service_ids, deployment_bucket=not own_bucket
        )
        for warning in warnings:
            self.warnings.append(f"{self._where(warning.pointer)}: {warning.message}")
        for problem in problems:
            self.problems.append(
                ConfigError(problem.message, **self._at(problem.pointer), hint=problem.hint)
            )
        if config is not None:
            for key in STACK_KEYS_NOT_APPLIED:
                if key in provider:
                    self.warnings.append(
                        f"{self._where(pointer_join('/provider', key))}: provider.{key} is not "
                        "applied to the stack of resources: yet (ignored)"
                    )
        return config

    def _stack_settings(
        self, service: str, stage: str, provider: Mapping[str, Any], context: IntrinsicContext
    ) -> StackSettings:
        name = provider.get("stackName") or f"{service}-{stage}"
        if not isinstance(name, str) or not _STACK_NAME.match(name):
            raise ConfigError(
                f"provider.stackName {name!r} is not a CloudFormation stack name",
                **self._at("/provider/stackName"),
                hint="use 1-128 letters, digits and '-', starting with a letter",
            )
        tags = provider.get("stackTags") or {}
        if not isinstance(tags, dict):
            raise ConfigError(
                "provider.stackTags must be a mapping", **self._at("/provider/stackTags")
            )
        parameters: dict[str, str] = {}
        given = provider.get("stackParameters") or []
        if not isinstance(given, list):
            raise ConfigError(
                "provider.stackParameters must be a list of {ParameterKey, ParameterValue}",
                **self._at("/provider/stackParameters"),
            )
        for index, item in enumerate(given):
            if not isinstance(item, dict) or not isinstance(item.get("ParameterKey"), str):
                raise ConfigError(
                    f"provider.stackParameters[{index}] needs ParameterKey and ParameterValue",
                    **self._at(pointer_join("/provider/stackParameters", index)),
                )
            parameters[item["ParameterKey"]] = str(item.get("ParameterValue", ""))
        role = provider.get("cfnRole")
        if role is not None:
            role = self._resolved(role, "/provider/cfnRole", context, "provider.cfnRole")
            if role is _UNRESOLVED:
                role = None
            elif not isinstance(role, str) or not _ROLE_ARN.match(role):
                raise ConfigError(
                    f"provider.cfnRole must be the ARN of an IAM role (got {role!r})",
                    **self._at("/provider/cfnRole"),
                )
        arns = provider.get("notificationArns") or []
        if not isinstance(arns, list) or not all(isinstance(a, str) for a in arns):
            raise ConfigError(
                "provider.notificationArns must be a list of SNS topic ARNs",
                **self._at("/provider/notificationArns"),
            )
        return StackSettings(
            name=name,
            tags={str(k): str(v) for k, v in tags.items()},
            parameters=parameters,
            role_arn=role,
            notification_arns=tuple(arns),
        )


class _Exports:
    """`Fn::ImportValue` through the target's reader of AWS-service values."""

    def __init__(self, external: ExternalSources) -> None:
        self.external = external

    def value(self, name: str) -> str | None:
        found = self.external.resolve("export", name, ())
        return None if found is MISSING else str(found)

    def missing_reason(self, name: str) -> str:
        return self.external.missing_reason("export", name)


_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")


def _with_fragment(resources: Any, fragment: dict[str, Any]) -> Any:
    """`resources:` with what the toolkit adds for a plugin (`fragment`) merged first: an entry
    of `resources:` with the same logical id wins, as Serverless merges `resources:` last."""
    if resources is None:
        return fragment
    if isinstance(resources, list):
        return [fragment, *resources]
    if isinstance(resources, dict):
        merged: dict[str, Any] = {}
        merge_into(merged, fragment)
        merge_into(merged, resources)
        return merged
    return resources  # not a template: read_resources says so


def _own_role_name(stack_name: str, key: str, region: str) -> str:
    """serverless-iam-roles-per-function's name: Serverless' role name
    `<service>-<stage>-<region>-lambdaRole` with the function's key after the stage, less
    `-lambdaRole` when that passes IAM's 64 characters (still too long: refused by the caller)."""
    name = f"{stack_name}-{key}-{region}-lambdaRole"
    return name if len(name) <= 64 else name.removesuffix("-lambdaRole")


_UNRESOLVED: Any = object()  # a value whose problem was recorded
# The logical id Serverless gives the shared function role (lib/plugins/aws/lib/naming.js).
FUNCTION_ROLE_LOGICAL_ID = "IamRoleLambdaExecution"
_IAM_ROLE_NAME = re.compile(r"[\w+=,.@-]{1,64}", re.ASCII)  # IAM CreateRole's RoleName
_STACK_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,127}$")


def _custom_role(provider: Mapping[str, Any]) -> bool:
    """Whether the functions use a role the user brings (`provider.iam.role` as a name, an ARN
    or a reference, or the legacy `provider.role`): then no function role is generated."""
    iam = provider.get("iam")
    role = iam.get("role") if isinstance(iam, dict) else None
    if isinstance(role, dict) and {"statements", "managedPolicies", "name", "path", "tags",
                                   "permissionsBoundary"} & set(role):  # fmt: skip
        role = None
    return bool(role or provider.get("role"))


def _handler_file(handler: runtimes.Handler) -> str:
    """The file a handler names, relative to the package root ("" when form only)."""
    suffix = {runtimes.PYTHON: ".py", runtimes.NODEJS: ".js", runtimes.RUBY: ".rb"}
    if handler.family in suffix:
        return handler.module_path + suffix[handler.family]
    return handler.executable or ""


def _error_type_for(pointer: str) -> type[BadInput]:
    return DefinitionError if _DEFINITION_POINTER.match(pointer) else ConfigError


def _rebase(smap: SourceMap, base: str) -> SourceMap:
    """The positions under `base`, with `base` becoming the root pointer ""."""
    if not base:
        return smap
    positions: dict[str, Position] = {}
    for pointer, position in smap.positions.items():
        if pointer == base or pointer.startswith(base + "/"):
            positions[pointer[len(base) :]] = position
    return SourceMap(smap.file, positions)


def used_authorizers(
    functions: Mapping[str, FunctionConfig], machines: Mapping[str, StateMachineConfig]
) -> list[tuple[str, RestAuthorizer]]:
    """The REST API authorizers the http events make, in the order Serverless and then the
    plugin compile them (the later one of a name wins)."""
    used: list[tuple[str, RestAuthorizer]] = [
        (f"function '{key}'", event.authorizer)
        for key, function in functions.items()
        for event in function.events.http
        if event.authorizer is not None
    ]
    used.extend(
        (f"state machine '{key}'", event.authorizer)
        for key, machine in machines.items()
        for event in machine.events.http
        if event.authorizer is not None
    )
    return used
