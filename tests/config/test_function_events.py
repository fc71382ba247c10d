"""Functions' `sqs` events (Serverless v3's schema and defaults) and serverless-lift's `queue`
construct desugared into `resources:` queues, a worker with an sqs event and Lift's variables
(issue 15)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tooling import iam
from tooling.config.resources import Reference, StackValues
from tooling.config.service import ServiceConfig, load_service

BASE = "service: s\nprovider:\n  name: aws\n  runtime: python3.12\n"
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:jobs"


def load(tmp_path: Path, yml: str, **kwargs: Any) -> ServiceConfig:
    (tmp_path / "serverless.yml").write_text(yml)
    kwargs.setdefault("env", {})
    kwargs.setdefault("resource_values", StackValues(verb="deployed"))
    return load_service(tmp_path, **kwargs)


def fn(events: str) -> str:
    return BASE + "functions:\n  work:\n    handler: h.main\n    events:\n" + events


def test_an_arn_string_takes_serverless_defaults(tmp_path: Path) -> None:
    service = load(tmp_path, fn(f"      - sqs: {QUEUE_ARN}\n"))
    (event,) = service.functions["work"].events.sqs
    assert (event.queue_arn, event.queue_name, event.batch_size) == (QUEUE_ARN, "jobs", 10)
    assert event.enabled and event.function_response_types == () and not event.filter_patterns
    assert event.location == ("serverless.yml", 9, 14)
    assert service.problems == () and service.warnings == ()


def test_every_setting_and_a_queue_of_resources(tmp_path: Path) -> None:
    yml = (
        fn(
            "      - sqs:\n          arn: !GetAtt Jobs.Arn\n          batchSize: 50\n"
            "          maximumBatchingWindow: 5\n          enabled: false\n"
            "          functionResponseType: ReportBatchItemFailures\n"
            "          filterPatterns:\n            - body: {kind: [order]}\n"
            "          maximumConcurrency: 4\n"
        )
        + "resources:\n  Resources:\n    Jobs:\n      Type: AWS::SQS::Queue\n"
    )
    service = load(tmp_path, yml)
    (event,) = service.functions["work"].events.sqs
    assert event.queue_arn == "<Jobs.Arn: known after the stack is deployed>"
    assert (event.batch_size, event.maximum_batching_window) == (50, 5)
    assert not event.enabled and event.function_response_types == ("ReportBatchItemFailures",)
    assert event.filter_patterns == ('{"body":{"kind":["order"]}}',)
    assert event.maximum_concurrency == 4
    arn = "arn:aws:sqs:us-east-1:123456789012:s-dev-Jobs-1"
    values = StackValues({Reference("Jobs", "Arn").output_key: arn})
    (event,) = load(tmp_path, yml, resource_values=values).functions["work"].events.sqs
    assert event.queue_arn == "arn:aws:sqs:us-east-1:123456789012:s-dev-Jobs-1"


@pytest.mark.parametrize(
    ("event", "line", "message"),
    [
        ("{arn: x}", 9, 'sqs arn "x" is not the ARN of an SQS queue'),
        (f"{{arn: {QUEUE_ARN}, batchSize: 0}}", 9, "sqs batchSize must be a whole number"),
        (f"{{arn: {QUEUE_ARN}, batchSize: 11}}", 9, "which Lambda allows only with a batching"),
        (f"{{arn: {QUEUE_ARN}.fifo, batchSize: 20, maximumBatchingWindow: 1}}", 9, "FIFO"),
        (f"{{arn: {QUEUE_ARN}, functionResponseType: Other}}", 9, "must be ReportBatchItem"),
        (f"{{arn: {QUEUE_ARN}, maximumConcurrency: 1}}", 9, "from 2 to 1000"),
        (f"{{arn: {QUEUE_ARN}, queue: q}}", 9, "unknown key 'queue' in an sqs event"),
        ("{batchSize: 1}", 9, "an sqs event needs `arn`"),
        ("{arn: !Ref Jobs}", 9, "is not the ARN of an SQS queue"),
        ("!GetAtt Jobs.Arn", 9, "an intrinsic function goes under `arn:`"),
    ],
)
def test_what_serverless_or_lambda_refuse_is_a_problem_at_its_line(
    tmp_path: Path, event: str, line: int, message: str
) -> None:
    yml = fn(f"      - sqs: {event}\n")
    yml += "resources:\n  Resources:\n    Jobs:\n      Type: AWS::SQS::Queue\n"
    url = "https://sqs.us-east-1.amazonaws.com/123456789012/jobs"
    values = StackValues({Reference("Jobs").output_key: url})
    (problem,) = load(tmp_path, yml, resource_values=values).problems
    assert message in problem.message
    assert (problem.file, problem.line) == ("serverless.yml", line)


def test_a_second_event_on_the_same_queue_is_refused_as_lambda_does(tmp_path: Path) -> None:
    service = load(tmp_path, fn(f"      - sqs: {QUEUE_ARN}\n      - sqs: {{arn: {QUEUE_ARN}}}\n"))
    (problem,) = service.problems
    assert "a second sqs event on" in problem.message and problem.line == 10


def test_a_queue_whose_visibility_timeout_is_shorter_than_the_function_is_refused(
    tmp_path: Path,
) -> None:
    yml = fn("      - sqs: {arn: !GetAtt Jobs.Arn}\n")
    yml = yml.replace("h.main\n", "h.main\n    timeout: 40\n")
    yml += "resources:\n  Resources:\n    Jobs:\n      Type: AWS::SQS::Queue\n"
    (problem,) = load(tmp_path, yml).problems  # SQS' default visibility timeout: 30 s
    assert "visibility timeout (30 s) is shorter than the function's timeout (40 s)" in (
        problem.message
    )
    fine = yml + "      Properties: {VisibilityTimeout: 240}\n"
    assert load(tmp_path, fine).problems == ()


def test_the_function_role_may_poll_exactly_its_queues(tmp_path: Path) -> None:
    service = load(tmp_path, fn(f"      - sqs: {QUEUE_ARN}\n"))
    statements = iam.function_role(service).inline_policies
    (policy,) = statements.values()
    assert policy["Statement"][-1] == {
        "Effect": "Allow",
        "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
        "Resource": [QUEUE_ARN],
    }


# -- serverless-lift's queue construct --------------------------------------------------------

LIFT = """\
service: payments
plugins:
  - serverless-iam-roles-per-function
  - serverless-lift
