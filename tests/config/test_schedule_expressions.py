"""EventBridge schedule expressions: what EventBridge refuses is refused, with where in the
expression; fire times computed from given times (no real clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tooling.config.schedule_expressions import (
    MAX_COUNTED_MISSES,
    CronExpression,
    ExpressionError,
    RateExpression,
    latest_fire_at_or_before,
    next_fire_after,
    parse_schedule_expression,
)

T0 = datetime(2024, 1, 1, 0, 0, 30, tzinfo=UTC)  # a Monday


def at(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "value", "unit"),
    [
        ("rate(1 minute)", 1, "minute"),
        ("rate(5 minutes)", 5, "minute"),
        ("rate(1 hour)", 1, "hour"),
        ("rate(12 hours)", 12, "hour"),
        ("rate(1 day)", 1, "day"),
        ("rate(7 days)", 7, "day"),
    ],
)
def test_rates(text: str, value: int, unit: str) -> None:
    assert parse_schedule_expression(text) == RateExpression(text, value, unit)


@pytest.mark.parametrize(
    ("text", "message", "offset"),
    [
        ("rate(1 hours)", "wants the unit singular", 7),  # AWS's own example of invalid
        ("rate(5 hour)", "wants the unit plural", 7),
        ("rate(0 minutes)", "positive whole number", 5),
        ("rate(1.5 hours)", "positive whole number", 5),
        ("rate(5 weeks)", "unknown rate unit", 7),
        ("rate(5)", "a value and a unit", 5),
        ("cron(0 12 * * * *)", "exactly one of day-of-month and day-of-week", 10),
        ("cron(0 12 ? * ? *)", "exactly one of day-of-month and day-of-week", 14),
        ("cron(0 12 * *)", "six fields", 5),
        ("cron(60 12 * * ? *)", "60 is outside 0-59", 5),
        ("cron(0 24 * * ? *)", "24 is outside 0-23", 7),
        ("cron(0 12 32 * ? *)", "32 is outside 1-31", 10),
        ("cron(0 12 * 13 ? *)", "13 is outside 1-12", 12),
        ("cron(0 12 ? * 8 *)", "8 is outside 1-7", 14),
        ("cron(0 12 * * ? 1969)", "1969 is outside 1970-2199", 16),
        ("cron(0 12 ? * 3#1,6#3 *)", "# stands alone", 14),
        ("cron(0 12 ? * 3#6 *)", "occurrence after # is 1 to 5", 14),
        ("cron(0 12 * FOO ? *)", "'FOO' is not a number", 12),
        ("cron(0 12 L-2 * ? *)", "L and W stand alone", 10),
        ("every 5 minutes", "is not a schedule expression", 0),
    ],
)
def test_what_eventbridge_refuses_is_refused_with_its_place(
    text: str, message: str, offset: int
) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse_schedule_expression(text)
    assert message in caught.value.message
    assert caught.value.offset == offset


def test_a_refused_rate_says_what_to_write() -> None:
    with pytest.raises(ExpressionError) as caught:
        parse_schedule_expression("rate(1 hours)")
    assert caught.value.hint == "write rate(1 hour)"


def test_cron_names_lists_ranges_steps_and_wraps() -> None:
    cron = parse_schedule_expression("cron(0/15 8-10,22 ? jan,MAR-APR FRI-MON 2024-2025)")
    assert isinstance(cron, CronExpression)
    assert cron.minutes == {0, 15, 30, 45}
    assert cron.hours == {8, 9, 10, 22}
    assert cron.months == {1, 3, 4}
    assert cron.day_of_week.days == {6, 7, 1, 2}  # FRI SAT SUN MON (1 is Sunday)
    assert cron.years == {2024, 2025}


def test_a_rate_fires_one_period_after_creation_then_every_period() -> None:
    rate = parse_schedule_expression("rate(5 minutes)")
    first = next_fire_after(rate, T0, created=T0)
    assert first == T0 + timedelta(minutes=5)
    assert next_fire_after(rate, first, created=T0) == T0 + timedelta(minutes=10)
    assert next_fire_after(rate, first - timedelta(seconds=1), created=T0) == first


@pytest.mark.parametrize(
    ("text", "after", "expected"),
    [
        ("cron(0 12 * * ? *)", at(2024, 1, 1, 12, 0), at(2024, 1, 2, 12, 0)),
        ("cron(0 12 ? * MON-FRI *)", at(2024, 1, 5, 12, 0), at(2024, 1, 8, 12, 0)),
        ("cron(15 10 ? * 6L 2022-2030)", at(2024, 1, 1), at(2024, 1, 26, 10, 15)),  # last Fri
        ("cron(0 0 ? * 3#2 *)", at(2024, 6, 1), at(2024, 6, 11)),  # second Tuesday
        ("cron(0 0 15W * ? *)", at(2024, 6, 1), at(2024, 6, 14)),  # the 15th is a Saturday
        ("cron(0 0 1W * ? *)", at(2024, 5, 31), at(2024, 6, 3)),  # the 1st is a Saturday
        ("cron(0 0 L * ? *)", at(2024, 2, 1), at(2024, 2, 29)),  # leap year
        ("cron(0 0 LW * ? *)", at(2024, 8, 1), at(2024, 8, 30)),  # the 31st is a Saturday
        ("cron(0 8 1 * ? 2023)", at(2024, 1, 1), None),  # only in the past
    ],
)
def test_cron_next_fire_times(text: str, after: datetime, expected: datetime | None) -> None:
    expression = parse_schedule_expression(text)
    assert next_fire_after(expression, after, created=at(2020, 1, 1)) == expected


def test_latest_due_tick_and_the_ticks_missed_before_it() -> None:
    rate = parse_schedule_expression("rate(5 minutes)")
    tick, missed = latest_fire_at_or_before(rate, at(2024, 1, 1, 1, 0), created=T0, since=T0)
    assert tick == at(2024, 1, 1, 0, 55, 30)
    assert missed == 10  # 00:05:30 ... 00:50:30
    assert latest_fire_at_or_before(rate, at(2024, 1, 1, 0, 5), created=T0, since=T0) == (None, 0)
    # nothing new since the last tick fired
    assert latest_fire_at_or_before(
        rate, at(2024, 1, 1, 0, 59), created=T0, since=at(2024, 1, 1, 0, 55, 30)
    ) == (None, 0)

    cron = parse_schedule_expression("cron(0 12 ? * MON-FRI *)")
    tick, missed = latest_fire_at_or_before(
        cron, at(2024, 1, 10, 13, 0), created=T0, since=at(2024, 1, 1)
    )
    assert (tick, missed) == (at(2024, 1, 10, 12, 0), 7)  # Jan 1-5 and 8-9 missed


def test_missed_ticks_are_counted_up_to_a_bound() -> None:
    every_minute = parse_schedule_expression("cron(* * * * ? *)")
    tick, missed = latest_fire_at_or_before(
        every_minute, at(2024, 3, 1), created=at(2024, 1, 1), since=at(2024, 1, 1)
    )
    assert tick == at(2024, 3, 1)
    assert missed == MAX_COUNTED_MISSES
