"""The local target's providers for state-machine events, alarms and notifications: records in
the runtime's SQLite file (tooling.localrt.event_store), each in the AWS API's shape.

What acts on them: `tool worker` fires the schedules (rules with a schedule expression and
Scheduler schedules) and delivers status-change notifications to the local targets that exist;
`tool serve` answers the REST API's routes. Alarms are kept and never evaluated, and target
policies are kept and not enforced (nothing enforces IAM locally). Ownership is the local
store's per-resource row, as for the other kinds.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

from tooling.deploy.differences import STARTING_SETTINGS, mapping_diff, mapping_settings
from tooling.deploy.event_differences import (
    alarm_diff,
    api_methods_found,
    permission_diff,
    rest_api_diff,
    rule_diff,
    schedule_diff,
)
from tooling.deploy.http_api_resources import local_http_api_id
from tooling.deploy.models import (
    HTTP_API_ID,
    REST_API_ID,
    Address,
    Alarm,
    ApiMethod,
    EventBus,
    EventSourceMapping,
    Kind,
    Permission,
    RestApi,
    Rule,
    Schedule,
    ScheduleGroup,
)
from tooling.deploy.providers import Description, Diff, Found
from tooling.localrt.event_store import EventStore


class LocalState(Protocol):
    """What tooling.deploy.local_providers.LocalState gives every provider."""

    root: Path
    region: str
    account_id: str

    @property
    def database(self) -> Path: ...

    def exists(self) -> bool: ...

    def claim(self, resource: str) -> None: ...

    def release(self, resource: str) -> None: ...

    def owns(self, resource: str) -> bool: ...


def _now() -> datetime:
    return datetime.now(UTC)


class _Records:
    """One kind's records: find, put and delete by address name, in this region."""

    kind: Kind

    def __init__(self, state: LocalState) -> None:
        self.state = state

    @cached_property
    def store(self) -> EventStore:
        return EventStore(self.state.database)

    def _claim_key(self, address: Address) -> str:
        return f"{address.kind} {self.state.region} {address.name}"

    def _find(self, address: Address) -> Found | None:
        if not self.state.exists():
            return None
        record = self.store.get(self.kind, self.state.region, address.name)
        return dict(record.document) if record else None

    def _put(self, address: Address, document: dict[str, Any], *, restart: bool = False) -> None:
        self.state.claim(self._claim_key(address))
        self.store.put(
            self.kind, self.state.region, address.name, document, now=_now(), restart=restart
        )

    def owns(self, address: Address, found: Found) -> bool:
        return self.state.owns(self._claim_key(address))

    def delete(self, address: Address) -> None:
        if self.state.exists():
            self.store.delete(self.kind, self.state.region, address.name)
            self.state.release(self._claim_key(address))


class LocalRules(_Records):
    kind: Kind = "rule"

    def check(self, resource: Rule) -> None:
        pass

    def find(self, address: Address) -> Found | None:
        return self._find(address)

    def diff(self, resource: Rule, found: Found) -> Diff:
        return rule_diff(resource, found)

    def create(self, resource: Rule) -> None:
        document: dict[str, Any] = {
            "Name": resource.name,
            "Arn": resource.arn,
            "EventBusName": resource.event_bus,
            **resource.settings(),
            "Targets": [target.to_api() for target in resource.targets],
        }
        self._put(resource.address, document, restart=True)

    def update(self, resource: Rule, found: Found, diff: Diff) -> None:
        restart = "ScheduleExpression" in diff.attributes
        document = {
            "Name": resource.name,
            "Arn": resource.arn,
            "EventBusName": resource.event_bus,
            **resource.settings(),
            "Targets": [target.to_api() for target in resource.targets],
        }
        self._put(resource.address, document, restart=restart)

    def describe(self, address: Address, found: Found) -> Description:
        what = found.get("ScheduleExpression") or "event pattern"
        details = f"{what}, {str(found.get('State', '')).lower()}"
        if found.get("ScheduleExpression"):
            details += ", fired by `tool worker`"
        return Description(str(found.get("Arn", address.arn)), details)


class LocalEventBuses(_Records):
    kind: Kind = "event bus"

    def check(self, resource: EventBus) -> None:
        pass

    def find(self, address: Address) -> Found | None:
        return self._find(address)

    def diff(self, resource: EventBus, found: Found) -> Diff:
        return Diff()

    def create(self, resource: EventBus) -> None:
        self._put(resource.address, {"Name": resource.name, "Arn": resource.arn})

    def update(self, resource: EventBus, found: Found, diff: Diff) -> None:
        pass

    def describe(self, address: Address, found: Found) -> Description:
        return Description(str(found.get("Arn", "")), "event bus (a record)")


