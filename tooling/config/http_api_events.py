"""Functions' `httpApi` events and `provider.httpApi`, read as Serverless v3 reads them
(lib/plugins/aws/package/compile/events/http-api.js): one API Gateway v2 HTTP API per service
and stage, a route per event (`METHOD /path`, or `*`: the `$default` route) with the Lambda
proxy integration (AWS_PROXY, payload format 2.0 unless `payload: '1.0'`), JWT and Lambda
(`request`) authorizers from `provider.httpApi.authorizers`, CORS, and `id` (an existing API
the routes are added to).

What Serverless refuses is a problem at its line. tooling.config.function_events dispatches
the function events here; tooling.config.service reads `provider.httpApi` with
`read_http_api_settings`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from tooling.config.events import Location
from tooling.config.function_messages import FunctionMessages
from tooling.errors import BadInput, ConfigError, Where
from tooling.sourcemap import pointer_join

HTTP_API_LOGICAL_ID = "HttpApi"  # Serverless' logical id of the API (naming.getHttpApiLogicalId)
ALLOWED_METHODS = ("ANY", "GET", "POST", "PUT", "PATCH", "OPTIONS", "HEAD", "DELETE")
_METHOD_PATH = re.compile(r"^(?:\*|(" + "|".join(ALLOWED_METHODS) + r") (/\S*))$", re.IGNORECASE)
_PATH = re.compile(r"^(?:\*|/\S*)$")
EVENT_KEYS = frozenset({"authorizer", "method", "path"})
AUTHORIZER_REF_KEYS = frozenset({"id", "name", "scopes", "type"})
SETTINGS_KEYS = frozenset(
    {
        "authorizers", "cors", "disableDefaultEndpoint", "id", "metrics", "name", "payload",
        "shouldStartNameWithService", "useProviderTags",
    }
)  # fmt: skip  # Serverless v3 provider schema, httpApi
AUTHORIZER_KEYS = frozenset(
    {
        "type", "functionName", "functionArn", "managedExternally", "name", "resultTtlInSeconds",
        "enableSimpleResponses", "payloadVersion", "identitySource", "issuerUrl", "audience",
    }
)  # fmt: skip
CORS_KEYS = frozenset(
    {
        "allowCredentials", "allowedHeaders", "allowedMethods", "allowedOrigins",
        "exposedResponseHeaders", "maxAge",
    }
)  # fmt: skip
DEFAULT_CORS_HEADERS = (
    "Content-Type", "X-Amz-Date", "Authorization", "X-Api-Key", "X-Amz-Security-Token",
    "X-Amz-User-Agent", "X-Amzn-Trace-Id",
)  # fmt: skip
PAYLOAD_VERSIONS = ("1.0", "2.0")
EXISTING_HTTP_API = "id:"  # the deployed record of an existing API is named "id:<its id>"
HTTP_API_TIMEOUT_SECONDS = 30  # API Gateway HTTP APIs' integration timeout


@dataclass(frozen=True)
class HttpApiEvent:
    """`events: - httpApi:` of a function: one route of the service's HTTP API."""

    method: str  # ANY for `*`
    path: str  # "/users/{id}", or "*" for the $default route
    authorizer: str | None = None  # the name of a provider.httpApi authorizer
    authorizer_id: str | None = None  # an authorizer of an existing API (`id`)
    authorization_type: str = "NONE"  # NONE | JWT | AWS_IAM
    scopes: tuple[str, ...] = ()
    location: Location = (None, None, None)

    @property
    def route_key(self) -> str:
        """API Gateway's RouteKey: "GET /path", or "$default"."""
        return "$default" if self.path == "*" else f"{self.method} {self.path}"


@dataclass(frozen=True)
class JwtAuthorizer:
    """A JWT authorizer of provider.httpApi.authorizers (CreateAuthorizer's settings)."""

    name: str
    identity_source: tuple[str, ...]
    issuer_url: str
    audience: tuple[str, ...]

    def settings(self) -> dict[str, Any]:
        return {
            "Name": self.name,
            "AuthorizerType": "JWT",
            "IdentitySource": list(self.identity_source),
            "JwtConfiguration": {"Audience": list(self.audience), "Issuer": self.issuer_url},
        }


