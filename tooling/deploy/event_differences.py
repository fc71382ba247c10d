"""How found rules, schedules, REST APIs, alarms and permissions differ from their models, in
the AWS APIs' own shapes (DescribeRule + ListTargetsByRule, GetSchedule, GetResources with
embedded methods, DescribeAlarms, a policy statement). Both targets' providers answer in these
shapes, so each comparison is written once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from tooling.deploy.models import Alarm, ApiMethod, Permission, RestApi, Rule, Schedule
from tooling.deploy.providers import Diff, Found

DEFAULT_TIMEOUT_MILLIS = 29_000  # API Gateway's integration timeout when none is set
DEFAULT_PASSTHROUGH = "WHEN_NO_MATCH"
DEFAULT_TIMEZONE = "UTC"
DEFAULT_AUTHORIZER_TTL = 300  # CreateAuthorizer's authorizerResultTtlInSeconds when none is set


def rule_diff(rule: Rule, found: Found) -> Diff:
    """`found`: DescribeRule's answer, plus "Targets" (ListTargetsByRule's)."""
    parts: list[tuple[str, tuple[str, ...]]] = []
    wanted = rule.settings()
    if found.get("ScheduleExpression") != wanted.get("ScheduleExpression"):
        parts.append(("schedule changed", ("ScheduleExpression",)))
    have_pattern = found.get("EventPattern")
    if (json.loads(have_pattern) if have_pattern else None) != rule.event_pattern:
        parts.append(("event pattern changed", ("EventPattern",)))
    if found.get("State") != wanted["State"]:
        parts.append(("state changed", ("State",)))
    if (found.get("Description") or None) != rule.description:
        parts.append(("description changed", ("Description",)))
    if targets_by_id(found.get("Targets") or []) != targets_by_id(
        [t.to_api() for t in rule.targets]
    ):
        parts.append(("targets changed", ("Targets",)))
    return Diff.of(*parts)


def targets_by_id(targets: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(t["Id"]): _target(t) for t in targets}


def _target(target: dict[str, Any]) -> dict[str, Any]:
    kept = {key: value for key, value in target.items() if value not in (None, {}, "")}
    transformer = kept.get("InputTransformer")
    if transformer is not None:  # an empty paths map may come back absent
        kept["InputTransformer"] = {
            "InputTemplate": transformer.get("InputTemplate"),
            "InputPathsMap": transformer.get("InputPathsMap") or {},
        }
    if "Input" in kept:  # JSON text: compared as JSON
        kept["Input"] = json.loads(kept["Input"])
    return kept


def schedule_diff(schedule: Schedule, found: Found) -> Diff:
    """`found`: GetSchedule's answer."""
    wanted = schedule.settings()
    parts: list[tuple[str, tuple[str, ...]]] = []
    for key in ("ScheduleExpression", "State", "FlexibleTimeWindow"):
        if found.get(key) != wanted.get(key):
            parts.append((f"{key} changed", (key,)))
    timezone = found.get("ScheduleExpressionTimezone") or DEFAULT_TIMEZONE
    if timezone != (wanted.get("ScheduleExpressionTimezone") or DEFAULT_TIMEZONE):
        parts.append(("timezone changed", ("ScheduleExpressionTimezone",)))
    if (found.get("Description") or None) != wanted.get("Description"):
        parts.append(("description changed", ("Description",)))
    have = found.get("Target") or {}
    target = wanted["Target"]
    same_target = all(have.get(key) == target.get(key) for key in ("Arn", "RoleArn")) and (
        json.loads(have["Input"]) if have.get("Input") else None
    ) == (json.loads(target["Input"]) if target.get("Input") else None)
    if not same_target:
        parts.append(("target changed", ("Target",)))
    return Diff.of(*parts)


