from __future__ import annotations

import pytest

from tooling.engine.errors import StateRuntimeError
from tooling.engine.intrinsics import (
    RULES,
    IntrinsicCall,
    IntrinsicSyntaxError,
    Literal,
    PathArgument,
    literal_text,
    parse_intrinsic,
)


def run(text: str, data: object = None) -> object:
    return parse_intrinsic(text).evaluate(
        data if data is not None else {}, {"State": {"Name": "S"}}
    )


def test_format_with_paths_and_escaped_braces() -> None:
    assert (
        run("States.Format('Hi {}, {} \\{x\\}', $.name, $.n)", {"name": "Ann", "n": 3})
        == "Hi Ann, 3 {x}"
    )


def test_format_argument_count_must_match() -> None:
    with pytest.raises(StateRuntimeError) as info:
        run("States.Format('{} {}', 1)")
    assert info.value.error == "States.IntrinsicFailure"


def test_json_round_trip_and_array() -> None:
    assert run("States.StringToJson($.s)", {"s": '{"a":[1,2]}'}) == {"a": [1, 2]}
    assert run("States.JsonToString($.o)", {"o": {"a": [1, 2]}}) == '{"a":[1,2]}'
    assert run("States.Array(1, 'two', $$.State.Name, States.Array(true, null))") == [
        1,
        "two",
        "S",
        [True, None],
    ]


def test_unknown_function_is_a_parse_error() -> None:
    with pytest.raises(IntrinsicSyntaxError, match="States.Uuid is not an intrinsic function"):
        parse_intrinsic("States.Uuid()")


@pytest.mark.parametrize(
    ("call", "data", "expected"),
    [
        ("States.Format('{}', $.o)", {"o": {"a": 1, "b": [1, "x"]}}, "{a=1, b=[1, x]}"),
        ("States.ArrayPartition($.a, 2)", {"a": [1, 2, 3]}, [[1, 2], [3]]),
        ("States.ArrayContains($.a, $.v)", {"a": [[1], {"k": 1}], "v": {"k": 1}}, True),
        ("States.ArrayContains($.a, 1)", {"a": [True]}, False),
        ("States.ArrayRange(1, 9, 2)", None, [1, 3, 5, 7, 9]),
        ("States.ArrayRange(5, 1, -2)", None, [5, 3, 1]),
        ("States.ArrayGetItem($.a, 1)", {"a": ["x", "y"]}, "y"),
        ("States.ArrayLength($.a)", {"a": [1, 2, 3]}, 3),
        ("States.ArrayUnique($.a)", {"a": [1, 1.0, True, "1", [1], [1]]}, [1, True, "1", [1]]),
        ("States.Base64Encode('Data to encode')", None, "RGF0YSB0byBlbmNvZGU="),
        ("States.Base64Decode('RGF0YSB0byBlbmNvZGU=')", None, "Data to encode"),
        ("States.Hash('input data', 'SHA-1')", None, "aaff4a450a104cd177d28d18d74485e8cae074b7"),
        (
            "States.JsonMerge($.a, $.b, false)",
            {"a": {"x": {"p": 1}, "y": 1}, "b": {"x": {"q": 2}}},
            {"x": {"q": 2}, "y": 1},
        ),
        ("States.MathAdd(1.5, -2.5)", None, 0),  # Java's Math.round: 2 + -2
        ("States.MathAdd($.n, -1)", {"n": 10}, 9),
        ("States.StringSplit('a,b;;c', ',;')", None, ["a", "b", "c"]),
        ("States.MathRandom(1, 2)", None, 1),
    ],
)
def test_functions_follow_aws_rules(call: str, data: object, expected: object) -> None:
    assert run(call, data) == expected


def test_uuid_is_a_version_4_uuid() -> None:
    value = run("States.UUID()")
    assert isinstance(value, str) and len(value) == 36 and value[14] == "4"