@dataclass(frozen=True)
class RequestAuthorizer:
    """A Lambda (`type: request`) authorizer of provider.httpApi.authorizers: the function
    (`functionName` of this service, or `functionArn`) API Gateway calls before the route's."""

    name: str
    function_arn: str
    identity_source: tuple[str, ...] = ()
    result_ttl: int | None = None
    simple_responses: bool | None = None
    payload_version: str | None = "2.0"  # None for a WebSocket API's (HTTP APIs' setting)
    managed_externally: bool = False  # its permission for API Gateway is someone else's

    def settings(self) -> dict[str, Any]:
        partition, region = self.function_arn.split(":")[1], self.function_arn.split(":")[3]
        found: dict[str, Any] = {
            "Name": self.name,
            "AuthorizerType": "REQUEST",
            "IdentitySource": list(self.identity_source),
            "AuthorizerUri": f"arn:{partition}:apigateway:{region}:lambda:path/2015-03-31/"
            f"functions/{self.function_arn}/invocations",
        }
        if self.payload_version is not None:
            found["AuthorizerPayloadFormatVersion"] = self.payload_version
        if self.simple_responses is not None:
            found["EnableSimpleResponses"] = self.simple_responses
        if self.result_ttl is not None:
            found["AuthorizerResultTtlInSeconds"] = self.result_ttl
        return found


Authorizer = JwtAuthorizer | RequestAuthorizer


@dataclass(frozen=True)
class HttpApiSettings:
    """provider.httpApi, with what the routes add to it (CORS methods)."""

    name: str
    existing_id: str | None = None
    cors: dict[str, Any] | None = None  # CreateApi's CorsConfiguration
    authorizers: dict[str, Authorizer] = field(default_factory=dict)  # key -> authorizer
    payload: str = "2.0"
    disable_default_endpoint: bool | None = None
    metrics: bool = False

    @property
    def address_name(self) -> str:
        """The name the API is deployed and recorded under."""
        if self.existing_id is not None:
            return EXISTING_HTTP_API + self.existing_id
        return self.name


Locate = Callable[[str], Where]


