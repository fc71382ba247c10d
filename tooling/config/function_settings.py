"""A function's Lambda settings beyond handler, runtime, memory, timeout and environment, read
as Serverless v3 reads them (lib/plugins/aws/package/compile/functions.js): `description`,
`architecture`, `tracing`, `layers`, `vpc`, `ephemeralStorageSize` and `tags`, each from the
function, else from the provider where Serverless takes it from there.

- `architecture`: the function's, else `provider.architecture`; Lambda's default x86_64.
- `tracing`: the function's, else `provider.tracing.lambda`; `true` is `Active`. Any value
  also gives the function's role X-Ray's PutTraceSegments/PutTelemetryRecords (as Serverless
  adds them to its default role).
- `layers`: the function's list replaces `provider.layers`; layer version ARNs (Lambda takes up
  to 5), or a layer of the service's own top-level `layers:` by its logical id
  (tooling.config.layers), whose version's ARN the deploy puts in its place.
- `vpc`: `securityGroupIds` and `subnetIds`, each the function's else the provider's; without
  both there is no VPC (as Serverless drops it); `vpc: false` or null on a function drops the
  provider's. The role gets AWSLambdaVPCAccessExecutionRole.
- `tags`: `provider.tags` with the function's over them.
- `reservedConcurrency`: a whole number from 0 (PutFunctionConcurrency).
- `maximumRetryAttempts` (0-2), `maximumEventAge` (60-21600 s) and `destinations`
  (`onSuccess`/`onFailure`: a function of the service by its key, an ARN of a function, SQS
  queue, SNS topic or event bus, or `{arn, type}` with `type` function, sqs, sns or eventBus and
  `arn` an intrinsic function): the function's asynchronous invocation settings
  (PutFunctionEventInvokeConfig); each destination gives the role the action Serverless adds
  (lambda:InvokeFunction, sqs:SendMessage, sns:Publish or events:PutEvents on it).
- `provisionedConcurrency` (a whole number; 0 is none, as Serverless reads it) and `snapStart`
  (`true`: `SnapStart: {ApplyOn: PublishedVersions}`): Serverless publishes a version of the
  function and keeps an alias on it, `provisioned` (with PutProvisionedConcurrencyConfig) or
  `snapstart`, and the function's events invoke the alias (`target_alias`;
  tooling.deploy.function_alias_resources). Both at once are
  refused, as Serverless refuses them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from tooling.errors import ConfigError, Where
from tooling.sourcemap import pointer_join

ARCHITECTURES = ("x86_64", "arm64")
TRACING_MODES = ("Active", "PassThrough")
MAX_DESCRIPTION = 256  # CreateFunction Description
MAX_LAYERS = 5  # Lambda's quota: layers per function
EPHEMERAL_STORAGE = (512, 10_240)  # MB (CreateFunction EphemeralStorage.Size)
MAX_TAG_KEY, MAX_TAG_VALUE = 128, 256  # Lambda's and Step Functions' TagResource
_LAYER_ARN = re.compile(r"^arn:[\w-]+:lambda:[a-z0-9-]+:\d{12}:layer:[A-Za-z0-9_-]{1,140}:\d+$")
# Plugins that put a layer's latest version in place of a trailing `latest` (mooyoul's
# serverless-latest-layer-version and its fork): any `arn:` layer string ending in `latest`,
# any case, looked up with ListLayerVersions in the ARN's region (the highest Version wins).
LATEST_LAYER_PLUGINS = frozenset(
    {"serverless-latest-layer-version", "serverless-layer-version-latest"}
)
_LATEST_LAYER = re.compile(
    r"^(arn:[^:]+:lambda:[^:]+:[^:]+:layer:[^:]+):[^:]*latest$", re.IGNORECASE
)
VPC_POLICY = "arn:{partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
# What serverless-step-functions adds to a machine's role with tracingConfig (compileIamRole.js).
MACHINE_XRAY_ACTIONS = (
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
)
XRAY_STATEMENT = {
    "Effect": "Allow",
    "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
    "Resource": ["*"],
}


@dataclass(frozen=True)
class Vpc:
    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]


DESTINATION_TYPES = ("function", "sqs", "sns", "eventBus")
DESTINATION_ACTIONS = {
    "function": "lambda:InvokeFunction",
    "sqs": "sqs:SendMessage",
    "sns": "sns:Publish",
    "eventBus": "events:PutEvents",
}  # Serverless' ensureTargetExecutionPermission
MAXIMUM_RETRY_ATTEMPTS = (0, 2)  # PutFunctionEventInvokeConfig
MAXIMUM_EVENT_AGE = (60, 21_600)  # seconds
# Serverless' alias names (naming.js getLambdaProvisionedConcurrencyAliasName and
# getLambdaSnapStartEnabledAliasName).
PROVISIONED_ALIAS = "provisioned"
SNAPSTART_ALIAS = "snapstart"


@dataclass(frozen=True)
class Destination:
    """Where Lambda sends the record of an asynchronous invocation. `arn` is a function key of
    the service until the loader puts the function's ARN in its place."""

    arn: str
    type: str  # one of DESTINATION_TYPES
    pointer: str = field(default="", compare=False)


