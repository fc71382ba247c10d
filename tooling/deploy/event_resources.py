"""State-machine events, alarms and notifications as resource models (one source each in
tooling.deploy.desired's SOURCES), named and shaped as serverless-step-functions makes them:

- `schedule` → an EventBridge rule per schedule (or, with `method: scheduler`, an EventBridge
  Scheduler schedule in the service's and stage's schedule group), targeting the state machine
  through a role allowed to StartExecution on that machine only;
- `http` → one REST API for the service and stage, a method per event with an AWS integration
  to Step Functions' action (StartExecution unless `action` says otherwise), CORS preflights,
  and a role allowed to call those actions on those machines only;
- `alarms` → CloudWatch alarms on the machine's AWS/States metrics;
- `notifications` → an EventBridge rule per execution status, its targets, the statements the
  targets' policies need (SNS topic, SQS queue, Lambda function) and a role for the targets that
  take one (Kinesis, Firehose, Step Functions).

Names CloudFormation would generate (a rule or alarm without `name`) are made deterministic:
`<service>-<stage>-<the plugin's logical id>`, cut to the service's limit with a digest.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Protocol

from tooling import iam
from tooling.config.api_keys import ApiKeys
from tooling.config.events import (
    METHOD_SCHEDULER,
    Cors,
    HttpEvent,
    NotificationTarget,
    ScheduleEvent,
)
from tooling.config.function_cognito_events import PRINCIPAL as COGNITO_PRINCIPAL
from tooling.config.function_events import FunctionHttpEvent
from tooling.config.function_http_integrations import NonProxyIntegration
from tooling.config.intrinsics import normalized_name
from tooling.config.rest_authorizers import RestAuthorizer
from tooling.config.service import FunctionConfig, ServiceConfig, StateMachineConfig
from tooling.deploy.api_templates import JSON, default_templates, lambda_proxy_templates
from tooling.deploy.function_alias_resources import target_needs
from tooling.deploy.models import (
    REST_API_ID,
    Address,
    Alarm,
    ApiKey,
    ApiMethod,
    Bucket,
    BucketNotification,
    Permission,
    Resource,
    RestApi,
    Role,
    Rule,
    RuleTarget,
    Schedule,
    ScheduleGroup,
    UsagePlan,
    permission_name,
)
from tooling.deploy.providers import Platform
from tooling.names import partition_for

MAX_RULE_NAME = 64  # EventBridge PutRule Name
MAX_TARGET_ID = 64  # PutTargets Id
MAX_SCHEDULE_NAME = 64  # Scheduler CreateSchedule Name / schedule group Name
SCHEDULE_POLICY = "tool-schedule"
API_POLICY = "tool-api-gateway"
NOTIFICATIONS_POLICY = "tool-notifications"
ANY_METHODS = "DELETE,GET,HEAD,PATCH,POST,PUT"
STATUS_CHANGE = "Step Functions Execution Status Change"
API_GATEWAY_PRINCIPAL = "apigateway.amazonaws.com"

Contribution = tuple[list[Resource], list[str]]


class _Context(Protocol):
    @property
    def service(self) -> ServiceConfig: ...

    @property
    def platform(self) -> Platform: ...


def capped(name: str, limit: int) -> str:
    """`name`, cut to `limit` characters with a short digest to stay unique."""
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: limit - 9]}-{digest}"


def rule_arn(service: ServiceConfig, name: str) -> str:
    partition = partition_for(service.region)
    return f"arn:{partition}:events:{service.region}:{service.account_id}:rule/{name}"


def _machine(machine: StateMachineConfig) -> Address:
    return Address("state machine", machine.name, machine.arn)


def _role_arn(service: ServiceConfig, spec: iam.RoleSpec) -> str:
    return spec.arn(partition_for(service.region), service.account_id)


def _trust(*principals: str) -> dict[str, Any]:
    service: str | list[str] = list(principals) if len(principals) > 1 else principals[0]
    return {
        "Version": iam.POLICY_VERSION,
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
        ],
    }


# -- schedule ---------------------------------------------------------------------------------


def schedule_rule_name(service: ServiceConfig, machine: StateMachineConfig, number: int) -> str:
    logical = f"{normalized_name(machine.key)}StepFunctionsEventsRuleSchedule{number}"
    return capped(f"{service.service}-{service.stage}-{logical}", MAX_RULE_NAME)


def scheduler_schedule_name(
    service: ServiceConfig, machine: StateMachineConfig, number: int
) -> str:
    logical = f"{normalized_name(machine.key)}StepFunctionsSchedulerSchedule{number}"
    return capped(f"{service.service}-{service.stage}-{logical}", MAX_SCHEDULE_NAME)


def schedule_group_name(service: ServiceConfig) -> str:
    return capped(f"{service.service}-{service.stage}", MAX_SCHEDULE_NAME)


def schedule_role(
    service: ServiceConfig, machine: StateMachineConfig, principals: tuple[str, ...]
) -> iam.RoleSpec:
    """What EventBridge (or Scheduler) assumes to start this machine, and nothing else."""
    statement = {
        "Sid": "StartThisStateMachine",
        "Effect": "Allow",
        "Action": "states:StartExecution",
        "Resource": machine.arn,
    }
    return iam.RoleSpec(
        name=iam.role_name(service.service, service.stage, service.region, machine.key, "schedule"),
        trust_policy=_trust(*principals),
        inline_policies={
            SCHEDULE_POLICY: {"Version": iam.POLICY_VERSION, "Statement": [statement]}
        },
    )


def schedules(context: _Context) -> Contribution:
    service = context.service
    resources: list[Resource] = []
    group_added = False
    for machine in service.state_machines.values():
        events = machine.events.schedules
        if not events:
            continue
        principals = tuple(
            principal
            for principal, method in (
                ("events.amazonaws.com", "eventBus"),
                ("scheduler.amazonaws.com", METHOD_SCHEDULER),
            )
            if any(e.role is None and e.method == method for e in events)
        )
        role_address: tuple[Address, ...] = ()
        generated_arn = ""
        if principals:
            spec = schedule_role(service, machine, principals)
            role = Role(spec)
            resources.append(role)
            role_address = (role.address,)
            generated_arn = _role_arn(service, spec)
        for event in events:
            role_arn = event.role or generated_arn
            needs = (*(role_address if event.role is None else ()), _machine(machine))
            if event.method == METHOD_SCHEDULER:
                group = ScheduleGroup(schedule_group_name(service))
                if not group_added:
                    resources.append(group)
                    group_added = True
                resources.append(_scheduler(service, machine, event, role_arn, group, needs))
            else:
                resources.append(_schedule_rule(service, machine, event, role_arn, needs))
    return resources, []


def _schedule_rule(
    service: ServiceConfig,
    machine: StateMachineConfig,
    event: ScheduleEvent,
    role_arn: str,
    needs: tuple[Address, ...],
) -> Rule:
    name = event.name or schedule_rule_name(service, machine, event.number)
    transformer = event.input_transformer.to_api() if event.input_transformer else None
    target = RuleTarget(
        id=capped(f"{machine.key}StepFunctionsSchedule", MAX_TARGET_ID),
        arn=machine.arn,
        role_arn=role_arn,
        input=event.input,
        input_path=event.input_path,
        input_transformer=transformer,
        retry_policy=event.retry_policy,
    )
    return Rule(
        name=name,
        arn=rule_arn(service, name),
        targets=(target,),
        schedule_expression=event.expression.text,
        enabled=event.enabled,
        description=event.description,
        needs=needs,
        declared_in=event.location,
    )


def _scheduler(
    service: ServiceConfig,
    machine: StateMachineConfig,
    event: ScheduleEvent,
    role_arn: str,
    group: ScheduleGroup,
    needs: tuple[Address, ...],
) -> Schedule:
    return Schedule(
        name=event.name or scheduler_schedule_name(service, machine, event.number),
        group=group.name,
        expression=event.expression.text,
        timezone=event.timezone,
        enabled=event.enabled,
        description=event.description,
        target_arn=machine.arn,
        role_arn=role_arn,
        input=event.input,
        needs=(group.address, *needs),
    )


# -- functions' schedules ---------------------------------------------------------------------


def function_schedule_rule_name(
    service: ServiceConfig, function: FunctionConfig, number: int
) -> str:
    logical = f"{normalized_name(function.key)}EventsRuleSchedule{number}"
    return capped(f"{service.service}-{service.stage}-{logical}", MAX_RULE_NAME)


def function_scheduler_name(service: ServiceConfig, function: FunctionConfig, number: int) -> str:
    logical = f"{normalized_name(function.key)}SchedulerSchedule{number}"
    return capped(f"{service.service}-{service.stage}-{logical}", MAX_SCHEDULE_NAME)


def function_scheduler_role(service: ServiceConfig, function: FunctionConfig) -> iam.RoleSpec:
    """What EventBridge Scheduler assumes to invoke this function, and nothing else. Serverless
    gives the function's own role that trust and statement; a role of its own keeps the
    function's role as the user wrote it."""
    statement = {
        "Sid": "InvokeThisFunction",
        "Effect": "Allow",
        "Action": "lambda:InvokeFunction",
        "Resource": function.target_arn,  # its alias, when its events invoke one
    }
    return iam.RoleSpec(
        name=iam.role_name(
            service.service, service.stage, service.region, function.key, "scheduler"
        ),
        trust_policy=_trust("scheduler.amazonaws.com"),
        inline_policies={
            SCHEDULE_POLICY: {"Version": iam.POLICY_VERSION, "Statement": [statement]}
        },
    )


