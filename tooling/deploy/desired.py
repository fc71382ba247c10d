"""From a loaded service to the resources it wants on a target: checks, packages, then models.

`prepare` runs every local check (config, handlers, definitions, settings) and builds the code
packages; nothing reaches a target before it has passed. `desired_resources` turns the service
(and, for a deploy, its packages) into models, in an order where each resource comes after what
it needs.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tooling import iam
from tooling.asl import parse
from tooling.config.function_settings import FunctionSettings
from tooling.config.function_urls import url_logical_id
from tooling.config.intrinsics import FUNCTION_URL_PENDING, function_logical_id, normalized_name
from tooling.config.layers import LAYER_PENDING, own_layer_id
from tooling.config.machine_settings import EXACT_VERSION
from tooling.config.resources import (
    HTTP_API_LOGICAL_ID,
    REST_API_LOGICAL_ID,
    WEBSOCKETS_API_LOGICAL_ID,
    WEBSOCKETS_API_PENDING,
    ServiceTarget,
    http_api_target,
    named_in,
    pending_in,
    rest_api_target,
    rest_authorizer_target,
    stack_template,
)
from tooling.config.service import (
    FUNCTION_ROLE_LOGICAL_ID,
    FunctionConfig,
    ServiceConfig,
    StateMachineConfig,
)
from tooling.config.triggers import TRIGGER_FUNCTION_TIMEOUT
from tooling.deploy import (
    event_resources,
    function_alias_resources,
    function_bus_resources,
    function_sns_resources,
    function_url_resources,
    http_api_resources,
    websocket_resources,
)
from tooling.deploy.layer_versions import layer_owner
from tooling.deploy.models import (
    Address,
    EventSourceMapping,
    Function,
    FunctionVersion,
    Layer,
    LogGroup,
    Queue,
    Resource,
    Role,
    Stack,
    StateMachine,
)
from tooling.deploy.providers import Platform
from tooling.errors import ConfigError
from tooling.machine_logging import machine_logging
from tooling.names import partition_for
from tooling.package import Package, build_layer_package, build_packages, check_handlers
from tooling.triggers.lambda_handler import STATE_MACHINE_ARN_VARIABLE
from tooling.triggers.trigger_function import (
    TRIGGER_MEMORY_MB,
    TRIGGER_RUNTIME,
    trigger_function_name,
    trigger_package,
    trigger_role,
)
from tooling.triggers.trigger_package import HANDLER as TRIGGER_HANDLER
from tooling.validate import Diagnostic, Severity, check_or_raise, validate_service

DEAD_LETTER_RETENTION_SECONDS = 1_209_600  # 14 days, SQS's maximum: time to look and redrive
DEAD_LETTER_SUFFIX = "-dlq"


@dataclass(frozen=True)
class Prepared:
    """A service checked and packaged, ready to be planned against any target."""

    service: ServiceConfig
    package: Package | None  # the service's zip; None when no function uses it
    trigger_package: Package | None = None  # the SQS trigger function's, when there are triggers
    warnings: tuple[Diagnostic, ...] = ()  # what `tool validate` warns about; errors stop prepare
    function_packages: dict[str, Package] = field(default_factory=dict)  # function key -> code
    layer_packages: dict[str, Package] = field(default_factory=dict)  # layer key -> code

    def package_for(self, key: str) -> Package:
        """The code function `key` deploys: its own artifact or zip, or the service's zip."""
        package = self.function_packages.get(key, self.package)
        assert package is not None, f"no package for function {key}"
        return package


def prepare(service: ServiceConfig, build_dir: Path) -> Prepared:
    """Every local check, then the packages. Raises BadInput before anything is changed."""
    diagnostics = validate_service(service)
    check_or_raise(diagnostics)
    check_handlers(service)
    log_retention_days(service)  # checked here, before anything changes
    packages = build_packages(service, build_dir)
    triggered = any(machine.sqs_triggers for machine in service.state_machines.values())
    warnings = tuple(d for d in diagnostics if d.severity is Severity.WARNING)
    layers = {key: build_layer_package(service, layer, build_dir)
              for key, layer in service.layers.items()}  # fmt: skip
    built = [packages.service, *packages.functions.values(), *layers.values()]
    packed = dict.fromkeys(  # what a package holds that may surprise: secrets on request, links
        Diagnostic(Severity.WARNING, "PACKAGE_FILE", w.message, w.file, None, None, "")
        for package in built
        if package is not None
        for w in package.warnings
    )
    return Prepared(
        service,
        packages.service,
        trigger_package(build_dir) if triggered else None,
        warnings + tuple(packed),
        packages.functions,
        layers,
    )