@dataclass(frozen=True)
class FunctionSettings:
    description: str = ""
    architecture: str = "x86_64"
    tracing: str | None = None  # TracingConfig.Mode; None: not set (Lambda's PassThrough)
    layers: tuple[str, ...] = ()
    vpc: Vpc | None = None
    ephemeral_storage: int | None = None  # MB; None: Lambda's 512
    tags: tuple[tuple[str, str], ...] = field(default=())
    reserved_concurrency: int | None = None
    maximum_retry_attempts: int | None = None
    maximum_event_age: int | None = None
    on_success: Destination | None = None
    on_failure: Destination | None = None
    provisioned_concurrency: int | None = None  # None (or 0 in serverless.yml): none
    snap_start: bool = False

    @property
    def target_alias(self) -> str | None:
        """The alias Serverless points the function's events at (its `targetAlias`), if any."""
        if self.provisioned_concurrency:
            return PROVISIONED_ALIAS
        if self.snap_start:
            return SNAPSTART_ALIAS
        return None

    # KMSKeyArn (the function's else the provider's kmsKeyArn); written as text, Serverless
    # also lets its shared role decrypt with it
    kms_key_arn: str | None = None
    kms_key_as_text: bool = False

    @property
    def tag_map(self) -> dict[str, str]:
        return dict(self.tags)

    @property
    def destinations(self) -> tuple[Destination, ...]:
        return tuple(d for d in (self.on_success, self.on_failure) if d is not None)

    def event_invoke_config(self) -> dict[str, Any] | None:
        """PutFunctionEventInvokeConfig's settings (without the function), as Serverless
        compiles them; None when the function sets none."""
        if (
            not self.destinations
            and not self.maximum_event_age
            and self.maximum_retry_attempts is None
        ):
            return None
        config: dict[str, Any] = {"DestinationConfig": {}}
        if self.on_success is not None:
            config["DestinationConfig"]["OnSuccess"] = {"Destination": self.on_success.arn}
        if self.on_failure is not None:
            config["DestinationConfig"]["OnFailure"] = {"Destination": self.on_failure.arn}
        if self.maximum_event_age:
            config["MaximumEventAgeInSeconds"] = self.maximum_event_age
        if self.maximum_retry_attempts is not None:
            config["MaximumRetryAttempts"] = self.maximum_retry_attempts
        return config


Locate = Callable[[str], Where]  # a pointer into serverless.yml -> file, line, column


def provider_setting_warnings(
    provider: Mapping[str, Any], where: Callable[[str], str]
) -> list[str]:
    """What of provider.tracing and provider.vpc the toolkit does not deploy, said by key."""
    warnings = []
    tracing = provider.get("tracing")
    if isinstance(tracing, dict):
        for name in sorted(set(tracing) - {"lambda"}):
            warnings.append(
                f"{where('/provider/tracing/' + name)}: provider.tracing.{name} is not deployed "
                "by the toolkit yet (ignored; Lambda's tracing is)"
            )
    vpc = provider.get("vpc")
    if isinstance(vpc, dict):
        for name in sorted(set(vpc) - {"subnetIds", "securityGroupIds"}):
            warnings.append(
                f"{where('/provider/vpc/' + name)}: provider.vpc.{name} is not deployed by the "
                "toolkit yet (ignored)"
            )
    logs = provider.get("logs")
    if isinstance(logs, dict):
        for name in sorted(set(logs) - {"websocket"}):  # websocket: with the websocket events
            if logs[name] in (None, False):
                continue
            said = PROVIDER_LOGS.get(name, "is not one Serverless knows (ignored)")
            warnings.append(f"{where('/provider/logs/' + name)}: provider.logs.{name} {said}")
    elif logs is not None:
        warnings.append(f"{where('/provider/logs')}: provider.logs must be a mapping (ignored)")
    return warnings


