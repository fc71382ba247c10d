import pytest

from tooling.engine.errors import StateRuntimeError
from tooling.engine.intrinsics import RULES, parse_intrinsic
from tooling.validate.intrinsics import IntrinsicError, check_intrinsic


@pytest.mark.parametrize(
    "text",
    [
        "States.Format('{} is {}', $.a, $.b)",
        "States.Format('no holes')",
        "States.Format('escaped \\\\{} braces {}', $.a)",
        "States.StringToJson($.s)",
        "States.JsonToString($$.Execution.Input)",
        "States.Array()",
        "States.Array(1, 'two', true, null, $.x, States.UUID())",
        "States.ArrayPartition($.a, 2)",
        "States.ArrayContains($.a, 'x')",
        "States.ArrayRange(1, 10, 2)",
        "States.ArrayGetItem($.a, 0)",
        "States.ArrayLength($.a)",
        "States.ArrayUnique($.a)",
        "States.Base64Encode('text')",
        "States.Base64Decode($.b)",
        "States.Hash($.data, 'SHA-512')",
        "States.JsonMerge($.a, $.b, false)",
        "States.MathRandom(1, 10)",
        "States.MathRandom(1, 10, 42)",
        "States.MathAdd($.n, -1)",
        "States.StringSplit($.csv, ',')",
        "States.UUID()",
        "States.Format('{}', States.ArrayLength(States.Array(1, 2)))",
    ],
)
def test_valid_calls(text: str) -> None:
    check_intrinsic(text)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("States.Foo($.a)", "INTRINSIC_UNKNOWN"),
        ("States.format('x')", "INTRINSIC_UNKNOWN"),
        ("States.UUID(1)", "INTRINSIC_ARITY"),
        ("States.ArrayLength()", "INTRINSIC_ARITY"),
        ("States.MathRandom(1, 2, 3, 4)", "INTRINSIC_ARITY"),
        ("States.Format('{}{}', $.a)", "INTRINSIC_ARITY"),
        ("States.ArrayRange(1, '9', 1)", "INTRINSIC_ARGUMENT"),
        ("States.MathAdd(1.5, 'x')", "INTRINSIC_ARGUMENT"),
        ("States.Hash($.a, 'SHA1')", "INTRINSIC_ARGUMENT"),
        ("States.JsonMerge($.a, $.b, true)", "INTRINSIC_ARGUMENT"),
        ("States.Format(1, $.a)", "INTRINSIC_ARGUMENT"),
        ("States.Array(States.Nope())", "INTRINSIC_UNKNOWN"),
        ("States.Format('x'", "INTRINSIC_SYNTAX"),
        ("States.Format('x) ", "INTRINSIC_SYNTAX"),
        ("States.Format('x') extra", "INTRINSIC_SYNTAX"),
        ("States.Array($.a[)", "INTRINSIC_SYNTAX"),
        ("States.Array(@)", "INTRINSIC_SYNTAX"),
        ("States.UUID", "INTRINSIC_SYNTAX"),
    ],
)
def test_invalid_calls(text: str, code: str) -> None:
    with pytest.raises(IntrinsicError) as caught:
        check_intrinsic(text)
    assert caught.value.code == code


def test_unknown_name_suggests_the_closest() -> None:
    with pytest.raises(IntrinsicError, match='did you mean "States.Format"'):
        check_intrinsic("States.Formatt('x')")


def test_hash_data_must_be_a_string_as_the_engine_requires() -> None:
    with pytest.raises(IntrinsicError) as caught:
        check_intrinsic("States.Hash(1, 'MD5')")
    assert caught.value.code == "INTRINSIC_ARGUMENT"


_GOOD = {"string": "s", "integer": 1, "number": 1, "boolean": False, "array": [1], "object": {}}


def _engine_fails(text: str) -> str | None:
    """The engine's run-time failure message for `text` ($.<type> paths read a value of that
    type), or None when it runs."""
    try:
        parse_intrinsic(text).evaluate(_GOOD, {})
    except StateRuntimeError as exc:
        return str(exc.cause)
    return None


def _good_path(kind: str | None) -> str:
    return f"$.{kind or 'integer'}"


@pytest.mark.parametrize("name", sorted(RULES))
def test_static_arity_agrees_with_the_engine(name: str) -> None:
    types = RULES[name].arg_types
    for count in range(5):
        args = [_good_path(types[i] if i < len(types) else None) for i in range(count)]
        text = f"{name}({', '.join(args)})"
        try:
            check_intrinsic(text)
            static_arity = False
        except IntrinsicError as exc:
            static_arity = exc.code == "INTRINSIC_ARITY"
        runtime = _engine_fails(text) or ""
        assert static_arity == ("argument(s) but was given" in runtime), text


@pytest.mark.parametrize("name", sorted(RULES))
def test_a_wrongly_typed_literal_is_caught_statically_and_fails_at_run_time(name: str) -> None:
    rule = RULES[name]
    for index, kind in enumerate(rule.arg_types):
        if kind is None:
            continue
        wrong = "true" if kind in ("string", "integer", "number") else "'text'"
        count = max(rule.minimum, index + 1)
        args = [
            _good_path(rule.arg_types[i] if i < len(rule.arg_types) else None) for i in range(count)
        ]
        args[index] = wrong
        text = f"{name}({', '.join(args)})"
        with pytest.raises(IntrinsicError) as caught:
            check_intrinsic(text)
        assert caught.value.code == "INTRINSIC_ARGUMENT", text
        assert (_engine_fails(text) or "").startswith(f"The argument {index + 1} of {name}("), text
