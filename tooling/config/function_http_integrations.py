"""A function's http event with another integration than the Lambda proxy, compiled as
Serverless v3 compiles it (lib/plugins/aws/package/compile/events/api-gateway: validate.js,
method/integration.js and method/responses.js, v3.38): `integration: lambda` (API Gateway's AWS
integration to the function), `async: true` (the same, invoking with `X-Amz-Invocation-Type:
Event`), `http` and `http-proxy` (to `request.uri`) and `mock`.

What it yields is in API Gateway's own terms (PutIntegration's request templates, passthrough
behaviour and request parameters; PutIntegrationResponse and PutMethodResponse per status code),
so the deploy passes them on and `tool serve` answers from the same data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
NON_PROXY = ("AWS", "HTTP", "HTTP_PROXY", "MOCK")  # what read_integration reads
PASSTHROUGH_BEHAVIORS = ("WHEN_NO_MATCH", "WHEN_NO_TEMPLATES", "NEVER")
CONTENT_HANDLINGS = ("CONVERT_TO_BINARY", "CONVERT_TO_TEXT")
# Serverless' keys of `request` and `response` for the Lambda integration.
REQUEST_KEYS = frozenset({"parameters", "template", "passThrough", "contentHandling",
                          "schemas", "schema", "uri", "method"})  # fmt: skip
RESPONSE_KEYS = frozenset({"headers", "template", "statusCodes", "contentHandling"})

# validate.js DEFAULT_STATUS_CODES: an error message holding "[400]" selects 400, and so on.
DEFAULT_STATUS_CODES: dict[str, str] = {
    "200": "",
    "400": r"[\s\S]*\[400\][\s\S]*",
    "401": r"[\s\S]*\[401\][\s\S]*",
    "403": r"[\s\S]*\[403\][\s\S]*",
    "404": r"[\s\S]*\[404\][\s\S]*",
    "422": r"[\s\S]*\[422\][\s\S]*",
    "500": r"[\s\S]*(Process\s?exited\s?before\s?completing\s?request|\[500\])[\s\S]*",
    "502": r"[\s\S]*\[502\][\s\S]*",
    "504": r"([\s\S]*\[504\][\s\S]*)|(.*Task timed out after \d+\.\d+ seconds$)",
}

# method/integration.js: the request templates of the Lambda integration. `$body` is the
# request's JSON body (or its form fields), passed with the request's context.
_COMMON_TEMPLATE = """
  #define( $loop )
    {
    #foreach($key in $map.keySet())
        #set( $k = $util.escapeJavaScript($key) )
        #set( $v = $util.escapeJavaScript($map.get($key)).replaceAll("\\\\'", "'") )
        "$k":
          "$v"
          #if( $foreach.hasNext ) , #end
    #end
    }
  #end

  {
    "body": $body,
    "method": "$context.httpMethod",
    "principalId": "$context.authorizer.principalId",
    "stage": "$context.stage",

    "cognitoPoolClaims" : {
       extraCognitoPoolClaims
       "sub": "$context.authorizer.claims.sub"
    },

    #set( $map = $context.authorizer )
    "enhancedAuthContext": $loop,

    #set( $map = $input.params().header )
    "headers": $loop,

    #set( $map = $input.params().querystring )
    "query": $loop,

    #set( $map = $input.params().path )
    "path": $loop,

    #set( $map = $context.identity )
    "identity": $loop,

    #set( $map = $stageVariables )
    "stageVariables": $loop,

    "requestPath": "$context.resourcePath"
  }