def function_schedules(context: _Context) -> Contribution:
    """Per `schedule` event of a function: an EventBridge rule targeting it, with the statement
    in its resource policy that lets the rule invoke it (Serverless' AWS::Lambda::Permission), or
    a Scheduler schedule with a role allowed to invoke it."""
    service = context.service
    resources: list[Resource] = []
    group_added = False
    for fn in service.functions.values():
        function = Address("function", fn.name)
        role_arn, role_needs = "", tuple[Address, ...]()
        if any(e.method == METHOD_SCHEDULER for e in fn.events.schedules):
            spec = function_scheduler_role(service, fn)
            role = Role(spec)
            resources.append(role)
            role_arn, role_needs = _role_arn(service, spec), (role.address,)
        for event in fn.events.schedules:
            if event.method == METHOD_SCHEDULER:
                group = ScheduleGroup(schedule_group_name(service))
                if not group_added:
                    resources.append(group)
                    group_added = True
                resources.append(
                    Schedule(
                        name=event.name or function_scheduler_name(service, fn, event.number),
                        group=group.name,
                        expression=event.expression.text,
                        timezone=event.timezone,
                        enabled=event.enabled,
                        description=event.description,
                        target_arn=fn.target_arn,
                        role_arn=role_arn,
                        input=event.input,
                        needs=(group.address, *role_needs, *target_needs(fn)),
                    )
                )
                continue
            name = event.name or function_schedule_rule_name(service, fn, event.number)
            transformer = event.input_transformer.to_api() if event.input_transformer else None
            target = RuleTarget(
                id=capped(f"{fn.key}Schedule", MAX_TARGET_ID),  # Serverless' getScheduleId
                arn=fn.target_arn,
                input=event.input,
                input_path=event.input_path,
                input_transformer=transformer,
            )
            arn = rule_arn(service, name)
            permission = Permission(permission_name(name, fn.target_arn), fn.target_arn, arn,
                                    needs=target_needs(fn))  # fmt: skip
            resources.append(permission)
            resources.append(
                Rule(
                    name=name,
                    arn=arn,
                    targets=(target,),
                    schedule_expression=event.expression.text,
                    enabled=event.enabled,
                    description=event.description,
                    needs=(function, permission.address),
                    declared_in=event.location,
                )
            )
    return resources, []


