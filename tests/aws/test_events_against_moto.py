"""State-machine schedule and http events, alarms and notifications, deployed with `--target
aws` against a moto server: what is made, a no-op redeploy, updates, remove, and resources of
someone else's under the same names (issue 15, items 3 and 4)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from .cli_runs import mutating
from .cli_runs import recorded as run
from .conftest import MOTO_ACCOUNT, REGION

MACHINE = "hello-loop-dev-loop"
MACHINE_ARN = f"arn:aws:states:{REGION}:{MOTO_ACCOUNT}:stateMachine:{MACHINE}"
RULE = "hello-loop-dev-LoopStepFunctionsEventsRuleSchedule1"
SCHEDULE_ROLE = "hello-loop-dev-us-east-1-loop-schedule"
API = "dev-hello-loop"
API_ROLE = "hello-loop-dev-us-east-1-apiGateway"
TOOL_TAGS = {"tool:service": "hello-loop", "tool:stage": "dev"}

SCHEDULE_AND_HTTP = """\
        - schedule:
            rate: rate(10 minutes)
            input: {source: schedule}
        - schedule:
            rate: cron(0 12 ? * MON-FRI *)
            enabled: false
            name: hello-loop-dev-weekdays
        - http:
            path: orders
            method: post
            cors: true
        - http: GET orders/{id}
