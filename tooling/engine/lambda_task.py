"""Calling Lambda from a Task: a function ARN as Resource (LambdaFunction* events), the
optimized integration arn:aws:states:::lambda:invoke (Task* events, the Invoke API's answer), or
its callback pattern lambda:invoke.waitForTaskToken (invoke, then wait for the task token)."""

from __future__ import annotations

import json
from email.utils import format_datetime
from typing import Any

from tooling.engine import jsontext
from tooling.engine.callback_task import CallbackWait, run_callback_task
from tooling.engine.errors import TIMEOUT, StateRuntimeError, StatesError
from tooling.engine.history import HistoryRecorder
from tooling.engine.mocks import whole_result_of
from tooling.engine.ports import Clock, LambdaInvoker, LambdaResponse, TaskTimedOut
from tooling.engine.task_events import NOT_TRUNCATED, error_details, task_ids

# AWS reports Lambda errors without an errorType (timeouts, crashes, out of memory) as
# Lambda.Unknown (Step Functions guide, "Handling transient Lambda service exceptions").
UNKNOWN_LAMBDA_ERROR = "Lambda.Unknown"
# Lambda Invoke's InvocationType (Lambda API reference, Invoke: RequestResponse answers 200
# with the function's result, Event 202 at once, DryRun 204 without running anything; the
# parser refuses DryRun, which the local engine does not run yet).
REQUEST_RESPONSE, EVENT, DRY_RUN = "RequestResponse", "Event", "DryRun"
EVENT_STATUS = 202


def invoke_function(
    resource: str,
    parameters: Any,
    timeout: int | None,
    lambdas: LambdaInvoker,
    history: HistoryRecorder,
) -> Any:
    """A function ARN as Resource: one attempt, recorded as LambdaFunction* events; the task
    result, or StatesError on failure."""
    payload = jsontext.dumps(parameters)
    scheduled: dict[str, Any] = {
        "resource": resource,
        "input": payload,
        "inputDetails": NOT_TRUNCATED,
    }
    if timeout is not None:
        scheduled["timeoutInSeconds"] = timeout
    history.add("LambdaFunctionScheduled", "lambdaFunctionScheduledEventDetails", scheduled)
    history.add("LambdaFunctionStarted")
    try:
        response = lambdas.invoke(resource, payload, timeout_seconds=timeout)
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


def invoke_optimized(
    parameters: Any,
    timeout: int | None,
    lambdas: LambdaInvoker,
    history: HistoryRecorder,
    clock: Clock,
    region: str,
) -> Any:
    """arn:aws:states:::lambda:invoke: one attempt, recorded as Task* events; the task result
    (the Invoke API's answer), or StatesError on failure."""
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
    invocation_type = _invocation_type(parameters)
    if invocation_type != REQUEST_RESPONSE:
        try:
            result = _invoke_event(function, payload, lambdas, clock)
        except StatesError as exc:
            history.add("TaskFailed", "taskFailedEventDetails", {**ids, **error_details(exc)})
            raise
        whole, mocked_result = whole_result_of(lambdas)
        result = mocked_result if whole else result
        history.add(
            "TaskSucceeded",
            "taskSucceededEventDetails",
            {**ids, "output": jsontext.dumps(result), "outputDetails": NOT_TRUNCATED},
        )
        return result
    try:
        response = lambdas.invoke(function, payload, timeout_seconds=timeout)
    except TaskTimedOut:
        history.add("TaskTimedOut", "taskTimedOutEventDetails", {**ids, "error": TIMEOUT})
        raise StatesError(TIMEOUT) from None
    except StatesError as exc:
        history.add("TaskFailed", "taskFailedEventDetails", {**ids, **error_details(exc)})
        raise
    if response.function_error:
        error = StatesError(_error_type(response.payload), _compact_cause(response.payload))
        history.add("TaskFailed", "taskFailedEventDetails", {**ids, **error_details(error)})
        raise error
    whole, mocked_result = whole_result_of(lambdas)
    result = mocked_result if whole else _invoke_result(response, clock)
    history.add(
        "TaskSucceeded",
        "taskSucceededEventDetails",
        {**ids, "output": jsontext.dumps(result), "outputDetails": NOT_TRUNCATED},
    )
    return result


_CALLBACK_IDS = task_ids("lambda", "invoke.waitForTaskToken")


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
    answer), then wait for the task token (tooling.engine.callback_task)."""

    def submit() -> dict[str, Any]:
        function = parameters.get("FunctionName") if isinstance(parameters, dict) else None
        if not isinstance(function, str) or not function:
            raise StateRuntimeError("The field 'FunctionName' is required and must be a string.")
        if wait.mocked is not None:
            # Mocked: the function is not called, so the Invoke answer has no Payload (a choice
            # of this toolkit; Step Functions Local's mocks do not show what it records here).
            return _invoke_result(LambdaResponse(payload=""), clock)
        payload = jsontext.dumps(parameters["Payload"]) if "Payload" in parameters else "{}"
        invocation_type = _invocation_type(parameters)
        if invocation_type != REQUEST_RESPONSE:  # queued: the token comes when it comes
            return _invoke_event(function, payload, lambdas, clock)
        response = lambdas.invoke(function, payload, timeout_seconds=timeout)
        if response.function_error:
            # The function failing fails the task before any callback.
            raise StatesError(_error_type(response.payload), _compact_cause(response.payload))
        return _invoke_result(response, clock)

    return run_callback_task(
        _CALLBACK_IDS,
        parameters,
        timeout,
        wait,
        submit,
        history=history,
        clock=clock,
        region=region,
    )


def _invocation_type(parameters: Any) -> str:
    value = parameters.get("InvocationType", REQUEST_RESPONSE)
    if value not in (REQUEST_RESPONSE, EVENT):
        raise StateRuntimeError(
            "The field 'InvocationType' must be RequestResponse or Event on the local engine "
            f"(got {jsontext.dumps(value)})."
        )
    return str(value)


def _invoke_event(
    function: str, payload: str, lambdas: LambdaInvoker, clock: Clock
) -> dict[str, Any]:
    """InvocationType Event: Lambda queues the call and answers 202 at once; the function runs
    on its own, so neither its result nor its failure is the task's."""
    response = lambdas.invoke_event(function, payload)
    return _queued_result(response, EVENT_STATUS, clock)


def _queued_result(response: LambdaResponse, status: int, clock: Clock) -> dict[str, Any]:
    """The Invoke answer for Event (202): no body, no executed version. The exact shape AWS
    records is not confirmed (docs/engine.md)."""
    headers = {
        "Connection": "keep-alive",
        "Content-Length": "0",
        "Date": format_datetime(clock.now(), usegmt=True),
        "x-amzn-Remapped-Content-Length": "0",
        "x-amzn-RequestId": response.request_id,
    }
    return {
        "Payload": "",
        "SdkHttpMetadata": {
            "AllHttpHeaders": {key: [value] for key, value in headers.items()},
            "HttpHeaders": headers,
            "HttpStatusCode": status,
        },
        "SdkResponseMetadata": {"RequestId": response.request_id},
        "StatusCode": status,
    }


def _compact_cause(payload: str) -> str:
    """Lambda's error payload as AWS re-serializes it for lambda:invoke: compact JSON
    (LocalStack snapshots recorded on AWS)."""
    try:
        return jsontext.dumps(json.loads(payload))
    except ValueError:
        return payload


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
