import pytest

from tooling.graph.conditions import MAX_LENGTH, describe_rule


@pytest.mark.parametrize(
    ("rule", "text"),
    [
        ({"Variable": "$.v", "StringEquals": "value1"}, '$.v == "value1"'),
        ({"Variable": "$.count", "NumericLessThan": 5}, "$.count < 5"),
        ({"Variable": "$.n", "NumericGreaterThanEquals": 1.5}, "$.n >= 1.5"),
        ({"Variable": "$.n", "NumericLessThanEqualsPath": "$.max"}, "$.n <= $.max"),
        ({"Variable": "$.b", "BooleanEquals": False}, "$.b == false"),
        (
            {"Variable": "$.t", "TimestampGreaterThan": "2024-01-01T00:00:00Z"},
            '$.t > "2024-01-01T00:00:00Z"',
        ),
        ({"Variable": "$.s", "StringMatches": "log-*.txt"}, '$.s matches "log-*.txt"'),
        ({"Variable": "$.x", "IsPresent": False}, "$.x is not present"),
        ({"Variable": "$.x", "IsNull": True}, "$.x is null"),
        ({"Not": {"Variable": "$.x", "StringEquals": "a"}}, 'not $.x == "a"'),
        (
            {
                "Or": [
                    {"Variable": "$.a", "NumericEquals": 1},
                    {
                        "And": [
                            {"Variable": "$.b", "IsString": True},
                            {"Variable": "$.c", "IsNumeric": True},
                        ]
                    },
                ]
            },
            "$.a == 1 or ($.b is a string and $.c is numeric)",
        ),
        ({"Condition": "{% $states.input.count < 5 %}"}, "$states.input.count < 5"),
    ],
)
def test_rules_read_as_short_expressions(rule: dict, text: str) -> None:
    assert describe_rule(rule) == text


def test_long_rules_are_cut_with_an_ellipsis() -> None:
    text = describe_rule({"Variable": "$.v", "StringEquals": "x" * 300})
    assert len(text) == MAX_LENGTH
    assert text.endswith("…")
