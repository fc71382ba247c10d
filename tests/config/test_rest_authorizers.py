"""REST API authorizers the deploy makes for http events (functions' as Serverless v3 reads
them, state machines' as serverless-step-functions does): every form formerly refused is read,
bad forms are problems at their line (issue 15)."""

from __future__ import annotations

from pathlib import Path

from tooling.config.rest_authorizers import DEFAULT_IDENTITY_SOURCE, RestAuthorizer
from tooling.config.service import ServiceConfig, load_service

BASE = (
    "service: s\nprovider:\n  name: aws\nfunctions:\n"
    "  auth:\n    handler: handler.auth\n"
    "  hello:\n    handler: handler.hello\n    events:\n"
)
MACHINE = (
    "stepFunctions:\n  stateMachines:\n    m:\n      definition:\n"
    "        StartAt: A\n        States: {A: {Type: Pass, End: true}}\n"
    "      events:\n"
)
POOL = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_abc"
LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:other-dev-checkToken"


def load(tmp_path: Path, events: str, machine_events: str = "") -> ServiceConfig:
    text = BASE + events
    if machine_events:
        text += MACHINE + machine_events
    (tmp_path / "serverless.yml").write_text(text)
    return load_service(tmp_path, env={})


def problems(service: ServiceConfig) -> list[str]:
    return [p.render() for p in service.problems]


def test_every_form_serverless_creates_is_read(tmp_path: Path) -> None:
    service = load(
        tmp_path,
        "      - http: {path: a, method: get, authorizer: auth}\n"
        f"      - http: {{path: b, method: get, authorizer: '{LAMBDA}'}}\n"
        f"      - http: {{path: c, method: get, authorizer: '{POOL}'}}\n"
        "      - http:\n"
        "          path: d\n"
        "          method: get\n"
        "          authorizer:\n"
        "            name: auth\n"
        "            type: request\n"
        "            resultTtlInSeconds: 0\n"
        "            managedExternally: true\n"
        "      - http:\n"
        "          path: e\n"
        "          method: get\n"
        "          authorizer:\n"
        f"            arn: '{POOL}'\n"
        "            name: pool\n"
        "            scopes: [email, openid]\n"
        "            identitySource: method.request.header.X-Token\n"
        "      - http:\n"
        "          path: f\n"
        "          method: get\n"
        "          authorizer:\n"
        "            name: checker\n"
        f"            arn: '{LAMBDA}'\n"
        "            type: TOKEN\n"
        "            resultTtlInSeconds: 60\n"
        "            identityValidationExpression: '^Bearer .+$'\n",
    )
    assert problems(service) == []
    (merged,) = service.warnings  # `auth` twice, set differently: one authorizer
    assert "authorizer 'auth' is set differently at line 10" in merged
    a, b, c, d, e, f = service.functions["hello"].events.http
    assert (a.authorization_type, a.authorizer_id) == ("CUSTOM", None)
    assert a.authorizer == RestAuthorizer(
        name="auth", type="TOKEN", function="auth", location=("serverless.yml", 10, 50)
    )
    assert a.authorizer.logical_id == "AuthApiGatewayAuthorizer"
    assert b.authorizer is not None
    assert (b.authorizer.name, b.authorizer.type, b.authorizer.arn) == ("checkToken", "TOKEN",
                                                                        LAMBDA)  # fmt: skip
    assert c.authorization_type == "COGNITO_USER_POOLS"
    assert c.authorizer is not None and c.authorizer.cognito
    assert (c.authorizer.name, c.authorizer.arn) == ("1_abc", POOL)  # extractAuthorizerNameFromArn
    assert d.authorizer is not None
    assert (d.authorizer.type, d.authorizer.result_ttl, d.authorizer.identity_source) == (
        "REQUEST", 0, None,  # a REQUEST authorizer caching nothing needs no identity source
    )  # fmt: skip
    assert d.authorizer.managed_externally
    assert e.authorization_scopes == ("email", "openid")
    assert e.authorizer is not None and e.authorizer.name == "pool"
    assert e.authorizer.identity_source == "method.request.header.X-Token"
    assert f.authorizer is not None
    assert (f.authorizer.result_ttl, f.authorizer.identity_validation_expression) == (
        60, "^Bearer .+$",
    )  # fmt: skip
    assert f.authorizer.identity_source == DEFAULT_IDENTITY_SOURCE


def test_state_machines_authorizers_as_the_plugin_reads_them(tmp_path: Path) -> None:
    service = load(
        tmp_path,
        "      - http: {path: a, method: get, authorizer: auth}\n",
        "        - http: {path: start, method: post, authorizer: auth}\n"
        f"        - http: {{path: pool, method: post, authorizer: {{arn: '{POOL}', "
        "scopes: [s1]}}\n",
    )
    assert problems(service) == []
    start, pool = service.state_machines["m"].events.http
    assert start.authorization_type == "CUSTOM"
    assert start.authorizer == RestAuthorizer(
        name="auth", type="TOKEN", function="auth", location=("serverless.yml", 18, 57)
    )
    assert (pool.authorization_type, pool.authorization_scopes) == ("COGNITO_USER_POOLS", ("s1",))