# -- functions' s3 events ---------------------------------------------------------------------


def _stack_buckets(service: ServiceConfig) -> set[str]:
    """The buckets the `resources:` stack makes, by name: an AWS::S3::Bucket with that
    BucketName, or with Serverless' logical id for it (`S3Bucket<NormalizedName>`, which
    Serverless merges with the bucket it would make)."""
    if service.resources is None or service.stack is None:
        return set()
    names: set[str] = set()
    for logical_id, spec in service.resources.resources.items():
        if not isinstance(spec, dict) or spec.get("Type") != "AWS::S3::Bucket":
            continue
        name = (spec.get("Properties") or {}).get("BucketName")
        if isinstance(name, str):
            names.add(name)
        names.add(f"logical:{logical_id}")
    return names


def function_s3_events(context: _Context) -> Contribution:
    """Per bucket of the functions' `s3` events: the bucket, unless it exists (`existing: true`)
    or the `resources:` stack makes it; per function and bucket, the statement in the
    function's resource policy letting S3 invoke it from that bucket and account (Serverless'
    AWS::Lambda::Permission), and the function's notifications on the bucket."""
    service = context.service
    resources: list[Resource] = []
    stack_buckets = _stack_buckets(service)
    made: dict[str, Address] = {}  # bucket -> what makes it (first, for every function)
    for fn in service.functions.values():
        for event in fn.events.s3:
            if event.bucket in made or event.existing:
                continue
            if event.bucket in stack_buckets or (
                f"logical:S3Bucket{normalized_name(event.bucket)}" in stack_buckets
            ):
                assert service.stack is not None
                made[event.bucket] = Address("stack", service.stack.name)
                continue
            bucket = Bucket(event.bucket, declared_in=event.location)
            resources.append(bucket)
            made[event.bucket] = bucket.address
    partition = partition_for(service.region)
    for fn in service.functions.values():
        invoked = target_needs(fn)  # the function, and the alias its events invoke
        by_bucket: dict[str, list[tuple[str, tuple[tuple[str, str], ...]]]] = {}
        for event in fn.events.s3:
            by_bucket.setdefault(event.bucket, []).append((event.event, event.rules))
        for bucket_name, events in by_bucket.items():
            source = f"arn:{partition}:s3:::{bucket_name}"
            permission = Permission(
                permission_name(bucket_name, fn.target_arn), fn.target_arn, source,
                needs=invoked, principal="s3.amazonaws.com", source_account=fn.arn.split(":")[4],
            )  # fmt: skip
            resources.append(permission)
            maker = (made[bucket_name],) if bucket_name in made else ()
            resources.append(
                BucketNotification(
                    bucket=bucket_name,
                    function_arn=fn.target_arn,
                    events=tuple(events),
                    needs=(*maker, *invoked, permission.address),
                )
            )
    return resources, []


# -- functions' cognitoUserPool events -------------------------------------------------------


