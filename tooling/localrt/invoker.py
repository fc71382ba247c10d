"""The engine's LambdaInvoker on the local runtime: finds the function, runs it in its own
process (LocalLambdaRunner) and keeps what it printed.

An asynchronous invocation (InvocationType Event) runs the same way on a thread of its own, so
the task goes on at once; the process waits for it before it exits (a non-daemon thread). As
on AWS, its result is dropped and its logs are kept. Unlike Lambda, it is not retried when it
fails (Lambda retries an asynchronous call twice by default).
"""

from __future__ import annotations

import sys
import threading
import uuid
from collections.abc import Callable
from typing import Protocol

from tooling.engine.errors import StatesError
from tooling.engine.ports import LambdaResponse
from tooling.localrt.lambda_runner import FunctionSpec, Invocation, LocalLambdaRunner
from tooling.localrt.runtimes import why_not_here
from tooling.names import function_arn, function_name_from_identifier


class InvocationLog(Protocol):
    def __call__(self, spec: FunctionSpec, invocation: Invocation, /) -> None: ...


class LocalLambdaInvoker:
    """`lookup` finds a function by its unqualified ARN (`function_arn`), which `arn_for` gives."""

    def __init__(
        self,
        lookup: Callable[[str], FunctionSpec | None],
        runner: LocalLambdaRunner,
        region: str,
        account_id: str,
        on_invocation: InvocationLog | None = None,
    ) -> None:
        self._lookup = lookup
        self._runner = runner
        self._region = region
        self._account_id = account_id
        self._on_invocation = on_invocation

    def arn_for(self, function: str) -> str:
        """The ARN a Task's function name, partial ARN or ARN stands for: a name means the function
        in the execution's region; a full ARN names its own region. The local target has one
        account, so the account written in an ARN is not compared (definitions copied from AWS
        keep working)."""
        parts = function.split(":")
        region = parts[3] if function.startswith("arn:") and len(parts) > 3 else self._region
        return function_arn(region, self._account_id, function_name_from_identifier(function))

    def _find(self, function: str) -> FunctionSpec:
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
        spec = self._find(function)
        request_id = str(uuid.uuid4())

        def run() -> None:
            try:
                invocation = self._runner.invoke(spec, payload, request_id=request_id)
                if self._on_invocation is not None:
                    self._on_invocation(spec, invocation)
            except Exception as exc:  # nobody waits for it: say what happened
                sys.stderr.write(f"asynchronous invocation of {spec.name} failed to run: {exc}\n")

        threading.Thread(target=run, name=f"lambda-event-{request_id}", daemon=False).start()
        return LambdaResponse(payload="", executed_version=spec.version, request_id=request_id)

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
