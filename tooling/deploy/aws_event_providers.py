"""The AWS target's providers for state-machine events, alarms and notifications: EventBridge
rules, EventBridge Scheduler schedules and their group, API Gateway REST APIs, CloudWatch alarms,
and the statements the notification targets' policies need. Every call goes through
`tooling.aws.client.AwsClient`.

Ownership is the same rule as for the other kinds (the tags `tool:service` and `tool:stage`):
PutRule `Tags`, CreateEventBus `Tags`, CreateRestApi `tags`, PutMetricAlarm `Tags` and
CreateScheduleGroup `Tags`.
Scheduler schedules take no tags: they live in the service's and stage's own schedule group, and
are the toolkit's when that group is. A policy statement is the toolkit's by its id, which is
derived from the rule's name.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from tooling.deploy.api_key_providers import aws_api_key_providers
from tooling.deploy.aws_context import AwsContext, tag_list
from tooling.deploy.aws_http_api_providers import AwsHttpApis
from tooling.deploy.aws_rest_authorizers import (
    check_names,
    delete_authorizers,
    described,
    found_authorizers,
    sync_authorizers,
)
from tooling.deploy.aws_shared_rest_api import SharedRestApis, shared_api
from tooling.deploy.aws_websocket_providers import AwsWebsocketApis
from tooling.deploy.event_differences import (
    alarm_diff,
    api_methods_found,
    api_methods_wanted,
    api_settings,
    api_settings_found,
    permission_diff,
    rest_api_diff,
    rule_diff,
    schedule_diff,
    targets_by_id,
)
from tooling.deploy.models import (
    DEFAULT_EVENT_BUS,
    HTTP_API_ID,
    REST_API_ID,
    Address,
    Alarm,
    ApiMethod,
    EventBus,
    Kind,
    Permission,
    RestApi,
    Rule,
    Schedule,
    ScheduleGroup,
    permission_sid,
    split_rule_address,
)
from tooling.deploy.providers import Description, Diff, Found
from tooling.errors import BadInput, ConfigError, NotFound

if TYPE_CHECKING:
    pass

MAX_TARGETS_PER_CALL = 10  # PutTargets / RemoveTargets take at most 10 at once


class AwsRules:
    """Rules on the default bus, or on the bus their address names ("<bus>/<rule>")."""

    def __init__(self, context: AwsContext) -> None:
        self.c = context

    def check(self, resource: Rule) -> None:
        """A rule on a bus the service does not make (neither an `event bus` nor the stack
        makes it) needs that bus to exist: refused before anything changes, as CloudFormation
        would fail the plugin's or Serverless' rule there."""
        bus = resource.event_bus
        if bus == DEFAULT_EVENT_BUS or any(
            n.kind in ("event bus", "stack") for n in resource.needs
        ):
            return
        found = self.c.aws.find(
            "events", "describe_event_bus", what=f"look up event bus {bus}", Name=bus
        )
        if found is None:
            file, line, column = resource.declared_in
            raise ConfigError(
                f"rule {resource.name}: event bus {bus!r} does not exist on the aws target, and "
                "the service does not create it",
                file=file,
                line=line,
                column=column,
                hint="create the bus (an AWS::Events::EventBus in resources:, or deploy the "
                "service that owns it first), or name an existing one",
            )

    @staticmethod
    def _bus(bus: str) -> dict[str, str]:
        return {} if bus == DEFAULT_EVENT_BUS else {"EventBusName": bus}

    def find(self, address: Address) -> Found | None:
        aws = self.c.aws
        bus, name = split_rule_address(address.name)
        found = aws.find(
            "events", "describe_rule", what=f"look up rule {address.name}", Name=name,
            **self._bus(bus),
        )  # fmt: skip
        if found is None:
            return None
        targets: list[dict[str, Any]] = []
        for page in aws.pages(
            "events", "list_targets_by_rule", what=f"read the targets of rule {address.name}",
            Rule=name, **self._bus(bus),
        ):  # fmt: skip
            targets.extend(page.get("Targets", []))
        return {**found, "Targets": targets}

    def owns(self, address: Address, found: Found) -> bool:
        answer = self.c.aws.call(
            "events", "list_tags_for_resource", what=f"read the tags of rule {address.name}",
            ResourceARN=found.get("Arn") or address.arn,
        )  # fmt: skip
        return self.c.ours({t["Key"]: t["Value"] for t in answer.get("Tags", [])})

    def diff(self, resource: Rule, found: Found) -> Diff:
        return rule_diff(resource, found)

    def create(self, resource: Rule) -> None:
        self.c.aws.call(
            "events", "put_rule", what=f"create rule {resource.address.name}",
            Name=resource.name, Tags=tag_list(self.c), **self._bus(resource.event_bus),
            **resource.settings(),
        )  # fmt: skip
        self._put_targets(resource, [])

    def update(self, resource: Rule, found: Found, diff: Diff) -> None:
        if set(diff.attributes) - {"Targets"}:
            self.c.aws.call(
                "events", "put_rule", what=f"update rule {resource.address.name}",
                Name=resource.name, **self._bus(resource.event_bus), **resource.settings(),
            )  # fmt: skip
        if "Targets" in diff.attributes:
            self._put_targets(resource, found.get("Targets") or [])

    def _put_targets(self, rule: Rule, have: list[dict[str, Any]]) -> None:
        aws, name, shown, bus = self.c.aws, rule.name, rule.address.name, self._bus(rule.event_bus)
        wanted = [target.to_api() for target in rule.targets]
        current = targets_by_id(have)
        changed = [t for t in wanted if current.get(t["Id"]) != targets_by_id([t])[t["Id"]]]
        stale = sorted(set(current) - {t["Id"] for t in wanted})
        for start in range(0, len(stale), MAX_TARGETS_PER_CALL):
            aws.call(
                "events", "remove_targets", what=f"remove targets of rule {shown}", Rule=name,
                Ids=stale[start : start + MAX_TARGETS_PER_CALL], **bus,
            )  # fmt: skip
        for start in range(0, len(changed), MAX_TARGETS_PER_CALL):
            answer = aws.call(
                "events", "put_targets", what=f"put the targets of rule {shown}", Rule=name,
                Targets=changed[start : start + MAX_TARGETS_PER_CALL], **bus,
            )  # fmt: skip
            failed = answer.get("FailedEntries") or []
            if failed:
                first = failed[0]
                raise BadInput(
                    f"put the targets of rule {shown} failed: {first.get('ErrorCode')}: "
                    f"{first.get('ErrorMessage')}",
                    hint="check the target's ARN in serverless.yml",
                )

    def delete(self, address: Address) -> None:
        aws = self.c.aws
        bus_name, name = split_rule_address(address.name)
        bus = self._bus(bus_name)
        found = self.find(address)
        if found is None:
            return
        ids = [t["Id"] for t in found.get("Targets") or []]
        for start in range(0, len(ids), MAX_TARGETS_PER_CALL):
            aws.call(
                "events", "remove_targets", what=f"remove targets of rule {address.name}",
                Rule=name, Ids=ids[start : start + MAX_TARGETS_PER_CALL], **bus,
            )  # fmt: skip
        with contextlib.suppress(NotFound):
            aws.call("events", "delete_rule", what=f"delete rule {address.name}", Name=name,
                     **bus)  # fmt: skip

    def describe(self, address: Address, found: Found) -> Description:
        what = found.get("ScheduleExpression") or "event pattern"
        targets = len(found.get("Targets") or [])
        bus = found.get("EventBusName") or DEFAULT_EVENT_BUS
        on = "" if bus == DEFAULT_EVENT_BUS else f", on bus {bus}"
        return Description(
            str(found.get("Arn", address.arn)),
            f"{what}, {found.get('State', '').lower()}, {targets} target(s){on}",
        )


class AwsEventBuses:
    def __init__(self, context: AwsContext) -> None:
        self.c = context

    def check(self, resource: EventBus) -> None:
        pass

    def find(self, address: Address) -> Found | None:
        return self.c.aws.find(
            "events", "describe_event_bus", what=f"look up event bus {address.name}",
            Name=address.name,
        )  # fmt: skip

    def owns(self, address: Address, found: Found) -> bool:
        answer = self.c.aws.call(
            "events", "list_tags_for_resource", what=f"read the tags of event bus {address.name}",
            ResourceARN=found.get("Arn") or address.arn,
        )  # fmt: skip
        return self.c.ours({t["Key"]: t["Value"] for t in answer.get("Tags", [])})

    def diff(self, resource: EventBus, found: Found) -> Diff:
        return Diff()

    def create(self, resource: EventBus) -> None:
        self.c.aws.call(
            "events", "create_event_bus", what=f"create event bus {resource.name}",
            Name=resource.name, Tags=tag_list(self.c),
        )  # fmt: skip

    def update(self, resource: EventBus, found: Found, diff: Diff) -> None:
        pass

    def delete(self, address: Address) -> None:
        with contextlib.suppress(NotFound):
            self.c.aws.call(
                "events", "delete_event_bus", what=f"delete event bus {address.name}",
                Name=address.name,
            )  # fmt: skip

    def describe(self, address: Address, found: Found) -> Description:
        return Description(str(found.get("Arn", address.arn)), "event bus")


class AwsScheduleGroups:
    def __init__(self, context: AwsContext) -> None:
        self.c = context

    def check(self, resource: ScheduleGroup) -> None:
        pass

    def find(self, address: Address) -> Found | None:
        return self.c.aws.find(
            "scheduler", "get_schedule_group", what=f"look up schedule group {address.name}",
            Name=address.name,
        )  # fmt: skip

    def owns(self, address: Address, found: Found) -> bool:
        answer = self.c.aws.call(
            "scheduler", "list_tags_for_resource",
            what=f"read the tags of schedule group {address.name}", ResourceArn=found["Arn"],
        )  # fmt: skip
        return self.c.ours({t["Key"]: t["Value"] for t in answer.get("Tags", [])})

    def diff(self, resource: ScheduleGroup, found: Found) -> Diff:
        return Diff()

    def create(self, resource: ScheduleGroup) -> None:
        self.c.aws.call(
            "scheduler", "create_schedule_group", what=f"create schedule group {resource.name}",
            Name=resource.name, Tags=tag_list(self.c),
        )  # fmt: skip

    def update(self, resource: ScheduleGroup, found: Found, diff: Diff) -> None:
        pass

    def delete(self, address: Address) -> None:
        with contextlib.suppress(NotFound):
            self.c.aws.call(
                "scheduler", "delete_schedule_group",
                what=f"delete schedule group {address.name}", Name=address.name,
            )  # fmt: skip

    def describe(self, address: Address, found: Found) -> Description:
        return Description(str(found.get("Arn", "")), str(found.get("State", "")).lower())


class AwsSchedules:
    def __init__(self, context: AwsContext, groups: AwsScheduleGroups) -> None:
        self.c = context
        self.groups = groups

    def check(self, resource: Schedule) -> None:
        pass

    @staticmethod
    def _split(address: Address) -> tuple[str, str]:
        group, _, name = address.name.partition("/")
        return group, name

    def find(self, address: Address) -> Found | None:
        group, name = self._split(address)
        return self.c.aws.find(
            "scheduler", "get_schedule", what=f"look up schedule {address.name}", Name=name,
            GroupName=group,
        )  # fmt: skip

    def owns(self, address: Address, found: Found) -> bool:
        group = Address("schedule group", self._split(address)[0])
        current = self.groups.find(group)
        return current is not None and self.groups.owns(group, current)

    def diff(self, resource: Schedule, found: Found) -> Diff:
        return schedule_diff(resource, found)

    def create(self, resource: Schedule) -> None:
        self.c.aws.call(
            "scheduler", "create_schedule", what=f"create schedule {resource.name}",
            Name=resource.name, GroupName=resource.group, **resource.settings(),
        )  # fmt: skip

    def update(self, resource: Schedule, found: Found, diff: Diff) -> None:
        self.c.aws.call(
            "scheduler", "update_schedule", what=f"update schedule {resource.name}",
            Name=resource.name, GroupName=resource.group, **resource.settings(),
        )  # fmt: skip

    def delete(self, address: Address) -> None:
        group, name = self._split(address)
        with contextlib.suppress(NotFound):
            self.c.aws.call(
                "scheduler", "delete_schedule", what=f"delete schedule {address.name}",
                Name=name, GroupName=group,
            )  # fmt: skip

    def describe(self, address: Address, found: Found) -> Description:
        return Description(
            str(found.get("Arn", "")),
            f"{found.get('ScheduleExpression')}, {str(found.get('State', '')).lower()}",
        )


class AwsRestApis:
    """A REST API, found by name (API Gateway does not keep names unique: the toolkit's is the
    one carrying its tags). An update changes only the methods that differ, then deploys the
    stage again. A shared API (provider.apiGateway.restApiId) is found by its id and handled by
    tooling.deploy.aws_shared_rest_api."""

    def __init__(self, context: AwsContext) -> None:
        self.c = context
        self.shared = SharedRestApis(context, self.put_method)

    def check(self, resource: RestApi) -> None:
        pass

    def _apis_named(self, name: str) -> list[dict[str, Any]]:
        return [
            api
            for page in self.c.aws.pages("apigateway", "get_rest_apis", what=f"look up API {name}")
            for api in page.get("items", [])
            if api.get("name") == name
        ]

    def find(self, address: Address) -> Found | None:
        shared = shared_api(address)
        if shared is not None:
            return self.shared.find(shared.api_id)
        apis = self._apis_named(address.name)
        if not apis:
            return None
        api = next((a for a in apis if self.c.ours(dict(a.get("tags") or {}))), apis[0])
        aws, api_id = self.c.aws, api["id"]
        what = f"read API {address.name}"
        resources = [
            item
            for page in aws.pages(
                "apigateway", "get_resources", what=what, restApiId=api_id, embed=["methods"]
            )
            for item in page.get("items", [])
        ]
        stages = aws.call("apigateway", "get_stages", what=what, restApiId=api_id)
        authorizers = found_authorizers(aws, api_id, what)
        return {
            **api, "Resources": resources, "Stages": stages.get("item", []),
            "Authorizers": authorizers,
        }  # fmt: skip

    def owns(self, address: Address, found: Found) -> bool:
        if shared_api(address) is not None:
            return True  # what the toolkit changes in it is its own methods and paths
        return self.c.ours(dict(found.get("tags") or {}))

    def diff(self, resource: RestApi, found: Found) -> Diff:
        if resource.existing_id is not None:
            check_names(resource, resource.existing_id, found.get("Authorizers") or [],
                        found.get("OtherAuthorizers") or [])  # fmt: skip
        diff = rest_api_diff(resource, found)
        if "endpointConfiguration" in diff.attributes:
            raise BadInput(
                f"REST API {resource.name} is "
                f"{(found.get('endpointConfiguration') or {}).get('types')} on AWS and "
                f"serverless.yml now says {resource.endpoint_type}; the toolkit does not change "
                "an API's endpoint type in place",
                hint="run `tool remove --target aws` and deploy again",
            )
        return diff

    def create(self, resource: RestApi) -> None:
        if resource.existing_id is not None:
            self.shared.apply(resource, self.shared.find(resource.existing_id))
            return
        endpoint: dict[str, Any] = {"types": [resource.endpoint_type]}
        if resource.vpc_endpoint_ids:
            endpoint["vpcEndpointIds"] = list(resource.vpc_endpoint_ids)
        settings: dict[str, Any] = {"apiKeySource": resource.api_key_source}
        if resource.binary_media_types:
            settings["binaryMediaTypes"] = list(resource.binary_media_types)
        if resource.minimum_compression_size is not None:
            settings["minimumCompressionSize"] = resource.minimum_compression_size
        api = self.c.aws.call(
            "apigateway", "create_rest_api", what=f"create API {resource.name}",
            name=resource.name, description=self.c.description, endpointConfiguration=endpoint,
            tags=self.c.tags, **settings,
        )  # fmt: skip
        if resource.existence_only:  # its methods and deployment come after the stack
            sync_authorizers(self.c.aws, resource, api["id"], [])  # those the template names
            return
        root = {"id": api.get("rootResourceId"), "path": "/"}
        if root["id"] is None:
            root = self._resources(api["id"])[0]
        self._apply(resource, api["id"], [root], [])

    def update(self, resource: RestApi, found: Found, diff: Diff) -> None:
        if resource.existing_id is not None:
            self.shared.apply(resource, found)
        elif resource.existence_only:  # the authorizers the template names, nothing else
            sync_authorizers(self.c.aws, resource, found["id"], found.get("Authorizers") or [])
        else:
            if {"binaryMediaTypes", "minimumCompressionSize", "apiKeySource"} & set(
                diff.attributes
            ):
                self._settings(resource, found)
            self._apply(
                resource,
                found["id"],
                list(found.get("Resources") or []),
                list(found.get("Authorizers") or []),
            )

    def _settings(self, api: RestApi, found: Found) -> None:
        """UpdateRestApi's patch for the API's own settings (a media type's "/" is "~1" in
        its path, as JSON Pointer escapes it)."""
        have, wanted = api_settings_found(found), api_settings(api)
        operations: list[dict[str, str]] = [
            {"op": "remove", "path": "/binaryMediaTypes/" + media.replace("/", "~1")}
            for media in sorted(set(have["binaryMediaTypes"]) - set(wanted["binaryMediaTypes"]))
        ] + [
            {"op": "add", "path": "/binaryMediaTypes/" + media.replace("/", "~1")}
            for media in sorted(set(wanted["binaryMediaTypes"]) - set(have["binaryMediaTypes"]))
        ]
        if have["minimumCompressionSize"] != wanted["minimumCompressionSize"]:
            size = wanted["minimumCompressionSize"]
            operations.append({"op": "replace", "path": "/minimumCompressionSize",
                               "value": "" if size is None else str(size)})  # fmt: skip
        if have["apiKeySource"] != wanted["apiKeySource"]:
            operations.append(
                {"op": "replace", "path": "/apiKeySource", "value": wanted["apiKeySource"]}
            )
        self.c.aws.call(
            "apigateway", "update_rest_api", what=f"update the settings of API {api.name}",
            restApiId=found["id"], patchOperations=operations,
        )  # fmt: skip

    def api_id(self, name: str) -> str | None:
        """The id of the toolkit's API of that name (None: there is none yet)."""
        api = next(
            (a for a in self._apis_named(name) if self.c.ours(dict(a.get("tags") or {}))), None
        )
        return str(api["id"]) if api else None

    def _resources(self, api_id: str) -> list[dict[str, Any]]:
        return [
            item
            for page in self.c.aws.pages(
                "apigateway", "get_resources", what="read the API's resources", restApiId=api_id
            )
            for item in page.get("items", [])
        ]

    def _apply(
        self,
        api: RestApi,
        api_id: str,
        resources: list[dict[str, Any]],
        authorizers: list[dict[str, Any]],
    ) -> None:
        aws = self.c.aws
        authorizer_ids, unused = sync_authorizers(aws, api, api_id, authorizers)
        ids = {str(r.get("path", "/")).strip("/"): r["id"] for r in resources}
        for path in api.paths():
            if path in ids:
                continue
            parent, _, part = path.rpartition("/")
            created = aws.call(
                "apigateway", "create_resource", what=f"create resource /{path} of {api.name}",
                restApiId=api_id, parentId=ids[parent], pathPart=part,
            )  # fmt: skip
            ids[path] = created["id"]
        have = api_methods_found({"Resources": resources})
        wanted = api_methods_wanted(api, authorizer_ids)
        for method in api.methods:
            key = (method.path, method.http_method)
            if have.get(key) == wanted[key]:
                continue
            if key in have:
                self._delete_method(api_id, ids[method.path], method.http_method)
            if method.authorizer is not None:
                method = replace(method, authorizer_id=authorizer_ids[method.authorizer])
            self.put_method(api_id, ids[method.path], method)
        for path, verb in sorted(set(have) - set(wanted)):
            if path in ids:
                self._delete_method(api_id, ids[path], verb)
        delete_authorizers(aws, api_id, unused)  # no method names them any more
        needed = set(api.paths()) | {""}
        for path in sorted(set(ids) - needed, key=lambda p: -p.count("/")):
            with contextlib.suppress(NotFound):
                aws.call(
                    "apigateway", "delete_resource", what=f"delete resource /{path}",
                    restApiId=api_id, resourceId=ids[path],
                )  # fmt: skip
        aws.call(
            "apigateway", "create_deployment", what=f"deploy API {api.name} to stage {api.stage}",
            restApiId=api_id, stageName=api.stage, description=self.c.description,
        )  # fmt: skip

    def _delete_method(self, api_id: str, resource_id: str, verb: str) -> None:
        with contextlib.suppress(NotFound):
            self.c.aws.call(
                "apigateway", "delete_method", what=f"delete method {verb}", restApiId=api_id,
                resourceId=resource_id, httpMethod=verb,
            )  # fmt: skip

    def put_method(self, api_id: str, resource_id: str, method: ApiMethod) -> None:
        aws, verb = self.c.aws, method.http_method
        what = f"put method {verb} /{method.path}"
        where = {"restApiId": api_id, "resourceId": resource_id, "httpMethod": verb}
        extra: dict[str, Any] = {}
        if method.authorizer_id:
            extra["authorizerId"] = method.authorizer_id
        if method.authorization_scopes:
            extra["authorizationScopes"] = list(method.authorization_scopes)
        if method.request_parameters:
            extra["requestParameters"] = dict(method.request_parameters)
        if method.operation_name:
            extra["operationName"] = method.operation_name
        aws.call(
            "apigateway", "put_method", what=what, authorizationType=method.authorization_type,
            apiKeyRequired=method.api_key_required, **where, **extra,
        )  # fmt: skip
        for response in method.method_responses:
            aws.call("apigateway", "put_method_response", what=what, **where, **response)
        aws.call("apigateway", "put_integration", what=what, **where, **method.integration)
        for response in method.integration_responses:
            aws.call("apigateway", "put_integration_response", what=what, **where, **response)

    def delete(self, address: Address) -> None:
        shared = shared_api(address)
        if shared is not None:
            self.shared.delete(shared)
            return
        for api in self._apis_named(address.name):
            if self.c.ours(dict(api.get("tags") or {})):
                with contextlib.suppress(NotFound):
                    self.c.aws.call(
                        "apigateway", "delete_rest_api", what=f"delete API {address.name}",
                        restApiId=api["id"],
                    )  # fmt: skip

    def describe(self, address: Address, found: Found) -> Description:
        shared = shared_api(address)
        if shared is not None:
            return self.shared.describe(shared.api_id, found)
        stages = [s.get("stageName") for s in found.get("Stages") or []]
        stage = stages[0] if stages else ""
        url = f"https://{found['id']}.execute-api.{self.c.region}.amazonaws.com/{stage}"
        return Description(
            url,
            f"{len(api_methods_found(found))} method(s)"
            + described(found.get("Authorizers") or []),
        )