def function_cognito_triggers(context: _Context) -> Contribution:
    """Per function and user pool of its `cognitoUserPool` events: the statement letting Cognito
    invoke it from that pool (Serverless' AWS::Lambda::Permission, SourceArn the pool's ARN).
    The pool, with the function in its LambdaConfig, is in the stack of `resources:`
    (tooling.config.function_cognito_events)."""
    resources: list[Resource] = []
    warnings: list[str] = []
    for fn in context.service.functions.values():
        if fn.events.cognito and not context.platform.invokes_cognito_triggers:
            event = fn.events.cognito[0]
            where = ":".join(str(p) for p in event.location if p is not None)
            warnings.append(
                f"{where}: function '{fn.key}': its cognitoUserPool triggers are deployed "
                "(the pool in the stack, the permission as a record), and the local AWS "
                "services' user pools call no trigger: sign-ups here do not invoke it (they do "
                "on AWS)"
            )
        pools = {event.pool_arn: event.pool for event in fn.events.cognito}
        for pool_arn, pool in pools.items():
            resources.append(
                Permission(
                    permission_name(pool, fn.target_arn),
                    fn.target_arn,
                    pool_arn,
                    needs=target_needs(fn),
                    principal=COGNITO_PRINCIPAL,
                )  # fmt: skip
            )
    return resources, warnings


# -- http -------------------------------------------------------------------------------------


def api_role_name(service: ServiceConfig) -> str:
    return iam.role_name(service.service, service.stage, service.region, "apiGateway")


def api_role(service: ServiceConfig) -> iam.RoleSpec:
    """What API Gateway assumes to call Step Functions: each action on the machines whose http
    events use it (the plugin grants `*`; this is the least that works)."""
    wanted: dict[str, set[str]] = {}
    for machine in service.state_machines.values():
        for event in machine.events.http:
            if event.iam_role is not None:
                continue
            if event.action in ("StartExecution", "StartSyncExecution"):
                resource = machine.arn
            else:  # DescribeExecution, StopExecution act on the machine's executions
                resource = execution_arns(machine)
            wanted.setdefault(f"states:{event.action}", set()).add(resource)
    statements = [
        {"Effect": "Allow", "Action": action, "Resource": sorted(resources)}
        for action, resources in sorted(wanted.items())
    ]
    return iam.RoleSpec(
        name=api_role_name(service),
        trust_policy=_trust("apigateway.amazonaws.com"),
        inline_policies={API_POLICY: {"Version": iam.POLICY_VERSION, "Statement": statements}},
    )


def execution_arns(machine: StateMachineConfig) -> str:
    prefix = machine.arn.rsplit(":stateMachine:", 1)[0]
    return f"{prefix}:execution:{machine.name}:*"


def http_api(context: _Context) -> Contribution:
    """One REST API for the service and stage: the state machines' http events (the plugin's
    AWS integrations) and the functions' (Serverless' Lambda proxy integrations), each function
    with a Lambda permission for the API."""
    service = context.service
    events = [
        (machine, event)
        for machine in service.state_machines.values()
        for event in machine.events.http
    ]
    routes = [
        (function, event)
        for function in service.functions.values()
        for event in function.events.http
    ]
    if not (events or routes) or service.api is None:
        return [], []
    resources: list[Resource] = []
    role_arn = ""
    needs: list[Address] = []
    if any(event.iam_role is None for _, event in events):
        spec = api_role(service)
        role = Role(spec)
        resources.append(role)
        needs.append(role.address)
        role_arn = _role_arn(service, spec)
    methods = [
        _method(service, machine, event, event.iam_role or role_arn) for machine, event in events
    ]
    methods.extend(_function_method(service, function, event) for function, event in routes)
    methods.extend(_preflights([event for _, event in events] + [event for _, event in routes]))
    for machine, _ in events:
        if _machine(machine) not in needs:
            needs.append(_machine(machine))
    for function, _ in routes:
        needs.extend(a for a in target_needs(function) if a not in needs)
    authorizers = made_authorizers(service)
    for authorizer in authorizers.values():  # the function exists before its authorizer
        caller = service.functions.get(authorizer.function or "")
        if caller is not None:
            needs.extend(a for a in target_needs(caller) if a not in needs)
    api = service.api
    rest_api = RestApi(
        name=api.name,
        stage=service.stage,
        endpoint_type=api.endpoint_type,
        methods=tuple(methods),
        vpc_endpoint_ids=api.vpc_endpoint_ids,
        needs=tuple(needs),
        existing_id=api.rest_api_id,
        root_resource_id=api.root_resource_id,
        predefined_resources=api.predefined_resources,
        binary_media_types=api.binary_media_types,
        minimum_compression_size=api.minimum_compression_size,
        api_key_source=api.api_key_source,
        authorizers=tuple(
            authorizer_settings(service, authorizer) for authorizer in authorizers.values()
        ),
        authorizer_locations=tuple((a.name, a.location) for a in authorizers.values()),
    )
    resources.append(rest_api)
    resources.extend(api_keys(api.api_keys, rest_api))
    partition = partition_for(service.region)
    api_id = api.rest_api_id or REST_API_ID  # a shared API's id is known: scoped to it
    source_arn = f"arn:{partition}:execute-api:{service.region}:{service.account_id}:{api_id}/*/*"
    resources.extend(_authorizer_permissions(service, authorizers, rest_api))
    routed = {function.key: function for function, _ in routes}
    for function in routed.values():
        resources.append(
            Permission(
                name=permission_name(api.name, function.target_arn),
                target=function.target_arn,
                source_arn=source_arn,
                needs=(rest_api.address, *target_needs(function)),
                principal=API_GATEWAY_PRINCIPAL,
                rest_api=api.name,
            )
        )
    return resources, []


