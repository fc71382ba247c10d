"""The models state-machine events become (tooling.deploy.event_resources), as the plugin
compiles them: no target involved."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from tooling.config.service import load_service
from tooling.deploy.desired import desired_resources
from tooling.deploy.models import Permission, RestApi, Role, Rule
from tooling.deploy.providers import Platform

ACCOUNT = "123456789012"
MACHINE = f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:s-dev-m"


def resources(tmp_path: Path, machine: str, platform: Platform | None = None) -> list[Any]:
    (tmp_path / "serverless.yml").write_text(
        "service: s\nprovider:\n  name: aws\nstepFunctions:\n  stateMachines:\n    m:\n"
        "      definition: {StartAt: A, States: {A: {Type: Pass, End: true}}}\n" + machine
    )
    service = load_service(tmp_path, env={}, account_id=ACCOUNT)
    assert service.problems == ()
    return list(desired_resources(service, platform or Platform()).resources)


def api_of(found: list[Any]) -> RestApi:
    (api,) = [r for r in found if isinstance(r, RestApi)]
    return api


def test_integrations_as_the_plugin_makes_them(tmp_path: Path) -> None:
    api = api_of(
        resources(
            tmp_path,
            "      events:\n"
            "        - http: {path: a, method: post}\n"
            "        - http: {path: b, method: post, request: {template: lambda_proxy}}\n"
            "        - http: {path: c, method: post, action: DescribeExecution}\n"
            "        - http:\n            path: d\n            method: post\n"
            "            request: {template: {text/plain: 'custom'}}\n",
        )
    )
    by_path = {m.path: m for m in api.methods}
    default = by_path["a"].integration
    assert default["passthroughBehavior"] == "NEVER"
    assert set(default["requestTemplates"]) == {
        "application/json",
        "application/x-www-form-urlencoded",
    }
    proxy = by_path["b"].integration
    assert proxy["passthroughBehavior"] == "NEVER"  # the plugin's: NEVER unless `action`
    assert '"requestContext"' in proxy["requestTemplates"]["application/json"]
    assert f'"accountId": "{ACCOUNT}"' in proxy["requestTemplates"]["application/json"]
    action = by_path["c"].integration
    assert action["uri"] == "arn:aws:apigateway:us-east-1:states:action/DescribeExecution"
    assert action["passthroughBehavior"] == "WHEN_NO_TEMPLATES"
    assert "requestTemplates" not in action  # none with an action and no template
    custom = by_path["d"].integration["requestTemplates"]
    assert custom["text/plain"] == "custom" and "application/json" in custom  # laid over


def test_cors_preflights_merge_per_path(tmp_path: Path) -> None:
    api = api_of(
        resources(
            tmp_path,
            "      events:\n"
            "        - http: {path: a, method: post, cors: true}\n"
            "        - http:\n            path: a\n            method: any\n"
            "            cors: {origin: 'https://x.example', headers: [X-Mine], maxAge: 600}\n",
        )
    )
    (preflight,) = [m for m in api.methods if m.http_method == "OPTIONS"]
    assert preflight.preflight_headers == {
        "Access-Control-Allow-Origin": "https://x.example",  # the last one wins
        "Access-Control-Allow-Headers": "Content-Type,X-Amz-Date,Authorization,X-Api-Key,"
        "X-Amz-Security-Token,X-Amz-User-Agent,X-Mine",
        "Access-Control-Allow-Methods": "OPTIONS,POST,DELETE,GET,HEAD,PATCH,POST,PUT",
        "Access-Control-Allow-Credentials": "false",
        "Access-Control-Max-Age": "600",
    }


def test_the_api_role_allows_each_action_on_what_uses_it(tmp_path: Path) -> None:
    found = resources(
        tmp_path,
        "      events:\n"
        "        - http: {path: a, method: post}\n"
        "        - http: {path: b, method: post, action: StopExecution}\n"
        "        - http: {path: c, method: post, iamRole: 'arn:aws:iam::1:role/theirs'}\n",
    )
    (role,) = [r for r in found if isinstance(r, Role) and r.spec.name.endswith("apiGateway")]
    assert role.spec.trust_policy["Statement"][0]["Principal"] == {
        "Service": "apigateway.amazonaws.com"
    }
    assert role.spec.inline_policies["tool-api-gateway"]["Statement"] == [
        {"Effect": "Allow", "Action": "states:StartExecution", "Resource": [MACHINE]},
        {
            "Effect": "Allow",
            "Action": "states:StopExecution",
            "Resource": [f"arn:aws:states:us-east-1:{ACCOUNT}:execution:s-dev-m:*"],
        },
    ]
    by_path = {m.path: m for m in api_of(found).methods}
    assert by_path["c"].integration["credentials"] == "arn:aws:iam::1:role/theirs"


def test_notification_target_ids_are_the_plugins(tmp_path: Path) -> None:
    topic = f"arn:aws:sns:us-east-1:{ACCOUNT}:t"
    found = resources(
        tmp_path, f"      notifications:\n        FAILED:\n          - sns: {topic}\n"
    )
    (rule,) = [r for r in found if isinstance(r, Rule)]
    # generateTargetId: md5 of JSON.stringify({target: {Arn}, index}), 5 characters
    digest = hashlib.md5(
        ('{"target":{"Arn":"' + topic + '"},"index":0}').encode(), usedforsecurity=False
    ).hexdigest()[:5]
    assert [t.id for t in rule.targets] == [f"s-dev-m-FAILED-{digest}"]
    assert rule.name == "s-dev-m-FAILED-notification"


def test_a_target_that_cannot_be_delivered_is_said(tmp_path: Path) -> None:
    platform = Platform(notification_targets=frozenset({"sqs"}))
    (tmp_path / "serverless.yml").write_text(
        "service: s\nprovider:\n  name: aws\nstepFunctions:\n  stateMachines:\n    m:\n"
        "      definition: {StartAt: A, States: {A: {Type: Pass, End: true}}}\n"
        "      notifications:\n        FAILED:\n"
        f"          - sns: arn:aws:sns:us-east-1:{ACCOUNT}:t\n"
    )
    service = load_service(tmp_path, env={}, account_id=ACCOUNT)
    warnings = desired_resources(service, platform).warnings
    assert warnings == (
        "serverless.yml:10:18: state machine s-dev-m: FAILED notifications to `sns` targets are "
        "not delivered on this target (deployed as a record; delivered locally: sqs)",
    )


def test_a_shared_api_is_named_by_its_id_and_its_permissions_scoped_to_it(
    tmp_path: Path,
) -> None:
    (tmp_path / "serverless.yml").write_text(
        "service: s\nprovider:\n  name: aws\n  apiGateway:\n    restApiId: abc123\n"
        "    restApiRootResourceId: root1\n    restApiResources: {/users: res1}\n"
        "functions:\n  f:\n    handler: handler.f\n    events:\n      - http: GET users/{id}\n"
    )
    service = load_service(tmp_path, env={}, account_id=ACCOUNT)
    assert service.problems == ()
    found = list(desired_resources(service, Platform()).resources)
    api = api_of(found)
    assert (api.name, api.existing_id, api.root_resource_id) == ("dev-s", "abc123", "root1")
    assert api.predefined_resources == (("users", "res1"),)
    assert api.address.arn == "id:abc123#root1#users=res1#users,users/{id}"  # for a remove
    (permission,) = [r for r in found if isinstance(r, Permission)]
    assert permission.source_arn == f"arn:aws:execute-api:us-east-1:{ACCOUNT}:abc123/*/*"
