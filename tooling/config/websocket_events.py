"""Functions' `websocket` events and the provider's WebSocket settings, read as Serverless v3
reads them (lib/plugins/aws/package/compile/events/websockets): one API Gateway v2 WebSocket
API per service and stage (`<stage>-<service>-websockets`, or `provider.websocketsApiName`),
a route per event (`$connect`, `$disconnect`, `$default` or a custom route key) with its
function's Lambda proxy integration, a `$default` route response when
`routeResponseSelectionExpression` is given, and Lambda REQUEST authorizers on `$connect`.

What Serverless or API Gateway refuses is a problem at its line; what the toolkit does not
deploy (routes added to an existing API, `provider.apiGateway.websocketApiId`) too, never an
API deployed otherwise than asked. tooling.config.function_events dispatches the events here;
tooling.config.service reads the settings with `read_websocket_settings`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tooling.config.events import Location
from tooling.config.function_messages import FunctionMessages
from tooling.config.http_api_events import Locate, RequestAuthorizer, _SettingsReader, _strings
from tooling.errors import BadInput, ConfigError, Where
from tooling.sourcemap import pointer_join

EVENT_KEYS = frozenset({"route", "routeResponseSelectionExpression", "authorizer"})
AUTHORIZER_KEYS = frozenset({"name", "arn", "identitySource"})
DEFAULT_IDENTITY_SOURCE = ("route.request.header.Auth",)  # what Serverless sets
DEFAULT_ROUTE_SELECTION = "$request.body.action"
DEFAULT_DESCRIPTION = "Serverless Websockets"
CONNECT_ROUTE = "$connect"
WEBSOCKET_TIMEOUT_SECONDS = 29  # API Gateway WebSocket APIs' integration timeout


@dataclass(frozen=True)
class WebsocketAuthorizerRef:
    """An event's `authorizer`: a function of this service (`function`) or a Lambda ARN."""

    name: str  # the authorizer's name on the API (the function key, or the ARN's last part)
    function: str | None = None
    arn: str | None = None
    identity_source: tuple[str, ...] = DEFAULT_IDENTITY_SOURCE


@dataclass(frozen=True)
class WebsocketEvent:
    """`events: - websocket:` of a function: one route of the service's WebSocket API."""

    route: str
    route_response_selection: str | None = None  # only "$default" (Serverless' schema)
    authorizer: WebsocketAuthorizerRef | None = None
    location: Location = (None, None, None)


@dataclass(frozen=True)
class WebsocketSettings:
    """The service's WebSocket API: its name, route selection expression, description and
    authorizers (name -> the REQUEST authorizer API Gateway calls on `$connect`)."""

    name: str
    route_selection: str = DEFAULT_ROUTE_SELECTION
    description: str = DEFAULT_DESCRIPTION
    authorizers: Mapping[str, RequestAuthorizer] = field(default_factory=dict)


@dataclass
class WebsocketEventReader(FunctionMessages):
    """Reads one function's `websocket` events (the checks that need every route are
    `read_websocket_settings`')."""

    function_key: str
    at: Locate
    problems: list[BadInput]

    def read(self, value: Any, pointer: str) -> WebsocketEvent | None:
        where = self.at(pointer)
        location: Location = (where.get("file"), where.get("line"), where.get("column"))
        if isinstance(value, str):
            if not value:
                self._problem(pointer, "a websocket event needs a route")
                return None
            return WebsocketEvent(value, location=location)
        if not isinstance(value, dict):
            self._problem(pointer, "a websocket event is a route or a mapping with `route`")
            return None
        for key in value:
            if key not in EVENT_KEYS:
                self._problem(
                    pointer_join(pointer, key),
                    f"websocket key `{key}` is unknown to Serverless",
                    "use route, routeResponseSelectionExpression and authorizer",
                )
                return None
        route = value.get("route")
        if not isinstance(route, str) or not route:
            self._problem(pointer, "a websocket event needs a `route`")
            return None
        selection = value.get("routeResponseSelectionExpression")
        if selection is not None and selection != "$default":
            self._problem(
                pointer_join(pointer, "routeResponseSelectionExpression"),
                f"routeResponseSelectionExpression {selection!r} is not `$default` (the only "
                "value Serverless takes)",
                "routeResponseSelectionExpression: $default",
            )
            return None
        authorizer = None
        if value.get("authorizer") is not None:
            authorizer = self._authorizer(value["authorizer"], pointer_join(pointer, "authorizer"))
            if authorizer is None:
                return None
            if route != CONNECT_ROUTE:
                self._problem(
                    pointer_join(pointer, "authorizer"),
                    f"route {route!r} has an authorizer: API Gateway calls WebSocket "
                    "authorizers on `$connect` only",
                    "move the authorizer to the function of the $connect route",
                )
                return None
        return WebsocketEvent(route, selection, authorizer, location)

    def _authorizer(self, value: Any, pointer: str) -> WebsocketAuthorizerRef | None:
        if isinstance(value, str) and value:
            if ":" in value:
                return WebsocketAuthorizerRef(value.split(":")[-1], arn=value)
            return WebsocketAuthorizerRef(value, function=value)
        if not isinstance(value, dict):
            self._problem(pointer, "authorizer is a function name, an ARN or a mapping")
            return None
        for key in value:
            if key not in AUTHORIZER_KEYS:
                self._problem(
                    pointer_join(pointer, key),
                    f"websocket authorizer key `{key}` is unknown to Serverless",
                    "use name, arn and identitySource",
                )
                return None
        sources: tuple[str, ...] = DEFAULT_IDENTITY_SOURCE
        if value.get("identitySource") is not None:
            listed = _strings(value["identitySource"])
            if not listed:
                self._problem(
                    pointer_join(pointer, "identitySource"),
                    "authorizer identitySource is a list of strings",
                    "e.g. identitySource: [route.request.header.Auth]",
                )
                return None
            sources = listed
        name, arn = value.get("name"), value.get("arn")
        if arn is not None:
            if not isinstance(arn, str):
                if not isinstance(name, str):
                    self._problem(
                        pointer,
                        'Websocket Authorizer: Non-string "arn" needs to be accompanied with '
                        '"name"',
                        "the toolkit takes the ARN as text: `arn: arn:aws:lambda:...`",
                    )
                    return None
                self._problem(
                    pointer_join(pointer, "arn"),
                    "a websocket authorizer's arn must be written out (an intrinsic is not "
                    "resolved here by the toolkit yet)",
                    "arn: arn:aws:lambda:<region>:<account>:function:<name>",
                )
                return None
            return WebsocketAuthorizerRef(arn.split(":")[-1], arn=arn, identity_source=sources)
        if isinstance(name, str) and name:
            return WebsocketAuthorizerRef(name, function=name, identity_source=sources)
        self._problem(pointer, "a websocket authorizer needs `name` or `arn`")
        return None