@dataclass
class HttpApiEventReader(FunctionMessages):
    """Reads one function's `httpApi` events (the checks that need every route, such as
    duplicates and authorizer names, are `read_http_api_settings`')."""

    function_key: str
    at: Locate
    warnings: list[str]
    problems: list[BadInput]

    def read(self, value: Any, pointer: str) -> HttpApiEvent | None:
        method: Any
        path: Any
        authorizer: Any = None
        if isinstance(value, dict):
            for key in value:
                if key not in EVENT_KEYS:
                    self._problem(
                        pointer_join(pointer, key),
                        f"httpApi key `{key}` is unknown to Serverless",
                        "use path, method and authorizer",
                    )
                    return None
            method, path, authorizer = (
                value.get("method"),
                value.get("path"),
                value.get("authorizer"),
            )
            if path is None:
                self._problem(pointer, "an httpApi event needs a `path`", "e.g. `path: /users`")
                return None
            path = str(path)
            if not _PATH.match(path):
                self._problem(
                    pointer_join(pointer, "path"),
                    f"httpApi path {path!r} must be `*` or start with `/`",
                    "e.g. `path: /users/{id}`",
                )
                return None
        elif isinstance(value, str):
            match = _METHOD_PATH.match(value.strip())
            if match is None:
                self._problem(
                    pointer,
                    f"httpApi event {value!r} is not `METHOD /path` or `*`",
                    "e.g. `- httpApi: 'GET /users/{id}'`",
                )
                return None
            method, path = (match.group(1), match.group(2)) if match.group(1) else (None, "*")
        else:
            self._problem(
                pointer,
                "an httpApi event is `METHOD /path`, `*` or a mapping with path and method",
                "e.g. `- httpApi: 'GET /users'`",
            )
            return None
        if path == "*":
            if method is not None and str(method) != "*":
                self._problem(
                    pointer_join(pointer, "path"),
                    "httpApi path `*` (the $default route) takes no method but `*`",
                    "remove `method`, or give a path",
                )
                return None
            method = "ANY"
        else:
            if method is None:
                self._problem(pointer, "an httpApi event needs a `method`", "e.g. `method: get`")
                return None
            method = str(method).upper()
            if method == "*":
                method = "ANY"
            if method not in ALLOWED_METHODS:
                self._problem(
                    pointer_join(pointer, "method"),
                    f"httpApi method {method!r} is not one of {', '.join(ALLOWED_METHODS)}, *",
                    None,
                )
                return None
        event = HttpApiEvent(method=method, path=path, location=self._location(pointer))
        if authorizer is None:
            return event
        return self._authorizer(event, authorizer, pointer_join(pointer, "authorizer"))

    def _authorizer(self, event: HttpApiEvent, value: Any, pointer: str) -> HttpApiEvent | None:
        spec = value if isinstance(value, dict) else {"name": value}
        for key in spec:
            if key not in AUTHORIZER_REF_KEYS:
                self._problem(pointer_join(pointer, key), f"authorizer key `{key}` is unknown",
                              "use name (or id), scopes and type")  # fmt: skip
                return None
        kind = spec.get("type")
        name, ref_id, scopes = spec.get("name"), spec.get("id"), spec.get("scopes")
        if kind not in (None, "jwt", "request", "aws_iam"):
            self._problem(
                pointer_join(pointer, "type"),
                f"authorizer type {kind!r} is not jwt, request or aws_iam",
                None,
            )
            return None
        if kind == "aws_iam":
            if name or ref_id or scopes:
                self._problem(
                    pointer,
                    'with type "aws_iam", an authorizer takes no other property',
                    "remove name, id and scopes",
                )
                return None
            return _with(event, authorization_type="AWS_IAM")
        if not name and not ref_id:
            self._problem(pointer, f'an authorizer of type "{kind or "jwt"}" needs `name` or `id`',
                          "name one of provider.httpApi.authorizers")  # fmt: skip
            return None
        if scopes is not None and not (
            isinstance(scopes, list) and all(isinstance(s, str) for s in scopes)
        ):
            self._problem(pointer_join(pointer, "scopes"), "authorizer scopes must be a list",
                          "e.g. `scopes: [user.read]`")  # fmt: skip
            return None
        if ref_id is not None and not isinstance(ref_id, str):
            self._problem(pointer_join(pointer, "id"), "authorizer `id` must be a string", None)
            return None
        return _with(
            event,
            authorizer=str(name) if name and not ref_id else None,
            authorizer_id=ref_id,
            # by name: the provider authorizer's type decides (tooling.deploy.http_api_resources)
            authorization_type="CUSTOM" if kind == "request" else "JWT",
            scopes=tuple(scopes or ()),
        )

    def _location(self, pointer: str) -> Location:
        where = self.at(pointer)
        return (where.get("file"), where.get("line"), where.get("column"))


def _with(event: HttpApiEvent, **changes: Any) -> HttpApiEvent:
    return replace(event, **changes)


