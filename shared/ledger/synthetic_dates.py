"""Date helpers for the synthetic ledger, on proleptic ordinals for speed.

The generator draws tens of millions of dates; drawing integers and formatting them
through a precomputed table is several times faster than building `date` objects.
"""

from __future__ import annotations

import calendar
from datetime import date


def years_before(day: date, years: int) -> date:
    """The same calendar day `years` earlier; 29 Feb becomes 28 Feb in a common year."""
    year = day.year - years
    if day.month == 2 and day.day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return day.replace(year=year)


def age_on(born: date, day: date) -> int:
    """Full years from `born` to `day`; a 29 Feb birthday falls on 28 Feb in common years."""
    birthday_month, birthday_day = born.month, born.day
    if (birthday_month, birthday_day) == (2, 29) and not calendar.isleap(day.year):
        birthday_day = 28
    had_birthday = (day.month, day.day) >= (birthday_month, birthday_day)
    return day.year - born.year - (0 if had_birthday else 1)


def add_months(day: date, months: int) -> date:
    """`day` plus whole calendar months, clamped to the month's end (31 Aug + 6 → 28/29 Feb).

    The same result as dateutil's `relativedelta(months=…)`, at a fraction of its cost.
    """
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def month_spans(first: date, last: date) -> list[tuple[int, int]]:
    """Calendar months from `first`'s month to `last`, as (first, last) ordinals, clipped."""
    spans = []
    year, month = first.year, first.month
    while date(year, month, 1) <= last:
        start = max(date(year, month, 1), first)
        end = min(date(year, month, calendar.monthrange(year, month)[1]), last)
        spans.append((start.toordinal(), end.toordinal()))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return spans


def quarter_spans(first: date, last: date) -> list[tuple[int, int]]:
    """Calendar quarters overlapping [first, last], as clipped (first, last) ordinals."""
    months = month_spans(first, last)
    quarters: dict[tuple[int, int], tuple[int, int]] = {}
    for start, end in months:
        d = date.fromordinal(start)
        key = (d.year, (d.month - 1) // 3)
        low, _ = quarters.get(key, (start, end))
        quarters[key] = (low, end)
    return list(quarters.values())


class IsoDays:
    """ISO strings for ordinals, from a table covering [first, last], else computed."""

    def __init__(self, first: date, last: date) -> None:
        self._base = first.toordinal()
        self._table = [
            date.fromordinal(o).isoformat() for o in range(self._base, last.toordinal() + 1)
        ]

    @property
    def table(self) -> tuple[int, list[str]]:
        """(first ordinal, strings) for loops that index the table themselves."""
        return self._base, self._table

    def __call__(self, ordinal: int) -> str:
        index = ordinal - self._base
        if 0 <= index < len(self._table):
            return self._table[index]
        return date.fromordinal(ordinal).isoformat()