# provider.logs (Serverless v3 provider.js `logs`, and v4's `lambda`): what the toolkit does
PROVIDER_LOGS = {
    "restApi": "(the REST API's access and execution logs) is not deployed by the toolkit yet "
    "(ignored)",
    "httpApi": "(the HTTP API's access logs) is not deployed by the toolkit yet (ignored)",
    "frameworkLambda": "has no effect: it logs the custom-resource functions Serverless deploys "
    "for itself, and the toolkit deploys none",
    "lambda": "(Lambda's logging configuration: log format and levels) is not deployed by the "
    "toolkit yet (ignored)",
}


def read_function_settings(
    key: str,
    spec: Mapping[str, Any],
    pointer: str,
    provider: Mapping[str, Any],
    at: Locate,
    latest_layers: bool = False,
) -> tuple[FunctionSettings, list[Pending]]:
    """The settings of `functions.<key>` (`spec`, written at `pointer`), and the layers and VPC
    ids written as intrinsics (`!Sub arn:...:${AWS::AccountId}:layer:...`, `Ref:
    <Name>LambdaLayer`, `Fn::ImportValue`, serverless-pseudo-parameters' `#{AWS::AccountId}`),
    each as (field, value, pointer), for the loader to resolve once it can (`with_resolved`);
    ConfigError at the value's line for what Lambda or Serverless would refuse. With
    `latest_layers` (a plugin of LATEST_LAYER_PLUGINS is named), a layer ending in `latest` is
    pending too: the loader looks its latest version up (`unversioned_layer`)."""
    read = _Reader(key, at, latest_layers)
    settings = FunctionSettings(
        description=read.description(spec.get("description"), pointer_join(pointer, "description")),
        architecture=read.architecture(spec, pointer, provider),
        tracing=read.tracing(spec, pointer, provider),
        layers=read.layers(spec, pointer, provider),
        vpc=read.vpc(spec, pointer, provider),
        ephemeral_storage=read.ephemeral_storage(spec, pointer),
        **read.kms_key(spec, pointer, provider),
        tags=read.tags(spec, pointer, provider),
        reserved_concurrency=read.whole(spec, pointer, "reservedConcurrency", 0, None),
        maximum_retry_attempts=read.whole(spec, pointer, "maximumRetryAttempts",
                                          *MAXIMUM_RETRY_ATTEMPTS),
        maximum_event_age=read.whole(spec, pointer, "maximumEventAge", *MAXIMUM_EVENT_AGE),
        on_success=read.destination(spec, pointer, "onSuccess"),
        on_failure=read.destination(spec, pointer, "onFailure"),
        provisioned_concurrency=read.whole(spec, pointer, "provisionedConcurrency", 0,
                                           None) or None,
        snap_start=read.snap_start(spec, pointer),
    )  # fmt: skip
    return settings, read.pending


def unversioned_layer(layer: str) -> str | None:
    """`arn:...:layer:<name>` of a layer ARN whose version is written `latest`, else None."""
    found = _LATEST_LAYER.fullmatch(layer.strip())
    return found.group(1) if found else None


def check_layer(key: str, layer: Any, pointer: str, at: Locate) -> str:
    """A layer once its intrinsics are resolved: a layer version ARN, else ConfigError."""
    if not isinstance(layer, str) or not _LAYER_ARN.fullmatch(layer):
        latest = isinstance(layer, str) and unversioned_layer(layer) is not None
        raise ConfigError(
            f"function '{key}': layer {layer!r} is not a layer version ARN",
            **at(pointer),
            hint="write the version number, or name serverless-latest-layer-version in "
            "`plugins:`: with it, the toolkit puts the latest version in place of latest, as the "
            "plugin does"
            if latest
            else "arn:aws:lambda:<region>:<account>:layer:<name>:<version>",
        )
    return layer


