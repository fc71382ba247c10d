"""A function's http event with a non-proxy integration, compiled as Serverless v3 compiles it
(lib/plugins/aws/package/compile/events/api-gateway: validate.js, method/integration.js and
method/responses.js, v3.38): `integration: lambda` (API Gateway's AWS integration to the
function) and `async: true` (the same, invoking with `X-Amz-Invocation-Type: Event`).

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
LAMBDA_INTEGRATIONS = ("LAMBDA", "AWS")
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

    type: str  # AWS
    request_templates: dict[str, str] = field(default_factory=dict)
    passthrough: str | None = None
    content_handling: str | None = None
    # integration.request.<location>.<name> -> method.request... or a 'static' value
    request_parameters: dict[str, str] = field(default_factory=dict)
    integration_responses: tuple[dict[str, Any], ...] = ()
    method_responses: tuple[dict[str, Any], ...] = ()
    asynchronous: bool = False


Problem = Callable[..., None]  # (pointer, message, hint=...) of the events reader


def integration_type(value: Mapping[str, Any]) -> str:
    """validate.js getIntegration: `lambda` is AWS, `lambda-proxy` AWS_PROXY; `async` alone
    means AWS; nothing means AWS_PROXY."""
    given = value.get("integration")
    if given is not None:
        normalized = str(given).upper().replace("-", "_", 1)
        return {"LAMBDA": "AWS", "LAMBDA_PROXY": "AWS_PROXY"}.get(normalized, normalized)
    return "AWS" if value.get("async") else "AWS_PROXY"


def read_lambda_integration(
    value: Mapping[str, Any],
    at: str,
    problem: Problem,
    warn: Callable[[str, str], None],
    join: Callable[[str, str], str],
    cors_origin: str | None,
    cors_credentials: bool,
) -> NonProxyIntegration | None:
    """The AWS (Lambda) integration of an http event, or None after a problem."""
    request = value.get("request") or {}
    if not isinstance(request, dict):
        problem(join(at, "request"), "http `request` must be a mapping")
        return None
    for key in request:
        if key not in REQUEST_KEYS:
            warn(join(join(at, "request"), key), f"request key `{key}` is unknown (ignored)")
    for key in ("schemas", "schema"):
        if key in request:
            warn(
                join(join(at, "request"), key),
                "request schemas (API Gateway request validation) are not deployed by the "
                "toolkit yet (ignored: requests are not validated)",
            )
    for key in ("uri", "method"):
        if key in request:
            warn(
                join(join(at, "request"), key),
                f"request.{key} applies to HTTP integrations only (ignored, as Serverless "
                "ignores it for the Lambda integration)",
            )
    templates = _request_templates(request, join(at, "request"), problem, join)
    if templates is None:
        return None
    claims = _claims(value.get("authorizer"))
    templates = {
        kind: text.replace("extraCognitoPoolClaims", (",".join(claims) + ",") if claims else "")
        for kind, text in templates.items()
    }
    passthrough = request.get("passThrough", "NEVER")
    if passthrough not in PASSTHROUGH_BEHAVIORS:
        problem(
            join(join(at, "request"), "passThrough"),
            f"request.passThrough {passthrough!r} is not one of API Gateway's behaviours",
            hint="use " + ", ".join(PASSTHROUGH_BEHAVIORS),
        )
        return None
    content_handling = request.get("contentHandling")
    if content_handling is not None and content_handling not in CONTENT_HANDLINGS:
        problem(
            join(join(at, "request"), "contentHandling"),
            f"request.contentHandling {content_handling!r} is not one of "
            + ", ".join(CONTENT_HANDLINGS),
        )
        return None
    responses = _responses(
        value.get("response"), join(at, "response"), problem, join, cors_origin, cors_credentials
    )
    if responses is None:
        return None
    parameters: dict[str, str] = {}
    for location, names in (request.get("parameters") or {}).items():
        singular = str(location)[:-1]
        for name, spec in (names or {}).items() if isinstance(names, dict) else ():
            mapped = spec.get("mappedValue") if isinstance(spec, dict) else None
            parameters[f"integration.request.{singular}.{name}"] = str(
                mapped or f"method.request.{singular}.{name}"
            )
    asynchronous = bool(value.get("async"))
    if asynchronous:
        parameters["integration.request.header.X-Amz-Invocation-Type"] = "'Event'"
    return NonProxyIntegration(
        type="AWS",
        request_templates=templates,
        passthrough=passthrough,
        content_handling=content_handling,
        request_parameters=parameters,
        integration_responses=responses[0],
        method_responses=responses[1],
        asynchronous=asynchronous,
    )


def _request_templates(
    request: Mapping[str, Any], at: str, problem: Problem, join: Callable[[str, str], str]
) -> dict[str, str] | None:
    """Serverless' defaults for JSON and form bodies, with `request.template` laid over them
    (a content type set to null removes its default)."""
    templates = {JSON: DEFAULT_JSON_TEMPLATE, FORM: DEFAULT_FORM_TEMPLATE}
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