def _strings(value: Any) -> tuple[str, ...] | None:
    """A string or a list of strings, as a tuple; None for anything else."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None


@dataclass
class _SettingsReader:
    at: Locate
    warnings: list[str]
    problems: list[BadInput]

    def problem(self, pointer: str, message: str, hint: str | None = None) -> None:
        self.problems.append(ConfigError(message, **self.at(pointer), hint=hint))

    def warn(self, pointer: str, message: str) -> None:
        where = self.at(pointer)
        place = ":".join(
            str(p) for p in (where.get("file"), where.get("line"), where.get("column")) if p
        )
        self.warnings.append(f"{place}: {message}")


def read_http_api_settings(
    value: Any,
    routes: Mapping[str, tuple[HttpApiEvent, ...]],
    timeouts: Mapping[str, int | None],
    *,
    function_arns: Mapping[str, str] | None = None,
    service: str,
    stage: str,
    at: Locate,
    warnings: list[str],
    problems: list[BadInput],
) -> HttpApiSettings | None:
    """provider.httpApi (`value`, None when absent) checked against the functions' routes
    (function key -> its httpApi events); None when no function has an httpApi event."""
    reader = _SettingsReader(at, warnings, problems)
    pointer = "/provider/httpApi"
    function_arns = function_arns or {}
    if value is not None and not isinstance(value, dict):
        reader.problem(
            pointer, "provider.httpApi must be a mapping", "e.g. `httpApi: {cors: true}`"
        )
        return None
    config: dict[str, Any] = dict(value or {})
    if not any(routes.values()):
        if config:
            reader.warn(pointer, "provider.httpApi is ignored: no function has an httpApi event")
        return None
    for key in config:
        if key not in SETTINGS_KEYS:
            reader.warn(pointer_join(pointer, key), f"provider.httpApi.{key} is unknown (ignored)")
    if config.get("useProviderTags") is not None:
        reader.warn(
            pointer_join(pointer, "useProviderTags"),
            "provider.httpApi.useProviderTags no longer has an effect (Serverless v3 says so too)",
        )
    existing = config.get("id")
    if existing is not None and not isinstance(existing, str):
        reader.problem(pointer_join(pointer, "id"), "provider.httpApi.id must be an API's id",
                       "e.g. `id: a1b2c3d4e5`")  # fmt: skip
        return None
    name = config.get("name")
    if name is None:
        name = (
            f"{service}-{stage}"
            if config.get("shouldStartNameWithService")
            else (f"{stage}-{service}")
        )
    payload = str(config.get("payload", "2.0"))
    if payload not in PAYLOAD_VERSIONS:
        reader.problem(pointer_join(pointer, "payload"),
                       f"provider.httpApi.payload {payload!r} is not '1.0' or '2.0'",
                       "quote it: `payload: '1.0'`")  # fmt: skip
        return None
    for key in ("metrics", "disableDefaultEndpoint"):
        if config.get(key) is not None and not isinstance(config[key], bool):
            reader.problem(
                pointer_join(pointer, key), f"provider.httpApi.{key} must be true or false"
            )
            return None
    cors = _cors(reader, config.get("cors"), pointer_join(pointer, "cors"), routes)
    if cors is False or cors is True:  # True never comes back; False: a problem was said
        return None
    if existing is not None:
        for key in ("cors", "authorizers"):
            if config.get(key):
                reader.problem(
                    pointer_join(pointer, key),
                    f"provider.httpApi.{key} cannot be set up for an existing HTTP API (`id`)",
                    "set it on that API where it is defined, or drop `id`",
                )
                return None
        for key in ("name", "disableDefaultEndpoint", "metrics"):
            if config.get(key) is not None:
                reader.warn(pointer_join(pointer, key),
                            f"provider.httpApi.{key} does not apply to an existing API (`id`; "
                            "ignored, as Serverless ignores it)")  # fmt: skip
    authorizers = _authorizers(
        reader, config.get("authorizers"), pointer_join(pointer, "authorizers"), function_arns
    )
    if authorizers is None:
        return None
    if not _check_routes(reader, routes, authorizers, existing is not None):
        return None
    for key, events in routes.items():
        timeout = timeouts.get(key) or 6
        if events and timeout >= HTTP_API_TIMEOUT_SECONDS:
            warnings.append(
                f"function '{key}': timeout {timeout} s "
                + ("is over" if timeout > HTTP_API_TIMEOUT_SECONDS else "leaves no room under")
                + " the HTTP API's 30 s integration timeout: the endpoint may time out on a call "
                "that succeeds"
            )
    return HttpApiSettings(
        name=str(name),
        existing_id=existing,
        cors=cors or None,
        authorizers=authorizers,
        payload=payload,
        disable_default_endpoint=config.get("disableDefaultEndpoint"),
        metrics=bool(config.get("metrics")),
    )


def _cors(
    reader: _SettingsReader,
    value: Any,
    pointer: str,
    routes: Mapping[str, tuple[HttpApiEvent, ...]],
) -> dict[str, Any] | None | bool:
    """CreateApi's CorsConfiguration, as Serverless builds it; False on a problem."""
    if not value:
        return None
    fill_methods = False
    origins: tuple[str, ...]
    headers: tuple[str, ...]
    methods: tuple[str, ...] | None
    if value is True:
        origins, headers, methods = ("*",), DEFAULT_CORS_HEADERS, None
        fill_methods = True
        spec: dict[str, Any] = {}
    elif isinstance(value, dict):
        spec = value
        for key in spec:
            if key not in CORS_KEYS:
                reader.warn(
                    pointer_join(pointer, key), f"httpApi cors key `{key}` is unknown (ignored)"
                )
        found: dict[str, tuple[str, ...] | None] = {}
        for key in ("allowedOrigins", "allowedHeaders", "allowedMethods", "exposedResponseHeaders"):
            if spec.get(key) is None:
                found[key] = None
                continue
            found[key] = _strings(spec[key])
            if found[key] is None:
                reader.problem(pointer_join(pointer, key), f"cors.{key} must be a list of strings")
                return False
        origins = found["allowedOrigins"] or ("*",)
        headers = found["allowedHeaders"] or DEFAULT_CORS_HEADERS
        methods = found["allowedMethods"]
        fill_methods = methods is None
        max_age = spec.get("maxAge")
        if max_age is not None and (isinstance(max_age, bool) or not isinstance(max_age, int)):
            reader.problem(
                pointer_join(pointer, "maxAge"), "cors.maxAge must be a number of seconds"
            )
            return False
    else:
        reader.problem(pointer, "provider.httpApi.cors is true or a mapping")
        return False
    if fill_methods:
        filled = ["OPTIONS"]
        for events in routes.values():
            for event in events:
                for method in ALLOWED_METHODS[1:] if event.method == "ANY" else (event.method,):
                    if method not in filled:
                        filled.append(method)
        methods = tuple(filled)
    cors: dict[str, Any] = {
        "AllowHeaders": list(headers),
        "AllowMethods": list(methods or ()),
        "AllowOrigins": list(origins),
    }
    if spec.get("allowCredentials"):
        cors["AllowCredentials"] = True
    if spec.get("exposedResponseHeaders"):
        cors["ExposeHeaders"] = list(_strings(spec["exposedResponseHeaders"]) or ())
    if spec.get("maxAge") is not None:
        cors["MaxAge"] = spec["maxAge"]
    return cors


