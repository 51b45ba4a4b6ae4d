"""Dates and counts as people write them, relative to the day a message is sent.

A message may leave later than planned (quiet hours, retries, a scheduler catching up), so
words like 今天 or "tomorrow" are only true relative to the send day. These filters take
that day (`today`, which the renderer puts into every template's context) and say
今天/明天/后天 only when exact; otherwise they name the date: `12月31日` in the send day's
year, `2027年1月5日` in another; `Dec 31` / `Jan 5, 2027` in English. With no send day
known (`today` None) they name the date and never a relative word, which is always true.

They are registered as Jinja2 filters and tests by `rendering._environment`, so an
operator's override template can use them too.
"""

from __future__ import annotations

from datetime import date, datetime

_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_ZH_RELATIVE = {0: "今天", 1: "明天", 2: "后天"}
_EN_RELATIVE = {0: "today", 1: "tomorrow"}


def as_date(value: date | str) -> date:
    """A `date`, a `datetime` or an ISO date string, as a `date`."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _optional_day(value: date | str | None) -> date | None:
    return None if value is None or value == "" else as_date(value)


def zh_date(value: date | str, today: date | str | None = None) -> str:
    """`12月31日`, with the year (`2027年1月5日`) when it is not the send day's year."""
    day, ref = as_date(value), _optional_day(today)
    if ref is not None and ref.year != day.year:
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{day.month}月{day.day}日"


def zh_day(value: date | str, today: date | str | None = None) -> str:
    """今天, 明天 or 后天 when exact relative to the send day, else the date (`12月5日`)."""
    day, ref = as_date(value), _optional_day(today)
    if ref is not None and (day - ref).days in _ZH_RELATIVE:
        return _ZH_RELATIVE[(day - ref).days]
    return zh_date(day, ref)


def en_date(value: date | str, today: date | str | None = None) -> str:
    """`Dec 31`, with the year (`Jan 5, 2027`) when it is not the send day's year."""
    day, ref = as_date(value), _optional_day(today)
    text = f"{_EN_MONTHS[day.month - 1]} {day.day}"
    if ref is not None and ref.year != day.year:
        return f"{text}, {day.year}"
    return text


def en_day(value: date | str, today: date | str | None = None) -> str:
    """`today` or `tomorrow` when exact relative to the send day, else `on Dec 5`."""
    day, ref = as_date(value), _optional_day(today)
    if ref is not None and (day - ref).days in _EN_RELATIVE:
        return _EN_RELATIVE[(day - ref).days]
    return f"on {en_date(day, ref)}"


def days_between(start: date | str, end: date | str) -> int:
    """Whole days from `start` to `end` (negative when `end` is earlier)."""
    return (as_date(end) - as_date(start)).days


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """`1 year`, `12 years`: the count and the noun agreeing with it (never `year(s)`)."""
    noun = singular if count == 1 else (plural_form or f"{singular}s")
    return f"{count} {noun}"


def is_gsm7(text: object) -> bool:
    """Whether `text` travels in the GSM 7-bit alphabet (so costs no UCS-2 segments)."""
    from services.notifier.segments import count_segments

    return count_segments(str(text)).encoding == "GSM-7"


FILTERS = {
    "as_date": as_date,
    "zh_date": zh_date,
    "zh_day": zh_day,
    "en_date": en_date,
    "en_day": en_day,
    "days_between": days_between,
    "plural": plural,
}
TESTS = {"gsm7": is_gsm7}