def made_authorizers(service: ServiceConfig) -> dict[str, RestAuthorizer]:
    """The authorizers the http events make, by name: the functions' first, then the state
    machines' (Serverless compiles before the plugin; for one name, the last read wins)."""
    found: dict[str, RestAuthorizer] = {}
    for function in service.functions.values():
        for event in function.events.http:
            if event.authorizer is not None and not event.authorizer.reference:
                found[event.authorizer.name] = event.authorizer
    for machine in service.state_machines.values():
        for machine_event in machine.events.http:
            if machine_event.authorizer is not None and not machine_event.authorizer.reference:
                found[machine_event.authorizer.name] = machine_event.authorizer
    # one naming no function of the service is a problem of the config (remove and info, which
    # run despite it, leave it out)
    return {
        name: authorizer
        for name, authorizer in found.items()
        if authorizer.function is None or authorizer.function in service.functions
    }


def authorizer_function_arn(service: ServiceConfig, authorizer: RestAuthorizer) -> str | None:
    """The ARN of the Lambda function a (non-Cognito) authorizer calls."""
    if authorizer.cognito:
        return None
    if authorizer.function is not None:  # the alias its events invoke, if any
        return service.functions[authorizer.function].target_arn
    return authorizer.arn


def authorizer_settings(service: ServiceConfig, authorizer: RestAuthorizer) -> dict[str, Any]:
    """CreateAuthorizer's settings, as Serverless' compileAuthorizers writes the
    AWS::ApiGateway::Authorizer (TOKEN by default; Cognito's user pool as providerARNs)."""
    settings: dict[str, Any] = {
        "name": authorizer.name,
        "type": authorizer.type,
        "authorizerResultTtlInSeconds": authorizer.result_ttl,
    }
    if authorizer.identity_source is not None:
        settings["identitySource"] = authorizer.identity_source
    if authorizer.identity_validation_expression is not None:
        settings["identityValidationExpression"] = authorizer.identity_validation_expression
    function_arn = authorizer_function_arn(service, authorizer)
    if function_arn is None:
        settings["providerARNs"] = [str(authorizer.arn)]
    else:
        settings["authorizerUri"] = lambda_invocation_uri(service, function_arn)
    return settings


def _authorizer_permissions(
    service: ServiceConfig, authorizers: dict[str, RestAuthorizer], rest_api: RestApi
) -> list[Resource]:
    """A Lambda permission per function a Lambda authorizer calls, letting API Gateway invoke
    it for this API's authorizers (`<api id>/authorizers/*`, the SourceArn API Gateway calls
    an authorizer with; Serverless writes `<api id>/*/*`, which takes it too); none for
    `managedExternally` (Serverless' flag) or Cognito."""
    partition = partition_for(service.region)
    api_id = rest_api.existing_id or REST_API_ID
    source_arn = (
        f"arn:{partition}:execute-api:{service.region}:{service.account_id}:{api_id}/authorizers/*"
    )
    permissions: dict[str, Permission] = {}
    for authorizer in authorizers.values():
        target = authorizer_function_arn(service, authorizer)
        if target is None or authorizer.managed_externally or target in permissions:
            continue
        needs = [rest_api.address]
        if authorizer.function is not None:
            needs.extend(target_needs(service.functions[authorizer.function]))
        permissions[target] = Permission(
            name=permission_name(f"{rest_api.name} authorizers", target),
            target=target,
            source_arn=source_arn,
            needs=tuple(needs),
            principal=API_GATEWAY_PRINCIPAL,
            rest_api=rest_api.name,
        )
    return list(permissions.values())


def api_keys(settings: ApiKeys, rest_api: RestApi) -> list[Resource]:
    """provider.apiGateway.apiKeys and usagePlan: the keys, then the plans holding them."""
    resources: list[Resource] = [
        ApiKey(
            name=key.name,
            value=key.value,
            description=key.description,
            customer_id=key.customer_id,
            enabled=key.enabled,
            declared_in=key.declared_in,
        )  # fmt: skip
        for key in settings.keys
    ]
    resources.extend(
        UsagePlan(
            name=plan.name,
            description=plan.description,
            rest_api=rest_api.name,
            stage=rest_api.stage,
            quota=dict(plan.quota),
            throttle=dict(plan.throttle),
            keys=plan.keys,
        )  # fmt: skip
        for plan in settings.plans
    )
    return resources


