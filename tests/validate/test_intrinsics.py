import pytest

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
