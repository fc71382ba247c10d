"""The deployed local functions as `tool serve` calls them (API Gateway's Lambda proxy
integration): synchronously, warm environments kept while the server runs (as Lambda keeps
them), what they print kept as their logs (`tool logs`), the folder's local AWS services within
reach when they hold data (as for executions, tooling.localrt.execute)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tooling.engine.ports import TaskTimedOut
from tooling.errors import NotFound
from tooling.localaws.manager import LocalAwsServices, handler_environment
from tooling.localrt.functions import spec_from_record
from tooling.localrt.lambda_runner import LocalLambdaRunner
from tooling.localrt.store import Store

INTEGRATION_TIMEOUT_SECONDS = 29.0  # API Gateway's default (and largest) integration timeout


@dataclass(frozen=True)
class ProxyAnswer:
    payload: str  # the function's result, as Invoke returns it
    function_error: str | None  # "Unhandled" when it failed (X-Amz-Function-Error)
    request_id: str
    timed_out: bool = False  # API Gateway stopped waiting (its integration timeout)


class LocalProxyFunctions:
    def __init__(self, database: Path, region: str) -> None:
        self.store = Store(database)
        self.region = region
        self.tool_dir = database.parent
        self._runner: LocalLambdaRunner | None = None
        self._lock = threading.Lock()

    def _runner_now(self) -> LocalLambdaRunner:
        with self._lock:
            if self._runner is None:
                services = LocalAwsServices(self.tool_dir)
                endpoint: dict[str, str] = {}
                if services.has_data():
                    endpoint = handler_environment(services.endpoint(), services.signing().issue())
                self._runner = LocalLambdaRunner(services=endpoint, warm=True)
            return self._runner

    def invoke(self, function_arn: str, payload: str) -> ProxyAnswer:
        record = self.store.get_function(function_arn)
        if record is None:
            raise NotFound(f"function {function_arn} is not deployed", hint="run `tool deploy`")
        spec = spec_from_record(record, self.region)
        try:
            invocation = self._runner_now().invoke(
                spec, payload, deadline_seconds=INTEGRATION_TIMEOUT_SECONDS
            )
        except TaskTimedOut:  # locally the function is stopped; on AWS it would run on
            return ProxyAnswer("", None, "", timed_out=True)
        now = datetime.now(UTC)
        for line in invocation.log.splitlines():
            self.store.append_log(
                function_name=spec.name, request_id=invocation.request_id, timestamp=now,
                message=line,
            )  # fmt: skip
        return ProxyAnswer(invocation.payload, invocation.function_error, invocation.request_id)

    def close(self) -> None:
        with self._lock:
            if self._runner is not None:
                self._runner.close()
                self._runner = None