def log_retention_days(service: ServiceConfig) -> int | None:
    value = service.provider.get("logRetentionInDays")
    if value is None:
        return None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(
            f"provider.logRetentionInDays must be a number of days (got {value!r})",
            file=service.config_file.name,
            hint="e.g. 14; CloudWatch accepts 1, 3, 5, 7, 14, 30, 60, 90, ...",
        )
    return value


def function_role_arn(service: ServiceConfig) -> str:
    custom = iam.custom_function_role(service)
    if custom:
        return custom
    return _role_arn(service, iam.function_role_name(service))


def state_machine_role_arn(service: ServiceConfig, machine: StateMachineConfig) -> str:
    if machine.role:  # the user's own role (`role:`): nothing is generated for the machine
        return machine.role
    return _role_arn(service, iam.state_machine_role_name(service, machine))


def _role_arn(service: ServiceConfig, name: str) -> str:
    return f"arn:{partition_for(service.region)}:iam::{service.account_id}:role/{name}"


@dataclass(frozen=True)
class Desired:
    resources: tuple[Resource, ...]
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Context:
    service: ServiceConfig
    platform: Platform
    prepared: Prepared | None  # None: settings and names only (no code), for remove and info


Contribution = tuple[list[Resource], list[str]]


def _functions(context: _Context) -> Contribution:
    """The shared function role (unless the user brings one, or every function has a role of
    its own), a log group per function, the functions, and a role per function that has one of
    its own (serverless-iam-roles-per-function)."""
    service = context.service
    resources: list[Resource] = []
    role_needs: tuple[Address, ...] = ()
    shared = [fn for fn in service.functions.values() if fn.uses_service_role]
    if iam.custom_function_role(service) is None and shared:
        role = Role(iam.function_role(service))
        resources.append(role)
        role_needs = (role.address,)
    partition = partition_for(service.region)
    retention = log_retention_days(service)
    groups = {  # a function's own logRetentionInDays first, as Serverless v3 reads it
        key: LogGroup(iam.function_log_group(fn.name), fn.log_retention_days or retention)
        for key, fn in service.functions.items()
    }
    resources.extend(groups.values())
    prepared = context.prepared
    for key, fn in service.functions.items():
        role_arn, needs = function_role_arn(service), role_needs
        if fn.role is not None:  # the user's role (functions.<key>.role)
            role_arn, needs = fn.role, ()
        elif fn.own_role is not None:  # serverless-iam-roles-per-function
            own = Role(iam.function_own_role(service, fn))
            resources.append(own)
            role_arn, needs = own.spec.arn(partition, service.account_id), (own.address,)
        function = Function(
            name=fn.name,
            handler=fn.handler,
            runtime=fn.runtime,
            memory_size=fn.memory_size,
            timeout=fn.timeout,
            environment=dict(fn.environment),
            role_arn=role_arn,
            code=prepared.package_for(key) if prepared and fn.image is None else None,
            needs=(*needs, groups[key].address, *_layers_named(service, fn.settings.layers)),
            key=key,
            declared_in=service.config_file.name,
            runtime_location=fn.runtime_location,
            settings=_with_layer_arns(service, fn.settings),
            image=fn.image,
        )
        function, aliases = function_alias_resources.function_aliases(
            fn, function, context.platform.publishes_versions
        )
        resources.append(function)
        resources.extend(aliases)
    return resources, []


def _with_layer_arns(service: ServiceConfig, settings: FunctionSettings) -> FunctionSettings:
    """A function's layers with the current version's ARN of each own layer it names, once
    the deploy knows it (tooling.deploy.phases); until then, the reference to it."""
    if not service.layer_arns:
        return settings
    layers = tuple(
        service.layer_arns.get(own_layer_id(entry) or "", entry) for entry in settings.layers
    )
    return replace(settings, layers=layers)