"""
DEFAULT_JSON_TEMPLATE = f"""
    #set( $body = $input.json("$") )

    {_COMMON_TEMPLATE}
  """
DEFAULT_FORM_TEMPLATE = f"""
    #define( $body )
      {{
      #foreach( $token in $input.path('$').split('&') )
        #set( $keyVal = $token.split('=') )
        #set( $keyValSize = $keyVal.size() )
        #if( $keyValSize >= 1 )
          #set( $key = $util.escapeJavaScript($util.urlDecode($keyVal[0])) )
          #if( $keyValSize >= 2 )
            #set($val = $util.escapeJavaScript($util.urlDecode($keyVal[1])).replaceAll("\\\\'","'"))
          #else
            #set( $val = '' )
          #end
          "$key": "$val"#if($foreach.hasNext),#end
        #end
      #end
      }}
    #end

    {_COMMON_TEMPLATE}
  """


@dataclass(frozen=True)
class NonProxyIntegration:
    """What PutIntegration, PutIntegrationResponse and PutMethodResponse get for a non-proxy
    http event (Serverless' compiled method)."""

    type: str  # AWS | HTTP | HTTP_PROXY | MOCK
    request_templates: dict[str, str] = field(default_factory=dict)
    passthrough: str | None = None
    content_handling: str | None = None
    # integration.request.<location>.<name> -> method.request... or a 'static' value
    request_parameters: dict[str, str] = field(default_factory=dict)
    integration_responses: tuple[dict[str, Any], ...] = ()
    method_responses: tuple[dict[str, Any], ...] = ()
    asynchronous: bool = False
    uri: str | None = None  # HTTP and HTTP_PROXY: request.uri
    http_method: str | None = None  # HTTP and HTTP_PROXY: request.method or the event's
    connection_type: str | None = None  # VPC_LINK | INTERNET
    connection_id: str | None = None


Problem = Callable[..., None]  # (pointer, message, hint=...) of the events reader


def integration_type(value: Mapping[str, Any]) -> str:
    """validate.js getIntegration: `lambda` is AWS, `lambda-proxy` AWS_PROXY; `async` alone
    means AWS; nothing means AWS_PROXY."""
    given = value.get("integration")
    if given is not None:
        normalized = str(given).upper().replace("-", "_", 1)
        return {"LAMBDA": "AWS", "LAMBDA_PROXY": "AWS_PROXY"}.get(normalized, normalized)
    return "AWS" if value.get("async") else "AWS_PROXY"


def read_integration(
    kind: str,
    value: Mapping[str, Any],
    at: str,
    problem: Problem,
    warn: Callable[[str, str], None],
    join: Callable[[str, str], str],
    cors_origin: str | None,
    cors_credentials: bool,
) -> NonProxyIntegration | None:
    """The AWS (Lambda), HTTP, HTTP_PROXY or MOCK integration of an http event (`kind`, as
    `integration_type` gives it), or None after a problem."""
    request = value.get("request") or {}
    where = join(at, "request")
    if not isinstance(request, dict):
        problem(where, "http `request` must be a mapping")
        return None
    for key in request:
        if key not in REQUEST_KEYS:
            warn(join(where, key), f"request key `{key}` is unknown (ignored)")
    for key in ("schemas", "schema"):
        if key in request:
            warn(
                join(where, key),
                "request schemas (API Gateway request validation) are not deployed by the "
                "toolkit yet (ignored: requests are not validated)",
            )
    uri, http_method = None, None
    if kind in ("HTTP", "HTTP_PROXY"):
        uri = request.get("uri")
        if not isinstance(uri, str) or not uri:
            problem(
                join(where, "uri") if "uri" in request else at,
                f"the {kind} integration needs `request.uri` (Serverless refuses it without one)",
                hint="e.g. request: {uri: 'https://example.com/{proxy}'}",
            )
            return None
        http_method = str(request.get("method") or value.get("method") or "ANY").upper()
    else:
        for key in ("uri", "method"):
            if key in request:
                warn(
                    join(where, key),
                    f"request.{key} applies to HTTP integrations only (ignored, as Serverless "
                    f"ignores it for the {'Lambda' if kind == 'AWS' else kind} integration)",
                )
    connection = _connection(value, at, problem, join, kind)
    if connection is None:
        return None
    parameters: dict[str, str] = {}
    for location, names in (request.get("parameters") or {}).items():
        singular = str(location)[:-1]
        for name, spec in (names or {}).items() if isinstance(names, dict) else ():
            mapped = spec.get("mappedValue") if isinstance(spec, dict) else None
            parameters[f"integration.request.{singular}.{name}"] = str(
                mapped or f"method.request.{singular}.{name}"
            )
    if kind == "HTTP_PROXY":
        for key in ("template", "passThrough", "contentHandling"):
            if key in request:
                warn(
                    join(where, key),
                    f"request.{key} does not apply to the HTTP proxy integration (ignored; "
                    "Serverless removes it too)",
                )
        if value.get("response") is not None:
            warn(
                join(at, "response"),
                "http `response` does not apply to the HTTP proxy integration (ignored; "
                "Serverless removes it too): the endpoint's answer is the response",
            )
        return NonProxyIntegration(
            type=kind, uri=uri, http_method=http_method, request_parameters=parameters,
            connection_type=connection[0], connection_id=connection[1],
        )  # fmt: skip
    templates = _request_templates(request, where, problem, join, defaults=kind == "AWS")
    if templates is None:
        return None
    claims = _claims(value.get("authorizer"))
    templates = {
        key: text.replace("extraCognitoPoolClaims", (",".join(claims) + ",") if claims else "")
        for key, text in templates.items()
    }
    passthrough = request.get("passThrough", "NEVER" if kind == "AWS" else None)
    if passthrough is not None and passthrough not in PASSTHROUGH_BEHAVIORS:
        problem(
            join(where, "passThrough"),
            f"request.passThrough {passthrough!r} is not one of API Gateway's behaviours",
            hint="use " + ", ".join(PASSTHROUGH_BEHAVIORS),
        )
        return None
    content_handling = request.get("contentHandling")
    if content_handling is not None and content_handling not in CONTENT_HANDLINGS:
        problem(
            join(where, "contentHandling"),
            f"request.contentHandling {content_handling!r} is not one of "
            + ", ".join(CONTENT_HANDLINGS),
        )
        return None
    response = value.get("response")
    if kind == "HTTP" and response is None:
        problem(
            at,
            "the HTTP integration needs `response` (Serverless v3 fails on an HTTP "
            "integration without it: the method would have no integration response)",
            hint="add response: {statusCodes: {200: {pattern: ''}}}",
        )
        return None
    if kind == "MOCK" and isinstance(response, dict) and "statusCodes" not in response:
        problem(
            join(at, "response"),
            "the MOCK integration's `response` needs `statusCodes` (Serverless v3 fails "
            "without them)",
            hint="e.g. statusCodes: {200: {pattern: '', template: '{\"ok\": true}'}}",
        )
        return None
    if kind == "MOCK" and response is None:
        responses: tuple[tuple[dict[str, Any], ...], tuple[dict[str, Any], ...]] | None = ((), ())
    else:
        responses = _responses(response, join(at, "response"), problem, join, cors_origin,
                               cors_credentials)  # fmt: skip
    if responses is None:
        return None
    asynchronous = kind == "AWS" and bool(value.get("async"))
    if asynchronous:
        parameters["integration.request.header.X-Amz-Invocation-Type"] = "'Event'"
    if kind not in ("AWS", "HTTP"):
        parameters = {}  # MOCK: Serverless passes no request parameters to it
    return NonProxyIntegration(
        type=kind,
        request_templates=templates,
        passthrough=passthrough,
        content_handling=content_handling,
        request_parameters=parameters,
        integration_responses=responses[0],
        method_responses=responses[1],
        asynchronous=asynchronous,
        uri=uri,
        http_method=http_method,
        connection_type=connection[0],
        connection_id=connection[1],
    )


def _connection(
    value: Mapping[str, Any],
    at: str,
    problem: Problem,
    join: Callable[[str, str], str],
    kind: str,
) -> tuple[str | None, str | None] | None:
    """validate.js getConnectionType: `vpc-link` needs `connectionId`; HTTP integrations only."""
    given = value.get("connectionType")
    if given is None or kind not in ("HTTP", "HTTP_PROXY"):
        return None, None
    normalized = str(given).upper().replace("-", "_", 1)
    if normalized not in ("VPC_LINK", "INTERNET"):
        problem(join(at, "connectionType"), "connectionType is `vpc-link` or `internet`")
        return None
    connection_id = value.get("connectionId")
    if normalized == "VPC_LINK" and not connection_id:
        problem(at, "You need to set connectionId when using VPC_LINK connectionType.")
        return None
    return normalized, str(connection_id) if connection_id else None


def _request_templates(
    request: Mapping[str, Any],
    at: str,
    problem: Problem,
    join: Callable[[str, str], str],
    defaults: bool,
) -> dict[str, str] | None:
    """Serverless' defaults for JSON and form bodies (the Lambda integration's), with
    `request.template` laid over them (a content type set to null removes its default)."""
    templates = {JSON: DEFAULT_JSON_TEMPLATE, FORM: DEFAULT_FORM_TEMPLATE} if defaults else {}
    given = request.get("template")
    if given is None:
        return templates
    if not isinstance(given, dict):
        problem(
            join(at, "template"),
            "request.template maps content types to templates (text, or null to drop the default)",
        )
        return None
    for kind, text in given.items():
        if text is None:
            templates.pop(str(kind), None)
        elif isinstance(text, str):
            templates[str(kind)] = text
        else:
            problem(join(join(at, "template"), str(kind)), "a request template is text")
            return None
    return templates


def _claims(authorizer: Any) -> list[str]:
    """method/index.js: the Cognito claims an authorizer names, added to the templates."""
    claims = authorizer.get("claims") if isinstance(authorizer, dict) else None
    if not isinstance(claims, list):
        return []
    found = []
    for claim in claims:
        text = str(claim)
        if ":" in text:
            found.append(f'"{text.split(":", 1)[1]}": "$context.authorizer.claims[\'{text}\']"')
        else:
            found.append(f'"{text}": "$context.authorizer.claims.{text}"')
    return found


def _responses(
    response: Any,
    at: str,
    problem: Problem,
    join: Callable[[str, str], str],
    cors_origin: str | None,
    cors_credentials: bool,
) -> tuple[tuple[dict[str, Any], ...], tuple[dict[str, Any], ...]] | None:
    """(integration responses, method responses), as getIntegrationResponses and
    getMethodResponses build them from `response` (defaults: DEFAULT_STATUS_CODES)."""
    if response is None:
        response = {}
    if not isinstance(response, dict):
        problem(at, "http `response` must be a mapping")
        return None
    for key in response:
        if key not in RESPONSE_KEYS:
            problem(
                join(at, key),
                f"response key `{key}` is not one of Serverless' "
                "(headers, template, statusCodes, contentHandling)",
            )
            return None
    headers = response.get("headers") or {}
    if not _text_map(headers):
        problem(join(at, "headers"), "response.headers maps header names to mapping values")
        return None
    template = response.get("template")
    if template is not None and not isinstance(template, str):
        problem(join(at, "template"), "response.template is text")
        return None
    codes = response.get("statusCodes")
    if codes is None:
        codes = {code: {"pattern": pattern} for code, pattern in DEFAULT_STATUS_CODES.items()}
    elif not isinstance(codes, dict):
        problem(join(at, "statusCodes"), "response.statusCodes maps status codes to settings")
        return None
    else:
        codes = {str(code): spec if spec is not None else {} for code, spec in codes.items()}
        if not any(isinstance(s, dict) and s.get("pattern") == "" for s in codes.values()):
            codes["200"] = {"pattern": ""}
    shared: dict[str, str] = {}
    if cors_origin is not None:
        shared["Access-Control-Allow-Origin"] = f"'{cors_origin}'"
        if cors_credentials:
            shared["Access-Control-Allow-Credentials"] = "'true'"
    shared.update({str(k): str(v) for k, v in headers.items()})
    integration_responses = []
    method_responses = []
    for code, spec in codes.items():
        where = join(join(at, "statusCodes"), code)
        if not isinstance(spec, dict) or not (code.isdigit() and len(code) == 3):
            problem(where, "a status code (three digits) maps to pattern, headers and template")
            return None
        own_headers = spec.get("headers") or {}
        if not _text_map(own_headers):
            problem(join(where, "headers"), "headers map header names to mapping values")
            return None
        pattern = spec.get("pattern") or ""
        if not isinstance(pattern, str):
            problem(join(where, "pattern"), "a selection pattern is a regular expression (text)")
            return None
        names = {**shared, **{str(k): str(v) for k, v in own_headers.items()}}
        templates: dict[str, str] = {}
        if template is not None:
            templates[JSON] = template
        own_template = spec.get("template")
        if isinstance(own_template, str):
            templates[JSON] = own_template
        elif isinstance(own_template, dict) and _text_map(own_template):
            templates.update({str(k): str(v) for k, v in own_template.items()})
        elif own_template is not None:
            problem(join(where, "template"), "a template is text or maps content types to text")
            return None
        integration_response: dict[str, Any] = {
            "statusCode": code,
            "selectionPattern": pattern,
            "responseParameters": {f"method.response.header.{k}": v for k, v in names.items()},
            "responseTemplates": templates,
        }
        if code.startswith("2") and response.get("contentHandling"):
            integration_response["contentHandling"] = str(response["contentHandling"])
        integration_responses.append(integration_response)
        method_responses.append(
            {
                "statusCode": code,
                "responseParameters": {f"method.response.header.{k}": True for k in names},
                "responseModels": {},
            }
        )
    return tuple(integration_responses), tuple(method_responses)


def _text_map(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
