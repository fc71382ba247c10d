"""Functions' `http` events, read as Serverless v3 reads them (the Lambda proxy integration),
the other event types warned about by key and line; what the toolkit would deploy differently
(other integrations) is a problem at its line (issue 15)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tooling.config.events import Cors
from tooling.config.function_events import READERS
from tooling.config.function_http_events import FUNCTION_CORS_HEADERS, FunctionHttpEvent
from tooling.config.resources import StackValues
from tooling.config.service import ServiceConfig, load_service

DEPLOYED = ", ".join(sorted(READERS))  # what the warning about other event types lists
BASE = "service: s\nprovider:\n  name: aws\nfunctions:\n  hello:\n    handler: handler.hello\n"


def load(tmp_path: Path, events: str, extra: str = "", **kwargs: Any) -> ServiceConfig:
    (tmp_path / "serverless.yml").write_text(BASE + "    events:\n" + events + extra)
    kwargs.setdefault("env", {})
    return load_service(tmp_path, **kwargs)


def problems(service: ServiceConfig) -> list[str]:
    return [p.render() for p in service.problems]


def test_the_short_form_and_the_mapping(tmp_path: Path) -> None:
    service = load(
        tmp_path,
        "      - http: GET users/{id}\n"
        "      - http:\n"
        "          path: /users/\n"
        "          method: any\n"
        "          private: true\n"
        "          request:\n"
        "            parameters:\n"
        "              querystrings: {page: false, q: true}\n"
        "              headers: {X-Trace: {required: true}}\n"
        "              paths: {id: true}\n",
    )
    assert problems(service) == [] and service.warnings == ()
    first, second = service.functions["hello"].events.http
    assert (first.path, first.method, first.cors, first.private) == ("users/{id}", "GET", None,
                                                                     False)  # fmt: skip
    assert first.location == ("serverless.yml", 8, 15)
    assert (second.path, second.method, second.private) == ("users", "ANY", True)
    assert second.request_parameters == {
        "method.request.querystring.page": False,
        "method.request.querystring.q": True,
        "method.request.header.X-Trace": True,
        "method.request.path.id": True,
    }
    assert service.api is not None and service.api.name == "dev-s"


def test_cors_true_and_a_mapping_as_serverless_reads_them(tmp_path: Path) -> None:
    service = load(
        tmp_path,
        "      - http: {path: a, method: post, cors: true}\n"
        "      - http:\n"
        "          path: b\n"
        "          method: get\n"
        "          cors:\n"
        "            origins: ['https://a.example', 'https://b.example']\n"
        "            headers: X-Custom\n"
        "            allowCredentials: true\n"
        "            maxAge: 86400\n"
        "            cacheControl: max-age=600\n",
    )
    assert problems(service) == []
    first, second = service.functions["hello"].events.http
    assert first.cors == Cors("*", FUNCTION_CORS_HEADERS, ("OPTIONS", "POST"), False,
                              credentials_always=False)  # fmt: skip
    assert second.cors == Cors(
        origin="https://a.example,https://b.example",
        headers=("X-Custom",),
        methods=("OPTIONS", "GET"),
        allow_credentials=True,
        max_age=86400,
        cache_control="max-age=600",
        credentials_always=False,
    )


def test_authorizers_it_deploys(tmp_path: Path) -> None:
    service = load(
        tmp_path,
        "      - http: {path: a, method: get, authorizer: aws_iam}\n"
        "      - http: {path: b, method: get, authorizer: {type: AWS_IAM}}\n"
        "      - http:\n"
        "          path: c\n"
        "          method: get\n"
        "          authorizer: {type: token, authorizerId: abc123, identitySource: x}\n"
        "      - http:\n"
        "          path: d\n"
        "          method: get\n"
        "          authorizer:\n"
        "            type: COGNITO_USER_POOLS\n"
        "            authorizerId: {Ref: Authorizer}\n"
        "            scopes: email\n",
        "resources:\n  Resources:\n    Authorizer:\n"
        "      Type: AWS::ApiGateway::Authorizer\n"
        "      Properties:\n"
        "        {Name: a, Type: COGNITO_USER_POOLS, RestApiId: {Ref: ApiGatewayRestApi}}\n",
        resource_values=StackValues(verb="deployed"),  # as tool's commands load it
    )
    assert problems(service) == []
    a, b, c, d = service.functions["hello"].events.http
    assert (a.authorization_type, b.authorization_type) == ("AWS_IAM", "AWS_IAM")
    assert (c.authorization_type, c.authorizer_id, c.authorization_scopes) == ("CUSTOM", "abc123",
                                                                               ())  # fmt: skip
    assert d.authorization_type == "COGNITO_USER_POOLS"
    assert d.authorizer_id == "<Authorizer: known after the stack is deployed>"
    assert d.authorization_scopes == ("email",)
    ignored, scopes = service.warnings
    assert ignored == (
        "serverless.yml:13:75: function 'hello': authorizer.identitySource shapes an authorizer "
        "Serverless creates; with `authorizerId` it is ignored (as Serverless ignores it)"
    )
    assert scopes.startswith("serverless.yml:20:21: function 'hello': authorizer.scopes should")
    assert [ref.logical_id for ref in service.resource_references] == ["Authorizer"]


def test_what_it_would_deploy_differently_is_refused_at_its_line(tmp_path: Path) -> None:
    service = load(
        tmp_path,
        "      - http: {path: a, method: get, authorizer: myAuthorizerFunction}\n"
        "      - http: {path: b, method: get, authorizer: {arn: 'arn:aws:cognito-idp:us-east-1:1:userpool/x'}}\n"  # noqa: E501
        "      - http: {path: c, method: get, integration: soap}\n"
        "      - http: {path: d, method: get, integration: lambda-proxy, async: true}\n"
        "      - http: {path: e, method: fetch}\n"
        "      - http: {path: 'f g', method: get}\n",
    )
    assert [(p.line, p.column, p.message.split(": ", 1)[1][:45]) for p in service.problems] == [
        (10, 51, "http integration 'soap' is not one of Serverl"),
        (11, 72, "http `async: true` goes with the Lambda integ"),
        (12, 33, "http method 'fetch' is not one API Gateway ta"),
        (13, 22, "path part 'f g' is not a valid API Gateway pa"),
        (8, 50, "authorizer function 'myAuthorizerFunction' do"),  # checked once all are read
    ]
    # the Cognito pool's authorizer (line 9) is made by the deploy (tests/config/
    # test_rest_authorizers.py)
    assert [e.path for e in service.functions["hello"].events.http] == ["a", "b"]


def test_what_serverless_drops_or_does_not_know_is_warned_by_key_and_line(tmp_path: Path) -> None:
    service = load(
        tmp_path,
        "      - http:\n"
        "          path: a\n"
        "          method: get\n"
        "          integration: lambda-proxy\n"
        "          response: {headers: {X: 'a'}}\n"
        "          request: {template: {application/json: '{}'}, schemas: {application/json: {}}}\n"
        "          operationId: getA\n"
        "          timeout: 3\n"
        "      - iot: photos\n"
        "      - made-up: 1\n",
    )
    assert problems(service) == []
    assert [w.split(": function 'hello': ") for w in service.warnings] == [
        ["serverless.yml:15:20", "http key `timeout` is unknown to Serverless (ignored)"],
        [
            "serverless.yml:12:21",
            "http `response` does not apply to the Lambda proxy integration (ignored; "
            "Serverless removes it too): the handler's result is the response",
        ],
        [
            "serverless.yml:13:31",
            "request.template does not apply to the Lambda proxy integration (ignored; "
            "Serverless removes it too)",
        ],
        [
            "serverless.yml:13:66",
            "request schemas (API Gateway request validation) are not deployed by the toolkit "
            "yet (ignored: requests are not validated)",
        ],
        [
            "serverless.yml:14:24",
            "http `operationId` (the method's OperationName) is not deployed by the toolkit yet "
            "(ignored)",
        ],
        [
            "serverless.yml:16:9",
            "`iot` events of functions are not supported by the toolkit yet (ignored; it deploys "
            f"{DEPLOYED} events)",
        ],
        [
            "serverless.yml:17:9",
            "`made-up` events of functions are not supported by the toolkit yet (ignored; it "
            f"deploys {DEPLOYED} events)",
        ],
    ]
    (event,) = service.functions["hello"].events.http
    assert event == FunctionHttpEvent("a", "GET", location=event.location)


def test_one_rest_api_answers_a_path_and_method_once(tmp_path: Path) -> None:
    """As Serverless and the plugin merge two methods of one logical id: the state machine's
    over a function's, a later function's over an earlier one's (vs-httpmachine's pattern)."""
    service = load(
        tmp_path,
        "      - http: POST orders\n      - http: GET items\n",
        "  other:\n    handler: handler.hello\n    events:\n      - http: post /orders\n"
        "      - http: GET items\n"
        "stepFunctions:\n  stateMachines:\n    m:\n"
        "      definition: {StartAt: A, States: {A: {Type: Pass, End: true}}}\n"
        "      events:\n        - http: POST orders\n",
    )
    assert problems(service) == []
    assert service.functions["hello"].events.http == ()
    (kept,) = service.functions["other"].events.http
    assert (kept.method, kept.path) == ("GET", "items")
    said = [
        w.split(": http event ")[0] + ": " + w.split(" is answered by ")[1].split(" (")[0]
        for w in service.warnings
    ]
    assert said == [
        "serverless.yml:8:15: function 'hello': state machine 'm''s",
        "serverless.yml:9:15: function 'hello': function 'other''s",
        "serverless.yml:13:15: function 'other': state machine 'm''s",
    ]


def test_provider_api_settings_name_the_shared_api(tmp_path: Path) -> None:
    (tmp_path / "serverless.yml").write_text(
        "service: s\nprovider:\n  name: aws\n  stage: prod\n"
        "  apiGateway: {shouldStartNameWithService: true}\n  endpointType: regional\n"
        "functions:\n  hello:\n    handler: handler.hello\n    events:\n      - http: GET /\n"
    )
    service = load_service(tmp_path, env={})
    assert service.api is not None
    assert (service.api.name, service.api.endpoint_type) == ("s-prod", "REGIONAL")
    (event,) = service.functions["hello"].events.http
    assert (event.path, event.method) == ("", "GET")


def test_a_shared_rest_api_keeps_the_functions_http_events(tmp_path: Path) -> None:
    (tmp_path / "serverless.yml").write_text(
        "service: s\nprovider:\n  name: aws\n"
        "  apiGateway:\n    restApiId: abc123\n    restApiRootResourceId: root1\n"
        "    restApiResources: {/users: res1, 'posts/{id}': res2}\n"
        "functions:\n  hello:\n    handler: handler.hello\n    events:\n      - http: GET /a\n"
        "      - http: GET /b\n"
    )
    service = load_service(tmp_path, env={})
    assert problems(service) == []
    assert [e.path for e in service.functions["hello"].events.http] == ["a", "b"]
    assert service.api is not None
    assert (service.api.rest_api_id, service.api.root_resource_id) == ("abc123", "root1")
    assert service.api.predefined_resources == (("users", "res1"), ("posts/{id}", "res2"))
    assert not [w for w in service.warnings if "restApi" in w]


def test_a_shared_rest_api_id_from_another_services_export(tmp_path: Path) -> None:
    (tmp_path / "serverless.yml").write_text(
        "service: s\nprovider:\n  name: aws\n  apiGateway:\n"
        "    restApiId: {Fn::ImportValue: other-restApiId}\n"
        "functions:\n  hello:\n    handler: handler.hello\n    events:\n      - http: GET /a\n"
    )
    (problem,) = problems(load_service(tmp_path, env={}))  # no export is read here
    assert problem.startswith(
        "serverless.yml:5:34: provider.apiGateway.restApiId: Fn::ImportValue 'other-restApiId'"
    )


@pytest.mark.parametrize(
    ("gateway", "expected"),
    [
        (
            "{restApiId: [a]}",
            "serverless.yml:4:27: provider.apiGateway.restApiId must be an id (text, or an "
            "intrinsic such as Fn::ImportValue giving one); got ['a']",
        ),
        (
            "{restApiRootResourceId: r1}",
            "serverless.yml:4:39: provider.apiGateway.restApiRootResourceId needs "
            "provider.apiGateway.restApiId (the API those resources belong to) (add restApiId, "
            "or drop this key to let the toolkit make the REST API)",
        ),
        (
            "{restApiId: a, restApiResources: [r1]}",
            "serverless.yml:4:48: provider.apiGateway.restApiResources must be a mapping of "
            "paths to the ids of existing resources (e.g. /users: abc123); got list",
        ),
        (
            "{restApiId: a, restApiResources: {/users: 5}}",
            "serverless.yml:4:57: provider.apiGateway.restApiResources['/users'] must be the id "
            "of an existing resource (text); got 5",
        ),
    ],
)
def test_bad_shared_rest_api_settings(tmp_path: Path, gateway: str, expected: str) -> None:
    (tmp_path / "serverless.yml").write_text(
        f"service: s\nprovider:\n  name: aws\n  apiGateway: {gateway}\n"
        "functions:\n  hello:\n    handler: handler.hello\n    events:\n      - http: GET /a\n"
    )
    assert problems(load_service(tmp_path, env={})) == [expected]


def test_the_lambda_integration_as_serverless_compiles_it(tmp_path: Path) -> None:
    from tooling.config.function_http_integrations import (
        DEFAULT_FORM_TEMPLATE,
        DEFAULT_JSON_TEMPLATE,
        DEFAULT_STATUS_CODES,
    )

    service = load(
        tmp_path,
        "      - http: {path: a, method: post, integration: lambda}\n"
        "      - http:\n"
        "          path: b\n"
        "          method: post\n"
        "          integration: LAMBDA\n"
        "          cors: true\n"
        "          request:\n"
        "            passThrough: WHEN_NO_TEMPLATES\n"
        "            parameters: {querystrings: {page: {required: false, mappedValue: \"'1'\"}}}\n"
        "            template:\n"
        '              text/plain: \'{"text": "$input.body"}\'\n'
        "              application/x-www-form-urlencoded: null\n"
        "          response:\n"
        "            headers: {X-Kind: \"'cake'\"}\n"
        "            template: $input.path('$.body')\n"
        "            statusCodes:\n"
        "              201: {pattern: ''}\n"
        "              409: {pattern: '.*exists.*', template: {application/json: '{}'},\n"
        "                    headers: {X-Why: integration.response.body.errorMessage}}\n"
        "      - http: {path: c, method: post, async: true}\n",
    )
    assert problems(service) == [] and service.warnings == ()
    a, b, c = service.functions["hello"].events.http
    assert a.integration is not None and b.integration is not None and c.integration is not None
    assert a.integration.request_templates == {
        "application/json": DEFAULT_JSON_TEMPLATE.replace("extraCognitoPoolClaims", ""),
        "application/x-www-form-urlencoded": DEFAULT_FORM_TEMPLATE.replace(
            "extraCognitoPoolClaims", ""
        ),
    }
    assert a.integration.passthrough == "NEVER" and not a.integration.asynchronous
    assert [r["statusCode"] for r in a.integration.integration_responses] == list(
        DEFAULT_STATUS_CODES
    )
    assert a.integration.integration_responses[1]["selectionPattern"] == r"[\s\S]*\[400\][\s\S]*"
    assert b.integration.passthrough == "WHEN_NO_TEMPLATES"
    assert set(b.integration.request_templates) == {"application/json", "text/plain"}
    assert b.integration.request_parameters == {"integration.request.querystring.page": "'1'"}
    created, conflict = b.integration.integration_responses
    assert created == {
        "statusCode": "201",
        "selectionPattern": "",
        "responseParameters": {
            "method.response.header.Access-Control-Allow-Origin": "'*'",
            "method.response.header.X-Kind": "'cake'",
        },
        "responseTemplates": {"application/json": "$input.path('$.body')"},
    }
    assert conflict["selectionPattern"] == ".*exists.*"
    assert conflict["responseTemplates"] == {"application/json": "{}"}
    assert conflict["responseParameters"]["method.response.header.X-Why"] == (
        "integration.response.body.errorMessage"
    )
    assert [r["responseParameters"] for r in b.integration.method_responses][1] == {
        "method.response.header.Access-Control-Allow-Origin": True,
        "method.response.header.X-Kind": True,
        "method.response.header.X-Why": True,
    }
    assert c.integration.asynchronous
    assert c.integration.request_parameters == {
        "integration.request.header.X-Amz-Invocation-Type": "'Event'"
    }


def test_status_codes_without_a_default_get_serverless_200(tmp_path: Path) -> None:
    service = load(
        tmp_path,
        "      - http:\n"
        "          path: a\n"
        "          method: get\n"
        "          integration: lambda\n"
        "          response: {statusCodes: {404: {pattern: '.*not found.*'}}}\n",
    )
    (event,) = service.functions["hello"].events.http
    assert event.integration is not None
    responses = event.integration.integration_responses
    assert [(r["statusCode"], r["selectionPattern"]) for r in responses] == [
        ("404", ".*not found.*"),
        ("200", ""),
    ]


def test_bad_lambda_integration_settings_are_refused_at_their_line(tmp_path: Path) -> None:
    service = load(
        tmp_path,
        "      - http:\n"
        "          path: a\n"
        "          method: get\n"
        "          integration: lambda\n"
        "          request: {passThrough: SOMETIMES}\n"
        "      - http:\n"
        "          path: b\n"
        "          method: get\n"
        "          integration: lambda\n"
        "          response: {statusCodes: {abc: {pattern: x}}}\n",
    )
    assert [(p.line, p.message.split(": ", 1)[1][:40]) for p in service.problems] == [
        (12, "request.passThrough 'SOMETIMES' is not o"),
        (17, "a status code (three digits) maps to pat"),
    ]


def test_http_http_proxy_and_mock_integrations(tmp_path: Path) -> None:
    service = load(
        tmp_path,
        "      - http:\n"
        "          path: files/{proxy+}\n"
        "          method: any\n"
        "          integration: http-proxy\n"
        "          request:\n"
        "            uri: https://example.com/{proxy}\n"
        "            parameters: {paths: {proxy: true}}\n"
        "      - http:\n"
        "          path: items\n"
        "          method: get\n"
        "          integration: http\n"
        "          connectionType: vpc-link\n"
        "          connectionId: abc12\n"
        "          request: {uri: 'http://internal/items', method: post}\n"
        "          response: {template: '$input.body'}\n"
        "      - http:\n"
        "          path: ping\n"
        "          method: get\n"
        "          integration: mock\n"
        "          request: {template: {application/json: '{\"statusCode\": 200}'}}\n"
        "          response: {statusCodes: {200: {pattern: '', template: pong}}}\n",
    )
    assert problems(service) == [] and service.warnings == ()
    proxy, http, mock = (e.integration for e in service.functions["hello"].events.http)
    assert proxy is not None and http is not None and mock is not None
    assert (proxy.type, proxy.uri, proxy.http_method) == (
        "HTTP_PROXY", "https://example.com/{proxy}", "ANY")  # fmt: skip
    assert proxy.request_parameters == {
        "integration.request.path.proxy": "method.request.path.proxy"
    }
    assert proxy.integration_responses == () and proxy.request_templates == {}
    assert (http.type, http.http_method, http.connection_type, http.connection_id) == (
        "HTTP", "POST", "VPC_LINK", "abc12")  # fmt: skip
    assert http.passthrough is None and http.request_templates == {}
    assert len(http.integration_responses) == 9  # Serverless' defaults with a `response`
    assert (mock.type, mock.uri) == ("MOCK", None)
    assert mock.request_templates == {"application/json": '{"statusCode": 200}'}
    assert mock.integration_responses[0]["responseTemplates"] == {"application/json": "pong"}


def test_what_serverless_fails_on_for_http_and_mock_is_refused(tmp_path: Path) -> None:
    service = load(
        tmp_path,
        "      - http: {path: a, method: get, integration: http-proxy}\n"
        "      - http: {path: b, method: get, integration: http, request: {uri: 'http://x'}}\n"
        "      - http: {path: c, method: get, integration: mock, response: {template: x}}\n"
        "      - http:\n"
        "          path: d\n"
        "          method: get\n"
        "          integration: http-proxy\n"
        "          connectionType: vpc-link\n"
        "          request: {uri: 'http://x'}\n",
    )
    assert [(p.line, p.message.split(": ", 1)[1][:45]) for p in service.problems] == [
        (8, "the HTTP_PROXY integration needs `request.uri"),
        (9, "the HTTP integration needs `response` (Server"),
        (10, "the MOCK integration's `response` needs `stat"),
        (12, "You need to set connectionId when using VPC_L"),
    ]


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("binaryMediaTypes: [png]", "binaryMediaTypes must be a list of media types"),
        ("minimumCompressionSize: -1", "minimumCompressionSize must be 0 to 10485760"),
        ("apiKeySourceType: COOKIE", "apiKeySourceType must be HEADER or AUTHORIZER"),
    ],
)
def test_the_rest_api_s_settings_serverless_refuses_are_refused_at_their_line(
    tmp_path: Path, setting: str, message: str
) -> None:
    (tmp_path / "handler.py").write_text("def hello(event, context):\n    return {}\n")
    (tmp_path / "serverless.yml").write_text(
        "service: shop\nprovider:\n  name: aws\n  runtime: python3.12\n"
        f"  apiGateway:\n    {setting}\n"
        "functions:\n  hello:\n    handler: handler.hello\n    events:\n      - http: GET hi\n"
    )
    svc = load_service(tmp_path, env={})
    (problem,) = svc.problems
    assert message in str(problem) and problem.line == 6


def test_the_rest_api_s_settings_are_read(tmp_path: Path) -> None:
    (tmp_path / "handler.py").write_text("def hello(event, context):\n    return {}\n")
    (tmp_path / "serverless.yml").write_text(
        "service: shop\nprovider:\n  name: aws\n  runtime: python3.12\n  apiGateway:\n"
        "    binaryMediaTypes: [image/png, image/png, '*/*']\n    minimumCompressionSize: 0\n"
        "    apiKeySourceType: authorizer\n"
        "functions:\n  hello:\n    handler: handler.hello\n    events:\n      - http: GET hi\n"
    )
    svc = load_service(tmp_path, env={})
    assert not svc.problems and not [w for w in svc.warnings if "apiGateway" in w]
    api = svc.api
    assert api is not None
    assert api.binary_media_types == ("image/png", "*/*")
    assert (api.minimum_compression_size, api.api_key_source) == (0, "AUTHORIZER")
