"""A loopback HTTP endpoint speaking Step Functions' JSON 1.0 protocol for SendTaskSuccess,
SendTaskFailure and SendTaskHeartbeat, so a handler run by the local runtime can answer its own
task token with `boto3.client("stepfunctions").send_task_success(...)`.

The handler's process finds it through AWS_ENDPOINT_URL_SFN (botocore's per-service endpoint
variable) and gets stand-in values for Lambda's reserved credential variables, which botocore
needs to sign the request; the endpoint ignores the signature. It listens on 127.0.0.1 only.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from tooling.engine.callbacks import TaskTokenError

_CONTENT_TYPE = "application/x-amz-json-1.0"
_TARGET_PREFIX = "AWSStepFunctions."
# Stand-ins for the execution role's keys Lambda puts in these reserved variables.
_LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "LOCALRUNTIMEKEYID",
    "AWS_SECRET_ACCESS_KEY": "local-runtime-secret",
    "AWS_SESSION_TOKEN": "local-runtime-session",
}


class TokenAnswers(Protocol):
    """Where answers go: InMemoryTaskCallbacks or StoreTaskCallbacks."""

    def send_success(self, token: str, output: str) -> None: ...

    def send_failure(
        self, token: str, error: str | None = None, cause: str | None = None
    ) -> None: ...

    def send_heartbeat(self, token: str) -> None: ...


class _BadRequest(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class CallbackEndpoint:
    """The endpoint, serving from a daemon thread until `close()` (or the `with` block ends)."""

    def __init__(self, answers: TokenAnswers) -> None:
        self.answers = answers
        handler = type("_Handler", (_Handler,), {"endpoint": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def environment(self) -> dict[str, str]:
        """What a handler process needs to reach the endpoint through boto3."""
        return {"AWS_ENDPOINT_URL_SFN": self.url, **_LOCAL_CREDENTIALS}

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> CallbackEndpoint:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def handle(self, target: str, body: Any) -> None:
        """Run one action; _BadRequest or TaskTokenError when refused."""
        if not target.startswith(_TARGET_PREFIX):
            raise _BadRequest("UnknownOperationException", f"unknown operation {target!r}")
        action = target[len(_TARGET_PREFIX) :]
        if action not in ("SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat"):
            raise _BadRequest(
                "UnknownOperationException",
                f"{action} is not offered by the local runtime (only SendTask* are)",
            )
        if not isinstance(body, dict):
            raise _BadRequest("SerializationException", "the request body must be a JSON object")
        token = _string(body, "taskToken", required=True)
        if action == "SendTaskSuccess":
            self.answers.send_success(token, _string(body, "output", required=True))
        elif action == "SendTaskFailure":
            error, cause = _string(body, "error"), _string(body, "cause")
            self.answers.send_failure(token, error or None, cause or None)
        else:
            self.answers.send_heartbeat(token)


def _string(body: dict[str, Any], key: str, required: bool = False) -> str:
    value = body.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise _BadRequest("ValidationException", f"'{key}' must be a string")
    return value


class _Handler(BaseHTTPRequestHandler):
    endpoint: CallbackEndpoint

    def do_POST(self) -> None:  # noqa: N802 - the http.server naming
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                raise _BadRequest("SerializationException", "the body is not JSON") from None
            self.endpoint.handle(self.headers.get("X-Amz-Target", ""), body)
        except TaskTokenError as exc:
            self._answer(400, {"__type": exc.code, "message": exc.message})
        except _BadRequest as exc:
            self._answer(400, {"__type": exc.code, "message": exc.message})
        else:
            self._answer(200, {})

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", _CONTENT_TYPE)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Quiet: the worker's stderr is not the place for access logs."""
