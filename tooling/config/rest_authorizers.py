"""REST API authorizers of `http` events (functions' and state machines'), read as Serverless v3
reads them (lib/plugins/aws/package/compile/events/api-gateway/lib/validate.js getAuthorizer,
authorizers.js, method/authorization.js, permissions.js) and serverless-step-functions for
state machines (lib/deploy/events/apiGateway/validate.js, authorizers.js):

- `authorizer: aws_iam` (or `type: aws_iam`): the method is `AWS_IAM`, no authorizer;
- `type` and `authorizerId`: an existing authorizer, used as given;
- `authorizer: <function key>` (no `:`), `{name: <function key>}`: a Lambda authorizer calling
  that function of the service;
- `authorizer: <ARN>`, `{arn, name?}`: a Lambda authorizer calling that function, or a Cognito
  user pool authorizer when the ARN is `arn:<partition>:cognito-idp:...` (or
  `type: COGNITO_USER_POOLS`). Without `name`, the name is the ARN's last `-` part, as
  Serverless' extractAuthorizerNameFromArn takes it.

An authorizer is named `name` on the API; CloudFormation would know it as
`<Name>ApiGatewayAuthorizer`. The same name in several events is one authorizer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from tooling.config.intrinsics import normalized_name
from tooling.errors import BadInput, ConfigError
from tooling.sourcemap import pointer_join

DEFAULT_IDENTITY_SOURCE = "method.request.header.Authorization"
DEFAULT_TTL = 300
MAX_TTL = 3600  # API Gateway's AuthorizerResultTtlInSeconds: 0 to 3600
# Serverless' authorizer schema (api-gateway/index.js): every key it allows.
AUTHORIZER_KEYS = frozenset(
    {
        "arn", "authorizerId", "claims", "identitySource", "identityValidationExpression",
        "managedExternally", "name", "resultTtlInSeconds", "scopes", "type",
    }
)  # fmt: skip
TYPES = ("TOKEN", "REQUEST", "COGNITO_USER_POOLS", "AWS_IAM", "CUSTOM")
COGNITO_ARN = re.compile(r"^arn:[a-zA-Z-]*:cognito-idp")  # Serverless' cognitoIdpArnExpr
# Where a REQUEST authorizer's identity sources may come from (API Gateway's reference).
REQUEST_SOURCES = ("method.request.header.", "method.request.querystring.", "stageVariables.",
                   "context.")  # fmt: skip
HEADER_SOURCE = "method.request.header."

Location = tuple[str | None, int | None, int | None]


@dataclass(frozen=True)
class RestAuthorizer:
    """An authorizer the deploy makes on the service's REST API."""

    name: str
    type: str  # TOKEN | REQUEST | COGNITO_USER_POOLS
    function: str | None = None  # the key of a function of this service it calls
    arn: str | None = None  # a Lambda function's ARN, or the Cognito user pool's
    result_ttl: int = DEFAULT_TTL
    identity_source: str | None = DEFAULT_IDENTITY_SOURCE
    identity_validation_expression: str | None = None
    managed_externally: bool = False  # Serverless' flag: no Lambda permission is made
    location: Location = (None, None, None)
    # `authorizerId: {Ref: <Name>ApiGatewayAuthorizer}` naming one that another event makes:
    # only `name` holds (the authorizer is the one made under that name)
    reference: bool = False

    @property
    def logical_id(self) -> str:
        """Serverless' getAuthorizerLogicalId: what `resources:` and `Ref` call it."""
        return f"{normalized_name(self.name)}ApiGatewayAuthorizer"

    @property
    def cognito(self) -> bool:
        return self.type == "COGNITO_USER_POOLS"

    @property
    def method_authorization(self) -> str:
        """The AuthorizationType of a method using it."""
        return "COGNITO_USER_POOLS" if self.cognito else "CUSTOM"

    def same_settings(self, other: RestAuthorizer) -> bool:
        return (self.type, self.function, self.arn, self.result_ttl, self.identity_source,
                self.identity_validation_expression, self.managed_externally) == (
                other.type, other.function, other.arn, other.result_ttl,
                other.identity_source, other.identity_validation_expression,
                other.managed_externally)  # fmt: skip


