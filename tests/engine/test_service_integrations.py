"""Service integrations the runtime provides (the ServiceIntegrations port), with a fake port:
request-response and .waitForTaskToken, their events, errors, and mocks taking precedence."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tooling.engine import TaskMocks, parse_definition
from tooling.engine.callbacks import Heartbeat, InMemoryTaskCallbacks
from tooling.engine.errors import StatesError
from tooling.engine.ports import CallbackOutcome, JobOutcome
from tooling.errors import DefinitionError

from .fakes import Runner, details

SEND = "arn:aws:states:::sqs:sendMessage"
SEND_WAIT = "arn:aws:states:::sqs:sendMessage.waitForTaskToken"
QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/orders"


class FakeSqs:
    """Provides sqs:sendMessage only; records each call; `on_send` may answer or fail it."""

    def __init__(self, on_send: Any = None) -> None:
        self.calls: list[tuple[str, str, Any]] = []
        self.on_send = on_send

    def supports(self, resource_type: str, action: str) -> bool:
        return resource_type == "sqs" and action in ("sendMessage", "sendMessage.waitForTaskToken")

    def call(self, resource_type: str, action: str, parameters: Any) -> Any:
        self.calls.append((resource_type, action, parameters))
        if self.on_send is not None:
            self.on_send(parameters)
        return {"MessageId": f"m-{len(self.calls)}"}


def machine(resource: str = SEND, body: Any = None, **fields: Any) -> dict[str, Any]:
    parameters = {"QueueUrl": QUEUE_URL, "MessageBody.$": "$.order"} if body is None else body
    task = {"Type": "Task", "Resource": resource, "Parameters": parameters, "End": True}
    return {"StartAt": "Send", "States": {"Send": {**task, **fields}}}


def waiting(**fields: Any) -> dict[str, Any]:
    body = {
        "QueueUrl": QUEUE_URL,
        "MessageBody": {"order.$": "$.order", "token.$": "$$.Task.Token"},
    }
    return machine(SEND_WAIT, body, **fields)


def test_a_provided_integration_runs_without_a_mock(runner: Runner) -> None:
    sqs = FakeSqs()
    outcome = runner.run(machine(ResultPath="$.sent"), {"order": {"id": 7}}, services=sqs)
    assert outcome.status == "SUCCEEDED"
    assert json.loads(outcome.output or "") == {"order": {"id": 7}, "sent": {"MessageId": "m-1"}}
    assert sqs.calls == [("sqs", "sendMessage", {"QueueUrl": QUEUE_URL, "MessageBody": {"id": 7}})]
    events = runner.sink.events
    assert runner.sink.types[2:5] == ["TaskScheduled", "TaskStarted", "TaskSucceeded"]
    assert details(events[2]) == {
        "resourceType": "sqs",
        "resource": "sendMessage",
        "region": "us-east-1",
        "parameters": json.dumps(
            {"QueueUrl": QUEUE_URL, "MessageBody": {"id": 7}}, separators=(",", ":")
        ),
    }
    assert details(events[4]) == {
        "resourceType": "sqs",
        "resource": "sendMessage",
        "output": '{"MessageId":"m-1"}',
        "outputDetails": {"truncated": False},
    }


def test_what_the_runtime_does_not_provide_stays_refused() -> None:
    definition = machine("arn:aws:states:::dynamodb:putItem", {"TableName": "t"})
    with pytest.raises(DefinitionError, match="is not supported yet by the local engine"):
        parse_definition(definition, provided=FakeSqs())
    with pytest.raises(DefinitionError, match="is not supported yet by the local engine"):
        parse_definition(machine())  # nothing provided, nothing mocked


def test_a_mock_wins_over_the_provided_integration(runner: Runner) -> None:
    sqs = FakeSqs()
    mocks = TaskMocks.from_config({"Send": {"0": {"Return": {"MessageId": "mocked"}}}})
    outcome = runner.run(machine(), {"order": 1}, services=sqs, mocks=mocks)
    assert json.loads(outcome.output or "") == {"MessageId": "mocked"}
    assert sqs.calls == []


def test_a_service_error_fails_the_attempt_and_catch_sees_it(runner: Runner) -> None:
    def refuse(parameters: Any) -> None:
        raise StatesError("SQS.QueueDoesNotExistException", "The specified queue does not exist.")

    definition = machine(Catch=[{"ErrorEquals": ["SQS.QueueDoesNotExistException"], "Next": "No"}])
    definition["States"]["Send"].pop("End")
    definition["States"]["Send"]["Next"] = "Yes"
    definition["States"]["Yes"] = {"Type": "Succeed"}
    definition["States"]["No"] = {"Type": "Pass", "End": True}
    outcome = runner.run(definition, {"order": 1}, services=FakeSqs(refuse))
    assert json.loads(outcome.output or "") == {
        "Error": "SQS.QueueDoesNotExistException",
        "Cause": "The specified queue does not exist.",
    }
    failed = next(e for e in runner.sink.events if e["type"] == "TaskFailed")
    assert details(failed) == {
        "resourceType": "sqs",
        "resource": "sendMessage",
        "error": "SQS.QueueDoesNotExistException",
        "cause": "The specified queue does not exist.",
    }


def test_wait_for_task_token_submits_then_waits_for_the_callback(runner: Runner) -> None:
    callbacks = InMemoryTaskCallbacks(runner.clock)

    def consumer(parameters: Any) -> None:
        # The message carries the token; a consumer answers it 30 s later.
        token = parameters["MessageBody"]["token"]
        callbacks.schedule(token, 30, CallbackOutcome(output='{"shipped": true}'))

    sqs = FakeSqs(consumer)
    outcome = runner.run(waiting(), {"order": 7}, services=sqs, callbacks=callbacks)
    assert outcome.status == "SUCCEEDED"
    assert json.loads(outcome.output or "") == {"shipped": True}
    assert sqs.calls[0][2]["MessageBody"] == {"order": 7, "token": callbacks.issued[0]}
    assert runner.sink.types[2:6] == [
        "TaskScheduled",
        "TaskStarted",
        "TaskSubmitted",
        "TaskSucceeded",
    ]
    ids = {"resourceType": "sqs", "resource": "sendMessage.waitForTaskToken"}
    events = runner.sink.events
    assert details(events[3]) == ids
    assert details(events[4]) == {
        **ids,
        "output": '{"MessageId":"m-1"}',
        "outputDetails": {"truncated": False},
    }
    assert details(events[5])["output"] == '{"shipped":true}'
    assert (events[5]["timestamp"] - events[4]["timestamp"]).total_seconds() == 30


def test_send_task_failure_fails_the_task_with_its_error_and_cause(runner: Runner) -> None:
    callbacks = InMemoryTaskCallbacks(runner.clock)

    def consumer(parameters: Any) -> None:
        callbacks.send_failure(parameters["MessageBody"]["token"], "Failure error", "Failure cause")

    outcome = runner.run(waiting(), {"order": 7}, services=FakeSqs(consumer), callbacks=callbacks)
    assert (outcome.status, outcome.error, outcome.cause) == (
        "FAILED",
        "Failure error",
        "Failure cause",
    )
    failed = next(e for e in runner.sink.events if e["type"] == "TaskFailed")
    assert details(failed) == {
        "resourceType": "sqs",
        "resource": "sendMessage.waitForTaskToken",
        "error": "Failure error",
        "cause": "Failure cause",
    }


def test_a_refused_send_fails_before_any_wait(runner: Runner) -> None:
    def refuse(parameters: Any) -> None:
        raise StatesError("SQS.AmazonSQSException", "no")

    outcome = runner.run(waiting(), {"order": 7}, services=FakeSqs(refuse))
    assert outcome.error == "SQS.AmazonSQSException"
    assert runner.sink.types[2:5] == ["TaskScheduled", "TaskStarted", "TaskFailed"]


def test_heartbeats_keep_the_wait_alive_until_they_stop(runner: Runner) -> None:
    callbacks = InMemoryTaskCallbacks(runner.clock)

    def consumer(parameters: Any) -> None:
        token = parameters["MessageBody"]["token"]
        callbacks.schedule(token, 4, Heartbeat())  # then silence

    definition = waiting(HeartbeatSeconds=5)
    outcome = runner.run(definition, {"order": 7}, services=FakeSqs(consumer), callbacks=callbacks)
    assert outcome.error == "States.Timeout"
    scheduled = next(e for e in runner.sink.events if e["type"] == "TaskScheduled")
    assert details(scheduled)["heartbeatInSeconds"] == 5
    timed_out = next(e for e in runner.sink.events if e["type"] == "TaskTimedOut")
    assert details(timed_out)["resource"] == "sendMessage.waitForTaskToken"
    # The heartbeat at 4 s moved the 5 s deadline to 9 s.
    assert (timed_out["timestamp"] - scheduled["timestamp"]).total_seconds() == 9


def test_a_mocked_callback_task_sends_nothing(runner: Runner) -> None:
    sqs = FakeSqs()
    mocks = TaskMocks.from_config({"Send": {"0": {"Return": {"approved": True}}}})
    outcome = runner.run(waiting(), {"order": 7}, services=sqs, mocks=mocks)
    assert json.loads(outcome.output or "") == {"approved": True}
    assert sqs.calls == []
    submitted = next(e for e in runner.sink.events if e["type"] == "TaskSubmitted")
    assert details(submitted)["output"] == "{}"


def test_a_callback_task_must_pass_its_token() -> None:
    definition = machine(SEND_WAIT)
    with pytest.raises(DefinitionError, match="needs Parameters to pass the task token") as info:
        parse_definition(definition, provided=FakeSqs())
    assert '"MessageBody"' in (info.value.hint or "")


START = "arn:aws:states:::states:startExecution"
CHILD_MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:child"
CHILD_RUN = "arn:aws:states:us-east-1:123456789012:execution:child:run-1"


class FakeJobs:
    """Provides states:startExecution with .sync and .sync:2; the child runs for `polls` answers
    of job_outcome, then ends with `ended`."""

    poll_seconds = 2.0

    def __init__(self, ended: JobOutcome, polls: int = 2) -> None:
        self.ended = ended
        self.polls = polls
        self.asked: list[tuple[str, Any]] = []

    def supports(self, resource_type: str, action: str) -> bool:
        return resource_type == "states" and action in (
            "startExecution",
            "startExecution.sync",
            "startExecution.sync:2",
        )

    def call(self, resource_type: str, action: str, parameters: Any) -> Any:
        return {"ExecutionArn": CHILD_RUN, "StartDate": 1}

    def job_outcome(self, resource_type: str, action: str, submitted: Any) -> JobOutcome | None:
        self.asked.append((action, submitted))
        return None if len(self.asked) <= self.polls else self.ended


def starting(pattern: str, **fields: Any) -> dict[str, Any]:
    return machine(START + pattern, {"StateMachineArn": CHILD_MACHINE, "Input.$": "$"}, **fields)


@pytest.mark.parametrize("pattern", [".sync", ".sync:2"])
def test_sync_submits_then_polls_the_job_on_the_clock(runner: Runner, pattern: str) -> None:
    jobs = FakeJobs(JobOutcome(result={"Status": "SUCCEEDED"}), polls=2)
    outcome = runner.run(starting(pattern), {"order": 1}, services=jobs)
    assert outcome.status == "SUCCEEDED"
    assert json.loads(outcome.output or "") == {"Status": "SUCCEEDED"}
    assert runner.sink.types[2:6] == [
        "TaskScheduled",
        "TaskStarted",
        "TaskSubmitted",
        "TaskSucceeded",
    ]
    submitted = details(runner.sink.events[4])
    assert submitted == {
        "resourceType": "states",
        "resource": "startExecution" + pattern,
        "output": json.dumps({"ExecutionArn": CHILD_RUN, "StartDate": 1}, separators=(",", ":")),
        "outputDetails": {"truncated": False},
    }
    answer = {"ExecutionArn": CHILD_RUN, "StartDate": 1}
    assert jobs.asked == [("startExecution" + pattern, answer)] * 3
    assert runner.clock.sleeps == [2.0, 2.0]


def test_a_failed_job_fails_the_task_and_catch_sees_it(runner: Runner) -> None:
    jobs = FakeJobs(JobOutcome(error="States.TaskFailed", cause='{"Status":"FAILED"}'), polls=0)
    catch = [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.failure", "Next": "Done"}]
    definition = starting(".sync", Catch=catch)
    del definition["States"]["Send"]["End"]
    definition["States"]["Send"]["Next"] = "Done"
    definition["States"]["Done"] = {"Type": "Succeed"}
    outcome = runner.run(definition, {}, services=jobs)
    assert outcome.status == "SUCCEEDED"
    assert json.loads(outcome.output or "")["failure"] == {
        "Error": "States.TaskFailed",
        "Cause": '{"Status":"FAILED"}',
    }
    failed = next(e for e in runner.sink.events if e["type"] == "TaskFailed")
    assert details(failed) == {
        "resourceType": "states",
        "resource": "startExecution.sync",
        "error": "States.TaskFailed",
        "cause": '{"Status":"FAILED"}',
    }


def test_timeout_seconds_ends_the_wait_with_task_timed_out(runner: Runner) -> None:
    jobs = FakeJobs(JobOutcome(result={}), polls=1000)
    outcome = runner.run(starting(".sync:2", TimeoutSeconds=5), {}, services=jobs)
    assert (outcome.status, outcome.error) == ("FAILED", "States.Timeout")
    assert runner.sink.types[-2] == "TaskTimedOut"
    assert sum(runner.clock.sleeps) == 5.0


def test_sync_needs_the_runtime_to_provide_that_pattern() -> None:
    with pytest.raises(DefinitionError, match="is not supported yet by the local engine"):
        parse_definition(starting(".sync"), provided=FakeSqs())
    with pytest.raises(DefinitionError, match="is not supported yet by the local engine") as info:
        parse_definition(machine("arn:aws:states:::sqs:sendMessage.sync"), provided=FakeSqs())
    assert info.value.hint == (
        "the local engine runs .sync for states:startExecution only: run this state on AWS"
    )


def test_a_mocked_sync_task_starts_nothing(runner: Runner) -> None:
    jobs = FakeJobs(JobOutcome(result={"never": True}))
    mocks = TaskMocks.from_config({"Send": {"0": {"Return": {"Output": {"x": 1}}}}})
    outcome = runner.run(starting(".sync:2"), {}, services=jobs, mocks=mocks)
    assert json.loads(outcome.output or "") == {"Output": {"x": 1}}
    assert jobs.asked == []
    assert details(runner.sink.events[4])["output"] == "{}"
