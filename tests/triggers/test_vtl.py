"""API Gateway's mapping templates, rendered by tooling.triggers.vtl: each variable of API
Gateway's reference, Velocity's Java semantics, and the bounds on an untrusted template."""

from __future__ import annotations

import json

import pytest

from tooling.triggers import vtl
from tooling.triggers.vtl import BadRequestBody, TemplateFailure, TemplateInput, render

GIVEN = TemplateInput(
    body='{"pets": [{"id": 1, "type": "dog"}, {"id": 2, "type": "cat"}], "name": "Rex\'s"}',
    path_params={"id": "p1", "shared": "from-path"},
    query={"q": "a b", "shared": "from-query", "only": "query"},
    headers={"Content-Type": "application/json", "X-Trace": "t-1", "only": "header"},
    context={
        "requestId": "r-1",
        "stage": "dev",
        "httpMethod": "POST",
        "resourcePath": "/pets/{id}",
        "identity": {"sourceIp": "127.0.0.1", "apiKey": None},
        "authorizer": {"principalId": "user-9"},
    },
    stage_variables={"env": "test"},
)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("$input.body", GIVEN.body),
        ("$input.json('$.pets[0]')", '{"id":1,"type":"dog"}'),
        ("$input.json('$.pets[*].type')", '["dog","cat"]'),
        ("$input.json('$.missing')", ""),
        ("$input.path('$.pets').size()", "2"),
        ("$input.path('$.pets')[1].type", "cat"),
        ("$input.path('$.name')", "Rex's"),
        ("$input.params('id')", "p1"),
        # path, then query string, then header
        ("$input.params('shared') $input.params('only')", "from-path query"),
        ("$input.params('x-trace')", "t-1"),
        ("$input.params('nothing')|", "|"),
        ("$input.params().querystring.get('q')", "a b"),
        ("$input.params().header.keySet().size()", "3"),
        ("#foreach($k in $input.params().keySet())$k #end", "path querystring header "),
        ("$context.requestId $context.stage $context.httpMethod $context.resourcePath",
         "r-1 dev POST /pets/{id}"),
        ("$context.identity.sourceIp $context.authorizer.principalId", "127.0.0.1 user-9"),
        ("[$context.identity.apiKey][$context.nothing]", "[][]"),
        ("$stageVariables.env $stageVariables.size()", "test 1"),
        ("$util.escapeJavaScript($input.path('$.name'))", "Rex\\'s"),
        ("""$util.escapeJavaScript($input.path('$.name')).replaceAll("\\\\'", "'")""", "Rex's"),
        ("$util.escapeJavaScript('a\"b/c\\d')", 'a\\"b\\/c\\\\d'),
        ("$util.escapeJavaScript('é€')", "\\u00E9\\u20AC"),
        ("$util.urlEncode('a b&c=d/é~*')", "a+b%26c%3Dd%2F%C3%A9%7E*"),
        ("$util.urlDecode('a+b%26c')", "a b&c"),
        ("$util.base64Encode('hé')", "aMOp"),
        ("$util.base64Decode('aMOp')", "hé"),
        ("#set($o = $util.parseJson('{\"k\": {\"arr\": [1, 2]}}'))$o.k.arr[1]", "2"),
    ],
)  # fmt: skip
def test_api_gateways_variables(template: str, expected: str) -> None:
    assert render(template, GIVEN) == expected


def test_java_string_methods_as_velocity_calls_them() -> None:
    template = (
        "#set($s = 'a,b,,c,,')"
        "$s.split(',').size() $s.replaceAll('([ab])', '<$1>') $s.length() "
        "$s.toUpperCase() $s.substring(2, 3) $s.indexOf('b') $s.contains('c')"
    )
    assert render(template, GIVEN) == "4 <a>,<b>,,c,, 8 A,B,,C,, b 2 true"


def test_the_serverless_default_template_gives_json() -> None:
    template = (
        "#set( $body = $util.escapeJavaScript($input.json('$')).replaceAll(\"\\\\'\", \"'\") )"
        '{"input": "$body", "name": "$context.requestId"}'
    )
    rendered = json.loads(render(template, GIVEN))
    assert json.loads(rendered["input"]) == json.loads(GIVEN.body)
    assert rendered["name"] == "r-1"


@pytest.mark.parametrize(
    "template",
    [
        "$s.__class__",
        "#set($s = 'x')$s.__class__.__mro__",
        "#set($s = '{0.__class__}')$s.format($util)",
        "#set($s = 'x')$s.center(50)",
        "$util.__init__.__globals__",
        "$input._given",
    ],
)
def test_nothing_of_python_is_reachable(template: str) -> None:
    assert render(template, GIVEN) == ""


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("#foreach($i in [1..1001])#end", "over 1000 iterations"),
        ("#foreach($i in [1..900])#foreach($j in [1..900])#end#end", "blocks"),
        ("#set($x = 'abcdefgh')#foreach($i in [1..40])#set($x = \"$x$x\")#end", "grew past"),
        ("#set($x = 'ab')#foreach($i in [1..40])#set($x = $x + $x)#end", "grew past"),
        ("#set($x = 'ab')#set($y = $x * 3)", "takes numbers"),
        ("$util.parseJson('{nope')", "parseJson"),
        ("$util.base64Decode('***')", "base64Decode"),
        ("$input.path('$[?(@.x >')", "$input.path"),
        ("#foreach($i in", "syntax"),
        ('#include("/etc/hostname")', "no loader"),  # no file is ever read
        ('#parse("/etc/hostname")', "no loader"),
        ("#macro(again $n)#again($n)#end#again(1)", "RecursionError"),
        ("x" * (vtl.MAX_TEMPLATE_CHARS + 1), "300 KB"),
    ],
)
def test_a_template_is_bounded_and_its_failures_are_template_failures(
    template: str, reason: str
) -> None:
    with pytest.raises(TemplateFailure) as failed:
        render(template, GIVEN)
    assert reason in str(failed.value)


def test_a_body_that_is_not_json_is_a_bad_request_body() -> None:
    with pytest.raises(BadRequestBody, match="Could not parse request body into json"):
        render("$input.json('$')", TemplateInput(body="{nope"))
    # an empty body reads as {}, and a template that does not read it renders
    assert render("$input.json('$')", TemplateInput(body="")) == "{}"
    assert render("$input.body!", TemplateInput(body="{nope")) == "{nope!"


def test_a_response_template_overrides_the_status_and_headers() -> None:
    override = vtl.ResponseOverride()
    template = (
        "#set($context.responseOverride.status = 404)"
        '#set($context.responseOverride.header.X-Why = "gone")missing'
    )
    assert render(template, GIVEN, override) == "missing"
    assert (override.status, override.headers) == (404, {"X-Why": "gone"})
    with pytest.raises(TemplateFailure, match="not a status code"):
        render("#set($context.responseOverride.status = 42)", GIVEN, vtl.ResponseOverride())
    # without an override (a request template), responseOverride is not there
    assert render("[$context.responseOverride.status]", GIVEN) == "[]"


def test_a_regex_that_runs_too_long_fails_the_template(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vtl, "REGEX_SECONDS", 0.000001)  # as if the text took too long
    given = TemplateInput(body="ab" * 1_000_000)
    with pytest.raises(TemplateFailure, match="regular expression ran over"):
        render("$input.body.matches('(?:a|b)*c')", given)
    with pytest.raises(TemplateFailure, match="regular expression ran over"):
        render("$input.body.replaceAll('(?:a|b)*c', 'x')", given)