def test_bad_forms_are_problems_at_their_line(tmp_path: Path) -> None:
    service = load(
        tmp_path,
        "      - http: {path: a, method: get, authorizer: nosuchFunction}\n"
        "      - http: {path: b, method: get, authorizer: {name: auth, resultTtlInSeconds: 4000}}\n"
        "      - http: {path: c, method: get, authorizer: {type: request}}\n"
        "      - http: {path: d, method: get, authorizer: {name: auth, type: oauth}}\n"
        "      - http: {path: e, method: get, authorizer: {name: auth, identitySource: "
        "'method.request.querystring.t'}}\n"
        "      - http: {path: f, method: get, authorizer: {name: auth, type: request, "
        "identitySource: 'header.x'}}\n"
        f"      - http: {{path: g, method: get, authorizer: {{arn: '{POOL}', claims: [email]}}}}\n"
        "      - http: {path: h, method: get, authorizer: 'arn:aws:sqs:us-east-1:1:q'}\n"
        "      - http: {path: i, method: get, authorizer: {name: auth, managedExternally: yes1}}\n"
        "      - http: {path: j, method: get, authorizer: {arn: {'Fn::GetAtt': [Pool, Arn]}}}\n",
    )
    found = [(p.line, p.message.split(": ", 1)[1]) for p in service.problems]
    expected = [
        (11, "authorizer resultTtlInSeconds must be an integer from 0 to 3"),
        (12, "an authorizer needs a `name` (a function of this service) or"),
        (13, "authorizer type 'oauth' is not one Serverless knows"),
        (14, "a TOKEN authorizer's identitySource is one header, `method.r"),
        (15, "identity source 'header.x' is not one API Gateway takes"),
        (16, "Cognito claims can only be filtered when using the lambda in"),
        (17, "authorizer ARN 'arn:aws:sqs:us-east-1:1:q' is neither a Lamb"),
        (18, "managedExternally must be true or false"),
        (19, "an authorizer whose `arn` is an intrinsic needs a `name` (Se"),
        (10, "authorizer function 'nosuchFunction' does not exist in this s"),
    ]
    assert len(found) == len(expected)
    for (line, message), (want_line, start) in zip(found, expected, strict=True):
        assert (line, message[: len(start) - 3]) == (want_line, start[:-3])
    rendered = problems(service)
    assert rendered[0].startswith("serverless.yml:11:")
    assert rendered[-1].startswith("serverless.yml:10:50: function 'hello': authorizer function")


def test_one_name_is_one_authorizer_and_differences_are_warned(tmp_path: Path) -> None:
    service = load(
        tmp_path,
        "      - http: {path: a, method: get, authorizer: auth}\n"
        "      - http: {path: b, method: get, authorizer: {name: auth}}\n"
        "      - http: {path: c, method: get, authorizer: {name: auth, resultTtlInSeconds: 0}}\n",
    )
    assert problems(service) == []
    (warning,) = service.warnings
    assert warning.startswith("serverless.yml:12:")
    assert "authorizer 'auth' is set differently at line 11" in warning
    assert "AuthApiGatewayAuthorizer" in warning


def test_keys_an_authorizer_does_not_use_are_warned(tmp_path: Path) -> None:
    service = load(
        tmp_path,
        "      - http: {path: a, method: get, authorizer: {name: auth, scopes: [x], claims: [y], "
        "color: red}}\n",
    )
    assert problems(service) == []
    assert [w.split(": ", 2)[2][:45] for w in service.warnings] == [
        "authorizer key `color` is unknown to Serverle",
        "authorizer scopes apply to Cognito user pool ",
        "authorizer claims filter the claims of the no",
    ]


def test_an_authorizer_id_naming_the_logical_id_of_a_made_one_is_that_one(
    tmp_path: Path,
) -> None:
    """Serverless' template has `<Name>ApiGatewayAuthorizer` for `authorizer: <name>`; another
    event's `authorizerId: {Ref: ...}` names that authorizer, and so may resources: (the
    authorizer is then made before the stack: tests/aws)."""
    service = load(
        tmp_path,
        "      - http: {path: a, method: get, authorizer: auth}\n"
        "      - http:\n"
        "          path: b\n"
        "          method: get\n"
        "          authorizer: {type: TOKEN, authorizerId: {Ref: AuthApiGatewayAuthorizer}}\n",
        "        - http:\n"
        "            path: c\n"
        "            method: post\n"
        "            authorizer: {type: request, authorizerId: {Ref: AuthApiGatewayAuthorizer}}\n",
    )
    assert problems(service) == [] and service.warnings == ()
    _, b = service.functions["hello"].events.http
    (c,) = service.state_machines["m"].events.http
    for event in (b, c):
        assert (event.authorization_type, event.authorizer_id) == ("CUSTOM", None)
        assert event.authorizer is not None and event.authorizer.reference
        assert event.authorizer.name == "auth"

    (tmp_path / "serverless.yml").write_text(
        BASE + "      - http: {path: a, method: get, authorizer: auth}\n"
        "resources:\n  Outputs:\n    A:\n      Value: {Ref: AuthApiGatewayAuthorizer}\n"
        "    B:\n      Value: {Fn::GetAtt: [AuthApiGatewayAuthorizer, AuthorizerId]}\n"
        "    C:\n      Value: {Ref: OtherApiGatewayAuthorizer}\n"
    )
    named = load_service(tmp_path, env={})
    (problem,) = problems(named)  # only the one no event makes
    assert problem.startswith("serverless.yml:18:20:") and "OtherApiGatewayAuthorizer" in problem
    assert named.resources is not None
    assert "AuthApiGatewayAuthorizer" in named.resources.names_service


def test_claims_go_with_the_lambda_integration(tmp_path: Path) -> None:
    """Serverless refuses Cognito `claims` with the Lambda proxy integration only; the Lambda
    integration's request template uses them."""
    service = load(
        tmp_path,
        f"      - http: {{path: a, method: get, integration: lambda, authorizer: {{arn: '{POOL}', "
        "claims: [email]}}\n",
    )
    assert problems(service) == [] and service.warnings == ()
    (event,) = service.functions["hello"].events.http
    assert event.authorizer is not None and event.authorizer.cognito