class AwsAlarms:
    def __init__(self, context: AwsContext) -> None:
        self.c = context

    def check(self, resource: Alarm) -> None:
        pass

    def find(self, address: Address) -> Found | None:
        answer = self.c.aws.call(
            "cloudwatch", "describe_alarms", what=f"look up alarm {address.name}",
            AlarmNames=[address.name], AlarmTypes=["MetricAlarm"],
        )  # fmt: skip
        alarms = answer.get("MetricAlarms") or []
        return dict(alarms[0]) if alarms else None

    def owns(self, address: Address, found: Found) -> bool:
        answer = self.c.aws.call(
            "cloudwatch", "list_tags_for_resource", what=f"read the tags of alarm {address.name}",
            ResourceARN=found["AlarmArn"],
        )  # fmt: skip
        return self.c.ours({t["Key"]: t["Value"] for t in answer.get("Tags", [])})

    def diff(self, resource: Alarm, found: Found) -> Diff:
        return alarm_diff(resource, found)

    def create(self, resource: Alarm) -> None:
        self.c.aws.call(
            "cloudwatch", "put_metric_alarm", what=f"create alarm {resource.name}",
            AlarmName=resource.name, Tags=tag_list(self.c), **resource.settings,
        )  # fmt: skip

    def update(self, resource: Alarm, found: Found, diff: Diff) -> None:
        self.c.aws.call(
            "cloudwatch", "put_metric_alarm", what=f"update alarm {resource.name}",
            AlarmName=resource.name, **resource.settings,
        )  # fmt: skip

    def delete(self, address: Address) -> None:
        self.c.aws.call(
            "cloudwatch", "delete_alarms", what=f"delete alarm {address.name}",
            AlarmNames=[address.name],
        )  # fmt: skip

    def describe(self, address: Address, found: Found) -> Description:
        return Description(
            str(found.get("AlarmArn", "")),
            f"{found.get('MetricName')} >= {found.get('Threshold')}, {found.get('StateValue')}",
        )