class LocalScheduleGroups(_Records):
    kind: Kind = "schedule group"

    def check(self, resource: ScheduleGroup) -> None:
        pass

    def find(self, address: Address) -> Found | None:
        return self._find(address)

    def diff(self, resource: ScheduleGroup, found: Found) -> Diff:
        return Diff()

    def create(self, resource: ScheduleGroup) -> None:
        arn = (
            f"arn:aws:scheduler:{self.state.region}:{self.state.account_id}:schedule-group/"
            f"{resource.name}"
        )
        self._put(resource.address, {"Name": resource.name, "Arn": arn, "State": "ACTIVE"})

    def update(self, resource: ScheduleGroup, found: Found, diff: Diff) -> None:
        pass

    def describe(self, address: Address, found: Found) -> Description:
        return Description(str(found.get("Arn", "")), "active")


class LocalSchedules(_Records):
    kind: Kind = "schedule"

    def check(self, resource: Schedule) -> None:
        pass

    def find(self, address: Address) -> Found | None:
        return self._find(address)

    def diff(self, resource: Schedule, found: Found) -> Diff:
        return schedule_diff(resource, found)

    def _document(self, resource: Schedule) -> dict[str, Any]:
        arn = (
            f"arn:aws:scheduler:{self.state.region}:{self.state.account_id}:schedule/"
            f"{resource.group}/{resource.name}"
        )
        return {"Name": resource.name, "GroupName": resource.group, "Arn": arn,
                **resource.settings()}  # fmt: skip

    def create(self, resource: Schedule) -> None:
        self._put(resource.address, self._document(resource), restart=True)

    def update(self, resource: Schedule, found: Found, diff: Diff) -> None:
        restart = bool({"ScheduleExpression", "ScheduleExpressionTimezone"} & set(diff.attributes))
        self._put(resource.address, self._document(resource), restart=restart)

    def describe(self, address: Address, found: Found) -> Description:
        details = f"{found.get('ScheduleExpression')}, {str(found.get('State', '')).lower()}"
        return Description(str(found.get("Arn", "")), details + ", fired by `tool worker`")


def local_api_id(region: str, name: str) -> str:
    """A REST API's id on the local target: stable, so `tool serve`'s URLs do not change."""
    return hashlib.sha256(f"{region}/{name}".encode()).hexdigest()[:10]


def _method_document(method: ApiMethod) -> dict[str, Any]:
    """A method as GetResources (embed=methods) answers it."""
    integration = dict(method.integration)
    found: dict[str, Any] = {
        "type": integration.get("type"),
        "requestTemplates": integration.get("requestTemplates", {}),
        "integrationResponses": {
            str(r["statusCode"]): dict(r) for r in method.integration_responses
        },
    }
    for ours, theirs in (
        ("integrationHttpMethod", "httpMethod"),
        ("uri", "uri"),
        ("credentials", "credentials"),
        ("passthroughBehavior", "passthroughBehavior"),
        ("timeoutInMillis", "timeoutInMillis"),
        ("contentHandling", "contentHandling"),
        ("requestParameters", "requestParameters"),
        ("connectionType", "connectionType"),
        ("connectionId", "connectionId"),
    ):
        if ours in integration:
            found[theirs] = integration[ours]
    document: dict[str, Any] = {
        "httpMethod": method.http_method,
        "authorizationType": method.authorization_type,
        "apiKeyRequired": method.api_key_required,
        "methodResponses": {str(r["statusCode"]): dict(r) for r in method.method_responses},
        "methodIntegration": found,
    }
    if method.authorizer_id:
        document["authorizerId"] = method.authorizer_id
    if method.authorization_scopes:
        document["authorizationScopes"] = list(method.authorization_scopes)
    if method.request_parameters:
        document["requestParameters"] = dict(method.request_parameters)
    return document


def route_document(method: ApiMethod, authorizer: dict[str, Any] | None = None) -> dict[str, Any]:
    """What `tool serve` needs to answer a method like API Gateway does (`authorizer`: the
    settings of the authorizer the method names, with its id)."""
    return {
        "path": method.path,
        "method": method.http_method,
        "stateMachineArn": method.state_machine_arn,
        "functionArn": method.function_arn,
        "action": method.action,
        "templateKind": method.template_kind,
        "requestTemplates": dict(method.integration.get("requestTemplates") or {}),
        "integrationType": method.integration.get("type"),
        "integrationUri": method.integration.get("uri"),
        "integrationHttpMethod": method.integration.get("integrationHttpMethod"),
        "connectionType": method.integration.get("connectionType"),
        "passthroughBehavior": method.integration.get("passthroughBehavior"),
        "integrationRequestParameters": dict(method.integration.get("requestParameters") or {}),
        "corsOrigin": method.cors_origin,
        "preflightHeaders": method.preflight_headers,
        "authorizationType": method.authorization_type,
        "authorizerId": method.authorizer_id,
        "authorizer": authorizer,
        "authorizationScopes": list(method.authorization_scopes),
        "apiKeyRequired": method.api_key_required,
        "integrationResponses": list(method.integration_responses),
        "declaredIn": list(method.declared_in),
    }


