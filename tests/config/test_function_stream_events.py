"""Functions' `stream` events (Serverless v3's schema and defaults, Lambda's limits), read with
their lines, and the role statements Serverless adds for them (issue 15)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tooling import iam
from tooling.config.resources import Reference, StackValues
from tooling.config.service import ServiceConfig, load_service

BASE = "service: s\nprovider:\n  name: aws\n  runtime: python3.12\n"
TABLE_STREAM = "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2020-01-01T00:00:00.000"
KINESIS = "arn:aws:kinesis:us-east-1:123456789012:stream/clicks"
TABLE = (
    "resources:\n  Resources:\n    Orders:\n      Type: AWS::DynamoDB::Table\n"
    "      Properties:\n        StreamSpecification: {StreamViewType: NEW_IMAGE}\n"
)


def load(tmp_path: Path, yml: str, **kwargs: Any) -> ServiceConfig:
    (tmp_path / "serverless.yml").write_text(yml)
    kwargs.setdefault("env", {})
    kwargs.setdefault("resource_values", StackValues(verb="deployed"))
    return load_service(tmp_path, **kwargs)


def fn(events: str) -> str:
    return BASE + "functions:\n  work:\n    handler: h.main\n    events:\n" + events


def test_an_arn_string_takes_serverless_defaults_and_its_type_from_the_arn(
    tmp_path: Path,
) -> None:
    service = load(tmp_path, fn(f"      - stream: {TABLE_STREAM}\n      - stream: {KINESIS}\n"))
    table, clicks = service.functions["work"].events.streams
    assert (table.stream_type, table.stream_name, table.batch_size) == ("dynamodb", "orders", 10)
    assert (clicks.stream_type, clicks.stream_name) == ("kinesis", "clicks")
    assert table.starting_position == "TRIM_HORIZON" and table.enabled
    assert table.maximum_retry_attempts is None and table.on_failure is None
    assert table.location == ("serverless.yml", 9, 17)
    assert service.problems == () and service.warnings == ()


def test_every_setting_and_a_table_of_resources(tmp_path: Path) -> None:
    yml = (
        fn(
            "      - stream:\n          type: dynamodb\n          arn: !GetAtt Orders.StreamArn\n"
            "          batchSize: 100\n          batchWindow: 5\n          enabled: false\n"
            "          startingPosition: LATEST\n          maximumRetryAttempts: 2\n"
            "          maximumRecordAgeInSeconds: -1\n          bisectBatchOnFunctionError: true\n"
            "          parallelizationFactor: 10\n          tumblingWindowInSeconds: 60\n"
            "          functionResponseType: ReportBatchItemFailures\n"
            "          filterPatterns:\n            - eventName: [INSERT]\n"
            "          destinations:\n            onFailure:\n"
            "              arn: !GetAtt Failed.TopicArn\n              type: sns\n"
        )
        + TABLE
        + "    Failed:\n      Type: AWS::SNS::Topic\n"
    )
    service = load(tmp_path, yml)
    (event,) = service.functions["work"].events.streams
    assert event.stream_arn == "<Orders.StreamArn: known after the stack is deployed>"
    assert (event.batch_size, event.batching_window, event.enabled) == (100, 5, False)
    assert (event.starting_position, event.maximum_retry_attempts) == ("LATEST", 2)
    assert (event.maximum_record_age, event.bisect_batch_on_function_error) == (-1, True)
    assert (event.parallelization_factor, event.tumbling_window) == (10, 60)
    assert event.function_response_types == ("ReportBatchItemFailures",)
    assert event.filter_patterns == ('{"eventName":["INSERT"]}',)
    assert event.on_failure_type == "sns"
    stream = "arn:aws:dynamodb:us-east-1:123456789012:table/s-dev-Orders-1/stream/2026-01-01"
    topic = "arn:aws:sns:us-east-1:123456789012:s-dev-Failed-1"
    values = StackValues(
        {
            Reference("Orders", "StreamArn").output_key: stream,
            Reference("Failed", "TopicArn").output_key: topic,
        }
    )
    (event,) = load(tmp_path, yml, resource_values=values).functions["work"].events.streams
    assert (event.stream_arn, event.stream_name, event.on_failure) == (
        stream,
        "s-dev-Orders-1",
        topic,
    )


@pytest.mark.parametrize(
    ("event", "line", "column", "message"),
    [
        ("{arn: x}", 9, 24, 'stream arn "x" is not the ARN of a DynamoDB or Kinesis stream'),
        (f"{{arn: {KINESIS}, type: dynamodb}}", 9, 18, "is not the ARN of a dynamodb stream"),
        (f"{{arn: {KINESIS}, type: sqs}}", 9, 18, "stream type must be dynamodb or kinesis"),
        ("{arn: !GetAtt Orders.StreamArn}", 9, 24, "needs `type` (dynamodb or kinesis)"),
        ("{type: dynamodb, arn: !Ref Orders}", 9, 18, "is not the ARN of a dynamodb stream"),
        ("!GetAtt Orders.StreamArn", 9, 17, "an intrinsic function goes under `arn:`"),
        (f"{{arn: {KINESIS}, batchSize: 0}}", 9, 18, "batchSize must be a whole number"),
        (f"{{arn: {KINESIS}, batchWindow: 301}}", 9, 18, "batchWindow must be a whole number"),
        (f"{{arn: {KINESIS}, parallelizationFactor: 11}}", 9, 18, "from 1 to 10"),
        (f"{{arn: {KINESIS}, maximumRetryAttempts: -2}}", 9, 18, "from -1 to 10000"),
        (f"{{arn: {KINESIS}, maximumRecordAgeInSeconds: 30}}", 9, 18, "-1 or from 60"),
        (f"{{arn: {KINESIS}, tumblingWindowInSeconds: 901}}", 9, 18, "from 0 to 900"),
        (f"{{arn: {KINESIS}, startingPosition: EARLIEST}}", 9, 18, "must be LATEST, TRIM"),
        (f"{{arn: {KINESIS}, startingPosition: AT_TIMESTAMP}}", 9, 18, "needs startingPosition"),
        (f"{{arn: {TABLE_STREAM}, startingPosition: AT_TIMESTAMP}}", 9, 18, "Kinesis streams"),
        (f"{{arn: {KINESIS}, enabled: 'no'}}", 9, 18, "stream enabled must be true or false"),
        (f"{{arn: {KINESIS}, functionResponseType: X}}", 9, 18, "must be ReportBatchItem"),
        (f"{{arn: {KINESIS}, filterPatterns: [x]}}", 9, 18, "list of event patterns"),
        (f"{{arn: {KINESIS}, stream: x}}", 9, 18, "unknown key 'stream' in a stream event"),
        ("{batchSize: 1}", 9, 17, "a stream event needs `arn`"),
        (f"{{arn: {KINESIS}, destinations: {{onFailure: x}}}}", 9, 18, "is not the ARN of an"),
        (f"{{arn: {KINESIS}, destinations: {{onSuccess: x}}}}", 9, 18, "only `onFailure`"),
        (f"{{arn: {KINESIS}, consumer: 3}}", 9, 18, "consumer must be true or a consumer's"),
    ],
)
def test_what_serverless_or_lambda_refuse_is_a_problem_at_its_line(
    tmp_path: Path, event: str, line: int, column: int, message: str
) -> None:
    service = load(tmp_path, fn(f"      - stream: {event}\n") + TABLE)
    assert service.functions["work"].events.streams == ()
    (problem,) = service.problems
    assert message in str(problem), str(problem)
    assert (problem.file, problem.line) == ("serverless.yml", line)
    assert problem.column is not None and problem.column >= column - 1


def test_an_onfailure_intrinsic_needs_its_type_and_a_second_event_on_a_stream_is_refused(
    tmp_path: Path,
) -> None:
    yml = fn(
        f"      - stream: {KINESIS}\n      - stream: {KINESIS}\n"
        f"      - stream:\n          arn: {TABLE_STREAM}\n          destinations:\n"
        "            onFailure: {arn: !GetAtt Failed.Arn}\n"
    ) + TABLE.replace("resources:\n  Resources:\n", "resources:\n  Resources:\n    Failed:\n"
                      "      Type: AWS::SQS::Queue\n")  # fmt: skip
    service = load(tmp_path, yml)
    first, second = service.problems
    assert "a second stream event on" in str(first) and first.line == 10
    assert "needs `type` (sqs or sns)" in str(second) and second.line == 14


def test_a_kinesis_consumer_is_a_warning_at_its_line_and_the_stream_is_read_directly(
    tmp_path: Path,
) -> None:
    service = load(tmp_path, fn(f"      - stream: {{arn: {KINESIS}, consumer: true}}\n"))
    (event,) = service.functions["work"].events.streams
    assert event.stream_arn == KINESIS
    (warning,) = service.warnings
    assert warning.startswith("serverless.yml:9:")
    assert "consumer (Kinesis enhanced fan-out) is not supported" in warning


def test_the_roles_read_exactly_their_streams_and_send_to_their_destinations(
    tmp_path: Path,
) -> None:
    queue = "arn:aws:sqs:us-east-1:123456789012:failed"
    yml = (
        BASE + "functions:\n  work:\n    handler: h.main\n    events:\n"
        f"      - stream: {{arn: {TABLE_STREAM}, destinations: {{onFailure: {queue}}}}}\n"
        "  own:\n    handler: h.main\n    iamRoleStatements: []\n    events:\n"
        f"      - stream: {KINESIS}\n"
        "  plain:\n    handler: h.main\n"
        "plugins:\n  - serverless-iam-roles-per-function\n"
    )
    service = load(tmp_path, yml)
    assert service.problems == ()
    shared = iam.function_role(service).inline_policies[iam.FUNCTION_POLICY_NAME]["Statement"]
    assert shared[-2:] == [
        {
            "Effect": "Allow",
            "Action": [
                "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:DescribeStream",
                "dynamodb:ListStreams",
            ],
            "Resource": [TABLE_STREAM],
        },
        {"Effect": "Allow", "Action": ["sqs:ListQueues", "sqs:SendMessage"], "Resource": [queue]},
    ]  # fmt: skip
    assert not any("kinesis:GetRecords" in str(s) for s in shared)
    own = iam.function_own_role(service, service.functions["own"])
    statements = own.inline_policies[iam.FUNCTION_POLICY_NAME]["Statement"]
    assert {
        "Effect": "Allow",
        "Action": [
            "kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStream",
            "kinesis:ListStreams",
        ],
        "Resource": [KINESIS],
    } in statements  # fmt: skip
    assert not any("dynamodb:" in str(s) for s in statements)