@dataclass(frozen=True)
class Authorization:
    """A method's authorization: AuthorizationType, an existing AuthorizerId or an authorizer
    the deploy makes, and scopes (Cognito)."""

    type: str = "NONE"  # NONE | AWS_IAM | CUSTOM | COGNITO_USER_POOLS
    authorizer_id: str | None = None
    scopes: tuple[str, ...] = ()
    authorizer: RestAuthorizer | None = None


class _Reader(Protocol):
    def problem(self, pointer: str, text: str, hint: str | None = None) -> None: ...

    def warn(self, pointer: str, text: str) -> None: ...

    def location(self, pointer: str) -> Location: ...


def authorizer_name_from_arn(arn: str) -> str:
    """Serverless' extractAuthorizerNameFromArn: the ARN's last part after its last `-`."""
    return arn.split(":")[-1].split("-")[-1]


def read_authorization(
    reader: _Reader,
    value: Any,
    at: str,
    resolve: Callable[[Any, str], Any],
    *,
    plugin: bool,
    made: Mapping[str, str] | None = None,
    proxy: bool = True,
) -> Authorization | None:
    """An http event's `authorizer`; None on a problem (recorded at its line). `resolve` gives
    a value with its intrinsics resolved (or raises nothing and answers None when it recorded a
    problem). `plugin`: read as serverless-step-functions reads a state machine's event.
    `made`: the logical ids (`<Name>ApiGatewayAuthorizer`) of the authorizers the service's
    events make, and their names, which an `authorizerId` `Ref` may name. `proxy`: the event's
    integration is the Lambda proxy one (`claims` are used by the others' templates only)."""
    if value is None:
        return Authorization()
    if isinstance(value, str):
        if value.upper() == "AWS_IAM":
            return Authorization("AWS_IAM")
        if not value.strip():
            reader.problem(at, "an http authorizer must not be empty")
            return None
        if ":" not in value:
            return _made(reader, at, name=value, function=value, kind="TOKEN")
        return _made_from_arn(reader, at, value, None, "TOKEN", {})
    if not isinstance(value, dict):
        reader.problem(
            at,
            "an http authorizer is a function name, an ARN, `aws_iam` or a mapping",
            hint="e.g. `authorizer: authorizerFunc` or `authorizer: {name: authorizerFunc, "
            "resultTtlInSeconds: 0}`",
        )
        return None
    for key in value:
        if key not in AUTHORIZER_KEYS:
            reader.warn(
                pointer_join(at, key), f"authorizer key `{key}` is unknown to Serverless (ignored)"
            )
    if proxy and cognito_claims_refused(value):
        reader.problem(
            pointer_join(at, "claims"),
            "Cognito claims can only be filtered when using the lambda integration type "
            "(Serverless refuses them with the Lambda proxy integration)",
            hint="remove `claims`: the function reads the claims from "
            "event.requestContext.authorizer.claims",
        )
        return None
    kind = value.get("type")
    if kind is not None and (not isinstance(kind, str) or kind.upper() not in TYPES):
        reader.problem(
            pointer_join(at, "type"),
            f"authorizer type {kind!r} is not one Serverless knows",
            hint="use token, request, cognito_user_pools or aws_iam",
        )
        return None
    kind = kind.upper() if isinstance(kind, str) else None
    if kind and value.get("authorizerId") is not None:
        target = value["authorizerId"]
        if isinstance(target, dict) and list(target) == ["Ref"] and target["Ref"] in (made or {}):
            return _made_elsewhere(reader, value, at, kind, (made or {})[target["Ref"]])
        return _existing(reader, value, at, kind, resolve, plugin)
    if kind == "AWS_IAM":
        return Authorization("AWS_IAM")
    if kind == "CUSTOM":
        reader.problem(
            pointer_join(at, "type"),
            "authorizer type CUSTOM goes with `authorizerId` (an existing authorizer); an "
            "authorizer Serverless makes is TOKEN, REQUEST or COGNITO_USER_POOLS",
            hint="use `type: token` or `type: request`",
        )
        return None
    settings = _settings(reader, value, at)
    if settings is None:
        return None
    name = value.get("name")
    if name is not None and (not isinstance(name, str) or not name.strip()):
        reader.problem(pointer_join(at, "name"), "authorizer `name` must be text")
        return None
    if value.get("arn") is not None:
        if not isinstance(value["arn"], str) and name is None:
            reader.problem(
                at,
                "an authorizer whose `arn` is an intrinsic needs a `name` (Serverless takes "
                "the name from a written-out ARN only)",
                hint="add `name: <authorizer name>`",
            )
            return None
        arn = resolve(value["arn"], pointer_join(at, "arn"))
        if arn is None:
            return None
        if not isinstance(arn, str) or not arn.startswith("arn:"):
            reader.problem(pointer_join(at, "arn"), "authorizer `arn` must be an ARN")
            return None
        authorization = _made_from_arn(reader, at, arn, name, kind or "TOKEN", settings)
    elif name is not None:
        authorization = _made(
            reader, at, name=name, function=name, kind=kind or "TOKEN", settings=settings
        )
    else:
        reader.problem(
            at,
            "an authorizer needs a `name` (a function of this service) or an `arn` (Serverless: "
            "Please provide either an authorizer name or ARN)",
            hint="e.g. `authorizer: {name: authorizerFunc}`",
        )
        return None
    if authorization is None or authorization.authorizer is None:
        return authorization
    return _with_scopes_and_claims(reader, value, at, authorization, plugin, proxy)