def lambda_invocation_uri(service: ServiceConfig, function_arn: str) -> str:
    """The Lambda proxy integration's URI (API Gateway's path to Lambda's Invoke)."""
    partition = partition_for(service.region)
    return (
        f"arn:{partition}:apigateway:{service.region}:lambda:path/2015-03-31/functions/"
        f"{function_arn}/invocations"
    )


def _function_method(
    service: ServiceConfig, function: FunctionConfig, event: FunctionHttpEvent
) -> ApiMethod:
    """As Serverless compiles a function's http event: AWS_PROXY to the function, no method or
    integration responses (the function's result is the response); or, for `integration:
    lambda` / `async: true`, the AWS integration with its templates and responses."""
    integration: dict[str, Any] = {
        "type": "AWS_PROXY",
        "integrationHttpMethod": "POST",
        "uri": lambda_invocation_uri(service, function.target_arn),
    }
    settings = event.integration
    if settings is not None:
        integration = _other_integration(service, function, settings)
    return ApiMethod(
        path=event.path,
        http_method=event.method,
        authorization_type=event.authorization_type,
        api_key_required=event.private,
        authorizer_id=event.authorizer_id,
        authorizer=event.authorizer.name if event.authorizer else None,
        authorization_scopes=event.authorization_scopes,
        request_parameters=dict(event.request_parameters),
        integration=integration,
        method_responses=settings.method_responses if settings else (),
        integration_responses=settings.integration_responses if settings else (),
        function_arn=function.target_arn,
        cors_origin=event.cors.origin if event.cors else None,
        declared_in=event.location,
    )


def _other_integration(
    service: ServiceConfig, function: FunctionConfig, settings: NonProxyIntegration
) -> dict[str, Any]:
    """Serverless' other integrations: AWS (Lambda, non-proxy), HTTP, HTTP_PROXY (to
    `request.uri`) and MOCK, with request templates, passthrough, integration request parameters
    (`async`: X-Amz-Invocation-Type 'Event'); their method and integration responses, one per
    status code, go on the method."""
    integration: dict[str, Any] = {"type": settings.type}
    if settings.type == "AWS":
        integration["integrationHttpMethod"] = "POST"
        integration["uri"] = lambda_invocation_uri(service, function.target_arn)
    elif settings.uri is not None:
        integration["integrationHttpMethod"] = settings.http_method or "ANY"
        integration["uri"] = settings.uri
    if settings.connection_type:
        integration["connectionType"] = settings.connection_type
    if settings.connection_id:
        integration["connectionId"] = settings.connection_id
    if settings.passthrough:
        integration["passthroughBehavior"] = settings.passthrough
    if settings.request_templates:
        integration["requestTemplates"] = dict(settings.request_templates)
    if settings.content_handling:
        integration["contentHandling"] = settings.content_handling
    if settings.request_parameters:
        integration["requestParameters"] = dict(settings.request_parameters)
    return integration


def _method(
    service: ServiceConfig, machine: StateMachineConfig, event: HttpEvent, role_arn: str
) -> ApiMethod:
    region, partition = service.region, partition_for(service.region)
    integration: dict[str, Any] = {
        "type": "AWS",
        "integrationHttpMethod": "POST",
        "uri": f"arn:{partition}:apigateway:{region}:states:action/{event.action}",
        "credentials": role_arn,
        "passthroughBehavior": "WHEN_NO_TEMPLATES" if event.action_given else "NEVER",
    }
    templates = _request_templates(service, machine, event)
    if templates:
        integration["requestTemplates"] = templates
    timeout = event.timeout_in_millis or (service.api.timeout_in_millis if service.api else None)
    if timeout:
        integration["timeoutInMillis"] = timeout
    origin = event.cors.origin if event.cors else None
    integration_responses = _integration_responses(event, origin)
    header_names = set(event.response_headers)
    if origin is not None:
        header_names.add("Access-Control-Allow-Origin")
    codes = sorted({"200", "400", *(r["statusCode"] for r in integration_responses)})
    method_responses = tuple(
        {
            "statusCode": code,
            "responseParameters": {
                f"method.response.header.{name}": True
                for name in sorted(header_names)
                if code == "200" or name == "Access-Control-Allow-Origin"
            },
            "responseModels": {},
        }
        for code in codes
    )
    return ApiMethod(
        path=event.path,
        http_method=event.method,
        authorization_type=event.authorization_type,
        api_key_required=event.private,
        authorizer_id=event.authorizer_id,
        authorizer=event.authorizer.name if event.authorizer else None,
        authorization_scopes=event.authorization_scopes,
        integration=integration,
        method_responses=method_responses,
        integration_responses=integration_responses,
        state_machine_arn=machine.arn,
        action=event.action,
        template_kind=event.template_kind,
        cors_origin=origin,
        declared_in=event.location,
    )


def _request_templates(
    service: ServiceConfig, machine: StateMachineConfig, event: HttpEvent
) -> dict[str, str]:
    """As the plugin: lambda_proxy's, the default with custom templates laid over it, none for
    an `action` without `request.template`, else the default."""
    if event.template_kind == "lambda_proxy":
        return lambda_proxy_templates(machine.arn, service.account_id)
    if event.template_kind == "custom":
        return {**default_templates(machine.arn), **event.custom_templates}
    if event.template_kind == "none":
        return {}
    return default_templates(machine.arn)


