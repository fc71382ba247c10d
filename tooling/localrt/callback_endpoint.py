"""A loopback HTTP endpoint speaking Step Functions' JSON 1.0 protocol for SendTaskSuccess,
SendTaskFailure, SendTaskHeartbeat and GetActivityTask, so a handler run by the local runtime
can answer its own task token with `boto3.client("stepfunctions").send_task_success(...)`, or
work for an activity.

The handler's process finds it through AWS_ENDPOINT_URL_SFN (botocore's per-service endpoint
variable), and gets credentials of its own in Lambda's reserved credential variables: a key id
made for its execution, with the secret key and session token derived from the service folder's
local credentials key (tooling.localaws.signing), the same set the local AWS services accept.
Every request must carry a valid Signature Version 4 signature made with credentials of that
folder, as AWS checks it: another service's handler, or another process that found the port and
a token, is refused (UnrecognizedClientException, InvalidSignatureException) and the task keeps
waiting. It listens on 127.0.0.1 only. `tool task success|failure|heartbeat` answers through the
store.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from tooling.engine.callbacks import TaskTokenError
from tooling.localaws.signing import Credentials, LocalSigning, SignatureRefused, SignedRequest
from tooling.localrt.callbacks import ACTIVITY_POLL_SECONDS, long_poll_activity

_CONTENT_TYPE = "application/x-amz-json-1.0"
_TARGET_PREFIX = "AWSStepFunctions."
_MAX_BODY_BYTES = 1024 * 1024  # SendTaskSuccess output: 256 KiB of UTF-8, with room for JSON
_ACTIVITY_ARN_CHARS = 256  # GetActivityTask: activityArn 1-256, workerName up to 80
_WORKER_NAME_CHARS = 80
_ACTIONS = ("SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat", "GetActivityTask")
# AWS's error codes for each way a signature is refused (tooling.localaws.signing).
_REFUSED = {
    "missing": "MissingAuthenticationTokenException",
    "unrecognized": "UnrecognizedClientException",
    "incomplete": "IncompleteSignature",
    "signature": "InvalidSignatureException",
    "expired": "InvalidSignatureException",
    "payload": "InvalidSignatureException",
}


class TokenAnswers(Protocol):
    """Where answers go: InMemoryTaskCallbacks or StoreTaskCallbacks."""

    def send_success(self, token: str, output: str) -> None: ...

    def send_failure(
        self, token: str, error: str | None = None, cause: str | None = None
    ) -> None: ...

    def send_heartbeat(self, token: str) -> None: ...

    def get_activity_task(self, activity_arn: str, worker: str) -> tuple[str, str] | None: ...


class _BadRequest(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class CallbackEndpoint:
    """The endpoint, serving from a daemon thread until `close()` (or the `with` block ends)."""

    def __init__(
        self,
        answers: TokenAnswers,
        signing: LocalSigning | None = None,
        activity_poll_seconds: float = ACTIVITY_POLL_SECONDS,
    ) -> None:
        """`signing`: the folder's local credentials; without it, a secret of this endpoint's
        own (only the credentials of `environment()` pass)."""
        self.answers = answers
        self.activity_poll_seconds = activity_poll_seconds
        self.signing = signing or LocalSigning.ephemeral()
        self.credentials = self.signing.issue()
        handler = type("_Handler", (_Handler,), {"endpoint": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"  # bound to loopback above

    def environment(self, credentials: Credentials | None = None) -> dict[str, str]:
        """What a handler process needs to reach the endpoint through boto3 (with
        `credentials` of the same folder instead of the endpoint's own)."""
        return {"AWS_ENDPOINT_URL_SFN": self.url, **(credentials or self.credentials).environment()}

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> CallbackEndpoint:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def handle(self, target: str, body: Any) -> dict[str, Any]:
        """Run one action and answer its result; _BadRequest or TaskTokenError when refused."""
        if not target.startswith(_TARGET_PREFIX):
            raise _BadRequest("UnknownOperationException", f"unknown operation {target!r}")
        action = target[len(_TARGET_PREFIX) :]
        if action not in _ACTIONS:
            raise _BadRequest(
                "UnknownOperationException",
                f"{action} is not offered by the local runtime (only {', '.join(_ACTIONS)} are)",
            )
        if not isinstance(body, dict):
            raise _BadRequest("SerializationException", "the request body must be a JSON object")
        if action == "GetActivityTask":
            return self._get_activity_task(body)
        token = _string(body, "taskToken", required=True)
        if action == "SendTaskSuccess":
            self.answers.send_success(token, _string(body, "output", required=True))
        elif action == "SendTaskFailure":
            error, cause = _string(body, "error"), _string(body, "cause")
            self.answers.send_failure(token, error or None, cause or None)
        else:
            self.answers.send_heartbeat(token)
        return {}

    def _get_activity_task(self, body: dict[str, Any]) -> dict[str, Any]:
        """Long polling, as AWS does: the oldest waiting attempt of the activity, or `{}` (no
        taskToken) when none came within the poll."""
        arn = _string(body, "activityArn", required=True)
        worker = _string(body, "workerName")
        if not 1 <= len(arn) <= _ACTIVITY_ARN_CHARS or len(worker) > _WORKER_NAME_CHARS:
            raise _BadRequest(
                "ValidationException",
                f"activityArn takes 1-{_ACTIVITY_ARN_CHARS} characters, workerName at most "
                f"{_WORKER_NAME_CHARS}",
            )
        return long_poll_activity(
            lambda: self.answers.get_activity_task(arn, worker), self.activity_poll_seconds
        )


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
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= _MAX_BODY_BYTES:
            self.close_connection = True
            self._answer(413, {"__type": "RequestEntityTooLarge", "message": "body too large"})
            return
        raw = self.rfile.read(length)
        try:
            headers = {name.lower(): value for name, value in self.headers.items()}
            request = SignedRequest("POST", self.path, headers, raw)
            try:
                self.endpoint.signing.verify(request, datetime.now(UTC))
            except SignatureRefused as refused:
                raise _BadRequest(_REFUSED[refused.reason], refused.message) from None
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                raise _BadRequest("SerializationException", "the body is not JSON") from None
            answer = self.endpoint.handle(self.headers.get("X-Amz-Target", ""), body)
        except TaskTokenError as exc:
            self._answer(400, {"__type": exc.code, "message": exc.message})
        except _BadRequest as exc:
            self._answer(400, {"__type": exc.code, "message": exc.message})
        else:
            self._answer(200, answer)

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", _CONTENT_TYPE)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Quiet: the worker's stderr is not the place for access logs."""