def _made_elsewhere(
    reader: _Reader, value: Mapping[str, Any], at: str, kind: str, name: str
) -> Authorization:
    """`authorizerId: {Ref: <Name>ApiGatewayAuthorizer}`: the authorizer another event makes,
    as in Serverless' template (the deploy gives the method its id)."""
    cognito = kind == "COGNITO_USER_POOLS"
    placeholder = RestAuthorizer(name=name, type=kind, reference=True, location=reader.location(at))
    scopes = _scopes(reader, value, at) if cognito else ()
    return Authorization("COGNITO_USER_POOLS" if cognito else "CUSTOM", None, scopes, placeholder)


def made_authorizer_ids(event_lists: Iterable[Any]) -> dict[str, str]:
    """Logical id -> name of each authorizer the http events in `event_lists` (raw `events:`
    lists) make, as Serverless names them; what is not an authorizer the deploy makes is
    skipped (the readers say what is wrong with it)."""
    found: dict[str, str] = {}
    for events in event_lists:
        for event in events if isinstance(events, list) else []:
            http = event.get("http") if isinstance(event, dict) else None
            name = _raw_name(http.get("authorizer")) if isinstance(http, dict) else None
            if name:
                found[f"{normalized_name(name)}ApiGatewayAuthorizer"] = name
    return found


def _raw_name(value: Any) -> str | None:
    if isinstance(value, str):
        if value.upper() == "AWS_IAM" or not value.strip():
            return None
        return value if ":" not in value else authorizer_name_from_arn(value)
    if not isinstance(value, dict):
        return None
    kind = value.get("type")
    if (kind and value.get("authorizerId") is not None) or (
        isinstance(kind, str) and kind.upper() == "AWS_IAM"
    ):
        return None
    name = value.get("name")
    if isinstance(name, str) and name.strip():
        return name
    arn = value.get("arn")
    return authorizer_name_from_arn(arn) if isinstance(arn, str) else None


def _existing(
    reader: _Reader,
    value: Mapping[str, Any],
    at: str,
    kind: str,
    resolve: Callable[[Any, str], Any],
    plugin: bool,
) -> Authorization | None:
    authorizer = resolve(value["authorizerId"], pointer_join(at, "authorizerId"))
    if authorizer is None:
        return None
    for key in value:
        if key not in ("type", "authorizerId", "scopes"):
            reader.warn(
                pointer_join(at, key),
                f"authorizer.{key} shapes an authorizer Serverless creates; with "
                "`authorizerId` it is ignored (as Serverless ignores it)",
            )
    method_type = "CUSTOM" if kind in ("TOKEN", "REQUEST") and not plugin else kind
    scopes: tuple[str, ...] = ()
    if kind == "COGNITO_USER_POOLS" or plugin:
        scopes = _scopes(reader, value, at)
    return Authorization(method_type, str(authorizer), scopes)