def _integration_responses(event: HttpEvent, origin: str | None) -> tuple[dict[str, Any], ...]:
    responses: list[dict[str, Any]] = []
    if event.responses:
        for spec in event.responses:
            key = str(spec["key"])
            responses.append(
                {
                    "statusCode": str(spec.get("statusCode", key)),
                    "selectionPattern": str(spec.get("selectionPattern", key)),
                    "responseParameters": dict(spec.get("responseParameters") or {}),
                    "responseTemplates": dict(spec.get("responseTemplates") or {}),
                }
            )
    else:
        responses.append(
            {
                "statusCode": "200",
                "selectionPattern": "",
                "responseParameters": {
                    f"method.response.header.{name}": value
                    for name, value in event.response_headers.items()
                },
                "responseTemplates": dict(event.response_templates),
            }
        )
        responses.append(
            {
                "statusCode": "400",
                "selectionPattern": "400",
                "responseParameters": {},
                "responseTemplates": {},
            }
        )
    if origin is not None:
        for response in responses:
            response["responseParameters"]["method.response.header.Access-Control-Allow-Origin"] = (
                f"'{origin}'"
            )
    return tuple(responses)


def _preflights(events: list[HttpEvent | FunctionHttpEvent]) -> list[ApiMethod]:
    """An OPTIONS method (MOCK integration) per path with `cors`, merged over its events as the
    plugin and Serverless merge them: headers, methods and origins joined, the last origin,
    maxAge and cacheControl win."""
    merged: dict[str, dict[str, Any]] = {}
    for event in events:
        if event.cors is None:
            continue
        cors: Cors = event.cors
        into = merged.setdefault(
            event.path,
            {"headers": [], "methods": [], "credentials": False, "max_age": None,
             "cache_control": None, "credentials_always": False},
        )  # fmt: skip
        into["headers"].extend(h for h in cors.headers if h not in into["headers"])
        into["methods"].extend(m for m in cors.methods if m not in into["methods"])
        into["origin"] = cors.origin
        into["credentials"] = into["credentials"] or cors.allow_credentials
        into["credentials_always"] = into["credentials_always"] or cors.credentials_always
        if cors.max_age is not None:
            into["max_age"] = cors.max_age
        if cors.cache_control is not None:
            into["cache_control"] = cors.cache_control
    declared = {(event.path, event.method) for event in events}
    methods = []
    for path, cors_settings in merged.items():
        if (path, "OPTIONS") in declared:
            continue  # an http event of its own answers OPTIONS there
        allow_methods = ",".join(cors_settings["methods"]).replace("ANY", ANY_METHODS)
        headers = {
            "Access-Control-Allow-Origin": cors_settings["origin"]
            if cors_settings["credentials_always"]  # the plugin's: the origins joined
            else cors_settings["origin"].split(",")[0].strip(),  # Serverless': the first
            "Access-Control-Allow-Headers": ",".join(cors_settings["headers"]),
            "Access-Control-Allow-Methods": allow_methods,
        }
        if cors_settings["credentials"] or cors_settings["credentials_always"]:
            headers["Access-Control-Allow-Credentials"] = str(cors_settings["credentials"]).lower()
        if cors_settings["max_age"] is not None:
            headers["Access-Control-Max-Age"] = str(cors_settings["max_age"])
        if cors_settings["cache_control"] is not None:
            headers["Cache-Control"] = cors_settings["cache_control"]
        methods.append(
            ApiMethod(
                path=path,
                http_method="OPTIONS",
                integration={
                    "type": "MOCK",
                    "requestTemplates": {JSON: "{statusCode:200}"},
                    "contentHandling": "CONVERT_TO_TEXT",
                },
                method_responses=(
                    {
                        "statusCode": "200",
                        "responseParameters": {
                            f"method.response.header.{name}": True for name in headers
                        },
                        "responseModels": {},
                    },
                ),
                integration_responses=(
                    {
                        "statusCode": "200",
                        "responseParameters": {
                            f"method.response.header.{name}": f"'{value}'"
                            for name, value in headers.items()
                        },
                        "responseTemplates": {JSON: ""},
                    },
                ),
                preflight_headers=headers,
            )
        )
    return methods


# -- alarms -----------------------------------------------------------------------------------


def alarm_name(service: ServiceConfig, logical_id: str) -> str:
    return f"{service.service}-{service.stage}-{logical_id}"[:255]


