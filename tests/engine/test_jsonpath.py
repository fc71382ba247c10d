from __future__ import annotations

import pytest

from tooling.engine.jsonpath import JsonPath, PathNotFound, PathSyntaxError, parse_path

DATA = {"a": {"b": [10, 20, 30]}, "users": [{"n": 1, "s": 0}, {"n": 2, "s": 1}], "odd-key": 5}


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("$", DATA),
        ("$.a.b", [10, 20, 30]),
        ("$.a.b[1]", 20),
        ("$.a.b[-1]", 30),
        ("$['a']['b'][0]", 10),
        ("$.odd-key", 5),
        ("$.a.b[*]", [10, 20, 30]),
        ("$.a.b[1:]", [20, 30]),
        ("$.a.b[:1]", [10]),
        ("$.users[*].n", [1, 2]),
        ("$.users[?(@.s == 0)]", [{"n": 1, "s": 0}]),
        ("$..n", [1, 2]),
        ("$.missing[*]", []),
    ],
)
def test_find(path: str, value: object) -> None:
    assert JsonPath(path).find(DATA) == value


def test_definite_missing_path_raises_with_normalized_form() -> None:
    path = JsonPath("$.a.c")
    with pytest.raises(PathNotFound):
        path.find(DATA)
    assert path.normalized == "$['a']['c']"
    assert not path.exists(DATA)


def test_set_copies_only_the_spine() -> None:
    data = {"a": {"x": 1}, "b": {"y": 2}}
    out = JsonPath("$.a.new.deep").set(data, 3)
    assert out == {"a": {"x": 1, "new": {"deep": 3}}, "b": {"y": 2}}
    assert data == {"a": {"x": 1}, "b": {"y": 2}}
    assert out["b"] is data["b"]


def test_set_into_a_non_object_fails() -> None:
    with pytest.raises(PathNotFound):
        JsonPath("$.a.x").set({"a": 1}, 2)


def test_context_paths_are_flagged() -> None:
    path = JsonPath("$$.Execution.Id")
    assert path.context and path.find({"Execution": {"Id": "arn"}}) == "arn"


@pytest.mark.parametrize("text", ["a.b", "$.", "$.a[", "$.a[x]"])
def test_bad_paths_are_rejected(text: str) -> None:
    with pytest.raises(PathSyntaxError):
        JsonPath(text)


def test_parsed_form_says_what_a_path_reads_and_whether_it_names_one_node() -> None:
    assert parse_path("$.a['b'][0]").reference
    assert parse_path("$$.Execution.Id").context
    assert parse_path("$ünï.x").variable == "ünï"
    for text in ["$.a[*]", "$..a", "$.a[0:2]", "$.a[0,1]", "$.a[?(@.b > 1)]", "$.a[(@.length-1)]"]:
        assert not parse_path(text).reference, text


def test_syntax_errors_carry_the_reason_and_the_position() -> None:
    with pytest.raises(PathSyntaxError) as caught:
        parse_path("$.a b")
    assert caught.value.reason == "'a b' is not a valid name; quote it as ['a b']"
    assert caught.value.position == 2
    assert "is not a JSONPath" in str(caught.value)


@pytest.mark.parametrize("text", ["$.a b", "$.a)", "$.a[+1]", "$.a[-:2]", "$.a[?@.x]"])
def test_the_engine_rejects_what_the_grammar_rejects(text: str) -> None:
    with pytest.raises(PathSyntaxError):
        JsonPath(text)


def test_script_expressions_parse_but_the_engine_cannot_evaluate_them() -> None:
    assert parse_path("$.a[(@.length-1)]") is not None
    with pytest.raises(PathSyntaxError, match="script expressions"):
        JsonPath("$.a[(@.length-1)]")


def test_quoted_names_with_dots_are_walked_directly() -> None:
    path = JsonPath("$['a..b']")
    assert path.definite and path.find({"a..b": 1}) == 1


def test_unicode_variable_paths_read_the_variable() -> None:
    assert JsonPath("$ünï.x").variable == "ünï"
