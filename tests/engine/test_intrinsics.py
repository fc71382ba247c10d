from __future__ import annotations

import pytest

from tooling.engine.errors import StateRuntimeError
from tooling.engine.intrinsics import IntrinsicSyntaxError, parse_intrinsic


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
    assert 0 <= first < 1000  # type: ignore[operator]


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