def test_math_random_with_a_seed_is_repeatable() -> None:
    first = run("States.MathRandom(0, 1000, 7)")
    assert first == run("States.MathRandom(0, 1000, 7)")
    assert isinstance(first, int) and 0 <= first < 1000


@pytest.mark.parametrize(
    "call",
    [
        "States.ArrayPartition($.a, 0)",
        "States.ArrayGetItem($.a, 5)",
        "States.ArrayRange(0, 10, 0)",
        "States.ArrayRange(0, 2000, 1)",
        "States.Hash('x', 'SHA-3')",
        "States.JsonMerge($.o, $.o, true)",
        "States.MathAdd('1', 2)",
        "States.Base64Decode('%%%')",
        "States.StringToJson('{nope')",
        "States.ArrayLength($.o)",
        "States.UUID(1)",
    ],
)
def test_bad_arguments_are_intrinsic_failures(call: str) -> None:
    with pytest.raises(StateRuntimeError) as info:
        run(call, {"a": [1, 2], "o": {"k": 1}})
    assert info.value.error == "States.IntrinsicFailure"


def test_variables_are_arguments() -> None:
    from datetime import UTC, datetime

    from tooling.engine.env import Env

    env = Env({}, {}, "S", datetime(2024, 1, 1, tzinfo=UTC), {"name": "Ann"})
    assert parse_intrinsic("States.Format('Hi {}', $name)").evaluate({}, env) == "Hi Ann"


def test_the_parse_tree_names_each_argument_kind() -> None:
    call = parse_intrinsic("States.Format('a \\{}', $.x[0], States.UUID(), 2, true)")
    template, path, nested, number, flag = call.args
    assert call.name == "States.Format" and call.position == 0
    assert isinstance(template, Literal) and template.source == "a \\{}"
    assert literal_text(template.value) == "a {}"
    assert isinstance(path, PathArgument) and path.path.reference and path.position == 23
    assert isinstance(nested, IntrinsicCall) and nested.name == "States.UUID"
    assert isinstance(number, Literal) and number.value == 2 and number.source == "2"
    assert isinstance(flag, Literal) and flag.value is True


def test_paths_are_compiled_only_when_asked() -> None:
    assert isinstance(parse_intrinsic("States.Array($.a)").args[0], PathArgument)
    static = parse_intrinsic("States.Array($.a)", compile_paths=False).args[0]
    assert isinstance(static, PathArgument) and static.compiled is None


@pytest.mark.parametrize(
    ("text", "reason", "position"),
    [
        ("States.Array(1 2)", "expected ',' or ')'", 15),
        ("States.Array('x", "unterminated string", 15),
        ("States.Array(@)", "unexpected argument at character 14", 13),
        ("States.Array($.a b)", "'$.a b' is not a valid path", 13),
    ],
)
def test_syntax_errors_say_why_and_where(text: str, reason: str, position: int) -> None:
    with pytest.raises(IntrinsicSyntaxError) as caught:
        parse_intrinsic(text)
    assert caught.value.reason.startswith(reason)
    assert caught.value.position == position
    assert caught.value.unknown_name is None


def test_unknown_names_are_reported_as_such() -> None:
    with pytest.raises(IntrinsicSyntaxError) as caught:
        parse_intrinsic("States.Array(States.Nope())")
    assert caught.value.unknown_name == "States.Nope"


def test_numbers_with_leading_zeros_do_not_crash_the_parser() -> None:
    assert run("States.Array(01, -0.5, 1e2)") == [1, -0.5, 100.0]


@pytest.mark.parametrize("name", sorted(RULES))
def test_every_function_checks_its_argument_count_from_the_rules(name: str) -> None:
    rule = RULES[name]
    too_many = rule.maximum + 1 if rule.maximum is not None else None
    for count in [c for c in (rule.minimum - 1, too_many) if c is not None and c >= 0]:
        args = ", ".join(["$.v"] * count)
        with pytest.raises(StateRuntimeError, match="argument\\(s\\) but was given"):
            run(f"{name}({args})", {"v": 1})
