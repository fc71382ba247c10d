import pytest

from tooling.validate import jsonata
from tooling.validate.jsonata import JsonataError, check_expression, is_expression


def test_recognises_expressions() -> None:
    assert is_expression("{% $states.input %}")
    assert not is_expression("$states.input")
    assert not is_expression("{% unterminated")
    assert not is_expression(5)


@pytest.mark.parametrize(
    "text",
    ["{% $states.input.a + 1 %}", "{% $count < 3 and $flag %}", "{% {'a': [1, 2]} %}",
     "{% $uppercase($states.input.name) %}", "{% $states.input.items[price > 10] %}"],
)  # fmt: skip
def test_valid_expressions(text: str) -> None:
    check_expression(text)


@pytest.mark.parametrize(
    "text",
    ["{% %}", "{% 1 + %}", "{% $f( %}", "{% [1, 2 %}", "{% 'open %}", "$states.input %}"],
)
def test_invalid_expressions(text: str) -> None:
    with pytest.raises(JsonataError):
        check_expression(text)


@pytest.mark.parametrize("text", ["{% [1, 2 %}", "{% 'open %}", "{% (a] %}"])
def test_without_the_parser_brackets_and_quotes_are_still_checked(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jsonata, "_parser", lambda: None)
    with pytest.raises(JsonataError):
        check_expression(text)
    check_expression("{% $a + ($b * 2) %}")
