"""A function's provisionedConcurrency on the AWS target, against a moto server: a version
published after the function's code and configuration, the `provisioned` alias on it with its
provisioned concurrency, as Serverless deploys them; nothing published by a no-op redeploy; a
new version after a change; a deploy stopped between publishing and moving the alias finished
by the next; the alias removed with the setting and by `tool remove` (issue 15)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from .cli_runs import mutating, run, stopped_at
from .conftest import REGION

FUNCTION = "versions-dev-work"
SERVERLESS = """\
service: versions
provider:
  name: aws
  runtime: python3.12
functions:
  work:
    handler: handler.work
    provisionedConcurrency: 2
  plain:
    handler: handler.work
"""


def client(name: str) -> Any:
    make_client: Callable[..., Any] = boto3.Session(region_name=REGION).client
    return make_client(name)


@pytest.fixture
def service(aws_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "versions"
    folder.mkdir()
    (folder / "serverless.yml").write_text(SERVERLESS)
    (folder / "handler.py").write_text("def work(event, context):\n    return 1\n")
    monkeypatch.chdir(folder)
    return folder


def alias(name: str = FUNCTION) -> dict[str, Any]:
    answer: dict[str, Any] = client("lambda").get_alias(FunctionName=name, Name="provisioned")
    return answer


def provisioned() -> int:
    config = client("lambda").get_provisioned_concurrency_config(
        FunctionName=FUNCTION, Qualifier="provisioned"
    )
    return int(config["RequestedProvisionedConcurrentExecutions"])


def versions(name: str = FUNCTION) -> list[str]:
    listed = client("lambda").list_versions_by_function(FunctionName=name)["Versions"]
    return [v["Version"] for v in listed if v["Version"] != "$LATEST"]


def test_a_version_and_the_provisioned_alias_and_a_redeploy_publishes_nothing(
    service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err, calls = run(capsys, "deploy")
    assert code == 0, err
    assert "provisionedConcurrency" not in err  # read, not warned about
    assert f"create    function alias {FUNCTION}:provisioned" in out
    assert alias()["FunctionVersion"] == "1"
    assert provisioned() == 2
    assert versions("versions-dev-plain") == []  # no alias, no version
    assert mutating(calls).count("PublishVersion") == 1

    code, out, err, calls = run(capsys, "deploy")
    assert code == 0, err
    assert out.splitlines()[-1] == "No changes.", out
    assert mutating(calls) == []

    (service / "handler.py").write_text("def work(event, context):\n    return 2\n")
    code, out, err, calls = run(capsys, "deploy")
    assert code == 0, err
    assert (
        f"update    function alias {FUNCTION}:provisioned (version 1 is not the function's "
        "code: a new version is published)" in out
    ), out.splitlines()
    assert alias()["FunctionVersion"] == "2"
    version = client("lambda").get_function_configuration(FunctionName=FUNCTION, Qualifier="2")
    latest = client("lambda").get_function_configuration(FunctionName=FUNCTION)
    assert version["CodeSha256"] == latest["CodeSha256"]

    text = SERVERLESS.replace("handler: handler.work\n    provisionedConcurrency: 2",
                              "handler: handler.work\n    memorySize: 256\n"
                              "    provisionedConcurrency: 3")  # fmt: skip
    (service / "serverless.yml").write_text(text)
    code, out, err, calls = run(capsys, "deploy")
    assert code == 0, err
    assert "MemorySize: a new version is published" in out, out
    assert "provisioned concurrency 2 -> 3" in out
    assert alias()["FunctionVersion"] == "3"
    assert provisioned() == 3
    assert client("lambda").get_function_configuration(
        FunctionName=FUNCTION, Qualifier="3")["MemorySize"] == 256  # fmt: skip


def test_a_deploy_stopped_after_publishing_is_finished_by_the_next(
    service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Stopped (as if killed) after PublishVersion, before the alias moved: the alias stays on
    the old version; the next deploy moves it (to the version published already), and the one
    after changes nothing."""
    assert run(capsys, "deploy")[0] == 0
    (service / "handler.py").write_text("def work(event, context):\n    return 2\n")
    with stopped_at("update_alias"):
        code, _, err, _ = run(capsys, "deploy")
    assert code == 1, err
    assert versions() == ["1", "2"]
    assert alias()["FunctionVersion"] == "1"

    code, out, err, calls = run(capsys, "deploy")
    assert code == 0, err
    assert f"update    function alias {FUNCTION}:provisioned" in out
    assert alias()["FunctionVersion"] == "2"
    assert versions() == ["1", "2"]  # nothing changed since 2: no third version
    code, out, err, calls = run(capsys, "deploy")
    assert out.splitlines()[-1] == "No changes.", out
    assert mutating(calls) == []


