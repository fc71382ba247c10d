"""AwsBackend against botocore's Stubber: history paging, waits after updates, logs cursor."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from tooling.aws.client import AwsClient, AwsSettings
from tooling.backends.aws import AwsBackend
from tooling.config.service import load_service
from tooling.errors import ToolError

from .conftest import ROOT

ACCOUNT = "123456789012"
EXECUTION = f"arn:aws:states:us-east-1:{ACCOUNT}:execution:hello-loop-dev-loop:run"
T0 = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def aws(sleeps: list[float]) -> Iterator[AwsClient]:
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    client = AwsClient(AwsSettings(region="us-east-1"), session=session, sleep=sleeps.append)
    with Stubber(client.client("sts")) as sts:
        sts.add_response("get_caller_identity", {"Account": ACCOUNT})
        client.account_id()
    yield client


@pytest.fixture
def backend(aws: AwsClient) -> AwsBackend:
    service = load_service(ROOT, env={}, account_id=ACCOUNT)
    return AwsBackend(service, aws)


def event(event_id: int) -> dict[str, Any]:
    return {"id": event_id, "type": "PassStateEntered", "timestamp": T0, "previousEventId": 0}


def test_history_since_reads_newest_first_back_to_the_last_seen_event(
    aws: AwsClient, backend: AwsBackend
):
    with Stubber(aws.client("stepfunctions")) as stub:
        # 250 events exist, 200 seen: the first page (newest first) holds 250..231, the
        # second reaches back past event 200, so no third page is read.
        stub.add_response(
            "get_execution_history",
            {"events": [event(i) for i in range(250, 230, -1)], "nextToken": "t1"},
            {"executionArn": EXECUTION, "reverseOrder": True, "maxResults": 100},
        )
        stub.add_response(
            "get_execution_history",
            {"events": [event(i) for i in range(230, 190, -1)], "nextToken": "t2"},
            {
                "executionArn": EXECUTION,
                "reverseOrder": True,
                "maxResults": 1000,
                "nextToken": "t1",
            },
        )
        events = backend.history_since(EXECUTION, 200)
        stub.assert_no_pending_responses()
    assert [e["id"] for e in events] == list(range(201, 251))


def test_history_since_with_nothing_new_costs_one_call(aws: AwsClient, backend: AwsBackend):
    with Stubber(aws.client("stepfunctions")) as stub:
        stub.add_response(
            "get_execution_history",
            {"events": [event(i) for i in range(7, 0, -1)]},
            {"executionArn": EXECUTION, "reverseOrder": True, "maxResults": 100},
        )
        assert backend.history_since(EXECUTION, 7) == []
        stub.assert_no_pending_responses()


def test_history_since_the_start_reads_every_page(aws: AwsClient, backend: AwsBackend):
    with Stubber(aws.client("stepfunctions")) as stub:
        stub.add_response(
            "get_execution_history",
            {"events": [event(i) for i in range(1500, 500, -1)], "nextToken": "t"},
            {"executionArn": EXECUTION, "reverseOrder": True, "maxResults": 1000},
        )
        stub.add_response(
            "get_execution_history",
            {"events": [event(i) for i in range(500, 0, -1)]},
            {
                "executionArn": EXECUTION,
                "reverseOrder": True,
                "maxResults": 1000,
                "nextToken": "t",
            },
        )
        events = backend.history_since(EXECUTION, 0)
    assert [e["id"] for e in events] == list(range(1, 1501))


def test_code_update_waits_only_while_lambda_applies_it(
    aws: AwsClient, sleeps: list[float], tmp_path: Path
):
    from tooling.deploy.aws_providers import AwsContext, AwsFunctions
    from tooling.deploy.models import Function
    from tooling.deploy.providers import Diff
    from tooling.package import Package

    zip_file = tmp_path / "code.zip"
    zip_file.write_bytes(b"PK")
    package = Package(path=zip_file, sha256="x", files=(), size=2)
    function = Function("f", "h.h", "python3.12", 128, 3, {}, "arn:aws:iam::1:role/r", package)
    service = load_service(ROOT, env={}, account_id=ACCOUNT)
    functions = AwsFunctions(AwsContext(service, aws))
    code_changed = Diff(("code changed",), ("CodeSha256",))
    with Stubber(aws.client("lambda")) as stub:
        stub.add_response(
            "update_function_code", {"FunctionName": "f", "LastUpdateStatus": "InProgress"}
        )
        stub.add_response(
            "get_function",
            {"Configuration": {"FunctionName": "f", "LastUpdateStatus": "Successful"}},
        )
        stub.add_response(
            "update_function_code", {"FunctionName": "f", "LastUpdateStatus": "Successful"}
        )
        functions.update(function, {}, code_changed)
        functions.update(function, {}, code_changed)
        stub.assert_no_pending_responses()
    assert sleeps == []  # the waiter's first check already saw Successful


def test_function_logs_cursor_neither_repeats_nor_skips(aws: AwsClient, backend: AwsBackend):
    group = "/aws/lambda/f"
    with Stubber(aws.client("logs")) as stub:
        stub.add_response(
            "filter_log_events",
            {
                "events": [
                    {"eventId": "a", "timestamp": 1000, "message": "one\n"},
                    {"eventId": "b", "timestamp": 2000, "message": "two\n"},
                ]
            },
            {"logGroupName": group},
        )
        stub.add_response(
            "filter_log_events",
            {
                "events": [
                    {"eventId": "b", "timestamp": 2000, "message": "two\n"},
                    {"eventId": "c", "timestamp": 2000, "message": "three\n"},
                ]
            },
            {"logGroupName": group, "startTime": 2000},
        )
        first, cursor = backend.function_logs("f")
        second, _ = backend.function_logs("f", cursor)
    assert [e["message"] for e in first] == ["one", "two"]
    assert [e["message"] for e in second] == ["three"]
    assert first[0]["timestamp"] == datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC)


def test_function_logs_of_a_function_that_never_ran_are_empty(aws: AwsClient, backend: AwsBackend):
    with Stubber(aws.client("logs")) as stub:
        stub.add_client_error("filter_log_events", service_error_code="ResourceNotFoundException")
        assert backend.function_logs("f") == ([], None)


def test_express_executions_run_synchronously_and_follow_without_history(
    aws: AwsClient, tmp_path: Path
):
    from tooling.follow import follow_execution

    config = (ROOT / "serverless.yml").read_text().replace("type: STANDARD", "type: EXPRESS")
    for name in ("handler.py", "statemachine.asl.json"):
        (tmp_path / name).write_text((ROOT / name).read_text())
    (tmp_path / "serverless.yml").write_text(config)
    service = load_service(tmp_path, env={}, account_id=ACCOUNT)
    backend = AwsBackend(service, aws)
    machine = service.state_machines["loop"]
    arn = f"arn:aws:states:us-east-1:{ACCOUNT}:express:hello-loop-dev-loop:run:1"
    with Stubber(aws.client("stepfunctions")) as stub:
        stub.add_response(
            "start_sync_execution",
            {
                "executionArn": arn,
                "startDate": T0,
                "stopDate": T0,
                "status": "SUCCEEDED",
                "output": '{"ok": true}',
            },
            {"stateMachineArn": machine.arn, "name": "run", "input": "{}"},
        )
        started = backend.start_execution(machine.arn, "run", "{}")
        followed = follow_execution(backend, started["executionArn"], sleep=lambda _: None)
        stub.assert_no_pending_responses()  # no DescribeExecution, no history read
    assert followed.description["status"] == "SUCCEEDED"
    assert followed.description["output"] == '{"ok": true}'
    assert followed.events == []


TOKEN = "AQCEAAAAKgAAAAMAAAAAAAAAAcallback"


def test_task_answers_are_one_call_each_with_the_api_parameters(backend: AwsBackend):
    sfn = backend.aws.client("stepfunctions")
    with Stubber(sfn) as stub:
        stub.add_response("send_task_success", {}, {"taskToken": TOKEN, "output": '{"a":1}'})
        stub.add_response("send_task_failure", {}, {"taskToken": TOKEN, "error": "E", "cause": "C"})
        stub.add_response("send_task_failure", {}, {"taskToken": TOKEN})
        stub.add_response("send_task_heartbeat", {}, {"taskToken": TOKEN})
        backend.send_task_success(TOKEN, '{"a":1}')
        backend.send_task_failure(TOKEN, "E", "C")
        backend.send_task_failure(TOKEN, None, None)
        backend.send_task_heartbeat(TOKEN)
        stub.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("code", "exit_code"),
    [("InvalidToken", 2), ("InvalidOutput", 2), ("TaskTimedOut", 1), ("TaskDoesNotExist", 1)],
)
def test_task_answer_refusals_keep_the_api_error(backend: AwsBackend, code: str, exit_code: int):
    with Stubber(backend.aws.client("stepfunctions")) as stub:
        stub.add_client_error("send_task_heartbeat", service_error_code=code, service_message="m")
        with pytest.raises(ToolError) as info:
            backend.send_task_heartbeat(TOKEN)
    assert info.value.exit_code == exit_code
    assert f"send task heartbeat failed: {code}: m" in info.value.message


def test_stop_passes_error_and_cause_only_when_given(backend: AwsBackend):
    with Stubber(backend.aws.client("stepfunctions")) as stub:
        stub.add_response(
            "stop_execution",
            {"stopDate": T0},
            {"executionArn": EXECUTION, "error": "Manual", "cause": "why"},
        )
        stub.add_response("stop_execution", {"stopDate": T0}, {"executionArn": EXECUTION})
        assert backend.stop_execution(EXECUTION, "Manual", "why") == {"stopDate": T0}
        assert backend.stop_execution(EXECUTION) == {"stopDate": T0}
        stub.assert_no_pending_responses()


def test_stop_of_an_unknown_execution_is_not_found(backend: AwsBackend):
    with Stubber(backend.aws.client("stepfunctions")) as stub:
        stub.add_client_error(
            "stop_execution", service_error_code="ExecutionDoesNotExist", service_message="m"
        )
        with pytest.raises(ToolError) as info:
            backend.stop_execution(EXECUTION)
    assert info.value.exit_code == 2
