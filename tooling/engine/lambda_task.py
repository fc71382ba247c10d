"""Calling Lambda from a Task: a function ARN as Resource (LambdaFunction* events), the
optimized integration arn:aws:states:::lambda:invoke (Task* events, the Invoke API's answer), or
its callback pattern lambda:invoke.waitForTaskToken (invoke, then wait for the task token)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime
from typing import Any

from tooling.engine import jsontext
from tooling.engine.errors import (
    HEARTBEAT_TIMEOUT,
    TIMEOUT,
    HeartbeatTimedOut,
    StateRuntimeError,
    StatesError,
)
from tooling.engine.history import HistoryRecorder
from tooling.engine.mocks import MockedAnswer
from tooling.engine.model import TaskState
from tooling.engine.ports import (
    CallbackOutcome,
    Clock,
    LambdaInvoker,
    LambdaResponse,
    TaskCallbacks,
    TaskTimedOut,
)

# AWS reports Lambda errors without an errorType (timeouts, crashes, out of memory) as
# Lambda.Unknown (Step Functions guide, "Handling transient Lambda service exceptions").
UNKNOWN_LAMBDA_ERROR = "Lambda.Unknown"
NOT_TRUNCATED = {"truncated": False}


def invoke_lambda(
    state: TaskState,
    parameters: Any,
    timeout: int | None,
    *,
    lambdas: LambdaInvoker,
    history: HistoryRecorder,
    clock: Clock,
    region: str,
) -> Any:
    """Run one attempt, recording its events; the task result, or StatesError on failure."""
    if state.optimized:
        return _invoke_optimized(state, parameters, timeout, lambdas, history, clock, region)
    return _invoke_function(state, parameters, timeout, lambdas, history)


def _invoke_function(
    state: TaskState,
    parameters: Any,
    timeout: int | None,
    lambdas: LambdaInvoker,
    history: HistoryRecorder,
) -> Any:
    payload = jsontext.dumps(parameters)
    scheduled: dict[str, Any] = {
        "resource": state.resource,
        "input": payload,
        "inputDetails": NOT_TRUNCATED,
    }
    if timeout is not None:
        scheduled["timeoutInSeconds"] = timeout
    history.add("LambdaFunctionScheduled", "lambdaFunctionScheduledEventDetails", scheduled)
    history.add("LambdaFunctionStarted")
    try:
        response = lambdas.invoke(state.resource, payload, timeout_seconds=timeout)
    except TaskTimedOut:
        history.add(
            "LambdaFunctionTimedOut", "lambdaFunctionTimedOutEventDetails", {"error": TIMEOUT}
        )
        raise StatesError(TIMEOUT) from None
    except StatesError as exc:
        # Service errors (e.g. Lambda.ResourceNotFoundException): recorded like a failed call.
        # Not confirmed whether AWS uses LambdaFunctionStartFailed here instead.
        history.add("LambdaFunctionFailed", "lambdaFunctionFailedEventDetails", error_details(exc))
        raise
    if response.function_error:
        # The cause is the function's error payload exactly as Lambda returned it.
        error = StatesError(_error_type(response.payload), response.payload)
        history.add(
            "LambdaFunctionFailed", "lambdaFunctionFailedEventDetails", error_details(error)
        )
        raise error
    result = _parse_payload(response.payload)
    history.add(
        "LambdaFunctionSucceeded",
        "lambdaFunctionSucceededEventDetails",
        {"output": response.payload, "outputDetails": NOT_TRUNCATED},
    )
    return result


def _invoke_optimized(
    state: TaskState,
    parameters: Any,
    timeout: int | None,
    lambdas: LambdaInvoker,
    history: HistoryRecorder,
    clock: Clock,
    region: str,
) -> Any:
    ids = {"resourceType": "lambda", "resource": "invoke"}
    scheduled: dict[str, Any] = {**ids, "region": region, "parameters": jsontext.dumps(parameters)}
    if timeout is not None:
        scheduled["timeoutInSeconds"] = timeout
    history.add("TaskScheduled", "taskScheduledEventDetails", scheduled)
    history.add("TaskStarted", "taskStartedEventDetails", dict(ids))
    function = parameters.get("FunctionName") if isinstance(parameters, dict) else None
    if not isinstance(function, str) or not function:
        raise StateRuntimeError("The field 'FunctionName' is required and must be a string.")
    payload = jsontext.dumps(parameters["Payload"]) if "Payload" in parameters else "{}"
    try:
        response = lambdas.invoke(function, payload, timeout_seconds=timeout)
    except TaskTimedOut:
        history.add("TaskTimedOut", "taskTimedOutEventDetails", {**ids, "error": TIMEOUT})
        raise StatesError(TIMEOUT) from None
    except StatesError as exc:
        history.add("TaskFailed", "taskFailedEventDetails", {**ids, **error_details(exc)})
        raise
    if response.function_error:
        # Here AWS re-serializes the error payload compactly (LocalStack snapshots recorded on AWS).
        try:
            cause = jsontext.dumps(json.loads(response.payload))
        except ValueError:
            cause = response.payload
        error = StatesError(_error_type(response.payload), cause)
        history.add("TaskFailed", "taskFailedEventDetails", {**ids, **error_details(error)})
        raise error
    result = _invoke_result(response, clock)
    history.add(
        "TaskSucceeded",
        "taskSucceededEventDetails",
        {**ids, "output": jsontext.dumps(result), "outputDetails": NOT_TRUNCATED},
    )
    return result


@dataclass(frozen=True)
class CallbackWait:
    """What one attempt of a .waitForTaskToken Task waits with."""

    token: str
    heartbeat: int | None  # HeartbeatSeconds, resolved
    callbacks: TaskCallbacks
    sleep: Callable[[float], None]  # the execution's sleep (its own deadline, branch stops)
    mocked: MockedAnswer | None = None  # a mock answers as the callback would


_CALLBACK_IDS = {"resourceType": "lambda", "resource": "invoke.waitForTaskToken"}


def invoke_lambda_for_callback(
    parameters: Any,
    timeout: int | None,
    wait: CallbackWait,
    *,
    lambdas: LambdaInvoker,
    history: HistoryRecorder,
    clock: Clock,
    region: str,
) -> Any:
    """lambda:invoke.waitForTaskToken: invoke the function (TaskSubmitted holds the Invoke
    answer), then wait for SendTaskSuccess/Failure on the token, within TimeoutSeconds (counted
    from TaskStarted) and HeartbeatSeconds (counted from TaskSubmitted and reset by each
    heartbeat; that starting point is not confirmed). Event shapes as in LocalStack's AWS
    recordings (test_heartbeats, test_callback)."""
    ids = _CALLBACK_IDS
    scheduled: dict[str, Any] = {**ids, "region": region, "parameters": jsontext.dumps(parameters)}
    if timeout is not None:
        scheduled["timeoutInSeconds"] = timeout
    if wait.heartbeat is not None:
        scheduled["heartbeatInSeconds"] = wait.heartbeat
    history.add("TaskScheduled", "taskScheduledEventDetails", scheduled)
    history.add("TaskStarted", "taskStartedEventDetails", dict(ids))
    deadline = clock.now() + timedelta(seconds=timeout) if timeout is not None else None
    function = parameters.get("FunctionName") if isinstance(parameters, dict) else None
    if not isinstance(function, str) or not function:
        raise StateRuntimeError("The field 'FunctionName' is required and must be a string.")
    if wait.mocked is not None:
        # Mocked: the function is not called, so the Invoke answer has no Payload (a choice of
        # this toolkit; Step Functions Local's mocks do not show what it records here).
        response = LambdaResponse(payload="")
    else:
        payload = jsontext.dumps(parameters["Payload"]) if "Payload" in parameters else "{}"
        response = _call_for_callback(lambdas, function, payload, timeout, history)
    history.add(
        "TaskSubmitted",
        "taskSubmittedEventDetails",
        {
            **ids,
            "output": jsontext.dumps(_invoke_result(response, clock)),
            "outputDetails": NOT_TRUNCATED,
        },
    )
    try:
        outcome = (
            _mocked_outcome(wait.mocked)
            if wait.mocked is not None
            else _await_callback(wait, clock, deadline)
        )
    except StatesError as exc:
        history.add("TaskTimedOut", "taskTimedOutEventDetails", {**ids, "error": TIMEOUT})
        raise exc from None
    if outcome.failed:
        # SendTaskFailure's error and cause, each only when given.
        given = (("error", outcome.error), ("cause", outcome.cause))
        details = {key: value for key, value in given if value is not None}
        history.add("TaskFailed", "taskFailedEventDetails", {**ids, **details})
        raise StatesError(outcome.error, outcome.cause)
    result = json.loads(outcome.output or "null")
    history.add(
        "TaskSucceeded",
        "taskSucceededEventDetails",
        {**ids, "output": jsontext.dumps(result), "outputDetails": NOT_TRUNCATED},
    )
    return result


def _call_for_callback(
    lambdas: LambdaInvoker,
    function: str,
    payload: str,
    timeout: int | None,
    history: HistoryRecorder,
) -> LambdaResponse:
    """The Invoke call itself; the function failing fails the task before any callback."""
    ids = _CALLBACK_IDS
    try:
        response = lambdas.invoke(function, payload, timeout_seconds=timeout)
    except TaskTimedOut:
        history.add("TaskTimedOut", "taskTimedOutEventDetails", {**ids, "error": TIMEOUT})
        raise StatesError(TIMEOUT) from None
    except StatesError as exc:
        history.add("TaskFailed", "taskFailedEventDetails", {**ids, **error_details(exc)})
        raise
    if response.function_error:
        try:
            cause = jsontext.dumps(json.loads(response.payload))
        except ValueError:
            cause = response.payload
        error = StatesError(_error_type(response.payload), cause)
        history.add("TaskFailed", "taskFailedEventDetails", {**ids, **error_details(error)})
        raise error
    return response


def _mocked_outcome(answer: MockedAnswer) -> CallbackOutcome:
    if answer.error == HEARTBEAT_TIMEOUT:
        raise HeartbeatTimedOut()
    if answer.error == TIMEOUT:
        raise StatesError(TIMEOUT)
    if answer.error is not None:
        return CallbackOutcome(failed=True, error=answer.error, cause=answer.cause)
    return CallbackOutcome(output=jsontext.dumps(answer.returns))


def _await_callback(wait: CallbackWait, clock: Clock, deadline: datetime | None) -> CallbackOutcome:
    """Poll the token on the clock until it is answered or a deadline passes."""
    heartbeat = timedelta(seconds=wait.heartbeat) if wait.heartbeat is not None else None
    beats = wait.callbacks.status(wait.token).heartbeats
    beat_deadline = clock.now() + heartbeat if heartbeat is not None else None
    while True:
        status = wait.callbacks.status(wait.token)
        if status.outcome is not None:
            return status.outcome
        now = clock.now()
        if heartbeat is not None and status.heartbeats != beats:
            beats = status.heartbeats
            beat_deadline = now + heartbeat
        if deadline is not None and now >= deadline:
            raise StatesError(TIMEOUT)
        if beat_deadline is not None and now >= beat_deadline:
            raise HeartbeatTimedOut()
        step = wait.callbacks.poll_seconds
        for limit in (deadline, beat_deadline):
            if limit is not None:
                step = min(step, (limit - now).total_seconds())
        wait.sleep(step)


def _invoke_result(response: LambdaResponse, clock: Clock) -> dict[str, Any]:
    """The Lambda Invoke API answer as the optimized integration returns it."""
    length = str(len(response.payload.encode()))
    date = format_datetime(clock.now(), usegmt=True)
    request_id = response.request_id
    headers = {
        "Connection": "keep-alive",
        "Content-Length": length,
        "Content-Type": "application/json",
        "Date": date,
        "X-Amz-Executed-Version": response.executed_version,
        "x-amzn-Remapped-Content-Length": "0",
        "x-amzn-RequestId": request_id,
    }
    return {
        "ExecutedVersion": response.executed_version,
        "Payload": _parse_payload(response.payload),
        "SdkHttpMetadata": {
            "AllHttpHeaders": {key: [value] for key, value in headers.items()},
            "HttpHeaders": headers,
            "HttpStatusCode": 200,
        },
        "SdkResponseMetadata": {"RequestId": request_id},
        "StatusCode": 200,
    }


def _parse_payload(payload: str) -> Any:
    if not payload.strip():
        return None
    try:
        return json.loads(payload)
    except ValueError:
        raise StatesError(
            UNKNOWN_LAMBDA_ERROR,
            f"The Lambda function returned a payload that is not JSON: {payload[:200]}",
        ) from None


def _error_type(payload: str) -> str:
    try:
        body = json.loads(payload)
    except ValueError:
        return UNKNOWN_LAMBDA_ERROR
    error_type = body.get("errorType") if isinstance(body, dict) else None
    return error_type if isinstance(error_type, str) and error_type else UNKNOWN_LAMBDA_ERROR


def error_details(error: StatesError) -> dict[str, Any]:
    details: dict[str, Any] = {"error": error.error}
    if error.cause is not None:
        details["cause"] = error.cause
    return details