class LocalRestApis(_Records):
    kind: Kind = "rest api"

    def check(self, resource: RestApi) -> None:
        pass

    def find(self, address: Address) -> Found | None:
        return self._find(address)

    def diff(self, resource: RestApi, found: Found) -> Diff:
        return rest_api_diff(resource, found)

    def _document(self, api: RestApi) -> dict[str, Any]:
        if api.existence_only:  # the whole API comes after the stack
            api = replace(api, methods=())
        authorizers = {
            str(a["name"]): {
                "id": hashlib.sha256(f"{api.name}/authorizers/{a['name']}".encode()).hexdigest()[
                    :6
                ],
                **a,
                "declaredIn": list(dict(api.authorizer_locations).get(str(a["name"]), ())),
            }
            for a in api.authorizers
        }
        methods = [
            replace(m, authorizer_id=authorizers[m.authorizer]["id"])
            if m.authorizer in authorizers
            else m
            for m in api.methods
        ]
        resources: dict[str, dict[str, Any]] = {"": {"path": "/", "resourceMethods": {}}}
        for path in api.paths():
            resources[path] = {"path": "/" + path, "resourceMethods": {}}
        for method in methods:
            resources[method.path]["resourceMethods"][method.http_method] = _method_document(method)
        for path, resource in resources.items():
            resource["id"] = hashlib.sha256(f"{api.name}/{path}".encode()).hexdigest()[:10]
        return {
            "id": local_api_id(self.state.region, api.name),
            "name": api.name,
            "endpointConfiguration": {"types": [api.endpoint_type]},
            "binaryMediaTypes": list(api.binary_media_types),
            "minimumCompressionSize": api.minimum_compression_size,
            "apiKeySource": api.api_key_source,
            "Resources": list(resources.values()),
            "Stages": [{"stageName": api.stage}],
            "Authorizers": list(authorizers.values()),
            "Routes": [
                route_document(method, authorizers.get(original.authorizer or ""))
                for method, original in zip(methods, api.methods, strict=True)
            ],
        }

    def create(self, resource: RestApi) -> None:
        self._put(resource.address, self._document(resource))

    def update(self, resource: RestApi, found: Found, diff: Diff) -> None:
        if not resource.existence_only:
            self._put(resource.address, self._document(resource))
            return
        # the authorizers `resources:` names, added to the API as it is
        made = {str(a.get("name")): a for a in self._document(resource)["Authorizers"]}
        kept = [a for a in found.get("Authorizers") or [] if a.get("name") not in made]
        self._put(resource.address, {**found, "Authorizers": [*kept, *made.values()]})

    def describe(self, address: Address, found: Found) -> Description:
        stage = (found.get("Stages") or [{}])[0].get("stageName", "")
        return Description(
            f"local API {found.get('id')} (stage {stage})",
            f"{len(api_methods_found(found))} method(s)"
            + "".join(
                f", authorizer {a.get('name')} ({a.get('type')})"
                for a in found.get("Authorizers") or []
            )  # fmt: skip
            + ", served by `tool serve`",
        )


class LocalAlarms(_Records):
    kind: Kind = "alarm"

    def check(self, resource: Alarm) -> None:
        pass

    def find(self, address: Address) -> Found | None:
        return self._find(address)

    def diff(self, resource: Alarm, found: Found) -> Diff:
        return alarm_diff(resource, found)

    def create(self, resource: Alarm) -> None:
        arn = (
            f"arn:aws:cloudwatch:{self.state.region}:{self.state.account_id}:alarm:{resource.name}"
        )
        document = {
            "AlarmName": resource.name,
            "AlarmArn": arn,
            "StateValue": "INSUFFICIENT_DATA",
            "StateReason": "not evaluated on the local target",
            **resource.settings,
        }
        self._put(resource.address, document)

    def update(self, resource: Alarm, found: Found, diff: Diff) -> None:
        self.create(resource)

    def describe(self, address: Address, found: Found) -> Description:
        return Description(
            str(found.get("AlarmArn", "")),
            f"{found.get('MetricName')} >= {found.get('Threshold')}, not evaluated locally",
        )


