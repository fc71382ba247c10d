"""AwsClient: retries with an injected sleep, waiters, error translation (botocore Stubber)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from tooling.aws.client import AwsClient, AwsSettings, RetryPolicy, is_mutating, recording_calls
from tooling.aws.errors import AwsAccessDenied, AwsOperationFailed, AwsRejected, AwsSetupError
from tooling.errors import AlreadyExists, NotFound

ROLE = "arn:aws:iam::123456789012:role/r"
MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:m"
IAM_NOT_READY = "The role defined for the function cannot be assumed by Lambda."
SFN_NOT_READY = (
    "Neither the global service principal states.amazonaws.com, nor the regional one is "
    "authorized to assume the provided role."
)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def aws(sleeps: list[float]) -> AwsClient:
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    return AwsClient(
        AwsSettings(region="us-east-1"),
        session=session,
        sleep=sleeps.append,
        retry=RetryPolicy(attempts=4, first_wait=0.5, max_wait=8.0),
    )


@pytest.fixture
def lambda_stub(aws: AwsClient) -> Iterator[Stubber]:
    with Stubber(aws.client("lambda")) as stub:
        yield stub
        stub.assert_no_pending_responses()


@pytest.fixture
def sfn_stub(aws: AwsClient) -> Iterator[Stubber]:
    with Stubber(aws.client("stepfunctions")) as stub:
        yield stub
        stub.assert_no_pending_responses()


def function_configuration(**extra: Any) -> dict[str, Any]:
    return {"FunctionName": "f", "CodeSha256": "abc", **extra}


def test_iam_propagation_is_retried_with_growing_waits(
    aws: AwsClient, lambda_stub: Stubber, sleeps: list[float]
):
    for _ in range(2):
        lambda_stub.add_client_error(
            "get_function",
            service_error_code="InvalidParameterValueException",
            service_message=IAM_NOT_READY,
            http_status_code=400,
        )
    lambda_stub.add_response("get_function", {"Configuration": function_configuration()})
    answer = aws.call("lambda", "get_function", what="look up function f", FunctionName="f")
    assert answer["Configuration"]["FunctionName"] == "f"
    assert sleeps == [0.5, 1.0]


def test_step_functions_role_propagation_is_retried(
    aws: AwsClient, sfn_stub: Stubber, sleeps: list[float]
):
    sfn_stub.add_client_error(
        "create_state_machine",
        service_error_code="AccessDeniedException",
        service_message=SFN_NOT_READY,
    )
    sfn_stub.add_response(
        "create_state_machine",
        {"stateMachineArn": MACHINE, "creationDate": "2024-01-01T00:00:00Z"},
    )
    aws.call(
        "stepfunctions",
        "create_state_machine",
        what="create state machine m",
        name="m",
        definition="{}",
        roleArn=ROLE,
    )
    assert sleeps == [0.5]


def test_throttling_and_update_conflicts_are_retried(
    aws: AwsClient, lambda_stub: Stubber, sleeps: list[float]
):
    lambda_stub.add_client_error("get_function", service_error_code="TooManyRequestsException")
    lambda_stub.add_client_error("get_function", service_error_code="ResourceConflictException")
    lambda_stub.add_client_error("get_function", service_error_code="ThrottlingException")
    lambda_stub.add_response("get_function", {"Configuration": function_configuration()})
    aws.call("lambda", "get_function", what="look up function f", FunctionName="f")
    assert sleeps == [0.5, 1.0, 2.0]


def test_aws_side_hiccups_are_retried(aws: AwsClient, lambda_stub: Stubber, sleeps: list[float]):
    lambda_stub.add_client_error(
        "get_function", service_error_code="ServiceException", http_status_code=500
    )
    lambda_stub.add_response("get_function", {"Configuration": function_configuration()})
    aws.call("lambda", "get_function", what="look up function f", FunctionName="f")
    assert sleeps == [0.5]


def test_botocore_itself_does_not_retry(aws: AwsClient):
    config = aws.client("lambda").meta.config
    assert config.retries["total_max_attempts"] == 1


def test_waits_never_exceed_the_maximum(aws: AwsClient, sleeps: list[float]):
    aws.retry = RetryPolicy(attempts=8, first_wait=0.5, max_wait=3.0)
    with Stubber(aws.client("lambda")) as stub:
        for _ in range(7):
            stub.add_client_error("get_function", service_error_code="ThrottlingException")
        stub.add_response("get_function", {"Configuration": function_configuration()})
        aws.call("lambda", "get_function", what="look up function f", FunctionName="f")
    assert sleeps == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0, 3.0]


def test_retries_give_up_with_a_message_saying_what_to_do(
    aws: AwsClient, lambda_stub: Stubber, sleeps: list[float]
):
    for _ in range(4):
        lambda_stub.add_client_error(
            "get_function",
            service_error_code="InvalidParameterValueException",
            service_message=IAM_NOT_READY,
        )
    with pytest.raises(AwsOperationFailed) as caught:
        aws.call("lambda", "get_function", what="create function f", FunctionName="f")
    assert len(sleeps) == 3
    assert caught.value.exit_code == 1
    assert caught.value.render().startswith("create function f failed:")
    assert "run the command again" in (caught.value.hint or "")


def test_other_errors_are_not_retried(aws: AwsClient, lambda_stub: Stubber, sleeps: list[float]):
    lambda_stub.add_client_error(
        "get_function", service_error_code="ResourceNotFoundException", service_message="gone"
    )
    with pytest.raises(NotFound, match="look up function f failed: ResourceNotFoundException"):
        aws.call("lambda", "get_function", what="look up function f", FunctionName="f")
    assert sleeps == []


@pytest.mark.parametrize(
    ("code", "error_type", "exit_code"),
    [
        ("AccessDeniedException", AwsAccessDenied, 1),
        ("UnrecognizedClientException", AwsAccessDenied, 1),
        ("InvalidParameterValueException", AwsRejected, 2),
        ("ResourceConflictException", AwsOperationFailed, 1),
        ("ServiceException", AwsOperationFailed, 1),
        ("SomethingNew", AwsOperationFailed, 1),
    ],
)
def test_client_errors_become_toolkit_errors(
    aws: AwsClient,
    sleeps: list[float],
    code: str,
    error_type: type[Exception],
    exit_code: int,
):
    aws.retry = RetryPolicy(attempts=1)
    with Stubber(aws.client("lambda")) as stub:
        stub.add_client_error("get_function", service_error_code=code, service_message="nope")
        with pytest.raises(error_type) as caught:
            aws.call("lambda", "get_function", what="look up function f", FunctionName="f")
    assert caught.value.exit_code == exit_code  # type: ignore[attr-defined]  # a ToolError
    assert f"look up function f failed: {code}: nope" in str(caught.value)


def test_execution_already_exists_is_already_exists(aws: AwsClient, sfn_stub: Stubber):
    sfn_stub.add_client_error("start_execution", service_error_code="ExecutionAlreadyExists")
    with pytest.raises(AlreadyExists):
        aws.call(
            "stepfunctions", "start_execution", what="start", stateMachineArn=MACHINE, name="n"
        )


def test_find_answers_none_for_a_missing_resource(aws: AwsClient, lambda_stub: Stubber):
    lambda_stub.add_client_error("get_function", service_error_code="ResourceNotFoundException")
    assert aws.find("lambda", "get_function", what="look up", FunctionName="f") is None


def test_waiter_polls_until_active_with_the_injected_sleep(
    aws: AwsClient, lambda_stub: Stubber, sleeps: list[float]
):
    lambda_stub.add_response(
        "get_function", {"Configuration": function_configuration(State="Pending")}
    )
    lambda_stub.add_response(
        "get_function", {"Configuration": function_configuration(State="Pending")}
    )
    lambda_stub.add_response(
        "get_function", {"Configuration": function_configuration(State="Active")}
    )
    answer = aws.wait("lambda", "function_active_v2", what="wait for f", FunctionName="f")
    assert answer["Configuration"]["State"] == "Active"
    assert sleeps == [1, 1]  # botocore's function_active_v2 delay


def test_waiter_failure_names_the_reason(aws: AwsClient, lambda_stub: Stubber):
    lambda_stub.add_response(
        "get_function",
        {
            "Configuration": function_configuration(
                LastUpdateStatus="Failed", LastUpdateStatusReason="bad zip"
            )
        },
    )
    with pytest.raises(AwsOperationFailed, match="bad zip"):
        aws.wait("lambda", "function_updated_v2", what="wait for f", FunctionName="f")


def test_every_call_is_announced(aws: AwsClient, lambda_stub: Stubber):
    lambda_stub.add_response("get_function", {"Configuration": function_configuration()})
    lambda_stub.add_response("delete_function", {})
    with recording_calls() as calls:
        aws.call("lambda", "get_function", what="look up", FunctionName="f")
        aws.call("lambda", "delete_function", what="delete", FunctionName="f")
    assert [(c.service, c.operation) for c in calls] == [
        ("lambda", "GetFunction"),
        ("lambda", "DeleteFunction"),
    ]
    assert [is_mutating(c.operation) for c in calls] == [False, True]


def test_unknown_profile_is_a_setup_error(tmp_path, monkeypatch: pytest.MonkeyPatch):
    empty = tmp_path / "config"
    empty.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    aws = AwsClient(AwsSettings(region="us-east-1", profile="missing"))
    with pytest.raises(AwsSetupError, match="missing") as caught:
        aws.client("lambda")
    assert caught.value.exit_code == 2