def _layers_named(service: ServiceConfig, layers: tuple[str, ...]) -> list[Address]:
    """The service's own layers that a function's `layers` name (published before it)."""
    by_id = {layer.logical_id: layer for layer in service.layers.values()}
    named = [by_id.get(own_layer_id(entry) or "") for entry in layers]
    return [Address("layer", layer.name) for layer in named if layer is not None]


def _layers(context: _Context) -> Contribution:
    """The service's own `layers:`, each published as a layer version."""
    service, prepared = context.service, context.prepared
    owner = layer_owner(service.service, service.stage)
    resources: list[Resource] = []
    for key, layer in service.layers.items():
        resources.append(
            Layer(
                name=layer.name,
                key=key,
                owner=owner,
                code=prepared.layer_packages.get(key) if prepared else None,
                description=layer.description,
                compatible_runtimes=layer.compatible_runtimes,
                compatible_architectures=layer.compatible_architectures,
                license_info=layer.license_info,
                allowed_accounts=layer.allowed_accounts,
                retain=layer.retain,
            )
        )
    return resources, []


def _state_machines(context: _Context) -> Contribution:
    """Per state machine: its log group (with loggingConfig), its generated role (unless it has
    `role`), and the machine, which needs them and the service's functions it calls."""
    service = context.service
    resources: list[Resource] = []
    warnings: list[str] = []
    functions = {fn.arn: fn.name for fn in service.functions.values()}
    exact = _exact_versions(context)
    published: set[str] = set()
    for machine in service.state_machines.values():
        needs: list[Address] = []
        definition, tree = machine.definition, machine.tree
        named: tuple[Function, ...] = ()
        if machine.exact_versions and not context.platform.publishes_versions:
            definition = without_exact_versions(definition)
            tree = parse(definition, machine.source)
            warnings.append(
                f"state machine {machine.name}: useExactVersion is recorded, not reproduced "
                "locally: the local runtime publishes no versions, so its definition names the "
                "functions unqualified (their current code)"
            )
        elif machine.exact_versions:
            for key in machine.exact_versions:
                if key not in published:
                    published.add(key)
                    resources.append(exact[key])
                needs.append(exact[key].address)
            named = tuple(exact[key].function for key in machine.exact_versions)
        logging = machine_logging(service, machine)
        if logging is not None:
            warnings.extend(logging.warnings)
            if logging.log_group is not None:
                group = LogGroup(logging.log_group, log_retention_days(service))
                resources.append(group)
                needs.append(group.address)
        if not machine.role:
            spec = iam.state_machine_role(service, machine)
            warnings.extend(f"state machine {machine.name}: {w}" for w in spec.warnings)
            role = Role(spec)
            resources.append(role)
            needs.append(role.address)
        references, _ = iam.referenced_functions(machine.tree, service)
        needs.extend(
            Address("function", functions[ref.arn]) for ref in references if ref.arn in functions
        )
        resources.append(
            StateMachine(
                name=machine.name,
                arn=machine.arn,
                type=machine.type,
                definition=definition,
                role_arn=state_machine_role_arn(service, machine),
                logging=logging.configuration() if logging else None,
                source=machine.source,
                tree=tree,
                declared_in=service.config_file.name,
                needs=tuple(needs),
                tags=machine.tags,
                tracing=machine.tracing,
                encryption=machine.encryption.api() if machine.encryption else None,
                exact_versions=named,
            )
        )
    return resources, warnings


def _exact_versions(context: _Context) -> dict[str, FunctionVersion]:
    """Per function a machine with `useExactVersion` names, the version it names (published
    from the function as `_functions` deploys it)."""
    keys = {k for m in context.service.state_machines.values() for k in m.exact_versions}
    if not keys or not context.platform.publishes_versions:
        return {}
    models = {r.key: r for r in _functions(context)[0] if isinstance(r, Function)}
    return {
        key: FunctionVersion(
            models[key], context.service.functions[key].arn, needs=(models[key].address,)
        )
        for key in sorted(keys)
    }


def without_exact_versions(definition: Any) -> Any:
    """A definition with `useExactVersion`'s placeholders dropped: the functions unqualified."""
    text = json.dumps(definition).replace(f':{EXACT_VERSION}"', '"')
    return json.loads(text)