def test_the_alias_goes_with_the_setting_and_with_remove(
    service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "deploy")[0] == 0
    plain = SERVERLESS.replace("    provisionedConcurrency: 2\n", "")
    (service / "serverless.yml").write_text(plain)
    code, out, err, calls = run(capsys, "deploy")
    assert code == 0, err
    assert f"delete    function alias {FUNCTION}:provisioned" in out
    assert mutating(calls) == ["DeleteAlias"]
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        alias()

    (service / "serverless.yml").write_text(SERVERLESS)
    assert run(capsys, "deploy")[0] == 0
    assert alias()["FunctionVersion"] == "1"  # nothing changed since version 1
    code, out, err, calls = run(capsys, "remove")
    assert code == 0, err
    assert f"delete    function alias {FUNCTION}:provisioned" in out
    assert out.index(f"delete    function alias {FUNCTION}:provisioned (tool remove)") < out.index(
        f"delete    function {FUNCTION} (tool remove)"
    )
    assert "DeleteAlias" in mutating(calls)


EVENTS = """\
service: versions
provider:
  name: aws
  runtime: python3.12
functions:
  work:
    handler: handler.work
    provisionedConcurrency: 1
    maximumRetryAttempts: 1
    url: true
    events:
      - s3: versions-work-bucket
      - sqs: arn:aws:sqs:us-east-1:123456789012:work-queue
      - schedule: rate(5 minutes)
      - eventBridge:
          pattern: {source: [shop]}
      - sns: work-topic
      - http: GET /work
      - httpApi: GET /work
      - schedule: {rate: rate(1 hour), method: scheduler}
      - websocket: $connect
"""
ALIAS_ARN = f"arn:aws:lambda:{REGION}:123456789012:function:{FUNCTION}:provisioned"
PLAIN_ARN = ALIAS_ARN.removesuffix(":provisioned")


def invoked_arns() -> dict[str, Any]:
    """What each event of `work` invokes, as the target has it."""
    events, sns, lambda_ = client("events"), client("sns"), client("lambda")
    rules = events.list_rules()["Rules"]
    targets = sorted(
        t["Arn"] for r in rules for t in events.list_targets_by_rule(Rule=r["Name"])["Targets"]
    )
    (topic,) = sns.list_topics()["Topics"]
    (subscription,) = sns.list_subscriptions_by_topic(TopicArn=topic["TopicArn"])["Subscriptions"]
    apigateway = client("apigateway")
    (api,) = apigateway.get_rest_apis()["items"]
    (resource,) = [r for r in apigateway.get_resources(restApiId=api["id"])["items"]
                   if r["path"] == "/work"]  # fmt: skip
    rest_uri = apigateway.get_integration(
        restApiId=api["id"], resourceId=resource["id"], httpMethod="GET")["uri"]  # fmt: skip
    v2 = client("apigatewayv2")
    apis = {api["ProtocolType"]: api["ApiId"] for api in v2.get_apis()["Items"]}
    (integration,) = v2.get_integrations(ApiId=apis["HTTP"])["Items"]
    (socket,) = v2.get_integrations(ApiId=apis["WEBSOCKET"])["Items"]
    scheduler = client("scheduler")
    (schedule,) = scheduler.list_schedules()["Schedules"]
    scheduled = scheduler.get_schedule(Name=schedule["Name"], GroupName=schedule["GroupName"])
    urls = []
    for qualifier in ({}, {"Qualifier": "provisioned"}):
        with contextlib.suppress(ClientError):
            urls.append(lambda_.get_function_url_config(FunctionName=FUNCTION, **qualifier))
    mappings = lambda_.list_event_source_mappings()["EventSourceMappings"]
    notifications = client("s3").get_bucket_notification_configuration(
        Bucket="versions-work-bucket"
    )["LambdaFunctionConfigurations"]
    return {
        "s3": [n["LambdaFunctionArn"] for n in notifications],
        "rules": targets,
        "sns": subscription["Endpoint"],
        "rest": rest_uri.split("/functions/")[1].removesuffix("/invocations"),
        "httpApi": integration["IntegrationUri"],
        "websocket": socket["IntegrationUri"].split("/functions/")[1].removesuffix("/invocations"),
        "scheduler": scheduled["Target"]["Arn"],
        "url": [url["FunctionArn"] for url in urls],
        "mappings": len(mappings),
    }