def _authorizers(
    reader: _SettingsReader, value: Any, pointer: str, function_arns: Mapping[str, str]
) -> dict[str, Authorizer] | None:
    if value is None:
        return {}
    if not isinstance(value, dict):
        reader.problem(pointer, "provider.httpApi.authorizers must map names to authorizers")
        return None
    found: dict[str, Authorizer] = {}
    for key, spec in value.items():
        here = pointer_join(pointer, key)
        if not isinstance(spec, dict):
            reader.problem(here, f"authorizer {key!r} must be a mapping")
            return None
        for name in spec:
            if name not in AUTHORIZER_KEYS:
                reader.warn(
                    pointer_join(here, name), f"authorizer key `{name}` is unknown (ignored)"
                )
        if spec.get("type") == "request":
            request = _request_authorizer(reader, str(key), spec, here, function_arns)
            if request is None:
                return None
            found[str(key)] = request
            continue
        if spec.get("type") not in (None, "jwt"):
            reader.problem(
                pointer_join(here, "type"),
                f"authorizer {key!r}: type {spec.get('type')!r} is not jwt or request",
            )
            return None
        sources = _strings(spec.get("identitySource"))
        audience = _strings(spec.get("audience"))
        issuer = spec.get("issuerUrl")
        for name, ok in (("identitySource", sources), ("issuerUrl", isinstance(issuer, str)),
                         ("audience", audience)):  # fmt: skip
            if not ok:
                reader.problem(
                    pointer_join(here, name) if name in spec else here,
                    f"JWT authorizer {key!r} needs `{name}`"
                    + (" (a string or a list of strings)" if name != "issuerUrl" else ""),
                    "e.g. identitySource: $request.header.Authorization, issuerUrl: "
                    "https://cognito-idp.<region>.amazonaws.com/<pool>, audience: [<client id>]",
                )
                return None
        assert sources is not None and audience is not None
        found[str(key)] = JwtAuthorizer(
            str(spec.get("name") or key), sources, str(issuer), audience
        )
    return found