class AwsPermissions:
    """A statement with the toolkit's id in an SNS topic's or SQS queue's policy (the rest of
    the policy is kept as it is), or a Lambda function's permission (AddPermission); one for
    API Gateway names the toolkit's REST API by its id."""

    def __init__(
        self, context: AwsContext, apis: AwsRestApis, http_apis: AwsHttpApis | None = None
    ) -> None:
        self.c = context
        self.apis = apis
        self.http_apis = http_apis

    def check(self, resource: Permission) -> None:
        pass

    def _resolved(self, permission: Permission) -> Permission:
        """The permission with its REST API's id in `source_arn` (as it is while the API does
        not exist: it then differs from any statement found)."""
        if permission.http_api is not None and self.http_apis is not None:
            http_api_id = self.http_apis.api_id(permission.http_api)
            if http_api_id is None:
                return permission
            return replace(
                permission, source_arn=permission.source_arn.replace(HTTP_API_ID, http_api_id)
            )
        if permission.rest_api is None or REST_API_ID not in permission.source_arn:
            return permission
        api_id = self.apis.api_id(permission.rest_api)
        if api_id is None:
            return permission
        return replace(permission, source_arn=permission.source_arn.replace(REST_API_ID, api_id))

    def _policy(self, target: str) -> dict[str, Any] | None:
        """The target's policy document ({} when it has none); None when the target is gone."""
        aws, service = self.c.aws, target.split(":")[2]
        what = f"read the policy of {target}"
        try:
            if service == "sns":
                answer = aws.call("sns", "get_topic_attributes", what=what, TopicArn=target)
                text = (answer.get("Attributes") or {}).get("Policy")
            elif service == "sqs":
                answer = aws.call(
                    "sqs", "get_queue_attributes", what=what, QueueUrl=self._queue_url(target),
                    AttributeNames=["Policy"],
                )  # fmt: skip
                text = (answer.get("Attributes") or {}).get("Policy")
            else:
                try:
                    text = aws.call("lambda", "get_policy", what=what, FunctionName=target).get(
                        "Policy"
                    )
                except NotFound:
                    aws.call("lambda", "get_function_configuration", what=what, FunctionName=target)
                    text = None
        except NotFound:
            return None
        return json.loads(text) if text else {}

    def _queue_url(self, arn: str) -> str:
        parts = arn.split(":")
        answer = self.c.aws.call(
            "sqs", "get_queue_url", what=f"look up queue {parts[5]}", QueueName=parts[5],
            QueueOwnerAWSAccountId=parts[4],
        )  # fmt: skip
        return str(answer["QueueUrl"])

    def find(self, address: Address) -> Found | None:
        assert address.arn is not None
        policy = self._policy(address.arn)
        if policy is None:
            return None
        sid = permission_sid(address.name)
        for statement in _statements(policy):
            if statement.get("Sid") == sid:
                return {"Statement": statement}
        return None

    def owns(self, address: Address, found: Found) -> bool:
        return True  # the statement id is derived from the rule's name, the toolkit's own

    def diff(self, resource: Permission, found: Found) -> Diff:
        return permission_diff(self._resolved(resource), found)

    def create(self, resource: Permission) -> None:
        self._put(self._resolved(resource))

    def update(self, resource: Permission, found: Found, diff: Diff) -> None:
        self._put(self._resolved(resource))

    def _put(self, permission: Permission) -> None:
        aws, target = self.c.aws, permission.target
        what = f"allow rule {permission.source_arn.rsplit('/', 1)[-1]} to reach {target}"
        if permission.principal == "s3.amazonaws.com":
            what = f"allow bucket {permission.source_arn.rsplit(':', 1)[-1]} to invoke {target}"
        if permission.rest_api is not None or permission.http_api is not None:
            what = f"allow API {permission.rest_api or permission.http_api} to invoke {target}"
        if permission.service == "lambda":
            with contextlib.suppress(NotFound):
                aws.call(
                    "lambda", "remove_permission", what=what, FunctionName=target,
                    StatementId=permission.sid,
                )  # fmt: skip
            if permission.function_url_auth_type is not None:  # a public function URL's
                aws.call(
                    "lambda", "add_permission", what=f"make the URL of {target} public",
                    FunctionName=target, StatementId=permission.sid,
                    Action="lambda:InvokeFunctionUrl", Principal=permission.principal,
                    FunctionUrlAuthType=permission.function_url_auth_type,
                )  # fmt: skip
                return
            aws.call(
                "lambda", "add_permission", what=what, FunctionName=target,
                StatementId=permission.sid, Action="lambda:InvokeFunction",
                Principal=permission.principal, SourceArn=permission.source_arn,
                **({"SourceAccount": permission.source_account} if permission.source_account
                   else {}),
            )  # fmt: skip
            return
        policy = self._policy(target)
        if policy is None:
            raise NotFound(f"{what} failed: {target} does not exist", hint="create it first")
        statements = [s for s in _statements(policy) if s.get("Sid") != permission.sid]
        statements.append(permission.statement())
        self._write(target, {"Version": "2012-10-17", **policy, "Statement": statements}, what)

    def _write(self, target: str, policy: dict[str, Any], what: str) -> None:
        text = json.dumps(policy) if policy.get("Statement") else ""
        if target.split(":")[2] == "sns":
            self.c.aws.call(
                "sns", "set_topic_attributes", what=what, TopicArn=target, AttributeName="Policy",
                AttributeValue=text or json.dumps({**policy, "Statement": []}),
            )  # fmt: skip
        else:
            self.c.aws.call(
                "sqs", "set_queue_attributes", what=what, QueueUrl=self._queue_url(target),
                Attributes={"Policy": text},
            )  # fmt: skip

    def delete(self, address: Address) -> None:
        assert address.arn is not None
        sid, target = permission_sid(address.name), address.arn
        what = f"remove the permission of {address.name}"
        if target.split(":")[2] == "lambda":
            with contextlib.suppress(NotFound):
                self.c.aws.call(
                    "lambda", "remove_permission", what=what, FunctionName=target, StatementId=sid
                )
            return
        policy = self._policy(target)
        if not policy:
            return
        statements = [s for s in _statements(policy) if s.get("Sid") != sid]
        if len(statements) != len(_statements(policy)):
            self._write(target, {**policy, "Statement": statements}, what)

    def describe(self, address: Address, found: Found) -> Description:
        return Description(str(address.arn), str(found.get("Statement", {}).get("Sid", "")))


def _statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    statements = policy.get("Statement") or []
    return [statements] if isinstance(statements, dict) else list(statements)


def aws_event_providers(context: AwsContext) -> dict[Kind, Any]:
    groups = AwsScheduleGroups(context)
    apis = AwsRestApis(context)
    http_apis = AwsHttpApis(context)
    return {
        "http api": http_apis,
        "websocket api": AwsWebsocketApis(context),
        "rule": AwsRules(context),
        "event bus": AwsEventBuses(context),
        "schedule group": groups,
        "schedule": AwsSchedules(context, groups),
        "rest api": apis,
        "alarm": AwsAlarms(context),
        "permission": AwsPermissions(context, apis, http_apis),
        **aws_api_key_providers(context, apis),
    }