def _sqs_triggers(context: _Context) -> Contribution:
    """Per trigger, its queue and dead-letter queue (`queue:`; a local stand-in for `arn:`);
    where the target does not poll queues itself, per triggered machine a trigger function
    with its role and log group, and per trigger an event source mapping."""
    service, platform = context.service, context.platform
    resources: list[Resource] = []
    for machine in service.state_machines.values():
        if not machine.sqs_triggers:
            continue
        queues: dict[str, Address] = {}
        for trigger in machine.sqs_triggers:
            if not (trigger.managed or platform.stands_in_for_foreign_queues):
                continue
            dead_letter = Queue(
                name=trigger.dead_letter_queue_name or trigger.queue_name + DEAD_LETTER_SUFFIX,
                arn=trigger.dead_letter_queue_arn or trigger.queue_arn + DEAD_LETTER_SUFFIX,
                visibility_timeout=trigger.visibility_timeout,
                retention_seconds=DEAD_LETTER_RETENTION_SECONDS,
            )
            queue = Queue(
                name=trigger.queue_name,
                arn=trigger.queue_arn,
                visibility_timeout=trigger.visibility_timeout,
                dead_letter=dead_letter.address,
                max_receive_count=trigger.max_receive_count,
            )
            resources.extend((dead_letter, queue))
            queues[trigger.queue_arn] = queue.address
        if platform.polls_queues:
            continue
        role = Role(trigger_role(service, machine))
        name = trigger_function_name(service, machine)
        group = LogGroup(iam.function_log_group(name), log_retention_days(service))
        prepared = context.prepared
        function = Function(
            name=name,
            handler=TRIGGER_HANDLER,
            runtime=TRIGGER_RUNTIME,
            memory_size=TRIGGER_MEMORY_MB,
            timeout=TRIGGER_FUNCTION_TIMEOUT,
            environment={STATE_MACHINE_ARN_VARIABLE: machine.arn},
            role_arn=role.spec.arn(partition_for(service.region), service.account_id),
            code=prepared.trigger_package if prepared else None,
            needs=(role.address, group.address, Address("state machine", machine.name)),
        )
        resources.extend((role, group, function))
        for trigger in machine.sqs_triggers:
            queue_needs = (queues[trigger.queue_arn],) if trigger.queue_arn in queues else ()
            resources.append(
                EventSourceMapping(
                    queue_name=trigger.queue_name,
                    queue_arn=trigger.queue_arn,
                    function_name=name,
                    batch_size=trigger.batch_size,
                    maximum_batching_window=trigger.maximum_batching_window,
                    needs=(*queue_needs, function.address),
                )
            )
    return resources, []


def _function_sqs_events(context: _Context) -> Contribution:
    """Per `sqs` event of a function, an event source mapping from its queue to the function
    (the queue exists, or the `resources:` stack makes it)."""
    resources: list[Resource] = []
    for fn in context.service.functions.values():
        for event in fn.events.sqs:
            resources.append(
                EventSourceMapping(
                    queue_name=event.queue_name,
                    queue_arn=event.queue_arn,
                    function_name=mapped_function(fn),
                    batch_size=event.batch_size,
                    maximum_batching_window=event.maximum_batching_window,
                    needs=function_alias_resources.target_needs(fn),
                    enabled=event.enabled,
                    function_response_types=event.function_response_types,
                    filter_patterns=event.filter_patterns,
                    maximum_concurrency=event.maximum_concurrency,
                )
            )
    return resources, []


def mapped_function(fn: FunctionConfig) -> str:
    """An event source mapping's FunctionName: the function, qualified by its alias when its
    events invoke one (Serverless' resolveLambdaTarget)."""
    alias = fn.settings.target_alias
    return f"{fn.name}:{alias}" if alias else fn.name