def test_the_events_invoke_the_alias_and_return_to_the_function_without_it(
    service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Serverless' resolveLambdaTarget: the rules' targets, the subscription, the APIs'
    integrations, the mappings and the permissions name the `provisioned` alias."""
    client("sqs").create_queue(QueueName="work-queue")
    (service / "serverless.yml").write_text(EVENTS)
    code, out, err, _ = run(capsys, "deploy")
    assert code == 0, err
    assert invoked_arns() == {
        "s3": [ALIAS_ARN],
        "rules": [ALIAS_ARN, ALIAS_ARN],
        "sns": ALIAS_ARN,
        "rest": ALIAS_ARN,
        "httpApi": ALIAS_ARN,
        "websocket": ALIAS_ARN,
        "scheduler": ALIAS_ARN,
        "url": [ALIAS_ARN],
        "mappings": 1,
    }
    lambda_ = client("lambda")
    (mapping,) = lambda_.list_event_source_mappings(FunctionName=f"{FUNCTION}:provisioned")[
        "EventSourceMappings"
    ]
    assert mapping["FunctionArn"] != PLAIN_ARN  # the alias's (moto answers its version's ARN)
    policy = lambda_.get_policy(FunctionName=ALIAS_ARN)["Policy"]
    for principal in ("events", "sns", "apigateway", "s3"):
        assert f"{principal}.amazonaws.com" in policy
    assert "lambda:InvokeFunctionUrl" in policy  # the public URL's, on the alias
    # the asynchronous invocation settings on the alias, as Serverless puts them
    on_alias = lambda_.get_function_event_invoke_config(
        FunctionName=FUNCTION, Qualifier="provisioned"
    )
    assert on_alias["MaximumRetryAttempts"] == 1
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        lambda_.get_function_event_invoke_config(FunctionName=FUNCTION)
    code, out, err, calls = run(capsys, "deploy")
    assert out.splitlines()[-1] == "No changes.", out
    assert mutating(calls) == []

    (service / "serverless.yml").write_text(EVENTS.replace("    provisionedConcurrency: 1\n", ""))
    code, out, err, _ = run(capsys, "deploy")
    assert code == 0, err
    assert invoked_arns() == {
        "s3": [PLAIN_ARN],
        "rules": [PLAIN_ARN, PLAIN_ARN],
        "sns": PLAIN_ARN,
        "rest": PLAIN_ARN,
        "httpApi": PLAIN_ARN,
        "websocket": PLAIN_ARN,
        "scheduler": PLAIN_ARN,
        "url": [PLAIN_ARN],
        "mappings": 1,
    }
    (mapping,) = lambda_.list_event_source_mappings()["EventSourceMappings"]
    assert mapping["FunctionArn"] == PLAIN_ARN
    assert (
        lambda_.get_function_event_invoke_config(FunctionName=FUNCTION)["MaximumRetryAttempts"] == 1
    )
    code, out, err, calls = run(capsys, "deploy")
    assert out.splitlines()[-1] == "No changes.", out
    assert mutating(calls) == []


SNAP = """\
service: versions
provider:
  name: aws
  runtime: python3.12
functions:
  work:
    handler: handler.work
    snapStart: true
    events:
      - schedule: rate(5 minutes)
"""


def test_snap_start_applies_on_published_versions_with_a_snapstart_alias(
    service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Serverless functions.js: `SnapStart: {ApplyOn: PublishedVersions}`, a version, the
    `snapstart` alias on it, and the function's events on the alias."""
    (service / "serverless.yml").write_text(SNAP)
    code, out, err, _ = run(capsys, "deploy")
    assert code == 0, err
    lambda_ = client("lambda")
    latest = lambda_.get_function_configuration(FunctionName=FUNCTION)
    assert latest["SnapStart"]["ApplyOn"] == "PublishedVersions"
    snapstart = lambda_.get_alias(FunctionName=FUNCTION, Name="snapstart")
    assert snapstart["FunctionVersion"] == "1"
    version = lambda_.get_function_configuration(FunctionName=FUNCTION, Qualifier="1")
    assert version["SnapStart"] == {"ApplyOn": "PublishedVersions", "OptimizationStatus": "On"}
    events = client("events")
    (rule,) = events.list_rules()["Rules"]
    (target,) = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
    assert target["Arn"] == f"{PLAIN_ARN}:snapstart"
    code, out, err, calls = run(capsys, "deploy")
    assert out.splitlines()[-1] == "No changes.", out
    assert mutating(calls) == []

    (service / "serverless.yml").write_text(SNAP.replace("    snapStart: true\n", ""))
    code, out, err, calls = run(capsys, "deploy")
    assert code == 0, err
    assert "configuration changed: SnapStart" in out, out
    assert lambda_.get_function_configuration(FunctionName=FUNCTION)["SnapStart"]["ApplyOn"] == (
        "None"
    )
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        lambda_.get_alias(FunctionName=FUNCTION, Name="snapstart")
    (target,) = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
    assert target["Arn"] == PLAIN_ARN
    code, out, err, calls = run(capsys, "deploy")
    assert out.splitlines()[-1] == "No changes.", out


EXACT = """\
service: versions
provider:
  name: aws
  runtime: python3.12
functions:
  work:
    handler: handler.work
stepFunctions:
  stateMachines:
    flow:
      useExactVersion: true
      definition:
        StartAt: Work
        States:
          Work:
            Type: Task
            Resource: !GetAtt work.Arn
            Next: Again
          Again:
            Type: Task
            Resource: arn:aws:states:::lambda:invoke
            Parameters:
              FunctionName: !Ref WorkLambdaFunction
            End: true
"""
MACHINE_ARN = f"arn:aws:states:{REGION}:123456789012:stateMachine:versions-dev-flow"


def machine_definition() -> dict[str, Any]:
    described = client("stepfunctions").describe_state_machine(stateMachineArn=MACHINE_ARN)
    definition: dict[str, Any] = json.loads(described["definition"])
    return definition


def test_use_exact_version_names_the_published_version(
    service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The plugin's convertToFunctionVersion: each Ref/Fn::GetAtt of a function names its
    version's ARN; a change of the function publishes a version and updates the machine; a
    deploy stopped between the two is finished by the next; the role may invoke versions."""
    (service / "serverless.yml").write_text(EXACT)
    code, out, err, _ = run(capsys, "deploy")
    assert code == 0, err
    assert "useExactVersion" not in err
    states = machine_definition()["States"]
    assert states["Work"]["Resource"] == f"{PLAIN_ARN}:1"
    assert states["Again"]["Parameters"]["FunctionName"] == f"{PLAIN_ARN}:1"
    iam = client("iam")
    role = "versions-dev-us-east-1-flow-sfnRole"
    (name,) = iam.list_role_policies(RoleName=role)["PolicyNames"]
    policy = json.dumps(iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"])
    assert f"{PLAIN_ARN}:*" in policy
    code, out, err, calls = run(capsys, "deploy")
    assert out.splitlines()[-1] == "No changes.", out
    assert mutating(calls) == []

    (service / "handler.py").write_text("def work(event, context):\n    return 2\n")
    with stopped_at("update_state_machine"):
        code, _, err, _ = run(capsys, "deploy")
    assert code == 1, err
    assert versions() == ["1", "2"]
    assert machine_definition()["States"]["Work"]["Resource"] == f"{PLAIN_ARN}:1"
    code, out, err, calls = run(capsys, "deploy")
    assert code == 0, err
    assert "update    state machine versions-dev-flow (definition changed)" in out, out
    assert machine_definition()["States"]["Work"]["Resource"] == f"{PLAIN_ARN}:2"
    assert versions() == ["1", "2"]
    code, out, err, calls = run(capsys, "deploy")
    assert out.splitlines()[-1] == "No changes.", out
    assert mutating(calls) == []
