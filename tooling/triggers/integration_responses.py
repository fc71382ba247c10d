"""How API Gateway turns a non-proxy integration's answer into the method's response, for
`tool serve`: the integration response a Lambda error selects (its `selectionPattern`, a Java
regex matched against the whole `errorMessage`; a success, or an error no pattern matches, gets
the default response, the one without a pattern), or an HTTP or MOCK status selects (the
pattern matched against the status code) and the header values its
`responseParameters` map (`'static'`, `integration.response.body`, `integration.response.body.
<field>`, `integration.response.header.<name>`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import regex

HEADER_PREFIX = "method.response.header."
PATTERN_SECONDS = 1.0  # a selection pattern that backtracks longer selects nothing
BODY = "integration.response.body"
INTEGRATION_HEADER = "integration.response.header."


def lambda_error_message(payload: str) -> str:
    """The `errorMessage` of a Lambda error payload ("" when it has none)."""
    try:
        error = json.loads(payload)
    except ValueError:
        return ""
    message = error.get("errorMessage") if isinstance(error, dict) else None
    return message if isinstance(message, str) else ""


def select_response(
    responses: Sequence[Mapping[str, Any]], error_message: str | None
) -> Mapping[str, Any] | None:
    """The integration response for a Lambda answer: `error_message` None for a success."""
    default = next((r for r in responses if not r.get("selectionPattern")), None)
    if error_message is None:
        return default
    for response in responses:
        pattern = response.get("selectionPattern")
        if not pattern:
            continue
        try:
            if regex.fullmatch(str(pattern), error_message, timeout=PATTERN_SECONDS):
                return response
        except (regex.error, TimeoutError):
            continue  # API Gateway refuses such a pattern at deploy; none matches here
    return default


def select_status_response(
    responses: Sequence[Mapping[str, Any]], status: int
) -> Mapping[str, Any] | None:
    """The integration response for an HTTP (or MOCK) integration's status: the first whose
    pattern matches the status code, else the default."""
    for response in responses:
        pattern = response.get("selectionPattern")
        if not pattern:
            continue
        try:
            if regex.fullmatch(str(pattern), str(status), timeout=PATTERN_SECONDS):
                return response
        except (regex.error, TimeoutError):
            continue
    return next((r for r in responses if not r.get("selectionPattern")), None)


def mapped_headers(
    parameters: Mapping[str, Any], payload: str, headers: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The method response's headers a response's `responseParameters` give."""
    found: dict[str, str] = {}
    for key, value in parameters.items():
        if not key.startswith(HEADER_PREFIX) or not isinstance(value, str):
            continue
        name = key[len(HEADER_PREFIX) :]
        text = _mapped_value(value, payload, headers or {})
        if text is not None:
            found[name] = text
    return found


def _mapped_value(value: str, payload: str, headers: Mapping[str, str]) -> str | None:
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1]
    if value == BODY:
        return payload
    if value.startswith(BODY + "."):
        try:
            data: Any = json.loads(payload)
        except ValueError:
            return None
        for part in value[len(BODY) + 1 :].split("."):
            if not isinstance(data, dict) or part not in data:
                return None
            data = data[part]
        return data if isinstance(data, str) else json.dumps(data)
    if value.startswith(INTEGRATION_HEADER):
        wanted = value[len(INTEGRATION_HEADER) :].lower()
        return next((v for k, v in headers.items() if k.lower() == wanted), None)
    return None