def _function_stream_events(context: _Context) -> Contribution:
    """Per `stream` event of a function, an event source mapping from its DynamoDB or Kinesis
    stream to the function (the stream exists, or the `resources:` stack makes it)."""
    resources: list[Resource] = []
    for fn in context.service.functions.values():
        for event in fn.events.streams:
            resources.append(
                EventSourceMapping(
                    queue_name=event.stream_name,
                    queue_arn=event.stream_arn,
                    function_name=mapped_function(fn),
                    batch_size=event.batch_size,
                    maximum_batching_window=event.batching_window or 0,
                    needs=function_alias_resources.target_needs(fn),
                    enabled=event.enabled,
                    function_response_types=event.function_response_types,
                    filter_patterns=event.filter_patterns,
                    starting_position=event.starting_position,
                    starting_position_timestamp=event.starting_position_timestamp,
                    parallelization_factor=event.parallelization_factor,
                    maximum_retry_attempts=event.maximum_retry_attempts,
                    maximum_record_age=event.maximum_record_age,
                    bisect_batch_on_function_error=event.bisect_batch_on_function_error,
                    tumbling_window=event.tumbling_window,
                    on_failure=event.on_failure,
                )
            )
    return resources, []


def _stack(context: _Context) -> Contribution:
    """`resources:` as one CloudFormation stack. When the service reads values from it, it
    comes first and everything else needs it (desired_resources); otherwise it needs what its
    template names of the service (a role, an alarm on a state machine, ...)."""
    service = context.service
    if service.resources is None or service.stack is None:
        return [], []
    if not context.platform.runs_cloudformation:
        return [], [
            "resources: is not deployed on this target: it has no CloudFormation (the local "
            "target needs the local AWS services); its values stay unknown here"
        ]
    targets, addresses = _service_targets(service)
    needs: tuple[Address, ...] = ()
    warnings: list[str] = []
    named = service.resources.names_service
    if not service.resource_references:
        needs = tuple(addresses[name] for name in named if name in addresses)
    else:
        # The stack comes first; the function role it names comes before it when the role's
        # policy reads nothing from the stack (in Serverless' one stack, CloudFormation orders
        # them so). The rest it names does not exist yet on a first deploy.
        needs = _roles_before_the_stack(service, named, addresses)
        first = {logical_id for logical_id in named if addresses.get(logical_id) in needs}
        early = _needing_existence(service.resources.resources, set(named) - first)
        if early:
            warnings.append(
                f"the stack {service.stack.name} is deployed before the functions and state "
                "machines (the service reads values from it), and "
                + ", ".join(f"{logical_id} names {target}" for logical_id, target in early)
                + ": on a first deploy that fails, since it needs what it names to exist"
            )
    stack = Stack(
        name=service.stack.name,
        template=stack_template(service.resources, targets, service.resource_references),
        tags=dict(service.stack.tags),
        parameters=dict(service.stack.parameters),
        role_arn=service.stack.role_arn,
        notification_arns=service.stack.notification_arns,
        needs=needs,
        declared_in=service.config_file.name,
        origins=dict(service.resources.origins),
    )
    return [stack], warnings


def _roles_before_the_stack(
    service: ServiceConfig, named: Iterable[str], addresses: dict[str, Address]
) -> tuple[Address, ...]:
    """The shared function role, when the stack's template names it: deployed with the stack,
    before it (tooling/deploy/phases.py), without the statements that hold values of the
    stack (`before_the_stack`); the deploy's second phase gives it its whole policy."""
    role = addresses.get(FUNCTION_ROLE_LOGICAL_ID)
    if role is None or FUNCTION_ROLE_LOGICAL_ID not in named:
        return ()
    return (role,)


def before_the_stack(resource: Resource) -> Resource:
    """A role made before the stack: its policies without the statements that hold values the
    stack does not give yet (a queue of `resources:` its functions poll, say). In Serverless'
    one stack CloudFormation orders the role, the stack's policy naming it and the queue; here
    the role exists first, and the second phase adds what it could not hold yet."""
    if not isinstance(resource, Role) or not pending_in(dataclasses.asdict(resource.spec)):
        return resource
    policies = {}
    for name, document in resource.spec.inline_policies.items():
        statements = [s for s in document.get("Statement", []) if not pending_in(s)]
        if statements:
            policies[name] = {**document, "Statement": statements}
    return replace(resource, spec=replace(resource.spec, inline_policies=policies))


# Types whose creation fails when the function, log group or role they name does not exist
# yet (an IAM policy attached to the service's role, as Serverless templates often do).
NEEDS_EXISTING_TARGET = frozenset(
    {
        "AWS::Lambda::Permission", "AWS::Lambda::EventSourceMapping", "AWS::Lambda::Alias",
        "AWS::Lambda::Version", "AWS::Lambda::Url", "AWS::Lambda::EventInvokeConfig",
        "AWS::Logs::SubscriptionFilter", "AWS::Logs::MetricFilter",
        "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy",
        "AWS::IAM::InstanceProfile",
    }
)  # fmt: skip


