"""What `tool serve`'s REST API handles: the request as received, the route it matched, the
response it sends, and the local functions it invokes (shared by the Lambda proxy, the other
function integrations and the state machines' integration)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from tooling.triggers import vtl

JSON_TYPE = "application/json"
FORM_TYPE = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Response:
    status: int
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    cookies: tuple[str, ...] = ()  # a Set-Cookie header each (payload format 2.0's `cookies`)
    raw: bytes | None = None  # the bytes to send instead of `body` (a base64 body decoded)


class FunctionAnswer(Protocol):
    @property
    def payload(self) -> str: ...  # the result, as Lambda's Invoke returns it

    @property
    def function_error(self) -> str | None: ...  # "Unhandled" when the function failed

    @property
    def timed_out(self) -> bool: ...  # API Gateway's integration timeout (29 s) passed


class Functions(Protocol):
    """The local target's deployed functions, invoked as API Gateway's Lambda proxy
    integration invokes them (tooling.localrt.proxy_functions.LocalProxyFunctions)."""

    def invoke(self, function_arn: str, payload: str) -> FunctionAnswer: ...


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # without the query string
    query: dict[str, str]  # the last value of each name, as API Gateway's v1 event has it
    headers: dict[str, str]  # names in lower case
    body: bytes = b""
    raw_headers: tuple[tuple[str, str], ...] = ()  # as sent: names as written, repeated ones
    raw_query: tuple[tuple[str, str], ...] = ()  # every name=value, in order


@dataclass(frozen=True)
class Route:
    path: str
    method: str
    document: dict[str, Any]

    @property
    def parts(self) -> list[str]:
        return self.path.split("/") if self.path else []


class GatewayAnswer(Exception):
    """API Gateway answers before (or instead of) the integration."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def execution_failure(request_id: str) -> Response:
    """API Gateway's answer when a mapping template fails (an execution failure)."""
    return Response(
        500,
        json.dumps({"message": "Internal server error"}),
        {"Content-Type": JSON_TYPE, "x-amzn-ErrorType": "InternalServerErrorException",
         "x-amzn-RequestId": request_id},
    )  # fmt: skip


def overridden(response: Response, override: vtl.ResponseOverride) -> Response:
    """The response with what its template set in `$context.responseOverride`."""
    if override.status is None and not override.headers:
        return response
    return Response(
        override.status or response.status,
        response.body,
        {**response.headers, **override.headers},
        response.cookies,
        response.raw,
    )