def _settings(reader: _Reader, value: Mapping[str, Any], at: str) -> dict[str, Any] | None:
    """resultTtlInSeconds, identitySource, identityValidationExpression, managedExternally."""
    settings: dict[str, Any] = {}
    ttl = value.get("resultTtlInSeconds")
    if ttl is not None:
        if isinstance(ttl, str) and ttl.strip().isdigit():
            ttl = int(ttl)
        if isinstance(ttl, bool) or not isinstance(ttl, int) or not 0 <= ttl <= MAX_TTL:
            reader.problem(
                pointer_join(at, "resultTtlInSeconds"),
                f"authorizer resultTtlInSeconds must be an integer from 0 to {MAX_TTL} "
                f"(API Gateway's limit), not {ttl!r}",
            )
            return None
        settings["result_ttl"] = ttl
    source = value.get("identitySource")
    if source is not None:
        if not isinstance(source, str):
            reader.problem(
                pointer_join(at, "identitySource"),
                "authorizer identitySource is text (sources joined with `, `)",
                hint="e.g. `identitySource: method.request.header.Authorization`",
            )
            return None
        settings["identity_source"] = source.strip() or None
    expression = value.get("identityValidationExpression")
    if expression is not None:
        if not isinstance(expression, str):
            reader.problem(
                pointer_join(at, "identityValidationExpression"),
                "identityValidationExpression is a regular expression, as text",
            )
            return None
        try:
            re.compile(expression)
        except re.error as exc:
            reader.problem(
                pointer_join(at, "identityValidationExpression"),
                f"identityValidationExpression is not a regular expression: {exc}",
            )
            return None
        settings["identity_validation_expression"] = expression
    managed = value.get("managedExternally")
    if managed is not None:
        if not isinstance(managed, bool):
            reader.problem(
                pointer_join(at, "managedExternally"), "managedExternally must be true or false"
            )
            return None
        settings["managed_externally"] = managed
    return settings


def _made_from_arn(
    reader: _Reader,
    at: str,
    arn: str,
    name: str | None,
    kind: str,
    settings: Mapping[str, Any],
) -> Authorization | None:
    if COGNITO_ARN.match(arn):
        kind = "COGNITO_USER_POOLS"
    elif kind != "COGNITO_USER_POOLS" and arn.split(":")[2:3] != ["lambda"]:
        reader.problem(
            at,
            f"authorizer ARN {arn!r} is neither a Lambda function's nor a Cognito user pool's",
            hint="give a function of this service by name, a Lambda ARN, or a user pool ARN "
            "(arn:aws:cognito-idp:...)",
        )
        return None
    return _made(
        reader,
        at,
        name=name or authorizer_name_from_arn(arn),
        arn=arn,
        kind=kind,
        settings=settings,
    )


def _made(
    reader: _Reader,
    at: str,
    *,
    name: str,
    kind: str,
    function: str | None = None,
    arn: str | None = None,
    settings: Mapping[str, Any] | None = None,
) -> Authorization | None:
    settings = dict(settings or {})
    ttl = settings.get("result_ttl", DEFAULT_TTL)
    source = settings.get("identity_source")
    # Serverless: the Authorization header unless a REQUEST authorizer caches nothing.
    if source is None and not (kind == "REQUEST" and ttl == 0):
        source = DEFAULT_IDENTITY_SOURCE
    if not _identity_source_ok(reader, at, kind, source, ttl):
        return None
    if settings.get("identity_validation_expression") and kind != "TOKEN":
        reader.warn(
            pointer_join(at, "identityValidationExpression"),
            "identityValidationExpression applies to TOKEN authorizers only (API Gateway "
            "ignores it for the others)",
        )
    if kind == "COGNITO_USER_POOLS" and settings.get("managed_externally"):
        reader.warn(
            pointer_join(at, "managedExternally"),
            "managedExternally applies to Lambda authorizers (a Cognito authorizer needs no "
            "permission; ignored)",
        )
    authorizer = RestAuthorizer(
        name=name,
        type=kind,
        function=function,
        arn=arn,
        result_ttl=ttl,
        identity_source=source,
        identity_validation_expression=settings.get("identity_validation_expression"),
        managed_externally=bool(settings.get("managed_externally")),
        location=reader.location(at),
    )
    return Authorization(authorizer.method_authorization, authorizer=authorizer)