def _needing_existence(resources: dict[str, Any], named: set[str]) -> list[tuple[str, str]]:
    early: list[tuple[str, str]] = []
    for logical_id, spec in resources.items():
        if isinstance(spec, dict) and spec.get("Type") in NEEDS_EXISTING_TARGET:
            for found in named_in(spec.get("Properties") or {}):
                if found.name in named:
                    early.append((logical_id, found.name))
                    break
    return early


def _service_targets(
    service: ServiceConfig,
) -> tuple[dict[str, ServiceTarget], dict[str, Address]]:
    """What the template may name that Serverless would put in its stack and the toolkit deploys
    directly: per logical id, its values and its address."""
    targets: dict[str, ServiceTarget] = {}
    addresses: dict[str, Address] = {}
    for key, fn in service.functions.items():
        logical_id = function_logical_id(key)
        targets[logical_id] = ServiceTarget(fn.name, {"Arn": fn.arn})
        addresses[logical_id] = Address("function", fn.name)
        group = iam.function_log_group(fn.name)
        group_id = f"{normalized_name(key)}LogGroup"
        targets[group_id] = ServiceTarget(group, {"Arn": iam.log_group_arn(service, group) + ":*"})
        addresses[group_id] = Address("log group", group)
    for machine in service.state_machines.values():
        targets[machine.logical_id] = ServiceTarget(
            machine.arn, {"Arn": machine.arn, "Name": machine.name}
        )
        addresses[machine.logical_id] = Address("state machine", machine.name, machine.arn)
    if (
        service.api is not None
        and service.resources
        and REST_API_LOGICAL_ID in (service.resources.names_service)
    ):  # made before the stack (tooling/deploy/phases.py)
        targets[REST_API_LOGICAL_ID] = rest_api_target(service.rest_api_ids)
        addresses[REST_API_LOGICAL_ID] = Address("rest api", service.api.name)
    if service.api is not None and service.resources:  # made with the API, before the stack
        for authorizer in event_resources.made_authorizers(service).values():
            if authorizer.logical_id in service.resources.names_service:
                targets[authorizer.logical_id] = rest_authorizer_target(
                    service.rest_api_ids, authorizer.name, authorizer.logical_id
                )
                addresses[authorizer.logical_id] = Address("rest api", service.api.name)
    if (
        service.http_api is not None
        and service.http_api.existing_id is None
        and service.resources
        and HTTP_API_LOGICAL_ID in service.resources.names_service
    ):  # made before the stack (tooling/deploy/phases.py)
        targets[HTTP_API_LOGICAL_ID] = http_api_target(service.http_api_ids)
        addresses[HTTP_API_LOGICAL_ID] = Address("http api", service.http_api.name)
    if (
        service.websocket is not None
        and service.resources
        and WEBSOCKETS_API_LOGICAL_ID in service.resources.names_service
    ):  # made before the stack (tooling/deploy/phases.py)
        targets[WEBSOCKETS_API_LOGICAL_ID] = http_api_target(
            service.websocket_ids, WEBSOCKETS_API_PENDING
        )
        addresses[WEBSOCKETS_API_LOGICAL_ID] = Address("websocket api", service.websocket.name)
    for key, fn in service.functions.items():  # made before what reads them (phases.py)
        if fn.url is not None:
            url_id = url_logical_id(key)
            url = service.function_urls.get(url_id) or FUNCTION_URL_PENDING.format(
                logical_id=url_id
            )
            targets[url_id] = ServiceTarget(fn.arn, {"FunctionUrl": url, "FunctionArn": fn.arn})
            addresses[url_id] = Address("function url", fn.name)
    for layer in service.layers.values():  # published before the stack (phases.py)
        arn = service.layer_arns.get(layer.logical_id) or LAYER_PENDING.format(
            logical_id=layer.logical_id
        )
        targets[layer.logical_id] = ServiceTarget(arn, {"LayerVersionArn": arn})
        addresses[layer.logical_id] = Address("layer", layer.name)
    shared = any(fn.uses_service_role for fn in service.functions.values())
    if shared and iam.custom_function_role(service) is None:
        name = iam.function_role_name(service)
        targets[FUNCTION_ROLE_LOGICAL_ID] = ServiceTarget(name, {"Arn": _role_arn(service, name)})
        addresses[FUNCTION_ROLE_LOGICAL_ID] = Address("role", name)
    for key, fn in service.functions.items():  # serverless-iam-roles-per-function's
        if fn.own_role is not None:
            logical_id = f"{normalized_name(key)}{FUNCTION_ROLE_LOGICAL_ID}"
            arn = _role_arn(service, fn.own_role)
            targets[logical_id] = ServiceTarget(fn.own_role, {"Arn": arn})
            addresses[logical_id] = Address("role", fn.own_role)
    return targets, addresses


