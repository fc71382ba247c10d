"""A function's `http` events, read as Serverless v3 reads them
(lib/plugins/aws/package/compile/events/api-gateway, v3.40): an API Gateway REST API method with
the Lambda proxy integration (AWS_PROXY), in the REST API the service shares with the state
machines' http events (one per service and stage). Read: `METHOD path` or a mapping with
`path`, `method` (`any` too), `cors` (true or a mapping), `private`, `authorizer` (`aws_iam`, an
existing authorizer, or one the deploy makes from a function, a Lambda ARN or a Cognito user pool:
tooling.config.rest_authorizers) and `request.parameters`; `integration: lambda`, `http`,
`http-proxy`, `mock` and `async: true` are read by function_http_integrations.
Keys Serverless drops for the proxy integration (`response`, `request.template`, ...) are warned
about, as it does. tooling.config.function_events dispatches to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tooling.config.events import (
    CORS_KEYS,
    DEFAULT_CORS_HEADERS,
    UNRESOLVED,
    Cors,
    EventsReader,
    Location,
)
from tooling.config.function_http_integrations import (
    NON_PROXY,
    NonProxyIntegration,
    integration_type,
    read_integration,
)
from tooling.config.rest_authorizers import Authorization, RestAuthorizer, read_authorization
from tooling.sourcemap import pointer_join

# Serverless v3 `http` event schema (api-gateway/index.js): every key it allows.
HTTP_EVENT_KEYS = frozenset(
    {
        "async", "authorizer", "connectionId", "connectionType", "cors", "integration",
        "method", "operationId", "path", "private", "request", "response",
    }
)  # fmt: skip
# getCors: the headers a preflight allows unless `headers` says otherwise (v3.40).
FUNCTION_CORS_HEADERS = (*DEFAULT_CORS_HEADERS, "X-Amzn-Trace-Id")
PROXY_INTEGRATIONS = ("LAMBDA_PROXY", "LAMBDA-PROXY", "AWS_PROXY", "AWS-PROXY")
# request.parameters locations, and the name API Gateway gives each (method.request.<x>.<name>)
PARAMETER_LOCATIONS = {"querystrings": "querystring", "headers": "header", "paths": "path"}


@dataclass(frozen=True)
class FunctionHttpEvent:
    """`events: - http:` of a function: a method with the Lambda proxy integration."""

    path: str  # without leading or trailing "/"; "" is the root
    method: str  # GET, POST, ... or ANY
    cors: Cors | None = None
    private: bool = False
    authorization_type: str = "NONE"  # NONE | AWS_IAM | CUSTOM | COGNITO_USER_POOLS
    authorizer_id: str | None = None
    authorization_scopes: tuple[str, ...] = ()
    authorizer: RestAuthorizer | None = None  # one the deploy makes (its name on the API)
    # method.request.<querystring|header|path>.<name> -> required
    request_parameters: dict[str, bool] = field(default_factory=dict)
    location: Location = (None, None, None)
    # `integration: lambda|http|http-proxy|mock`, `async: true` (function_http_integrations);
    # None: the Lambda proxy integration
    integration: NonProxyIntegration | None = None


@dataclass
class HttpEventReader(EventsReader):
    """Reads a function's `http` events. Built as EventsReader is (`machine_key` is the
    function's key), so the http parts they share are read once (`for_function`)."""

    @property
    def subject(self) -> str:
        return f"function '{self.machine_key}'"

    # -- http -----------------------------------------------------------------------------------

    def function_http(self, value: Any, at: str) -> FunctionHttpEvent | None:
        if isinstance(value, str):
            method_word, _, path_word = value.strip().partition(" ")
            value = {"method": method_word, "path": path_word.strip()}
        if not isinstance(value, dict):
            self.problem(
                at,
                "an http event must be `METHOD path` or a mapping with path and method",
                hint="e.g. `- http: GET users/{id}`",
            )
            return None
        for key in value:
            if key not in HTTP_EVENT_KEYS:
                self.warn(
                    pointer_join(at, key),
                    f"http key `{key}` is unknown to Serverless (ignored)",
                )
        kind = integration_type(value)
        proxy = kind not in NON_PROXY
        if proxy and not self._proxy_only(value, at):
            return None
        route = self.route(value, at, "users/{id}")
        if route is None:
            return None
        path, method = route
        cors = None
        if value.get("cors"):
            cors = self._function_cors(value["cors"], pointer_join(at, "cors"), method)
            if cors is None:
                return None
        authorization = self._function_authorizer(
            value.get("authorizer"), pointer_join(at, "authorizer"), proxy
        )
        if authorization is None:
            return None
        private = value.get("private", False)
        if not isinstance(private, bool):
            self.problem(pointer_join(at, "private"), "http `private` must be true or false")
            return None
        parameters = self._request_parameters(
            value.get("request"), pointer_join(at, "request"), proxy
        )
        if parameters is None:
            return None
        integration = None
        if not proxy:
            integration = read_integration(
                kind, value, at, self.problem, self.warn, pointer_join,
                cors.origin if cors else None, bool(cors and cors.allow_credentials),
            )  # fmt: skip
            if integration is None:
                return None
        if value.get("operationId") is not None:
            self.warn(
                pointer_join(at, "operationId"),
                "http `operationId` (the method's OperationName) is not deployed by the toolkit "
                "yet (ignored)",
            )
        return FunctionHttpEvent(
            path=path,
            method=method,
            cors=cors,
            private=private,
            authorization_type=authorization.type,
            authorizer_id=authorization.authorizer_id,
            authorization_scopes=authorization.scopes,
            authorizer=authorization.authorizer,
            request_parameters=parameters,
            location=self.location(at),
            integration=integration,
        )

    def _proxy_only(self, value: Mapping[str, Any], at: str) -> bool:
        """The Lambda proxy integration is what the toolkit deploys; the others are refused,
        and what Serverless drops for it is warned about."""
        integration = value.get("integration")
        if integration is not None and str(integration).upper() not in PROXY_INTEGRATIONS:
            self.problem(
                pointer_join(at, "integration"),
                f"http integration {integration!r} is not one of Serverless' (lambda-proxy, "
                "lambda, http, http-proxy, mock)",
                hint="remove `integration` for the Lambda proxy integration",
            )
            return False
        if value.get("async"):
            self.problem(
                pointer_join(at, "async"),
                "http `async: true` goes with the Lambda integration (`integration: lambda`); "
                "Serverless does not invoke a Lambda proxy integration asynchronously",
                hint="remove `integration` (async then means the Lambda integration) or `async`",
            )
            return False
        for key in ("connectionId", "connectionType"):
            if key in value:
                self.warn(
                    pointer_join(at, key),
                    f"http `{key}` applies to HTTP integrations only (ignored, as Serverless "
                    "ignores it for the Lambda proxy integration)",
                )
        if value.get("response") is not None:
            self.warn(
                pointer_join(at, "response"),
                "http `response` does not apply to the Lambda proxy integration (ignored; "
                "Serverless removes it too): the handler's result is the response",
            )
        return True

    def _request_parameters(
        self, request: Any, at: str, proxy: bool = True
    ) -> dict[str, bool] | None:
        if request is None:
            return {}
        if not isinstance(request, dict):
            self.problem(at, "http `request` must be a mapping")
            return None
        for key in request:
            if key == "parameters" or not proxy:  # the Lambda integration's: its own reader
                continue
            if key in ("schemas", "schema"):
                self.warn(
                    pointer_join(at, key),
                    "request schemas (API Gateway request validation) are not deployed by the "
                    "toolkit yet (ignored: requests are not validated)",
                )
            else:
                self.warn(
                    pointer_join(at, key),
                    f"request.{key} does not apply to the Lambda proxy integration (ignored; "
                    "Serverless removes it too)",
                )
        parameters = request.get("parameters")
        if parameters is None:
            return {}
        where = pointer_join(at, "parameters")
        if not isinstance(parameters, dict):
            self.problem(where, "request.parameters must be a mapping")
            return None
        found: dict[str, bool] = {}
        for location, names in parameters.items():
            here = pointer_join(where, location)
            if location not in PARAMETER_LOCATIONS:
                self.problem(
                    here,
                    f"request.parameters.{location} is not a parameter location",
                    hint="use " + ", ".join(PARAMETER_LOCATIONS),
                )
                return None
            if not isinstance(names, dict):
                self.problem(here, f"request.parameters.{location} maps names to true or false")
                return None
            for name, spec in names.items():
                if isinstance(spec, dict):
                    required = spec.get("required", True)
                    if "mappedValue" in spec and proxy:
                        self.warn(
                            pointer_join(here, name),
                            "mappedValue applies to HTTP and AWS integrations only (ignored, as "
                            "Serverless ignores it for the Lambda proxy integration)",
                        )
                else:
                    required = spec
                if not isinstance(required, bool):
                    self.problem(
                        pointer_join(here, name),
                        f"request parameter {name!r} must be true, false or {{required: ...}}",
                    )
                    return None
                found[f"method.request.{PARAMETER_LOCATIONS[location]}.{name}"] = required
        return found

    def _function_cors(self, value: Any, at: str, method: str) -> Cors | None:
        """Serverless' getCors: `true`, or a mapping laid over its defaults."""
        if value is True:
            return Cors("*", FUNCTION_CORS_HEADERS, ("OPTIONS", method), False,
                        credentials_always=False)  # fmt: skip
        if not isinstance(value, dict):
            self.problem(at, "http `cors` is true or a mapping")
            return None
        for key in value:
            if key not in CORS_KEYS:
                self.warn(pointer_join(at, key), f"cors key `{key}` is unknown (ignored)")
        headers = value.get("headers", list(FUNCTION_CORS_HEADERS))
        if isinstance(headers, str):
            headers = [headers]
        if not isinstance(headers, list) or not all(isinstance(h, str) for h in headers):
            self.problem(pointer_join(at, "headers"), "CORS headers must be a list of names")
            return None
        methods = [str(m).upper() for m in value.get("methods") or []]
        for extra in ("OPTIONS", method):
            if extra not in methods:
                methods.append(extra)
        origins = value.get("origins")
        origin = value.get("origin")
        if isinstance(origins, list) and origins:
            origin = ",".join(str(o) for o in origins)
        max_age = value.get("maxAge")
        if max_age is not None and (
            isinstance(max_age, bool) or not isinstance(max_age, int) or max_age <= 0
        ):
            self.problem(pointer_join(at, "maxAge"), "maxAge should be an integer over 0")
            return None
        cache = value.get("cacheControl")
        return Cors(
            origin=str(origin or "*"),
            headers=tuple(headers),
            methods=tuple(methods),
            allow_credentials=bool(value.get("allowCredentials")),
            max_age=max_age,
            cache_control=str(cache) if cache else None,
            credentials_always=False,
        )

    def _function_authorizer(self, value: Any, at: str, proxy: bool = True) -> Authorization | None:
        """The method's authorization, as Serverless' getAuthorizer and getMethodAuthorization
        give it (tooling.config.rest_authorizers)."""

        def resolve(raw: Any, where: str) -> Any:
            answer = self.resolve(raw, where, f"{self.subject}: authorizer")
            return None if answer is UNRESOLVED else answer

        return read_authorization(
            self, value, at, resolve, plugin=False, made=self.made_authorizers, proxy=proxy
        )
