"""A loopback HTTP endpoint speaking Step Functions' JSON 1.0 protocol for SendTaskSuccess,
SendTaskFailure and SendTaskHeartbeat, so a handler run by the local runtime can answer its own
task token with `boto3.client("stepfunctions").send_task_success(...)`.

The handler's process finds it through AWS_ENDPOINT_URL_SFN (botocore's per-service endpoint
variable), and gets credentials of its own in Lambda's reserved credential variables: a key pair
and session token made up for this endpoint (one per execution), which only the handlers of that
execution see. Every request must carry a valid Signature Version 4 signature made with them, as
AWS checks it: another service's handler, or another process that found the port and a token,
is refused (UnrecognizedClientException, InvalidSignatureException) and the task keeps waiting.
It listens on 127.0.0.1 only. `tool task success|failure|heartbeat` answers through the store.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qsl, quote, urlsplit

from tooling.engine.callbacks import TaskTokenError

_CONTENT_TYPE = "application/x-amz-json-1.0"
_TARGET_PREFIX = "AWSStepFunctions."
_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/,\s]+)/(?P<scope>[^,\s]+),\s*"
    r"SignedHeaders=(?P<headers>[^,\s]+),\s*Signature=(?P<signature>[0-9a-f]{64})"
)
# AWS refuses a signature dated more than 15 minutes away from its clock ("Signature expired").
_MAX_SKEW = timedelta(minutes=15)
_MAX_BODY_BYTES = 1024 * 1024  # SendTaskSuccess output: 256 KiB of UTF-8, with room for JSON


class SigningKeys:
    """The credentials this endpoint gives its handlers and accepts back: random per endpoint."""

    def __init__(self) -> None:
        self.access_key_id = "ASIALOCAL" + secrets.token_hex(6).upper()
        self.secret_access_key = secrets.token_urlsafe(30)
        self.session_token = secrets.token_urlsafe(48)

    def environment(self) -> dict[str, str]:
        """Lambda's reserved credential variables, which boto3 in the handler signs with."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_SESSION_TOKEN": self.session_token,
        }

    def verify(
        self, method: str, path: str, headers: dict[str, str], body: bytes, now: datetime
    ) -> None:
        """Check a request's SigV4 signature as AWS does; _BadRequest (with AWS's error codes)
        when it is missing, made with other credentials, altered or stale."""
        match = _AUTHORIZATION.fullmatch(headers.get("authorization", "").strip())
        if match is None:
            raise _BadRequest(
                "MissingAuthenticationTokenException",
                "Missing Authentication Token: sign the request (boto3 does) with the "
                "credentials the local runtime gives the handler",
            )
        token = headers.get("x-amz-security-token", "")
        if not (
            hmac.compare_digest(match["key"].encode(), self.access_key_id.encode())
            and hmac.compare_digest(token.encode(), self.session_token.encode())
        ):
            raise _BadRequest(
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            )
        signed = match["headers"].split(";")
        stamp = headers.get("x-amz-date", "")
        scope = match["scope"].split("/")
        if (
            "host" not in signed
            or "x-amz-date" not in signed
            or len(scope) != 4
            or scope[3] != "aws4_request"
            or not stamp.startswith(scope[0])
        ):
            raise _BadRequest(
                "IncompleteSignature", "The request signature does not conform to AWS standards."
            )
        try:
            signed_at = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError:
            raise _BadRequest(
                "IncompleteSignature", f"X-Amz-Date {stamp!r} is not a basic ISO 8601 timestamp"
            ) from None
        canonical = "\n".join(
            [
                method,
                quote(urlsplit(path).path or "/", safe="/~"),
                _canonical_query(urlsplit(path).query),
                "".join(f"{name}:{' '.join(headers.get(name, '').split())}\n" for name in signed),
                match["headers"],
                hashlib.sha256(body).hexdigest(),
            ]
        )
        to_sign = "\n".join(
            [
                "AWS4-HMAC-SHA256",
                stamp,
                match["scope"],
                hashlib.sha256(canonical.encode()).hexdigest(),
            ]
        )
        key = ("AWS4" + self.secret_access_key).encode()
        for part in scope:
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected.encode(), match["signature"].encode()):
            raise _BadRequest(
                "InvalidSignatureException",
                "The request signature we calculated does not match the signature you provided.",
            )
        if abs(now - signed_at) > _MAX_SKEW:
            raise _BadRequest(
                "InvalidSignatureException",
                f"Signature expired: {stamp} is more than 15 minutes from the endpoint's time",
            )


def _canonical_query(query: str) -> str:
    pairs = sorted(parse_qsl(query, keep_blank_values=True))
    return "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in pairs)


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
        self.keys = SigningKeys()
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
        return {"AWS_ENDPOINT_URL_SFN": self.url, **self.keys.environment()}

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
            self.endpoint.keys.verify("POST", self.path, headers, raw, datetime.now(UTC))
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
