from __future__ import annotations

import json

import pytest

from tooling.triggers.start_from_messages import (
    MAX_INPUT_BYTES,
    Backoff,
    Outcome,
    QueueMessage,
    StartError,
    check_body,
    error_code,
    start_from_messages,
)

from .fakes import MACHINE, FakeClientError, FakeStepFunctions

ID_A = "0b7e9a3c-1111-4c1e-9a55-000000000001"
ID_B = "0b7e9a3c-1111-4c1e-9a55-000000000002"
ID_C = "0b7e9a3c-1111-4c1e-9a55-000000000003"


def run(fake: FakeStepFunctions, *messages: QueueMessage, **kwargs):
    sleeps: list[float] = []
    kwargs.setdefault("draw", lambda: 1.0)
    result = start_from_messages(fake, MACHINE, messages, sleep=sleeps.append, **kwargs)
    return result, sleeps


def test_each_valid_message_starts_one_execution_named_by_its_id() -> None:
    fake = FakeStepFunctions()
    result, _ = run(fake, QueueMessage(ID_A, '{"k": 1}'), QueueMessage(ID_B, "[1, 2]"))
    assert [r.outcome for r in result.results] == [Outcome.STARTED, Outcome.STARTED]
    assert sorted(arn.rsplit(":", 1)[1] for arn in fake.executions) == [ID_A, ID_B]
    assert fake.executions[result.results[0].execution_arn]["input"] == '{"k": 1}'
    assert result.lambda_response() == {"batchItemFailures": []}


def test_a_bad_body_fails_alone_and_is_reported() -> None:
    fake = FakeStepFunctions()
    result, _ = run(
        fake,
        QueueMessage(ID_A, '{"ok": true}'),
        QueueMessage(ID_B, "not json {"),
        QueueMessage(ID_C, '{"ok": false}'),
    )
    assert result.batch_item_failures() == [{"itemIdentifier": ID_B}]
    bad = result.results[1]
    assert bad.outcome is Outcome.REJECTED
    assert bad.reason is not None and "not a JSON document" in bad.reason
    assert len(fake.executions) == 2
    assert fake.start_calls == 2  # the bad one never reached StartExecution


def test_redelivery_while_running_and_after_the_run_closed_starts_nothing_new() -> None:
    fake = FakeStepFunctions()
    message = QueueMessage(ID_A, '{"n": 1}')
    run(fake, message)
    again, _ = run(fake, message)  # idempotent answer: same name, same input, still RUNNING
    assert again.results[0].outcome is Outcome.STARTED
    fake.finish_all()
    late, _ = run(fake, message)  # ExecutionAlreadyExists -> DescribeExecution -> same input
    assert late.results[0].outcome is Outcome.ALREADY_STARTED
    assert late.results[0].execution_arn == next(iter(fake.executions))
    assert late.batch_item_failures() == []
    assert len(fake.executions) == 1


def test_the_same_message_twice_in_one_batch_runs_once() -> None:
    fake = FakeStepFunctions()
    fake.finish_all()
    result, _ = run(fake, QueueMessage(ID_A, "{}"), QueueMessage(ID_A, "{}"))
    assert all(r.outcome.ok for r in result.results)
    assert len(fake.executions) == 1


def test_name_taken_with_another_input_is_rejected_with_the_reason() -> None:
    fake = FakeStepFunctions()
    run(fake, QueueMessage(ID_A, '{"n": 1}'))
    result, _ = run(fake, QueueMessage(ID_A, '{"n": 2}'))
    (item,) = result.results
    assert item.outcome is Outcome.REJECTED
    assert item.reason == f"an execution named {ID_A} already exists with a different input"
    assert result.batch_item_failures() == [{"itemIdentifier": ID_A}]


def test_equivalent_json_counts_as_the_same_input() -> None:
    fake = FakeStepFunctions()
    run(fake, QueueMessage(ID_A, '{"a": 1, "b": 2}'))
    fake.finish_all()
    result, _ = run(fake, QueueMessage(ID_A, '{"b":2,"a":1}'))
    assert result.results[0].outcome is Outcome.ALREADY_STARTED


def test_throttling_is_retried_with_exponential_backoff() -> None:
    fake = FakeStepFunctions(failures=["ThrottlingException"] * 3)
    result, sleeps = run(fake, QueueMessage(ID_A, "{}"))
    assert result.results[0].outcome is Outcome.STARTED
    assert sleeps == [0.1, 0.2, 0.4]
    assert fake.start_calls == 4