provider:
  name: aws
  runtime: python3.12
functions:
  other:
    handler: h.other
    environment:
      QUEUE_URL: ${construct:processPayment.queueUrl}
      DLQ_ARN: ${construct:processPayment.dlqArn}
constructs: ${file(sqs.yml)}
"""
SQS_YML = """\
processPayment:
  type: queue
  batchSize: 1
  maxRetries: 10
  fifo: true
  worker:
    memorySize: 256
    timeout: 5
    handler: h.work
    iamRoleStatements:
      - Effect: Allow
        Action: states:SendTaskSuccess
        Resource: "*"
"""


def lift(tmp_path: Path, sqs_yml: str = SQS_YML, yml: str = LIFT, **kwargs: Any) -> ServiceConfig:
    (tmp_path / "sqs.yml").write_text(sqs_yml)
    return load(tmp_path, yml, **kwargs)


def test_a_queue_construct_is_two_queues_a_worker_and_its_event(tmp_path: Path) -> None:
    service = lift(tmp_path)
    assert service.problems == ()
    assert service.resources is not None
    resources = service.resources.resources
    assert resources["ProcessPaymentDlq"] == {
        "Type": "AWS::SQS::Queue",
        "Properties": {
            "QueueName": "payments-dev-processPayment-dlq.fifo",
            "MessageRetentionPeriod": 1_209_600,
            "FifoQueue": True,
        },
    }
    assert resources["ProcessPaymentQueue"] == {
        "Type": "AWS::SQS::Queue",
        "Properties": {
            "QueueName": "payments-dev-processPayment.fifo",
            "VisibilityTimeout": 30,  # 6 x the worker's timeout
            "RedrivePolicy": {
                "deadLetterTargetArn": {"Fn::GetAtt": ["ProcessPaymentDlq", "Arn"]},
                "maxReceiveCount": 10,
            },
            "FifoQueue": True,
            "ContentBasedDeduplication": True,
        },
    }
    worker = service.functions["processPaymentWorker"]
    assert (worker.name, worker.memory_size, worker.timeout) == (
        "payments-dev-processPaymentWorker",
        256,
        5,
    )
    (event,) = worker.events.sqs
    assert event.queue_arn == "<ProcessPaymentQueue.Arn: known after the stack is deployed>"
    assert (event.batch_size, event.function_response_types) == (1, ("ReportBatchItemFailures",))
    # its own role (serverless-iam-roles-per-function): polling, then its statements
    statements = iam.function_own_role(service, worker).inline_policies
    (policy,) = statements.values()
    assert [s["Action"] for s in policy["Statement"]][1:] == [
        ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
        "states:SendTaskSuccess",
    ]
    # Lift's automatic permission: the service's functions may send to the queue
    assert {
        "Effect": "Allow",
        "Action": ["sqs:SendMessage"],
        "Resource": ["<ProcessPaymentQueue.Arn: known after the stack is deployed>"],
    } in service.provider_iam_statements
    # ${construct:...} is a reference to the queue
    environment = service.functions["other"].environment
    assert environment == {
        "QUEUE_URL": "<ProcessPaymentQueue: known after the stack is deployed>",
        "DLQ_ARN": "<ProcessPaymentDlq.Arn: known after the stack is deployed>",
    }


def test_lift_defaults_and_a_worker_named_by_reference(tmp_path: Path) -> None:
    sqs_yml = "jobs:\n  type: queue\n  worker: other\n  maxBatchingWindow: 4\n"
    yml = (
        LIFT.replace("      DLQ_ARN: ${construct:processPayment.dlqArn}\n", "").replace(
            "processPayment.queueUrl", "jobs.queueArn"
        )
        + "lift:\n  automaticPermissions: false\n"
    )
    service = lift(tmp_path, sqs_yml, yml)
    assert service.problems == ()
    assert service.resources is not None
    queue = service.resources.resources["JobsQueue"]["Properties"]
    assert queue["QueueName"] == "payments-dev-jobs"
    assert queue["VisibilityTimeout"] == 6 * 6 + 4  # Lift's 6 s default, plus the window
    assert queue["RedrivePolicy"]["maxReceiveCount"] == 3
    assert "FifoQueue" not in queue
    (event,) = service.functions["other"].events.sqs
    assert (event.batch_size, event.maximum_batching_window) == (1, 4)
    assert "processPaymentWorker" not in service.functions
    assert service.provider_iam_statements == ()  # automaticPermissions: false


@pytest.mark.parametrize(
    ("sqs_yml", "where", "message"),
    [
        ("web:\n  type: static-website\n  path: public\n", ("sqs.yml", 2),
         'construct \'web\': type "static-website" is not supported by the toolkit'),
        ("jobs:\n  type: queue\n", ("sqs.yml", 2), "no 'worker' defined"),
        ("jobs:\n  type: queue\n  worker: nope\n", ("sqs.yml", 3),
         "worker 'nope' is not a function"),
        ("jobs:\n  type: queue\n  worker: other\n  batchSize: 20\n", ("sqs.yml", 4),
         "'maxBatchingWindow' must be greater than 0"),
        ("jobs:\n  type: queue\n  worker: other\n  encryption: kms\n", ("sqs.yml", 4),
         "encryption 'kms'"),
    ],
)  # fmt: skip
def test_what_the_toolkit_or_lift_refuse_is_one_line_at_its_place(
    tmp_path: Path, sqs_yml: str, where: tuple[str, int], message: str
) -> None:
    yml = LIFT.replace("      QUEUE_URL: ${construct:processPayment.queueUrl}\n", "").replace(
        "      DLQ_ARN: ${construct:processPayment.dlqArn}\n", ""
    )
    problems = lift(tmp_path, sqs_yml, yml).problems
    assert message in problems[0].message
    assert (problems[0].file, problems[0].line) == where


def test_a_construct_variable_lift_would_refuse(tmp_path: Path) -> None:
    from tooling.errors import ConfigError

    yml = LIFT.replace("processPayment.dlqArn", "processPayment.topicArn")
    with pytest.raises(ConfigError) as raised:
        lift(tmp_path, yml=yml)
    assert "has no variable 'topicArn' (a queue has queueUrl, queueArn, dlqUrl, dlqArn)" in (
        raised.value.message
    )
    assert raised.value.line == 13


def test_constructs_without_the_plugin_are_left_alone_as_serverless_does(tmp_path: Path) -> None:
    yml = LIFT.replace("  - serverless-lift\n", "").replace(
        "    environment:\n      QUEUE_URL: ${construct:processPayment.queueUrl}\n"
        "      DLQ_ARN: ${construct:processPayment.dlqArn}\n",
        "",
    )
    service = lift(tmp_path, yml=yml)
    assert list(service.functions) == ["other"]
    assert any("`constructs` is read by the plugin serverless-lift" in w for w in service.warnings)


MACHINE = """\
stepFunctions:
  stateMachines:
    pay:
      role: !GetAtt SdkRole.Arn
      definition:
        StartAt: Send
        States:
          Send:
            Type: Task
            Resource: arn:aws:states:::sqs:sendMessage
            Parameters:
              QueueUrl: ${construct:processPayment.queueUrl}
              MessageBody: {a: 1}
            End: true
    own:
      definition:
        StartAt: Send
        States:
          Send:
            Type: Task
            Resource: arn:aws:states:::sqs:sendMessage
            Parameters:
              QueueUrl: ${construct:processPayment.queueUrl}
              MessageBody: {a: 1}
            End: true
resources:
  Resources:
    SdkRole:
      Type: AWS::IAM::Role
      Properties:
        AssumeRolePolicyDocument: {Statement: []}
"""


def test_values_of_the_stack_before_it_exists_are_placeholders_not_problems(
    tmp_path: Path,
) -> None:
    service = lift(tmp_path, yml=LIFT + MACHINE)
    assert service.problems == ()
    # a state machine's `role` naming a role of resources: (the bboure demo's sdk-integration)
    assert service.state_machines["pay"].role == "<SdkRole.Arn: known after the stack is deployed>"
    # a QueueUrl known only once the stack exists is no gap of the generated role
    spec = iam.state_machine_role(service, service.state_machines["own"])
    assert not [w for w in spec.warnings if "cannot tell the queue" in w]