def read_websocket_settings(
    provider: Mapping[str, Any],
    routes: Mapping[str, tuple[WebsocketEvent, ...]],
    timeouts: Mapping[str, int | None],
    *,
    function_arns: Mapping[str, str],
    service: str,
    stage: str,
    at: Locate,
    warnings: list[str],
    problems: list[BadInput],
) -> WebsocketSettings | None:
    """The WebSocket API of the functions' websocket events (function key -> its events);
    None when there are none (or on a problem, said in `problems`)."""
    reader = _SettingsReader(at, warnings, problems)
    keys = ("websocketsApiName", "websocketsApiRouteSelectionExpression", "websocketsDescription")
    if not any(routes.values()):
        for key in (*keys, "websocket"):
            if provider.get(key) is not None:
                reader.warn(f"/provider/{key}", f"provider.{key} is ignored: no function has a "
                            "websocket event")  # fmt: skip
        return None
    for key in keys:
        if provider.get(key) is not None and not isinstance(provider[key], str):
            reader.problem(f"/provider/{key}", f"provider.{key} must be a string")
            return None
    gateway = provider.get("apiGateway")
    if isinstance(gateway, dict) and gateway.get("websocketApiId") is not None:
        reader.problem(
            "/provider/apiGateway/websocketApiId",
            "websocket routes added to an existing WebSocket API "
            "(provider.apiGateway.websocketApiId) are not supported by the toolkit yet",
            "drop websocketApiId: the toolkit then makes the service's own WebSocket API",
        )
        return None
    options = provider.get("websocket")
    if options is not None:
        if not isinstance(options, dict) or set(options) - {"useProviderTags"}:
            reader.problem("/provider/websocket", "provider.websocket takes `useProviderTags`")
            return None
        if options.get("useProviderTags"):
            reader.warn(
                "/provider/websocket/useProviderTags",
                "provider.websocket.useProviderTags: the toolkit tags the WebSocket API with "
                "its own tags (tool:service, tool:stage), not provider.tags (ignored)",
            )
    logs = provider.get("logs")
    if isinstance(logs, dict) and logs.get("websocket"):
        reader.warn(
            "/provider/logs/websocket",
            "provider.logs.websocket (the WebSocket API's access and execution logs) is not "
            "deployed by the toolkit yet (ignored)",
        )
    authorizers: dict[str, RequestAuthorizer] = {}
    seen: dict[str, str] = {}
    for key, events in routes.items():
        for event in events:
            file, line, column = event.location
            where: Where = {"file": file, "line": line, "column": column}
            if event.route in seen:
                problems.append(ConfigError(
                    f"function '{key}': duplicate websocket route '{event.route}' (function "
                    f"'{seen[event.route]}' has it already)", **where,
                    hint="each route goes to one function",
                ))  # fmt: skip
                return None
            seen[event.route] = key
            ref = event.authorizer
            if ref is None:
                continue
            arn = ref.arn
            if ref.function is not None:
                arn = function_arns.get(ref.function)
                if arn is None:
                    problems.append(ConfigError(
                        f"function '{key}': websocket authorizer function '{ref.function}' "
                        "does not exist in this service", **where,
                        hint="functions of this service: " + (", ".join(function_arns) or "none")
                        + "; or give `arn:` for a function elsewhere",
                    ))  # fmt: skip
                    return None
            assert arn is not None
            authorizers[ref.name] = RequestAuthorizer(
                name=ref.name,
                function_arn=arn,
                identity_source=ref.identity_source,
                payload_version=None,
            )
    for key, events in routes.items():
        timeout = timeouts.get(key) or 6
        if events and timeout > WEBSOCKET_TIMEOUT_SECONDS:
            warnings.append(
                f"function '{key}': timeout {timeout} s is over the WebSocket API's 29 s "
                "integration timeout: a route may time out on a call that succeeds"
            )
    return WebsocketSettings(
        name=provider.get("websocketsApiName") or f"{stage}-{service}-websockets",
        route_selection=provider.get("websocketsApiRouteSelectionExpression")
        or DEFAULT_ROUTE_SELECTION,
        description=provider.get("websocketsDescription") or DEFAULT_DESCRIPTION,
        authorizers=authorizers,
    )