def test_jitter_scales_each_delay() -> None:
    fake = FakeStepFunctions(failures=["TooManyRequestsException"] * 2)
    _, sleeps = run(fake, QueueMessage(ID_A, "{}"), draw=lambda: 0.5)
    assert sleeps == [0.05, 0.1]


def test_throttled_beyond_the_attempts_fails_the_message_for_a_later_delivery() -> None:
    fake = FakeStepFunctions(failures=["ThrottlingException"] * 10)
    result, sleeps = run(fake, QueueMessage(ID_A, "{}"), backoff=Backoff(attempts=3))
    (item,) = result.results
    assert item.outcome is Outcome.FAILED
    assert item.reason is not None and "still failing after retries" in item.reason
    assert "ThrottlingException" in item.reason
    assert len(sleeps) == 2
    assert result.batch_item_failures() == [{"itemIdentifier": ID_A}]


def test_an_unknown_target_error_fails_the_message_without_retrying() -> None:
    fake = FakeStepFunctions(failures=["StateMachineDoesNotExist"])
    result, sleeps = run(fake, QueueMessage(ID_A, "{}"), QueueMessage(ID_B, "{}"))
    assert [r.outcome for r in result.results] == [Outcome.FAILED, Outcome.STARTED]
    assert sleeps == []


def test_invalid_input_answered_by_the_target_is_a_rejection() -> None:
    fake = FakeStepFunctions(failures=["InvalidExecutionInput"])
    result, _ = run(fake, QueueMessage(ID_A, "{}"))
    assert result.results[0].outcome is Outcome.REJECTED


def test_describe_right_after_already_exists_is_retried_until_consistent() -> None:
    fake = FakeStepFunctions()
    run(fake, QueueMessage(ID_A, "{}"))
    fake.finish_all()
    fake.describe_failures = ["ExecutionDoesNotExist"]
    result, sleeps = run(fake, QueueMessage(ID_A, "{}"))
    assert result.results[0].outcome is Outcome.ALREADY_STARTED
    assert sleeps == [0.1]


def test_a_message_id_that_cannot_be_an_execution_name_is_rejected() -> None:
    result, _ = run(FakeStepFunctions(), QueueMessage("a b", "{}"))
    assert result.results[0].outcome is Outcome.REJECTED


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("", "not a JSON document"),
        ("{} {}", "not a JSON document"),
        ('{"x": NaN}', "NaN is not JSON"),
        ("'single'", "not a JSON document"),
        (json.dumps({"x": "a" * MAX_INPUT_BYTES}), "Step Functions accepts at most 262144"),
    ],
)
def test_check_body_reasons(body: str, problem: str) -> None:
    reason = check_body(body)
    assert reason is not None and problem in reason


def test_bodies_that_are_json_pass() -> None:
    assert check_body('"text"') is None
    assert check_body("  null ") is None
    assert check_body('"' + "a" * (MAX_INPUT_BYTES - 2) + '"') is None  # exactly at the limit
    assert check_body('"' + "é" * (MAX_INPUT_BYTES // 2) + '"') is not None  # 2 bytes each


def test_error_code_reads_botocore_shapes_start_errors_and_causes() -> None:
    assert error_code(FakeClientError("ThrottlingException")) == "ThrottlingException"
    assert error_code(StartError("InvalidName", "x")) == "InvalidName"
    try:
        try:
            raise FakeClientError("ServiceUnavailable")
        except FakeClientError as inner:
            raise RuntimeError("wrapped") from inner
    except RuntimeError as outer:
        assert error_code(outer) == "ServiceUnavailable"
    assert error_code(ValueError("plain")) is None


def test_messages_from_lambda_records_and_receive_message_answers() -> None:
    record = {"messageId": ID_A, "body": "{}", "attributes": {"ApproximateReceiveCount": "3"}}
    assert QueueMessage.from_lambda_record(record) == QueueMessage(ID_A, "{}", 3)
    message = {"MessageId": ID_B, "Body": "[]", "Attributes": {"ApproximateReceiveCount": "2"}}
    assert QueueMessage.from_sqs_message(message) == QueueMessage(ID_B, "[]", 2)


def test_on_result_sees_every_message_in_order() -> None:
    seen: list[str] = []
    run(
        FakeStepFunctions(),
        QueueMessage(ID_A, "{}"),
        QueueMessage(ID_B, "x"),
        on_result=lambda r: seen.append(f"{r.message_id[-1]}:{r.outcome.value}"),
    )
    assert seen == ["1:started", "2:rejected"]
