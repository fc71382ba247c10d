"""What a function gets and answers behind an HTTP API (API Gateway v2) or a function URL:
the event of payload format 2.0 (or 1.0, `provider.httpApi.payload: '1.0'`) built from a
request, and the function's answer mapped to the HTTP response as those services map it.

Format 2.0 (AWS: "Working with AWS Lambda proxy integrations for HTTP APIs", and Lambda's
function URL payload, which is the same): headers with lower-case names, repeated ones joined
with commas, cookies in `cookies`, the query as `rawQueryString` and joined
`queryStringParameters`, a body that is not UTF-8 text in base64. The answer: an object with
`statusCode` is the response (`headers`, `body`, `isBase64Encoded`, `cookies`); any other
valid JSON (an object without `statusCode`, a string, a number) is sent as a 200 with
content-type application/json, a string as its text and anything else as its JSON. Format 1.0
answers as the REST API's proxy integration reads them (tooling.triggers.http_api).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from tooling.triggers.http_api import Request, Response, proxy_body, proxy_response

JSON_TYPE = "application/json"
HOP_HEADERS = frozenset({"content-length", "connection"})  # not passed on by the front end


@dataclass(frozen=True)
class Context:
    """Where a request came in: the API's or URL's id and domain, the route that took it."""

    api_id: str
    domain: str
    account: str
    route_key: str  # "GET /users/{id}", "$default"
    request_id: str
    now: datetime
    stage: str = "$default"


def _headers(request: Request) -> tuple[dict[str, str], list[str]]:
    """Header names in lower case, repeated ones joined with commas; the cookies apart."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.raw_headers or tuple(request.headers.items()):
        lower = name.lower()
        if lower in HOP_HEADERS:
            continue
        if lower == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        headers[lower] = f"{headers[lower]},{value}" if lower in headers else value
    return headers, cookies


def event_v2(
    request: Request, path: str, params: dict[str, str], context: Context
) -> dict[str, Any]:
    """The event of payload format 2.0; `path` is the request's path as the API saw it."""
    headers, cookies = _headers(request)
    query: dict[str, str] = {}
    for name, value in request.raw_query or tuple(request.query.items()):
        query[name] = f"{query[name]},{value}" if name in query else value
    body, encoded = proxy_body(request.body)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": context.route_key,
        "rawPath": path,
        "rawQueryString": urlencode(list(request.raw_query or request.query.items())),
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    if query:
        event["queryStringParameters"] = query
    event["requestContext"] = {
        "accountId": context.account,
        "apiId": context.api_id,
        "domainName": context.domain,
        "domainPrefix": context.domain.split(".", 1)[0],
        "http": {
            "method": request.method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": "127.0.0.1",
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": context.request_id,
        "routeKey": context.route_key,
        "stage": context.stage,
        "time": context.now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(context.now.timestamp() * 1000),
    }
    if body is not None:
        event["body"] = body
    if params:
        event["pathParameters"] = dict(params)
    event["isBase64Encoded"] = encoded
    return event


def event_v1(
    request: Request, path: str, params: dict[str, str], context: Context, resource: str
) -> dict[str, Any]:
    """The event of payload format 1.0 behind an HTTP API (the REST API's proxy event, with
    `version` and the route key)."""
    headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    for name, value in request.raw_headers or tuple(request.headers.items()):
        if name.lower() in HOP_HEADERS:
            continue
        headers[name] = value
        multi_headers.setdefault(name, []).append(value)
    multi_query: dict[str, list[str]] = {}
    for name, value in request.raw_query or tuple(request.query.items()):
        multi_query.setdefault(name, []).append(value)
    body, encoded = proxy_body(request.body)
    return {
        "version": "1.0",
        "resource": resource,
        "path": path,
        "httpMethod": request.method,
        "headers": headers or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "requestContext": {
            "accountId": context.account,
            "apiId": context.api_id,
            "domainName": context.domain,
            "domainPrefix": context.domain.split(".", 1)[0],
            "extendedRequestId": context.request_id,
            "httpMethod": request.method,
            "identity": {"sourceIp": "127.0.0.1", "userAgent": request.headers.get("user-agent")},
            "path": path,
            "protocol": "HTTP/1.1",
            "requestId": context.request_id,
            "requestTime": context.now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(context.now.timestamp() * 1000),
            "resourcePath": resource,
            "routeKey": context.route_key,
            "stage": context.stage,
        },
        "pathParameters": dict(params) or None,
        "stageVariables": None,
        "body": body,
        "isBase64Encoded": encoded,
    }


def response_v2(payload: str) -> Response | None:
    """The response for a function's answer under format 2.0; None when API Gateway (or the
    function URL) could not read it (it then answers 500 / 502)."""
    try:
        result = json.loads(payload) if payload else None
    except ValueError:
        return None
    if result is None:
        return Response(200, "", {"Content-Type": JSON_TYPE})
    if not isinstance(result, dict) or "statusCode" not in result:
        body = result if isinstance(result, str) else json.dumps(result)
        return Response(200, body, {"Content-Type": JSON_TYPE})
    status = result["statusCode"]
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        return None
    headers: dict[str, str] = {}
    for name, value in (result.get("headers") or {}).items():
        if isinstance(value, bool):
            value = "true" if value else "false"
        if not isinstance(value, str | int | float):
            return None
        headers[str(name)] = str(value)
    text = result.get("body")
    if text is not None and not isinstance(text, str):
        return None
    cookies = result.get("cookies") or []
    if not isinstance(cookies, list) or not all(isinstance(c, str) for c in cookies):
        return None
    raw: bytes | None = None
    if result.get("isBase64Encoded") and text:
        try:
            raw = base64.b64decode(text, validate=True)
        except ValueError:
            return None
    return Response(status, text or "", headers, cookies=tuple(cookies), raw=raw)


def response_v1(payload: str) -> Response | None:
    """Format 1.0: the REST API's proxy result rules."""
    return proxy_response(payload)