"""


def add_events(service: Path, events: str, extra: str = "") -> None:
    config = service / "serverless.yml"
    text = config.read_text().replace("      events:\n", "      events:\n" + events)
    config.write_text(text + extra)


class Clients:
    def __init__(self) -> None:
        boto = boto3.Session(region_name=REGION)
        self.events = boto.client("events")
        self.apigateway = boto.client("apigateway")
        self.iam = boto.client("iam")
        self.cloudwatch = boto.client("cloudwatch")
        self.sns = boto.client("sns")
        self.sqs = boto.client("sqs")
        self.lambda_ = boto.client("lambda")

    def policy(self, role: str, name: str) -> dict[str, Any]:
        document = self.iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        return json.loads(document) if isinstance(document, str) else document

    def apis(self, name: str) -> list[dict[str, Any]]:
        return [a for a in self.apigateway.get_rest_apis()["items"] if a["name"] == name]

    def methods(self, api_id: str) -> dict[tuple[str, str], dict[str, Any]]:
        resources = self.apigateway.get_resources(restApiId=api_id, embed=["methods"])["items"]
        return {
            (resource["path"], verb): method
            for resource in resources
            for verb, method in (resource.get("resourceMethods") or {}).items()
        }


@pytest.fixture
def clients(aws_env: str) -> Clients:
    return Clients()


def test_schedule_and_http_events_deploy_redeploy_and_remove(
    clients: Clients, service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_events(service, SCHEDULE_AND_HTTP)
    code, out, err, _ = run(capsys, "plan", "--target", "aws", "--json")
    assert code == 0, err
    planned = {(c["kind"], c["name"]): c for c in json.loads(out)["changes"]}
    assert planned[("rule", RULE)]["action"] == "create"
    assert {"kind": "role", "name": SCHEDULE_ROLE} in planned[("rule", RULE)]["dependsOn"]
    assert planned[("rest api", API)]["dependsOn"] == [
        {"kind": "role", "name": API_ROLE},
        {"kind": "state machine", "name": MACHINE},
    ]

    code, out, err, _ = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    for line in (
        f"create    role {SCHEDULE_ROLE}",
        f"create    rule {RULE}",
        "create    rule hello-loop-dev-weekdays",
        f"create    role {API_ROLE}",
        f"create    rest api {API}",
    ):
        assert line in out.splitlines(), out

    # The rule, its target and its role: StartExecution on this machine only.
    rule = clients.events.describe_rule(Name=RULE)
    assert (rule["ScheduleExpression"], rule["State"]) == ("rate(10 minutes)", "ENABLED")
    tags = clients.events.list_tags_for_resource(ResourceARN=rule["Arn"])["Tags"]
    assert {t["Key"]: t["Value"] for t in tags} == TOOL_TAGS
    (target,) = clients.events.list_targets_by_rule(Rule=RULE)["Targets"]
    assert target["Arn"] == MACHINE_ARN
    assert target["RoleArn"] == f"arn:aws:iam::{MOTO_ACCOUNT}:role/{SCHEDULE_ROLE}"
    assert json.loads(target["Input"]) == {"source": "schedule"}
    assert clients.events.describe_rule(Name="hello-loop-dev-weekdays")["State"] == "DISABLED"
    role = clients.iam.get_role(RoleName=SCHEDULE_ROLE)["Role"]
    trust = role["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    assert trust["Statement"][0]["Principal"] == {"Service": "events.amazonaws.com"}
    assert clients.policy(SCHEDULE_ROLE, "tool-schedule")["Statement"] == [
        {
            "Sid": "StartThisStateMachine",
            "Effect": "Allow",
            "Action": "states:StartExecution",
            "Resource": MACHINE_ARN,
        }
    ]

    # The REST API: resources, methods, the integration to StartExecution, a deployment.
    (api,) = clients.apis(API)
    assert {k: v for k, v in api["tags"].items() if k.startswith("tool:")} == TOOL_TAGS
    methods = clients.methods(api["id"])
    assert set(methods) == {
        ("/orders", "POST"),
        ("/orders", "OPTIONS"),
        ("/orders/{id}", "GET"),
    }
    integration = methods[("/orders", "POST")]["methodIntegration"]
    assert integration["type"] == "AWS"
    assert integration["uri"] == f"arn:aws:apigateway:{REGION}:states:action/StartExecution"
    assert integration["credentials"] == f"arn:aws:iam::{MOTO_ACCOUNT}:role/{API_ROLE}"
    assert integration["passthroughBehavior"] == "NEVER"
    template = integration["requestTemplates"]["application/json"]
    assert f'"stateMachineArn":"{MACHINE_ARN}"' in template
    assert '"name": "$context.requestId"' in template
    responses = integration["integrationResponses"]
    assert responses["200"]["responseParameters"] == {
        "method.response.header.Access-Control-Allow-Origin": "'*'"
    }
    assert responses["400"]["selectionPattern"] == "400"
    preflight = methods[("/orders", "OPTIONS")]["methodIntegration"]
    assert preflight["type"] == "MOCK"
    allow = preflight["integrationResponses"]["200"]["responseParameters"]
    assert allow["method.response.header.Access-Control-Allow-Methods"] == "'OPTIONS,POST'"
    stages = clients.apigateway.get_stages(restApiId=api["id"])["item"]
    assert [s["stageName"] for s in stages] == ["dev"]
    assert clients.apigateway.get_deployments(restApiId=api["id"])["items"]
    assert clients.policy(API_ROLE, "tool-api-gateway")["Statement"] == [
        {"Effect": "Allow", "Action": "states:StartExecution", "Resource": [MACHINE_ARN]}
    ]

    # Nothing changed: no mutating call.
    code, out, err, calls = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    assert out.splitlines()[-1] == "No changes."
    assert mutating(calls) == []

    # A new expression updates the rule only; a new path changes the API and deploys it.
    config = service / "serverless.yml"
    config.write_text(config.read_text().replace("rate(10 minutes)", "rate(15 minutes)"))
    code, out, err, calls = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    assert mutating(calls) == ["PutRule"]
    assert clients.events.describe_rule(Name=RULE)["ScheduleExpression"] == "rate(15 minutes)"
    config.write_text(config.read_text().replace("GET orders/{id}", "GET orders/{id}/status"))
    code, out, err, calls = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    assert "update    rest api dev-hello-loop (methods changed: GET /orders/{id}, GET " in out
    assert mutating(calls)[-1] == "CreateDeployment"
    assert ("/orders/{id}/status", "GET") in clients.methods(api["id"])
    assert ("/orders/{id}", "GET") not in clients.methods(api["id"])

    code, out, err, _ = run(capsys, "remove", "--target", "aws")
    assert code == 0, err
    assert clients.events.list_rules()["Rules"] == []
    assert clients.apis(API) == []
    roles = {r["RoleName"] for r in clients.iam.list_roles()["Roles"]}
    assert not roles & {SCHEDULE_ROLE, API_ROLE}


def test_someone_elses_rule_and_api_under_the_same_names_are_refused_and_left_alone(
    clients: Clients, service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_events(service, SCHEDULE_AND_HTTP)
    theirs = [{"Key": "owner", "Value": "team-b"}]
    clients.events.put_rule(Name=RULE, ScheduleExpression="rate(1 day)", Tags=theirs)
    their_api = clients.apigateway.create_rest_api(name=API, tags={"owner": "team-b"})["id"]

    code, out, err, calls = run(capsys, "deploy", "--target", "aws")
    assert (code, out) == (2, "")
    (line,) = [line for line in err.splitlines() if line.startswith("error:")]
    assert line.startswith(
        f"error: rule {RULE} already exists on the aws target (account {MOTO_ACCOUNT}) and was "
        f"not deployed by tool for this service and stage (and 1 more: rest api {API}); "
        "nothing was changed"
    ), line
    assert mutating(calls) == []

    code, out, err, calls = run(capsys, "remove", "--target", "aws")
    assert code == 0, err
    assert f"warning: left rule {RULE} alone" in err
    assert f"warning: left rest api {API} alone" in err
    assert mutating(calls) == []
    assert clients.events.describe_rule(Name=RULE)["ScheduleExpression"] == "rate(1 day)"
    assert [a["id"] for a in clients.apis(API)] == [their_api]


NOTIFIED = """\
      alarms:
        topics:
          alarm: arn:aws:sns:us-east-1:123456789012:alerts
        metrics:
          - executionsFailed
          - metric: executionsTimedOut
            treatMissingData: breaching