class _Reader:
    def __init__(self, key: str, at: Locate, latest_layers: bool = False) -> None:
        self.key = key
        self.at = at
        self.latest_layers = latest_layers
        self.pending: list[Pending] = []  # intrinsics, resolved by the loader

    def refuse(self, pointer: str, what: str, hint: str | None = None) -> ConfigError:
        return ConfigError(f"function '{self.key}': {what}", **self.at(pointer), hint=hint)

    def description(self, value: Any, pointer: str) -> str:
        if value is None:
            return ""
        if not isinstance(value, str) or len(value) > MAX_DESCRIPTION:
            raise self.refuse(pointer, f"description must be text of at most {MAX_DESCRIPTION} "
                              "characters")  # fmt: skip
        return value

    def architecture(
        self, spec: Mapping[str, Any], pointer: str, provider: Mapping[str, Any]
    ) -> str:
        value, at = _own_or_provider(spec, pointer, provider, "architecture")
        if value is None:
            return "x86_64"
        if value not in ARCHITECTURES:
            raise self.refuse(at, f"architecture {value!r} is not one Lambda runs",
                              hint="x86_64 or arm64")  # fmt: skip
        return str(value)

    def tracing(
        self, spec: Mapping[str, Any], pointer: str, provider: Mapping[str, Any]
    ) -> str | None:
        value, at = spec.get("tracing"), pointer_join(pointer, "tracing")
        if not value:  # `functionObject.tracing || provider.tracing.lambda`
            tracing = provider.get("tracing")
            value = tracing.get("lambda") if isinstance(tracing, dict) else None
            at = "/provider/tracing/lambda"
        if value is None or value is False:
            return None
        if value is True:
            return "Active"
        if value not in TRACING_MODES:
            raise self.refuse(at, f"tracing {value!r} is not a Lambda tracing mode",
                              hint="Active, PassThrough or true")  # fmt: skip
        return str(value)

    def layers(
        self, spec: Mapping[str, Any], pointer: str, provider: Mapping[str, Any]
    ) -> tuple[str, ...]:
        value, at = _own_or_provider(spec, pointer, provider, "layers")
        if value is None:
            return ()
        if not isinstance(value, list):
            raise self.refuse(at, "layers must be a list of layer version ARNs")
        if len(value) > MAX_LAYERS:
            raise self.refuse(at, f"{len(value)} layers; Lambda takes at most {MAX_LAYERS}")
        plain = []
        for index, layer in enumerate(value):
            latest = self.latest_layers and isinstance(layer, str) and unversioned_layer(layer)
            if _intrinsic(layer) or latest:
                self.pending.append(("layers", layer, pointer_join(at, index)))
            else:
                plain.append(check_layer(self.key, layer, pointer_join(at, index), self.at))
        return tuple(plain)

    def vpc(self, spec: Mapping[str, Any], pointer: str, provider: Mapping[str, Any]) -> Vpc | None:
        if "vpc" in spec and spec["vpc"] in (None, False):
            return None  # the function opts out of the provider's VPC
        own = spec.get("vpc") or {}
        shared = provider.get("vpc") or {}
        for value, at in ((own, pointer_join(pointer, "vpc")), (shared, "/provider/vpc")):
            if not isinstance(value, dict):
                raise self.refuse(at, "vpc must be a mapping with securityGroupIds and subnetIds")
        ids: dict[str, tuple[str, ...]] = {}
        for name in ("subnetIds", "securityGroupIds"):
            value = own.get(name) or shared.get(name)
            at = pointer_join(pointer_join(pointer, "vpc") if own.get(name) else "/provider/vpc",
                              name)  # fmt: skip
            if value is None:
                return None  # Serverless drops a VpcConfig that lacks either list
            if not isinstance(value, list):
                raise self.refuse(
                    at,
                    f"vpc.{name} must be a list of ids",
                    hint="write the ids, or a variable that gives them (${ssm:...}, ${cf:...})",
                )
            plain = []
            for index, item in enumerate(value):
                if _intrinsic(item):  # Fn::ImportValue of another stack's subnet, ...
                    self.pending.append((name, item, pointer_join(at, index)))
                elif isinstance(item, str):
                    plain.append(item)
                else:
                    raise self.refuse(pointer_join(at, index), f"vpc.{name}: {item!r} is no id")
            ids[name] = tuple(plain)
        return Vpc(ids["subnetIds"], ids["securityGroupIds"])

    def kms_key(
        self, spec: Mapping[str, Any], pointer: str, provider: Mapping[str, Any]
    ) -> dict[str, Any]:
        """kmsKeyArn, the function's else the provider's (Serverless v3 functions.js): text
        now, an intrinsic once the loader resolves it (pending)."""
        value, at = _own_or_provider(spec, pointer, provider, "kmsKeyArn")
        if value is None:
            return {}
        if _intrinsic(value):
            self.pending.append(("kmsKeyArn", value, at))
            return {}
        if not isinstance(value, str) or not value.startswith("arn:"):
            raise self.refuse(at, f"kmsKeyArn {value!r} is not a KMS key's ARN",
                              "e.g. arn:aws:kms:us-east-1:123456789012:key/<id>")  # fmt: skip
        return {"kms_key_arn": value, "kms_key_as_text": True}

    def ephemeral_storage(self, spec: Mapping[str, Any], pointer: str) -> int | None:
        value = spec.get("ephemeralStorageSize")
        if value is None:
            return None
        low, high = EPHEMERAL_STORAGE
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.refuse(pointer_join(pointer, "ephemeralStorageSize"),
                              f"ephemeralStorageSize must be {low}-{high} (MB)")  # fmt: skip
        return value

    def whole(
        self, spec: Mapping[str, Any], pointer: str, name: str, low: int, high: int | None
    ) -> int | None:
        value = spec.get(name)
        if value is None:
            return None
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or value < low
            or (high is not None and value > high)
        ):
            limits = f"from {low} to {high}" if high is not None else f"of at least {low}"
            message = f"{name} must be a whole number {limits} (got {value!r})"
            raise self.refuse(pointer_join(pointer, name), message)
        return value

    def snap_start(self, spec: Mapping[str, Any], pointer: str) -> bool:
        value = spec.get("snapStart")
        if value is None:
            return False
        if not isinstance(value, bool):
            raise self.refuse(pointer_join(pointer, "snapStart"), f"snapStart must be true or "
                              f"false (got {value!r})")  # fmt: skip
        if value and spec.get("provisionedConcurrency"):  # functions.js, as Serverless says it
            raise self.refuse(
                pointer_join(pointer, "snapStart"),
                "functions with enabled SnapStart does not support provisioned concurrency",
                hint="remove at least one of snapStart and provisionedConcurrency",
            )
        return value

    def destination(self, spec: Mapping[str, Any], pointer: str, name: str) -> Destination | None:
        """destinations.<name>, as Serverless reads it: a function key or an ARN, or {arn, type}
        (an intrinsic `arn` is resolved by the loader: pending)."""
        destinations = spec.get("destinations")
        if destinations is None:
            return None
        at = pointer_join(pointer, "destinations")
        if not isinstance(destinations, dict) or set(destinations) - {"onSuccess", "onFailure"}:
            message = "destinations must be a mapping of onSuccess and onFailure"
            raise self.refuse(at, message, hint=_DESTINATION_HINT)
        value = destinations.get(name)
        at = pointer_join(at, name)
        if value is None:
            return None
        if isinstance(value, str) and value:
            kind = _destination_type(value)
            if kind is None:
                message = f"destinations.{name} {value!r} is not a function, queue, topic or bus"
                raise self.refuse(at, message, hint=_DESTINATION_HINT)
            return Destination(value, kind, at)
        if (
            not isinstance(value, dict)
            or set(value) != {"arn", "type"}
            or value["type"] not in DESTINATION_TYPES
        ):
            raise self.refuse(at, f"destinations.{name} is a function key, an ARN, or `arn` "
                              "with `type` (function, sqs, sns or eventBus)",
                              hint=_DESTINATION_HINT)  # fmt: skip
        kind = str(value["type"])
        if isinstance(value["arn"], str):
            return Destination(value["arn"], kind, pointer_join(at, "arn"))
        self.pending.append((f"destination:{name}:{kind}", value["arn"], pointer_join(at, "arn")))
        return None

    def tags(
        self, spec: Mapping[str, Any], pointer: str, provider: Mapping[str, Any]
    ) -> tuple[tuple[str, str], ...]:
        sources = [(provider.get("tags"), "/provider/tags"),
                   (spec.get("tags"), pointer_join(pointer, "tags"))]  # fmt: skip
        return read_tags(sources, self.at, f"function '{self.key}'")