class LocalPermissions(_Records):
    kind: Kind = "permission"

    def check(self, resource: Permission) -> None:
        pass

    def find(self, address: Address) -> Found | None:
        return self._find(address)

    def diff(self, resource: Permission, found: Found) -> Diff:
        return permission_diff(self._resolved(resource), found)

    def _resolved(self, permission: Permission) -> Permission:
        if permission.http_api is not None:
            api_id = local_http_api_id(self.state.region, permission.http_api)
            return replace(
                permission, source_arn=permission.source_arn.replace(HTTP_API_ID, api_id)
            )
        if permission.rest_api is None:
            return permission
        api_id = local_api_id(self.state.region, permission.rest_api)
        return replace(permission, source_arn=permission.source_arn.replace(REST_API_ID, api_id))

    def create(self, resource: Permission) -> None:
        resource = self._resolved(resource)
        if resource.function_url_auth_type is not None:  # a public function URL's
            statement: dict[str, Any] = {
                "Sid": resource.sid,
                "Effect": "Allow",
                "Principal": "*",
                "Action": "lambda:InvokeFunctionUrl",
                "Resource": resource.target,
                "Condition": {
                    "StringEquals": {"lambda:FunctionUrlAuthType": resource.function_url_auth_type}
                },
            }
        elif resource.service == "lambda":  # as Lambda's GetPolicy answers it
            statement = {
                "Sid": resource.sid,
                "Effect": "Allow",
                "Principal": {"Service": resource.principal},
                "Action": "lambda:InvokeFunction",
                "Resource": resource.target,
                "Condition": {"ArnLike": {"AWS:SourceArn": resource.source_arn}},
            }
            if resource.source_account:
                statement["Condition"]["StringEquals"] = {
                    "AWS:SourceAccount": resource.source_account
                }
        else:
            statement = resource.statement()
        self._put(resource.address, {"Statement": json.loads(json.dumps(statement))})

    def update(self, resource: Permission, found: Found, diff: Diff) -> None:
        self.create(resource)

    def describe(self, address: Address, found: Found) -> Description:
        return Description(str(address.arn), "kept as a record (not enforced locally)")


class LocalEventSourceMappings(_Records):
    """A function's `sqs` event: `tool worker` polls the queue (in the local AWS services) and
    invokes the function with each batch (tooling.triggers.function_queues)."""

    kind: Kind = "event source mapping"

    def check(self, resource: EventSourceMapping) -> None:
        pass

    def find(self, address: Address) -> Found | None:
        return self._find(address)

    def diff(self, resource: EventSourceMapping, found: Found) -> Diff:
        return mapping_diff(resource, found)

    def _document(self, resource: EventSourceMapping) -> dict[str, Any]:
        function_arn = (
            f"arn:aws:lambda:{self.state.region}:{self.state.account_id}:function:"
            f"{resource.function_name}"
        )
        uuid = hashlib.sha256(resource.address.name.encode()).hexdigest()
        return {
            "UUID": f"{uuid[:8]}-{uuid[8:12]}-{uuid[12:16]}-{uuid[16:20]}-{uuid[20:32]}",
            "EventSourceArn": resource.queue_arn,
            "FunctionArn": function_arn,
            "State": "Enabled" if resource.enabled else "Disabled",
            **json.loads(json.dumps(mapping_settings(resource), default=datetime.isoformat)),
        }

    def create(self, resource: EventSourceMapping) -> None:
        self._put(resource.address, self._document(resource))

    def update(self, resource: EventSourceMapping, found: Found, diff: Diff) -> None:
        # a new starting position is a new mapping, reading the stream from there
        restart = bool(set(STARTING_SETTINGS) & set(diff.attributes))
        self._put(resource.address, self._document(resource), restart=restart)

    def describe(self, address: Address, found: Found) -> Description:
        details = f"batch {found.get('BatchSize')}, {str(found.get('State', '')).lower()}"
        return Description(str(found.get("UUID", "")), details + ", polled by `tool worker`")


def local_event_providers(state: LocalState) -> dict[Kind, Any]:
    return {
        "event source mapping": LocalEventSourceMappings(state),
        "rule": LocalRules(state),
        "event bus": LocalEventBuses(state),
        "schedule group": LocalScheduleGroups(state),
        "schedule": LocalSchedules(state),
        "rest api": LocalRestApis(state),
        "alarm": LocalAlarms(state),
        "permission": LocalPermissions(state),
    }