def _request_authorizer(
    reader: _SettingsReader,
    key: str,
    spec: Mapping[str, Any],
    here: str,
    function_arns: Mapping[str, str],
) -> RequestAuthorizer | None:
    """As Serverless checks one: `functionName` (of this service) or `functionArn`, not both;
    `identitySource` when results are cached."""
    function_name, function_arn = spec.get("functionName"), spec.get("functionArn")
    if bool(function_name) == bool(function_arn):
        reader.problem(
            here,
            f'Either "functionArn" or "functionName" (not both) needs to be set on authorizer '
            f'"{key}"',
            "name the authorizer function: `functionName: <function key>`",
        )
        return None
    if function_name:
        arn = function_arns.get(str(function_name))
        if arn is None:
            reader.problem(
                pointer_join(here, "functionName"),
                f'Function "{function_name}" for HTTP API authorizer "{key}" not found in service',
                "functions of this service: " + (", ".join(function_arns) or "none"),
            )
            return None
    elif not isinstance(function_arn, str):
        reader.problem(pointer_join(here, "functionArn"),
                       f"authorizer {key!r}: functionArn must be an ARN (text)")  # fmt: skip
        return None
    else:
        arn = function_arn
    sources = _strings(spec.get("identitySource")) if spec.get("identitySource") else ()
    if sources is None:
        reader.problem(
            pointer_join(here, "identitySource"),
            f"authorizer {key!r}: identitySource is a string or a list of strings",
        )
        return None
    ttl = spec.get("resultTtlInSeconds")
    if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int) or ttl < 0):
        reader.problem(
            pointer_join(here, "resultTtlInSeconds"),
            f"authorizer {key!r}: resultTtlInSeconds must be a number of seconds",
        )
        return None
    if ttl and not sources:
        reader.problem(
            here,
            f'Property "identitySource" has to be set on authorizer "{key}" when '
            '"resultTtlInSeconds" is set to non-zero value.',
            "e.g. identitySource: $request.header.Authorization",
        )
        return None
    version = str(spec.get("payloadVersion") or "2.0")
    if version not in PAYLOAD_VERSIONS:
        reader.problem(
            pointer_join(here, "payloadVersion"),
            f"authorizer {key!r}: payloadVersion {version!r} is not '1.0' or '2.0'",
        )
        return None
    simple = spec.get("enableSimpleResponses")
    return RequestAuthorizer(
        name=str(spec.get("name") or key),
        function_arn=arn,
        identity_source=sources,
        result_ttl=ttl,
        simple_responses=bool(simple) if simple is not None else None,
        payload_version=version,
        managed_externally=bool(spec.get("managedExternally")),
    )


def _check_routes(
    reader: _SettingsReader,
    routes: Mapping[str, tuple[HttpApiEvent, ...]],
    authorizers: Mapping[str, Authorizer],
    existing: bool,
) -> bool:
    seen: dict[str, str] = {}
    for key, events in routes.items():
        for event in events:
            file, line, column = event.location
            where: Where = {"file": file, "line": line, "column": column}
            if event.route_key in seen:
                reader.problems.append(ConfigError(
                    f"function '{key}': duplicate httpApi route '{event.route_key}' (function "
                    f"'{seen[event.route_key]}' has it already)", **where,
                    hint="each method and path goes to one function",
                ))  # fmt: skip
                return False
            seen.setdefault(event.route_key, key)
            if event.authorizer_id is not None and not existing:
                reader.problems.append(ConfigError(
                    f"function '{key}': the httpApi event names an existing authorizer "
                    f"({event.authorizer_id!r}), but the HTTP API is the service's own",
                    **where, hint="name one of provider.httpApi.authorizers, or set "
                    "provider.httpApi.id to the existing API",
                ))  # fmt: skip
                return False
            if event.authorizer is not None and event.authorizer not in authorizers:
                reader.problems.append(ConfigError(
                    f"function '{key}': the httpApi event names authorizer "
                    f"{event.authorizer!r}, which provider.httpApi.authorizers does not define",
                    **where, hint="define it under provider.httpApi.authorizers"
                    + (f" (defined: {', '.join(sorted(authorizers))})" if authorizers else ""),
                ))  # fmt: skip
                return False
    return True
