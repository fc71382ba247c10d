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


def test_unsupported_function_is_a_parse_error() -> None:
    with pytest.raises(IntrinsicSyntaxError, match="not supported yet"):
        parse_intrinsic("States.UUID()")