def _after_the_stack(resources: list[Resource]) -> list[Resource]:
    """When the service reads values from its stack, everything that names what it needs
    (`needs`) needs the stack too: created after it, deleted before it."""
    stacks = [r.address for r in resources if isinstance(r, Stack)]
    if not stacks:
        return resources
    out: list[Resource] = []
    for resource in resources:
        needs: tuple[Address, ...] | None = getattr(resource, "needs", None)  # noqa: B009
        if not isinstance(resource, Stack) and needs is not None and stacks[0] not in needs:
            # mypy checks replace() on the union against the fields all kinds share (no needs)
            resource = replace(resource, needs=(stacks[0], *needs))  # type: ignore[arg-type]
        out.append(resource)
    return out


# Where the service's resources come from, in order. A new kind of resource adds a line here.
SOURCES: tuple[Callable[[_Context], Contribution], ...] = (
    _stack,
    _layers,
    _functions,
    _function_sqs_events,
    _function_stream_events,
    _state_machines,
    _sqs_triggers,
    event_resources.schedules,
    event_resources.function_schedules,
    function_bus_resources.function_bus_rules,
    function_bus_resources.machine_bus_rules,
    function_sns_resources.function_sns_subscriptions,
    event_resources.function_s3_events,
    event_resources.function_cognito_triggers,
    event_resources.http_api,
    http_api_resources.function_http_api,
    websocket_resources.function_websocket_api,
    function_url_resources.function_urls,
    event_resources.alarms,
    event_resources.notifications,
)


def desired_resources(
    service: ServiceConfig, platform: Platform, prepared: Prepared | None = None
) -> Desired:
    """The resources the service wants on a target with this `platform`. Without `prepared`
    the functions carry no code: enough to find, describe or remove them."""
    context = _Context(service, platform, prepared)
    resources: list[Resource] = []
    warnings: list[str] = []
    for source in SOURCES:
        found, said = source(context)
        resources.extend(found)
        warnings.extend(said)
    if service.resource_references:
        resources = _after_the_stack(resources)
    if service.url_references:
        resources = _after_the_urls(service, resources)
    return Desired(tuple(resources), tuple(warnings))


def _after_the_urls(service: ServiceConfig, resources: list[Resource]) -> list[Resource]:
    """What holds a function's URL (its value, or its placeholder before it exists) needs that
    URL: made after it (tooling/deploy/phases.py makes it first), deleted before it."""
    urls: dict[str, Address] = {}
    for key, fn in service.functions.items():
        if fn.url is not None and url_logical_id(key) in service.url_references:
            url_id = url_logical_id(key)
            address = Address("function url", fn.name, fn.arn)
            urls[FUNCTION_URL_PENDING.format(logical_id=url_id)] = address
            if url_id in service.function_urls:
                urls[service.function_urls[url_id]] = address
    out: list[Resource] = []
    for resource in resources:
        needs: tuple[Address, ...] | None = getattr(resource, "needs", None)  # noqa: B009
        if needs is not None and isinstance(resource, Function | StateMachine | Stack):
            text = json.dumps(dataclasses.asdict(resource), default=str)
            extra = tuple(
                a
                for value, a in urls.items()
                if value in text and a not in needs and a.name != resource.address.name
            )
            if extra:
                resource = replace(resource, needs=(*needs, *dict.fromkeys(extra)))
        out.append(resource)
    return out