def read_tags(sources: list[tuple[Any, str]], at: Locate, who: str) -> tuple[tuple[str, str], ...]:
    """Tags merged in order (a later mapping's value wins), as (name, value) pairs sorted by
    name; ConfigError at the tag's line for one AWS refuses."""
    merged: dict[str, str] = {}
    for value, pointer in sources:
        if value is None:
            continue
        if not isinstance(value, dict):
            raise ConfigError(f"{who}: tags must be a mapping of names to values", **at(pointer))
        for name, given in value.items():
            text = str(given).lower() if isinstance(given, bool) else given
            if (
                not isinstance(text, str | int | float)
                or not 1 <= len(str(name)) <= MAX_TAG_KEY
                or len(str(text)) > MAX_TAG_VALUE
                or str(name).startswith("aws:")
            ):
                raise ConfigError(
                    f"{who}: tag {name!r} is not one AWS takes",
                    **at(pointer_join(pointer, str(name))),
                    hint=f"a name of 1-{MAX_TAG_KEY} characters not starting with aws:, a value "
                    f"of at most {MAX_TAG_VALUE}",
                )
            merged[str(name)] = str(text)
    return tuple(sorted(merged.items()))


# ("layers" | "subnetIds" | "securityGroupIds" | "kmsKeyArn" |
#  "destination:<onSuccess|onFailure>:<type>",
#  value, pointer)
Pending = tuple[str, Any, str]
_DESTINATION_HINT = (
    "e.g. `onFailure: otherFunction`, `onFailure: arn:aws:sqs:us-east-1:123456789012:failed` or "
    "`onFailure: {arn: !GetAtt Failed.Arn, type: sqs}`"
)