def _identity_source_ok(reader: _Reader, at: str, kind: str, source: str | None, ttl: int) -> bool:
    where = pointer_join(at, "identitySource")
    if source is None:
        if kind == "REQUEST" and ttl > 0:  # API Gateway: caching needs an identity source
            reader.problem(
                where,
                "a REQUEST authorizer that caches (resultTtlInSeconds over 0) needs an "
                "identitySource",
                hint="add `identitySource: method.request.header.Authorization` or set "
                "`resultTtlInSeconds: 0`",
            )
            return False
        return True
    parts = [part.strip() for part in source.split(",")]
    if kind in ("TOKEN", "COGNITO_USER_POOLS"):
        if len(parts) != 1 or not parts[0].startswith(HEADER_SOURCE) or parts[0] == HEADER_SOURCE:
            reader.problem(
                where,
                f"a {kind} authorizer's identitySource is one header, "
                f"`method.request.header.<name>`, not {source!r}",
            )
            return False
        return True
    for part in parts:
        if not any(part.startswith(p) and len(part) > len(p) for p in REQUEST_SOURCES):
            reader.problem(
                where,
                f"identity source {part!r} is not one API Gateway takes",
                hint="use method.request.header.<name>, method.request.querystring.<name>, "
                "stageVariables.<name> or context.<name>, joined with `, `",
            )
            return False
    return True


def _with_scopes_and_claims(
    reader: _Reader,
    value: Mapping[str, Any],
    at: str,
    authorization: Authorization,
    plugin: bool,
    proxy: bool,
) -> Authorization:
    authorizer = authorization.authorizer
    assert authorizer is not None
    scopes: tuple[str, ...] = ()
    if value.get("scopes") is not None:
        if authorizer.cognito:
            scopes = _scopes(reader, value, at)
        else:  # Serverless sets AuthorizationScopes for Cognito authorizers only
            reader.warn(
                pointer_join(at, "scopes"),
                "authorizer scopes apply to Cognito user pool authorizers only (ignored, as "
                "Serverless ignores them)",
            )
    claims = value.get("claims")
    if claims and proxy:  # the non-proxy integrations' templates use them
        reader.warn(
            pointer_join(at, "claims"),
            "authorizer claims filter the claims of the non-proxy `lambda` integration's "
            "request; this event's integration does not use them (ignored, as "
            + ("serverless-step-functions" if plugin else "Serverless")
            + " ignores them)",
        )
    return Authorization(authorization.type, None, scopes, authorizer)


def cognito_claims_refused(value: Any) -> bool:
    """Serverless and the plugin refuse `claims` with a written-out Cognito ARN on a proxy
    integration ("Cognito claims can only be filtered when using the lambda integration
    type")."""
    return (
        isinstance(value, dict)
        and bool(value.get("claims"))
        and isinstance(value.get("arn"), str)
        and bool(COGNITO_ARN.match(value["arn"]))
    )


def _scopes(reader: _Reader, value: Mapping[str, Any], at: str) -> tuple[str, ...]:
    scopes = value.get("scopes")
    if scopes is None:
        return ()
    if isinstance(scopes, str):
        reader.warn(
            pointer_join(at, "scopes"),
            "authorizer.scopes should be a list (Serverless' schema); read as one scope",
        )
        return (scopes,)
    if not isinstance(scopes, list):
        reader.warn(pointer_join(at, "scopes"), "authorizer.scopes must be a list (ignored)")
        return ()
    return tuple(str(s) for s in scopes)


def check_authorizers(
    used: list[tuple[str, RestAuthorizer]], function_keys: set[str], warnings: list[str]
) -> list[BadInput]:
    """Problems with the authorizers the http events make (`used`: who uses it, as messages
    name it, and the authorizer): a function that is not the service's (Serverless: Function
    "x" doesn't exist in this Service). One name used with other settings is one authorizer,
    merged as Serverless merges them (the last read wins): a warning at the later line."""
    problems: list[BadInput] = []
    seen: dict[str, RestAuthorizer] = {}
    for subject, authorizer in used:
        if authorizer.reference:
            continue  # the one it names is checked where it is made
        file, line, column = authorizer.location
        if authorizer.function is not None and authorizer.function not in function_keys:
            problems.append(
                ConfigError(
                    f"{subject}: authorizer function '{authorizer.function}' does not exist in "
                    "this service",
                    file=file,
                    line=line,
                    column=column,
                    hint="functions of this service: "
                    + (", ".join(sorted(function_keys)) or "none")
                    + "; or give `arn:` for a function elsewhere",
                )
            )
            continue
        earlier = seen.get(authorizer.name)
        if earlier is not None and not earlier.same_settings(authorizer):
            where = ":".join(str(p) for p in (file, line, column) if p is not None)
            warnings.append(
                f"{where}: {subject}: authorizer '{authorizer.name}' is set differently at "
                f"line {earlier.location[1]}; it is one authorizer ({authorizer.logical_id}), "
                "and the settings read last are used, as Serverless merges them"
            )
        seen[authorizer.name] = authorizer
    return problems