"""


def test_alarms_and_notifications_deploy_on_aws(
    clients: Clients, service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    topic = clients.sns.create_topic(Name="alerts")["TopicArn"]
    queue_url = clients.sqs.create_queue(QueueName="failures")["QueueUrl"]
    queue = f"arn:aws:sqs:{REGION}:{MOTO_ACCOUNT}:failures"
    other = f"arn:aws:states:{REGION}:{MOTO_ACCOUNT}:stateMachine:cleanup"
    config = service / "serverless.yml"
    config.write_text(
        config.read_text()
        + NOTIFIED
        + "      notifications:\n"
        + f"        FAILED:\n          - sqs: {queue}\n          - sns: {topic}\n"
        + f"          - stepFunctions: {other}\n"
        + "        SUCCEEDED:\n          - lambda: {Fn::GetAtt: [hello, Arn]}\n"
    )
    code, out, err, _ = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err

    alarms = clients.cloudwatch.describe_alarms(AlarmNamePrefix="hello-loop-dev-")["MetricAlarms"]
    by_metric = {a["MetricName"]: a for a in alarms}
    assert set(by_metric) == {"ExecutionsFailed", "ExecutionsTimedOut"}
    failed = by_metric["ExecutionsFailed"]
    # the plugin names the logical id after `name:` when there is one
    assert failed["AlarmName"] == "hello-loop-dev-HelloDashloopDashdevDashloopExecutionsFailedAlarm"
    assert (failed["Namespace"], failed["Statistic"], failed["Threshold"]) == (
        "AWS/States", "Sum", 1.0,
    )  # fmt: skip
    assert failed["Dimensions"] == [{"Name": "StateMachineArn", "Value": MACHINE_ARN}]
    assert failed["AlarmActions"] == [topic]
    assert by_metric["ExecutionsTimedOut"]["TreatMissingData"] == "breaching"
    tags = clients.cloudwatch.list_tags_for_resource(ResourceARN=failed["AlarmArn"])["Tags"]
    assert {t["Key"]: t["Value"] for t in tags} == TOOL_TAGS

    rule = clients.events.describe_rule(Name=f"{MACHINE}-FAILED-notification")
    assert json.loads(rule["EventPattern"]) == {
        "source": ["aws.states"],
        "detail-type": ["Step Functions Execution Status Change"],
        "detail": {"status": ["FAILED"], "stateMachineArn": [MACHINE_ARN]},
    }
    targets = clients.events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
    assert {t["Arn"] for t in targets} == {queue, topic, other}
    role_arn = f"arn:aws:iam::{MOTO_ACCOUNT}:role/hello-loop-dev-us-east-1-loop-notify"
    assert [t.get("RoleArn") for t in targets if t["Arn"] == other] == [role_arn]
    assert clients.policy("hello-loop-dev-us-east-1-loop-notify", "tool-notifications")[
        "Statement"
    ] == [{"Effect": "Allow", "Action": "states:StartExecution", "Resource": other}]
    queue_policy = json.loads(
        clients.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["Policy"])[
            "Attributes"
        ]["Policy"]
    )
    (statement,) = queue_policy["Statement"]
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": rule["Arn"]}}
    topic_policy = json.loads(
        clients.sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"]
    )
    sids = [s.get("Sid") for s in topic_policy["Statement"]]
    assert len(sids) == 2 and any(str(s).startswith("tool") for s in sids)  # its own kept
    function_policy = json.loads(
        clients.lambda_.get_policy(FunctionName="hello-loop-dev-hello")["Policy"]
    )
    (permission,) = function_policy["Statement"]
    assert permission["Principal"] == {"Service": "events.amazonaws.com"}

    code, out, err, calls = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    assert mutating(calls) == []

    code, out, err, _ = run(capsys, "remove", "--target", "aws")
    assert code == 0, err
    assert clients.cloudwatch.describe_alarms()["MetricAlarms"] == []
    assert clients.events.list_rules()["Rules"] == []
    left = json.loads(clients.sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])
    assert [s.get("Sid") for s in left["Statement"]] == [
        s for s in sids if not str(s).startswith("tool")
    ]
    attributes = clients.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["Policy"])
    assert not attributes.get("Attributes", {}).get("Policy")


def test_a_scheduler_schedule_lives_in_the_services_own_group(
    clients: Clients, service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_events(
        service,
        "        - schedule:\n            rate: cron(30 12 ? * 2-6 *)\n"
        "            method: scheduler\n            timezone: America/New_York\n",
    )
    code, out, err, _ = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    scheduler = boto3.client("scheduler", region_name=REGION)
    found = scheduler.get_schedule(
        Name="hello-loop-dev-LoopStepFunctionsSchedulerSchedule1", GroupName="hello-loop-dev"
    )
    assert found["ScheduleExpressionTimezone"] == "America/New_York"
    assert found["Target"]["Arn"] == MACHINE_ARN
    trust = clients.iam.get_role(RoleName=SCHEDULE_ROLE)["Role"]["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    assert trust["Statement"][0]["Principal"] == {"Service": "scheduler.amazonaws.com"}
    code, out, err, calls = run(capsys, "deploy", "--target", "aws")
    assert mutating(calls) == []
    code, out, err, _ = run(capsys, "remove", "--target", "aws")
    assert code == 0, err
    assert [g["Name"] for g in scheduler.list_schedule_groups()["ScheduleGroups"]] == ["default"]