def alarms(context: _Context) -> Contribution:
    service = context.service
    resources: list[Resource] = []
    warnings: list[str] = []
    for machine in service.state_machines.values():
        config = machine.events.alarms
        if config is None or not config.alarms:
            continue
        for spec in config.alarms:
            settings = {
                "Namespace": "AWS/States",
                "MetricName": spec.cloudwatch_metric,
                "AlarmDescription": spec.description,
                "Threshold": 1.0,
                "Period": spec.period,
                "EvaluationPeriods": 1,
                "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                "Statistic": "Sum",
                "OKActions": list(config.ok_actions),
                "AlarmActions": list(config.alarm_actions),
                "InsufficientDataActions": list(config.insufficient_data_actions),
                "TreatMissingData": spec.treat_missing_data,
                "Dimensions": [{"Name": "StateMachineArn", "Value": machine.arn}],
            }
            resources.append(
                Alarm(
                    name=spec.name or alarm_name(service, spec.logical_id),
                    settings=settings,
                    needs=(_machine(machine),),
                )
            )
        if not context.platform.evaluates_alarms:
            warnings.append(
                f"state machine {machine.name}: {len(config.alarms)} alarm(s) are kept as "
                "records on this target and never evaluated (they act on AWS only; see "
                "docs/aws.md, Alarms and notifications)"
            )
    return resources, warnings


# -- notifications ----------------------------------------------------------------------------


def notification_rule_name(machine: StateMachineConfig, status: str) -> str:
    return capped(f"{machine.name}-{status}-notification", MAX_RULE_NAME)


def notification_target_id(machine: StateMachineConfig, target: NotificationTarget) -> str:
    """As the plugin's generateTargetId: an md5 of the target's ARN and place, 5 characters."""
    text = json.dumps({"target": {"Arn": target.arn}, "index": target.index}, separators=(",", ":"))
    suffix = hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()[:5]
    return capped(f"{machine.name}-{target.status}-{suffix}", MAX_TARGET_ID)


NEEDS_ROLE = {"kinesis": "kinesis:PutRecord", "firehose": "firehose:PutRecord",
              "stepFunctions": "states:StartExecution"}  # fmt: skip
NEEDS_POLICY = ("sns", "sqs", "lambda")


def notifications_role(service: ServiceConfig, machine: StateMachineConfig) -> iam.RoleSpec:
    statements = sorted(
        {(NEEDS_ROLE[t.kind], t.arn) for t in machine.events.notifications if t.kind in NEEDS_ROLE}
    )
    return iam.RoleSpec(
        name=iam.role_name(service.service, service.stage, service.region, machine.key, "notify"),
        trust_policy=_trust("events.amazonaws.com"),
        inline_policies={
            NOTIFICATIONS_POLICY: {
                "Version": iam.POLICY_VERSION,
                "Statement": [
                    {"Effect": "Allow", "Action": action, "Resource": arn}
                    for action, arn in statements
                ],
            }
        },
    )


def notifications(context: _Context) -> Contribution:
    service = context.service
    delivered = context.platform.notification_targets
    resources: list[Resource] = []
    warnings: list[str] = []
    for machine in service.state_machines.values():
        targets = machine.events.notifications
        if not targets:
            continue
        role_arn = None
        role_needs: tuple[Address, ...] = ()
        if any(t.kind in NEEDS_ROLE for t in targets):
            spec = notifications_role(service, machine)
            role = Role(spec)
            resources.append(role)
            role_needs = (role.address,)
            role_arn = _role_arn(service, spec)
        for status in dict.fromkeys(t.status for t in targets):
            name = notification_rule_name(machine, status)
            arn = rule_arn(service, name)
            rule_targets = []
            needs: list[Address] = [_machine(machine)]
            for target in (t for t in targets if t.status == status):
                transformer = target.input_transformer
                rule_targets.append(
                    RuleTarget(
                        id=notification_target_id(machine, target),
                        arn=target.arn,
                        role_arn=role_arn if target.kind in NEEDS_ROLE else None,
                        input_path=target.input_path,
                        input_transformer=transformer.to_api() if transformer else None,
                        sqs_message_group_id=target.message_group_id,
                        kinesis_partition_key_path=target.partition_key_path,
                    )
                )
                if target.kind in NEEDS_ROLE:
                    needs.extend(a for a in role_needs if a not in needs)
                elif target.kind in NEEDS_POLICY:
                    permission = Permission(permission_name(name, target.arn), target.arn, arn)
                    if permission.address not in needs:
                        resources.append(permission)
                        needs.append(permission.address)
                if delivered is not None and target.kind not in delivered:
                    file, line, column = target.location
                    where = ":".join(str(p) for p in (file, line, column) if p is not None)
                    warnings.append(
                        f"{where}: state machine {machine.name}: {status} notifications to "
                        f"`{target.kind}` targets are not delivered on this target (deployed "
                        "as a record; delivered locally: " + ", ".join(sorted(delivered)) + ")"
                    )
            resources.append(
                Rule(
                    name=name,
                    arn=arn,
                    targets=tuple(rule_targets),
                    event_pattern={
                        "source": ["aws.states"],
                        "detail-type": [STATUS_CHANGE],
                        "detail": {"status": [status], "stateMachineArn": [machine.arn]},
                    },
                    description=f"[{status}] status notification for state machine "
                    f"[{machine.name}]",
                    needs=tuple(needs),
                )
            )
    return resources, warnings
