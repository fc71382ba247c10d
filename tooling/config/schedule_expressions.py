"""EventBridge schedule expressions: `rate(value unit)` and six-field `cron(...)`, read and
checked as EventBridge reads them, and when they fire.

Rules (EventBridge user guide, "Rate expressions reference" and "Cron expressions reference"):

- `rate(value unit)`: a positive whole number and `minute|hour|day` when it is 1, `minutes|hours|
  days` otherwise (`rate(1 hours)` and `rate(5 hour)` are refused). A rate starts when the rule is
  created: it fires `value` units after that, then every `value` units.
- `cron(Minutes Hours Day-of-month Month Day-of-week Year)`, in UTC: `, - * /` in every field
  except day-of-week (`, - * ? L #`, `/` accepted too); `? L W` in day-of-month; months `1-12` or
  `JAN-DEC`, week days `1-7` or `SUN-SAT` (1 is Sunday); years 1970-2199. Exactly one of
  day-of-month and day-of-week is `?`. `#` stands alone in its field (`3#1,6#3` is refused).

No I/O: `next_fire_after` takes the times it needs, so tests drive it with any clock.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
WEEK_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")  # 1..7
FIELD_NAMES = ("minutes", "hours", "day-of-month", "month", "day-of-week", "year")
# (low, high) per field
BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (1, 7), (1970, 2199))
RATE_UNITS = {"minute": 60, "hour": 3600, "day": 86400}
MAX_EXPRESSION = 256  # PutRule ScheduleExpression: at most 256 characters
# How far ahead a cron expression is searched for its next time before it is called empty.
_SEARCH_YEARS = 240

_RATE = re.compile(r"rate\((?P<inner>.*)\)\Z", re.DOTALL)
_CRON = re.compile(r"cron\((?P<inner>.*)\)\Z", re.DOTALL)


class ExpressionError(ValueError):
    """What is wrong, and where in the expression (0-based offset) the problem starts."""

    def __init__(self, message: str, offset: int = 0, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.hint = hint


@dataclass(frozen=True)
class RateExpression:
    text: str
    value: int
    unit: str  # minute | hour | day

    @property
    def period(self) -> timedelta:
        return timedelta(seconds=self.value * RATE_UNITS[self.unit])


@dataclass(frozen=True)
class DayOfMonth:
    """What a day-of-month field matches: days, `L` (last), `LW` (last weekday), `nW`."""

    days: frozenset[int] = frozenset()
    last: bool = False
    last_weekday: bool = False
    nearest_weekday: int | None = None
    any: bool = False  # `?`

    def matches(self, year: int, month: int, day: int) -> bool:
        length = calendar.monthrange(year, month)[1]
        if self.any or day in self.days:
            return True
        if self.last and day == length:
            return True
        if self.last_weekday and day == _nearest_weekday(year, month, length, length):
            return True
        if self.nearest_weekday is not None and self.nearest_weekday <= length:
            return day == _nearest_weekday(year, month, self.nearest_weekday, length)
        return False


@dataclass(frozen=True)
class DayOfWeek:
    """What a day-of-week field matches: week days (1 = Sunday), `nL` (last n of the month),
    `n#k` (the k-th n of the month)."""

    days: frozenset[int] = frozenset()
    last_of: int | None = None
    nth: tuple[int, int] | None = None  # (week day, occurrence 1-5)
    any: bool = False  # `?`

    def matches(self, year: int, month: int, day: int) -> bool:
        if self.any:
            return True
        week_day = _week_day(year, month, day)
        if week_day in self.days:
            return True
        length = calendar.monthrange(year, month)[1]
        if self.last_of is not None:
            return week_day == self.last_of and day + 7 > length
        if self.nth is not None:
            wanted, occurrence = self.nth
            return week_day == wanted and (day - 1) // 7 + 1 == occurrence
        return False


@dataclass(frozen=True)
class CronExpression:
    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    day_of_month: DayOfMonth
    months: frozenset[int]
    day_of_week: DayOfWeek
    years: frozenset[int]

    def matches_day(self, year: int, month: int, day: int) -> bool:
        return self.day_of_month.matches(year, month, day) and self.day_of_week.matches(
            year, month, day
        )


ScheduleExpression = RateExpression | CronExpression


def parse_schedule_expression(text: str) -> ScheduleExpression:
    """The expression, or ExpressionError saying what is wrong and where."""
    if len(text) > MAX_EXPRESSION:
        raise ExpressionError(
            f"a schedule expression has at most {MAX_EXPRESSION} characters (this one has "
            f"{len(text)})"
        )
    rate = _RATE.match(text)
    if rate:
        return _parse_rate(text, rate.group("inner"), rate.start("inner"))
    cron = _CRON.match(text)
    if cron:
        return _parse_cron(text, cron.group("inner"), cron.start("inner"))
    raise ExpressionError(
        f"{text!r} is not a schedule expression",
        hint="write rate(5 minutes) or cron(0 12 * * ? *) (six fields, in UTC)",
    )


def _parse_rate(text: str, inner: str, start: int) -> RateExpression:
    parts = inner.split()
    if len(parts) != 2:
        raise ExpressionError(
            f"rate() takes a value and a unit (got {inner!r})", start, hint="e.g. rate(5 minutes)"
        )
    value_text, unit = parts
    value_at = start + inner.index(value_text)
    unit_at = start + inner.rindex(unit)
    if not value_text.isdigit() or int(value_text) < 1:
        raise ExpressionError(
            f"the rate value must be a positive whole number (got {value_text!r})", value_at
        )
    value = int(value_text)
    singular = unit.rstrip("s") if unit.endswith("s") else unit
    if singular not in RATE_UNITS:
        raise ExpressionError(
            f"unknown rate unit {unit!r}",
            unit_at,
            hint="use minute(s), hour(s) or day(s)",
        )
    plural = unit.endswith("s")
    if (value == 1) == plural:
        wanted = singular if value == 1 else singular + "s"
        raise ExpressionError(
            f"rate({value} {unit}): EventBridge wants the unit "
            f"{'singular' if value == 1 else 'plural'} for a value of "
            f"{'1' if value == 1 else 'more than 1'}",
            unit_at,
            hint=f"write rate({value} {wanted})",
        )
    return RateExpression(text, value, singular)


def _parse_cron(text: str, inner: str, start: int) -> CronExpression:
    fields: list[tuple[str, int]] = [
        (match.group(), start + match.start()) for match in re.finditer(r"\S+", inner)
    ]
    if len(fields) != 6:
        raise ExpressionError(
            f"cron() has six fields (minutes hours day-of-month month day-of-week year); "
            f"this one has {len(fields)}",
            start,
            hint="e.g. cron(0 12 * * ? *): every day at 12:00 UTC",
        )
    (dom_text, dom_at), (dow_text, dow_at) = fields[2], fields[4]
    if (dom_text == "?") == (dow_text == "?"):
        raise ExpressionError(
            "exactly one of day-of-month and day-of-week must be ? (EventBridge refuses a "
            "value or * in both, and ? in both)",
            dom_at if dom_text != "?" else dow_at,
            hint="e.g. cron(0 12 * * ? *) or cron(0 12 ? * MON-FRI *)",
        )
    minutes = _values(fields[0], 0)
    hours = _values(fields[1], 1)
    months = _values(fields[3], 3)
    years = _values(fields[5], 5)
    return CronExpression(
        text=text,
        minutes=minutes,
        hours=hours,
        day_of_month=_day_of_month(dom_text, dom_at),
        months=months,
        day_of_week=_day_of_week(dow_text, dow_at),
        years=years,
    )


def _field_error(index: int, token: str, at: int, why: str) -> ExpressionError:
    low, high = BOUNDS[index]
    return ExpressionError(
        f"cron {FIELD_NAMES[index]} field {token!r}: {why}",
        at,
        hint=f"{FIELD_NAMES[index]} takes {low}-{high}"
        + (" or JAN-DEC" if index == 3 else " or SUN-SAT (1 is Sunday)" if index == 4 else "")
        + " with , - * /",
    )


def _number(index: int, token: str, at: int, whole: str) -> int:
    names = MONTHS if index == 3 else WEEK_DAYS if index == 4 else ()
    upper = token.upper()
    if upper in names:
        return names.index(upper) + 1
    if not token.isdigit():
        raise _field_error(index, whole, at, f"{token!r} is not a number")
    value = int(token)
    low, high = BOUNDS[index]
    if not low <= value <= high:
        raise _field_error(index, whole, at, f"{value} is outside {low}-{high}")
    return value


def _values(field: tuple[str, int], index: int) -> frozenset[int]:
    """A field of , - * / items (minutes, hours, month, year, and plain week days)."""
    text, at = field
    low, high = BOUNDS[index]
    values: set[int] = set()
    offset = 0
    for item in text.split(","):
        item_at = at + offset
        offset += len(item) + 1
        if not item:
            raise _field_error(index, text, item_at, "an empty list item")
        base, slash, step_text = item.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or int(step_text) < 1:
                raise _field_error(index, text, item_at, f"step {step_text!r} is not a number")
            step = int(step_text)
        if base == "*":
            first, last = low, high
        elif "-" in base:
            left, _, right = base.partition("-")
            first = _number(index, left, item_at, text)
            last = _number(index, right, item_at, text)
        else:
            first = _number(index, base, item_at, text)
            last = high if slash else first
        span = range(first, last + 1) if first <= last else _wrapped(first, last, low, high)
        values.update(list(span)[::step])
    return frozenset(values)


def _wrapped(first: int, last: int, low: int, high: int) -> list[int]:
    """A range written past the end (FRI-MON, 22-2): on to the end, then from the start."""
    return [*range(first, high + 1), *range(low, last + 1)]


def _day_of_month(text: str, at: int) -> DayOfMonth:
    if text == "?":
        return DayOfMonth(any=True)
    upper = text.upper()
    if upper == "L":
        return DayOfMonth(last=True)
    if upper == "LW":
        return DayOfMonth(last_weekday=True)
    if upper.endswith("W") and "," not in upper:
        return DayOfMonth(nearest_weekday=_number(2, upper[:-1], at, text))
    if "L" in upper or "W" in upper:
        raise _field_error(2, text, at, "L and W stand alone (L, LW, or a day followed by W)")
    return DayOfMonth(days=_values((text, at), 2))


def _day_of_week(text: str, at: int) -> DayOfWeek:
    if text == "?":
        return DayOfWeek(any=True)
    upper = text.upper()
    if "#" in upper:
        if "," in upper:
            raise _field_error(4, text, at, "# stands alone in its field (3#1,6#3 is refused)")
        day, _, occurrence = upper.partition("#")
        if not occurrence.isdigit() or not 1 <= int(occurrence) <= 5:
            raise _field_error(4, text, at, "the occurrence after # is 1 to 5")
        return DayOfWeek(nth=(_number(4, day, at, text), int(occurrence)))
    if upper == "L":  # the last day of the week: Saturday
        return DayOfWeek(days=frozenset({7}))
    if upper.endswith("L") and "," not in upper:
        return DayOfWeek(last_of=_number(4, upper[:-1], at, text))
    if "L" in upper.replace("JUL", ""):
        raise _field_error(4, text, at, "L stands alone or after one day (5L: the last Thursday)")
    return DayOfWeek(days=_values((text, at), 4))


def _week_day(year: int, month: int, day: int) -> int:
    """1 = Sunday ... 7 = Saturday, as cron counts."""
    return (calendar.weekday(year, month, day) + 1) % 7 + 1


def _nearest_weekday(year: int, month: int, day: int, length: int) -> int:
    """The Monday-to-Friday day nearest `day`, within the month (cron's W)."""
    weekday = calendar.weekday(year, month, day)  # Monday 0
    if weekday < 5:
        return day
    if weekday == 5:  # Saturday: Friday before, unless that leaves the month
        return day - 1 if day > 1 else day + 2
    return day + 1 if day < length else day - 2  # Sunday: Monday after, unless past the end


def next_fire_after(
    expression: ScheduleExpression, after: datetime, *, created: datetime
) -> datetime | None:
    """The first time strictly after `after` at which the schedule fires (UTC, whole seconds
    for rates, whole minutes for cron); None when it never fires again."""
    after = after.astimezone(UTC)
    if isinstance(expression, RateExpression):
        period = expression.period
        origin = created.astimezone(UTC).replace(microsecond=0)
        if after < origin + period:
            return origin + period
        elapsed = (after - origin) // period
        return origin + (elapsed + 1) * period
    return _next_cron(expression, after)


MAX_COUNTED_MISSES = 1000  # missed ticks are counted up to here, then "at least" this many


def latest_fire_at_or_before(
    expression: ScheduleExpression, now: datetime, *, created: datetime, since: datetime
) -> tuple[datetime | None, int]:
    """The latest fire time in (since, now], and how many earlier ones in that window it hides
    (ticks missed while nothing ran; counted up to MAX_COUNTED_MISSES). (None, 0) when none is
    due."""
    now, since = now.astimezone(UTC), since.astimezone(UTC)
    latest: datetime | None
    if isinstance(expression, RateExpression):
        origin = created.astimezone(UTC).replace(microsecond=0)
        period = expression.period
        if now < origin + period:
            return None, 0
        latest = origin + ((now - origin) // period) * period
        if latest <= since:
            return None, 0
        first = next_fire_after(expression, since, created=created)
        assert first is not None
        return latest, min(MAX_COUNTED_MISSES, (latest - first) // period)
    latest = _previous_cron(expression, now)
    if latest is None or latest <= since:
        return None, 0
    skipped = 0
    moment = latest
    while skipped < MAX_COUNTED_MISSES:
        earlier = _previous_cron(expression, moment - timedelta(minutes=1))
        if earlier is None or earlier <= since:
            break
        skipped += 1
        moment = earlier
    return latest, skipped


def _next_cron(cron: CronExpression, after: datetime) -> datetime | None:
    start = (after + timedelta(minutes=1)).replace(second=0, microsecond=0)
    last_year = min(BOUNDS[5][1], start.year + _SEARCH_YEARS)
    for year in range(start.year, last_year + 1):
        if year not in cron.years:
            continue
        for month in range(start.month if year == start.year else 1, 13):
            if month not in cron.months:
                continue
            length = calendar.monthrange(year, month)[1]
            same_month = (year, month) == (start.year, start.month)
            for day in range(start.day if same_month else 1, length + 1):
                if not cron.matches_day(year, month, day):
                    continue
                same_day = same_month and day == start.day
                for hour in sorted(cron.hours):
                    if same_day and hour < start.hour:
                        continue
                    for minute in sorted(cron.minutes):
                        if same_day and hour == start.hour and minute < start.minute:
                            continue
                        return datetime(year, month, day, hour, minute, tzinfo=UTC)
    return None


def _previous_cron(cron: CronExpression, at_or_before: datetime) -> datetime | None:
    """The last time at or before `at_or_before` that `cron` matches (whole minutes)."""
    end = at_or_before.replace(second=0, microsecond=0)
    first_year = max(BOUNDS[5][0], end.year - _SEARCH_YEARS)
    for year in range(end.year, first_year - 1, -1):
        if year not in cron.years:
            continue
        for month in range(end.month if year == end.year else 12, 0, -1):
            if month not in cron.months:
                continue
            same_month = (year, month) == (end.year, end.month)
            length = calendar.monthrange(year, month)[1]
            for day in range(end.day if same_month else length, 0, -1):
                if not cron.matches_day(year, month, day):
                    continue
                same_day = same_month and day == end.day
                for hour in sorted(cron.hours, reverse=True):
                    if same_day and hour > end.hour:
                        continue
                    for minute in sorted(cron.minutes, reverse=True):
                        if same_day and hour == end.hour and minute > end.minute:
                            continue
                        return datetime(year, month, day, hour, minute, tzinfo=UTC)
    return None
