"""Calendar periods and date arithmetic the rules are written in."""

from __future__ import annotations

import calendar
from datetime import MAXYEAR, MINYEAR, date, timedelta
from functools import lru_cache

PERIODS = ("month", "quarter", "half", "year")


@lru_cache(maxsize=4096)
def period_bounds(day: date, period: str) -> tuple[date, date]:
    """The first and last day of the calendar `period` containing `day`.

    Cached: every member of a run asks about the same as-of day.
    """
    if period == "month":
        start = day.replace(day=1)
        months = 1
    elif period == "quarter":
        start = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
        months = 3
    elif period == "half":
        start = date(day.year, 1 if day.month <= 6 else 7, 1)
        months = 6
    elif period == "year":
        start = date(day.year, 1, 1)
        months = 12
    else:
        raise ValueError(f"unknown period {period!r}; expected one of {', '.join(PERIODS)}")
    return start, add_months_clamped(start, months) - timedelta(days=1)


def anniversary(original: date, year: int) -> date:
    """`original`'s month and day in `year`; 29 February falls on 28 February otherwise."""
    try:
        return original.replace(year=year)
    except ValueError:
        return date(year, 2, 28)


def age_on(birth: date, day: date) -> int:
    """Full years from `birth` to `day` (a 29 February birthday counts on 28 February)."""
    years = day.year - birth.year
    return years - 1 if day < anniversary(birth, day.year) else years


def latest_birth_for_age(age: int, day: date) -> date | None:
    """The latest birth date of anyone aged `age` or more on `day` (by `age_on`, whose
    29 February rule this follows): a member is that old exactly when born on or before it.
    None when nobody can be (an age reaching back before year 1, as a policy may set to
    switch a rule off)."""
    year = day.year - age
    if year < MINYEAR:
        return None
    if year > MAXYEAR:  # a negative age: everybody
        return date.max
    born_by = anniversary(day, year)
    while born_by < date.max and age_on(born_by + timedelta(days=1), day) >= age:
        born_by += timedelta(days=1)
    return born_by


@lru_cache(maxsize=65536)
def add_months_clamped(day: date, months: int) -> date:
    """`day` plus calendar months, clamped to the end of a shorter month (31 Aug + 6 → 28 Feb).

    Cached: a run asks it for every member's last review, and those share few dates.
    """
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))
