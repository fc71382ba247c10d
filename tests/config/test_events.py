"""State-machine `schedule` and `http` events, `alarms` and `notifications`, read in the
serverless-step-functions plugin's syntax: what it refuses is a problem at its line, what the
toolkit does not do is a warning with its key and line (issue 15, items 3 and 4)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tooling.config.service import ServiceConfig, load_service

BASE = "service: s\nprovider:\n  name: aws\n"
DEFINITION = "      definition: {StartAt: A, States: {A: {Type: Pass, End: true}}}\n"


def load(tmp_path: Path, machine: str, *, provider: str = "", **kwargs: Any) -> ServiceConfig:
    yml = BASE + provider + "stepFunctions:\n  stateMachines:\n    m:\n" + DEFINITION + machine
    (tmp_path / "serverless.yml").write_text(yml)
    kwargs.setdefault("env", {})
    return load_service(tmp_path, **kwargs)


def problems(service: ServiceConfig) -> list[str]:
    return [p.render() for p in service.problems]


# -- schedule ---------------------------------------------------------------------------------


def test_schedules_in_both_forms(tmp_path: Path) -> None:
    service = load(
        tmp_path,
        "      events:\n"
        "        - schedule: rate(2 hours)\n"
        "        - schedule:\n"
        "            rate: cron(0 12 ? * MON-FRI *)\n"
        "            enabled: false\n"
        "            input: {key1: value1, stageParams: {stage: dev}}\n"
        "            name: my-rule\n"
        "            description: weekdays at noon\n"
        "            role: arn:aws:iam::123456789012:role/theirs\n"
        "            retryPolicy: {maximumEventAgeInSeconds: 3600, maximumRetryAttempts: 3}\n"
        "        - schedule:\n"
        "            rate: rate(1 day)\n"
        "            inputTransformer:\n"
        "              inputPathsMap: {time: $.time}\n"
        "              inputTemplate: '{\"time\": <time>}'\n",
    )
    assert problems(service) == [] and service.warnings == ()
    first, second, third = service.state_machines["m"].events.schedules
    assert (first.number, first.expression.text, first.enabled) == (1, "rate(2 hours)", True)
    assert second.input == '{"key1":"value1","stageParams":{"stage":"dev"}}'
    assert (second.name, second.enabled, second.role) == (
        "my-rule",
        False,
        "arn:aws:iam::123456789012:role/theirs",
    )
    assert second.retry_policy == {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 3}
    assert third.input_transformer is not None
    assert third.input_transformer.to_api() == {
        "InputTemplate": '{"time": <time>}',
        "InputPathsMap": {"time": "$.time"},
    }


def test_a_bad_expression_points_into_the_expression(tmp_path: Path) -> None:
    service = load(tmp_path, "      events:\n        - schedule: rate(1 hours)\n")
    assert problems(service) == [
        "serverless.yml:9:28: state machine 'm': schedule 'rate(1 hours)': rate(1 hours): "
        "EventBridge wants the unit singular for a value of 1 (write rate(1 hour))"
    ]
    assert service.state_machines["m"].events.schedules == ()


def test_what_the_plugin_refuses_about_schedules(tmp_path: Path) -> None:
    service = load(
        tmp_path,
        "      events:\n"
        "        - schedule: {enabled: true}\n"
        "        - schedule: {rate: rate(1 hour), input: {a: 1}, inputPath: $.detail}\n"
        "        - schedule: {rate: rate(1 hour), method: scheduler, inputPath: $.detail}\n"
        "        - schedule: {rate: rate(1 hour), timezone: Europe/Paris}\n"
        "        - schedule: {rate: rate(1 hour), name: 'no spaces'}\n"
        "        - schedule: {rate: rate(1 hour), method: scheduler, timezone: Mars/Base}\n"
        "        - schedule: {rate: rate(1 hour), input: 'not json'}\n",
    )
    assert problems(service) == [
        "serverless.yml:9:21: state machine 'm': a schedule event needs a \"rate\" (a rate or "
        "cron expression) (e.g. `rate: rate(10 minutes)` or `rate: cron(0 12 * * ? *)`)",
        "serverless.yml:10:68: state machine 'm': a schedule takes one of input, inputPath and "
        "inputTransformer, not several",
        "serverless.yml:11:72: state machine 'm': \"inputPath\" is not supported with "
        '"scheduler" mode (the plugin refuses it)',
        "serverless.yml:12:52: state machine 'm': \"timezone\" is only supported with "
        '"scheduler" mode (add `method: scheduler`)',
        "serverless.yml:13:48: state machine 'm': schedule name 'no spaces' is not a valid "
        "EventBridge name (use 1-64 letters, digits, '.', '-' or '_')",
        "serverless.yml:14:71: state machine 'm': timezone 'Mars/Base' is not an IANA time zone "
        "(e.g. America/New_York or Europe/Paris)",
        "serverless.yml:15:49: state machine 'm': a schedule's input must be JSON (EventBridge "
        "refuses other text) (write a mapping under `input:`, or JSON text)",
    ]


def test_schedule_keys_the_plugin_does_not_use_are_said(tmp_path: Path) -> None:
    service = load(tmp_path, "      events:\n        - schedule: {rate: rate(1 hour), cron: x}\n")
    assert service.warnings == (
        "serverless.yml:9:48: state machine 'm': schedule key `cron` is not used by "
        "serverless-step-functions (ignored)",
    )
    assert len(service.state_machines["m"].events.schedules) == 1


def test_other_event_kinds_are_warned_about_not_dropped(tmp_path: Path) -> None:
    service = load(tmp_path, "      events:\n        - iot: {sql: SELECT 1}\n")
    assert service.warnings == (
        "serverless.yml:9:11: state machine 'm': `iot` events are not supported by the toolkit "
        "yet (ignored; the toolkit deploys schedule, http, eventBridge, cloudwatchEvent and sqs "
        "events)",
    )


def test_event_bridge_events_of_state_machines_are_read_in_the_plugins_syntax(
    tmp_path: Path,
) -> None:
    service = load(
        tmp_path,
        "      events:\n        - cloudwatchEvent: {event: {source: [aws.ec2]}}\n"
        "        - eventBridge:\n            eventBusName: sales\n"
        "            event: {source: [shop]}\n            inputPath: $.detail\n"
        "            retryPolicy: {maximumRetryAttempts: 1}\n",
    )
    assert service.warnings == () and service.problems == ()
    first, second = service.state_machines["m"].events.bus
    assert (first.kind, first.number, first.event_bus) == ("cloudwatchEvent", 1, "default")
    assert (second.kind, second.number, second.event_bus) == ("eventBridge", 2, "sales")
    assert second.input_path == "$.detail"
    assert second.retry_policy == {"MaximumRetryAttempts": 1}


def test_an_event_bridge_event_without_a_pattern_is_refused_at_its_line(tmp_path: Path) -> None:
    service = load(tmp_path, "      events:\n        - eventBridge: {eventBusName: sales}\n")
    (refused,) = service.problems
    assert refused.line == 9 and 'needs an "event" pattern' in refused.message


# -- http -------------------------------------------------------------------------------------


def test_http_events_as_the_plugin_reads_them(tmp_path: Path) -> None:
    service = load(
        tmp_path,
        "      events:\n"
        "        - http: GET hello\n"
        "        - http:\n"
        "            path: /posts/{id}/\n"
        "            method: post\n"
        "            cors: {origins: ['https://a.example', 'https://b.example'], maxAge: 60}\n"
        "            private: true\n"
        "            authorizer: aws_iam\n"
        "            timeoutInMillis: 10000\n"
        "            request: {template: lambda_proxy}\n",
    )
    assert problems(service) == [] and service.warnings == ()
    hello, posts = service.state_machines["m"].events.http
    assert (hello.path, hello.method, hello.template_kind, hello.cors) == (
        "hello", "GET", "default", None,
    )  # fmt: skip
    assert (posts.path, posts.method, posts.private) == ("posts/{id}", "POST", True)
    assert posts.authorization_type == "AWS_IAM"
    assert posts.template_kind == "lambda_proxy"
    assert posts.timeout_in_millis == 10000
    assert posts.cors is not None
    assert posts.cors.origin == "https://a.example,https://b.example"
    assert posts.cors.methods == ("OPTIONS", "POST")
    assert posts.cors.max_age == 60
    assert service.api is not None and service.api.name == "dev-s"


def test_an_authorizer_naming_no_function_is_refused_at_its_line(tmp_path: Path) -> None:
    """The plugin's getLambdaArn: the function must be the service's."""
    service = load(
        tmp_path,
        "      events:\n"
        "        - http: {path: a, method: post, authorizer: authorizerFunc}\n"
        "        - http:\n"
        "            path: b\n"
        "            method: post\n"
        "            authorizer: {type: COGNITO_USER_POOLS, authorizerId: abc123, scopes: [s1]}\n",
    )
    (problem,) = problems(service)
    assert problem.startswith(
        "serverless.yml:9:53: state machine 'm': authorizer function 'authorizerFunc' does not "
        "exist in this service"
    )
    _, shared = service.state_machines["m"].events.http
    assert (shared.authorization_type, shared.authorizer_id, shared.authorization_scopes) == (
        "COGNITO_USER_POOLS", "abc123", ("s1",),
    )  # fmt: skip


def test_http_problems_and_warnings(tmp_path: Path) -> None:
    service = load(
        tmp_path,
        "      events:\n"
        "        - http: {path: a, method: fetch}\n"
        "        - http: {path: 'a b', method: get}\n"
        "        - http: {path: c, method: post, action: StartSyncExecution}\n"
        "        - http: {path: d, method: get, timeoutInMillis: 30000}\n"
        "        - http: {path: e, method: get, request: {schemas: {application/json: {}}}}\n"
        "        - http: {path: e, method: get}\n",
        provider="  apiGateway: {metrics: true}\n",
    )
    assert problems(service) == [
        "serverless.yml:10:35: state machine 'm': http method 'fetch' is not one API Gateway "
        "takes (use get, post, put, patch, options, head, delete, any)",
        "serverless.yml:11:24: state machine 'm': path part 'a b' is not a valid API Gateway "
        "path part (use letters, digits, ._-~ and {parameters} such as {id} or {proxy+})",
        "serverless.yml:12:49: state machine 'm': StartSyncExecution runs EXPRESS state "
        "machines only (Step Functions answers StateMachineTypeNotSupported) (set `type: "
        "EXPRESS` or use the default StartExecution)",
        "serverless.yml:13:57: state machine 'm': timeoutInMillis must be 50 to 29000 (API "
        "Gateway's integration timeout)",
        "serverless.yml:15:17: state machine 'm': two http events are GET /e (give each path "
        "and method one event)",
    ]
    assert set(service.warnings) == {
        "serverless.yml:14:59: state machine 'm': request schemas (API Gateway request "
        "validation) are not deployed by the toolkit yet (ignored: requests are not validated)",
        "serverless.yml:4:25: provider.apiGateway.metrics is not deployed by the toolkit yet "
        "(ignored; see README, serverless.yml)",
    }


def test_a_shared_rest_api_takes_the_state_machines_http_events(tmp_path: Path) -> None:
    service = load(
        tmp_path,
        "      events:\n        - http: GET hello\n",
        provider="  apiGateway: {restApiId: abc123}\n",
    )
    assert problems(service) == []
    assert service.api is not None and service.api.rest_api_id == "abc123"
    assert [e.path for e in service.state_machines["m"].events.http] == ["hello"]


def test_api_name_follows_serverless(tmp_path: Path) -> None:
    events = "      events:\n        - http: GET hello\n"
    named = load(tmp_path, events, provider="  apiName: my-api\n")
    assert named.api is not None and named.api.name == "my-api"
    turned = load(tmp_path, events, provider="  apiGateway: {shouldStartNameWithService: true}\n")
    assert turned.api is not None and turned.api.name == "s-dev"


# -- alarms -----------------------------------------------------------------------------------


def test_alarms_in_the_plugins_syntax(tmp_path: Path) -> None:
    service = load(
        tmp_path,
        "      name: main\n"
        "      alarms:\n"
        "        nameTemplate: $[stateMachineName]-$[cloudWatchMetricName]-alarm\n"
        "        topics:\n"
        "          ok: arn:aws:sns:us-east-1:123456789012:ok\n"
        "          alarm: arn:aws:sns:us-east-1:123456789012:alarm\n"
        "        metrics:\n"
        "          - executionsFailed\n"
        "          - metric: executionThrottled\n"
        "            treatMissingData: breaching\n"
        "            period: 300\n"
        "            alarmName: throttled\n"
        "        treatMissingData: ignore\n",
    )
    assert problems(service) == [] and service.warnings == ()
    alarms = service.state_machines["m"].events.alarms
    assert alarms is not None
    failed, throttled = alarms.alarms
    assert (failed.name, failed.treat_missing_data, failed.period) == (
        "main-ExecutionsFailed-alarm", "ignore", 60,
    )  # fmt: skip
    assert (throttled.name, throttled.treat_missing_data, throttled.period) == (
        "throttled", "breaching", 300,
    )  # fmt: skip
    assert alarms.ok_actions == ("arn:aws:sns:us-east-1:123456789012:ok",)
    assert alarms.insufficient_data_actions == ()


def test_malformed_alarms_deploy_nothing_as_the_plugin_does_and_say_so(tmp_path: Path) -> None:
    service = load(
        tmp_path,
        "      alarms:\n        topics: {alarm: arn:aws:sns:us-east-1:1:t}\n"
        "        metrics: [executionsFailed]\n        threshold: 5\n",
    )
    assert service.warnings == (
        "serverless.yml:11:20: state machine 'm': alarms config is malformed (unknown key "
        "`threshold`); no alarm is deployed for this state machine (the plugin does the same)",
    )
    assert service.state_machines["m"].events.alarms is None


def test_unknown_metrics_are_skipped_with_a_warning(tmp_path: Path) -> None:
    service = load(
        tmp_path,
        "      alarms:\n        topics: {alarm: arn:aws:sns:us-east-1:1:t}\n"
        "        metrics: [executionsFailed, executionsPending]\n",
    )
    assert len(service.warnings) == 1
    assert "invalid metric 'executionsPending'" in service.warnings[0]
    alarms = service.state_machines["m"].events.alarms
    assert alarms is not None and [a.metric for a in alarms.alarms] == ["executionsFailed"]


def test_values_cloudwatch_refuses_are_problems(tmp_path: Path) -> None:
    service = load(
        tmp_path,
        "      alarms:\n        topics: {alarm: arn:aws:sns:us-east-1:1:t}\n"
        "        metrics: [{metric: executionsFailed, period: 45}]\n"
        "        treatMissingData: sometimes\n",
    )
    assert problems(service) == [
        "serverless.yml:11:27: state machine 'm': treatMissingData 'sometimes' is not one "
        "CloudWatch takes (use missing, ignore, breaching, notBreaching)"
    ]


# -- notifications ----------------------------------------------------------------------------


def test_notifications_per_status(tmp_path: Path) -> None:
    service = load(
        tmp_path,
        "      notifications:\n"
        "        FAILED:\n"
        "          - sns: arn:aws:sns:us-east-1:123456789012:t\n"
        "          - sqs: {arn: arn:aws:sqs:us-east-1:123456789012:q.fifo, messageGroupId: 1}\n"
        "            inputPath: $.detail\n"
        "          - kinesis: {arn: arn:aws:kinesis:us-east-1:123456789012:stream/s, "
        "partitionKeyPath: $.id}\n"
        "        SUCCEEDED:\n"
        "          - stepFunctions: arn:aws:states:us-east-1:123456789012:stateMachine:next\n"
        "          - firehose: arn:aws:firehose:us-east-1:123456789012:deliverystream/f\n",
    )
    assert problems(service) == [] and service.warnings == ()
    targets = service.state_machines["m"].events.notifications
    assert [(t.status, t.kind, t.index) for t in targets] == [
        ("FAILED", "sns", 0),
        ("FAILED", "sqs", 1),
        ("FAILED", "kinesis", 2),
        ("SUCCEEDED", "stepFunctions", 0),
        ("SUCCEEDED", "firehose", 1),
    ]
    assert targets[1].message_group_id == "1" and targets[1].input_path == "$.detail"
    assert targets[2].partition_key_path == "$.id"


def test_notifications_of_express_machines_are_not_deployed_as_in_the_plugin(
    tmp_path: Path,
) -> None:
    service = load(
        tmp_path,
        "      type: EXPRESS\n      notifications:\n        FAILED:\n"
        "          - sns: arn:aws:sns:us-east-1:123456789012:t\n",
    )
    assert service.warnings == (
        "serverless.yml:10:9: state machine 'm': notifications are not supported on Express "
        "Workflows (not deployed, as the plugin does)",
    )
    assert service.state_machines["m"].events.notifications == ()


def test_a_target_that_is_not_its_kind_of_arn_is_a_problem(tmp_path: Path) -> None:
    service = load(
        tmp_path, "      notifications:\n        ABORTED:\n          - sns: SNS_TOPIC_ARN\n"
    )
    assert problems(service) == [
        "serverless.yml:10:18: state machine 'm': sns target 'SNS_TOPIC_ARN' is not an sns ARN"
    ]


def test_targets_name_the_services_functions_by_intrinsics(tmp_path: Path) -> None:
    (tmp_path / "h.py").write_text("def main(e, c):\n    return e\n")
    service = load(
        tmp_path,
        "      notifications:\n        FAILED:\n          - lambda: {Fn::GetAtt: [f, Arn]}\n",
        provider="  region: eu-west-1\nfunctions:\n  f:\n    handler: h.main\n",
        account_id="123456789012",
    )
    (target,) = service.state_machines["m"].events.notifications
    assert target.arn == "arn:aws:lambda:eu-west-1:123456789012:function:s-dev-f"
