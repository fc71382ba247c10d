"""The local AWS services take only requests signed with the folder's local credentials
(tooling.localaws.signing): a WSGI layer in front of moto that refuses anything else with the
error the service's protocol gives for it, before moto sees the request."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from io import BytesIO
from typing import Any
from xml.sax.saxutils import escape

from werkzeug.wrappers import Request

from tooling.localaws.signing import LocalSigning, SignatureRefused, SignedRequest

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# The error codes each protocol answers (AWS's own: DynamoDB and the other JSON services,
# query/XML services such as SNS and CloudFormation, and S3).
_JSON_CODES = {
    "missing": "MissingAuthenticationTokenException",
    "unrecognized": "UnrecognizedClientException",
    "incomplete": "IncompleteSignatureException",
    "signature": "InvalidSignatureException",
    "expired": "InvalidSignatureException",
    "payload": "InvalidSignatureException",
}
_QUERY_CODES = {
    "missing": "MissingAuthenticationToken",
    "unrecognized": "InvalidClientTokenId",
    "incomplete": "IncompleteSignature",
    "signature": "SignatureDoesNotMatch",
    "expired": "SignatureDoesNotMatch",
    "payload": "SignatureDoesNotMatch",
}
_S3_CODES = {
    "missing": "AccessDenied",
    "unrecognized": "InvalidToken",
    "incomplete": "AuthorizationQueryParametersError",
    "signature": "SignatureDoesNotMatch",
    "expired": "AccessDenied",
    "payload": "XAmzContentSHA256Mismatch",
}


def wsgi_headers(environ: dict[str, Any]) -> dict[str, str]:
    """A request's headers, keyed in lower case, as the client sent them."""
    headers = {
        key[5:].replace("_", "-").lower(): str(value)
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    for key, name in (("CONTENT_TYPE", "content-type"), ("CONTENT_LENGTH", "content-length")):
        if environ.get(key):
            headers[name] = str(environ[key])
    return headers


def raw_target(environ: dict[str, Any]) -> str:
    """The path and query as the client sent them (percent-encoded)."""
    raw = str(environ.get("RAW_URI") or environ.get("REQUEST_URI") or "")
    if raw.startswith(("http://", "https://")):  # an absolute form: keep the path on
        raw = "/" + raw.split("/", 3)[3] if raw.count("/") >= 3 else "/"
    return raw or str(environ.get("PATH_INFO", "/"))


class SignatureCheckingApp:
    """Refuses every request not signed with the folder's local credentials; `open_paths` (the
    identity check, which answers nothing secret) pass unsigned."""

    def __init__(
        self,
        app: WsgiApp,
        signing: LocalSigning,
        open_paths: Iterable[str] = (),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.app = app
        self.signing = signing
        self.open_paths = frozenset(open_paths)
        self.clock = clock

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("PATH_INFO") in self.open_paths:
            return self.app(environ, start_response)
        body = Request(environ).get_data(cache=False)
        environ["wsgi.input"] = BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        headers = wsgi_headers(environ)
        if "content-length" in headers and "HTTP_TRANSFER_ENCODING" in environ:
            headers.pop("content-length")  # the client sent none: the body came in chunks
        request = SignedRequest(
            method=str(environ.get("REQUEST_METHOD", "GET")),
            target=raw_target(environ),
            headers=headers,
            body=body,
        )
        try:
            self.signing.verify(request, self.clock())
        except SignatureRefused as refused:
            return _refusal(environ, headers, refused, start_response)
        return self.app(environ, start_response)


def _refusal(
    environ: dict[str, Any],
    headers: dict[str, str],
    refused: SignatureRefused,
    start_response: Callable[..., Any],
) -> list[bytes]:
    request_id = str(uuid.uuid4())
    content_type = headers.get("content-type", "")
    authorization = headers.get("authorization", "")
    if "x-amz-target" in headers or "amz-json" in content_type or "cbor" in content_type:
        code = _JSON_CODES[refused.reason]
        body = json.dumps({"__type": code, "message": refused.message}).encode()
        status, kind = "400 Bad Request", "application/x-amz-json-1.0"
        extra = [("x-amzn-ErrorType", code)]
    elif (
        content_type.startswith("application/x-www-form-urlencoded")
        or "Action=" in str(environ.get("QUERY_STRING", ""))
        or "/sns/" in authorization
    ):
        code = _QUERY_CODES[refused.reason]
        body = (
            "<ErrorResponse><Error><Type>Sender</Type>"
            f"<Code>{code}</Code><Message>{escape(refused.message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        status, kind, extra = "403 Forbidden", "text/xml", []
    else:  # S3, and REST services
        code = _S3_CODES[refused.reason]
        body = (
            f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code>"
            f"<Message>{escape(refused.message)}</Message><RequestId>{request_id}</RequestId>"
            "</Error>"
        ).encode()
        status, kind = "403 Forbidden", "application/xml"
        extra = [("x-amzn-ErrorType", code)]
    start_response(
        status,
        [
            ("Content-Type", kind),
            ("Content-Length", str(len(body))),
            ("x-amzn-RequestId", request_id),
            *extra,
        ],
    )
    return [body]
