"""`tool serve`'s REST API authorizers, answered as API Gateway answers them:

- A Lambda authorizer that is a function of the service is invoked with API Gateway's event:
  TOKEN (`type`, `authorizationToken`, `methodArn`) or REQUEST (the request's headers, query,
  path parameters, stage variables and requestContext, with `type` and `methodArn`). A missing
  identity source, or a token `identityValidationExpression` does not match, is 401
  `{"message":"Unauthorized"}` without a call; so is the function failing with the message
  `Unauthorized`. Its policy is evaluated for the request's `methodArn`: an explicit Deny is
  403 `{"Message":"User is not authorized to access this resource with an explicit deny in an
  identity-based policy"}`, no Allow is 403 `{"Message":"User is not authorized to access this
  resource"}`. Any other failure, or an answer without `principalId` and `policyDocument`, or a
  `context` value that is not text, a number or a boolean, is 500 `{"message": null}`
  (AuthorizerConfigurationException). The answer's `principalId` and `context` reach the
  integration as `requestContext.authorizer` (context values as text, as REST APIs pass them).
  Answers are cached per identity for `authorizerResultTtlInSeconds` on the server's clock
  (the policy evaluated again for each request, as API Gateway evaluates a cached one).
- A Cognito user pool authorizer, or a Lambda authorizer calling a function outside the
  service, cannot be checked locally: a request without its identity source is 401 as on AWS,
  one with it passes unchecked (a Cognito token's claims read, not verified, from the JWT).
  Said when the server starts.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from tooling.errors import ToolError

UNAUTHORIZED = {"message": "Unauthorized"}
EXPLICIT_DENY = {
    "Message": "User is not authorized to access this resource with an explicit deny in an "
    "identity-based policy"
}
IMPLICIT_DENY = {"Message": "User is not authorized to access this resource"}
CONFIGURATION_ERROR = {"message": None}
_FUNCTION_IN_URI = re.compile(r"/functions/(?P<arn>arn:[^/]+)/invocations$")


class Answer(Protocol):
    @property
    def payload(self) -> str: ...

    @property
    def function_error(self) -> str | None: ...

    @property
    def timed_out(self) -> bool: ...


class Invokes(Protocol):
    def invoke(self, function_arn: str, payload: str) -> Answer: ...


@dataclass(frozen=True)
class Denied:
    """API Gateway's answer instead of the integration's."""

    status: int
    body: dict[str, Any]
    error_type: str


@dataclass(frozen=True)
class Allowed:
    """What the integration sees as `requestContext.authorizer`."""

    context: dict[str, Any]


def function_arn(authorizer: Mapping[str, Any]) -> str | None:
    """The function a Lambda authorizer calls (from its authorizerUri)."""
    match = _FUNCTION_IN_URI.search(str(authorizer.get("authorizerUri") or ""))
    return match.group("arn") if match else None


def identity_values(authorizer: Mapping[str, Any], sources: Mapping[str, Mapping[str, str]]
                    ) -> list[str] | None:  # fmt: skip
    """The values of the authorizer's identity sources in this request; None when one is
    missing or empty (API Gateway answers 401 without calling the authorizer)."""
    values: list[str] = []
    for source in str(authorizer.get("identitySource") or "").split(","):
        source = source.strip()
        if not source:
            continue
        for prefix, where in (("method.request.header.", "header"),
                              ("method.request.querystring.", "query"),
                              ("stageVariables.", "stage"), ("context.", "context")):  # fmt: skip
            if source.startswith(prefix):
                name = source[len(prefix) :]
                value = sources[where].get(name.lower() if where == "header" else name)
                if not value:
                    return None
                values.append(value)
                break
    return values


class LocalAuthorizers:
    """Runs the authorizers of one served API (thread-safe: the server answers in threads)."""

    def __init__(
        self,
        functions: Invokes | None,
        deployed_function: Callable[[str], bool],
        now: Callable[[], datetime],
    ) -> None:
        self.functions = functions
        self.deployed_function = deployed_function  # whether a function ARN is deployed here
        self.now = now
        self._cache: dict[tuple[str, tuple[str, ...]], tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def forget(self) -> None:
        """Drops every cached answer."""
        with self._lock:
            self._cache.clear()

    def checkable(self, authorizer: Mapping[str, Any]) -> bool:
        arn = function_arn(authorizer)
        return arn is not None and self.deployed_function(arn)

    def authorize(
        self,
        authorizer: Mapping[str, Any],
        sources: Mapping[str, Mapping[str, str]],
        method_arn: str,
        request_event: Callable[[], dict[str, Any]],
    ) -> Allowed | Denied:
        """`sources`: the request's headers (names in lower case), query, stage variables and
        context values; `request_event`: the REQUEST authorizer's event without `type` and
        `methodArn`."""
        kind = str(authorizer.get("type"))
        values = identity_values(authorizer, sources)
        if values is None:
            return Denied(401, UNAUTHORIZED, "UnauthorizedException")
        expression = authorizer.get("identityValidationExpression")
        if kind == "TOKEN" and expression and not re.fullmatch(str(expression), values[0]):
            return Denied(401, UNAUTHORIZED, "UnauthorizedException")
        if not self.checkable(authorizer):  # Cognito, or a function outside the service
            return Allowed(_unverified_claims(values[0]) if kind == "COGNITO_USER_POOLS" else {})
        ttl = int(authorizer.get("authorizerResultTtlInSeconds") or 0)
        key = (str(authorizer.get("id")), tuple(values))
        now = self.now().timestamp()
        with self._lock:
            cached = self._cache.get(key)
        if ttl > 0 and values and cached is not None and cached[0] > now:
            result = cached[1]
        else:
            event: dict[str, Any]
            if kind == "TOKEN":
                event = {"type": "TOKEN", "authorizationToken": values[0], "methodArn": method_arn}
            else:
                event = {"type": "REQUEST", "methodArn": method_arn, **request_event()}
            called = self._call(authorizer, event)
            if isinstance(called, Denied):
                return called
            result = called
            if ttl > 0 and values:
                with self._lock:
                    self._cache[key] = (now + ttl, result)
        return _decide(result, method_arn)

    def _call(
        self, authorizer: Mapping[str, Any], event: dict[str, Any]
    ) -> dict[str, Any] | Denied:
        failed = Denied(500, CONFIGURATION_ERROR, "AuthorizerConfigurationException")
        arn = function_arn(authorizer)
        if self.functions is None or arn is None:
            return failed
        try:
            answer = self.functions.invoke(arn, json.dumps(event))
        except ToolError:
            return failed
        if answer.timed_out:
            return failed
        try:
            result = json.loads(answer.payload)
        except ValueError:
            return failed
        if answer.function_error:
            message = result.get("errorMessage") if isinstance(result, dict) else None
            if message == "Unauthorized":
                return Denied(401, UNAUTHORIZED, "UnauthorizedException")
            return failed
        if (
            not isinstance(result, dict)
            or "principalId" not in result
            or not isinstance(result.get("policyDocument"), dict)
        ):
            return failed
        context = result.get("context") or {}
        if not isinstance(context, dict) or not all(
            isinstance(v, str | int | float | bool) or v is None for v in context.values()
        ):
            return failed
        return result


def _decide(result: Mapping[str, Any], method_arn: str) -> Allowed | Denied:
    allowed = False
    for statement in _listed(result["policyDocument"].get("Statement")):
        if not isinstance(statement, dict):
            continue
        actions = [str(a) for a in _listed(statement.get("Action"))]
        if not any(_matches(a, "execute-api:Invoke", ignore_case=True) for a in actions):
            continue
        resources = [str(r) for r in _listed(statement.get("Resource"))]
        if not any(_matches(r, method_arn) for r in resources):
            continue
        effect = str(statement.get("Effect", "")).capitalize()
        if effect == "Deny":
            return Denied(403, EXPLICIT_DENY, "AccessDeniedException")
        if effect == "Allow":
            allowed = True
    if not allowed:
        return Denied(403, IMPLICIT_DENY, "AccessDeniedException")
    context: dict[str, Any] = {"principalId": result["principalId"]}
    for name, value in (result.get("context") or {}).items():
        if isinstance(value, bool):
            value = "true" if value else "false"
        context[name] = None if value is None else str(value)
    if result.get("usageIdentifierKey") is not None:
        context["usageIdentifierKey"] = str(result["usageIdentifierKey"])
    return Allowed(context)


def _listed(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _matches(pattern: str, value: str, ignore_case: bool = False) -> bool:
    """IAM's wildcards: `*` any run of characters, `?` one (actions match in any case)."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, flags=re.IGNORECASE if ignore_case else 0) is not None


def _unverified_claims(token: str) -> dict[str, Any]:
    """A JWT's claims, read without checking its signature (a Cognito token cannot be checked
    locally); {} for anything that is not a JWT."""
    parts = token.removeprefix("Bearer ").split(".")
    if len(parts) != 3:
        return {}
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded))
    except ValueError:
        return {}
    if not isinstance(claims, dict):
        return {}
    return {"claims": {k: v if isinstance(v, str) else json.dumps(v) for k, v in claims.items()}}
