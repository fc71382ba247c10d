import pytest

from tooling.validate.paths import PathError, parse_path


@pytest.mark.parametrize(
    "text",
    ["$", "$.a", "$.a.b[0]", "$['a b']", '$["x"][1]', "$.a[-1]", "$$.Execution.Id", "$var",
     "$var.field[2]", "$.a-b", "$.ünï"],
)  # fmt: skip
def test_reference_paths(text: str) -> None:
    info = parse_path(text)
    assert info.reference


@pytest.mark.parametrize(
    "text",
    ["$.a[*]", "$..a", "$.a.*", "$.a[0:2]", "$.a[0,1]", "$.a['x','y']", "$.a[?(@.b > 1)]",
     "$.a[(@.length-1)]", "$..[0]"],
)  # fmt: skip
def test_paths_that_are_not_reference_paths(text: str) -> None:
    assert not parse_path(text).reference


@pytest.mark.parametrize(
    "text",
    ["a.b", "", "$.", "$.a..", "$.a[", "$.a[]", "$.a[x]", "$.a b", "$a b", "$.a[?(@.x > 1]",
     "$.a[?@.x]", "$.a)", "$..", "$.a['x]", "$.a[-:2]"],
)  # fmt: skip
def test_invalid_paths(text: str) -> None:
    with pytest.raises(PathError):
        parse_path(text)


def test_context_and_variable_heads() -> None:
    assert parse_path("$$.Map.Item.Value").context
    assert parse_path("$total.sum").variable == "total"
    assert parse_path("$.total").variable is None
