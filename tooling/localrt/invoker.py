"""The engine's LambdaInvoker on the local runtime: finds the function, runs it in its own
process (LocalLambdaRunner) and keeps what it printed.

An asynchronous invocation (InvocationType Event) runs the same way on a thread of its own, so
the task goes on at once; the process waits for it before it exits (a non-daemon thread). As
on AWS, its result is dropped and its logs are kept. A function error retries it, as Lambda
does, up to the function's maximumRetryAttempts (Lambda's default: 2); unlike Lambda, at once
(Lambda waits about one, then two minutes), so maximumEventAge never ends one. Then the
invocation record goes to the function's onSuccess or onFailure destination (`send`: another
function, invoked asynchronously; a queue, topic or event bus of the local AWS services).
A function with a reserved concurrency of 0 is throttled: Lambda.TooManyRequestsException for a
synchronous call; an asynchronous one is accepted and never runs (said on stderr).
"""

from __future__ import annotations

import json
import sys
import threading
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from tooling.engine.errors import StatesError
from tooling.engine.ports import LambdaResponse
from tooling.localrt.destinations import async_tries, destination_for, invocation_record
from tooling.localrt.lambda_runner import FunctionSpec, Invocation, LocalLambdaRunner
from tooling.localrt.runtimes import why_not_here
from tooling.names import function_arn, function_name_from_identifier


class InvocationLog(Protocol):
    def __call__(self, spec: FunctionSpec, invocation: Invocation, /) -> None: ...


# (destination ARN, invocation record) -> delivered to a queue, topic or event bus
SendRecord = Callable[[str, dict[str, Any]], None]


class LocalLambdaInvoker:
    """`lookup` finds a function by its unqualified ARN (`function_arn`), which `arn_for` gives;
    `send` delivers an asynchronous invocation's record to a queue, topic or event bus."""

    def __init__(
        self,
        lookup: Callable[[str], FunctionSpec | None],
        runner: LocalLambdaRunner,
        region: str,
        account_id: str,
        on_invocation: InvocationLog | None = None,
        send: SendRecord | None = None,
    ) -> None:
        self._lookup = lookup
        self._runner = runner
        self._region = region
        self._account_id = account_id
        self._on_invocation = on_invocation
        self._send = send

    def arn_for(self, function: str) -> str:
        """The ARN a Task's function name, partial ARN or ARN stands for: a name means the function
        in the execution's region; a full ARN names its own region. The local target has one
        account, so the account written in an ARN is not compared (definitions copied from AWS
        keep working)."""
        parts = function.split(":")
        region = parts[3] if function.startswith("arn:") and len(parts) > 3 else self._region
        return function_arn(region, self._account_id, function_name_from_identifier(function))

    def _find(self, function: str, *, asynchronous: bool = False) -> FunctionSpec:
        arn = self.arn_for(function)
        spec = self._lookup(arn)
        if spec is None:
            if function.startswith("arn:"):
                arn = function
            # Lambda's Invoke answers 404 ResourceNotFoundException; Step Functions names the
            # error after it, prefixed with "Lambda.".
            raise StatesError(
                "Lambda.ResourceNotFoundException",
                f"Function not found: {arn} (Service: AWSLambda; Status Code: 404; "
                "Error Code: ResourceNotFoundException)",
            )
        if spec.reserved_concurrency == 0 and not asynchronous:
            # Lambda's Invoke of a function whose reserved concurrency is 0: 429
            raise StatesError(
                "Lambda.TooManyRequestsException",
                "Rate Exceeded. (Service: AWSLambda; Status Code: 429; Error Code: "
                "TooManyRequestsException; Reason: ReservedFunctionConcurrentInvocationLimit"
                "Exceeded)",
            )
        reason = why_not_here(spec.runtime)
        if reason is not None:
            # The function is deployed (tool deploy said so) but nothing here runs it. Lambda's
            # Invoke names an unsupported runtime InvalidRuntimeException (HTTP 502).
            raise StatesError(
                "Lambda.InvalidRuntimeException",
                f"{spec.name}: {reason[0]} ({reason[1]}) (Service: AWSLambda; Status Code: 502; "
                "Error Code: InvalidRuntimeException)",
            )
        return spec

    def invoke_event(self, function: str, payload: str) -> LambdaResponse:
        spec = self._find(function, asynchronous=True)
        request_id = str(uuid.uuid4())
        if spec.reserved_concurrency == 0:
            sys.stderr.write(f"asynchronous invocation of {spec.name} is throttled (its reserved "
                             "concurrency is 0): it does not run\n")  # fmt: skip
            return LambdaResponse(payload="", executed_version=spec.version, request_id=request_id)

        def run() -> None:
            try:
                self._run_event(spec, payload, request_id)
            except Exception as exc:  # nobody waits for it: say what happened
                sys.stderr.write(f"asynchronous invocation of {spec.name} failed to run: {exc}\n")

        threading.Thread(target=run, name=f"lambda-event-{request_id}", daemon=False).start()
        return LambdaResponse(payload="", executed_version=spec.version, request_id=request_id)

    def _run_event(self, spec: FunctionSpec, payload: str, request_id: str) -> None:
        """Tries, then the record to a destination, as Lambda handles an asynchronous call."""
        config: Mapping[str, Any] = spec.event_invoke_config or {}
        tries = async_tries(config)
        attempts = 0
        while True:
            invocation = self._runner.invoke(spec, payload, request_id=request_id)
            attempts += 1
            if self._on_invocation is not None:
                self._on_invocation(spec, invocation)
            if invocation.function_error is None or attempts >= tries:
                break
        target = destination_for(config, succeeded=invocation.function_error is None)
        if target:
            record = invocation_record(
                f"{spec.arn}:{spec.version}", payload, invocation.function_error,
                invocation.payload, request_id, attempts,
            )  # fmt: skip
            self._deliver(target, record, spec.name)

    def _deliver(self, target: str, record: dict[str, Any], source: str) -> None:
        if target.split(":")[2:3] == ["lambda"]:  # an asynchronous call of it, on this thread
            spec = self._find(target, asynchronous=True)
            if spec.reserved_concurrency != 0:
                self._run_event(spec, json.dumps(record), str(uuid.uuid4()))
            return
        if self._send is None:
            sys.stderr.write(f"{source}: destination {target} is not reachable here: the "
                             "invocation record is dropped\n")  # fmt: skip
            return
        self._send(target, record)

    def invoke(
        self, function: str, payload: str, *, timeout_seconds: float | None = None
    ) -> LambdaResponse:
        spec = self._find(function)
        invocation = self._runner.invoke(spec, payload, deadline_seconds=timeout_seconds)
        if self._on_invocation is not None:
            self._on_invocation(spec, invocation)
        return LambdaResponse(
            payload=invocation.payload,
            function_error=invocation.function_error,
            executed_version=spec.version,
            request_id=invocation.request_id,
        )
