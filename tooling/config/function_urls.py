"""A function's `url` (Lambda function URL), read as Serverless v3 reads it
(lib/plugins/aws/package/compile/functions.js compileFunctionUrl): `url: true`, or
`{authorizer: aws_iam, cors: true | {...}, invokeMode: BUFFERED | RESPONSE_STREAM}`.

Serverless names it `<Function>LambdaFunctionUrl` (`Fn::GetAtt ... FunctionUrl`, `FunctionArn`)
and, when it takes no authorization, lets anyone invoke it (`lambda:InvokeFunctionUrl` for `*`
with FunctionUrlAuthType NONE). The URL exists only once Lambda made it: what reads it is
deployed after it (tooling/deploy/phases.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tooling.config.intrinsics import normalized_name
from tooling.errors import BadInput, ConfigError, Where
from tooling.sourcemap import pointer_join

URL_KEYS = frozenset({"authorizer", "cors", "invokeMode"})
CORS_KEYS = frozenset(
    {
        "allowCredentials", "allowedHeaders", "allowedMethods", "allowedOrigins",
        "exposedResponseHeaders", "maxAge",
    }
)  # fmt: skip
# Serverless' defaults for `cors: true` (functions.js defaultCors)
DEFAULT_CORS: dict[str, Any] = {
    "AllowOrigins": ["*"],
    "AllowHeaders": [
        "Content-Type", "X-Amz-Date", "Authorization", "X-Api-Key", "X-Amz-Security-Token",
        "X-Amzn-Trace-Id",
    ],
    "AllowMethods": ["*"],
}  # fmt: skip
_CORS_NAMES = {
    "allowedOrigins": "AllowOrigins",
    "allowedHeaders": "AllowHeaders",
    "allowedMethods": "AllowMethods",
}
INVOKE_MODES = ("BUFFERED", "RESPONSE_STREAM")


def url_logical_id(function_key: str) -> str:
    return f"{normalized_name(function_key)}LambdaFunctionUrl"


@dataclass(frozen=True)
class FunctionUrlSettings:
    """CreateFunctionUrlConfig's settings."""

    auth_type: str = "NONE"  # NONE | AWS_IAM
    cors: dict[str, Any] | None = None  # Lambda's Cors shape
    invoke_mode: str = "BUFFERED"

    def settings(self) -> dict[str, Any]:
        found: dict[str, Any] = {"AuthType": self.auth_type, "InvokeMode": self.invoke_mode}
        if self.cors:
            found["Cors"] = self.cors
        return found


def read_function_url(
    function_key: str,
    value: Any,
    pointer: str,
    at: Callable[[str], Where],
    problems: list[BadInput],
) -> FunctionUrlSettings | None:
    """`functions.<key>.url`; None when absent or false. On a problem (recorded: it blocks
    validate, plan and deploy) the defaults, so that what names the URL still resolves."""

    def problem(where: str, message: str, hint: str | None = None) -> None:
        problems.append(ConfigError(f"function '{function_key}': {message}", **at(where),
                                    hint=hint))  # fmt: skip

    if value is None or value is False:
        return None
    if value is True:
        return FunctionUrlSettings()
    if not isinstance(value, dict):
        problem(pointer, "url must be true or a mapping", "e.g. `url: true`")
        return FunctionUrlSettings()
    for key in value:
        if key not in URL_KEYS:
            problem(pointer_join(pointer, key), f"url key `{key}` is unknown",
                    "use authorizer, cors and invokeMode")  # fmt: skip
            return FunctionUrlSettings()
    authorizer = value.get("authorizer")
    if authorizer is not None and authorizer != "aws_iam":
        problem(pointer_join(pointer, "authorizer"),
                f"url authorizer {authorizer!r} is not `aws_iam` (the one Lambda has)",
                "use `authorizer: aws_iam`, or none for a public URL")  # fmt: skip
        return FunctionUrlSettings()
    mode = str(value.get("invokeMode") or "BUFFERED").upper()
    if mode not in INVOKE_MODES:
        problem(
            pointer_join(pointer, "invokeMode"),
            f"url invokeMode {value['invokeMode']!r} is not BUFFERED or RESPONSE_STREAM",
        )
        return FunctionUrlSettings()
    cors = _cors(value.get("cors"), pointer_join(pointer, "cors"), problem)
    if cors is False or cors is True:  # True never comes back; False: the problem is said
        return FunctionUrlSettings()
    return FunctionUrlSettings(
        auth_type="AWS_IAM" if authorizer else "NONE",
        cors=cors or None,
        invoke_mode=mode,
    )


def _cors(
    value: Any, pointer: str, problem: Callable[[str, str, str | None], None]
) -> dict[str, Any] | None | bool:
    if not value:
        return None
    cors: dict[str, Any] = {k: list(v) for k, v in DEFAULT_CORS.items()}
    if value is True:
        return cors
    if not isinstance(value, dict):
        problem(pointer, "url cors is true or a mapping", None)
        return False
    for key, spec in value.items():
        here = pointer_join(pointer, key)
        if key not in CORS_KEYS:
            problem(here, f"url cors key `{key}` is unknown", f"use {', '.join(sorted(CORS_KEYS))}")
            return False
        if key in _CORS_NAMES or key == "exposedResponseHeaders":
            if spec is None:  # Serverless: null removes the default
                cors.pop(_CORS_NAMES.get(key, ""), None)
                continue
            if not isinstance(spec, list) or not all(isinstance(s, str) for s in spec):
                problem(here, f"url cors.{key} must be a list of strings", None)
                return False
            name = _CORS_NAMES.get(key, "ExposeHeaders")
            cors[name] = list(dict.fromkeys(spec))
        elif key == "allowCredentials":
            if spec:
                cors["AllowCredentials"] = True
        elif spec is not None:  # maxAge
            if isinstance(spec, bool) or not isinstance(spec, int) or spec < 0:
                problem(here, "url cors.maxAge must be a number of seconds", None)
                return False
            cors["MaxAge"] = spec
    return cors