def canonical_method(method: ApiMethod, ids: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A method as compared: what the toolkit sets, with API Gateway's defaults filled in;
    `ids` the ids of the API's authorizers by name (one not made yet matches no id)."""
    integration = method.integration
    authorizer_id = method.authorizer_id
    if method.authorizer is not None:
        authorizer_id = (ids or {}).get(method.authorizer, f"<{method.authorizer}: not made yet>")
    return {
        "authorizationType": method.authorization_type,
        "apiKeyRequired": method.api_key_required,
        "authorizerId": authorizer_id,
        "authorizationScopes": sorted(method.authorization_scopes) or None,
        "requestParameters": dict(method.request_parameters),
        "methodResponses": {
            str(r["statusCode"]): {
                "responseParameters": dict(r.get("responseParameters") or {}),
                "responseModels": dict(r.get("responseModels") or {}),
            }
            for r in method.method_responses
        },
        "integration": {
            "type": integration.get("type"),
            "httpMethod": integration.get("integrationHttpMethod"),
            "uri": integration.get("uri"),
            "credentials": integration.get("credentials"),
            "requestTemplates": _templates(integration.get("requestTemplates")),
            "passthroughBehavior": integration.get("passthroughBehavior", DEFAULT_PASSTHROUGH),
            "timeoutInMillis": integration.get("timeoutInMillis", DEFAULT_TIMEOUT_MILLIS),
            "contentHandling": integration.get("contentHandling"),
            "requestParameters": dict(integration.get("requestParameters") or {}),
            "connectionType": integration.get("connectionType") or "INTERNET",
            "connectionId": integration.get("connectionId"),
            "integrationResponses": {
                str(r["statusCode"]): {
                    "selectionPattern": r.get("selectionPattern") or "",
                    "responseParameters": dict(r.get("responseParameters") or {}),
                    "responseTemplates": _templates(r.get("responseTemplates")),
                }
                for r in method.integration_responses
            },
        },
    }


def found_method(method: dict[str, Any]) -> dict[str, Any]:
    """A GetResources (embed=methods) `resourceMethods` entry, in canonical_method's shape."""
    integration = method.get("methodIntegration") or {}
    return {
        "authorizationType": method.get("authorizationType", "NONE"),
        "apiKeyRequired": bool(method.get("apiKeyRequired")),
        "authorizerId": method.get("authorizerId"),
        "authorizationScopes": sorted(method.get("authorizationScopes") or []) or None,
        "requestParameters": dict(method.get("requestParameters") or {}),
        "methodResponses": {
            str(code): {
                "responseParameters": dict(r.get("responseParameters") or {}),
                "responseModels": dict(r.get("responseModels") or {}),
            }
            for code, r in (method.get("methodResponses") or {}).items()
        },
        "integration": {
            "type": integration.get("type"),
            "httpMethod": integration.get("httpMethod"),
            "uri": integration.get("uri"),
            "credentials": integration.get("credentials"),
            "requestTemplates": _templates(integration.get("requestTemplates")),
            "passthroughBehavior": integration.get("passthroughBehavior", DEFAULT_PASSTHROUGH),
            "timeoutInMillis": integration.get("timeoutInMillis", DEFAULT_TIMEOUT_MILLIS),
            "contentHandling": integration.get("contentHandling"),
            "requestParameters": dict(integration.get("requestParameters") or {}),
            "connectionType": integration.get("connectionType") or "INTERNET",
            "connectionId": integration.get("connectionId"),
            "integrationResponses": {
                str(code): {
                    "selectionPattern": r.get("selectionPattern") or "",
                    "responseParameters": dict(r.get("responseParameters") or {}),
                    "responseTemplates": _templates(r.get("responseTemplates")),
                }
                for code, r in (integration.get("integrationResponses") or {}).items()
            },
        },
    }


def _templates(value: Any) -> dict[str, str]:
    # API Gateway may answer an empty template as null.
    return {key: text or "" for key, text in (value or {}).items()}


def api_methods_found(found: Found) -> dict[tuple[str, str], dict[str, Any]]:
    """(path, METHOD) -> canonical method, from `found["Resources"]` (GetResources' items)."""
    methods: dict[tuple[str, str], dict[str, Any]] = {}
    for resource in found.get("Resources") or []:
        path = str(resource.get("path", "/")).strip("/")
        for verb, method in (resource.get("resourceMethods") or {}).items():
            methods[(path, verb)] = found_method(method)
    return methods


def api_methods_wanted(
    api: RestApi, ids: Mapping[str, str] | None = None
) -> dict[tuple[str, str], dict[str, Any]]:
    return {(m.path, m.http_method): canonical_method(m, ids) for m in api.methods}


# What an authorizer is compared by (CreateAuthorizer's settings besides its name).
AUTHORIZER_FIELDS = ("type", "authorizerUri", "providerARNs", "identitySource",
                     "identityValidationExpression", "authorizerResultTtlInSeconds")  # fmt: skip


def authorizer_shape(authorizer: Mapping[str, Any]) -> dict[str, Any]:
    shape = {name: authorizer.get(name) for name in AUTHORIZER_FIELDS}
    shape["providerARNs"] = sorted(authorizer.get("providerARNs") or []) or None
    shape["identityValidationExpression"] = authorizer.get("identityValidationExpression") or None
    ttl = authorizer.get("authorizerResultTtlInSeconds")
    shape["authorizerResultTtlInSeconds"] = DEFAULT_AUTHORIZER_TTL if ttl is None else int(ttl)
    return shape


def authorizer_ids(found: Found) -> dict[str, str]:
    """The found API's authorizers' ids by name (GetAuthorizers' items, "Authorizers"); of
    two with one name, the first."""
    ids: dict[str, str] = {}
    for authorizer in found.get("Authorizers") or []:
        ids.setdefault(str(authorizer.get("name")), str(authorizer.get("id")))
    return ids


def authorizers_changed(api: RestApi, found: Found) -> list[str]:
    """The names of the authorizers to make, change or delete."""
    have: dict[str, dict[str, Any]] = {}
    changed: set[str] = set()
    for authorizer in found.get("Authorizers") or []:
        name = str(authorizer.get("name"))
        if name in have:
            changed.add(name)  # a second one of that name: deleted
        have.setdefault(name, authorizer_shape(authorizer))
    wanted = {str(a["name"]): authorizer_shape(a) for a in api.authorizers}
    changed.update(name for name in set(have) | set(wanted) if have.get(name) != wanted.get(name))
    return sorted(changed)


def api_settings(api: RestApi) -> dict[str, Any]:
    """The REST API's own settings, as GetRestApi answers them."""
    return {
        "binaryMediaTypes": sorted(api.binary_media_types),
        "minimumCompressionSize": api.minimum_compression_size,
        "apiKeySource": api.api_key_source,
    }


def api_settings_found(found: Found) -> dict[str, Any]:
    """GetRestApi's settings, comparable with `api_settings` (unset ones as their defaults)."""
    return {
        "binaryMediaTypes": sorted(found.get("binaryMediaTypes") or []),
        "minimumCompressionSize": found.get("minimumCompressionSize"),
        "apiKeySource": found.get("apiKeySource") or "HEADER",
    }


def rest_api_diff(api: RestApi, found: Found) -> Diff:
    """`found`: GetRestApi's answer, plus "Resources" (GetResources with methods embedded) and
    "Stages" (GetStages' items)."""
    if api.existence_only:  # only that it exists, with the authorizers `resources:` names
        shapes = {str(a.get("name")): authorizer_shape(a) for a in found.get("Authorizers") or []}
        missing = sorted(
            str(a["name"]) for a in api.authorizers if shapes.get(a["name"]) != authorizer_shape(a)
        )
        if missing:
            return Diff.of((f"authorizers changed: {', '.join(missing)}", ("authorizers",)))
        return Diff()
    parts: list[tuple[str, tuple[str, ...]]] = []
    types = (found.get("endpointConfiguration") or {}).get("types") or ["EDGE"]
    if api.existing_id is None and types != [api.endpoint_type]:  # a shared API's is not ours
        parts.append(("endpoint type changed", ("endpointConfiguration",)))
    if api.existing_id is None:  # a shared API's settings are not the toolkit's
        changed_settings = [
            key
            for key, wanted in api_settings(api).items()
            if api_settings_found(found)[key] != wanted
        ]
        if changed_settings:
            parts.append(
                (f"settings changed: {', '.join(changed_settings)}", tuple(changed_settings))
            )
    names = authorizers_changed(api, found)  # on a shared API, the toolkit's
    if names:
        parts.append((f"authorizers changed: {', '.join(names)}", ("authorizers",)))
    have, wanted = api_methods_found(found), api_methods_wanted(api, authorizer_ids(found))
    changed = sorted(
        f"{verb} /{path}"
        for key in set(have) | set(wanted)
        for path, verb in [key]
        if have.get(key) != wanted.get(key)
    )
    if changed:
        shown = ", ".join(changed[:3]) + (
            f" and {len(changed) - 3} more" if len(changed) > 3 else ""
        )
        parts.append((f"methods changed: {shown}", ("resourceMethods",)))
    stages = {stage.get("stageName") for stage in found.get("Stages") or []}
    if api.stage not in stages:
        parts.append((f"stage {api.stage} missing", ("stages",)))
    return Diff.of(*parts)


def alarm_diff(alarm: Alarm, found: Found) -> Diff:
    """`found`: a DescribeAlarms MetricAlarms entry."""
    changed = []
    for key, value in alarm.settings.items():
        have = found.get(key)
        if key == "Threshold":
            same = have is not None and float(have) == float(value)
        elif key == "Dimensions":
            same = sorted(json.dumps(d, sort_keys=True) for d in have or []) == sorted(
                json.dumps(d, sort_keys=True) for d in value
            )
        elif isinstance(value, list):
            same = sorted(have or []) == sorted(value)
        else:
            same = have == value
        if not same:
            changed.append(key)
    return Diff(tuple(f"{key} changed" for key in changed), tuple(changed))


def permission_diff(permission: Permission, found: Found) -> Diff:
    """`found`: {"Statement": the statement with the permission's Sid}."""
    have = found.get("Statement") or {}
    if permission.function_url_auth_type is not None:  # a public function URL's
        condition = (have.get("Condition") or {}).get("StringEquals") or {}
        same = (
            _principal(have) in ("*", {"AWS": "*"})
            and have.get("Action") == "lambda:InvokeFunctionUrl"
            and condition.get("lambda:FunctionUrlAuthType") == permission.function_url_auth_type
        )
    elif permission.service == "lambda":
        condition = (have.get("Condition") or {}).get("ArnLike") or {}
        same = condition.get("AWS:SourceArn") == permission.source_arn and _principal(have) == (
            permission.principal
        )
        account = ((have.get("Condition") or {}).get("StringEquals") or {}).get("AWS:SourceAccount")
        same = same and account == permission.source_account
    else:
        same = _normal_statement(have) == _normal_statement(permission.statement())
    return Diff() if same else Diff.of(("statement changed", ("Policy",)))


def _principal(statement: dict[str, Any]) -> Any:
    principal = statement.get("Principal")
    return principal.get("Service") if isinstance(principal, dict) else principal


def _normal_statement(statement: dict[str, Any]) -> dict[str, Any]:
    def listed(value: Any) -> Any:
        return sorted(value) if isinstance(value, list) else [value] if value else []

    return {
        "Effect": statement.get("Effect"),
        "Principal": listed(_principal(statement)),
        "Action": listed(statement.get("Action")),
        "Resource": listed(statement.get("Resource")),
        "Condition": statement.get("Condition"),
    }