def _destination_type(value: str) -> str | None:
    """Serverless' reading of a destination string: a function unless it is an ARN of a queue,
    a topic or an event bus; None for another ARN."""
    if not value.startswith("arn:") or ":function:" in value:
        return "function"
    if ":sqs:" in value:
        return "sqs"
    if ":sns:" in value:
        return "sns"
    if ":event-bus/" in value:
        return "eventBus"
    return None


def _intrinsic(value: Any) -> bool:
    return isinstance(value, dict) or (isinstance(value, str) and "#{" in value)


def with_resolved(settings: FunctionSettings, field_name: str, value: str) -> FunctionSettings:
    """`settings` with one resolved layer, VPC id or destination added."""
    if field_name.startswith("destination:"):
        _, which, kind = field_name.split(":")
        destination = Destination(value, kind)
        if which == "onSuccess":
            return replace(settings, on_success=destination)
        return replace(settings, on_failure=destination)
    if field_name == "layers":
        return replace(settings, layers=(*settings.layers, value))
    if field_name == "kmsKeyArn":
        return replace(settings, kms_key_arn=value)
    vpc = settings.vpc or Vpc((), ())
    if field_name == "subnetIds":
        return replace(settings, vpc=replace(vpc, subnet_ids=(*vpc.subnet_ids, value)))
    return replace(settings, vpc=replace(vpc, security_group_ids=(*vpc.security_group_ids, value)))


def _own_or_provider(
    spec: Mapping[str, Any], pointer: str, provider: Mapping[str, Any], name: str
) -> tuple[Any, str]:
    if spec.get(name) is not None:
        return spec[name], pointer_join(pointer, name)
    return provider.get(name), f"/provider/{name}"
